/* Tests for rules/listener.c: lookup order, owner resolution, and the
 * snapshot reader on good and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "listener.h"
#include "snapshot.h"
#include "packet.h"

static struct listener mk(uint8_t proto, const char *addr, uint16_t port)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = proto;
	l.port = port;
	l.owner.pid = -1;
	if (strchr(addr, ':')) {
		l.family = 6;
		assert_int_equal(inet_pton(AF_INET6, addr, l.addr), 1);
	} else {
		l.family = 4;
		assert_int_equal(inet_pton(AF_INET, addr, l.addr), 1);
	}
	return l;
}

static void a4(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void a6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void test_find_order(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener l;
	struct listener *f;
	uint8_t a[16];

	(void)state;
	assert_non_null(t);
	/* Added in the "wrong" order: the dual-stack wildcard first. */
	l = mk(PROTO_TCP, "::", 60314);
	l.inode = 1;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, "0.0.0.0", 60314);
	l.inode = 2;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, "192.0.2.1", 60314);
	l.inode = 3;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_UDP, "192.0.2.1", 60314);
	l.inode = 4;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, "2001:db8::1", 60314);
	l.inode = 5;
	assert_int_equal(listener_table_add(t, &l), 0);
	assert_int_equal(listener_table_count(t), 5);

	a4("192.0.2.1", a); /* exact beats both wildcards */
	f = listener_table_find(t, PROTO_TCP, 4, a, 60314);
	assert_non_null(f);
	assert_int_equal(f->inode, 3);
	a4("192.0.2.2", a); /* v4 wildcard beats the v6 one */
	f = listener_table_find(t, PROTO_TCP, 4, a, 60314);
	assert_non_null(f);
	assert_int_equal(f->inode, 2);
	f = listener_table_find(t, PROTO_UDP, 4, a, 60314); /* other address */
	assert_null(f);
	a4("192.0.2.1", a);
	f = listener_table_find(t, PROTO_UDP, 4, a, 60314); /* proto kept apart */
	assert_non_null(f);
	assert_int_equal(f->inode, 4);
	f = listener_table_find(t, PROTO_SCTP, 4, a, 60314);
	assert_null(f);
	f = listener_table_find(t, PROTO_TCP, 4, a, 60315); /* other port */
	assert_null(f);

	a6("2001:db8::1", a);
	f = listener_table_find(t, PROTO_TCP, 6, a, 60314);
	assert_non_null(f);
	assert_int_equal(f->inode, 5);
	a6("2001:db8::2", a);
	f = listener_table_find(t, PROTO_TCP, 6, a, 60314);
	assert_non_null(f);
	assert_int_equal(f->inode, 1);
	/* An IPv4 wildcard never takes IPv6 traffic. */
	listener_table_clear(t);
	assert_int_equal(listener_table_count(t), 0);
	l = mk(PROTO_TCP, "0.0.0.0", 22);
	assert_int_equal(listener_table_add(t, &l), 0);
	assert_null(listener_table_find(t, PROTO_TCP, 6, a, 22));
	listener_table_free(t);
}

static void test_dual_stack(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener l;
	struct listener *f;
	uint8_t a[16];

	(void)state;
	l = mk(PROTO_UDP, "::", 60001);
	l.inode = 7;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_UDP, "::ffff:198.51.100.9", 60002);
	l.inode = 8;
	assert_int_equal(listener_table_add(t, &l), 0);

	a4("203.0.113.4", a);
	f = listener_table_find(t, PROTO_UDP, 4, a, 60001);
	assert_non_null(f);
	assert_int_equal(f->inode, 7);
	/* A socket bound to a v4-mapped address is an exact match. */
	a4("198.51.100.9", a);
	f = listener_table_find(t, PROTO_UDP, 4, a, 60002);
	assert_non_null(f);
	assert_int_equal(f->inode, 8);
	a4("198.51.100.10", a);
	assert_null(listener_table_find(t, PROTO_UDP, 4, a, 60002));
	listener_table_free(t);
}

