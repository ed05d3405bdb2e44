/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "addr.h"
#include "clock.h"
#include "event.h"
#include "jsonw.h"
#include "packet.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static enum log_dest dest = LOG_DEST_STDOUT;
static int out_fd = STDOUT_FILENO;
static char out_path[4096];
static double rate, burst, tokens;
static struct timespec last_refill;
static uint64_t suppressed_pending, suppressed_total, written_total;

/* Per-listener buckets (log_event_key), searched linearly: LOG_KEYS is
 * small and only events about a listener come here. */
struct key_bucket {
	struct log_key k;
	int used;
	double tokens;
	struct timespec last;	/* last refill */
	uint64_t suppressed;	/* refused since the last line */
};
static struct key_bucket keys[LOG_KEYS];

static const char progname[] = "portclass-nfq";

/* Whether a syslog daemon (or journald) takes datagrams at _PATH_LOG. */
static int syslog_reachable(char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", _PATH_LOG);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "--syslog: no syslog socket at %s (%s): "
			 "is a syslog daemon or systemd-journald running? "
			 "(--log-file FILE or standard output instead)",
			 _PATH_LOG, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int log_init(const struct log_config *c, char *err, size_t errlen)
{
	dest = c->dest;
	if (dest == LOG_DEST_FILE) {
		int fd;

		if (!c->path || !*c->path) {
			snprintf(err, errlen, "--log-file needs a file name");
			return -1;
		}
		fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0640);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
			return -1;
		}
		snprintf(out_path, sizeof(out_path), "%s", c->path);
		out_fd = fd;
	} else if (dest == LOG_DEST_SYSLOG) {
		/* syslog(3) drops messages without a word when nothing
		 * listens: find out now, and refuse to start deaf. */
		if (syslog_reachable(err, errlen) < 0) {
			dest = LOG_DEST_STDOUT;
			return -1;
		}
		/* NDELAY: connect to /dev/log now, before any chroot or
		 * privilege drop could make it unreachable. */
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	rate = c->rate;
	burst = c->burst ? c->burst : c->rate;
	tokens = burst;
	memset(keys, 0, sizeof(keys));
	clock_gettime(CLOCK_MONOTONIC, &last_refill);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&log_mu);
	if (dest == LOG_DEST_FILE && out_fd >= 0) {
		close(out_fd);
		out_fd = -1;
	} else if (dest == LOG_DEST_SYSLOG) {
		closelog();
	}
	pthread_mutex_unlock(&log_mu);
}

int log_reopen(void)
{
	int fd;

	if (dest != LOG_DEST_FILE)
		return 0;
	fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("cannot reopen %s, keeping the old file", out_path);
		return -1;
	}
	pthread_mutex_lock(&log_mu);
	close(out_fd);
	out_fd = fd;
	pthread_mutex_unlock(&log_mu);
	return 0;
}

/* With log_mu held. */
static void write_line(const char *json, size_t len, int prio)
{
	struct iovec iov[2];
	ssize_t n;

	written_total++;
	if (dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%.*s", (int)len, json);
		return;
	}
	if (out_fd < 0)
		return;
	iov[0].iov_base = (void *)(uintptr_t)json;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)(uintptr_t)"\n";
	iov[1].iov_len = 1;
	/* One writev per line so lines from several threads never mix; a
	 * full disk or closed pipe loses the line, never the daemon. */
	do {
		n = writev(out_fd, iov, 2);
	} while (n < 0 && errno == EINTR);
}


/* With log_mu held. */
static void flush_suppressed(void)
{
	struct jsonw w;

	if (!suppressed_pending)
		return;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_kv_string(&w, "type", "suppressed");
	event_write_ts(&w, "ts", clock_real_ns());
	jsonw_kv_uint(&w, "count", suppressed_pending);
	jsonw_object_end(&w);
	if (!w.failed)
		write_line(jsonw_str(&w), strlen(jsonw_str(&w)), LOG_WARNING);
	jsonw_free(&w);
	suppressed_pending = 0;
}

/* With log_mu held. */
static void refill(void)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - last_refill.tv_sec) +
	     (double)(now.tv_nsec - last_refill.tv_nsec) / 1e9;
	last_refill = now;
	if (dt > 0)
		tokens += dt * rate;
	if (tokens > burst)
		tokens = burst;
}

int log_event(const char *json, size_t len)
{
	int ok = 1;

	pthread_mutex_lock(&log_mu);
	if (rate > 0) {
		refill();
		if (tokens >= 1.0) {
			tokens -= 1.0;
		} else {
			ok = 0;
			suppressed_pending++;
			suppressed_total++;
		}
	}
	if (ok) {
		flush_suppressed();
		write_line(json, len, LOG_WARNING);
	}
	pthread_mutex_unlock(&log_mu);
	return ok;
}

