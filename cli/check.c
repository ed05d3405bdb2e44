/*
 * portclass check: parse rules files the way the daemon and the replay
 * tool would, print every error, and say "configuration OK" when there
 * are none.  Used as ExecStartPre= in the systemd unit.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ruleset.h"

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

int cli_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int quiet = 0, c, total = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			printf("usage: portclass check [-q] FILE...\n");
			return 0;
		default:
			fprintf(stderr, "usage: portclass check [-q] FILE...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: portclass check [-q] FILE...\n");
		return 2;
	}

	struct ruleset_opts o = { .procroot = NULL, .report = report };
	for (int i = optind; i < argc; i++) {
		int nerr = 0;
		struct ruleset *rs = ruleset_load(argv[i], &o, &nerr);

		if (!rs && nerr == 0) {
			fprintf(stderr, "%s: error: out of memory\n", argv[i]);
			nerr = 1;
		}
		total += nerr;
		ruleset_free(rs);
	}
	if (total) {
		fprintf(stderr, "%d error%s\n", total, total == 1 ? "" : "s");
		return 1;
	}
	if (!quiet)
		printf("configuration OK\n");
	return 0;
}
