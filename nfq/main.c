/*
 * portclass-nfq: enforce the portclass policy on queued packets.
 * See portclass-nfq(8).
 */
#include "main.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "jsonw.h"
#include "log.h"
#include "policy.h"
#include "policyfile.h"
#include "privdrop.h"
#include "sandbox.h"
#include "queue.h"
#include "ruleset.h"
#include "stats.h"
#include "worker.h"

#define MAX_QUEUES 64

struct options {
	const char *rules;
	int verbose, eve;
	unsigned qfirst, qlast;
	int have_queue;
	int check;
	int monitor;
	int fail_closed;
	int conntrack;
	int assume_new;
	uint32_t reject_mark;
	uint32_t copy_range;
	uint32_t maxlen;
	int rcvbuf;
	const char *log_file;
	int syslog;
	unsigned log_rate, log_burst;
	const char *stats_file;
	unsigned stats_interval;
	const char *user;
	int owner_caps;
	int seccomp;
	uint32_t refresh_ms, max_age_ms;
	size_t max_flows;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: portclass-nfq [-c POLICY] -q NUM|FIRST:LAST [options]\n"
"       portclass-nfq -n [-c POLICY]\n"
"\n"
"  -c, --policy FILE         policy (default " MAIN_DEFAULT_RULES " when present,\n"
"                            else the bundled default.rules; $PORTCLASS_POLICY\n"
"                            overrides); -r and --rules are the old names\n"
"  -q, --queue N|A:B         NFQUEUE number or range, one thread per queue\n"
"  -n, --check               parse the rules, print \"configuration OK\", exit\n"
"      --monitor             accept everything; log what would be dropped\n"
"      --fail-closed         drop (not accept) when the queue overflows\n"
"      --reject-mark MARK    mark for rejected packets (default 0x%x)\n"
"      --no-conntrack        do not ask the kernel for conntrack state\n"
"      --assume-new          without conntrack state, every queued packet is\n"
"                            NEW (the firewall queues only ctstate NEW)\n"
"      --copy-range BYTES    bytes of each packet copied (default %u)\n"
"      --queue-maxlen N      kernel queue length (default %u)\n"
"      --rcvbuf BYTES        socket receive buffer, K/M suffix (default 8M)\n"
"      --log-file FILE       append JSON event lines to FILE (default stdout)\n"
"      --log-format FMT      event lines: portclass (default) or eve (alerts\n"
"                            as Suricata EVE JSON)\n"
"      --syslog              send events and diagnostics to syslog\n"
"      --log-rate N          at most N event lines per second (default %u, 0: no limit)\n"
"      --log-burst N         burst allowance (default: the rate)\n"
"      --stats-file FILE     Prometheus textfile, rewritten atomically\n"
"      --stats-interval SEC  how often (default %u)\n"
"      --user NAME           switch to NAME after binding the queues\n"
"      --no-owner-caps       keep only CAP_NET_ADMIN (owners of other users'\n"
"                            sockets are then unknown)\n"
"      --no-seccomp          do not install the system call filter\n"
"      --refresh-interval MS minimum time between listener refreshes (default %u)\n"
"      --listener-max-age MS refresh the listener table when older (default %u)\n"
"      --max-flows N         flow table size per queue (default %u)\n"
"  -v, --verbose             name the policy file at start\n"
"  -h, --help                this text\n"
"  -V, --version             print the version\n"
"\n"
"Exit status: 0 stopped by a signal (or -n: policy OK), 2 usage, policy\n"
"or start-up error, or a queue failed.\n",
		MAIN_DEFAULT_REJECT_MARK, MAIN_DEFAULT_COPY_RANGE,
		MAIN_DEFAULT_QUEUE_MAXLEN, MAIN_DEFAULT_LOG_RATE,
		MAIN_DEFAULT_STATS_INTERVAL, MAIN_DEFAULT_REFRESH_MS,
		MAIN_DEFAULT_LISTENER_MAX_AGE_MS, MAIN_DEFAULT_MAX_FLOWS);
}

