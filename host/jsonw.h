/*
 * jsonw: a small JSON writer for the front ends' machine-readable output
 * (replay --format jsonl, daemon logs, `portclass listeners --json`).
 * Writes into a caller-owned growable buffer; strings are escaped so that
 * untrusted text (program names, file names) can never break a line.
 */
#ifndef PORTCLASS_JSONW_H
#define PORTCLASS_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t len, cap;
	int need_comma; /* a value was written at the current nesting level */
	int failed;	/* an allocation failed; output is incomplete */
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Empties the buffer for the next object, keeping the allocation. */
void jsonw_reset(struct jsonw *w);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* A member name inside an object; the value follows with one call below. */
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_string(struct jsonw *w, const char *s);
/* Escapes n bytes; bytes that are not valid UTF-8 become \u00XX. */
void jsonw_string_n(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, int v);
void jsonw_null(struct jsonw *w);

/* key + value in one call. */
void jsonw_kv_string(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_bool(struct jsonw *w, const char *key, int v);
void jsonw_kv_null(struct jsonw *w, const char *key);
/* The string, or null when s is NULL or empty (unknown owner fields). */
void jsonw_kv_string_or_null(struct jsonw *w, const char *key, const char *s);

/*
 * Direct appending, for writers of fixed-shape records that build a whole
 * line at once (event.c): jsonw_room gives where up to n bytes may be
 * written at the end of the text, or NULL once an allocation has failed
 * (then nothing may be written).  jsonw_commit takes what was written up
 * to end (at most n bytes past the room) as one or more complete values
 * or members, so the next one is preceded by a comma.  The writer adds
 * its own commas (a value first at its level when w->need_comma is 0),
 * and only its own constant JSON text, digits, and strings that went
 * through jsonw_escape go in between: nothing else is checked.
 */
char *jsonw_room(struct jsonw *w, size_t n);
void jsonw_commit(struct jsonw *w, char *end);

/* Room jsonw_escape needs for n bytes: every byte as \u00XX, the quotes. */
#define JSONW_ESCAPED_MAX(n) (6 * (n) + 2)

/*
 * Writes the n bytes at s as a quoted JSON string at o, escaped exactly as
 * jsonw_string_n does; o has room for JSONW_ESCAPED_MAX(n).  Returns the
 * end (no NUL).
 */
char *jsonw_escape(char *o, const char *s, size_t n);

/*
 * The quoted, escaped text of a string that never changes while the
 * program runs (a string literal: the engine's protocol, class, verdict
 * and reason names), memoized per thread by its address, so a writer of
 * one line per packet neither measures nor escapes the same name twice.
 * Never for a buffer whose contents may change.  jsonw_name fills n;
 * jsonw_name_room is the most jsonw_name_put writes at o, and
 * jsonw_name_put returns the end.
 */
struct jsonw_name {
	const char *s;
	size_t n;
	int quoted;	/* s is the quoted text; else the string to escape */
};
void jsonw_name(struct jsonw_name *q, const char *s);
static inline size_t jsonw_name_room(const struct jsonw_name *q)
{
	return q->quoted ? q->n : JSONW_ESCAPED_MAX(q->n);
}
char *jsonw_name_put(char *o, const struct jsonw_name *q);

/* The text so far, NUL-terminated (an empty string after a failure). */
const char *jsonw_str(const struct jsonw *w);

#endif
