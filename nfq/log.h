/*
 * log: the daemon's two output streams.
 *
 * Events: one JSON object per line (alerts, drops, rejects, reloads,
 * counters) on standard output, appended to a file, or sent to syslog
 * (journald picks either up).  Alerts and drops go through a token bucket
 * shared by all queue threads (--log-rate); what the bucket refuses is
 * counted and reported as one {"type":"suppressed","count":N} line once
 * lines flow again (or at the next log_tick).  Events about a listener
 * (a socket that exists) go through that listener's own bucket instead
 * (log_event_key), so a probe flood cannot hide one.
 *
 * Diagnostics: log_warn/log_warnx in the manner of OpenBSD's relayd, on
 * standard error (and syslog with --syslog).  log_warn appends
 * strerror(errno); log_warnx does not.
 *
 * All functions are safe to call from any thread.
 */
#ifndef PORTCLASS_NFQ_LOG_H
#define PORTCLASS_NFQ_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_dest { LOG_DEST_STDOUT = 0, LOG_DEST_FILE, LOG_DEST_SYSLOG };

struct log_config {
	enum log_dest dest;
	const char *path;	/* LOG_DEST_FILE */
	unsigned rate;		/* events per second; 0: unlimited */
	unsigned burst;		/* bucket size; 0: same as rate */
};

/* Opens the destination.  Returns 0, or -1 with a message in err. */
int log_init(const struct log_config *c, char *err, size_t errlen);
void log_close(void);

/* Reopens the log file (after rotation); keeps the old one on failure.
 * No-op for other destinations.  Returns 0 or -1 (and warns). */
int log_reopen(void);

/* A rate-limited event line (json without newline).  Returns 1 written,
 * 0 suppressed. */
int log_event(const char *json, size_t len);

/*
 * The listener an event is about: protocol (enum packet_proto), address
 * family (4 or 6), destination address (16 bytes, IPv4 in the first 4) and
 * port.
 */
struct log_key {
	uint8_t proto;
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
};

/*
 * A rate-limited event line about one listener.  Each listener key has its
 * own token bucket (the --log-rate and --log-burst of the shared one), so
 * a flood of probes to ports nobody listens on, which spends the shared
 * bucket, never silences the line about a listener: every distinct
 * listener gets its line.  What a key's bucket refuses is counted for that
 * key and reported as {"type":"suppressed","count":N,"proto":..,"dst":..,
 * "dport":..} before its next line (or at log_tick).  LOG_KEYS keys are
 * tracked; when they are all in use, the one idle longest is flushed and
 * reused.  k NULL: the same as log_event.  Returns 1 written, 0 suppressed.
 */
#define LOG_KEYS 256
int log_event_key(const char *json, size_t len, const struct log_key *k);

/* An event line that is never rate-limited (reload, counters, start). */
void log_record(const char *json, size_t len);

/* Emits a pending "suppressed" line if the bucket has refilled; call about
 * once a second. */
void log_tick(void);

/* Lines written and suppressed since start. */
uint64_t log_written_total(void);
uint64_t log_suppressed_total(void);

/* Diagnostics on stderr (and syslog with LOG_DEST_SYSLOG). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
