/*
 * decision: the verdict for one parsed packet.  This is the per-packet hot
 * path of both front ends: no I/O, no allocation, and the ruleset is asked
 * only what the packet needs (the expect rules and the listener table only
 * for NEW inbound packets to the guarded range).
 */
#include <string.h>

#include "decision.h"

const char *decision_dir_name(enum decision_dir d)
{
	switch (d) {
	case DIR_IN:
		return "in";
	case DIR_OUT:
		return "out";
	case DIR_TRANSIT:
		return "transit";
	case DIR_LOOPBACK:
		return "loopback";
	}
	return "in";
}

const char *decision_reason_name(enum decision_reason r)
{
	static const char *const names[REASON_COUNT] = {
		[REASON_DEFAULT] = "default",
		[REASON_RULE] = "rule",
		[REASON_UNEXPECTED] = "unexpected",
		[REASON_EXPECTED] = "expected",
		[REASON_UNDETERMINED] = "undetermined",
		[REASON_INVALID] = "invalid",
		[REASON_NOT_QUEUED] = "not-queued",
		[REASON_CT_INVALID] = "conntrack-invalid",
		[REASON_UNDECIDED] = "undecided",
		[REASON_FRAGMENT] = "fragment",
		[REASON_KERNEL_DROP] = "kernel-drop",
	};

	if ((unsigned)r < REASON_COUNT)
		return names[r];
	return "default";
}

/* 127.0.0.0/8 or ::1: only this host's own traffic carries these. */
static inline int loopback_addr(uint8_t family, const uint8_t a[16])
{
	static const uint8_t v6[16] = { [15] = 1 };

	if (family == 4)
		return a[0] == 127;
	return family == 6 && memcmp(a, v6, 16) == 0;
}

static inline enum decision_dir direction(const struct ruleset *rs,
					  const struct ruleset_summary *sum,
					  const struct packet *p)
{
	switch (p->origin) {
	case PACKET_ORIGIN_HOST:
		/* Queued from INPUT: addressed to this host, whatever the
		 * address (link-local, multicast, a subnet broadcast) and
		 * whatever `local` lists. */
		return DIR_IN;
	case PACKET_ORIGIN_LOOPBACK:
		return sum->loopback_in ? DIR_IN : DIR_LOOPBACK;
	case PACKET_ORIGIN_UNKNOWN:
		if (loopback_addr(p->family, p->src) &&
		    loopback_addr(p->family, p->dst))
			return sum->loopback_in ? DIR_IN : DIR_LOOPBACK;
		break;
	default:
		break;
	}
	if (!sum->has_local || ruleset_is_local(rs, p->family, p->dst))
		return DIR_IN;
	if (ruleset_is_local(rs, p->family, p->src))
		return DIR_OUT;
	return DIR_TRANSIT;
}

enum decision_dir decision_direction(const struct ruleset *rs,
				     const struct packet *p)
{
	return direction(rs, ruleset_summary(rs), p);
}

static inline void set_default(const struct ruleset_summary *sum,
			       struct decision *out, enum decision_reason why)
{
	out->verdict = (enum verdict)sum->def_verdict;
	out->log = sum->def_log;
	out->reason = why;
}

void decision_make(const struct ruleset *rs, struct flow_table *flows,
		   struct listener_table *listeners, const struct packet *p,
		   uint64_t now_ns, int ct_new, struct decision *out)
{
	const struct ruleset_summary *sum = ruleset_summary(rs);
	struct rule_ref ref;
	int inbound;

	memset(out, 0, sizeof(*out));
	out->listener = -1;
	if (p->has_ports) {
		out->sclass = class_of(p->sport);
		out->dclass = class_of(p->dport);
	}
	out->dir = direction(rs, sum, p);
	inbound = out->dir == DIR_IN;

	if (p->status != PACKET_OK) {
		/* What the engine cannot read is not waved through on the
		 * `default` action: it gets its own (drop log unless the
		 * rules say otherwise), as nftables' `ct state invalid`. */
		out->verdict = (enum verdict)sum->inv_verdict;
		out->log = sum->inv_log;
		out->reason = REASON_INVALID;
		return;
	}

	if (flows && ct_new < 0) {
		struct flow_result fr;

		flow_observe(flows, p, now_ns, &fr);
		out->is_new = fr.is_new;
		out->retransmit = fr.retransmit;
		out->reply = fr.reply;
	} else if (ct_new >= 0) {
		out->is_new = ct_new > 0;
		/* The kernel says NEW for every copy of an attempt it has
		 * not seen answered (a retransmitted SYN, a repeated
		 * datagram): the flow table still remembers the attempts,
		 * so that a repeat is folded into the first alert. */
		if (flows && out->is_new) {
			struct flow_result fr;

			flow_observe(flows, p, now_ns, &fr);
			out->retransmit = fr.retransmit;
		}
	} else {
		/* No flow state: only handshakes can be told apart. */
		out->is_new = p->conn_attempt &&
			      (p->proto == PROTO_TCP || p->proto == PROTO_SCTP ||
			       p->proto == PROTO_DCCP);
	}

	out->dyn_dport = p->has_ports && range_contains(&sum->dyn, p->dport);

	if (ruleset_match(rs, p, out->is_new, inbound, &ref)) {
		out->verdict = ref.verdict;
		out->log = ref.log;
		out->reason = REASON_RULE;
		out->rule_file = ref.file;
		out->rule_line = ref.line;
		return;
	}

	if (out->is_new && inbound && out->dyn_dport) {
		const char *file = NULL;
		unsigned line = 0;
		enum expect_result er;

		er = ruleset_expect(rs, p, listeners, &file, &line);
		if (er == EXPECT_YES) {
			set_default(sum, out, REASON_EXPECTED);
			out->rule_file = file;
			out->rule_line = line;
			return;
		}
		out->verdict = (enum verdict)sum->unexp_verdict;
		out->log = sum->unexp_log;
		out->reason = er == EXPECT_UNDETERMINED ? REASON_UNDETERMINED
							: REASON_UNEXPECTED;
		out->alert = 1;
		if (listeners) {
			out->owner_of = listener_table_find(listeners, p->proto,
							    p->family, p->dst,
							    p->dport);
			out->listener = out->owner_of != NULL;
		}
		return;
	}

	set_default(sum, out, REASON_DEFAULT);
}
