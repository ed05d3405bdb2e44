/*
 * fuzz_rules: the rules language on arbitrary text (what `portclass check`
 * reads), including `include`, `dynamic-range host` and `filter`.
 *
 * Includes stay inside a private directory: the rules are parsed under
 * the name <dir>/fuzz.rules so that relative includes resolve there, and
 * an input that includes an absolute path or one with ".." is skipped (the
 * engine's own lexer finds them, so nothing hides behind escapes).  The
 * directory holds the files worth including: a chain, a loop, a file that
 * includes itself, an empty one, a binary one, a directory, a FIFO (which
 * must not block) and one nested past the depth limit.
 *
 * Checks: a ruleset comes back exactly when there was no error, one
 * diagnostic per error, each naming a file of the sandbox; a ruleset that
 * loads answers match/expect queries on a few fixed packets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "lexer.h"
#include "listener.h"
#include "packet.h"
#include "ruleset.h"

#define DEPTH_FILES 20

static char dir[64];
static char procroot[96];
static char name[96];
static struct listener_table *lt;

struct diags {
	int n;
	int bad; /* a diagnostic that does not look like one */
};

static void put(const char *rel, const void *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

#define PUT(rel, s) put(rel, s, sizeof(s) - 1)

static void sub(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		perror(path);
		abort();
	}
}

