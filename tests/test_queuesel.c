/* Tests for rules/queuesel.c: the selector file (every key, comments,
 * errors with their line), the defaults, and the match table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "queuesel.h"

static char path[64];

static struct queuesel *load_text(const char *text, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/queuesel.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct queuesel *q = queuesel_load(path, err, errlen);
	unlink(path);
	return q;
}

static struct packet pkt(uint8_t proto, uint16_t dport)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	p.proto = proto;
	p.has_ports = 1;
	p.sport = 40000;
	p.dport = dport;
	return p;
}

static void test_defaults(void **state)
{
	struct queuesel *q = queuesel_default();
	struct packet tcp = pkt(PROTO_TCP, 60000), sctp = pkt(PROTO_SCTP, 60000);
	struct packet icmp = pkt(PROTO_ICMP, 0);

	(void)state;
	assert_non_null(q);
	assert_false(queuesel_is_all(q));
	assert_true(queuesel_invalid_drop(q));
	assert_string_equal(queuesel_describe(q),
			    "tcp udp udplite sctp dccp, ports all, interfaces "
			    "all, invalid drop");
	assert_int_equal(queuesel_match(q, &tcp, FLOW_CT_NEW, 1), QS_QUEUED);
	assert_int_equal(queuesel_match(q, &tcp, FLOW_CT_ESTABLISHED, 1), QS_NOT_NEW);
	assert_int_equal(queuesel_match(q, &tcp, FLOW_CT_INVALID, 1), QS_INVALID);
	assert_int_equal(queuesel_match(q, &tcp, FLOW_CT_UNKNOWN, 1), QS_UNDETERMINED);
	/* outbound: the INPUT hook never sees it */
	assert_int_equal(queuesel_match(q, &tcp, FLOW_CT_NEW, 0), QS_OUTSIDE);
	/* every protocol the daemon reads ports from is queued */
	assert_int_equal(queuesel_match(q, &sctp, FLOW_CT_NEW, 1), QS_QUEUED);
	assert_int_equal(queuesel_match(q, &icmp, FLOW_CT_UNKNOWN, 1), QS_OUTSIDE);
	assert_string_equal(queuesel_result_name(QS_OUTSIDE), "outside-selector");
	assert_string_equal(queuesel_result_name(QS_INVALID), "conntrack-invalid");
	queuesel_free(q);

	q = queuesel_all();
	assert_true(queuesel_is_all(q));
	assert_int_equal(queuesel_match(q, &sctp, FLOW_CT_INVALID, 0), QS_QUEUED);
	queuesel_free(q);
}

static void test_file(void **state)
{
	char err[256] = "";
	struct queuesel *q;
	struct packet p;

	(void)state;
	q = load_text("# comment\n\nprotos tcp sctp udplite # trailing\n"
		      "ports 32768-60999,8080\ninterfaces eth0 eth1\n"
		      "invalid accept\nqueue 0:3\n", err, sizeof(err));
	assert_non_null(q);
	assert_false(queuesel_invalid_drop(q));
	assert_true(queuesel_has_interfaces(q));
	assert_string_equal(queuesel_describe(q),
			    "tcp udplite sctp, ports 32768-60999,8080, "
			    "interfaces eth0 eth1, invalid accept");
	p = pkt(PROTO_TCP, 8080);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_QUEUED);
	p = pkt(PROTO_TCP, 8081);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_OUTSIDE);
	p = pkt(PROTO_TCP, 60999);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_QUEUED);
	p = pkt(PROTO_UDP, 60000);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_OUTSIDE);
	p = pkt(PROTO_SCTP, 20000);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_OUTSIDE);
	/* udplite has no port match in xtables: all its ports */
	p = pkt(PROTO_UDPLITE, 1);
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_NEW, 1), QS_QUEUED);
	/* no ports (a header cut before them) under a port list */
	p = pkt(PROTO_TCP, 8080);
	p.has_ports = 0;
	assert_int_equal(queuesel_match(q, &p, FLOW_CT_UNKNOWN, 1), QS_OUTSIDE);
	queuesel_free(q);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "protos icmp\n", ":1: protos: 'icmp'" },
		{ "protos\n", ":1: protos: no protocol" },
		{ "\nports 70000\n", ":2: port 70000" },
		{ "ports 1-2 3\n", ":1: ports: one value" },
		{ "ports 9-3\n", ":1: " },
		{ "invalid maybe\n", ":1: invalid: drop or accept" },
		{ "queue x\n", ":1: queue:" },
		{ "interfaces\n", ":1: interfaces: none" },
		{ "colour blue\n", ":1: unknown setting 'colour'" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_null(load_text(cases[i].text, err, sizeof(err)));
		if (!strstr(err, cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].text, err,
				 cases[i].want);
	}
	assert_null(queuesel_load("/nonexistent/queue.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	/* a line longer than the buffer is an error, not two settings */
	{
		char big[3000];

		memset(big, 'a', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		assert_null(load_text(big, err, sizeof(err)));
		assert_non_null(strstr(err, "line too long"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
