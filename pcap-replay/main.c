/*
 * portclass-replay: evaluates a portclass policy offline against pcap and
 * pcapng captures, with the same engine the NFQUEUE daemon runs.
 */
#include "main.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listener.h"
#include "num.h"
#include "replay.h"
#include "report.h"
#include "ruleset.h"
#include "snapshot.h"

#define PROG "portclass-replay"

#ifndef PORTCLASS_VERSION
#define PORTCLASS_VERSION "unknown"
#endif
#ifndef PORTCLASS_DATADIR
#define PORTCLASS_DATADIR "/usr/local/share/portclass"
#endif

/* A snapshot is a few hundred bytes per socket; anything this big is not
 * one, and reading it whole would only waste memory. */
#define SNAPSHOT_MAX (64u << 20)
#define MAX_LIST_DEFAULT 1000
#define STDOUT_BUF (1u << 20)

enum {
	OPT_LOCAL = 256,
	OPT_FORMAT,
	OPT_EVENTS,
	OPT_WRITE_PASSED,
	OPT_WRITE_DROPPED,
	OPT_COMPARE,
	OPT_FAIL_ON,
	OPT_LISTENERS,
	OPT_MAX_ALERTS,
	OPT_MAX_FLOWS,
};

static const struct option long_opts[] = {
	{ "rules", required_argument, NULL, 'r' },
	{ "filter", required_argument, NULL, 'f' },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "write-passed", required_argument, NULL, OPT_WRITE_PASSED },
	{ "write-dropped", required_argument, NULL, OPT_WRITE_DROPPED },
	{ "compare", required_argument, NULL, OPT_COMPARE },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "listeners", required_argument, NULL, OPT_LISTENERS },
	{ "max-alerts", required_argument, NULL, OPT_MAX_ALERTS },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cmdline {
	const char *rules;
	const char *compare;
	const char *filter;
	const char *locals[64];
	int nlocals;
	const char *listeners;
	const char *write_passed, *write_dropped;
	int jsonl, events_packets;
	int fail_drop, fail_alert;
	unsigned long max_list;
	unsigned long max_flows;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-r RULES] [options] FILE...\n"
"Evaluates a portclass policy against pcap/pcapng captures (\"-\": stdin;\n"
"several files are one stream of time).\n"
"\n"
"  -r, --rules FILE         policy (default: " PORTCLASS_DATADIR "/default.rules,\n"
"                           or contrib/default.rules in the source tree)\n"
"  -f, --filter EXPR        only frames matching this pcap-filter expression\n"
"      --local CIDR,...     protected hosts, added to the policy's `local`\n"
"      --format human|jsonl output form (default human)\n"
"      --events alerts|packets  jsonl: alert lines (default) or every frame\n"
"      --write-passed FILE  write passed packets as pcap\n"
"      --write-dropped FILE write dropped and rejected packets as pcap\n"
"      --compare RULES      also evaluate RULES; list differing attempts\n"
"      --fail-on drop|alert exit 1 if anything is dropped/rejected or alerted\n"
"      --listeners FILE     listener snapshot (portclass listeners --json)\n"
"      --max-alerts N       alerts and differences listed (default %d, 0 all)\n"
"      --max-flows N        flow table bound (default 262144)\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n"
"\n"
"Exit status: 0 ok, 1 --fail-on/--compare found something, 2 usage or\n"
"input error.  See portclass-replay(1).\n", MAX_LIST_DEFAULT);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (num_parse(s, 0, max, 0, &v) < 0)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int parse_fail_on(struct cmdline *cl, const char *arg)
{
	char buf[64], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -1;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "drop"))
			cl->fail_drop = 1;
		else if (!strcmp(tok, "alert"))
			cl->fail_alert = 1;
		else
			return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct cmdline *cl)
{
	int c;

	memset(cl, 0, sizeof(*cl));
	cl->max_list = MAX_LIST_DEFAULT;
	while ((c = getopt_long(argc, argv, "r:f:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cl->rules = optarg;
			break;
		case 'f':
			cl->filter = optarg;
			break;
		case OPT_LOCAL:
			if (cl->nlocals == (int)(sizeof(cl->locals) /
						 sizeof(cl->locals[0]))) {
				fprintf(stderr, PROG ": too many --local options\n");
				return -1;
			}
			cl->locals[cl->nlocals++] = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "jsonl"))
				cl->jsonl = 1;
			else if (!strcmp(optarg, "human"))
				cl->jsonl = 0;
			else {
				fprintf(stderr, PROG ": --format: '%s' is "
					"neither human nor jsonl\n", optarg);
				return -1;
			}
			break;
		case OPT_EVENTS:
			if (!strcmp(optarg, "packets"))
				cl->events_packets = 1;
			else if (!strcmp(optarg, "alerts"))
				cl->events_packets = 0;
			else {
				fprintf(stderr, PROG ": --events: '%s' is "
					"neither alerts nor packets\n", optarg);
				return -1;
			}
			break;
		case OPT_WRITE_PASSED:
			cl->write_passed = optarg;
			break;
		case OPT_WRITE_DROPPED:
			cl->write_dropped = optarg;
			break;
		case OPT_COMPARE:
			cl->compare = optarg;
			break;
		case OPT_FAIL_ON:
			if (parse_fail_on(cl, optarg) < 0) {
				fprintf(stderr, PROG ": --fail-on: '%s': expected "
					"drop, alert or drop,alert\n", optarg);
				return -1;
			}
			break;
		case OPT_LISTENERS:
			cl->listeners = optarg;
			break;
		case OPT_MAX_ALERTS:
			if (parse_ulong(optarg, SIZE_MAX, &cl->max_list) < 0) {
				fprintf(stderr, PROG ": --max-alerts: '%s' is "
					"not a count\n", optarg);
				return -1;
			}
			break;
		case OPT_MAX_FLOWS:
			if (parse_ulong(optarg, 1ul << 30, &cl->max_flows) < 0 ||
			    cl->max_flows == 0) {
				fprintf(stderr, PROG ": --max-flows: '%s' is not "
					"a count (1-%lu)\n", optarg, 1ul << 30);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(MAIN_EXIT_OK);
		case 'V':
			printf(PROG " " PORTCLASS_VERSION "\n");
			exit(MAIN_EXIT_OK);
		default:
			return -1;
		}
	}
	if (cl->events_packets && !cl->jsonl) {
		fprintf(stderr, PROG ": --events needs --format jsonl\n");
		return -1;
	}
	return 0;
}

