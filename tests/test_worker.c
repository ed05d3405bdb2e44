/*
 * test_worker: one queue thread (nfq/worker.c) driven end to end without
 * the kernel's queue.  The queue is attached to a socketpair: this test
 * writes packet messages and reads the verdicts back; it also plays the
 * owner resolver on another socketpair.  Checked: verdicts (accepts
 * batched, drops and rejects on their own, a packet carrying the reject
 * mark dropped), the counters per class and verdict and per alert kind,
 * and the alert line held until the owner's answer, or written with the
 * owner unknown when no answer comes in time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "nfq_verdicts.h"
#include "packet.h"
#include "policy.h"
#include "queue.h"
#include "resolver.h"
#include "ruleset.h"
#include "stats.h"
#include "worker.h"

#define QNUM 5
#define MARK 0x70c1a55u

struct env {
	char dir[64], log[128];
	int peer;	/* the kernel's end of the queue */
	int rpeer;	/* the resolver's end */
	int rfd;	/* the worker's end of the resolver channel */
	int stop_fd;
	int lsock;	/* a real listener in the dynamic range */
	uint16_t lport;
	struct worker_config wc;
	struct worker *w;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A TCP listener on 127.0.0.1 in 50000-59999 (the IANA dynamic range). */
static int listen_dynamic(uint16_t *port)
{
	unsigned p;

	for (p = 50000 + (unsigned)getpid() % 5000; p < 60000; p++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)p) };
		int s = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(s, 1) == 0) {
			*port = (uint16_t)p;
			return s;
		}
		if (s >= 0)
			close(s);
	}
	return -1;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct log_config lc = { .dest = LOG_DEST_FILE, .rate = 0 };
	char err[256], rules[256];
	struct ruleset *rs;
	struct queue *q;
	int sv[2], nerr = 0;

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_worker.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->log, sizeof(e->log), "%s/events", e->dir);
	lc.path = e->log;
	assert_int_equal(log_init(&lc, err, sizeof(err)), 0);
	e->lsock = listen_dynamic(&e->lport);
	assert_true(e->lsock >= 0);
	snprintf(rules, sizeof(rules),
		 "dynamic-range iana\nunexpected drop log\ndefault pass\n"
		 "reject tcp to port 9999\n");
	rs = ruleset_parse_string("t.rules", rules, NULL, &nerr);
	assert_non_null(rs);
	assert_int_equal(policy_init(rs), 0);

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	q = queue_attach(sv[0], QNUM, 0);
	assert_non_null(q);
	e->peer = sv[1];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	e->rfd = sv[0];
	e->rpeer = sv[1];
	e->stop_fd = eventfd(0, EFD_NONBLOCK);
	e->wc.reject_mark = MARK;
	e->wc.refresh_min_ms = 0;
	e->wc.listener_max_age_ms = 10000;
	e->wc.flow.max_flows = 1024;
	e->w = worker_new(q, &e->wc);
	assert_non_null(e->w);
	assert_int_equal(worker_set_resolver(e->w, e->rfd), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	uint64_t one = 1;
	char cmd[128];

	assert_int_equal(write(e->stop_fd, &one, sizeof(one)), sizeof(one));
	worker_join(e->w);
	worker_free(e->w);
	policy_shutdown();
	log_close();
	close(e->peer);
	close(e->rfd);
	close(e->rpeer);
	close(e->stop_fd);
	close(e->lsock);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* An IPv4 TCP SYN 127.0.0.2:40000 -> 127.0.0.1:dport in a packet message. */
static size_t syn_msg(char *buf, uint32_t id, uint16_t sport, uint16_t dport,
		      int with_mark)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, QNUM);
	struct nfqnl_msg_packet_hdr ph;
	uint8_t ip[40];

	memset(&ph, 0, sizeof(ph));
	ph.packet_id = htonl(id);
	ph.hw_protocol = htons(0x0800);
	ph.hook = NF_INET_LOCAL_IN;
	memset(ip, 0, sizeof(ip));
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 127; ip[15] = 2;
	ip[16] = 127; ip[19] = 1;
	ip[20] = (uint8_t)(sport >> 8); ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8); ip[23] = (uint8_t)dport;
	ip[32] = 0x50;	/* data offset 5 */
	ip[33] = 0x02;	/* SYN */
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(ip), ip);
	if (with_mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(MARK));
	return nlh->nlmsg_len;
}

