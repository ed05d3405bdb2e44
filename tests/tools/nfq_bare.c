/*
 * nfq_bare: the NFQUEUE bench's baseline - a consumer that accepts every
 * packet and does nothing else, with the settings portclass-nfq uses
 * (nfq/queue.c, nfq/worker.c): libmnl + libnetfilter_queue's nlmsg API,
 * copy range 256, queue length 4096, an 8 MiB receive buffer forced past
 * rmem_max, the fail-open, GSO and conntrack flags, poll() then up to 64
 * non-blocking recv()s, each packet's attributes parsed, and one
 * NFQNL_MSG_VERDICT_BATCH accept per round.  Whatever the daemon costs on
 * top of this is the engine and its bookkeeping.
 *
 * usage: nfq_bare [-q NUM] [--copy-range N] [--queue-maxlen N]
 *                 [--rcvbuf BYTES] [--no-conntrack] [--ready FILE]
 *                 [-c COUNT]
 * Runs until SIGINT/SIGTERM (or COUNT packets), then prints one line:
 *   packets N enobufs N batches N active_s S pps P
 * (active: from the first packet to the last).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bare {
	struct mnl_socket *nl;
	uint16_t num;
	uint32_t seq;
	char *buf;
	size_t buflen;
	uint64_t packets, enobufs, batches, first_ns, last_ns;
};

/* Sends a config message with an ACK and waits for it (packets that
 * arrive meanwhile are accepted one by one). */
static int config(struct bare *b, struct nlmsghdr *nlh)
{
	uint32_t seq = ++b->seq;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(b->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (int tries = 0; tries < 1000; tries++) {
		ssize_t n = mnl_socket_recvfrom(b->nl, b->buf, b->buflen);
		int left;
		struct nlmsghdr *m;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -1;
		}
		left = (int)n;
		for (m = (struct nlmsghdr *)b->buf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == seq) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
				if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
					errno = EBADMSG;
					return -1;
				}
				if (e->error == 0)
					return 0;
				errno = -e->error;
				return -1;
			}
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static int bare_open(struct bare *b, uint32_t copy_range, uint32_t maxlen,
		     int rcvbuf, int conntrack)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;

	b->buflen = (size_t)copy_range + 8192;
	if (b->buflen < 16384)
		b->buflen = 16384;
	b->buf = malloc(b->buflen);
	if (!b->buf)
		return -1;
	b->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!b->nl)
		return -1;
	if (mnl_socket_bind(b->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	b->seq = (uint32_t)time(NULL);
	if (rcvbuf > 0 &&
	    setsockopt(mnl_socket_get_fd(b->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(mnl_socket_get_fd(b->nl), SOL_SOCKET,
				 SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, b->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (config(b, nlh) < 0) {
		fprintf(stderr, "nfq_bare: bind queue %u: %s\n", b->num,
			strerror(errno));
		return -1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, b->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_range);
	if (config(b, nlh) < 0)
		return -1;
	if (maxlen) {
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, b->num);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
		if (config(b, nlh) < 0)
			return -1;
	}
	if (conntrack)
		flags |= NFQA_CFG_F_CONNTRACK;
	for (;;) {
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, b->num);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK,
				 htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
				       NFQA_CFG_F_CONNTRACK));
		if (config(b, nlh) == 0)
			break;
		if (errno == EOPNOTSUPP && (flags & NFQA_CFG_F_CONNTRACK)) {
			flags &= ~(uint32_t)NFQA_CFG_F_CONNTRACK;
			continue;
		}
		return -1;
	}
	return 0;
}

/* One round: up to BATCH recv()s, then one batch accept. */
static int bare_round(struct bare *b)
{
	uint32_t max_id = 0;
	int have = 0;

	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(mnl_socket_get_fd(b->nl), b->buf, b->buflen,
				 MSG_DONTWAIT);
		struct nlmsghdr *m;
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				b->enobufs++;
				continue;
			}
			return -1;
		}
		left = (int)n;
		for (m = (struct nlmsghdr *)b->buf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			struct nlattr *attr[NFQA_MAX + 1];
			struct nfqnl_msg_packet_hdr *ph;

			if (m->nlmsg_type !=
			    ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
				continue;
			memset(attr, 0, sizeof(attr));
			if (nfq_nlmsg_parse(m, attr) < 0 ||
			    !attr[NFQA_PACKET_HDR] ||
			    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) <
				    sizeof(*ph))
				continue;
			ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
			max_id = ntohl(ph->packet_id);
			have = 1;
			b->packets++;
		}
	}
	if (have) {
		char vbuf[128];
		struct nlmsghdr *nlh =
			nfq_nlmsg_put(vbuf, NFQNL_MSG_VERDICT_BATCH, b->num);
		uint64_t t = now_ns();

		nfq_nlmsg_verdict_put(nlh, (int)max_id, NF_ACCEPT);
		while (mnl_socket_sendto(b->nl, nlh, nlh->nlmsg_len) < 0) {
			if (errno != EINTR)
				return -1;
		}
		b->batches++;
		if (!b->first_ns)
			b->first_ns = t;
		b->last_ns = t;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nfq_bare [-q NUM] [--copy-range N] "
		   "[--queue-maxlen N] [--rcvbuf BYTES] [--no-conntrack] "
		   "[--ready FILE] [-c COUNT]\n");
}

