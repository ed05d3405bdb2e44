/* daemon: see daemon.h. */
#include "daemon.h"

#include <errno.h>
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

#include "clock.h"
#include "event.h"
#include "jsonw.h"
#include "log.h"
#include "policy.h"
#include "policyfile.h"
#include "privdrop.h"
#include "queue.h"
#include "resolver.h"
#include "ruleset.h"
#include "sandbox.h"
#include "stats.h"
#include "worker.h"

struct daemon {
	const struct daemon_options *o;
	struct queue *queues[DAEMON_MAX_QUEUES]; /* bound, not yet a worker's */
	unsigned nqueues;
	struct worker *workers[DAEMON_MAX_QUEUES];
	size_t nworkers;
	struct worker_config wc;
	struct stats_global g;
	struct stats_queue sq[DAEMON_MAX_QUEUES];
	int kernel_fd;
	const char *ct_source;	/* where NEW comes from: see ct_source() */
	struct resolver *resolver;
	int sfd, stop_fd;
	int log_open, policy_set;
	int stats_warned;
};

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

int daemon_check(const struct daemon_options *o)
{
	struct ruleset *rs;
	int nerrors;

	rs = load_rules(o->rules, &nerrors);
	if (!rs) {
		fprintf(stderr, "portclass-nfq: %s: %d error%s\n", o->rules,
			nerrors, nerrors == 1 ? "" : "s");
		return 2;
	}
	ruleset_free(rs);
	printf("configuration OK\n");
	return 0;
}

static uint64_t mono_ms(void)
{
	return clock_mono_ns() / 1000000u;
}

/* Copies every counter into dm->g and dm->sq (cheap: no file is written). */
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

/* Writes the stats file from what collect() last gathered. */
static void write_collected(struct daemon *dm)
{
	if (!dm->o->stats_file)
		return;
	if (stats_write_file(dm->o->stats_file, &dm->g, dm->sq, dm->nworkers) < 0) {
		int e = errno;

		/* never leave old numbers for a scraper to read as current */
		if (!dm->stats_warned)
			log_warnx("cannot write %s: %s; %s", dm->o->stats_file,
				  strerror(e),
				  stats_mark_stale(dm->o->stats_file) == 0 ?
				  "old values removed (portclass_stats_stale 1)" :
				  "and cannot remove or mark it stale either");
		dm->stats_warned = 1;
	} else {
		dm->stats_warned = 0;
	}
}

static void write_stats(struct daemon *dm)
{
	if (!dm->o->stats_file)
		return;
	collect(dm);
	write_collected(dm);
}

