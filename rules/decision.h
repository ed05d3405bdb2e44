/*
 * decision: the one place a verdict is made.  Both front ends (the NFQUEUE
 * daemon and the replay tool) call decision_make with a parsed packet and
 * get the same answer for the same packet under the same rules.  No I/O.
 */
#ifndef PORTCLASS_DECISION_H
#define PORTCLASS_DECISION_H

#include <stdint.h>

#include "class.h"
#include "flow.h"
#include "listener.h"
#include "packet.h"
#include "ruleset.h"

enum decision_dir {
	DIR_IN = 0,	/* to this host from the network (the packet's origin
			 * says so), or to a protected host (or: no `local`
			 * given) */
	DIR_OUT,	/* from a protected host to elsewhere */
	DIR_TRANSIT,	/* neither end is a protected host */
	DIR_LOOPBACK,	/* this host to itself, without `loopback inbound` */
};

enum decision_reason {
	REASON_DEFAULT = 0, /* nothing special: the `default` action */
	REASON_RULE,	    /* an explicit rule matched (rule_file:rule_line) */
	REASON_UNEXPECTED,  /* NEW inbound to the dynamic range, not expected */
	REASON_EXPECTED,    /* NEW inbound to the dynamic range, an `expect`
			     * covers it: the `default` action */
	REASON_UNDETERMINED,/* as UNEXPECTED, but an `expect program/user`
			     * might cover it and the owner is unknown */
	REASON_INVALID,	    /* truncated or malformed: the `invalid` action */
	/* Set by the replay's model of the kernel in front of the queue,
	 * never by decision_make: */
	REASON_NOT_QUEUED,  /* the firewall does not hand it over (outside
			     * the queue selector, or not NEW): it passes */
	REASON_CT_INVALID,  /* conntrack INVALID: never queued; the firewall
			     * drops or accepts it (queue selector) */
	REASON_UNDECIDED,   /* what the kernel would do cannot be told from
			     * the capture (state unknown, headers cut) */
	REASON_FRAGMENT,    /* a fragment: decided with its datagram, or
			     * discarded by reassembly */
	REASON_KERNEL_DROP, /* the IP layer drops it before the firewall
			     * (IPv4 header checksum, length or IHL bad) */
	REASON_COUNT
};

/* "in", "out", "transit", "loopback". */
const char *decision_dir_name(enum decision_dir d);

/*
 * Where p goes as decision_make sees it: its origin when the front end
 * knows it (queued from INPUT, or a snapshot's host addresses), else the
 * loopback addresses and the policy's `local`.  The replay's model of the
 * queue asks it too, so both agree on what reaches this host.
 */
enum decision_dir decision_direction(const struct ruleset *rs,
				     const struct packet *p);
/* "default", "rule", "unexpected", "expected", "undetermined", "invalid",
 * "not-queued", "conntrack-invalid", "undecided", "fragment",
 * "kernel-drop". */
const char *decision_reason_name(enum decision_reason r);

struct decision {
	enum verdict verdict;
	int log;
	enum decision_reason reason;
	const char *rule_file;	  /* REASON_RULE/EXPECTED: where; else NULL */
	unsigned rule_line;
	enum port_class sclass, dclass;
	int is_new;		  /* a connection attempt */
	int retransmit;		  /* a repeated attempt (from flow tracking) */
	int reply;		  /* first reply of a tracked flow (listener) */
	enum decision_dir dir;
	int dyn_dport;		  /* destination port in the guarded range */
	int alert;		  /* REASON_UNEXPECTED or _UNDETERMINED */
	int listener;		  /* for alerts: 1 a listener exists (rogue),
				   * 0 none (a probe), -1 unknown (no table) */
	struct listener *owner_of;/* for alerts with listener == 1 */
};

/*
 * Decides one packet.  flows may be NULL (then only TCP SYN, SCTP INIT and
 * DCCP Request count as NEW); listeners may be NULL (owner unknown).
 * ct_new is the kernel's conntrack answer: 1 NEW, 0 not NEW, -1 unknown
 * (then the flow table decides).  With the kernel's NEW the flow table
 * (when given) still records the attempt, only to mark a repeat of it as
 * `retransmit`.  now_ns feeds the flow table.
 *
 * Direction: a packet the front end saw arriving for this host
 * (PACKET_ORIGIN_HOST) is inbound whatever `local` says; the host's
 * traffic to itself (PACKET_ORIGIN_LOOPBACK, or both addresses in
 * 127.0.0.0/8 or ::1 when the origin is unknown) is DIR_LOOPBACK, not
 * inbound, unless the policy says `loopback inbound`; otherwise `local`
 * decides (no `local`: inbound).
 *
 * Order: invalid packets get `invalid` (REASON_INVALID); explicit rules in
 * file order; then a NEW inbound packet to a destination port in the
 * guarded dynamic range gets `unexpected` unless an `expect` covers it;
 * everything else gets `default`.
 */
void decision_make(const struct ruleset *rs, struct flow_table *flows,
		   struct listener_table *listeners, const struct packet *p,
		   uint64_t now_ns, int ct_new, struct decision *out);

#endif
