/*
 * test_queue: nfq/queue.c's message handling without the kernel.  A queue
 * attached to one end of a socketpair reads netlink packet messages this
 * test builds (well-formed, with attributes missing, short, or running
 * past the message) and writes its verdicts to the other end, where they
 * are parsed back: one batch for the plain accepts, its own message for
 * every drop or marked repeat, no verdict for a message without an id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq_verdicts.h"
#include "queue.h"

#define QNUM 3

struct env {
	int peer;		/* the "kernel" end */
	struct queue *q;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int sv[2];

	assert_non_null(e);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	e->q = queue_attach(sv[0], QNUM, 0);
	assert_non_null(e->q);
	e->peer = sv[1];
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	queue_close(e->q);
	close(e->peer);
	free(e);
	return 0;
}

/* What the callback saw. */
struct seen {
	unsigned n;
	struct queue_packet p[16];
	uint8_t data[16][64];
	int verdict[16];	/* what to answer, by arrival, plus one */
	uint32_t mark[16];
};

static void on_packet(void *ctx, struct queue *q, const struct queue_packet *p)
{
	struct seen *s = ctx;
	unsigned i = s->n++;

	assert_true(i < 16);
	s->p[i] = *p;
	memcpy(s->data[i], p->data, p->caplen < 64 ? p->caplen : 64);
	/* verdict[] holds NF_x + 1; 0 is accept */
	queue_verdict(q, p->id, s->verdict[i] ? s->verdict[i] - 1 : NF_ACCEPT,
		      s->mark[i] != 0, s->mark[i]);
}

enum { A_HDR = 1, A_PAYLOAD = 2, A_CT = 4, A_MARK = 8, A_CAPLEN = 16,
       A_SHORT_HDR = 32, A_SHORT_CT = 64 };

/* One packet message into buf; returns its length. */
static size_t packet_msg(char *buf, uint32_t id, unsigned attrs, uint32_t ct,
			 uint32_t mark)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, QNUM);
	struct nfqnl_msg_packet_hdr ph;
	static const uint8_t payload[20] = { 0x45, 0, 0, 20 };

	memset(&ph, 0, sizeof(ph));
	ph.packet_id = htonl(id);
	ph.hw_protocol = htons(0x0800);
	ph.hook = 1;
	if (attrs & A_HDR)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (attrs & A_SHORT_HDR)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, 3, &ph);
	if (attrs & A_PAYLOAD)
		mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(payload), payload);
	if (attrs & A_CT)
		mnl_attr_put_u32(nlh, NFQA_CT_INFO, htonl(ct));
	if (attrs & A_SHORT_CT)
		mnl_attr_put_u16(nlh, NFQA_CT_INFO, 2);
	if (attrs & A_MARK)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(mark));
	if (attrs & A_CAPLEN)
		mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(1500));
	return nlh->nlmsg_len;
}

static void send_msg(struct env *e, const char *buf, size_t len)
{
	assert_int_equal(send(e->peer, buf, len, 0), (ssize_t)len);
}

/* The verdicts that came back; anything else there fails the test. */
static unsigned read_verdicts(struct env *e, struct test_verdict *out, unsigned max)
{
	unsigned other = 0, n = test_read_verdicts(e->peer, out, max, &other);

	assert_int_equal(other, 0);
	return n;
}

