/*
 * test_packet: the packet parser on crafted bytes.  Every packet is parsed
 * from a heap buffer of exactly its captured length, so that a read past
 * the capture shows up under SANITIZE=1.  Longer than 800 lines on
 * purpose: one file per module, and the parser's cases (every header, every
 * truncation, every malformation, as an attacker would write them) are
 * one list that reads best in one place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"

/* Every reason any test produced; the last test checks all were seen. */
static int seen[PR_COUNT];

static const uint8_t SRC4[4] = { 192, 0, 2, 1 };
static const uint8_t DST4[4] = { 198, 51, 100, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };

/* Parses the first caplen bytes of b from an exact-size heap copy. */
static int parse(struct packet *p, const uint8_t *b, size_t caplen)
{
	uint8_t *copy = caplen ? malloc(caplen) : NULL;
	int rc;

	if (caplen)
		assert_non_null(copy);
	if (caplen)
		memcpy(copy, b, caplen);
	rc = packet_parse(p, copy, caplen);
	free(copy);
	/* data pointed at the freed copy: nobody may use it now. */
	p->data = NULL;
	assert_int_equal(rc, p->status == PACKET_OK ? 0 : -1);
	assert_int_equal(p->status, packet_reason_status(p->reason));
	if (p->status != PACKET_OK) {
		/* Ports survive an error only in the transport header, and
		 * only when their bytes were there. */
		if (p->has_ports)
			assert_true(packet_l4_len(p) >= 4 &&
				    ((p->reason >= PR_TRUNC_TCP &&
				      p->reason <= PR_TRUNC_DCCP) ||
				     p->reason == PR_BAD_TCP_OFFSET ||
				     p->reason == PR_BAD_UDP_LENGTH ||
				     p->reason == PR_BAD_L4_LENGTH));
		assert_int_equal(p->conn_attempt, 0);
	}
	if (p->reason < PR_COUNT)
		seen[p->reason] = 1;
	return rc;
}

static void expect_reason(const uint8_t *b, size_t caplen,
			  enum packet_reason r)
{
	struct packet p;

	parse(&p, b, caplen);
	assert_string_equal(packet_reason_name(p.reason),
			    packet_reason_name(r));
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* IPv4 header with optlen bytes of options (NOPs) followed by l4. */
static size_t mk_v4(uint8_t *b, uint8_t proto, size_t optlen,
		    const uint8_t *l4, size_t l4len)
{
	size_t hlen = 20 + optlen;

	memset(b, 0, hlen);
	b[0] = (uint8_t)(0x40 | (hlen / 4));
	put16(b + 2, (uint16_t)(hlen + l4len));
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, SRC4, 4);
	memcpy(b + 16, DST4, 4);
	memset(b + 20, 1, optlen);
	memcpy(b + hlen, l4, l4len);
	return hlen + l4len;
}

/* IPv6 header followed by plen bytes of payload. */
static size_t mk_v6(uint8_t *b, uint8_t nh, const uint8_t *pl, size_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)plen);
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	memcpy(b + 40, pl, plen);
	return 40 + plen;
}

/* TCP header of doff 32-bit words (options NOP) plus paylen bytes. */
static size_t mk_tcp(uint8_t *b, uint16_t sport, uint16_t dport,
		     uint8_t flags, unsigned doff, size_t paylen)
{
	size_t hlen = doff * 4 < 20 ? 20 : doff * 4;

	memset(b, 0, hlen + paylen);
	put16(b, sport);
	put16(b + 2, dport);
	b[12] = (uint8_t)(doff << 4);
	b[13] = flags;
	put16(b + 14, 65535);
	memset(b + 20, 1, hlen - 20);
	return hlen + paylen;
}

static size_t mk_udp(uint8_t *b, uint16_t sport, uint16_t dport,
		     size_t paylen)
{
	memset(b, 0, 8 + paylen);
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (uint16_t)(8 + paylen));
	return 8 + paylen;
}

static size_t mk_sctp(uint8_t *b, uint16_t sport, uint16_t dport,
		      uint8_t chunk)
{
	memset(b, 0, 32);
	put16(b, sport);
	put16(b + 2, dport);
	b[12] = chunk;
	put16(b + 14, 20);
	return 32;
}

/* DCCP generic header; x selects the 16-byte form. */
static size_t mk_dccp(uint8_t *b, uint16_t sport, uint16_t dport,
		      unsigned type, int x)
{
	size_t hlen = x ? 16 : 12;

	memset(b, 0, hlen + 4);
	put16(b, sport);
	put16(b + 2, dport);
	b[4] = (uint8_t)((hlen + 4) / 4);
	b[8] = (uint8_t)((type << 1) | (x ? 1 : 0));
	return hlen + 4;
}

/* A generic IPv6 extension header of len bytes (a multiple of 8). */
static size_t mk_ext(uint8_t *b, uint8_t next, size_t len)
{
	memset(b, 0, len);
	b[0] = next;
	b[1] = (uint8_t)(len / 8 - 1);
	return len;
}

/* ---- names ------------------------------------------------------------ */

