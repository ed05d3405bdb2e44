/*
 * test_addr: CIDR parsing (ok/fail with messages), containment at prefix
 * edges, formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

static const struct {
	const char *in;
	int ok;
	uint8_t family, len;
	const char *canon; /* formatted address, or the expected message */
} cases[] = {
	{ "192.0.2.1", 1, 4, 32, "192.0.2.1" },
	{ "192.0.2.0/24", 1, 4, 24, "192.0.2.0" },
	{ "192.0.2.1/32", 1, 4, 32, "192.0.2.1" },
	{ "0.0.0.0/0", 1, 4, 0, "0.0.0.0" },
	{ "10.0.0.0/8", 1, 4, 8, "10.0.0.0" },
	{ "10.128.0.0/9", 1, 4, 9, "10.128.0.0" },
	{ "255.255.255.255", 1, 4, 32, "255.255.255.255" },
	{ "192.0.2.128/25", 1, 4, 25, "192.0.2.128" },
	{ "2001:db8::/32", 1, 6, 32, "2001:db8::" },
	{ "::1", 1, 6, 128, "::1" },
	{ "::/0", 1, 6, 0, "::" },
	{ "::1/128", 1, 6, 128, "::1" },
	{ "fe80::/10", 1, 6, 10, "fe80::" },
	{ "2001:db8:0:1::/64", 1, 6, 64, "2001:db8:0:1::" },
	{ "::ffff:192.0.2.1", 1, 6, 128, "::ffff:192.0.2.1" },
	{ "2001:DB8::/32", 1, 6, 32, "2001:db8::" },
	{ "192.0.2.1/24", 0, 0, 0,
	  "host bits set in '192.0.2.1/24' (did you mean 192.0.2.0/24?)" },
	{ "0.0.0.1/0", 0, 0, 0,
	  "host bits set in '0.0.0.1/0' (did you mean 0.0.0.0/0?)" },
	{ "10.128.0.0/8", 0, 0, 0,
	  "host bits set in '10.128.0.0/8' (did you mean 10.0.0.0/8?)" },
	{ "2001:db8::1/64", 0, 0, 0,
	  "host bits set in '2001:db8::1/64' (did you mean 2001:db8::/64?)" },
	{ "fec0::/9", 0, 0, 0,
	  "host bits set in 'fec0::/9' (did you mean fe80::/9?)" },
	{ "192.0.2.0/33", 0, 0, 0, "prefix length 33 out of range (0-32)" },
	{ "2001:db8::/129", 0, 0, 0,
	  "prefix length 129 out of range (0-128)" },
	{ "192.0.2.0/99999999999999999999", 0, 0, 0,
	  "prefix length 99999999999999999999 out of range (0-32)" },
	{ "192.0.2.0/", 0, 0, 0, "invalid prefix length ''" },
	{ "192.0.2.0/-1", 0, 0, 0, "invalid prefix length '-1'" },
	{ "192.0.2.0/+8", 0, 0, 0, "invalid prefix length '+8'" },
	{ "192.0.2.0/ 8", 0, 0, 0, "invalid prefix length ' 8'" },
	{ "192.0.2.0/8x", 0, 0, 0, "invalid prefix length '8x'" },
	{ "192.0.2.0/24/24", 0, 0, 0, "invalid prefix length '24/24'" },
	{ "192.0.2", 0, 0, 0, "invalid IPv4 address '192.0.2'" },
	{ "192.0.2.256", 0, 0, 0, "invalid IPv4 address '192.0.2.256'" },
	{ "192.0.2.1 ", 0, 0, 0, "invalid IPv4 address '192.0.2.1 '" },
	{ "host.example", 0, 0, 0, "invalid IPv4 address 'host.example'" },
	{ "2001:db8:::1", 0, 0, 0, "invalid IPv6 address '2001:db8:::1'" },
	{ "2001:db8::g", 0, 0, 0, "invalid IPv6 address '2001:db8::g'" },
	{ "/24", 0, 0, 0, "invalid address '/24'" },
	{ "", 0, 0, 0, "empty address" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", 0, 0, 0,
	  "invalid IPv6 address '1111:2222:3333:4444:5555:6666:7777:8888:9999'" },
	{ "0000:0000:0000:0000:0000:ffff:255.255.255.255.1/96", 0, 0, 0,
	  "invalid address '0000:0000:0000:0000:0000:ffff:255.255.255.255.1/96'" },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr_prefix p;
		char err[160] = "", buf[64];
		int rc;

		memset(&p, 0x5a, sizeof(p));
		rc = addr_prefix_parse(cases[i].in, &p, err, sizeof(err));
		if (cases[i].ok) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].in, err);
			assert_int_equal(p.family, cases[i].family);
			assert_int_equal(p.len, cases[i].len);
			assert_string_equal(
				addr_format(p.family, p.bytes, buf, sizeof(buf)),
				cases[i].canon);
			if (p.family == 4)
				for (int b = 4; b < 16; b++)
					assert_int_equal(p.bytes[b], 0);
		} else {
			if (rc != -1)
				fail_msg("'%s' accepted", cases[i].in);
			if (strcmp(err, cases[i].canon) != 0)
				fail_msg("'%s': message '%s', want '%s'",
					 cases[i].in, err, cases[i].canon);
			assert_int_equal(p.family, 0x5a); /* untouched */
		}
	}
	{
		struct addr_prefix p;
		char err[64];

		assert_int_equal(addr_prefix_parse(NULL, &p, err, sizeof(err)),
				 -1);
	}
}

