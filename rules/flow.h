/*
 * flow: connection tracking for NEW detection where the kernel's conntrack
 * state is not available (offline, or a queue without conntrack info).
 * Memory grows with the flows seen and is bounded: at most max_flows
 * entries (about 55 bytes each at the bound); only when that many are
 * live does a new flow push one out (counted as evicted): a flow of the
 * bucket the new one hashes to, idle past its timeout if any, else one
 * whose attempt was answered or ended, else the least recently seen.
 * Below the bound nothing is evicted, so every bound that holds the live
 * flows gives the same answers.
 */
#ifndef PORTCLASS_FLOW_H
#define PORTCLASS_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct flow_table;

struct flow_opts {
	size_t max_flows;	   /* 0: 4194304 (memory is taken as
				    * flows arrive, not up front) */
	uint32_t udp_timeout_s;	   /* idle time after which a UDP flow is
				    * new again; 0: 30 */
	uint32_t tcp_timeout_s;	   /* idle TCP flows forgotten; 0: 300 */
	uint8_t tcp_strict;	   /* 1: nf_conntrack_tcp_loose=0 (a TCP
				    * packet without a flow is NEW only when
				    * it is a SYN); 0: loose pickup (the
				    * kernel's default) */
	uint64_t hash_key;	   /* 0: 64 random bits (getrandom), so that
				    * where a flow lands is not known outside
				    * the process; else this key (tests) */
};

/*
 * conntrack's view of a packet (ctstate as an iptables/nftables rule in
 * front of the queue matches it), as nf_conntrack decides it:
 * - TCP: a flag combination outside nf_conntrack_proto_tcp's
 *   tcp_valid_flags (PSH, ECE, CWR ignored: SYN, SYN+URG, SYN+ACK, RST,
 *   RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG are valid; SYN+FIN,
 *   SYN+RST, FIN alone, no flags, ... are not) is INVALID, and so is a
 *   malformed header.  Without a flow a SYN is NEW; a lone ACK (no SYN,
 *   FIN, RST) is NEW by loose pickup (INVALID with tcp_strict); a SYN+ACK,
 *   FIN or RST is INVALID (tcp_new refuses it).  With a flow: NEW from the
 *   opening side until the other side answers, ESTABLISHED after.
 * - UDP, UDP-Lite: a bad length is INVALID (udp_error); NEW until the
 *   other side answers, ESTABLISHED after.
 * - SCTP, DCCP: NEW for an INIT / Request, ESTABLISHED within a flow,
 *   UNKNOWN otherwise (their state machines are not modelled).
 * - anything else (ICMP, other protocols, packets without ports): UNKNOWN.
 * - truncated packets (a capture cut short): UNKNOWN; the caller may pass
 *   a copy whose needed bytes were captured as PACKET_OK instead.
 * A late non-opening packet of a flow the table evicted or forgot is not
 * made NEW: its key hash is remembered (a set-associative cache), and such
 * a TCP packet is UNKNOWN (the kernel still had the flow), not a pickup.
 * An evicted flow comes back as it was: a UDP datagram of it, either way,
 * within the UDP timeout of the last one, and the retransmitted SYN (INIT,
 * Request) of an attempt that was unanswered, within the TCP timeout, get
 * the answers (retransmit, reply, ESTABLISHED) a table that had kept the
 * flow gives.
 */
enum flow_ct {
	FLOW_CT_UNKNOWN = 0,
	FLOW_CT_NEW,
	FLOW_CT_ESTABLISHED,
	FLOW_CT_INVALID,
};

/* "unknown", "new", "established", "invalid". */
const char *flow_ct_name(enum flow_ct c);

struct flow_result {
	uint8_t is_new;	     /* a connection attempt: TCP SYN without ACK,
			      * SCTP INIT, DCCP Request; for UDP/UDP-Lite
			      * the first datagram of a flow in either
			      * direction within the timeout, and every
			      * further one from the same side until the
			      * other side answers (conntrack's NEW) */
	uint8_t retransmit;  /* is_new, but the same attempt was already seen
			      * on this flow (a SYN retransmit, an
			      * unanswered UDP datagram repeated) */
	uint8_t reply;	     /* the first packet in the other direction of a
			      * flow that began with an attempt (SYN/ACK, a
			      * UDP reply): its source is a listener.  For
			      * TCP only a SYN/ACK counts: the answer to a
			      * SYN is a SYN/ACK or a RST (a refusal, never
			      * a reply) */
	uint8_t tracked;     /* the packet was looked up and belongs to a
			      * tracked flow.  TCP packets with none of SYN,
			      * RST, FIN are never looked up (see below) */
	uint8_t ct;	     /* enum flow_ct; filled by flow_conntrack only */
	uint8_t pickup;	     /* NEW by loose pickup (a lone ACK) */
};

