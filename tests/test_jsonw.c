/* Tests for host/jsonw.c: structure, escaping of hostile strings, numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonw.h"

static void test_nesting_and_commas(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_kv_string(&w, "a", "x");
	jsonw_key(&w, "list");
	jsonw_array_begin(&w);
	jsonw_int(&w, -1);
	jsonw_uint(&w, 18446744073709551615u);
	jsonw_object_begin(&w);
	jsonw_object_end(&w);
	jsonw_null(&w);
	jsonw_array_end(&w);
	jsonw_kv_bool(&w, "t", 1);
	jsonw_kv_bool(&w, "f", 0);
	jsonw_kv_null(&w, "n");
	jsonw_kv_string_or_null(&w, "e", "");
	jsonw_kv_string_or_null(&w, "z", NULL);
	jsonw_kv_string_or_null(&w, "s", "v");
	jsonw_key(&w, "d");
	jsonw_double(&w, 0.5);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w),
			    "{\"a\":\"x\",\"list\":[-1,18446744073709551615,{},null],"
			    "\"t\":true,\"f\":false,\"n\":null,\"e\":null,"
			    "\"z\":null,\"s\":\"v\",\"d\":0.5}");
	jsonw_reset(&w);
	assert_string_equal(jsonw_str(&w), "");
	jsonw_object_begin(&w);
	jsonw_kv_int(&w, "k", 7);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w), "{\"k\":7}");
	jsonw_free(&w);
}

struct esc_case {
	const char *in;
	size_t len;
	const char *out;
};

static void test_escaping(void **state)
{
	static const struct esc_case cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "q\"b\\", 4, "\"q\\\"b\\\\\"" },
		{ "a\nb\tc\r", 6, "\"a\\nb\\tc\\r\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		/* valid UTF-8 passes through */
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
		{ "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },
		/* invalid: lone continuation, overlong, surrogate, cut short */
		{ "\x80", 1, "\"\\u0080\"" },
		{ "\xc0\xaf", 2, "\"\\u00c0\\u00af\"" },
		{ "\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"" },
		{ "\xe2\x82", 2, "\"\\u00e2\\u0082\"" },
		{ "\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"" },
		{ "", 0, "\"\"" },
	};
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jsonw_reset(&w);
		jsonw_string_n(&w, cases[i].in, cases[i].len);
		assert_string_equal(jsonw_str(&w), cases[i].out);
	}
	jsonw_reset(&w);
	jsonw_string(&w, NULL);
	assert_string_equal(jsonw_str(&w), "null");
	jsonw_free(&w);
}

static void test_growth(void **state)
{
	struct jsonw w;
	char big[10000];

	(void)state;
	memset(big, 'x', sizeof(big));
	jsonw_init(&w);
	jsonw_array_begin(&w);
	for (int i = 0; i < 50; i++)
		jsonw_string_n(&w, big, sizeof(big));
	jsonw_array_end(&w);
	assert_int_equal(strlen(jsonw_str(&w)), 2 + 50 * (sizeof(big) + 2) + 49);
	jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
