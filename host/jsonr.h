/*
 * jsonr: the JSON reader, the counterpart of jsonw (the writer).  Strict
 * RFC 8259 (no comments, no trailing commas, no leading zeros, UTF-8
 * validated), a nesting bound, every byte bounds-checked, errors as
 * "line:col: message".  Callers walk the document: jsonr_object calls a
 * function for each member, jsonr_array for each element; values are read
 * with the typed readers below, and what a caller does not know is
 * skipped (it must still be valid JSON).  No allocation, no I/O.
 */
#ifndef PORTCLASS_JSONR_H
#define PORTCLASS_JSONR_H

#include <stddef.h>
#include <stdint.h>

#define JSONR_MAX_DEPTH 32
#define JSONR_KEY_MAX 32	/* longer member names are skipped unread */

struct jsonr {
	const char *s;
	size_t len, pos;	/* the text, and where the reader is */
	int depth;
	char *err;		/* the first error goes here */
	size_t errlen;
	int failed;
};

/* Starts reading text (len bytes; NULL reads as empty). */
void jsonr_init(struct jsonr *j, const char *text, size_t len, char *err,
		size_t errlen);

/* Records the first error, at byte offset at, as "line:col: message";
 * later ones are dropped.  Returns -1. */
__attribute__((format(printf, 3, 4)))
int jsonr_fail(struct jsonr *j, size_t at, const char *fmt, ...);

/* "expected WHAT, found ..." at the current position.  Returns -1. */
int jsonr_expect(struct jsonr *j, const char *what);

/* The next byte, or -1 at the end. */
int jsonr_peek(const struct jsonr *j);

/* Skips white space. */
void jsonr_ws(struct jsonr *j);

/*
 * Walks the members of the object at the current position ('{').  For
 * each member calls member(j, key, ctx) with the reader at the value;
 * member must consume it (jsonr_skip if it does not want it).  Members
 * whose name is longer than JSONR_KEY_MAX - 1 or holds a NUL are skipped
 * without a call.  Returns 0, or -1 (error recorded).
 */
typedef int (*jsonr_member_fn)(struct jsonr *j, const char *key, void *ctx);
int jsonr_object(struct jsonr *j, jsonr_member_fn member, void *ctx);

/* The same for the elements of the array at the current position. */
typedef int (*jsonr_element_fn)(struct jsonr *j, void *ctx);
int jsonr_array(struct jsonr *j, jsonr_element_fn element, void *ctx);

/* Parses and discards any value. */
int jsonr_skip(struct jsonr *j);

/* 1 (and consumed) when the value is null, 0 when it is something else
 * (not consumed), -1 when it starts like null but is not. */
int jsonr_is_null(struct jsonr *j);

/* A number: with val it must be an integer that fits int64_t ("out of
 * range" otherwise); without, any valid JSON number. */
int jsonr_number(struct jsonr *j, int64_t *val);

/* An integer in [lo, hi]; name is used in the error message. */
int jsonr_int_range(struct jsonr *j, const char *name, int64_t lo, int64_t hi,
		    int64_t *out);

/*
 * A string without NUL that fits cap - 1 bytes.  With cut, a longer one is
 * cut at a character boundary instead of failing.
 */
int jsonr_string_field(struct jsonr *j, const char *name, char *out,
		       size_t cap, int cut);

#endif
