/* rindex: see rindex.h. */
#include "rindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfscope.h"
#include "vec.h"

static void port_free(struct rindex_port *ix)
{
	free(ix->map);
	free(ix->ivl);
	free(ix->off);
	free(ix->items);
	memset(ix, 0, sizeof(*ix));
}

void rindex_free(struct rindex *ix)
{
	size_t i;

	for (i = 0; i < PORT_PROTOS; i++) {
		free(ix->fast_d[i]);
		free(ix->fast_s[i]);
		port_free(&ix->rdport[i]);
		port_free(&ix->rsport[i]);
		port_free(&ix->xdport[i]);
		free(ix->xresid[i].v);
	}
	for (i = 0; i < 4; i++)
		addrindex_free(&ix->addr[i / 2][i % 2]);
	for (i = 0; i < PROTO_COUNT; i++) {
		free(ix->rresid[i].v);
		free(ix->rresid_fam[0][i].v);
		free(ix->rresid_fam[1][i].v);
	}
	memset(ix, 0, sizeof(*ix));
}

struct ix_entry {
	uint32_t idx;
	const struct port_range *r;
	uint32_t n;
};

struct ix_event {
	uint32_t pos; /* 0..65535 */
	uint32_t idx;
	int add;
};

static int event_cmp(const void *a, const void *b)
{
	const struct ix_event *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->add - y->add; /* removals first; order is not significant */
}

/* Sweeps the port space once: events at each range start/end update the
 * ascending set of active rules, and a new interval is opened only when
 * the set changes.  The lists take at most *budget entries (shared by all
 * indices of a ruleset): many wide, staggered, overlapping ranges could
 * otherwise need rules x intervals entries.  Returns 0, 1 when the budget
 * ran out (ix left empty: the caller falls back to ordered matching), or
 * -1 with errno ENOMEM. */
