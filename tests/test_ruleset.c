/*
 * Tests for rules/ruleset.c (and rules/lexer.c): the table of language
 * cases in tests/rules/cases.t, exact diagnostics, includes, the keyword
 * table, and the compiled ruleset's answers on crafted packets.  As long
 * as the module it tests (over 800 lines); it is split with rules/ruleset.c
 * (grammar, diagnostics, index, matching), one test file per new module.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "listener.h"
#include "packet.h"
#include "ruleset.h"

/* ---- helpers ----------------------------------------------------------- */

#define MAX_DIAGS 256

struct diags {
	char *v[MAX_DIAGS];
	int n;
};

static void collect(void *ctx, const char *d)
{
	struct diags *ds = ctx;

	assert_non_null(d);
	if (ds->n < MAX_DIAGS)
		ds->v[ds->n] = strdup(d);
	ds->n++;
}

static void diags_free(struct diags *ds)
{
	int i;

	for (i = 0; i < ds->n && i < MAX_DIAGS; i++)
		free(ds->v[i]);
	ds->n = 0;
}

static int diags_have(const struct diags *ds, const char *sub)
{
	int i;

	for (i = 0; i < ds->n && i < MAX_DIAGS; i++)
		if (strstr(ds->v[i], sub))
			return 1;
	return 0;
}

static void diags_print(const struct diags *ds)
{
	int i;

	for (i = 0; i < ds->n && i < MAX_DIAGS; i++)
		fprintf(stderr, "  diag: %s\n", ds->v[i]);
}

static char tmpdir[64];
static char procroot[PATH_MAX];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	/* Only ever our own mkdtemp directory. */
	if (strncmp(dir, "/tmp/pc-ruleset-", 16) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int group_setup(void **state)
{
	char d[PATH_MAX];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pc-ruleset-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(procroot, sizeof(procroot), "%s/proc", tmpdir);
	snprintf(d, sizeof(d), "%s/proc/sys/net/ipv4", tmpdir);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", d);
		if (system(cmd) != 0)
			return -1;
	}
	write_file(d, "ip_local_port_range", "32768\t60999\n");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_tree(tmpdir);
	return 0;
}

static struct ruleset *parse(const char *name, const char *text,
			     struct diags *ds, int *nerr)
{
	struct ruleset_opts o = { procroot, collect, ds };

	return ruleset_parse_string(name, text, &o, nerr);
}

static struct ruleset *parse_ok(const char *text)
{
	struct diags ds = { { 0 }, 0 };
	int nerr = -1;
	struct ruleset *rs = parse("test.rules", text, &ds, &nerr);

	if (!rs || nerr)
		diags_print(&ds);
	assert_non_null(rs);
	assert_int_equal(nerr, 0);
	assert_int_equal(ds.n, 0);
	diags_free(&ds);
	return rs;
}

/* Crafted raw IP packets, parsed with packet_parse. */
struct pkt {
	uint8_t buf[128];
	struct packet p;
};

static int ipproto_of(int proto)
{
	switch (proto) {
	case PROTO_TCP:
		return 6;
	case PROTO_UDP:
		return 17;
	case PROTO_UDPLITE:
		return 136;
	case PROTO_SCTP:
		return 132;
	case PROTO_DCCP:
		return 33;
	case PROTO_ICMP:
		return 1;
	case PROTO_ICMP6:
		return 58;
	default:
		return 253;
	}
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* flags: TCP flags; for SCTP nonzero means INIT; DCCP nonzero Request. */
static const struct packet *mk(struct pkt *k, int proto, const char *src,
			       uint16_t sport, const char *dst, uint16_t dport,
			       uint8_t flags)
{
	int v6 = strchr(src, ':') != NULL;
	size_t ipl = v6 ? 40 : 20, l4, tot;
	uint8_t *l;

	memset(k, 0, sizeof(*k));
	switch (proto) {
	case PROTO_TCP:
		l4 = 20;
		break;
	case PROTO_SCTP:
		l4 = 16;
		break;
	case PROTO_DCCP:
		l4 = 16;
		break;
	default:
		l4 = 8;
		break;
	}
	tot = ipl + l4;
	if (v6) {
		k->buf[0] = 0x60;
		put16(k->buf + 4, (uint16_t)l4);
		k->buf[6] = (uint8_t)ipproto_of(proto);
		k->buf[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, src, k->buf + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, k->buf + 24), 1);
	} else {
		k->buf[0] = 0x45;
		put16(k->buf + 2, (uint16_t)tot);
		k->buf[8] = 64;
		k->buf[9] = (uint8_t)ipproto_of(proto);
		assert_int_equal(inet_pton(AF_INET, src, k->buf + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, k->buf + 16), 1);
	}
	l = k->buf + ipl;
	switch (proto) {
	case PROTO_TCP:
		put16(l, sport);
		put16(l + 2, dport);
		l[12] = 0x50;
		l[13] = flags;
		put16(l + 14, 65535);
		break;
	case PROTO_UDP:
	case PROTO_UDPLITE:
		put16(l, sport);
		put16(l + 2, dport);
		put16(l + 4, proto == PROTO_UDP ? 8 : 0);
		break;
	case PROTO_SCTP:
		put16(l, sport);
		put16(l + 2, dport);
		l[12] = flags ? 1 : 0; /* INIT or DATA */
		put16(l + 14, 4);
		break;
	case PROTO_DCCP:
		put16(l, sport);
		put16(l + 2, dport);
		l[4] = 4; /* data offset: 16 bytes */
		l[8] = (uint8_t)((flags ? 0 : 2) << 1 | 1); /* type, X=1 */
		break;
	case PROTO_ICMP:
	case PROTO_ICMP6:
		l[0] = proto == PROTO_ICMP ? 8 : 128;
		break;
	}
	assert_int_equal(packet_parse(&k->p, k->buf, tot), 0);
	assert_int_equal(k->p.proto, proto);
	return &k->p;
}

/* Line of the first matching rule, or 0. */
static unsigned match_line(const struct ruleset *rs, const struct packet *p,
			   int is_new)
{
	struct rule_ref ref;

	memset(&ref, 0, sizeof(ref));
	if (!ruleset_match(rs, p, is_new, 1, &ref))
		return 0;
	assert_non_null(ref.file);
	return ref.line;
}

/* ---- the table of cases ------------------------------------------------ */

static size_t unescape(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[i + 1];

			if (c == 'n' || c == 'r' || c == 't' || c == '\\') {
				out[o++] = c == 'n'   ? '\n'
					   : c == 'r' ? '\r'
					   : c == 't' ? '\t'
						      : '\\';
				i++;
				continue;
			}
			if (c == 'x' && i + 3 < n) {
				char hex[3] = { s[i + 2], s[i + 3], 0 };

				out[o++] = (char)strtol(hex, NULL, 16);
				i += 3;
				continue;
			}
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return o;
}

static void test_cases_table(void **state)
{
	FILE *f;
	char line[4096], input[4096];
	unsigned lineno = 0, nok = 0, nfail = 0, bad = 0;
	const char *path = "tests/rules/cases.t";

	(void)state;
	f = fopen(path, "r");
	if (!f) {
		path = "../tests/rules/cases.t";
		f = fopen(path, "r");
	}
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *sep, *want = NULL;
		int expect_ok;
		struct diags ds = { { 0 }, 0 };
		struct ruleset *rs;
		int nerr = -1;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (n >= 3 && strcmp(line + n - 3, ";ok") == 0) {
			expect_ok = 1;
			sep = line + n - 3;
		} else {
			sep = strstr(line, ";fail;");
			if (!sep) {
				fprintf(stderr, "%s:%u: malformed case\n",
					path, lineno);
				bad++;
				continue;
			}
			expect_ok = 0;
			want = sep + 6;
		}
		unescape(line, (size_t)(sep - line), input);
		rs = parse("test.rules", input, &ds, &nerr);
		if (expect_ok) {
			nok++;
			if (!rs || nerr != 0 || ds.n != 0) {
				fprintf(stderr, "%s:%u: expected ok: %s\n",
					path, lineno, line);
				diags_print(&ds);
				bad++;
			}
		} else {
			nfail++;
			if (rs || nerr <= 0 || ds.n != nerr ||
			    !diags_have(&ds, want)) {
				fprintf(stderr,
					"%s:%u: expected failure with "
					"\"%s\" (nerr %d): %s\n",
					path, lineno, want, nerr, line);
				diags_print(&ds);
				bad++;
			}
		}
		ruleset_free(rs);
		diags_free(&ds);
	}
	fclose(f);
	fprintf(stderr, "cases.t: %u ok cases, %u fail cases\n", nok, nfail);
	assert_true(nok >= 50);
	assert_true(nfail >= 80);
	assert_int_equal(bad, 0);
}

