/*
 * portclass-replay: evaluates a portclass policy offline against pcap and
 * pcapng captures, with the same engine the NFQUEUE daemon runs.
 *
 * One file over 800 lines on purpose: it is the command line (options,
 * inputs, loading the policy and the listener snapshot) and main(); each
 * helper runs once per run for main() and has no other caller.
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

#include "capfile.h"
#include "filekind.h"
#include "listener.h"
#include "merge.h"
#include "policyfile.h"
#include "portset.h"
#include "queuesel.h"
#include "num.h"
#include "replay.h"
#include "report.h"
#include "seen.h"
#include "suggest.h"
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
#define STDOUT_BUF (64u << 10)

static char stdout_buf[STDOUT_BUF];

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
	OPT_SUGGEST,
	OPT_NO_MMAP,
	OPT_MMAP_WINDOW,
	OPT_QUEUE,
	OPT_TCP_LOOSE,
	OPT_MERGE,
};

static const struct option long_opts[] = {
	{ "policy", required_argument, NULL, 'c' },
	{ "rules", required_argument, NULL, 'c' }, /* the old name */
	{ "read", required_argument, NULL, 'r' },
	{ "filter", required_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "suggest", no_argument, NULL, OPT_SUGGEST },
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
	{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
	{ "mmap-window", required_argument, NULL, OPT_MMAP_WINDOW },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "tcp-loose", required_argument, NULL, OPT_TCP_LOOSE },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "jobs", required_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cmdline {
	const char *rules;
	const char *compare;
	const char *filter;
	char *filter_words;	/* trailing words, joined (malloc'ed) */
	const char **reads;	/* -r FILE..., in order */
	int nreads;
	int verbose, eve, suggest;
	const char *locals[64];
	int nlocals;
	const char *listeners;
	const char *write_passed, *write_dropped;
	int jsonl, events_packets;
	int json;		/* --format json: the summary alone */
	int merge;		/* --merge SUMMARY...: add them up */
	int fail_drop, fail_alert;
	unsigned long max_list;
	unsigned long max_flows;
	int no_mmap;
	unsigned long mmap_window;
	const char *queue;	/* --queue FILE, "all", or NULL (defaults) */
	int tcp_strict;
	unsigned long jobs;	/* -j: 0 the online cores */
	int jobs_set;		/* -j given */
	int max_flows_set;	/* --max-flows given */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-c POLICY] [options] -r CAPTURE... [EXPRESSION]\n"
