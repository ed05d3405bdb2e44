/* lint: see lint.h.  Coverage is judged conservatively: a rule is called
 * unreachable only when an earlier one provably matches every packet it
 * does (filters are opaque, so a rule with one never shadows). */
#include "lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* Every address of prefix b lies in prefix a. */
static int prefix_covers(const struct addr_prefix *a,
			 const struct addr_prefix *b)
{
	return a->family == b->family && a->len <= b->len &&
	       addr_prefix_contains(a, b->family, b->bytes);
}

static int addrs_cover(const struct ruleset_end *a, const struct ruleset_end *b)
{
	size_t i, j;

	if (a->naddrs == 0)
		return 1;
	if (b->naddrs == 0)
		return 0;
	for (j = 0; j < b->naddrs; j++) {
		for (i = 0; i < a->naddrs; i++)
			if (prefix_covers(&a->addrs[i], &b->addrs[j]))
				break;
		if (i == a->naddrs)
			return 0;
	}
	return 1;
}

/* a's ports (sorted, disjoint) hold every port of b's. */
static int ports_cover(const struct ruleset_end *a, const struct ruleset_end *b)
{
	size_t i, j;

	if (a->nports == 0)
		return 1;
	if (b->nports == 0)
		return 0;
	for (j = 0; j < b->nports; j++) {
		unsigned lo = b->ports[j].lo, hi = b->ports[j].hi;

		/* walk a's ranges; they are disjoint but may touch */
		for (i = 0; i < a->nports && lo <= hi; i++) {
			if (a->ports[i].lo <= lo && lo <= a->ports[i].hi) {
				if (a->ports[i].hi >= hi)
					lo = hi + 1;
				else
					lo = (unsigned)a->ports[i].hi + 1;
			}
		}
		if (lo <= hi)
			return 0;
	}
	return 1;
}

/* Every packet b matches, a matches too. */
static int rule_covers(const struct ruleset_view *a,
		       const struct ruleset_view *b)
{
	if (a->has_filter)
		return 0;
	if ((b->protos & ~a->protos) != 0)
		return 0;
	if (a->is_new && !b->is_new)
		return 0;
	return addrs_cover(&a->src, &b->src) && addrs_cover(&a->dst, &b->dst) &&
	       ports_cover(&a->src, &b->src) && ports_cover(&a->dst, &b->dst);
}

static int name_covers(const char *a, const char *b)
{
	return !a || (b && strcmp(a, b) == 0);
}

static int expect_covers(const struct ruleset_view *a,
			 const struct ruleset_view *b)
{
	return (b->protos & ~a->protos) == 0 &&
	       addrs_cover(&a->src, &b->src) && addrs_cover(&a->dst, &b->dst) &&
	       ports_cover(&a->dst, &b->dst) &&
	       name_covers(a->program, b->program) &&
	       name_covers(a->user, b->user);
}

/* The files quoted, each read once: a policy of 100,000 rules may earn
 * thousands of warnings. */
struct srcfile {
	const char *name;	/* the ruleset's string */
	char *text;
	size_t len;
	size_t *lines;		/* offset of each line (1-based index - 1) */
	size_t nlines;
};

/* Warnings reported in full; past this many they are only counted (a
 * generated policy may earn one per line). */
#define LINT_SHOWN_MAX 100

struct lint {
	ruleset_report_fn report;
	void *ctx;
	int shown, hidden;
	struct srcfile files[16];
	size_t nfiles;
};

static struct srcfile *src_get(struct lint *L, const char *name)
{
	struct srcfile *sf;
	FILE *f;
	size_t cap = 0, i, nl = 1;

	for (i = 0; i < L->nfiles; i++)
		if (L->files[i].name == name || !strcmp(L->files[i].name, name))
			return L->files[i].text ? &L->files[i] : NULL;
	if (L->nfiles == sizeof(L->files) / sizeof(L->files[0]))
		return NULL;
	sf = &L->files[L->nfiles++];
	memset(sf, 0, sizeof(*sf));
	sf->name = name;
	f = fopen(name, "re");
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (sf->len + 65536 + 1 > cap) {
			char *nt = realloc(sf->text, cap = (cap + 65536) * 2);
			if (!nt)
				break;
			sf->text = nt;
		}
		n = fread(sf->text + sf->len, 1, cap - sf->len - 1, f);
		sf->len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (!sf->text)
		return NULL;
	sf->text[sf->len] = '\0';
	for (i = 0; i < sf->len; i++)
		nl += sf->text[i] == '\n';
	sf->lines = malloc(nl * sizeof(*sf->lines));
	if (!sf->lines) {
		free(sf->text);
		sf->text = NULL;
		return NULL;
	}
	sf->lines[sf->nlines++] = 0;
	for (i = 0; i < sf->len; i++)
		if (sf->text[i] == '\n')
			sf->lines[sf->nlines++] = i + 1;
	return sf;
}

