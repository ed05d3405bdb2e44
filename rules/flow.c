/*
 * flow: a bounded flow table for NEW detection.
 *
 * Layout, chosen for memory per flow, for one cache miss per packet of a
 * known flow, and for no allocation after flow_new():
 *  - one preallocated array of 64-byte entries (one cache line each) that
 *    is itself the hash table: open addressing with linear probing over
 *    2 * max_flows slots, so the load never exceeds 1/2 and a lookup
 *    usually reads the flow's home line and nothing else (a separate bucket
 *    array would cost a second miss per packet in a large table);
 *  - deletion by backward shift (no tombstones, so probe sequences never
 *    degrade under churn);
 *  - an intrusive doubly linked LRU list with 32-bit indices through the
 *    entries, circular around a sentinel at index 0 (slots are 1..nslots):
 *    sentinel.next is the most recently seen flow, sentinel.prev the least
 *    recently seen one, evicted when max_flows are tracked.  An entry moved
 *    by a backward shift has its two neighbours repointed.
 * That is 128 bytes per tracked flow at capacity, the hash included.
 *
 * The table grows with the flows actually seen: it starts small and
 * doubles (rehashing every entry, in LRU order) each time it fills, until
 * it holds max_flows; only then does it evict.  So a large bound costs
 * memory only when that many flows are live, and the answer is the same
 * for every bound that holds the live flows.
 *
 * A flow is keyed by (proto, family, both addresses, both ports) in a
 * canonical order (the lower address/port endpoint first), so both
 * directions hit the same entry; the entry remembers which side opened it.
 * The hash is keyed with 64 random bits per table (getrandom), so crafted
 * traffic cannot aim at one probe sequence: the slots it lands on are not
 * known outside the process.
 *
 * Expiry is lazy: a flow found idle past its timeout is treated as gone,
 * and every FLOW_REAP_NS of packet time the least recently seen flows are
 * freed while they have expired, so an idle table drains without a timer.
 *
 * The LRU order has a resolution of about a second (FLOW_LRU_SHIFT): a flow
 * seen again moves to the head of the list only when its previous packet
 * was in an earlier 2^30 ns tick.  Moving an entry touches its two
 * neighbours, two cache misses per packet in a large table, for an order
 * nobody can tell from exact within a second (memcached bumps items once a
 * minute for the same reason).  New flows and restarted attempts always go
 * to the head.
 *
 * One file over 800 lines on purpose: the table (hashing, probing, LRU,
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
/* Slots are 32-bit indices, 2 per flow, and 0 is the sentinel. */
#define FLOW_MAX_FLOWS ((size_t)1 << 30)
#define FLOW_SLOTS_PER_FLOW 2
/* Reaping: at most every 10 ms of packet time, at most 256 flows. */
#define FLOW_REAP_NS 10000000ull
#define FLOW_REAP_BATCH 256
/* LRU resolution: 2^30 ns, about a second. */
#define FLOW_LRU_SHIFT 30
/* Key hashes of TCP flows the table let go before they ended: a
 * direct-mapped set, so a late packet of one is not taken for a pickup.
 * One slot per 16 flows (a quarter byte per flow), at least 64: it
 * remembers the recent ones, which is when late packets come. */
#define FLOW_GONE_PER 16
#define FLOW_GONE_MIN 64

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
	FL_USED = 0x80,	   /* the slot holds a flow */
};

struct flow_entry {
	struct flow_key key;
	uint8_t flags;
	uint8_t init_side; /* 0: a opened the flow, 1: b did */
	uint32_t hash;
	uint32_t prev, next; /* LRU list */
	uint32_t pad;
	uint64_t last_ns;
};

#define KEY_BYTES sizeof(struct flow_key)
_Static_assert(sizeof(struct flow_entry) == 64, "an entry is one cache line");

