/*
 * ruleset_int: the layout of struct ruleset, shared by the files that
 * make up the ruleset module behind ruleset.h - ruleset.c (lifetime,
 * queries, views), parse.c (the language), rindex.c (the index it
 * compiles to) and match.c (what matches a packet).  Internal to the
 * engine: front ends see only the opaque handle.
 */
#ifndef PORTCLASS_RULESET_INT_H
#define PORTCLASS_RULESET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "rindex.h"
#include "rule.h"
#include "ruleset.h"

struct ruleset {
	struct rule *rules;
	size_t nrules, caprules;
	struct expect_rule *expects;
	size_t nexpects, capexpects;
	struct addr_prefix *locals;
	size_t nlocals, caplocals;
	char **files;
	size_t nfiles, capfiles;

	struct port_range dyn;
	char dyn_name[24];
	uint8_t unexp_verdict, unexp_log, def_verdict, def_log;
	uint8_t inv_verdict, inv_log;
	uint8_t loopback_in;	/* `loopback inbound` */

	struct rindex ix;
	struct ruleset_summary sum;
};

/* A ruleset with nothing parsed yet and the language's defaults (dynamic
 * range iana, unexpected drop log, default pass, invalid drop log); NULL
 * with errno ENOMEM. */
struct ruleset *ruleset_new(void);

/* Builds the index (rindex.h) over what was parsed and fills the summary,
 * once, after a parse without errors.  Returns 0, or -1 with errno
 * ENOMEM (ruleset_free still frees everything). */
int ruleset_compile(struct ruleset *rs);

#endif
