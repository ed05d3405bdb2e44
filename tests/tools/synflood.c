/*
 * synflood: TCP connection attempts (bare SYNs from a raw socket) for the
 * load test, to a range of destination ports from a range of source ports,
 * at a fixed rate, for a bounded time and count.  Loopback only: any
 * destination outside 127.0.0.0/8 is refused, so it cannot flood anything
 * else.  Needs CAP_NET_RAW.
 *
 *   synflood -a ADDR -p LO-HI [-s LO-HI] [-r PPS] [-t SECONDS] [-n COUNT]
 *       ports LO-HI in turn, source ports from -s (default 1024-65535)
 *       in turn; PPS per second (default 2000, paced every millisecond);
 *       stops after SECONDS (default 20) or COUNT packets (default
 *       PPS * SECONDS), whichever comes first; prints
 *       "sent N seconds S pps P errors E".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || end == s || a < 1 || a > 65535)
		return -1;
	b = a;
	if (*end == '-') {
		const char *t = end + 1;

		b = strtoul(t, &end, 10);
		if (errno || end == t || b < a || b > 65535)
			return -1;
	}
	if (*end)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || end == s || *end || *out < 1 || *out > max) ? -1 : 0;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A 20-byte SYN with its checksum over the IPv4 pseudo header. */
static void build_syn(uint8_t *t, uint32_t src, uint32_t dst, unsigned sport,
		      unsigned dport, uint32_t seq)
{
	uint32_t sum = 0;
	size_t i;

	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;		/* data offset: 5 words */
	t[13] = 0x02;		/* SYN */
	t[14] = 0xff;		/* window 65535 */
	t[15] = 0xff;
	/* pseudo header: src, dst (network order), protocol, length */
	sum += (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
	sum += IPPROTO_TCP + 20;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(t[i] << 8 | t[i + 1]);
	sum = csum_fold(sum);
	t[16] = (uint8_t)(sum >> 8);
	t[17] = (uint8_t)sum;
}

static void usage(void)
{
	fprintf(stderr, "usage: synflood -a ADDR -p LO-HI [-s LO-HI] [-r PPS] "
		"[-t SECONDS] [-n COUNT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to;
	unsigned plo = 0, phi = 0, slo = 1024, shi = 65535, dport, sport;
	unsigned long pps = 2000, secs = 20, count = 0, v;
	unsigned long sent = 0, errors = 0;
	const char *addr = NULL;
	uint64_t t0, deadline, now;
	uint32_t src, dst;
	uint8_t seg[20];
	int c, fd;

	while ((c = getopt(argc, argv, "a:p:s:r:t:n:")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': if (parse_range(optarg, &plo, &phi) < 0) usage(); break;
		case 's': if (parse_range(optarg, &slo, &shi) < 0) usage(); break;
		case 'r': if (parse_num(optarg, 1000000, &pps) < 0) usage(); break;
		case 't': if (parse_num(optarg, 3600, &secs) < 0) usage(); break;
		case 'n': if (parse_num(optarg, 100000000, &v) < 0) usage(); count = v; break;
		default: usage();
		}
	}
	if (!addr || !plo)
		usage();
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "synflood: %s: not an IPv4 address\n", addr);
		return 2;
	}
	dst = ntohl(to.sin_addr.s_addr);
	if ((dst >> 24) != 127) {
		fprintf(stderr, "synflood: %s is not a loopback address; refusing\n", addr);
		return 2;
	}
	src = 0x7f000001;	/* 127.0.0.1: the kernel fills the IP header */
	if (!count)
		count = pps * secs;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0) {
		perror("synflood: raw socket");
		return 1;
	}
	dport = plo;
	sport = slo;
	t0 = now_ns();
	deadline = t0 + (uint64_t)secs * 1000000000u;
	while (sent < count && (now = now_ns()) < deadline) {
		/* Packets due by now at PPS; send them, then sleep 1 ms. */
		uint64_t due = (now - t0) * pps / 1000000000u + 1;

		while (sent < due && sent < count) {
			build_syn(seg, src, dst, sport, dport, (uint32_t)(sent * 2654435761u));
			if (sendto(fd, seg, sizeof(seg), 0, (struct sockaddr *)&to,
				   sizeof(to)) < 0)
				errors++;
			sent++;
			dport = dport == phi ? plo : dport + 1;
			sport = sport == shi ? slo : sport + 1;
		}
		usleep(1000);
	}
	now = now_ns();
	printf("sent %lu seconds %.2f pps %.0f errors %lu\n", sent,
	       (double)(now - t0) / 1e9,
	       (double)sent / ((double)(now - t0) / 1e9), errors);
	close(fd);
	return 0;
}
