/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "event.h"
#include "jsonw.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static enum log_dest dest = LOG_DEST_STDOUT;
static int out_fd = STDOUT_FILENO;
static char out_path[4096];
static double rate, burst, tokens;
static struct timespec last_refill;
static uint64_t suppressed_pending, suppressed_total, written_total;

static const char progname[] = "portclass-nfq";

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
		/* NDELAY: connect to /dev/log now, before any chroot or
		 * privilege drop could make it unreachable. */
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	rate = c->rate;
	burst = c->burst ? c->burst : c->rate;
	tokens = burst;
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

void log_record(const char *json, size_t len)
{
	pthread_mutex_lock(&log_mu);
	write_line(json, len, LOG_INFO);
	pthread_mutex_unlock(&log_mu);
}

void log_tick(void)
{
	pthread_mutex_lock(&log_mu);
	if (suppressed_pending) {
		if (rate > 0)
			refill();
		if (rate <= 0 || tokens >= 1.0)
			flush_suppressed();
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
