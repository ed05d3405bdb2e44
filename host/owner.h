/*
 * owner: who owns a socket - pid, program (comm and exe), user and systemd
 * unit - found by scanning /proc/PID/fd for the socket's inode.  Looked up
 * only when needed (an alert, or an `expect ... program`) and cached.
 */
#ifndef PORTCLASS_OWNER_H
#define PORTCLASS_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "listener.h"

/*
 * A listener_resolve_fn: fills l->owner for l->inode.  ctx is the proc
 * root as a const char * ("/proc" when NULL).  Returns 0 when found, -1
 * when no process holds the socket (or /proc cannot be read).  Where a
 * socket was last found (pid and fd) is remembered across calls and
 * threads and tried first, so looking the same socket up again after a
 * listener-table refresh costs one readlink rather than a walk over every
 * process's fds; a remembered place is always checked, never trusted.
 */
int owner_resolve(void *ctx, struct listener *l);

/*
 * The same for every entry of t not looked up yet (owner_state 0, inode
 * set), in one pass over <procroot>/ * /fd instead of one per socket:
 * what `portclass listeners` uses.  Sets owner_state to 1 or -1 on each.
 * Returns how many were found, or -1 with errno when procroot cannot be
 * read (or ENOMEM).
 */
int owner_resolve_table(const char *procroot, struct listener_table *t);

/*
 * Fills o (pid, program, exe, uid and user, unit) for one process;
 * fallback_uid is used when <procroot>/PID/status cannot be read.  Fields
 * that cannot be read stay empty.  Returns 0, or -1 when the process does
 * not exist (any more).
 */
int owner_fill_pid(const char *procroot, int32_t pid, uint32_t fallback_uid,
		   struct listener_owner *o);

/*
 * The systemd unit in the text of a /proc/PID/cgroup file (len bytes, not
 * necessarily NUL-terminated): the path of the "name=systemd" hierarchy
 * (cgroup v1) or else of the unified one ("0::"), and in it the last
 * component that names a unit holding processes (.service, .scope,
 * .socket, .mount, .swap; slices hold none).  "0::/system.slice/
 * ssh.service" gives "ssh.service"; a user's app in "user@1000.service/
 * app.slice/app-x.scope" gives "app-x.scope"; the user manager itself,
 * "user@1000.service/init.scope", gives "user@1000.service".  Returns 0
 * with the unit in out, or -1 (out empty) when there is none or it does not
 * fit.
 */
int owner_unit_from_cgroup(const char *text, size_t len, char *out,
			   size_t outlen);

#endif
