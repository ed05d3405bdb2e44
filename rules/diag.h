/*
 * diag: the rules language's error records, like nftables' - a located
 * message ("file:line:col: error: ..." with the source line and a caret
 * under the culprit) or a file-level one ("file: error: ..."), counted
 * and handed whole to the caller's report function; and the "did you
 * mean" suggestion for a near-miss word.  Internal to the engine.
 */
#ifndef PORTCLASS_DIAG_H
#define PORTCLASS_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "lexer.h"
#include "ruleset.h"

/* Where diagnostics go, and how many there were. */
struct diag {
	ruleset_report_fn report; /* NULL: errors only counted */
	void *ctx;
	int nerrors;
};

/* A place in a source: 1-based line and byte column, and the offset of
 * the line's first byte (for lexer_line). */
struct diag_loc {
	unsigned line, col;
	size_t line_off;
};

/* Where a token starts. */
struct diag_loc diag_loc_of(const struct lexer_token *t);

/*
 * Counts one error at l in file (whose text lx reads) and, when there is
 * a report function, formats it as three lines - the message, the source
 * line with control bytes other than tab shown as '?', and a caret under
 * column l.col (tabs copied so it lines up) - and reports it.  Returns 0,
 * or -1 when memory ran out formatting it (the error is still counted).
 */
int diag_vat(struct diag *d, const char *file, const struct lexer *lx,
	     struct diag_loc l, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* The same for an error about a whole file ("name: error: ..."). */
int diag_file(struct diag *d, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The closest of the n words in cands within edit distance 2 of word
 * (words of 31 bytes or more are never close), or NULL. */
const char *diag_suggest(const char *word, const char *const *cands,
			 size_t n);

#endif
