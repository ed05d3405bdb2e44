/* Tests for rules/reasm.c: IPv4 and IPv6 reassembly with Linux's rules
 * (overlaps discard the datagram, duplicates are dropped alone, lengths
 * must agree, timeout from the first fragment, a memory bound), checked by
 * parsing what comes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"
#include "reasm.h"

#define SEC 1000000000ull

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The transport datagram that gets fragmented: UDP 5353 -> 60000 with
 * paylen bytes, or a TCP SYN 40000 -> 60314. */
static size_t l4_udp(uint8_t *b, size_t paylen)
{
	put16(b, 5353);
	put16(b + 2, 60000);
	put16(b + 4, (uint16_t)(8 + paylen));
	b[6] = b[7] = 0;
	for (size_t i = 0; i < paylen; i++)
		b[8 + i] = (uint8_t)i;
	return 8 + paylen;
}

static size_t l4_syn(uint8_t *b)
{
	memset(b, 0, 20);
	put16(b, 40000);
	put16(b + 2, 60314);
	b[12] = 0x50;
	b[13] = PACKET_TCP_SYN;
	return 20;
}

/* One IPv4 fragment of l4 [off, off+len), id, MF when more. */
static size_t frag4(uint8_t *b, uint8_t proto, uint16_t id, const uint8_t *l4,
		    size_t off, size_t len, int more)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)(20 + len));
	put16(b + 4, id);
	put16(b + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
	b[8] = 64;
	b[9] = proto;
	b[12] = 192; b[13] = 0; b[14] = 2; b[15] = 1;
	b[16] = 198; b[17] = 51; b[18] = 100; b[19] = 2;
	memcpy(b + 20, l4 + off, len);
	return 20 + len;
}

/* One IPv6 fragment, with a destination options header (8 bytes) in the
 * unfragmentable part when dstopts. */
static size_t frag6(uint8_t *b, uint8_t proto, uint32_t id, const uint8_t *l4,
		    size_t off, size_t len, int more, int dstopts)
{
	size_t o = 40;

	memset(b, 0, 48 + 8);
	b[0] = 0x60;
	b[6] = dstopts ? 60 : 44;
	b[7] = 64;
	b[8] = 0x20; b[9] = 0x01; b[10] = 0x0d; b[11] = 0xb8; b[23] = 1;
	b[24] = 0x20; b[25] = 0x01; b[26] = 0x0d; b[27] = 0xb8; b[39] = 2;
	if (dstopts) {
		b[40] = 44; /* next: fragment */
		b[41] = 0;
		b[42] = 1; b[43] = 4; /* PadN */
		o = 48;
	}
	b[o] = proto;
	put16(b + o + 2, (uint16_t)(off | (more ? 1 : 0)));
	b[o + 4] = (uint8_t)(id >> 24);
	b[o + 7] = (uint8_t)id;
	memcpy(b + o + 8, l4 + off, len);
	put16(b + 4, (uint16_t)(o - 40 + 8 + len));
	return o + 8 + len;
}

static struct reasm *mk(size_t max_bytes)
{
	struct reasm_opts o = { .max_bytes = max_bytes };
	struct reasm *r = reasm_new(&o);

	assert_non_null(r);
	return r;
}

static enum reasm_result add(struct reasm *r, const uint8_t *b, size_t n,
			     uint64_t t, struct packet *p)
{
	const uint8_t *out;
	size_t outlen;
	enum reasm_result rr = reasm_add(r, b, n, t, &out, &outlen);

	if (rr == REASM_DONE) {
		assert_non_null(out);
		packet_parse(p, out, outlen);
	} else {
		assert_null(out);
	}
	return rr;
}

