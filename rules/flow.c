/*
 * flow: a bounded flow table for NEW detection.
 *
 * Layout, chosen for memory per flow, for few cache lines per packet and
 * for no work proportional to the table on the per-packet path:
 *  - set-associative buckets of FLOW_WAYS (4) flows in three cache lines:
 *    four 48-byte entries (the key, the flags, the exact last-seen time).
 *    flow_prefetch loads the three lines of a packet's home bucket, so a
 *    lookup that stays there (nearly all) waits on no memory, and compares
 *    at most four keys already in cache;
 *  - a flow lives in its home bucket, or when that is full in the next
 *    bucket with room (linear probing by buckets).  Each bucket counts the
 *    flows that passed it for a later one (F14's overflow count), so a
 *    lookup stops at the first bucket nobody overflowed: no tombstones,
 *    no shifting on deletion;
 *  - aging is per bucket: at the bound the new flow's home bucket gives
 *    up one flow, preferring one idle past its timeout, then one whose
 *    attempt was answered or ended (its NEW is settled: losing it cannot
 *    turn a retransmit into a fresh alert), then the least recently seen.
 *    No global list, so neither a packet nor an eviction touches another
 *    flow's lines;
 *  - at most 7/8 of the ways are used (FLOW_LOAD_*), which keeps overflow
 *    runs short: 192 bytes per 4 ways is 55 bytes per flow at the bound.
 *
 * The table grows with the flows actually seen: it starts small and grows
 * by half (rehashing every entry) each time it holds as many flows as its
 * room allows, until it holds max_flows; only then does it evict.  So a
 * large bound costs memory only when that many flows are live, and the
 * answer is the same for every bound that holds the live flows.
 *
 * A flow is keyed by (proto, family, both addresses, both ports) in a
 * canonical order (the lower address/port endpoint first), so both
 * directions hit the same entry; the flags remember which side opened it.
 * The hash is keyed with 64 random bits per table (getrandom), so crafted
 * traffic cannot aim at one bucket: where a key lands is not known outside
 * the process, and the overflow runs stay short whatever the keys.
 *
 * Expiry is lazy: a flow found idle past its timeout is treated as gone,
 * and every FLOW_REAP_NS of packet time a hand sweeps on through the
 * buckets freeing expired flows, fast enough to pass every bucket once
 * per shortest timeout (at most an hour) of packet time, so an idle table
 * drains without a timer.
 *
 * A flow pushed out live is remembered (the gone set: its hash, its state
 * and when it was last seen), so that eviction never invents a NEW: its
 * late packets get the answer a table that had kept it would give (see
 * flow.h), as long as the gone set, sized apart from the bound, holds it.
 *
 * One file over 800 lines on purpose: the table (hashing, probing, aging,
 * growth, expiry) and the two trackers on it (NEW detection, conntrack's
 * view) share the entry layout and its inline helpers, private here so
 * that the per-packet path is inlined and the layout has one owner.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "flow.h"

#define FLOW_DEFAULT_MAX 4194304
/* A new table holds this many flows (or max_flows, if smaller) and grows. */
#define FLOW_INITIAL 16384
#define FLOW_DEFAULT_UDP_S 30
#define FLOW_DEFAULT_TCP_S 300
#define FLOW_MAX_FLOWS ((size_t)1 << 30)
#define FLOW_WAYS 4
/* Flows a rehash has in flight, their new buckets loading. */
#define GROW_AHEAD 8
/* At most 7/8 of the ways hold a flow. */
#define FLOW_LOAD_NUM 7
#define FLOW_LOAD_DEN 8
/* Reaping: at most every 10 ms of packet time, at least this many buckets,
 * and every bucket once per sweep period (the shortest timeout, at most
 * an hour). */
#define FLOW_REAP_NS 10000000ull
#define FLOW_REAP_MIN 4
#define FLOW_SWEEP_MAX_NS (3600ull * 1000000000u)
/* Key hashes of flows the table let go before they ended: an 8-way set
 * associative cache, so a late packet of one is not taken for a new flow.
 * One slot per 16 flows (half a byte per flow), at least 65536 (512 KiB):
 * it remembers the most recently seen ones, which is when late packets
 * come.  The same size for every bound up to a million flows, so that
 * which flows it remembers does not depend on the bound either. */
#define FLOW_GONE_PER 16
#define FLOW_GONE_MIN 65536
#define FLOW_GONE_SHIFT 24
#define GONE_WAYS 8

/* The 38 key bytes, compared as one block. */
struct flow_key {
	uint8_t a[16], b[16]; /* endpoint a sorts before endpoint b */
	uint16_t pa, pb;
	uint8_t proto, family;
};

enum {
	FL_OPENING = 0x01, /* attempt seen, nothing back yet (SYN state) */
	FL_REPLIED = 0x02, /* the other side has answered */
	FL_CLOSED = 0x04,  /* TCP RST or FIN seen */
	FL_PICKUP = 0x08,  /* TCP flow picked up from a lone ACK */
	FL_SIDE_B = 0x10,  /* endpoint b opened the flow (else a) */
	FL_USED = 0x80,	   /* the way holds a flow */
};

struct flow_entry {
	struct flow_key key;
	uint8_t fl;	   /* FL_* */
	uint8_t ovf;	   /* e[0] only: flows homed before this bucket that
			    * live after it; 255 sticks */
	uint64_t last_ns;
};

struct flow_bucket {
	struct flow_entry e[FLOW_WAYS];
};