struct flow_stats {
	uint64_t flows;	     /* currently tracked */
	uint64_t created;
	uint64_t evicted;    /* pushed out by max_flows */
	uint64_t expired;    /* timed out: freed, or idle past the timeout
			      * by the latest packet (counted by
			      * flow_get_stats, so that the count does not
			      * depend on where the random key put them) */
	uint64_t grown;	     /* times the table grew its room */
	uint64_t pickups;    /* TCP flows picked up from a lone ACK */
	uint64_t forgotten;  /* non-opening packets of an evicted or
			      * expired flow: UNKNOWN, not NEW */
	uint64_t probe_max;  /* most buckets a lookup has had to walk (1:
			      * every flow in its home bucket) */
	size_t bytes;	     /* memory held by the table, all of it */
};

/* NULL with errno ENOMEM. */
struct flow_table *flow_new(const struct flow_opts *o);
void flow_free(struct flow_table *ft);

/*
 * Records a parsed packet (status PACKET_OK, has_ports) seen at now_ns
 * (monotonic or capture time, nanoseconds, non-decreasing in practice;
 * time going backwards must not break anything) and says what it was.
 * Packets without ports leave the table untouched and give all zeros.
 *
 * TCP packets with none of SYN, RST, FIN (mid-stream segments, the last
 * ACK of a handshake) give all zeros without a lookup: they are never an
 * attempt, retransmit or reply, and they do not refresh their flow's idle
 * time or age.  TCP state matters only until the attempt is
 * answered or ended, and those packets cannot do either.
 */
void flow_observe(struct flow_table *ft, const struct packet *p,
		  uint64_t now_ns, struct flow_result *out);

/*
 * Optional: starts loading the part of the table that flow_observe or
 * flow_conntrack will read for p.  A large table costs one cache miss per packet; a caller
 * that has the next packet parsed before it decides the current one can
 * call this for the next packet first and overlap the two.  Changes
 * nothing in the table or in any result; any packet may be passed.
 */
void flow_prefetch(const struct flow_table *ft, const struct packet *p);

/*
 * As flow_observe, and also says what conntrack would: out->ct (see enum
 * flow_ct).  Unlike flow_observe every TCP packet with a valid flag
 * combination is looked up (a lone ACK without a flow is a pickup that
 * creates one), and is_new follows conntrack (NEW from the opening side
 * until answered, retransmit set for every NEW after the first).
 * Malformed packets give INVALID (TCP, UDP) and leave the table alone.
 */
void flow_conntrack(struct flow_table *ft, const struct packet *p,
		    uint64_t now_ns, struct flow_result *out);

void flow_get_stats(const struct flow_table *ft, struct flow_stats *out);

/*
 * How many packets have set the table's clock (the time flow_get_stats
 * counts expiry by: that of the latest of them).  A caller that splits a
 * stream over several tables learns from it which packet was the
 * stream's latest to do so.
 */
uint64_t flow_ticks(const struct flow_table *ft);

/*
 * As flow_get_stats, with flows idle past their timeout by now_ns counted
 * as expired: the counts of one table among several that share a stream
 * of time (the replay's shards), taken at the stream's latest packet.
 */
void flow_get_stats_at(const struct flow_table *ft, uint64_t now_ns,
		       struct flow_stats *out);

/* Bytes one tracked flow costs in a table at its load limit (the table
 * grows by half when it reaches it, so between growths a flow costs up to
 * half as much again), for the bench's bytes-per-flow figure. */
size_t flow_entry_size(void);

/*
 * The table's keyed hash of p's flow (the same both ways; p needs only
 * family, proto, addresses and ports).  Where the flow lands follows from
 * it: the bucket from the high 32 bits.  For tests and for spreading flows
 * over several tables with one key.
 */
uint64_t flow_hash(const struct flow_table *ft, const struct packet *p);

#endif
