/*
 * sockdiag: the host's listening sockets from NETLINK_SOCK_DIAG (TCP in
 * LISTEN, bound unconnected UDP and UDP-Lite sockets, and SCTP and DCCP in
 * LISTEN where the kernel has those protocols; IPv4 and IPv6), never by
 * parsing ss or netstat output.
 */
#ifndef PORTCLASS_SOCKDIAG_H
#define PORTCLASS_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

#include "listener.h"

/*
 * Empties t and fills it with the listening sockets of the current network
 * namespace (inode and socket uid set, owner not yet looked up).  Returns
 * the number of sockets found, or -1 with a message in err.
 */
int sockdiag_fill(struct listener_table *t, char *err, size_t errlen);

/*
 * Parses one buffer of a dump reply (the bytes one recv returned) to a
 * request about proto (enum packet_proto) and family (4 or 6), adding each
 * listening socket to t.  Exposed so tests can feed it crafted bytes: what
 * the kernel sends is input too, and every length is checked.  seq and
 * portid are those of the request (0: not checked).
 *
 * Returns 1 when the dump is complete (NLMSG_DONE), 0 when more parts
 * follow, -1 with errno set: the kernel's error from NLMSG_ERROR, EBADMSG
 * for a malformed message, EINTR when the kernel says the dump was
 * interrupted (it changed under us: start over), ENOMEM.
 */
int sockdiag_parse(struct listener_table *t, uint8_t proto, uint8_t family,
		   const void *buf, size_t len, uint32_t seq, uint32_t portid);

#endif