static void test_v4_in_and_out_of_order(void **state)
{
	uint8_t l4[3000], b[2000];
	struct reasm *r = mk(0);
	struct reasm_stats st;
	struct packet p;
	size_t n = l4_udp(l4, 2992), f;

	(void)state;
	assert_int_equal(n, 3000);
	f = frag4(b, 17, 7, l4, 0, 1480, 1);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag4(b, 17, 7, l4, 1480, 1480, 1);
	assert_int_equal(add(r, b, f, 1, &p), REASM_HELD);
	f = frag4(b, 17, 7, l4, 2960, 40, 0);
	assert_int_equal(add(r, b, f, 2, &p), REASM_DONE);
	assert_int_equal(p.status, PACKET_OK);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.fragment, 0);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 60000);
	assert_int_equal(p.wirelen, 3020);
	assert_memory_equal(p.data + 20, l4, 3000);

	/* last first, then the middle, then the first */
	f = frag4(b, 17, 8, l4, 2960, 40, 0);
	assert_int_equal(add(r, b, f, 3, &p), REASM_HELD);
	f = frag4(b, 17, 8, l4, 1480, 1480, 1);
	assert_int_equal(add(r, b, f, 3, &p), REASM_HELD);
	f = frag4(b, 17, 8, l4, 0, 1480, 1);
	assert_int_equal(add(r, b, f, 3, &p), REASM_DONE);
	assert_int_equal(p.dport, 60000);
	assert_memory_equal(p.data + 20, l4, 3000);

	/* not a fragment, and DF alone */
	f = frag4(b, 17, 9, l4, 0, 100, 0);
	assert_int_equal(add(r, b, f, 4, &p), REASM_NONE);
	put16(b + 6, 0x4000);
	assert_int_equal(add(r, b, f, 4, &p), REASM_NONE);
	reasm_get_stats(r, &st);
	assert_int_equal(st.reassembled, 2);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.bytes, 0);
	reasm_free(r);
}

/* nmap -f: the TCP header in 8-byte fragments.  The first fragment alone
 * has no flags; the datagram is a SYN. */
static void test_v4_tiny_tcp(void **state)
{
	uint8_t l4[20], b[64];
	struct reasm *r = mk(0);
	struct packet p;
	size_t f;

	(void)state;
	l4_syn(l4);
	f = frag4(b, 6, 77, l4, 0, 8, 1);
	packet_parse(&p, b, f);
	assert_int_equal(p.status, PACKET_MALFORMED);
	assert_int_equal(p.conn_attempt, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag4(b, 6, 77, l4, 8, 8, 1);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag4(b, 6, 77, l4, 16, 4, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DONE);
	assert_int_equal(p.status, PACKET_OK);
	assert_int_equal(p.proto, PROTO_TCP);
	assert_int_equal(p.conn_attempt, 1);
	assert_int_equal(p.dport, 60314);
	reasm_free(r);
}

/* Overlap discards the datagram (the rest then waits for nothing and
 * times out); an exact duplicate is dropped alone. */
static void test_overlap_and_duplicate(void **state)
{
	uint8_t l4[64], b[128];
	struct reasm *r = mk(0);
	struct reasm_stats st;
	struct packet p;
	size_t f;

	(void)state;
	l4_udp(l4, 40);
	f = frag4(b, 17, 1, l4, 0, 16, 1);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	/* the same bytes again: duplicate */
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	f = frag4(b, 17, 1, l4, 8, 16, 1); /* 8..24 overlaps 0..16 */
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	reasm_get_stats(r, &st);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.overlaps, 1);
	assert_int_equal(st.pending, 0);
	/* what follows starts a new datagram that never completes */
	f = frag4(b, 17, 1, l4, 16, 32, 0);
	assert_int_equal(add(r, b, f, 1 * SEC, &p), REASM_HELD);
	/* 30 s after its first fragment it is still there, past that gone */
	f = frag4(b, 17, 2, l4, 0, 16, 1);
	assert_int_equal(add(r, b, f, 31 * SEC, &p), REASM_HELD);
	reasm_get_stats(r, &st);
	assert_int_equal(st.pending, 2);
	f = frag4(b, 17, 2, l4, 16, 8, 1);
	assert_int_equal(add(r, b, f, 31 * SEC + 1, &p), REASM_HELD);
	reasm_get_stats(r, &st);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.reassembled, 0);

	/* a duplicate spanning a run of two appended fragments */
	f = frag4(b, 17, 3, l4, 0, 16, 1);
	assert_int_equal(add(r, b, f, 32 * SEC, &p), REASM_HELD);
	f = frag4(b, 17, 3, l4, 16, 16, 1);
	assert_int_equal(add(r, b, f, 32 * SEC, &p), REASM_HELD);
	f = frag4(b, 17, 3, l4, 8, 16, 1);
	assert_int_equal(add(r, b, f, 32 * SEC, &p), REASM_DROPPED);
	f = frag4(b, 17, 3, l4, 32, 16, 0);
	assert_int_equal(add(r, b, f, 32 * SEC, &p), REASM_DONE);
	assert_int_equal(p.status, PACKET_OK);
	reasm_get_stats(r, &st);
	assert_int_equal(st.duplicates, 2);
	reasm_free(r);
}

