/* Tests for rules/flow.c: NEW, retransmit and reply detection, timeouts,
 * eviction and memory per flow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"

#define SEC 1000000000ull

/* A parsed packet as packet_parse would leave it, built field by field so
 * that these tests depend on the flow table alone. */
static struct packet pkt(uint8_t proto, uint8_t family, const char *src4,
			 uint16_t sport, const char *dst4, uint16_t dport,
			 uint8_t tcp_flags)
{
	struct packet p;
	unsigned a, b, c, d;

	memset(&p, 0, sizeof(p));
	p.status = PACKET_OK;
	p.family = family;
	p.proto = proto;
	p.has_ports = 1;
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = tcp_flags;
	if (proto == PROTO_TCP)
		p.conn_attempt = (tcp_flags & PACKET_TCP_SYN) &&
				 !(tcp_flags & PACKET_TCP_ACK);
	if (family == 4) {
		sscanf(src4, "%u.%u.%u.%u", &a, &b, &c, &d);
		p.src[0] = (uint8_t)a; p.src[1] = (uint8_t)b;
		p.src[2] = (uint8_t)c; p.src[3] = (uint8_t)d;
		sscanf(dst4, "%u.%u.%u.%u", &a, &b, &c, &d);
		p.dst[0] = (uint8_t)a; p.dst[1] = (uint8_t)b;
		p.dst[2] = (uint8_t)c; p.dst[3] = (uint8_t)d;
	} else {
		/* IPv6: 2001:db8::<last byte of the dotted string> */
		p.src[0] = 0x20; p.src[1] = 0x01; p.src[2] = 0x0d; p.src[3] = 0xb8;
		memcpy(p.dst, p.src, 4);
		sscanf(src4, "%*u.%*u.%*u.%u", &d);
		p.src[15] = (uint8_t)d;
		sscanf(dst4, "%*u.%*u.%*u.%u", &d);
		p.dst[15] = (uint8_t)d;
	}
	return p;
}

static struct packet rev(const struct packet *p, uint8_t tcp_flags)
{
	struct packet r = *p;

	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	r.tcp_flags = tcp_flags;
	r.conn_attempt = p->proto == PROTO_TCP &&
			 (tcp_flags & PACKET_TCP_SYN) &&
			 !(tcp_flags & PACKET_TCP_ACK);
	return r;
}

static struct flow_table *mk(size_t max, uint32_t udp_s, uint32_t tcp_s)
{
	struct flow_opts o = { .max_flows = max, .udp_timeout_s = udp_s,
			       .tcp_timeout_s = tcp_s };
	struct flow_table *ft = flow_new(&o);

	assert_non_null(ft);
	return ft;
}

#define EXPECT(r, n, rt, rp, tr)                                             \
	do {                                                                 \
		assert_int_equal((r).is_new, (n));                           \
		assert_int_equal((r).retransmit, (rt));                      \
		assert_int_equal((r).reply, (rp));                           \
		assert_int_equal((r).tracked, (tr));                         \
	} while (0)

static void test_tcp_handshake(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet syn = pkt(PROTO_TCP, 4, "198.51.100.7", 40000,
				"192.0.2.1", 60314, PACKET_TCP_SYN);
	struct packet synack = rev(&syn, PACKET_TCP_SYN | PACKET_TCP_ACK);
	struct packet ack = syn;
	struct packet data_back = rev(&syn, PACKET_TCP_ACK | PACKET_TCP_PSH);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	ack.tcp_flags = PACKET_TCP_ACK;
	ack.conn_attempt = 0;

	flow_observe(ft, &syn, 1 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &syn, 2 * SEC, &r); /* retransmit */
	EXPECT(r, 1, 1, 0, 1);
	flow_observe(ft, &synack, 2 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	/* Mid-stream segments are not looked up (flow.h): not tracked. */
	flow_observe(ft, &ack, 2 * SEC, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &data_back, 3 * SEC, &r); /* only the first is reply */
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &synack, 3 * SEC, &r); /* a SYN/ACK retransmit */
	EXPECT(r, 0, 0, 0, 1);
	/* A SYN on an answered flow (port reuse) is a new attempt, not a
	 * retransmit. */
	flow_observe(ft, &syn, 4 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);

	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 1);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.evicted, 0);
	flow_free(ft);
}

static void test_tcp_rst_and_midstream(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet syn = pkt(PROTO_TCP, 6, "0.0.0.9", 50000, "0.0.0.1",
				55555, PACKET_TCP_SYN);
	struct packet rst = rev(&syn, PACKET_TCP_RST | PACKET_TCP_ACK);
	struct packet mid = pkt(PROTO_TCP, 4, "203.0.113.5", 1234,
				"192.0.2.1", 80, PACKET_TCP_ACK);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	flow_observe(ft, &syn, 10, &r);
	EXPECT(r, 1, 0, 0, 1);
	/* A RST back is a refusal: no listener answered. */
	flow_observe(ft, &rst, 20, &r);
	EXPECT(r, 0, 0, 0, 1);
	/* Next SYN after the refusal is a fresh attempt. */
	flow_observe(ft, &syn, 30, &r);
	EXPECT(r, 1, 0, 0, 1);

	/* Mid-stream packets of an unknown flow: not new, not tracked, and
	 * no entry is made for them. */
	flow_observe(ft, &mid, 40, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 1);
	flow_free(ft);
}

/* Only a SYN/ACK answers a SYN; a segment without SYN, RST or FIN from
 * the other side (its SYN/ACK not captured) is no reply and leaves the
 * attempt open, so the opener's next SYN is still a retransmit.  A FIN
 * from either side ends the attempt like a RST. */
