/*
 * ruleset: parser and compiled form of portclass.rules(5).
 *
 * Parsing is pfctl-like: one statement per line, errors are reported with
 * file:line:col and a caret, the parser resynchronises at the next line and
 * the load fails at the end if anything was wrong, so one run shows every
 * mistake (includes too).
 *
 * Compiled form: explicit rules stay in file order (their index is their
 * priority).  For each port protocol, two 65536-entry uint16 maps send a
 * destination (resp. source) port to an interval id; an interval holds the
 * ascending list of rule indices whose port set covers it, and runs of
 * ports with the same list share one interval, so memory grows with the
 * number of range boundaries, not with the width of the ranges.  Rules
 * without any port constraint live in a per-protocol "residual" list.  A
 * packet's candidates are the merge of at most three short ascending lists;
 * the first candidate that passes the full test wins.  A port-only policy
 * is one map lookup and, usually, one candidate.
 */
#include "ruleset.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bpfscope.h"
#include "class.h"
#include "lexer.h"

#define PORT_PROTOS 5 /* PROTO_TCP .. PROTO_DCCP, contiguous */
#define PORT_PROTO_MASK                                                      \
	((1u << PROTO_TCP) | (1u << PROTO_UDP) | (1u << PROTO_UDPLITE) |     \
	 (1u << PROTO_SCTP) | (1u << PROTO_DCCP))
#define ALL_PROTO_MASK ((1u << PROTO_COUNT) - 1)
#define INCLUDE_DEPTH_MAX 16
#define FILE_SIZE_MAX (16u << 20)

/* ---- keywords ---------------------------------------------------------- */

/* One list gives both the enum and the (sorted) table, so they cannot drift
 * apart; tests/test_ruleset.c checks the order bsearch relies on. */
#define KEYWORDS(X)                                                          \
	X(ANY, "any")                                                        \
	X(CLASS, "class")                                                    \
	X(DEFAULT, "default")                                                \
	X(DROP, "drop")                                                      \
	X(DYNAMIC_RANGE, "dynamic-range")                                    \
	X(EXPECT, "expect")                                                  \
	X(FILTER, "filter")                                                  \
	X(FROM, "from")                                                      \
	X(INCLUDE, "include")                                                \
	X(INVALID, "invalid")                                                \
	X(LOCAL, "local")                                                    \
	X(LOG, "log")                                                        \
	X(LOOPBACK, "loopback")                                              \
	X(NEW, "new")                                                        \
	X(PASS, "pass")                                                      \
	X(PORT, "port")                                                      \
	X(PROGRAM, "program")                                                \
	X(REJECT, "reject")                                                  \
	X(TO, "to")                                                          \
	X(UNEXPECTED, "unexpected")                                          \
	X(USER, "user")

enum keyword {
	KW_NONE = -1,
#define X(id, s) KW_##id,
	KEYWORDS(X)
#undef X
	KW_COUNT
};

static const char *const keywords[] = {
#define X(id, s) s,
	KEYWORDS(X)
#undef X
};

const char *const *ruleset_keywords(size_t *n)
{
	*n = sizeof(keywords) / sizeof(keywords[0]);
	return keywords;
}

static int kw_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static enum keyword kw_lookup(const char *s)
{
	const char *const *k = bsearch(s, keywords, KW_COUNT,
				       sizeof(keywords[0]), kw_cmp);

	return k ? (enum keyword)(k - keywords) : KW_NONE;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_DROP:
		return "drop";
	case VERDICT_REJECT:
		return "reject";
	default:
		return "?";
	}
}

/* ---- compiled form ----------------------------------------------------- */

struct endpoint {
	uint32_t naddrs, nports;
	struct addr_prefix *addrs; /* none: any address */
	struct port_range *ports;  /* none: any port; sorted, disjoint */
};

/* What the per-packet test and the answer read comes first, so a
 * port-only match touches one cache line of its rule. */
struct rule {
	uint32_t protos; /* bit per enum packet_proto */
	uint8_t verdict, log, is_new, has_filter;
	unsigned line;
	const char *file;
	struct endpoint src, dst;
	struct bpf_program prog;
};

struct expect_rule {
	uint32_t protos;
	struct endpoint src, dst;
	char *program, *user;
	const char *file;
	unsigned line;
};

/* An interval's candidates: a single rule index inline (n == 1, the usual
 * case for port rules, one memory access less), else items[v .. v+n). */
struct interval {
	uint32_t n, v;
};

struct port_index {
	uint16_t *map;	 /* port -> interval; NULL when nothing indexed */
	struct interval *ivl;
	uint32_t *off;	 /* while building: items[off[i] .. off[i+1]) */
	uint32_t *items; /* rule indices, ascending within an interval */
};

struct idx_list {
	uint32_t *v;
	uint32_t n;
};

struct ruleset {
	struct rule *rules;
	size_t nrules, caprules;
	struct expect_rule *expects;
	size_t nexpects, capexpects;
	struct addr_prefix *locals;
	size_t nlocals, caplocals;
	char **files;
	size_t nfiles, capfiles;

	struct port_range dyn;
	char dyn_name[24];
	uint8_t unexp_verdict, unexp_log, def_verdict, def_log;
	uint8_t inv_verdict, inv_log;
	uint8_t loopback_in;

	struct port_index rdport[PORT_PROTOS], rsport[PORT_PROTOS];
	struct idx_list rresid[PROTO_COUNT];
	/* Residual lists for plain packets ([0] IPv4 with a 20-byte header,
	 * [1] IPv6 without extension headers; ports parsed when the protocol
	 * has them): filter rules that cannot match such a packet of that
	 * protocol are left out, and those that can only on some destination
	 * ports are found through rdport instead (see bpfscope.h). */
	struct idx_list rresid_fam[2][PROTO_COUNT];
	struct port_index xdport[PORT_PROTOS];
	struct idx_list xresid[PORT_PROTOS];

	/* The answer for most port-carrying packets in one or two loads (see
	 * fast_build): by destination port (NULL: fast_dc for every port)
	 * and by source port (NULL: no source-port rules to consider). */
	uint16_t *fast_d[PORT_PROTOS], *fast_s[PORT_PROTOS];
	uint16_t fast_dc[PORT_PROTOS];
	struct ruleset_summary sum;
};

static int grow(void *pp, size_t *cap, size_t need, size_t elsz)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elsz) {
			errno = ENOMEM;
			return -1;
		}
		ncap *= 2;
	}
	np = realloc(*p, ncap * elsz);
	if (!np) {
		errno = ENOMEM;
		return -1;
	}
	*p = np;
	*cap = ncap;
	return 0;
}

static void endpoint_free(struct endpoint *e)
{
	free(e->addrs);
	free(e->ports);
	memset(e, 0, sizeof(*e));
}

static void rule_free(struct rule *r)
{
	endpoint_free(&r->src);
	endpoint_free(&r->dst);
	if (r->has_filter)
		pcap_freecode(&r->prog);
	r->has_filter = 0;
}

static void expect_free(struct expect_rule *x)
{
	endpoint_free(&x->src);
	endpoint_free(&x->dst);
	free(x->program);
	free(x->user);
	x->program = x->user = NULL;
}

static void index_free(struct port_index *ix)
{
	free(ix->map);
	free(ix->ivl);
	free(ix->off);
	free(ix->items);
	memset(ix, 0, sizeof(*ix));
}

void ruleset_free(struct ruleset *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	for (i = 0; i < rs->nexpects; i++)
		expect_free(&rs->expects[i]);
	free(rs->expects);
	free(rs->locals);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	for (i = 0; i < PORT_PROTOS; i++) {
		free(rs->fast_d[i]);
		free(rs->fast_s[i]);
		index_free(&rs->rdport[i]);
		index_free(&rs->rsport[i]);
		index_free(&rs->xdport[i]);
		free(rs->xresid[i].v);
	}
	for (i = 0; i < PROTO_COUNT; i++) {
		free(rs->rresid[i].v);
		free(rs->rresid_fam[0][i].v);
		free(rs->rresid_fam[1][i].v);
	}
	free(rs);
}

