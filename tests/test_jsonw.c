/* Tests for host/jsonw.c: structure, escaping of hostile strings, numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Length of a well-formed UTF-8 sequence at s per the Unicode
 * Standard's table 3-7 (a table, not jsonw's decoder), or 0. */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
	static const struct {
		unsigned char lo0, hi0, lo1, hi1;
		size_t len;
	} t[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 }, { 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (s[0] < t[i].lo0 || s[0] > t[i].hi0)
			continue;
		if (n < t[i].len || s[1] < t[i].lo1 || s[1] > t[i].hi1)
			return 0;
		for (size_t k = 2; k < t[i].len; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return t[i].len;
	}
	return 0;
}

/* RFC 8259 escaping as jsonw promises it, written out plainly. */
static size_t ref_escape(char *o, const unsigned char *s, size_t n)
{
	size_t k = 0;

	o[k++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;

		if (c == '"' || c == '\\') {
			o[k++] = '\\';
			o[k++] = (char)c;
			i++;
		} else if (c == '\n') {
			memcpy(o + k, "\\n", 2), k += 2, i++;
		} else if (c == '\r') {
			memcpy(o + k, "\\r", 2), k += 2, i++;
		} else if (c == '\t') {
			memcpy(o + k, "\\t", 2), k += 2, i++;
		} else if (c >= 0x20 && c < 0x7f) {
			o[k++] = (char)c;
			i++;
		} else if (c >= 0x80 && (l = ref_utf8(s + i, n - i)) != 0) {
			memcpy(o + k, s + i, l);
			k += l;
			i += l;
		} else {
			k += (size_t)snprintf(o + k, 7, "\\u%04x", c);
			i++;
		}
	}
	o[k++] = '"';
	return k;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* jsonw_escape and jsonw_string_n against the reference on random bytes
 * biased towards what is hard: controls, quotes, backslashes, lead and
 * continuation bytes, surrogates, overlong forms, sequences cut short. */
static void test_escape_random(void **state)
{
	static const unsigned char hard[] = {
		0x00, 0x01, 0x08, 0x09, 0x0a, 0x0d, 0x1f, 0x20, '"', '\\', 0x7f,
		0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
		0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90, 'a', '/',
	};
	unsigned char in[80];
	char got[JSONW_ESCAPED_MAX(80) + 8], want[JSONW_ESCAPED_MAX(80) + 8];
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	for (int i = 0; i < 200000; i++) {
		size_t n = rnd() % sizeof(in), wl;
		char *e;

		for (size_t k = 0; k < n; k++)
			in[k] = rnd() % 2 ? hard[rnd() % sizeof(hard)]
					  : (unsigned char)rnd();
		memset(got, 0x5a, sizeof(got));
		e = jsonw_escape(got, (const char *)in, n);
		wl = ref_escape(want, in, n);
		assert_true((size_t)(e - got) <= JSONW_ESCAPED_MAX(n));
		assert_int_equal((size_t)(e - got), wl);
		assert_memory_equal(got, want, wl);
		assert_int_equal((unsigned char)*e, 0x5a);
		jsonw_reset(&w);
		jsonw_string_n(&w, (const char *)in, n);
		want[wl] = '\0';
		assert_string_equal(jsonw_str(&w), want);
	}
	jsonw_free(&w);
}

/* jsonw_name: the same text as jsonw_string for the names it memoizes,
 * for ones it does not (too long, hostile), with many strings competing
 * for the memo's slots. */
static void test_name(void **state)
{
	static char names[300][100];
	struct jsonw w;

	(void)state;
	for (size_t i = 0; i < 300; i++) {
		size_t n = i % 5 == 0 ? 90 : 1 + i % 20;

		for (size_t k = 0; k < n; k++)
			names[i][k] = i % 7 == 0 ? "\"\\\n\x01\xc3x"[k % 6]
						 : (char)('a' + (i + k) % 26);
		names[i][n] = '\0';
	}
	jsonw_init(&w);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 300; i++) {
			struct jsonw_name q;
			char buf[JSONW_ESCAPED_MAX(100)], *e;

			jsonw_name(&q, names[i]);
			assert_true(jsonw_name_room(&q) <= sizeof(buf));
			e = jsonw_name_put(buf, &q);
			assert_true((size_t)(e - buf) <= jsonw_name_room(&q));
			jsonw_reset(&w);
			jsonw_string(&w, names[i]);
			assert_int_equal((size_t)(e - buf), strlen(jsonw_str(&w)));
			assert_memory_equal(buf, jsonw_str(&w), (size_t)(e - buf));
		}
	jsonw_free(&w);
}

/* jsonw_room/jsonw_commit: raw members join the object with its commas,
 * and after a failed allocation nothing is written. */
static void test_room_commit(void **state)
{
	struct jsonw w;
	char *o;

	(void)state;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	o = jsonw_room(&w, 16);
	assert_non_null(o);
	assert_false(w.need_comma);
	memcpy(o, "\"a\":1", 5);
	jsonw_commit(&w, o + 5);
	jsonw_kv_uint(&w, "b", 2);
	o = jsonw_room(&w, 16);
	if (w.need_comma)
		*o++ = ',';
	memcpy(o, "\"c\":3", 5);
	jsonw_commit(&w, o + 5);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w), "{\"a\":1,\"b\":2,\"c\":3}");
	w.failed = 1;
	assert_null(jsonw_room(&w, 1));
	jsonw_commit(&w, NULL);
	assert_string_equal(jsonw_str(&w), "");
	jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_room_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