static void test_tcp_only_synack_replies(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet syn = pkt(PROTO_TCP, 4, "198.51.100.7", 40000,
				"192.0.2.1", 60314, PACKET_TCP_SYN);
	struct packet ack_back = rev(&syn, PACKET_TCP_ACK);
	struct packet data_back = rev(&syn, PACKET_TCP_ACK | PACKET_TCP_PSH);
	struct packet synack = rev(&syn, PACKET_TCP_SYN | PACKET_TCP_ACK);
	struct packet fin_back = rev(&syn, PACKET_TCP_FIN | PACKET_TCP_ACK);
	struct packet ack = syn;
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	ack.tcp_flags = PACKET_TCP_ACK;
	ack.conn_attempt = 0;
	flow_observe(ft, &syn, 1 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &ack_back, 1 * SEC, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &data_back, 1 * SEC, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &ack, 1 * SEC, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &syn, 2 * SEC, &r);
	EXPECT(r, 1, 1, 0, 1);
	flow_observe(ft, &synack, 2 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);

	/* FIN back while the attempt is open: over, no reply. */
	flow_observe(ft, &syn, 3 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &fin_back, 3 * SEC, &r);
	EXPECT(r, 0, 0, 0, 1);
	flow_observe(ft, &synack, 3 * SEC, &r);
	EXPECT(r, 0, 0, 0, 1);
	flow_observe(ft, &syn, 4 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);

	/* Segments of an unknown connection make no entries. */
	flow_get_stats(ft, &st);
	assert_int_equal(st.created, 1);
	flow_free(ft);
}

static void test_tcp_simultaneous_open(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet a = pkt(PROTO_TCP, 4, "10.0.0.1", 5000, "10.0.0.2",
			      6000, PACKET_TCP_SYN);
	struct packet b = rev(&a, PACKET_TCP_SYN);
	struct flow_result r;

	(void)state;
	flow_observe(ft, &a, 1, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &b, 2, &r); /* an attempt, but not a retransmit */
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &a, 3, &r); /* the opener again: retransmit */
	EXPECT(r, 1, 1, 0, 1);
	flow_free(ft);
}

