/* stats: see stats.h. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *listener_label[STATS_LISTENER_COUNT] = {
	"probe", "rogue", "unknown"
};

void stats_copy(struct stats_counters *dst, const struct stats_counters *src)
{
	size_t i, j, k;

	for (i = 0; i < CLASS_COUNT; i++)
		for (j = 0; j < CLASS_COUNT; j++)
			for (k = 0; k < VERDICT_COUNT; k++)
				dst->packets[i][j][k] = stats_load(src->packets[i][j][k]);
	for (i = 0; i < STATS_LISTENER_COUNT; i++)
		dst->alerts[i] = stats_load(src->alerts[i]);
	dst->invalid = stats_load(src->invalid);
	dst->refreshes = stats_load(src->refreshes);
	dst->refresh_errors = stats_load(src->refresh_errors);
	dst->mark_loops = stats_load(src->mark_loops);
}

int stats_kernel_open(const char *procroot)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/net/netfilter/nfnetlink_queue",
		 procroot ? procroot : "/proc");
	return open(path, O_RDONLY | O_CLOEXEC);
}

int stats_read_kernel(int fd, uint16_t num, struct stats_kernel *out)
{
	char buf[16384], *line, *save = NULL;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* queue_num portid queue_total copy_mode copy_range queue_dropped
	 * user_dropped id_sequence 1 */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v[8];

		if (sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) != 8 || v[0] != num)
			continue;
		out->valid = 1;
		out->queued = v[2];
		out->queue_dropped = v[5];
		out->user_dropped = v[6];
		out->id_sequence = v[7];
		return 0;
	}
	return -1;
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void emit(FILE *f, const struct stats_global *g,
		 const struct stats_queue *qs, size_t nq)
{
	size_t n, i, j, k, l;

	help(f, "portclass_nfq_packets_total", "counter",
	     "Queued packets by source class, destination class and decided verdict.");
	for (n = 0; n < nq; n++)
		for (i = 0; i < CLASS_COUNT; i++)
			for (j = 0; j < CLASS_COUNT; j++)
				for (k = 0; k < VERDICT_COUNT; k++)
					fprintf(f, "portclass_nfq_packets_total{queue=\"%u\",sclass=\"%s\",dclass=\"%s\",verdict=\"%s\"} %llu\n",
						qs[n].num, class_name((enum port_class)i),
						class_name((enum port_class)j),
						verdict_name((enum verdict)k),
						(unsigned long long)qs[n].c.packets[i][j][k]);
	help(f, "portclass_nfq_alerts_total", "counter",
	     "NEW inbound connections to unexpected dynamic-range ports, by listener (rogue, probe, unknown).");
	for (n = 0; n < nq; n++)
		for (l = 0; l < STATS_LISTENER_COUNT; l++)
			fprintf(f, "portclass_nfq_alerts_total{queue=\"%u\",listener=\"%s\"} %llu\n",
				qs[n].num, listener_label[l],
				(unsigned long long)qs[n].c.alerts[l]);

#define PER_QUEUE(name, type, text, expr)                                   \
	do {                                                                \
		help(f, name, type, text);                                  \
		for (n = 0; n < nq; n++)                                    \
			fprintf(f, "%s{queue=\"%u\"} %llu\n", name, qs[n].num, \
				(unsigned long long)(expr));                \
	} while (0)

	PER_QUEUE("portclass_nfq_invalid_packets_total", "counter",
		  "Truncated or malformed packets (given the default verdict).",
		  qs[n].c.invalid);
	PER_QUEUE("portclass_nfq_listener_refreshes_total", "counter",
		  "Listener table reloads from NETLINK_SOCK_DIAG.",
		  qs[n].c.refreshes);
	PER_QUEUE("portclass_nfq_listener_refresh_errors_total", "counter",
		  "Failed listener table reloads.", qs[n].c.refresh_errors);
	PER_QUEUE("portclass_nfq_enobufs_total", "counter",
		  "ENOBUFS from the queue socket: the kernel could not deliver packets to us.",
		  qs[n].q.enobufs);
	PER_QUEUE("portclass_nfq_undelivered_total", "counter",
		  "Packets the kernel queued but could not deliver to us (gaps in the packet ids): accepted when fail-open, dropped when fail-closed.",
		  qs[n].q.undelivered);
	PER_QUEUE("portclass_nfq_verdict_errors_total", "counter",
		  "Verdicts the kernel refused.", qs[n].q.verdict_errors);
	PER_QUEUE("portclass_nfq_verdict_batches_total", "counter",
		  "Batch verdict messages sent for runs of accepts.",
		  qs[n].q.batches);
	PER_QUEUE("portclass_nfq_messages_total", "counter",
		  "Packet messages received from the kernel.", qs[n].q.messages);
	PER_QUEUE("portclass_nfq_mark_loops_total", "counter",
		  "Rejected packets that came back still carrying the reject mark (the iptables rules do not skip it).",
		  qs[n].c.mark_loops);
	for (n = 0; n < nq; n++)
		if (qs[n].k.valid)
			break;
	if (n < nq) {
		/* Only the queues the kernel reported on. */
#define KERNEL_QUEUE(name, type, text, field)                               \
	do {                                                                \
		help(f, name, type, text);                                  \
		for (n = 0; n < nq; n++)                                    \
			if (qs[n].k.valid)                                  \
				fprintf(f, "%s{queue=\"%u\"} %llu\n", name,  \
					qs[n].num,                          \
					(unsigned long long)qs[n].k.field); \
	} while (0)
		KERNEL_QUEUE("portclass_nfq_queue_dropped_total", "counter",
			     "Packets the kernel dropped because the queue was full (fail-closed).",
			     queue_dropped);
		KERNEL_QUEUE("portclass_nfq_queue_user_dropped_total", "counter",
			     "Packets the kernel could not send to the daemon (socket buffer full).",
			     user_dropped);
		KERNEL_QUEUE("portclass_nfq_queue_length", "gauge",
			     "Packets waiting for a verdict.", queued);
#undef KERNEL_QUEUE
	}
	help(f, "portclass_nfq_rule_reloads_total", "counter",
	     "Rules reloads (SIGHUP) by result.");
	fprintf(f, "portclass_nfq_rule_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)g->reloads_ok);
	fprintf(f, "portclass_nfq_rule_reloads_total{result=\"error\"} %llu\n",
		(unsigned long long)g->reloads_failed);
	help(f, "portclass_nfq_log_lines_total", "counter",
	     "Event log lines written.");
	fprintf(f, "portclass_nfq_log_lines_total %llu\n",
		(unsigned long long)g->log_written);
	help(f, "portclass_nfq_log_suppressed_total", "counter",
	     "Event log lines suppressed by the rate limit.");
	fprintf(f, "portclass_nfq_log_suppressed_total %llu\n",
		(unsigned long long)g->log_suppressed);
	help(f, "portclass_nfq_monitor", "gauge",
	     "1 when running in monitor mode (nothing is dropped).");
	fprintf(f, "portclass_nfq_monitor %d\n", g->monitor ? 1 : 0);
	help(f, "portclass_nfq_start_time_seconds", "gauge",
	     "Start time of the daemon since the Unix epoch.");
	fprintf(f, "portclass_nfq_start_time_seconds %llu\n",
		(unsigned long long)g->start_time);
#undef PER_QUEUE
}

int stats_write_file(const char *path, const struct stats_global *g,
		     const struct stats_queue *qs, size_t nq)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	FILE *f;
	int fd, e;

	if (!tmp)
		return -1;
	snprintf(tmp, len, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		errno = e;
		goto fail_unlink;
	}
	emit(f, g, qs, nq);
	if (ferror(f) || fflush(f) != 0) {
		e = errno ? errno : EIO;
		fclose(f);
		errno = e;
		goto fail_unlink;
	}
	if (fclose(f) != 0)
		goto fail_unlink;
	if (rename(tmp, path) < 0)
		goto fail_unlink;
	free(tmp);
	return 0;

fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	free(tmp);
	errno = e;
	return -1;
}

