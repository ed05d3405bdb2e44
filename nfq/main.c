/*
 * portclass-nfq: enforce the portclass policy on queued packets.
 * See portclass-nfq(8).  This file reads the command line; the daemon's
 * lifetime is in daemon.c.
 */
#include "main.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "policyfile.h"
#include "num.h"

#define MAX_QUEUES DAEMON_MAX_QUEUES

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
"      --copy-range BYTES    bytes of each packet copied, 120-65535\n"
"                            (default %u: whole packets)\n"
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
"      --no-owner-caps       the owner resolver keeps no capability (owners\n"
"                            of other users' sockets are then unknown)\n"
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

/* The bounded parser; 0x... is hexadecimal (for marks), never octal. */
static int parse_ulong(const char *s, unsigned long lo, unsigned long hi,
		       unsigned long *out)
{
	uint64_t v;

	if (num_parse(s, lo, hi, NUM_HEX, &v) < 0)
		return -1;
	*out = (unsigned long)v;
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
static int parse_options(int argc, char **argv, struct daemon_options *o)
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
			/* Less than the longest IPv4 + TCP headers would
			 * make options push the ports out of reach. */
			if (parse_ulong(optarg, MAIN_MIN_COPY_RANGE, 65535, &v) < 0)
				return bad_value("--copy-range", optarg,
						 "120-65535: the longest IPv4 "
						 "and TCP headers need 120");
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

int main(int argc, char **argv)
{
	static struct daemon_options o;
	struct daemon *dm;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.verbose)
		log_info("policy %s", o.rules);
	if (o.check)
		return daemon_check(&o);
	dm = daemon_new(&o);
	if (!dm)
		return 2;
	rc = daemon_run(dm);
	daemon_free(dm, rc);
	return rc ? 2 : 0;
}
