/*
 * test_snapshot: the listener snapshot round trip - what snapshot_write
 * prints, snapshot_parse (the replay tool's reader) reads back
 * unchanged - on a crafted table with hostile strings and on this host's
 * live sockets; and the policy each listener is given under rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonw.h"
#include "listener.h"
#include "owner.h"
#include "packet.h"
#include "ruleset.h"
#include "snapshot.h"
#include "sockdiag.h"

static struct listener mk(uint8_t proto, uint8_t family, const char *addr,
			  uint16_t port)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = proto;
	l.family = family;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr,
				   l.addr), 1);
	l.port = port;
	l.owner.pid = -1;
	return l;
}

static void set_owner(struct listener *l, int32_t pid, const char *program,
		      const char *exe, const char *user, uint32_t uid,
		      const char *unit)
{
	l->owner_state = 1;
	l->owner.pid = pid;
	snprintf(l->owner.program, sizeof(l->owner.program), "%s", program);
	snprintf(l->owner.exe, sizeof(l->owner.exe), "%s", exe);
	snprintf(l->owner.user, sizeof(l->owner.user), "%s", user);
	l->owner.uid = uid;
	l->owner.has_uid = 1;
	snprintf(l->owner.unit, sizeof(l->owner.unit), "%s", unit);
}

/* Rows for every entry of t, in table order. */
static struct snapshot_row *rows_of(struct listener_table *t, size_t *n)
{
	struct snapshot_row *rows;

	*n = listener_table_count(t);
	rows = calloc(*n ? *n : 1, sizeof(*rows));
	assert_non_null(rows);
	for (size_t i = 0; i < *n; i++) {
		rows[i].l = listener_table_at(t, i);
		rows[i].ephemeral = (int)(i % 3) - 1;
		rows[i].reserved = (int)(i % 2);
		rows[i].policy = (enum snapshot_policy)(i % 3);
	}
	return rows;
}

/* Writes rows, parses the text into a fresh table, returns it. */
static struct listener_table *round_trip(const struct snapshot_row *rows,
					 size_t n, const char *host,
					 const struct port_range *range,
					 char **text)
{
	struct listener_table *back = listener_table_new();
	struct jsonw w;
	char err[256];

	assert_non_null(back);
	jsonw_init(&w);
	snapshot_write(&w, host, 1795784400, range, rows, n);
	assert_false(w.failed);
	*text = strdup(jsonw_str(&w));
	assert_non_null(*text);
	jsonw_free(&w);
	if (snapshot_parse(back, *text, strlen(*text), err,
				    sizeof(err)) != 0)
		fail_msg("parse: %s\n%s", err, *text);
	assert_int_equal(listener_table_count(back), n);
	return back;
}

static void assert_same(const struct listener *a, const struct listener *b)
{
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->addr, b->addr, 16);
	assert_int_equal(a->port, b->port);
	if (a->owner_state != 1) {
		/* nothing was known, nothing comes back */
		assert_int_not_equal(b->owner_state, 1);
		assert_int_equal(b->owner.pid, -1);
		return;
	}
	assert_int_equal(b->owner_state, 1);
	assert_int_equal(b->owner.pid, a->owner.pid > 0 ? a->owner.pid : -1);
	assert_string_equal(b->owner.program, a->owner.program);
	assert_string_equal(b->owner.exe, a->owner.exe);
	assert_string_equal(b->owner.user, a->owner.user);
	assert_int_equal(b->owner.has_uid, a->owner.has_uid);
	if (a->owner.has_uid)
		assert_int_equal(b->owner.uid, a->owner.uid);
	assert_string_equal(b->owner.unit, a->owner.unit);
}

