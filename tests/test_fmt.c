/*
 * test_fmt: host/fmt.c against libc - every writer compared with what
 * snprintf, inet_ntop and gmtime/strftime write for the same value, at
 * the boundaries and on random values - and that none writes past the
 * end it returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <inttypes.h>

#include <cmocka.h>

#include "fmt.h"

/* Output goes into a buffer filled with a guard byte: the text must end
 * exactly where the writer says and nothing after it may be touched. */
#define GUARD 0x5a

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from one seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void check_text(const char *buf, const char *end, size_t max,
		       const char *want)
{
	size_t n = (size_t)(end - buf);

	assert_true(n <= max);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	for (size_t i = n; i < max + 8; i++)
		assert_int_equal((unsigned char)buf[i], GUARD);
}

static void one_u64(uint64_t v)
{
	char buf[FMT_U64_MAX + 8], want[32];

	memset(buf, GUARD, sizeof(buf));
	snprintf(want, sizeof(want), "%" PRIu64, v);
	check_text(buf, fmt_u64(buf, v), FMT_U64_MAX, want);
}

static void test_u64(void **state)
{
	uint64_t p = 1;

	(void)state;
	one_u64(0);
	one_u64(9);
	one_u64(10);
	one_u64(99);
	one_u64(100);
	one_u64(UINT64_MAX);
	one_u64(UINT64_MAX - 1);
	/* every power of ten and its neighbours: where the digit count
	 * changes */
	for (int i = 0; i < 20; i++, p *= 10) {
		one_u64(p - 1);
		one_u64(p);
		one_u64(p + 1);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rnd();

		one_u64(v >> (rnd() % 64)); /* every magnitude */
	}
}

static void one_ipv4(const uint8_t a[4])
{
	char buf[FMT_IPV4_MAX + 8], want[INET_ADDRSTRLEN];

	memset(buf, GUARD, sizeof(buf));
	assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
	check_text(buf, fmt_ipv4(buf, a), FMT_IPV4_MAX, want);
}

static void test_ipv4(void **state)
{
	uint8_t a[4];

	(void)state;
	/* every octet value in every position */
	for (int pos = 0; pos < 4; pos++)
		for (int v = 0; v < 256; v++) {
			memset(a, pos == 0 ? 1 : 0, sizeof(a));
			a[pos] = (uint8_t)v;
			one_ipv4(a);
		}
	memset(a, 255, sizeof(a));
	one_ipv4(a);
	for (int i = 0; i < 100000; i++) {
		uint32_t v = (uint32_t)rnd();

		memcpy(a, &v, 4);
		one_ipv4(a);
	}
}

static void one_ipv6(const uint8_t a[16])
{
	char buf[FMT_IPV6_MAX + 8], want[INET6_ADDRSTRLEN];

	memset(buf, GUARD, sizeof(buf));
	assert_non_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
	check_text(buf, fmt_ipv6(buf, a), FMT_IPV6_MAX, want);
}

/* An address whose groups are zero where mask has a bit, else random
 * (small or large, to vary the hex digit count). */
static void ipv6_masked(uint8_t a[16], unsigned mask)
{
	for (int g = 0; g < 8; g++) {
		uint16_t v = 0;

		if (!(mask & (1u << g))) {
			v = (uint16_t)rnd();
			v >>= rnd() % 16;
			if (!v)
				v = 1;
		}
		a[2 * g] = (uint8_t)(v >> 8);
		a[2 * g + 1] = (uint8_t)v;
	}
}