static void test_proto_names(void **state)
{
	(void)state;
	for (int i = 0; i < PROTO_COUNT; i++) {
		const char *n = packet_proto_name((enum packet_proto)i);

		assert_non_null(n);
		assert_true(strlen(n) > 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(
				n, packet_proto_name((enum packet_proto)j));
	}
	assert_string_equal(packet_proto_name(PROTO_TCP), "tcp");
	assert_string_equal(packet_proto_name(PROTO_UDPLITE), "udplite");
	assert_string_equal(packet_proto_name(PROTO_ICMP6), "icmp6");
	assert_string_equal(packet_proto_name(PROTO_OTHER_IP), "other-ip");
	assert_string_equal(packet_proto_name(PROTO_NON_IP), "non-ip");
	assert_non_null(packet_proto_name((enum packet_proto)200));

	for (int i = PROTO_TCP; i < PROTO_COUNT; i++)
		assert_int_equal(
			packet_proto_lookup(packet_proto_name((enum packet_proto)i)),
			i);
	assert_int_equal(packet_proto_lookup("other-ip"), -1);
	assert_int_equal(packet_proto_lookup("non-ip"), -1);
	assert_int_equal(packet_proto_lookup("TCP"), -1);
	assert_int_equal(packet_proto_lookup(""), -1);
	assert_int_equal(packet_proto_lookup(NULL), -1);
}

static void test_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < PR_COUNT; i++) {
		const char *n = packet_reason_name((enum packet_reason)i);

		assert_non_null(n);
		assert_true(strlen(n) > 0);
		/* kebab-case: lower case letters, digits and dashes */
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') ||
				    (*c >= '0' && *c <= '9') || *c == '-');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(
				n, packet_reason_name((enum packet_reason)j));
	}
	assert_string_equal(packet_reason_name(PR_TRUNC_TCP), "truncated-tcp");
	assert_string_equal(packet_reason_name(PR_BAD_IPV4_IHL),
			    "bad-ipv4-ihl");
	assert_non_null(packet_reason_name((enum packet_reason)250));

	assert_int_equal(packet_reason_status(PR_NONE), PACKET_OK);
	for (int i = PR_TRUNC_IP_VERSION; i <= PR_TRUNC_ICMP6; i++) {
		assert_int_equal(packet_reason_status((enum packet_reason)i),
				 PACKET_TRUNCATED);
		assert_memory_equal(packet_reason_name((enum packet_reason)i),
				    "truncated-", 10);
	}
	for (int i = PR_BAD_IP_VERSION; i < PR_COUNT; i++) {
		assert_int_equal(packet_reason_status((enum packet_reason)i),
				 PACKET_MALFORMED);
		assert_memory_equal(packet_reason_name((enum packet_reason)i),
				    "bad-", 4);
	}
}

static void test_accessors(void **state)
{
	const uint8_t b[5] = { 1, 2, 3, 4, 5 };
	uint8_t u8 = 0xaa, out[5];
	uint16_t u16 = 0xaaaa;
	uint32_t u32 = 0xaaaaaaaa;

	(void)state;
	assert_int_equal(packet_get_u8(b, 5, 4, &u8), 0);
	assert_int_equal(u8, 5);
	assert_int_equal(packet_get_u8(b, 5, 5, &u8), -1);
	assert_int_equal(u8, 5); /* untouched on failure */
	assert_int_equal(packet_get_u8(b, 0, 0, &u8), -1);
	assert_int_equal(packet_get_u8(b, 5, SIZE_MAX, &u8), -1);

	assert_int_equal(packet_get_be16(b, 5, 3, &u16), 0);
	assert_int_equal(u16, 0x0405);
	assert_int_equal(packet_get_be16(b, 5, 4, &u16), -1);
	assert_int_equal(u16, 0x0405);
	assert_int_equal(packet_get_be16(b, 1, 0, &u16), -1);
	assert_int_equal(packet_get_be16(b, 5, SIZE_MAX, &u16), -1);
	assert_int_equal(packet_get_be16(b, 5, SIZE_MAX - 1, &u16), -1);

	assert_int_equal(packet_get_be32(b, 5, 1, &u32), 0);
	assert_int_equal(u32, 0x02030405);
	assert_int_equal(packet_get_be32(b, 5, 2, &u32), -1);
	assert_int_equal(packet_get_be32(b, 3, 0, &u32), -1);
	assert_int_equal(packet_get_be32(b, 5, SIZE_MAX - 2, &u32), -1);

	memset(out, 0xee, sizeof(out));
	assert_int_equal(packet_get_bytes(b, 5, 0, out, 5), 0);
	assert_memory_equal(out, b, 5);
	assert_int_equal(packet_get_bytes(b, 5, 1, out, 5), -1);
	assert_int_equal(packet_get_bytes(b, 5, 5, out, 0), 0);
	assert_int_equal(packet_get_bytes(b, 5, 6, out, 0), -1);
	assert_int_equal(packet_get_bytes(b, 5, 2, out, SIZE_MAX), -1);
	assert_int_equal(packet_get_bytes(b, 5, SIZE_MAX, out, 2), -1);
}

/* ---- IP layer --------------------------------------------------------- */

static void test_empty_and_version(void **state)
{
	uint8_t b[60] = { 0 }, l4[20];
	struct packet p;
	size_t n;

	(void)state;
	assert_int_equal(parse(&p, b, 0), -1);
	assert_int_equal(p.reason, PR_TRUNC_IP_VERSION);
	assert_int_equal(p.status, PACKET_TRUNCATED);
	assert_int_equal(p.family, 0);
	assert_int_equal(p.proto, PROTO_NON_IP);

	n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 2, PACKET_TCP_SYN, 5, 0));
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		b[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(parse(&p, b, n), -1);
		assert_int_equal(p.reason, PR_BAD_IP_VERSION);
		assert_int_equal(p.status, PACKET_MALFORMED);
		assert_int_equal(p.proto, PROTO_NON_IP);
		assert_int_equal(p.family, 0);
	}
}

static void test_ipv4_tcp_syn(void **state)
{
	uint8_t b[80], l4[40];
	struct packet p;
	size_t n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 40000, 60314,
					      PACKET_TCP_SYN, 5, 0));

	(void)state;
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.status, PACKET_OK);
	assert_int_equal(p.reason, PR_NONE);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, PROTO_TCP);
	assert_int_equal(p.ipproto, 6);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 60314);
	assert_int_equal(p.tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(p.conn_attempt, 1);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.caplen, n);
	assert_int_equal(p.wirelen, n);
	assert_memory_equal(p.src, SRC4, 4);
	assert_memory_equal(p.dst, DST4, 4);
	for (int i = 4; i < 16; i++) {
		assert_int_equal(p.src[i], 0);
		assert_int_equal(p.dst[i], 0);
	}
}

