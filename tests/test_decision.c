/* Tests for rules/decision.c: decisions for a set of policies, on packets
 * crafted as raw bytes and run through packet_parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "decision.h"
#include "flow.h"
#include "listener.h"
#include "packet.h"
#include "ruleset.h"

/* ---- packet crafting --------------------------------------------------- */

struct raw {
	uint8_t b[128];
	size_t len;
	struct packet p;
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Builds an IPv4 or IPv6 packet (by the form of the addresses) carrying
 * TCP (flags), UDP, UDP-Lite or ICMP, and parses it. */
static const struct packet *craft(struct raw *r, int ipproto,
				  const char *src, uint16_t sport,
				  const char *dst, uint16_t dport,
				  uint8_t tcp_flags)
{
	int v6 = strchr(src, ':') != NULL;
	size_t ih = v6 ? 40 : 20;
	size_t l4 = ipproto == IPPROTO_TCP ? 20 : 8;
	uint8_t *b = r->b;

	memset(r, 0, sizeof(*r));
	r->len = ih + l4;
	if (v6) {
		b[0] = 0x60;
		put16(b + 4, (uint16_t)l4);
		b[6] = (uint8_t)ipproto;
		b[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, src, b + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, b + 24), 1);
	} else {
		b[0] = 0x45;
		put16(b + 2, (uint16_t)r->len);
		b[8] = 64;
		b[9] = (uint8_t)ipproto;
		assert_int_equal(inet_pton(AF_INET, src, b + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, b + 16), 1);
	}
	b += ih;
	if (ipproto == IPPROTO_ICMP || ipproto == IPPROTO_ICMPV6) {
		b[0] = 8; /* echo request */
	} else {
		put16(b, sport);
		put16(b + 2, dport);
		if (ipproto == IPPROTO_TCP) {
			b[12] = 0x50;
			b[13] = tcp_flags;
			put16(b + 14, 65535);
		} else if (ipproto == IPPROTO_UDP) {
			put16(b + 4, (uint16_t)l4);
		} else {
			put16(b + 4, 8); /* UDP-Lite checksum coverage */
		}
	}
	packet_parse(&r->p, r->b, r->len);
	return &r->p;
}

#define SYN PACKET_TCP_SYN
#define SYNACK (PACKET_TCP_SYN | PACKET_TCP_ACK)
#define ACK PACKET_TCP_ACK

static const struct packet *tcp(struct raw *r, const char *src,
				uint16_t sport, const char *dst,
				uint16_t dport, uint8_t flags)
{
	const struct packet *p = craft(r, IPPROTO_TCP, src, sport, dst, dport,
				       flags);

	assert_int_equal(p->status, PACKET_OK);
	assert_int_equal(p->proto, PROTO_TCP);
	return p;
}

static const struct packet *udp(struct raw *r, const char *src,
				uint16_t sport, const char *dst,
				uint16_t dport)
{
	const struct packet *p = craft(r, IPPROTO_UDP, src, sport, dst, dport,
				       0);

	assert_int_equal(p->status, PACKET_OK);
	assert_int_equal(p->proto, PROTO_UDP);
	return p;
}

/* ---- policies ---------------------------------------------------------- */

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	print_error("%s\n", diag);
}

static struct ruleset *policy(const char *text)
{
	struct ruleset_opts o = { .report = report };
	int nerr = 0;
	struct ruleset *rs = ruleset_parse_string("test.rules", text, &o,
						  &nerr);

	assert_int_equal(nerr, 0);
	assert_non_null(rs);
	return rs;
}

/* Line numbers below are referred to in the tests. */
static const char *const POLICY_MAIN =
	"dynamic-range iana\n"				       /* 1 */
	"unexpected reject log\n"			       /* 2 */
	"default pass\n"				       /* 3 */
	"expect udp port 60000-61000 program mosh-server\n"    /* 4 */
	"expect tcp port 55000 from 198.51.100.0/24\n"	       /* 5 */
	"drop log tcp to port 60314\n"			       /* 6 */
	"pass udp from port 53\n"			       /* 7 */
	"reject tcp from 203.0.113.0/24 to class dynamic new\n"; /* 8 */

#define ATTACKER "203.0.113.9"
#define FRIEND "198.51.100.20"
#define OTHER "192.0.2.77"
#define HOST "192.0.2.1"