static void test_many_and_at(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener l;
	uint8_t a[16];

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		l = mk(i & 1 ? PROTO_UDP : PROTO_TCP, "0.0.0.0",
		       (uint16_t)(i * 13));
		l.inode = i;
		assert_int_equal(listener_table_add(t, &l), 0);
	}
	assert_int_equal(listener_table_count(t), 5000);
	a4("10.0.0.1", a);
	for (unsigned i = 0; i < 5000; i++) {
		struct listener *f = listener_table_find(
			t, i & 1 ? PROTO_UDP : PROTO_TCP, 4, a,
			(uint16_t)(i * 13));

		assert_non_null(f);
		assert_int_equal(f->inode, i);
		assert_ptr_equal(listener_table_at(t, i), f);
	}
	assert_null(listener_table_at(t, 5000));
	listener_table_free(t);
	listener_table_free(NULL);
}

static int calls;

static int fake_resolve(void *ctx, struct listener *l)
{
	calls++;
	if (l->inode == 42) {
		l->owner.pid = 1234;
		snprintf(l->owner.program, sizeof(l->owner.program), "%s",
			 (const char *)ctx);
		return 0;
	}
	return -1;
}

static void test_resolver_once(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener l;
	const struct listener_owner *o;
	uint8_t a[16];
	struct listener *f;

	(void)state;
	calls = 0;
	l = mk(PROTO_TCP, "0.0.0.0", 60314);
	l.inode = 42;
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, "0.0.0.0", 60315);
	l.inode = 43;
	assert_int_equal(listener_table_add(t, &l), 0);
	a4("192.0.2.1", a);
	f = listener_table_find(t, PROTO_TCP, 4, a, 60314);

	/* No resolver: unknown, and still not looked up. */
	assert_null(listener_owner(t, f));
	assert_int_equal(f->owner_state, 0);

	listener_table_set_resolver(t, fake_resolve, (void *)"nc");
	for (int i = 0; i < 3; i++) {
		o = listener_owner(t, f);
		assert_non_null(o);
		assert_int_equal(o->pid, 1234);
		assert_string_equal(o->program, "nc");
	}
	assert_int_equal(calls, 1);
	assert_int_equal(f->owner_state, 1);

	f = listener_table_find(t, PROTO_TCP, 4, a, 60315);
	for (int i = 0; i < 3; i++)
		assert_null(listener_owner(t, f));
	assert_int_equal(calls, 2);
	assert_int_equal(f->owner_state, -1);
	assert_null(listener_owner(t, NULL));
	listener_table_free(t);
}

#define SNAP_OK                                                                \
	"{\"version\":1,\"host\":\"h\",\"time\":\"2026-11-27T13:00:00Z\","     \
	"\"range\":{\"lo\":32768,\"hi\":60999},\n\"listeners\":[\n"            \
	"{\"proto\":\"tcp\",\"family\":4,\"addr\":\"0.0.0.0\",\"port\":60314," \
	"\"class\":\"dynamic\",\"ephemeral\":true,\"reserved\":false,"         \
	"\"pid\":1234,\"program\":\"nc\",\"exe\":\"/usr/bin/nc.openbsd\","     \
	"\"user\":\"root\",\"uid\":0,\"unit\":\"ssh.service\","                \
	"\"policy\":\"unexpected\"},\n"                                        \
	"{\"proto\":\"udp\",\"family\":6,\"addr\":\"::\",\"port\":5353,"       \
	"\"pid\":null,\"program\":null,\"exe\":null,\"user\":null,"            \
	"\"uid\":null,\"unit\":null,\"future\":{\"a\":[1,2,{\"b\":null}]}}\n"  \
	"]}\n"

