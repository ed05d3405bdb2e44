/*
 * cli: the subcommands of the `portclass` command.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit status.
 */
#ifndef PORTCLASS_CLI_H
#define PORTCLASS_CLI_H

/* portclass explain [-r RULES] PORT... */
int cli_explain(int argc, char **argv);
/* portclass check FILE... */
int cli_check(int argc, char **argv);
/* portclass listeners [--json] [-r RULES] */
int cli_listeners(int argc, char **argv);

/* The default rules file: the installed one, else the source tree's. */
const char *cli_default_rules(void);

#endif
