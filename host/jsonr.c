/*
 * jsonr: see jsonr.h.  A strict reader: RFC 8259 syntax (no comments, no
 * trailing commas, no leading zeros, UTF-8 validated), a nesting bound,
 * and bounds checks on every byte.
 */
#include "jsonr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void jsonr_init(struct jsonr *j, const char *text, size_t len, char *err,
		size_t errlen)
{
	memset(j, 0, sizeof(*j));
	j->s = text;
	j->len = text ? len : 0;
	j->err = err;
	j->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

/* Records the first error, at byte offset at, as "line:col: message". */
int jsonr_fail(struct jsonr *j, size_t at, const char *fmt, ...)
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

int jsonr_peek(const struct jsonr *j)
{
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

void jsonr_ws(struct jsonr *j)
{
	while (j->pos < j->len) {
		char c = j->s[j->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		j->pos++;
	}
}

/* Describes what was found where something else was expected. */
int jsonr_expect(struct jsonr *j, const char *what)
{
	int c = jsonr_peek(j);

	if (c < 0)
		return jsonr_fail(j, j->pos, "expected %s, found end of input",
			     what);
	if (c >= 0x20 && c < 0x7f)
		return jsonr_fail(j, j->pos, "expected %s, found '%c'", what, c);
	return jsonr_fail(j, j->pos, "expected %s, found byte 0x%02x", what, c);
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

static int jhex4(struct jsonr *j, size_t at, unsigned *out)
{
	unsigned v = 0;

	if (j->len - j->pos < 4)
		return jsonr_fail(j, at, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)j->s[j->pos + (size_t)i]);

		if (h < 0)
			return jsonr_fail(j, at, "bad \\u escape: expected 4 hex digits");
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
static int jstring(struct jsonr *j, char *out, size_t cap, int *too_long,
		   int *has_nul)
{
	struct jout o = { .out = cap ? out : NULL, .cap = cap };
	size_t start = j->pos;

	*too_long = 0;
	*has_nul = 0;
	if (jsonr_peek(j) != '"')
		return jsonr_expect(j, "a string");
	j->pos++;
	for (;;) {
		size_t at = j->pos;
		unsigned char c;

		if (j->pos >= j->len)
			return jsonr_fail(j, start, "unterminated string");
		c = (unsigned char)j->s[j->pos];
		if (c == '"') {
			j->pos++;
			break;
		}
		if (c < 0x20)
			return jsonr_fail(j, at,
				     "control character 0x%02x in string", c);
		if (c == '\\') {
			char e;
			unsigned cp;
			char u[4];
			size_t k;

			if (j->pos + 1 >= j->len)
				return jsonr_fail(j, start, "unterminated string");
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
					return jsonr_fail(j, at, "bad escape '\\%c'",
						     e);
				return jsonr_fail(j, at, "bad escape");
			}
			if (jhex4(j, at, &cp) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jsonr_fail(j, at,
					     "bad \\u escape: lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;

				if (j->len - j->pos < 2 ||
				    j->s[j->pos] != '\\' ||
				    j->s[j->pos + 1] != 'u')
					return jsonr_fail(j, at,
						     "bad \\u escape: high surrogate without a low one");
				j->pos += 2;
				if (jhex4(j, at, &lo) < 0)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jsonr_fail(j, at,
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
				return jsonr_fail(j, at, "invalid UTF-8 in string");
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
int jsonr_number(struct jsonr *j, int64_t *val)
{
	size_t at = j->pos;
	int neg = 0, is_int = 1, overflow = 0;
	uint64_t mag = 0;

	if (jsonr_peek(j) == '-') {
		neg = 1;
		j->pos++;
	}
	if (jsonr_peek(j) == '0') {
		j->pos++;
		if (jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9')
			return jsonr_fail(j, at, "bad number: leading zero");
	} else if (jsonr_peek(j) >= '1' && jsonr_peek(j) <= '9') {
		while (jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9') {
			unsigned d = (unsigned)(jsonr_peek(j) - '0');

			if (mag > (UINT64_MAX - d) / 10)
				overflow = 1;
			else
				mag = mag * 10 + d;
			j->pos++;
		}
	} else {
		return jsonr_fail(j, at, "bad number");
	}
	if (jsonr_peek(j) == '.') {
		is_int = 0;
		j->pos++;
		if (!(jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9'))
			return jsonr_fail(j, at, "bad number: digit expected after '.'");
		while (jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9')
			j->pos++;
	}
	if (jsonr_peek(j) == 'e' || jsonr_peek(j) == 'E') {
		is_int = 0;
		j->pos++;
		if (jsonr_peek(j) == '+' || jsonr_peek(j) == '-')
			j->pos++;
		if (!(jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9'))
			return jsonr_fail(j, at, "bad number: digit expected in exponent");
		while (jsonr_peek(j) >= '0' && jsonr_peek(j) <= '9')
			j->pos++;
	}
	if (!val)
		return 0;
	if (!is_int)
		return jsonr_fail(j, at, "expected an integer");
	if (overflow || (!neg && mag > (uint64_t)INT64_MAX) ||
	    (neg && mag > (uint64_t)INT64_MAX + 1))
		return jsonr_fail(j, at, "number out of range");
	*val = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

static int jliteral(struct jsonr *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return jsonr_fail(j, j->pos, "bad literal (expected %s)", word);
	j->pos += n;
	return 0;
}

/* Enters an object or array: checks the depth bound. */
static int jenter(struct jsonr *j)
{
	if (j->depth >= JSONR_MAX_DEPTH)
		return jsonr_fail(j, j->pos, "nesting deeper than %d levels",
			     JSONR_MAX_DEPTH);
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
/*
 * Opens the object or array at the current position (open is '{' or '[').
 * Returns 1 when it has items to read, 0 when it was empty (and is closed
 * already), -1 on error.
 */
static int container_open(struct jsonr *j, char open, char close)
{
	char what[4] = { '\'', open, '\'', '\0' };

	if (jsonr_peek(j) != open)
		return jsonr_expect(j, what);
	if (jenter(j) < 0)
		return -1;
	jsonr_ws(j);
	if (jsonr_peek(j) == close) {
		j->pos++;
		j->depth--;
		return 0;
	}
	return 1;
}

/* After an item: 1 when another follows (past the ','), 0 when the
 * container closes (past close), -1 on error. */
static int container_next(struct jsonr *j, char close)
{
	jsonr_ws(j);
	if (jsonr_peek(j) == ',') {
		j->pos++;
		return 1;
	}
	if (jsonr_peek(j) == close) {
		j->pos++;
		j->depth--;
		return 0;
	}
	return jsonr_expect(j, close == '}' ? "',' or '}'" : "',' or ']'");
}

int jsonr_object(struct jsonr *j, jsonr_member_fn member, void *ctx)
{
	char key[JSONR_KEY_MAX];
	int more = container_open(j, '{', '}');

	while (more > 0) {
		int too_long, has_nul;

		jsonr_ws(j);
		if (jsonr_peek(j) != '"')
			return jsonr_expect(j, "a member name");
		if (jstring(j, key, sizeof(key), &too_long, &has_nul) < 0)
			return -1;
		jsonr_ws(j);
		if (jsonr_peek(j) != ':')
			return jsonr_expect(j, "':'");
		j->pos++;
		jsonr_ws(j);
		if (too_long || has_nul) {
			if (jsonr_skip(j) < 0)
				return -1;
		} else if (member(j, key, ctx) < 0) {
			return -1;
		}
		more = container_next(j, '}');
	}
	return more;
}

static int skip_element(struct jsonr *j, void *ctx)
{
	(void)ctx;
	return jsonr_skip(j);
}

int jsonr_array(struct jsonr *j, jsonr_element_fn element, void *ctx)
{
	int more = container_open(j, '[', ']');

	while (more > 0) {
		jsonr_ws(j);
		if (element(j, ctx) < 0)
			return -1;
		more = container_next(j, ']');
	}
	return more;
}

static int skip_member(struct jsonr *j, const char *key, void *ctx)
{
	(void)key;
	(void)ctx;
	return jsonr_skip(j);
}

/* Parses and discards any value. */
int jsonr_skip(struct jsonr *j)
{
	int c = jsonr_peek(j);
	int too_long, has_nul;

	switch (c) {
	case '{':
		return jsonr_object(j, skip_member, NULL);
	case '[':
		return jsonr_array(j, skip_element, NULL);
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
			return jsonr_number(j, NULL);
		return jsonr_expect(j, "a value");
	}
}

/* A null, which the snapshot uses for "unknown". */
int jsonr_is_null(struct jsonr *j)
{
	if (jsonr_peek(j) != 'n')
		return 0;
	return jliteral(j, "null") == 0 ? 1 : -1;
}

/* An integer in [lo, hi]. */
int jsonr_int_range(struct jsonr *j, const char *name, int64_t lo, int64_t hi,
		      int64_t *out)
{
	size_t at = j->pos;
	int c = jsonr_peek(j);

	if (!(c == '-' || (c >= '0' && c <= '9')))
		return jsonr_expect(j, "an integer");
	if (jsonr_number(j, out) < 0)
		return -1;
	if (*out < lo || *out > hi)
		return jsonr_fail(j, at, "%s %lld out of range (%lld-%lld)", name,
			     (long long)*out, (long long)lo, (long long)hi);
	return 0;
}

/*
 * A string without NUL that fits cap - 1 bytes.  With cut, a longer one is
 * cut at a character boundary instead: owner names are shown, and the
 * writer escapes bytes that are not UTF-8 as \u00XX, which read back as two
 * bytes each, so a path that fitted when written may not fit when read.
 */
int jsonr_string_field(struct jsonr *j, const char *name, char *out,
			 size_t cap, int cut)
{
	size_t at = j->pos;
	int too_long, has_nul;

	if (jstring(j, out, cap, &too_long, &has_nul) < 0)
		return -1;
	if (too_long && !cut)
		return jsonr_fail(j, at, "%s too long (max %zu bytes)", name,
			     cap - 1);
	if (has_nul)
		return jsonr_fail(j, at, "%s contains a NUL character", name);
	return 0;
}