/* ---- diagnostics ------------------------------------------------------- */

static void test_diag_exact(void **state)
{
	struct diags ds = { { 0 }, 0 };
	int nerr = -1;
	struct ruleset *rs;
	const char *text = "# 1\n# 2\n# 3\n# 4\n# 5\n# 6\n# 7\n# 8\n# 9\n"
			   "# 10\n# 11\ndrop tcp to port 70000\n";

	(void)state;
	rs = parse("rules.conf", text, &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_int_equal(ds.n, 1);
	assert_string_equal(ds.v[0],
			    "rules.conf:12:18: error: port 70000 out of range "
			    "(0-65535)\n"
			    "drop tcp to port 70000\n"
			    "                 ^");
	diags_free(&ds);

	/* Tabs in the line are kept in the caret line so it lines up. */
	rs = parse("r", "\tdrop\ttcp to port 1-0 # x", &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_string_equal(ds.v[0], "r:1:19: error: range 1-0: low end above "
				     "high end\n"
				     "\tdrop\ttcp to port 1-0 # x\n"
				     "\t    \t            ^");
	diags_free(&ds);

	/* Column of an unterminated string is its opening quote; CRLF is
	 * not shown. */
	rs = parse("r", "pass\r\n  drop filter \"tcp\r\n", &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_string_equal(ds.v[0], "r:2:15: error: unterminated string\n"
				     "  drop filter \"tcp\n"
				     "              ^");
	diags_free(&ds);

	/* An error at the end of a line points just past it. */
	rs = parse("r", "pass\ndrop tcp to port", &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_string_equal(ds.v[0], "r:2:17: error: unexpected end of file, "
				     "expected a port or range N-M\n"
				     "drop tcp to port\n"
				     "                ^");
	diags_free(&ds);

	/* pcap's message, at the string token. */
	rs = parse("r", "drop log filter \"tcp and and\"", &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(ds.v[0], "r:1:17: error: filter: "));
	assert_non_null(strstr(ds.v[0], "syntax error"));
	assert_non_null(strstr(ds.v[0], "\n                ^"));
	diags_free(&ds);
}

static void test_all_errors_one_run(void **state)
{
	struct diags ds = { { 0 }, 0 };
	int nerr = -1;
	struct ruleset *rs;
	const char *text = "dynamic-range linux\n"		      /* 1 */
			   "pass tcp to port 80\n"		      /* 2 */
			   "drop tcp to port 70000\n"		      /* 3 x */
			   "pas udp\n"				      /* 4 x */
			   "local 192.0.2.0/33\n"		      /* 5 x */
			   "drop udp to port 9-3\n"		      /* 6 x */
			   "drop filter \"tcp and and\"\n"	      /* 7 x */
			   "expect icmp\n"			      /* 8 x */
			   "dynamic-range iana\n"		      /* 9 x */
			   "drop filter \"unterminated\n"	      /* 10 x */
			   "include \"no-such-file.rules\"\n"	      /* 11 x */
			   "drop icmp to port 5\n"		      /* 12 x */
			   "pass udp from port 53\n"		      /* 13 */
			   "default pass\n";			      /* 14 */

	(void)state;
	rs = parse("many.rules", text, &ds, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 10);
	assert_int_equal(ds.n, 10);
	assert_non_null(strstr(ds.v[0], "many.rules:3:18: "));
	assert_non_null(strstr(ds.v[1], "many.rules:4:1: "));
	assert_non_null(strstr(ds.v[2], "many.rules:5:7: "));
	assert_non_null(strstr(ds.v[3], "many.rules:6:18: "));
	assert_non_null(strstr(ds.v[4], "many.rules:7:13: "));
	assert_non_null(strstr(ds.v[5], "many.rules:8:8: "));
	assert_non_null(strstr(ds.v[6], "many.rules:9:1: error: duplicate "
					"dynamic-range (first set at "
					"many.rules:1)"));
	assert_non_null(strstr(ds.v[7], "many.rules:10:13: error: unterminated"));
	assert_non_null(strstr(ds.v[8], "many.rules:11:9: error: cannot open "
					"include"));
	assert_non_null(strstr(ds.v[9], "many.rules:12:14: error: \"port\" "
					"with icmp"));
	diags_free(&ds);

	/* Without a report callback, errors are still counted. */
	{
		struct ruleset_opts o = { procroot, NULL, NULL };

		nerr = -1;
		assert_null(ruleset_parse_string("x", text, &o, &nerr));
		assert_int_equal(nerr, 10);
		nerr = -1;
		assert_null(ruleset_parse_string("x", text, NULL, &nerr));
		assert_int_equal(nerr, 10);
	}
}

static void test_load_missing_file(void **state)
{
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	char path[PATH_MAX];
	int nerr = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.rules", tmpdir);
	assert_null(ruleset_load(path, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_int_equal(ds.n, 1);
	{
		char want[PATH_MAX + 64];

		snprintf(want, sizeof(want),
			 "%s: error: cannot open: No such file or directory",
			 path);
		assert_string_equal(ds.v[0], want);
	}
	diags_free(&ds);

	/* A directory is not a rules file. */
	assert_null(ruleset_load(tmpdir, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "not a regular file"));
	diags_free(&ds);
}

/* ---- includes ---------------------------------------------------------- */

static void test_include(void **state)
{
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	char dir[128], sub[128], path[PATH_MAX], cmd[PATH_MAX];
	struct ruleset *rs;
	struct pkt k;
	struct rule_ref ref;
	int nerr = -1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/inc", tmpdir);
	snprintf(sub, sizeof(sub), "%s/inc/sub", tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", sub);
	assert_int_equal(system(cmd), 0);

	/* Relative to the including file's directory, inlined in place. */
	write_file(dir, "main.rules",
		   "pass tcp to port 1\n"
		   "include \"sub/a.rules\"\n"
		   "drop tcp to port 2-3\n");
	write_file(sub, "a.rules", "reject tcp to port 2\ninclude \"b.rules\"\n");
	write_file(sub, "b.rules", "# b\n\nreject log tcp to port 3\n");
	snprintf(path, sizeof(path), "%s/main.rules", dir);
	rs = ruleset_load(path, &o, &nerr);
	if (!rs)
		diags_print(&ds);
	assert_non_null(rs);
	assert_int_equal(nerr, 0);
	assert_int_equal(ruleset_rule_count(rs), 4);
	assert_int_equal(ruleset_match(rs, mk(&k, PROTO_TCP, "10.0.0.1", 5,
					      "10.0.0.2", 2, 0x02),
				       1, 1, &ref),
			 1);
	assert_int_equal(ref.verdict, VERDICT_REJECT);
	assert_int_equal(ref.line, 1);
	assert_non_null(strstr(ref.file, "sub/a.rules"));
	assert_int_equal(ruleset_match(rs, mk(&k, PROTO_TCP, "10.0.0.1", 5,
					      "10.0.0.2", 3, 0x02),
				       1, 1, &ref),
			 1);
	assert_int_equal(ref.verdict, VERDICT_REJECT);
	assert_int_equal(ref.log, 1);
	assert_int_equal(ref.line, 3);
	assert_non_null(strstr(ref.file, "sub/b.rules"));
	assert_int_equal(ruleset_match(rs, mk(&k, PROTO_TCP, "10.0.0.1", 5,
					      "10.0.0.2", 1, 0x02),
				       1, 1, &ref),
			 1);
	assert_string_equal(ref.file, path);
	ruleset_free(rs);

	/* An error inside an include is reported with the include's name. */
	write_file(sub, "b.rules", "pass\ndrop tcp to port 99999\n");
	rs = ruleset_load(path, &o, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(ds.v[0], "sub/b.rules:2:18: error: port 99999"));
	diags_free(&ds);

	/* Loop: a -> b -> a; the error is at the include that closes it. */
	write_file(sub, "b.rules", "pass\ninclude \"a.rules\"\n");
	rs = ruleset_load(path, &o, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(ds.v[0], "sub/b.rules:2:9: error: include loop"));
	assert_non_null(strstr(ds.v[0], "\ninclude \"a.rules\"\n        ^"));
	diags_free(&ds);

	/* Including oneself, and a parse_string name that is a real file. */
	write_file(dir, "self.rules", "include \"self.rules\"\n");
	snprintf(path, sizeof(path), "%s/self.rules", dir);
	assert_null(ruleset_load(path, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "include loop"));
	diags_free(&ds);
	assert_null(ruleset_parse_string(path, "include \"self.rules\"\n", &o,
					 &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "include loop"));
	diags_free(&ds);

	/* Missing includes are errors at their line, the rest goes on. */
	write_file(dir, "miss.rules",
		   "include \"nope.rules\"\ndrop tcp to port 70000\n"
		   "include \"sub/nope2.rules\"\n");
	snprintf(path, sizeof(path), "%s/miss.rules", dir);
	assert_null(ruleset_load(path, &o, &nerr));
	assert_int_equal(nerr, 3);
	assert_true(diags_have(&ds, "miss.rules:1:9: error: cannot open "
				    "include"));
	assert_true(diags_have(&ds, "No such file or directory"));
	assert_true(diags_have(&ds, "miss.rules:3:9: error: cannot open "
				    "include"));
	diags_free(&ds);

	/* A chain deeper than the bound (no loop: every file differs). */
	{
		int i;
		char name[32], body[64];

		for (i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "d%d.rules", i);
			snprintf(body, sizeof(body), "include \"d%d.rules\"\n",
				 i + 1);
			write_file(dir, name, body);
		}
		write_file(dir, "d40.rules", "pass\n");
		snprintf(path, sizeof(path), "%s/d0.rules", dir);
		assert_null(ruleset_load(path, &o, &nerr));
		assert_int_equal(nerr, 1);
		assert_true(diags_have(&ds, "nested too deeply"));
		diags_free(&ds);
		/* A shallow chain is fine. */
		snprintf(path, sizeof(path), "%s/d35.rules", dir);
		rs = ruleset_load(path, &o, &nerr);
		assert_non_null(rs);
		assert_int_equal(ruleset_rule_count(rs), 1);
		ruleset_free(rs);
	}

	/* The same file twice (not a loop) is allowed. */
	write_file(dir, "twice.rules",
		   "include \"sub/a.rules\"\ninclude \"sub/a.rules\"\n");
	write_file(sub, "b.rules", "pass udp\n");
	snprintf(path, sizeof(path), "%s/twice.rules", dir);
	rs = ruleset_load(path, &o, &nerr);
	assert_non_null(rs);
	assert_int_equal(ruleset_rule_count(rs), 4);
	ruleset_free(rs);
	assert_int_equal(ds.n, 0);
}

/*
 * A FIFO as the rules file or as an include is refused at once: opening
 * one for reading used to wait for a writer forever (found by
 * tests/fuzz/fuzz_rules).  The alarm turns a regression into a failure
 * rather than a hung `make check`.
 */
static void test_fifo(void **state)
{
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	char fifo[PATH_MAX], path[PATH_MAX];
	int nerr = -1;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo.rules", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_null(ruleset_load(fifo, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "cannot open: not a regular file"));
	diags_free(&ds);

	write_file(tmpdir, "with-fifo.rules",
		   "pass\ninclude \"fifo.rules\"\n");
	snprintf(path, sizeof(path), "%s/with-fifo.rules", tmpdir);
	assert_null(ruleset_load(path, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "with-fifo.rules:2:9: error: cannot open "
				    "include"));
	assert_true(diags_have(&ds, "not a regular file"));
	diags_free(&ds);
	alarm(0);
}

/*
 * The source line under a diagnostic shows control bytes as '?': a NUL
 * used to end the message before the line and its caret, and an escape
 * or a lone CR went to the terminal as it was (found by
 * tests/fuzz/fuzz_rules).
 */
static void test_diag_control_bytes(void **state)
{
	static const char text[] = "pass\n\0bad\n";
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	char path[PATH_MAX];
	FILE *f;
	int nerr = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/nul.rules", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	assert_int_equal(fclose(f), 0);
	assert_null(ruleset_load(path, &o, &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "nul.rules:2:1: error: invalid character "
				    "0x00\n?bad\n^"));
	diags_free(&ds);

	assert_null(ruleset_parse_string("esc.rules",
					 "pass\x1b[2J\rdrop\tx\x7f\n", &o,
					 &nerr));
	assert_int_equal(nerr, 1);
	assert_true(diags_have(&ds, "\npass?[2J?drop\tx?\n    ^"));
	diags_free(&ds);
}

/* ---- keywords ---------------------------------------------------------- */

static void test_keywords_sorted(void **state)
{
	size_t n, i;
	const char *const *kw = ruleset_keywords(&n);
	static const char *const must[] = { "pass",	     "drop",
					    "reject",	     "expect",
					    "local",	     "include",
					    "dynamic-range", "unexpected",
					    "default",	     "filter",
					    "from",	     "to",
					    "port",	     "class",
					    "new",	     "log",
					    "any",	     "program",
					    "user" };

	(void)state;
	assert_true(n >= sizeof(must) / sizeof(must[0]));
	for (i = 1; i < n; i++) {
		if (strcmp(kw[i - 1], kw[i]) >= 0)
			fail_msg("keywords not sorted: \"%s\" before \"%s\"",
				 kw[i - 1], kw[i]);
	}
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		size_t j;
		int found = 0;

		for (j = 0; j < n; j++)
			found |= strcmp(kw[j], must[i]) == 0;
		if (!found)
			fail_msg("keyword \"%s\" missing", must[i]);
	}
	/* Each keyword is reachable: as a statement or a misplaced word it
	 * never reports "unknown keyword". */
	for (i = 0; i < n; i++) {
		struct diags ds = { { 0 }, 0 };
		int nerr;
		struct ruleset *rs = parse("k", kw[i], &ds, &nerr);

		assert_false(diags_have(&ds, "unknown keyword"));
		ruleset_free(rs);
		diags_free(&ds);
	}
}

/* ---- matching ---------------------------------------------------------- */

static void test_first_match_mixed(void **state)
{
	struct ruleset *rs;
	struct pkt k;

	(void)state;
	rs = parse_ok("pass tcp from 10.0.0.1\n"	       /* 1 residual */
		      "drop tcp to port 80\n"		       /* 2 dport */
		      "reject tcp from port 1234\n"	       /* 3 sport */
		      "pass from 10.0.0.3\n"		       /* 4 residual any */
		      "drop log tcp from port 1000-2000 to port 81\n" /* 5 */
		      "pass tcp to port 80-90\n"	       /* 6 dport */
		      "reject udp\n");			       /* 7 residual */
	assert_int_equal(ruleset_rule_count(rs), 7);
	assert_int_equal(ruleset_expect_count(rs), 0);
	/* residual before a table hit */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.1", 1234,
					   "10.0.0.9", 80, 0x02), 1),
			 1);
	/* dport table before a later sport rule */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 1234,
					   "10.0.0.9", 80, 0x10), 0),
			 2);
	/* sport rule before a later residual */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.3", 1234,
					   "10.0.0.9", 85, 0x10), 0),
			 3);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.3", 999,
					   "10.0.0.9", 85, 0x10), 0),
			 4);
	/* dport table entry whose sport does not match is skipped */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 999,
					   "10.0.0.9", 81, 0x10), 0),
			 6);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 1500,
					   "10.0.0.9", 81, 0x10), 0),
			 5);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 999,
					   "10.0.0.9", 91, 0x10), 0),
			 0);
	/* the sport rule is tcp only */
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "10.0.0.2", 1234,
					   "10.0.0.9", 80, 0), 0),
			 7);
	/* rule 4 (any protocol) covers ICMP too */
	assert_int_equal(match_line(rs, mk(&k, PROTO_ICMP, "10.0.0.3", 0,
					   "10.0.0.9", 0, 0), 0),
			 4);
	assert_int_equal(match_line(rs, mk(&k, PROTO_ICMP, "10.0.0.2", 0,
					   "10.0.0.9", 0, 0), 0),
			 0);
	ruleset_free(rs);

	/* Without ports a rule is about the address alone. */
	rs = parse_ok("drop to port 22\npass\n");
	assert_int_equal(match_line(rs, mk(&k, PROTO_SCTP, "10.0.0.2", 9,
					   "10.0.0.9", 22, 1), 1),
			 1);
	assert_int_equal(match_line(rs, mk(&k, PROTO_DCCP, "10.0.0.2", 9,
					   "10.0.0.9", 22, 1), 1),
			 1);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDPLITE, "10.0.0.2", 9,
					   "10.0.0.9", 22, 0), 1),
			 1);
	assert_int_equal(match_line(rs, mk(&k, PROTO_ICMP6, "2001:db8::1", 0,
					   "2001:db8::2", 0, 0), 0),
			 2);
	ruleset_free(rs);

	/* No rules: nothing matches. */
	rs = parse_ok("");
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 9,
					   "10.0.0.9", 22, 2), 1),
			 0);
	ruleset_free(rs);
}

