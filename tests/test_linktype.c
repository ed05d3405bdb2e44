/*
 * Tests for pcap-replay/linktype.c: every link type, every header cut
 * short at each length, tag stacks, LLC/SNAP, both AF byte orders.
 * The module belongs to the replay program, not to a library, so its
 * source is compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "linktype.h"

static const uint8_t ipv4_hdr[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6 };

/* Builds an Ethernet frame: macs, then the given type words, then IP. */
static size_t eth(uint8_t *b, const uint16_t *types, size_t ntypes)
{
	size_t off = 12, i;

	memset(b, 0x02, 12);
	for (i = 0; i < ntypes; i++) {
		b[off++] = (uint8_t)(types[i] >> 8);
		b[off++] = (uint8_t)types[i];
	}
	memcpy(b + off, ipv4_hdr, sizeof(ipv4_hdr));
	return off + sizeof(ipv4_hdr);
}

/* Every prefix shorter than want_off must be truncated, none may read
 * past the given length (ASan checks that, the buffers are exact). */
static void expect_ip_at(int dlt, const uint8_t *frame, size_t len,
			 size_t want_off)
{
	size_t off = 12345, n;

	assert_int_equal(linktype_strip(dlt, frame, len, &off), LINKTYPE_IP);
	assert_int_equal(off, want_off);
	for (n = 0; n < want_off; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, frame, n);
		assert_int_equal(linktype_strip(dlt, copy, n, &off),
				 LINKTYPE_TRUNCATED);
		free(copy);
	}
}

static void test_supported(void **state)
{
	(void)state;
	assert_true(linktype_supported(DLT_EN10MB));
	assert_true(linktype_supported(DLT_LINUX_SLL));
	assert_true(linktype_supported(DLT_LINUX_SLL2));
	assert_true(linktype_supported(DLT_RAW));
	assert_true(linktype_supported(101));
	assert_true(linktype_supported(DLT_IPV4));
	assert_true(linktype_supported(DLT_IPV6));
	assert_true(linktype_supported(DLT_NULL));
	assert_true(linktype_supported(DLT_LOOP));
	assert_false(linktype_supported(DLT_IEEE802_11));
	assert_false(linktype_supported(DLT_PPP));
	assert_false(linktype_supported(-1));
	assert_int_equal(linktype_strip(DLT_IEEE802_11, ipv4_hdr, 20, &(size_t){ 0 }),
			 LINKTYPE_NON_IP);
}

static void test_ethernet(void **state)
{
	uint8_t b[128];
	size_t off, n;
	uint16_t t;

	(void)state;
	t = 0x0800;
	n = eth(b, &t, 1);
	expect_ip_at(DLT_EN10MB, b, n, 14);
	t = 0x86dd;
	n = eth(b, &t, 1);
	expect_ip_at(DLT_EN10MB, b, n, 14);
	t = 0x0806; /* ARP */
	n = eth(b, &t, 1);
	assert_int_equal(linktype_strip(DLT_EN10MB, b, n, &off), LINKTYPE_NON_IP);
	/* an IP header that is not there is packet_parse's business */
	t = 0x0800;
	eth(b, &t, 1);
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 14, &off), LINKTYPE_IP);
	assert_int_equal(off, 14);
}

static void test_vlan_tags(void **state)
{
	uint8_t b[128];
	size_t off, n;
	/* type, TCI, type, TCI, ... : each tag is a type word and a TCI */
	const uint16_t q[] = { 0x8100, 42, 0x0800 };
	const uint16_t qinq[] = { 0x88a8, 100, 0x8100, 42, 0x86dd };
	const uint16_t old[] = { 0x9100, 7, 0x8100, 42, 0x0800 };
	const uint16_t arp[] = { 0x8100, 42, 0x0806 };
	uint16_t deep[2 * 10 + 1];
	int i;

	(void)state;
	n = eth(b, q, 3);
	expect_ip_at(DLT_EN10MB, b, n, 18);
	n = eth(b, qinq, 5);
	expect_ip_at(DLT_EN10MB, b, n, 22);
	n = eth(b, old, 5);
	expect_ip_at(DLT_EN10MB, b, n, 22);
	n = eth(b, arp, 3);
	assert_int_equal(linktype_strip(DLT_EN10MB, b, n, &off), LINKTYPE_NON_IP);
	/* 8 tags are walked, a ninth is not a real network */
	for (i = 0; i < 8; i++) {
		deep[2 * i] = 0x8100;
		deep[2 * i + 1] = (uint16_t)i;
	}
	deep[16] = 0x0800;
	n = eth(b, deep, 17);
	expect_ip_at(DLT_EN10MB, b, n, 14 + 8 * 4);
	for (i = 0; i < 10; i++) {
		deep[2 * i] = 0x8100;
		deep[2 * i + 1] = (uint16_t)i;
	}
	deep[20] = 0x0800;
	n = eth(b, deep, 21);
	assert_int_equal(linktype_strip(DLT_EN10MB, b, n, &off), LINKTYPE_NON_IP);
}

