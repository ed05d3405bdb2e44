/*
 * test_resolver: the owner resolver's message protocol (nfq/resolver.c).
 * What the child sends is input to the packet process: every malformed
 * reply is rejected whole.  Also the packet thread's side over a real
 * socketpair: a lookup never blocks, answers fill the cache by inode, a
 * full channel and a closed one mean "unknown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "packet.h"
#include "resolver.h"

static struct resolver_reply good_reply(void)
{
	struct resolver_reply rp;

	memset(&rp, 0, sizeof(rp));
	rp.tag = 0x1122334455667788ull;
	rp.found = 1;
	rp.inode = 0x1122334455667788ull;
	rp.owner.pid = 4242;
	rp.owner.uid = 1000;
	rp.owner.has_uid = 1;
	strcpy(rp.owner.program, "nc");
	strcpy(rp.owner.exe, "/usr/bin/nc.openbsd");
	strcpy(rp.owner.user, "alice");
	strcpy(rp.owner.unit, "user@1000.service");
	return rp;
}

static void test_request_roundtrip(void **state)
{
	struct resolver_request rq = { .tag = 7, .proto = PROTO_TCP,
				       .family = 4, .port = 60314 };
	struct resolver_request out;
	uint8_t buf[RESOLVER_REQUEST_LEN];

	(void)state;
	rq.addr[0] = 127;
	rq.addr[3] = 1;
	assert_int_equal(resolver_encode_request(&rq, buf, sizeof(buf)),
			 RESOLVER_REQUEST_LEN);
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.tag, 7);
	assert_int_equal(out.proto, PROTO_TCP);
	assert_int_equal(out.family, 4);
	assert_int_equal(out.port, 60314);
	assert_memory_equal(out.addr, rq.addr, 16);
	/* too short, too long, wrong version, wrong type, reserved bytes */
	assert_int_equal(resolver_decode_request(buf, sizeof(buf) - 1, &out), -1);
	{
		uint8_t big[RESOLVER_REQUEST_LEN + 1];

		memcpy(big, buf, sizeof(buf));
		big[RESOLVER_REQUEST_LEN] = 0;
		assert_int_equal(resolver_decode_request(big, sizeof(big), &out), -1);
	}
	buf[0] = 2;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[0] = RESOLVER_VERSION;
	buf[1] = 2;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[1] = 1;
	buf[31] = 1;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[31] = 0;
	/* a protocol without ports; a family that is not 4 or 6; IPv4 with
	 * bytes past the fourth */
	buf[2] = PROTO_ICMP;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[2] = PROTO_UDP;
	buf[3] = 5;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[3] = 4;
	buf[12 + 4] = 1;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), -1);
	buf[3] = 6;
	assert_int_equal(resolver_decode_request(buf, sizeof(buf), &out), 0);
	/* the encoder refuses what the decoder would */
	rq.family = 9;
	assert_int_equal(resolver_encode_request(&rq, buf, sizeof(buf)), 0);
	rq.family = 4;
	assert_int_equal(resolver_encode_request(&rq, buf, 8), 0);
}

static void test_reply_roundtrip(void **state)
{
	struct resolver_reply rp = good_reply(), out;
	uint8_t buf[RESOLVER_REPLY_MAX];
	size_t n;

	(void)state;
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	assert_true(n > 28);
	assert_int_equal(resolver_decode_reply(buf, n, &out), 0);
	assert_int_equal(out.tag, rp.tag);
	assert_int_equal(out.found, 1);
	assert_int_equal(out.inode, rp.inode);
	assert_int_equal(out.owner.pid, 4242);
	assert_int_equal(out.owner.uid, 1000);
	assert_int_equal(out.owner.has_uid, 1);
	assert_string_equal(out.owner.program, "nc");
	assert_string_equal(out.owner.exe, "/usr/bin/nc.openbsd");
	assert_string_equal(out.owner.user, "alice");
	assert_string_equal(out.owner.unit, "user@1000.service");

	/* not found: pid -1, nothing else */
	memset(&rp, 0, sizeof(rp));
	rp.tag = 9;
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	assert_int_equal(n, 28 + 8);
	assert_int_equal(resolver_decode_reply(buf, n, &out), 0);
	assert_int_equal(out.found, 0);
	assert_int_equal(out.owner.pid, -1);
	assert_string_equal(out.owner.program, "");
}

