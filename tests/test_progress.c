/*
 * test_progress: the replay's progress line (pcap-replay/progress.c),
 * with stderr sent to a file: nothing when disabled, nothing before a
 * quarter second, then one line with the position in the file and its
 * percentage, redrawn in place; cleared at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "progress.h"

static char errpath[64];

static char *slurp(void)
{
	FILE *f = fopen(errpath, "r");
	char *s = calloc(1, 4096);
	size_t n;

	assert_non_null(f);
	assert_non_null(s);
	n = fread(s, 1, 4095, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void test_progress_line(void **state)
{
	struct progress pg;
	struct timespec q = { 0, 300 * 1000000 };
	char cap[64];
	FILE *f;
	char *out;
	int fd, saved = dup(2);

	(void)state;
	assert_true(saved >= 0);
	snprintf(errpath, sizeof(errpath), "/tmp/test_progress.XXXXXX");
	fd = mkstemp(errpath);
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(freopen(errpath, "w", stderr));
	snprintf(cap, sizeof(cap), "/tmp/test_progress_cap.XXXXXX");
	fd = mkstemp(cap);
	assert_true(fd >= 0);
	f = fdopen(fd, "w+");
	assert_non_null(f);
	{
		char block[1000];

		memset(block, 'x', sizeof(block));
		for (int i = 0; i < 2000; i++)
			assert_int_equal(fwrite(block, 1, sizeof(block), f), sizeof(block));
	}
	fflush(f);
	assert_int_equal(fseek(f, 1000000, SEEK_SET), 0);

	/* disabled: never a byte */
	progress_begin(&pg, 0, "cap.pcap", f);
	nanosleep(&q, NULL);
	progress_tick(&pg, 100);
	progress_end(&pg);
	out = slurp();
	assert_string_equal(out, "");
	free(out);

	/* enabled: not before a quarter second, then the line */
	progress_begin(&pg, 1, "cap.pcap", f);
	progress_tick(&pg, 10);
	out = slurp();
	assert_string_equal(out, "");
	free(out);
	nanosleep(&q, NULL);
	progress_tick(&pg, 4096);
	out = slurp();
	assert_non_null(strstr(out, "\rcap.pcap: 1.0/2.0 MB (50%), "));
	assert_non_null(strstr(out, " packets/s\033[K"));
	free(out);
	progress_end(&pg);
	out = slurp();
	assert_non_null(strstr(out, "\r\033[K"));
	free(out);
	fclose(f);
	unlink(cap);
	unlink(errpath);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
