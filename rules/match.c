/*
 * match: what the compiled ruleset says about one packet - the first
 * explicit rule that matches it (ruleset_match), and whether an `expect`
 * rule covers a connection attempt (ruleset_expect), both declared in
 * ruleset.h.  Candidates come from the index (rindex.h) in rule order;
 * each is then tested in full.  No internal interface of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rindex.h"
#include "rule.h"
#include "ruleset.h"
#include "ruleset_int.h"

static inline int ports_have(const struct endpoint *e, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < e->nports; i++) {
		if (port < e->ports[i].lo)
			return 0;
		if (port <= e->ports[i].hi)
			return 1;
	}
	return 0;
}

static inline int addrs_have(const struct endpoint *e, uint8_t family,
			     const uint8_t addr[16])
{
	uint32_t i;

	for (i = 0; i < e->naddrs; i++)
		if (addr_prefix_contains(&e->addrs[i], family, addr))
			return 1;
	return 0;
}

/* kind 0: found through the destination-port map (dport known to match),
 * 1: through the source-port map (the rule has no dport), 2: residual
 * (normally no port constraint; ports are checked for rules an index over
 * budget left there), 3 (KIND_SRC) and 4 (KIND_DST): through the address
 * index of that side (that address known to match; the lists are not per
 * protocol). */
enum { KIND_SRC = 3, KIND_DST = 4 };

static inline int rule_test(const struct rule *r, const struct packet *p,
			    int is_new, int kind)
{
	if (kind >= KIND_SRC && !(r->protos & (1u << p->proto)))
		return 0;
	if (r->is_new && !is_new)
		return 0;
	if (kind != 1 && r->src.nports &&
	    (!p->has_ports || !ports_have(&r->src, p->sport)))
		return 0;
	if (kind >= 2 && r->dst.nports &&
	    (!p->has_ports || !ports_have(&r->dst, p->dport)))
		return 0;
	if (kind != KIND_SRC && r->src.naddrs &&
	    !addrs_have(&r->src, p->family, p->src))
		return 0;
	if (kind != KIND_DST && r->dst.naddrs &&
	    !addrs_have(&r->dst, p->family, p->dst))
		return 0;
	if (r->has_filter &&
	    bpf_filter(r->prog.bf_insns, p->data, p->wirelen, p->caplen) == 0)
		return 0;
	return 1;
}

/* What the matching rule r says, into *out when there is one. */
static inline void answer(const struct rule *r, struct rule_ref *out)
{
	if (out) {
		out->verdict = (enum verdict)r->verdict;
		out->log = r->log;
		out->file = r->file;
		out->line = r->line;
	}
}

/* The packet's nodes in the address indices of its family, an[0] the
 * source's, an[1] the destination's; the least code of their chains for
 * the packet's protocol is returned (ADDRINDEX_NONE: no address rule). */
static inline uint32_t addr_nodes(const struct rindex *ix,
				  const struct packet *p, uint32_t an[2])
{
	unsigned fam = p->family == 6;
	uint32_t m = ADDRINDEX_NONE, side, lo[2] = { 0, 0 }, hi[2] = { 0, 0 };
	const struct addrindex *ax[2] = { &ix->addr[0][fam],
					  &ix->addr[1][fam] };
	addrindex_key key[2];
	int done[2];

	/* Both sides step by step, so that their cache misses overlap:
	 * the slots searched, then the nodes found. */
	key[0] = addrindex_key_of(p->family, p->src);
	key[1] = addrindex_key_of(p->family, p->dst);
	for (side = 0; side < 2; side++) {
		done[side] = addrindex_range(ax[side], key[side], &lo[side],
					     &hi[side], &an[side]);
		if (!done[side])
			__builtin_prefetch(
				&ax[side]->slots[lo[side] +
						 (hi[side] - lo[side]) / 2]);
	}
	for (side = 0; side < 2; side++) {
		if (!done[side])
			an[side] = addrindex_search(ax[side], key[side],
						    lo[side], hi[side]);
		if (an[side] != ADDRINDEX_NONE)
			__builtin_prefetch(&ax[side]->nodes[an[side]]);
	}
	for (side = 0; side < 2; side++)
		if (an[side] != ADDRINDEX_NONE &&
		    ax[side]->nodes[an[side]].first[p->proto] < m)
			m = ax[side]->nodes[an[side]].first[p->proto];
	return m;
}

