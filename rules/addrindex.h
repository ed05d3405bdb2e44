/*
 * addrindex: an index of address prefixes for one family and one side
 * (source or destination) of a ruleset's rules, which finds the rules
 * whose prefix covers an address without scanning them.  Internal to the
 * engine (rindex.h files rules in it).
 *
 * Prefixes are nested or disjoint, so the distinct prefixes form a forest:
 * each is a node with the ascending list of the rules that name it and a
 * parent, the nearest enclosing prefix.  The address space is cut at
 * every prefix's first and one-past-last address into elementary
 * intervals, each owned by the longest prefix covering it (or none); the
 * interval starts are sorted 128-bit keys (an IPv4 address is its 32 bits
 * on top), reached through a table of buckets on the bits that follow the
 * prefix all the keys share, then a short binary search.  An address's
 * candidates are the lists along its node's chain of parents.  Memory is
 * linear in the number of (prefix, rule) pairs: two keys per prefix, one
 * node per distinct prefix, one entry per pair, one bucket per key at most.
 */
#ifndef PORTCLASS_ADDRINDEX_H
#define PORTCLASS_ADDRINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "packet.h"

#define ADDRINDEX_NONE UINT32_MAX

typedef unsigned __int128 addrindex_key;

struct addrindex_node {
	uint32_t parent; /* ADDRINDEX_NONE at the top of a chain */
	uint32_t off, n; /* its rules: items[off .. off + n), ascending idx */
	/* Per protocol, the least code (as given to addrindex_build) of the
	 * rules of this node and of its ancestors that have that protocol,
	 * ADDRINDEX_NONE when none has. */
	uint32_t first[PROTO_COUNT];
};

/* An elementary interval: its first key, as two halves, and its owner
 * (a node, or ADDRINDEX_NONE), side by side so that the search ends on
 * the cache line that has the answer. */
struct addrindex_slot {
	uint64_t hi, lo;
	uint32_t owner;
};

static inline addrindex_key addrindex_slot_key(const struct addrindex_slot *s)
{
	return (addrindex_key)s->hi << 64 | s->lo;
}

/* What a candidate can be refused on without reading its rule: its
 * protocols, the hulls of its port sets (0-65535 without ports) and of
 * the addresses of its other side: when ofam is 4 or 6, every address
 * there is of that family and has its first 32 bits under omask equal
 * to obits (ofam 0: no such hull). */
struct addrindex_quick {
	uint16_t protos; /* bit per enum packet_proto */
	uint16_t dlo, dhi, slo, shi;
	uint8_t ofam;
	uint32_t obits, omask;
};

/* A rule in a node's list, with what refuses it without reading it. */
struct addrindex_item {
	uint32_t idx;
	struct addrindex_quick q;
};

struct addrindex {
	uint32_t nkeys;		/* 0: nothing indexed */
	uint32_t nnodes;
	struct addrindex_slot *slots; /* ascending, slots[0] starts at 0 */
	uint32_t *bucket;	/* 2^bbits + 1 entries (see addrindex_find) */
	addrindex_key base;	/* the prefix shared by slots[1..]' keys */
	unsigned shared, bbits; /* its length; bits of a bucket number */
	struct addrindex_node *nodes;
	struct addrindex_item *items;
};

/* One (prefix, rule) pair to index. */
struct addrindex_entry {
	const struct addr_prefix *pfx; /* of the index's family */
	uint32_t idx;		       /* rule index */
	uint32_t protos;	       /* bit per enum packet_proto */
	uint32_t code;		       /* what first[] keeps the least of */
	struct addrindex_quick quick;
	addrindex_key start; /* set by addrindex_build */
};

/* 0 when the rule behind q cannot match a packet of protocol proto with
 * these ports (has_ports 0: ports not checked), of this family, whose
 * address on the rule's other side begins with other32 (its first 4
 * bytes, big-endian); 1 when it may. */
static inline int addrindex_quick_ok(const struct addrindex_quick *q,
				     unsigned proto, int has_ports,
				     uint16_t sport, uint16_t dport,
				     uint8_t family, uint32_t other32)
{
	if (!(q->protos >> proto & 1))
		return 0;
	if (q->ofam &&
	    (q->ofam != family || (other32 & q->omask) != q->obits))
		return 0;
	return !has_ports || (dport >= q->dlo && dport <= q->dhi &&
			      sport >= q->slo && sport <= q->shi);
}

/*
 * Builds *ax (zeroed by the caller) over the n entries of one family,
 * which it may reorder.  Returns 0, or -1 with errno ENOMEM (ax then
 * holds what was built, for addrindex_free).
 */
int addrindex_build(struct addrindex *ax, struct addrindex_entry *e,
		    size_t n);

/* Frees what addrindex_build allocated and leaves ax zeroed. */
void addrindex_free(struct addrindex *ax);

/* The key of an address of the index's family (4: the first 4 bytes). */
static inline addrindex_key addrindex_key_of(uint8_t family,
					     const uint8_t a[16])
{
	addrindex_key k = 0;
	unsigned i, n = family == 4 ? 4 : 16;

	for (i = 0; i < n; i++)
		k = k << 8 | a[i];
	return family == 4 ? k << 96 : k;
}

/* The first step of addrindex_find: 1 with the answer in *node when
 * the bucket table suffices, else 0 with the slots to search in
 * [*lo, *hi), whose middle the caller may prefetch (two lookups, each
 * split in two, overlap their cache misses). */
static inline int addrindex_range(const struct addrindex *ax,
				  addrindex_key key, uint32_t *lo,
				  uint32_t *hi, uint32_t *node)
{
	uint32_t b;

	if (ax->nkeys <= 1) {
		*node = ax->nkeys ? ax->slots[0].owner : ADDRINDEX_NONE;
		return 1;
	}
	if (key < ax->base) {
		*node = ax->slots[0].owner;
		return 1;
	}
	if (ax->shared && (key ^ ax->base) >> (128 - ax->shared)) {
		*node = ax->slots[ax->nkeys - 1].owner; /* above every key */
		return 1;
	}
	b = (uint32_t)((key << ax->shared) >> (128 - ax->bbits));
	*lo = ax->bucket[b];
	*hi = ax->bucket[b + 1];
	return 0;
}

/* The second step: the node of the last slot <= key in [lo, hi), or of
 * slots[lo - 1] (below the bucket: lo >= 1) when none is. */
static inline uint32_t addrindex_search(const struct addrindex *ax,
					addrindex_key key, uint32_t lo,
					uint32_t hi)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addrindex_slot_key(&ax->slots[mid]) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ax->slots[lo - 1].owner;
}

/* The node of the longest indexed prefix covering key, or
 * ADDRINDEX_NONE.  Never allocates; a few cache lines. */
static inline uint32_t addrindex_find(const struct addrindex *ax,
				      addrindex_key key)
{
	uint32_t lo = 0, hi = 0, node;

	if (addrindex_range(ax, key, &lo, &hi, &node))
		return node;
	return addrindex_search(ax, key, lo, hi);
}

#endif