/* The line as written, for the quote under the message. */
static int read_line(struct lint *L, const char *file, unsigned line,
		     char *buf, size_t len)
{
	struct srcfile *sf = src_get(L, file);
	size_t o = 0, p;

	buf[0] = '\0';
	if (!sf || line == 0 || line > sf->nlines)
		return -1;
	for (p = sf->lines[line - 1]; p < sf->len && sf->text[p] != '\n' &&
	     o + 1 < len; p++) {
		char c = sf->text[p];
		buf[o++] = (c == '\t' || ((unsigned char)c >= 0x20 && c != 0x7f))
			   ? c : '?';
	}
	buf[o] = '\0';
	if (o && buf[o - 1] == '\r')
		buf[--o] = '\0';
	return 0;
}

static void warn(struct lint *L, const char *file, unsigned line,
		 const char *fmt, ...)
{
	char msg[512], text[256], diag[1024];
	unsigned col = 1;
	va_list ap;

	if (!L->report)
		return;
	if (L->shown >= LINT_SHOWN_MAX) {
		L->hidden++;
		return;
	}
	L->shown++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line && read_line(L, file, line, text, sizeof(text)) == 0) {
		size_t i = strspn(text, " \t");
		char caret[256];

		col = (unsigned)i + 1;
		memcpy(caret, text, i); /* tabs kept, so the caret lines up */
		caret[i] = '^';
		caret[i + 1] = '\0';
		snprintf(diag, sizeof(diag), "%s:%u:%u: warning: %s\n%s\n%s",
			 file, line, col, msg, text, caret);
	} else if (line) {
		snprintf(diag, sizeof(diag), "%s:%u:%u: warning: %s", file,
			 line, col, msg);
	} else {
		snprintf(diag, sizeof(diag), "%s: warning: %s", file, msg);
	}
	L->report(L->ctx, diag);
}

static const char *where(const struct ruleset_view *a,
			 const struct ruleset_view *b, char *buf, size_t len)
{
	if (strcmp(a->file, b->file) == 0)
		snprintf(buf, len, "line %u", a->line);
	else
		snprintf(buf, len, "%s:%u", a->file, a->line);
	return buf;
}

/*
 * Which earlier rules could cover a rule, found without trying every
 * pair: a rule that covers j also matches j's first destination port, so
 * rules with a few destination ports are filed under each of them, and
 * the rest (any port, or wide ranges) are tried for every rule.
 */
#define SMALL_SPAN 64
#define PAIR_BUDGET 50000000ull

struct cover_index {
	uint32_t *head;		/* per port: first node, UINT32_MAX none */
	uint32_t *next, *rule;	/* nodes */
	size_t nnodes, cap;
	uint32_t *broad;
	size_t nbroad, capbroad;
	int failed;
};

static int push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		uint32_t *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static void cover_add(struct cover_index *ix, const struct ruleset_view *v,
		      uint32_t i)
{
	size_t span = 0, k;

	for (k = 0; k < v->dst.nports; k++)
		span += (size_t)v->dst.ports[k].hi - v->dst.ports[k].lo + 1;
	if (v->dst.nports == 0 || span > SMALL_SPAN || !ix->head) {
		if (push(&ix->broad, &ix->nbroad, &ix->capbroad, i) < 0)
			ix->failed = 1;
		return;
	}
	for (k = 0; k < v->dst.nports; k++) {
		unsigned p;

		for (p = v->dst.ports[k].lo; p <= v->dst.ports[k].hi; p++) {
			size_t n = ix->nnodes, c = ix->cap;

			if (push(&ix->rule, &n, &c, i) < 0 ||
			    push(&ix->next, &ix->nnodes, &ix->cap,
				 ix->head[p]) < 0) {
				ix->failed = 1;
				return;
			}
			ix->head[p] = (uint32_t)(ix->nnodes - 1);
		}
	}
}

/* The earliest indexed rule covering j by test(), or -1. */
static long cover_find(const struct cover_index *ix,
		       const struct ruleset_view *views, size_t j,
		       int (*test)(const struct ruleset_view *,
				   const struct ruleset_view *),
		       unsigned long long *pairs)
{
	long best = -1;
	size_t k;

	for (k = 0; k < ix->nbroad && *pairs < PAIR_BUDGET; k++, (*pairs)++)
		if (test(&views[ix->broad[k]], &views[j])) {
			best = (long)ix->broad[k];
			break; /* filed in order: the first is the earliest */
		}
	if (ix->head && views[j].dst.nports) {
		uint32_t n = ix->head[views[j].dst.ports[0].lo];

		for (; n != UINT32_MAX && *pairs < PAIR_BUDGET;
		     n = ix->next[n], (*pairs)++)
			if ((best < 0 || ix->rule[n] < (uint32_t)best) &&
			    test(&views[ix->rule[n]], &views[j]))
				best = (long)ix->rule[n];
	}
	return best;
}

static void cover_init(struct cover_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->head = malloc(65536 * sizeof(*ix->head));
	if (ix->head)
		memset(ix->head, 0xff, 65536 * sizeof(*ix->head));
}

static void cover_free(struct cover_index *ix)
{
	free(ix->head);
	free(ix->next);
	free(ix->rule);
	free(ix->broad);
}