static void test_tcp_flags(void **state)
{
	static const struct {
		uint8_t flags;
		int attempt;
	} cases[] = {
		{ PACKET_TCP_SYN, 1 },
		{ PACKET_TCP_SYN | PACKET_TCP_ACK, 0 },
		{ PACKET_TCP_ACK, 0 },
		{ PACKET_TCP_RST, 0 },
		{ PACKET_TCP_FIN | PACKET_TCP_ACK, 0 },
		{ PACKET_TCP_SYN | PACKET_TCP_PSH, 1 },
		{ PACKET_TCP_SYN | PACKET_TCP_FIN, 1 },
		{ 0, 0 },
		{ 0xff, 0 },
		{ 0xc2, 1 }, /* SYN with ECE|CWR: ECN setup */
	};
	uint8_t b[80], l4[40];
	struct packet p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = mk_v4(b, 6, 0, l4,
				 mk_tcp(l4, 1, 2, cases[i].flags, 5, 0));

		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.tcp_flags, cases[i].flags);
		assert_int_equal(p.conn_attempt, cases[i].attempt);
	}
}

static void test_ipv4_options(void **state)
{
	uint8_t b[120], l4[40];
	struct packet p;

	(void)state;
	for (size_t opt = 4; opt <= 40; opt += 4) {
		size_t n = mk_v4(b, 17, opt, l4, mk_udp(l4, 53, 50000, 4));

		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.l4_off, 20 + opt);
		assert_int_equal(p.sport, 53);
		assert_int_equal(p.dport, 50000);
		/* cut inside the options */
		expect_reason(b, 20 + opt - 1, PR_TRUNC_IPV4_HEADER);
	}
}

static void test_ipv4_header_errors(void **state)
{
	uint8_t b[80], l4[40];
	struct packet p;
	size_t n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 2, PACKET_TCP_SYN, 5, 0));

	(void)state;
	/* ihl 0..4 */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(parse(&p, b, n), -1);
		assert_int_equal(p.reason, PR_BAD_IPV4_IHL);
		assert_int_equal(p.family, 4);
		assert_int_equal(p.proto, PROTO_OTHER_IP);
	}
	/* ihl below 5 is visible from the first byte alone */
	expect_reason(b, 1, PR_BAD_IPV4_IHL);
	b[0] = 0x45;
	/* fewer than 20 bytes */
	for (size_t len = 1; len < 20; len++)
		expect_reason(b, len, PR_TRUNC_IPV4_HEADER);
	/* total length below the header length (but not 0) */
	for (unsigned tl = 1; tl < 20; tl++) {
		put16(b + 2, (uint16_t)tl);
		expect_reason(b, n, PR_BAD_IPV4_TOTLEN);
	}
	b[0] = 0x46; /* 24-byte header, total length 22 */
	put16(b + 2, 22);
	expect_reason(b, n, PR_BAD_IPV4_TOTLEN);
}

static void test_ipv4_lengths(void **state)
{
	uint8_t b[200], l4[80];
	struct packet p;
	size_t n = mk_v4(b, 17, 0, l4, mk_udp(l4, 1000, 2000, 12));

	(void)state;
	/* link padding after the packet is ignored */
	memset(b + n, 0xee, 30);
	assert_int_equal(parse(&p, b, n + 30), 0);
	assert_int_equal(p.wirelen, n);
	assert_int_equal(p.caplen, n + 30);
	assert_int_equal(p.dport, 2000);

	/* total length larger than the capture: fine if headers are there */
	put16(b + 2, 1500);
	put16(b + 24, 1480);
	assert_int_equal(parse(&p, b, 28), 0);
	assert_int_equal(p.wirelen, 1500);
	assert_int_equal(p.caplen, 28);
	assert_int_equal(p.sport, 1000);
	/* ... and truncated when they are not */
	expect_reason(b, 27, PR_TRUNC_UDP);

	/* padding must not stand in for a header the total length cuts:
	 * 20 + 4 declared, 8 bytes present */
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 1000, 2000, 0));
	put16(b + 2, 24);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
}

static void test_ipv4_totlen_zero(void **state)
{
	uint8_t b[200], l4[100];
	struct packet p;
	size_t n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 5, 6, PACKET_TCP_ACK, 5, 60));

	(void)state;
	put16(b + 2, 0); /* TSO / BIG TCP capture */
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.wirelen, n);
	assert_int_equal(p.dport, 6);
	/* with no declared length, a cut header is truncated */
	expect_reason(b, 30, PR_TRUNC_TCP);
	expect_reason(b, 10, PR_TRUNC_IPV4_HEADER);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t b[200], l4[100];
	struct packet p;
	size_t n;

	(void)state;
	/* first fragment of a large UDP datagram: UDP length exceeds it */
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 5353, 61000, 32));
	put16(l4 + 4, 3000);
	n = mk_v4(b, 17, 0, l4, 40);
	put16(b + 6, 0x2000); /* MF */
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.dport, 61000);
	/* the same without MF: the UDP length lies */
	put16(b + 6, 0);
	expect_reason(b, n, PR_BAD_UDP_LENGTH);
	/* DF alone is not a fragment */
	mk_udp(l4, 5353, 61000, 32);
	n = mk_v4(b, 17, 0, l4, 40);
	put16(b + 6, 0x4000);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.has_ports, 1);

	/* non-first fragment: no ports, transport name kept */
	put16(b + 6, 0x2000 | 185);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.ipproto, 17);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.l4_off, 20);
	/* every offset bit counts, up to the largest offset */
	for (unsigned bit = 0; bit < 13; bit++) {
		put16(b + 6, (uint16_t)(1u << bit));
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.fragment, 1);
		assert_int_equal(p.has_ports, 0);
	}
	put16(b + 6, 0x1fff);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.has_ports, 0);
	/* the reserved flag bit alone is not a fragment */
	put16(b + 6, 0x8000);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.has_ports, 1);
	/* last fragment (offset, no MF), payload too short for any header */
	put16(b + 6, 185);
	assert_int_equal(parse(&p, b, 22), 0);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.fragment, 1);

	/* a non-first fragment with a SYN-looking payload is no attempt */
	n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 60000, PACKET_TCP_SYN, 5, 0));
	put16(b + 6, 0x2000 | 3);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.conn_attempt, 0);
	assert_int_equal(p.proto, PROTO_TCP);

	/* tiny first fragment (RFC 1858): 8 bytes of TCP */
	n = mk_v4(b, 6, 0, l4, 8);
	put16(b + 6, 0x2000);
	expect_reason(b, n, PR_BAD_L4_LENGTH);

	/* first fragment whose TCP options continue in the next one */
	mk_tcp(l4, 7, 8, PACKET_TCP_SYN, 15, 0);
	n = mk_v4(b, 6, 0, l4, 24);
	put16(b + 6, 0x2000);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.conn_attempt, 1);
	put16(b + 6, 0);
	expect_reason(b, n, PR_BAD_TCP_OFFSET);
}

