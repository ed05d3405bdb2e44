/*
 * report: what a replay found - counters, alerts, policy differences,
 * listeners seen, input problems - and its two output forms: the human
 * summary and the jsonl stream (per-event lines plus the closing summary
 * object).  The replay loop bumps the counters directly (struct
 * report_counts is a plain value on the hot path); everything else goes
 * through the functions below.
 */
#ifndef PORTCLASS_REPLAY_REPORT_H
#define PORTCLASS_REPLAY_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "class.h"
#include "decision.h"
#include "flow.h"
#include "jsonw.h"
#include "listener.h"
#include "packet.h"
#include "queuesel.h"
#include "range.h"
#include "reasm.h"
#include "ruleset.h"
#include "seen.h"

struct report_counts {
	uint64_t frames;	/* frames read (after -f) */
	uint64_t bytes;		/* their original lengths */
	uint64_t filtered;	/* frames -f left out */
	uint64_t proto_pkts[PROTO_COUNT];
	uint64_t proto_bytes[PROTO_COUNT];
	uint64_t matrix[CLASS_COUNT][CLASS_COUNT]; /* [sclass][dclass], IP only */
	uint64_t verdicts[VERDICT_COUNT];
	uint64_t reasons[REASON_COUNT];
	uint64_t bad[PR_COUNT];	/* truncated/malformed IP, by reason */
	uint64_t trunc_link;	/* link header not captured */
	uint64_t logged;	/* packets whose decision says log */
	uint64_t attempts;	/* connection attempts, retransmits included */
	uint64_t retransmits;	/* repeated attempts (folded) */
	uint64_t alerts;	/* attempts alerted (unexpected/undetermined/log) */
	uint64_t undetermined;	/* attempts whose expect needed an owner */
	uint64_t diffs;		/* --compare: attempts whose verdict differs */
	uint64_t diff_packets;	/* --compare: packets whose verdict differs */
	/* the kernel model (not with --queue all) */
	uint64_t ct[4];		/* by conntrack state (enum flow_ct) */
	uint64_t queue[QS_COUNT]; /* by what the firewall does with them */
	uint64_t undecided;	/* packets the capture cannot decide */
	uint64_t blocked;	/* dropped or rejected by the policy (the
				 * daemon's verdict, not the firewall's) */
	uint64_t frag_held;	/* fragments waiting for their datagram */
	uint64_t frag_dropped;	/* fragments discarded by reassembly */
};

/* The kernel's view of one packet for the jsonl "packet" line: conntrack
 * state, what the queue selector does, and reassembly ("held", "dropped",
 * "reassembled"); NULL members are left out.  Each is a string that
 * never changes (a literal or a name function's result): the writer
 * memoizes their JSON text by address. */
struct report_kernel {
	const char *ct;
	const char *queue;
	const char *fragment;
};

/* One alert or one policy difference, as kept for the human listing. */
struct report_event {
	uint64_t ts_ns;
	uint64_t frame;
	unsigned file;		/* index from report_add_file */
	uint8_t proto, family;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
	uint8_t dclass;
	uint8_t verdict, reason;
	const char *rule_file;	/* owned by the ruleset */
	unsigned rule_line;
	/* --compare: what the other policy said */
	uint8_t verdict2, reason2;
	const char *rule_file2;
	unsigned rule_line2;
	/* alerts: the listener, as in decision.listener */
	int listener;
	int32_t pid;
	char program[LISTENER_NAME_MAX];
};

/* Fixed facts about the run, printed in the summary. */
struct report_info {
	const char *rules;	  /* path of the policy */
	const char *compare;	  /* --compare policy, or NULL */
	const char *range_name;	  /* guarded dynamic range */
	struct port_range range;
	int has_local;		  /* `local` or --local given */
	int have_listeners;	  /* --listeners given */
	const char *filter;	  /* -f, or NULL */
	struct flow_stats flows;
	const char *selector;	  /* queuesel_describe, or NULL (all) */
	int selector_ifaces;	  /* interfaces restricted */
	int tcp_loose;
	struct reasm_stats reasm;
};

struct report;

/* max_list: alerts and differences kept for the human listing (0: all).
 * NULL with errno ENOMEM. */
struct report *report_new(size_t max_list);
void report_free(struct report *r);

/* With eve set, report_jsonl_alert writes Suricata EVE alert objects
 * (eve.h) instead of portclass's own alert lines. */
void report_set_eve(struct report *r, int eve);

struct report_counts *report_counts(struct report *r);
struct seen_set *report_seen(struct report *r);

/* Registers an input file (in order); returns its index, -1 on ENOMEM. */
int report_add_file(struct report *r, const char *name);
/* The file's link type (pcap_datalink) and its name; supported 0 marks
 * the file as skipped. */
void report_file_linktype(struct report *r, unsigned file, int dlt,
			  const char *dlt_name, int supported);
/* The file could not be opened or read: msg says why; frames is how far it
 * got. */
void report_file_error(struct report *r, unsigned file, uint64_t frames,
		       const char *msg);
/* Frames the file gave before it ended (or failed). */
void report_file_frames(struct report *r, unsigned file, uint64_t frames);
/* 1 when any file was skipped or failed. */
int report_input_errors(const struct report *r);
const char *report_file_name(const struct report *r, unsigned file);

/* Keeps an alert / a difference for the listing (within max_list). */
void report_keep_alert(struct report *r, const struct report_event *e);
void report_keep_diff(struct report *r, const struct report_event *e);

/* Fills a report_event from a packet and its decision(s). d2 may be NULL;
 * lt (the listener table) may be NULL. */
void report_event_fill(struct report_event *e, unsigned file, uint64_t frame,
		       uint64_t ts_ns, const struct packet *p,
		       const struct decision *d, const struct decision *d2,
		       struct listener_table *lt);

/* The human summary. */
void report_print(struct report *r, FILE *out, const struct report_info *info);

/*
 * jsonl: one object per line.  w is a scratch writer reused from line to
 * line (no allocation once it has grown).  d may be NULL for frames that
 * carry no IP (no decision); lt may be NULL.  out is written without its
 * stdio lock: one thread at a time writes it.
 */
void report_jsonl_packet(struct report *r, struct jsonw *w, FILE *out,
			 unsigned file, uint64_t frame, uint64_t ts_ns,
			 const struct packet *p, const struct decision *d,
			 const struct report_kernel *k);
void report_jsonl_alert(struct report *r, struct jsonw *w, FILE *out,
			unsigned file, uint64_t frame, uint64_t ts_ns,
			const struct packet *p, const struct decision *d,
			struct listener_table *lt);
void report_jsonl_diff(struct report *r, struct jsonw *w, FILE *out,
		       unsigned file, uint64_t frame, uint64_t ts_ns,
		       const struct packet *p, const struct decision *d,
		       const struct decision *d2);
void report_jsonl_summary(struct report *r, struct jsonw *w, FILE *out,
			  const struct report_info *info);

#endif
