/*
 * test_esc: the escape-safe printer (host/esc.c): every byte class, the
 * round trip, truncation never cutting an escape, and the stream form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"

static void test_classes(void **state)
{
	char b[256];

	(void)state;
	assert_string_equal(esc_str(b, sizeof(b), "nc"), "nc");
	assert_string_equal(esc_str(b, sizeof(b), NULL), "");
	assert_string_equal(esc_str(b, sizeof(b), "a\"b'c"), "a\"b'c");
	assert_string_equal(esc_str(b, sizeof(b), "a\\b"), "a\\\\b");
	assert_string_equal(esc_str(b, sizeof(b), "\x1b[2J\x1b[8m"),
			    "\\x1b[2J\\x1b[8m");
	assert_string_equal(esc_str(b, sizeof(b), "x\nALERT\r\t"),
			    "x\\nALERT\\r\\t");
	assert_string_equal(esc_str(b, sizeof(b), "\x7f\x80\x9b\xc3\xa9\xff"),
			    "\\x7f\\x80\\x9b\\xc3\\xa9\\xff");
}

/* Every byte value: the output is printable ASCII, and decodes back. */
static void test_all_bytes(void **state)
{
	char in[256], out[ESC_SIZE(255)], back[256];
	size_t o = 0, k = 0;

	(void)state;
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	esc_str(out, sizeof(out), in);
	for (size_t i = 0; out[i]; i++)
		assert_true(out[i] >= 0x20 && out[i] < 0x7f);
	while (out[o]) {
		if (out[o] != '\\') {
			back[k++] = out[o++];
			continue;
		}
		switch (out[o + 1]) {
		case '\\': back[k++] = '\\'; o += 2; break;
		case 'n': back[k++] = '\n'; o += 2; break;
		case 'r': back[k++] = '\r'; o += 2; break;
		case 't': back[k++] = '\t'; o += 2; break;
		case 'x': {
			char h[3] = { out[o + 2], out[o + 3], 0 };

			back[k++] = (char)strtoul(h, NULL, 16);
			o += 4;
			break;
		}
		default:
			fail();
		}
	}
	back[k] = '\0';
	assert_string_equal(back, in);
}

static void test_truncation(void **state)
{
	char b[8];

	(void)state;
	assert_string_equal(esc_str(b, sizeof(b), "abcdefg"), "abcdefg");
	assert_string_equal(esc_str(b, sizeof(b), "abcdefgh"), "abcd...");
	/* an escape is never cut: "\x1b" does not fit after "ab" */
	assert_string_equal(esc_str(b, sizeof(b), "ab\x1b\x1b"), "ab...");
	assert_string_equal(esc_str(b, 5, "\x1b"), "\\x1b");
	assert_string_equal(esc_str(b, 4, "\x1b"), "...");
	assert_string_equal(esc_str(b, 1, "abc"), "");
	for (size_t len = 1; len <= sizeof(b); len++) {
		esc_str(b, len, "\x1b\x1b\x1b\x1b");
		assert_true(strlen(b) < len);
		for (size_t i = 0; b[i]; i++)
			assert_true(b[i] >= 0x20 && b[i] < 0x7f);
	}
}

static void test_fputs(void **state)
{
	char *mem = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&mem, &n);

	(void)state;
	assert_non_null(f);
	assert_int_equal(esc_fputs("p\x1b]0;x\x07\n", f), 0);
	assert_int_equal(esc_fputs(NULL, f), 0);
	fclose(f);
	assert_string_equal(mem, "p\\x1b]0;x\\x07\\n");
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_fputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