static void test_reply_longest_fields(void **state)
{
	struct resolver_reply rp = good_reply(), out;
	uint8_t buf[RESOLVER_REPLY_MAX];
	size_t n;

	(void)state;
	memset(rp.owner.program, 'p', sizeof(rp.owner.program) - 1);
	memset(rp.owner.exe, 'e', sizeof(rp.owner.exe) - 1);
	memset(rp.owner.user, 'u', sizeof(rp.owner.user) - 1);
	memset(rp.owner.unit, 'n', sizeof(rp.owner.unit) - 1);
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	assert_int_equal(n, RESOLVER_REPLY_MAX);
	assert_int_equal(resolver_decode_reply(buf, n, &out), 0);
	assert_int_equal(strlen(out.owner.exe), sizeof(out.owner.exe) - 1);
	/* control bytes and quotes are carried as they are (escaped where
	 * they are printed), NUL is not */
	strcpy(rp.owner.program, "\x1b[2J\"\n");
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	assert_int_equal(resolver_decode_reply(buf, n, &out), 0);
	assert_string_equal(out.owner.program, "\x1b[2J\"\n");
	/* no room */
	assert_int_equal(resolver_encode_reply(&rp, buf, 30), 0);
	/* found with no pid */
	rp.owner.pid = 0;
	assert_int_equal(resolver_encode_reply(&rp, buf, sizeof(buf)), 0);
}

/* Encodes the good reply, lets mutate() damage it, expects rejection. */
static void expect_rejected(void (*mutate)(uint8_t *buf, size_t *n))
{
	struct resolver_reply rp = good_reply(), out;
	uint8_t buf[RESOLVER_REPLY_MAX + 64];
	size_t n;

	memset(buf, 0, sizeof(buf));
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	assert_true(n > 0);
	mutate(buf, &n);
	assert_int_equal(resolver_decode_reply(buf, n, &out), -1);
	/* nothing of a rejected reply is used */
	assert_int_equal(out.found, 0);
	assert_int_equal(out.owner.pid, -1);
	assert_string_equal(out.owner.program, "");
}

static void m_version(uint8_t *b, size_t *n) { (void)n; b[0] = 9; }
static void m_type(uint8_t *b, size_t *n) { (void)n; b[1] = 1; }
static void m_found(uint8_t *b, size_t *n) { (void)n; b[2] = 2; }
static void m_flags(uint8_t *b, size_t *n) { (void)n; b[3] |= 0x80; }
static void m_pid0(uint8_t *b, size_t *n) { (void)n; memset(b + 20, 0, 4); }
static void m_pidneg(uint8_t *b, size_t *n) { (void)n; memset(b + 20, 0xff, 4); }
static void m_short_hdr(uint8_t *b, size_t *n) { (void)b; *n = 27; }
static void m_cut(uint8_t *b, size_t *n) { (void)b; *n -= 1; }
static void m_extra(uint8_t *b, size_t *n) { b[*n] = 0; *n += 1; }
/* program's length past the end of the message */
static void m_strlen(uint8_t *b, size_t *n) { (void)n; b[28] = 0xff; b[29] = 0xff; }
/* program's length one past its field (64 bytes with the NUL) */
static void m_strfield(uint8_t *b, size_t *n)
{
	uint8_t tmp[RESOLVER_REPLY_MAX + 64];
	size_t rest = *n - 30 - 2; /* after "nc" */

	memcpy(tmp, b + 32, rest);
	b[28] = 0;
	b[29] = LISTENER_NAME_MAX;
	memset(b + 30, 'x', LISTENER_NAME_MAX);
	memcpy(b + 30 + LISTENER_NAME_MAX, tmp, rest);
	*n = 30 + LISTENER_NAME_MAX + rest;
}
static void m_nul(uint8_t *b, size_t *n) { (void)n; b[31] = 0; /* "n\0" */ }
/* not found, yet a pid and a name */
static void m_notfound_named(uint8_t *b, size_t *n) { (void)n; b[2] = 0; }
static void m_too_long(uint8_t *b, size_t *n) { (void)b; *n = RESOLVER_REPLY_MAX + 1; }

static void test_reply_malformed(void **state)
{
	(void)state;
	expect_rejected(m_version);
	expect_rejected(m_type);
	expect_rejected(m_found);
	expect_rejected(m_flags);
	expect_rejected(m_pid0);
	expect_rejected(m_pidneg);
	expect_rejected(m_short_hdr);
	expect_rejected(m_cut);
	expect_rejected(m_extra);
	expect_rejected(m_strlen);
	expect_rejected(m_strfield);
	expect_rejected(m_nul);
	expect_rejected(m_notfound_named);
	expect_rejected(m_too_long);
}

