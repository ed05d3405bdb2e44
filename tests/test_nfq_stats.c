/*
 * test_nfq_stats: the daemon's Prometheus textfile (nfq/stats.c) - values,
 * exposition syntax, one HELP/TYPE per metric, atomic replacement, failure
 * without leftovers - and the parser of the kernel's nfnetlink_queue file.
 * The module is compiled into this test (it is not in a library).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <regex.h>

#include <errno.h>

#include "stats.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_nfq_stats.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void fill(struct stats_global *g, struct stats_queue *q)
{
	memset(g, 0, sizeof(*g));
	memset(q, 0, 2 * sizeof(*q));
	g->reloads_ok = 3;
	g->reloads_failed = 1;
	g->log_suppressed = 42;
	g->monitor = 1;
	g->start_time = 1795785312;
	q[0].num = 3;
	q[0].c.packets[CLASS_USER][CLASS_DYNAMIC][VERDICT_REJECT] = 7;
	q[0].c.packets[CLASS_DYNAMIC][CLASS_USER][VERDICT_PASS] = 11;
	q[0].c.alerts[STATS_ROGUE] = 5;
	q[0].c.alerts[STATS_PROBE] = 2;
	q[0].q.enobufs = 9;
	q[0].k.valid = 1;
	q[0].k.queue_dropped = 13;
	q[0].k.user_dropped = 17;
	q[1].num = 4;
	q[1].c.refreshes = 19;
}

static void test_values(void **state)
{
	struct stats_global g;
	struct stats_queue q[2];
	char path[128], *text;

	fill(&g, q);
	snprintf(path, sizeof(path), "%s/pc.prom", dir);
	assert_int_equal(stats_write_file(path, &g, q, 2), 0);
	text = slurp(path);
	assert_non_null(strstr(text, "\nportclass_nfq_packets_total{queue=\"3\",sclass=\"user\",dclass=\"dynamic\",verdict=\"reject\"} 7\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_packets_total{queue=\"3\",sclass=\"dynamic\",dclass=\"user\",verdict=\"pass\"} 11\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_packets_total{queue=\"4\",sclass=\"user\",dclass=\"dynamic\",verdict=\"reject\"} 0\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_alerts_total{queue=\"3\",listener=\"rogue\"} 5\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_alerts_total{queue=\"3\",listener=\"probe\"} 2\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_enobufs_total{queue=\"3\"} 9\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_listener_refreshes_total{queue=\"4\"} 19\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_queue_dropped_total{queue=\"3\"} 13\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_queue_user_dropped_total{queue=\"3\"} 17\n"));
	/* No kernel line for queue 4: it had none. */
	assert_null(strstr(text, "portclass_nfq_queue_dropped_total{queue=\"4\"}"));
	assert_non_null(strstr(text, "\nportclass_nfq_rule_reloads_total{result=\"ok\"} 3\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_rule_reloads_total{result=\"error\"} 1\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_log_suppressed_total 42\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_monitor 1\n"));
	assert_non_null(strstr(text, "\nportclass_nfq_start_time_seconds 1795785312\n"));
	free(text);
}

/* Every line is a comment or "name{labels} integer"; every metric has one
 * HELP and one TYPE, before its samples. */