#define KEY_BYTES sizeof(struct flow_key)
#define WAYS_ALL ((1u << FLOW_WAYS) - 1)
_Static_assert(sizeof(struct flow_key) == 38, "38 key bytes");
_Static_assert(sizeof(struct flow_entry) == 48, "an entry is 48 bytes");
_Static_assert(sizeof(struct flow_bucket) == 192, "a bucket is 3 lines");

/* A flow let go live: its key hash (| 1; 0 empty) and its last packet
 * time in 2^FLOW_GONE_SHIFT ns units (wraps in 2^32 of them, 20 hours). */
struct flow_gone {
	uint32_t h, t;
};

/* A flow's place: bucket and way. */
struct slot {
	struct flow_bucket *b;
	unsigned w;
};

struct flow_table {
	struct flow_bucket *b;	/* nb buckets, line-aligned */
	void *mem;		/* the allocation b is aligned within */
	uint32_t nb;
	uint32_t cap;		/* flows the current allocation holds */
	uint32_t max;		/* the bound cap may grow to */
	uint32_t hand;		/* the next bucket the sweep looks at */
	uint64_t udp_timeout_ns, tcp_timeout_ns;
	uint64_t min_timeout_ns, max_timeout_ns;
	uint64_t sweep_ns;	/* packet time for one sweep of the table */
	uint64_t seed;
	uint64_t reap_ns;	/* packet time of the last reap */
	uint64_t first_ns, now_ns; /* packet times of the first and the
				    * latest packet */
	int started;		/* first_ns is set */
	uint64_t ticks;		/* packets that have set now_ns */
	struct flow_gone *gone;	/* ngone slots */
	uint32_t ngone;
	int tcp_strict;
	struct flow_stats st;
};

static size_t buckets_for(size_t cap)
{
	size_t per = (size_t)FLOW_WAYS * FLOW_LOAD_NUM;

	/* cap * DEN / (WAYS * NUM), rounded up, at least one */
	size_t nb = (cap * FLOW_LOAD_DEN + per - 1) / per;

	return nb ? nb : 1;
}

size_t flow_entry_size(void)
{
	/* what a full table holds per flow: a bucket over the flows it
	 * holds at the load limit, and the flow's share of the gone set,
	 * rounded up */
	size_t per = (size_t)FLOW_WAYS * FLOW_LOAD_NUM * FLOW_GONE_PER;

	return (sizeof(struct flow_bucket) * FLOW_LOAD_DEN * FLOW_GONE_PER +
		sizeof(struct flow_gone) * FLOW_WAYS * FLOW_LOAD_NUM + per - 1) /
	       per;
}

/*
 * Flows land on random buckets, so a large table touches a different page
 * per packet: with 4 KiB pages that is a TLB miss on top of the cache miss.
 * Ask for transparent huge pages where the kernel leaves it to us (the
 * usual "madvise" setting).  Only a hint: failure changes nothing.
 */
static void hugepage_hint(void *mem, size_t len)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t lo = ((uintptr_t)mem + huge - 1) & ~(huge - 1);
	uintptr_t hi = ((uintptr_t)mem + len) & ~(huge - 1);

	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)mem;
	(void)len;
#endif
}

/* Allocates room for cap flows (empty, line-aligned buckets).  Leaves the
 * table untouched and returns -1 when memory is short. */
static int table_alloc(struct flow_table *ft, size_t cap)
{
	size_t nb = buckets_for(cap);
	size_t len = nb * sizeof(struct flow_bucket) + 64;
	void *mem;

	/* 64 spare bytes to align on a cache line.  calloc, not
	 * aligned_alloc + memset, so that the pages of a large table are
	 * touched only as flows land on them. */
	mem = calloc(1, len);
	if (!mem)
		return -1;
	ft->mem = mem;
	ft->b = (struct flow_bucket *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
	hugepage_hint(mem, len);
	ft->nb = (uint32_t)nb;
	ft->cap = (uint32_t)cap;
	ft->hand = 0;
	ft->st.bytes = sizeof(*ft) + len + ft->ngone * sizeof(*ft->gone);
	return 0;
}

/* 64 random bits for the hash key; the table's address (which differs
 * between runs under ASLR) only where the kernel has no getrandom. */
static uint64_t table_key(const struct flow_table *ft)
{
	uint64_t k;

	if (getrandom(&k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k))
		return k;
	return (uint64_t)(uintptr_t)ft * 0x9e3779b97f4a7c15ull ^
	       0x243f6a8885a308d3ull;
}

struct flow_table *flow_new(const struct flow_opts *o)
{
	size_t max = o && o->max_flows ? o->max_flows : FLOW_DEFAULT_MAX;
	uint32_t udp_s = o && o->udp_timeout_s ? o->udp_timeout_s
						: FLOW_DEFAULT_UDP_S;
	uint32_t tcp_s = o && o->tcp_timeout_s ? o->tcp_timeout_s
						: FLOW_DEFAULT_TCP_S;
	struct flow_table *ft;

	if (max > FLOW_MAX_FLOWS) {
		errno = ENOMEM;
		return NULL;
	}
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	ft->max = (uint32_t)max;
	ft->ngone = (uint32_t)(max / FLOW_GONE_PER > FLOW_GONE_MIN ?
				 max / FLOW_GONE_PER : FLOW_GONE_MIN);
	ft->ngone = (ft->ngone + GONE_WAYS - 1) & ~(uint32_t)(GONE_WAYS - 1);
	/* whole sets, each on one line */
	ft->gone = aligned_alloc(64, ft->ngone * sizeof(*ft->gone));
	if (ft->gone)
		memset(ft->gone, 0, ft->ngone * sizeof(*ft->gone));
	if (!ft->gone ||
	    table_alloc(ft, max < FLOW_INITIAL ? max : FLOW_INITIAL) < 0) {
		free(ft->gone);
		free(ft);
		errno = ENOMEM;
		return NULL;
	}
	ft->udp_timeout_ns = (uint64_t)udp_s * 1000000000u;
	ft->tcp_timeout_ns = (uint64_t)tcp_s * 1000000000u;
	ft->min_timeout_ns = ft->udp_timeout_ns < ft->tcp_timeout_ns ?
				     ft->udp_timeout_ns : ft->tcp_timeout_ns;
	ft->max_timeout_ns = ft->udp_timeout_ns > ft->tcp_timeout_ns ?
				     ft->udp_timeout_ns : ft->tcp_timeout_ns;
	ft->sweep_ns = ft->min_timeout_ns < FLOW_SWEEP_MAX_NS ?
			       ft->min_timeout_ns : FLOW_SWEEP_MAX_NS;
	ft->seed = o && o->hash_key ? o->hash_key : table_key(ft);
	ft->tcp_strict = o && o->tcp_strict;
	return ft;
}

void flow_free(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->gone);
	free(ft->mem);
	free(ft);
}


