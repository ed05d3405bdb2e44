/*
 * queue: one NFQUEUE queue over libmnl and libnetfilter_queue's nlmsg API
 * (the modern interface, no libnfnetlink handles).  Binding, configuration,
 * receiving packets and sending verdicts; no policy and no logging here.
 */
#ifndef PORTCLASS_QUEUE_H
#define PORTCLASS_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

struct queue_config {
	uint16_t num;		/* queue number */
	uint32_t copy_range;	/* bytes of each packet copied to us */
	uint32_t maxlen;	/* kernel queue length; 0: kernel default */
	int rcvbuf;		/* socket receive buffer in bytes; 0: default */
	int fail_open;		/* accept instead of drop when the queue is full */
	int conntrack;		/* ask for the conntrack state (NFQA_CT_INFO) */
	int gso;		/* accept GSO packets unsegmented */
};

/* One queued packet as handed to the callback; valid during the call. */
struct queue_packet {
	uint32_t id;
	const uint8_t *data;	/* the IP header (NFQA_PAYLOAD) */
	uint32_t caplen;	/* bytes at data */
	uint32_t wirelen;	/* NFQA_CAP_LEN when present, else caplen */
	int ct_new;		/* 1 ctinfo IP_CT_NEW, 0 other, -1 absent */
	int has_mark;
	uint32_t mark;
	uint16_t hw_protocol;	/* host order, from the packet header */
	uint8_t hook;		/* NF_INET_LOCAL_IN, NF_INET_FORWARD, ... */
	uint32_t indev;		/* input interface index, 0 when absent */
};

struct queue_stats {
	uint64_t enobufs;	  /* recv() told us the kernel dropped messages */
	uint64_t verdict_errors;  /* the kernel refused a verdict */
	uint64_t batches;	  /* NFQNL_MSG_VERDICT_BATCH messages sent */
	uint64_t messages;	  /* packet messages received */
	uint64_t bad_messages;	  /* packet messages we could not parse */
	uint64_t undelivered;	  /* ids skipped: queued, never delivered */
	int last_verdict_errno;	  /* errno of the last refused verdict */
};

/*
 * Opens a netlink socket, binds queue c->num and configures it.  Returns the
 * queue, or NULL with errno set and a human message in err ("queue 3 is
 * already bound by another process", ...).  Needs CAP_NET_ADMIN.  When the
 * kernel refuses the conntrack flag, the queue is used without it and
 * queue_has_conntrack() says 0.
 */
struct queue *queue_open(const struct queue_config *c, char *err,
			 size_t errlen);

/*
 * A queue over fd, a datagram socket that carries netlink messages both
 * ways but is not the kernel's (a socketpair in the unit tests): packet
 * messages are read from it and verdicts, and the unbind at close, are
 * written to it.  Takes ownership of fd.  NULL with errno ENOMEM.
 */
struct queue *queue_attach(int fd, uint16_t num, size_t rbuf_len);

/* Unbinds (best effort) and frees.  NULL is fine. */
void queue_close(struct queue *q);

/* The socket to poll for readability. */
int queue_fd(const struct queue *q);
uint16_t queue_num(const struct queue *q);
int queue_has_conntrack(const struct queue *q);

/* Called for each packet; must call queue_verdict for p->id exactly once. */
typedef void (*queue_packet_fn)(void *ctx, struct queue *q,
				const struct queue_packet *p);

/*
 * Reads what is waiting on the socket without blocking (up to max_msgs
 * packet messages), calls fn for every packet, then sends the verdicts
 * (queue_flush).  Returns the number of packets handled (0 when nothing was
 * waiting), or -1 on a socket error other than EAGAIN/EINTR/ENOBUFS (ENOBUFS
 * is counted in the stats and survived).
 */
int queue_poll(struct queue *q, unsigned max_msgs, queue_packet_fn fn,
	       void *ctx);

/*
 * Records a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT ...), with a mark when
 * set_mark.  Accepts without a mark are coalesced into one
 * NFQNL_MSG_VERDICT_BATCH per flush; anything else is sent individually,
 * ahead of the batch, so a batch never covers a packet that has its own
 * verdict.
 */
void queue_verdict(struct queue *q, uint32_t id, int verdict, int set_mark,
		   uint32_t mark);

/* Sends the recorded verdicts.  Returns 0, or -1 with errno. */
int queue_flush(struct queue *q);

/* A copy of the counters (only the owning thread writes them; reads from
 * other threads are relaxed atomic loads). */
void queue_get_stats(const struct queue *q, struct queue_stats *out);

#endif
