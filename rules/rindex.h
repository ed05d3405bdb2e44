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
 * candidates are the merge of at most three short ascending lists and the
 * address lists below; the first candidate that passes the full test wins
 * (matching: match.c).  A port-only policy is one map lookup and,
 * usually, one candidate.
 *
 * A rule that names addresses not much wider than its ports (in IPv4
 * terms, an IPv6 /2n counting as a /n; one port weighing as a /8, the
 * dynamic range as a /0: see rindex_home), or addresses and no ports, is
 * filed by its addresses instead (and only there), in the address index
 * (addrindex.h) of the source or destination side, per family: a policy
 * of 100,000 host and network rules then costs a lookup per side and a
 * few candidates, not a walk through long lists.  Candidates from all
 * the indices are merged in rule order, so the answer is the one the
 * rules give in file order, whatever index found them.
 */
#ifndef PORTCLASS_RINDEX_H
#define PORTCLASS_RINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "addrindex.h"
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

	/* Rules filed by address: addr[side][family], side 0 the source, 1
	 * the destination, family 0 IPv4, 1 IPv6.  Their codes (first[] of
	 * the nodes) are 2 * rule index + impure over 32 bits, impure when
	 * the rule asks more than the address it was found by; addr_min is
	 * the least code per protocol (ADDRINDEX_NONE: none), so that a port
	 * answer before every address rule needs no address lookup. */
	struct addrindex addr[2][2];
	uint32_t addr_min[PROTO_COUNT];
};

/* Where rindex_build files a rule: RINDEX_BY_PORT (the port maps or the
 * residual lists), RINDEX_BY_SRC or RINDEX_BY_DST (the address index of
 * that side).  A pure function of the rule; exposed for the tests, which
 * check that random policies fill every index. */
enum { RINDEX_BY_PORT = 0, RINDEX_BY_SRC, RINDEX_BY_DST };
int rindex_home(const struct rule *r);

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
