/*
 * portclass: the command-line tool.  `explain` answers "what is port N?",
 * `check` validates rules files, `listeners` lists who listens where.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portclass COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  explain [-r RULES] PORT...   IANA class, OS ephemeral ranges, and on\n"
		"                               this host: local range, reserved, listeners\n"
		"  check FILE...                validate rules files; prints\n"
		"                               \"configuration OK\" or every error\n"
		"  listeners [--json] [-r RULES]\n"
		"                               every listening socket, classified, with\n"
		"                               its owner; --json is a replay snapshot\n"
		"\n"
		"  -h, --help                   this help\n"
		"  -V, --version                print the version\n"
		"\n"
		"See portclass(1), portclass.rules(5).\n");
}

const char *cli_default_rules(void)
{
	static const char installed[] = PORTCLASS_DATADIR "/default.rules";

	if (access(installed, R_OK) == 0)
		return installed;
	/* Run from a source tree before `make install`. */
	if (access("contrib/default.rules", R_OK) == 0)
		return "contrib/default.rules";
	return installed;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];

	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("portclass %s\n", PORTCLASS_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "explain"))
		return cli_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cli_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "listeners"))
		return cli_listeners(argc - 1, argv + 1);

	fprintf(stderr, "portclass: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
