/*
 * sockdiag: see sockdiag.h.
 *
 * One SOCK_DIAG_BY_FAMILY dump per (family, protocol): TCP (and SCTP and
 * DCCP where the kernel has them) asks the kernel for LISTEN sockets only; UDP and UDP-Lite for sockets in TCP_CLOSE, which
 * is what the kernel calls a bound, unconnected datagram socket.  A
 * connected UDP socket only ever receives from its peer (the kernel drops
 * or port-unreachables everything else sent to that port), so it is no
 * listener: it is the client end of a conversation.  That is the same
 * split `ss -lu` makes.
 */
#include "sockdiag.h"

#include <errno.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "packet.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

/* Kernel socket states (include/net/tcp_states.h; not in uapi). */
#define SK_ESTABLISHED 1
#define SK_CLOSE 7
#define SK_LISTEN 10

/*
 * Large enough for any dump part: the kernel sizes a dump skb by our
 * receive length, capped at 32 KiB, and a part that does not fit would be
 * truncated (libmnl reports ENOSPC).
 */
#define SOCKDIAG_BUFSIZE 65536

/* A dump that keeps being interrupted (sockets churning) is retried a few
 * times, then reported. */
#define SOCKDIAG_TRIES 5

/* How long one recv may block: the kernel answers at once, so a silent
 * socket means something is badly wrong and we must not hang. */
#define SOCKDIAG_TIMEOUT_S 5

struct dump {
	uint8_t proto;	/* enum packet_proto */
	uint8_t ipproto;
	uint8_t family;	/* 4 or 6 */
	uint32_t states;
	int optional;	/* a kernel without support is not an error */
};

static const struct dump dumps[] = {
	{ PROTO_TCP, IPPROTO_TCP, 4, 1u << SK_LISTEN, 0 },
	{ PROTO_TCP, IPPROTO_TCP, 6, 1u << SK_LISTEN, 0 },
	{ PROTO_UDP, IPPROTO_UDP, 4, 1u << SK_CLOSE, 0 },
	{ PROTO_UDP, IPPROTO_UDP, 6, 1u << SK_CLOSE, 0 },
	/* UDP-Lite is deprecated and may be compiled out; SCTP and DCCP are
	 * modules the kernel does not load just because we ask (it answers
	 * ENOENT while the protocol is not registered), and DCCP is gone
	 * from recent kernels. */
	{ PROTO_UDPLITE, IPPROTO_UDPLITE, 4, 1u << SK_CLOSE, 1 },
	{ PROTO_UDPLITE, IPPROTO_UDPLITE, 6, 1u << SK_CLOSE, 1 },
	{ PROTO_SCTP, IPPROTO_SCTP, 4, 1u << SK_LISTEN, 1 },
	{ PROTO_SCTP, IPPROTO_SCTP, 6, 1u << SK_LISTEN, 1 },
	{ PROTO_DCCP, IPPROTO_DCCP, 4, 1u << SK_LISTEN, 1 },
	{ PROTO_DCCP, IPPROTO_DCCP, 6, 1u << SK_LISTEN, 1 },
};

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/*
 * Checks that the attributes after the inet_diag_msg tile the rest of the
 * message exactly, each with nla_len >= its header and inside the message
 * (mnl_attr_ok's test, but bounded by nlmsg_len itself rather than its
 * aligned end, which may lie past the bytes received).  None is read, but a
 * chain that does not add up means the message is not what we think it is.
 */
static int attrs_ok(const struct nlmsghdr *nlh)
{
	const uint8_t *base = (const uint8_t *)nlh;
	size_t end = nlh->nlmsg_len;
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_msg));

	while (off < end) {
		struct nlattr a;
		if (end - off < sizeof(a))
			return 0;
		memcpy(&a, base + off, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > end - off)
			return 0;
		off += MNL_ALIGN(a.nla_len); /* may step past end: padding */
	}
	return 1;
}

/* One SOCK_DIAG_BY_FAMILY message.  0, or -1 with errno. */
static int add_msg(struct listener_table *t, uint8_t proto, uint8_t family,
		   const struct nlmsghdr *nlh)
{
	struct inet_diag_msg m;
	struct listener l;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(m)) {
		errno = EBADMSG;
		return -1;
	}
	/* Copied out: the payload is only 4-byte aligned and we keep no
	 * pointer into the receive buffer. */
	memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof(m));
	if (!attrs_ok(nlh)) {
		errno = EBADMSG;
		return -1;
	}
	if (m.idiag_family != (family == 4 ? AF_INET : AF_INET6))
		return 0; /* not what we asked for: ignore, do not guess */

	memset(&l, 0, sizeof(l));
	l.proto = proto;
	l.family = family;
	l.port = ntohs(m.id.idiag_sport);
	l.inode = m.idiag_inode;
	l.uid = m.idiag_uid;
	l.owner.pid = -1;
	if (l.port == 0)
		return 0; /* not bound to a port: receives nothing */

	if (proto == PROTO_TCP || proto == PROTO_SCTP || proto == PROTO_DCCP) {
		/* connection-oriented: only listen() makes a listener */
		if (m.idiag_state != SK_LISTEN)
			return 0;
	} else {
		/* Unconnected: no remote address or port. */
		if (m.idiag_state != SK_CLOSE || m.id.idiag_dport != 0 ||
		    !all_zero((const uint8_t *)m.id.idiag_dst,
			      family == 4 ? 4 : 16))
			return 0;
	}

	if (family == 4) {
		memcpy(l.addr, m.id.idiag_src, 4);
	} else {
		const uint8_t *a = (const uint8_t *)m.id.idiag_src;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
						    0, 0, 0xff, 0xff };
		/* A v6 socket bound to a v4-mapped address receives IPv4
		 * only: list it as the IPv4 listener it is. */
		if (!memcmp(a, mapped, sizeof(mapped))) {
			l.family = 4;
			memcpy(l.addr, a + 12, 4);
		} else {
			memcpy(l.addr, a, 16);
		}
	}
	return listener_table_add(t, &l);
}