static void test_round_trip_crafted(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener_table *back;
	struct port_range range = { 32768, 60999 };
	struct snapshot_row *rows;
	struct listener l;
	char longname[LISTENER_NAME_MAX], longexe[LISTENER_PATH_MAX];
	char *text;
	size_t n;

	(void)state;
	assert_non_null(t);
	memset(longname, 'p', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longexe, 'e', sizeof(longexe) - 1);
	longexe[0] = '/';
	longexe[sizeof(longexe) - 1] = '\0';

	l = mk(PROTO_TCP, 4, "0.0.0.0", 60314);
	set_owner(&l, 1234, "nc", "/usr/bin/nc.openbsd", "root", 0,
		  "ssh.service");
	assert_int_equal(listener_table_add(t, &l), 0);

	/* a program that names itself to break the output */
	l = mk(PROTO_UDP, 6, "::1", 60001);
	set_owner(&l, 42, "a\"b\\c\nd\te\x01", "/tmp/x\"y z (deleted)",
		  "us\xc3\xa9r", 4000000000u, "app-\x1b[2J.scope");
	assert_int_equal(listener_table_add(t, &l), 0);

	/* owner looked up, not found: all nulls */
	l = mk(PROTO_UDPLITE, 6, "2001:db8::1", 5000);
	l.owner_state = -1;
	assert_int_equal(listener_table_add(t, &l), 0);

	/* fields at their maximum length */
	l = mk(PROTO_TCP, 6, "::", 65535);
	set_owner(&l, 2147483647, longname, longexe, longname, 65534, "");
	assert_int_equal(listener_table_add(t, &l), 0);

	/* a known owner with empty fields (exe unreadable, no unit) */
	l = mk(PROTO_TCP, 4, "127.0.0.1", 0);
	set_owner(&l, 7, "x", "", "7", 7, "");
	assert_int_equal(listener_table_add(t, &l), 0);

	rows = rows_of(t, &n);
	back = round_trip(rows, n, "host\"name", &range, &text);
	for (size_t i = 0; i < n; i++)
		assert_same(listener_table_at(t, i), listener_table_at(back, i));
	/* spot checks on the text itself */
	assert_non_null(strstr(text, "\"version\":1,"));
	assert_non_null(strstr(text, "\"time\":\"2026-11-27T13:00:00Z\""));
	assert_non_null(strstr(text, "\"range\":{\"lo\":32768,\"hi\":60999}"));
	assert_non_null(strstr(text, "\"host\":\"host\\\"name\""));
	assert_non_null(strstr(text, "\"proto\":\"udplite\",\"family\":6,"
				     "\"addr\":\"2001:db8::1\",\"port\":5000,"
				     "\"class\":\"user\""));
	assert_non_null(strstr(text, "\"pid\":null,\"program\":null,"
				     "\"exe\":null,\"user\":null,\"uid\":null,"
				     "\"unit\":null"));
	assert_non_null(strstr(text, "\"class\":\"dynamic\",\"ephemeral\":null,"
				     "\"reserved\":false"));
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\x1b'));
	free(text);
	listener_table_free(back);

	/* host and range unknown */
	back = round_trip(rows, n, NULL, NULL, &text);
	assert_non_null(strstr(text, "\"host\":null"));
	assert_non_null(strstr(text, "\"range\":null"));
	free(text);
	listener_table_free(back);

	/* empty */
	back = round_trip(rows, 0, "h", &range, &text);
	assert_non_null(strstr(text, "\"listeners\":[]"));
	free(text);
	listener_table_free(back);

	free(rows);
	listener_table_free(t);
}

/* Bytes that are not UTF-8 come out escaped and still parse. */
static void test_invalid_utf8(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener_table *back;
	struct snapshot_row row;
	struct listener l;
	char *text;

	(void)state;
	l = mk(PROTO_TCP, 4, "10.0.0.1", 50000);
	set_owner(&l, 9, "\xff\xfe", "/x/\xc3", "u", 1, "");
	assert_int_equal(listener_table_add(t, &l), 0);
	row.l = listener_table_at(t, 0);
	row.ephemeral = 1;
	row.reserved = 0;
	row.policy = SNAPSHOT_UNEXPECTED;
	back = round_trip(&row, 1, "h", NULL, &text);
	assert_int_equal(listener_table_at(back, 0)->owner.pid, 9);
	assert_non_null(strstr(text, "\"ephemeral\":true"));
	assert_non_null(strstr(text, "\"policy\":\"unexpected\""));
	free(text);
	listener_table_free(back);
	listener_table_free(t);
}

/* This host's sockets, with owners: what `portclass listeners --json`
 * would print is read back identically. */
/* The host's addresses: written, read back, looked up; a bad one fails
 * the whole document and leaves the table as it was. */
