/*
 * test_replay: the replay loop (pcap-replay/replay.c) on captures this
 * test writes: link layers stripped, every frame counted once, a
 * retransmitted SYN folded into one attempt and one alert, truncated and
 * non-IP frames counted apart, several files one stream of time (one flow
 * table), a file that cannot be read recorded as an input error, and the
 * --write-* captures holding exactly the passed and the dropped frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"
#include "packet.h"
#include "replay.h"
#include "report.h"
#include "ruleset.h"

#define ROGUE 60314

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_replay.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put32le(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	assert_int_equal(fwrite(b, 1, 4, f), 4);
}

/* A classic pcap file, microsecond stamps, Ethernet. */
static FILE *pcap_create(const char *path)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	put32le(f, 0xa1b2c3d4);
	put32le(f, 0x00040002); /* version 2.4 */
	put32le(f, 0);
	put32le(f, 0);
	put32le(f, 65535);
	put32le(f, 1); /* LINKTYPE_ETHERNET */
	return f;
}

static void pcap_frame(FILE *f, uint32_t sec, const uint8_t *b, size_t caplen,
		       size_t len)
{
	put32le(f, sec);
	put32le(f, 0);
	put32le(f, (uint32_t)caplen);
	put32le(f, (uint32_t)len);
	assert_int_equal(fwrite(b, 1, caplen, f), caplen);
}

/* Ethernet + IPv4 + TCP 192.0.2.1:sport -> 192.0.2.2:dport, flags. */
static size_t tcp_frame(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(b, 0, 54);
	b[12] = 0x08;		/* IPv4 */
	b[14] = 0x45;
	b[17] = 40;
	b[22] = 64;
	b[23] = 6;
	b[26] = 192; b[28] = 2; b[29] = 1;
	b[30] = 192; b[32] = 2; b[33] = 2;
	b[34] = (uint8_t)(sport >> 8); b[35] = (uint8_t)sport;
	b[36] = (uint8_t)(dport >> 8); b[37] = (uint8_t)dport;
	b[46] = 0x50;
	b[47] = flags;
	return 54;
}

struct run {
	struct ruleset *rs;
	struct listener_table *lt;
	struct report *rep;
	struct replay *r;
	struct queuesel *sel;
	FILE *out;
	char *text;
	size_t textlen;
};

static void run_new(struct run *x, const char *passed, const char *dropped)
{
	struct replay_opts o;
	struct listener l;
	char err[256];
	int nerr = 0;

	memset(x, 0, sizeof(*x));
	x->rs = ruleset_parse_string("t.rules",
		"dynamic-range iana\nunexpected drop log\ndefault pass\n", NULL,
		&nerr);
	assert_non_null(x->rs);
	x->lt = listener_table_new();
	memset(&l, 0, sizeof(l));
	l.proto = PROTO_TCP;
	l.family = 4;
	l.port = ROGUE;
	l.owner.pid = 77;
	strcpy(l.owner.program, "rogue");
	l.owner_state = 1;
	assert_int_equal(listener_table_add(x->lt, &l), 0);
	x->rep = report_new(100);
	x->out = open_memstream(&x->text, &x->textlen);
	memset(&o, 0, sizeof(o));
	/* Every packet handed to the engine (--queue all): these tests are
	 * about the loop's accounting; the kernel model has its own. */
	x->sel = queuesel_all();
	assert_non_null(x->sel);
	o.sel = x->sel;
	o.rs = x->rs;
	o.listeners = x->lt;
	o.flow.max_flows = 1024;
	o.rep = x->rep;
	o.out = x->out;
	o.write_passed = passed;
	o.write_dropped = dropped;
	x->r = replay_new(&o, err, sizeof(err));
	assert_non_null(x->r);
}

