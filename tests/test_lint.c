/*
 * test_lint: one case per line, policy text;expected warning count; and
 * for some the message.  A rule is called unreachable only when an
 * earlier one provably covers it: protocols, addresses (prefix inside
 * prefix), ports (range inside the union of ranges), `new`; filters are
 * opaque.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lint.h"
#include "ruleset.h"

struct seen {
	int n;
	char last[1024];
};

static void collect(void *ctx, const char *diag)
{
	struct seen *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", diag);
}

static int lint_text(const char *text, char *last, size_t len)
{
	struct ruleset_opts o = { .procroot = NULL, .report = NULL };
	struct seen s = { 0, "" };
	int nerr = 0, n;
	struct ruleset *rs = ruleset_parse_string("t.rules", text, &o, &nerr);

	assert_non_null(rs);
	n = lint_ruleset(rs, collect, &s);
	assert_int_equal(n, s.n);
	if (last)
		snprintf(last, len, "%s", s.last);
	ruleset_free(rs);
	return n;
}

static void test_table(void **state)
{
	static const struct {
		const char *text;
		int warnings;
	} cases[] = {
		{ "pass tcp\ndrop tcp to port 60314\n", 1 },
		{ "drop tcp to port 60314\npass tcp\n", 0 },
		{ "pass tcp to port 60000-60010\ndrop tcp to port 60005\n", 1 },
		{ "pass tcp to port 60000-60010\ndrop tcp to port 60005-60011\n", 0 },
		{ "pass tcp to port { 1-10, 11-20 }\ndrop tcp to port 5-15\n", 1 },
		{ "pass tcp from 10.0.0.0/8\ndrop tcp from 10.1.0.0/16\n", 1 },
		{ "pass tcp from 10.1.0.0/16\ndrop tcp from 10.0.0.0/8\n", 0 },
		{ "pass tcp from 10.0.0.0/8\ndrop tcp from 2001:db8::/32\n", 0 },
		{ "pass tcp new\ndrop tcp\n", 0 },
		{ "pass tcp\ndrop tcp new\n", 1 },
		{ "pass udp\ndrop tcp\n", 0 },
		{ "pass\ndrop udp to port 53\n", 1 },
		{ "pass tcp filter \"tcp\"\ndrop tcp\n", 0 },
		{ "pass tcp to port 22\npass tcp to port 22\n", 1 },
		{ "expect tcp port 60000\nexpect tcp port 60000\n", 1 },
		{ "expect tcp port 60000\nexpect tcp port 60000 program sshd\n", 1 },
		{ "expect tcp port 60000 program sshd\nexpect tcp port 60000\n", 0 },
		{ "expect tcp port 60000 user a\nexpect tcp port 60000 user b\n", 0 },
		{ "expect tcp port 8080\n", 1 },
		{ "expect tcp port 49000-49200\n", 1 },
		{ "expect tcp port 50000\n", 0 },
		{ "dynamic-range 40000-41000\nexpect tcp port 50000\n", 1 },
		{ "drop tcp to 192.0.2.1 port 60000\n", 1 },
		{ "local 192.0.2.0/24\ndrop tcp to 192.0.2.1 port 60000\n", 0 },
		{ "expect tcp port 60000 to 192.0.2.1\n", 0 },
		{ "", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = lint_text(cases[i].text, NULL, 0);

		if (n != cases[i].warnings)
			fail_msg("case %zu: %d warnings, want %d:\n%s", i, n,
				 cases[i].warnings, cases[i].text);
	}
}

static void test_messages(void **state)
{
	char last[1024];

	(void)state;
	lint_text("default pass\npass tcp\ndrop log tcp to port 60314\n", last,
		  sizeof(last));
	assert_non_null(strstr(last, "t.rules:3:1: warning: rule never matches: "
				     "the pass rule at line 2"));
	lint_text("pass tcp to port 22\npass tcp to port 22\n", last, sizeof(last));
	assert_non_null(strstr(last, "t.rules:2:1: warning: duplicate of the rule "
				     "at line 1"));
	lint_text("expect tcp port 8080\n", last, sizeof(last));
	assert_non_null(strstr(last, "expect outside the guarded dynamic range "
				     "iana (49152-65535)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
