/*
 * seen: see seen.h.  Open addressing with linear probing; entries live in
 * their own array so that growing the index never moves them (callers
 * keep pointers for the duration of one update).
 */
#include "seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct seen_set {
	struct seen_entry **slots; /* index, power-of-two size */
	size_t nslots;
	struct seen_entry **chunks; /* storage, never moved */
	size_t nentries;
};

#define CHUNK 256

static uint64_t key_hash(uint8_t proto, uint8_t family, const uint8_t addr[16],
			 uint16_t port)
{
	/* FNV-1a: a handful of answers per capture, quality over speed */
	uint64_t h = 1469598103934665603ull;
	size_t i;

	h = (h ^ proto) * 1099511628211ull;
	h = (h ^ family) * 1099511628211ull;
	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	h = (h ^ (port >> 8)) * 1099511628211ull;
	h = (h ^ (port & 0xff)) * 1099511628211ull;
	return h;
}

static int key_eq(const struct seen_entry *e, uint8_t proto, uint8_t family,
		  const uint8_t addr[16], uint16_t port)
{
	return e->proto == proto && e->family == family && e->port == port &&
	       memcmp(e->addr, addr, 16) == 0;
}

struct seen_set *seen_new(void)
{
	struct seen_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nslots = 64;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void seen_free(struct seen_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < (s->nentries + CHUNK - 1) / CHUNK; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->slots);
	free(s);
}

static int grow(struct seen_set *s)
{
	size_t n = s->nslots * 2, i;
	struct seen_entry **ns = calloc(n, sizeof(*ns));

	if (!ns)
		return -1;
	for (i = 0; i < s->nslots; i++) {
		struct seen_entry *e = s->slots[i];
		size_t j;

		if (!e)
			continue;
		j = key_hash(e->proto, e->family, e->addr, e->port) & (n - 1);
		while (ns[j])
			j = (j + 1) & (n - 1);
		ns[j] = e;
	}
	free(s->slots);
	s->slots = ns;
	s->nslots = n;
	return 0;
}

static struct seen_entry *alloc_entry(struct seen_set *s)
{
	size_t c = s->nentries / CHUNK;

	if (s->nentries % CHUNK == 0) {
		struct seen_entry **nc;
		struct seen_entry *chunk;

		nc = realloc(s->chunks, (c + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		s->chunks = nc;
		chunk = calloc(CHUNK, sizeof(*chunk));
		if (!chunk)
			return NULL;
		s->chunks[c] = chunk;
	}
	return &s->chunks[c][s->nentries++ % CHUNK];
}

struct seen_entry *seen_get(struct seen_set *s, uint8_t proto, uint8_t family,
			    const uint8_t addr[16], uint16_t port)
{
	size_t mask, j;
	struct seen_entry *e;

	/* keep the load below one half so probes stay short */
	if ((s->nentries + 1) * 2 > s->nslots && grow(s) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	mask = s->nslots - 1;
	j = key_hash(proto, family, addr, port) & mask;
	for (; s->slots[j]; j = (j + 1) & mask)
		if (key_eq(s->slots[j], proto, family, addr, port))
			return s->slots[j];
	e = alloc_entry(s);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->proto = proto;
	e->family = family;
	memcpy(e->addr, addr, 16);
	e->port = port;
	s->slots[j] = e;
	return e;
}

size_t seen_count(const struct seen_set *s)
{
	return s->nentries;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct seen_entry *x = *(const struct seen_entry *const *)a;
	const struct seen_entry *y = *(const struct seen_entry *const *)b;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

struct seen_entry **seen_sorted(struct seen_set *s, size_t *n)
{
	struct seen_entry **v;
	size_t i, k = 0;

	*n = 0;
	if (s->nentries == 0)
		return NULL;
	v = malloc(s->nentries * sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i])
			v[k++] = s->slots[i];
	qsort(v, k, sizeof(*v), cmp_entry);
	*n = k;
	return v;
}

const char *seen_policy_name(uint64_t answers, uint64_t expected,
			     uint64_t undetermined)
{
	if (expected == answers)
		return "expected";
	if (undetermined == answers)
		return "undetermined";
	if (expected == 0 && undetermined == 0)
		return "unexpected";
	return "mixed";
}