static void test_well_formed(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct test_verdict v[8];
	struct queue_stats st;
	char buf[512];

	memset(&s, 0, sizeof(s));
	send_msg(e, buf, packet_msg(buf, 1, A_HDR | A_PAYLOAD | A_CT | A_MARK |
				    A_CAPLEN, 2 /* IP_CT_NEW */, 0x42));
	send_msg(e, buf, packet_msg(buf, 2, A_HDR | A_PAYLOAD | A_CT, 0, 0));
	send_msg(e, buf, packet_msg(buf, 3, A_HDR | A_PAYLOAD, 0, 0));
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.p[0].id, 1);
	assert_int_equal(s.p[0].caplen, 20);
	assert_int_equal(s.p[0].wirelen, 1500);
	assert_int_equal(s.p[0].ct_new, 1);
	assert_int_equal(s.p[0].has_mark, 1);
	assert_int_equal(s.p[0].mark, 0x42);
	assert_int_equal(s.p[0].hw_protocol, 0x0800);
	assert_int_equal(s.p[0].hook, 1);
	assert_int_equal(s.data[0][0], 0x45);
	assert_int_equal(s.p[1].ct_new, 0);
	assert_int_equal(s.p[2].ct_new, -1);
	assert_int_equal(s.p[2].wirelen, 20);
	assert_int_equal(s.p[2].has_mark, 0);
	/* three accepts: one batch verdict up to the newest id */
	assert_int_equal(read_verdicts(e, v, 8), 1);
	assert_true(v[0].batch);
	assert_int_equal(v[0].id, 3);
	assert_int_equal(v[0].verdict, NF_ACCEPT);
	queue_get_stats(e->q, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.bad_messages, 0);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.undelivered, 0);
}

/* A drop and a marked repeat go out on their own, before the batch, so
 * the batch never covers them. */
static void test_individual_verdicts_before_batch(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct test_verdict v[8];
	char buf[512];
	uint32_t id;

	memset(&s, 0, sizeof(s));
	s.verdict[1] = NF_DROP + 1;
	s.verdict[2] = NF_REPEAT + 1;
	s.mark[2] = 0x70c1a55;
	for (id = 10; id < 14; id++)
		send_msg(e, buf, packet_msg(buf, id, A_HDR | A_PAYLOAD, 0, 0));
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 4);
	assert_int_equal(read_verdicts(e, v, 8), 3);
	assert_false(v[0].batch);
	assert_int_equal(v[0].id, 11);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_false(v[0].has_mark);
	assert_false(v[1].batch);
	assert_int_equal(v[1].id, 12);
	assert_int_equal(v[1].verdict, NF_REPEAT);
	assert_true(v[1].has_mark);
	assert_int_equal(v[1].mark, 0x70c1a55);
	assert_true(v[2].batch);
	assert_int_equal(v[2].id, 13);
}

/* max_msgs bounds one call; what is left is read by the next. */
static void test_batch_bound(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct test_verdict v[8];
	char buf[512];
	uint32_t id;

	memset(&s, 0, sizeof(s));
	for (id = 1; id <= 5; id++)
		send_msg(e, buf, packet_msg(buf, id, A_HDR | A_PAYLOAD, 0, 0));
	assert_int_equal(queue_poll(e->q, 2, on_packet, &s), 2);
	assert_int_equal(read_verdicts(e, v, 8), 1);
	assert_int_equal(v[0].id, 2);
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 3);
	assert_int_equal(read_verdicts(e, v, 8), 1);
	assert_int_equal(v[0].id, 5);
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 0);
	assert_int_equal(read_verdicts(e, v, 8), 0);
}

