/*
 * listener: the table of listening sockets, its lookup and lazy owner
 * resolution.  (The snapshot is read and written in host/snapshot.c.)
 *
 * Entries live in one growable array, in insertion order (listing order);
 * a chained hash on (proto, port) with 32-bit links in a parallel array
 * finds them.  Lookups happen only for connection attempts to guarded
 * ports, and a port rarely has more than a handful of sockets (one per
 * address and family), so a chain walk that ranks candidates is enough.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "packet.h"

struct listener_table {
	struct listener *v;
	uint32_t *next;	  /* chain link per entry, index + 1; 0 ends */
	uint32_t *bucket; /* head per bucket, index + 1; 0 empty */
	size_t n, cap;
	size_t nb;	  /* power of two, >= 2 * n */
	listener_resolve_fn resolve;
	void *resolve_ctx;
	struct listener_host *hosts; /* the host's own addresses (snapshot) */
	size_t nhosts, caphosts;
};

static inline size_t bucket_of(const struct listener_table *t, uint8_t proto,
			       uint16_t port)
{
	uint32_t h = ((uint32_t)port << 8 | proto) * 0x9e3779b1u;

	return (h >> 16) & (t->nb - 1);
}

static void rehash(struct listener_table *t)
{
	memset(t->bucket, 0, t->nb * sizeof(*t->bucket));
	/* Insert from the back so that each chain lists entries in
	 * insertion order; find() then prefers the earliest entry. */
	for (size_t i = t->n; i-- > 0;) {
		size_t b = bucket_of(t, t->v[i].proto, t->v[i].port);

		t->next[i] = t->bucket[b];
		t->bucket[b] = (uint32_t)(i + 1);
	}
}

struct listener_table *listener_table_new(void)
{
	struct listener_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nb = 16;
	t->bucket = calloc(t->nb, sizeof(*t->bucket));
	if (!t->bucket) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void listener_table_free(struct listener_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->next);
	free(t->bucket);
	free(t->hosts);
	free(t);
}

void listener_table_clear(struct listener_table *t)
{
	t->n = 0;
	t->nhosts = 0;
	memset(t->bucket, 0, t->nb * sizeof(*t->bucket));
}

int listener_table_add_host(struct listener_table *t, uint8_t family,
			    const uint8_t addr[16])
{
	if (family != 4 && family != 6) {
		errno = EINVAL;
		return -1;
	}
	if (listener_table_is_host(t, family, addr))
		return 0;
	if (t->nhosts >= LISTENER_MAX_HOSTS) {
		errno = ENOSPC;
		return -1;
	}
	if (t->nhosts == t->caphosts) {
		size_t nc = t->caphosts ? t->caphosts * 2 : 16;
		struct listener_host *nh = realloc(t->hosts, nc * sizeof(*nh));

		if (!nh) {
			errno = ENOMEM;
			return -1;
		}
		t->hosts = nh;
		t->caphosts = nc;
	}
	memset(&t->hosts[t->nhosts], 0, sizeof(t->hosts[0]));
	t->hosts[t->nhosts].family = family;
	memcpy(t->hosts[t->nhosts].addr, addr, family == 4 ? 4 : 16);
	t->nhosts++;
	return 0;
}

void listener_table_truncate_hosts(struct listener_table *t, size_t n)
{
	if (n < t->nhosts)
		t->nhosts = n;
}

size_t listener_table_host_count(const struct listener_table *t)
{
	return t->nhosts;
}

const struct listener_host *listener_table_host_at(const struct listener_table *t,
						   size_t i)
{
	return i < t->nhosts ? &t->hosts[i] : NULL;
}

int listener_table_is_host(const struct listener_table *t, uint8_t family,
			   const uint8_t addr[16])
{
	size_t n = family == 4 ? 4 : 16;

	for (size_t i = 0; i < t->nhosts; i++)
		if (t->hosts[i].family == family &&
		    !memcmp(t->hosts[i].addr, addr, n))
			return 1;
	return 0;
}

void listener_table_set_resolver(struct listener_table *t,
				 listener_resolve_fn fn, void *ctx)
{
	t->resolve = fn;
	t->resolve_ctx = ctx;
}