static void test_llc_snap(void **state)
{
	uint8_t b[64];
	size_t off;

	(void)state;
	memset(b, 0x02, 12);
	b[12] = 0;
	b[13] = 28; /* an 802.3 length */
	memcpy(b + 14, (const uint8_t[]){ 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 }, 8);
	memcpy(b + 22, ipv4_hdr, 20);
	expect_ip_at(DLT_EN10MB, b, 42, 22);
	b[19] = 0x0c; /* another OUI: not IP as we know it */
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 42, &off), LINKTYPE_NON_IP);
	b[14] = 0x42; /* STP-like LLC */
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 42, &off), LINKTYPE_NON_IP);
}

static void test_sll(void **state)
{
	uint8_t b[64];
	size_t off;

	(void)state;
	memset(b, 0, sizeof(b));
	b[14] = 0x08; /* protocol 0x0800 */
	memcpy(b + 16, ipv4_hdr, 20);
	expect_ip_at(DLT_LINUX_SLL, b, 36, 16);
	b[14] = 0x86;
	b[15] = 0xdd;
	expect_ip_at(DLT_LINUX_SLL, b, 36, 16);
	b[14] = 0x08;
	b[15] = 0x06;
	assert_int_equal(linktype_strip(DLT_LINUX_SLL, b, 36, &off), LINKTYPE_NON_IP);
	/* a VLAN tag in the payload */
	b[14] = 0x81;
	b[15] = 0x00;
	b[18] = 0x08;
	b[19] = 0x00;
	memcpy(b + 20, ipv4_hdr, 20);
	expect_ip_at(DLT_LINUX_SLL, b, 40, 20);
}

static void test_sll2(void **state)
{
	uint8_t b[64];
	size_t off;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 0x08; /* protocol 0x0800 */
	memcpy(b + 20, ipv4_hdr, 20);
	expect_ip_at(DLT_LINUX_SLL2, b, 40, 20);
	b[0] = 0x86;
	b[1] = 0xdd;
	expect_ip_at(DLT_LINUX_SLL2, b, 40, 20);
	b[0] = 0x08;
	b[1] = 0x06;
	assert_int_equal(linktype_strip(DLT_LINUX_SLL2, b, 40, &off), LINKTYPE_NON_IP);
	b[0] = 0x81;
	b[1] = 0x00;
	b[22] = 0x08;
	b[23] = 0x00;
	memcpy(b + 24, ipv4_hdr, 20);
	expect_ip_at(DLT_LINUX_SLL2, b, 44, 24);
}

static void test_raw(void **state)
{
	size_t off = 99;

	(void)state;
	assert_int_equal(linktype_strip(DLT_RAW, ipv4_hdr, 20, &off), LINKTYPE_IP);
	assert_int_equal(off, 0);
	off = 99;
	assert_int_equal(linktype_strip(101, ipv4_hdr, 20, &off), LINKTYPE_IP);
	assert_int_equal(off, 0);
	assert_int_equal(linktype_strip(DLT_IPV4, ipv4_hdr, 20, &off), LINKTYPE_IP);
	assert_int_equal(linktype_strip(DLT_IPV6, ipv4_hdr, 20, &off), LINKTYPE_IP);
	/* even nothing: packet_parse reports the missing version byte */
	assert_int_equal(linktype_strip(DLT_RAW, ipv4_hdr, 0, &off), LINKTYPE_IP);
}