static void send_syn(struct env *e, uint32_t id, uint16_t sport, uint16_t dport,
		     int with_mark)
{
	char buf[512];
	size_t n = syn_msg(buf, id, sport, dport, with_mark);

	assert_int_equal(send(e->peer, buf, n, 0), (ssize_t)n);
}

struct verdicts {
	unsigned n, batches;
	uint32_t newest_batch;
	uint32_t id[64], verdict[64], mark[64];
};

/* Reads verdicts until `want` individual ones and a batch up to
 * batch_id (0: none expected) are in, or 3 s pass. */
static void wait_verdicts(struct env *e, struct verdicts *v, unsigned want,
			  uint32_t batch_id)
{
	int waited;

	memset(v, 0, sizeof(*v));
	for (waited = 0; waited < 3000; waited += 10) {
		struct test_verdict got[64];
		unsigned i, other = 0;
		unsigned n = test_read_verdicts(e->peer, got, 64, &other);

		assert_int_equal(other, 0);
		for (i = 0; i < n; i++) {
			if (got[i].batch) {
				assert_int_equal(got[i].verdict, NF_ACCEPT);
				v->batches++;
				v->newest_batch = got[i].id;
			} else if (v->n < 64) {
				v->id[v->n] = got[i].id;
				v->verdict[v->n] = got[i].verdict;
				v->mark[v->n] = got[i].mark;
				v->n++;
			}
		}
		if (v->n >= want && v->newest_batch >= batch_id)
			return;
		sleep_ms(10);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 16);

	assert_non_null(s);
	if (f) {
		size_t n = fread(s, 1, (1 << 16) - 1, f);

		s[n] = '\0';
		fclose(f);
	}
	return s;
}