static void test_host_addresses(void **state)
{
	struct listener_host h[4];
	struct listener_table *t = listener_table_new();
	struct jsonw w;
	char err[128];
	uint8_t a[16] = { 0 };
	static const char bad[] =
		"{\"version\":1,\"addresses\":[\"10.0.0.1\",\"nope\"],"
		"\"listeners\":[]}";
	static const char scoped[] =
		"{\"version\":1,\"addresses\":[\"fe80::2%eth0\"],"
		"\"listeners\":[]}";

	(void)state;
	memset(h, 0, sizeof(h));
	h[0].family = 4;
	inet_pton(AF_INET, "10.99.0.1", h[0].addr);
	h[1].family = 4;
	inet_pton(AF_INET, "10.99.0.255", h[1].addr);
	h[2].family = 6;
	inet_pton(AF_INET6, "fe80::1", h[2].addr);
	h[3].family = 6;
	inet_pton(AF_INET6, "::1", h[3].addr);
	jsonw_init(&w);
	snapshot_write_hosts(&w, "h", 0, NULL, h, 4, NULL, 0);
	assert_false(w.failed);
	assert_non_null(strstr(jsonw_str(&w),
			       "\"addresses\":[\"10.99.0.1\",\"10.99.0.255\","
			       "\"fe80::1\",\"::1\"]"));
	assert_int_equal(snapshot_parse(t, jsonw_str(&w), w.len, err,
						 sizeof(err)), 0);
	assert_int_equal(listener_table_host_count(t), 4);
	for (int i = 0; i < 4; i++)
		assert_true(listener_table_is_host(t, h[i].family, h[i].addr));
	inet_pton(AF_INET, "10.99.0.2", a);
	assert_false(listener_table_is_host(t, 4, a));
	/* An IPv4 address is not the IPv6 address with the same bytes. */
	assert_false(listener_table_is_host(t, 6, h[0].addr));
	jsonw_free(&w);

	/* Without addresses: none recorded, as before. */
	jsonw_init(&w);
	snapshot_write(&w, "h", 0, NULL, NULL, 0);
	assert_null(strstr(jsonw_str(&w), "addresses"));
	jsonw_free(&w);

	assert_int_equal(snapshot_parse(t, bad, strlen(bad), err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "bad address"));
	assert_int_equal(listener_table_host_count(t), 4);
	assert_int_equal(snapshot_parse(t, scoped, strlen(scoped), err,
						 sizeof(err)), 0);
	inet_pton(AF_INET6, "fe80::2", a);
	assert_true(listener_table_is_host(t, 6, a));
	listener_table_free(t);
}

static void test_round_trip_live(void **state)
{
	struct listener_table *t = listener_table_new();
	struct listener_table *back;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct snapshot_row *rows;
	char err[256], *text;
	size_t n;
	int fd, found = 0;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a4, sizeof(a4)), 0);
	assert_int_equal(listen(fd, 1), 0);

	if (sockdiag_fill(t, err, sizeof(err)) < 0)
		fail_msg("sockdiag_fill: %s", err);
	assert_true(owner_resolve_table(NULL, t) >= 1);
	rows = rows_of(t, &n);
	snapshot_sort(rows, n);
	back = round_trip(rows, n, "h", NULL, &text);
	for (size_t i = 0; i < n; i++) {
		struct listener *b = listener_table_at(back, i);
		assert_same(rows[i].l, b);
		if (b->owner.pid == getpid())
			found++;
	}
	assert_true(found >= 1);
	free(text);
	free(rows);
	listener_table_free(back);
	listener_table_free(t);
	close(fd);
}

static void test_sort(void **state)
{
	struct listener_table *t = listener_table_new();
	struct snapshot_row *rows;
	struct listener l;
	size_t n;

	(void)state;
	l = mk(PROTO_UDP, 4, "0.0.0.0", 53);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 6, "::", 22);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "127.0.0.1", 22);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "0.0.0.0", 22);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "0.0.0.0", 8080);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "0.0.0.0", 443);
	assert_int_equal(listener_table_add(t, &l), 0);
	rows = rows_of(t, &n);
	snapshot_sort(rows, n);
	static const struct {
		uint8_t proto, family;
		uint16_t port;
		uint8_t a0;
	} want[] = {
		{ PROTO_TCP, 4, 22, 0 },   { PROTO_TCP, 4, 22, 127 },
		{ PROTO_TCP, 6, 22, 0 },   { PROTO_TCP, 4, 443, 0 },
		{ PROTO_TCP, 4, 8080, 0 }, { PROTO_UDP, 4, 53, 0 },
	};
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rows[i].l->proto, want[i].proto);
		assert_int_equal(rows[i].l->family, want[i].family);
		assert_int_equal(rows[i].l->port, want[i].port);
		assert_int_equal(rows[i].l->addr[0], want[i].a0);
	}
	free(rows);
	listener_table_free(t);
}