static inline uint64_t load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return h;
}

static inline uint64_t key_hash(const struct flow_table *ft,
				const struct flow_key *k)
{
	uint64_t h = ft->seed;

	h = mix(h, load64(k->a));
	h = mix(h, load64(k->a + 8));
	h = mix(h, load64(k->b));
	h = mix(h, load64(k->b + 8));
	h = mix(h, (uint64_t)k->pa | (uint64_t)k->pb << 16 |
			   (uint64_t)k->proto << 32 | (uint64_t)k->family << 40);
	/* the bucket comes from the high half, tag and gone set from the
	 * low one: fold the product's well-mixed high bits down too */
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

/* Builds the canonical key; returns which side (0 = a, 1 = b) sent p. */
static inline int key_make(const struct packet *p, struct flow_key *k)
{
	/* Any total order on (address, port) will do, as long as both
	 * directions agree: native-endian words avoid a memcmp call. */
	uint64_t s0 = load64(p->src), d0 = load64(p->dst);
	uint64_t s1 = load64(p->src + 8), d1 = load64(p->dst + 8);
	int c;

	if (s0 != d0)
		c = s0 < d0 ? -1 : 1;
	else if (s1 != d1)
		c = s1 < d1 ? -1 : 1;
	else
		c = (int)p->sport - (int)p->dport;
	k->proto = p->proto;
	k->family = p->family;
	if (c <= 0) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		k->pa = p->sport;
		k->pb = p->dport;
		return 0;
	}
	memcpy(k->a, p->dst, 16);
	memcpy(k->b, p->src, 16);
	k->pa = p->dport;
	k->pb = p->sport;
	return 1;
}

/* The home bucket of a hash, by multiply-shift range reduction of its
 * high half (nb need not be a power of two). */
static inline uint32_t home_of(const struct flow_table *ft, uint64_t h)
{
	return (uint32_t)(((h >> 32) * ft->nb) >> 32);
}

static inline uint32_t bucket_next(const struct flow_table *ft, uint32_t i)
{
	return i + 1 == ft->nb ? 0 : i + 1;
}

static inline struct flow_entry *slot_entry(struct slot s)
{
	return &s.b->e[s.w];
}

static inline uint8_t *slot_fl(struct slot s)
{
	return &s.b->e[s.w].fl;
}

static inline int slot_side(struct slot s)
{
	return (s.b->e[s.w].fl & FL_SIDE_B) != 0;
}

static inline uint64_t timeout_of(const struct flow_table *ft, uint8_t proto)
{
	return proto == PROTO_UDP || proto == PROTO_UDPLITE ? ft->udp_timeout_ns
							    : ft->tcp_timeout_ns;
}

/* Idle longer than its timeout.  A clock that went backwards counts as
 * no time passed rather than as a huge unsigned gap. */
static inline int entry_expired(const struct flow_table *ft,
				const struct flow_entry *x, uint64_t now)
{
	return now > x->last_ns &&
	       now - x->last_ns > timeout_of(ft, x->key.proto);
}

/* The gone set of h: GONE_WAYS slots (one cache line), any of which may
 * hold it. */
static inline struct flow_gone *gone_set(const struct flow_table *ft,
					 uint64_t h)
{
	return &ft->gone[(size_t)((uint32_t)h % (ft->ngone / GONE_WAYS)) *
			 GONE_WAYS];
}

/* A gone record's hash word: the key hash's high 29 bits, valid, and
 * what the flow was waiting for when it went. */
#define GONE_VALID 1u
#define GONE_OPENING 2u /* its attempt was unanswered */
#define GONE_SIDE_B 4u	/* endpoint b opened it */
#define GONE_HASH(h) ((uint32_t)(h) & ~7u)
#define GONE_FRESH 8u	/* (gone_check) seen within its timeout */

static inline struct flow_gone *gone_find(const struct flow_table *ft,
					  uint64_t h)
{
	struct flow_gone *g = gone_set(ft, h);

	for (int i = 0; i < GONE_WAYS; i++)
		if ((g[i].h & GONE_VALID) && GONE_HASH(g[i].h) == GONE_HASH(h))
			return &g[i];
	return NULL;
}

