/*
 * test_sandbox: the seccomp filters (nfq/sandbox.c) as the kernel applies
 * them, each in a child process: a queue thread's filter kills the process
 * on a file open but leaves reads, writes and sockets alone; the packet
 * process's list kills on execve; the resolver's list kills on execve and
 * allows what the /proc walk needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

enum filter { F_THREAD, F_PROCESS, F_RESOLVER };
enum action { A_OPEN, A_IO, A_EXEC, A_PROC_WALK };

/* Runs action under filter in a child; returns its wait status. */
static int run(enum filter f, enum action a)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		int rc;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(90);
		rc = f == F_THREAD ? sandbox_restrict_thread(err, sizeof(err)) :
		     f == F_PROCESS ? sandbox_apply(err, sizeof(err)) :
		     sandbox_apply_resolver(err, sizeof(err));
		if (rc <= 0)
			_exit(91);
		switch (a) {
		case A_OPEN:
			(void)open("/proc/self/status", O_RDONLY);
			_exit(0);
		case A_IO: {
			/* what a queue thread does: sockets, writes, time */
			int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
			struct timespec ts;

			if (fd < 0 || write(2, "", 0) != 0 || close(fd) != 0 ||
			    clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
				_exit(92);
			_exit(0);
		}
		case A_EXEC:
			execl("/bin/true", "true", (char *)NULL);
			_exit(93);
		case A_PROC_WALK: {
			DIR *d = opendir("/proc/self/fd");
			char link[64];

			if (!d || !readdir(d) ||
			    readlink("/proc/self/exe", link, sizeof(link)) < 0)
				_exit(94);
			closedir(d);
			_exit(0);
		}
		}
		_exit(95);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_ok(int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child status 0x%x", (unsigned)status);
}

static void test_thread_filter(void **state)
{
	(void)state;
	assert_killed(run(F_THREAD, A_OPEN));
	assert_ok(run(F_THREAD, A_IO));
}

static void test_process_filter(void **state)
{
	(void)state;
	assert_killed(run(F_PROCESS, A_EXEC));
	assert_ok(run(F_PROCESS, A_IO));
}

static void test_resolver_filter(void **state)
{
	(void)state;
	assert_killed(run(F_RESOLVER, A_EXEC));
	assert_ok(run(F_RESOLVER, A_PROC_WALK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_filter),
		cmocka_unit_test(test_process_filter),
		cmocka_unit_test(test_resolver_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