static void cleanup(void)
{
	char cmd[128];

	/* only ever our own mkdtemp directory */
	if (strncmp(dir, "/tmp/pc-fuzz-rules-", 19) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t bin[256];
	char path[256], body[64];
	int i;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/pc-fuzz-rules-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	snprintf(procroot, sizeof(procroot), "%s/proc", dir);
	snprintf(name, sizeof(name), "%s/fuzz.rules", dir);
	sub("proc");
	sub("proc/sys");
	sub("proc/sys/net");
	sub("proc/sys/net/ipv4");
	PUT("proc/sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
	PUT("proc/sys/net/ipv4/ip_local_reserved_ports", "50000-50010\n");
	sub("sub");
	PUT("a.rules", "pass tcp to port 1\ninclude \"sub/b.rules\"\n");
	PUT("sub/b.rules", "drop udp to port 2-3\nexpect tcp port 55000\n");
	PUT("sub/bad.rules", "drop tcp to port 70000\nbogus\n");
	PUT("self.rules", "include \"self.rules\"\n");
	PUT("loop1.rules", "pass\ninclude \"loop2.rules\"\n");
	PUT("loop2.rules", "drop\ninclude \"loop1.rules\"\n");
	PUT("empty.rules", "");
	PUT("local.rules", "local { 192.0.2.0/24, 2001:db8::/32 }\n");
	PUT("filter.rules", "drop log filter \"tcp dst port 8443\" new\n");
	for (i = 0; i < 256; i++)
		bin[i] = (uint8_t)i;
	put("bin.rules", bin, sizeof(bin));
	sub("dir.rules");
	for (i = 0; i < DEPTH_FILES; i++) {
		snprintf(path, sizeof(path), "d%d.rules", i);
		snprintf(body, sizeof(body), "pass tcp to port %d\n"
			 "include \"d%d.rules\"\n", i + 1, i + 1);
		put(path, body, strlen(body));
	}
	snprintf(path, sizeof(path), "%s/fifo.rules", dir);
	if (mkfifo(path, 0600) < 0) {
		perror(path);
		abort();
	}

	lt = listener_table_new();
	if (!lt)
		abort();
	return 0;
}

/*
 * 1 when some `include` could leave the sandbox.  Conservative: any
 * "include" word followed by a string that starts with '/' or holds "..".
 */
static int escapes(const char *text, size_t len)
{
	struct lexer lx;
	struct lexer_token t;
	int after_include = 0, esc = 0;

	lexer_init(&lx, text, len);
	for (;;) {
		if (lexer_next(&lx, &t) < 0) {
			esc = 1; /* out of memory: do not guess */
			break;
		}
		if (t.type == LEXER_EOF)
			break;
		if (after_include && t.type == LEXER_STRING &&
		    (t.text[0] == '/' || strstr(t.text, ".."))) {
			esc = 1;
			break;
		}
		after_include = t.type == LEXER_WORD &&
				strcmp(t.text, "include") == 0;
	}
	lexer_fini(&lx);
	return esc;
}

static void collect(void *ctx, const char *diag)
{
	struct diags *ds = ctx;
	size_t n = strlen(dir);
	const char *nl;
	int lines = 1;

	ds->n++;
	if (strncmp(diag, dir, n) != 0 || !strstr(diag, ": error: "))
		ds->bad = 1;
	for (nl = diag; (nl = strchr(nl, '\n')); nl++)
		lines++;
	/* "file:line:col: error: ..." + source line + caret, or one line */
	if (lines != 1 && lines != 3)
		ds->bad = 1;
	if (lines == 3 && diag[strlen(diag) - 1] != '^')
		ds->bad = 1;
	if (ds->bad)
		fprintf(stderr, "odd diagnostic:\n%s\n", diag);
}

/* A few packets to ask a loaded ruleset about. */
static const uint8_t pkts[][60] = {
	/* IPv4 TCP SYN 198.51.100.7:40000 -> 192.0.2.10:55000 */
	{ 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 7,
	  192, 0, 2, 10, 0x9c, 0x40, 0xd6, 0xd8, 0, 0, 0, 1, 0, 0, 0, 0,
	  0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0 },
	/* IPv4 UDP 203.0.113.5:53 -> 192.0.2.1:60001 */
	{ 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 5,
	  192, 0, 2, 1, 0, 53, 0xea, 0x61, 0, 8, 0, 0 },
	/* IPv6 TCP SYN 2001:db8::1:1234 -> 2001:db8::2:8443 */
	{ 0x60, 0, 0, 0, 0, 20, 6, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 2, 0x04, 0xd2, 0x20, 0xfb, 0, 0, 0, 1,
	  0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0 },
};
static const size_t pkt_len[] = { 40, 28, 60 };

static void query(struct ruleset *rs)
{
	struct port_range dyn = ruleset_dynamic_range(rs);
	char err[128];
	size_t i;
	int lg;

	FUZZ_CHECK(dyn.lo <= dyn.hi);
	FUZZ_CHECK(ruleset_dynamic_range_name(rs) != NULL);
	FUZZ_CHECK(ruleset_unexpected_verdict(rs, &lg) < VERDICT_COUNT);
	FUZZ_CHECK(ruleset_default_verdict(rs, &lg) < VERDICT_COUNT);
	(void)ruleset_rule_count(rs);
	(void)ruleset_expect_count(rs);
	for (i = 0; i < sizeof(pkt_len) / sizeof(pkt_len[0]); i++) {
		struct packet p;
		struct rule_ref ref;
		const char *file = NULL;
		unsigned line = 0;
		int nw, in;

		FUZZ_CHECK(packet_parse(&p, pkts[i], pkt_len[i]) == 0);
		for (nw = 0; nw < 2; nw++)
			for (in = 0; in < 2; in++)
				if (ruleset_match(rs, &p, nw, in, &ref))
					FUZZ_CHECK(ref.verdict < VERDICT_COUNT &&
						   ref.file && ref.line > 0);
		if (ruleset_expect(rs, &p, lt, &file, &line) == EXPECT_YES)
			FUZZ_CHECK(file && line > 0);
		(void)ruleset_is_local(rs, p.family, p.dst);
	}
	FUZZ_CHECK(ruleset_add_local(rs, "10.0.0.0/8", err, sizeof(err)) == 0);
	FUZZ_CHECK(ruleset_has_local(rs));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags ds = { 0, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	struct ruleset *rs;
	char *text;
	int nerr = -1;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (escapes(text, strlen(text))) {
		free(text);
		return 0;
	}
	errno = 0;
	rs = ruleset_parse_string(name, text, &o, &nerr);
	free(text);
	FUZZ_CHECK(!ds.bad);
	if (!rs) {
		FUZZ_CHECK(nerr > 0 || errno == ENOMEM);
		if (nerr > 0)
			FUZZ_CHECK(ds.n == nerr);
		return 0;
	}
	FUZZ_CHECK(nerr == 0 && ds.n == 0);
	query(rs);
	ruleset_free(rs);
	return 0;
}
