/*
 * test_clock: the daemon's clocks (nfq/clock.c): real time agrees with
 * time(2), monotonic time never goes back and counts nanoseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void test_clocks(void **state)
{
	uint64_t r = clock_real_ns(), m1, m2;
	time_t t = time(NULL);
	struct timespec ms = { 0, 20 * 1000000 };

	(void)state;
	assert_true(r / 1000000000u + 1 >= (uint64_t)t);
	assert_true(r / 1000000000u <= (uint64_t)t + 1);
	m1 = clock_mono_ns();
	nanosleep(&ms, NULL);
	m2 = clock_mono_ns();
	assert_true(m2 >= m1 + 20 * 1000000u);
	assert_true(m2 < m1 + 5ull * 1000000000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
