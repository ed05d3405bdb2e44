/*
 * privdrop: giving up root once the queues are bound.  Raw prctl/capset
 * system calls, no libcap.  Must run before any thread is created: capset
 * changes only the calling thread, and new threads inherit its sets.
 */
#ifndef PORTCLASS_PRIVDROP_H
#define PORTCLASS_PRIVDROP_H

#include <stddef.h>

/* Capabilities the daemon may keep (a bit mask of these). */
#define PRIVDROP_NET_ADMIN	0x1 /* every nfnetlink message, verdicts too */
#define PRIVDROP_SYS_PTRACE	0x2 /* readlink /proc/PID/fd, exe of others */
#define PRIVDROP_DAC_READ_SEARCH 0x4 /* list /proc/PID/fd of others */

/*
 * Switches to user (when not NULL: supplementary groups reduced to its
 * primary group, then gid and uid, real, effective and saved), keeps only
 * the capabilities in keep (permitted and effective; nothing inheritable,
 * nothing ambient), removes every other capability from the bounding set
 * and sets no_new_privs.  With user NULL the uid stays but the capability
 * sets are reduced the same way.  Returns 0, or -1 with a message in err
 * (a capset a service manager's system call filter refuses is an error:
 * the process never runs with more than keep).
 */
int privdrop(const char *user, unsigned keep, char *err, size_t errlen);

/* Which of the PRIVDROP_* capabilities are effective now. */
unsigned privdrop_effective(void);

/* "cap_net_admin,cap_sys_ptrace" for keep; buf >= 80 bytes. */
const char *privdrop_describe(unsigned keep, char *buf, size_t buflen);

#endif
