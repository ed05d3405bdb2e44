/*
 * test_sockdiag: the listener table from NETLINK_SOCK_DIAG.  Live: sockets
 * this process opens are found with the right port and inode, and their
 * owner is this process.  Crafted: dump replies with bad lengths, errors,
 * interrupted dumps and sockets that are not listeners.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"
#include "owner.h"
#include "packet.h"
#include "sockdiag.h"

/* ---- live ---- */

static struct listener *find_inode(struct listener_table *t, uint64_t ino)
{
	for (size_t i = 0; i < listener_table_count(t); i++) {
		struct listener *l = listener_table_at(t, i);
		if (l->inode == ino)
			return l;
	}
	return NULL;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_ino;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void read_comm(char *out, size_t cap)
{
	int fd = open("/proc/self/comm", O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, out, cap - 1);
	close(fd);
	assert_true(n > 0);
	out[n] = '\0';
	if (out[n - 1] == '\n')
		out[n - 1] = '\0';
}

static void test_live(void **state)
{
	struct listener_table *t = listener_table_new();
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct listener *l;
	char err[256], comm[64];
	int tcp, udp, conn, bound, udp4c;
	int have6;

	(void)state;
	assert_non_null(t);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* a TCP listener on 127.0.0.1, port chosen by the kernel */
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(tcp >= 0);
	assert_int_equal(bind(tcp, (struct sockaddr *)&a4, sizeof(a4)), 0);
	assert_int_equal(listen(tcp, 4), 0);

	/* a bound UDP socket on ::1 (skipped where IPv6 is off) */
	udp = socket(AF_INET6, SOCK_DGRAM, 0);
	a6.sin6_addr = in6addr_loopback;
	have6 = udp >= 0 &&
		bind(udp, (struct sockaddr *)&a6, sizeof(a6)) == 0;

	/* not listeners: a bound TCP socket that never listened, and a
	 * connected UDP socket */
	bound = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(bound >= 0);
	assert_int_equal(bind(bound, (struct sockaddr *)&a4, sizeof(a4)), 0);
	udp4c = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(udp4c >= 0);
	a4.sin_port = htons(port_of(tcp)); /* any address will do */
	assert_int_equal(connect(udp4c, (struct sockaddr *)&a4, sizeof(a4)), 0);
	/* and a connected TCP client's accepted peer is no listener either */
	conn = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(conn >= 0);
	assert_int_equal(connect(conn, (struct sockaddr *)&a4, sizeof(a4)), 0);

	int n = sockdiag_fill(t, err, sizeof(err));
	if (n < 0)
		fail_msg("sockdiag_fill: %s", err);
	assert_int_equal((size_t)n, listener_table_count(t));
	assert_true(n >= 1 + have6);

	l = find_inode(t, inode_of(tcp));
	assert_non_null(l);
	assert_int_equal(l->proto, PROTO_TCP);
	assert_int_equal(l->family, 4);
	assert_int_equal(l->port, port_of(tcp));
	assert_memory_equal(l->addr, ((uint8_t[16]){ 127, 0, 0, 1 }), 16);
	assert_int_equal(l->uid, getuid());
	assert_int_equal(l->owner_state, 0);
	/* the table's lookup finds it the way the decision will */
	assert_ptr_equal(listener_table_find(t, PROTO_TCP, 4, l->addr, l->port),
			 l);

	read_comm(comm, sizeof(comm));
	assert_int_equal(owner_resolve(NULL, l), 0);
	assert_int_equal(l->owner.pid, getpid());
	assert_string_equal(l->owner.program, comm);

	if (have6) {
		l = find_inode(t, inode_of(udp));
		assert_non_null(l);
		assert_int_equal(l->proto, PROTO_UDP);
		assert_int_equal(l->family, 6);
		assert_int_equal(l->port, port_of(udp));
		assert_memory_equal(l->addr, &in6addr_loopback, 16);
		assert_int_equal(owner_resolve(NULL, l), 0);
		assert_int_equal(l->owner.pid, getpid());
		assert_string_equal(l->owner.program, comm);
	} else {
		print_message("IPv6 loopback unavailable: UDP part skipped\n");
	}

	assert_null(find_inode(t, inode_of(bound)));
	assert_null(find_inode(t, inode_of(udp4c)));
	assert_null(find_inode(t, inode_of(conn)));

	/* filling again replaces, never appends */
	int n2 = sockdiag_fill(t, err, sizeof(err));
	assert_true(n2 >= 1 + have6);
	size_t hits = 0;
	for (size_t i = 0; i < listener_table_count(t); i++)
		hits += listener_table_at(t, i)->inode == inode_of(tcp);
	assert_int_equal(hits, 1);

	/* closed: gone on the next fill */
	uint64_t ino = inode_of(tcp);
	close(tcp);
	assert_true(sockdiag_fill(t, err, sizeof(err)) >= 0);
	assert_null(find_inode(t, ino));

	close(conn);
	close(udp4c);
	close(bound);
	if (udp >= 0)
		close(udp);
	listener_table_free(t);
}

/* ---- crafted replies ---- */

#define SEQ 42
#define PORTID 4242

struct msgbuf {
	uint32_t w[2048]; /* aligned as the kernel's */
	size_t len;
};

static struct nlmsghdr *put_hdr(struct msgbuf *b, uint16_t type,
				size_t payload)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)b->w + b->len);
	size_t len = NLMSG_LENGTH(payload);

	assert_true(b->len + NLMSG_ALIGN(len) <= sizeof(b->w));
	memset(h, 0, NLMSG_ALIGN(len));
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_MULTI;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	b->len += NLMSG_ALIGN(len);
	return h;
}