static void test_other_ip(void **state)
{
	uint8_t b[80], l4[40];
	struct packet p;
	size_t n;

	(void)state;
	memset(l4, 0, sizeof(l4));
	n = mk_v4(b, 47, 0, l4, 4); /* GRE */
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
	assert_int_equal(p.ipproto, 47);
	assert_int_equal(p.has_ports, 0);
	/* nothing past the IP header is needed */
	n = mk_v4(b, 47, 0, l4, 0);
	assert_int_equal(parse(&p, b, n), 0);
	/* ICMPv6 inside IPv4 is not ICMPv6 */
	n = mk_v4(b, 58, 0, l4, 8);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
	/* ESP */
	n = mk_v4(b, 50, 0, l4, 8);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
}

/* ---- transports ------------------------------------------------------- */

static void test_tcp_errors(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	for (unsigned doff = 0; doff < 5; doff++) {
		n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 2, PACKET_TCP_SYN, 5, 8));
		b[20 + 12] = (uint8_t)(doff << 4);
		expect_reason(b, n, PR_BAD_TCP_OFFSET);
	}
	/* data offset 15 (60 bytes) in a 40-byte segment */
	n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 2, PACKET_TCP_SYN, 5, 20));
	b[20 + 12] = 15 << 4;
	expect_reason(b, n, PR_BAD_TCP_OFFSET);
	/* data offset exactly the segment */
	b[20 + 12] = 10 << 4;
	assert_int_equal(parse(&p, b, n), 0);
	/* options declared but not captured: still fine */
	assert_int_equal(parse(&p, b, 40), 0);
	assert_int_equal(p.dport, 2);
	/* IP payload shorter than a TCP header */
	n = mk_v4(b, 6, 0, l4, 19);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	n = mk_v4(b, 6, 0, l4, 0);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	/* the header is declared but the capture stops inside it */
	n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 1, 2, PACKET_TCP_SYN, 5, 0));
	for (size_t len = 20; len < 40; len++)
		expect_reason(b, len, PR_TRUNC_TCP);
}

static void test_udp(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 53, 53000, 20));
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.conn_attempt, 0);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 53000);
	/* UDP length shorter than the IP payload: surplus area, accepted */
	put16(b + 24, 10);
	assert_int_equal(parse(&p, b, n), 0);
	put16(b + 24, 8);
	assert_int_equal(parse(&p, b, n), 0);
	/* below 8 */
	for (unsigned ul = 0; ul < 8; ul++) {
		put16(b + 24, (uint16_t)ul);
		expect_reason(b, n, PR_BAD_UDP_LENGTH);
	}
	/* above the IP payload */
	put16(b + 24, 29);
	expect_reason(b, n, PR_BAD_UDP_LENGTH);
	put16(b + 24, 28);
	assert_int_equal(parse(&p, b, n), 0);
	/* IP payload shorter than a UDP header */
	n = mk_v4(b, 17, 0, l4, 7);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	/* capture ends inside the header */
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 53, 53000, 20));
	for (size_t len = 20; len < 28; len++)
		expect_reason(b, len, PR_TRUNC_UDP);
}

static void test_udplite(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	n = mk_v4(b, 136, 0, l4, mk_udp(l4, 4000, 50001, 20));
	/* coverage 0 (whole datagram) and 8: valid; 1 would be a bad UDP
	 * length but is not a length here */
	static const uint16_t cov[] = { 0, 1, 8, 28, 9999 };
	for (size_t i = 0; i < sizeof(cov) / sizeof(cov[0]); i++) {
		put16(b + 24, cov[i]);
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.proto, PROTO_UDPLITE);
		assert_int_equal(p.ipproto, 136);
		assert_int_equal(p.has_ports, 1);
		assert_int_equal(p.dport, 50001);
	}
	expect_reason(b, 27, PR_TRUNC_UDPLITE);
	n = mk_v4(b, 136, 0, l4, 6);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
}

static void test_sctp(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	n = mk_v4(b, 132, 0, l4, mk_sctp(l4, 5000, 50000, 1));
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_SCTP);
	assert_int_equal(p.conn_attempt, 1);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.dport, 50000);
	for (unsigned t = 0; t < 256; t++) {
		if (t == 1)
			continue;
		n = mk_v4(b, 132, 0, l4, mk_sctp(l4, 5000, 50000, (uint8_t)t));
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.conn_attempt, 0);
	}
	/* the INIT decision needs the chunk header */
	n = mk_v4(b, 132, 0, l4, mk_sctp(l4, 5000, 50000, 1));
	for (size_t len = 20; len < 36; len++)
		expect_reason(b, len, PR_TRUNC_SCTP);
	/* common header only, no chunk */
	n = mk_v4(b, 132, 0, l4, 12);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	n = mk_v4(b, 132, 0, l4, 16);
	assert_int_equal(parse(&p, b, n), 0);
}

