/*
 * pipeline: one producer thread hands numbered batches to a fixed set of
 * worker threads, each of which sees every batch (a worker picks its own
 * share of the items, e.g. by a hash of the flow), and gets them back in
 * the order it handed them over.  The batches themselves (their items,
 * their storage) are the caller's: the pipeline only says which of its
 * depth batches is free to fill, which is being worked on, and which is
 * done.  Synchronisation costs one mutex round per batch per thread,
 * nothing per item.
 *
 * One producer: every function but the work callback is called from the
 * thread that called pipeline_new.
 */
#ifndef PORTCLASS_REPLAY_PIPELINE_H
#define PORTCLASS_REPLAY_PIPELINE_H

/*
 * Called on worker thread `worker` (0..workers-1) for batch `batch`
 * (0..depth-1), once per worker per submitted batch, in submission order.
 * Workers run concurrently on the same batch: each must write only what
 * is its own.
 */
typedef void (*pipeline_work_fn)(void *ctx, unsigned worker, unsigned batch);

struct pipeline;

/*
 * Starts `workers` threads (1..PIPELINE_MAX_WORKERS) over `depth` batches
 * (>= 1).  NULL with errno set when the threads or memory cannot be had
 * (nothing is left running).
 */
#define PIPELINE_MAX_WORKERS 64
struct pipeline *pipeline_new(unsigned workers, unsigned depth,
			      pipeline_work_fn fn, void *ctx);

/* The batch to fill next.  Free only while pipeline_in_flight() < depth. */
unsigned pipeline_next(const struct pipeline *pl);

/* Batches submitted and not yet released. */
unsigned pipeline_in_flight(const struct pipeline *pl);

/*
 * The batch pipeline_next() named is filled: every worker gets it.
 * Precondition: pipeline_in_flight() < depth.
 */
void pipeline_submit(struct pipeline *pl);

/*
 * The oldest batch in flight, once every worker is done with it: its
 * index, or -1 when none is in flight, or (wait 0) when it is not done
 * yet.  With wait 1 it blocks until it is done.  The caller reads the
 * results, then calls pipeline_release.
 */
int pipeline_oldest(struct pipeline *pl, int wait);

/* The batch pipeline_oldest() returned is consumed and may be refilled. */
void pipeline_release(struct pipeline *pl);

/* Stops the workers (after the batches in flight) and frees.  NULL ok. */
void pipeline_free(struct pipeline *pl);

#endif