static void test_new_class_addrs(void **state)
{
	struct ruleset *rs;
	struct pkt k;

	(void)state;
	rs = parse_ok("drop tcp to port 22 new\n"
		      "reject udp from 192.0.2.0/24 to class dynamic\n"
		      "drop to class system\n"
		      "pass from { 198.51.100.7, 2001:db8::/32 } to "
		      "{ 203.0.113.0/24, 2001:db8:1::1 }\n"
		      "drop log from class user to class user new\n");
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 40000,
					   "10.0.0.9", 22, 0x02), 1),
			 1);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "10.0.0.2", 40000,
					   "10.0.0.9", 22, 0x10), 0),
			 3);
	/* class dynamic is the IANA class, 49152-65535 */
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.5", 2000,
					   "10.0.0.9", 49152, 0), 0),
			 2);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.5", 2000,
					   "10.0.0.9", 65535, 0), 0),
			 2);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.5", 2000,
					   "10.0.0.9", 49151, 0), 0),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.5", 2000,
					   "10.0.0.9", 49151, 0), 1),
			 5);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.3.5", 2000,
					   "10.0.0.9", 50000, 0), 0),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.3.5", 2000,
					   "10.0.0.9", 1023, 0), 0),
			 3);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.3.5", 2000,
					   "10.0.0.9", 0, 0), 0),
			 3);
	/* v4 and v6 addresses and lists */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.7", 2000,
					   "203.0.113.200", 8080, 0x10), 0),
			 4);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.8", 2000,
					   "203.0.113.200", 8080, 0x10), 0),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "2001:db8:ffff::1",
					   2000, "2001:db8:1::1", 8080, 0x10),
				    0),
			 4);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "2001:db8:ffff::1",
					   2000, "2001:db8:1::2", 8080, 0x10),
				    0),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_ICMP6, "2001:db8::9", 0,
					   "2001:db8:1::1", 0, 0), 0),
			 4);
	/* an IPv4 address never matches an IPv6 prefix (and back) */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "32.1.13.184", 2000,
					   "203.0.113.1", 8080, 0x10), 0),
			 0);
	ruleset_free(rs);
}

