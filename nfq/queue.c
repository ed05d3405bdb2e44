/* queue: see queue.h. */
#include "queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
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

/* enum ip_conntrack_info from the kernel: only NEW matters to us. */
#define CT_INFO_NEW 2

/* Room for one verdict message (header, nfgenmsg, verdict and mark attrs). */
#define VERDICT_MSG_MAX 64
#define VERDICT_BUF_MSGS 128

struct queue {
	struct mnl_socket *nl;	/* NULL for queue_attach */
	int fd;
	uint32_t portid;
	uint32_t seq;
	uint16_t num;
	int conntrack;
	char *rbuf;
	size_t rbuf_len;
	char vbuf[VERDICT_BUF_MSGS * VERDICT_MSG_MAX];
	size_t vlen;		/* bytes of individual verdicts in vbuf */
	int have_batch;		/* accepts waiting for one batch verdict */
	uint32_t batch_id;	/* the newest accepted id */
	uint32_t last_id;	/* the newest packet id received */
	struct queue_stats st;
};

#define STAT_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)

int queue_fd(const struct queue *q)
{
	return q->fd;
}

uint16_t queue_num(const struct queue *q)
{
	return q->num;
}

int queue_has_conntrack(const struct queue *q)
{
	return q->conntrack;
}

void queue_get_stats(const struct queue *q, struct queue_stats *out)
{
	out->enobufs = __atomic_load_n(&q->st.enobufs, __ATOMIC_RELAXED);
	out->verdict_errors = __atomic_load_n(&q->st.verdict_errors, __ATOMIC_RELAXED);
	out->batches = __atomic_load_n(&q->st.batches, __ATOMIC_RELAXED);
	out->messages = __atomic_load_n(&q->st.messages, __ATOMIC_RELAXED);
	out->bad_messages = __atomic_load_n(&q->st.bad_messages, __ATOMIC_RELAXED);
	out->undelivered = __atomic_load_n(&q->st.undelivered, __ATOMIC_RELAXED);
	out->last_verdict_errno = __atomic_load_n(&q->st.last_verdict_errno, __ATOMIC_RELAXED);
}

static int is_packet_msg(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET);
}

/* Turns one packet message into a queue_packet.  -1 when even the id is
 * missing (then no verdict can be given). */
static int parse_packet(const struct nlmsghdr *nlh, struct queue_packet *p,
			int *have_id)
{
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqnl_msg_packet_hdr *ph;

	memset(attr, 0, sizeof(attr));
	memset(p, 0, sizeof(*p));
	p->ct_new = -1;
	*have_id = 0;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return -1;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p->id = ntohl(ph->packet_id);
	p->hw_protocol = ntohs(ph->hw_protocol);
	p->hook = ph->hook;
	*have_id = 1;
	if (attr[NFQA_PAYLOAD]) {
		p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p->caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	p->wirelen = p->caplen;
	if (attr[NFQA_CAP_LEN] &&
	    mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4)
		p->wirelen = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	if (attr[NFQA_CT_INFO] &&
	    mnl_attr_get_payload_len(attr[NFQA_CT_INFO]) >= 4)
		p->ct_new = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO])) ==
			    CT_INFO_NEW;
	if (attr[NFQA_IFINDEX_INDEV] &&
	    mnl_attr_get_payload_len(attr[NFQA_IFINDEX_INDEV]) >= 4)
		p->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_MARK] && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4) {
		p->has_mark = 1;
		p->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	}
	return p->data ? 0 : -1;
}

static int send_all(struct queue *q, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = q->nl ? mnl_socket_sendto(q->nl, buf, len) :
			    send(q->fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

/* Accepts one packet right away (used while the queue is being set up). */
static void accept_now(struct queue *q, uint32_t id)
{
	char buf[VERDICT_MSG_MAX * 2];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	(void)send_all(q, nlh, nlh->nlmsg_len);
}

/*
 * Sends one configuration message with NLM_F_ACK and waits (bounded) for
 * its answer.  Packets that arrive meanwhile are accepted so that none is
 * left waiting for a verdict.  Returns 0, or -1 with errno from the kernel.
 */
static int config_request(struct queue *q, struct nlmsghdr *nlh)
{
	uint32_t seq = ++q->seq;
	struct timespec start, now;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (send_all(q, nlh, nlh->nlmsg_len) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = queue_fd(q), .events = POLLIN };
		struct nlmsghdr *m;
		ssize_t n;
		int wait_ms, left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		wait_ms = 3000 - (int)((now.tv_sec - start.tv_sec) * 1000 +
				       (now.tv_nsec - start.tv_nsec) / 1000000);
		if (wait_ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!(pfd.revents & POLLIN))
			continue;
		n = recv(queue_fd(q), q->rbuf, q->rbuf_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
				continue;
			return -1;
		}
		left = (int)n;
		for (m = (struct nlmsghdr *)q->rbuf; mnl_nlmsg_ok(m, left);
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
			if (is_packet_msg(m)) {
				struct queue_packet p;
				int have_id;

				(void)parse_packet(m, &p, &have_id);
				if (have_id)
					accept_now(q, p.id);
			}
		}
	}
}

/*
 * The kernel answers EPERM both to a process without CAP_NET_ADMIN and to
 * a bind of a queue another socket holds.  The proc file lists bound
 * queues with the holder's netlink port id: tell the two apart with it.
 * Returns the port id, or 0 when the queue is not listed.
 */
static unsigned long bound_by(uint16_t num)
{
	FILE *f = fopen("/proc/self/net/netfilter/nfnetlink_queue", "re");
	unsigned long long qn, portid;
	char line[256];
	unsigned long who = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %llu", &qn, &portid) == 2 && qn == num) {
			who = (unsigned long)portid;
			break;
		}
	fclose(f);
	return who;
}

