/*
 * listener: the table of listening sockets, its lookup, lazy owner
 * resolution, and the snapshot (JSON) reader.
 *
 * Entries live in one growable array, in insertion order (listing order);
 * a chained hash on (proto, port) with 32-bit links in a parallel array
 * finds them.  Lookups happen only for connection attempts to guarded
 * ports, and a port rarely has more than a handful of sockets (one per
 * address and family), so a chain walk that ranks candidates is enough.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "packet.h"

/* Snapshots larger than this are refused rather than grown into. */
#define LISTENER_MAX_ENTRIES ((size_t)1 << 20)

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
		l->owner_state = -1;
		if (t->resolve(t->resolve_ctx, l) == 0)
			l->owner_state = 1;
		else
			l->owner_state = -1;
	}
	return l->owner_state == 1 ? &l->owner : NULL;
}

/* ---- snapshot JSON ---------------------------------------------------- */

/*
 * A strict reader for exactly what the snapshot needs: RFC 8259 syntax
 * (no comments, no trailing commas, no leading zeros, UTF-8 validated),
 * a nesting bound, and bounds checks on every byte.  Members it does not
 * know are parsed (so they must be valid JSON) and skipped.
 */

#define JSON_MAX_DEPTH 32
#define JSON_KEY_MAX 32

struct jp {
	const char *s;
	size_t len, pos;
	int depth;
	char *err;
	size_t errlen;
	int failed;
};