static void test_filter_rules(void **state)
{
	struct ruleset *rs;
	struct pkt k;
	struct rule_ref ref;

	(void)state;
	rs = parse_ok("pass tcp to port 22\n"
		      "drop log filter \"tcp and dst port 8443 and src net "
		      "198.51.100.0/24\"\n"
		      "reject filter \"ip6 and udp and dst port 53\" new\n"
		      "pass tcp to port 8443\n");
	assert_int_equal(ruleset_match(rs, mk(&k, PROTO_TCP, "198.51.100.9",
					      40000, "192.0.2.1", 8443, 0x02),
				       1, 1, &ref),
			 1);
	assert_int_equal(ref.line, 2);
	assert_int_equal(ref.verdict, VERDICT_DROP);
	assert_int_equal(ref.log, 1);
	assert_string_equal(ref.file, "test.rules");
	/* source outside the net: the filter does not match, rule 4 does */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.101.9", 40000,
					   "192.0.2.1", 8443, 0x02), 1),
			 4);
	/* a port-table rule before the filter still wins */
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.9", 40000,
					   "192.0.2.1", 22, 0x02), 1),
			 1);
	/* IPv6 filter, and `new` on a filter rule */
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "2001:db8::1", 40000,
					   "2001:db8::2", 53, 0), 1),
			 3);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "2001:db8::1", 40000,
					   "2001:db8::2", 53, 0), 0),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.1", 40000,
					   "192.0.2.2", 53, 0), 1),
			 0);
	ruleset_free(rs);

	/* A filter scoped by protocol and port runs only on those ports. */
	rs = parse_ok("drop tcp to port 8443 filter \"src net "
		      "198.51.100.0/24\"\n"
		      "reject from 192.0.2.0/24 filter \"udp\" new\n");
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.9", 40000,
					   "192.0.2.1", 8443, 0x02), 1),
			 1);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.9", 40000,
					   "192.0.2.1", 8444, 0x02), 1),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.101.9", 40000,
					   "192.0.2.1", 8443, 0x02), 1),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.9", 40000,
					   "10.0.0.1", 9, 0), 1),
			 2);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "192.0.2.9", 40000,
					   "10.0.0.1", 9, 0x02), 1),
			 0);
	assert_int_equal(match_line(rs, mk(&k, PROTO_UDP, "192.0.2.9", 40000,
					   "10.0.0.1", 9, 0), 0),
			 0);
	ruleset_free(rs);
}

/* A random port-only policy checked against a plain first-match scan, to
 * test the interval maps (overlaps, adjacency, lists, both directions). */
struct oracle_rule {
	int proto; /* 0 any, else PROTO_TCP/UDP */
	int nd, ns;
	uint16_t dlo[3], dhi[3], slo[3], shi[3];
	int is_new;
};

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* n random ranges at most width wide (clamped at 65535); both ends are
 * added to interesting, where the packets will aim. */
static size_t rnd_ranges(uint16_t *lo, uint16_t *hi, int n, uint32_t width,
			 uint16_t *interesting, size_t ni)
{
	for (int k = 0; k < n; k++) {
		lo[k] = (uint16_t)rnd();
		hi[k] = (uint16_t)(lo[k] + rnd() % width);
		if (hi[k] < lo[k])
			hi[k] = 65535;
		interesting[ni++] = lo[k];
		interesting[ni++] = hi[k];
	}
	return ni;
}

static uint16_t rnd_port(const uint16_t *interesting, size_t n)
{
	uint32_t r = rnd() % 4;

	if (r == 0 || n == 0)
		return (uint16_t)rnd();
	return (uint16_t)(interesting[rnd() % n] + (int)(rnd() % 3) - 1);
}

static int in_ranges(const uint16_t *lo, const uint16_t *hi, int n,
		     uint16_t port)
{
	int i;

	for (i = 0; i < n; i++)
		if (port >= lo[i] && port <= hi[i])
			return 1;
	return 0;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < *cap - *len)
			break;
		*cap *= 2;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	*len += (size_t)n;
}

static void range_text(char **buf, size_t *len, size_t *cap,
		       const uint16_t *lo, const uint16_t *hi, int n)
{
	int i;

	if (n > 1)
		append(buf, len, cap, "{ ");
	for (i = 0; i < n; i++)
		append(buf, len, cap, "%s%u-%u", i ? ", " : "", lo[i], hi[i]);
	if (n > 1)
		append(buf, len, cap, " }");
}

static void test_oracle_random(void **state)
{
	enum { NR = 300, NP = 20000 };
	struct oracle_rule *r = calloc(NR, sizeof(*r));
	uint16_t interesting[NR * 12];
	size_t ni = 0, len = 0, cap = 4096;
	char *text = malloc(cap);
	struct ruleset *rs;
	struct pkt k;
	int i, j, round;

	(void)state;
	assert_non_null(r);
	assert_non_null(text);
	for (round = 0; round < 3; round++) {
		len = 0;
		ni = 0;
		text[0] = '\0';
		for (i = 0; i < NR; i++) {
			struct oracle_rule *o = &r[i];
			/* narrow ranges in round 0, wide ones later */
			uint32_t width = round == 0 ? 50 : round == 1 ? 5000
								     : 60000;

			memset(o, 0, sizeof(*o));
			o->proto = (int)(rnd() % 3);
			o->proto = o->proto == 0 ? 0 : o->proto == 1 ? PROTO_TCP
								     : PROTO_UDP;
			o->nd = (int)(rnd() % 4);
			o->ns = (int)(rnd() % 3);
			if (o->nd == 0 && o->ns == 0)
				o->nd = 1;
			ni = rnd_ranges(o->dlo, o->dhi, o->nd, width,
					interesting, ni);
			ni = rnd_ranges(o->slo, o->shi, o->ns, width,
					interesting, ni);
			o->is_new = rnd() % 5 == 0;
			append(&text, &len, &cap, "pass%s",
			       o->proto == PROTO_TCP	 ? " tcp"
			       : o->proto == PROTO_UDP ? " udp"
						       : "");
			if (o->ns) {
				append(&text, &len, &cap, " from port ");
				range_text(&text, &len, &cap, o->slo, o->shi,
					   o->ns);
			}
			if (o->nd) {
				append(&text, &len, &cap, " to port ");
				range_text(&text, &len, &cap, o->dlo, o->dhi,
					   o->nd);
			}
			append(&text, &len, &cap, "%s\n",
			       o->is_new ? " new" : "");
		}
		rs = parse_ok(text);
		assert_int_equal(ruleset_rule_count(rs), NR);
		for (i = 0; i < NP; i++) {
			int proto = rnd() % 2 ? PROTO_TCP : PROTO_UDP;
			uint16_t sp = rnd_port(interesting, ni);
			uint16_t dp = rnd_port(interesting, ni);
			int is_new = (int)(rnd() % 2);
			unsigned want = 0;

			for (j = 0; j < NR; j++) {
				const struct oracle_rule *o = &r[j];

				if (o->proto && o->proto != proto)
					continue;
				if (o->is_new && !is_new)
					continue;
				if (o->nd &&
				    !in_ranges(o->dlo, o->dhi, o->nd, dp))
					continue;
				if (o->ns &&
				    !in_ranges(o->slo, o->shi, o->ns, sp))
					continue;
				want = (unsigned)j + 1;
				break;
			}
			mk(&k, proto, "10.1.1.1", sp, "10.2.2.2", dp, 0x10);
			if (match_line(rs, &k.p, is_new) != want)
				fail_msg("round %d: proto %d %u -> %u new %d: "
					 "want line %u, got %u",
					 round, proto, sp, dp, is_new, want,
					 match_line(rs, &k.p, is_new));
		}
		ruleset_free(rs);
	}
	free(r);
	free(text);
}