/* Waits up to ms for needle in the log. */
static int log_has(struct env *e, const char *needle, unsigned ms)
{
	unsigned waited;

	for (waited = 0; waited <= ms; waited += 10) {
		char *s = slurp(e->log);
		int found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

/* Answers every owner request waiting with the given pid (0: not found).
 * Returns how many were answered. */
static unsigned answer_requests(struct env *e, int32_t pid, unsigned wait_ms)
{
	struct pollfd pfd = { .fd = e->rpeer, .events = POLLIN };
	unsigned n = 0;

	while (poll(&pfd, 1, (int)wait_ms) > 0) {
		uint8_t buf[64], out[RESOLVER_REPLY_MAX];
		struct resolver_request rq;
		struct resolver_reply rp;
		ssize_t len = recv(e->rpeer, buf, sizeof(buf), 0);
		size_t olen;

		assert_true(len > 0);
		assert_int_equal(resolver_decode_request(buf, (size_t)len, &rq), 0);
		memset(&rp, 0, sizeof(rp));
		rp.tag = rq.tag;
		rp.inode = rq.tag;
		rp.owner.pid = -1;
		if (pid > 0) {
			rp.found = 1;
			rp.owner.pid = pid;
			strcpy(rp.owner.program, "fake-owner");
		}
		olen = resolver_encode_reply(&rp, out, sizeof(out));
		assert_true(olen > 0);
		assert_int_equal(send(e->rpeer, out, olen, 0), (ssize_t)olen);
		n++;
		wait_ms = 50;
	}
	return n;
}

static void start(struct env *e)
{
	int i;

	assert_int_equal(worker_start(e->w, e->stop_fd), 0);
	for (i = 0; i < 300 && !worker_primed(e->w); i++) {
		(void)answer_requests(e, 4242, 10);
	}
	assert_true(worker_primed(e->w));
}

/* Accepts are batched; the counters say what happened per class and
 * verdict; a reject is a repeat with the mark, on its own. */
static void test_batching_and_accounting(void **state)
{
	struct env *e = *state;
	struct stats_counters c;
	struct verdicts v;
	uint32_t id;

	start(e);
	for (id = 1; id <= 20; id++)
		send_syn(e, id, (uint16_t)(40000 + id), 80, 0);
	wait_verdicts(e, &v, 0, 20);
	assert_int_equal(v.n, 0);
	assert_int_equal(v.newest_batch, 20);
	assert_true(v.batches >= 1 && v.batches <= 20);

	send_syn(e, 21, 41000, 9999, 0);
	wait_verdicts(e, &v, 1, 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.id[0], 21);
	assert_int_equal(v.verdict[0], NF_REPEAT);
	assert_int_equal(v.mark[0], MARK);

	/* the reject came back with our mark: dropped, counted */
	send_syn(e, 22, 41000, 9999, 1);
	wait_verdicts(e, &v, 1, 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.verdict[0], NF_DROP);

	stats_copy(&c, worker_counters(e->w));
	/* source 40001.. is user class, 41000 user; 80 system, 9999 user */
	assert_int_equal(c.packets[CLASS_USER][CLASS_SYSTEM][VERDICT_PASS], 20);
	assert_int_equal(c.packets[CLASS_USER][CLASS_USER][VERDICT_REJECT], 1);
	assert_int_equal(c.mark_loops, 1);
	assert_int_equal(c.alerts[STATS_ROGUE] + c.alerts[STATS_PROBE] +
			 c.alerts[STATS_UNKNOWN], 0);
	assert_true(c.refreshes >= 1);
	assert_int_equal(worker_queue_num(e->w), QNUM);
}

/* An alert for a listener whose owner is not known yet: the verdict goes
 * out at once, the line waits for the resolver's answer. */
static void test_alert_waits_for_owner(void **state)
{
	struct env *e = *state;
	struct stats_counters c;
	struct verdicts v;
	char *s;

	/* Nothing answered at start: the owners stay unknown. */
	assert_int_equal(worker_start(e->w, e->stop_fd), 0);
	while (!worker_primed(e->w))
		sleep_ms(10);
	send_syn(e, 1, 40000, e->lport, 0);
	wait_verdicts(e, &v, 1, 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.verdict[0], NF_DROP);
	/* the verdict is out, the line is not (it waits up to 250 ms) */
	s = slurp(e->log);
	assert_null(strstr(s, "\"type\":\"alert\""));
	free(s);
	assert_true(answer_requests(e, 4242, 100) >= 1);
	assert_true(log_has(e, "\"pid\":4242,\"program\":\"fake-owner\"", 1000));
	assert_true(log_has(e, "\"listener\":\"rogue\"", 0));
	stats_copy(&c, worker_counters(e->w));
	assert_int_equal(c.alerts[STATS_ROGUE], 1);
	/* a probe: nothing listens there, nothing to wait for */
	send_syn(e, 2, 40001, 60999, 0);
	wait_verdicts(e, &v, 1, 0);
	assert_int_equal(v.verdict[0], NF_DROP);
	assert_true(log_has(e, "\"dport\":60999", 1000));
	assert_true(log_has(e, "\"listener\":\"probe\"", 0));
	/* the owner is cached now: the next alert names it at once */
	send_syn(e, 3, 40002, e->lport, 0);
	wait_verdicts(e, &v, 1, 0);
	assert_true(log_has(e, "\"sport\":40002", 1000));
}

/* A resolver that never answers: the verdict is not held, and the line
 * goes out with the owner unknown once its wait is over. */
static void test_no_answer_owner_unknown(void **state)
{
	struct env *e = *state;
	struct verdicts v;
	char *s;
	struct timespec t0, t1;
	long ms;

	assert_int_equal(worker_start(e->w, e->stop_fd), 0);
	/* never answered; primed after its bound */
	while (!worker_primed(e->w))
		sleep_ms(10);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_syn(e, 1, 40000, e->lport, 0);
	wait_verdicts(e, &v, 1, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(v.n, 1);
	assert_int_equal(v.verdict[0], NF_DROP);
	assert_true(ms < 200);
	assert_true(log_has(e, "\"pid\":null", 2000));
	s = slurp(e->log);
	assert_non_null(strstr(s, "\"listener\":\"rogue\""));
	assert_null(strstr(s, "fake-owner"));
	free(s);
}

/* The resolver gone: verdicts go on, the owner is unknown, it is said. */
static void test_resolver_gone(void **state)
{
	struct env *e = *state;
	struct verdicts v;

	start(e);
	close(e->rpeer);
	e->rpeer = -1;
	send_syn(e, 1, 40000, 80, 0);
	wait_verdicts(e, &v, 0, 1);
	assert_int_equal(v.newest_batch, 1);
	send_syn(e, 2, 40001, 9999, 0);
	wait_verdicts(e, &v, 1, 0);
	assert_int_equal(v.verdict[0], NF_REPEAT);
	assert_false(worker_failed(e->w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batching_and_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_waits_for_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_owner_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
