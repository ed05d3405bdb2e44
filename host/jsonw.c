/*
 * jsonw: see jsonw.h.  The buffer grows geometrically; after an allocation
 * failure every call is a no-op so callers check once, at the end.
 */
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->need_comma = 0;
	w->failed = 0;
	if (w->buf)
		w->buf[0] = '\0';
}

static int grow(struct jsonw *w, size_t more);

static inline int reserve(struct jsonw *w, size_t more)
{
	if (w->failed)
		return -1;
	if (w->len + more + 1 <= w->cap)
		return 0;
	return grow(w, more);
}

static int grow(struct jsonw *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + more + 1)
		cap *= 2;
	char *nb = realloc(w->buf, cap);
	if (!nb) {
		w->failed = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc1(struct jsonw *w, char c)
{
	put(w, &c, 1);
}

/* Separates values at one nesting level; keys set need_comma themselves. */
static void value_prefix(struct jsonw *w)
{
	if (w->need_comma)
		putc1(w, ',');
	w->need_comma = 1;
}

void jsonw_object_begin(struct jsonw *w)
{
	value_prefix(w);
	putc1(w, '{');
	w->need_comma = 0;
}

void jsonw_object_end(struct jsonw *w)
{
	putc1(w, '}');
	w->need_comma = 1;
}

void jsonw_array_begin(struct jsonw *w)
{
	value_prefix(w);
	putc1(w, '[');
	w->need_comma = 0;
}

void jsonw_array_end(struct jsonw *w)
{
	putc1(w, ']');
	w->need_comma = 1;
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are rejected so
	 * that consumers never see text a strict decoder would refuse. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes that never need escaping: printable ASCII but '"' and '\\'. */
static inline int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

char *jsonw_escape(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	*o++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l;

		/* Plain printable ASCII is nearly all there is: copied as it
		 * is checked, with no further test per byte. */
		if (plain(c)) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c == '\n' || c == '\r' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			i++;
			continue;
		}
		l = c < 0x20 || c == 0x7f ? 0 : utf8_len(u + i, n - i);
		if (l == 0) {
			/* a control byte, or one that is not valid UTF-8 */
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
			i++;
			continue;
		}
		memcpy(o, s + i, l);
		o += l;
		i += l;
	}
	*o++ = '"';
	return o;
}

/* Room for the worst case is taken once, so the escape itself runs with
 * no further checks. */
static void escape_n(struct jsonw *w, const char *s, size_t n)
{
	char *o;

	if (n > (SIZE_MAX - 8) / 6 || reserve(w, JSONW_ESCAPED_MAX(n)) < 0) {
		w->failed = 1;
		return;
	}
	o = jsonw_escape(w->buf + w->len, s, n);
	*o = '\0';
	w->len = (size_t)(o - w->buf);
}

/* A small direct-mapped memo.  A slot, once taken, is never given to
 * another string, so the text a jsonw_name points to stays as it is for
 * the thread's life; a name whose slot is taken is escaped each time. */
#define NAME_SLOTS 64
#define NAME_TEXT 46
#define NAME_SCAN 64

struct name_slot {
	const char *key;
	uint8_t len;
	char text[NAME_TEXT];
};

static __thread struct name_slot name_memo[NAME_SLOTS];

void jsonw_name(struct jsonw_name *q, const char *s)
{
	uintptr_t a = (uintptr_t)s;
	struct name_slot *e = &name_memo[(a ^ a >> 6 ^ a >> 12) % NAME_SLOTS];
	char tmp[JSONW_ESCAPED_MAX(NAME_SCAN)];
	size_t n, t;

	if (e->key == s) {
		q->s = e->text;
		q->n = e->len;
		q->quoted = 1;
		return;
	}
	n = strlen(s);
	q->s = s;
	q->n = n;
	q->quoted = 0;
	if (e->key || n > NAME_SCAN)
		return;
	t = (size_t)(jsonw_escape(tmp, s, n) - tmp);
	if (t > NAME_TEXT)
		return;
	memcpy(e->text, tmp, t);
	e->len = (uint8_t)t;
	e->key = s;
	q->s = e->text;
	q->n = t;
	q->quoted = 1;
}

char *jsonw_name_put(char *o, const struct jsonw_name *q)
{
	if (!q->quoted)
		return jsonw_escape(o, q->s, q->n);
	memcpy(o, q->s, q->n);
	return o + q->n;
}

char *jsonw_room(struct jsonw *w, size_t n)
{
	if (reserve(w, n) < 0)
		return NULL;
	return w->buf + w->len;
}

void jsonw_commit(struct jsonw *w, char *end)
{
	if (w->failed || !end)
		return;
	w->len = (size_t)(end - w->buf);
	w->buf[w->len] = '\0';
	w->need_comma = 1;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	value_prefix(w);
	escape_n(w, key, strlen(key));
	putc1(w, ':');
	w->need_comma = 0;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	value_prefix(w);
	if (!s) {
		put(w, "null", 4);
		return;
	}
	escape_n(w, s, strlen(s));
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t n)
{
	value_prefix(w);
	escape_n(w, s, n);
}

/* Decimal digits of v, right-aligned ending at end; returns the start. */
static char *digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char b[24], *e = b + sizeof(b), *p;

	p = digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, e);
	if (v < 0)
		*--p = '-';
	value_prefix(w);
	put(w, p, (size_t)(e - p));
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	char b[24], *e = b + sizeof(b), *p = digits(v, e);

	value_prefix(w);
	put(w, p, (size_t)(e - p));
}

void jsonw_double(struct jsonw *w, double v)
{
	char b[64];
	int n;
	value_prefix(w);
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	n = snprintf(b, sizeof(b), "%.6g", v);
	put(w, b, (size_t)n);
}

void jsonw_bool(struct jsonw *w, int v)
{
	value_prefix(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	value_prefix(w);
	put(w, "null", 4);
}

void jsonw_kv_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_string(w, s);
}

void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, int v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_kv_null(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_null(w);
}

void jsonw_kv_string_or_null(struct jsonw *w, const char *key, const char *s)
{
	if (s && *s)
		jsonw_kv_string(w, key, s);
	else
		jsonw_kv_null(w, key);
}

const char *jsonw_str(const struct jsonw *w)
{
	if (w->failed || !w->buf)
		return "";
	return w->buf;
}
