/*
 * test_nfq_log: the daemon's event log (nfq/log.c): the token bucket, the
 * "suppressed" line and its exact count, unlimited mode, and reopening the
 * file after rotation.  The module is compiled into this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "packet.h"

static char dir[64], path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_nfq_log.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	log_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void open_log(unsigned per_s, unsigned bucket)
{
	struct log_config c = { .dest = LOG_DEST_FILE, .path = path,
				.rate = per_s, .burst = bucket };
	char err[256];

	assert_int_equal(log_init(&c, err, sizeof(err)), 0);
}

/* Lines of the file: count those containing needle. */
static int count_lines(const char *file, const char *needle)
{
	FILE *f = fopen(file, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		assert_non_null(strchr(line, '\n'));
		if (strstr(line, needle))
			n++;
	}
	fclose(f);
	return n;
}

static unsigned long suppressed_count(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512];
	unsigned long total = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *c = strstr(line, "\"count\":");

		if (strstr(line, "\"type\":\"suppressed\"") && c)
			total += strtoul(c + 8, NULL, 10);
	}
	fclose(f);
	return total;
}

static void event(int i)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"alert\",\"i\":%d}", i);

	(void)log_event(buf, (size_t)n);
}

static void test_bucket(void **state)
{
	uint64_t before = log_suppressed_total();
	int i, written = 0;

	open_log(2, 3);
	for (i = 0; i < 20; i++) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "{\"type\":\"alert\",\"i\":%d}", i);

		written += log_event(buf, (size_t)n);
	}
	/* The burst, plus at most what refilled during the loop. */
	assert_true(written >= 3 && written <= 4);
	assert_int_equal(count_lines(path, "\"type\":\"alert\""), written);
	assert_int_equal(count_lines(path, "suppressed"), 0);
	assert_int_equal(log_suppressed_total() - before, (uint64_t)(20 - written));

	/* After a refill the next line is preceded by the count. */
	usleep(600000);
	event(99);
	assert_int_equal(count_lines(path, "\"type\":\"suppressed\""), 1);
	assert_int_equal(suppressed_count(path), (unsigned long)(20 - written));
	assert_int_equal(count_lines(path, "\"i\":99}"), 1);
}

static int key_event(uint16_t port, int i)
{
	struct log_key k = { .proto = PROTO_TCP, .family = 4, .port = port,
			     .addr = { 192, 0, 2, 10 } };
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"alert\",\"k\":%u,\"i\":%d}",
			 port, i);

	return log_event_key(buf, (size_t)n, &k);
}

/* W6: a flood spends the shared bucket; every distinct listener still gets
 * its line, and each key's refusals are counted for that key. */
static void test_key_buckets(void **state)
{
	int i, flood = 0, a = 0;

	open_log(2, 3);
	for (i = 0; i < 2000; i++) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "{\"type\":\"alert\",\"i\":%d}", i);

		flood += log_event(buf, (size_t)n);
	}
	assert_true(flood <= 4);
	/* 100 distinct listeners: one line each, despite the empty bucket. */
	for (i = 0; i < 100; i++)
		assert_int_equal(key_event((uint16_t)(50000 + i), i), 1);
	/* One listener hammered: its own burst, then counted. */
	for (i = 0; i < 10; i++)
		a += key_event(60314, i);
	assert_true(a >= 3 && a <= 4);
	assert_int_equal(count_lines(path, "\"k\":60314,"), a);
	/* Another listener is not affected by the first one's refusals. */
	assert_int_equal(key_event(60315, 0), 1);
	/* More keys than the table: old ones are reused, never refused. */
	for (i = 0; i < LOG_KEYS + 10; i++)
		assert_int_equal(key_event((uint16_t)(1000 + i), i), 1);
	/* 60314's count, flushed by tick (or when its key was reused),
	 * names the listener. */
	usleep(600000);
	log_tick();
	assert_int_equal(count_lines(path, "\"proto\":\"tcp\",\"dst\":\"192.0.2.10\",\"dport\":60314}"), 1);
	/* The shared count is not mixed with the key's. */
	event(99);
	assert_int_equal(suppressed_count(path),
			 (unsigned long)(2000 - flood) + (unsigned long)(10 - a));
}

static void test_tick_flushes(void **state)
{
	int i, written = 0;

	open_log(1, 1);
	for (i = 0; i < 5; i++) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "{\"type\":\"alert\",\"i\":%d}", i);

		written += log_event(buf, (size_t)n);
	}
	assert_int_equal(written, 1);
	log_tick(); /* bucket still empty: nothing yet */
	assert_int_equal(count_lines(path, "suppressed"), 0);
	usleep(1100000);
	log_tick();
	assert_int_equal(suppressed_count(path), 4);
	log_tick(); /* once only */
	assert_int_equal(count_lines(path, "suppressed"), 1);
}

static void test_unlimited_and_records(void **state)
{
	int i;

	open_log(0, 0);
	for (i = 0; i < 200; i++)
		event(i);
	log_record("{\"type\":\"counters\"}", strlen("{\"type\":\"counters\"}"));
	assert_int_equal(count_lines(path, "\"type\":\"alert\""), 200);
	assert_int_equal(count_lines(path, "counters"), 1);
	assert_int_equal(count_lines(path, "suppressed"), 0);
}

static void test_records_bypass_limit(void **state)
{
	int i;

	open_log(1, 1);
	event(0);
	event(1);
	for (i = 0; i < 10; i++)
		log_record("{\"type\":\"reload\"}", strlen("{\"type\":\"reload\"}"));
	assert_int_equal(count_lines(path, "\"type\":\"reload\""), 10);
}

static void test_reopen(void **state)
{
	char rotated[160];

	open_log(0, 0);
	event(1);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	event(2); /* still into the rotated file */
	assert_int_equal(log_reopen(), 0);
	event(3);
	assert_int_equal(count_lines(rotated, "\"type\":\"alert\""), 2);
	assert_int_equal(count_lines(path, "\"i\":3}"), 1);
}

static void test_bad_file(void **state)
{
	struct log_config c = { .dest = LOG_DEST_FILE, .path = "/nonexistent/x.log" };
	char err[256];

	assert_int_equal(log_init(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.log"));
	c.path = "";
	assert_int_equal(log_init(&c, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlimited_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_bypass_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