static int num_arg(const char *s, unsigned long long hi,
		   unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || *end || !*s || *s == '-' || *out > hi) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "copy-range", required_argument, NULL, 'C' },
		{ "queue-maxlen", required_argument, NULL, 'M' },
		{ "rcvbuf", required_argument, NULL, 'B' },
		{ "no-conntrack", no_argument, NULL, 'N' },
		{ "ready", required_argument, NULL, 'R' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bare b;
	unsigned long long v, count = 0;
	uint32_t copy_range = 256, maxlen = 4096;
	int rcvbuf = 8 * 1024 * 1024, conntrack = 1, opt;
	const char *ready = NULL;
	struct sigaction sa;
	char buf[256];

	memset(&b, 0, sizeof(b));
	while ((opt = getopt_long(argc, argv, "q:c:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'q':
			if (num_arg(optarg, 65535, &v) < 0)
				goto bad;
			b.num = (uint16_t)v;
			break;
		case 'C':
			if (num_arg(optarg, 65535, &v) < 0)
				goto bad;
			copy_range = (uint32_t)v;
			break;
		case 'M':
			if (num_arg(optarg, 1u << 24, &v) < 0)
				goto bad;
			maxlen = (uint32_t)v;
			break;
		case 'B':
			if (num_arg(optarg, 1u << 30, &v) < 0)
				goto bad;
			rcvbuf = (int)v;
			break;
		case 'N':
			conntrack = 0;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'c':
			if (num_arg(optarg, UINT64_MAX, &count) < 0)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (bare_open(&b, copy_range, maxlen, rcvbuf, conntrack) < 0) {
		fprintf(stderr, "nfq_bare: queue %u: %s\n", b.num,
			strerror(errno));
		return 1;
	}
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (fd < 0) {
			fprintf(stderr, "nfq_bare: %s: %s\n", ready,
				strerror(errno));
			return 1;
		}
		close(fd);
	}
	while (!stop && (!count || b.packets < count)) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(b.nl),
				      .events = POLLIN };
		int n = poll(&pfd, 1, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("nfq_bare: poll");
			return 1;
		}
		if (n == 0)
			continue;
		if (bare_round(&b) < 0) {
			perror("nfq_bare: receive");
			return 1;
		}
	}
	{
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG,
						     b.num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
		(void)mnl_socket_sendto(b.nl, nlh, nlh->nlmsg_len);
	}
	double active = b.last_ns > b.first_ns
				? (double)(b.last_ns - b.first_ns) / 1e9
				: 0.0;
	printf("packets %" PRIu64 " enobufs %" PRIu64 " batches %" PRIu64
	       " active_s %.3f pps %.0f\n",
	       b.packets, b.enobufs, b.batches, active,
	       active > 0 ? (double)b.packets / active : 0.0);
	fflush(stdout);
	mnl_socket_close(b.nl);
	free(b.buf);
	return 0;
bad:
	usage(stderr);
	return 2;
}