/* Remembers the flow of hash h, last seen at last, in state fl (FL_*): a
 * set keeps the GONE_WAYS most recently seen, whatever order they were let go
 * in (the sweep finds expired flows at times that depend on the table's
 * size; what the set holds must not). */
static inline void gone_add(struct flow_table *ft, uint64_t h, uint64_t last,
			    uint8_t fl)
{
	struct flow_gone *g = gone_set(ft, h), *v = gone_find(ft, h);
	uint32_t t = (uint32_t)(last >> FLOW_GONE_SHIFT);
	int32_t oldest = -1;

	for (int i = 0; i < GONE_WAYS && !v; i++)
		if (!g[i].h)
			v = &g[i];
	if (!v) {
		/* full: the one seen longest before this one goes (none, if
		 * all were seen later) */
		for (int i = 0; i < GONE_WAYS; i++) {
			int32_t age = (int32_t)(t - g[i].t);

			if (age > oldest) {
				oldest = age;
				v = &g[i];
			}
		}
		if (!v)
			return;
	}
	v->h = GONE_HASH(h) | GONE_VALID |
	       (fl & FL_OPENING ? GONE_OPENING : 0) |
	       (fl & FL_SIDE_B ? GONE_SIDE_B : 0);
	v->t = t;
}

/*
 * Whether the flow of hash h was let go live, so that the kernel would
 * still know it: 0, or its record's GONE_* bits (GONE_FRESH: last seen
 * within its timeout, so it would still be in the table).  A UDP flow only within
 * its timeout of its last packet (the kernel's would expire too), and
 * each packet of it keeps it so; a TCP flow (timeouts of days in the
 * kernel) for as long as it is remembered.
 */
static inline unsigned gone_check(struct flow_table *ft, uint64_t h,
				  uint8_t proto, uint64_t now)
{
	struct flow_gone *g = gone_find(ft, h);
	uint32_t nt = (uint32_t)(now >> FLOW_GONE_SHIFT);
	int fresh;

	if (!g)
		return 0;
	fresh = nt - g->t <= (timeout_of(ft, proto) >> FLOW_GONE_SHIFT) + 1;
	if (!fresh && (proto == PROTO_UDP || proto == PROTO_UDPLITE)) {
		g->h = 0;
		return 0;
	}
	g->t = nt;
	return (g->h & 7u) | (fresh ? GONE_FRESH : 0);
}

/* A TCP packet of a flow the gone set holds: an answer (from the side that
 * did not open it) or an end (RST, FIN) settles its attempt there as it
 * would have in the table, so that a later SYN is a new attempt and not
 * the retransmit of one. */
static inline void gone_settle(struct flow_table *ft, uint64_t h, int side,
			       uint8_t tcp_flags)
{
	struct flow_gone *g = gone_find(ft, h);

	if (g && (g->h & GONE_OPENING) &&
	    ((tcp_flags & (PACKET_TCP_RST | PACKET_TCP_FIN)) ||
	     !(g->h & GONE_SIDE_B) != !side))
		g->h &= ~GONE_OPENING;
}

/* The flow of hash h is back in the table: its record goes. */
static inline void gone_drop(struct flow_table *ft, uint64_t h)
{
	struct flow_gone *g = gone_find(ft, h);

	if (g)
		g->h = 0;
}

/*
 * A flow back from the gone set: in the table again as it was when it
 * went (waiting for an answer from the side that opened it, or answered),
 * so that its packets get the answers a table that had kept it gives.
 */
static struct slot entry_revive(struct flow_table *ft,
				const struct flow_key *k, uint64_t h,
				uint64_t now, unsigned g);

/*
 * Takes the flow in s out of the table: its way is freed, and the buckets
 * it passed on its way from its home count one overflow less.  evicted:
 * pushed out while still live (not expired), so a late packet of it is
 * not a new flow.
 */
static void entry_release(struct flow_table *ft, struct slot s, int evicted)
{
	const struct flow_entry *x = slot_entry(s);
	uint64_t h = key_hash(ft, &x->key);
	uint32_t i = home_of(ft, h);
	uint32_t at = (uint32_t)(s.b - ft->b);

	/* A TCP flow let go before it ended: the kernel may still have it.
	 * A UDP flow pushed out live: the kernel still has it (one that
	 * timed out, the kernel forgot too: its next datagram is NEW). */
	if (x->key.proto == PROTO_TCP ? !(*slot_fl(s) & FL_CLOSED) : evicted)
		gone_add(ft, h, x->last_ns, *slot_fl(s));
	for (; i != at; i = bucket_next(ft, i))
		if (ft->b[i].e[0].ovf != 255)
			ft->b[i].e[0].ovf--;
	s.b->e[s.w].fl = 0;
	ft->st.flows--;
}

/* The used ways of b, one bit each. */
static inline unsigned used_of(const struct flow_bucket *b)
{
	unsigned mask = 0;

	for (unsigned w = 0; w < FLOW_WAYS; w++)
		mask |= (unsigned)(b->e[w].fl >> 7) << w;
	return mask;
}