static int index_build(struct rindex_port *ix, const struct ix_entry *e,
		       size_t ne, size_t *budget)
{
	struct ix_event *ev = NULL;
	uint32_t *active = NULL, nactive = 0;
	size_t nev = 0, i, j, capoff = 0, capitems = 0, nitems = 0;
	uint32_t nint = 0, x, k;

	if (ne == 0)
		return 0;
	for (i = 0; i < ne; i++)
		nev += 2 * (size_t)e[i].n;
	ev = calloc(nev, sizeof(*ev));
	active = calloc(ne, sizeof(*active));
	ix->map = malloc(65536 * sizeof(*ix->map));
	if (!ev || !active || !ix->map)
		goto oom;
	nev = 0;
	for (i = 0; i < ne; i++) {
		for (j = 0; j < e[i].n; j++) {
			ev[nev++] = (struct ix_event){ e[i].r[j].lo,
						       e[i].idx, 1 };
			if (e[i].r[j].hi < 65535)
				ev[nev++] = (struct ix_event){
					(uint32_t)e[i].r[j].hi + 1, e[i].idx,
					0 };
		}
	}
	qsort(ev, nev, sizeof(*ev), event_cmp);

	i = 0;
	x = 0;
	for (;;) {
		uint32_t next;
		int same;

		for (; i < nev && ev[i].pos == x; i++) {
			uint32_t lo = 0, hi = nactive;

			while (lo < hi) { /* lower bound of idx */
				uint32_t mid = (lo + hi) / 2;

				if (active[mid] < ev[i].idx)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (ev[i].add) {
				memmove(active + lo + 1, active + lo,
					(nactive - lo) * sizeof(*active));
				active[lo] = ev[i].idx;
				nactive++;
			} else if (lo < nactive && active[lo] == ev[i].idx) {
				memmove(active + lo, active + lo + 1,
					(nactive - lo - 1) * sizeof(*active));
				nactive--;
			}
		}
		same = nint > 0 &&
		       ix->off[nint] - ix->off[nint - 1] == nactive &&
		       memcmp(ix->items + ix->off[nint - 1], active,
			      nactive * sizeof(*active)) == 0;
		if (!same) {
			if (nitems + nactive > *budget) {
				free(ev);
				free(active);
				port_free(ix);
				return 1;
			}
			if (vec_grow(&ix->off, &capoff, (size_t)nint + 2,
				 sizeof(*ix->off)) < 0 ||
			    vec_grow(&ix->items, &capitems, nitems + nactive + 1,
				 sizeof(*ix->items)) < 0)
				goto oom;
			if (nint == 0)
				ix->off[0] = 0;
			memcpy(ix->items + nitems, active,
			       nactive * sizeof(*active));
			nitems += nactive;
			ix->off[nint + 1] = (uint32_t)nitems;
			nint++;
		}
		next = i < nev ? ev[i].pos : 65536;
		for (k = x; k < next; k++)
			ix->map[k] = (uint16_t)(nint - 1);
		if (next == 65536)
			break;
		x = next;
	}
	ix->ivl = malloc((size_t)nint * sizeof(*ix->ivl));
	if (!ix->ivl)
		goto oom;
	for (k = 0; k < nint; k++) {
		ix->ivl[k].n = ix->off[k + 1] - ix->off[k];
		ix->ivl[k].v = ix->ivl[k].n == 1 ? ix->items[ix->off[k]]
						 : ix->off[k];
	}
	free(ix->off);
	ix->off = NULL;
	free(ev);
	free(active);
	*budget -= nitems;
	return 0;
oom:
	free(ev);
	free(active);
	port_free(ix);
	errno = ENOMEM;
	return -1;
}

static int list_push(struct rindex_list *l, size_t *cap, uint32_t v)
{
	if (vec_grow(&l->v, cap, (size_t)l->n + 1, sizeof(*l->v)) < 0)
		return -1;
	l->v[l->n++] = v;
	return 0;
}

/* How a filter-only rule relates to plain packets of one family and
 * protocol (the shapes bpfscope.h describes). */
enum { SCOPE_ALL = 0, SCOPE_NEVER, SCOPE_SOME };

struct scope {
	uint8_t cls[2][PROTO_COUNT]; /* [0] IPv4, [1] IPv6 */
	struct port_range *r[PORT_PROTOS]; /* dports of the SOME families */
	uint32_t n[PORT_PROTOS];
};

static int is_filter_only(const struct rule *r)
{
	return r->has_filter && !r->dst.nports && !r->src.nports;
}

static int ipproto_of(int proto)
{
	switch (proto) {
	case PROTO_TCP: return 6;
	case PROTO_UDP: return 17;
	case PROTO_UDPLITE: return 136;
	case PROTO_SCTP: return 132;
	case PROTO_DCCP: return 33;
	case PROTO_ICMP: return 1;
	case PROTO_ICMP6: return 58;
	default: return -1;
	}
}

/* Bitmap to ranges: 0, 1 when more than 256 runs (not worth a table
 * entry), -1 out of memory. */
static int set_to_ranges(const struct port_set *set, struct port_range **out,
			 uint32_t *n)
{
	uint32_t port = 0, cnt = 0;
	struct port_range tmp[256];

	while (port <= 65535) {
		uint32_t lo;

		if (!port_set_has(set, (uint16_t)port)) {
			port++;
			continue;
		}
		lo = port;
		while (port <= 65535 && port_set_has(set, (uint16_t)port))
			port++;
		if (cnt == 256)
			return 1;
		tmp[cnt++] = (struct port_range){ (uint16_t)lo,
						  (uint16_t)(port - 1) };
	}
	*out = malloc(cnt * sizeof(**out) + 1);
	if (!*out)
		return -1;
	memcpy(*out, tmp, cnt * sizeof(**out));
	*n = cnt;
	return 0;
}

static int set_full(const struct port_set *set)
{
	size_t i;

	for (i = 0; i < sizeof(set->bits) / sizeof(set->bits[0]); i++)
		if (set->bits[i] != UINT64_MAX)
			return 0;
	return 1;
}

/* set, uni: scratch bitmaps. */
static int scope_rule(const struct rule *r, struct scope *sc,
		      struct port_set *set, struct port_set *uni)
{
	int proto, fam, rc, some;

	for (proto = 0; proto < PROTO_COUNT; proto++) {
		int ported = proto >= PROTO_TCP && proto <= PROTO_DCCP;
		unsigned pp = (unsigned)proto - PROTO_TCP;

		if (!(r->protos & (1u << proto)) || proto == PROTO_NON_IP)
			continue;
		some = 0;
		if (ported)
			memset(uni, 0, sizeof(*uni));
		for (fam = 0; fam < 2; fam++) {
			uint8_t *cls = &sc->cls[fam][proto];

			if ((proto == PROTO_ICMP && fam == 1) ||
			    (proto == PROTO_ICMP6 && fam == 0))
				continue; /* no such packet */
			rc = bpfscope_scan(r->prog.bf_insns, r->prog.bf_len,
					   fam ? 6 : 4, ipproto_of(proto),
					   ported ? set : NULL);
			if (rc == 0) {
				*cls = SCOPE_NEVER;
			} else if (rc == 1 && ported && !set_full(set)) {
				size_t w;

				*cls = SCOPE_SOME;
				some = 1;
				for (w = 0; w < sizeof(set->bits) /
						    sizeof(set->bits[0]);
				     w++)
					uni->bits[w] |= set->bits[w];
			}
		}
		if (!some)
			continue;
		rc = set_to_ranges(uni, &sc->r[pp], &sc->n[pp]);
		if (rc < 0)
			return -1;
		if (rc == 1) { /* too fragmented: run it on every port */
			for (fam = 0; fam < 2; fam++)
				if (sc->cls[fam][proto] == SCOPE_SOME)
					sc->cls[fam][proto] = SCOPE_ALL;
		}
	}
	return 0;
}

/*
 * Fast answers.  For a port-carrying packet the first matching rule is the
 * least index among the first candidates of three ascending lists: the
 * destination-port interval, the source-port interval and the residual
 * list.  When that least candidate is a rule that matches every packet
 * reaching it through its list ("pure": no `new`, no addresses, no
 * filter, no port check left to do), it is the answer whatever the
 * packet's addresses, family or state; otherwise the ordered merge runs.
 * Each first candidate is precomputed per port as 2 * index + impure, so
 * one min() over at most two table entries gives either the rule, "no
 * rule" (RINDEX_FAST_NONE), or "ask the slow path" (odd).  Entries are 16 bits
 * so that the tables of a TCP+UDP policy stay within a core's L2 cache;
 * rules past the first 32766 are always left to the slow path, which is
 * still exact (a smaller index found by the other table still wins).
 */
#define FAST_IDX_MAX 32766u

/* kind as in rule_test: 0 found by dport, 1 by sport, 2 residual. */
static uint16_t fast_code(const struct rule *r, uint32_t idx, int kind)
{
	int impure = r->is_new || r->has_filter || r->src.naddrs ||
		     r->dst.naddrs || (kind != 1 && r->src.nports) ||
		     (kind == 2 && r->dst.nports);

	if (idx > FAST_IDX_MAX)
		return 2 * FAST_IDX_MAX + 1;
	return (uint16_t)(2 * idx + (uint32_t)impure);
}

static uint16_t fast_first(const struct rule *rules,
			   const struct rindex_port *ix, uint32_t iv, int kind)
{
	const struct rindex_interval *x = &ix->ivl[iv];
	uint32_t v;

	if (x->n == 0)
		return RINDEX_FAST_NONE;
	v = x->n == 1 ? x->v : ix->items[x->v];
	return fast_code(&rules[v], v, kind);
}

static int fast_build(struct rindex *ix, const struct rule *rules)
{
	int pp;

	for (pp = 0; pp < PORT_PROTOS; pp++) {
		const struct rindex_list *res = &ix->rresid[PROTO_TCP + pp];
		const struct rindex_port *d = &ix->rdport[pp];
		const struct rindex_port *sp = &ix->rsport[pp];
		uint16_t r = res->n ? fast_code(&rules[res->v[0]],
						res->v[0], 2)
				    : RINDEX_FAST_NONE;
		uint32_t port;

		ix->fast_dc[pp] = r;
		if (d->map) {
			ix->fast_d[pp] = malloc(65536 * sizeof(uint16_t));
			if (!ix->fast_d[pp])
				return -1;
			for (port = 0; port < 65536; port++) {
				uint16_t c = fast_first(rules, d, d->map[port], 0);

				ix->fast_d[pp][port] = c < r ? c : r;
			}
		}
		if (sp->map) {
			ix->fast_s[pp] = malloc(65536 * sizeof(uint16_t));
			if (!ix->fast_s[pp])
				return -1;
			for (port = 0; port < 65536; port++)
				ix->fast_s[pp][port] =
					fast_first(rules, sp, sp->map[port], 1);
		}
	}
	return 0;
}

/* How narrow an endpoint's addresses are, as an IPv4 prefix length: the
 * widest of its prefixes, an IPv6 /2n counting as an IPv4 /n up to /32;
 * -1 without addresses. */
static int addr_narrowness(const struct endpoint *e)
{
	int w = -1;
	uint32_t i;

	for (i = 0; i < e->naddrs; i++) {
		const struct addr_prefix *a = &e->addrs[i];
		int v = a->family == 4 ? a->len : a->len >= 64 ? 32 : a->len / 2;

		if (w < 0 || v < w)
			w = v;
	}
	return w;
}

/* The same for ports: 16 for one port, 16 - log2(n) for n ports; -1
 * without ports. */
static int port_narrowness(const struct endpoint *e)
{
	uint32_t i, n = 0;
	int bits = 16;

	if (!e->nports)
		return -1;
	for (i = 0; i < e->nports; i++)
		n += (uint32_t)e->ports[i].hi - e->ports[i].lo + 1;
	for (; n > 1; n = (n + 1) / 2)
		bits--;
	return bits;
}

int rindex_home(const struct rule *r)
{
	int s = addr_narrowness(&r->src), d = addr_narrowness(&r->dst);
	int best = s > d ? s : d;
	int pn = r->dst.nports ? port_narrowness(&r->dst)
			       : port_narrowness(&r->src);

	/* Filters keep the placement bpfscope gives them. */
	if (is_filter_only(r) || best < 0)
		return RINDEX_BY_PORT;
	/* The port map only when the ports are much narrower: traffic and
	 * rules crowd on a few ports (thousands of rules for 443), while
	 * addresses spread; so one port weighs as an IPv4 /8, and the
	 * dynamic range as nothing.  Wider addresses still beat the
	 * residual lists. */
	if (pn >= 0 && pn - 8 > best)
		return RINDEX_BY_PORT;
	return s >= d ? RINDEX_BY_SRC : RINDEX_BY_DST;
}

/* 2 * index + impure: impure when the rule asks more than the address
 * of its side, which the lookup that found it has checked. */
static uint32_t addr_code(const struct rule *r, uint32_t idx, int home)
{
	const struct endpoint *other = home == RINDEX_BY_SRC ? &r->dst
							     : &r->src;
	int impure = r->is_new || r->has_filter || r->src.nports ||
		     r->dst.nports || other->naddrs;

	return 2 * idx + (uint32_t)impure;
}

static uint32_t top32(const struct addr_prefix *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

/* home: where the rule is filed, so the other side is the one to hull. */
static struct addrindex_quick quick_of(const struct rule *r, int home)
{
	struct addrindex_quick q = { (uint16_t)r->protos, 0, 65535, 0,
				     65535, 0, 0, 0 };
	const struct endpoint *o = home == RINDEX_BY_SRC ? &r->dst : &r->src;
	uint32_t i;

	/* The longest common prefix of the other side's first 32 bits,
	 * when they are all of one family. */
	for (i = 0; i < o->naddrs; i++) {
		const struct addr_prefix *a = &o->addrs[i];
		unsigned len = a->len < 32 ? a->len : 32;
		uint32_t m = len ? UINT32_MAX << (32 - len) : 0;

		if (i == 0) {
			q.ofam = a->family;
			q.omask = m;
		} else if (a->family != q.ofam) {
			q.ofam = 0;
			break;
		} else {
			q.omask &= m;
			while ((top32(a) & q.omask) != (q.obits & q.omask))
				q.omask <<= 1;
		}
		q.obits = top32(a) & q.omask;
	}
	if (!q.ofam)
		q.obits = q.omask = 0;

	if (r->dst.nports) { /* sorted and disjoint */
		q.dlo = r->dst.ports[0].lo;
		q.dhi = r->dst.ports[r->dst.nports - 1].hi;
	}
	if (r->src.nports) {
		q.slo = r->src.ports[0].lo;
		q.shi = r->src.ports[r->src.nports - 1].hi;
	}
	return q;
}

/* The four address indices over the rules that home[] files there. */
static int addr_build(struct rindex *ix, const struct rule *rules,
		      size_t nrules, const uint8_t *home)
{
	/* One pass over the rules (they are many cache lines) into the
	 * entries of the four indices, [side * 2 + family]. */
	struct addrindex_entry *e[4] = { NULL, NULL, NULL, NULL };
	size_t i, n[4] = { 0, 0, 0, 0 }, cap[4] = { 0, 0, 0, 0 };
	int k, pr, rc = 0;

	for (i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];
		int side = home[i] == RINDEX_BY_DST;
		const struct endpoint *ep = side ? &r->dst : &r->src;
		struct addrindex_quick q;
		uint32_t j, code;

		if (home[i] == RINDEX_BY_PORT)
			continue;
		code = addr_code(r, (uint32_t)i, home[i]);
		q = quick_of(r, home[i]);
		for (pr = 0; pr < PROTO_COUNT; pr++)
			if ((r->protos >> pr & 1) && code < ix->addr_min[pr])
				ix->addr_min[pr] = code;
		for (j = 0; j < ep->naddrs; j++) {
			k = side * 2 + (ep->addrs[j].family == 6);
			if (vec_grow(&e[k], &cap[k], n[k] + 1,
				     sizeof(*e[k])) < 0)
				goto oom;
			e[k][n[k]++] = (struct addrindex_entry){
				&ep->addrs[j], (uint32_t)i, r->protos, code, q,
				0
			};
		}
	}
	for (k = 0; k < 4; k++)
		if (addrindex_build(&ix->addr[k / 2][k % 2], e[k], n[k]) < 0)
			goto oom;
	goto out;
oom:
	rc = -1;
out:
	for (k = 0; k < 4; k++)
		free(e[k]);
	return rc;
}

/* Entries of all port indices of one ruleset together: 4 Mi rule indices
 * (16 MiB).  A policy that needs more is still exact, only slower: the
 * rules of an index over budget are tried in order with the residual ones. */
#define INDEX_BUDGET ((size_t)4 << 20)

int rindex_build(struct rindex *ix, const struct rule *rules, size_t nrules,
		 const struct expect_rule *expects, size_t nexpects)
{
	struct ix_entry *ent = NULL;
	struct scope *sc = NULL;
	struct port_set *set = NULL, *uni = NULL;
	size_t cap = nrules > nexpects ? nrules : nexpects;
	size_t i, ne, budget = INDEX_BUDGET;
	int pp, proto, rc, nfilt = 0;
	uint8_t demote_d[PROTO_COUNT] = { 0 }, demote_s[PROTO_COUNT] = { 0 };
	uint8_t *home = NULL;

	for (proto = 0; proto < PROTO_COUNT; proto++)
		ix->addr_min[proto] = ADDRINDEX_NONE;
	if (cap) {
		ent = calloc(cap * 2, sizeof(*ent));
		if (!ent)
			goto oom;
	}
	if (nrules) {
		home = malloc(nrules);
		if (!home)
			goto oom;
		for (i = 0; i < nrules; i++)
			home[i] = (uint8_t)rindex_home(&rules[i]);
	}
	for (i = 0; i < nrules; i++)
		nfilt += is_filter_only(&rules[i]);
	if (nfilt) {
		sc = calloc(nrules, sizeof(*sc));
		set = malloc(sizeof(*set));
		uni = malloc(sizeof(*uni));
		if (!sc || !set || !uni)
			goto oom;
		for (i = 0; i < nrules; i++)
			if (is_filter_only(&rules[i]) &&
			    scope_rule(&rules[i], &sc[i], set, uni) < 0)
				goto oom;
	}
	for (pp = 0; pp < PORT_PROTOS; pp++) {
		uint32_t bit = 1u << (PROTO_TCP + pp);

		ne = 0;
		for (i = 0; i < nrules; i++) {
			const struct rule *r = &rules[i];

			if (home[i] != RINDEX_BY_PORT)
				continue;
			if ((r->protos & bit) && r->dst.nports)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, r->dst.ports,
					r->dst.nports };
			else if (sc && sc[i].n[pp])
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, sc[i].r[pp], sc[i].n[pp] };
		}
		rc = index_build(&ix->rdport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		demote_d[PROTO_TCP + pp] = rc == 1;
		ne = 0;
		for (i = 0; i < nrules; i++) {
			const struct rule *r = &rules[i];

			if ((r->protos & bit) && !r->dst.nports &&
			    r->src.nports && home[i] == RINDEX_BY_PORT)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, r->src.ports,
					r->src.nports };
		}
		rc = index_build(&ix->rsport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		demote_s[PROTO_TCP + pp] = rc == 1;
		ne = 0;
		for (i = 0; i < nexpects; i++) {
			const struct expect_rule *x = &expects[i];

			if ((x->protos & bit) && x->dst.nports)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, x->dst.ports,
					x->dst.nports };
		}
		rc = index_build(&ix->xdport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		cap = 0;
		for (i = 0; i < nexpects; i++) {
			const struct expect_rule *x = &expects[i];

			if ((x->protos & bit) && (rc == 1 || !x->dst.nports) &&
			    list_push(&ix->xresid[pp], &cap, (uint32_t)i) < 0)
				goto oom;
		}
	}
	for (proto = 0; proto < PROTO_COUNT; proto++) {
		size_t capf[2] = { 0, 0 };
		int fam;

		cap = 0;
		for (i = 0; i < nrules; i++) {
			const struct rule *r = &rules[i];
			int resid = !r->dst.nports && !r->src.nports;
			int in;

			if (!(r->protos & (1u << proto)) ||
			    home[i] != RINDEX_BY_PORT)
				continue;
			if (r->dst.nports && demote_d[proto])
				resid = 1;
			if (!r->dst.nports && r->src.nports && demote_s[proto])
				resid = 1;
			if (!resid)
				continue;
			if (list_push(&ix->rresid[proto], &cap, (uint32_t)i) <
			    0)
				goto oom;
			for (fam = 0; fam < 2; fam++) {
				in = 1;
				/* A scoped filter is found in the dport map,
				 * unless that map is over budget. */
				if (sc && is_filter_only(r)) {
					uint8_t c = sc[i].cls[fam][proto];

					if (c == SCOPE_NEVER)
						in = 0;
					else if (c == SCOPE_SOME)
						in = demote_d[proto];
				}
				if (in && list_push(&ix->rresid_fam[fam][proto],
						    &capf[fam],
						    (uint32_t)i) < 0)
					goto oom;
			}
		}
	}
	if (fast_build(ix, rules) < 0)
		goto oom;
	if (nrules && addr_build(ix, rules, nrules, home) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	errno = ENOMEM;
	rc = -1;
out:
	if (sc)
		for (i = 0; i < nrules; i++)
			for (pp = 0; pp < PORT_PROTOS; pp++)
				free(sc[i].r[pp]);
	free(sc);
	free(set);
	free(uni);
	free(ent);
	free(home);
	return rc;
}