static void test_snapshot_good(void **state)
{
	struct listener_table *t = listener_table_new();
	char err[256];
	struct listener *l;
	uint8_t a[16];

	(void)state;
	assert_int_equal(snapshot_parse(t, SNAP_OK, strlen(SNAP_OK),
						 err, sizeof(err)),
			 0);
	assert_int_equal(listener_table_count(t), 2);
	l = listener_table_at(t, 0);
	assert_int_equal(l->proto, PROTO_TCP);
	assert_int_equal(l->family, 4);
	assert_int_equal(l->port, 60314);
	assert_int_equal(l->owner_state, 1);
	assert_int_equal(l->owner.pid, 1234);
	assert_string_equal(l->owner.program, "nc");
	assert_string_equal(l->owner.exe, "/usr/bin/nc.openbsd");
	assert_string_equal(l->owner.user, "root");
	assert_string_equal(l->owner.unit, "ssh.service");
	assert_int_equal(l->owner.has_uid, 1);
	assert_int_equal(l->owner.uid, 0);
	l = listener_table_at(t, 1);
	assert_int_equal(l->proto, PROTO_UDP);
	assert_int_equal(l->family, 6);
	assert_int_equal(l->port, 5353);
	assert_int_equal(l->owner_state, -1);
	assert_int_equal(l->owner.pid, -1);
	assert_null(listener_owner(t, l));

	a4("10.1.2.3", a);
	l = listener_table_find(t, PROTO_TCP, 4, a, 60314);
	assert_non_null(l);
	assert_string_equal(listener_owner(t, l)->program, "nc");
	/* the [::] UDP socket takes IPv4 as well */
	assert_non_null(listener_table_find(t, PROTO_UDP, 4, a, 5353));
	listener_table_free(t);
}

static void test_snapshot_strings(void **state)
{
	struct listener_table *t = listener_table_new();
	char err[256];
	const char *doc =
		"{\"listeners\":[{\"proto\":\"udplite\",\"addr\":\"192.0.2.1\","
		"\"port\":0,\"program\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t"
		"\\u00e9\\u20ac\\ud83d\\ude00\",\"user\":\"\xc3\xa9t\xc3\xa9\"}],"
		"\"version\":1}";
	struct listener *l;

	(void)state;
	assert_int_equal(snapshot_parse(t, doc, strlen(doc), err,
						 sizeof(err)),
			 0);
	l = listener_table_at(t, 0);
	assert_non_null(l);
	assert_int_equal(l->proto, PROTO_UDPLITE);
	assert_int_equal(l->family, 4); /* from the address */
	assert_string_equal(l->owner.program,
			    "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac"
			    "\xf0\x9f\x98\x80");
	assert_string_equal(l->owner.user, "\xc3\xa9t\xc3\xa9");
	listener_table_free(t);
}

/* Regression (fuzz_snapshot, tests/regress/fuzz_snapshot/pid-zero-owner):
 * "pid":0 names no process and must not make the owner "known". */
static void test_snapshot_pid_zero(void **state)
{
	struct listener_table *t = listener_table_new();
	char err[256];
	const char *doc = "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\","
			  "\"addr\":\"0.0.2.0\",\"port\":1,\"pid\":0}]}";
	struct listener *l;

	(void)state;
	assert_int_equal(snapshot_parse(t, doc, strlen(doc), err,
						 sizeof(err)),
			 0);
	l = listener_table_at(t, 0);
	assert_non_null(l);
	assert_int_equal(l->owner.pid, -1);
	assert_int_equal(l->owner_state, -1);
	assert_null(listener_owner(t, l));
	listener_table_free(t);
}

static void test_snapshot_long_owner(void **state)
{
	/* Owner names longer than the fields are cut at a character
	 * boundary rather than refused (the writer's \u00XX escapes of bytes
	 * that are not UTF-8 read back longer than they were). */
	struct listener_table *t = listener_table_new();
	char doc[1024], err[256];
	struct listener *l;
	size_t k;

	(void)state;
	k = (size_t)snprintf(doc, sizeof(doc),
			     "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\","
			     "\"addr\":\"::\",\"port\":1,\"program\":\"");
	for (int i = 0; i < 70; i++)
		doc[k++] = (char)('a' + i % 26);
	k += (size_t)snprintf(doc + k, sizeof(doc) - k, "\",\"user\":\"");
	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(doc + k, sizeof(doc) - k, "\\u00e9");
	k += (size_t)snprintf(doc + k, sizeof(doc) - k, "\"}]}");
	assert_int_equal(snapshot_parse(t, doc, k, err, sizeof(err)),
			 0);
	l = listener_table_at(t, 0);
	assert_int_equal(strlen(l->owner.program), 63);
	assert_memory_equal(l->owner.program, "abcdefghij", 10);
	assert_int_equal(strlen(l->owner.user), 62); /* 31 x "\xc3\xa9" */
	for (size_t i = 0; i < 62; i += 2)
		assert_memory_equal(l->owner.user + i, "\xc3\xa9", 2);
	listener_table_free(t);
}

