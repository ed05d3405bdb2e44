/*
 * daemon: portclass-nfq's lifetime.  daemon_new does the whole set-up
 * (rules, log, signals, queues, the owner resolver, privilege drop, seccomp,
 * threads) as one ladder that undoes exactly what was done when a step
 * fails; daemon_run is the control loop (signals, stats, ticks);
 * daemon_free is the one way down: stop the threads, unbind the queues at
 * once (so that --queue-bypass carries traffic again), then write the last
 * statistics and the stop record, then free the rest.
 */
#ifndef PORTCLASS_NFQ_DAEMON_H
#define PORTCLASS_NFQ_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#define DAEMON_MAX_QUEUES 64

/* What the command line asked for (see portclass-nfq(8)). */
struct daemon_options {
	const char *rules;
	int verbose;		/* name the policy file at start */
	int eve;		/* alert lines as Suricata EVE JSON */
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

struct daemon;

/*
 * `portclass-nfq -n`: loads the rules, prints "configuration OK" or the
 * diagnostics and an error count.  Returns the exit status (0 or 1).
 */
int daemon_check(const struct daemon_options *o);

/*
 * Sets everything up; o must outlive the daemon.  On failure every step
 * already taken is undone, the reason has been logged, and NULL is
 * returned.  Forks the owner resolver (resolver.h) before any thread.
 */
struct daemon *daemon_new(const struct daemon_options *o);

/*
 * Runs until SIGTERM/SIGINT (returns 0) or until a queue thread fails
 * (returns 1).  SIGHUP reloads, SIGUSR1 logs counters.
 */
int daemon_run(struct daemon *dm);

/*
 * Stops the threads, unbinds the queues, writes the statistics and the
 * stop record (ok when rc is 0), then frees everything.  NULL is a no-op.
 */
void daemon_free(struct daemon *dm, int rc);

#endif