static void expect_decision(const struct decision *d, enum verdict v, int log,
			    enum decision_reason why, unsigned line)
{
	assert_int_equal(d->verdict, v);
	assert_int_equal(d->log, log);
	assert_int_equal(d->reason, why);
	if (why == REASON_RULE || why == REASON_EXPECTED) {
		assert_non_null(d->rule_file);
		assert_string_equal(d->rule_file, "test.rules");
		assert_int_equal(d->rule_line, line);
	} else {
		assert_null(d->rule_file);
	}
	assert_int_equal(d->alert,
			 why == REASON_UNEXPECTED || why == REASON_UNDETERMINED);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(decision_dir_name(DIR_IN), "in");
	assert_string_equal(decision_dir_name(DIR_OUT), "out");
	assert_string_equal(decision_dir_name(DIR_TRANSIT), "transit");
	assert_string_equal(decision_dir_name(DIR_LOOPBACK), "loopback");
	assert_string_equal(decision_reason_name(REASON_DEFAULT), "default");
	assert_string_equal(decision_reason_name(REASON_RULE), "rule");
	assert_string_equal(decision_reason_name(REASON_UNEXPECTED),
			    "unexpected");
	assert_string_equal(decision_reason_name(REASON_EXPECTED), "expected");
	assert_string_equal(decision_reason_name(REASON_UNDETERMINED),
			    "undetermined");
	assert_string_equal(decision_reason_name(REASON_INVALID), "invalid");
	assert_string_equal(decision_reason_name(REASON_COUNT), "default");
}