static void test_null_loop(void **state)
{
	/* AF values as little- and big-endian words */
	static const uint32_t afs_ip[] = { 2, 24, 28, 30 };
	static const uint32_t afs_other[] = { 0, 7, 10, 17, 0x10000 };
	const int dlts[] = { DLT_NULL, DLT_LOOP };
	uint8_t b[64];
	size_t off, i, d;

	(void)state;
	memcpy(b + 4, ipv4_hdr, 20);
	for (d = 0; d < 2; d++) {
		for (i = 0; i < 4; i++) {
			uint32_t v = afs_ip[i];

			b[0] = (uint8_t)v; /* little-endian */
			b[1] = b[2] = b[3] = 0;
			expect_ip_at(dlts[d], b, 24, 4);
			b[0] = b[1] = b[2] = 0; /* big-endian */
			b[3] = (uint8_t)v;
			expect_ip_at(dlts[d], b, 24, 4);
		}
		for (i = 0; i < 5; i++) {
			uint32_t v = afs_other[i];

			b[0] = (uint8_t)(v >> 24);
			b[1] = (uint8_t)(v >> 16);
			b[2] = (uint8_t)(v >> 8);
			b[3] = (uint8_t)v;
			assert_int_equal(linktype_strip(dlts[d], b, 24, &off),
					 LINKTYPE_NON_IP);
		}
	}
}

/* MACsec without encryption carries the original ethertype after the
 * SecTAG; encrypted or changed text is not IP to us.  NSH and MPLS lead
 * to IP as tcpdump and tshark read them. */
static void test_encapsulations(void **state)
{
	uint8_t b[128];
	size_t n, off;

	(void)state;
	/* MACsec, SC set: TCI 0x20 AN 0, SL, PN(4), SCI(8), type */
	memset(b, 0x02, 12);
	b[12] = 0x88; b[13] = 0xe5;
	b[14] = 0x20; b[15] = 0; memset(b + 16, 0, 4); memset(b + 20, 7, 8);
	b[28] = 0x08; b[29] = 0x00;
	memcpy(b + 30, ipv4_hdr, 20);
	n = 50;
	expect_ip_at(DLT_EN10MB, b, n, 30);
	/* without the SCI */
	b[14] = 0x00;
	memmove(b + 20, b + 28, 22);
	expect_ip_at(DLT_EN10MB, b, n - 8, 22);
	/* encrypted (E), or changed text (C): not readable */
	b[14] = 0x08;
	assert_int_equal(linktype_strip(DLT_EN10MB, b, n - 8, &off), LINKTYPE_NON_IP);
	b[14] = 0x04;
	assert_int_equal(linktype_strip(DLT_EN10MB, b, n - 8, &off), LINKTYPE_NON_IP);

	/* NSH: version 0, length 6 words (24 bytes), MD type 2, next IPv4 */
	memset(b, 0x02, 12);
	b[12] = 0x89; b[13] = 0x4f;
	memset(b + 14, 0, 24);
	b[14] = 0x00; b[15] = 0x06; b[16] = 0x02; b[17] = 1;
	memcpy(b + 38, ipv4_hdr, 20);
	expect_ip_at(DLT_EN10MB, b, 58, 38);
	b[17] = 3; /* Ethernet inside: not read */
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 58, &off), LINKTYPE_NON_IP);
	b[17] = 1; b[15] = 0x01; /* shorter than the fixed part */
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 58, &off), LINKTYPE_NON_IP);

	/* MPLS: two labels, bottom of stack on the second */
	memset(b, 0x02, 12);
	b[12] = 0x88; b[13] = 0x47;
	memset(b + 14, 0, 8);
	b[20] = 0x01; /* S bit of the second label (byte 2 of it) */
	memcpy(b + 22, ipv4_hdr, 20);
	expect_ip_at(DLT_EN10MB, b, 42, 22);
	b[22] = 0x02; /* not IP by its first nibble (a pseudowire) */
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 42, &off), LINKTYPE_NON_IP);
	/* a label stack that never ends */
	memset(b + 14, 0, 100);
	assert_int_equal(linktype_strip(DLT_EN10MB, b, 114, &off), LINKTYPE_NON_IP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_encapsulations),
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_llc_snap),
		cmocka_unit_test(test_sll),
		cmocka_unit_test(test_sll2),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_null_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