static struct ruleset *ruleset_new(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs) {
		errno = ENOMEM;
		return NULL;
	}
	rs->dyn.lo = 49152;
	rs->dyn.hi = 65535;
	snprintf(rs->dyn_name, sizeof(rs->dyn_name), "iana");
	rs->unexp_verdict = VERDICT_DROP;
	rs->unexp_log = 1;
	rs->def_verdict = VERDICT_PASS;
	rs->def_log = 0;
	/* What cannot be read is never waved through (portclass.rules(5)). */
	rs->inv_verdict = VERDICT_DROP;
	rs->inv_log = 1;
	return rs;
}

/* ---- building the port indices ----------------------------------------- */

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

static int range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)x->hi - (int)y->hi;
}

/* Sorts and merges overlapping or adjacent ranges, so a rule contributes
 * one add and one remove event per maximal run of ports. */
static void ports_normalize(struct endpoint *e)
{
	uint32_t i, o = 0;

	if (e->nports < 2)
		return;
	qsort(e->ports, e->nports, sizeof(e->ports[0]), range_cmp);
	for (i = 1; i < e->nports; i++) {
		struct port_range *last = &e->ports[o];

		if ((uint32_t)e->ports[i].lo <= (uint32_t)last->hi + 1) {
			if (e->ports[i].hi > last->hi)
				last->hi = e->ports[i].hi;
		} else {
			e->ports[++o] = e->ports[i];
		}
	}
	e->nports = o + 1;
}

/* Sweeps the port space once: events at each range start/end update the
 * ascending set of active rules, and a new interval is opened only when
 * the set changes.  The lists take at most *budget entries (shared by all
 * indices of a ruleset): many wide, staggered, overlapping ranges could
 * otherwise need rules x intervals entries.  Returns 0, 1 when the budget
 * ran out (ix left empty: the caller falls back to ordered matching), or
 * -1 with errno ENOMEM. */
static int index_build(struct port_index *ix, const struct ix_entry *e,
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
				index_free(ix);
				return 1;
			}
			if (grow(&ix->off, &capoff, (size_t)nint + 2,
				 sizeof(*ix->off)) < 0 ||
			    grow(&ix->items, &capitems, nitems + nactive + 1,
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
	index_free(ix);
	errno = ENOMEM;
	return -1;
}

static int list_push(struct idx_list *l, size_t *cap, uint32_t v)
{
	if (grow(&l->v, cap, (size_t)l->n + 1, sizeof(*l->v)) < 0)
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
 * rule" (FAST_NONE), or "ask the slow path" (odd).  Entries are 16 bits
 * so that the tables of a TCP+UDP policy stay within a core's L2 cache;
 * rules past the first 32766 are always left to the slow path, which is
 * still exact (a smaller index found by the other table still wins).
 */
#define FAST_NONE 0xffffu
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

static uint16_t fast_first(const struct ruleset *rs,
			   const struct port_index *ix, uint32_t iv, int kind)
{
	const struct interval *x = &ix->ivl[iv];
	uint32_t v;

	if (x->n == 0)
		return FAST_NONE;
	v = x->n == 1 ? x->v : ix->items[x->v];
	return fast_code(&rs->rules[v], v, kind);
}

static int fast_build(struct ruleset *rs)
{
	int pp;

	for (pp = 0; pp < PORT_PROTOS; pp++) {
		const struct idx_list *res = &rs->rresid[PROTO_TCP + pp];
		const struct port_index *d = &rs->rdport[pp];
		const struct port_index *sp = &rs->rsport[pp];
		uint16_t r = res->n ? fast_code(&rs->rules[res->v[0]],
						res->v[0], 2)
				    : FAST_NONE;
		uint32_t port;

		rs->fast_dc[pp] = r;
		if (d->map) {
			rs->fast_d[pp] = malloc(65536 * sizeof(uint16_t));
			if (!rs->fast_d[pp])
				return -1;
			for (port = 0; port < 65536; port++) {
				uint16_t c = fast_first(rs, d, d->map[port], 0);

				rs->fast_d[pp][port] = c < r ? c : r;
			}
		}
		if (sp->map) {
			rs->fast_s[pp] = malloc(65536 * sizeof(uint16_t));
			if (!rs->fast_s[pp])
				return -1;
			for (port = 0; port < 65536; port++)
				rs->fast_s[pp][port] =
					fast_first(rs, sp, sp->map[port], 1);
		}
	}
	return 0;
}

static void summary_update(struct ruleset *rs)
{
	rs->sum.dyn = rs->dyn;
	rs->sum.has_local = rs->nlocals > 0;
	rs->sum.unexp_verdict = rs->unexp_verdict;
	rs->sum.unexp_log = rs->unexp_log;
	rs->sum.def_verdict = rs->def_verdict;
	rs->sum.def_log = rs->def_log;
	rs->sum.inv_verdict = rs->inv_verdict;
	rs->sum.inv_log = rs->inv_log;
	rs->sum.loopback_in = rs->loopback_in;
}

/* Entries of all port indices of one ruleset together: 4 Mi rule indices
 * (16 MiB).  A policy that needs more is still exact, only slower: the
 * rules of an index over budget are tried in order with the residual ones. */
#define INDEX_BUDGET ((size_t)4 << 20)

static int ruleset_compile(struct ruleset *rs)
{
	struct ix_entry *ent = NULL;
	struct scope *sc = NULL;
	struct port_set *set = NULL, *uni = NULL;
	size_t cap = rs->nrules > rs->nexpects ? rs->nrules : rs->nexpects;
	size_t i, ne, budget = INDEX_BUDGET;
	int pp, proto, rc, nfilt = 0;
	uint8_t demote_d[PROTO_COUNT] = { 0 }, demote_s[PROTO_COUNT] = { 0 };

	if (cap) {
		ent = calloc(cap * 2, sizeof(*ent));
		if (!ent)
			goto oom;
	}
	for (i = 0; i < rs->nrules; i++)
		nfilt += is_filter_only(&rs->rules[i]);
	if (nfilt) {
		sc = calloc(rs->nrules, sizeof(*sc));
		set = malloc(sizeof(*set));
		uni = malloc(sizeof(*uni));
		if (!sc || !set || !uni)
			goto oom;
		for (i = 0; i < rs->nrules; i++)
			if (is_filter_only(&rs->rules[i]) &&
			    scope_rule(&rs->rules[i], &sc[i], set, uni) < 0)
				goto oom;
	}
	for (pp = 0; pp < PORT_PROTOS; pp++) {
		uint32_t bit = 1u << (PROTO_TCP + pp);

		ne = 0;
		for (i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];

			if ((r->protos & bit) && r->dst.nports)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, r->dst.ports,
					r->dst.nports };
			else if (sc && sc[i].n[pp])
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, sc[i].r[pp], sc[i].n[pp] };
		}
		rc = index_build(&rs->rdport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		demote_d[PROTO_TCP + pp] = rc == 1;
		ne = 0;
		for (i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];

			if ((r->protos & bit) && !r->dst.nports &&
			    r->src.nports)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, r->src.ports,
					r->src.nports };
		}
		rc = index_build(&rs->rsport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		demote_s[PROTO_TCP + pp] = rc == 1;
		ne = 0;
		for (i = 0; i < rs->nexpects; i++) {
			const struct expect_rule *x = &rs->expects[i];

			if ((x->protos & bit) && x->dst.nports)
				ent[ne++] = (struct ix_entry){
					(uint32_t)i, x->dst.ports,
					x->dst.nports };
		}
		rc = index_build(&rs->xdport[pp], ent, ne, &budget);
		if (rc < 0)
			goto oom;
		cap = 0;
		for (i = 0; i < rs->nexpects; i++) {
			const struct expect_rule *x = &rs->expects[i];

			if ((x->protos & bit) && (rc == 1 || !x->dst.nports) &&
			    list_push(&rs->xresid[pp], &cap, (uint32_t)i) < 0)
				goto oom;
		}
	}
	for (proto = 0; proto < PROTO_COUNT; proto++) {
		size_t capf[2] = { 0, 0 };
		int fam;

		cap = 0;
		for (i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];
			int resid = !r->dst.nports && !r->src.nports;
			int in;

			if (!(r->protos & (1u << proto)))
				continue;
			if (r->dst.nports && demote_d[proto])
				resid = 1;
			if (!r->dst.nports && r->src.nports && demote_s[proto])
				resid = 1;
			if (!resid)
				continue;
			if (list_push(&rs->rresid[proto], &cap, (uint32_t)i) <
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
				if (in && list_push(&rs->rresid_fam[fam][proto],
						    &capf[fam],
						    (uint32_t)i) < 0)
					goto oom;
			}
		}
	}
	if (fast_build(rs) < 0)
		goto oom;
	summary_update(rs);
	rc = 0;
	goto out;