struct bad_case {
	const char *in;
	const char *err; /* expected message, or its beginning */
};

static const struct bad_case bad_cases[] = {
	{ "", "1:1: empty snapshot" },
	{ "   \n  ", "2:3: empty snapshot" },
	{ "[]", "1:1: expected '{' (a snapshot object), found '['" },
	{ "{", "1:2: expected a member name, found end of input" },
	{ "{\"version\":1", "1:13: expected ',' or '}', found end of input" },
	{ "{\"version\":1,\"listeners\":[", "1:27: expected a listener object" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tc",
	  "1:36: unterminated string" },
	{ "{\"version\":1,\"listeners\":[]", "1:28: expected ',' or '}'" },
	{ "{\"version\":1,\"listeners\":[]}x",
	  "1:29: trailing data after the snapshot" },
	{ "{\"version\":1,\"listeners\":[]}{}",
	  "1:29: trailing data after the snapshot" },
	{ "{\"listeners\":[]}", "1:1: snapshot without \"version\"" },
	{ "{\"version\":1}", "1:1: snapshot without \"listeners\"" },
	{ "{\"version\":2,\"listeners\":[]}",
	  "1:12: unsupported snapshot version 2 (expected 1)" },
	{ "{\"version\":1.0,\"listeners\":[]}", "1:12: expected an integer" },
	{ "{\"version\":\"1\",\"listeners\":[]}", "1:12: expected an integer" },
	{ "{\"version\":1,\"listeners\":{}}", "1:26: expected '['" },
	{ "{\"version\":1,,\"listeners\":[]}", "1:14: expected a member name" },
	{ "{\"version\":1,\"listeners\":[],}", "1:29: expected a member name" },
	{ "{\"version\" 1}", "1:12: expected ':', found '1'" },
	{ "{'version':1}", "1:2: expected a member name, found '''" },
	{ "{\"version\":1,\"listeners\":[1]}",
	  "1:27: expected a listener object, found '1'" },
	/* listener members */
	{ "{\"version\":1,\"listeners\":[{\"port\":1,\"addr\":\"::\"}]}",
	  "1:27: listener without \"proto\"" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\",\"addr\":\"::\"}]}",
	  "1:27: listener without \"port\"" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\",\"port\":1}]}",
	  "1:27: listener without \"addr\"" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"icmp\"}]}",
	  "1:36: unknown proto \"icmp\"" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tcptcptcptcptcptcp\"}]}",
	  "1:36: proto too long (max 15 bytes)" },
	{ "{\"version\":1,\"listeners\":[{\"port\":65536}]}",
	  "1:35: port 65536 out of range (0-65535)" },
	{ "{\"version\":1,\"listeners\":[{\"port\":-1}]}",
	  "1:35: port -1 out of range (0-65535)" },
	{ "{\"version\":1,\"listeners\":[{\"port\":99999999999999999999999}]}",
	  "1:35: number out of range" },
	{ "{\"version\":1,\"listeners\":[{\"port\":-9223372036854775809}]}",
	  "1:35: number out of range" },
	{ "{\"version\":1,\"listeners\":[{\"port\":1e3}]}",
	  "1:35: expected an integer" },
	{ "{\"version\":1,\"listeners\":[{\"port\":null}]}",
	  "1:35: expected an integer, found 'n'" },
	{ "{\"version\":1,\"listeners\":[{\"family\":5}]}",
	  "1:37: family must be 4 or 6" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\",\"port\":1,"
	  "\"family\":4,\"addr\":\"::\"}]}",
	  "1:69: addr \"::\" is not IPv4" },
	{ "{\"version\":1,\"listeners\":[{\"proto\":\"tcp\",\"port\":1,"
	  "\"addr\":\"1.2.3\"}]}",
	  "1:58: bad address \"1.2.3\"" },
	{ "{\"version\":1,\"listeners\":[{\"pid\":-5}]}",
	  "1:34: pid -5 out of range" },
	{ "{\"version\":1,\"listeners\":[{\"uid\":4294967296}]}",
	  "1:34: uid 4294967296 out of range" },
	{ "{\"version\":1,\"listeners\":[{\"program\":\"a\\u0000b\"}]}",
	  "1:38: program contains a NUL character" },
	{ "{\"version\":1,\"listeners\":[{\"program\":nul}]}",
	  "1:38: bad literal (expected null)" },
	/* escapes and strings */
	{ "{\"a\\x\":1}", "1:4: bad escape '\\x'" },
	{ "{\"a\\u12\":1}", "1:4: bad \\u escape: expected 4 hex digits" },
	{ "{\"a\\u12", "1:4: truncated \\u escape" },
	{ "{\"a\\ud800\":1}", "1:4: bad \\u escape: high surrogate without a low one" },
	{ "{\"a\\ud800\\u0041\":1}", "1:4: bad \\u escape: high surrogate without a low one" },
	{ "{\"a\\udc00\":1}", "1:4: bad \\u escape: lone low surrogate" },
	{ "{\"a\\", "1:2: unterminated string" },
	{ "{\"a\tb\":1}", "1:4: control character 0x09 in string" },
	{ "{\"a\xff\":1}", "1:4: invalid UTF-8 in string" },
	{ "{\"a\xc0\x80\":1}", "1:4: invalid UTF-8 in string" },
	{ "{\"a\xed\xa0\x80\":1}", "1:4: invalid UTF-8 in string" },
	{ "{\"a\xe2\x82\":1}", "1:4: invalid UTF-8 in string" },
	/* numbers and literals in skipped members */
	{ "{\"x\":01}", "1:6: bad number: leading zero" },
	{ "{\"x\":-}", "1:6: bad number" },
	{ "{\"x\":1.}", "1:6: bad number: digit expected after '.'" },
	{ "{\"x\":1e+}", "1:6: bad number: digit expected in exponent" },
	{ "{\"x\":+1}", "1:6: expected a value, found '+'" },
	{ "{\"x\":tru}", "1:6: bad literal (expected true)" },
	{ "{\"x\":[1,]}", "1:9: expected a value, found ']'" },
	{ "{\"x\":[1 2]}", "1:9: expected ',' or ']', found '2'" },
	{ "{\"x\":\n\n  @}", "3:3: expected a value, found '@'" },
	{ "{\"x\":\x01}", "1:6: expected a value, found byte 0x01" },
};