static inline int key_eq(const struct flow_key *x, const struct flow_key *k)
{
	const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)k;

	/* 38 bytes as four 8-byte words, a 4-byte and a 2-byte one. */
	uint32_t ta, tb;
	uint16_t ua, ub;

	memcpy(&ta, a + 32, 4);
	memcpy(&tb, b + 32, 4);
	memcpy(&ua, a + 36, 2);
	memcpy(&ub, b + 36, 2);
	return ((load64(a) ^ load64(b)) | (load64(a + 8) ^ load64(b + 8)) |
		(load64(a + 16) ^ load64(b + 16)) |
		(load64(a + 24) ^ load64(b + 24)) | (uint64_t)(ta ^ tb) |
		(uint64_t)(ua ^ ub)) == 0;
}

/* Finds k: 1 and *s, or 0.  Walks on from the home bucket only while a
 * bucket says some flow homed before it lives after it. */
static inline int lookup(const struct flow_table *ft, const struct flow_key *k,
			 uint64_t h, struct slot *s)
{
	uint32_t i = home_of(ft, h);

	for (uint32_t n = 0; n < ft->nb; n++) {
		struct flow_bucket *b = &ft->b[i];

		for (unsigned w = 0; w < FLOW_WAYS; w++) {
			if ((b->e[w].fl & FL_USED) && key_eq(&b->e[w].key, k)) {
				s->b = b;
				s->w = w;
				return 1;
			}
		}
		if (!b->e[0].ovf)
			return 0;
		i = bucket_next(ft, i);
	}
	return 0;
}

/* A free way for a flow of hash h: in its home bucket or the first one
 * after it with room (there is one: the load stays under 7/8), counting
 * the overflow in the buckets passed. */
static struct slot place(struct flow_table *ft, uint64_t h)
{
	uint32_t i = home_of(ft, h);
	uint64_t walked = 1;
	struct slot s;

	while (used_of(&ft->b[i]) == WAYS_ALL) {
		if (ft->b[i].e[0].ovf != 255)
			ft->b[i].e[0].ovf++;
		i = bucket_next(ft, i);
		walked++;
	}
	if (walked > ft->st.probe_max)
		ft->st.probe_max = walked;
	s.b = &ft->b[i];
	s.w = (unsigned)__builtin_ctz(~used_of(s.b));
	s.b->e[s.w].fl = FL_USED;
	return s;
}

/* Frees the flows of bucket b idle past their timeout. */
static void bucket_reap(struct flow_table *ft, struct flow_bucket *b,
			uint64_t now)
{
	for (unsigned w = 0; w < FLOW_WAYS; w++) {
		struct slot s = { b, w };

		if ((b->e[w].fl & FL_USED) &&
		    entry_expired(ft, &b->e[w], now)) {
			entry_release(ft, s, 0);
			ft->st.expired++;
		}
	}
}

static void reap(struct flow_table *ft, uint64_t now)
{
	uint64_t el = now - ft->reap_ns, n;

	if (!ft->started) {
		ft->started = 1;
		ft->first_ns = ft->reap_ns = now;
	}
	ft->now_ns = now;
	ft->ticks++;

	if (now < ft->reap_ns) {
		/* The clock went back: restart the interval from here. */
		ft->reap_ns = now;
		return;
	}
	if (el < FLOW_REAP_NS)
		return;
	ft->reap_ns = now;
	if (el >= ft->sweep_ns)
		n = ft->nb;
	else
		n = FLOW_REAP_MIN +
		    (uint64_t)((unsigned __int128)el * ft->nb / ft->sweep_ns);
	if (n > ft->nb)
		n = ft->nb;
	while (n--) {
		bucket_reap(ft, &ft->b[ft->hand], now);
		ft->hand = bucket_next(ft, ft->hand);
	}
}

/*
 * The counts as of the latest packet: flows idle past their timeout count
 * as expired whether or not a lookup or the sweep has met them yet.  Which
 * ones the sweep has met depends on where the random key put them; the
 * counts must not.  A pass over the table, skipped while no flow can have
 * expired yet.
 */
void flow_get_stats(const struct flow_table *ft, struct flow_stats *out)
{
	flow_get_stats_at(ft, ft->now_ns, out);
}

uint64_t flow_ticks(const struct flow_table *ft)
{
	return ft->ticks;
}

void flow_get_stats_at(const struct flow_table *ft, uint64_t now_ns,
		       struct flow_stats *out)
{
	uint64_t n = 0;

	*out = ft->st;
	if (!ft->st.flows || now_ns < ft->first_ns ||
	    now_ns - ft->first_ns <= ft->min_timeout_ns)
		return;
	for (uint32_t i = 0; i < ft->nb; i++) {
		const struct flow_bucket *b = &ft->b[i];

		for (unsigned w = 0; w < FLOW_WAYS; w++)
			n += (uint64_t)((b->e[w].fl & FL_USED) &&
					entry_expired(ft, &b->e[w], now_ns));
	}
	out->flows -= n;
	out->expired += n;
}

/* A flow on its way to the grown table, its hash under the (same) key. */
struct grow_pending {
	const struct flow_entry *x;
	uint64_t h;
};

static void grow_move(struct flow_table *ft, const struct grow_pending *g)
{
	struct slot s = place(ft, g->h);

	/* not the whole entry: ovf is the bucket's */
	s.b->e[s.w].key = g->x->key;
	s.b->e[s.w].fl = g->x->fl;
	s.b->e[s.w].last_ns = g->x->last_ns;
}

/*
 * Grows the room by half (up to max), moving every flow to the new
 * allocation.  Returns -1 (table unchanged) when memory is short: the
 * caller evicts.
 */
