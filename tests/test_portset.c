/* Tests for rules/portset.c: which ports can make an attempt an alert. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "portset.h"
#include "ruleset.h"

static struct portset *from(const char *text)
{
	int nerr = -1;
	struct ruleset *rs = ruleset_parse_string("t.rules", text, NULL, &nerr);
	struct portset *ps;

	assert_non_null(rs);
	assert_int_equal(nerr, 0);
	ps = portset_alerts(rs);
	assert_non_null(ps);
	ruleset_free(rs);
	return ps;
}

/* The bundled policy: the guarded range and nothing else. */
static void test_default_policy(void **state)
{
	struct portset *ps = from("dynamic-range iana\n"
				  "unexpected reject log\n"
				  "default pass\n"
				  "invalid drop log\n");

	(void)state;
	assert_false(portset_is_all(ps));
	assert_true(portset_has(ps, 49152));
	assert_true(portset_has(ps, 65535));
	assert_false(portset_has(ps, 49151));
	assert_false(portset_has(ps, 443));
	assert_false(portset_has(ps, 0));
	portset_free(ps);
}

/* Logging rules add their ports; rules that do not log add nothing; a
 * logging rule without ports, or a logging default, adds every port. */
static void test_rules(void **state)
{
	struct portset *ps;

	(void)state;
	ps = from("dynamic-range 60000-60010\n"
		  "unexpected drop\n" /* alerts without log too */
		  "drop log tcp to port { 22, 8000-8010 }\n"
		  "drop log udp from port 53\n"
		  "pass tcp to port 443\n"
		  "expect udp port 60001\n");
	assert_false(portset_is_all(ps));
	assert_true(portset_has(ps, 60000));
	assert_true(portset_has(ps, 60010));
	assert_false(portset_has(ps, 60011));
	assert_true(portset_has(ps, 22));
	assert_true(portset_has(ps, 8005));
	assert_false(portset_has(ps, 8011));
	assert_true(portset_has(ps, 53));
	assert_false(portset_has(ps, 443));
	assert_false(portset_has(ps, 49152));
	portset_free(ps);

	ps = from("drop log from 192.0.2.0/24\n");
	assert_true(portset_is_all(ps));
	assert_true(portset_has(ps, 1));
	portset_free(ps);

	ps = from("drop log filter \"udp port 53\"\n");
	assert_true(portset_is_all(ps));
	portset_free(ps);

	ps = from("default pass log\n");
	assert_true(portset_is_all(ps));
	portset_free(ps);
}

/* A flow matters when either port does, the same both ways; packets that
 * never reach a flow table always "matter" (nothing is skipped for them). */
static void test_flow(void **state)
{
	struct portset *ps = from("dynamic-range iana\n");
	struct packet p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.status = PACKET_OK;
	p.has_ports = 1;
	p.proto = PROTO_TCP;
	p.sport = 40000;
	p.dport = 443;
	assert_false(portset_flow(ps, &p));
	p.sport = 443;
	p.dport = 40000;
	assert_false(portset_flow(ps, &p));
	p.dport = 50000; /* to the guarded range */
	assert_true(portset_flow(ps, &p));
	p.sport = 50000; /* its answer */
	p.dport = 443;
	assert_true(portset_flow(ps, &p));
	p.sport = 1;
	p.has_ports = 0;
	assert_true(portset_flow(ps, &p));
	p.has_ports = 1;
	p.status = PACKET_MALFORMED;
	assert_true(portset_flow(ps, &p));
	portset_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
