/*
 * flow: a bounded flow table for NEW detection.
 *
 * Layout, chosen for memory per flow and for no allocation after
 * flow_new():
 *  - one preallocated array of fixed-size entries (64 bytes each),
 *    addressed by 32-bit indices; index 0 is a sentinel, so 0 means "none"
 *    everywhere and a calloc'ed bucket array is already empty;
 *  - a chained hash: a power-of-two array of 32-bit bucket heads (at most
 *    8 bytes per flow, 4 with the default size) and a 32-bit chain link in
 *    each entry;
 *  - an intrusive doubly linked LRU list through the entries, circular
 *    around the sentinel: sentinel.next is the most recently seen flow,
 *    sentinel.prev the least recently seen one, the one evicted when full.
 * Entries are handed out from a high-water mark first, then from a free
 * list, so the pages of a large table are touched only as it fills.
 *
 * A flow is keyed by (proto, family, both addresses, both ports) in a
 * canonical order (the lower address/port endpoint first), so both
 * directions hit the same entry; the entry remembers which side opened it.
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
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define FLOW_DEFAULT_MAX 262144
#define FLOW_DEFAULT_UDP_S 30
#define FLOW_DEFAULT_TCP_S 300
/* Indices are 32-bit and 0 is the sentinel. */
#define FLOW_MAX_FLOWS ((size_t)1 << 30)
/* Reaping: at most every 10 ms of packet time, at most 256 flows. */
#define FLOW_REAP_NS 10000000ull
#define FLOW_REAP_BATCH 256
/* LRU resolution: 2^30 ns, about a second. */
#define FLOW_LRU_SHIFT 30

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
};

struct flow_entry {
	struct flow_key key;
	uint8_t flags;
	uint8_t init_side; /* 0: a opened the flow, 1: b did */
	uint32_t hash;
	uint32_t hnext;	   /* next entry in the bucket chain */
	uint32_t prev, next; /* LRU list */
	uint64_t last_ns;
};

#define KEY_BYTES sizeof(struct flow_key)

struct flow_table {
	struct flow_entry *e;	/* max + 1 entries, e[0] is the sentinel */
	uint32_t *bucket;	/* nbuckets heads */
	uint32_t mask;		/* nbuckets - 1 */
	uint32_t max;
	uint32_t hwm;		/* entries 1..hwm have been handed out */
	uint32_t free_head;	/* free list, linked through hnext */
	uint64_t udp_timeout_ns, tcp_timeout_ns;
	uint64_t seed;
	uint64_t reap_ns;	/* packet time of the last reap */
	struct flow_stats st;
};

size_t flow_entry_size(void)
{
	/* An entry plus its bucket share: nbuckets < 2 * max_flows. */
	return sizeof(struct flow_entry) + 2 * sizeof(uint32_t);
}

struct flow_table *flow_new(const struct flow_opts *o)
{
	size_t max = o && o->max_flows ? o->max_flows : FLOW_DEFAULT_MAX;
	uint32_t udp_s = o && o->udp_timeout_s ? o->udp_timeout_s
						: FLOW_DEFAULT_UDP_S;
	uint32_t tcp_s = o && o->tcp_timeout_s ? o->tcp_timeout_s
						: FLOW_DEFAULT_TCP_S;
	struct flow_table *ft;
	size_t nb = 16;

	if (max > FLOW_MAX_FLOWS) {
		errno = ENOMEM;
		return NULL;
	}
	while (nb < max)
		nb <<= 1;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	ft->e = calloc(max + 1, sizeof(*ft->e));
	ft->bucket = calloc(nb, sizeof(*ft->bucket));
	if (!ft->e || !ft->bucket) {
		flow_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	ft->mask = (uint32_t)(nb - 1);
	ft->max = (uint32_t)max;
	ft->udp_timeout_ns = (uint64_t)udp_s * 1000000000u;
	ft->tcp_timeout_ns = (uint64_t)tcp_s * 1000000000u;
	/* Per-table seed so that crafted traffic cannot aim at one chain in
	 * every instance; the address differs between runs under ASLR. */
	ft->seed = (uint64_t)(uintptr_t)ft * 0x9e3779b97f4a7c15ull ^
		   0x243f6a8885a308d3ull;
	ft->st.bytes = sizeof(*ft) + (max + 1) * sizeof(*ft->e) +
		       nb * sizeof(*ft->bucket);
	return ft;
}

void flow_free(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->e);
	free(ft->bucket);
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
	int c = memcmp(p->src, p->dst, 16);