/* strtoul with an end pointer and range check; base 0 takes 0x... */
static int parse_ulong(const char *s, unsigned long lo, unsigned long hi,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_size(const char *s, unsigned long *out)
{
	unsigned long v, mul = 1;
	char buf[32], *end;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	end = buf + n - 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024;
	if (mul > 1)
		*end = '\0';
	if (parse_ulong(buf, 1, INT_MAX / mul, &v) < 0)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_queue(const char *s, unsigned *first, unsigned *last)
{
	char buf[32], *colon;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_ulong(buf, 0, 65535, &a) < 0)
		return -1;
	b = a;
	if (colon && parse_ulong(colon + 1, 0, 65535, &b) < 0)
		return -1;
	if (a > b || b - a + 1 > MAX_QUEUES)
		return -1;
	*first = (unsigned)a;
	*last = (unsigned)b;
	return 0;
}

enum {
	OPT_MONITOR = 256, OPT_FAIL_CLOSED, OPT_REJECT_MARK, OPT_NO_CONNTRACK,
	OPT_COPY_RANGE, OPT_QUEUE_MAXLEN, OPT_RCVBUF, OPT_LOG_FILE, OPT_SYSLOG,
	OPT_LOG_RATE, OPT_LOG_BURST, OPT_STATS_FILE, OPT_STATS_INTERVAL,
	OPT_USER, OPT_NO_OWNER_CAPS, OPT_REFRESH, OPT_MAX_AGE, OPT_MAX_FLOWS, OPT_NO_SECCOMP,
	OPT_ASSUME_NEW, OPT_LOG_FORMAT,
};

static const struct option long_opts[] = {
	{ "policy", required_argument, NULL, 'c' },
	{ "rules", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "queue", required_argument, NULL, 'q' },
	{ "check", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "monitor", no_argument, NULL, OPT_MONITOR },
	{ "fail-closed", no_argument, NULL, OPT_FAIL_CLOSED },
	{ "reject-mark", required_argument, NULL, OPT_REJECT_MARK },
	{ "no-conntrack", no_argument, NULL, OPT_NO_CONNTRACK },
	{ "assume-new", no_argument, NULL, OPT_ASSUME_NEW },
	{ "copy-range", required_argument, NULL, OPT_COPY_RANGE },
	{ "queue-maxlen", required_argument, NULL, OPT_QUEUE_MAXLEN },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "log-rate", required_argument, NULL, OPT_LOG_RATE },
	{ "log-burst", required_argument, NULL, OPT_LOG_BURST },
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-owner-caps", no_argument, NULL, OPT_NO_OWNER_CAPS },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "refresh-interval", required_argument, NULL, OPT_REFRESH },
	{ "listener-max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ NULL, 0, NULL, 0 },
};

static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "portclass-nfq: invalid %s '%s' (%s)\n", opt, val, want);
	return 2;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	unsigned long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->conntrack = 1;
	o->reject_mark = MAIN_DEFAULT_REJECT_MARK;
	o->copy_range = MAIN_DEFAULT_COPY_RANGE;
	o->maxlen = MAIN_DEFAULT_QUEUE_MAXLEN;
	o->rcvbuf = MAIN_DEFAULT_RCVBUF;
	o->log_rate = MAIN_DEFAULT_LOG_RATE;
	o->stats_interval = MAIN_DEFAULT_STATS_INTERVAL;
	o->owner_caps = 1;
	o->seccomp = 1;
	o->refresh_ms = MAIN_DEFAULT_REFRESH_MS;
	o->max_age_ms = MAIN_DEFAULT_LISTENER_MAX_AGE_MS;
	o->max_flows = MAIN_DEFAULT_MAX_FLOWS;

	while ((c = getopt_long(argc, argv, "c:r:q:nvhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'r': /* the old flag */
			o->rules = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_LOG_FORMAT:
			if (!strcmp(optarg, "eve"))
				o->eve = 1;
			else if (strcmp(optarg, "portclass") != 0)
				return bad_value("--log-format", optarg,
						 "portclass or eve");
			break;
		case 'q':
			if (parse_queue(optarg, &o->qfirst, &o->qlast) < 0)
				return bad_value("queue", optarg,
						 "NUM or FIRST:LAST, 0-65535, at most 64 queues");
			o->have_queue = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("portclass-nfq %s\n", PORTCLASS_VERSION);
			return 0;
		case OPT_MONITOR:
			o->monitor = 1;
			break;
		case OPT_FAIL_CLOSED:
			o->fail_closed = 1;
			break;
		case OPT_REJECT_MARK:
			if (parse_ulong(optarg, 1, 0xffffffffUL, &v) < 0)
				return bad_value("--reject-mark", optarg,
						 "a non-zero 32-bit number");
			o->reject_mark = (uint32_t)v;
			break;
		case OPT_NO_CONNTRACK:
			o->conntrack = 0;
			break;
		case OPT_ASSUME_NEW:
			o->assume_new = 1;
			break;
		case OPT_COPY_RANGE:
			if (parse_ulong(optarg, 64, 65535, &v) < 0)
				return bad_value("--copy-range", optarg, "64-65535");
			o->copy_range = (uint32_t)v;
			break;
		case OPT_QUEUE_MAXLEN:
			if (parse_ulong(optarg, 1, 1u << 24, &v) < 0)
				return bad_value("--queue-maxlen", optarg, "1-16777216");
			o->maxlen = (uint32_t)v;
			break;
		case OPT_RCVBUF:
			if (parse_size(optarg, &v) < 0)
				return bad_value("--rcvbuf", optarg, "bytes, K or M suffix");
			o->rcvbuf = (int)v;
			break;
		case OPT_LOG_FILE:
			o->log_file = optarg;
			break;
		case OPT_SYSLOG:
			o->syslog = 1;
			break;
		case OPT_LOG_RATE:
			if (parse_ulong(optarg, 0, 1000000, &v) < 0)
				return bad_value("--log-rate", optarg, "0-1000000");
			o->log_rate = (unsigned)v;
			break;
		case OPT_LOG_BURST:
			if (parse_ulong(optarg, 1, 1000000, &v) < 0)
				return bad_value("--log-burst", optarg, "1-1000000");
			o->log_burst = (unsigned)v;
			break;
		case OPT_STATS_FILE:
			o->stats_file = optarg;
			break;
		case OPT_STATS_INTERVAL:
			if (parse_ulong(optarg, 1, 86400, &v) < 0)
				return bad_value("--stats-interval", optarg, "1-86400");
			o->stats_interval = (unsigned)v;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_NO_OWNER_CAPS:
			o->owner_caps = 0;
			break;
		case OPT_NO_SECCOMP:
			o->seccomp = 0;
			break;
		case OPT_REFRESH:
			if (parse_ulong(optarg, 0, 3600000, &v) < 0)
				return bad_value("--refresh-interval", optarg, "0-3600000");
			o->refresh_ms = (uint32_t)v;
			break;
		case OPT_MAX_AGE:
			if (parse_ulong(optarg, 0, 86400000, &v) < 0)
				return bad_value("--listener-max-age", optarg, "0-86400000");
			o->max_age_ms = (uint32_t)v;
			break;
		case OPT_MAX_FLOWS:
			if (parse_ulong(optarg, 1, 1ul << 30, &v) < 0)
				return bad_value("--max-flows", optarg, "1-1073741824");
			o->max_flows = v;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portclass-nfq: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o->log_file && o->syslog) {
		fprintf(stderr, "portclass-nfq: --log-file and --syslog exclude each other\n");
		return 2;
	}
	if (!o->check && !o->have_queue) {
		fprintf(stderr, "portclass-nfq: -q NUM|FIRST:LAST is required\n");
		usage(stderr);
		return 2;
	}
	if (!o->rules) {
		static char buf[PATH_MAX + 64];

		o->rules = policyfile_default(buf, sizeof(buf));
	}
	return -1;
}

/* Rules diagnostics go to stderr (and syslog), one complete message each. */
static void report_diag(void *ctx, const char *diag)
{
	int *count = ctx;

	(*count)++;
	log_warnx("%s", diag);
}

static struct ruleset *load_rules(const char *path, int *nerrors)
{
	struct ruleset_opts ro = { .procroot = NULL, .report = report_diag };
	int reported = 0;
	struct ruleset *rs;

	char what[PATH_MAX + 128];

	ro.ctx = &reported;
	*nerrors = 0;
	if (policyfile_misplaced(path, what, sizeof(what)) < 0) {
		log_warnx("%s", what);
		*nerrors = 1;
		return NULL;
	}
	rs = ruleset_load(path, &ro, nerrors);
	if (!rs && *nerrors == 0)
		log_warn("%s", path);
	return rs;
}

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct daemon {
	struct options o;
	struct worker *workers[MAX_QUEUES];
	size_t nworkers;
	struct stats_global g;
	struct stats_queue sq[MAX_QUEUES];
	int kernel_fd;
};

static void collect(struct daemon *dm)
{
	size_t i;

	dm->g.log_written = log_written_total();
	dm->g.log_suppressed = log_suppressed_total();
	for (i = 0; i < dm->nworkers; i++) {
		struct stats_queue *s = &dm->sq[i];

		s->num = worker_queue_num(dm->workers[i]);
		stats_copy(&s->c, worker_counters(dm->workers[i]));
		worker_queue_stats(dm->workers[i], &s->q);
		(void)stats_read_kernel(dm->kernel_fd, s->num, &s->k);
	}
}

static void write_stats(struct daemon *dm)
{
	static int warned;

	if (!dm->o.stats_file)
		return;
	collect(dm);
	if (stats_write_file(dm->o.stats_file, &dm->g, dm->sq, dm->nworkers) < 0) {
		int e = errno;

		/* never leave old numbers for a scraper to read as current */
		if (!warned)
			log_warnx("cannot write %s: %s; %s", dm->o.stats_file,
				  strerror(e),
				  stats_mark_stale(dm->o.stats_file) == 0 ?
				  "old values removed (portclass_stats_stale 1)" :
				  "and cannot remove or mark it stale either");
		warned = 1;
	} else {
		warned = 0;
	}
}

static void record(const char *type, struct daemon *dm, int ok, int nerrors)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_kv_string(&w, "type", type);
	event_write_ts(&w, "ts", now_real_ns());
	if (!strcmp(type, "counters")) {
		collect(dm);
		stats_write_json(&w, &dm->g, dm->sq, dm->nworkers);
	} else {
		jsonw_kv_string(&w, "rules", dm->o.rules);
		if (!strcmp(type, "reload") || !strcmp(type, "stop"))
			jsonw_kv_bool(&w, "ok", ok);
		if (!strcmp(type, "reload"))
			jsonw_kv_int(&w, "errors", nerrors);
		if (!strcmp(type, "start")) {
			jsonw_kv_uint(&w, "queue_first", dm->o.qfirst);
			jsonw_kv_uint(&w, "queue_last", dm->o.qlast);
			jsonw_kv_bool(&w, "monitor", dm->o.monitor);
			jsonw_kv_bool(&w, "fail_open", !dm->o.fail_closed);
			jsonw_kv_string(&w, "version", PORTCLASS_VERSION);
		}
	}
	jsonw_object_end(&w);
	if (!w.failed)
		log_record(jsonw_str(&w), w.len);
	jsonw_free(&w);
}