static void test_rule_match(void **state)
{
	struct ruleset *rs = policy(POLICY_MAIN);
	struct raw r;
	struct decision d;

	(void)state;
	/* Explicit rule first, even for a non-NEW packet. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 60314, ACK),
		      0, -1, &d);
	expect_decision(&d, VERDICT_DROP, 1, REASON_RULE, 6);
	assert_int_equal(d.is_new, 0);
	assert_int_equal(d.sclass, CLASS_USER);
	assert_int_equal(d.dclass, CLASS_DYNAMIC);
	assert_int_equal(d.dyn_dport, 1);
	assert_int_equal(d.dir, DIR_IN);

	decision_make(rs, NULL, NULL, udp(&r, OTHER, 53, HOST, 61000), 0, -1,
		      &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_RULE, 7);
	assert_int_equal(d.sclass, CLASS_SYSTEM);

	/* `new` rules need a connection attempt. */
	decision_make(rs, NULL, NULL,
		      tcp(&r, ATTACKER, 40000, HOST, 50000, SYN), 0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 0, REASON_RULE, 8);
	assert_int_equal(d.is_new, 1);
	decision_make(rs, NULL, NULL,
		      tcp(&r, ATTACKER, 40000, HOST, 50000, ACK), 0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* ... to class dynamic only. */
	decision_make(rs, NULL, NULL,
		      tcp(&r, ATTACKER, 40000, HOST, 8080, SYN), 0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	assert_int_equal(d.dyn_dport, 0);
	ruleset_free(rs);
}

static void test_unexpected_expected(void **state)
{
	struct ruleset *rs = policy(POLICY_MAIN);
	struct raw r;
	struct decision d;

	(void)state;
	/* NEW to the dynamic range, nothing expects it. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 50001, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.listener, -1); /* no table */
	assert_null(d.owner_of);

	/* The same port, not NEW: default. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 50001, ACK),
		      0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* NEW to the user range: default. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 8443, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* The boundaries of the iana range. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 49151, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 49152, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 65535, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);

	/* Expected by address: the default action, with the expect's line. */
	decision_make(rs, NULL, NULL,
		      tcp(&r, FRIEND, 40000, HOST, 55000, SYN), 0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_EXPECTED, 5);
	/* Same port from elsewhere: unexpected. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 40000, HOST, 55000, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);

	/* IPv6 works the same way. */
	decision_make(rs, NULL, NULL,
		      tcp(&r, "2001:db8::9", 40000, "2001:db8::1", 50002, SYN),
		      0, -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);
	ruleset_free(rs);
}

static int resolver_calls;

static int resolve_mosh(void *ctx, struct listener *l)
{
	(void)ctx;
	resolver_calls++;
	if (l->inode != 1)
		return -1;
	snprintf(l->owner.program, sizeof(l->owner.program), "mosh-server");
	l->owner.pid = 4242;
	return 0;
}

static void add_listener(struct listener_table *t, uint8_t proto,
			 const char *addr, uint16_t port, uint64_t inode)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = proto;
	l.family = 4;
	l.port = port;
	l.inode = inode;
	l.owner.pid = -1;
	assert_int_equal(inet_pton(AF_INET, addr, l.addr), 1);
	assert_int_equal(listener_table_add(t, &l), 0);
}

static void test_undetermined(void **state)
{
	struct ruleset *rs = policy(POLICY_MAIN);
	struct listener_table *lt = listener_table_new();
	struct flow_table *ft = flow_new(NULL);
	struct raw r;
	struct decision d;

	(void)state;
	assert_non_null(lt);
	assert_non_null(ft);
	/* UDP to a port `expect ... program` covers, without any listener
	 * table: the owner cannot be known. */
	decision_make(rs, ft, NULL, udp(&r, OTHER, 40000, HOST, 60500), 1, -1,
		      &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNDETERMINED, 0);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.listener, -1);

	/* With a table: mosh-server listens on 60500 (resolved lazily),
	 * something unknown on 60600, nothing on 60700. */
	add_listener(lt, PROTO_UDP, "0.0.0.0", 60500, 1);
	add_listener(lt, PROTO_UDP, HOST, 60600, 2);
	listener_table_set_resolver(lt, resolve_mosh, NULL);
	resolver_calls = 0;

	decision_make(rs, ft, lt, udp(&r, OTHER, 40001, HOST, 60500), 2, -1,
		      &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_EXPECTED, 4);
	assert_int_equal(resolver_calls, 1);
	/* A second client: the owner is cached. */
	decision_make(rs, ft, lt, udp(&r, FRIEND, 40001, HOST, 60500), 3, -1,
		      &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_EXPECTED, 4);
	assert_int_equal(resolver_calls, 1);

	/* A listener whose owner cannot be found: undetermined, and it is a
	 * listener (rogue, not a probe). */
	decision_make(rs, ft, lt, udp(&r, OTHER, 40002, HOST, 60600), 4, -1,
		      &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNDETERMINED, 0);
	assert_int_equal(d.listener, 1);
	assert_non_null(d.owner_of);
	assert_int_equal(d.owner_of->port, 60600);

	/* Nothing listens: no program can be the expected one, a probe. */
	decision_make(rs, ft, lt, udp(&r, OTHER, 40003, HOST, 60700), 5, -1,
		      &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);
	assert_int_equal(d.listener, 0);
	assert_null(d.owner_of);

	/* Unexpected TCP with the table: listener known, no expect rule. */
	add_listener(lt, PROTO_TCP, "0.0.0.0", 50505, 3);
	decision_make(rs, ft, lt, tcp(&r, OTHER, 40004, HOST, 50505, SYN), 6,
		      -1, &d);
	expect_decision(&d, VERDICT_REJECT, 1, REASON_UNEXPECTED, 0);
	assert_int_equal(d.listener, 1);
	assert_non_null(d.owner_of);
	assert_int_equal(d.owner_of->inode, 3);

	flow_free(ft);
	listener_table_free(lt);
	ruleset_free(rs);
}