/*
 * mnl_nlmsg_ok's test with the length compared unsigned: libmnl casts
 * nlmsg_len to int, so a length of 2^31 or more passes as negative and the
 * message would be read far past the buffer.
 */
static int msg_ok(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (uint32_t)left;
}

int sockdiag_parse(struct listener_table *t, uint8_t proto, uint8_t family,
		   const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	if (len > INT_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (len == 0) {
		errno = EBADMSG;
		return -1;
	}
	/* len >= header, nlmsg_len >= header and nlmsg_len <= what is left,
	 * before we look inside. */
	while (msg_ok(nlh, left)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) ||
		    !mnl_nlmsg_portid_ok(nlh, portid)) {
			/* A stale reply from an earlier request: not ours. */
			nlh = mnl_nlmsg_next(nlh, &left);
			continue;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return -1;
		}
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
				errno = EBADMSG;
				return -1;
			}
			if (e->error == 0)
				return 1; /* an ACK ends the exchange */
			/* error is a negative errno; guard against junk. */
			errno = (e->error < 0 && e->error > -4096) ? -e->error
								   : EPROTO;
			return -1;
		}
		case NLMSG_NOOP:
			break;
		case SOCK_DIAG_BY_FAMILY:
			if (add_msg(t, proto, family, nlh) < 0)
				return -1;
			break;
		default:
			break; /* unknown types are skipped, as libmnl does */
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	/* Bytes that do not form a whole message (left < 0 only when the
	 * last message's alignment padding was not sent: harmless). */
	if (left > 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* Runs one dump on nl.  0, or -1 with errno. */
static int run_dump(struct mnl_socket *nl, const struct dump *d,
		    struct listener_table *t, char *buf, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	uint32_t portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = d->family == 4 ? AF_INET : AF_INET6;
	req->sdiag_protocol = d->ipproto;
	req->idiag_states = d->states;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, SOCKDIAG_BUFSIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue; /* a signal, not the dump */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		int r = sockdiag_parse(t, d->proto, d->family, buf, (size_t)n,
				       seq, portid);
		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
	}
}

/* One full pass over every dump.  0, or -1 with errno and *what set. */
static int fill_once(struct listener_table *t, char *buf, const char **what)
{
	struct mnl_socket *nl;
	struct timeval tv = { .tv_sec = SOCKDIAG_TIMEOUT_S };
	uint32_t seq = (uint32_t)time(NULL);
	int saved;

	*what = "netlink socket";
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Best effort: without it we could only wait longer. */
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
			 sizeof(tv));

	listener_table_clear(t);
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		const struct dump *d = &dumps[i];
		if (run_dump(nl, d, t, buf, ++seq) < 0) {
			/* No handler for the protocol: the kernel answers
			 * with this error before sending any socket. */
			if (d->optional && (errno == ENOENT ||
					    errno == EOPNOTSUPP ||
					    errno == EPROTONOSUPPORT ||
					    errno == EINVAL))
				continue;
			*what = packet_proto_name((enum packet_proto)d->proto);
			goto fail;
		}
	}
	mnl_socket_close(nl);
	return 0;
fail:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return -1;
}

int sockdiag_fill(struct listener_table *t, char *err, size_t errlen)
{
	char *buf;
	const char *what = "sock_diag";
	int r = -1;

	if (err && errlen)
		err[0] = '\0';
	buf = malloc(SOCKDIAG_BUFSIZE);
	if (!buf) {
		if (err && errlen)
			snprintf(err, errlen, "sock_diag: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < SOCKDIAG_TRIES; i++) {
		r = fill_once(t, buf, &what);
		if (r == 0 || errno != EINTR)
			break;
	}
	if (r < 0) {
		int saved = errno;
		if (saved == EINTR && err && errlen)
			snprintf(err, errlen,
				 "sock_diag: %s: dump interrupted %d times "
				 "(sockets changing too fast)",
				 what, SOCKDIAG_TRIES);
		else if (err && errlen)
			snprintf(err, errlen, "sock_diag: %s: %s", what,
				 strerror(saved));
		listener_table_clear(t);
		free(buf);
		errno = saved;
		return -1;
	}
	free(buf);
	return (int)listener_table_count(t);
}