/* Records the first error, at byte offset at, as "line:col: message". */
__attribute__((format(printf, 3, 4)))
static int jfail(struct jp *j, size_t at, const char *fmt, ...)
{
	unsigned line = 1;
	size_t col = 1;
	va_list ap;
	int n;

	if (j->failed)
		return -1;
	j->failed = 1;
	if (!j->err || !j->errlen)
		return -1;
	if (at > j->len)
		at = j->len;
	for (size_t i = 0; i < at; i++) {
		if (j->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	n = snprintf(j->err, j->errlen, "%u:%zu: ", line, col);
	if (n < 0 || (size_t)n >= j->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(j->err + n, j->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static inline int jpeek(const struct jp *j)
{
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

static void jws(struct jp *j)
{
	while (j->pos < j->len) {
		char c = j->s[j->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		j->pos++;
	}
}

/* Describes what was found where something else was expected. */
static int jexpect(struct jp *j, const char *what)
{
	int c = jpeek(j);

	if (c < 0)
		return jfail(j, j->pos, "expected %s, found end of input",
			     what);
	if (c >= 0x20 && c < 0x7f)
		return jfail(j, j->pos, "expected %s, found '%c'", what, c);
	return jfail(j, j->pos, "expected %s, found byte 0x%02x", what, c);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int jhex4(struct jp *j, size_t at, unsigned *out)
{
	unsigned v = 0;

	if (j->len - j->pos < 4)
		return jfail(j, at, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)j->s[j->pos + (size_t)i]);

		if (h < 0)
			return jfail(j, at, "bad \\u escape: expected 4 hex digits");
		v = v << 4 | (unsigned)h;
	}
	j->pos += 4;
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (p[0] == 0xed && p[1] >= 0xa0)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xf0 && p[1] < 0x90)
			return 0; /* overlong */
		if (p[0] == 0xf4 && p[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

/* Decoded string output: n counts every byte, w those written.  A piece
 * (one character or escape) is written whole or not at all, and nothing
 * after the first that did not fit, so out always ends on a character
 * boundary. */
struct jout {
	char *out;
	size_t cap, n, w;
};

static void jput(struct jout *o, const char *b, size_t k)
{
	if (o->out && o->w == o->n && o->n + k < o->cap) {
		memcpy(o->out + o->n, b, k);
		o->w += k;
	}
	o->n += k;
}

/*
 * Parses a string at the current '"'.  Decodes into out (NUL-terminated)
 * when out is not NULL; *too_long is set when it did not fit (cap - 1
 * bytes; out then holds the characters that did) and *has_nul when it
 * contained \u0000.  Syntax errors fail.
 */
static int jstring(struct jp *j, char *out, size_t cap, int *too_long,
		   int *has_nul)
{
	struct jout o = { .out = cap ? out : NULL, .cap = cap };
	size_t start = j->pos;

	*too_long = 0;
	*has_nul = 0;
	if (jpeek(j) != '"')
		return jexpect(j, "a string");
	j->pos++;
	for (;;) {
		size_t at = j->pos;
		unsigned char c;

		if (j->pos >= j->len)
			return jfail(j, start, "unterminated string");
		c = (unsigned char)j->s[j->pos];
		if (c == '"') {
			j->pos++;
			break;
		}
		if (c < 0x20)
			return jfail(j, at,
				     "control character 0x%02x in string", c);
		if (c == '\\') {
			char e;
			unsigned cp;
			char u[4];
			size_t k;

			if (j->pos + 1 >= j->len)
				return jfail(j, start, "unterminated string");
			e = j->s[j->pos + 1];
			j->pos += 2;
			switch (e) {
			case '"': jput(&o, "\"", 1); continue;
			case '\\': jput(&o, "\\", 1); continue;
			case '/': jput(&o, "/", 1); continue;
			case 'b': jput(&o, "\b", 1); continue;
			case 'f': jput(&o, "\f", 1); continue;
			case 'n': jput(&o, "\n", 1); continue;
			case 'r': jput(&o, "\r", 1); continue;
			case 't': jput(&o, "\t", 1); continue;
			case 'u':
				break;
			default:
				if ((unsigned char)e >= 0x20 &&
				    (unsigned char)e < 0x7f)
					return jfail(j, at, "bad escape '\\%c'",
						     e);
				return jfail(j, at, "bad escape");
			}
			if (jhex4(j, at, &cp) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jfail(j, at,
					     "bad \\u escape: lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;

				if (j->len - j->pos < 2 ||
				    j->s[j->pos] != '\\' ||
				    j->s[j->pos + 1] != 'u')
					return jfail(j, at,
						     "bad \\u escape: high surrogate without a low one");
				j->pos += 2;
				if (jhex4(j, at, &lo) < 0)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jfail(j, at,
						     "bad \\u escape: high surrogate without a low one");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			if (cp == 0)
				*has_nul = 1;
			if (cp < 0x80) {
				u[0] = (char)cp;
				k = 1;
			} else if (cp < 0x800) {
				u[0] = (char)(0xc0 | cp >> 6);
				u[1] = (char)(0x80 | (cp & 0x3f));
				k = 2;
			} else if (cp < 0x10000) {
				u[0] = (char)(0xe0 | cp >> 12);
				u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (char)(0x80 | (cp & 0x3f));
				k = 3;
			} else {
				u[0] = (char)(0xf0 | cp >> 18);
				u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (char)(0x80 | (cp & 0x3f));
				k = 4;
			}
			jput(&o, u, k);
			continue;
		}
		{
			size_t k = utf8_len((const unsigned char *)j->s +
						    j->pos,
					    j->len - j->pos);

			if (!k)
				return jfail(j, at, "invalid UTF-8 in string");
			jput(&o, j->s + j->pos, k);
			j->pos += k;
		}
	}
	if (o.out) {
		o.out[o.w] = '\0';
		*too_long = o.n != o.w;
	}
	return 0;
}

/*
 * Parses a number.  With val != NULL it must be an integer that fits
 * int64_t ("out of range" otherwise); without, any valid JSON number.
 */
static int jnumber(struct jp *j, int64_t *val)
{
	size_t at = j->pos;
	int neg = 0, is_int = 1, overflow = 0;
	uint64_t mag = 0;

	if (jpeek(j) == '-') {
		neg = 1;
		j->pos++;
	}
	if (jpeek(j) == '0') {
		j->pos++;
		if (jpeek(j) >= '0' && jpeek(j) <= '9')
			return jfail(j, at, "bad number: leading zero");
	} else if (jpeek(j) >= '1' && jpeek(j) <= '9') {
		while (jpeek(j) >= '0' && jpeek(j) <= '9') {
			unsigned d = (unsigned)(jpeek(j) - '0');

			if (mag > (UINT64_MAX - d) / 10)
				overflow = 1;
			else
				mag = mag * 10 + d;
			j->pos++;
		}
	} else {
		return jfail(j, at, "bad number");
	}
	if (jpeek(j) == '.') {
		is_int = 0;
		j->pos++;
		if (!(jpeek(j) >= '0' && jpeek(j) <= '9'))
			return jfail(j, at, "bad number: digit expected after '.'");
		while (jpeek(j) >= '0' && jpeek(j) <= '9')
			j->pos++;
	}
	if (jpeek(j) == 'e' || jpeek(j) == 'E') {
		is_int = 0;
		j->pos++;
		if (jpeek(j) == '+' || jpeek(j) == '-')
			j->pos++;
		if (!(jpeek(j) >= '0' && jpeek(j) <= '9'))
			return jfail(j, at, "bad number: digit expected in exponent");
		while (jpeek(j) >= '0' && jpeek(j) <= '9')
			j->pos++;
	}
	if (!val)
		return 0;
	if (!is_int)
		return jfail(j, at, "expected an integer");
	if (overflow || (!neg && mag > (uint64_t)INT64_MAX) ||
	    (neg && mag > (uint64_t)INT64_MAX + 1))
		return jfail(j, at, "number out of range");
	*val = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

static int jliteral(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return jfail(j, j->pos, "bad literal (expected %s)", word);
	j->pos += n;
	return 0;
}

static int jskip(struct jp *j);

/* Enters an object or array: checks the depth bound. */
static int jenter(struct jp *j)
{
	if (j->depth >= JSON_MAX_DEPTH)
		return jfail(j, j->pos, "nesting deeper than %d levels",
			     JSON_MAX_DEPTH);
	j->depth++;
	j->pos++;
	return 0;
}

/*
 * Walks the members of an object (at '{').  For each member, calls
 * member(j, key, key_known, ctx) with the parser at the value; key_known
 * is 0 when the key was too long to be one we know.  member must consume
 * the value.
 */
typedef int (*jmember_fn)(struct jp *j, const char *key, void *ctx);

static int jobject(struct jp *j, jmember_fn member, void *ctx)
{
	char key[JSON_KEY_MAX];

	if (jpeek(j) != '{')
		return jexpect(j, "'{'");
	if (jenter(j) < 0)
		return -1;
	jws(j);
	if (jpeek(j) == '}') {
		j->pos++;
		j->depth--;
		return 0;
	}
	for (;;) {
		int too_long, has_nul;

		jws(j);
		if (jpeek(j) != '"')
			return jexpect(j, "a member name");
		if (jstring(j, key, sizeof(key), &too_long, &has_nul) < 0)
			return -1;
		jws(j);
		if (jpeek(j) != ':')
			return jexpect(j, "':'");
		j->pos++;
		jws(j);
		if (too_long || has_nul) {
			if (jskip(j) < 0)
				return -1;
		} else if (member(j, key, ctx) < 0) {
			return -1;
		}
		jws(j);
		if (jpeek(j) == ',') {
			j->pos++;
			continue;
		}
		if (jpeek(j) == '}') {
			j->pos++;
			j->depth--;
			return 0;
		}
		return jexpect(j, "',' or '}'");
	}
}

static int skip_member(struct jp *j, const char *key, void *ctx)
{
	(void)key;
	(void)ctx;
	return jskip(j);
}

/* Parses and discards any value. */
static int jskip(struct jp *j)
{
	int c = jpeek(j);
	int too_long, has_nul;

	switch (c) {
	case '{':
		return jobject(j, skip_member, NULL);
	case '[':
		if (jenter(j) < 0)
			return -1;
		jws(j);
		if (jpeek(j) == ']') {
			j->pos++;
			j->depth--;
			return 0;
		}
		for (;;) {
			jws(j);
			if (jskip(j) < 0)
				return -1;
			jws(j);
			if (jpeek(j) == ',') {
				j->pos++;
				continue;
			}
			if (jpeek(j) == ']') {
				j->pos++;
				j->depth--;
				return 0;
			}
			return jexpect(j, "',' or ']'");
		}
	case '"':
		return jstring(j, NULL, 0, &too_long, &has_nul);
	case 't':
		return jliteral(j, "true");
	case 'f':
		return jliteral(j, "false");
	case 'n':
		return jliteral(j, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jnumber(j, NULL);
		return jexpect(j, "a value");
	}
}

/* A null, which the snapshot uses for "unknown". */
static int jis_null(struct jp *j)
{
	if (jpeek(j) != 'n')
		return 0;
	return jliteral(j, "null") == 0 ? 1 : -1;
}

/* An integer in [lo, hi]. */
static int jint_range(struct jp *j, const char *name, int64_t lo, int64_t hi,
		      int64_t *out)
{
	size_t at = j->pos;
	int c = jpeek(j);

	if (!(c == '-' || (c >= '0' && c <= '9')))
		return jexpect(j, "an integer");
	if (jnumber(j, out) < 0)
		return -1;
	if (*out < lo || *out > hi)
		return jfail(j, at, "%s %lld out of range (%lld-%lld)", name,
			     (long long)*out, (long long)lo, (long long)hi);
	return 0;
}

/*
 * A string without NUL that fits cap - 1 bytes.  With cut, a longer one is
 * cut at a character boundary instead: owner names are shown, and the
 * writer escapes bytes that are not UTF-8 as \u00XX, which read back as two
 * bytes each, so a path that fitted when written may not fit when read.
 */
static int jstring_field(struct jp *j, const char *name, char *out,
			 size_t cap, int cut)
{
	size_t at = j->pos;
	int too_long, has_nul;

	if (jstring(j, out, cap, &too_long, &has_nul) < 0)
		return -1;
	if (too_long && !cut)
		return jfail(j, at, "%s too long (max %zu bytes)", name,
			     cap - 1);
	if (has_nul)
		return jfail(j, at, "%s contains a NUL character", name);
	return 0;
}

struct snap_entry {
	struct listener l;
	char addr[64];
	size_t addr_at;
	int has_proto, has_family, has_addr, has_port, has_owner;
};

static int entry_member(struct jp *j, const char *key, void *ctx)
{
	struct snap_entry *e = ctx;
	struct listener_owner *o = &e->l.owner;
	size_t at = j->pos;
	int64_t v;
	int r;

	if (strcmp(key, "proto") == 0) {
		char name[16];
		int p;

		if (jstring_field(j, "proto", name, sizeof(name), 0) < 0)
			return -1;
		p = packet_proto_lookup(name);
		if (p != PROTO_TCP && p != PROTO_UDP && p != PROTO_UDPLITE &&
		    p != PROTO_SCTP && p != PROTO_DCCP)
			return jfail(j, at, "unknown proto \"%s\"", name);
		e->l.proto = (uint8_t)p;
		e->has_proto = 1;
		return 0;
	}
	if (strcmp(key, "family") == 0) {
		if (jint_range(j, "family", 4, 6, &v) < 0)
			return -1;
		if (v == 5)
			return jfail(j, at, "family must be 4 or 6");
		e->l.family = (uint8_t)v;
		e->has_family = 1;
		return 0;
	}
	if (strcmp(key, "addr") == 0) {
		if (jstring_field(j, "addr", e->addr, sizeof(e->addr), 0) < 0)
			return -1;
		e->addr_at = at;
		e->has_addr = 1;
		return 0;
	}
	if (strcmp(key, "port") == 0) {
		if (jint_range(j, "port", 0, 65535, &v) < 0)
			return -1;
		e->l.port = (uint16_t)v;
		e->has_port = 1;
		return 0;
	}
	if (strcmp(key, "inode") == 0) {
		if ((r = jis_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jint_range(j, "inode", 0, INT64_MAX, &v) < 0)
			return -1;
		e->l.inode = (uint64_t)v;
		return 0;
	}
	if (strcmp(key, "pid") == 0) {
		if ((r = jis_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jint_range(j, "pid", 0, INT32_MAX, &v) < 0)
			return -1;
		/* No process has pid 0: it says as much as null, and the
		 * writer reads it back as unknown, so treat it so here. */
		if (v == 0)
			return 0;
		o->pid = (int32_t)v;
		e->has_owner = 1;
		return 0;
	}
	if (strcmp(key, "uid") == 0) {
		if ((r = jis_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jint_range(j, "uid", 0, UINT32_MAX, &v) < 0)
			return -1;
		o->uid = (uint32_t)v;
		o->has_uid = 1;
		e->l.uid = (uint32_t)v;
		e->has_owner = 1;
		return 0;
	}
	{
		char *dst = NULL;
		size_t cap = 0;

		if (strcmp(key, "program") == 0) {
			dst = o->program;
			cap = sizeof(o->program);
		} else if (strcmp(key, "exe") == 0) {
			dst = o->exe;
			cap = sizeof(o->exe);
		} else if (strcmp(key, "user") == 0) {
			dst = o->user;
			cap = sizeof(o->user);
		} else if (strcmp(key, "unit") == 0) {
			dst = o->unit;
			cap = sizeof(o->unit);
		}
		if (dst) {
			if ((r = jis_null(j)) != 0) {
				dst[0] = '\0';
				return r < 0 ? -1 : 0;
			}
			if (jstring_field(j, key, dst, cap, 1) < 0)
				return -1;
			if (dst[0])
				e->has_owner = 1;
			return 0;
		}
	}
	/* class, ephemeral, reserved, policy: derived data, and anything a
	 * newer writer adds. */
	return jskip(j);
}

static int parse_entry(struct jp *j, struct listener_table *t)
{
	struct snap_entry e;
	size_t at = j->pos;
	int fam;

	memset(&e, 0, sizeof(e));
	e.l.owner.pid = -1;
	if (jpeek(j) != '{')
		return jexpect(j, "a listener object");
	if (jobject(j, entry_member, &e) < 0)
		return -1;
	if (!e.has_proto)
		return jfail(j, at, "listener without \"proto\"");
	if (!e.has_port)
		return jfail(j, at, "listener without \"port\"");
	if (!e.has_addr)
		return jfail(j, at, "listener without \"addr\"");
	fam = strchr(e.addr, ':') ? 6 : 4;
	if (e.has_family && e.l.family != fam)
		return jfail(j, e.addr_at, "addr \"%s\" is not IPv%d", e.addr,
			     e.l.family);
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, e.addr, e.l.addr) != 1)
		return jfail(j, e.addr_at, "bad address \"%s\"", e.addr);
	e.l.family = (uint8_t)fam;
	/* Offline nobody can look the owner up later: what the snapshot
	 * says is all there is. */
	e.l.owner_state = e.has_owner ? 1 : -1;
	if (listener_table_add(t, &e.l) < 0)
		return jfail(j, at, "%s", t->n >= LISTENER_MAX_ENTRIES
						  ? "too many listeners"
						  : "out of memory");
	return 0;
}

/* One of the host's addresses: "10.0.0.1", "fe80::1" (a "%scope" suffix
 * is ignored). */
static int parse_host_addr(struct jp *j, struct listener_table *t)
{
	char a[80], *pct;
	uint8_t bin[16] = { 0 };
	size_t at = j->pos;
	int fam;

	if (jpeek(j) != '"')
		return jexpect(j, "an address string");
	if (jstring_field(j, "address", a, sizeof(a), 0) < 0)
		return -1;
	pct = strchr(a, '%');
	if (pct)
		*pct = '\0';
	fam = strchr(a, ':') ? 6 : 4;
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, a, bin) != 1)
		return jfail(j, at, "bad address \"%s\"", a);
	if (listener_table_add_host(t, (uint8_t)fam, bin) < 0)
		return jfail(j, at, "%s", errno == ENOSPC ? "too many addresses"
							 : "out of memory");
	return 0;
}

struct snap_doc {
	struct listener_table *t;
	int has_version, has_listeners;
};

static int doc_member(struct jp *j, const char *key, void *ctx)
{
	struct snap_doc *d = ctx;
	size_t at = j->pos;

	if (strcmp(key, "version") == 0) {
		int64_t v;
		int c = jpeek(j);

		if (!(c == '-' || (c >= '0' && c <= '9')))
			return jexpect(j, "an integer");
		if (jnumber(j, &v) < 0)
			return -1;
		if (v != 1)
			return jfail(j, at,
				     "unsupported snapshot version %lld (expected 1)",
				     (long long)v);
		d->has_version = 1;
		return 0;
	}
	if (strcmp(key, "addresses") == 0) {
		if (jpeek(j) == 'n')
			return jskip(j); /* null: not recorded */
		if (jpeek(j) != '[')
			return jexpect(j, "'[' (the host's addresses)");
		if (jenter(j) < 0)
			return -1;
		jws(j);
		if (jpeek(j) == ']') {
			j->pos++;
			j->depth--;
			return 0;
		}
		for (;;) {
			jws(j);
			if (parse_host_addr(j, d->t) < 0)
				return -1;
			jws(j);
			if (jpeek(j) == ',') {
				j->pos++;
				continue;
			}
			if (jpeek(j) == ']') {
				j->pos++;
				j->depth--;
				return 0;
			}
			return jexpect(j, "',' or ']'");
		}
	}
	if (strcmp(key, "listeners") == 0) {
		if (jpeek(j) != '[')
			return jexpect(j, "'[' (the listeners array)");
		if (jenter(j) < 0)
			return -1;
		d->has_listeners = 1;
		jws(j);
		if (jpeek(j) == ']') {
			j->pos++;
			j->depth--;
			return 0;
		}
		for (;;) {
			jws(j);
			if (parse_entry(j, d->t) < 0)
				return -1;
			jws(j);
			if (jpeek(j) == ',') {
				j->pos++;
				continue;
			}
			if (jpeek(j) == ']') {
				j->pos++;
				j->depth--;
				return 0;
			}
			return jexpect(j, "',' or ']'");
		}
	}
	return jskip(j);
}

int listener_snapshot_parse(struct listener_table *t, const char *text,
			    size_t len, char *err, size_t errlen)
{
	struct jp j = { .s = text, .len = text ? len : 0, .err = err,
			.errlen = errlen };
	struct snap_doc d = { .t = t };
	size_t n0 = t->n, h0 = t->nhosts;

	if (err && errlen)
		err[0] = '\0';
	jws(&j);
	if (j.pos == j.len) {
		jfail(&j, j.pos, "empty snapshot");
		goto fail;
	}
	if (jpeek(&j) != '{') {
		jexpect(&j, "'{' (a snapshot object)");
		goto fail;
	}
	if (jobject(&j, doc_member, &d) < 0)
		goto fail;
	jws(&j);
	if (j.pos != j.len) {
		jfail(&j, j.pos, "trailing data after the snapshot");
		goto fail;
	}
	if (!d.has_version) {
		jfail(&j, 0, "snapshot without \"version\"");
		goto fail;
	}
	if (!d.has_listeners) {
		jfail(&j, 0, "snapshot without \"listeners\"");
		goto fail;
	}
	return 0;
fail:
	/* All or nothing: drop what this document had added. */
	t->nhosts = h0;
	if (t->n != n0) {
		t->n = n0;
		rehash(t);
	}
	errno = EINVAL;
	return -1;
}