static void test_inconsistent_lengths(void **state)
{
	uint8_t l4[64], b[128];
	struct reasm *r = mk(0);
	struct reasm_stats st;
	struct packet p;
	size_t f;

	(void)state;
	l4_udp(l4, 40);
	/* two different last fragments */
	f = frag4(b, 17, 4, l4, 16, 32, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag4(b, 17, 4, l4, 16, 24, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	/* data beyond a known end */
	f = frag4(b, 17, 5, l4, 0, 16, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_NONE);
	f = frag4(b, 17, 6, l4, 8, 8, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag4(b, 17, 6, l4, 16, 8, 1);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	/* an empty fragment */
	f = frag4(b, 17, 7, l4, 8, 0, 1);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	/* over 65535 bytes in all */
	f = frag4(b, 17, 8, l4, 0, 16, 0);
	put16(b + 6, 65528 / 8);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	reasm_get_stats(r, &st);
	assert_int_equal(st.bad, 3);
	reasm_free(r);
}

static void test_memory_bound(void **state)
{
	uint8_t l4[2000], b[2100];
	struct reasm *r = mk(64 * 1024);
	struct reasm_stats st;
	struct packet p;
	size_t f;
	int dropped = 0;

	(void)state;
	l4_udp(l4, 1990);
	/* first halves only: nothing ever completes */
	for (int id = 0; id < 200; id++) {
		f = frag4(b, 17, (uint16_t)id, l4, 0, 1480, 1);
		if (add(r, b, f, 0, &p) == REASM_DROPPED)
			dropped++;
	}
	reasm_get_stats(r, &st);
	assert_true(dropped > 0);
	assert_int_equal(st.over_memory, (uint64_t)dropped);
	assert_true(st.peak_bytes <= 64 * 1024 + 1480 + 20 +
					 REASM_FRAG_OVERHEAD +
					 REASM_QUEUE_OVERHEAD);
	/* the timeout frees the memory, and fragments are taken again */
	f = frag4(b, 17, 999, l4, 0, 1480, 1);
	assert_int_equal(add(r, b, f, 31 * SEC, &p), REASM_HELD);
	reasm_get_stats(r, &st);
	assert_int_equal(st.pending, 1);
	reasm_free(r);
}

static void test_v6(void **state)
{
	uint8_t l4[3000], b[2000];
	struct reasm *r = mk(0);
	struct reasm_stats st;
	struct packet p;
	size_t f;

	(void)state;
	l4_udp(l4, 2992);
	for (int ext = 0; ext < 2; ext++) {
		f = frag6(b, 17, 0x10000u + (uint32_t)ext, l4, 0, 1448, 1, ext);
		packet_parse(&p, b, f);
		assert_int_equal(p.fragment, 1);
		assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
		f = frag6(b, 17, 0x10000u + (uint32_t)ext, l4, 1448, 1552, 0, ext);
		assert_int_equal(add(r, b, f, 0, &p), REASM_DONE);
		assert_int_equal(p.status, PACKET_OK);
		assert_int_equal(p.family, 6);
		assert_int_equal(p.proto, PROTO_UDP);
		assert_int_equal(p.fragment, 0);
		assert_int_equal(p.dport, 60000);
		assert_int_equal(p.wirelen, 40 + (ext ? 8 : 0) + 3000);
	}
	/* atomic fragment: a whole datagram */
	f = frag6(b, 17, 5, l4, 0, 100, 0, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_NONE);
	/* a first fragment without the whole UDP header (RFC 8200 4.5) */
	f = frag6(b, 17, 6, l4, 0, 8, 1, 0);
	put16(b + 4, 8 + 4);
	assert_int_equal(add(r, b, 40 + 8 + 4, 0, &p), REASM_DROPPED);
	/* a non-last fragment not a multiple of 8 long */
	f = frag6(b, 17, 7, l4, 8, 12, 1, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	/* overlap discards the datagram in IPv6 too */
	f = frag6(b, 17, 8, l4, 0, 16, 1, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_HELD);
	f = frag6(b, 17, 8, l4, 8, 16, 0, 0);
	assert_int_equal(add(r, b, f, 0, &p), REASM_DROPPED);
	reasm_get_stats(r, &st);
	assert_int_equal(st.reassembled, 2);
	assert_int_equal(st.bad, 2);
	assert_int_equal(st.overlaps, 1);
	assert_int_equal(st.pending, 0);
	reasm_free(r);
}

/* A fragment cut by the snap length still takes its place; the datagram
 * comes out with its captured prefix and its full declared length. */
static void test_cut_capture(void **state)
{
	uint8_t l4[3000], b[2000];
	struct reasm *r = mk(0);
	struct packet p;
	size_t f;

	(void)state;
	l4_udp(l4, 2992);
	f = frag4(b, 17, 11, l4, 0, 1480, 1);
	assert_int_equal(add(r, b, 96, 0, &p), REASM_HELD); /* 76 bytes of data */
	f = frag4(b, 17, 11, l4, 1480, 1520, 0);
	assert_int_equal(add(r, b, 96, 0, &p), REASM_DONE);
	(void)f;
	assert_int_equal(p.status, PACKET_OK);
	assert_int_equal(p.dport, 60000);
	assert_int_equal(p.caplen, 96);
	assert_int_equal(p.wirelen, 3020);
	reasm_free(r);
}

/* Random fragments: nothing read out of bounds (ASan), the memory held
 * stays bounded, every queue is freed. */
static void test_random(void **state)
{
	uint8_t l4[4096], b[4200];
	struct reasm *r = mk(32 * 1024);
	struct reasm_stats st;
	struct packet p;
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(l4); i++)
		l4[i] = (uint8_t)i;
	for (int i = 0; i < 20000; i++) {
		size_t off, len, f, cut;
		int v6;

		seed = seed * 1103515245u + 12345u;
		v6 = seed >> 31;
		off = ((seed >> 8) % 32) * 8;
		len = (seed >> 16) % 64;
		if (v6)
			f = frag6(b, 17, (seed >> 4) % 8, l4, off, len,
				  (seed >> 3) & 1, (seed >> 2) & 1);
		else
			f = frag4(b, 17, (uint16_t)((seed >> 4) % 8), l4, off,
				  len, (seed >> 3) & 1);
		cut = (seed >> 1) % 3 ? f : f / 2;
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b, cut);
		(void)add(r, copy, cut, (uint64_t)i * (SEC / 100), &p);
		free(copy);
	}
	reasm_get_stats(r, &st);
	assert_true(st.peak_bytes <= 32 * 1024 + 4200 + REASM_FRAG_OVERHEAD +
					 REASM_QUEUE_OVERHEAD);
	assert_true(st.reassembled > 0 && st.overlaps > 0);
	reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_in_and_out_of_order),
		cmocka_unit_test(test_v4_tiny_tcp),
		cmocka_unit_test(test_overlap_and_duplicate),
		cmocka_unit_test(test_inconsistent_lengths),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_cut_capture),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