/* Every truncation of a valid reply is rejected. */
static void test_reply_every_truncation(void **state)
{
	struct resolver_reply rp = good_reply(), out;
	uint8_t buf[RESOLVER_REPLY_MAX];
	size_t n, i;

	(void)state;
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	for (i = 0; i < n; i++)
		assert_int_equal(resolver_decode_reply(buf, i, &out), -1);
}

static struct listener listener(uint64_t inode, uint16_t port)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = PROTO_TCP;
	l.family = 4;
	l.port = port;
	l.inode = inode;
	return l;
}

static void answer_one(int fd, const struct resolver_reply *rp)
{
	uint8_t buf[RESOLVER_REPLY_MAX];
	size_t n = resolver_encode_reply(rp, buf, sizeof(buf));

	assert_true(n > 0);
	assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
}

static void test_client(void **state)
{
	struct resolver_client *c;
	struct resolver_request rq;
	struct resolver_reply rp = good_reply();
	struct listener_owner o;
	struct listener l = listener(rp.tag, 60314), other = listener(99, 60315);
	uint8_t buf[64];
	int sv[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	c = resolver_client_new(sv[0]);
	assert_non_null(c);
	assert_int_equal(resolver_client_lookup(c, &l, 1000, &o), RESOLVER_PENDING);
	/* asked once: the second lookup does not ask again */
	assert_int_equal(resolver_client_lookup(c, &l, 2000, &o), RESOLVER_PENDING);
	assert_int_equal(resolver_client_inflight(c), 1);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, RESOLVER_REQUEST_LEN);
	assert_int_equal(resolver_decode_request(buf, (size_t)n, &rq), 0);
	assert_int_equal(rq.tag, rp.tag);
	assert_int_equal(rq.port, 60314);
	assert_true(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) < 0);

	/* a malformed reply is dropped and counted, a good one fills */
	buf[0] = 0;
	assert_int_equal(send(sv[1], buf, 3, 0), 3);
	answer_one(sv[1], &rp);
	assert_int_equal(resolver_client_receive(c, 3000), 1);
	assert_int_equal(resolver_client_rejected(c), 1);
	assert_int_equal(resolver_client_lookup(c, &l, 4000, &o), RESOLVER_FOUND);
	assert_int_equal(o.pid, 4242);
	assert_string_equal(o.program, "nc");

	/* another socket found on that port: not this one's owner */
	assert_int_equal(resolver_client_lookup(c, &other, 5000, &o), RESOLVER_PENDING);
	rp.tag = 99;
	rp.inode = 100;
	answer_one(sv[1], &rp);
	assert_int_equal(resolver_client_receive(c, 6000), 1);
	assert_int_equal(resolver_client_lookup(c, &other, 7000, &o), RESOLVER_NOT_FOUND);

	/* a listener without an inode cannot be asked about */
	other.inode = 0;
	assert_int_equal(resolver_client_lookup(c, &other, 7000, &o), RESOLVER_UNKNOWN);

	/* the resolver gone: said once, then every new owner is unknown;
	 * an answer already cached still stands */
	close(sv[1]);
	assert_int_equal(resolver_client_receive(c, 8000), -1);
	assert_int_equal(resolver_client_receive(c, 8000), 0);
	assert_int_equal(resolver_client_fd(c), -1);
	other = listener(555, 60316);
	assert_int_equal(resolver_client_lookup(c, &other, 9000, &o), RESOLVER_UNKNOWN);
	assert_int_equal(resolver_client_lookup(c, &l, 9000, &o), RESOLVER_FOUND);
	resolver_client_free(c);
	close(sv[0]);
}

/* A channel that is full never blocks the packet thread. */
static void test_client_full_channel(void **state)
{
	struct resolver_client *c;
	struct listener_owner o;
	int sv[2], sndbuf = 4096;
	uint64_t i;
	int unknown = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c = resolver_client_new(sv[0]);
	for (i = 1; i <= 5000; i++) {
		struct listener l = listener(i * 7919, 60000);

		if (resolver_client_lookup(c, &l, 1000, &o) == RESOLVER_UNKNOWN)
			unknown++;
	}
	assert_true(unknown > 0);
	resolver_client_free(c);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_reply_longest_fields),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_reply_every_truncation),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_client_full_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