static void record(const char *type, struct daemon *dm, int ok, int nerrors)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_kv_string(&w, "type", type);
	event_write_ts(&w, "ts", clock_real_ns());
	if (!strcmp(type, "counters")) {
		collect(dm);
		stats_write_json(&w, &dm->g, dm->sq, dm->nworkers);
	} else {
		jsonw_kv_string(&w, "rules", dm->o->rules);
		if (!strcmp(type, "reload") || !strcmp(type, "stop"))
			jsonw_kv_bool(&w, "ok", ok);
		if (!strcmp(type, "reload"))
			jsonw_kv_int(&w, "errors", nerrors);
		if (!strcmp(type, "start")) {
			jsonw_kv_uint(&w, "queue_first", dm->o->qfirst);
			jsonw_kv_uint(&w, "queue_last", dm->o->qlast);
			jsonw_kv_bool(&w, "monitor", dm->o->monitor);
			jsonw_kv_bool(&w, "fail_open", !dm->o->fail_closed);
			jsonw_kv_string(&w, "conntrack", dm->ct_source);
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
	rs = load_rules(dm->o->rules, &nerrors);
	if (!rs) {
		dm->g.reloads_failed++;
		log_warnx("reload of %s failed (%d error%s), keeping the old rules",
			  dm->o->rules, nerrors, nerrors == 1 ? "" : "s");
		record("reload", dm, 0, nerrors);
		return;
	}
	if (policy_swap(rs) < 0) {
		dm->g.reloads_failed++;
		log_warn("reload of %s", dm->o->rules);
		record("reload", dm, 0, 0);
		return;
	}
	dm->g.reloads_ok++;
	log_info("reloaded %s (%zu rules, %zu expect)", dm->o->rules,
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

/* The queues bound but not handed to a worker: closed (unbound) here, in
 * one place, whichever step failed. */
static void close_queues(struct daemon *dm)
{
	unsigned n;

	for (n = 0; n < dm->nqueues; n++) {
		queue_close(dm->queues[n]);
		dm->queues[n] = NULL;
	}
	dm->nqueues = 0;
}

/*
 * Where the daemon learns that a packet opens a connection, for the start
 * record: "kernel" when every queue gets the kernel's conntrack state (an
 * --assume-new then applies only to a packet that arrives without it),
 * "assumed-new" or "flow-table" when none does, "mixed" otherwise.
 */
static const char *ct_source(const struct daemon_options *o,
			     struct queue *const *queues, unsigned nq)
{
	unsigned n, with = 0;

	for (n = 0; n < nq; n++)
		if (o->conntrack && queue_has_conntrack(queues[n]))
			with++;
	if (nq > 0 && with == nq)
		return "kernel";
	if (with > 0)
		return "mixed";
	return o->assume_new ? "assumed-new" : "flow-table";
}

static int open_queues(struct daemon *dm)
{
	const struct daemon_options *o = dm->o;
	unsigned nq = o->qlast - o->qfirst + 1;
	char err[512];

	for (dm->nqueues = 0; dm->nqueues < nq; dm->nqueues++) {
		struct queue_config qc = {
			.num = (uint16_t)(o->qfirst + dm->nqueues),
			.copy_range = o->copy_range,
			.maxlen = o->maxlen,
			.rcvbuf = o->rcvbuf,
			.fail_open = !o->fail_closed,
			.conntrack = o->conntrack,
			.gso = 1,
		};
		struct queue *q = queue_open(&qc, err, sizeof(err));

		if (!q) {
			log_warnx("%s", err);
			return -1;
		}
		dm->queues[dm->nqueues] = q;
		if (o->conntrack && !queue_has_conntrack(q))
			log_warnx("queue %u: the kernel does not provide conntrack "
				  "state; %s", qc.num, o->assume_new ?
				  "every queued packet counts as NEW (--assume-new)" :
				  "NEW comes from the flow table");
		else if (o->conntrack)
			log_info("queue %u: NEW comes from the kernel's conntrack "
				 "state%s", qc.num, o->assume_new ?
				 " (--assume-new only for a packet queued without it)" : "");
	}
	dm->ct_source = ct_source(o, dm->queues, dm->nqueues);
	return 0;
}

/* Hands each bound queue to a worker thread. */
static int start_workers(struct daemon *dm)
{
	unsigned n;
	int rc;

	memset(&dm->wc, 0, sizeof(dm->wc));
	dm->wc.monitor = dm->o->monitor;
	dm->wc.reject_mark = dm->o->reject_mark;
	dm->wc.assume_new = dm->o->assume_new;
	dm->wc.refresh_min_ms = dm->o->refresh_ms;
	dm->wc.listener_max_age_ms = dm->o->max_age_ms;
	dm->wc.procroot = "/proc";
	dm->wc.seccomp = dm->o->seccomp;
	dm->wc.eve = dm->o->eve;
	dm->wc.flow.max_flows = dm->o->max_flows;
	for (n = 0; n < dm->nqueues; n++) {
		struct worker *w = worker_new(dm->queues[n], &dm->wc);

		if (!w) {
			log_warn("queue %u", queue_num(dm->queues[n]));
			return -1;
		}
		/* The worker owns the queue now. */
		dm->queues[n] = NULL;
		dm->workers[dm->nworkers++] = w;
		if (worker_set_resolver(w, resolver_channel(dm->resolver, n)) < 0) {
			log_warn("queue %u", worker_queue_num(w));
			return -1;
		}
		rc = worker_start(w, dm->stop_fd);
		if (rc != 0) {
			errno = rc;
			log_warn("queue %u: thread", worker_queue_num(w));
			return -1;
		}
	}
	dm->nqueues = 0;
	return 0;
}

/* Start-up waits (at most about 2 s) until each thread has its first
 * listener table and owners, so that the "start" line means ready. */
static void wait_primed(struct daemon *dm)
{
	int tries;

	for (tries = 0; tries < 200; tries++) {
		size_t i, ready = 0;
		struct timespec ts = { 0, 10 * 1000000 };

		for (i = 0; i < dm->nworkers; i++)
			ready += worker_primed(dm->workers[i]) != 0;
		if (ready == dm->nworkers)
			return;
		nanosleep(&ts, NULL);
	}
}

static void stop_workers(struct daemon *dm)
{
	uint64_t one = 1;
	size_t i;

	if (dm->stop_fd >= 0 && write(dm->stop_fd, &one, sizeof(one)) < 0)
		log_warn("stop");
	for (i = 0; i < dm->nworkers; i++)
		worker_join(dm->workers[i]);
}

struct daemon *daemon_new(const struct daemon_options *o)
{
	struct daemon *dm;
	struct log_config lc;
	struct ruleset *rs;
	char err[512], caps[96];
	unsigned keep;
	int nerrors, nsys = 0;

	dm = calloc(1, sizeof(*dm));
	if (!dm) {
		log_warn("daemon");
		return NULL;
	}
	dm->o = o;
	dm->kernel_fd = dm->sfd = dm->stop_fd = -1;

	rs = load_rules(o->rules, &nerrors);
	if (!rs) {
		log_warnx("%s: %d error%s, not starting", o->rules, nerrors,
			  nerrors == 1 ? "" : "s");
		goto fail;
	}

	memset(&lc, 0, sizeof(lc));
	lc.dest = o->syslog ? LOG_DEST_SYSLOG :
		  o->log_file ? LOG_DEST_FILE : LOG_DEST_STDOUT;
	lc.path = o->log_file;
	lc.rate = o->log_rate;
	lc.burst = o->log_burst;
	if (log_init(&lc, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto fail;
	}
	dm->log_open = 1;

	dm->sfd = setup_signals();
	dm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dm->sfd < 0 || dm->stop_fd < 0) {
		log_warn("signalfd/eventfd");
		goto fail;
	}

	/* Bind every queue while we are still root. */
	if (open_queues(dm) < 0)
		goto fail;

	dm->kernel_fd = stats_kernel_open(NULL);

	/* The owner resolver: forked before any thread, it keeps the
	 * capabilities that read other users' /proc; this process keeps
	 * CAP_NET_ADMIN only. */
	{
		struct resolver_opts ro = {
			.channels = dm->nqueues, .user = o->user,
			.owner_caps = o->owner_caps, .seccomp = o->seccomp,
			.procroot = "/proc",
		};

		dm->resolver = resolver_spawn(&ro, err, sizeof(err));
		if (!dm->resolver) {
			log_warnx("%s", err);
			goto fail;
		}
	}
	keep = PRIVDROP_NET_ADMIN;
	if (privdrop(o->user, keep, err, sizeof(err)) < 0) {
		log_warnx("cannot drop privileges: %s", err);
		goto fail;
	}

	if (policy_init(rs) < 0) {
		rs = NULL; /* policy_init freed it */
		log_warn("policy");
		goto fail;
	}
	rs = NULL;
	dm->policy_set = 1;

	/* Last step of set-up, before any thread: they inherit the filter. */
	if (o->seccomp) {
		nsys = sandbox_apply(err, sizeof(err));
		if (nsys < 0) {
			log_warnx("%s (--no-seccomp runs without the filter)", err);
			goto fail;
		}
	}

	if (start_workers(dm) < 0)
		goto fail;
	wait_primed(dm);
	dm->g.monitor = o->monitor;
	dm->g.start_time = clock_real_ns() / 1000000000u;
	log_info("queues %u-%u bound%s%s, running as uid %u with %s",
		 o->qfirst, o->qlast, o->monitor ? ", monitor mode" : "",
		 o->fail_closed ? ", fail-closed" : ", fail-open",
		 (unsigned)getuid(),
		 privdrop_describe(privdrop_effective(), caps, sizeof(caps)));
	log_info("owner resolver: pid %d", (int)resolver_pid(dm->resolver));
	if (nsys > 0)
		log_info("seccomp filter: %d system calls allowed", nsys);
	else
		log_info("no seccomp filter (--no-seccomp)");
	record("start", dm, 1, 0);
	return dm;
fail:
	ruleset_free(rs);
	daemon_free(dm, 1);
	return NULL;
}

int daemon_run(struct daemon *dm)
{
	uint64_t next_tick = mono_ms() + 1000;
	uint64_t next_stats = mono_ms();

	for (;;) {
		struct pollfd pfd = { .fd = dm->sfd, .events = POLLIN };
		uint64_t now = mono_ms();
		int timeout = (int)(next_tick > now ? next_tick - now : 0);

		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			log_warn("poll");
			return 1;
		}
		if (pfd.revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(dm->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
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
			next_stats = now + (uint64_t)dm->o->stats_interval * 1000u;
		}
	}
}

/*
 * The one way down, whatever was set up.  Order matters: the queues are
 * unbound as soon as no thread reads them (the counters are copied first,
 * which costs no I/O), so that the kernel's bypass carries traffic while
 * the statistics and the stop record are written.
 */
void daemon_free(struct daemon *dm, int rc)
{
	size_t i;

	if (!dm)
		return;
	stop_workers(dm);
	collect(dm);
	for (i = 0; i < dm->nworkers; i++)
		worker_unbind(dm->workers[i]);
	close_queues(dm);
	resolver_close(dm->resolver);
	dm->resolver = NULL;
	if (dm->nworkers) {
		write_collected(dm);
		record("stop", dm, rc == 0, 0);
	}
	for (i = 0; i < dm->nworkers; i++)
		worker_free(dm->workers[i]);
	if (dm->policy_set)
		policy_shutdown();
	if (dm->log_open)
		log_close();
	if (dm->kernel_fd >= 0)
		close(dm->kernel_fd);
	if (dm->stop_fd >= 0)
		close(dm->stop_fd);
	if (dm->sfd >= 0)
		close(dm->sfd);
	free(dm);
}
