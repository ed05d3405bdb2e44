/*
 * test_privdrop: giving up privileges (nfq/privdrop.c).  The names of the
 * kept capabilities; and, run as root (the test suite is), in a child:
 * each split the daemon makes leaves exactly the capabilities asked for in
 * the permitted, effective and bounding sets, nothing inheritable or
 * ambient, no_new_privs set, and --user's uid with no way back to root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"

static void test_describe(void **state)
{
	char buf[96];

	(void)state;
	assert_string_equal(privdrop_describe(0, buf, sizeof(buf)), "none");
	assert_string_equal(privdrop_describe(PRIVDROP_NET_ADMIN, buf, sizeof(buf)),
			    "cap_net_admin");
	assert_string_equal(privdrop_describe(PRIVDROP_SYS_PTRACE |
					      PRIVDROP_DAC_READ_SEARCH, buf,
					      sizeof(buf)),
			    "cap_sys_ptrace,cap_dac_read_search");
}

/* The hex value of a /proc/self/status capability line. */
static unsigned long long cap_line(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long v = ~0ull;
	size_t n = strlen(name);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

/* In a child: privdrop(user, keep), then checks; exit 0 when all hold. */
static int drop_and_check(const char *user, unsigned keep, unsigned long long mask)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];

		if (privdrop(user, keep, err, sizeof(err)) != 0)
			_exit(10);
		if (cap_line("CapEff") != mask || cap_line("CapPrm") != mask ||
		    cap_line("CapBnd") != mask || cap_line("CapInh") != 0 ||
		    cap_line("CapAmb") != 0)
			_exit(11);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(12);
		if (privdrop_effective() != keep)
			_exit(13);
		if (user) {
			struct passwd *pw = getpwnam(user);

			if (!pw || getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
				_exit(14);
			if (setuid(0) == 0 || seteuid(0) == 0)
				_exit(15);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void test_splits(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	/* the packet process */
	assert_int_equal(drop_and_check(NULL, PRIVDROP_NET_ADMIN, 1ull << 12), 0);
	/* the owner resolver */
	assert_int_equal(drop_and_check(NULL, PRIVDROP_SYS_PTRACE |
					PRIVDROP_DAC_READ_SEARCH,
					(1ull << 19) | (1ull << 2)), 0);
	/* --no-owner-caps: the resolver keeps nothing */
	assert_int_equal(drop_and_check(NULL, 0, 0), 0);
	if (getpwnam("nobody"))
		assert_int_equal(drop_and_check("nobody", PRIVDROP_NET_ADMIN,
						1ull << 12), 0);
}

static void test_unknown_user(void **state)
{
	char err[256];
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(privdrop("no-such-user-portclass", PRIVDROP_NET_ADMIN, err,
			       sizeof(err)) == -1 &&
		      strstr(err, "unknown user") ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_unknown_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