	if (c == 0)
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

static void hash_unlink(struct flow_table *ft, uint32_t i)
{
	uint32_t *pp = &ft->bucket[ft->e[i].hash & ft->mask];

	while (*pp && *pp != i)
		pp = &ft->e[*pp].hnext;
	if (*pp)
		*pp = ft->e[i].hnext;
}

/* Takes entry i out of the table and onto the free list. */
static void entry_release(struct flow_table *ft, uint32_t i)
{
	hash_unlink(ft, i);
	lru_unlink(ft, i);
	ft->e[i].hnext = ft->free_head;
	ft->free_head = i;
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

	/* 38 bytes as four 8-byte words and one 6-byte tail. */
	return ((load64(a) ^ load64(b)) | (load64(a + 8) ^ load64(b + 8)) |
		(load64(a + 16) ^ load64(b + 16)) |
		(load64(a + 24) ^ load64(b + 24))) == 0 &&
	       memcmp(a + 32, b + 32, KEY_BYTES - 32) == 0;
}

static inline uint32_t lookup(const struct flow_table *ft,
			      const struct flow_key *k, uint32_t h)
{
	uint32_t i = ft->bucket[h & ft->mask];

	while (i) {
		const struct flow_entry *x = &ft->e[i];

		if (x->hash == h && key_eq(&x->key, k))
			return i;
		i = x->hnext;
	}
	return 0;
}

/* A fresh entry for k, linked into the hash and at the LRU head. */
static uint32_t entry_create(struct flow_table *ft, const struct flow_key *k,
			     uint32_t h, uint64_t now)
{
	uint32_t i;
	struct flow_entry *x;

	if (ft->free_head) {
		i = ft->free_head;
		ft->free_head = ft->e[i].hnext;
	} else if (ft->hwm < ft->max) {
		i = ++ft->hwm;
	} else {
		i = ft->e[0].prev; /* full: the least recently seen goes */
		if (entry_expired(ft, &ft->e[i], now))
			ft->st.expired++;
		else
			ft->st.evicted++;
		entry_release(ft, i);
		ft->free_head = ft->e[i].hnext;
	}
	x = &ft->e[i];
	memcpy(&x->key, k, KEY_BYTES);
	x->flags = 0;
	x->init_side = 0;
	x->hash = h;
	x->hnext = ft->bucket[h & ft->mask];
	ft->bucket[h & ft->mask] = i;
	x->last_ns = now;
	lru_push_head(ft, i);
	ft->st.flows++;
	ft->st.created++;
	return i;
}

void flow_observe(struct flow_table *ft, const struct packet *p,
		  uint64_t now_ns, struct flow_result *out)
{
	struct flow_key k;
	struct flow_entry *x;
	uint32_t h, i;
	int side, bump = 0;

	memset(out, 0, sizeof(*out));
	if (p->status != PACKET_OK || !p->has_ports)
		return;
	switch (p->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_UDPLITE:
	case PROTO_SCTP:
	case PROTO_DCCP:
		break;
	default:
		return;
	}

	reap(ft, now_ns);
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
		 * the first one back is the reply. */
		if (!i) {
			i = entry_create(ft, &k, h, now_ns);
			x = &ft->e[i];
			x->init_side = (uint8_t)side;
			x->flags = FL_OPENING;
			out->is_new = 1;
		} else {
			x = &ft->e[i];
			if (side != x->init_side && !(x->flags & FL_REPLIED)) {
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
			x->flags = FL_OPENING;
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