static void bind_error(uint16_t num, int e, char *err, size_t errlen)
{
	unsigned long who;

	switch (e) {
	case EPERM:
	case EACCES:
		who = bound_by(num);
		if (who) {
			snprintf(err, errlen,
				 "cannot bind queue %u: already bound by another "
				 "process (netlink port id %lu)", num, who);
			break;
		}
		snprintf(err, errlen,
			 "cannot bind queue %u: %s (needs root or CAP_NET_ADMIN)",
			 num, strerror(e));
		break;
	case EBUSY:
		snprintf(err, errlen,
			 "cannot bind queue %u: already bound by another process",
			 num);
		break;
	case EPROTONOSUPPORT:
	case EOPNOTSUPP:
	case ENOENT:
	case EINVAL:
		snprintf(err, errlen,
			 "cannot bind queue %u: %s (does the kernel have "
			 "nfnetlink_queue / NFQUEUE support?)", num, strerror(e));
		break;
	default:
		snprintf(err, errlen, "cannot bind queue %u: %s", num,
			 strerror(e));
	}
}

struct queue *queue_open(const struct queue_config *c, char *err,
			 size_t errlen)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct queue *q;
	uint32_t flags = 0;
	int e;

	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->num = c->num;
	/* One packet per recv: the copy range plus every attribute. */
	q->rbuf_len = (size_t)c->copy_range + 8192;
	if (q->rbuf_len < 16384)
		q->rbuf_len = 16384;
	q->rbuf = malloc(q->rbuf_len);
	if (!q->rbuf) {
		snprintf(err, errlen, "out of memory");
		goto fail_errno;
	}
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		e = errno;
		bind_error(c->num, e, err, errlen);
		errno = e;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		snprintf(err, errlen, "netlink bind: %s", strerror(e));
		errno = e;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	q->fd = mnl_socket_get_fd(q->nl);
	q->seq = (uint32_t)time(NULL);

	if (c->rcvbuf > 0) {
		int sz = c->rcvbuf;

		/* FORCE goes past rmem_max while we still hold CAP_NET_ADMIN. */
		if (setsockopt(queue_fd(q), SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			       sizeof(sz)) < 0)
			(void)setsockopt(queue_fd(q), SOL_SOCKET, SO_RCVBUF, &sz,
					 sizeof(sz));
	}

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (config_request(q, nlh) < 0) {
		e = errno;
		bind_error(c->num, e, err, errlen);
		errno = e;
		goto fail;
	}

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)c->copy_range);
	if (config_request(q, nlh) < 0) {
		e = errno;
		snprintf(err, errlen, "queue %u: cannot set copy range %u: %s",
			 c->num, c->copy_range, strerror(e));
		errno = e;
		goto fail_unbind;
	}

	if (c->maxlen) {
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->num);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, c->maxlen);
		if (config_request(q, nlh) < 0) {
			e = errno;
			snprintf(err, errlen, "queue %u: cannot set queue length %u: %s",
				 c->num, c->maxlen, strerror(e));
			errno = e;
			goto fail_unbind;
		}
	}

	if (c->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	if (c->gso)
		flags |= NFQA_CFG_F_GSO;
	if (c->conntrack)
		flags |= NFQA_CFG_F_CONNTRACK;
	for (;;) {
		/* The mask covers every flag we manage, so a cleared flag
		 * (fail-closed) is really cleared on a reused queue. */
		uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
				NFQA_CFG_F_CONNTRACK;

		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->num);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
		if (config_request(q, nlh) == 0)
			break;
		e = errno;
		if (e == EOPNOTSUPP && (flags & NFQA_CFG_F_CONNTRACK)) {
			/* Kernel without conntrack glue: the engine's flow
			 * table decides what is NEW instead. */
			flags &= ~(uint32_t)NFQA_CFG_F_CONNTRACK;
			continue;
		}
		snprintf(err, errlen, "queue %u: cannot set flags 0x%x: %s",
			 c->num, flags, strerror(e));
		errno = e;
		goto fail_unbind;
	}
	q->conntrack = !!(flags & NFQA_CFG_F_CONNTRACK);
	return q;

fail_unbind:
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	e = errno;
	(void)send_all(q, nlh, nlh->nlmsg_len);
	errno = e;
	goto fail;
