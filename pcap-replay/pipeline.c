/*
 * pipeline: see pipeline.h.  One mutex and two condition variables for
 * the whole pipeline: with batches of hundreds of items, a lock per batch
 * is noise next to the work, and the invariants stay easy to check.
 *
 * Counters are sequence numbers, never wrapped: batch k (k-th submitted)
 * lives in slot k % depth.  Worker w's own counter says which batch it
 * works on next; the producer refills slot k % depth only after
 * releasing batch k, which needs every worker done with it, so a worker
 * never sees a slot refilled under it.
 */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct pipeline_worker {
	struct pipeline *pl;
	unsigned id;
	pthread_t th;
};

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;	/* a batch was submitted, or stop */
	pthread_cond_t done_cv;	/* a batch's last worker finished */
	unsigned workers, depth;
	uint64_t submitted;	/* under mu */
	uint64_t released;	/* the producer's alone */
	unsigned *left;		/* per slot: workers not done with it */
	int stop;
	pipeline_work_fn fn;
	void *ctx;
	unsigned started;
	struct pipeline_worker *w;
};

static void *worker_main(void *arg)
{
	struct pipeline_worker *w = arg;
	struct pipeline *pl = w->pl;
	uint64_t seq = 0;

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (seq >= pl->submitted && !pl->stop)
			pthread_cond_wait(&pl->work_cv, &pl->mu);
		if (seq >= pl->submitted)
			break; /* stopped, nothing left */
		pthread_mutex_unlock(&pl->mu);
		pl->fn(pl->ctx, w->id, (unsigned)(seq % pl->depth));
		pthread_mutex_lock(&pl->mu);
		if (--pl->left[seq % pl->depth] == 0)
			pthread_cond_signal(&pl->done_cv);
		seq++;
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

struct pipeline *pipeline_new(unsigned workers, unsigned depth,
			      pipeline_work_fn fn, void *ctx)
{
	struct pipeline *pl;
	int err;

	if (workers < 1 || workers > PIPELINE_MAX_WORKERS || depth < 1 ||
	    !fn) {
		errno = EINVAL;
		return NULL;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->left = calloc(depth, sizeof(*pl->left));
	pl->w = calloc(workers, sizeof(*pl->w));
	if (!pl->left || !pl->w) {
		free(pl->left);
		free(pl->w);
		free(pl);
		errno = ENOMEM;
		return NULL;
	}
	pl->workers = workers;
	pl->depth = depth;
	pl->fn = fn;
	pl->ctx = ctx;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work_cv, NULL);
	pthread_cond_init(&pl->done_cv, NULL);
	for (unsigned i = 0; i < workers; i++) {
		pl->w[i].pl = pl;
		pl->w[i].id = i;
		err = pthread_create(&pl->w[i].th, NULL, worker_main, &pl->w[i]);
		if (err) {
			pipeline_free(pl);
			errno = err;
			return NULL;
		}
		pl->started++;
	}
	return pl;
}

unsigned pipeline_next(const struct pipeline *pl)
{
	return (unsigned)((pl->released + pipeline_in_flight(pl)) % pl->depth);
}

unsigned pipeline_in_flight(const struct pipeline *pl)
{
	/* submitted changes only in the producer's own calls */
	return (unsigned)(pl->submitted - pl->released);
}

void pipeline_submit(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->mu);
	pl->left[pl->submitted % pl->depth] = pl->workers;
	pl->submitted++;
	pthread_cond_broadcast(&pl->work_cv);
	pthread_mutex_unlock(&pl->mu);
}

int pipeline_oldest(struct pipeline *pl, int wait)
{
	unsigned slot = (unsigned)(pl->released % pl->depth);
	int ret;

	if (pipeline_in_flight(pl) == 0)
		return -1;
	pthread_mutex_lock(&pl->mu);
	while (wait && pl->left[slot])
		pthread_cond_wait(&pl->done_cv, &pl->mu);
	ret = pl->left[slot] ? -1 : (int)slot;
	pthread_mutex_unlock(&pl->mu);
	return ret;
}

void pipeline_release(struct pipeline *pl)
{
	pl->released++;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->work_cv);
	pthread_mutex_unlock(&pl->mu);
	for (unsigned i = 0; i < pl->started; i++)
		pthread_join(pl->w[i].th, NULL);
	pthread_cond_destroy(&pl->done_cv);
	pthread_cond_destroy(&pl->work_cv);
	pthread_mutex_destroy(&pl->mu);
	free(pl->left);
	free(pl->w);
	free(pl);
}