/*
 * The per-port fast answers against a plain first-match scan: random
 * policies that are mostly port-only (so the fast table answers most
 * packets) mixed with rules it must defer on - `new`, addresses, a filter,
 * rules without ports - over every port protocol, both families.
 */
struct fast_rule {
	int proto;	/* 0 any, else a port protocol */
	int nd, ns;
	uint16_t dlo[2], dhi[2], slo[2], shi[2];
	int is_new;
	int src_pfx;	/* 0 none, 4: 10.1.0.0/16, 6: 2001:db8:1::/48 */
	int filt_port;	/* > 0: filter "dst port N" */
};

static const int fast_protos[] = { PROTO_TCP, PROTO_UDP, PROTO_UDPLITE,
				   PROTO_SCTP, PROTO_DCCP };

static int fast_rule_matches(const struct fast_rule *o, int proto, int v6,
			     int src_in, uint16_t sp, uint16_t dp, int is_new)
{
	if (o->proto && o->proto != proto)
		return 0;
	if (o->is_new && !is_new)
		return 0;
	if (o->nd && !in_ranges(o->dlo, o->dhi, o->nd, dp))
		return 0;
	if (o->ns && !in_ranges(o->slo, o->shi, o->ns, sp))
		return 0;
	if (o->src_pfx && (o->src_pfx != (v6 ? 6 : 4) || !src_in))
		return 0;
	/* pcap-filter's `port` covers TCP, UDP and SCTP */
	if (o->filt_port &&
	    (dp != o->filt_port || (proto != PROTO_TCP && proto != PROTO_UDP &&
				     proto != PROTO_SCTP)))
		return 0;
	return 1;
}

static void test_fast_table_random(void **state)
{
	enum { NR = 200, NP = 20000 };
	static const char *const pnames[] = { "tcp", "udp", "udplite", "sctp",
					      "dccp" };
	struct fast_rule *r = calloc(NR, sizeof(*r));
	uint16_t interesting[NR * 8];
	size_t ni, len, cap = 4096;
	char *text = malloc(cap);
	struct pkt k;
	int i, j, round;

	(void)state;
	assert_non_null(r);
	assert_non_null(text);
	for (round = 0; round < 12; round++) {
		struct ruleset *rs;
		/* how often a rule is one the table cannot answer alone */
		uint32_t impure_pct = (uint32_t)(round % 4) * 10;
		uint32_t width = round % 3 == 0 ? 20 : round % 3 == 1 ? 2000
								     : 40000;

		len = 0;
		ni = 0;
		text[0] = '\0';
		for (i = 0; i < NR; i++) {
			struct fast_rule *o = &r[i];
			uint32_t kind = rnd() % 100;

			memset(o, 0, sizeof(*o));
			o->proto = rnd() % 4 == 0 ? 0
						  : fast_protos[rnd() % 5];
			o->nd = (int)(rnd() % 3);
			o->ns = rnd() % 4 == 0 ? (int)(1 + rnd() % 2) : 0;
			if (o->nd == 0 && o->ns == 0 && rnd() % 3)
				o->nd = 1;
			ni = rnd_ranges(o->dlo, o->dhi, o->nd, width,
					interesting, ni);
			ni = rnd_ranges(o->slo, o->shi, o->ns, width,
					interesting, ni);
			if (kind < impure_pct) {
				switch (rnd() % 3) {
				case 0:
					o->is_new = 1;
					break;
				case 1:
					o->src_pfx = rnd() % 2 ? 4 : 6;
					break;
				default:
					o->filt_port = 1 + (int)(rnd() % 65535);
					interesting[ni++] =
						(uint16_t)o->filt_port;
					break;
				}
			}
			append(&text, &len, &cap, "%s",
			       rnd() % 2 ? "pass" : "drop log");
			if (o->proto)
				append(&text, &len, &cap, " %s",
				       pnames[o->proto - PROTO_TCP]);
			if (o->ns || o->src_pfx) {
				append(&text, &len, &cap, " from");
				if (o->src_pfx)
					append(&text, &len, &cap, " %s",
					       o->src_pfx == 4
						       ? "10.1.0.0/16"
						       : "2001:db8:1::/48");
				if (o->ns) {
					append(&text, &len, &cap, " port ");
					range_text(&text, &len, &cap, o->slo,
						   o->shi, o->ns);
				}
			}
			if (o->nd) {
				append(&text, &len, &cap, " to port ");
				range_text(&text, &len, &cap, o->dlo, o->dhi,
					   o->nd);
			}
			if (o->filt_port)
				append(&text, &len, &cap,
				       " filter \"dst port %d\"", o->filt_port);
			append(&text, &len, &cap, "%s\n",
			       o->is_new ? " new" : "");
		}
		rs = parse_ok(text);
		assert_int_equal(ruleset_rule_count(rs), NR);
		for (i = 0; i < NP; i++) {
			int proto = fast_protos[rnd() % 5];
			int v6 = rnd() % 3 == 0, src_in = (int)(rnd() % 2);
			uint16_t sp = rnd_port(interesting, ni);
			uint16_t dp = rnd_port(interesting, ni);
			int is_new = (int)(rnd() % 2);
			const char *src = v6 ? (src_in ? "2001:db8:1::5"
						       : "2001:db8:2::5")
					     : (src_in ? "10.1.2.3" : "10.9.9.9");
			unsigned want = 0, got;

			for (j = 0; j < NR; j++) {
				if (fast_rule_matches(&r[j], proto, v6, src_in,
						      sp, dp, is_new)) {
					want = (unsigned)j + 1;
					break;
				}
			}
			mk(&k, proto, src, sp, v6 ? "2001:db8:9::1" : "192.0.2.1",
			   dp, 0x10);
			got = match_line(rs, &k.p, is_new);
			if (got != want)
				fail_msg("round %d: %s %s %u -> %u new %d: want "
					 "line %u, got %u", round,
					 pnames[proto - PROTO_TCP], src, sp, dp,
					 is_new, want, got);
		}
		ruleset_free(rs);
	}

	/* Past the rules the 16-bit table entries can name: still exact. */
	len = 0;
	text[0] = '\0';
	for (i = 0; i < 32800; i++)
		append(&text, &len, &cap, "pass tcp to port %d\n", i + 1);
	append(&text, &len, &cap, "drop tcp from port 5\n");
	{
		static const uint16_t dports[] = { 0,	  1,	 100,	32766,
						   32767, 32768, 32800, 32801,
						   40000 };
		struct ruleset *rs = parse_ok(text);

		for (i = 0; i < (int)(sizeof(dports) / sizeof(dports[0]));
		     i++) {
			uint16_t dp = dports[i];
			int in = dp >= 1 && dp <= 32800;

			mk(&k, PROTO_TCP, "10.1.1.1", 5, "10.2.2.2", dp, 0x10);
			assert_int_equal(match_line(rs, &k.p, 0),
					 in ? dp : 32801);
			mk(&k, PROTO_TCP, "10.1.1.1", 6, "10.2.2.2", dp, 0x10);
			assert_int_equal(match_line(rs, &k.p, 0), in ? dp : 0);
		}
		ruleset_free(rs);
	}
	free(r);
	free(text);
}