static int readable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, R_OK) == 0;
}

/*
 * The bundled policy: installed beside the man pages under DATADIR; from
 * a source tree (not installed), contrib/default.rules relative to the
 * working directory or to the directory above the binary (build/..).
 */
static const char *default_rules(char *buf, size_t len)
{
	static const char installed[] = PORTCLASS_DATADIR "/default.rules";
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (readable(installed))
		return installed;
	if (readable("contrib/default.rules"))
		return "contrib/default.rules";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/../contrib/default.rules", exe);
			if (readable(buf))
				return buf;
		}
	}
	return installed; /* so the error names where it should be */
}

static void print_diag(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

static struct ruleset *load_rules(const char *path, const struct cmdline *cl)
{
	struct ruleset_opts o = { .report = print_diag };
	struct ruleset *rs;
	char err[256];
	int nerr = 0, i;

	rs = ruleset_load(path, &o, &nerr);
	if (!rs) {
		if (nerr)
			fprintf(stderr, PROG ": %s: %d error%s\n", path, nerr,
				nerr == 1 ? "" : "s");
		else
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (i = 0; i < cl->nlocals; i++) {
		char list[512], *tok, *save = NULL;

		if (snprintf(list, sizeof(list), "%s", cl->locals[i]) >=
		    (int)sizeof(list)) {
			fprintf(stderr, PROG ": --local: list too long\n");
			ruleset_free(rs);
			return NULL;
		}
		for (tok = strtok_r(list, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			if (ruleset_add_local(rs, tok, err, sizeof(err)) < 0) {
				fprintf(stderr, PROG ": --local %s: %s\n", tok,
					err);
				ruleset_free(rs);
				return NULL;
			}
		}
	}
	return rs;
}

static struct listener_table *load_listeners(const char *path)
{
	struct listener_table *t;
	char err[256], *text;
	size_t len = 0, cap = 65536;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text = malloc(cap);
	while (text) {
		size_t n = fread(text + len, 1, cap - len, f);

		len += n;
		if (len < cap)
			break;
		if (cap >= SNAPSHOT_MAX) {
			fprintf(stderr, PROG ": %s: larger than %u bytes: not a "
				"listener snapshot\n", path, SNAPSHOT_MAX);
			free(text);
			fclose(f);
			return NULL;
		}
		char *nt = realloc(text, cap * 2);
		if (!nt) {
			free(text);
			text = NULL;
			break;
		}
		text = nt;
		cap *= 2;
	}
	if (!text || ferror(f)) {
		fprintf(stderr, PROG ": %s: %s\n", path,
			text ? "read error" : strerror(ENOMEM));
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	t = listener_table_new();
	if (!t) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(ENOMEM));
		free(text);
		return NULL;
	}
	if (snapshot_parse(t, text, len, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s:%s\n", path, err);
		listener_table_free(t);
		free(text);
		return NULL;
	}
	free(text);
	return t;
}

/*
 * Catches a filter syntax error once, before any file is read.  Some
 * expressions only make sense for some link types ("ether host" has no
 * meaning on raw IP), so the filter passes when any link type the replay
 * reads accepts it; each file compiles it again for its own.
 */
static int check_filter(const char *expr)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW,
				    DLT_NULL };
	char first[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	size_t i;

	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		pcap_t *dead = pcap_open_dead(dlts[i], 65535);
		int rc;

		if (!dead)
			return 0; /* each file will compile it and say */
		rc = pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN);
		if (rc == 0) {
			pcap_freecode(&prog);
			pcap_close(dead);
			return 0;
		}
		if (i == 0)
			snprintf(first, sizeof(first), "%s", pcap_geterr(dead));
		pcap_close(dead);
	}
	fprintf(stderr, PROG ": -f '%s': %s\n", expr, first);
	return -1;
}

