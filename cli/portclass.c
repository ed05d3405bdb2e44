/*
 * portclass: the command-line tool.  `explain` answers "what is port N?",
 * `check` validates rules files, `listeners` lists who listens where.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "policyfile.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portclass COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  explain [-c POLICY] PORT|SERVICE|A-B[/PROTO]...\n"
		"                               IANA class, OS ephemeral ranges, and on\n"
		"                               this host: local range, reserved, listeners\n"
		"  check [--strict] [-c POLICY] [FILE...]\n"
		"                               validate policies (default: the one in\n"
		"                               use); prints \"configuration OK\", every\n"
		"                               error, and warnings about dead rules\n"
		"  listeners [-c POLICY] [--json|--suggest] [--unexpected]\n"
		"            [--proto P] [--port RANGE]\n"
		"                               every listening socket, classified, with\n"
		"                               its owner; exit 1 when one is unexpected\n"
		"\n"
		"  -h, --help                   this help\n"
		"  -V, --version                print the version\n"
		"\n"
		"The policy, when -c does not name one: $PORTCLASS_POLICY, else\n"
		"/etc/portclass/rules.conf when present, else the bundled\n"
		PORTCLASS_DATADIR "/default.rules.\n"
		"Exit status: 0 ok, 1 findings (unexpected listeners, warnings with\n"
		"--strict), 2 usage or input error.\n"
		"See portclass(1), portclass.rules(5).\n");
}

static void print_diag(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

struct ruleset *cli_load_policy(const char *path, int verbose, int *absent)
{
	struct ruleset_opts o = { .procroot = NULL, .report = print_diag };
	char buf[PATH_MAX + 64], err[PATH_MAX + 128];
	struct ruleset *rs;

	if (absent)
		*absent = 0;
	if (!path) {
		path = policyfile_default(buf, sizeof(buf));
		if (absent && access(path, F_OK) != 0) {
			*absent = 1;
			if (verbose)
				fprintf(stderr, "portclass: no policy (%s "
					"does not exist)\n", path);
			return NULL;
		}
	}
	if (verbose)
		fprintf(stderr, "portclass: policy %s\n", path);
	rs = policyfile_load(path, &o, err, sizeof(err));
	if (!rs)
		fprintf(stderr, "portclass: %s\n", err);
	return rs;
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
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("portclass %s\n", PORTCLASS_VERSION);
			return 0;
		}
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
