/*
 * test_filekind: each kind from its first bytes, including the look-alikes
 * (a text file starting with CR LF CR LF is not pcapng, "BZh" without a
 * block size digit is text), and rules-file recognition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "filekind.h"

static enum filekind k(const char *b, size_t n)
{
	return filekind_of_bytes((const unsigned char *)b, n);
}

static void test_magics(void **state)
{
	(void)state;
	assert_int_equal(k("\xd4\xc3\xb2\xa1\x02\x00", 6), FILEKIND_PCAP);
	assert_int_equal(k("\xa1\xb2\xc3\xd4", 4), FILEKIND_PCAP);
	assert_int_equal(k("\x4d\x3c\xb2\xa1", 4), FILEKIND_PCAP);
	assert_int_equal(k("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a", 12),
			 FILEKIND_PCAPNG);
	assert_int_equal(k("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x1a\x2b\x3c\x4d", 12),
			 FILEKIND_PCAPNG);
	assert_int_equal(k("\x1f\x8b\x08\x00", 4), FILEKIND_GZIP);
	assert_int_equal(k("\xfd" "7zXZ\x00\x00", 7), FILEKIND_XZ);
	assert_int_equal(k("\x28\xb5\x2f\xfd\x00", 5), FILEKIND_ZSTD);
	assert_int_equal(k("BZh91AY", 7), FILEKIND_BZIP2);
	assert_int_equal(k("", 0), FILEKIND_EMPTY);
}

static void test_lookalikes(void **state)
{
	(void)state;
	/* CR LF CR LF then text: a text file */
	assert_int_equal(k("\n\r\r\npass tcp\n", 13), FILEKIND_TEXT);
	assert_int_equal(k("BZh is a word\n", 14), FILEKIND_TEXT);
	assert_int_equal(k("pass tcp\tto port 1\r\n", 20), FILEKIND_TEXT);
	assert_int_equal(k("pass\x00tcp", 8), FILEKIND_UNKNOWN);
	assert_int_equal(k("\x1b[31m", 5), FILEKIND_UNKNOWN);
	/* three bytes of a pcap magic are not a pcap file */
	assert_int_not_equal(k("\xd4\xc3\xb2", 3), FILEKIND_PCAP);
}

static void test_rules_text(void **state)
{
	(void)state;
#define R(s) filekind_text_is_rules(s, strlen(s))
	assert_true(R("# a policy\n\ndynamic-range iana\n"));
	assert_true(R("  pass tcp to port 22\n"));
	assert_true(R("expect udp port 60001\n"));
	assert_false(R("hello world\n"));
	assert_false(R("# only a comment\n"));
	assert_false(R(""));
	assert_false(R("passport 1\n"));
#undef R
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magics),
		cmocka_unit_test(test_lookalikes),
		cmocka_unit_test(test_rules_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