"       " PROG " [-c POLICY] [options] CAPTURE...\n"
"Evaluates a portclass policy against pcap/pcapng captures, plain or\n"
"compressed with gzip, xz or zstd (\"-\": stdin; a directory: its files in\n"
"name order; several files are one stream of time).  As with tcpdump, the\n"
"words after the options are a pcap-filter EXPRESSION when the captures\n"
"are given with -r.\n"
"\n"
"  -c, --policy FILE        policy (default: /etc/portclass/rules.conf when\n"
"                           present, else " PORTCLASS_DATADIR "/default.rules;\n"
"                           $PORTCLASS_POLICY overrides); --rules is the old name\n"
"  -r, --read CAPTURE       a capture to read; repeatable\n"
"  -f, --filter EXPR        only frames matching this pcap-filter expression\n"
"      --local CIDR,...     protected hosts, added to the policy's `local`\n"
"      --format human|jsonl|json|eve  output form (default human); json:\n"
"                           the summary alone, one JSON object that\n"
"                           --merge adds up; eve: alerts as Suricata EVE\n"
"                           JSON lines\n"
"      --merge SUMMARY...   add up summaries of runs over parts of an\n"
"                           archive (--format json) into the whole's\n"
"      --events alerts|packets  jsonl: alert lines (default) or every frame\n"
"      --write-passed FILE  write passed packets as pcap\n"
"      --write-dropped FILE write dropped and rejected packets as pcap\n"
"      --compare RULES      also evaluate RULES; list differing attempts\n"
"      --fail-on drop|alert exit 1 if the policy drops/rejects anything or\n"
"                           alerts,\n"
"                           or if any packet could not be decided\n"
"      --listeners FILE     listener snapshot (portclass listeners --json)\n"
"      --max-alerts N       alerts and differences listed (default %d, 0 all)\n"
"      --max-flows N        flow table bound (default 4194304; memory grows\n"
"                           with the flows seen)\n"
"      --no-mmap            read classic pcap files through libpcap only\n"
"      --mmap-window BYTES  bytes of a classic pcap file mapped at a time\n"
"                           (default 4194304)\n"
"      --suggest            print `expect` lines for the unexpected listeners\n"
"                           the capture shows, instead of the report\n"
"  -v, --verbose            say which policy and files are read\n"
"      --queue FILE|all     queue selector (queue.conf: which packets the\n"
"                           firewall hands over; default: the bundled one,\n"
"                           NEW inbound tcp udp udplite sctp dccp); all:\n"
"                           every packet\n"
"      --tcp-loose 0|1      nf_conntrack_tcp_loose: a lone ACK without a\n"
"                           connection is NEW (1, default) or INVALID (0)\n"
"  -j, --jobs N             deciding threads, flows split among them by a\n"
"                           hash (default 0: one per online core, at most\n"
"                           64; 1: no threads; a --max-flows without -j:\n"
"                           1); each holds max-flows/N flows; the output\n"
"                           is that of -j 1 (see the manual for the flows\n"
"                           a table lets go)\n"
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
	cl->reads = calloc((size_t)argc, sizeof(*cl->reads));
	if (!cl->reads) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		return -1;
	}
	while ((c = getopt_long(argc, argv, "c:r:f:j:vhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cl->rules = optarg;
			break;
		case 'r':
			cl->reads[cl->nreads++] = optarg;
			break;
		case 'v':
			cl->verbose = 1;
			break;
		case OPT_SUGGEST:
			cl->suggest = 1;
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
			cl->eve = cl->json = 0;
			if (!strcmp(optarg, "jsonl"))
				cl->jsonl = 1;
			else if (!strcmp(optarg, "json"))
				cl->jsonl = cl->json = 1;
			else if (!strcmp(optarg, "eve"))
				cl->jsonl = cl->eve = 1;
			else if (!strcmp(optarg, "human"))
				cl->jsonl = 0;
			else {
				fprintf(stderr, PROG ": --format: '%s' is "
					"not human, jsonl, json or eve\n", optarg);
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
			cl->max_flows_set = 1;
			break;
		case OPT_NO_MMAP:
			cl->no_mmap = 1;
			break;
		case OPT_MMAP_WINDOW:
			if (parse_ulong(optarg, 1ul << 40, &cl->mmap_window) < 0 ||
			    cl->mmap_window == 0) {
				fprintf(stderr, PROG ": --mmap-window: '%s' is not "
					"a size in bytes\n", optarg);
				return -1;
			}
			break;
		case OPT_QUEUE:
			cl->queue = optarg;
			break;
		case OPT_MERGE:
			cl->merge = 1;
			break;
		case 'j':
			cl->jobs_set = 1;
			if (parse_ulong(optarg, REPLAY_MAX_JOBS, &cl->jobs) < 0) {
				fprintf(stderr, PROG ": -j: '%s' is not a number "
					"of threads (0-%d)\n", optarg,
					REPLAY_MAX_JOBS);
				return -1;
			}
			break;
		case OPT_TCP_LOOSE:
			if (!strcmp(optarg, "0"))
				cl->tcp_strict = 1;
			else if (!strcmp(optarg, "1"))
				cl->tcp_strict = 0;
			else {
				fprintf(stderr, PROG ": --tcp-loose: '%s' is "
					"neither 0 nor 1\n", optarg);
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
	if (cl->events_packets && (!cl->jsonl || cl->eve || cl->json)) {
		fprintf(stderr, PROG ": --events needs --format jsonl\n");
		return -1;
	}
	if (cl->eve && (cl->compare || cl->suggest)) {
		fprintf(stderr, PROG ": --format eve writes alerts only (not "
			"with --%s)\n", cl->compare ? "compare" : "suggest");
		return -1;
	}
	return 0;
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
	char err[PATH_MAX + 128];
	int i;

	rs = policyfile_load(path, &o, err, sizeof(err));
	if (!rs) {
		fprintf(stderr, PROG ": %s\n", err);
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

/* -j 0 or none: one deciding thread per online core, at most
 * REPLAY_MAX_JOBS; one core, or a count the system will not give: this
 * thread alone. */
static unsigned jobs_default(unsigned long jobs)
{
	long n;

	if (jobs)
		return (unsigned)jobs;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > REPLAY_MAX_JOBS ? REPLAY_MAX_JOBS : (unsigned)n;
}

/* The words after the options, joined with spaces: tcpdump's expression. */
static char *join_words(int argc, char **argv, int from)
{
	size_t len = 1;
	char *out;
	int i;

	for (i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (i = from; i < argc; i++) {
		if (i > from)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return out;
}

struct inputs {
	char **v;
	const char **why;	/* not a capture: the reason, else NULL */
	int n, cap;
};

static int inputs_add(struct inputs *in, const char *path, const char *why)
{
	if (in->n == in->cap) {
		int nc = in->cap ? in->cap * 2 : 16;
		char **nv = realloc(in->v, (size_t)nc * sizeof(*nv));
		const char **nw;

		if (!nv)
			return -1;
		in->v = nv;
		nw = realloc(in->why, (size_t)nc * sizeof(*nw));
		if (!nw)
			return -1;
		in->why = nw;
		in->cap = nc;
	}
	in->v[in->n] = strdup(path);
	if (!in->v[in->n])
		return -1;
	in->why[in->n] = why;
	in->n++;
	return 0;
}

static void inputs_free(struct inputs *in)
{
	while (in->n > 0)
		free(in->v[--in->n]);
	free(in->v);
	free(in->why);
}

/*
 * One capture argument: a directory becomes its files in name order, and
 * a file that is plainly something else (a rules file, a text file) is
 * named for what it is instead of being handed to libpcap.
 */
static int inputs_expand(struct inputs *in, const char *path)
{
	enum filekind k;
	char **names;
	int n, i;

	if (!strcmp(path, "-") || filekind_sniff(path, &k) < 0)
		return inputs_add(in, path, NULL); /* the replay says why */
	if (k == FILEKIND_DIR) {
		n = capfile_list_dir(path, &names);
		if (n < 0) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			return inputs_add(in, path, "directory cannot be read");
		}
		if (n == 0) {
			fprintf(stderr, PROG ": %s: directory holds no files\n",
				path);
			free(names);
			return inputs_add(in, path, "directory holds no files");
		}
		for (i = 0; i < n; i++) {
			if (inputs_add(in, names[i], NULL) < 0) {
				while (i < n)
					free(names[i++]);
				free(names);
				return -1;
			}
			free(names[i]);
		}
		free(names);
		return 0;
	}
	/* named here, counted as an input error by the run (which goes on
	 * with the other files, as for any file it cannot read) */
	if (k == FILEKIND_TEXT && filekind_file_is_rules(path)) {
		static const char why[] = "this is a rules file, not a capture "
					  "(a policy is given with -c)";
		fprintf(stderr, PROG ": %s: %s\n", path, why);
		return inputs_add(in, path, why);
	}
	if (k == FILEKIND_TEXT || k == FILEKIND_EMPTY) {
		static const char text[] = "this is a text file, not a capture "
			"(pcap or pcapng, plain or compressed with gzip, xz or "
			"zstd)";
		static const char empty[] = "this is an empty file, not a "
			"capture";
		const char *why = k == FILEKIND_TEXT ? text : empty;

		fprintf(stderr, PROG ": %s: %s\n", path, why);
		return inputs_add(in, path, why);
	}
	return inputs_add(in, path, NULL);
}

/* The expect lines that make the capture's unexpected listeners expected. */
static void print_suggest(struct report *rep, const struct ruleset *rs)
{
	struct seen_entry **v;
	size_t n, i, count = 0;

	v = seen_sorted(report_seen(rep), &n);
	printf("# expect lines for the listeners this capture shows that the "
	       "policy does not\n# expect (%s)\n",
	       ruleset_dynamic_range_name(rs));
	for (i = 0; i < n; i++) {
		const struct seen_entry *e = v[i];
		struct suggest_line sl;
		char line[512];

		if (!e->local || e->expected == e->answers)
			continue;
		memset(&sl, 0, sizeof(sl));
		sl.proto = e->proto;
		sl.family = e->family;
		memcpy(sl.addr, e->addr, 16);
		sl.port = e->port;
		sl.program = e->program[0] ? e->program : NULL;
		sl.user = e->user[0] ? e->user : NULL;
		sl.uid = -1;
		if (suggest_format(&sl, line, sizeof(line)) == 0) {
			printf("%s\n", line);
			count++;
		}
	}
	if (!count)
		printf("# (none)\n");
	free(v);
}

/* --merge: reads each summary whole (a file, or - for standard input),
 * adds them up, writes the sum. */
static int merge_files(int n, char **paths)
{
	struct merge *m;
	char err[512];
	int i, status = MAIN_EXIT_ERROR;

	if (n < 1) {
		fprintf(stderr, PROG ": --merge: no summary given\n");
		return MAIN_EXIT_ERROR;
	}
	m = merge_new();
	if (!m)
		goto oom;
	for (i = 0; i < n; i++) {
		FILE *f = strcmp(paths[i], "-") ? fopen(paths[i], "rb") : stdin;
		char *text = NULL;
		size_t len = 0, cap = 0, got;

		if (!f) {
			fprintf(stderr, PROG ": %s: %s\n", paths[i],
				strerror(errno));
			goto out;
		}
		do {
			if (cap - len < 65536) {
				char *nt;

				cap = cap ? cap * 2 : 1 << 20;
				nt = realloc(text, cap);
				if (!nt) {
					free(text);
					if (f != stdin)
						fclose(f);
					goto oom;
				}
				text = nt;
			}
			got = fread(text + len, 1, cap - len, f);
			len += got;
		} while (got > 0);
		if (ferror(f)) {
			fprintf(stderr, PROG ": %s: %s\n", paths[i],
				strerror(errno));
			free(text);
			if (f != stdin)
				fclose(f);
			goto out;
		}
		if (f != stdin)
			fclose(f);
		if (merge_add(m, paths[i], text, len, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			free(text);
			goto out;
		}
		free(text);
	}
	if (merge_write(m, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": standard output: %s\n", strerror(errno));
		goto out;
	}
	status = MAIN_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
out:
	merge_free(m);
	return status;
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
	struct inputs in = { 0 };
	struct queuesel *sel = NULL;
	struct portset *track = NULL;
	char rbuf[PATH_MAX + 64], err[256];
	int i, nstdin = 0, status = MAIN_EXIT_ERROR, input_error = 0;
	const struct report_counts *c;

	if (parse_args(argc, argv, &cl) < 0) {
		fprintf(stderr, "Try '" PROG " --help'.\n");
		free(cl.reads);
		return MAIN_EXIT_ERROR;
	}
	if (cl.merge) {
		free(cl.reads);
		return merge_files(argc - optind, argv + optind);
	}
	if (cl.nreads > 0) {
		for (i = 0; i < cl.nreads; i++)
			if (inputs_expand(&in, cl.reads[i]) < 0)
				goto oom;
		if (optind < argc) {
			if (cl.filter) {
				fprintf(stderr, PROG ": a filter given twice "
					"(-f and trailing words '%s')\n",
					argv[optind]);
				goto usage;
			}
			cl.filter_words = join_words(argc, argv, optind);
			if (!cl.filter_words)
				goto oom;
			cl.filter = cl.filter_words;
		}
	} else {
		/* the older form: captures as arguments, no expression */
		if (optind >= argc) {
			fprintf(stderr, PROG ": no capture file given (-r FILE)\n");
			goto usage;
		}
		for (i = optind; i < argc; i++)
			if (inputs_expand(&in, argv[i]) < 0)
				goto oom;
	}
	for (i = 0; i < in.n; i++)
		nstdin += !strcmp(in.v[i], "-");
	if (nstdin > 1) {
		fprintf(stderr, PROG ": standard input ('-') given twice\n");
		goto out;
	}
	if (cl.filter && check_filter(cl.filter) < 0)
		goto out;
	if (!cl.rules)
		cl.rules = policyfile_default(rbuf, sizeof(rbuf));
	if (cl.verbose)
		fprintf(stderr, PROG ": policy %s\n", cl.rules);
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
	if (!cl.queue)
		sel = queuesel_default();
	else if (!strcmp(cl.queue, "all"))
		sel = queuesel_all();
	else
		sel = queuesel_load(cl.queue, err, sizeof(err));
	if (!sel) {
		fprintf(stderr, PROG ": --queue: %s\n",
			cl.queue && strcmp(cl.queue, "all") ? err :
			strerror(ENOMEM));
		goto out;
	}
	rep = report_new(cl.max_list);
	if (!rep) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		goto out;
	}
	report_set_eve(rep, cl.eve);

	/* lines are written whole; the buffer keeps write(2) calls rare
	 * (64 KiB: one call per ~150 event lines, and small enough to stay
	 * in the cache next to the flow table) and is given here: glibc
	 * ignores the size of one it allocates itself */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	memset(&ro, 0, sizeof(ro));
	ro.rs = rs;
	ro.rs2 = rs2;
	ro.listeners = lt;
	ro.flow.max_flows = cl.max_flows;
	ro.flow.tcp_strict = (uint8_t)cl.tcp_strict;
	ro.sel = sel;
	ro.filter = cl.filter;
	ro.write_passed = cl.write_passed;
	ro.write_dropped = cl.write_dropped;
	/* --format json keeps the alerts in the report, as the human form
	 * does, and writes the summary alone */
	ro.jsonl = cl.jsonl && !cl.json && !cl.suggest;
	ro.events_packets = cl.events_packets;
	ro.progress = isatty(STDERR_FILENO);
	ro.no_mmap = cl.no_mmap;
	ro.mmap_window = cl.mmap_window;
	/* A bound given without -j is one table's: the flows it evicts
	 * are the ones a single table would. */
	ro.jobs = !cl.jobs_set && cl.max_flows_set ? 1 : jobs_default(cl.jobs);
	ro.rep = rep;
	ro.out = stdout;
	/* EVE shows alerts and nothing else (no summary; with no --write-*
	 * or --fail-on nothing else reads a verdict): a flow whose ports
	 * cannot give an alert needs no table entry. */
	if (cl.eve && !cl.write_passed && !cl.write_dropped && !cl.fail_drop &&
	    !cl.fail_alert && !rs2) {
		track = portset_alerts(rs);
		if (!track)
			goto oom;
		if (portset_is_all(track)) {
			portset_free(track);
			track = NULL;
		}
	}
	ro.track = track;
	rp = replay_new(&ro, err, sizeof(err));
	if (!rp) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	for (i = 0; i < in.n; i++) {
		if (in.why[i]) {
			int fidx = report_add_file(rep, in.v[i]);

			if (fidx >= 0)
				report_file_error(rep, (unsigned)fidx, 0,
						  in.why[i]);
			input_error = 1;
			continue;
		}
		if (cl.verbose)
			fprintf(stderr, PROG ": reading %s\n", in.v[i]);
		if (replay_file(rp, in.v[i]) < 0)
			input_error = 1;
	}
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
	replay_reasm_stats(rp, &info.reasm);
	if (!queuesel_is_all(sel)) {
		info.selector = queuesel_describe(sel);
		info.selector_ifaces = queuesel_has_interfaces(sel);
	}
	info.tcp_loose = !cl.tcp_strict;
	if (cl.suggest) {
		print_suggest(rep, rs);
	} else if (cl.eve) {
		/* EVE consumers read alerts only */
	} else if (cl.jsonl) {
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
	else if ((cl.fail_drop && c->blocked) ||
		 (cl.fail_alert && c->alerts) || (rs2 && c->diffs) ||
		 /* a capture that could not be read never passes a check */
		 ((cl.fail_drop || cl.fail_alert) && c->undecided))
		status = MAIN_EXIT_FOUND;
	else
		status = MAIN_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
	goto out;
usage:
	fprintf(stderr, "Try '" PROG " --help'.\n");
out:
	replay_free(rp);
	portset_free(track);
	queuesel_free(sel);
	report_free(rep);
	listener_table_free(lt);
	ruleset_free(rs2);
	ruleset_free(rs);
	inputs_free(&in);
	free(cl.filter_words);
	free(cl.reads);
	return status;
}