int listener_table_add(struct listener_table *t, const struct listener *l)
{
	size_t b;

	if (t->n >= LISTENER_MAX_ENTRIES) {
		errno = ENOMEM;
		return -1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct listener *v = realloc(t->v, cap * sizeof(*v));
		uint32_t *nx;

		if (!v) {
			errno = ENOMEM;
			return -1;
		}
		t->v = v;
		nx = realloc(t->next, cap * sizeof(*nx));
		if (!nx) {
			errno = ENOMEM;
			return -1;
		}
		t->next = nx;
		t->cap = cap;
	}
	if (2 * (t->n + 1) > t->nb) {
		size_t nb = t->nb * 2;
		uint32_t *bk = calloc(nb, sizeof(*bk));

		if (!bk) {
			errno = ENOMEM;
			return -1;
		}
		free(t->bucket);
		t->bucket = bk;
		t->nb = nb;
		t->v[t->n] = *l;
		t->n++;
		rehash(t);
		return 0;
	}
	t->v[t->n] = *l;
	/* Append at the chain's end to keep insertion order. */
	b = bucket_of(t, l->proto, l->port);
	t->next[t->n] = 0;
	if (!t->bucket[b]) {
		t->bucket[b] = (uint32_t)(t->n + 1);
	} else {
		uint32_t i = t->bucket[b];

		while (t->next[i - 1])
			i = t->next[i - 1];
		t->next[i - 1] = (uint32_t)(t->n + 1);
	}
	t->n++;
	return 0;
}

size_t listener_table_count(const struct listener_table *t)
{
	return t->n;
}

struct listener *listener_table_at(struct listener_table *t, size_t i)
{
	return i < t->n ? &t->v[i] : NULL;
}

static const uint8_t zero16[16];

static int is_wildcard(const uint8_t a[16])
{
	return memcmp(a, zero16, 16) == 0;
}

/* ::ffff:a.b.c.d holding the IPv4 address a (first 4 bytes). */
static int is_mapped_v4(const uint8_t v6[16], const uint8_t v4[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0xff, 0xff };

	return memcmp(v6, pfx, 12) == 0 && memcmp(v6 + 12, v4, 4) == 0;
}

struct listener *listener_table_find(struct listener_table *t, uint8_t proto,
				     uint8_t family, const uint8_t addr[16],
				     uint16_t port)
{
	struct listener *best = NULL;
	int best_rank = 0;

	for (uint32_t i = t->bucket[bucket_of(t, proto, port)]; i;
	     i = t->next[i - 1]) {
		struct listener *l = &t->v[i - 1];
		int rank = 0;

		if (l->proto != proto || l->port != port)
			continue;
		if (l->family == family) {
			if (memcmp(l->addr, addr, 16) == 0)
				rank = 3; /* exact */
			else if (is_wildcard(l->addr))
				rank = 2;
		} else if (family == 4 && l->family == 6) {
			if (is_mapped_v4(l->addr, addr))
				rank = 3; /* exact, as a v4-mapped address */
			else if (is_wildcard(l->addr))
				rank = 1; /* dual-stack [::] */
		}
		if (rank > best_rank) {
			best = l;
			best_rank = rank;
			if (rank == 3)
				break;
		}
	}
	return best;
}

const struct listener_owner *listener_owner(struct listener_table *t,
					    struct listener *l)
{
	if (!l)
		return NULL;
	if (l->owner_state == 0 && t && t->resolve) {
		/* Set first so that a resolver that re-enters cannot loop. */
		int r;

		l->owner_state = -1;
		r = t->resolve(t->resolve_ctx, l);
		/* 1: asked, the answer comes later (listener_set_owner). */
		l->owner_state = r == 0 ? 1 : r > 0 ? 0 : -1;
	}
	return l->owner_state == 1 ? &l->owner : NULL;
}

void listener_set_owner(struct listener *l, const struct listener_owner *o)
{
	if (o) {
		l->owner = *o;
		l->owner_state = 1;
	} else {
		memset(&l->owner, 0, sizeof(l->owner));
		l->owner.pid = -1;
		l->owner_state = -1;
	}
}

const struct listener_owner *listener_owner_known(const struct listener *l)
{
	return l && l->owner_state == 1 ? &l->owner : NULL;
}

int listener_owner_pending(const struct listener *l)
{
	return l && l->owner_state == 0;
}

void listener_table_truncate(struct listener_table *t, size_t n)
{
	if (n < t->n) {
		t->n = n;
		rehash(t);
	}
}