/* Staggered nested ranges need rules x intervals list entries; past the
 * index budget the rules fall back to ordered matching, with the same
 * answers. */
static void test_index_budget(void **state)
{
	enum { NR = 3000, NP = 3000 };
	uint16_t *slo = calloc(NR, sizeof(*slo)), *shi = calloc(NR, sizeof(*shi));
	size_t len = 0, cap = 1 << 16;
	char *text = malloc(cap);
	struct ruleset *rs;
	struct pkt k;
	int i, j;

	(void)state;
	assert_non_null(slo);
	assert_non_null(shi);
	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < NR; i++) {
		slo[i] = (uint16_t)(rnd() % 60000);
		shi[i] = (uint16_t)(slo[i] + rnd() % 5000);
		append(&text, &len, &cap,
		       "pass tcp from port %u-%u to port %d-%d\n", slo[i],
		       shi[i], i, 65535 - i);
	}
	/* expects share the budget: these land in ordered matching too */
	for (i = 0; i < 50; i++)
		append(&text, &len, &cap, "expect tcp port %d-%d\n",
		       1000 + i * 100, 1000 + i * 100 + 9);
	rs = parse_ok(text);
	assert_int_equal(ruleset_rule_count(rs), NR);
	for (i = 0; i < NP; i++) {
		uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)(rnd() % 4000);
		unsigned want = 0;
		enum expect_result ew;

		if (i % 2)
			dp = (uint16_t)(65535 - dp);
		for (j = 0; j < NR; j++) {
			if (dp >= j && dp <= 65535 - j && sp >= slo[j] &&
			    sp <= shi[j]) {
				want = (unsigned)j + 1;
				break;
			}
		}
		mk(&k, PROTO_TCP, "10.1.1.1", sp, "10.2.2.2", dp, 0x02);
		assert_int_equal(match_line(rs, &k.p, 1), want);
		ew = dp >= 1000 && dp < 6000 && (dp - 1000) % 100 < 10
			     ? EXPECT_YES
			     : EXPECT_NONE;
		assert_int_equal(ruleset_expect(rs, &k.p, NULL, NULL, NULL),
				 ew);
	}
	ruleset_free(rs);
	free(text);
	free(slo);
	free(shi);
}

/* The same IPv4 packet with a 4-byte option (NOP NOP NOP EOL): ihl 6. */
static const struct packet *with_option(struct pkt *k)
{
	uint8_t tmp[sizeof(k->buf)];
	size_t tot = k->p.caplen;
	uint16_t totlen = (uint16_t)((k->buf[2] << 8 | k->buf[3]) + 4);

	assert_int_equal(k->buf[0], 0x45);
	assert_true(tot + 4 <= sizeof(tmp));
	memcpy(tmp, k->buf, 20);
	tmp[20] = 1;
	tmp[21] = 1;
	tmp[22] = 1;
	tmp[23] = 0;
	memcpy(tmp + 24, k->buf + 20, tot - 20);
	tmp[0] = 0x46;
	put16(tmp + 2, totlen);
	memcpy(k->buf, tmp, tot + 4);
	assert_int_equal(packet_parse(&k->p, k->buf, tot + 4), 0);
	return &k->p;
}

/* Filter rules are scoped to ports and protocols by analysing their BPF
 * (bpfscope); the verdicts must be those of running every filter in order,
 * on plain IPv4, on IPv4 with options (not scoped) and on IPv6. */
static void test_filter_scoping_differential(void **state)
{
	static const char *const exprs[] = {
		"tcp and dst port 8443 and src net 198.51.100.0/24",
		"udp dst portrange 50000-50100",
		"tcp[13] & 2 != 0 and dst port 22",
		"udp port 53",
		"dst portrange 1000-2000 and not dst port 1500",
		"tcp[2:2] > 60000",
		"udp[2:2] >= 49152 and udp[2:2] <= 49160",
		"ip[9] = 17 and udp[2:2] = 5353",
		"ip6 and tcp dst port 80",
		"sctp dst port 38412",
		"ip proto 33 and ip[22:2] = 5004",
		"ip proto 136",
		"len > 70 and tcp dst port 443",
		"src host 10.0.0.7 and dst port 25",
		"tcp dst port 1 or tcp dst port 2 or udp dst port 3",
		"ip[6:2] & 0x1fff = 0 and tcp dst port 110",
		"icmp[0] = 8",
		"ip6 and udp",
		"not tcp and not udp and not icmp",
	};
	enum { NE = sizeof(exprs) / sizeof(exprs[0]), NP = 20000 };
	static const uint16_t ports[] = { 1,	 2,	3,     22,    25,
					  53,	 80,	110,   443,   999,
					  1000,	 1500,	2000,  2001,  5004,
					  5353,	 8443,	38412, 49151, 49152,
					  49160, 49161, 50000, 50100, 60000,
					  60001, 65535 };
	static const int protos[] = { PROTO_TCP,  PROTO_UDP,  PROTO_UDPLITE,
				      PROTO_SCTP, PROTO_DCCP, PROTO_ICMP };
	static const char *const v4src[] = { "198.51.100.9", "10.0.0.7",
					     "203.0.113.5" };
	struct bpf_program prog[NE];
	pcap_t *pc = pcap_open_dead(DLT_RAW, 65535);
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	struct ruleset *rs;
	struct pkt k;
	int i, j, v;

	(void)state;
	assert_non_null(pc);
	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < NE; i++) {
		assert_int_equal(pcap_compile(pc, &prog[i], exprs[i], 1,
					      PCAP_NETMASK_UNKNOWN),
				 0);
		append(&text, &len, &cap, "%s filter \"%s\"\n",
		       i % 2 ? "drop" : "reject", exprs[i]);
		if (i == NE / 2) /* a port rule in the middle */
			append(&text, &len, &cap, "pass tcp to port 443\n");
	}
	rs = parse_ok(text);
	for (i = 0; i < NP; i++) {
		int proto = protos[rnd() % 6];
		uint16_t sp = rnd() % 3 ? ports[rnd() % 27] : (uint16_t)rnd();
		uint16_t dp = rnd() % 4 ? ports[rnd() % 27] : (uint16_t)rnd();
		uint8_t fl = rnd() % 2 ? 0x02 : 0x10;

		for (v = 0; v < 3; v++) {
			unsigned want = 0, line = 0;

			if (v == 2)
				mk(&k, proto == PROTO_ICMP ? PROTO_ICMP6 : proto,
				   "2001:db8::7", sp, "2001:db8::1", dp, fl);
			else
				mk(&k, proto, v4src[rnd() % 3], sp, "192.0.2.1",
				   dp, fl);
			if (v == 1)
				with_option(&k);
			for (j = 0; j < NE; j++) {
				line++;
				if (j == NE / 2 + 1 && k.p.proto == PROTO_TCP &&
				    k.p.dport == 443) {
					want = line;
					break;
				}
				if (j == NE / 2 + 1)
					line++;
				if (bpf_filter(prog[j].bf_insns, k.p.data,
					       k.p.wirelen, k.p.caplen)) {
					want = line;
					break;
				}
			}
			if (match_line(rs, &k.p, 1) != want)
				fail_msg("variant %d proto %d %u->%u: want "
					 "line %u, got %u",
					 v, k.p.proto, sp, dp, want,
					 match_line(rs, &k.p, 1));
		}
	}
	for (i = 0; i < NE; i++)
		pcap_freecode(&prog[i]);
	pcap_close(pc);
	ruleset_free(rs);
	free(text);
}

/* ---- expect ------------------------------------------------------------ */

static void add_listener(struct listener_table *t, int proto, int family,
			 const char *addr, uint16_t port, int owner_state,
			 const char *program, const char *exe,
			 const char *user, int uid)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = (uint8_t)proto;
	l.family = (uint8_t)family;
	if (addr)
		assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6,
					   addr, l.addr),
				 1);
	l.port = port;
	l.owner_state = owner_state;
	l.owner.pid = owner_state == 1 ? 1234 : -1;
	if (program)
		snprintf(l.owner.program, sizeof(l.owner.program), "%s",
			 program);
	if (exe)
		snprintf(l.owner.exe, sizeof(l.owner.exe), "%s", exe);
	if (user)
		snprintf(l.owner.user, sizeof(l.owner.user), "%s", user);
	if (uid >= 0) {
		l.owner.uid = (uint32_t)uid;
		l.owner.has_uid = 1;
	}
	assert_int_equal(listener_table_add(t, &l), 0);
}