/* The ordered merge when addresses found candidates too: cur[0..k) are
 * the port and residual lists (none when they are known empty), then
 * one is added per node of the two chains (room for 2 * 129 more).  The
 * least rule index first, so the rules are tried in file order. */
struct cursor {
	const uint32_t *v; /* port and residual lists */
	uint32_t n, i;
	int kind;
	const struct addrindex_item *it; /* address lists instead of v */
};

static int merge_all(const struct ruleset *rs, const struct packet *p,
		     int is_new, struct cursor *cur, unsigned k,
		     const uint32_t an[2], struct rule_ref *out)
{
	uint32_t last = UINT32_MAX, side, node;
	uint32_t top[2]; /* [0] the source's first 32 bits, [1] the dest's */

	for (side = 0; side < 2; side++) {
		const struct addrindex *ax = &rs->ix.addr[side][p->family == 6];

		for (node = an[side]; node != ADDRINDEX_NONE;
		     node = ax->nodes[node].parent) {
			const struct addrindex_node *nd = &ax->nodes[node];

			__builtin_prefetch(ax->items + nd->off);
			if (nd->n)
				cur[k++] = (struct cursor){
					NULL, nd->n, 0,
					side ? KIND_DST : KIND_SRC,
					ax->items + nd->off
				};
		}
	}
	top[0] = (uint32_t)p->src[0] << 24 | (uint32_t)p->src[1] << 16 |
		 (uint32_t)p->src[2] << 8 | p->src[3];
	top[1] = (uint32_t)p->dst[0] << 24 | (uint32_t)p->dst[1] << 16 |
		 (uint32_t)p->dst[2] << 8 | p->dst[3];
	for (;;) {
		uint32_t v = UINT32_MAX;
		unsigned j, best = 0;

		for (j = 0; j < k; j++) {
			struct cursor *c = &cur[j];
			uint32_t x;

			/* Refused on what the list holds, without a look at
			 * the rule (the rule's own cache lines are the cost
			 * of a candidate). */
			if (c->it)
				while (c->i < c->n &&
				       !addrindex_quick_ok(
					       &c->it[c->i].q, p->proto,
					       p->has_ports, p->sport, p->dport,
					       p->family,
					       top[c->kind == KIND_SRC]))
					c->i++;
			if (c->i >= c->n)
				continue;
			x = c->it ? c->it[c->i].idx : c->v[c->i];
			if (x < v) {
				v = x;
				best = j;
			}
		}
		if (v == UINT32_MAX)
			return 0;
		cur[best].i++;
		/* A rule is found once per prefix of its that covers the
		 * address; a scoped filter by dport and residual both. */
		if (v == last)
			continue;
		last = v;
		if (rule_test(&rs->rules[v], p, is_new, cur[best].kind)) {
			answer(&rs->rules[v], out);
			return 1;
		}
	}
}

