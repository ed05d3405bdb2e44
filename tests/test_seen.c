/*
 * Tests for pcap-replay/seen.c, the set of listeners a capture shows:
 * one entry per key, stable pointers while it grows, sorted listing.
 * The module belongs to the replay program; its source is compiled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seen.h"

static void addr4(uint8_t a[16], uint32_t v)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(v >> 24);
	a[1] = (uint8_t)(v >> 16);
	a[2] = (uint8_t)(v >> 8);
	a[3] = (uint8_t)v;
}

static void test_same_key_same_entry(void **state)
{
	struct seen_set *s = seen_new();
	struct seen_entry *a, *b, *c, *d;
	uint8_t x[16], y[16];

	(void)state;
	assert_non_null(s);
	addr4(x, 0xc000020a);
	addr4(y, 0xc000020b);
	a = seen_get(s, 2, 4, x, 60314);
	assert_non_null(a);
	assert_int_equal(a->answers, 0);
	a->answers = 5;
	b = seen_get(s, 2, 4, x, 60314);
	assert_ptr_equal(a, b);
	assert_int_equal(b->answers, 5);
	/* each part of the key tells entries apart */
	c = seen_get(s, 3, 4, x, 60314);
	d = seen_get(s, 2, 4, y, 60314);
	assert_ptr_not_equal(c, a);
	assert_ptr_not_equal(d, a);
	assert_ptr_not_equal(seen_get(s, 2, 6, x, 60314), a);
	assert_ptr_not_equal(seen_get(s, 2, 4, x, 60315), a);
	assert_int_equal(seen_count(s), 5);
	seen_free(s);
}

static void test_growth_keeps_entries(void **state)
{
	struct seen_set *s = seen_new();
	struct seen_entry *first;
	uint8_t a[16];
	uint32_t i;

	(void)state;
	addr4(a, 1);
	first = seen_get(s, 2, 4, a, 1);
	first->answers = 42;
	/* past several index doublings and storage chunks */
	for (i = 0; i < 5000; i++) {
		addr4(a, i);
		struct seen_entry *e = seen_get(s, 2, 4, a, (uint16_t)(i * 7));

		assert_non_null(e);
		e->expected = i;
	}
	assert_int_equal(first->answers, 42);
	addr4(a, 1);
	assert_ptr_equal(seen_get(s, 2, 4, a, 1), first);
	for (i = 0; i < 5000; i++) {
		addr4(a, i);
		assert_int_equal(seen_get(s, 2, 4, a, (uint16_t)(i * 7))->expected, i);
	}
	assert_int_equal(seen_count(s), 5001);
	seen_free(s);
}

static void test_sorted(void **state)
{
	struct seen_set *s = seen_new();
	struct seen_entry **v;
	uint8_t a[16];
	size_t n, i;

	(void)state;
	v = seen_sorted(s, &n);
	assert_null(v);
	assert_int_equal(n, 0);
	addr4(a, 0x0a000002);
	seen_get(s, 3, 4, a, 60001);	/* udp */
	seen_get(s, 2, 4, a, 60314);	/* tcp */
	addr4(a, 0x0a000001);
	seen_get(s, 2, 4, a, 60314);
	seen_get(s, 2, 4, a, 50000);
	memset(a, 0, 16);
	a[0] = 0x20;
	seen_get(s, 2, 6, a, 1);
	v = seen_sorted(s, &n);
	assert_int_equal(n, 5);
	/* by protocol, family, address, port */
	assert_int_equal(v[0]->port, 50000);
	assert_int_equal(v[1]->port, 60314);
	assert_int_equal(v[1]->addr[3], 1);
	assert_int_equal(v[2]->addr[3], 2);
	assert_int_equal(v[3]->family, 6);
	assert_int_equal(v[4]->proto, 3);
	for (i = 0; i < n; i++)
		assert_non_null(v[i]);
	free(v);
	seen_free(s);
	seen_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_key_same_entry),
		cmocka_unit_test(test_growth_keeps_entries),
		cmocka_unit_test(test_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
