/*
 * test_communityid: SHA-1 against the FIPS 180 examples, and the
 * Community ID's properties: both directions of a flow hash alike, ICMP
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
#include "sha1.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < SHA1_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1_fips(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	uint8_t d[SHA1_LEN];
	char h[41];
	struct sha1 s;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha1_init(&s);
		sha1_update(&s, v[i].in, strlen(v[i].in));
		sha1_final(&s, d);
		hex(d, h);
		assert_string_equal(h, v[i].want);
	}
	/* a million 'a', fed in uneven pieces across block boundaries */
	char a[997];
	size_t left = 1000000;

	memset(a, 'a', sizeof(a));
	sha1_init(&s);
	while (left) {
		size_t n = left < sizeof(a) ? left : sizeof(a);
		sha1_update(&s, a, n);
		left -= n;
	}
	sha1_final(&s, d);
	hex(d, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_fips),
		cmocka_unit_test(test_symmetric),
		cmocka_unit_test(test_fields_matter),
		cmocka_unit_test(test_icmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