static int table_grow(struct flow_table *ft)
{
	struct flow_bucket *old = ft->b;
	void *old_mem = ft->mem;
	uint32_t old_nb = ft->nb;
	struct grow_pending pend[GROW_AHEAD];
	uint64_t np = 0, done = 0;
	size_t cap = (size_t)ft->cap + ft->cap / 2 + 1;

	if (cap > ft->max)
		cap = ft->max;
	if (table_alloc(ft, cap) < 0)
		return -1;
	/* Rehash in a pipeline: the home bucket of each flow is prefetched a
	 * few flows before it is placed, so the random writes overlap. */
	for (uint32_t i = 0; i < old_nb; i++) {
		for (unsigned w = 0; w < FLOW_WAYS; w++) {
			const struct flow_entry *x = &old[i].e[w];
			struct grow_pending *g;

			if (!(x->fl & FL_USED))
				continue;
			if (np - done == GROW_AHEAD)
				grow_move(ft, &pend[done++ % GROW_AHEAD]);
			g = &pend[np++ % GROW_AHEAD];
			g->x = x;
			g->h = key_hash(ft, &x->key);
			__builtin_prefetch(&ft->b[home_of(ft, g->h)], 1);
		}
	}
	while (done < np)
		grow_move(ft, &pend[done++ % GROW_AHEAD]);
	free(old_mem);
	ft->st.grown++;
	return 0;
}

/*
 * At the bound: one flow of the bucket at or after the home of h makes
 * room.  An expired flow first, then one that is not waiting for an
 * answer, then the least recently seen (the first such way on ties).
 */
static void evict_one(struct flow_table *ft, uint64_t h, uint64_t now)
{
	uint32_t i = home_of(ft, h);
	struct flow_bucket *b;
	struct slot s;
	uint64_t best_age = 0;
	int best_class = -1, expired = 0;

	/* flows >= 1, so some bucket has one */
	while (!used_of(&ft->b[i]))
		i = bucket_next(ft, i);
	b = &ft->b[i];
	s.b = b;
	s.w = 0;
	for (unsigned w = 0; w < FLOW_WAYS; w++) {
		const struct flow_entry *x = &b->e[w];
		uint64_t age = now > x->last_ns ? now - x->last_ns : 0;
		int ex, cls;

		if (!(x->fl & FL_USED))
			continue;
		ex = entry_expired(ft, x, now);
		cls = ex ? 2 : !(x->fl & FL_OPENING);
		if (cls > best_class || (cls == best_class && age > best_age)) {
			best_class = cls;
			best_age = age;
			s.w = w;
			expired = ex;
		}
	}
	if (expired) {
		ft->st.expired++;
		entry_release(ft, s, 0);
	} else {
		ft->st.evicted++;
		entry_release(ft, s, 1);
	}
}

/* A fresh entry for k (not in the table), flags still to be set. */
static struct slot entry_create(struct flow_table *ft,
				const struct flow_key *k, uint64_t h,
				uint64_t now)
{
	struct slot s;
	struct flow_entry *x;

	if (ft->st.flows >= ft->cap &&
	    (ft->cap == ft->max || table_grow(ft) < 0))
		evict_one(ft, h, now);
	s = place(ft, h);
	x = slot_entry(s);
	memcpy(&x->key, k, KEY_BYTES);
	x->last_ns = now;
	ft->st.flows++;
	ft->st.created++;
	return s;
}

static struct slot entry_revive(struct flow_table *ft,
				const struct flow_key *k, uint64_t h,
				uint64_t now, unsigned g)
{
	struct slot s;

	gone_drop(ft, h);
	s = entry_create(ft, k, h, now);
	*slot_fl(s) = (uint8_t)(FL_USED |
				(g & GONE_OPENING ? FL_OPENING : FL_REPLIED) |
				(g & GONE_SIDE_B ? FL_SIDE_B : 0));
	return s;
}

/* A packet of the flow in s at now. */
static inline void touch(struct slot s, uint64_t now)
{
	slot_entry(s)->last_ns = now;
}

uint64_t flow_hash(const struct flow_table *ft, const struct packet *p)
{
	struct flow_key k;

	key_make(p, &k);
	return key_hash(ft, &k);
}

static inline int tracked_proto(const struct packet *p)
{
	if (p->status != PACKET_OK || !p->has_ports)
		return 0;
	switch (p->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_UDPLITE:
	case PROTO_SCTP:
	case PROTO_DCCP:
		return 1;
	default:
		return 0;
	}
}

/*
 * TCP needs the table only around the handshake: a SYN (attempt or
 * retransmit), the SYN/ACK that answers it, and a RST or FIN that ends an
 * attempt.  Any other TCP packet could change nothing but the entry's
 * idle time, and mid-stream segments are most of a capture: they skip
 * the lookup and its cache miss.
 */
static inline int tcp_midstream(const struct packet *p)
{
	return p->proto == PROTO_TCP &&
	       !(p->tcp_flags &
		 (PACKET_TCP_SYN | PACKET_TCP_RST | PACKET_TCP_FIN));
}

void flow_prefetch(const struct flow_table *ft, const struct packet *p)
{
	const struct flow_bucket *b;
	struct flow_key k;

	/* Mid-stream TCP too: flow_conntrack looks every TCP packet up. */
	if (!tracked_proto(p))
		return;
	key_make(p, &k);
	b = &ft->b[home_of(ft, key_hash(ft, &k))];
	__builtin_prefetch((const char *)b, 1);
	__builtin_prefetch((const char *)b + 64, 1);
	__builtin_prefetch((const char *)b + 128, 1);
}