/* One socket message; extra bytes of attributes may follow. */
static struct inet_diag_msg *put_sock(struct msgbuf *b, uint8_t family,
				      uint8_t state, uint16_t sport,
				      uint32_t inode, size_t extra)
{
	struct nlmsghdr *h = put_hdr(b, SOCK_DIAG_BY_FAMILY,
				     sizeof(struct inet_diag_msg) + extra);
	struct inet_diag_msg *m = NLMSG_DATA(h);

	m->idiag_family = family;
	m->idiag_state = state;
	m->id.idiag_sport = htons(sport);
	m->idiag_inode = inode;
	m->idiag_uid = 1000;
	return m;
}

static void put_done(struct msgbuf *b)
{
	struct nlmsghdr *h = put_hdr(b, NLMSG_DONE, sizeof(int));

	memset(NLMSG_DATA(h), 0, sizeof(int));
}

/* Parses the first len bytes of b from an exact-size heap copy. */
static int parse(struct listener_table *t, uint8_t proto, uint8_t family,
		 const struct msgbuf *b, size_t len)
{
	void *copy = malloc(len ? len : 1);
	int r, saved;

	assert_non_null(copy);
	memcpy(copy, b->w, len);
	errno = 0;
	r = sockdiag_parse(t, proto, family, copy, len, SEQ, PORTID);
	saved = errno;
	free(copy);
	errno = saved;
	return r;
}

static struct listener_table *table(void)
{
	struct listener_table *t = listener_table_new();

	assert_non_null(t);
	return t;
}

static void test_parse_tcp(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };
	struct inet_diag_msg *m;
	struct listener *l;

	(void)state;
	m = put_sock(&b, AF_INET, 10, 60314, 777, 0);
	m->id.idiag_src[0] = htonl(0x7f000001);
	put_sock(&b, AF_INET, 1, 60315, 778, 0); /* established: skipped */
	put_sock(&b, AF_INET, 10, 0, 779, 0);	 /* port 0: skipped */
	put_sock(&b, AF_INET6, 10, 60316, 780, 0); /* wrong family */
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), 0);
	assert_int_equal(listener_table_count(t), 1);
	l = listener_table_at(t, 0);
	assert_int_equal(l->proto, PROTO_TCP);
	assert_int_equal(l->family, 4);
	assert_int_equal(l->port, 60314);
	assert_int_equal(l->inode, 777);
	assert_int_equal(l->uid, 1000);
	assert_memory_equal(l->addr, ((uint8_t[16]){ 127, 0, 0, 1 }), 16);

	/* a dump in two parts: the second ends with DONE */
	b.len = 0;
	put_sock(&b, AF_INET, 10, 22, 1, 0);
	put_done(&b);
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), 1);
	assert_int_equal(listener_table_count(t), 2);
	listener_table_free(t);
}

/* SCTP and DCCP listen as TCP does: only LISTEN counts. */
static void test_parse_sctp_dccp(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };

	(void)state;
	put_sock(&b, AF_INET6, 10, 36412, 1, 0);
	put_sock(&b, AF_INET6, 1, 36413, 2, 0);
	put_sock(&b, AF_INET6, 7, 36414, 3, 0);
	put_done(&b);
	assert_int_equal(parse(t, PROTO_SCTP, 6, &b, b.len), 1);
	assert_int_equal(listener_table_count(t), 1);
	assert_int_equal(listener_table_at(t, 0)->proto, PROTO_SCTP);
	assert_int_equal(listener_table_at(t, 0)->port, 36412);
	assert_int_equal(parse(t, PROTO_DCCP, 6, &b, b.len), 1);
	assert_int_equal(listener_table_count(t), 2);
	assert_int_equal(listener_table_at(t, 1)->proto, PROTO_DCCP);
	listener_table_free(t);
}

