/*
 * rindex: the compiled index of a ruleset, which finds the candidate
 * rules of a packet without trying them all.  Internal to the engine.
 *
 * Explicit rules stay in file order (their index is their priority).  For
 * each port protocol, two 65536-entry uint16 maps send a destination
 * (resp. source) port to an interval id; an interval holds the ascending
 * list of rule indices whose port set covers it, and runs of ports with
 * the same list share one interval, so memory grows with the number of
 * range boundaries, not with the width of the ranges.  Rules without any
 * port constraint live in a per-protocol "residual" list.  A packet's
 * candidates are the merge of at most three short ascending lists; the
 * first candidate that passes the full test wins (matching: match.c).  A
 * port-only policy is one map lookup and, usually, one candidate.
 */
#ifndef PORTCLASS_RINDEX_H
#define PORTCLASS_RINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "rule.h"

/* An interval's candidates: a single rule index inline (n == 1, the usual
 * case for port rules, one memory access less), else items[v .. v+n). */
struct rindex_interval {
	uint32_t n, v;
};

struct rindex_port {
	uint16_t *map;	 /* port -> interval; NULL when nothing indexed */
	struct rindex_interval *ivl;
	uint32_t *off;	 /* while building: items[off[i] .. off[i+1]) */
	uint32_t *items; /* rule indices, ascending within an interval */
};

struct rindex_list {
	uint32_t *v;
	uint32_t n;
};

/* "No rule" in the fast tables; other entries are 2 * rule index + 1 when
 * the ordered merge must decide ("impure"), else 2 * rule index: that
 * rule is the answer (see rindex.c). */
#define RINDEX_FAST_NONE 0xffffu

struct rindex {
	struct rindex_port rdport[PORT_PROTOS], rsport[PORT_PROTOS];
	struct rindex_list rresid[PROTO_COUNT];
	/* Residual lists for plain packets ([0] IPv4 with a 20-byte header,
	 * [1] IPv6 without extension headers; ports parsed when the protocol
	 * has them): filter rules that cannot match such a packet of that
	 * protocol are left out, and those that can only on some destination
	 * ports are found through rdport instead (see bpfscope.h). */
	struct rindex_list rresid_fam[2][PROTO_COUNT];
	struct rindex_port xdport[PORT_PROTOS];
	struct rindex_list xresid[PORT_PROTOS];

	/* The answer for most port-carrying packets in one or two loads (see
	 * fast_build): by destination port (NULL: fast_dc for every port)
	 * and by source port (NULL: no source-port rules to consider). */
	uint16_t *fast_d[PORT_PROTOS], *fast_s[PORT_PROTOS];
	uint16_t fast_dc[PORT_PROTOS];
};

/*
 * Builds *ix (zeroed by the caller) over the explicit rules and the
 * expect rules, whose port lists are sorted and disjoint
 * (rule_ports_normalize).  The arrays must stay where they are while ix
 * is used.  Returns 0, or -1 with errno ENOMEM (ix then holds what was
 * built, for rindex_free).  An index that would take more than the
 * budget of all indices (4 Mi entries) is left out and its rules are
 * tried in order instead: slower, still exact.
 */
int rindex_build(struct rindex *ix, const struct rule *rules, size_t nrules,
		 const struct expect_rule *expects, size_t nexpects);

/* Frees what rindex_build allocated and leaves ix zeroed. */
void rindex_free(struct rindex *ix);

/* The ascending rule indices of port's interval in ix, *n of them (none
 * when nothing was indexed). */
static inline const uint32_t *rindex_lookup(const struct rindex_port *ix,
					    uint16_t port, uint32_t *n)
{
	const struct rindex_interval *iv;

	if (!ix->map) {
		*n = 0;
		return NULL;
	}
	iv = &ix->ivl[ix->map[port]];
	*n = iv->n;
	return iv->n == 1 ? &iv->v : ix->items + iv->v;
}

#endif