int ruleset_match(const struct ruleset *rs, const struct packet *p,
		  int is_new, int inbound, struct rule_ref *out)
{
	const uint32_t *a = NULL, *b = NULL;
	const struct rindex_list *c;
	uint32_t na = 0, nb = 0, nc, ia = 0, ib = 0, ic = 0;
	uint32_t last = UINT32_MAX;
	uint32_t an[2] = { ADDRINDEX_NONE, ADDRINDEX_NONE };
	int ported = p->proto >= PROTO_TCP && p->proto <= PROTO_DCCP;
	int ip = p->family == 4 || p->family == 6, looked = 0, no_ports = 0;
	uint8_t b0 = 0;

	(void)inbound; /* rules apply in every direction */
	if (p->proto >= PROTO_COUNT)
		return 0;
	if (p->has_ports && ported) {
		unsigned pp = p->proto - PROTO_TCP;
		uint32_t m = rs->ix.fast_d[pp] ? rs->ix.fast_d[pp][p->dport]
					    : rs->ix.fast_dc[pp];
		uint32_t amin = rs->ix.addr_min[p->proto];

		if (rs->ix.fast_s[pp]) {
			uint32_t sv = rs->ix.fast_s[pp][p->sport];

			m = sv < m ? sv : m;
		}
		if (m == RINDEX_FAST_NONE) {
			/* No port list nor residual rule: only the addresses
			 * can give candidates. */
			m = ADDRINDEX_NONE;
			no_ports = 1;
		}
		/* An address rule can come first, or the ports alone do not
		 * decide (odd, ADDRINDEX_NONE included). */
		if (ip && amin != ADDRINDEX_NONE && ((m & 1) || amin < m)) {
			uint32_t am = addr_nodes(&rs->ix, p, an);

			looked = 1;
			m = am < m ? am : m;
		}
		if (m == ADDRINDEX_NONE)
			return 0;
		if (!(m & 1)) {
			answer(&rs->rules[m >> 1], out);
			return 1;
		}
		if (no_ports) {
			struct cursor cur[2 * 129];

			return merge_all(rs, p, is_new, cur, 0, an, out);
		}
		a = rindex_lookup(&rs->ix.rdport[pp], p->dport, &na);
		b = rindex_lookup(&rs->ix.rsport[pp], p->sport, &nb);
	} else if (ip && rs->ix.addr_min[p->proto] != ADDRINDEX_NONE) {
		addr_nodes(&rs->ix, p, an);
		looked = 1;
	}
	/* The packet shapes bpfscope reasoned about, or everything. */
	c = &rs->ix.rresid[p->proto];
	if (p->has_ports || !ported) {
		if (p->family == 4 &&
		    packet_get_u8(p->data, p->caplen, 0, &b0) == 0 &&
		    b0 == 0x45)
			c = &rs->ix.rresid_fam[0][p->proto];
		else if (p->family == 6 && p->l4_off == 40)
			c = &rs->ix.rresid_fam[1][p->proto];
	}
	nc = c->n;
	if (looked && (an[0] != ADDRINDEX_NONE || an[1] != ADDRINDEX_NONE)) {
		/* 3 lists and a chain of at most 129 nodes per side. */
		struct cursor cur[3 + 2 * 129];

		cur[0] = (struct cursor){ a, na, 0, 0, NULL };
		cur[1] = (struct cursor){ b, nb, 0, 1, NULL };
		cur[2] = (struct cursor){ c->v, nc, 0, 2, NULL };
		return merge_all(rs, p, is_new, cur, 3, an, out);
	}
	while (ia < na || ib < nb || ic < nc) {
		uint32_t va = ia < na ? a[ia] : UINT32_MAX;
		uint32_t vb = ib < nb ? b[ib] : UINT32_MAX;
		uint32_t vc = ic < nc ? c->v[ic] : UINT32_MAX;
		uint32_t v;
		int kind;

		if (va <= vb && va <= vc) {
			v = va;
			kind = 0;
			ia++;
		} else if (vb <= vc) {
			v = vb;
			kind = 1;
			ib++;
		} else {
			v = vc;
			kind = 2;
			ic++;
		}
		/* A scoped filter can come from the dport map and from the
		 * residual list of a packet it was not scoped for. */
		if (v == last)
			continue;
		last = v;
		if (rule_test(&rs->rules[v], p, is_new, kind)) {
			answer(&rs->rules[v], out);
			return 1;
		}
	}
	return 0;
}

