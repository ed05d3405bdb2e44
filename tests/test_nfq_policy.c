/*
 * test_nfq_policy: the ruleset swap the daemon's reload relies on
 * (nfq/policy.c): generations, references keeping an old ruleset alive
 * until released, and readers racing a writer (run it under the
 * sanitizers: a use after free or a leak fails the build-san run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

static struct ruleset *rules(unsigned nexpect)
{
	char text[4096];
	size_t off = 0;
	unsigned i;
	int nerr = 0;
	struct ruleset *rs;

	off += (size_t)snprintf(text + off, sizeof(text) - off,
				"unexpected reject\ndefault pass\n");
	for (i = 0; i < nexpect && off < sizeof(text) - 64; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"expect tcp port %u\n", 50000 + i);
	rs = ruleset_parse_string("test.rules", text, NULL, &nerr);
	assert_non_null(rs);
	assert_int_equal(nerr, 0);
	return rs;
}

static void test_swap_and_release(void **state)
{
	struct policy_ref *a, *b;
	uint64_t ga, gb;

	assert_int_equal(policy_init(rules(1)), 0);
	a = policy_acquire(&ga);
	assert_non_null(a);
	assert_int_equal(ga, policy_generation());
	assert_int_equal(ruleset_expect_count(policy_ruleset(a)), 1);

	assert_int_equal(policy_swap(rules(2)), 0);
	assert_true(policy_generation() > ga);
	/* The old ruleset is still usable through the old reference. */
	assert_int_equal(ruleset_expect_count(policy_ruleset(a)), 1);
	b = policy_acquire(&gb);
	assert_int_equal(gb, policy_generation());
	assert_int_equal(ruleset_expect_count(policy_ruleset(b)), 2);
	policy_release(a); /* frees the first ruleset */
	assert_int_equal(ruleset_expect_count(policy_ruleset(b)), 2);
	policy_shutdown(); /* b keeps the second alive */
	assert_int_equal(ruleset_expect_count(policy_ruleset(b)), 2);
	policy_release(b);
	policy_release(NULL);
}

static volatile int stop_readers;

static void *reader(void *arg)
{
	uint64_t gen = 0, seen = 0;
	struct policy_ref *r = policy_acquire(&gen);
	unsigned long *swaps_seen = arg;

	while (!__atomic_load_n(&stop_readers, __ATOMIC_ACQUIRE)) {
		size_t n = ruleset_expect_count(policy_ruleset(r));

		/* Each ruleset has between 1 and 8 expect rules. */
		assert_true(n >= 1 && n <= 8);
		if (policy_generation() != gen) {
			struct policy_ref *old = r;

			r = policy_acquire(&gen);
			policy_release(old);
			seen++;
		}
	}
	policy_release(r);
	*swaps_seen = seen;
	return NULL;
}

static void test_readers_race_writer(void **state)
{
	pthread_t t[4];
	unsigned long seen[4];
	int i;

	stop_readers = 0;
	assert_int_equal(policy_init(rules(1)), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &seen[i]), 0);
	for (i = 0; i < 300; i++)
		assert_int_equal(policy_swap(rules(1 + (unsigned)i % 8)), 0);
	__atomic_store_n(&stop_readers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(seen[i] >= 1);
	}
	policy_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_and_release),
		cmocka_unit_test(test_readers_race_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
