/*
 * worker: one thread per queue.  Receives packets, asks the engine for a
 * decision, gives the verdict, logs alerts and drops with the listener's
 * owner, and keeps its own counters and its own flow and listener tables
 * (so the packet path takes no lock).  Owners come from the resolver
 * process (resolver.h), asked without blocking: a log line waits for its
 * owner at most a quarter of a second, a verdict never.  The thread
 * forbids itself file opens (sandbox_restrict_thread) before its first
 * packet.
 */
#ifndef PORTCLASS_WORKER_H
#define PORTCLASS_WORKER_H

#include <stdint.h>

#include "flow.h"
#include "queue.h"
#include "stats.h"

struct worker_config {
	int monitor;		  /* accept everything, log what would be dropped */
	uint32_t reject_mark;	  /* mark set with NF_REPEAT for `reject` */
	uint32_t refresh_min_ms;  /* minimum time between listener refreshes
				   * triggered by a cache miss */
	uint32_t listener_max_age_ms; /* refresh an older table on any
				   * connection attempt to a guarded port */
	int assume_new;		  /* no conntrack state from the kernel: treat
				   * every queued packet as NEW (the firewall
				   * queues only ctstate NEW) */
	const char *procroot;	  /* unused: owners come from the resolver */
	int seccomp;		  /* each thread forbids itself file opens */
	int eve;		  /* event lines as Suricata EVE alerts */
	struct flow_opts flow;
};

struct worker;

/* Takes ownership of q.  NULL with errno on failure. */
struct worker *worker_new(struct queue *q, const struct worker_config *c);

/*
 * The thread's channel to the owner resolver (resolver.h; not owned), set
 * before worker_start.  Without one every owner is unknown.  Returns 0 or
 * -1 ENOMEM.
 */
int worker_set_resolver(struct worker *w, int fd);

/* 1 once the thread has its first listener table and the owners it asked
 * for then are answered (or a second has passed). */
int worker_primed(const struct worker *w);

/* Starts the thread; it stops when stop_fd becomes readable.  Returns 0 or
 * an error number. */
int worker_start(struct worker *w, int stop_fd);
void worker_join(struct worker *w);

/* Closes the queue (unbinding it) after join; the counters and the
 * queue's last statistics stay readable.  Idempotent. */
void worker_unbind(struct worker *w);

/* Unbinds the queue if still bound and frees everything; after join. */
void worker_free(struct worker *w);

/* 1 once the thread has given up (its socket failed): the daemon should
 * exit so that the service manager restarts it. */
int worker_failed(const struct worker *w);

uint16_t worker_queue_num(const struct worker *w);
/* The live counters (read them with stats_copy) and the queue's. */
const struct stats_counters *worker_counters(const struct worker *w);
void worker_queue_stats(const struct worker *w, struct queue_stats *out);

#endif
