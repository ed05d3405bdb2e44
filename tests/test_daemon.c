/*
 * test_daemon: the parts of the daemon's lifetime (nfq/daemon.c) that run
 * without binding a queue: `portclass-nfq -n` (daemon_check: "configuration
 * OK" and 0, or the error count and 2), and daemon_new's cleanup ladder
 * when the policy is broken or missing (NULL, nothing left behind: the
 * sanitizer build checks for leaks).  Binding, privileges and the control
 * loop are the live tests' (tests/t_nfq_*.sh).
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

#include "daemon.h"

static char dir[64], good[96], bad[96], out[96];

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Runs daemon_check with stdout in a file; returns its status, the text in
 * buf. */
static int check(const char *rules, char *buf, size_t len)
{
	struct daemon_options o;
	FILE *f;
	int rc, saved;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.rules = rules;
	o.check = 1;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(freopen(out, "w", stdout) != NULL);
	rc = daemon_check(&o);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	f = fopen(out, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return rc;
}

static void test_check(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(check(good, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "configuration OK\n");
	assert_int_equal(check(bad, buf, sizeof(buf)), 2);
	assert_null(strstr(buf, "configuration OK"));
	assert_int_equal(check("/nonexistent/portclass.rules", buf,
			       sizeof(buf)), 2);
}

static void test_new_fails_cleanly(void **state)
{
	struct daemon_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.qfirst = o.qlast = 0;
	o.have_queue = 1;
	o.rules = bad;
	assert_null(daemon_new(&o));
	o.rules = "/nonexistent/portclass.rules";
	assert_null(daemon_new(&o));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_daemon.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(good, sizeof(good), "%s/good.rules", dir);
	snprintf(bad, sizeof(bad), "%s/bad.rules", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_file(good, "dynamic-range iana\nunexpected drop log\n"
			 "default pass\n");
	write_file(bad, "dynamic-range iana\nbogus\nexpect tcp port 70000\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(good);
	unlink(bad);
	unlink(out);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_new_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
