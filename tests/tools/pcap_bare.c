/*
 * pcap_bare: the baseline for the replay benchmark.  Reads captures with
 * nothing but pcap_open_offline and pcap_next_ex, touching one byte per
 * packet so the data is really pulled in, and prints how many packets it
 * read and how long that took.  Whatever the replay tool spends above this
 * is its own cost.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	unsigned long long packets = 0, bytes = 0;
	unsigned sum = 0;
	double t0, dt;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: pcap_bare FILE...\n");
		return 2;
	}
	t0 = now_s();
	for (int i = 1; i < argc; i++) {
		struct pcap_pkthdr *h;
		const unsigned char *data;
		pcap_t *p = pcap_open_offline(argv[i], errbuf);
		int r;

		if (!p) {
			fprintf(stderr, "pcap_bare: %s: %s\n", argv[i], errbuf);
			rc = 2;
			continue;
		}
		while ((r = pcap_next_ex(p, &h, &data)) == 1) {
			packets++;
			bytes += h->caplen;
			if (h->caplen)
				sum += data[h->caplen - 1];
		}
		if (r == PCAP_ERROR) {
			fprintf(stderr, "pcap_bare: %s: %s\n", argv[i],
				pcap_geterr(p));
			rc = 2;
		}
		pcap_close(p);
	}
	dt = now_s() - t0;
	printf("packets %llu bytes %llu seconds %.3f pps %.0f sum %u\n",
	       packets, bytes, dt, dt > 0 ? (double)packets / dt : 0.0, sum);
	return rc;
}