/* comm is cut to 15 bytes by the kernel, so a longer NAME matches a comm
 * that is its first 15 bytes; the executable's basename is tried too. */
static int program_matches(const struct listener_owner *o, const char *name)
{
	const char *base;
	size_t cl = strlen(o->program);

	if (cl && strcmp(o->program, name) == 0)
		return 1;
	if (cl == 15 && strlen(name) > 15 && strncmp(o->program, name, 15) == 0)
		return 1;
	if (o->exe[0]) {
		base = strrchr(o->exe, '/');
		base = base ? base + 1 : o->exe;
		if (strcmp(base, name) == 0)
			return 1;
	}
	return 0;
}

static int user_matches(const struct listener_owner *o, const char *name)
{
	char *end;
	unsigned long v;

	if (o->user[0] && strcmp(o->user, name) == 0)
		return 1;
	if (o->has_uid && name[0] >= '0' && name[0] <= '9') {
		errno = 0;
		v = strtoul(name, &end, 10);
		if (!*end && errno == 0 && v == o->uid)
			return 1;
	}
	return 0;
}

/* -1: the owner does not say (a field that is needed is empty). */
static int owner_matches(const struct expect_rule *x,
			 const struct listener_owner *o)
{
	if (x->program) {
		if (!o->program[0] && !o->exe[0])
			return -1;
		if (!program_matches(o, x->program))
			return 0;
	}
	if (x->user) {
		if (!o->user[0] && !o->has_uid)
			return -1;
		if (!user_matches(o, x->user))
			return 0;
	}
	return 1;
}

enum expect_result ruleset_expect(const struct ruleset *rs,
				  const struct packet *p,
				  struct listener_table *listeners,
				  const char **file, unsigned *line)
{
	const uint32_t *a, *c;
	uint32_t na, nc, ia = 0, ic = 0;
	const struct listener_owner *owner = NULL;
	int looked = 0, no_listener = 0, undetermined = 0;
	unsigned pp;

	if (!p->has_ports || p->proto < PROTO_TCP || p->proto > PROTO_DCCP)
		return EXPECT_NONE;
	pp = p->proto - PROTO_TCP;
	a = rindex_lookup(&rs->ix.xdport[pp], p->dport, &na);
	c = rs->ix.xresid[pp].v;
	nc = rs->ix.xresid[pp].n;
	while (ia < na || ic < nc) {
		uint32_t va = ia < na ? a[ia] : UINT32_MAX;
		uint32_t vc = ic < nc ? c[ic] : UINT32_MAX;
		const struct expect_rule *x;
		int m;

		if (va <= vc) {
			x = &rs->expects[a[ia++]];
		} else {
			x = &rs->expects[c[ic++]];
			if (x->dst.nports && !ports_have(&x->dst, p->dport))
				continue; /* an index over budget */
		}
		if (x->src.naddrs && !addrs_have(&x->src, p->family, p->src))
			continue;
		if (x->dst.naddrs && !addrs_have(&x->dst, p->family, p->dst))
			continue;
		if (x->program || x->user) {
			if (!looked) {
				looked = 1;
				if (listeners) {
					struct listener *l =
						listener_table_find(
							listeners, p->proto,
							p->family, p->dst,
							p->dport);
					if (l)
						owner = listener_owner(
							listeners, l);
					else
						no_listener = 1;
				}
			}
			/* Nothing listens: no program can be the one
			 * expected, whoever it is. */
			if (no_listener)
				continue;
			if (!owner) {
				undetermined = 1;
				continue;
			}
			m = owner_matches(x, owner);
			if (m < 0) {
				undetermined = 1;
				continue;
			}
			if (m == 0)
				continue;
		}
		if (file)
			*file = x->file;
		if (line)
			*line = x->line;
		return EXPECT_YES;
	}
	return undetermined ? EXPECT_UNDETERMINED : EXPECT_NONE;
}