static void test_syntax(void **state)
{
	struct stats_global g;
	struct stats_queue q[2];
	char path[128], *text, *line, *save = NULL;
	char typed[64][80];
	size_t ntyped = 0, i;
	regex_t sample, help, type;

	fill(&g, q);
	snprintf(path, sizeof(path), "%s/pc.prom", dir);
	assert_int_equal(stats_write_file(path, &g, q, 2), 0);
	text = slurp(path);
	assert_int_equal(regcomp(&sample, "^([a-z_]+)(\\{[a-z_]+=\"[a-z0-9]+\"(,[a-z_]+=\"[a-z0-9]+\")*\\})? [0-9]+$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&help, "^# HELP [a-z_]+ [^ ].*$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, "^# TYPE [a-z_]+ (counter|gauge)$", REG_EXTENDED), 0);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(regexec(&help, line, 0, NULL, 0), 0);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			char name[80];

			assert_int_equal(regexec(&type, line, 0, NULL, 0), 0);
			assert_int_equal(sscanf(line + 7, "%79s", name), 1);
			for (i = 0; i < ntyped; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(ntyped < 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
		} else {
			char name[80];
			size_t n;

			if (regexec(&sample, line, 2, m, 0) != 0)
				fail_msg("bad sample line: %s", line);
			n = (size_t)(m[1].rm_eo - m[1].rm_so);
			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			for (i = 0; i < ntyped; i++)
				if (!strcmp(typed[i], name))
					break;
			if (i == ntyped)
				fail_msg("sample before its TYPE: %s", line);
		}
	}
	assert_true(ntyped >= 15);
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	free(text);
}

/* The file is replaced by rename: a new inode, never truncated in place,
 * and no temporary file left. */
static void test_atomic(void **state)
{
	struct stats_global g;
	struct stats_queue q[2];
	char path[128], tmp[160];
	struct stat a, b;

	fill(&g, q);
	snprintf(path, sizeof(path), "%s/pc.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(stats_write_file(path, &g, q, 2), 0);
	assert_int_equal(stat(path, &a), 0);
	q[0].c.alerts[STATS_ROGUE] = 6;
	assert_int_equal(stats_write_file(path, &g, q, 2), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_write_fails_cleanly(void **state)
{
	struct stats_global g;
	struct stats_queue q[2];
	char path[128];

	fill(&g, q);
	snprintf(path, sizeof(path), "%s/missing/pc.prom", dir);
	errno = 0;
	assert_int_equal(stats_write_file(path, &g, q, 2), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_kernel_file(void **state)
{
	char proc[128], path[192];
	struct stats_kernel k;
	FILE *f;
	int fd;

	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(path, sizeof(path), "%s/net", proc);
	assert_int_equal(mkdir(proc, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/netfilter", proc);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/netfilter/nfnetlink_queue", proc);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("    0  23797     5 2   256     1     2       40  1\n"
	      "garbage line\n"
	      "   12   4242     0 2   256    30    40    50000  1\n"
	      "   13\n", f);
	fclose(f);
	fd = stats_kernel_open(proc);
	assert_true(fd >= 0);
	assert_int_equal(stats_read_kernel(fd, 12, &k), 0);
	assert_int_equal(k.valid, 1);
	assert_int_equal(k.queued, 0);
	assert_int_equal(k.queue_dropped, 30);
	assert_int_equal(k.user_dropped, 40);
	assert_int_equal(k.id_sequence, 50000);
	/* Read again through the same descriptor. */
	assert_int_equal(stats_read_kernel(fd, 0, &k), 0);
	assert_int_equal(k.queued, 5);
	assert_int_equal(k.queue_dropped, 1);
	assert_int_equal(stats_read_kernel(fd, 13, &k), -1);
	assert_int_equal(k.valid, 0);
	assert_int_equal(stats_read_kernel(fd, 7, &k), -1);
	close(fd);
	assert_int_equal(stats_read_kernel(-1, 0, &k), -1);
	assert_int_equal(stats_kernel_open("/nonexistent"), -1);
}

static void test_json_totals(void **state)
{
	struct stats_global g;
	struct stats_queue q[2];
	struct jsonw w;

	fill(&g, q);
	q[1].c.alerts[STATS_ROGUE] = 1;
	q[1].c.packets[CLASS_USER][CLASS_USER][VERDICT_PASS] = 100;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	stats_write_json(&w, &g, q, 2);
	jsonw_object_end(&w);
	assert_non_null(strstr(jsonw_str(&w), "\"pass\":111"));
	assert_non_null(strstr(jsonw_str(&w), "\"reject\":7"));
	assert_non_null(strstr(jsonw_str(&w), "\"alerts_rogue\":6"));
	assert_non_null(strstr(jsonw_str(&w), "\"enobufs\":9"));
	assert_non_null(strstr(jsonw_str(&w), "\"log_suppressed\":42"));
	jsonw_free(&w);
}

static void test_copy(void **state)
{
	struct stats_counters a, b;

	memset(&a, 0, sizeof(a));
	STATS_INC(a.packets[CLASS_SYSTEM][CLASS_NONE][VERDICT_DROP]);
	STATS_INC(a.packets[CLASS_SYSTEM][CLASS_NONE][VERDICT_DROP]);
	STATS_INC(a.mark_loops);
	memset(&b, 0xff, sizeof(b));
	stats_copy(&b, &a);
	assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_file, setup, teardown),
		cmocka_unit_test(test_json_totals),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
