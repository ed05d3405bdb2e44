/*
 * cli: the subcommands of the `portclass` command.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit status.
 */
#ifndef PORTCLASS_CLI_H
#define PORTCLASS_CLI_H

#include <stddef.h>

struct ruleset;

/* portclass explain [-c POLICY] PORT|SERVICE|A-B[/PROTO]... */
int cli_explain(int argc, char **argv);
/* portclass check [--strict] [-c POLICY] [FILE...] */
int cli_check(int argc, char **argv);
/* portclass listeners [-c POLICY] [--json|--suggest] [filters] */
int cli_listeners(int argc, char **argv);

/*
 * Loads the policy: path, or when NULL the default every program reads
 * (policyfile_default).  Diagnostics and a summary go to stderr; with
 * verbose, the file's name too.  When path is NULL, absent is not NULL
 * and the default file does not exist, sets *absent and returns NULL
 * without a message.  NULL on any error.
 */
struct ruleset *cli_load_policy(const char *path, int verbose, int *absent);

#endif