void stats_write_json(struct jsonw *w, const struct stats_global *g,
		      const struct stats_queue *qs, size_t nq)
{
	uint64_t verdicts[VERDICT_COUNT] = { 0 }, alerts[STATS_LISTENER_COUNT] = { 0 };
	uint64_t invalid = 0, refreshes = 0, enobufs = 0, verr = 0, msgs = 0;
	uint64_t qdrop = 0, udrop = 0, undeliv = 0;
	size_t n, i, j, k;

	for (n = 0; n < nq; n++) {
		for (i = 0; i < CLASS_COUNT; i++)
			for (j = 0; j < CLASS_COUNT; j++)
				for (k = 0; k < VERDICT_COUNT; k++)
					verdicts[k] += qs[n].c.packets[i][j][k];
		for (k = 0; k < STATS_LISTENER_COUNT; k++)
			alerts[k] += qs[n].c.alerts[k];
		invalid += qs[n].c.invalid;
		refreshes += qs[n].c.refreshes;
		enobufs += qs[n].q.enobufs;
		undeliv += qs[n].q.undelivered;
		verr += qs[n].q.verdict_errors;
		msgs += qs[n].q.messages;
		qdrop += qs[n].k.queue_dropped;
		udrop += qs[n].k.user_dropped;
	}
	jsonw_kv_uint(w, "packets", msgs);
	for (k = 0; k < VERDICT_COUNT; k++)
		jsonw_kv_uint(w, verdict_name((enum verdict)k), verdicts[k]);
	jsonw_kv_uint(w, "alerts_rogue", alerts[STATS_ROGUE]);
	jsonw_kv_uint(w, "alerts_probe", alerts[STATS_PROBE]);
	jsonw_kv_uint(w, "alerts_unknown", alerts[STATS_UNKNOWN]);
	jsonw_kv_uint(w, "invalid", invalid);
	jsonw_kv_uint(w, "listener_refreshes", refreshes);
	jsonw_kv_uint(w, "enobufs", enobufs);
	jsonw_kv_uint(w, "undelivered", undeliv);
	jsonw_kv_uint(w, "verdict_errors", verr);
	jsonw_kv_uint(w, "queue_dropped", qdrop);
	jsonw_kv_uint(w, "user_dropped", udrop);
	jsonw_kv_uint(w, "reloads_ok", g->reloads_ok);
	jsonw_kv_uint(w, "reloads_failed", g->reloads_failed);
	jsonw_kv_uint(w, "log_suppressed", g->log_suppressed);
}

int stats_mark_stale(const char *path)
{
	static const char stale[] =
		"# HELP portclass_stats_stale 1: the daemon could not write its "
		"statistics; the values are gone, not current.\n"
		"# TYPE portclass_stats_stale gauge\n"
		"portclass_stats_stale 1\n";
	int fd;
	ssize_t n;

	if (unlink(path) == 0 || errno == ENOENT)
		return 0;
	/* The directory refuses (read-only, permissions): the file itself
	 * may still be writable; overwrite it in place. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = write(fd, stale, sizeof(stale) - 1);
	if (close(fd) != 0 || n != (ssize_t)(sizeof(stale) - 1))
		return -1;
	return 0;
}
