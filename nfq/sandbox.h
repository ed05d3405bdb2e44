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

#endif
