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

/* The text so far, NUL-terminated (an empty string after a failure). */
const char *jsonw_str(const struct jsonw *w);

#endif