static void parse_ok(const char *s, struct addr_prefix *p)
{
	char err[160];

	if (addr_prefix_parse(s, p, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
}

/* An address as packet.c stores it. */
static void a4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(out, 0, 16);
	out[0] = a, out[1] = b, out[2] = c, out[3] = d;
}

static void test_contains_v4(void **state)
{
	struct addr_prefix p;
	uint8_t a[16];

	(void)state;
	parse_ok("192.0.2.0/24", &p);
	a4(a, 192, 0, 2, 0);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 192, 0, 2, 255);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 192, 0, 1, 255);
	assert_false(addr_prefix_contains(&p, 4, a));
	a4(a, 192, 0, 3, 0);
	assert_false(addr_prefix_contains(&p, 4, a));
	/* same bytes, other family */
	a4(a, 192, 0, 2, 1);
	assert_false(addr_prefix_contains(&p, 6, a));

	parse_ok("192.0.2.128/25", &p);
	a4(a, 192, 0, 2, 127);
	assert_false(addr_prefix_contains(&p, 4, a));
	a4(a, 192, 0, 2, 128);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 192, 0, 2, 255);
	assert_true(addr_prefix_contains(&p, 4, a));

	parse_ok("10.0.0.0/7", &p);
	a4(a, 11, 255, 255, 255);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 12, 0, 0, 0);
	assert_false(addr_prefix_contains(&p, 4, a));
	a4(a, 9, 255, 255, 255);
	assert_false(addr_prefix_contains(&p, 4, a));

	parse_ok("0.0.0.0/0", &p);
	a4(a, 0, 0, 0, 0);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 255, 255, 255, 255);
	assert_true(addr_prefix_contains(&p, 4, a));
	memset(a, 0, 16);
	assert_false(addr_prefix_contains(&p, 6, a));

	parse_ok("198.51.100.7/32", &p);
	a4(a, 198, 51, 100, 7);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 198, 51, 100, 6);
	assert_false(addr_prefix_contains(&p, 4, a));
	a4(a, 198, 51, 100, 8);
	assert_false(addr_prefix_contains(&p, 4, a));
	/* a bare address is a /32 */
	parse_ok("198.51.100.7", &p);
	a4(a, 198, 51, 100, 7);
	assert_true(addr_prefix_contains(&p, 4, a));
	a4(a, 198, 51, 100, 135);
	assert_false(addr_prefix_contains(&p, 4, a));
}