static void test_dccp(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	for (int x = 0; x <= 1; x++) {
		size_t hlen = x ? 16 : 12;

		n = mk_v4(b, 33, 0, l4, mk_dccp(l4, 3000, 55000, 0, x));
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.proto, PROTO_DCCP);
		assert_int_equal(p.conn_attempt, 1);
		assert_int_equal(p.dport, 55000);
		for (unsigned t = 1; t < 16; t++) {
			n = mk_v4(b, 33, 0, l4, mk_dccp(l4, 3000, 55000, t, x));
			assert_int_equal(parse(&p, b, n), 0);
			assert_int_equal(p.conn_attempt, 0);
		}
		/* reserved high bits do not change the type */
		n = mk_v4(b, 33, 0, l4, mk_dccp(l4, 3000, 55000, 0, x));
		b[20 + 8] |= 0xe0;
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.conn_attempt, 1);
		/* cut inside the generic header */
		for (size_t len = 20; len < 20 + hlen; len++)
			expect_reason(b, len, PR_TRUNC_DCCP);
		/* data offset below the generic header */
		b[20 + 4] = (uint8_t)(hlen / 4 - 1);
		expect_reason(b, n, PR_BAD_L4_LENGTH);
		/* data offset past the payload */
		b[20 + 4] = (uint8_t)((n - 20) / 4 + 1);
		expect_reason(b, n, PR_BAD_L4_LENGTH);
		b[20 + 4] = (uint8_t)((n - 20) / 4);
		assert_int_equal(parse(&p, b, n), 0);
		/* IP payload shorter than the generic header */
		n = mk_v4(b, 33, 0, l4, hlen - 1);
		b[20 + 8] = (uint8_t)x;
		expect_reason(b, n, PR_BAD_L4_LENGTH);
	}
}

static void test_icmp(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	memset(l4, 0, sizeof(l4));
	l4[0] = 8; /* echo request */
	n = mk_v4(b, 1, 0, l4, 8);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.conn_attempt, 0);
	expect_reason(b, 23, PR_TRUNC_ICMP);
	expect_reason(b, 20, PR_TRUNC_ICMP);
	n = mk_v4(b, 1, 0, l4, 3);
	expect_reason(b, n, PR_BAD_L4_LENGTH);

	l4[0] = 128;
	n = mk_v6(b, 58, l4, 8);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_ICMP6);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.has_ports, 0);
	expect_reason(b, 43, PR_TRUNC_ICMP6);
	n = mk_v6(b, 58, l4, 2);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	/* ICMP (v4) inside IPv6 is not ICMP */
	n = mk_v6(b, 1, l4, 8);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
}

/* ---- IPv6 ------------------------------------------------------------- */

static void test_ipv6_tcp(void **state)
{
	uint8_t b[200], l4[80];
	struct packet p;
	size_t n = mk_v6(b, 6, l4, mk_tcp(l4, 50000, 443, PACKET_TCP_SYN, 8, 4));

	(void)state;
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, PROTO_TCP);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.wirelen, n);
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.conn_attempt, 1);
	assert_memory_equal(p.src, SRC6, 16);
	assert_memory_equal(p.dst, DST6, 16);
	for (size_t len = 1; len < 40; len++) {
		expect_reason(b, len, PR_TRUNC_IPV6_HEADER);
		parse(&p, b, len);
		assert_int_equal(p.family, 6);
		assert_int_equal(p.proto, PROTO_OTHER_IP);
	}
	/* padding ignored */
	memset(b + n, 0xff, 20);
	assert_int_equal(parse(&p, b, n + 20), 0);
	assert_int_equal(p.wirelen, n);
	/* payload length shorter than TCP */
	put16(b + 4, 19);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
	/* payload length 0: jumbogram / BIG TCP, capture is the bound */
	put16(b + 4, 0);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.wirelen, n);
	expect_reason(b, n - 20, PR_TRUNC_TCP);
	/* payload length beyond the capture */
	put16(b + 4, 9000);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.wirelen, 9040);
}

static void test_ipv6_exthdrs(void **state)
{
	uint8_t b[400], pl[300];
	struct packet p;
	size_t off = 0, n;

	(void)state;
	/* hop-by-hop, destination options, routing (24), dst opts, TCP */
	off += mk_ext(pl + off, 60, 8);
	off += mk_ext(pl + off, 43, 16);
	off += mk_ext(pl + off, 60, 24);
	off += mk_ext(pl + off, 6, 8);
	off += mk_tcp(pl + off, 1234, 61000, PACKET_TCP_SYN, 5, 0);
	n = mk_v6(b, 0, pl, off);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.l4_off, 40 + 56);
	assert_int_equal(p.ipproto, 6);
	assert_int_equal(p.dport, 61000);
	/* cut in each extension header's first two bytes */
	expect_reason(b, 41, PR_TRUNC_IPV6_EXTHDR);
	expect_reason(b, 49, PR_TRUNC_IPV6_EXTHDR);
	expect_reason(b, 40 + 8 + 16 + 1, PR_TRUNC_IPV6_EXTHDR);
	/* cut in the TCP header */
	expect_reason(b, 40 + 56 + 10, PR_TRUNC_TCP);
	/* payload length ends inside an extension header */
	put16(b + 4, 8 + 10);
	expect_reason(b, n, PR_BAD_IPV6_PAYLOAD_LEN);
	put16(b + 4, 1);
	expect_reason(b, n, PR_BAD_IPV6_PAYLOAD_LEN);
	/* ... or right after the last one */
	put16(b + 4, 56);
	expect_reason(b, n, PR_BAD_L4_LENGTH);

	/* hop-by-hop anywhere but first */
	off = 0;
	off += mk_ext(pl + off, 0, 8);
	off += mk_ext(pl + off, 17, 8);
	off += mk_udp(pl + off, 1, 2, 0);
	n = mk_v6(b, 60, pl, off);
	expect_reason(b, n, PR_BAD_IPV6_EXTHDR_CHAIN);
}