static void test_ipv6(void **state)
{
	static const char *const fixed[] = {
		"::", "::1", "1::", "1::1", "::ffff:0:0", "::ffff:1.2.3.4",
		"::ffff:0.0.0.0", "::1.2.3.4", "::0.0.1.0", "::0.1.0.0",
		"::ffff:ffff:ffff", "64:ff9b::192.0.2.33", "2001:db8::",
		"2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1", "fe80::1:0:0:0",
		"0:0:1::", "1:0:0:2:0:0:3:4", "1:2:3:4:5:6:7:8",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::fffe:1.2.3.4",
		"0:0:0:0:1:ffff:1.2.3.4", "::ffff:1:2", "1:0:0:0:0:ffff:1.2.3.4",
	};
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, fixed[i], a), 1);
		one_ipv6(a);
	}
	/* every pattern of zero groups, several times: where "::" goes,
	 * ties between runs, the dotted forms */
	for (int round = 0; round < 40; round++)
		for (unsigned mask = 0; mask < 256; mask++) {
			ipv6_masked(a, mask);
			one_ipv6(a);
			/* the IPv4-mapped and -compatible shapes */
			if ((mask & 0x1f) == 0x1f) {
				a[10] = a[11] = 0xff;
				one_ipv6(a);
				a[10] = 0;
				one_ipv6(a);
			}
		}
	for (int i = 0; i < 100000; i++) {
		for (int j = 0; j < 16; j++)
			a[j] = (uint8_t)rnd();
		one_ipv6(a);
	}
}

static void one_ts(struct fmt_ts *c, uint64_t ns)
{
	char buf[FMT_TS_LEN + 8], want[64], day[40];
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	memset(buf, GUARD, sizeof(buf));
	assert_non_null(gmtime_r(&t, &tm));
	assert_int_not_equal(strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S",
				      &tm), 0);
	snprintf(want, sizeof(want), "%s.%06uZ", day,
		 (unsigned)(ns % 1000000000u / 1000u));
	check_text(buf, fmt_ts(c, buf, ns), FMT_TS_LEN, want);
}

static uint64_t ts_of(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (uint64_t)timegm(&tm) * 1000000000u;
}

static void test_ts(void **state)
{
	/* the last second before each boundary: the next ones cross a
	 * minute, hour, day, month, year, leap day, century rules */
	static const int edges[][6] = {
		{ 1970, 1, 1, 0, 0, 0 },     { 1999, 12, 31, 23, 59, 59 },
		{ 2000, 2, 28, 23, 59, 59 }, { 2000, 2, 29, 23, 59, 59 },
		{ 2024, 2, 28, 23, 59, 59 }, { 2025, 2, 28, 23, 59, 59 },
		{ 2026, 11, 27, 12, 59, 59 }, { 2026, 12, 31, 23, 59, 59 },
		{ 2038, 1, 19, 3, 14, 7 },   { 2100, 2, 28, 23, 59, 59 },
		{ 2400, 2, 28, 23, 59, 59 }, { 2554, 7, 21, 23, 34, 30 },
	};
	struct fmt_ts c;

	(void)state;
	fmt_ts_init(&c);
	one_ts(&c, 0);
	one_ts(&c, 999999999);
	one_ts(&c, 1000);
	one_ts(&c, 999);
	one_ts(&c, UINT64_MAX);
	one_ts(&c, UINT64_MAX - 1000000000u);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint64_t t = ts_of(edges[i][0], edges[i][1], edges[i][2],
				   edges[i][3], edges[i][4], edges[i][5]);

		/* second by second through the boundary, with one cache:
		 * the incremental path and the recomputed one */
		for (int s = -12; s < 12; s++) {
			if (s < 0 && t < (uint64_t)-s * 1000000000u)
				continue;
			one_ts(&c, t + (uint64_t)((int64_t)s * 1000000000));
			one_ts(&c, t + (uint64_t)((int64_t)s * 1000000000) +
					   999999999u);
		}
		/* and backwards in time, as captures merged out of order */
		one_ts(&c, t + 1000000000u);
		one_ts(&c, t);
		one_ts(&c, t + 1000000000u);
	}
	/* random instants, and random runs of consecutive seconds */
	for (int i = 0; i < 20000; i++) {
		uint64_t t = rnd() % (UINT64_MAX - 100000000000ull);

		one_ts(&c, t);
		for (int s = 0; s < 12; s++)
			one_ts(&c, t + (uint64_t)s * 1000000000u + rnd() % 1000000000u);
	}
	/* every day over 1970-2600: each date's calendar arithmetic */
	for (uint64_t d = 0; d < 230000; d++)
		one_ts(&c, d * 86400ull * 1000000000ull + 43200ull * 1000000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