static void test_bad_messages(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct test_verdict v[8];
	struct queue_stats st;
	char buf[512];
	size_t n;

	memset(&s, 0, sizeof(s));
	/* no payload: cannot be judged, accepted rather than held */
	send_msg(e, buf, packet_msg(buf, 1, A_HDR, 0, 0));
	/* no packet header, or one too short: no id, no verdict possible */
	send_msg(e, buf, packet_msg(buf, 2, A_PAYLOAD, 0, 0));
	send_msg(e, buf, packet_msg(buf, 3, A_SHORT_HDR | A_PAYLOAD, 0, 0));
	/* a conntrack attribute too short fails libnetfilter_queue's
	 * attribute validation: the message is bad as a whole */
	send_msg(e, buf, packet_msg(buf, 4, A_HDR | A_PAYLOAD | A_SHORT_CT, 0, 0));

	/* an attribute whose length runs past the message: the attributes
	 * before it are read, it is not (no payload: accepted) */
	n = packet_msg(buf, 5, A_HDR | A_PAYLOAD, 0, 0);
	{
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		struct nlattr *last = (struct nlattr *)(buf + n - MNL_ALIGN(sizeof(struct nlattr) + 20));

		last->nla_len = 200;
		send_msg(e, buf, nlh->nlmsg_len);
	}
	/* not a packet message at all: ignored */
	{
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, QNUM);

		send_msg(e, buf, nlh->nlmsg_len);
	}
	/* a well-formed one after all of them */
	send_msg(e, buf, packet_msg(buf, 6, A_HDR | A_PAYLOAD | A_CT, 1, 0));
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.p[0].id, 6);
	assert_int_equal(s.p[0].ct_new, 0); /* IP_CT_RELATED is not NEW */
	queue_get_stats(e->q, &st);
	assert_int_equal(st.messages, 6);
	assert_int_equal(st.bad_messages, 5);
	/* the accepts (1 and 5 without payload, 6) in one batch up to 6;
	 * nothing for the messages that could not be parsed */
	assert_int_equal(read_verdicts(e, v, 8), 1);
	assert_true(v[0].batch);
	assert_int_equal(v[0].id, 6);
}

/* The batch goes up to the newest id accepted, whatever order the accepts
 * were given in. */
static void test_batch_newest_id(void **state)
{
	struct env *e = *state;
	struct test_verdict v[8];

	queue_verdict(e->q, 8, NF_ACCEPT, 0, 0);
	queue_verdict(e->q, 7, NF_ACCEPT, 0, 0);
	assert_int_equal(queue_flush(e->q), 0);
	assert_int_equal(read_verdicts(e, v, 8), 1);
	assert_true(v[0].batch);
	assert_int_equal(v[0].id, 8);
}

/* A gap in the ids is what the kernel queued and could not deliver. */
static void test_gaps_counted(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct test_verdict v[8];
	struct queue_stats st;
	char buf[512];

	memset(&s, 0, sizeof(s));
	send_msg(e, buf, packet_msg(buf, 1, A_HDR | A_PAYLOAD, 0, 0));
	send_msg(e, buf, packet_msg(buf, 5, A_HDR | A_PAYLOAD, 0, 0));
	send_msg(e, buf, packet_msg(buf, 3, A_HDR | A_PAYLOAD, 0, 0)); /* late */
	send_msg(e, buf, packet_msg(buf, 6, A_HDR | A_PAYLOAD, 0, 0));
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 4);
	queue_get_stats(e->q, &st);
	assert_int_equal(st.undelivered, 3);
	(void)read_verdicts(e, v, 8);
}

/* The kernel's error answers to verdicts are counted with their errno. */
static void test_verdict_errors(void **state)
{
	struct env *e = *state;
	struct seen s;
	struct queue_stats st;
	char buf[512];
	struct nlmsghdr *nlh;
	struct nlmsgerr *err;

	memset(&s, 0, sizeof(s));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -2;
	send_msg(e, buf, nlh->nlmsg_len);
	/* a truncated error message is not read past its end */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	send_msg(e, buf, nlh->nlmsg_len);
	assert_int_equal(queue_poll(e->q, 64, on_packet, &s), 0);
	queue_get_stats(e->q, &st);
	assert_int_equal(st.verdict_errors, 1);
	assert_int_equal(st.last_verdict_errno, 2);
}

/* Close sends the unbind. */
static void test_close_unbinds(void **state)
{
	struct env *e = *state;
	char buf[256];
	ssize_t n;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *a;
	int unbind = 0;

	queue_close(e->q);
	e->q = NULL;
	n = recv(e->peer, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_CFG_CMD) {
			const struct nfqnl_msg_config_cmd *c = mnl_attr_get_payload(a);

			unbind = c->command == NFQNL_CFG_CMD_UNBIND;
		}
	assert_true(unbind);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_well_formed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_individual_verdicts_before_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_newest_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_unbinds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
