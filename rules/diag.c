/* diag: see diag.h. */
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct diag_loc diag_loc_of(const struct lexer_token *t)
{
	return (struct diag_loc){ t->line, t->col, t->line_off };
}

/* One error record: counted, and when there is a report function,
 * formatted and reported.  l NULL: about the whole file (no location,
 * no source line). */
static int record(struct diag *d, const char *file, const struct lexer *lx,
		  const struct diag_loc *l, const char *fmt, va_list ap)
{
	char *buf = NULL;
	size_t sz = 0, llen, i;
	const char *line;
	FILE *m;

	d->nerrors++;
	if (!d->report)
		return 0;
	m = open_memstream(&buf, &sz);
	if (!m)
		return -1;
	if (l)
		fprintf(m, "%s:%u:%u: error: ", file, l->line, l->col);
	else
		fprintf(m, "%s: error: ", file);
	vfprintf(m, fmt, ap);
	if (l) {
		line = lexer_line(lx, l->line_off, &llen);
		fputc('\n', m);
		/* The line is shown one byte per column so the caret lines
		 * up, but a NUL would cut the message short and a lone CR or
		 * an escape would redraw the terminal: control bytes other
		 * than tab show as '?'. */
		for (i = 0; i < llen; i++) {
			unsigned char c = (unsigned char)line[i];

			fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c,
			      m);
		}
		fputc('\n', m);
		/* Tabs are copied so the caret lines up however the line
		 * is shown. */
		for (i = 0; i + 1 < l->col; i++)
			fputc(i < llen && line[i] == '\t' ? '\t' : ' ', m);
		fputc('^', m);
	}
	if (fclose(m) != 0 || !buf) {
		free(buf);
		return -1;
	}
	d->report(d->ctx, buf);
	free(buf);
	return 0;
}

int diag_vat(struct diag *d, const char *file, const struct lexer *lx,
	     struct diag_loc l, const char *fmt, va_list ap)
{
	return record(d, file, lx, &l, fmt, ap);
}

int diag_file(struct diag *d, const char *name, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(d, name, NULL, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* Edit distance (bounded) for "did you mean" hints. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[32], i, j, la = (unsigned)strlen(a),
				 lb = (unsigned)strlen(b);

	if (la >= 31 || lb >= 31)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned prev = row[0], cur;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			cur = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *diag_suggest(const char *word, const char *const *cands,
			 size_t n)
{
	const char *best = NULL;
	unsigned bd = 3, d;
	size_t i;

	for (i = 0; i < n; i++) {
		d = edit_distance(word, cands[i]);
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}