/* Looks k up; a flow found idle past its timeout is freed and not found. */
static inline int find(struct flow_table *ft, const struct flow_key *k,
		       uint64_t h, uint64_t now, struct slot *s)
{
	if (!lookup(ft, k, h, s))
		return 0;
	if (entry_expired(ft, slot_entry(*s), now)) {
		entry_release(ft, *s, 0);
		ft->st.expired++;
		return 0;
	}
	return 1;
}

static inline uint8_t side_fl(int side)
{
	return side ? FL_SIDE_B : 0;
}

void flow_observe(struct flow_table *ft, const struct packet *p,
		  uint64_t now_ns, struct flow_result *out)
{
	struct flow_key k;
	struct slot s;
	uint8_t *f;
	uint64_t h;
	int side, found;

	memset(out, 0, sizeof(*out));
	if (!tracked_proto(p))
		return;

	reap(ft, now_ns);
	if (tcp_midstream(p))
		return;
	side = key_make(p, &k);
	h = key_hash(ft, &k);
	found = find(ft, &k, h, now_ns, &s);

	if (p->proto == PROTO_UDP || p->proto == PROTO_UDPLITE) {
		/* No handshake: the first datagram either way opens the flow,
		 * the first one back is the reply.  Until that reply, every
		 * datagram from the opening side is still a connection
		 * attempt, as the kernel's conntrack keeps an unreplied UDP
		 * flow NEW: otherwise a client whose first datagram was
		 * dropped would reach the listener with its second. */
		unsigned g = found ? 0 : gone_check(ft, h, p->proto, now_ns);

		if (g) {
			/* Pushed out live, and the kernel still has it: it
			 * comes back as it was, and this datagram is what it
			 * would have been. */
			s = entry_revive(ft, &k, h, now_ns, g);
			found = 1;
		}
		if (!found) {
			s = entry_create(ft, &k, h, now_ns);
			*slot_fl(s) = (uint8_t)(FL_USED | FL_OPENING |
						side_fl(side));
			out->is_new = 1;
		} else {
			f = slot_fl(s);
			if (side == slot_side(s) && !(*f & FL_REPLIED)) {
				out->is_new = 1;
				out->retransmit = 1;
			} else if (side != slot_side(s) &&
				   !(*f & FL_REPLIED)) {
				out->reply = 1;
				*f = (uint8_t)((*f & ~FL_OPENING) |
					       FL_REPLIED);
			}
		}
	} else if (p->conn_attempt) {
		/* TCP SYN without ACK, SCTP INIT, DCCP Request. */
		out->is_new = 1;
		if (found && (*slot_fl(s) & FL_OPENING)) {
			/* Same side again: a retransmit.  The other side
			 * while we wait (simultaneous open) is an attempt of
			 * its own but does not restart the flow. */
			if (side == slot_side(s))
				out->retransmit = 1;
		} else {
			/* New, or a port reused after the old connection
			 * closed or was answered: start over.  Unless the
			 * table pushed the attempt out unanswered: then this
			 * is its retransmit, as it would have been. */
			unsigned g = found ? 0 : gone_check(ft, h, p->proto,
							    now_ns);

			if ((g & GONE_OPENING) && (g & GONE_FRESH) &&
			    !(g & GONE_SIDE_B) == !side) {
				s = entry_revive(ft, &k, h, now_ns, g);
				out->retransmit = 1;
			} else {
				if (!found)
					s = entry_create(ft, &k, h, now_ns);
				*slot_fl(s) = (uint8_t)(FL_USED | FL_OPENING |
							side_fl(side));
			}
		}
	} else if (found) {
		f = slot_fl(s);
		if (p->proto == PROTO_TCP &&
		    (p->tcp_flags & (PACKET_TCP_RST | PACKET_TCP_FIN))) {
			/* A RST back is a refusal, not a listener answering;
			 * either way the attempt is over, so the next SYN is
			 * a new connection rather than a retransmit. */
			*f = (uint8_t)((*f & ~FL_OPENING) | FL_CLOSED);
		} else if (side != slot_side(s) && (*f & FL_OPENING)) {
			/* For TCP this is a SYN/ACK: see tcp_midstream. */
			out->reply = 1;
			*f = (uint8_t)((*f & ~FL_OPENING) | FL_REPLIED);
		}
	} else {
		/* Mid-stream TCP/SCTP/DCCP without a tracked start: nothing
		 * to learn, and not creating entries keeps ACK scans from
		 * flushing the table. */
		if (p->proto == PROTO_TCP)
			gone_settle(ft, h, side, p->tcp_flags);
		return;
	}

	touch(s, now_ns);
	out->tracked = 1;
}

const char *flow_ct_name(enum flow_ct c)
{
	switch (c) {
	case FLOW_CT_NEW:
		return "new";
	case FLOW_CT_ESTABLISHED:
		return "established";
	case FLOW_CT_INVALID:
		return "invalid";
	default:
		return "unknown";
	}
}

/* nf_conntrack_proto_tcp's tcp_valid_flags, indexed by FIN SYN RST ACK
 * URG (PSH, ECE and CWR do not matter). */