static struct ruleset *rules(const char *text)
{
	int nerr = 0;
	struct ruleset *rs = ruleset_parse_string("test.rules", text, NULL,
						  &nerr);

	if (!rs)
		fail_msg("rules \"%s\": %d errors", text, nerr);
	return rs;
}

static void test_judge(void **state)
{
	struct listener_table *t = listener_table_new();
	struct ruleset *rs;
	struct listener *udp, *tcp, *ssh, *lite, *v6;
	struct listener l;

	(void)state;
	l = mk(PROTO_UDP, 6, "::", 60001);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "0.0.0.0", 60314);
	set_owner(&l, 1, "nc", "/usr/bin/nc", "root", 0, "");
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 4, "0.0.0.0", 22);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_UDPLITE, 4, "0.0.0.0", 60001);
	assert_int_equal(listener_table_add(t, &l), 0);
	l = mk(PROTO_TCP, 6, "::1", 55000);
	assert_int_equal(listener_table_add(t, &l), 0);
	udp = listener_table_at(t, 0);
	tcp = listener_table_at(t, 1);
	ssh = listener_table_at(t, 2);
	lite = listener_table_at(t, 3);
	v6 = listener_table_at(t, 4);

	/* no rules: the IANA dynamic range is guarded, nothing expected */
	rs = rules("");
	assert_int_equal(snapshot_judge(rs, t, udp), SNAPSHOT_UNEXPECTED);
	assert_int_equal(snapshot_judge(rs, t, tcp), SNAPSHOT_UNEXPECTED);
	assert_int_equal(snapshot_judge(rs, t, ssh), SNAPSHOT_NOT_GUARDED);
	ruleset_free(rs);

	rs = rules("expect udp port 60001\n");
	assert_int_equal(snapshot_judge(rs, t, udp), SNAPSHOT_EXPECTED);
	assert_int_equal(snapshot_judge(rs, t, lite), SNAPSHOT_UNEXPECTED);
	assert_int_equal(snapshot_judge(rs, t, tcp), SNAPSHOT_UNEXPECTED);
	ruleset_free(rs);

	/* by program: the owner in the table decides */
	rs = rules("expect tcp port 60314 program nc\n");
	assert_int_equal(snapshot_judge(rs, t, tcp), SNAPSHOT_EXPECTED);
	/* (program matches comm or the exe's name: change both) */
	snprintf(tcp->owner.program, sizeof(tcp->owner.program), "rogue");
	snprintf(tcp->owner.exe, sizeof(tcp->owner.exe), "/tmp/rogue");
	assert_int_equal(snapshot_judge(rs, t, tcp), SNAPSHOT_UNEXPECTED);
	ruleset_free(rs);

	/* a narrower range leaves 60314 unguarded */
	rs = rules("dynamic-range 50000-59999\nexpect tcp port 55000\n");
	assert_int_equal(snapshot_judge(rs, t, tcp), SNAPSHOT_NOT_GUARDED);
	assert_int_equal(snapshot_judge(rs, t, v6), SNAPSHOT_EXPECTED);
	ruleset_free(rs);

	/* `from` can never cover a listener: the attempt has no source */
	rs = rules("expect tcp port 55000 from 198.51.100.0/24\n");
	assert_int_equal(snapshot_judge(rs, t, v6), SNAPSHOT_UNEXPECTED);
	ruleset_free(rs);
	listener_table_free(t);

	assert_string_equal(snapshot_policy_name(SNAPSHOT_EXPECTED), "expected");
	assert_string_equal(snapshot_policy_name(SNAPSHOT_UNEXPECTED),
			    "unexpected");
	assert_string_equal(snapshot_policy_name(SNAPSHOT_NOT_GUARDED),
			    "not-guarded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_crafted),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_host_addresses),
		cmocka_unit_test(test_round_trip_live),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