fail_errno:
fail:
	e = errno;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q);
	errno = e;
	return NULL;
}

struct queue *queue_attach(int fd, uint16_t num, size_t rbuf_len)
{
	struct queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->fd = fd;
	q->num = num;
	q->rbuf_len = rbuf_len < 16384 ? 16384 : rbuf_len;
	q->rbuf = malloc(q->rbuf_len);
	if (!q->rbuf) {
		free(q);
		errno = ENOMEM;
		return NULL;
	}
	return q;
}

void queue_close(struct queue *q)
{
	char buf[VERDICT_MSG_MAX * 2];
	struct nlmsghdr *nlh;

	if (!q)
		return;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	(void)send_all(q, nlh, nlh->nlmsg_len);
	if (q->nl)
		mnl_socket_close(q->nl);
	else
		close(q->fd);
	free(q->rbuf);
	free(q);
}

void queue_verdict(struct queue *q, uint32_t id, int verdict, int set_mark,
		   uint32_t mark)
{
	struct nlmsghdr *nlh;

	if (verdict == NF_ACCEPT && !set_mark) {
		/* The batch accepts every id up to batch_id: keep the newest
		 * (ids wrap), so an accept given out of order is covered. */
		if (!q->have_batch || (int32_t)(id - q->batch_id) > 0)
			q->batch_id = id;
		q->have_batch = 1;
		return;
	}
	/* Keep room for the closing batch message. */
	if (q->vlen + 2 * VERDICT_MSG_MAX > sizeof(q->vbuf))
		(void)queue_flush(q);
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	q->vlen += MNL_ALIGN(nlh->nlmsg_len);
}

int queue_flush(struct queue *q)
{
	struct nlmsghdr *nlh;
	int rc;

	if (q->have_batch) {
		/* Accepts every packet up to batch_id still waiting: the
		 * others already have their verdict earlier in this send. */
		nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT_BATCH,
				    q->num);
		nfq_nlmsg_verdict_put(nlh, (int)q->batch_id, NF_ACCEPT);
		q->vlen += MNL_ALIGN(nlh->nlmsg_len);
		STAT_ADD(q->st.batches, 1);
	}
	if (q->vlen == 0)
		return 0;
	rc = send_all(q, q->vbuf, q->vlen);
	q->vlen = 0;
	q->have_batch = 0;
	return rc;
}

/*
 * The kernel numbers the packets of a queue 1, 2, 3 ... when it queues
 * them, before it tries to deliver them; a packet it cannot deliver (our
 * socket buffer full: fail-open accepts it, fail-closed drops it) keeps
 * its number.  A gap in the ids we receive is therefore exactly what was
 * lost, which the kernel counts nowhere under fail-open.  (Packets refused
 * because the queue was full get no number: see queue_dropped.)
 */
static void note_id(struct queue *q, uint32_t id)
{
	uint32_t gap = id - q->last_id - 1;

	/* Forward gaps only: ids wrap, and a reordered id is not a loss. */
	if (id != q->last_id && gap < 0x80000000u) {
		if (gap)
			STAT_ADD(q->st.undelivered, gap);
		q->last_id = id;
	}
}

/* Errors the kernel sent back for verdicts (we never ask for acks there). */
static void note_error(struct queue *q, const struct nlmsghdr *m)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) || e->error == 0)
		return;
	STAT_ADD(q->st.verdict_errors, 1);
	__atomic_store_n(&q->st.last_verdict_errno, -e->error, __ATOMIC_RELAXED);
}

int queue_poll(struct queue *q, unsigned max_msgs, queue_packet_fn fn,
	       void *ctx)
{
	int handled = 0;
	unsigned i;

	for (i = 0; i < max_msgs; i++) {
		struct nlmsghdr *m;
		ssize_t n;
		int left;

		n = recv(queue_fd(q), q->rbuf, q->rbuf_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* The kernel could not deliver some packets
				 * (fail-open accepted them, fail-closed
				 * dropped them): count and go on. */
				STAT_ADD(q->st.enobufs, 1);
				continue;
			}
			(void)queue_flush(q);
			return -1;
		}
		left = (int)n;
		for (m = (struct nlmsghdr *)q->rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			struct queue_packet p;
			int have_id;

			if (m->nlmsg_type == NLMSG_ERROR) {
				note_error(q, m);
				continue;
			}
			if (!is_packet_msg(m))
				continue;
			STAT_ADD(q->st.messages, 1);
			if (parse_packet(m, &p, &have_id) < 0) {
				if (have_id)
					note_id(q, p.id);
				STAT_ADD(q->st.bad_messages, 1);
				/* No payload to judge: let it through
				 * rather than hold it forever. */
				if (have_id)
					queue_verdict(q, p.id, NF_ACCEPT, 0, 0);
				continue;
			}
			note_id(q, p.id);
			fn(ctx, q, &p);
			handled++;
		}
	}
	if (queue_flush(q) < 0)
		return -1;
	return handled;
}