static void test_default_and_invalid(void **state)
{
	struct ruleset *rs = policy("default pass\nunexpected pass\n");
	struct ruleset *rs2 = policy("default drop\ninvalid pass\n");
	struct raw r;
	struct decision d;
	const struct packet *p;

	(void)state;
	/* ICMP: no ports, classes none, default. */
	p = craft(&r, IPPROTO_ICMP, OTHER, 0, HOST, 0, 0);
	assert_int_equal(p->status, PACKET_OK);
	decision_make(rs, NULL, NULL, p, 0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	assert_int_equal(d.sclass, CLASS_NONE);
	assert_int_equal(d.dclass, CLASS_NONE);
	assert_int_equal(d.dyn_dport, 0);

	/* The unexpected action can be pass, and is still an alert. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 60000, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_UNEXPECTED, 0);

	/* Truncated TCP (ports cut off): the `invalid` action, drop log
	 * by default, even though `default` is pass: what cannot be read
	 * is never waved through. */
	tcp(&r, OTHER, 1, HOST, 60000, SYN);
	packet_parse(&r.p, r.b, 22);
	assert_int_equal(r.p.status, PACKET_TRUNCATED);
	decision_make(rs, NULL, NULL, &r.p, 0, 1, &d);
	expect_decision(&d, VERDICT_DROP, 1, REASON_INVALID, 0);
	assert_int_equal(d.is_new, 0);
	/* ... and whatever `invalid` says, not `default` */
	decision_make(rs2, NULL, NULL, &r.p, 0, 1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_INVALID, 0);

	/* Malformed IPv4 header. */
	tcp(&r, OTHER, 1, HOST, 60000, SYN);
	r.b[0] = 0x44; /* ihl 4 */
	packet_parse(&r.p, r.b, r.len);
	assert_int_equal(r.p.status, PACKET_MALFORMED);
	decision_make(rs, NULL, NULL, &r.p, 0, -1, &d);
	expect_decision(&d, VERDICT_DROP, 1, REASON_INVALID, 0);

	/* Garbage: not IP at all. */
	memset(r.b, 0xff, 40);
	packet_parse(&r.p, r.b, 40);
	decision_make(rs, NULL, NULL, &r.p, 0, -1, &d);
	expect_decision(&d, VERDICT_DROP, 1, REASON_INVALID, 0);
	decision_make(rs2, NULL, NULL, &r.p, 0, -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_INVALID, 0);
	ruleset_free(rs);
	ruleset_free(rs2);
}

/* W4: what the front end saw (the hook) decides before `local`; the
 * host's traffic to itself is not inbound unless `loopback inbound`. */
static void test_origin(void **state)
{
	struct ruleset *rs = policy("local 192.0.2.1/32, 2001:db8::1/128\n"
				    "unexpected drop log\n");
	struct ruleset *lo = policy("loopback inbound\nunexpected drop log\n");
	struct raw r;
	struct decision d;
	struct packet p;
	static const char *const to_host[] = {
		"fe80::1", "ff02::1", "192.0.2.255", "255.255.255.255",
		"224.0.0.1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(to_host) / sizeof(*to_host); i++) {
		const char *src = strchr(to_host[i], ':') ? "2001:db9::7"
							  : ATTACKER;

		/* Unknown origin (offline without addresses): `local`
		 * says transit, the default. */
		p = *tcp(&r, src, 1, to_host[i], 60000, SYN);
		decision_make(rs, NULL, NULL, &p, 0, -1, &d);
		assert_int_equal(d.dir, DIR_TRANSIT);
		expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
		/* Queued from INPUT: addressed to this host. */
		p.origin = PACKET_ORIGIN_HOST;
		decision_make(rs, NULL, NULL, &p, 0, -1, &d);
		assert_int_equal(d.dir, DIR_IN);
		expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
		/* FORWARD: `local` decides. */
		p.origin = PACKET_ORIGIN_FORWARD;
		decision_make(rs, NULL, NULL, &p, 0, -1, &d);
		assert_int_equal(d.dir, DIR_TRANSIT);
	}
	/* Loopback: by origin, or 127/8 and ::1 at both ends. */
	p = *tcp(&r, HOST, 1, HOST, 60000, SYN);
	p.origin = PACKET_ORIGIN_LOOPBACK;
	decision_make(rs, NULL, NULL, &p, 0, -1, &d);
	assert_int_equal(d.dir, DIR_LOOPBACK);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	decision_make(lo, NULL, NULL, &p, 0, -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	decision_make(lo, NULL, NULL, tcp(&r, "127.0.0.1", 1, "127.0.0.2",
					  60000, SYN), 0, -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	decision_make(rs, NULL, NULL, tcp(&r, "127.0.0.1", 1, "127.0.0.2",
					  60000, SYN), 0, -1, &d);
	assert_int_equal(d.dir, DIR_LOOPBACK);
	decision_make(rs, NULL, NULL, tcp(&r, "::1", 1, "::1", 60000, SYN), 0,
		      -1, &d);
	assert_int_equal(d.dir, DIR_LOOPBACK);
	/* 127/8 at one end only is not loopback. */
	decision_make(rs, NULL, NULL, tcp(&r, "127.0.0.1", 1, HOST, 60000, SYN),
		      0, -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	/* Explicit rules still apply to loopback traffic. */
	ruleset_free(lo);
	lo = policy("drop log tcp to port 60000\n");
	p = *tcp(&r, "127.0.0.1", 1, "127.0.0.1", 60000, SYN);
	p.origin = PACKET_ORIGIN_LOOPBACK;
	decision_make(lo, NULL, NULL, &p, 0, -1, &d);
	assert_int_equal(d.dir, DIR_LOOPBACK);
	expect_decision(&d, VERDICT_DROP, 1, REASON_RULE, 1);
	ruleset_free(lo);
	ruleset_free(rs);
}

static void test_direction(void **state)
{
	struct ruleset *rs = policy("local 192.0.2.0/24, 2001:db8::/32\n"
				    "unexpected drop log\n");
	struct ruleset *open = policy("unexpected drop log\n");
	struct raw r;
	struct decision d;

	(void)state;
	/* To a local host: inbound, the policy applies. */
	decision_make(rs, NULL, NULL, tcp(&r, ATTACKER, 1, HOST, 60000, SYN),
		      0, -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	/* Local to local is inbound as well. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 60000, SYN), 0,
		      -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	/* From a local host: out, never unexpected. */
	decision_make(rs, NULL, NULL, tcp(&r, HOST, 1, ATTACKER, 60000, SYN),
		      0, -1, &d);
	assert_int_equal(d.dir, DIR_OUT);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* Neither end local: transit. */
	decision_make(rs, NULL, NULL,
		      tcp(&r, ATTACKER, 1, FRIEND, 60000, SYN), 0, -1, &d);
	assert_int_equal(d.dir, DIR_TRANSIT);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	decision_make(rs, NULL, NULL,
		      tcp(&r, "2001:db8::5", 1, "2001:db9::1", 60000, SYN), 0,
		      -1, &d);
	assert_int_equal(d.dir, DIR_OUT);
	decision_make(rs, NULL, NULL,
		      tcp(&r, "2001:db9::1", 1, "2001:db8::5", 60000, SYN), 0,
		      -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);

	/* Without `local`, everything is inbound. */
	decision_make(open, NULL, NULL,
		      tcp(&r, ATTACKER, 1, FRIEND, 60000, SYN), 0, -1, &d);
	assert_int_equal(d.dir, DIR_IN);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	ruleset_free(rs);
	ruleset_free(open);
}

static void test_ct_new_override(void **state)
{
	struct ruleset *rs = policy("unexpected reject\n");
	struct flow_table *ft = flow_new(NULL);
	struct raw r;
	struct decision d;
	struct flow_stats st;

	(void)state;
	/* conntrack says NEW for a packet that is no SYN: NEW. */
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 1, HOST, 60000, ACK), 0, 1,
		      &d);
	assert_int_equal(d.is_new, 1);
	expect_decision(&d, VERDICT_REJECT, 0, REASON_UNEXPECTED, 0);
	/* conntrack says not NEW for a SYN (e.g. a retransmit it already
	 * tracks): not NEW. */
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 1, HOST, 60000, SYN), 0, 0,
		      &d);
	assert_int_equal(d.is_new, 0);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* The kernel's "not NEW" leaves the flow table alone, and an ACK
	 * is no attempt it would track. */
	flow_get_stats(ft, &st);
	assert_int_equal(st.created, 0);
	/* The kernel says NEW for every copy of an unanswered SYN (and the
	 * daemon with --assume-new does): the first is an alert, a repeat
	 * is still decided (and rejected) but marked as a retransmit. */
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 7, HOST, 60001, SYN), 0, 1,
		      &d);
	expect_decision(&d, VERDICT_REJECT, 0, REASON_UNEXPECTED, 0);
	assert_int_equal(d.retransmit, 0);
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 7, HOST, 60001, SYN), 1000,
		      1, &d);
	expect_decision(&d, VERDICT_REJECT, 0, REASON_UNEXPECTED, 0);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.retransmit, 1);
	/* Another source port: a new attempt. */
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 8, HOST, 60001, SYN), 2000,
		      1, &d);
	assert_int_equal(d.retransmit, 0);
	/* UDP repeated on one flow, the kernel saying NEW each time. */
	decision_make(rs, ft, NULL, udp(&r, OTHER, 9, HOST, 60002), 3000, 1, &d);
	assert_int_equal(d.retransmit, 0);
	decision_make(rs, ft, NULL, udp(&r, OTHER, 9, HOST, 60002), 4000, 1, &d);
	assert_int_equal(d.retransmit, 1);
	/* Without flows and without conntrack, a UDP datagram is not NEW. */
	decision_make(rs, NULL, NULL, udp(&r, OTHER, 1, HOST, 60000), 0, -1,
		      &d);
	assert_int_equal(d.is_new, 0);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* ... but conntrack can say so. */
	decision_make(rs, NULL, NULL, udp(&r, OTHER, 1, HOST, 60000), 0, 1,
		      &d);
	expect_decision(&d, VERDICT_REJECT, 0, REASON_UNEXPECTED, 0);
	flow_free(ft);
	ruleset_free(rs);
}