static void test_contains_v6(void **state)
{
	struct addr_prefix p;
	uint8_t a[16];

	(void)state;
	parse_ok("2001:db8::/32", &p);
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
	assert_true(addr_prefix_contains(&p, 6, a));
	memset(a + 4, 0xff, 12);
	assert_true(addr_prefix_contains(&p, 6, a));
	a[3] = 0xb9;
	assert_false(addr_prefix_contains(&p, 6, a));
	a[3] = 0xb7;
	assert_false(addr_prefix_contains(&p, 6, a));
	/* the IPv4 bytes of 32.1.13.184 are not 2001:db8:: */
	a[3] = 0xb8;
	assert_false(addr_prefix_contains(&p, 4, a));

	parse_ok("fe80::/10", &p);
	memset(a, 0, 16);
	a[0] = 0xfe, a[1] = 0x80;
	assert_true(addr_prefix_contains(&p, 6, a));
	a[1] = 0xbf;
	assert_true(addr_prefix_contains(&p, 6, a));
	a[1] = 0xc0;
	assert_false(addr_prefix_contains(&p, 6, a));
	a[1] = 0x7f;
	assert_false(addr_prefix_contains(&p, 6, a));

	parse_ok("::/0", &p);
	memset(a, 0xff, 16);
	assert_true(addr_prefix_contains(&p, 6, a));
	assert_false(addr_prefix_contains(&p, 4, a));

	parse_ok("::1/128", &p);
	memset(a, 0, 16);
	a[15] = 1;
	assert_true(addr_prefix_contains(&p, 6, a));
	a[15] = 0;
	assert_false(addr_prefix_contains(&p, 6, a));
	a[15] = 1, a[0] = 0x80;
	assert_false(addr_prefix_contains(&p, 6, a));

	parse_ok("2001:db8::8000/113", &p);
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
	a[14] = 0x7f, a[15] = 0xff;
	assert_false(addr_prefix_contains(&p, 6, a));
	a[14] = 0x80, a[15] = 0x00;
	assert_true(addr_prefix_contains(&p, 6, a));
	a[14] = 0xff, a[15] = 0xff;
	assert_true(addr_prefix_contains(&p, 6, a));
}

static void test_every_length(void **state)
{
	(void)state;
	/* for every length, the first address past the prefix is out and
	 * the last inside is in */
	for (unsigned len = 0; len <= 128; len++) {
		struct addr_prefix p;
		char s[64];
		uint8_t a[16];

		snprintf(s, sizeof(s), "::/%u", len);
		parse_ok(s, &p);
		assert_int_equal(p.len, len);
		memset(a, 0, 16);
		if (len < 128) {
			/* set all host bits: still inside */
			for (unsigned bit = len; bit < 128; bit++)
				a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			assert_true(addr_prefix_contains(&p, 6, a));
		}
		if (len > 0) {
			memset(a, 0, 16);
			a[(len - 1) / 8] = (uint8_t)(0x80 >> ((len - 1) % 8));
			assert_false(addr_prefix_contains(&p, 6, a));
		}
	}
	for (unsigned len = 0; len <= 32; len++) {
		struct addr_prefix p;
		char s[64];

		snprintf(s, sizeof(s), "0.0.0.0/%u", len);
		parse_ok(s, &p);
		assert_int_equal(p.len, len);
	}
}

static void test_format(void **state)
{
	uint8_t a[16];
	char buf[46], small[8];

	(void)state;
	a4(a, 203, 0, 113, 9);
	assert_string_equal(addr_format(4, a, buf, sizeof(buf)), "203.0.113.9");
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[15] = 1;
	assert_string_equal(addr_format(6, a, buf, sizeof(buf)), "2001:db8::1");
	memset(a, 0xff, 16);
	assert_string_equal(addr_format(6, a, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* too small: something terminated, never an overflow */
	assert_ptr_equal(addr_format(6, a, small, sizeof(small)), small);
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_contains_v4),
		cmocka_unit_test(test_contains_v6),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