static void test_ipv6_chain_bound(void **state)
{
	static uint8_t b[70000], pl[70000];
	struct packet p;
	size_t off, n;

	(void)state;
	/* 8 destination options headers then UDP */
	off = 0;
	for (int i = 0; i < 8; i++)
		off += mk_ext(pl + off, i == 7 ? 17 : 60, 8);
	off += mk_udp(pl + off, 7, 50000, 0);
	n = mk_v6(b, 60, pl, off);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.dport, 50000);
	/* nine, ninety, and as many as fit in 64 KiB: the kernel walks
	 * them all and delivers the datagram, so do we (W1) */
	static const int counts[] = { 9, 90, 8000 };

	for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
		int k = counts[ci];

		off = 0;
		for (int i = 0; i < k; i++)
			off += mk_ext(pl + off, i == k - 1 ? 17 : 60, 8);
		off += mk_udp(pl + off, 7, 50000, 0);
		n = mk_v6(b, 60, pl, off);
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.proto, PROTO_UDP);
		assert_int_equal(p.dport, 50000);
		assert_int_equal(p.l4_off, 40 + 8 * k);
		/* the same chain ending in a TCP SYN */
		pl[off - 8 - 8] = 6;
		off -= 8;
		off += mk_tcp(pl + off, 7, 60314, PACKET_TCP_SYN, 5, 0);
		n = mk_v6(b, 60, pl, off);
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.proto, PROTO_TCP);
		assert_int_equal(p.conn_attempt, 1);
		assert_int_equal(p.dport, 60314);
	}
	/* mixed routing and destination options, hop-by-hop first only */
	off = 0;
	off += mk_ext(pl + off, 43, 8);
	for (int i = 0; i < 20; i++)
		off += mk_ext(pl + off, i == 19 ? 6 : (i & 1 ? 43 : 60), 8);
	off += mk_tcp(pl + off, 7, 60314, PACKET_TCP_SYN, 15, 40);
	n = mk_v6(b, 0, pl, off);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.dport, 60314);
	/* an endless chain of zero-length routing headers is bounded by
	 * the payload: it ends as a truncated or malformed packet */
	memset(pl, 0, sizeof(pl));
	for (size_t i = 0; i + 8 <= 256; i += 8)
		mk_ext(pl + i, 43, 8);
	n = mk_v6(b, 43, pl, 256);
	expect_reason(b, n, PR_BAD_IPV6_PAYLOAD_LEN);
	expect_reason(b, n - 4, PR_TRUNC_IPV6_EXTHDR);
	/* a jumbogram whose chain runs past 64 KiB */
	for (size_t i = 0; i + 8 <= 65600; i += 8)
		mk_ext(pl + i, 60, 8);
	mk_v6(b, 60, pl, 0);
	memcpy(b + 40, pl, 65600);
	put16(b + 4, 0);
	expect_reason(b, 40 + 65600, PR_BAD_IPV6_EXTHDR_CHAIN);
}

static void test_ipv6_ah_esp_none(void **state)
{
	uint8_t b[300], pl[200];
	struct packet p;
	size_t off, n;

	(void)state;
	/* AH with a 12-byte ICV: length field 4 -> (4+2)*4 = 24 bytes */
	off = 0;
	memset(pl, 0, 24);
	pl[0] = 17;
	pl[1] = 4;
	off = 24;
	off += mk_udp(pl + off, 500, 4500, 0);
	n = mk_v6(b, 51, pl, off);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.l4_off, 64);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.dport, 4500);
	/* AH length 0 is shorter than AH's fixed part */
	b[41] = 0;
	expect_reason(b, n, PR_BAD_IPV6_EXTHDR_LEN);
	/* AH length 1: 12 bytes, no ICV (minimum) */
	pl[1] = 1;
	memmove(pl + 12, pl + 24, 8);
	n = mk_v6(b, 51, pl, 20);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.l4_off, 52);

	/* ESP ends the walk: other-ip, no ports */
	memset(pl, 0xab, 32);
	n = mk_v6(b, 50, pl, 32);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
	assert_int_equal(p.ipproto, 50);
	assert_int_equal(p.has_ports, 0);
	/* ESP after a destination options header */
	off = mk_ext(pl, 50, 8);
	memset(pl + off, 0xab, 16);
	n = mk_v6(b, 60, pl, off + 16);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.ipproto, 50);
	assert_int_equal(p.l4_off, 48);
	/* no next header, with and without payload */
	n = mk_v6(b, 59, pl, 0);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
	assert_int_equal(p.ipproto, 59);
	n = mk_v6(b, 59, pl, 16);
	assert_int_equal(parse(&p, b, n), 0);
}