static void test_udp_flow_new(void **state)
{
	struct ruleset *rs = policy("unexpected drop log\n");
	struct flow_opts fo = { .udp_timeout_s = 30 };
	struct flow_table *ft = flow_new(&fo);
	struct raw r;
	struct decision d;
	const uint64_t s = 1000000000ull;

	(void)state;
	/* The first datagram to a dynamic port is NEW and unexpected. */
	decision_make(rs, ft, NULL, udp(&r, OTHER, 40000, HOST, 60001),
		      1 * s, -1, &d);
	assert_int_equal(d.is_new, 1);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	/* Unanswered, the next one of the same flow still is (as in
	 * conntrack): dropping the first must not let the second through. */
	decision_make(rs, ft, NULL, udp(&r, OTHER, 40000, HOST, 60001),
		      2 * s, -1, &d);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.retransmit, 1);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	/* The answer is the flow's reply (its source is a listener). */
	decision_make(rs, ft, NULL, udp(&r, HOST, 60001, OTHER, 40000),
		      3 * s, -1, &d);
	assert_int_equal(d.is_new, 0);
	assert_int_equal(d.reply, 1);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* A client of ours talking to a server's dynamic port: the reply
	 * coming back to our ephemeral port is not NEW. */
	decision_make(rs, ft, NULL, udp(&r, HOST, 50123, OTHER, 53), 4 * s,
		      -1, &d);
	assert_int_equal(d.is_new, 1); /* outgoing query: NEW, but port 53 */
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	decision_make(rs, ft, NULL, udp(&r, OTHER, 53, HOST, 50123), 4 * s,
		      -1, &d);
	assert_int_equal(d.is_new, 0);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	/* After the timeout the flow is new again. */
	decision_make(rs, ft, NULL, udp(&r, OTHER, 40000, HOST, 60001),
		      40 * s, -1, &d);
	assert_int_equal(d.is_new, 1);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);

	/* TCP: the SYN retransmit is flagged, the SYN/ACK is a reply. */
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 40000, HOST, 60002, SYN),
		      41 * s, -1, &d);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.retransmit, 0);
	decision_make(rs, ft, NULL, tcp(&r, OTHER, 40000, HOST, 60002, SYN),
		      42 * s, -1, &d);
	assert_int_equal(d.is_new, 1);
	assert_int_equal(d.retransmit, 1);
	expect_decision(&d, VERDICT_DROP, 1, REASON_UNEXPECTED, 0);
	decision_make(rs, ft, NULL,
		      tcp(&r, HOST, 60002, OTHER, 40000, SYNACK), 42 * s, -1,
		      &d);
	assert_int_equal(d.is_new, 0);
	assert_int_equal(d.reply, 1);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	flow_free(ft);
	ruleset_free(rs);
}

static void test_dynamic_range_profile(void **state)
{
	struct ruleset *rs = policy("dynamic-range 50000-50010\n"
				    "unexpected drop\n"
				    "expect tcp port 50005\n");
	struct raw r;
	struct decision d;

	(void)state;
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 49999, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 50000, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_DROP, 0, REASON_UNEXPECTED, 0);
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 50005, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_EXPECTED, 3);
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 50010, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_DROP, 0, REASON_UNEXPECTED, 0);
	/* A port of the IANA dynamic range outside the guarded one. */
	decision_make(rs, NULL, NULL, tcp(&r, OTHER, 1, HOST, 60000, SYN), 0,
		      -1, &d);
	expect_decision(&d, VERDICT_PASS, 0, REASON_DEFAULT, 0);
	assert_int_equal(d.dclass, CLASS_DYNAMIC);
	assert_int_equal(d.dyn_dport, 0);
	ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_unexpected_expected),
		cmocka_unit_test(test_undetermined),
		cmocka_unit_test(test_default_and_invalid),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_ct_new_override),
		cmocka_unit_test(test_udp_flow_new),
		cmocka_unit_test(test_dynamic_range_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
