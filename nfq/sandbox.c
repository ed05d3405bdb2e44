#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

/*
 * The allow-list, grouped by who needs it.  Found with strace -f on the
 * namespace tests (every daemon code path after set-up: queues, sock_diag
 * refreshes, /proc owner lookups, stats file, log file, syslog, reloads,
 * signals), plus what glibc and the sanitizer runtime do underneath.
 * Adding a call here is a security decision: say why next to it.
 */
static const char *const allowed[] = {
	/* memory (malloc, thread stacks, the ruleset tables) */
	"brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
	/* threads: creation is checked separately (clone with CLONE_THREAD) */
	"set_robust_list", "rseq", "futex", "exit", "exit_group",
	"sched_yield", "gettid", "getpid",
	/* signals: the signalfd is read(); glibc's setxid/cancel handlers;
	 * abort() and the sanitizer runtime raise with tgkill */
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack",
	"tgkill",
	/* time (normally the vDSO) and the worker's back-off sleep */
	"clock_gettime", "gettimeofday", "clock_nanosleep", "nanosleep",
	/* a poll or sleep interrupted by SIGSTOP/SIGCONT resumes through it */
	"restart_syscall",
	/* files, in the main thread only (the queue threads add a filter
	 * of their own that forbids opening anything): rules (SIGHUP), log
	 * file reopen, stats file (write, rename, unlink of a failed temp
	 * file), the kernel queue table; /proc owners are the resolver's */
	"read", "write", "writev", "pread64", "lseek", "close", "fcntl",
	"openat", "newfstatat", "fstat", "rename", "unlink",
	/* reaping the owner resolver at exit */
	"wait4",
	/* each queue thread adds a narrower filter of its own (a filter can
	 * only ever take permissions away) */
	"seccomp",
	/* waiting */
	"poll", "ppoll",
	/* netlink (verdicts, sock_diag) and the syslog socket */
	"socket", "bind", "connect", "sendto", "sendmsg", "recvfrom",
	"recvmsg", "getsockname", "setsockopt", "getsockopt",
	/* identity in log lines and privdrop_effective() */
	"getuid", "geteuid", "getgid", "getegid", "capget",
	/* glibc's malloc and the sanitizer runtime at start of a thread or
	 * report: CPU count, stack limits */
	"getrandom", "sched_getaffinity", "prlimit64", "getrlimit",
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer builds only (tests): the runtime queries and sets
	 * process attributes (prctl) when threads start and when it reports */
	"prctl",
	/* LeakSanitizer's check at exit stops the threads from a tracer
	 * task: clone without CLONE_THREAD (allowed below), ptrace, wait4 */
	"ptrace", "wait4", "getppid", "kill",
	/* the runtime's own raw calls (/proc/self/maps, stack bounds) */
	"open", "stat", "lstat", "access", "mincore", "sched_getparam",
	"getdents", "pipe", "pipe2", "dup", "dup2", "set_tid_address",
	"arch_prctl", "waitid", "rt_sigtimedwait", "getpgid", "setsid",
#endif
};

/*
 * The owner resolver's list: no threads, no verdicts, no files written;
 * what it needs is the sock_diag dump and the walk over /proc (open,
 * list, readlink, stat) and user names (NSS may read files or ask nscd or
 * systemd-userdb over a unix socket).
 */
static const char *const resolver_allowed[] = {
	"brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
	"exit", "exit_group", "futex", "getpid", "gettid", "getppid",
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack",
	"tgkill", "clock_gettime", "gettimeofday", "clock_nanosleep",
	"nanosleep", "restart_syscall",
	"read", "write", "writev", "pread64", "lseek", "close", "fcntl",
	"openat", "newfstatat", "fstat", "getdents64", "readlinkat",
	"readlink",
	"poll", "ppoll",
	"socket", "bind", "connect", "sendto", "sendmsg", "recvfrom",
	"recvmsg", "getsockname", "setsockopt", "getsockopt",
	"getuid", "geteuid", "getgid", "getegid", "getrandom",
#ifdef __SANITIZE_ADDRESS__
	"prctl", "ptrace", "wait4", "kill", "open", "stat", "lstat",
	"access", "mincore", "sched_getparam", "getdents", "pipe", "pipe2",
	"dup", "dup2", "set_tid_address", "arch_prctl", "waitid",
	"rt_sigtimedwait", "getpgid", "setsid", "sched_getaffinity",
	"prlimit64", "getrlimit", "clone",
#endif
};

static int add_list(scmp_filter_ctx ctx, const char *const *list, size_t n,
		    char *err, size_t errlen)
{
	size_t i;
	int rc, count = 0;

	for (i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(list[i]);

		/* A call this architecture does not have is simply absent. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: allowing %s: %s",
				 list[i], strerror(-rc));
			return -1;
		}
		count++;
	}
	return count;
}

static int load(scmp_filter_ctx ctx, int n, char *err, size_t errlen)
{
	int rc = seccomp_load(ctx);

	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
		return -1;
	}
	return n;
}

int sandbox_apply(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc, n;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	n = add_list(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]),
		     err, errlen);
	if (n < 0)
		goto fail;
	/* Threads, never processes: clone only with CLONE_THREAD.  clone3
	 * passes its flags in memory a filter cannot read, so it answers
	 * ENOSYS and glibc falls back to clone. */
#ifdef __SANITIZE_ADDRESS__
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
#else
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
#endif
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: clone: %s", strerror(-rc));
		goto fail;
	}
	return load(ctx, n + 1, err, errlen);
fail:
	seccomp_release(ctx);
	return -1;
}

int sandbox_apply_resolver(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int n;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	n = add_list(ctx, resolver_allowed,
		     sizeof(resolver_allowed) / sizeof(resolver_allowed[0]),
		     err, errlen);
	if (n < 0) {
		seccomp_release(ctx);
		return -1;
	}
	return load(ctx, n, err, errlen);
}

/*
 * What a queue thread may not do on top of the process's list: open,
 * create, rename or remove a file, list a directory, read a link.  Those
 * are the main thread's (reload, log reopen, stats) and the resolver's.
 */
static const char *const thread_denied[] = {
	"open", "openat", "openat2", "creat", "open_by_handle_at",
	"name_to_handle_at", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink",
	"symlinkat", "getdents", "getdents64", "readlink", "readlinkat",
	"truncate", "chmod", "fchmodat", "chown", "fchownat", "execve",
	"execveat",
};

int sandbox_restrict_thread(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	size_t i;
	int n = 0;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* no_new_privs is set already (privdrop); asking again would be a
	 * prctl, which the process's filter does not allow. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		snprintf(err, errlen, "seccomp: no_new_privs attribute");
		seccomp_release(ctx);
		return -1;
	}
	for (i = 0; i < sizeof(thread_denied) / sizeof(thread_denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(thread_denied[i]);
		int rc;

		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: denying %s: %s",
				 thread_denied[i], strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
		n++;
	}
	return load(ctx, n, err, errlen);
}
