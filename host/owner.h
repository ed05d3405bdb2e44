/*
 * owner: who owns a socket - pid, program (comm and exe), user and systemd
 * unit - found by scanning /proc/PID/fd for the socket's inode.  Looked up
 * only when needed (an alert, or an `expect ... program`) and cached.
 */
#ifndef PORTCLASS_OWNER_H
#define PORTCLASS_OWNER_H

#include "listener.h"

/*
 * A listener_resolve_fn: fills l->owner for l->inode.  ctx is the proc
 * root as a const char * ("/proc" when NULL).  Returns 0 when found, -1
 * when no process holds the socket (or /proc cannot be read).
 */
int owner_resolve(void *ctx, struct listener *l);

#endif