static int tcp_flags_valid(uint8_t flags)
{
	static const uint8_t valid[0x40] = {
		[0x02] = 1,		/* SYN */
		[0x02 | 0x20] = 1,	/* SYN URG */
		[0x02 | 0x10] = 1,	/* SYN ACK */
		[0x04] = 1,		/* RST */
		[0x04 | 0x10] = 1,	/* RST ACK */
		[0x01 | 0x10] = 1,	/* FIN ACK */
		[0x01 | 0x10 | 0x20] = 1, /* FIN ACK URG */
		[0x10] = 1,		/* ACK */
		[0x10 | 0x20] = 1,	/* ACK URG */
	};

	return valid[flags & 0x37];
}

static void tcp_conntrack(struct flow_table *ft, const struct packet *p,
			  uint64_t now, struct flow_result *out)
{
	const uint8_t ends = PACKET_TCP_SYN | PACKET_TCP_RST | PACKET_TCP_FIN;
	uint8_t fl = p->tcp_flags;
	struct flow_key k;
	struct slot s;
	uint8_t *f;
	uint64_t h;
	int side;

	if (!tcp_flags_valid(fl)) {
		out->ct = FLOW_CT_INVALID;
		return;
	}
	side = key_make(p, &k);
	h = key_hash(ft, &k);
	if (!find(ft, &k, h, now, &s)) {
		unsigned g = gone_check(ft, h, PROTO_TCP, now);

		if (p->conn_attempt && (g & GONE_OPENING) &&
		    (g & GONE_FRESH) && !(g & GONE_SIDE_B) == !side) {
			/* the retransmit of an attempt the table pushed out
			 * unanswered: the kernel still has it */
			s = entry_revive(ft, &k, h, now, g);
			out->is_new = out->retransmit = 1;
			out->ct = FLOW_CT_NEW;
			out->tracked = 1;
			touch(s, now);
			return;
		}
		if (!p->conn_attempt && g) {
			gone_settle(ft, h, side, fl);
			/* The kernel may well still track it. */
			ft->st.forgotten++;
			out->ct = FLOW_CT_UNKNOWN;
			return;
		}
		if (p->conn_attempt) {
			out->is_new = 1;
		} else if (!(fl & ends)) {
			if (ft->tcp_strict) {
				out->ct = FLOW_CT_INVALID;
				return;
			}
			out->is_new = 1;
			out->pickup = 1;
			ft->st.pickups++;
		} else {
			/* SYN+ACK, FIN, RST with no connection: tcp_new
			 * refuses to create one. */
			out->ct = FLOW_CT_INVALID;
			return;
		}
		s = entry_create(ft, &k, h, now);
		*slot_fl(s) = (uint8_t)(FL_USED | FL_OPENING | side_fl(side) |
					(out->pickup ? FL_PICKUP : 0));
		out->ct = FLOW_CT_NEW;
		out->tracked = 1;
		return;
	}
	f = slot_fl(s);
	out->tracked = 1;
	if (p->conn_attempt) {
		if ((*f & FL_OPENING) && side == slot_side(s)) {
			out->is_new = out->retransmit = 1;
			out->ct = FLOW_CT_NEW;
		} else if (*f & FL_OPENING) {
			/* simultaneous open: the reply direction */
			out->ct = FLOW_CT_ESTABLISHED;
		} else {
			/* a port reused after the old connection ended or
			 * was answered: a new connection */
			*f = (uint8_t)(FL_USED | FL_OPENING | side_fl(side));
			out->is_new = 1;
			out->ct = FLOW_CT_NEW;
		}
	} else if (side == slot_side(s)) {
		/* conntrack's ctinfo stays NEW in the original direction
		 * until a reply is seen */
		if (!(*f & FL_REPLIED)) {
			out->is_new = out->retransmit = 1;
			out->ct = FLOW_CT_NEW;
		} else {
			out->ct = FLOW_CT_ESTABLISHED;
		}
		if (fl & (PACKET_TCP_RST | PACKET_TCP_FIN))
			*f = (uint8_t)((*f & ~FL_OPENING) | FL_CLOSED);
	} else {
		out->ct = FLOW_CT_ESTABLISHED;
		if (fl & (PACKET_TCP_RST | PACKET_TCP_FIN)) {
			/* a refusal, not a listener answering */
			*f = (uint8_t)((*f & ~FL_OPENING) | FL_CLOSED);
		} else {
			if ((*f & FL_OPENING) && !(*f & FL_PICKUP) &&
			    (fl & PACKET_TCP_SYN))
				out->reply = 1; /* the SYN/ACK */
			*f = (uint8_t)((*f & ~FL_OPENING) | FL_REPLIED);
		}
	}
	touch(s, now);
}

void flow_conntrack(struct flow_table *ft, const struct packet *p,
		    uint64_t now_ns, struct flow_result *out)
{
	memset(out, 0, sizeof(*out));
	if (p->status == PACKET_MALFORMED && p->has_ports &&
	    (p->proto == PROTO_TCP || p->proto == PROTO_UDP ||
	     p->proto == PROTO_UDPLITE)) {
		/* tcp_error / udp_error */
		out->ct = FLOW_CT_INVALID;
		return;
	}
	if (!tracked_proto(p))
		return;
	if (p->proto == PROTO_TCP) {
		reap(ft, now_ns);
		tcp_conntrack(ft, p, now_ns, out);
		return;
	}
	flow_observe(ft, p, now_ns, out);
	if (out->is_new)
		out->ct = FLOW_CT_NEW;
	else if (out->tracked)
		out->ct = FLOW_CT_ESTABLISHED;
}
