/*
 * ruleset: the ruleset object behind ruleset.h - its lifetime, the step
 * that compiles a parsed policy, the per-policy queries and the read-only
 * views for tools.  The rest of ruleset.h is implemented by parse.c
 * (ruleset_load, ruleset_parse_string: the language, with diag.c's error
 * records and rfile.c's reading) and match.c (ruleset_match,
 * ruleset_expect, over rindex.c's index); the struct they share is in
 * ruleset_int.h.
 */
#include "ruleset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rindex.h"
#include "rule.h"
#include "ruleset_int.h"
#include "vec.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_DROP:
		return "drop";
	case VERDICT_REJECT:
		return "reject";
	default:
		return "?";
	}
}

void ruleset_free(struct ruleset *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	for (i = 0; i < rs->nexpects; i++)
		rule_expect_free(&rs->expects[i]);
	free(rs->expects);
	free(rs->locals);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	rindex_free(&rs->ix);
	free(rs);
}

struct ruleset *ruleset_new(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs) {
		errno = ENOMEM;
		return NULL;
	}
	rs->dyn.lo = 49152;
	rs->dyn.hi = 65535;
	snprintf(rs->dyn_name, sizeof(rs->dyn_name), "iana");
	rs->unexp_verdict = VERDICT_DROP;
	rs->unexp_log = 1;
	rs->def_verdict = VERDICT_PASS;
	rs->def_log = 0;
	/* What cannot be read is never waved through (portclass.rules(5)). */
	rs->inv_verdict = VERDICT_DROP;
	rs->inv_log = 1;
	return rs;
}

static void summary_update(struct ruleset *rs)
{
	rs->sum.dyn = rs->dyn;
	rs->sum.has_local = rs->nlocals > 0;
	rs->sum.unexp_verdict = rs->unexp_verdict;
	rs->sum.unexp_log = rs->unexp_log;
	rs->sum.def_verdict = rs->def_verdict;
	rs->sum.def_log = rs->def_log;
	rs->sum.inv_verdict = rs->inv_verdict;
	rs->sum.inv_log = rs->inv_log;
	rs->sum.loopback_in = rs->loopback_in;
}

int ruleset_compile(struct ruleset *rs)
{
	if (rindex_build(&rs->ix, rs->rules, rs->nrules, rs->expects,
			 rs->nexpects) < 0)
		return -1;
	summary_update(rs);
	return 0;
}

/* ---- queries ----------------------------------------------------------- */

size_t ruleset_rule_count(const struct ruleset *rs)
{
	return rs->nrules;
}

size_t ruleset_expect_count(const struct ruleset *rs)
{
	return rs->nexpects;
}

struct port_range ruleset_dynamic_range(const struct ruleset *rs)
{
	return rs->dyn;
}

const char *ruleset_dynamic_range_name(const struct ruleset *rs)
{
	return rs->dyn_name;
}

int ruleset_has_local(const struct ruleset *rs)
{
	return rs->nlocals > 0;
}

int ruleset_is_local(const struct ruleset *rs, uint8_t family,
		     const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < rs->nlocals; i++)
		if (addr_prefix_contains(&rs->locals[i], family, addr))
			return 1;
	return 0;
}

int ruleset_add_local(struct ruleset *rs, const char *cidr, char *err,
		      size_t errlen)
{
	struct addr_prefix pfx;

	if (addr_prefix_parse(cidr, &pfx, err, errlen) < 0)
		return -1;
	if (vec_grow(&rs->locals, &rs->caplocals, rs->nlocals + 1,
		 sizeof(pfx)) < 0) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	rs->locals[rs->nlocals++] = pfx;
	summary_update(rs);
	return 0;
}

const struct ruleset_summary *ruleset_summary(const struct ruleset *rs)
{
	return &rs->sum;
}

enum verdict ruleset_unexpected_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->unexp_log;
	return (enum verdict)rs->unexp_verdict;
}

enum verdict ruleset_default_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->def_log;
	return (enum verdict)rs->def_verdict;
}

int ruleset_loopback_inbound(const struct ruleset *rs)
{
	return rs->loopback_in;
}

enum verdict ruleset_invalid_verdict(const struct ruleset *rs, int *log)
{
	if (log)
		*log = rs->inv_log;
	return (enum verdict)rs->inv_verdict;
}

/* ---- read-only views for tools (lint) -------------------------------- */

static void view_endpoint(const struct endpoint *e, struct ruleset_end *out)
{
	out->naddrs = e->naddrs;
	out->addrs = e->addrs;
	out->nports = e->nports;
	out->ports = e->ports;
}

int ruleset_rule_view(const struct ruleset *rs, size_t i,
		      struct ruleset_view *out)
{
	const struct rule *r;

	if (i >= rs->nrules)
		return -1;
	r = &rs->rules[i];
	memset(out, 0, sizeof(*out));
	out->protos = r->protos;
	out->verdict = (enum verdict)r->verdict;
	out->log = r->log;
	out->is_new = r->is_new;
	out->has_filter = r->has_filter;
	out->file = r->file;
	out->line = r->line;
	view_endpoint(&r->src, &out->src);
	view_endpoint(&r->dst, &out->dst);
	return 0;
}

int ruleset_expect_view(const struct ruleset *rs, size_t i,
			struct ruleset_view *out)
{
	const struct expect_rule *x;

	if (i >= rs->nexpects)
		return -1;
	x = &rs->expects[i];
	memset(out, 0, sizeof(*out));
	out->protos = x->protos;
	out->file = x->file;
	out->line = x->line;
	out->program = x->program;
	out->user = x->user;
	view_endpoint(&x->src, &out->src);
	view_endpoint(&x->dst, &out->dst);
	return 0;
}
