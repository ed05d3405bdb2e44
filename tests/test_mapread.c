/*
 * test_mapread: the mapped classic-pcap walk (pcap-replay/mapread.c)
 * against libpcap on files written here: the same headers and bytes
 * record for record, through a window small enough to slide every few
 * records (MAPREAD_MOVE); a record it does not vouch for (caplen beyond
 * the snap length, a cut record, a cut header) stops it with
 * MAPREAD_OTHER after exactly the records before it; files it never takes
 * (pcapng, a pipe) give NULL.
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
#include <pcap/pcap.h>

#include "mapread.h"

static char path[64];

/* n records of growing sizes; record bad (if < n) gets caplen 70000. */
static void write_pcap(unsigned n, unsigned bad, int nsec)
{
	FILE *f = fopen(path, "wb");
	uint32_t gh[6] = { nsec ? 0xa1b23c4d : 0xa1b2c3d4, 0x00040002, 0, 0,
			   65535, 1 };

	assert_non_null(f);
	assert_int_equal(fwrite(gh, 4, 6, f), 6);
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 60 + (i * 97) % 1400;
		uint32_t rh[4] = { 1700000000 + i, i * 1000 + 7,
				   i == bad ? 70000 : len, len };
		unsigned char b[1500];

		memset(b, (int)(i & 0xff), sizeof(b));
		assert_int_equal(fwrite(rh, 4, 4, f), 4);
		assert_int_equal(fwrite(b, 1, len, f), len);
	}
	fclose(f);
}

/* Walks the file mapped (window bytes) and through libpcap at once;
 * returns the records the mapped walk gave before it stopped, and what
 * stopped it. */
static uint64_t walk(size_t window, enum mapread_result *last)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *mapped_pc, *ref;
	struct mapread *m;
	struct pcap_pkthdr h, *rh;
	const u_char *d, *rd;
	enum mapread_result r;
	uint64_t n;

	mapped_pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, eb);
	ref = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, eb);
	assert_non_null(mapped_pc);
	assert_non_null(ref);
	m = mapread_open(mapped_pc, window);
	assert_non_null(m);
	for (;;) {
		r = mapread_next(m, &h, &d);
		if (r == MAPREAD_MOVE) {
			assert_int_equal(mapread_advance(m), 0);
			continue;
		}
		if (r != MAPREAD_FRAME)
			break;
		assert_int_equal(pcap_next_ex(ref, &rh, &rd), 1);
		assert_int_equal(h.caplen, rh->caplen);
		assert_int_equal(h.len, rh->len);
		assert_int_equal(h.ts.tv_sec, rh->ts.tv_sec);
		assert_int_equal(h.ts.tv_usec, rh->ts.tv_usec);
		assert_memory_equal(d, rd, h.caplen);
	}
	n = mapread_done(m);
	*last = r;
	mapread_close(m);
	pcap_close(mapped_pc);
	pcap_close(ref);
	return n;
}

static void test_same_as_libpcap(void **state)
{
	enum mapread_result r;

	(void)state;
	write_pcap(500, 500, 0);
	/* four pages: the window slides every few records */
	assert_int_equal(walk(16384, &r), 500);
	assert_int_equal(r, MAPREAD_END);
	assert_int_equal(walk(0, &r), 500);
	assert_int_equal(r, MAPREAD_END);
	write_pcap(300, 300, 1); /* nanosecond stamps */
	assert_int_equal(walk(16384, &r), 300);
	assert_int_equal(r, MAPREAD_END);
}

static void test_hands_over(void **state)
{
	enum mapread_result r;
	FILE *f;
	long size;

	(void)state;
	/* caplen beyond the snap length: libpcap's to judge */
	write_pcap(50, 20, 0);
	assert_int_equal(walk(16384, &r), 20);
	assert_int_equal(r, MAPREAD_OTHER);
	/* a last record cut short, then a cut record header */
	write_pcap(50, 50, 0);
	f = fopen(path, "rb+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	assert_int_equal(truncate(path, size - 5), 0);
	assert_int_equal(walk(16384, &r), 49);
	assert_int_equal(r, MAPREAD_OTHER);
	write_pcap(3, 3, 0);
	f = fopen(path, "ab");
	assert_non_null(f);
	fwrite("\1\2\3\4\5\6\7", 1, 7, f);
	fclose(f);
	assert_int_equal(walk(0, &r), 3);
	assert_int_equal(r, MAPREAD_OTHER);
}

static void test_not_taken(void **state)
{
	static const unsigned char ng[] = {
		/* an empty pcapng section header block */
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		28, 0, 0, 0,
		/* an interface description block, Ethernet */
		1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0
	};
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc;
	FILE *f;

	(void)state;
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(ng, 1, sizeof(ng), f);
	fclose(f);
	pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, eb);
	assert_non_null(pc);
	assert_null(mapread_open(pc, 0));
	pcap_close(pc);
	/* microsecond precision asked: not the contract */
	write_pcap(2, 2, 0);
	pc = pcap_open_offline(path, eb);
	assert_non_null(pc);
	assert_null(mapread_open(pc, 0));
	pcap_close(pc);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_mapread.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libpcap),
		cmocka_unit_test(test_hands_over),
		cmocka_unit_test(test_not_taken),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