static void reload(struct daemon *dm)
{
	struct ruleset *rs;
	int nerrors;

	(void)log_reopen();
	rs = load_rules(dm->o.rules, &nerrors);
	if (!rs) {
		dm->g.reloads_failed++;
		log_warnx("reload of %s failed (%d error%s), keeping the old rules",
			  dm->o.rules, nerrors, nerrors == 1 ? "" : "s");
		record("reload", dm, 0, nerrors);
		return;
	}
	if (policy_swap(rs) < 0) {
		dm->g.reloads_failed++;
		log_warn("reload of %s", dm->o.rules);
		record("reload", dm, 0, 0);
		return;
	}
	dm->g.reloads_ok++;
	log_info("reloaded %s (%zu rules, %zu expect)", dm->o.rules,
		 ruleset_rule_count(rs), ruleset_expect_count(rs));
	record("reload", dm, 1, 0);
}

static int setup_signals(void)
{
	sigset_t set;

	/* Ignore SIGPIPE: a closed stdout must cost log lines, not the
	 * daemon.  The rest are read from a signalfd by the main loop, so
	 * no handler runs asynchronously; they are blocked before any
	 * thread starts so every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The control loop: returns 0 when SIGTERM/SIGINT arrives, 1 when a queue
 * thread has failed. */
static int control_loop(struct daemon *dm, int sfd)
{
	uint64_t next_tick = mono_ms() + 1000;
	uint64_t next_stats = mono_ms();

	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		uint64_t now = mono_ms();
		int timeout = (int)(next_tick > now ? next_tick - now : 0);

		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			log_warn("poll");
			return 1;
		}
		if (pfd.revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGHUP:
					reload(dm);
					break;
				case SIGUSR1:
					record("counters", dm, 0, 0);
					break;
				case SIGTERM:
				case SIGINT:
					return 0;
				}
			}
		}
		now = mono_ms();
		if (now >= next_tick) {
			size_t i;

			log_tick();
			next_tick = now + 1000;
			for (i = 0; i < dm->nworkers; i++)
				if (worker_failed(dm->workers[i])) {
					log_warnx("queue %u failed, exiting",
						  worker_queue_num(dm->workers[i]));
					return 1;
				}
		}
		if (now >= next_stats) {
			write_stats(dm);
			next_stats = now + (uint64_t)dm->o.stats_interval * 1000u;
		}
	}
}

