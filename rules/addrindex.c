/* addrindex: see addrindex.h. */
#include "addrindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

void addrindex_free(struct addrindex *ax)
{
	free(ax->slots);
	free(ax->bucket);
	free(ax->nodes);
	free(ax->items);
	memset(ax, 0, sizeof(*ax));
}

static addrindex_key pfx_start(const struct addr_prefix *p)
{
	return addrindex_key_of(p->family, p->bytes);
}

static addrindex_key pfx_end(const struct addr_prefix *p)
{
	unsigned len = p->len; /* an IPv4 prefix's bits are on top */
	addrindex_key ones = ~(addrindex_key)0;

	if (len == 0)
		return ones;
	return len >= 128 ? pfx_start(p) : pfx_start(p) | (ones >> len);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct addrindex_entry *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->pfx->len != y->pfx->len)
		return x->pfx->len < y->pfx->len ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

struct builder {
	struct addrindex *ax;
	size_t capkeys;
};

/* Appends an interval start, or changes the owner of the last one when
 * it starts at the same key (the last event at a key wins); an interval
 * that keeps the owner of the one before it is not a new one. */
static int emit(struct builder *b, addrindex_key key, uint32_t node)
{
	struct addrindex *ax = b->ax;

	struct addrindex_slot *last = ax->nkeys ? &ax->slots[ax->nkeys - 1]
						: NULL;

	if (last && addrindex_slot_key(last) == key) {
		last->owner = node;
		return 0;
	}
	if (last && last->owner == node)
		return 0;
	if (vec_grow(&ax->slots, &b->capkeys, (size_t)ax->nkeys + 1,
		     sizeof(*ax->slots)) < 0)
		return -1;
	ax->slots[ax->nkeys] = (struct addrindex_slot){
		(uint64_t)(key >> 64), (uint64_t)key, node
	};
	ax->nkeys++;
	return 0;
}

static unsigned clz128(addrindex_key x)
{
	uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;

	if (hi)
		return (unsigned)__builtin_clzll(hi);
	if (lo)
		return 64 + (unsigned)__builtin_clzll(lo);
	return 128;
}

/* The bucket table over slots[1..]: the bits after their shared prefix,
 * about one bucket per key, at most 2^16. */
static int buckets_build(struct addrindex *ax)
{
	uint32_t i, nb, b;
	unsigned shared = 128;
	addrindex_key first = addrindex_slot_key(&ax->slots[1]);

	for (i = 2; i < ax->nkeys; i++) {
		unsigned c = clz128(addrindex_slot_key(&ax->slots[i]) ^ first);

		if (c < shared)
			shared = c;
	}
	ax->bbits = 1;
	while (ax->bbits < 16 && (1u << ax->bbits) < ax->nkeys)
		ax->bbits++;
	if (shared > 128 - ax->bbits)
		shared = 128 - ax->bbits;
	ax->shared = shared;
	ax->base = shared ? first & ~(~(addrindex_key)0 >> shared) : 0;
	nb = 1u << ax->bbits;
	ax->bucket = malloc(((size_t)nb + 1) * sizeof(*ax->bucket));
	if (!ax->bucket)
		return -1;
	/* bucket[b]: the first i >= 1 whose key's bucket is b or more. */
	i = 1;
	for (b = 0; b <= nb; b++) {
		while (i < ax->nkeys &&
		       (uint32_t)((addrindex_slot_key(&ax->slots[i])
				   << shared) >>
				  (128 - ax->bbits)) < b)
			i++;
		ax->bucket[b] = b == nb ? ax->nkeys : i;
	}
	return 0;
}

int addrindex_build(struct addrindex *ax, struct addrindex_entry *e,
		    size_t n)
{
	struct builder b = { ax, 0 };
	const struct addr_prefix **npfx = NULL; /* node -> its prefix */
	uint32_t stack[129], depth = 0, nn = 0;
	size_t i, j, nitems = 0;
	int pr;

	if (n == 0)
		return 0;
	if (n >= UINT32_MAX / 2)
		goto oom;
	for (i = 0; i < n; i++)
		e[i].start = pfx_start(e[i].pfx);
	qsort(e, n, sizeof(*e), entry_cmp);
	ax->items = malloc(n * sizeof(*ax->items));
	ax->nodes = malloc(n * sizeof(*ax->nodes));
	npfx = malloc(n * sizeof(*npfx));
	if (!ax->items || !ax->nodes || !npfx)
		goto oom;
	if (emit(&b, 0, ADDRINDEX_NONE) < 0)
		goto oom;
	/* Sorted by start, then shorter first: a prefix comes after every
	 * prefix that encloses it, and the stack holds the chain of open
	 * prefixes, each inside the one below. */
	for (i = 0; i < n; i = j) {
		const struct addr_prefix *pf = e[i].pfx;
		addrindex_key start = e[i].start;
		struct addrindex_node *nd = &ax->nodes[nn];

		while (depth && pfx_end(npfx[stack[depth - 1]]) < start) {
			addrindex_key next = pfx_end(npfx[stack[--depth]]) + 1;

			if (emit(&b, next,
				 depth ? stack[depth - 1] : ADDRINDEX_NONE) < 0)
				goto oom;
		}
		if (depth == 129) /* cannot happen: lengths grow inward */
			goto oom;
		nd->parent = depth ? stack[depth - 1] : ADDRINDEX_NONE;
		nd->off = (uint32_t)nitems;
		for (pr = 0; pr < PROTO_COUNT; pr++)
			nd->first[pr] = nd->parent == ADDRINDEX_NONE
						? ADDRINDEX_NONE
						: ax->nodes[nd->parent].first[pr];
		for (j = i; j < n && e[j].pfx->len == pf->len &&
			    e[j].start == start;
		     j++) {
			/* A rule naming a prefix twice is listed once. */
			if (nitems == nd->off ||
			    ax->items[nitems - 1].idx != e[j].idx)
				ax->items[nitems++] = (struct addrindex_item){
					e[j].idx, e[j].quick
				};
			for (pr = 0; pr < PROTO_COUNT; pr++)
				if ((e[j].protos >> pr & 1) &&
				    e[j].code < nd->first[pr])
					nd->first[pr] = e[j].code;
		}
		nd->n = (uint32_t)nitems - nd->off;
		npfx[nn] = pf;
		stack[depth++] = nn;
		if (emit(&b, start, nn) < 0)
			goto oom;
		nn++;
	}
	ax->nnodes = nn;
	while (depth) {
		addrindex_key end = pfx_end(npfx[stack[--depth]]);

		if (end == ~(addrindex_key)0)
			break; /* so do the ones that enclose it */
		if (emit(&b, end + 1, depth ? stack[depth - 1] : ADDRINDEX_NONE) <
		    0)
			goto oom;
	}
	if (ax->nkeys >= 2 && buckets_build(ax) < 0)
		goto oom;
	free(npfx);
	return 0;
oom:
	free(npfx);
	errno = ENOMEM;
	return -1;
}
