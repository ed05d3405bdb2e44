/*
 * test_communityid: the Community ID's properties (SHA-1 is nettle's): both directions of a flow hash alike, ICMP
 * request and reply pair up, one-way ICMP keeps its order, the seed and
 * every tuple field change the hash.  (The specification's own vectors
 * are checked by tests/t_communityid.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "communityid.h"

static const uint8_t A4[16] = { 1, 2, 3, 4 }, B4[16] = { 5, 6, 7, 8 };

static void test_symmetric(void **state)
{
	char x[64], y[64];

	(void)state;
	communityid_v1(0, 4, A4, B4, 6, 1, 1122, 3344, 1, x, sizeof(x));
	communityid_v1(0, 4, B4, A4, 6, 1, 3344, 1122, 1, y, sizeof(y));
	assert_string_equal(x, y);
	assert_int_equal(strlen(x), 30);
	assert_memory_equal(x, "1:", 2);
	assert_int_equal(x[29], '=');
	/* same addresses, ports decide the order */
	communityid_v1(0, 4, A4, A4, 17, 1, 10, 20, 1, x, sizeof(x));
	communityid_v1(0, 4, A4, A4, 17, 1, 20, 10, 1, y, sizeof(y));
	assert_string_equal(x, y);
}

static void test_fields_matter(void **state)
{
	char base[64], x[64];

	(void)state;
	communityid_v1(0, 4, A4, B4, 6, 1, 1122, 3344, 1, base, sizeof(base));
	communityid_v1(1, 4, A4, B4, 6, 1, 1122, 3344, 1, x, sizeof(x));
	assert_string_not_equal(base, x);
	communityid_v1(0, 4, A4, B4, 17, 1, 1122, 3344, 1, x, sizeof(x));
	assert_string_not_equal(base, x);
	communityid_v1(0, 4, A4, B4, 6, 1, 1122, 3345, 1, x, sizeof(x));
	assert_string_not_equal(base, x);
	communityid_v1(0, 4, A4, B4, 6, 0, 1122, 3344, 1, x, sizeof(x));
	assert_string_not_equal(base, x);
	/* the hex form: "1:" and 40 digits */
	communityid_v1(0, 4, A4, B4, 6, 1, 1122, 3344, 0, x, sizeof(x));
	assert_int_equal(strlen(x), 42);
}

static void test_icmp(void **state)
{
	char req[64], rep[64], x[64], y[64];

	(void)state;
	/* echo request 8/0 out, echo reply 0/0 back: one flow */
	communityid_v1(0, 4, A4, B4, 1, 1, 8, 0, 1, req, sizeof(req));
	communityid_v1(0, 4, B4, A4, 1, 1, 0, 0, 1, rep, sizeof(rep));
	assert_string_equal(req, rep);
	/* time exceeded (11) is one-way: the reverse tuple is another flow */
	communityid_v1(0, 4, A4, B4, 1, 1, 11, 0, 1, x, sizeof(x));
	communityid_v1(0, 4, B4, A4, 1, 1, 11, 0, 1, y, sizeof(y));
	assert_string_not_equal(x, y);
	/* ICMPv6 echo 128/129 */
	uint8_t a6[16] = { 0xfe, 0x80, [15] = 1 }, b6[16] = { 0xfe, 0x80, [15] = 2 };
	communityid_v1(0, 6, a6, b6, 58, 1, 128, 0, 1, x, sizeof(x));
	communityid_v1(0, 6, b6, a6, 58, 1, 129, 0, 1, y, sizeof(y));
	assert_string_equal(x, y);
}

/* The spec's first TCP vector (128.232.110.120:34855 -> 66.35.250.204:80),
 * in every buffer size: cut like snprintf, never written past outlen. */
static void test_outlen(void **state)
{
	static const uint8_t sa[4] = { 128, 232, 110, 120 };
	static const uint8_t da[4] = { 66, 35, 250, 204 };
	const char *want = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
	const char *want_hex = "1:2d053da9994af81e45dca0e67afea6e4f3226eb8";

	(void)state;
	for (size_t len = 0; len < 50; len++) {
		char buf[64], exp[64];

		memset(buf, 'Z', sizeof(buf));
		communityid_v1(0, 4, sa, da, 6, 1, 34855, 80, 1, buf, len);
		if (len) {
			snprintf(exp, len, "%s", want);
			assert_string_equal(buf, exp);
		}
		for (size_t i = len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
		memset(buf, 'Z', sizeof(buf));
		communityid_v1(0, 4, sa, da, 6, 1, 34855, 80, 0, buf, len);
		if (len) {
			snprintf(exp, len, "%s", want_hex);
			assert_string_equal(buf, exp);
		}
		for (size_t i = len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symmetric),
		cmocka_unit_test(test_fields_matter),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_outlen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
