/*
 * test_class: IANA port classes at every boundary, and each OS profile's
 * ephemeral range at its edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "class.h"
#include "range.h"

static void test_class_boundaries(void **state)
{
	static const struct {
		uint16_t port;
		enum port_class c;
	} cases[] = {
		{ 0, CLASS_SYSTEM },	 { 1, CLASS_SYSTEM },
		{ 80, CLASS_SYSTEM },	 { 1023, CLASS_SYSTEM },
		{ 1024, CLASS_USER },	 { 1025, CLASS_USER },
		{ 8080, CLASS_USER },	 { 49151, CLASS_USER },
		{ 49152, CLASS_DYNAMIC }, { 49153, CLASS_DYNAMIC },
		{ 60314, CLASS_DYNAMIC }, { 65534, CLASS_DYNAMIC },
		{ 65535, CLASS_DYNAMIC },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (class_of(cases[i].port) != cases[i].c)
			fail_msg("port %u: %s, want %s", cases[i].port,
				 class_name(class_of(cases[i].port)),
				 class_name(cases[i].c));
}

static void test_class_every_port(void **state)
{
	unsigned count[CLASS_COUNT] = { 0 };

	(void)state;
	for (uint32_t port = 0; port <= 65535; port++)
		count[class_of((uint16_t)port)]++;
	assert_int_equal(count[CLASS_NONE], 0);
	assert_int_equal(count[CLASS_SYSTEM], 1024);
	assert_int_equal(count[CLASS_USER], 49152 - 1024);
	assert_int_equal(count[CLASS_DYNAMIC], 65536 - 49152);
}

static void test_class_names(void **state)
{
	(void)state;
	assert_string_equal(class_name(CLASS_NONE), "none");
	assert_string_equal(class_name(CLASS_SYSTEM), "system");
	assert_string_equal(class_name(CLASS_USER), "user");
	assert_string_equal(class_name(CLASS_DYNAMIC), "dynamic");
	assert_non_null(class_name((enum port_class)99));
	assert_non_null(class_name((enum port_class)-1));

	for (int c = CLASS_SYSTEM; c < CLASS_COUNT; c++)
		assert_int_equal(class_lookup(class_name((enum port_class)c)),
				 c);
	assert_int_equal(class_lookup("none"), -1);
	assert_int_equal(class_lookup("System"), -1);
	assert_int_equal(class_lookup("dyn"), -1);
	assert_int_equal(class_lookup("dynamics"), -1);
	assert_int_equal(class_lookup(""), -1);
	assert_int_equal(class_lookup(NULL), -1);
}

static void test_profiles(void **state)
{
	static const struct {
		const char *name;
		uint16_t lo, hi;
	} want[] = {
		{ "iana", 49152, 65535 },    { "linux", 32768, 60999 },
		{ "windows", 49152, 65535 }, { "freebsd", 10000, 65535 },
		{ "macos", 49152, 65535 },   { "solaris", 32768, 65535 },
	};
	const struct range_profile *prof;
	size_t n = 0;

	(void)state;
	prof = range_profiles(&n);
	assert_non_null(prof);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		struct port_range r = { 1, 0 };

		assert_string_equal(prof[i].name, want[i].name);
		assert_non_null(prof[i].description);
		assert_int_equal(prof[i].range.lo, want[i].lo);
		assert_int_equal(prof[i].range.hi, want[i].hi);
		assert_int_equal(range_profile_lookup(want[i].name, &r), 0);
		assert_int_equal(r.lo, want[i].lo);
		assert_int_equal(r.hi, want[i].hi);
	}
	assert_int_equal(range_profile_lookup("host", &(struct port_range){ 0 }),
			 -1);
	assert_int_equal(range_profile_lookup("Linux", &(struct port_range){ 0 }),
			 -1);
	assert_int_equal(range_profile_lookup("", &(struct port_range){ 0 }),
			 -1);
	assert_int_equal(range_profile_lookup(NULL, &(struct port_range){ 0 }),
			 -1);
}

static void test_profile_edges(void **state)
{
	const struct range_profile *prof;
	size_t n;

	(void)state;
	prof = range_profiles(&n);
	for (size_t i = 0; i < n; i++) {
		const struct port_range *r = &prof[i].range;

		assert_true(r->lo <= r->hi);
		assert_true(r->lo > 0); /* every profile starts above 0 */
		assert_false(range_contains(r, (uint16_t)(r->lo - 1)));
		assert_true(range_contains(r, r->lo));
		assert_true(range_contains(r, (uint16_t)(r->lo + 1)));
		assert_true(range_contains(r, (uint16_t)(r->hi - 1)));
		assert_true(range_contains(r, r->hi));
		if (r->hi < 65535)
			assert_false(range_contains(r, (uint16_t)(r->hi + 1)));
		assert_false(range_contains(r, 0));
	}
	/* the two edges that are not 65535 */
	{
		struct port_range linux_r;

		assert_int_equal(range_profile_lookup("linux", &linux_r), 0);
		assert_true(range_contains(&linux_r, 60999));
		assert_false(range_contains(&linux_r, 61000));
		assert_false(range_contains(&linux_r, 32767));
		/* a Linux ephemeral port can be "user" class */
		assert_int_equal(class_of(32768), CLASS_USER);
		assert_int_equal(class_of(60999), CLASS_DYNAMIC);
	}
}

static void test_range_contains_single(void **state)
{
	struct port_range r = { 0, 0 }, all = { 0, 65535 };

	(void)state;
	assert_true(range_contains(&r, 0));
	assert_false(range_contains(&r, 1));
	assert_true(range_contains(&all, 0));
	assert_true(range_contains(&all, 65535));
	r.lo = r.hi = 65535;
	assert_true(range_contains(&r, 65535));
	assert_false(range_contains(&r, 65534));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_boundaries),
		cmocka_unit_test(test_class_every_port),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_profile_edges),
		cmocka_unit_test(test_range_contains_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
