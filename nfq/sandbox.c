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
	/* files: rules (SIGHUP), log file reopen, stats file (write, rename,
	 * unlink of a failed temp file), /proc owners, listener and kernel
	 * queue tables */
	"read", "write", "writev", "pread64", "lseek", "close", "fcntl",
	"openat", "newfstatat", "fstat", "getdents64", "readlinkat", "readlink",
	"rename", "unlink",
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

int sandbox_apply(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc, n = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		/* A call this architecture does not have is simply absent. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: allowing %s: %s",
				 allowed[i], strerror(-rc));
			goto fail;
		}
		n++;
	}
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
	n++;
	rc = seccomp_load(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return n;
fail:
	seccomp_release(ctx);
	return -1;
}
