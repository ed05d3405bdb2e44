/*
 * policyfile: which policy a program reads when none is named, and loading
 * it with the diagnostics every front end prints the same way.  One place,
 * so `portclass`, `portclass-replay` and `portclass-nfq` always judge by
 * the same file.
 */
#ifndef PORTCLASS_POLICYFILE_H
#define PORTCLASS_POLICYFILE_H

#include <stddef.h>

#include "ruleset.h"

/*
 * The default policy, first of:
 *   $PORTCLASS_POLICY (when set and not empty: tests and staging);
 *   $PORTCLASS_SYSCONFDIR/portclass/rules.conf, the SYSCONFDIR compiled in
 *     (/etc) when the variable is unset - the site policy, when it exists;
 *   PORTCLASS_DATADIR/default.rules, the bundled policy, when it exists;
 *   contrib/default.rules in the working directory or beside the running
 *     binary's directory (a source tree before `make install`);
 *   the site path (so a message names where the policy should be).
 * The string is static or in buf (at least PATH_MAX + 32 bytes).
 */
const char *policyfile_default(char *buf, size_t len);

/*
 * Says what a file given as a policy really is, when it is plainly not
 * one: "this is a pcap file, not a policy" into msg, returning -1.  A
 * text file (or an unreadable one: the parser names the error) returns 0.
 */
int policyfile_misplaced(const char *path, char *msg, size_t msglen);

/*
 * ruleset_load, after policyfile_misplaced.  On failure returns NULL and
 * writes into err a one-line summary for the caller to print after the
 * diagnostics the report callback got: "FILE: 3 errors",
 * "FILE: this is a pcap file, not a policy", "FILE: Cannot allocate memory".
 */
struct ruleset *policyfile_load(const char *path, const struct ruleset_opts *o,
				char *err, size_t errlen);

#endif