int main(int argc, char **argv)
{
	static struct daemon dm;
	struct worker_config wc;
	struct log_config lc;
	struct ruleset *rs;
	struct queue *queues[MAX_QUEUES];
	char err[512], caps[96];
	unsigned keep, n, nq;
	int rc, nerrors, sfd, stop_fd, nsys;
	size_t i;

	rc = parse_options(argc, argv, &dm.o);
	if (rc >= 0)
		return rc;

	if (dm.o.verbose)
		log_info("policy %s", dm.o.rules);
	rs = load_rules(dm.o.rules, &nerrors);
	if (dm.o.check) {
		if (!rs) {
			fprintf(stderr, "portclass-nfq: %s: %d error%s\n",
				dm.o.rules, nerrors, nerrors == 1 ? "" : "s");
			return 2;
		}
		ruleset_free(rs);
		printf("configuration OK\n");
		return 0;
	}
	if (!rs) {
		log_warnx("%s: %d error%s, not starting", dm.o.rules, nerrors,
			  nerrors == 1 ? "" : "s");
		return 2;
	}

	memset(&lc, 0, sizeof(lc));
	lc.dest = dm.o.syslog ? LOG_DEST_SYSLOG :
		  dm.o.log_file ? LOG_DEST_FILE : LOG_DEST_STDOUT;
	lc.path = dm.o.log_file;
	lc.rate = dm.o.log_rate;
	lc.burst = dm.o.log_burst;
	if (log_init(&lc, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		ruleset_free(rs);
		return 2;
	}

	sfd = setup_signals();
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || stop_fd < 0) {
		log_warn("signalfd/eventfd");
		ruleset_free(rs);
		return 2;
	}

	/* Bind every queue while we are still root. */
	nq = dm.o.qlast - dm.o.qfirst + 1;
	for (n = 0; n < nq; n++) {
		struct queue_config qc = {
			.num = (uint16_t)(dm.o.qfirst + n),
			.copy_range = dm.o.copy_range,
			.maxlen = dm.o.maxlen,
			.rcvbuf = dm.o.rcvbuf,
			.fail_open = !dm.o.fail_closed,
			.conntrack = dm.o.conntrack,
			.gso = 1,
		};

		queues[n] = queue_open(&qc, err, sizeof(err));
		if (!queues[n]) {
			log_warnx("%s", err);
			while (n-- > 0)
				queue_close(queues[n]);
			ruleset_free(rs);
			return 2;
		}
		if (dm.o.conntrack && !queue_has_conntrack(queues[n]))
			log_warnx("queue %u: the kernel does not provide conntrack "
				  "state; %s", qc.num, dm.o.assume_new ?
				  "every queued packet counts as NEW (--assume-new)" :
				  "NEW comes from the flow table");
	}

	dm.kernel_fd = stats_kernel_open(NULL);
	keep = PRIVDROP_NET_ADMIN;
	if (dm.o.owner_caps)
		keep |= PRIVDROP_SYS_PTRACE | PRIVDROP_DAC_READ_SEARCH;
	if (privdrop(dm.o.user, keep, err, sizeof(err)) < 0) {
		log_warnx("cannot drop privileges: %s", err);
		for (n = 0; n < nq; n++)
			queue_close(queues[n]);
		ruleset_free(rs);
		return 2;
	}

	if (policy_init(rs) < 0) {
		log_warn("policy");
		for (n = 0; n < nq; n++)
			queue_close(queues[n]);
		return 2;
	}

	/* Last step of set-up, before any thread: they inherit the filter. */
	nsys = 0;
	if (dm.o.seccomp) {
		nsys = sandbox_apply(err, sizeof(err));
		if (nsys < 0) {
			log_warnx("%s (--no-seccomp runs without the filter)", err);
			for (n = 0; n < nq; n++)
				queue_close(queues[n]);
			policy_shutdown();
			return 2;
		}
	}

	memset(&wc, 0, sizeof(wc));
	wc.monitor = dm.o.monitor;
	wc.reject_mark = dm.o.reject_mark;
	wc.assume_new = dm.o.assume_new;
	wc.refresh_min_ms = dm.o.refresh_ms;
	wc.listener_max_age_ms = dm.o.max_age_ms;
	wc.procroot = "/proc";
	wc.eve = dm.o.eve;
	wc.flow.max_flows = dm.o.max_flows;
	for (n = 0; n < nq; n++) {
		struct worker *w = worker_new(queues[n], &wc);

		if (!w) {
			log_warn("queue %u", queue_num(queues[n]));
			for (; n < nq; n++)
				queue_close(queues[n]);
			goto stop;
		}
		dm.workers[dm.nworkers++] = w;
		rc = worker_start(w, stop_fd);
		if (rc != 0) {
			errno = rc;
			log_warn("queue %u: thread", queue_num(queues[n]));
			for (n++; n < nq; n++)
				queue_close(queues[n]);
			goto stop;
		}
	}
	dm.g.monitor = dm.o.monitor;
	dm.g.start_time = now_real_ns() / 1000000000u;
	log_info("queues %u-%u bound%s%s, running as uid %u with %s",
		 dm.o.qfirst, dm.o.qlast, dm.o.monitor ? ", monitor mode" : "",
		 dm.o.fail_closed ? ", fail-closed" : ", fail-open",
		 (unsigned)getuid(), privdrop_describe(privdrop_effective(), caps, sizeof(caps)));
	if (nsys > 0)
		log_info("seccomp filter: %d system calls allowed", nsys);
	else
		log_info("no seccomp filter (--no-seccomp)");
	record("start", &dm, 1, 0);

	rc = control_loop(&dm, sfd);
	goto out;
stop:
	rc = 1;
out:
	{
		uint64_t one = 1;

		if (write(stop_fd, &one, sizeof(one)) < 0)
			log_warn("stop");
	}
	for (i = 0; i < dm.nworkers; i++)
		worker_join(dm.workers[i]);
	write_stats(&dm);
	if (dm.nworkers)
		record("stop", &dm, rc == 0, 0);
	for (i = 0; i < dm.nworkers; i++)
		worker_free(dm.workers[i]);
	policy_shutdown();
	log_close();
	if (dm.kernel_fd >= 0)
		close(dm.kernel_fd);
	close(stop_fd);
	close(sfd);
	return rc ? 2 : 0;
}