static void run_free(struct run *x)
{
	replay_free(x->r);
	queuesel_free(x->sel);
	report_free(x->rep);
	fclose(x->out);
	free(x->text);
	listener_table_free(x->lt);
	ruleset_free(x->rs);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Frames in a capture file (records after the 24-byte header). */
static unsigned count_frames(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[16];
	unsigned n = 0;

	assert_non_null(f);
	assert_int_equal(fseek(f, 24, SEEK_SET), 0);
	while (fread(hdr, 1, 16, f) == 16) {
		uint32_t cap = hdr[8] | hdr[9] << 8 | hdr[10] << 16 |
			       (uint32_t)hdr[11] << 24;

		assert_int_equal(fseek(f, (long)cap, SEEK_CUR), 0);
		n++;
	}
	fclose(f);
	return n;
}

static void test_counts_and_folding(void **state)
{
	char cap[128], passed[128], dropped[128];
	uint8_t b[64];
	struct report_counts *c;
	struct run x;
	FILE *f;

	(void)state;
	path_of(cap, sizeof(cap), "a.pcap");
	path_of(passed, sizeof(passed), "passed.pcap");
	path_of(dropped, sizeof(dropped), "dropped.pcap");
	f = pcap_create(cap);
	/* 1: SYN to the rogue listener; 2: its retransmit */
	pcap_frame(f, 1, b, tcp_frame(b, 40000, ROGUE, 0x02), 54);
	pcap_frame(f, 2, b, tcp_frame(b, 40000, ROGUE, 0x02), 54);
	/* 3: SYN to 80, passed by default; 4: an ACK on it */
	pcap_frame(f, 3, b, tcp_frame(b, 40001, 80, 0x02), 54);
	pcap_frame(f, 4, b, tcp_frame(b, 40001, 80, 0x10), 54);
	/* 5: IPv4 cut inside the TCP header */
	pcap_frame(f, 5, b, tcp_frame(b, 40002, 81, 0x02) - 10, 54);
	/* 6: ARP (not IP); 7: an Ethernet header cut short */
	memset(b, 0, 60);
	b[12] = 0x08;
	b[13] = 0x06;
	pcap_frame(f, 6, b, 42, 42);
	pcap_frame(f, 7, b, 10, 60);
	fclose(f);

	run_new(&x, passed, dropped);
	assert_int_equal(replay_file(x.r, cap), 0);
	assert_int_equal(replay_finish(x.r), 0);
	c = report_counts(x.rep);
	assert_int_equal(c->frames, 7);
	assert_int_equal(c->proto_pkts[PROTO_TCP], 5);
	assert_int_equal(c->proto_pkts[PROTO_NON_IP], 2);
	assert_int_equal(c->trunc_link, 1);
	assert_int_equal(c->attempts, 3);	/* SYN, its retransmit, SYN to 80 */
	assert_int_equal(c->retransmits, 1);
	assert_int_equal(c->alerts, 1);		/* folded */
	/* the SYN, its retransmit, and the frame cut inside its TCP header
	 * (the `invalid` action: drop) */
	assert_int_equal(c->verdicts[VERDICT_DROP], 3);
	assert_int_equal(c->bad[PR_NONE], 4);
	assert_int_equal(c->bad[PR_TRUNC_TCP], 1);
	assert_true(c->bytes >= 54 * 5);
	assert_int_equal(report_input_errors(x.rep), 0);
	run_free(&x);
	/* the written captures: the three drops; the rest of what was IP */
	assert_int_equal(count_frames(dropped), 3);
	assert_int_equal(count_frames(passed), 2);
}

/* Two files, one stream of time: the SYN in the first, its retransmit in
 * the second is still folded. */
static void test_files_share_flows(void **state)
{
	char a[128], b2[128];
	uint8_t b[64];
	struct report_counts *c;
	struct run x;
	FILE *f;

	(void)state;
	path_of(a, sizeof(a), "1.pcap");
	path_of(b2, sizeof(b2), "2.pcap");
	f = pcap_create(a);
	pcap_frame(f, 10, b, tcp_frame(b, 40000, ROGUE, 0x02), 54);
	fclose(f);
	f = pcap_create(b2);
	pcap_frame(f, 11, b, tcp_frame(b, 40000, ROGUE, 0x02), 54);
	fclose(f);
	run_new(&x, NULL, NULL);
	assert_int_equal(replay_file(x.r, a), 0);
	assert_int_equal(replay_file(x.r, b2), 0);
	c = report_counts(x.rep);
	assert_int_equal(c->frames, 2);
	assert_int_equal(c->attempts, 2);
	assert_int_equal(c->retransmits, 1);
	assert_int_equal(c->alerts, 1);
	run_free(&x);
}

/* A file that is not a capture, one that does not exist, one cut inside a
 * record: errors recorded, frames before the cut counted. */
static void test_input_errors(void **state)
{
	char junk[128], cut[128], missing[128];
	uint8_t b[64];
	struct report_counts *c;
	struct run x;
	FILE *f;

	(void)state;
	path_of(junk, sizeof(junk), "junk.pcap");
	path_of(cut, sizeof(cut), "cut.pcap");
	path_of(missing, sizeof(missing), "none.pcap");
	f = fopen(junk, "wb");
	assert_non_null(f);
	fputs("this is not a capture at all, just text\n", f);
	fclose(f);
	f = pcap_create(cut);
	pcap_frame(f, 1, b, tcp_frame(b, 40000, 80, 0x02), 54);
	put32le(f, 2);
	put32le(f, 0);
	put32le(f, 54);
	put32le(f, 54);
	assert_int_equal(fwrite(b, 1, 10, f), 10); /* the record cut short */
	fclose(f);
	run_new(&x, NULL, NULL);
	assert_int_equal(replay_file(x.r, junk), -1);
	assert_int_equal(replay_file(x.r, missing), -1);
	assert_int_equal(replay_file(x.r, cut), -1);
	c = report_counts(x.rep);
	assert_int_equal(c->frames, 1);
	assert_true(report_input_errors(x.rep) > 0);
	run_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_folding),
		cmocka_unit_test(test_files_share_flows),
		cmocka_unit_test(test_input_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
