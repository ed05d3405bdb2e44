/*
 * replay: reads captures frame by frame and runs each through the engine
 * exactly as the daemon would be given it: link layer stripped, IP
 * fragments reassembled (reasm), conntrack's state (flow_conntrack), the
 * queue selector (queuesel), then decision_make for the packets the
 * firewall would queue; the others get what the kernel does with them.
 * Feeds the report and the --write-* files.  Several files share one flow
 * table, so they are one stream of time.
 *
 * With jobs > 1 the work is a pipeline: this thread reads, parses and
 * reassembles; the deciding threads run conntrack's view, the queue
 * selector and decision_make, each on the flows whose key hashes to it
 * (both directions of a flow alike); this thread then counts, prints and
 * writes every frame in capture order.  Only per-flow state is sharded,
 * so the output is the same as with one thread as long as no shard
 * evicts (see replay_opts.jobs).
 */
#ifndef PORTCLASS_REPLAY_REPLAY_H
#define PORTCLASS_REPLAY_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include "flow.h"
#include "listener.h"
#include "portset.h"
#include "queuesel.h"
#include "reasm.h"
#include "report.h"
#include "ruleset.h"

struct replay_opts {
	const struct ruleset *rs;
	const struct ruleset *rs2;	   /* --compare, or NULL */
	struct listener_table *listeners;  /* --listeners, or NULL */
	struct flow_opts flow;		   /* flow.tcp_strict: --tcp-loose 0 */
	const struct queuesel *sel;	   /* --queue: the kernel model in
					    * front of the daemon (NULL: the
					    * bundled selector); all packets
					    * (queuesel_all): the engine's own
					    * flow tracking, as before */
	struct reasm_opts reasm;
	const char *filter;		   /* -f, or NULL */
	const char *write_passed;	   /* or NULL */
	const char *write_dropped;	   /* or NULL */
	int jsonl;			   /* --format jsonl */
	int events_packets;		   /* --events packets */
	int progress;			   /* draw a progress line on stderr */
	int no_mmap;			   /* read classic pcap files through
					    * libpcap only (see mapread.h) */
	size_t mmap_window;		   /* bytes mapped at a time; 0 default */
	unsigned jobs;			   /* deciding threads (-j): 0 or 1,
					    * this thread alone; N > 1 (at
					    * most REPLAY_MAX_JOBS): this
					    * thread reads and reports, N
					    * threads decide, each with its
					    * own flow table for the flows
					    * whose key hashes to it, bounded
					    * at flow.max_flows / N */
	struct report *rep;
	FILE *out;			   /* stdout */
	const struct portset *track;	   /* NULL: every flow is tracked;
					    * else only those portset_flow
					    * keeps (an output of alerts
					    * only: the others cannot show) */
};

#define REPLAY_MAX_JOBS 64

struct replay;

/* NULL with a message in err. */
struct replay *replay_new(const struct replay_opts *o, char *err,
			  size_t errlen);

/*
 * Replays one capture ("-" is standard input).  Problems (cannot open,
 * unsupported link type, read error part way) are printed on stderr,
 * recorded in the report, and make it return -1; the frames read before a
 * read error still count.
 */
int replay_file(struct replay *r, const char *path);

/* Flow statistics of the main policy's table (with jobs > 1, the sum of
 * the shards'). */
void replay_flow_stats(const struct replay *r, struct flow_stats *out);

/* Reassembly statistics. */
void replay_reasm_stats(const struct replay *r, struct reasm_stats *out);

/*
 * Closes the --write-* files.  Returns 0, or -1 (message on stderr) when
 * writing failed or some packets could not be written.
 */
int replay_finish(struct replay *r);

void replay_free(struct replay *r);

#endif