static double elapsed(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) +
	       (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* With log_mu held. */
static void flush_key(struct key_bucket *b)
{
	char addr[INET6_ADDRSTRLEN];
	struct jsonw w;

	if (!b->suppressed)
		return;
	addr_format(b->k.family, b->k.addr, addr, sizeof(addr));
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_kv_string(&w, "type", "suppressed");
	event_write_ts(&w, "ts", clock_real_ns());
	jsonw_kv_uint(&w, "count", b->suppressed);
	jsonw_kv_string(&w, "proto", packet_proto_name((enum packet_proto)b->k.proto));
	jsonw_kv_string(&w, "dst", addr);
	jsonw_kv_uint(&w, "dport", b->k.port);
	jsonw_object_end(&w);
	if (!w.failed)
		write_line(jsonw_str(&w), strlen(jsonw_str(&w)), LOG_WARNING);
	jsonw_free(&w);
	b->suppressed = 0;
}

static int key_equal(const struct log_key *a, const struct log_key *b)
{
	return a->proto == b->proto && a->family == b->family &&
	       a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

/* With log_mu held: the bucket of k, a new one, or the one idle longest
 * (its suppressed count flushed first). */
static struct key_bucket *key_bucket(const struct log_key *k,
				     const struct timespec *now)
{
	struct key_bucket *free_b = NULL, *oldest = NULL;

	for (size_t i = 0; i < LOG_KEYS; i++) {
		struct key_bucket *b = &keys[i];

		if (!b->used) {
			if (!free_b)
				free_b = b;
			continue;
		}
		if (key_equal(&b->k, k))
			return b;
		if (!oldest || elapsed(&b->last, &oldest->last) > 0)
			oldest = b;
	}
	if (!free_b) {
		flush_key(oldest);
		free_b = oldest;
	}
	memset(free_b, 0, sizeof(*free_b));
	free_b->used = 1;
	free_b->k = *k;
	free_b->tokens = burst;
	free_b->last = *now;
	return free_b;
}

int log_event_key(const char *json, size_t len, const struct log_key *k)
{
	struct key_bucket *b;
	struct timespec now;
	double dt;
	int ok = 1;

	if (!k || rate <= 0)
		return log_event(json, len);
	pthread_mutex_lock(&log_mu);
	clock_gettime(CLOCK_MONOTONIC, &now);
	b = key_bucket(k, &now);
	dt = elapsed(&b->last, &now);
	b->last = now;
	if (dt > 0)
		b->tokens += dt * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		flush_key(b);
		write_line(json, len, LOG_WARNING);
	} else {
		ok = 0;
		b->suppressed++;
		suppressed_total++;
	}
	pthread_mutex_unlock(&log_mu);
	return ok;
}

void log_record(const char *json, size_t len)
{
	pthread_mutex_lock(&log_mu);
	write_line(json, len, LOG_INFO);
	pthread_mutex_unlock(&log_mu);
}

void log_tick(void)
{
	struct timespec now;

	pthread_mutex_lock(&log_mu);
	if (suppressed_pending) {
		if (rate > 0)
			refill();
		if (rate <= 0 || tokens >= 1.0)
			flush_suppressed();
	}
	/* A key's count is reported once its bucket would let a line out,
	 * even when no further event for it comes. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < LOG_KEYS; i++) {
		struct key_bucket *b = &keys[i];

		if (b->used && b->suppressed &&
		    b->tokens + elapsed(&b->last, &now) * rate >= 1.0)
			flush_key(b);
	}
	pthread_mutex_unlock(&log_mu);
}

uint64_t log_written_total(void)
{
	uint64_t v;

	pthread_mutex_lock(&log_mu);
	v = written_total;
	pthread_mutex_unlock(&log_mu);
	return v;
}

uint64_t log_suppressed_total(void)
{
	uint64_t v;

	pthread_mutex_lock(&log_mu);
	v = suppressed_total;
	pthread_mutex_unlock(&log_mu);
	return v;
}

static void vdiag(int prio, int with_errno, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vdiag(int prio, int with_errno, const char *fmt, va_list ap)
{
	char msg[1024];
	int e = errno;
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(e));
	fprintf(stderr, "%s: %s\n", progname, msg);
	if (dest == LOG_DEST_SYSLOG)
		syslog(prio, "%s", msg);
	errno = e;
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}
