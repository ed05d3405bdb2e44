/*
 * stats: the daemon's counters and their Prometheus text exposition (for
 * node_exporter's textfile collector), written atomically: a temporary file
 * in the same directory, then rename(2), so a scrape never sees half a file.
 */
#ifndef PORTCLASS_STATS_H
#define PORTCLASS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "class.h"
#include "jsonw.h"
#include "queue.h"
#include "ruleset.h"

/* Increment from the single thread that owns the counters; other threads
 * read them with stats_load.  Relaxed atomics: no lock, no torn values. */
#define STATS_INC(x) __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED)
#define stats_load(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

enum stats_listener { STATS_PROBE = 0, STATS_ROGUE, STATS_UNKNOWN, STATS_LISTENER_COUNT };

/* One queue thread's counters. */
struct stats_counters {
	uint64_t packets[CLASS_COUNT][CLASS_COUNT][VERDICT_COUNT];
	uint64_t alerts[STATS_LISTENER_COUNT];
	uint64_t invalid;	   /* truncated or malformed packets */
	uint64_t refreshes;	   /* listener table reloads from sock_diag */
	uint64_t refresh_errors;
	uint64_t mark_loops;	   /* a rejected packet came back (ruleset
				    * does not skip the reject mark) */
};

/* Kernel view of a queue, from /proc/net/netfilter/nfnetlink_queue. */
struct stats_kernel {
	int valid;
	uint64_t queued;	   /* waiting for a verdict now */
	uint64_t queue_dropped;	   /* queue full (fail-closed) */
	uint64_t user_dropped;	   /* netlink delivery failed (ENOBUFS) */
	uint64_t id_sequence;	   /* packets ever queued */
};

struct stats_queue {
	uint16_t num;
	struct stats_counters c;
	struct queue_stats q;
	struct stats_kernel k;
};

struct stats_global {
	uint64_t reloads_ok, reloads_failed;
	uint64_t log_written, log_suppressed;
	int monitor;
	uint64_t start_time;	   /* seconds since the epoch */
};

/* Copies a live counter block with relaxed loads. */
void stats_copy(struct stats_counters *dst, const struct stats_counters *src);

/*
 * Opens <procroot>/net/netfilter/nfnetlink_queue (procroot normally
 * "/proc").  Done once while still root: the file is mode 0440 and, once
 * the process has changed uid, /proc/self/net is no longer ours to open.
 * Returns the descriptor or -1.
 */
int stats_kernel_open(const char *procroot);

/* Reads one queue's line through that descriptor (re-read from offset 0
 * each time).  Returns 0 and sets out->valid, or -1 when the queue is not
 * listed or fd is -1. */
int stats_read_kernel(int fd, uint16_t num, struct stats_kernel *out);

/*
 * Writes the exposition to path atomically (path.tmp, then rename).
 * Returns 0, or -1 with errno (nothing is left half-written).
 */
int stats_write_file(const char *path, const struct stats_global *g,
		     const struct stats_queue *qs, size_t nq);

/*
 * After stats_write_file failed: removes path so that no scraper reads old
 * values as current, or when the directory refuses, overwrites the file in
 * place with the single gauge portclass_stats_stale 1.  Returns 0 when one
 * of the two worked (or there was no file), -1 with errno otherwise.
 */
int stats_mark_stale(const char *path);

/* The same totals as members of a JSON object (the SIGUSR1 log line). */
void stats_write_json(struct jsonw *w, const struct stats_global *g,
		      const struct stats_queue *qs, size_t nq);

#endif