static void test_parse_udp6(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };
	struct inet_diag_msg *m;
	struct listener *l;

	(void)state;
	/* unconnected on ::1 */
	m = put_sock(&b, AF_INET6, 7, 60001, 10, 0);
	((uint8_t *)m->id.idiag_src)[15] = 1;
	/* connected (a remote port): not a listener */
	m = put_sock(&b, AF_INET6, 7, 60002, 11, 0);
	m->id.idiag_dport = htons(53);
	/* a remote address without a port: still not unconnected */
	m = put_sock(&b, AF_INET6, 7, 60003, 12, 0);
	((uint8_t *)m->id.idiag_dst)[0] = 0x20;
	/* state ESTABLISHED */
	put_sock(&b, AF_INET6, 1, 60004, 13, 0);
	/* bound to a v4-mapped address: an IPv4 listener */
	m = put_sock(&b, AF_INET6, 7, 60005, 14, 0);
	memcpy(m->id.idiag_src,
	       (uint8_t[16]){ [10] = 0xff, [11] = 0xff, 192, 0, 2, 7 }, 16);
	put_done(&b);
	assert_int_equal(parse(t, PROTO_UDP, 6, &b, b.len), 1);
	assert_int_equal(listener_table_count(t), 2);
	l = listener_table_at(t, 0);
	assert_int_equal(l->proto, PROTO_UDP);
	assert_int_equal(l->family, 6);
	assert_int_equal(l->port, 60001);
	assert_memory_equal(l->addr, &in6addr_loopback, 16);
	l = listener_table_at(t, 1);
	assert_int_equal(l->family, 4);
	assert_int_equal(l->port, 60005);
	assert_memory_equal(l->addr, ((uint8_t[16]){ 192, 0, 2, 7 }), 16);
	listener_table_free(t);
}

static void test_parse_attrs(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };
	struct inet_diag_msg *m;
	struct nlattr *a;

	(void)state;
	/* two well-formed attributes (5 bytes, padded; then 8) */
	m = put_sock(&b, AF_INET, 10, 50000, 1, 8 + 8);
	a = (struct nlattr *)(m + 1);
	a->nla_len = 5;
	a->nla_type = INET_DIAG_SKV6ONLY;
	a = (struct nlattr *)((char *)(m + 1) + 8);
	a->nla_len = 8;
	a->nla_type = INET_DIAG_MARK;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), 0);
	assert_int_equal(listener_table_count(t), 1);

	/* an attribute longer than its message */
	b.len = 0;
	m = put_sock(&b, AF_INET, 10, 50001, 2, 8);
	a = (struct nlattr *)(m + 1);
	a->nla_len = 12;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);

	/* an attribute shorter than its own header */
	b.len = 0;
	m = put_sock(&b, AF_INET, 10, 50002, 3, 8);
	a = (struct nlattr *)(m + 1);
	a->nla_len = 2;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);

	/* a stub of 3 bytes after the message body */
	b.len = 0;
	put_sock(&b, AF_INET, 10, 50003, 4, 3);
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(listener_table_count(t), 1);
	listener_table_free(t);
}

static void test_parse_lengths(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };
	struct nlmsghdr *h;

	(void)state;
	/* a socket message too short for inet_diag_msg */
	h = put_hdr(&b, SOCK_DIAG_BY_FAMILY, sizeof(struct inet_diag_msg) - 4);
	(void)h;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);

	/* every truncation of a valid two-message dump: never a crash,
	 * never a socket from bytes that were not there */
	b.len = 0;
	put_sock(&b, AF_INET, 10, 60314, 9, 0);
	put_done(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		listener_table_clear(t);
		int r = parse(t, PROTO_TCP, 4, &b, cut);
		size_t first = NLMSG_LENGTH(sizeof(struct inet_diag_msg));
		if (cut == first)
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -1);
		assert_int_equal(listener_table_count(t), cut >= first);
	}
	listener_table_clear(t);
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), 1);

	/* nlmsg_len past the buffer, and below the header size */
	b.len = 0;
	h = put_hdr(&b, SOCK_DIAG_BY_FAMILY, sizeof(struct inet_diag_msg));
	h->nlmsg_len = 4096;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);
	h->nlmsg_len = 8;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);
	/* regression (found by test_parse_mutants under ASan): a length of
	 * 2^31 or more is negative as an int and passed mnl_nlmsg_ok */
	listener_table_clear(t);
	h->nlmsg_len = 0x80000000u + (uint32_t)b.len;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);
	h->nlmsg_len = 0xffffffffu;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(listener_table_count(t), 0);
	listener_table_free(t);
}

