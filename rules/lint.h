/*
 * lint: what a policy says that it probably does not mean - rules an
 * earlier rule makes unreachable, duplicates, `expect`s outside the
 * guarded range, explicit rules naming destination hosts without `local`.  Warnings, not
 * errors: the policy is valid and does what it says.  Reads the rules
 * file again only to quote the line.
 */
#ifndef PORTCLASS_LINT_H
#define PORTCLASS_LINT_H

#include "ruleset.h"

/*
 * Reports each warning through report, formatted as the parser's
 * diagnostics are:
 *   rules.conf:7:1: warning: rule never matches: line 6 matches every
 *   packet it does
 *   drop log tcp to port 60314
 *   ^
 * The first 100 are reported in full, then one line says how many more
 * there are.  Returns the number of warnings.
 */
int lint_ruleset(const struct ruleset *rs, ruleset_report_fn report,
		 void *ctx);

#endif