static void test_snapshot_bad(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]);
	     i++) {
		struct listener_table *t = listener_table_new();
		const struct bad_case *c = &bad_cases[i];
		char err[256];
		int rc;

		rc = snapshot_parse(t, c->in, strlen(c->in), err,
					     sizeof(err));
		if (rc != -1 || strncmp(err, c->err, strlen(c->err)) != 0) {
			print_error("case %zu: input %s\n  got rc=%d \"%s\"\n"
				    "  want \"%s\"\n",
				    i, c->in, rc, err, c->err);
			bad++;
		}
		assert_int_equal(listener_table_count(t), 0);
		listener_table_free(t);
	}
	assert_int_equal(bad, 0);
}

static void test_snapshot_all_or_nothing(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener l = mk(PROTO_TCP, "0.0.0.0", 22);
	char err[128];
	const char *doc =
		"{\"version\":1,\"listeners\":["
		"{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":1},"
		"{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":2},"
		"{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":\"3\"}]}";
	uint8_t a[16];

	(void)state;
	assert_int_equal(listener_table_add(t, &l), 0);
	assert_int_equal(snapshot_parse(t, doc, strlen(doc), err,
						 sizeof(err)),
			 -1);
	assert_int_equal(listener_table_count(t), 1);
	a4("1.2.3.4", a);
	assert_null(listener_table_find(t, PROTO_TCP, 4, a, 1));
	assert_non_null(listener_table_find(t, PROTO_TCP, 4, a, 22));
	/* A tiny error buffer is still NUL-terminated; NULL is allowed. */
	assert_int_equal(snapshot_parse(t, "x", 1, err, 4), -1);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(snapshot_parse(t, "x", 1, NULL, 0), -1);
	listener_table_free(t);
}