static void test_expect(void **state)
{
	struct ruleset *rs;
	struct listener_table *t;
	struct pkt k;
	const char *file = NULL;
	unsigned line = 0;

	(void)state;
	rs = parse_ok("expect udp port 60000-61000 program mosh-server\n" /* 1 */
		      "expect tcp port 55000 from 198.51.100.0/24\n"	  /* 2 */
		      "expect tcp port 56000 user postgres\n"		  /* 3 */
		      "expect tcp port 57000 user 1001\n"		  /* 4 */
		      "expect tcp port 58000 program "
		      "\"a-very-long-server-name\"\n"			  /* 5 */
		      "expect sctp\n"					  /* 6 */
		      "expect tcp port 59000 to 192.0.2.1\n"		  /* 7 */
		      "expect tcp port 60000 program nc user root\n");	  /* 8 */
	assert_int_equal(ruleset_expect_count(rs), 8);
	assert_int_equal(ruleset_rule_count(rs), 0);
	t = listener_table_new();
	assert_non_null(t);
	add_listener(t, PROTO_UDP, 4, NULL, 60001, 1, "mosh-server",
		     "/usr/bin/mosh-server", "alice", 1000);
	add_listener(t, PROTO_UDP, 4, NULL, 60002, 1, "bash", "/bin/bash",
		     "alice", 1000);
	add_listener(t, PROTO_UDP, 6, NULL, 60003, 1, "mosh-srv",
		     "/opt/mosh/bin/mosh-server", "alice", 1000);
	add_listener(t, PROTO_UDP, 4, NULL, 60004, -1, NULL, NULL, NULL, -1);
	add_listener(t, PROTO_TCP, 4, NULL, 56000, 1, "postgres", NULL,
		     "postgres", 109);
	add_listener(t, PROTO_TCP, 4, NULL, 57000, 1, "x", NULL, "bob", 1001);
	add_listener(t, PROTO_TCP, 4, NULL, 58000, 1, "a-very-long-ser",
		     NULL, "bob", 1001);
	add_listener(t, PROTO_TCP, 4, NULL, 60000, 1, "nc", NULL, "alice",
		     1000);

	/* program via comm, via exe basename, wrong program, unknown owner */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60001, 0),
					t, &file, &line),
			 EXPECT_YES);
	assert_int_equal(line, 1);
	assert_string_equal(file, "test.rules");
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "2001:db8::1",
					       5000, "2001:db8::2", 60003, 0),
					t, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60002, 0),
					t, NULL, NULL),
			 EXPECT_NONE);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60004, 0),
					t, NULL, NULL),
			 EXPECT_UNDETERMINED);
	/* no table: the owner is unknown */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60001, 0),
					NULL, NULL, NULL),
			 EXPECT_UNDETERMINED);
	/* nothing listens there: no program can be the expected one */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60500, 0),
					t, NULL, NULL),
			 EXPECT_NONE);
	/* outside the port range */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 61001, 0),
					NULL, NULL, NULL),
			 EXPECT_NONE);
	/* without an owner clause: addresses only */
	line = 0;
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "198.51.100.20",
					       5000, "192.0.2.1", 55000, 2),
					NULL, NULL, &line),
			 EXPECT_YES);
	assert_int_equal(line, 2);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "198.51.101.20",
					       5000, "192.0.2.1", 55000, 2),
					NULL, NULL, NULL),
			 EXPECT_NONE);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "198.51.101.20",
					       5000, "192.0.2.1", 59000, 2),
					NULL, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "198.51.101.20",
					       5000, "192.0.2.2", 59000, 2),
					NULL, NULL, NULL),
			 EXPECT_NONE);
	/* user by name and by uid */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       5000, "192.0.2.1", 56000, 2),
					t, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       5000, "192.0.2.1", 57000, 2),
					t, NULL, NULL),
			 EXPECT_YES);
	/* comm truncated to 15 bytes by the kernel */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       5000, "192.0.2.1", 58000, 2),
					t, NULL, NULL),
			 EXPECT_YES);
	/* program and user both needed: nc is right, alice is not root */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       5000, "192.0.2.1", 60000, 2),
					t, NULL, NULL),
			 EXPECT_NONE);
	/* any port of a protocol */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_SCTP, "203.0.113.1",
					       5000, "192.0.2.1", 61000, 1),
					NULL, NULL, NULL),
			 EXPECT_YES);
	/* no ports: nothing to expect */
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_ICMP, "203.0.113.1",
					       0, "192.0.2.1", 0, 0),
					NULL, NULL, NULL),
			 EXPECT_NONE);
	ruleset_free(rs);

	/* An owner-free rule after an owner rule still answers YES when
	 * the owner is unknown, and reports its own line. */
	rs = parse_ok("expect udp port 60000 program mosh-server\n"
		      "expect udp port 59000-60000\n");
	line = 0;
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       5000, "192.0.2.1", 60000, 0),
					NULL, NULL, &line),
			 EXPECT_YES);
	assert_int_equal(line, 2);
	ruleset_free(rs);
	listener_table_free(t);
}

/* ---- local, defaults, dynamic range ------------------------------------ */

static void test_local(void **state)
{
	struct ruleset *rs;
	struct pkt k;
	char err[128];

	(void)state;
	rs = parse_ok("");
	assert_int_equal(ruleset_has_local(rs), 0);
	mk(&k, PROTO_TCP, "192.0.2.1", 1, "198.51.100.1", 2, 0x02);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.src), 0);
	assert_int_equal(ruleset_add_local(rs, "192.0.2.0/24", err,
					   sizeof(err)),
			 0);
	assert_int_equal(ruleset_has_local(rs), 1);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.src), 1);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.dst), 0);
	err[0] = '\0';
	assert_int_equal(ruleset_add_local(rs, "192.0.2.0/40", err,
					   sizeof(err)),
			 -1);
	assert_true(err[0] != '\0');
	ruleset_free(rs);

	rs = parse_ok("local 192.0.2.0/24, 2001:db8::/32\n"
		      "local { 198.51.100.7 }\n");
	assert_int_equal(ruleset_has_local(rs), 1);
	mk(&k, PROTO_TCP, "192.0.2.200", 1, "198.51.100.7", 2, 0x02);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.src), 1);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.dst), 1);
	mk(&k, PROTO_TCP, "192.0.3.1", 1, "198.51.100.8", 2, 0x02);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.src), 0);
	assert_int_equal(ruleset_is_local(rs, 4, k.p.dst), 0);
	mk(&k, PROTO_TCP, "2001:db8:5::1", 1, "2001:db9::1", 2, 0x02);
	assert_int_equal(ruleset_is_local(rs, 6, k.p.src), 1);
	assert_int_equal(ruleset_is_local(rs, 6, k.p.dst), 0);
	ruleset_free(rs);
}

static void test_defaults(void **state)
{
	struct ruleset *rs;
	struct port_range r;
	int log = -1;

	(void)state;
	assert_string_equal(verdict_name(VERDICT_PASS), "pass");
	assert_string_equal(verdict_name(VERDICT_DROP), "drop");
	assert_string_equal(verdict_name(VERDICT_REJECT), "reject");
	assert_non_null(verdict_name(VERDICT_COUNT));

	rs = parse_ok("# nothing\n");
	assert_int_equal(ruleset_unexpected_verdict(rs, &log), VERDICT_DROP);
	assert_int_equal(log, 1);
	assert_int_equal(ruleset_default_verdict(rs, &log), VERDICT_PASS);
	assert_int_equal(log, 0);
	assert_int_equal(ruleset_invalid_verdict(rs, &log), VERDICT_DROP);
	assert_int_equal(log, 1);
	assert_int_equal(ruleset_summary(rs)->inv_verdict, VERDICT_DROP);
	r = ruleset_dynamic_range(rs);
	assert_int_equal(r.lo, 49152);
	assert_int_equal(r.hi, 65535);
	assert_string_equal(ruleset_dynamic_range_name(rs), "iana");
	ruleset_free(rs);

	rs = parse_ok("unexpected reject\ndefault drop log\n"
		      "dynamic-range linux\ninvalid pass\n");
	assert_int_equal(ruleset_invalid_verdict(rs, &log), VERDICT_PASS);
	assert_int_equal(log, 0);
	assert_int_equal(ruleset_summary(rs)->inv_verdict, VERDICT_PASS);
	assert_int_equal(ruleset_unexpected_verdict(rs, &log), VERDICT_REJECT);
	assert_int_equal(log, 0);
	assert_int_equal(ruleset_default_verdict(rs, &log), VERDICT_DROP);
	assert_int_equal(log, 1);
	assert_int_equal(ruleset_default_verdict(rs, NULL), VERDICT_DROP);
	r = ruleset_dynamic_range(rs);
	assert_int_equal(r.lo, 32768);
	assert_int_equal(r.hi, 60999);
	assert_string_equal(ruleset_dynamic_range_name(rs), "linux");
	ruleset_free(rs);

	rs = parse_ok("dynamic-range 50000-60000\n");
	r = ruleset_dynamic_range(rs);
	assert_int_equal(r.lo, 50000);
	assert_int_equal(r.hi, 60000);
	assert_string_equal(ruleset_dynamic_range_name(rs), "50000-60000");
	ruleset_free(rs);

	rs = parse_ok("dynamic-range 50000\n");
	assert_string_equal(ruleset_dynamic_range_name(rs), "50000");
	ruleset_free(rs);
}

