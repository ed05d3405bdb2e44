/*
 * test_num: the bounded number parser (rules/num.c), table-driven: one
 * case per line, input, bounds, flags, and what must come out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "num.h"

struct num_case {
	const char *s;
	uint64_t lo, hi;
	unsigned flags;
	int err;	/* 0, EINVAL or ERANGE */
	uint64_t want;
};

static const struct num_case cases[] = {
	{ "0", 0, 10, 0, 0, 0 },
	{ "10", 0, 10, 0, 0, 10 },
	{ "11", 0, 10, 0, ERANGE, 0 },
	{ "0", 1, 10, 0, ERANGE, 0 },
	{ "65535", 0, 65535, 0, 0, 65535 },
	{ "65536", 0, 65535, 0, ERANGE, 0 },
	{ "010", 0, 100, 0, 0, 10 },		/* never octal */
	{ "", 0, 10, 0, EINVAL, 0 },
	{ " 5", 0, 10, 0, EINVAL, 0 },
	{ "5 ", 0, 10, 0, EINVAL, 0 },
	{ "+5", 0, 10, 0, EINVAL, 0 },
	{ "-1", 0, 10, 0, EINVAL, 0 },
	{ "5x", 0, 10, 0, EINVAL, 0 },
	{ "99x", 0, 10, 0, EINVAL, 0 },	/* not a number beats out of range */
	{ "0x10", 0, 100, 0, EINVAL, 0 },	/* hex only when asked for */
	{ "0x10", 0, 100, NUM_HEX, 0, 16 },
	{ "0XfF", 0, 1000, NUM_HEX, 0, 255 },
	{ "0x", 0, 100, NUM_HEX, EINVAL, 0 },
	{ "0xg", 0, 100, NUM_HEX, EINVAL, 0 },
	{ "0x70c1a55", 1, 0xffffffffu, NUM_HEX, 0, 0x70c1a55 },
	{ "0x100000000", 1, 0xffffffffu, NUM_HEX, ERANGE, 0 },
	{ "18446744073709551615", 0, UINT64_MAX, 0, 0, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, 0, ERANGE, 0 },
	{ "99999999999999999999999", 0, UINT64_MAX, 0, ERANGE, 0 },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct num_case *c = &cases[i];
		uint64_t v = 12345;
		int rc;

		errno = 0;
		rc = num_parse(c->s, c->lo, c->hi, c->flags, &v);
		if (c->err) {
			if (rc != -1 || errno != c->err)
				fail_msg("'%s': rc %d errno %d, want errno %d",
					 c->s, rc, errno, c->err);
			assert_int_equal(v, 12345); /* untouched */
		} else {
			if (rc != 0 || v != c->want)
				fail_msg("'%s': rc %d value %llu", c->s, rc,
					 (unsigned long long)v);
		}
	}
	assert_int_equal(num_parse(NULL, 0, 1, 0, &(uint64_t){ 0 }), -1);
}

static void test_prefix(void **state)
{
	const char *s = "8080-9090";
	uint64_t v;

	(void)state;
	assert_int_equal(num_parse_prefix(&s, 0, 65535, &v), 0);
	assert_int_equal(v, 8080);
	assert_string_equal(s, "-9090");
	s = "70000,";
	assert_int_equal(num_parse_prefix(&s, 0, 65535, &v), -1);
	assert_int_equal(errno, ERANGE);
	assert_string_equal(s, ",");	/* past the digits, to quote them */
	s = "x1";
	assert_int_equal(num_parse_prefix(&s, 0, 65535, &v), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(s, "x1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