static void test_snapshot_deep_nesting(void **state)
{
	struct listener_table *t = listener_table_new();
	char err[128];
	size_t n = 100000;
	char *doc = malloc(2 * n + 64);
	size_t k = 0;

	(void)state;
	assert_non_null(doc);
	k += (size_t)sprintf(doc, "{\"version\":1,\"listeners\":[],\"x\":");
	for (size_t i = 0; i < n; i++)
		doc[k++] = '[';
	for (size_t i = 0; i < n; i++)
		doc[k++] = ']';
	doc[k++] = '}';
	assert_int_equal(snapshot_parse(t, doc, k, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "1:64: nesting deeper than 32 levels");

	/* 31 levels under the top object are fine. */
	k = (size_t)sprintf(doc, "{\"version\":1,\"listeners\":[],\"x\":");
	for (size_t i = 0; i < 31; i++)
		doc[k++] = '[';
	for (size_t i = 0; i < 31; i++)
		doc[k++] = ']';
	doc[k++] = '}';
	assert_int_equal(snapshot_parse(t, doc, k, err, sizeof(err)),
			 0);
	free(doc);
	listener_table_free(t);
}

static void test_snapshot_truncations(void **state)
{
	/* Every prefix of a valid document fails cleanly (and only the
	 * complete one, give or take trailing whitespace, succeeds);
	 * the parser never reads past len (ASan checks the copy). */
	size_t len = strlen(SNAP_OK);

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		struct listener_table *t = listener_table_new();
		char *copy = malloc(n ? n : 1);
		char err[256];
		int rc;

		memcpy(copy, SNAP_OK, n);
		rc = snapshot_parse(t, copy, n, err, sizeof(err));
		if (n >= len - 1) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_true(strchr(err, ':') != NULL);
			assert_int_equal(listener_table_count(t), 0);
		}
		free(copy);
		listener_table_free(t);
	}
}

static void test_snapshot_garbage(void **state)
{
	/* Random bytes and random mutations of a valid snapshot: must not
	 * crash, and errors must be "line:col: ...". */
	unsigned seed = 12345;
	size_t len = strlen(SNAP_OK);
	char buf[1024];

	(void)state;
	assert_true(len < sizeof(buf));
	for (int round = 0; round < 20000; round++) {
		struct listener_table *t = listener_table_new();
		char err[256];
		size_t n;
		int rc;

		memcpy(buf, SNAP_OK, len);
		n = len;
		for (int m = 0; m < 1 + round % 4; m++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			buf[at] = (char)(seed >> 16);
		}
		if (round % 7 == 0) {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 8) % len;
		}
		rc = snapshot_parse(t, buf, n, err, sizeof(err));
		if (rc != 0) {
			unsigned line, col;

			assert_int_equal(sscanf(err, "%u:%u: ", &line, &col),
					 2);
			assert_true(line >= 1 && col >= 1);
		}
		listener_table_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_order),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_many_and_at),
		cmocka_unit_test(test_resolver_once),
		cmocka_unit_test(test_snapshot_good),
		cmocka_unit_test(test_snapshot_strings),
		cmocka_unit_test(test_snapshot_pid_zero),
		cmocka_unit_test(test_snapshot_long_owner),
		cmocka_unit_test(test_snapshot_bad),
		cmocka_unit_test(test_snapshot_all_or_nothing),
		cmocka_unit_test(test_snapshot_deep_nesting),
		cmocka_unit_test(test_snapshot_truncations),
		cmocka_unit_test(test_snapshot_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