struct flow_table {
	struct flow_entry *e;	/* nslots + 1 entries, e[0] is the sentinel */
	void *mem;		/* the allocation e is aligned within */
	uint32_t nslots;
	uint32_t cap;		/* flows the current allocation holds */
	uint32_t max;		/* the bound cap may grow to */
	uint64_t udp_timeout_ns, tcp_timeout_ns;
	uint64_t seed;
	uint64_t reap_ns;	/* packet time of the last reap */
	uint32_t *gone;		/* ngone hashes (| 1), 0 empty */
	uint32_t ngone;
	int tcp_strict;
	struct flow_stats st;
};

size_t flow_entry_size(void)
{
	return FLOW_SLOTS_PER_FLOW * sizeof(struct flow_entry);
}

/*
 * Flows land on random slots, so a large table touches a different page
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

/* Allocates room for cap flows (2 * cap slots, line-aligned).  Leaves the
 * table untouched and returns -1 when memory is short. */
static int table_alloc(struct flow_table *ft, size_t cap)
{
	size_t nslots = FLOW_SLOTS_PER_FLOW * cap;
	void *mem;

	/* One spare entry to align on a cache line, so that an entry is one
	 * line and not two.  calloc, not aligned_alloc + memset, so that the
	 * pages of a large table are touched only as flows land on them. */
	mem = calloc(nslots + 2, sizeof(*ft->e));
	if (!mem)
		return -1;
	ft->mem = mem;
	ft->e = (struct flow_entry *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
	hugepage_hint(mem, (nslots + 2) * sizeof(*ft->e));
	ft->nslots = (uint32_t)nslots;
	ft->cap = (uint32_t)cap;
	ft->st.bytes = sizeof(*ft) + (nslots + 2) * sizeof(*ft->e) +
		       ft->ngone * sizeof(*ft->gone);
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
	if (table_alloc(ft, max < FLOW_INITIAL ? max : FLOW_INITIAL) < 0) {
		free(ft);
		errno = ENOMEM;
		return NULL;
	}
	ft->max = (uint32_t)max;
	ft->udp_timeout_ns = (uint64_t)udp_s * 1000000000u;
	ft->tcp_timeout_ns = (uint64_t)tcp_s * 1000000000u;
	ft->seed = table_key(ft);
	ft->ngone = (uint32_t)(max / FLOW_GONE_PER > FLOW_GONE_MIN ?
				 max / FLOW_GONE_PER : FLOW_GONE_MIN);
	ft->gone = calloc(ft->ngone, sizeof(*ft->gone));
	if (!ft->gone) {
		free(ft->mem);
		free(ft);
		errno = ENOMEM;
		return NULL;
	}
	ft->tcp_strict = o && o->tcp_strict;
	ft->st.bytes += ft->ngone * sizeof(*ft->gone);
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

void flow_get_stats(const struct flow_table *ft, struct flow_stats *out)
{
	*out = ft->st;
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

static inline uint32_t key_hash(const struct flow_table *ft,
				const struct flow_key *k)
{
	uint64_t h = ft->seed;

	h = mix(h, load64(k->a));
	h = mix(h, load64(k->a + 8));
	h = mix(h, load64(k->b));
	h = mix(h, load64(k->b + 8));
	h = mix(h, (uint64_t)k->pa | (uint64_t)k->pb << 16 |
			   (uint64_t)k->proto << 32 | (uint64_t)k->family << 40);
	h ^= h >> 29;
	return (uint32_t)h;
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

static inline void lru_unlink(struct flow_table *ft, uint32_t i)
{
	struct flow_entry *x = &ft->e[i];

	ft->e[x->prev].next = x->next;
	ft->e[x->next].prev = x->prev;
}

static inline void lru_push_head(struct flow_table *ft, uint32_t i)
{
	struct flow_entry *x = &ft->e[i];
	struct flow_entry *s = &ft->e[0];

	x->prev = 0;
	x->next = s->next;
	ft->e[s->next].prev = i;
	s->next = i;
}

/* The home slot of a hash: 1..nslots, by multiply-shift range reduction
 * (nslots need not be a power of two). */
static inline uint32_t home_of(const struct flow_table *ft, uint32_t h)
{
	return (uint32_t)(((uint64_t)h * ft->nslots) >> 32) + 1;
}

static inline uint32_t slot_next(const struct flow_table *ft, uint32_t i)
{
	return i == ft->nslots ? 1 : i + 1;
}

/*
 * Takes the flow in slot i out of the table.  Backward shift: later
 * entries of the probe run move up into the hole unless their home lies
 * cyclically in (hole, their slot]; each moved entry has its LRU
 * neighbours repointed at its new slot.
 */
static void entry_release(struct flow_table *ft, uint32_t i)
{
	uint32_t j = i;

	/* A TCP flow let go before it ended: the kernel may still have it. */
	if (ft->e[i].key.proto == PROTO_TCP && !(ft->e[i].flags & FL_CLOSED))
		ft->gone[ft->e[i].hash % ft->ngone] = ft->e[i].hash | 1;
	lru_unlink(ft, i);
	for (;;) {
		struct flow_entry *x;
		uint32_t k;

		j = slot_next(ft, j);
		x = &ft->e[j];
		if (!(x->flags & FL_USED))
			break;
		k = home_of(ft, x->hash);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ft->e[i] = *x;
		ft->e[x->prev].next = i;
		ft->e[x->next].prev = i;
		i = j;
	}
	ft->e[i].flags = 0;
	ft->st.flows--;
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

static void reap(struct flow_table *ft, uint64_t now)
{
	/* Unsigned: a clock that went back also reaps, and restarts the
	 * interval from the new time. */
	if (now - ft->reap_ns < FLOW_REAP_NS)
		return;
	ft->reap_ns = now;
	for (int n = 0; n < FLOW_REAP_BATCH; n++) {
		uint32_t t = ft->e[0].prev;

		if (!t || !entry_expired(ft, &ft->e[t], now))
			return;
		entry_release(ft, t);
		ft->st.expired++;
	}
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

/* The slot holding k, or 0. */
static inline uint32_t lookup(const struct flow_table *ft,
			      const struct flow_key *k, uint32_t h)
{
	uint32_t i = home_of(ft, h);

	for (;;) {
		const struct flow_entry *x = &ft->e[i];

		if (!(x->flags & FL_USED))
			return 0;
		if (x->hash == h && key_eq(&x->key, k))
			return i;
		i = slot_next(ft, i);
	}
}

/*
 * Doubles the room (up to max), moving every entry to the new allocation
 * from the least to the most recently seen, so the LRU order survives.
 * Returns -1 (table unchanged) when memory is short: the caller evicts.
 */
static int table_grow(struct flow_table *ft)
{
	const struct flow_entry *old = ft->e;
	void *old_mem = ft->mem;
	size_t cap = (size_t)ft->cap * 2;

	if (cap > ft->max)
		cap = ft->max;
	if (table_alloc(ft, cap) < 0)
		return -1;
	/* The new e[0] is zero: an empty circular list. */
	for (uint32_t t = old[0].prev; t; t = old[t].prev) {
		uint32_t i;

		for (i = home_of(ft, old[t].hash); ft->e[i].flags & FL_USED;
		     i = slot_next(ft, i))
			;
		ft->e[i] = old[t];
		lru_push_head(ft, i);
	}
	free(old_mem);
	ft->st.grown++;
	return 0;
}

/* A fresh entry for k (not in the table), at the LRU head. */
static uint32_t entry_create(struct flow_table *ft, const struct flow_key *k,
			     uint32_t h, uint64_t now)
{
	uint32_t i;
	struct flow_entry *x;

	if (ft->st.flows >= ft->cap &&
	    (ft->cap == ft->max || table_grow(ft) < 0)) {
		i = ft->e[0].prev; /* full: the least recently seen goes */
		if (entry_expired(ft, &ft->e[i], now))
			ft->st.expired++;
		else
			ft->st.evicted++;
		entry_release(ft, i);
	}
	/* At most half the slots are used: an empty one is near. */
	for (i = home_of(ft, h); ft->e[i].flags & FL_USED;
	     i = slot_next(ft, i))
		;
	x = &ft->e[i];
	memcpy(&x->key, k, KEY_BYTES);
	x->flags = FL_USED;
	x->init_side = 0;
	x->hash = h;
	x->last_ns = now;
	lru_push_head(ft, i);
	ft->st.flows++;
	ft->st.created++;
	/* The next flow created will evict the current tail: start loading
	 * it now, so the eviction does not stall on it then.  (Its LRU
	 * neighbour is only written, which the store buffer absorbs.) */
	if (ft->st.flows >= ft->max)
		__builtin_prefetch(&ft->e[ft->e[0].prev], 1);
	return i;
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
	struct flow_key k;

	/* Mid-stream TCP too: flow_conntrack looks every TCP packet up. */
	if (!tracked_proto(p))
		return;
	key_make(p, &k);
	__builtin_prefetch(&ft->e[home_of(ft, key_hash(ft, &k))], 1);
}

void flow_observe(struct flow_table *ft, const struct packet *p,
		  uint64_t now_ns, struct flow_result *out)
{
	struct flow_key k;
	struct flow_entry *x;
	uint32_t h, i;
	int side, bump = 0;

	memset(out, 0, sizeof(*out));
	if (!tracked_proto(p))
		return;

	reap(ft, now_ns);
	if (tcp_midstream(p))
		return;
	side = key_make(p, &k);
	h = key_hash(ft, &k);
	i = lookup(ft, &k, h);
	if (i && entry_expired(ft, &ft->e[i], now_ns)) {
		entry_release(ft, i);
		ft->st.expired++;
		i = 0;
	}

	if (p->proto == PROTO_UDP || p->proto == PROTO_UDPLITE) {
		/* No handshake: the first datagram either way opens the flow,
		 * the first one back is the reply.  Until that reply, every
		 * datagram from the opening side is still a connection
		 * attempt, as the kernel's conntrack keeps an unreplied UDP
		 * flow NEW: otherwise a client whose first datagram was
		 * dropped would reach the listener with its second. */
		if (!i) {
			i = entry_create(ft, &k, h, now_ns);
			x = &ft->e[i];
			x->init_side = (uint8_t)side;
			x->flags = FL_USED | FL_OPENING;
			out->is_new = 1;
		} else {
			x = &ft->e[i];
			if (side == x->init_side && !(x->flags & FL_REPLIED)) {
				out->is_new = 1;
				out->retransmit = 1;
			} else if (side != x->init_side &&
				   !(x->flags & FL_REPLIED)) {
				out->reply = 1;
				x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
						     FL_REPLIED);
			}
		}
	} else if (p->conn_attempt) {
		/* TCP SYN without ACK, SCTP INIT, DCCP Request. */
		out->is_new = 1;
		x = i ? &ft->e[i] : NULL;
		if (x && (x->flags & FL_OPENING)) {
			/* Same side again: a retransmit.  The other side
			 * while we wait (simultaneous open) is an attempt of
			 * its own but does not restart the flow. */
			if (side == x->init_side)
				out->retransmit = 1;
		} else {
			/* New, or a port reused after the old connection
			 * closed or was answered: start over. */
			if (!i)
				i = entry_create(ft, &k, h, now_ns);
			else
				bump = 1;
			x = &ft->e[i];
			x->init_side = (uint8_t)side;
			x->flags = FL_USED | FL_OPENING;
		}
	} else if (i) {
		x = &ft->e[i];
		if (p->proto == PROTO_TCP &&
		    (p->tcp_flags & (PACKET_TCP_RST | PACKET_TCP_FIN))) {
			/* A RST back is a refusal, not a listener answering;
			 * either way the attempt is over, so the next SYN is
			 * a new connection rather than a retransmit. */
			x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
					     FL_CLOSED);
		} else if (side != x->init_side && (x->flags & FL_OPENING)) {
			/* For TCP this is a SYN/ACK: see tcp_midstream. */
			out->reply = 1;
			x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
					     FL_REPLIED);
		}
	} else {
		/* Mid-stream TCP/SCTP/DCCP without a tracked start: nothing
		 * to learn, and not creating entries keeps ACK scans from
		 * flushing the table. */
		return;
	}

	x = &ft->e[i];
	if ((bump || ((x->last_ns ^ now_ns) >> FLOW_LRU_SHIFT) != 0) &&
	    ft->e[0].next != i) {
		lru_unlink(ft, i);
		lru_push_head(ft, i);
	}
	x->last_ns = now_ns;
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

static void touch(struct flow_table *ft, uint32_t i, uint64_t now, int bump)
{
	struct flow_entry *x = &ft->e[i];

	if ((bump || ((x->last_ns ^ now) >> FLOW_LRU_SHIFT) != 0) &&
	    ft->e[0].next != i) {
		lru_unlink(ft, i);
		lru_push_head(ft, i);
	}
	x->last_ns = now;
}

static void tcp_conntrack(struct flow_table *ft, const struct packet *p,
			  uint64_t now, struct flow_result *out)
{
	const uint8_t ends = PACKET_TCP_SYN | PACKET_TCP_RST | PACKET_TCP_FIN;
	uint8_t fl = p->tcp_flags;
	struct flow_key k;
	struct flow_entry *x;
	uint32_t h, i;
	int side, bump = 0;

	if (!tcp_flags_valid(fl)) {
		out->ct = FLOW_CT_INVALID;
		return;
	}
	side = key_make(p, &k);
	h = key_hash(ft, &k);
	i = lookup(ft, &k, h);
	if (i && entry_expired(ft, &ft->e[i], now)) {
		entry_release(ft, i);
		ft->st.expired++;
		i = 0;
	}
	if (!i) {
		if (!p->conn_attempt &&
		    ft->gone[h % ft->ngone] == (h | 1)) {
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
		i = entry_create(ft, &k, h, now);
		x = &ft->e[i];
		x->init_side = (uint8_t)side;
		x->flags = (uint8_t)(FL_USED | FL_OPENING |
				     (out->pickup ? FL_PICKUP : 0));
		out->ct = FLOW_CT_NEW;
		out->tracked = 1;
		return;
	}
	x = &ft->e[i];
	out->tracked = 1;
	if (p->conn_attempt) {
		if ((x->flags & FL_OPENING) && side == x->init_side) {
			out->is_new = out->retransmit = 1;
			out->ct = FLOW_CT_NEW;
		} else if (x->flags & FL_OPENING) {
			/* simultaneous open: the reply direction */
			out->ct = FLOW_CT_ESTABLISHED;
		} else {
			/* a port reused after the old connection ended or
			 * was answered: a new connection */
			x->init_side = (uint8_t)side;
			x->flags = FL_USED | FL_OPENING;
			out->is_new = 1;
			out->ct = FLOW_CT_NEW;
			bump = 1;
		}
	} else if (side == x->init_side) {
		/* conntrack's ctinfo stays NEW in the original direction
		 * until a reply is seen */
		if (!(x->flags & FL_REPLIED)) {
			out->is_new = out->retransmit = 1;
			out->ct = FLOW_CT_NEW;
		} else {
			out->ct = FLOW_CT_ESTABLISHED;
		}
		if (fl & (PACKET_TCP_RST | PACKET_TCP_FIN))
			x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
					     FL_CLOSED);
	} else {
		out->ct = FLOW_CT_ESTABLISHED;
		if (fl & (PACKET_TCP_RST | PACKET_TCP_FIN)) {
			/* a refusal, not a listener answering */
			x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
					     FL_CLOSED);
		} else {
			if ((x->flags & FL_OPENING) && !(x->flags & FL_PICKUP) &&
			    (fl & PACKET_TCP_SYN))
				out->reply = 1; /* the SYN/ACK */
			x->flags = (uint8_t)((x->flags & ~FL_OPENING) |
					     FL_REPLIED);
		}
	}
	touch(ft, i, now, bump);
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