static void test_ipv6_fragments(void **state)
{
	uint8_t b[300], pl[200];
	struct packet p;
	size_t n, off;

	(void)state;
	/* first fragment (offset 0, M) of a UDP datagram */
	memset(pl, 0, 8);
	pl[0] = 17;
	put16(pl + 2, 0x0001);
	off = 8 + mk_udp(pl + 8, 5000, 60000, 24);
	put16(pl + 8 + 4, 4000); /* whole datagram */
	n = mk_v6(b, 44, pl, off);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.dport, 60000);
	assert_int_equal(p.l4_off, 48);
	/* atomic fragment (offset 0, no M): not a fragment, UDP checked */
	b[40 + 3] = 0;
	assert_int_equal(p.fragment, 1);
	expect_reason(b, n, PR_BAD_UDP_LENGTH);
	put16(b + 48 + 4, 32);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.has_ports, 1);
	/* non-first fragment: no ports, transport kept */
	put16(b + 40 + 2, (uint16_t)(100 << 3));
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.l4_off, 48);
	/* every offset bit counts; the two reserved bits do not */
	for (unsigned bit = 3; bit < 16; bit++) {
		put16(b + 40 + 2, (uint16_t)(1u << bit));
		assert_int_equal(parse(&p, b, n), 0);
		assert_int_equal(p.fragment, 1);
		assert_int_equal(p.has_ports, 0);
	}
	put16(b + 40 + 2, 0x0006);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.has_ports, 1);
	put16(b + 40 + 2, (uint16_t)(100 << 3));
	/* even when only the fragment header was captured */
	assert_int_equal(parse(&p, b, 48), 0);
	assert_int_equal(p.has_ports, 0);
	/* the fragment header itself cut */
	expect_reason(b, 45, PR_TRUNC_IPV6_EXTHDR);
	/* payload length too short for the fragment header */
	put16(b + 4, 6);
	expect_reason(b, n, PR_BAD_IPV6_PAYLOAD_LEN);
	/* non-first fragment of something whose next header is another
	 * extension header: other-ip */
	put16(b + 4, (uint16_t)(n - 40));
	b[40] = 60;
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.proto, PROTO_OTHER_IP);
	assert_int_equal(p.ipproto, 60);
	/* tiny first fragment: 4 bytes of TCP */
	memset(pl, 0, 8);
	pl[0] = 6;
	put16(pl + 2, 0x0001);
	n = mk_v6(b, 44, pl, 12);
	expect_reason(b, n, PR_BAD_L4_LENGTH);
}

/* ---- truncation at every length --------------------------------------- */

struct sample {
	const char *name;
	uint8_t b[200];
	size_t len;	/* full packet */
	size_t needed;	/* bytes needed for PACKET_OK */
	uint16_t sport, dport;
};

static size_t build_samples(struct sample *s)
{
	uint8_t l4[120], pl[160];
	size_t k = 0, off;

	s[k].name = "ipv4 tcp options";
	s[k].len = mk_v4(s[k].b, 6, 8, l4,
			 mk_tcp(l4, 11, 60001, PACKET_TCP_SYN, 8, 16));
	s[k].needed = 28 + 20;
	s[k].sport = 11, s[k].dport = 60001;
	k++;
	s[k].name = "ipv4 udp";
	s[k].len = mk_v4(s[k].b, 17, 0, l4, mk_udp(l4, 12, 60002, 30));
	s[k].needed = 28;
	s[k].sport = 12, s[k].dport = 60002;
	k++;
	s[k].name = "ipv4 udplite";
	s[k].len = mk_v4(s[k].b, 136, 0, l4, mk_udp(l4, 13, 60003, 30));
	s[k].needed = 28;
	s[k].sport = 13, s[k].dport = 60003;
	k++;
	s[k].name = "ipv4 sctp";
	s[k].len = mk_v4(s[k].b, 132, 0, l4, mk_sctp(l4, 14, 60004, 1));
	s[k].needed = 36;
	s[k].sport = 14, s[k].dport = 60004;
	k++;
	s[k].name = "ipv4 dccp x";
	s[k].len = mk_v4(s[k].b, 33, 0, l4, mk_dccp(l4, 15, 60005, 0, 1));
	s[k].needed = 36;
	s[k].sport = 15, s[k].dport = 60005;
	k++;
	s[k].name = "ipv4 icmp";
	memset(l4, 0, 16);
	l4[0] = 3;
	s[k].len = mk_v4(s[k].b, 1, 0, l4, 16);
	s[k].needed = 24;
	k++;
	s[k].name = "ipv6 chain tcp";
	off = mk_ext(pl, 51, 16);
	memset(pl + off, 0, 16);
	pl[off] = 44; /* AH, 16 bytes, then fragment header */
	pl[off + 1] = 2;
	off += 16;
	memset(pl + off, 0, 8);
	pl[off] = 6;
	off += 8;
	off += mk_tcp(pl + off, 16, 60006, PACKET_TCP_SYN, 6, 10);
	s[k].len = mk_v6(s[k].b, 0, pl, off);
	s[k].needed = 40 + 40 + 20;
	s[k].sport = 16, s[k].dport = 60006;
	k++;
	s[k].name = "ipv6 udp";
	s[k].len = mk_v6(s[k].b, 17, pl, mk_udp(pl, 17, 60007, 12));
	s[k].needed = 48;
	s[k].sport = 17, s[k].dport = 60007;
	k++;
	s[k].name = "ipv6 icmp6";
	memset(pl, 0, 8);
	pl[0] = 135;
	s[k].len = mk_v6(s[k].b, 58, pl, 8);
	s[k].needed = 44;
	k++;
	return k;
}

static void test_truncate_every_length(void **state)
{
	static struct sample s[16];
	size_t ns = build_samples(s);
	struct packet p;

	(void)state;
	for (size_t i = 0; i < ns; i++) {
		assert_int_equal(parse(&p, s[i].b, s[i].len), 0);
		for (size_t len = 0; len <= s[i].len; len++) {
			int rc = parse(&p, s[i].b, len);

			if (len < s[i].needed) {
				if (rc == 0 || p.status != PACKET_TRUNCATED)
					fail_msg("%s cut at %zu: %s", s[i].name,
						 len,
						 packet_reason_name(p.reason));
				continue;
			}
			if (rc != 0)
				fail_msg("%s cut at %zu: %s", s[i].name, len,
					 packet_reason_name(p.reason));
			assert_int_equal(p.sport, s[i].sport);
			assert_int_equal(p.dport, s[i].dport);
			assert_int_equal(p.wirelen, s[i].len);
			assert_int_equal(p.caplen, len);
		}
	}
}