oom:
	errno = ENOMEM;
	rc = -1;
out:
	if (sc)
		for (i = 0; i < rs->nrules; i++)
			for (pp = 0; pp < PORT_PROTOS; pp++)
				free(sc[i].r[pp]);
	free(sc);
	free(set);
	free(uni);
	free(ent);
	return rc;
}

/* ---- parser ------------------------------------------------------------ */

struct pfile {
	const char *name; /* owned by rs->files */
	struct lexer lx;
	struct lexer_token tok;
	dev_t dev;
	ino_t ino;
	int has_id;
	struct pfile *parent;
	unsigned depth;
};

struct parser {
	struct ruleset *rs;
	const struct ruleset_opts *o;
	int nerrors;
	int oom;
	pcap_t *pcap;
	const char *dyn_file, *unexp_file, *def_file, *inv_file, *lo_file;
	unsigned dyn_line, unexp_line, def_line, inv_line, lo_line;
};

struct loc {
	unsigned line, col;
	size_t line_off;
};

static struct loc loc_of(const struct lexer_token *t)
{
	return (struct loc){ t->line, t->col, t->line_off };
}

static void emit(struct parser *ps, const char *diag)
{
	if (ps->o && ps->o->report)
		ps->o->report(ps->o->ctx, diag);
}

static void diag_loc(struct parser *ps, struct pfile *f, struct loc l,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void diag_loc(struct parser *ps, struct pfile *f, struct loc l,
		     const char *fmt, ...)
{
	char *buf = NULL;
	size_t sz = 0, llen, i;
	const char *line;
	FILE *m;
	va_list ap;

	ps->nerrors++;
	if (!ps->o || !ps->o->report)
		return;
	m = open_memstream(&buf, &sz);
	if (!m) {
		ps->oom = 1;
		return;
	}
	fprintf(m, "%s:%u:%u: error: ", f->name, l.line, l.col);
	va_start(ap, fmt);
	vfprintf(m, fmt, ap);
	va_end(ap);
	line = lexer_line(&f->lx, l.line_off, &llen);
	fputc('\n', m);
	/* The line is shown one byte per column so the caret lines up, but
	 * a NUL would cut the message short and a lone CR or an escape
	 * would redraw the terminal: control bytes other than tab show
	 * as '?'. */
	for (i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)line[i];

		fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, m);
	}
	fputc('\n', m);
	/* Tabs are copied so the caret lines up however the line is shown. */
	for (i = 0; i + 1 < l.col; i++)
		fputc(i < llen && line[i] == '\t' ? '\t' : ' ', m);
	fputc('^', m);
	if (fclose(m) != 0 || !buf) {
		free(buf);
		ps->oom = 1;
		return;
	}
	emit(ps, buf);
	free(buf);
}

#define diag(ps, f, ...) diag_loc(ps, f, loc_of(&(f)->tok), __VA_ARGS__)

static void diag_file(struct parser *ps, const char *name, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static void diag_file(struct parser *ps, const char *name, const char *fmt,
		      ...)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *m;
	va_list ap;

	ps->nerrors++;
	if (!ps->o || !ps->o->report)
		return;
	m = open_memstream(&buf, &sz);
	if (!m) {
		ps->oom = 1;
		return;
	}
	fprintf(m, "%s: error: ", name);
	va_start(ap, fmt);
	vfprintf(m, fmt, ap);
	va_end(ap);
	if (fclose(m) != 0 || !buf) {
		free(buf);
		ps->oom = 1;
		return;
	}
	emit(ps, buf);
	free(buf);
}

/* Advances to the next token.  A lexer error is reported here, once, and
 * turns into a parse failure of the current statement. */
static int next(struct parser *ps, struct pfile *f)
{
	if (lexer_next(&f->lx, &f->tok) < 0) {
		ps->oom = 1;
		return -1;
	}
	if (f->tok.type == LEXER_ERROR) {
		diag(ps, f, "%s", f->tok.text);
		return -1;
	}
	return 0;
}

static enum keyword tok_kw(const struct pfile *f)
{
	if (f->tok.type != LEXER_WORD)
		return KW_NONE;
	return kw_lookup(f->tok.text);
}

static int at_eol(const struct pfile *f)
{
	return f->tok.type == LEXER_NEWLINE || f->tok.type == LEXER_EOF;
}

static const char *describe(const struct pfile *f, char *buf, size_t n)
{
	return lexer_describe(&f->tok, buf, n);
}

/* Edit distance (bounded) for "did you mean" hints. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[32], i, j, la = (unsigned)strlen(a),
				 lb = (unsigned)strlen(b);

	if (la >= 31 || lb >= 31)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned prev = row[0], cur;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			cur = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* Closest of the given words within distance 2, or NULL. */