static void test_parse_errors(void **state)
{
	struct listener_table *t = table();
	struct msgbuf b = { .len = 0 };
	struct nlmsghdr *h;
	struct nlmsgerr *e;

	(void)state;
	h = put_hdr(&b, NLMSG_ERROR, sizeof(*e));
	e = NLMSG_DATA(h);
	e->error = -EPERM;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EPERM);

	/* an absurd error number */
	e->error = -100000;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EPROTO);
	e->error = 5;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EPROTO);

	/* an error message too short to hold the error */
	b.len = 0;
	put_hdr(&b, NLMSG_ERROR, 2);
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EBADMSG);

	/* the kernel says the dump changed under us */
	b.len = 0;
	h = put_hdr(&b, SOCK_DIAG_BY_FAMILY, sizeof(struct inet_diag_msg));
	h->nlmsg_flags |= NLM_F_DUMP_INTR;
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), -1);
	assert_int_equal(errno, EINTR);

	/* another request's reply (sequence or port id) is skipped */
	b.len = 0;
	h = (struct nlmsghdr *)((char *)b.w);
	put_sock(&b, AF_INET, 10, 1000, 1, 0);
	h->nlmsg_seq = SEQ + 1;
	put_sock(&b, AF_INET, 10, 1001, 2, 0);
	((struct nlmsghdr *)((char *)b.w + NLMSG_ALIGN(h->nlmsg_len)))
		->nlmsg_pid = PORTID + 1;
	put_sock(&b, AF_INET, 10, 1002, 3, 0);
	/* unknown types and NOOP are skipped */
	put_hdr(&b, 0x7777, 4);
	put_hdr(&b, NLMSG_NOOP, 0);
	put_done(&b);
	listener_table_clear(t);
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, b.len), 1);
	assert_int_equal(listener_table_count(t), 1);
	assert_int_equal(listener_table_at(t, 0)->port, 1002);

	/* nothing at all */
	assert_int_equal(parse(t, PROTO_TCP, 4, &b, 0), -1);
	assert_int_equal(errno, EBADMSG);
	listener_table_free(t);
}

/* Random bytes over a valid dump (fixed seed, so a failure repeats):
 * whatever comes back, no crash, no read outside the buffer (SANITIZE=1),
 * and every socket added is one the bytes describe as a listener. */
static void test_parse_mutants(void **state)
{
	struct listener_table *t = table();
	struct msgbuf good = { .len = 0 }, b;
	uint32_t x = 0x12345678;
	struct nlattr *a;
	struct inet_diag_msg *m;

	(void)state;
	put_sock(&good, AF_INET, 10, 60314, 1, 0);
	m = put_sock(&good, AF_INET, 10, 60315, 2, 8);
	a = (struct nlattr *)(m + 1);
	a->nla_len = 8;
	put_sock(&good, AF_INET, 7, 60316, 3, 0);
	put_done(&good);
	for (int round = 0; round < 20000; round++) {
		b = good;
		int flips = 1 + (int)(x % 8);
		for (int f = 0; f < flips; f++) {
			x = x * 1103515245u + 12345u;
			((uint8_t *)b.w)[(x >> 8) % b.len] = (uint8_t)(x >> 20);
		}
		x = x * 1103515245u + 12345u;
		size_t len = b.len - (x >> 16) % 8;
		listener_table_clear(t);
		int r = parse(t, PROTO_TCP, 4, &b, len);
		assert_true(r == -1 || r == 0 || r == 1);
		for (size_t i = 0; i < listener_table_count(t); i++) {
			struct listener *l = listener_table_at(t, i);
			assert_int_equal(l->proto, PROTO_TCP);
			assert_int_equal(l->family, 4);
			assert_int_not_equal(l->port, 0);
		}
		assert_true(listener_table_count(t) <= 3);
	}
	listener_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_parse_tcp),
		cmocka_unit_test(test_parse_sctp_dccp),
		cmocka_unit_test(test_parse_udp6),
		cmocka_unit_test(test_parse_attrs),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_mutants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