static void test_udp_both_directions(void **state)
{
	struct flow_table *ft = mk(0, 30, 0);
	struct packet q = pkt(PROTO_UDP, 4, "198.51.100.7", 40000,
			      "192.0.2.1", 60001, 0);
	struct packet a = rev(&q, 0);
	struct packet q2 = pkt(PROTO_UDPLITE, 6, "0.0.0.5", 7000, "0.0.0.1",
			       7001, 0);
	struct packet a2 = rev(&q2, 0);
	struct flow_result r;

	(void)state;
	flow_observe(ft, &q, 1 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	/* Unanswered, the same side again is still an attempt (conntrack
	 * keeps the flow NEW until a reply), folded as a retransmit. */
	flow_observe(ft, &q, 2 * SEC, &r);
	EXPECT(r, 1, 1, 0, 1);
	flow_observe(ft, &a, 3 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_observe(ft, &a, 4 * SEC, &r);
	EXPECT(r, 0, 0, 0, 1);
	flow_observe(ft, &q, 5 * SEC, &r);
	EXPECT(r, 0, 0, 0, 1);

	/* The first datagram may come from either end: here the "server"
	 * port speaks first and that is what opens the flow. */
	flow_observe(ft, &a2, 1 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &q2, 1 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_free(ft);
}

static void test_udp_timeout(void **state)
{
	struct flow_table *ft = mk(0, 30, 0);
	struct packet q = pkt(PROTO_UDP, 4, "198.51.100.7", 40000,
			      "192.0.2.1", 60001, 0);
	struct packet a = rev(&q, 0);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	flow_observe(ft, &q, 100 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &q, 130 * SEC, &r); /* exactly the timeout: same */
	EXPECT(r, 1, 1, 0, 1);		     /* flow, still unanswered */
	flow_observe(ft, &q, 160 * SEC + 1, &r); /* idle > 30 s: new again */
	EXPECT(r, 1, 0, 0, 1);
	/* The other side after a timeout opens a flow of its own. */
	flow_observe(ft, &a, 200 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &q, 201 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.expired, 2);
	assert_int_equal(st.flows, 1);
	flow_free(ft);
}

static void test_tcp_timeout_and_reap(void **state)
{
	struct flow_table *ft = mk(0, 10, 60);
	struct packet syn = pkt(PROTO_TCP, 4, "10.1.1.1", 1111, "10.2.2.2",
				2222, PACKET_TCP_SYN);
	struct packet u = pkt(PROTO_UDP, 4, "10.1.1.1", 53, "10.2.2.2", 53, 0);
	struct packet other = pkt(PROTO_UDP, 4, "10.9.9.9", 9, "10.8.8.8", 8,
				  0);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	flow_observe(ft, &syn, 0, &r);
	flow_observe(ft, &u, 1 * SEC, &r);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 2);
	/* 30 s later the UDP flow is gone, the TCP one (60 s) is not: the
	 * sweep frees the one and keeps the other. */
	flow_observe(ft, &other, 31 * SEC, &r);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 2);
	assert_int_equal(st.expired, 1);
	/* After 2 minutes both old flows are reaped by any packet, even one
	 * of an unrelated flow (itself idle past its own timeout, so new
	 * again). */
	flow_observe(ft, &other, 121 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.expired, 3);
	assert_int_equal(st.flows, 1);
	/* A SYN retransmitted after the TCP timeout is a fresh attempt. */
	flow_observe(ft, &syn, 122 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_free(ft);
}

static void test_sctp_dccp(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet init = pkt(PROTO_SCTP, 4, "10.0.0.1", 5000, "10.0.0.2",
				 60000, 0);
	struct packet ack = rev(&init, 0);
	struct packet req = pkt(PROTO_DCCP, 6, "0.0.0.1", 5000, "0.0.0.2",
				60000, 0);
	struct packet resp = rev(&req, 0);
	struct packet data = init;
	struct flow_result r;

	(void)state;
	init.conn_attempt = 1;
	req.conn_attempt = 1;
	data.conn_attempt = 0;
	flow_observe(ft, &init, 1, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &init, 2, &r);
	EXPECT(r, 1, 1, 0, 1);
	flow_observe(ft, &ack, 3, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_observe(ft, &data, 4, &r);
	EXPECT(r, 0, 0, 0, 1);
	flow_observe(ft, &req, 1, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &resp, 2, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_free(ft);
}

static void test_no_ports_untouched(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct packet icmp = pkt(PROTO_ICMP, 4, "10.0.0.1", 0, "10.0.0.2", 0,
				 0);
	struct packet bad = pkt(PROTO_UDP, 4, "10.0.0.1", 1, "10.0.0.2", 2, 0);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	icmp.has_ports = 0;
	bad.status = PACKET_TRUNCATED;
	flow_observe(ft, &icmp, 1, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &bad, 1, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 0);
	assert_int_equal(st.created, 0);
	flow_free(ft);
}

/*
 * At the bound a new flow takes the place of one in its bucket (a bound
 * of 3 is one bucket): one whose attempt was answered before any still
 * waiting, else the least recently seen.  A late datagram of the flow
 * pushed out, either way, is not a new flow while the kernel would still
 * have it (within the UDP timeout), and is one after.
 */
static void test_eviction_in_bucket(void **state)
{
	enum { MAX = 3 };
	struct flow_table *ft = mk(MAX, 30, 0);
	struct packet p = pkt(PROTO_UDP, 4, "10.0.0.1", 1000, "10.0.0.2", 53,
			      0);
	struct packet a;
	struct flow_result r;
	struct flow_stats st;
	uint64_t t = 0;

	(void)state;
	for (unsigned i = 0; i < MAX; i++) {
		p.sport = (uint16_t)(1000 + i);
		flow_observe(ft, &p, t += 2 * SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
	}
	p.sport = 1001; /* answered: the first to go */
	a = rev(&p, 0);
	flow_observe(ft, &a, t += 2 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, MAX);
	assert_int_equal(st.evicted, 0);

	p.sport = 5000; /* table full: 1001 goes, not the older 1000 */
	flow_observe(ft, &p, t += 2 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, MAX);
	assert_int_equal(st.evicted, 1);
	p.sport = 1000;
	flow_observe(ft, &p, t += 2 * SEC, &r);
	EXPECT(r, 1, 1, 0, 1); /* still there, still unanswered */
	/* Pushed out, answered: neither side's datagram opens a flow; it
	 * comes back as it went (answered: established), pushing 1002 out
	 * (waiting, as all three are now, and the least recently seen). */
	p.sport = 1001;
	flow_observe(ft, &p, t += 2 * SEC, &r);
	EXPECT(r, 0, 0, 0, 1);
	flow_conntrack(ft, &a, t += 2 * SEC, &r);
	assert_int_equal(r.ct, FLOW_CT_ESTABLISHED);
	assert_int_equal(r.is_new, 0);
	flow_get_stats(ft, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.flows, MAX);

	/* Pushed out unanswered: its next datagram is a retransmit and the
	 * answer a reply, as in a table that had kept it. */
	p.sport = 1002;
	flow_observe(ft, &p, t += 2 * SEC, &r);
	EXPECT(r, 1, 1, 0, 1);
	a = rev(&p, 0);
	flow_observe(ft, &a, t += 2 * SEC, &r);
	EXPECT(r, 0, 0, 1, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(st.evicted, 3); /* 1001 again: answered */
	assert_int_equal(st.created, MAX + 3);
	p.sport = 1001;

	/* More than the UDP timeout after its last datagram (in the table
	 * or out of it) the kernel has forgotten a flow too: a datagram
	 * opens it again. */
	for (unsigned i = 0; i < MAX; i++) {
		p.sport = (uint16_t)(1000 + i);
		flow_observe(ft, &p, t += 31 * SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
	}

	/* A long churn through a small table stays consistent. */
	for (unsigned i = 0; i < 20000; i++) {
		p.sport = (uint16_t)(i * 7919u);
		p.src[3] = (uint8_t)(i >> 8);
		flow_observe(ft, &p, t + i, &r);
		assert_true(r.is_new || !r.tracked);
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, MAX);
	assert_true(st.evicted > 19000);
	assert_int_equal(st.probe_max, 1);
	flow_free(ft);
}

/*
 * Eviction never invents a NEW: far more flows than the bound, each opened
 * (a UDP datagram, a TCP SYN) and answered only after all were opened.
 * The answers of the flows pushed out are never NEW: for UDP not a flow
 * of their own, for TCP not a pickup (conntrack's view: UNKNOWN).
 */
static void test_evicted_never_new(void **state)
{
	enum { MAX = 1000, N = 1500 };
	struct flow_opts o = { .max_flows = MAX, .hash_key = 0x5eed };
	struct flow_table *ft = flow_new(&o);
	struct flow_result r;
	struct flow_stats st;
	uint64_t t = SEC;
	unsigned replies = 0;

	(void)state;
	assert_non_null(ft);
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < N; i++) {
			struct packet p = pkt(i % 2 ? PROTO_TCP : PROTO_UDP,
					      i % 3 ? 4 : 6, "198.51.100.7",
					      (uint16_t)(20000 + i),
					      "192.0.2.1", 60000,
					      i % 2 ? PACKET_TCP_SYN : 0);
			struct packet q;

			if (!pass) {
				flow_conntrack(ft, &p, t += 1000, &r);
				assert_int_equal(r.ct, FLOW_CT_NEW);
				continue;
			}
			q = rev(&p, i % 2 ? PACKET_TCP_SYN | PACKET_TCP_ACK
					  : 0);
			flow_conntrack(ft, &q, t += 1000, &r);
			assert_int_equal(r.is_new, 0);
			assert_int_not_equal(r.ct, FLOW_CT_NEW);
			/* UDP: the flow comes back, and this is its reply;
			 * TCP: the SYN/ACK of a flow pushed out is UNKNOWN */
			assert_true(r.reply || (i % 2 && r.ct == FLOW_CT_UNKNOWN));
			replies += r.reply;
		}
	}
	flow_get_stats(ft, &st);
	assert_true(st.evicted >= N - MAX);
	assert_true(st.forgotten > 0);
	assert_int_equal(replies + st.forgotten, N);
	assert_int_equal(st.pickups, 0);
	flow_free(ft);
}

/*
 * A TCP attempt pushed out unanswered: its retransmitted SYN is a
 * retransmit, as in a table that had kept it; but once it was refused (a
 * RST back, UNKNOWN while the flow is out) the next SYN is a new attempt.
 */
static void test_evicted_attempt(void **state)
{
	struct flow_table *ft = mk(1, 0, 0);
	struct flow_result r;
	struct packet a = pkt(PROTO_TCP, 4, "198.51.100.7", 40000, "192.0.2.1",
			      60314, PACKET_TCP_SYN);
	struct packet b = pkt(PROTO_TCP, 4, "198.51.100.8", 40000, "192.0.2.1",
			      60314, PACKET_TCP_SYN);
	struct packet rst = rev(&a, PACKET_TCP_RST | PACKET_TCP_ACK);

	(void)state;
	flow_conntrack(ft, &a, SEC, &r);
	assert_int_equal(r.ct, FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 0);
	flow_conntrack(ft, &b, SEC + 1, &r); /* pushes a out */
	flow_conntrack(ft, &a, 2 * SEC, &r); /* a's retransmit, b out */
	assert_int_equal(r.ct, FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 1);
	flow_observe(ft, &b, 3 * SEC, &r); /* b's retransmit, a out */
	EXPECT(r, 1, 1, 0, 1);
	flow_conntrack(ft, &rst, 4 * SEC, &r); /* a refused, while out */
	assert_int_equal(r.ct, FLOW_CT_UNKNOWN);
	flow_conntrack(ft, &a, 5 * SEC, &r); /* a new attempt */
	assert_int_equal(r.ct, FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 0);
	/* the same through flow_observe: b refused while out, then anew */
	rst = rev(&b, PACKET_TCP_RST | PACKET_TCP_ACK);
	flow_observe(ft, &rst, 6 * SEC, &r);
	EXPECT(r, 0, 0, 0, 0);
	flow_observe(ft, &b, 7 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_free(ft);
}

/*
 * A flood aimed at one place: keys chosen so that their hashes under a
 * known key share their top bits (so they share a home bucket, as keys
 * crafted against an unkeyed hash would).  Under that key the overflow
 * run is long; under a random key the same flows spread and every lookup
 * stays within a few buckets.
 */
static void test_flood_spread(void **state)
{
	enum { N = 3000 };
	struct flow_opts known = { .hash_key = 0x243f6a8885a308d3ull };
	struct flow_table *aim = flow_new(&known), *ft;
	static struct packet v[N];
	struct flow_result r;
	struct flow_stats st;
	uint32_t cand = 0;
	unsigned n = 0;

	(void)state;
	assert_non_null(aim);
	while (n < N) {
		struct packet p = pkt(PROTO_UDP, 4, "203.0.113.0", 0,
				      "192.0.2.1", 60000, 0);

		p.src[2] = (uint8_t)(cand >> 16);
		p.src[3] = (uint8_t)(cand >> 8);
		p.sport = (uint16_t)(1024 + (cand & 0xff) * 200 + (cand >> 24));
		cand++;
		if (flow_hash(aim, &p) >> 52 == 0x5a5)
			v[n++] = p;
	}
	for (unsigned i = 0; i < N; i++) {
		flow_observe(aim, &v[i], SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
	}
	flow_get_stats(aim, &st);
	assert_int_equal(st.flows, N);
	assert_true(st.probe_max >= 50);

	ft = mk(0, 0, 0); /* a random key */
	for (unsigned i = 0; i < N; i++) {
		flow_observe(ft, &v[i], SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
	}
	for (unsigned i = 0; i < N; i++) {
		flow_observe(ft, &v[i], 2 * SEC, &r);
		EXPECT(r, 1, 1, 0, 1);
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, N);
	assert_true(st.probe_max <= 4);
	flow_free(ft);
	flow_free(aim);
}

/* A reference model: a table whose bound holds every flow keeps each one.
 * Random UDP traffic in both directions and both families must give the
 * same is_new and reply as the model at every step, whatever the bound
 * above the flow count and the size the table started at. */
struct model_flow {
	int id;
	int init_side;
	int replied;
};

static void run_model(size_t MAX, int UNIVERSE, int STEPS) /* UNIVERSE <= 500 */
{
	struct flow_table *ft = mk(MAX, 4000000000u, 0);
	struct model_flow m[501];
	int n = 0;
	unsigned seed = 1;
	uint64_t t = 0;
	struct flow_stats st;

	for (int step = 0; step < STEPS; step++) {
		struct packet p, q;
		struct flow_result r;
		int id, side, pos, exp_new = 0, exp_reply = 0;

		seed = seed * 1103515245u + 12345u;
		id = (int)((seed >> 8) % UNIVERSE);
		seed = seed * 1103515245u + 12345u;
		side = (int)((seed >> 8) & 1);
		p = pkt(PROTO_UDP, id % 3 ? 4 : 6, "10.0.0.1", (uint16_t)id,
			"10.0.0.2", 9999, 0);
		p.src[2] = (uint8_t)(id & 7);
		q = side ? rev(&p, 0) : p;

		for (pos = 0; pos < n && m[pos].id != id; pos++)
			;
		if (pos == n) {
			struct model_flow f = { id, side, 0 };

			exp_new = 1;
			assert_true((size_t)n < MAX);
			memmove(&m[1], &m[0], (size_t)n * sizeof(m[0]));
			m[0] = f;
			n++;
		} else {
			struct model_flow f = m[pos];

			if (side == f.init_side && !f.replied)
				exp_new = 1;
			if (side != f.init_side && !f.replied) {
				exp_reply = 1;
				f.replied = 1;
			}
			memmove(&m[1], &m[0], (size_t)pos * sizeof(m[0]));
			m[0] = f;
		}
		flow_observe(ft, &q, t += 2 * SEC, &r);
		if (r.is_new != exp_new || r.reply != exp_reply) {
			print_error("step %d flow %d side %d: got new %d reply %d, "
				    "want %d %d\n", step, id, side, r.is_new,
				    r.reply, exp_new, exp_reply);
			fail();
		}
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, (uint64_t)n);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.expired, 0);
	flow_free(ft);
}

static void test_against_model(void **state)
{
	(void)state;
	run_model(3, 3, 1000);
	run_model(20, 20, 20000);
	run_model(200, 200, 30000);
	run_model(500, 500, 30000);
	run_model(501, 500, 30000);
	run_model(100000, 500, 30000);
}

/* TCP against a reference state machine of flow.h's contract: random
 * SYN, SYN/ACK, RST, FIN and ACK segments from either side, over as many
 * flows as the table holds (no eviction). */
static void run_tcp_model(size_t max, int universe, int steps)
{
	enum { ABSENT = 0, OPENING, DONE };
	struct flow_table *ft = mk(max, 0, 4000000u);
	int st[256], init[256];
	unsigned seed = 7;
	uint64_t t = 0;

	memset(st, 0, sizeof(st));
	memset(init, 0, sizeof(init));
	for (int step = 0; step < steps; step++) {
		static const uint8_t kinds[] = {
			PACKET_TCP_SYN,
			PACKET_TCP_SYN | PACKET_TCP_ACK,
			PACKET_TCP_SYN | PACKET_TCP_ACK,
			PACKET_TCP_RST | PACKET_TCP_ACK,
			PACKET_TCP_RST,
			PACKET_TCP_FIN | PACKET_TCP_ACK,
			PACKET_TCP_ACK,
			PACKET_TCP_ACK | PACKET_TCP_PSH,
		};
		struct packet p, q;
		struct flow_result r;
		int id, side, en = 0, ert = 0, erp = 0;
		uint8_t fl;

		seed = seed * 1103515245u + 12345u;
		id = (int)((seed >> 8) % (unsigned)universe);
		seed = seed * 1103515245u + 12345u;
		side = (int)((seed >> 8) & 1);
		seed = seed * 1103515245u + 12345u;
		fl = kinds[(seed >> 8) % 8];
		p = pkt(PROTO_TCP, id % 2 ? 4 : 6, "10.0.0.1", (uint16_t)id,
			"10.0.0.2", 443, 0);
		p.src[2] = (uint8_t)(id & 3);
		q = side ? rev(&p, fl) : p;
		q.tcp_flags = fl;
		q.conn_attempt = (fl & PACKET_TCP_SYN) && !(fl & PACKET_TCP_ACK);

		if (q.conn_attempt) {
			en = 1;
			if (st[id] == OPENING) {
				ert = side == init[id];
			} else {
				st[id] = OPENING;
				init[id] = side;
			}
		} else if (st[id] == OPENING) {
			if (fl & (PACKET_TCP_RST | PACKET_TCP_FIN)) {
				st[id] = DONE;
			} else if ((fl & PACKET_TCP_SYN) && side != init[id]) {
				erp = 1;
				st[id] = DONE;
			}
		}
		flow_observe(ft, &q, t += 1000, &r);
		if (r.is_new != en || r.retransmit != ert || r.reply != erp) {
			print_error("step %d flow %d side %d flags %#x: got %d %d "
				    "%d, want %d %d %d\n", step, id, side, fl,
				    r.is_new, r.retransmit, r.reply, en, ert,
				    erp);
			fail();
		}
	}
	flow_free(ft);
}

static void test_tcp_against_model(void **state)
{
	(void)state;
	run_tcp_model(64, 60, 40000);
	run_tcp_model(200, 200, 40000);
	run_tcp_model(1000, 256, 40000);
}

static void test_time_backwards(void **state)
{
	struct flow_table *ft = mk(4, 30, 60);
	struct packet q = pkt(PROTO_UDP, 4, "10.0.0.1", 4000, "10.0.0.2", 53,
			      0);
	struct packet syn = pkt(PROTO_TCP, 4, "10.0.0.1", 4001, "10.0.0.2",
				80, PACKET_TCP_SYN);
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	flow_observe(ft, &q, 1000 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	/* The clock jumps back an hour: the flow is not "expired" by an
	 * unsigned wrap-around, and nothing else breaks. */
	flow_observe(ft, &q, 1 * SEC, &r);
	EXPECT(r, 1, 1, 0, 1);
	flow_observe(ft, &syn, 0, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &syn, UINT64_MAX, &r); /* far future: expired */
	EXPECT(r, 1, 0, 0, 1);
	flow_observe(ft, &syn, 5, &r);		/* and back to the start */
	EXPECT(r, 1, 1, 0, 1);
	/* Timing from the latest time seen still works. */
	flow_observe(ft, &q, 1 * SEC + 31 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_get_stats(ft, &st);
	assert_true(st.flows <= 4);
	flow_free(ft);
}

static void test_prefetch_changes_nothing(void **state)
{
	struct flow_table *ft = mk(8, 0, 0);
	struct packet p = pkt(PROTO_UDP, 4, "10.0.0.1", 1, "10.0.0.2", 2, 0);
	struct packet icmp = pkt(PROTO_ICMP, 4, "10.0.0.1", 0, "10.0.0.2", 0,
				 0);
	struct packet bad = p;
	struct flow_result r;
	struct flow_stats st;

	(void)state;
	icmp.has_ports = 0;
	bad.status = PACKET_MALFORMED;
	flow_prefetch(ft, &p);
	flow_prefetch(ft, &icmp);
	flow_prefetch(ft, &bad);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 0);
	assert_int_equal(st.created, 0);
	for (int i = 0; i < 20; i++) { /* full table: the victim too */
		p.sport = (uint16_t)(i + 1);
		flow_prefetch(ft, &p);
		flow_observe(ft, &p, (uint64_t)i * 2 * SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
		flow_prefetch(ft, &p);
		flow_observe(ft, &p, (uint64_t)i * 2 * SEC, &r);
		EXPECT(r, 1, 1, 0, 1);
	}
	flow_get_stats(ft, &st);
	/* each of the 12 flows past the bound pushed one out, live or idle
	 * past the 30 s timeout; those left idle past it count as expired */
	assert_true(st.flows <= 8);
	assert_int_equal(st.created, 20);
	assert_int_equal(st.flows + st.evicted + st.expired, 20);
	flow_free(ft);
}

static void test_memory_per_flow(void **state)
{
	struct flow_table *ft = mk(0, 0, 0);
	struct flow_stats st;
	size_t empty;

	(void)state;
	assert_true(flow_entry_size() <= 64);
	flow_get_stats(ft, &st);
	/* The default bound (millions of flows) is not taken up front. */
	assert_true(st.bytes < (size_t)4 << 20);
	empty = st.bytes;
	flow_free(ft);

	ft = mk(1000, 0, 0); /* not a power of two */
	flow_get_stats(ft, &st);
	/* a small table pays the gone set's minimum, 512 KiB */
	assert_true(st.bytes <= 1000 * flow_entry_size() + (512 << 10));
	assert_true(st.bytes <= empty);
	flow_free(ft);
}

/*
 * Growth: below its bound the table never evicts, whatever it started
 * with, and every flow keeps its state across the moves; memory follows
 * the flows seen.  At the bound the least recently seen flow goes, as
 * before growth: the LRU order survived the rehashes.
 */
static void test_growth_keeps_flows(void **state)
{
	const unsigned n = 100000;
	struct flow_table *ft = mk(n, 0, 0);
	struct flow_result r;
	struct flow_stats st;
	struct packet p;
	unsigned i;

	(void)state;
	for (i = 0; i < n; i++) {
		p = pkt(PROTO_UDP, 4, "198.51.100.7", (uint16_t)(1024 + i % 60000),
			"192.0.2.1", (uint16_t)(50000 + i / 60000), 0);
		flow_observe(ft, &p, 1 * SEC, &r);
		EXPECT(r, 1, 0, 0, 1);
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, n);
	assert_int_equal(st.evicted, 0);
	assert_true(st.grown >= 1);
	/* the bound's own figure, and the gone set (512 KiB) */
	assert_true(st.bytes <= n * flow_entry_size() + (512 << 10) + 4096);
	/* Every flow is still known: the second datagram is a retransmit. */
	for (i = 0; i < n; i++) {
		p = pkt(PROTO_UDP, 4, "198.51.100.7", (uint16_t)(1024 + i % 60000),
			"192.0.2.1", (uint16_t)(50000 + i / 60000), 0);
		flow_observe(ft, &p, 3 * SEC, &r);
		EXPECT(r, 1, 1, 0, 1);
	}
	/* Full: one new flow pushes one out.  Its late datagram opens
	 * nothing new: it is a retransmit, as every other flow's. */
	p = pkt(PROTO_UDP, 4, "203.0.113.9", 5353, "192.0.2.1", 60000, 0);
	flow_observe(ft, &p, 5 * SEC, &r);
	EXPECT(r, 1, 0, 0, 1);
	flow_get_stats(ft, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.flows, n);
	for (i = 0; i < n; i++) {
		p = pkt(PROTO_UDP, 4, "198.51.100.7", (uint16_t)(1024 + i % 60000),
			"192.0.2.1", (uint16_t)(50000 + i / 60000), 0);
		flow_observe(ft, &p, 6 * SEC, &r);
		EXPECT(r, 1, 1, 0, 1); /* the one pushed out comes back */
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.forgotten, 0);
	assert_true(st.evicted >= 1);
	flow_free(ft);
}

/*
 * The answer does not depend on the bound: a mix of UDP and TCP over both
 * families, with flows expiring and coming back, run through tables whose
 * bounds all hold the flows live at once (and with different keys), gives
 * the same results packet for packet, flow_observe's and flow_conntrack's.
 */
struct run_out {
	uint8_t v[6];
};

static void run_mix(size_t max, uint64_t key, int conntrack,
		    struct run_out *out, unsigned steps, struct flow_stats *st)
{
	struct flow_opts o = { .max_flows = max, .udp_timeout_s = 30,
			       .tcp_timeout_s = 120, .hash_key = key };
	struct flow_table *ft = flow_new(&o);
	unsigned seed = 99;
	uint64_t t = 1000 * SEC;

	assert_non_null(ft);
	for (unsigned step = 0; step < steps; step++) {
		static const uint8_t kinds[] = {
			PACKET_TCP_SYN, PACKET_TCP_SYN | PACKET_TCP_ACK,
			PACKET_TCP_ACK, PACKET_TCP_RST, PACKET_TCP_FIN |
			PACKET_TCP_ACK, PACKET_TCP_ACK | PACKET_TCP_PSH,
		};
		struct packet p, q;
		struct flow_result r;
		unsigned id, side, k;
		uint8_t fl;

		seed = seed * 1103515245u + 12345u;
		id = (seed >> 8) % 3000;
		seed = seed * 1103515245u + 12345u;
		side = (seed >> 8) & 1;
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % 6;
		fl = id % 2 ? kinds[k] : 0;
		p = pkt(id % 2 ? PROTO_TCP : PROTO_UDP, id % 5 ? 4 : 6,
			"10.0.0.1", (uint16_t)(30000 + id), "10.0.0.2",
			(uint16_t)(60000 + id % 7), fl);
		p.src[2] = (uint8_t)(id >> 8);
		q = side ? rev(&p, fl) : p;
		/* 2 ms a packet, with a pause of a minute now and then */
		t += (seed >> 8) % 4000 == 0 ? 60 * SEC : 2000000;
		if (conntrack)
			flow_conntrack(ft, &q, t, &r);
		else
			flow_observe(ft, &q, t, &r);
		out[step].v[0] = r.is_new;
		out[step].v[1] = r.retransmit;
		out[step].v[2] = r.reply;
		out[step].v[3] = r.tracked;
		out[step].v[4] = r.ct;
		out[step].v[5] = r.pickup;
	}
	flow_get_stats(ft, st);
	flow_free(ft);
}

static void test_same_answer_any_bound(void **state)
{
	enum { STEPS = 60000 };
	static struct run_out ref[STEPS], got[STEPS];
	static const size_t bounds[] = { 3000, 3001, 4096, 100000, 0 };
	struct flow_stats st;

	(void)state;
	for (int ctk = 0; ctk < 2; ctk++) {
		run_mix(3000, 1, ctk, ref, STEPS, &st);
		assert_int_equal(st.evicted, 0);
		assert_true(st.expired > 0);
		for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
			run_mix(bounds[b], b ? 0 : 2, ctk, got, STEPS, &st);
			assert_int_equal(st.evicted, 0);
			assert_memory_equal(ref, got, sizeof(ref));
		}
	}
}

/* An idle table drains: one packet long after the last frees the rest. */
static void test_idle_table_drains(void **state)
{
	struct flow_table *ft = mk(0, 30, 60);
	struct flow_result r;
	struct flow_stats st;
	struct packet p;

	(void)state;
	for (unsigned i = 0; i < 50000; i++) {
		p = pkt(i % 2 ? PROTO_TCP : PROTO_UDP, 4, "10.1.0.1",
			(uint16_t)(1024 + i % 60000), "10.2.0.1",
			(uint16_t)(443 + i / 60000), PACKET_TCP_SYN);
		p.src[2] = (uint8_t)(i >> 8);
		flow_observe(ft, &p, SEC + i * 1000ull, &r);
		EXPECT(r, 1, 0, 0, 1);
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 50000);
	/* 40 s on: the UDP half is idle past 30 s, the TCP half not yet;
	 * the sweep has gone round the table once. */
	p = pkt(PROTO_UDP, 4, "10.9.9.9", 9, "10.8.8.8", 8, 0);
	flow_observe(ft, &p, 41 * SEC, &r);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 25001);
	assert_int_equal(st.expired, 25000);
	flow_observe(ft, &p, 200 * SEC, &r);
	flow_get_stats(ft, &st);
	assert_int_equal(st.flows, 1);
	assert_int_equal(st.expired, 50001);
	flow_free(ft);
}

static void test_bad_opts(void **state)
{
	struct flow_opts o = { .max_flows = (size_t)1 << 40 };

	(void)state;
	assert_null(flow_new(&o));
	flow_free(NULL);
	/* NULL opts: defaults. */
	struct flow_table *ft = flow_new(NULL);
	assert_non_null(ft);
	flow_free(ft);
}

/* conntrack's view, one packet at a time: the ct state it would match. */
static uint8_t ct(struct flow_table *ft, const struct packet *p, uint64_t t,
		  struct flow_result *r)
{
	flow_conntrack(ft, p, t, r);
	return r->ct;
}

static void test_ct_invalid_flags(void **state)
{
	static const uint8_t bad[] = {
		PACKET_TCP_SYN | PACKET_TCP_FIN,
		PACKET_TCP_SYN | PACKET_TCP_RST,
		PACKET_TCP_SYN | PACKET_TCP_FIN | PACKET_TCP_ACK,
		0,			/* null scan */
		PACKET_TCP_FIN,		/* FIN scan: FIN without ACK */
		PACKET_TCP_FIN | PACKET_TCP_PSH | 0x20, /* Xmas */
		PACKET_TCP_RST | PACKET_TCP_FIN,
		PACKET_TCP_PSH,
		0x20,			/* URG alone */
	};
	struct flow_table *ft = mk(16, 0, 0);
	struct flow_stats st;
	struct flow_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		struct packet p = pkt(PROTO_TCP, 4, "10.0.0.1", 40000,
				      "10.0.0.2", 60314, bad[i]);

		assert_int_equal(ct(ft, &p, SEC, &r), FLOW_CT_INVALID);
		assert_int_equal(r.is_new, 0);
	}
	flow_get_stats(ft, &st);
	assert_int_equal(st.created, 0);
	/* PSH, ECE, CWR do not matter: SYN+ECE+CWR is a SYN */
	struct packet syn = pkt(PROTO_TCP, 4, "10.0.0.1", 40001, "10.0.0.2",
				60314, PACKET_TCP_SYN | 0xc0);
	assert_int_equal(ct(ft, &syn, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(r.is_new, 1);
	flow_free(ft);
}

static void test_ct_handshake_and_pickup(void **state)
{
	struct flow_table *ft = mk(16, 0, 0);
	struct flow_stats st;
	struct flow_result r;
	struct packet syn = pkt(PROTO_TCP, 4, "10.0.0.1", 40000, "10.0.0.2",
				60314, PACKET_TCP_SYN);
	struct packet synack = rev(&syn, PACKET_TCP_SYN | PACKET_TCP_ACK);
	struct packet ack = syn, ack2;

	(void)state;
	ack.tcp_flags = PACKET_TCP_ACK;
	ack.conn_attempt = 0;
	assert_int_equal(ct(ft, &syn, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(ct(ft, &syn, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 1);
	assert_int_equal(ct(ft, &synack, SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(r.reply, 1);
	assert_int_equal(ct(ft, &ack, SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(r.is_new, 0);

	/* a lone ACK with no flow: picked up, NEW until answered */
	ack2 = pkt(PROTO_TCP, 4, "10.0.0.9", 41000, "10.0.0.2", 60314,
		   PACKET_TCP_ACK);
	assert_int_equal(ct(ft, &ack2, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(r.pickup, 1);
	assert_int_equal(r.retransmit, 0);
	assert_int_equal(ct(ft, &ack2, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 1);
	/* the RST that answers it is no listener reply */
	struct packet rst = rev(&ack2, PACKET_TCP_RST);
	assert_int_equal(ct(ft, &rst, SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(r.reply, 0);
	/* SYN+ACK, FIN+ACK, RST without a flow: INVALID */
	struct packet stray = pkt(PROTO_TCP, 4, "10.0.0.7", 42000, "10.0.0.2",
				  60314, PACKET_TCP_SYN | PACKET_TCP_ACK);
	assert_int_equal(ct(ft, &stray, SEC, &r), FLOW_CT_INVALID);
	stray.tcp_flags = PACKET_TCP_FIN | PACKET_TCP_ACK;
	assert_int_equal(ct(ft, &stray, SEC, &r), FLOW_CT_INVALID);
	stray.tcp_flags = PACKET_TCP_RST;
	assert_int_equal(ct(ft, &stray, SEC, &r), FLOW_CT_INVALID);
	flow_get_stats(ft, &st);
	assert_int_equal(st.pickups, 1);
	flow_free(ft);

	/* nf_conntrack_tcp_loose=0: the lone ACK is INVALID */
	struct flow_opts o = { .max_flows = 16, .tcp_strict = 1 };
	ft = flow_new(&o);
	assert_non_null(ft);
	assert_int_equal(ct(ft, &ack2, SEC, &r), FLOW_CT_INVALID);
	assert_int_equal(r.is_new, 0);
	assert_int_equal(ct(ft, &syn, SEC, &r), FLOW_CT_NEW);
	flow_free(ft);
}

/* Eviction must not invent a NEW: a late ACK of a flow pushed out of the
 * table is UNKNOWN, not a pickup; a SYN is still NEW. */
static void test_ct_evicted_not_new(void **state)
{
	struct flow_table *ft = mk(1, 0, 0);
	struct flow_stats st;
	struct flow_result r;
	struct packet a = pkt(PROTO_TCP, 4, "10.0.0.1", 40000, "10.0.0.2",
			      60314, PACKET_TCP_SYN);
	struct packet b = pkt(PROTO_TCP, 4, "10.0.0.3", 40000, "10.0.0.2",
			      60314, PACKET_TCP_SYN);
	struct packet late = a;

	(void)state;
	late.tcp_flags = PACKET_TCP_ACK;
	late.conn_attempt = 0;
	assert_int_equal(ct(ft, &a, SEC, &r), FLOW_CT_NEW);
	struct packet sa = rev(&a, PACKET_TCP_SYN | PACKET_TCP_ACK);
	assert_int_equal(ct(ft, &sa, SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(ct(ft, &b, 2 * SEC, &r), FLOW_CT_NEW); /* evicts a */
	assert_int_equal(ct(ft, &late, 3 * SEC, &r), FLOW_CT_UNKNOWN);
	assert_int_equal(r.is_new, 0);
	/* expired after the replay's idle timeout, the same */
	assert_int_equal(ct(ft, &a, 4 * SEC, &r), FLOW_CT_NEW);
	assert_int_equal(ct(ft, &sa, 4 * SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(ct(ft, &late, 1000 * SEC, &r), FLOW_CT_UNKNOWN);
	flow_get_stats(ft, &st);
	assert_int_equal(st.forgotten, 2);
	assert_int_equal(st.pickups, 0);
	flow_free(ft);
}

static void test_ct_other_protocols(void **state)
{
	struct flow_table *ft = mk(16, 0, 0);
	struct flow_result r;
	struct packet u = pkt(PROTO_UDP, 6, "1.1.1.1", 5000, "1.1.1.2", 60000, 0);
	struct packet ur = rev(&u, 0);
	struct packet bad = u, cut = u, icmp = u, sctp;

	(void)state;
	assert_int_equal(ct(ft, &u, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(ct(ft, &u, SEC, &r), FLOW_CT_NEW);
	assert_int_equal(r.retransmit, 1);
	assert_int_equal(ct(ft, &ur, SEC, &r), FLOW_CT_ESTABLISHED);
	assert_int_equal(ct(ft, &u, SEC, &r), FLOW_CT_ESTABLISHED);
	bad.status = PACKET_MALFORMED;
	bad.reason = PR_BAD_UDP_LENGTH;
	assert_int_equal(ct(ft, &bad, SEC, &r), FLOW_CT_INVALID);
	bad.proto = PROTO_TCP;
	bad.reason = PR_BAD_TCP_OFFSET;
	assert_int_equal(ct(ft, &bad, SEC, &r), FLOW_CT_INVALID);
	cut.status = PACKET_TRUNCATED;
	cut.reason = PR_TRUNC_UDP;
	assert_int_equal(ct(ft, &cut, SEC, &r), FLOW_CT_UNKNOWN);
	icmp.proto = PROTO_ICMP6;
	icmp.has_ports = 0;
	assert_int_equal(ct(ft, &icmp, SEC, &r), FLOW_CT_UNKNOWN);
	sctp = pkt(PROTO_SCTP, 4, "1.1.1.1", 5000, "1.1.1.2", 60000, 0);
	sctp.conn_attempt = 1;
	assert_int_equal(ct(ft, &sctp, SEC, &r), FLOW_CT_NEW);
	sctp.conn_attempt = 0;
	sctp.sport = 5001;
	assert_int_equal(ct(ft, &sctp, SEC, &r), FLOW_CT_UNKNOWN);
	assert_string_equal(flow_ct_name(FLOW_CT_INVALID), "invalid");
	assert_string_equal(flow_ct_name(FLOW_CT_UNKNOWN), "unknown");
	flow_free(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_handshake),
		cmocka_unit_test(test_ct_invalid_flags),
		cmocka_unit_test(test_ct_handshake_and_pickup),
		cmocka_unit_test(test_ct_evicted_not_new),
		cmocka_unit_test(test_ct_other_protocols),
		cmocka_unit_test(test_tcp_rst_and_midstream),
		cmocka_unit_test(test_tcp_only_synack_replies),
		cmocka_unit_test(test_tcp_simultaneous_open),
		cmocka_unit_test(test_udp_both_directions),
		cmocka_unit_test(test_udp_timeout),
		cmocka_unit_test(test_tcp_timeout_and_reap),
		cmocka_unit_test(test_sctp_dccp),
		cmocka_unit_test(test_no_ports_untouched),
		cmocka_unit_test(test_eviction_in_bucket),
		cmocka_unit_test(test_evicted_never_new),
		cmocka_unit_test(test_evicted_attempt),
		cmocka_unit_test(test_flood_spread),
		cmocka_unit_test(test_same_answer_any_bound),
		cmocka_unit_test(test_idle_table_drains),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_tcp_against_model),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_prefetch_changes_nothing),
		cmocka_unit_test(test_memory_per_flow),
		cmocka_unit_test(test_growth_keeps_flows),
		cmocka_unit_test(test_bad_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
