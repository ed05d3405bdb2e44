/*
 * sandbox: the seccomp filter portclass-nfq runs under once it is set up
 * (queues bound, privileges dropped, rules loaded).  An allow-list of the
 * system calls the daemon makes from then on; any other call kills the
 * whole process (SCMP_ACT_KILL_PROCESS), so a compromised parser cannot
 * exec, ptrace, mount or open network connections of its own.
 */
#ifndef PORTCLASS_SANDBOX_H
#define PORTCLASS_SANDBOX_H

#include <stddef.h>

/*
 * Installs the filter on the calling thread; threads created later inherit
 * it, so call it before starting any.  Needs no_new_privs set (privdrop
 * does) or CAP_SYS_ADMIN.  Returns the number of system calls allowed, or
 * -1 with a message in err.
 */
int sandbox_apply(char *err, size_t errlen);

/*
 * The owner resolver's own allow-list (resolver.h): the /proc walk and
 * sock_diag, no threads, no processes.  Same contract as sandbox_apply.
 */
int sandbox_apply_resolver(char *err, size_t errlen);

/*
 * A second filter for the calling thread only (seccomp filters stack and,
 * without TSYNC, bind one thread): every call that opens, creates, renames,
 * removes or lists a file kills the process.  The queue threads install it
 * first thing, so the code that reads packets cannot open a file even
 * though the main thread (reloads, log reopen, stats) can.  Returns the
 * number of calls denied, or -1 with a message in err.
 */
int sandbox_restrict_thread(char *err, size_t errlen);

#endif