static void test_dynamic_range_host(void **state)
{
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	struct ruleset *rs;
	struct port_range r;
	char other[PATH_MAX];
	int nerr = -1;

	(void)state;
	rs = ruleset_parse_string("h", "dynamic-range host\n", &o, &nerr);
	assert_non_null(rs);
	r = ruleset_dynamic_range(rs);
	assert_int_equal(r.lo, 32768);
	assert_int_equal(r.hi, 60999);
	assert_string_equal(ruleset_dynamic_range_name(rs), "host");
	ruleset_free(rs);

	snprintf(other, sizeof(other), "%s/no-proc-here", tmpdir);
	o.procroot = other;
	rs = ruleset_parse_string("h", "pass\ndynamic-range host\n", &o, &nerr);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(ds.v[0], "h:2:15: error: dynamic-range host: "));
	diags_free(&ds);
}

/* Untrusted input: odd bytes and sizes never crash or leak. */
static void test_garbage(void **state)
{
	static const char *const inputs[] = {
		"\"", "\\", "{", "}", ",", "{{{{", "pass {", "pass { tcp",
		"pass from {", "pass from { 1.2.3.4,", "expect tcp port {",
		"local {", "include \"", "\"\\", "pass\n\"\n\"\n",
		"drop filter \"\\\"", "pass tcp to port 1-", "pass tcp to port -",
		"drop tcp to port 00000000000000000000080",
		"drop tcp to port 4294967377", "local ::ffff:1.2.3.4/200",
	};
	size_t i;
	uint32_t s = 99;
	char buf[512];

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct diags ds = { { 0 }, 0 };
		int nerr = -1;
		struct ruleset *rs = parse("g", inputs[i], &ds, &nerr);

		ruleset_free(rs);
		if (strcmp(inputs[i], "drop tcp to port "
				      "00000000000000000000080") != 0) {
			assert_null(rs);
			assert_true(nerr > 0);
		}
		diags_free(&ds);
	}
	/* Random soup of tokens: only robustness is checked. */
	for (i = 0; i < 2000; i++) {
		static const char *const toks[] = {
			"pass ", "drop ", "tcp ", "udp ", "icmp ", "{ ", "} ",
			", ", "from ", "to ", "port ", "80 ", "1-2 ",
			"192.0.2.0/24 ", "any ", "class ", "dynamic ", "new ",
			"\n", "log ", "filter ", "\"tcp\" ", "expect ",
			"program ", "x ", "local ", "#c\n", "\"", "\\",
		};
		size_t n = 0, j, len = 1 + (size_t)(s % 30);
		struct diags ds = { { 0 }, 0 };
		int nerr;

		for (j = 0; j < len; j++) {
			const char *t;

			s ^= s << 13;
			s ^= s >> 17;
			s ^= s << 5;
			t = toks[s % (sizeof(toks) / sizeof(toks[0]))];
			if (n + strlen(t) + 1 >= sizeof(buf))
				break;
			memcpy(buf + n, t, strlen(t));
			n += strlen(t);
		}
		buf[n] = '\0';
		ruleset_free(parse("g", buf, &ds, &nerr));
		diags_free(&ds);
	}
}

/* The bundled policies load cleanly and say what their comments say. */
static struct ruleset *load_contrib(const char *rel)
{
	struct diags ds = { { 0 }, 0 };
	struct ruleset_opts o = { procroot, collect, &ds };
	char path[PATH_MAX];
	struct ruleset *rs;
	int nerr = -1;

	snprintf(path, sizeof(path), "%s", rel);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "../%s", rel);
	rs = ruleset_load(path, &o, &nerr);
	if (!rs) {
		fprintf(stderr, "%s:\n", path);
		diags_print(&ds);
	}
	assert_non_null(rs);
	assert_int_equal(nerr, 0);
	diags_free(&ds);
	return rs;
}

static void test_contrib_files(void **state)
{
	struct ruleset *rs;
	struct listener_table *t;
	struct pkt k;
	int log;

	(void)state;
	rs = load_contrib("contrib/default.rules");
	assert_string_equal(ruleset_dynamic_range_name(rs), "iana");
	assert_int_equal(ruleset_unexpected_verdict(rs, &log), VERDICT_REJECT);
	assert_int_equal(log, 1);
	assert_int_equal(ruleset_default_verdict(rs, &log), VERDICT_PASS);
	assert_int_equal(ruleset_rule_count(rs), 0);
	assert_int_equal(ruleset_has_local(rs), 0);
	ruleset_free(rs);

	t = listener_table_new();
	assert_non_null(t);
	add_listener(t, PROTO_UDP, 4, NULL, 60001, 1, "mosh-server",
		     "/usr/bin/mosh-server", "alice", 1000);
	add_listener(t, PROTO_UDP, 4, NULL, 60002, 1, "nc", "/bin/nc.openbsd",
		     "alice", 1000);
	add_listener(t, PROTO_TCP, 4, NULL, 50010, 1, "vsftpd",
		     "/usr/sbin/vsftpd", "ftp", 107);
	add_listener(t, PROTO_UDP, 4, "192.0.2.50", 49170, 1, "turnserver",
		     "/usr/bin/turnserver", "turnserver", 120);

	rs = load_contrib("contrib/examples/mosh.rules");
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       40000, "192.0.2.1", 60001, 0),
					t, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       40000, "192.0.2.1", 60002, 0),
					t, NULL, NULL),
			 EXPECT_NONE);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "198.51.100.4", 40000,
					   "192.0.2.1", 22, 0x02), 1),
			 15);
	assert_int_equal(match_line(rs, mk(&k, PROTO_TCP, "203.0.113.4", 40000,
					   "192.0.2.1", 22, 0x02), 1),
			 16);
	ruleset_free(rs);

	rs = load_contrib("contrib/examples/passive-ftp.rules");
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       40000, "192.0.2.1", 50010, 2),
					t, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_TCP, "203.0.113.1",
					       40000, "192.0.2.1", 50101, 2),
					t, NULL, NULL),
			 EXPECT_NONE);
	ruleset_free(rs);

	rs = load_contrib("contrib/examples/turn.rules");
	assert_int_equal(ruleset_has_local(rs), 1);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       40000, "192.0.2.50", 49170, 0),
					t, NULL, NULL),
			 EXPECT_YES);
	assert_int_equal(ruleset_expect(rs, mk(&k, PROTO_UDP, "203.0.113.1",
					       40000, "192.0.2.51", 49170, 0),
					t, NULL, NULL),
			 EXPECT_NONE);
	assert_true(match_line(rs, mk(&k, PROTO_UDP, "10.1.2.3", 40000,
				      "192.0.2.50", 49170, 0), 1) > 0);
	assert_true(match_line(rs, mk(&k, PROTO_UDP, "203.0.113.1", 40000,
				      "192.0.2.50", 3478, 0), 1) > 0);
	ruleset_free(rs);
	listener_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_table),
		cmocka_unit_test(test_diag_exact),
		cmocka_unit_test(test_all_errors_one_run),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_diag_control_bytes),
		cmocka_unit_test(test_keywords_sorted),
		cmocka_unit_test(test_first_match_mixed),
		cmocka_unit_test(test_new_class_addrs),
		cmocka_unit_test(test_filter_rules),
		cmocka_unit_test(test_oracle_random),
		cmocka_unit_test(test_fast_table_random),
		cmocka_unit_test(test_index_budget),
		cmocka_unit_test(test_filter_scoping_differential),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dynamic_range_host),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_contrib_files),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