static const char *first_rule_file(const struct ruleset_view *rv, size_t nr,
				   const struct ruleset_view *xv, size_t nx)
{
	return nr ? rv[0].file : nx ? xv[0].file : "(policy)";
}

int lint_ruleset(const struct ruleset *rs, ruleset_report_fn report,
		 void *ctx)
{
	size_t nr = ruleset_rule_count(rs), nx = ruleset_expect_count(rs);
	struct ruleset_view *rv, *xv;
	struct port_range dyn = ruleset_dynamic_range(rs);
	int nwarn = 0, to_hosts = 0;
	const char *first_file = NULL;
	unsigned to_line = 0;
	char buf[300];
	size_t i, j;
	struct cover_index ix;
	unsigned long long pairs = 0;
	struct lint L;

	memset(&L, 0, sizeof(L));
	L.report = report;
	L.ctx = ctx;

	rv = calloc(nr ? nr : 1, sizeof(*rv));
	xv = calloc(nx ? nx : 1, sizeof(*xv));
	if (!rv || !xv) {
		free(rv);
		free(xv);
		return 0;
	}
	for (i = 0; i < nr; i++)
		ruleset_rule_view(rs, i, &rv[i]);
	for (i = 0; i < nx; i++)
		ruleset_expect_view(rs, i, &xv[i]);

	cover_init(&ix);
	for (j = 0; j < nr; j++) {
		long c = cover_find(&ix, rv, j, rule_covers, &pairs);

		if (c >= 0) {
			i = (size_t)c;
			if (rule_covers(&rv[j], &rv[i]) && !rv[j].has_filter &&
			    rv[i].verdict == rv[j].verdict &&
			    rv[i].log == rv[j].log)
				warn(&L, rv[j].file, rv[j].line,
				     "duplicate of the rule at %s",
				     where(&rv[i], &rv[j], buf, sizeof(buf)));
			else
				warn(&L, rv[j].file, rv[j].line,
				     "rule never matches: the %s rule at %s "
				     "matches every packet it does",
				     verdict_name(rv[i].verdict),
				     where(&rv[i], &rv[j], buf, sizeof(buf)));
			nwarn++;
		}
		cover_add(&ix, &rv[j], (uint32_t)j);
		if (rv[j].dst.naddrs && !to_line) {
			to_hosts = 1;
			to_line = rv[j].line;
			first_file = rv[j].file;
		}
	}
	cover_free(&ix);

	cover_init(&ix);
	for (j = 0; j < nx; j++) {
		const struct ruleset_end *d = &xv[j].dst;
		size_t inside = 0, total = 0;

		long c = cover_find(&ix, xv, j, expect_covers, &pairs);

		if (c >= 0) {
			i = (size_t)c;
			warn(&L, xv[j].file, xv[j].line,
			     expect_covers(&xv[j], &xv[i]) ?
			     "duplicate of the expect at %s" :
			     "expect never needed: the expect at %s covers "
			     "every connection it does",
			     where(&xv[i], &xv[j], buf, sizeof(buf)));
			nwarn++;
		}
		cover_add(&ix, &xv[j], (uint32_t)j);
		for (i = 0; i < d->nports; i++) {
			unsigned lo = d->ports[i].lo, hi = d->ports[i].hi;
			unsigned a = lo > dyn.lo ? lo : dyn.lo;
			unsigned b = hi < dyn.hi ? hi : dyn.hi;

			total += hi - lo + 1;
			if (a <= b)
				inside += b - a + 1;
		}
		if (d->nports && inside == 0) {
			warn(&L, xv[j].file, xv[j].line,
			     "expect outside the guarded dynamic range %s "
			     "(%u-%u): it never applies (only NEW connections "
			     "into that range need an expect)",
			     ruleset_dynamic_range_name(rs), dyn.lo, dyn.hi);
			nwarn++;
		} else if (d->nports && inside < total) {
			warn(&L, xv[j].file, xv[j].line,
			     "expect partly outside the guarded dynamic range "
			     "%s (%u-%u): only %zu of its %zu ports need it",
			     ruleset_dynamic_range_name(rs), dyn.lo, dyn.hi,
			     inside, total);
			nwarn++;
		}
	}

	cover_free(&ix);
	if (pairs >= PAIR_BUDGET) {
		warn(&L, first_rule_file(rv, nr, xv, nx), 0,
		     "too many rules to compare every pair: unreachable rules "
		     "and duplicates were looked for only in part");
		nwarn++;
	}
	if (to_hosts && !ruleset_has_local(rs)) {
		warn(&L, first_file, to_line,
		     "explicit rules name destination hosts but the policy "
		     "has no "
		     "`local`: every connection counts as inbound, also those "
		     "the protected hosts open themselves; name them with "
		     "`local ADDRS`");
		nwarn++;
	}
	if (L.hidden && report) {
		snprintf(buf, sizeof(buf), "%s: warning: %d more warnings not "
			 "shown", first_rule_file(rv, nr, xv, nx), L.hidden);
		report(ctx, buf);
	}
	free(rv);
	free(xv);
	for (i = 0; i < L.nfiles; i++) {
		free(L.files[i].text);
		free(L.files[i].lines);
	}
	return nwarn;
}