static const char *suggest(const char *word, const char *const *cands,
			   size_t n)
{
	const char *best = NULL;
	unsigned bd = 3, d;
	size_t i;

	for (i = 0; i < n; i++) {
		d = edit_distance(word, cands[i]);
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

/* "expected X, got Y" with a hint when Y is a near miss of one of cands. */
static void diag_expected(struct parser *ps, struct pfile *f,
			  const char *what, const char *const *cands,
			  size_t ncands)
{
	char d[64];
	const char *s = NULL;

	if (f->tok.type == LEXER_WORD && cands)
		s = suggest(f->tok.text, cands, ncands);
	if (s)
		diag(ps, f, "unexpected %s, expected %s (did you mean \"%s\"?)",
		     describe(f, d, sizeof(d)), what, s);
	else
		diag(ps, f, "unexpected %s, expected %s",
		     describe(f, d, sizeof(d)), what);
}

static int expect_eol(struct parser *ps, struct pfile *f, const char *what,
		      const char *const *cands, size_t ncands)
{
	if (at_eol(f))
		return 0;
	diag_expected(ps, f, what, cands, ncands);
	return -1;
}

static int parse_action(struct parser *ps, struct pfile *f, uint8_t *verdict)
{
	static const char *const acts[] = { "pass", "drop", "reject" };

	switch (tok_kw(f)) {
	case KW_PASS:
		*verdict = VERDICT_PASS;
		break;
	case KW_DROP:
		*verdict = VERDICT_DROP;
		break;
	case KW_REJECT:
		*verdict = VERDICT_REJECT;
		break;
	default:
		diag_expected(ps, f, "an action (pass, drop or reject)", acts,
			      3);
		return -1;
	}
	return next(ps, f);
}

static int proto_word(const char *s)
{
	int p = packet_proto_lookup(s);

	if (p < PROTO_TCP || p > PROTO_ICMP6)
		return -1;
	return p;
}

static const char *const proto_names[] = { "tcp",  "udp",  "udplite",
					    "sctp", "dccp", "icmp",
					    "icmp6" };

static int parse_one_proto(struct parser *ps, struct pfile *f,
			   uint32_t *mask)
{
	int p;

	if (f->tok.type != LEXER_WORD || (p = proto_word(f->tok.text)) < 0) {
		diag_expected(ps, f,
			      "a protocol (tcp, udp, udplite, sctp, dccp, "
			      "icmp or icmp6)",
			      proto_names, 7);
		return -1;
	}
	*mask |= 1u << p;
	return next(ps, f);
}

/* Items of a `{ ... }` list: separated by commas or blanks, not empty. */
typedef int (*item_fn)(struct parser *ps, struct pfile *f, void *arg);

static int parse_list(struct parser *ps, struct pfile *f, item_fn item,
		      void *arg, const char *what)
{
	int n = 0;

	if (next(ps, f) < 0) /* past `{` */
		return -1;
	for (;;) {
		if (f->tok.type == LEXER_RBRACE) {
			if (n == 0) {
				diag(ps, f, "empty list, expected %s", what);
				return -1;
			}
			return next(ps, f);
		}
		if (at_eol(f)) {
			diag(ps, f, "missing \"}\" (lists end on the line "
				    "they start)");
			return -1;
		}
		if (item(ps, f, arg) < 0)
			return -1;
		n++;
		if (f->tok.type == LEXER_COMMA) {
			if (next(ps, f) < 0)
				return -1;
			if (f->tok.type == LEXER_RBRACE || at_eol(f)) {
				char d[64];

				diag(ps, f, "unexpected %s after \",\", "
					    "expected %s",
				     describe(f, d, sizeof(d)), what);
				return -1;
			}
		}
	}
}

static int proto_item(struct parser *ps, struct pfile *f, void *arg)
{
	return parse_one_proto(ps, f, arg);
}

static int parse_protos(struct parser *ps, struct pfile *f, uint32_t *mask)
{
	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, proto_item, mask, "a protocol");
	return parse_one_proto(ps, f, mask);
}

struct vec_arg {
	struct endpoint *e;
	size_t cap;
};

/* The address or prefix at the current token (not consumed), for
 * addresses in rules and for `local`. */
static int prefix_tok(struct parser *ps, struct pfile *f,
		      struct addr_prefix *pfx)
{
	char err[128];

	if (f->tok.type != LEXER_WORD || tok_kw(f) != KW_NONE) {
		char d[64];

		diag(ps, f, "unexpected %s, expected an address or prefix",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (addr_prefix_parse(f->tok.text, pfx, err, sizeof(err)) < 0) {
		diag(ps, f, "%s", err[0] ? err : "bad address");
		return -1;
	}
	return 0;
}

static int addr_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct vec_arg *va = arg;
	struct addr_prefix pfx;

	if (prefix_tok(ps, f, &pfx) < 0)
		return -1;
	if (grow(&va->e->addrs, &va->cap, (size_t)va->e->naddrs + 1,
		 sizeof(pfx)) < 0) {
		ps->oom = 1;
		return -1;
	}
	va->e->addrs[va->e->naddrs++] = pfx;
	return next(ps, f);
}

/* ADDRS := any | ADDR | CIDR | { ... } */
static int parse_addrs(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	struct vec_arg va = { e, 0 };

	if (tok_kw(f) == KW_ANY)
		return next(ps, f);
	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, addr_item, &va,
				  "an address or prefix");
	return addr_item(ps, f, &va);
}

static int port_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct vec_arg *va = arg;
	struct port_range r;
	char err[128], d[64];

	if (f->tok.type != LEXER_WORD) {
		diag(ps, f, "unexpected %s, expected a port or range N-M",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (range_parse(f->tok.text, &r, err, sizeof(err)) < 0) {
		diag(ps, f, "%s", err[0] ? err : "bad port");
		return -1;
	}
	if (grow(&va->e->ports, &va->cap, (size_t)va->e->nports + 1,
		 sizeof(r)) < 0) {
		ps->oom = 1;
		return -1;
	}
	va->e->ports[va->e->nports++] = r;
	return next(ps, f);
}

static int parse_ports(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	struct vec_arg va = { e, 0 };

	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, port_item, &va, "a port or range");
	return port_item(ps, f, &va);
}

static int parse_class(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	static const char *const names[] = { "system", "user", "dynamic" };
	struct port_range r;
	int c = f->tok.type == LEXER_WORD ? class_lookup(f->tok.text) : -1;

	switch (c) {
	case CLASS_SYSTEM:
		r = (struct port_range){ 0, CLASS_SYSTEM_LAST };
		break;
	case CLASS_USER:
		r = (struct port_range){ CLASS_SYSTEM_LAST + 1,
					 CLASS_USER_LAST };
		break;
	case CLASS_DYNAMIC:
		r = (struct port_range){ CLASS_USER_LAST + 1, 65535 };
		break;
	default:
		diag_expected(ps, f, "a port class (system, user or dynamic)",
			      names, 3);
		return -1;
	}
	e->ports = malloc(sizeof(r));
	if (!e->ports) {
		ps->oom = 1;
		return -1;
	}
	e->ports[0] = r;
	e->nports = 1;
	return next(ps, f);
}

/* `port` and `class` need port-carrying protocols: an explicit icmp is an
 * error, an absent protocol becomes the five port protocols. */
static int check_port_protos(struct parser *ps, struct pfile *f,
			     uint32_t *protos)
{
	int p;

	if (*protos == 0) {
		*protos = PORT_PROTO_MASK;
		return 0;
	}
	for (p = 0; p < PROTO_COUNT; p++) {
		if ((*protos & (1u << p)) && !(PORT_PROTO_MASK & (1u << p))) {
			diag(ps, f, "\"%s\" with %s: %s has no ports",
			     f->tok.text, packet_proto_name((enum packet_proto)p),
			     packet_proto_name((enum packet_proto)p));
			return -1;
		}
	}
	return 0;
}

static int parse_portspec(struct parser *ps, struct pfile *f,
			  uint32_t *protos, struct endpoint *e)
{
	enum keyword k = tok_kw(f);

	if (check_port_protos(ps, f, protos) < 0)
		return -1;
	if (next(ps, f) < 0)
		return -1;
	return k == KW_PORT ? parse_ports(ps, f, e) : parse_class(ps, f, e);
}

/* from/to (ADDRS [port PORTS | class CLASS] | port PORTS | class CLASS) */
static int parse_endpoint(struct parser *ps, struct pfile *f,
			  uint32_t *protos, struct endpoint *e)
{
	enum keyword k;

	if (next(ps, f) < 0)
		return -1;
	k = tok_kw(f);
	if (k == KW_PORT || k == KW_CLASS)
		return parse_portspec(ps, f, protos, e);
	if (at_eol(f)) {
		diag(ps, f, "missing address, expected any, an address, a "
			    "prefix, a list, port or class");
		return -1;
	}
	if (parse_addrs(ps, f, e) < 0)
		return -1;
	k = tok_kw(f);
	if (k == KW_PORT || k == KW_CLASS)
		return parse_portspec(ps, f, protos, e);
	return 0;
}

static const char *intern_file(struct parser *ps, const char *name)
{
	struct ruleset *rs = ps->rs;
	char *s;

	if (grow(&rs->files, &rs->capfiles, rs->nfiles + 1,
		 sizeof(*rs->files)) < 0)
		return NULL;
	s = strdup(name);
	if (!s)
		return NULL;
	rs->files[rs->nfiles++] = s;
	return s;
}

static int compile_filter(struct parser *ps, struct pfile *f, struct rule *r)
{
	if (!ps->pcap) {
		ps->pcap = pcap_open_dead(DLT_RAW, 65535);
		if (!ps->pcap) {
			ps->oom = 1;
			return -1;
		}
	}
	if (pcap_compile(ps->pcap, &r->prog, f->tok.text, 1,
			 PCAP_NETMASK_UNKNOWN) < 0) {
		diag(ps, f, "filter: %s", pcap_geterr(ps->pcap));
		return -1;
	}
	r->has_filter = 1;
	return 0;
}

static int add_rule(struct parser *ps, struct rule *r)
{
	struct ruleset *rs = ps->rs;

	if (grow(&rs->rules, &rs->caprules, rs->nrules + 1,
		 sizeof(*rs->rules)) < 0) {
		ps->oom = 1;
		return -1;
	}
	ports_normalize(&r->src);
	ports_normalize(&r->dst);
	rs->rules[rs->nrules++] = *r;
	return 0;
}

static const char *const rule_tail_words[] = { "from", "to", "filter",
						"new" };

static int parse_filter_clause(struct parser *ps, struct pfile *f,
			       struct rule *r)
{
	char d[64];

	if (r->has_filter) {
		diag(ps, f, "duplicate \"filter\"");
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_STRING) {
		diag(ps, f, "unexpected %s, expected a quoted pcap-filter "
			    "expression",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	if (compile_filter(ps, f, r) < 0)
		return -1;
	return next(ps, f);
}

/* ACTION [log] [PROTO] [from ...] [to ...] [filter "expr"] [new]
 * The filter may be scoped by protocol and ports: such a rule sits in the
 * port maps like any other and its BPF program only runs on the ports it
 * names. */
static int parse_rule(struct parser *ps, struct pfile *f)
{
	struct rule r;
	int seen_from = 0, seen_to = 0;
	enum keyword k;

	memset(&r, 0, sizeof(r));
	r.file = f->name;
	r.line = f->tok.line;
	if (parse_action(ps, f, &r.verdict) < 0)
		return -1;
	if (tok_kw(f) == KW_LOG) {
		r.log = 1;
		if (next(ps, f) < 0)
			return -1;
	}
	if (f->tok.type == LEXER_LBRACE ||
	    (f->tok.type == LEXER_WORD && tok_kw(f) == KW_NONE)) {
		if (f->tok.type == LEXER_WORD && proto_word(f->tok.text) < 0) {
			static const char *const cands[] = {
				"tcp",	"udp",	  "udplite", "sctp",
				"dccp", "icmp",	  "icmp6",   "from",
				"to",	"new",	  "filter",  "log"
			};
			diag_expected(ps, f,
				      "a protocol, from, to, filter, new or "
				      "end of line",
				      cands, sizeof(cands) / sizeof(cands[0]));
			return -1;
		}
		if (parse_protos(ps, f, &r.protos) < 0)
			return -1;
	}
	for (;;) {
		k = tok_kw(f);
		if (k == KW_FROM || k == KW_TO) {
			int *seen = k == KW_FROM ? &seen_from : &seen_to;

			if (*seen || (k == KW_FROM && seen_to) || r.has_filter) {
				diag(ps, f, "%s",
				     r.has_filter
					     ? "\"from\" and \"to\" must come "
					       "before \"filter\""
				     : k == KW_FROM && !seen_from
					     ? "\"from\" must come before "
					       "\"to\""
				     : k == KW_FROM ? "duplicate \"from\""
						    : "duplicate \"to\"");
				goto fail;
			}
			*seen = 1;
			if (parse_endpoint(ps, f, &r.protos,
					   k == KW_FROM ? &r.src : &r.dst) < 0)
				goto fail;
		} else if (k == KW_FILTER) {
			if (parse_filter_clause(ps, f, &r) < 0)
				goto fail;
		} else if (k == KW_NEW) {
			r.is_new = 1;
			if (next(ps, f) < 0)
				goto fail;
			if (expect_eol(ps, f,
				       "end of line (\"new\" comes last)",
				       NULL, 0) < 0)
				goto fail;
			break;
		} else {
			break;
		}
	}
	if (expect_eol(ps, f,
		       r.protos == 0 && !seen_from && !seen_to && !r.has_filter
			       ? "a protocol, from, to, filter, new or end "
				 "of line"
			       : r.has_filter ? "new or end of line"
					      : "from, to, filter, new or end "
						"of line",
		       rule_tail_words, 4) < 0)
		goto fail;
	if (r.protos == 0)
		r.protos = ALL_PROTO_MASK;
	if (add_rule(ps, &r) < 0)
		goto fail;
	return 0;
fail:
	rule_free(&r);
	return -1;
}

/* NAME: a bare word or a quoted string. */
static int parse_name(struct parser *ps, struct pfile *f, char **out,
		      const char *what)
{
	char d[64];

	if (*out) {
		diag(ps, f, "duplicate \"%s\"", what);
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if ((f->tok.type != LEXER_WORD && f->tok.type != LEXER_STRING) ||
	    f->tok.len == 0) {
		diag(ps, f, "unexpected %s, expected a %s name",
		     describe(f, d, sizeof(d)), what);
		return -1;
	}
	*out = strdup(f->tok.text);
	if (!*out) {
		ps->oom = 1;
		return -1;
	}
	return next(ps, f);
}

/* expect PROTO [port PORTS] [from ADDRS] [to ADDRS] [program NAME]
 * [user NAME]; the optional clauses may come in any order, once each. */
static int parse_expect(struct parser *ps, struct pfile *f)
{
	static const char *const words[] = { "port", "from", "to", "program",
					     "user" };
	struct expect_rule x;
	struct ruleset *rs = ps->rs;
	int seen_port = 0, seen_from = 0, seen_to = 0, p;
	char d[64];

	memset(&x, 0, sizeof(x));
	x.file = f->name;
	x.line = f->tok.line;
	if (next(ps, f) < 0)
		return -1;
	if (at_eol(f)) {
		diag(ps, f, "expect needs a protocol (tcp, udp, udplite, sctp "
			    "or dccp)");
		return -1;
	}
	{
		struct lexer_token start = f->tok;

		if (parse_protos(ps, f, &x.protos) < 0)
			return -1;
		for (p = 0; p < PROTO_COUNT; p++) {
			if ((x.protos & (1u << p)) &&
			    !(PORT_PROTO_MASK & (1u << p))) {
				diag_loc(ps, f, loc_of(&start),
					 "expect with %s: only tcp, udp, "
					 "udplite, sctp and dccp have "
					 "listeners",
					 packet_proto_name((enum packet_proto)p));
				return -1;
			}
		}
	}
	for (;;) {
		enum keyword k = tok_kw(f);
		int *seen = NULL;

		if (k == KW_PORT)
			seen = &seen_port;
		else if (k == KW_FROM)
			seen = &seen_from;
		else if (k == KW_TO)
			seen = &seen_to;
		if (seen) {
			if (*seen) {
				diag(ps, f, "duplicate \"%s\"", f->tok.text);
				goto fail;
			}
			*seen = 1;
			if (next(ps, f) < 0)
				goto fail;
			if (at_eol(f)) {
				diag(ps, f, "unexpected %s after \"%s\"",
				     describe(f, d, sizeof(d)),
				     k == KW_PORT ? "port"
						  : k == KW_FROM ? "from"
								 : "to");
				goto fail;
			}
			if (k == KW_PORT ? parse_ports(ps, f, &x.dst) < 0
					 : parse_addrs(ps, f,
						       k == KW_FROM ? &x.src
								    : &x.dst) <
						   0)
				goto fail;
		} else if (k == KW_PROGRAM) {
			if (parse_name(ps, f, &x.program, "program") < 0)
				goto fail;
		} else if (k == KW_USER) {
			if (parse_name(ps, f, &x.user, "user") < 0)
				goto fail;
		} else {
			break;
		}
	}
	if (expect_eol(ps, f, "port, from, to, program, user or end of line",
		       words, 5) < 0)
		goto fail;
	if (grow(&rs->expects, &rs->capexpects, rs->nexpects + 1,
		 sizeof(*rs->expects)) < 0) {
		ps->oom = 1;
		goto fail;
	}
	ports_normalize(&x.dst);
	rs->expects[rs->nexpects++] = x;
	return 0;
fail:
	expect_free(&x);
	return -1;
}

static int local_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct ruleset *rs = ps->rs;
	struct addr_prefix pfx;

	(void)arg;
	if (prefix_tok(ps, f, &pfx) < 0)
		return -1;
	if (grow(&rs->locals, &rs->caplocals, rs->nlocals + 1,
		 sizeof(pfx)) < 0) {
		ps->oom = 1;
		return -1;
	}
	rs->locals[rs->nlocals++] = pfx;
	return next(ps, f);
}

/* local PREFIX [, PREFIX ...] | local { ... }.  Prefixes of a line that
 * has an error are dropped with it (the load fails anyway). */
static int parse_local(struct parser *ps, struct pfile *f)
{
	size_t before = ps->rs->nlocals;

	if (next(ps, f) < 0)
		return -1;
	if (at_eol(f)) {
		diag(ps, f, "local needs an address or prefix");
		return -1;
	}
	if (f->tok.type == LEXER_LBRACE) {
		if (parse_list(ps, f, local_item, NULL,
			       "an address or prefix") < 0)
			goto fail;
	} else {
		for (;;) {
			if (local_item(ps, f, NULL) < 0)
				goto fail;
			if (f->tok.type != LEXER_COMMA)
				break;
			if (next(ps, f) < 0)
				goto fail;
		}
	}
	if (expect_eol(ps, f, "\",\" or end of line", NULL, 0) < 0)
		goto fail;
	return 0;
fail:
	ps->rs->nlocals = before;
	return -1;
}

static int parse_dynamic_range(struct parser *ps, struct pfile *f)
{
	struct ruleset *rs = ps->rs;
	struct port_range r;
	struct loc kwl = loc_of(&f->tok);
	char err[256], name[sizeof(rs->dyn_name)], d[64];
	const char *procroot;

	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_WORD) {
		diag(ps, f, "unexpected %s, expected iana, linux, windows, "
			    "freebsd, macos, solaris, host or N-M",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (strcmp(f->tok.text, "host") == 0) {
		procroot = ps->o && ps->o->procroot ? ps->o->procroot : "/proc";
		if (range_host(procroot, &r, err, sizeof(err)) < 0) {
			diag(ps, f, "dynamic-range host: %s",
			     err[0] ? err : "cannot read the host's range");
			return -1;
		}
		snprintf(name, sizeof(name), "host");
	} else if (range_profile_lookup(f->tok.text, &r) == 0) {
		snprintf(name, sizeof(name), "%s", f->tok.text);
	} else if (f->tok.text[0] >= '0' && f->tok.text[0] <= '9') {
		if (range_parse(f->tok.text, &r, err, sizeof(err)) < 0) {
			diag(ps, f, "%s", err[0] ? err : "bad port range");
			return -1;
		}
		if (r.lo == r.hi)
			snprintf(name, sizeof(name), "%u", r.lo);
		else
			snprintf(name, sizeof(name), "%u-%u", r.lo, r.hi);
	} else {
		static const char *const profs[] = { "iana",  "linux",
						     "windows", "freebsd",
						     "macos", "solaris",
						     "host" };
		diag_expected(ps, f,
			      "iana, linux, windows, freebsd, macos, solaris, "
			      "host or N-M",
			      profs, 7);
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		return -1;
	if (ps->dyn_file) {
		diag_loc(ps, f, kwl, "duplicate dynamic-range (first set at "
				     "%s:%u)",
			 ps->dyn_file, ps->dyn_line);
		return 0; /* the line itself was fine: no resync needed */
	}
	ps->dyn_file = f->name;
	ps->dyn_line = kwl.line;
	rs->dyn = r;
	memcpy(rs->dyn_name, name, sizeof(name));
	return 0;
}

enum policy_kind { POLICY_UNEXPECTED, POLICY_DEFAULT, POLICY_INVALID };

/* unexpected|default|invalid ACTION [log] */
static int parse_policy(struct parser *ps, struct pfile *f,
			enum policy_kind kind)
{
	static const char *const kname[] = { "unexpected", "default",
					      "invalid" };
	struct ruleset *rs = ps->rs;
	struct loc kwl = loc_of(&f->tok);
	const char **pf = kind == POLICY_DEFAULT ? &ps->def_file
			  : kind == POLICY_INVALID ? &ps->inv_file
						   : &ps->unexp_file;
	unsigned *pl = kind == POLICY_DEFAULT ? &ps->def_line
		       : kind == POLICY_INVALID ? &ps->inv_line
						: &ps->unexp_line;
	uint8_t v;
	int log = 0;
	static const char *const lw[] = { "log" };

	if (next(ps, f) < 0)
		return -1;
	if (parse_action(ps, f, &v) < 0)
		return -1;
	if (tok_kw(f) == KW_LOG) {
		log = 1;
		if (next(ps, f) < 0)
			return -1;
	}
	if (expect_eol(ps, f, "log or end of line", lw, 1) < 0)
		return -1;
	if (*pf) {
		diag_loc(ps, f, kwl, "duplicate \"%s\" (first set at %s:%u)",
			 kname[kind], *pf, *pl);
		return 0;
	}
	*pf = f->name;
	*pl = kwl.line;
	if (kind == POLICY_DEFAULT) {
		rs->def_verdict = v;
		rs->def_log = (uint8_t)log;
	} else if (kind == POLICY_INVALID) {
		rs->inv_verdict = v;
		rs->inv_log = (uint8_t)log;
	} else {
		rs->unexp_verdict = v;
		rs->unexp_log = (uint8_t)log;
	}
	return 0;
}

/* loopback inbound|local */
static int parse_loopback(struct parser *ps, struct pfile *f)
{
	static const char *const words[] = { "inbound", "local" };
	struct loc kwl = loc_of(&f->tok);
	int in;

	if (next(ps, f) < 0)
		return -1;
	/* The argument is matched as text, not as a keyword, so that
	 * "inbound" stays free for names elsewhere. */
	if (f->tok.type != LEXER_WORD ||
	    (strcmp(f->tok.text, "inbound") && strcmp(f->tok.text, "local"))) {
		diag_expected(ps, f, "inbound or local", words, 2);
		return -1;
	}
	in = !strcmp(f->tok.text, "inbound");
	if (next(ps, f) < 0)
		return -1;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		return -1;
	if (ps->lo_file) {
		diag_loc(ps, f, kwl, "duplicate \"loopback\" (first set at %s:%u)",
			 ps->lo_file, ps->lo_line);
		return 0;
	}
	ps->lo_file = f->name;
	ps->lo_line = kwl.line;
	ps->rs->loopback_in = (uint8_t)in;
	return 0;
}

static int parse_file(struct parser *ps, struct pfile *f);

/* Reads a whole regular file (bounded) into a NUL-terminated buffer, once. */
static int read_once(const char *path, char **text, size_t *len,
		     struct stat *st, const char **why)
{
	char *buf = NULL;
	size_t n = 0;
	int fd, e;

	*why = NULL;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer,
	 * forever; fstat below turns it away like any other non-file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		errno = EINVAL;
		goto fail;
	}
	if (st->st_size > (off_t)FILE_SIZE_MAX) {
		*why = "file too large (limit 16 MiB)";
		errno = EFBIG;
		goto fail;
	}
	/* One byte more than announced: a file that grew is noticed. */
	buf = malloc((size_t)st->st_size + 2);
	if (!buf)
		goto fail;
	while (n < (size_t)st->st_size + 1) {
		ssize_t r = read(fd, buf + n, (size_t)st->st_size + 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	*text = buf;
	*len = n;
	return 0;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

static int same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A file modified less than this long ago may still be being written. */
#define READ_SETTLE_NS 50000000LL
/* Tries before a file that keeps changing is refused (about 2 s). */
#define READ_TRIES 40

static long long ns_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000000000LL +
	       (now.tv_nsec - t->tv_nsec);
}

/*
 * Reads a rules file that is not changing.  A file rewritten in place
 * (truncated, then written) can be caught half-written, and a half is
 * often a valid policy (`dynamic-range 4` of `dynamic-range 49152-65535`):
 * applied, it would silently guard the wrong range.  So the file is read
 * only once it has been left alone for READ_SETTLE_NS, and the read counts
 * only if the file is the same version (inode, size, mtime, ctime) before,
 * during and after it and holds exactly the announced bytes; otherwise it
 * is read again, up to READ_TRIES times, then refused ("changed while being
 * read").  A file replaced by rename never shows a half.
 */
static int read_file(const char *path, char **text, size_t *len, dev_t *dev,
		     ino_t *ino, const char **why)
{
	struct stat before, during, after;
	struct timespec pause = { 0, READ_SETTLE_NS };

	for (int tries = 0;; tries++) {
		char *buf = NULL;
		size_t n = 0;
		long long age;

		if (stat(path, &before) < 0) {
			*why = NULL;
			return -1;
		}
		age = ns_since(&before.st_mtim);
		if (ns_since(&before.st_ctim) < age)
			age = ns_since(&before.st_ctim);
		if (age >= 0 && age < READ_SETTLE_NS && tries < READ_TRIES) {
			struct timespec wait = { 0, READ_SETTLE_NS - age };

			nanosleep(&wait, NULL);
			continue;
		}
		if (read_once(path, &buf, &n, &during, why) < 0)
			return -1;
		if (stat(path, &after) == 0 && same_version(&before, &during) &&
		    same_version(&during, &after) &&
		    n == (size_t)during.st_size) {
			*text = buf;
			*len = n;
			*dev = during.st_dev;
			*ino = during.st_ino;
			return 0;
		}
		free(buf);
		if (tries >= READ_TRIES) {
			*why = "changed while being read (replace rules files "
			       "by rename)";
			errno = EAGAIN;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

static int parse_text(struct parser *ps, const char *name, const char *text,
		      size_t len, struct pfile *parent, int has_id, dev_t dev,
		      ino_t ino)
{
	struct pfile f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.name = intern_file(ps, name);
	if (!f.name) {
		ps->oom = 1;
		return -1;
	}
	f.parent = parent;
	f.depth = parent ? parent->depth + 1 : 0;
	f.has_id = has_id;
	f.dev = dev;
	f.ino = ino;
	lexer_init(&f.lx, text, len);
	rc = parse_file(ps, &f);
	lexer_fini(&f.lx);
	return rc;
}

/* include "FILE": relative to the including file's directory. */
static int parse_include(struct parser *ps, struct pfile *f)
{
	struct lexer_token st;
	struct loc sl;
	char *arg = NULL, *path = NULL, *text = NULL;
	const char *why, *slash;
	struct pfile *a;
	size_t len;
	dev_t dev;
	ino_t ino;
	char d[64];
	int rc = -1;

	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_STRING || f->tok.len == 0) {
		diag(ps, f, "unexpected %s, expected a quoted file name",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	st = f->tok;
	sl = loc_of(&st);
	arg = strdup(st.text);
	if (!arg) {
		ps->oom = 1;
		return -1;
	}
	if (next(ps, f) < 0)
		goto out;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		goto out;
	slash = strrchr(f->name, '/');
	if (arg[0] == '/' || !slash) {
		path = strdup(arg);
	} else if (asprintf(&path, "%.*s/%s", (int)(slash - f->name), f->name,
			    arg) < 0) {
		path = NULL;
	}
	if (!path) {
		ps->oom = 1;
		goto out;
	}
	rc = 0; /* from here on the include line itself parsed fine */
	if (f->depth + 1 >= INCLUDE_DEPTH_MAX) {
		diag_loc(ps, f, sl, "includes nested too deeply (limit %d)",
			 INCLUDE_DEPTH_MAX);
		goto out;
	}
	if (read_file(path, &text, &len, &dev, &ino, &why) < 0) {
		if (errno == ENOMEM) {
			ps->oom = 1;
			rc = -1;
			goto out;
		}
		diag_loc(ps, f, sl, "cannot open include \"%s\": %s", path,
			 why ? why : strerror(errno));
		goto out;
	}
	for (a = f; a; a = a->parent) {
		if (a->has_id && a->dev == dev && a->ino == ino) {
			diag_loc(ps, f, sl,
				 "include loop: \"%s\" is already being read",
				 path);
			goto out;
		}
	}
	if (parse_text(ps, path, text, len, f, 1, dev, ino) < 0 && ps->oom)
		rc = -1;
out:
	free(arg);
	free(path);
	free(text);
	return rc;
}

static int parse_statement(struct parser *ps, struct pfile *f)
{
	static const char *const stmts[] = { "pass",	"drop",
					     "reject",	"expect",
					     "local",	"include",
					     "dynamic-range", "unexpected",
					     "default",	"invalid",
					     "loopback" };
	char d[64];
	const char *s;

	switch (tok_kw(f)) {
	case KW_PASS:
	case KW_DROP:
	case KW_REJECT:
		return parse_rule(ps, f);
	case KW_EXPECT:
		return parse_expect(ps, f);
	case KW_LOCAL:
		return parse_local(ps, f);
	case KW_INCLUDE:
		return parse_include(ps, f);
	case KW_DYNAMIC_RANGE:
		return parse_dynamic_range(ps, f);
	case KW_UNEXPECTED:
		return parse_policy(ps, f, POLICY_UNEXPECTED);
	case KW_DEFAULT:
		return parse_policy(ps, f, POLICY_DEFAULT);
	case KW_INVALID:
		return parse_policy(ps, f, POLICY_INVALID);
	case KW_LOOPBACK:
		return parse_loopback(ps, f);
	default:
		break;
	}
	if (f->tok.type == LEXER_WORD && tok_kw(f) != KW_NONE) {
		diag(ps, f, "\"%s\" cannot start a statement, expected pass, "
			    "drop, reject, expect, local, include, "
			    "dynamic-range, unexpected, default, invalid or loopback",
		     f->tok.text);
	} else if (f->tok.type == LEXER_WORD) {
		s = suggest(f->tok.text, stmts, sizeof(stmts) / sizeof(*stmts));
		if (s)
			diag(ps, f, "unknown keyword \"%s\" (did you mean "
				    "\"%s\"?)",
			     f->tok.text, s);
		else
			diag(ps, f, "unknown keyword \"%s\", expected pass, "
				    "drop, reject, expect, local, include, "
				    "dynamic-range, unexpected, default, invalid or loopback",
			     f->tok.text);
	} else {
		diag(ps, f, "unexpected %s, expected a statement (pass, drop, "
			    "reject, expect, local, include, dynamic-range, "
			    "unexpected, default, invalid or loopback)",
		     describe(f, d, sizeof(d)));
	}
	return -1;
}

static int parse_file(struct parser *ps, struct pfile *f)
{
	if (next(ps, f) < 0)
		goto resync;
	for (;;) {
		if (ps->oom)
			return -1;
		if (f->tok.type == LEXER_EOF)
			return 0;
		if (f->tok.type == LEXER_NEWLINE) {
			if (next(ps, f) < 0)
				goto resync;
			continue;
		}
		if (parse_statement(ps, f) == 0)
			continue;
resync:
		if (ps->oom)
			return -1;
		while (!at_eol(f)) {
			if (lexer_next(&f->lx, &f->tok) < 0) {
				ps->oom = 1;
				return -1;
			}
		}
	}
}

static struct ruleset *finish(struct parser *ps, int *nerrors)
{
	if (ps->pcap)
		pcap_close(ps->pcap);
	ps->pcap = NULL;
	if (!ps->oom && ps->nerrors == 0 && ruleset_compile(ps->rs) < 0)
		ps->oom = 1;
	if (ps->oom) {
		ruleset_free(ps->rs);
		*nerrors = 0;
		errno = ENOMEM;
		return NULL;
	}
	*nerrors = ps->nerrors;
	if (ps->nerrors) {
		ruleset_free(ps->rs);
		return NULL;
	}
	return ps->rs;
}

struct ruleset *ruleset_parse_string(const char *name, const char *text,
				     const struct ruleset_opts *o,
				     int *nerrors)
{
	struct parser ps;
	struct stat st;
	int has_id = 0;
	int dummy;

	if (!nerrors)
		nerrors = &dummy;
	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.rs = ruleset_new();
	if (!ps.rs) {
		*nerrors = 0;
		return NULL;
	}
	if (!name)
		name = "<string>";
	/* When the name is a real file, an include of it is a loop. */
	if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
		has_id = 1;
	parse_text(&ps, name, text ? text : "", text ? strlen(text) : 0, NULL,
		   has_id, has_id ? st.st_dev : 0, has_id ? st.st_ino : 0);
	return finish(&ps, nerrors);
}

struct ruleset *ruleset_load(const char *path, const struct ruleset_opts *o,
			     int *nerrors)
{
	struct parser ps;
	char *text = NULL;
	const char *why;
	size_t len;
	dev_t dev;
	ino_t ino;
	int dummy;

	if (!nerrors)
		nerrors = &dummy;
	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.rs = ruleset_new();
	if (!ps.rs) {
		*nerrors = 0;
		return NULL;
	}
	if (read_file(path, &text, &len, &dev, &ino, &why) < 0) {
		if (errno == ENOMEM)
			ps.oom = 1;
		else
			diag_file(&ps, path, "cannot open: %s",
				  why ? why : strerror(errno));
		return finish(&ps, nerrors);
	}
	parse_text(&ps, path, text, len, NULL, 1, dev, ino);
	free(text);
	return finish(&ps, nerrors);
}

/* ---- queries ----------------------------------------------------------- */

size_t ruleset_rule_count(const struct ruleset *rs)
{
	return rs->nrules;
}

size_t ruleset_expect_count(const struct ruleset *rs)
{
	return rs->nexpects;
}

struct port_range ruleset_dynamic_range(const struct ruleset *rs)
{
	return rs->dyn;
}

const char *ruleset_dynamic_range_name(const struct ruleset *rs)
{
	return rs->dyn_name;
}

int ruleset_has_local(const struct ruleset *rs)
{
	return rs->nlocals > 0;
}

int ruleset_is_local(const struct ruleset *rs, uint8_t family,
		     const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < rs->nlocals; i++)
		if (addr_prefix_contains(&rs->locals[i], family, addr))
			return 1;
	return 0;
}

int ruleset_add_local(struct ruleset *rs, const char *cidr, char *err,
		      size_t errlen)
{
	struct addr_prefix pfx;

	if (addr_prefix_parse(cidr, &pfx, err, errlen) < 0)
		return -1;
	if (grow(&rs->locals, &rs->caplocals, rs->nlocals + 1,
		 sizeof(pfx)) < 0) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	rs->locals[rs->nlocals++] = pfx;
	summary_update(rs);
	return 0;
}

const struct ruleset_summary *ruleset_summary(const struct ruleset *rs)
{
	return &rs->sum;
}

enum verdict ruleset_unexpected_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->unexp_log;
	return (enum verdict)rs->unexp_verdict;
}

enum verdict ruleset_default_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->def_log;
	return (enum verdict)rs->def_verdict;
}

int ruleset_loopback_inbound(const struct ruleset *rs)
{
	return rs->loopback_in;
}

enum verdict ruleset_invalid_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->inv_log;
	return (enum verdict)rs->inv_verdict;
}

static inline const uint32_t *ix_lookup(const struct port_index *ix,
					uint16_t port, uint32_t *n)
{
	const struct interval *iv;

	if (!ix->map) {
		*n = 0;
		return NULL;
	}
	iv = &ix->ivl[ix->map[port]];
	*n = iv->n;
	return iv->n == 1 ? &iv->v : ix->items + iv->v;
}

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
 * budget left there). */
static inline int rule_test(const struct rule *r, const struct packet *p,
			    int is_new, int kind)
{
	if (r->is_new && !is_new)
		return 0;
	if (kind != 1 && r->src.nports &&
	    (!p->has_ports || !ports_have(&r->src, p->sport)))
		return 0;
	if (kind == 2 && r->dst.nports &&
	    (!p->has_ports || !ports_have(&r->dst, p->dport)))
		return 0;
	if (r->src.naddrs && !addrs_have(&r->src, p->family, p->src))
		return 0;
	if (r->dst.naddrs && !addrs_have(&r->dst, p->family, p->dst))
		return 0;
	if (r->has_filter &&
	    bpf_filter(r->prog.bf_insns, p->data, p->wirelen, p->caplen) == 0)
		return 0;
	return 1;
}

int ruleset_match(const struct ruleset *rs, const struct packet *p,
		  int is_new, int inbound, struct rule_ref *out)
{
	const uint32_t *a = NULL, *b = NULL;
	const struct idx_list *c;
	uint32_t na = 0, nb = 0, nc, ia = 0, ib = 0, ic = 0;
	uint32_t last = UINT32_MAX;
	int ported = p->proto >= PROTO_TCP && p->proto <= PROTO_DCCP;
	uint8_t b0 = 0;

	(void)inbound; /* rules apply in every direction */
	if (p->proto >= PROTO_COUNT)
		return 0;
	if (p->has_ports && ported) {
		unsigned pp = p->proto - PROTO_TCP;
		uint32_t m = rs->fast_d[pp] ? rs->fast_d[pp][p->dport]
					    : rs->fast_dc[pp];

		if (rs->fast_s[pp]) {
			uint32_t sv = rs->fast_s[pp][p->sport];

			m = sv < m ? sv : m;
		}
		if (m == FAST_NONE)
			return 0;
		if (!(m & 1)) {
			const struct rule *r = &rs->rules[m >> 1];

			if (out) {
				out->verdict = (enum verdict)r->verdict;
				out->log = r->log;
				out->file = r->file;
				out->line = r->line;
			}
			return 1;
		}
		a = ix_lookup(&rs->rdport[pp], p->dport, &na);
		b = ix_lookup(&rs->rsport[pp], p->sport, &nb);
	}
	/* The packet shapes bpfscope reasoned about, or everything. */
	c = &rs->rresid[p->proto];
	if (p->has_ports || !ported) {
		if (p->family == 4 &&
		    packet_get_u8(p->data, p->caplen, 0, &b0) == 0 &&
		    b0 == 0x45)
			c = &rs->rresid_fam[0][p->proto];
		else if (p->family == 6 && p->l4_off == 40)
			c = &rs->rresid_fam[1][p->proto];
	}
	nc = c->n;
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
			const struct rule *r = &rs->rules[v];

			if (out) {
				out->verdict = (enum verdict)r->verdict;
				out->log = r->log;
				out->file = r->file;
				out->line = r->line;
			}
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
	a = ix_lookup(&rs->xdport[pp], p->dport, &na);
	c = rs->xresid[pp].v;
	nc = rs->xresid[pp].n;
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

/* ---- read-only views for tools (lint) -------------------------------- */

static void view_endpoint(const struct endpoint *e, struct ruleset_end *out)
{
	out->naddrs = e->naddrs;
	out->addrs = e->addrs;
	out->nports = e->nports;
	out->ports = e->ports;
}

int ruleset_rule_view(const struct ruleset *rs, size_t i,
		      struct ruleset_view *out)
{
	const struct rule *r;

	if (i >= rs->nrules)
		return -1;
	r = &rs->rules[i];
	memset(out, 0, sizeof(*out));
	out->protos = r->protos;
	out->verdict = (enum verdict)r->verdict;
	out->log = r->log;
	out->is_new = r->is_new;
	out->has_filter = r->has_filter;
	out->file = r->file;
	out->line = r->line;
	view_endpoint(&r->src, &out->src);
	view_endpoint(&r->dst, &out->dst);
	return 0;
}

int ruleset_expect_view(const struct ruleset *rs, size_t i,
			struct ruleset_view *out)
{
	const struct expect_rule *x;

	if (i >= rs->nexpects)
		return -1;
	x = &rs->expects[i];
	memset(out, 0, sizeof(*out));
	out->protos = x->protos;
	out->file = x->file;
	out->line = x->line;
	out->program = x->program;
	out->user = x->user;
	view_endpoint(&x->src, &out->src);
	view_endpoint(&x->dst, &out->dst);
	return 0;
}
