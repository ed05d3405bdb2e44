/*
 * sockdiag: the host's listening sockets from NETLINK_SOCK_DIAG (TCP in
 * LISTEN, bound UDP and UDP-Lite sockets, IPv4 and IPv6), never by parsing
 * ss or netstat output.
 */
#ifndef PORTCLASS_SOCKDIAG_H
#define PORTCLASS_SOCKDIAG_H

#include <stddef.h>

#include "listener.h"

/*
 * Empties t and fills it with the listening sockets of the current network
 * namespace (inode and socket uid set, owner not yet looked up).  Returns
 * the number of sockets found, or -1 with a message in err.
 */
int sockdiag_fill(struct listener_table *t, char *err, size_t errlen);

#endif
