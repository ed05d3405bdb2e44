/*
 * test_pipeline: batches handed to worker threads (pcap-replay/pipeline.c)
 * come back done, every worker having seen every batch once, in the order
 * they were submitted; a batch is never refilled while a worker is on it
 * (each worker checks that the batch it is given carries the sequence
 * number it expects); pipeline_oldest does not hand out a batch a worker
 * is still on; freeing with batches in flight finishes them first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "pipeline.h"

#define DEPTH 3
#define ITEMS 64
#define WORKERS 4

struct batch {
	uint64_t seq;
	unsigned n;
	uint32_t in[ITEMS];
	uint32_t out[ITEMS];	/* item i by worker in[i] % WORKERS */
	unsigned seen[WORKERS];	/* times each worker saw this fill */
};

struct ctx {
	struct batch b[DEPTH];
	uint64_t next_seq[WORKERS]; /* each worker's own: no lock needed */
	int order_bad;
	volatile int hold;	/* worker 0 waits while set */
};

static void work(void *arg, unsigned worker, unsigned bi)
{
	struct ctx *c = arg;
	struct batch *b = &c->b[bi];

	if (b->seq != c->next_seq[worker])
		c->order_bad = 1; /* written once, read after pipeline_free */
	c->next_seq[worker]++;
	while (worker == 0 && __atomic_load_n(&c->hold, __ATOMIC_ACQUIRE))
		usleep(1000);
	b->seen[worker]++;
	for (unsigned i = 0; i < b->n; i++)
		if (b->in[i] % WORKERS == worker)
			b->out[i] = b->in[i] * 3 + 1;
}

static void fill(struct batch *b, uint64_t seq)
{
	b->seq = seq;
	b->n = ITEMS - (unsigned)(seq % 7);
	memset(b->out, 0, sizeof(b->out));
	memset(b->seen, 0, sizeof(b->seen));
	for (unsigned i = 0; i < b->n; i++)
		b->in[i] = (uint32_t)(seq * 1000 + i * 7);
}

static void check_done(const struct batch *b, uint64_t seq)
{
	assert_int_equal(b->seq, seq);
	for (unsigned w = 0; w < WORKERS; w++)
		assert_int_equal(b->seen[w], 1);
	for (unsigned i = 0; i < b->n; i++)
		assert_int_equal(b->out[i], b->in[i] * 3 + 1);
}

/* Many batches through a shallow ring: results complete, in order. */
static void test_in_order(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pipeline *pl;
	uint64_t sent = 0, got = 0;
	int bi;

	(void)state;
	assert_non_null(c);
	pl = pipeline_new(WORKERS, DEPTH, work, c);
	assert_non_null(pl);
	while (got < 1000) {
		if (sent < 1000 && pipeline_in_flight(pl) < DEPTH) {
			fill(&c->b[pipeline_next(pl)], sent++);
			pipeline_submit(pl);
			continue;
		}
		bi = pipeline_oldest(pl, 1);
		assert_true(bi >= 0);
		assert_int_equal((unsigned)bi, got % DEPTH);
		check_done(&c->b[bi], got);
		pipeline_release(pl);
		got++;
	}
	assert_int_equal(pipeline_in_flight(pl), 0);
	assert_int_equal(pipeline_oldest(pl, 1), -1);
	pipeline_free(pl);
	assert_int_equal(c->order_bad, 0);
	free(c);
}

/* A batch one worker is still on is not handed back. */
static void test_not_before_done(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pipeline *pl;

	(void)state;
	assert_non_null(c);
	c->hold = 1;
	pl = pipeline_new(WORKERS, DEPTH, work, c);
	assert_non_null(pl);
	fill(&c->b[pipeline_next(pl)], 0);
	pipeline_submit(pl);
	usleep(20000);
	assert_int_equal(pipeline_oldest(pl, 0), -1);
	assert_int_equal(pipeline_in_flight(pl), 1);
	__atomic_store_n(&c->hold, 0, __ATOMIC_RELEASE);
	assert_int_equal(pipeline_oldest(pl, 1), 0);
	check_done(&c->b[0], 0);
	pipeline_release(pl);
	assert_int_equal(pipeline_next(pl), 1);
	pipeline_free(pl);
	free(c);
}

/* Freed with batches in flight: the workers finish them, then stop. */
static void test_free_in_flight(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pipeline *pl;

	(void)state;
	assert_non_null(c);
	pl = pipeline_new(WORKERS, DEPTH, work, c);
	assert_non_null(pl);
	for (uint64_t s = 0; s < DEPTH; s++) {
		fill(&c->b[pipeline_next(pl)], s);
		pipeline_submit(pl);
	}
	pipeline_free(pl);
	for (uint64_t s = 0; s < DEPTH; s++)
		check_done(&c->b[s], s);
	free(c);
}

static void test_bad_args(void **state)
{
	struct ctx c;

	(void)state;
	assert_null(pipeline_new(0, DEPTH, work, &c));
	assert_null(pipeline_new(PIPELINE_MAX_WORKERS + 1, DEPTH, work, &c));
	assert_null(pipeline_new(1, 0, work, &c));
	assert_null(pipeline_new(1, 1, NULL, &c));
	pipeline_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_not_before_done),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