/* ---- random input ----------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible across libcs, unlike rand() */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void check_invariants(const struct packet *p, size_t len)
{
	assert_true(p->status <= PACKET_MALFORMED);
	assert_true(p->reason < PR_COUNT);
	assert_true(p->proto < PROTO_COUNT);
	assert_int_equal(p->caplen, len);
	if (p->status == PACKET_OK) {
		assert_true(p->family == 4 || p->family == 6);
		assert_true(p->l4_off <= len);
		if (p->has_ports)
			assert_true(p->proto >= PROTO_TCP &&
				    p->proto <= PROTO_DCCP);
		if (p->conn_attempt)
			assert_true(p->has_ports);
	}
	if (p->family == 0)
		assert_int_equal(p->proto, PROTO_NON_IP);
}

/*
 * Ports whenever their bytes are there: a header cut by the snap length
 * or contradicting itself is still flagged, but its ports (and TCP flags)
 * are read as tcpdump and tshark read them.
 */
static void test_ports_of_bad_l4(void **state)
{
	uint8_t b[120], l4[80];
	struct packet p;
	size_t n;

	(void)state;
	/* TCP SYN cut after 14 bytes of TCP: ports and flags there */
	n = mk_v4(b, 6, 0, l4, mk_tcp(l4, 40000, 60314, PACKET_TCP_SYN, 5, 0));
	assert_int_equal(parse(&p, b, 20 + 14), -1);
	assert_int_equal(p.reason, PR_TRUNC_TCP);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 60314);
	assert_int_equal(p.tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(p.conn_attempt, 0);
	assert_int_equal(packet_l4_len(&p), 14);
	/* cut after 13: ports, no flags byte */
	assert_int_equal(parse(&p, b, 20 + 13), -1);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.tcp_flags, 0);
	assert_int_equal(packet_l4_len(&p), 13);
	/* cut after 3: no ports */
	assert_int_equal(parse(&p, b, 20 + 3), -1);
	assert_int_equal(p.has_ports, 0);
	assert_int_equal(packet_l4_len(&p), 0);
	/* data offset below 5: malformed, ports read */
	b[20 + 12] = 0x40;
	assert_int_equal(parse(&p, b, n), -1);
	assert_int_equal(p.reason, PR_BAD_TCP_OFFSET);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.dport, 60314);

	/* UDP length larger than the IP payload: malformed, ports read */
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 7000, 7001, 20));
	put16(b + 24, 3000);
	assert_int_equal(parse(&p, b, n), -1);
	assert_int_equal(p.reason, PR_BAD_UDP_LENGTH);
	assert_int_equal(p.has_ports, 1);
	assert_int_equal(p.sport, 7000);
	assert_int_equal(p.dport, 7001);
	/* ports past the declared total length are padding, never read */
	n = mk_v4(b, 17, 0, l4, 2);
	memset(b + n, 0x55, 10);
	assert_int_equal(parse(&p, b, n + 10), -1);
	assert_int_equal(p.reason, PR_BAD_L4_LENGTH);
	assert_int_equal(p.has_ports, 0);

	/* BIG TCP in a UDP tunnel: IP total length 0 and UDP length 0 */
	n = mk_v4(b, 17, 0, l4, mk_udp(l4, 29804, 6081, 40));
	put16(b + 2, 0);
	put16(b + 24, 0);
	assert_int_equal(parse(&p, b, n), 0);
	assert_int_equal(p.dport, 6081);
	assert_int_equal(p.wirelen, n);
	/* UDP length 0 under a real IP length is still malformed */
	put16(b + 2, (uint16_t)n);
	assert_int_equal(parse(&p, b, n), -1);
	assert_int_equal(p.reason, PR_BAD_UDP_LENGTH);
	assert_int_equal(p.has_ports, 1);
}

static void test_random_bytes(void **state)
{
	uint8_t b[160];
	struct packet p;
	unsigned ok = 0;

	(void)state;
	for (int iter = 0; iter < 100000; iter++) {
		size_t len = rnd() % sizeof(b);

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rnd();
		/* bias towards something the parser gets into */
		if (len && (iter & 1))
			b[0] = (uint8_t)((iter & 2 ? 0x60 : 0x40) |
					 (b[0] & 0x0f));
		parse(&p, b, len);
		check_invariants(&p, len);
		ok += p.status == PACKET_OK;
	}
	assert_true(ok > 0);
}

static void test_mutated_samples(void **state)
{
	static struct sample s[16];
	size_t ns = build_samples(s);
	uint8_t b[200];
	struct packet p;
	unsigned bad = 0;

	(void)state;
	for (int iter = 0; iter < 100000; iter++) {
		const struct sample *t = &s[rnd() % ns];
		size_t len = t->len;
		unsigned flips = 1 + rnd() % 4;

		memcpy(b, t->b, len);
		for (unsigned f = 0; f < flips; f++)
			b[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		if (rnd() % 4 == 0)
			len = rnd() % (len + 1);
		parse(&p, b, len);
		check_invariants(&p, len);
		bad += p.status != PACKET_OK;
	}
	assert_true(bad > 0);
}

/* Must run last: every reason appeared in some test above. */
static void test_every_reason_seen(void **state)
{
	(void)state;
	for (int r = 0; r < PR_COUNT; r++)
		if (!seen[r])
			fail_msg("reason %s never produced",
				 packet_reason_name((enum packet_reason)r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_empty_and_version),
		cmocka_unit_test(test_ipv4_tcp_syn),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_header_errors),
		cmocka_unit_test(test_ipv4_lengths),
		cmocka_unit_test(test_ipv4_totlen_zero),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_other_ip),
		cmocka_unit_test(test_tcp_errors),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_udplite),
		cmocka_unit_test(test_sctp),
		cmocka_unit_test(test_dccp),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_ipv6_tcp),
		cmocka_unit_test(test_ipv6_exthdrs),
		cmocka_unit_test(test_ipv6_chain_bound),
		cmocka_unit_test(test_ipv6_ah_esp_none),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_truncate_every_length),
		cmocka_unit_test(test_ports_of_bad_l4),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_mutated_samples),
		cmocka_unit_test(test_every_reason_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