int main(int argc, char **argv)
{
	struct cmdline cl;
	struct ruleset *rs = NULL, *rs2 = NULL;
	struct listener_table *lt = NULL;
	struct report *rep = NULL;
	struct replay *rp = NULL;
	struct replay_opts ro;
	struct report_info info;
	char rbuf[PATH_MAX + 64], err[256];
	int i, nstdin = 0, status = MAIN_EXIT_ERROR, input_error = 0;
	const struct report_counts *c;

	if (parse_args(argc, argv, &cl) < 0) {
		fprintf(stderr, "Try '" PROG " --help'.\n");
		return MAIN_EXIT_ERROR;
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no capture file given\n"
			"Try '" PROG " --help'.\n");
		return MAIN_EXIT_ERROR;
	}
	for (i = optind; i < argc; i++)
		nstdin += !strcmp(argv[i], "-");
	if (nstdin > 1) {
		fprintf(stderr, PROG ": standard input ('-') given twice\n");
		return MAIN_EXIT_ERROR;
	}
	if (cl.filter && check_filter(cl.filter) < 0)
		return MAIN_EXIT_ERROR;
	if (!cl.rules)
		cl.rules = default_rules(rbuf, sizeof(rbuf));
	rs = load_rules(cl.rules, &cl);
	if (!rs)
		goto out;
	if (cl.compare) {
		rs2 = load_rules(cl.compare, &cl);
		if (!rs2)
			goto out;
	}
	if (cl.listeners) {
		lt = load_listeners(cl.listeners);
		if (!lt)
			goto out;
	}
	rep = report_new(cl.max_list);
	if (!rep) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		goto out;
	}

	/* lines are written whole; a large buffer keeps write(2) calls rare */
	setvbuf(stdout, NULL, _IOFBF, STDOUT_BUF);
	memset(&ro, 0, sizeof(ro));
	ro.rs = rs;
	ro.rs2 = rs2;
	ro.listeners = lt;
	ro.flow.max_flows = cl.max_flows;
	ro.filter = cl.filter;
	ro.write_passed = cl.write_passed;
	ro.write_dropped = cl.write_dropped;
	ro.jsonl = cl.jsonl;
	ro.events_packets = cl.events_packets;
	ro.progress = isatty(STDERR_FILENO);
	ro.rep = rep;
	ro.out = stdout;
	rp = replay_new(&ro, err, sizeof(err));
	if (!rp) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	for (i = optind; i < argc; i++)
		if (replay_file(rp, argv[i]) < 0)
			input_error = 1;
	if (replay_finish(rp) < 0)
		input_error = 1;

	memset(&info, 0, sizeof(info));
	info.rules = cl.rules;
	info.compare = cl.compare;
	info.range = ruleset_dynamic_range(rs);
	info.range_name = ruleset_dynamic_range_name(rs);
	info.has_local = ruleset_has_local(rs);
	info.have_listeners = lt != NULL;
	info.filter = cl.filter;
	replay_flow_stats(rp, &info.flows);
	if (cl.jsonl) {
		struct jsonw w;

		jsonw_init(&w);
		report_jsonl_summary(rep, &w, stdout, &info);
		jsonw_free(&w);
	} else {
		report_print(rep, stdout, &info);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": standard output: %s\n", strerror(errno));
		input_error = 1;
	}

	c = report_counts(rep);
	if (input_error || report_input_errors(rep))
		status = MAIN_EXIT_ERROR;
	else if ((cl.fail_drop && (c->verdicts[VERDICT_DROP] ||
				   c->verdicts[VERDICT_REJECT])) ||
		 (cl.fail_alert && c->alerts) || (rs2 && c->diffs))
		status = MAIN_EXIT_FOUND;
	else
		status = MAIN_EXIT_OK;
out:
	replay_free(rp);
	report_free(rep);
	listener_table_free(lt);
	ruleset_free(rs2);
	ruleset_free(rs);
	return status;
}
