/*
 * portclass check: parse policies the way the daemon and the replay tool
 * would, print every error and every lint warning, and say
 * "configuration OK" when there is no error.  Used as ExecStartPre= in the
 * systemd unit.  With no file, checks the policy every program reads by
 * default.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lint.h"
#include "policyfile.h"
#include "ruleset.h"

static const char usage_text[] =
	"usage: portclass check [-q] [--strict] [--no-warnings] [-c POLICY] [FILE...]\n";

static void usage_long(FILE *f)
{
	fprintf(f, "%s"
		"\n"
		"Checks policies (default: the one every portclass program reads:\n"
		"$PORTCLASS_POLICY, else /etc/portclass/rules.conf when present, else\n"
		"the bundled default).  Errors and warnings are FILE:LINE:COL: with\n"
		"the line and a caret.  Warnings: rules an earlier rule makes\n"
		"unreachable, duplicates, `expect`s outside the guarded range,\n"
		"destination hosts named without `local`.\n"
		"\n"
		"  -c, --policy FILE  check FILE (as an argument would)\n"
		"  -q, --quiet        no \"configuration OK\"\n"
		"      --strict       warnings count: exit 1 when there are any\n"
		"  -w, --no-warnings  errors only\n"
		"  -v, --verbose      name each file checked\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: 0 ok (warnings allowed), 1 warnings with --strict,\n"
		"2 errors or usage error.\n", usage_text);
}

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

enum { OPT_STRICT = 256 };

int cli_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "policy", required_argument, NULL, 'c' },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "no-warnings", no_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int quiet = 0, strict = 0, nowarn = 0, verbose = 0, c;
	int total = 0, warnings = 0, nfiles = 0;
	const char *files[64];
	char buf[PATH_MAX + 64];

	optind = 1;
	while ((c = getopt_long(argc, argv, "qc:wvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'c':
			if (nfiles < 64)
				files[nfiles++] = optarg;
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		case 'w':
			nowarn = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage_long(stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	for (int i = optind; i < argc && nfiles < 64; i++)
		files[nfiles++] = argv[i];
	if (nfiles == 0)
		files[nfiles++] = policyfile_default(buf, sizeof(buf));

	struct ruleset_opts o = { .procroot = NULL, .report = report };
	for (int i = 0; i < nfiles; i++) {
		char err[PATH_MAX + 128];
		struct ruleset *rs;

		if (verbose)
			fprintf(stderr, "portclass: checking %s\n", files[i]);
		rs = policyfile_load(files[i], &o, err, sizeof(err));
		if (!rs) {
			fprintf(stderr, "portclass: %s\n", err);
			total++;
			continue;
		}
		if (!nowarn)
			warnings += lint_ruleset(rs, report, NULL);
		ruleset_free(rs);
	}
	if (total) {
		fprintf(stderr, "%d file%s with errors\n", total,
			total == 1 ? "" : "s");
		return 2;
	}
	if (warnings)
		fprintf(stderr, "%d warning%s\n", warnings,
			warnings == 1 ? "" : "s");
	if (!quiet)
		printf("configuration OK\n");
	return strict && warnings ? 1 : 0;
}
