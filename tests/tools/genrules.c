/*
 * genrules: writes a synthetic, deterministic policy of many mixed rules
 * for the large-policy benchmark (tests/bench/b_rules.sh).  The same
 * options and seed always give the same file.
 *
 * The policy is what a large site's file looks like after years of
 * additions, interleaved rather than sorted by kind:
 *   - blocklists: `drop [log] from ADDR` (and, less often, `to ADDR`) over
 *     public IPv4 and IPv6 space, /32 and /128 hosts down to /8 and /32
 *     networks, any protocol;
 *   - service allows between the client subnets (10.0.0.0/8,
 *     2001:db8:c::/48) and the servers (172.16.0.0/20, 2001:db8:5::/48) of
 *     gencap's traffic: `pass tcp from 10.1.2.0/24 to 172.16.3.4 port 443`,
 *     single ports, ranges and lists, tcp, udp or both, from a client
 *     network or from anywhere;
 *   - inbound guards: `reject tcp from PREFIX to class dynamic new`, rules
 *     to a client subnet's port, `drop log udp to port N`;
 *   - source-port rules (`pass udp from RESOLVER port 53`), ICMP and
 *     ICMPv6 rules, address lists of IPv4 and IPv6 prefixes mixed, and a
 *     few filter rules.
 * Roughly one packet in two of gencap's traffic meets a rule whose
 * address covers it; a few percent are decided by a rule.
 *
 * usage: genrules [-n RULES] [-s SEED] [-o FILE]   (default 100000, 1, stdout)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

/* splitmix64, as gencap. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* A public IPv4 prefix of length len (host bits zero): never in the
 * ranges of gencap's own traffic nor in reserved space. */
static void pub4(FILE *o, unsigned len)
{
	uint32_t a;
	unsigned b0;

	do {
		a = (uint32_t)rnd();
		b0 = a >> 24;
	} while (b0 == 0 || b0 == 10 || b0 == 127 || b0 == 172 ||
		 b0 == 198 || b0 >= 224);
	if (len < 32)
		a &= ~(UINT32_MAX >> len);
	fprintf(o, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		a & 255);
	if (len != 32)
		fprintf(o, "/%u", len);
}

/* A public IPv6 prefix in 2000::/3 (never 2001:db8::/32). */
static void pub6(FILE *o, unsigned len)
{
	uint16_t w[8];
	unsigned i;

	do {
		for (i = 0; i < 8; i++)
			w[i] = (uint16_t)rnd();
		w[0] = (uint16_t)(0x2000 | (w[0] & 0x1fff));
	} while (w[0] == 0x2001 && w[1] == 0x0db8);
	for (i = 0; i < 8; i++) {
		unsigned bit0 = i * 16;

		if (bit0 >= len)
			w[i] = 0;
		else if (bit0 + 16 > len)
			w[i] &= (uint16_t)(0xffffu << (bit0 + 16 - len));
	}
	if (len <= 64)
		fprintf(o, "%x:%x:%x:%x::", w[0], w[1], w[2], w[3]);
	else
		fprintf(o, "%x:%x:%x:%x:%x:%x:%x:%x", w[0], w[1], w[2], w[3],
			w[4], w[5], w[6], w[7]);
	if (len != 128)
		fprintf(o, "/%u", len);
}

/* A blocklist entry: hosts mostly, networks sometimes; a fifth IPv6; one
 * in a hundred one of gencap's scanners. */
static void bad_addr(FILE *o)
{
	uint32_t r = below(100);

	if (r == 0) { /* gencap's scanners */
		if (below(5))
			fprintf(o, "198.51.100.%u", below(256));
		else
			fprintf(o, "2001:db8:bad::%x", below(256));
		return;
	}
	r = below(100);
	if (below(5)) {
		pub4(o, r < 50 ? 32 : r < 80 ? 24 : r < 95 ? 16 + below(8)
							     : 8 + below(8));
	} else {
		pub6(o, r < 40 ? 128 : r < 70 ? 64 : r < 90 ? 48 : 32);
	}
}

/* Client networks of gencap's traffic. */
static void client_net(FILE *o)
{
	uint32_t r = below(100);

	if (below(5)) {
		if (r < 70)
			fprintf(o, "10.%u.%u.0/24", below(256), below(256));
		else if (r < 90)
			fprintf(o, "10.%u.%u.0/20", below(256),
				below(16) << 4);
		else
			fprintf(o, "10.%u.%u.%u", below(256), below(256),
				below(256) | 1);
	} else {
		fprintf(o, "2001:db8:c:%x::/64", below(65536));
	}
}

/* gencap's servers are 172.16.0-15.x and 2001:db8:5::0-f:x. */
static void server_addr(FILE *o)
{
	uint32_t s = below(4096);

	if (below(5))
		fprintf(o, "172.16.%u.%u", s >> 8, (s & 255) | 1);
	else
		fprintf(o, "2001:db8:5::%x", ((s >> 8) << 8) | (s & 255) | 1);
}

static void service_ports(FILE *o)
{
	static const char *const common[] = {
		"443", "80", "22", "8080", "53", "25", "3306", "5432",
		"{ 80, 443 }", "8000-8099", "{ 22, 2222 }", "6000-6063",
		"{ 443, 8443, 9443 }", "123", "389", "636",
	};
	uint32_t r = below(100);

	if (r < 70)
		fputs(common[below(sizeof(common) / sizeof(common[0]))], o);
	else if (r < 90)
		fprintf(o, "%u", 1024 + below(48000));
	else {
		uint32_t lo = 1024 + below(48000);

		fprintf(o, "%u-%u", lo, lo + below(200));
	}
}

static const char *action(void)
{
	static const char *const a[] = { "pass", "drop", "reject",
					 "drop log", "pass log",
					 "reject log" };

	return a[below(6)];
}

static void rule(FILE *o, uint64_t n)
{
	uint32_t r = below(1000);

	if (r < 300) { /* blocklist, from */
		fputs(below(3) ? "drop from " : "drop log from ", o);
		bad_addr(o);
	} else if (r < 350) { /* blocklist, to */
		fputs("drop log to ", o);
		bad_addr(o);
	} else if (r < 600) { /* service allows */
		static const char *const p[] = { "tcp", "tcp", "tcp", "udp",
						 "{ tcp, udp }" };

		fprintf(o, "%s %s ", below(4) ? "pass" : "pass log",
			p[below(5)]);
		if (below(10) >= 3) {
			fputs("from ", o);
			client_net(o);
			fputc(' ', o);
		}
		fputs("to ", o);
		server_addr(o);
		fputs(" port ", o);
		service_ports(o);
	} else if (r < 700) { /* to a client network's service */
		fprintf(o, "%s tcp to ", action());
		client_net(o);
		fputs(" port ", o);
		service_ports(o);
		if (below(2))
			fputs(" new", o);
	} else if (r < 780) { /* scanners at the dynamic range */
		fputs(below(2) ? "reject tcp from " : "drop log udp from ", o);
		bad_addr(o);
		fputs(below(2) ? " to class dynamic" : " to port 49152-65535",
		      o);
		if (below(2))
			fputs(" new", o);
	} else if (r < 830) { /* source ports: resolvers, NTP */
		fprintf(o, "pass udp from ");
		if (below(4))
			bad_addr(o);
		else
			server_addr(o);
		fputs(below(3) ? " port 53" : " port 123", o);
	} else if (r < 880) { /* ICMP */
		if (below(2)) {
			fputs("drop icmp from ", o);
			pub4(o, below(2) ? 32 : 24);
		} else {
			fputs("pass icmp6 to ", o);
			pub6(o, below(2) ? 128 : 64);
		}
	} else if (r < 930) { /* address lists, both families */
		uint32_t k = 2 + below(6), i;

		fprintf(o, "%s from { ", action());
		for (i = 0; i < k; i++) {
			if (i)
				fputs(", ", o);
			bad_addr(o);
		}
		fputs(" }", o);
		if (below(2)) {
			fputs(" to ", o);
			client_net(o);
		}
	} else if (r < 990) { /* servers' replies to clients */
		fputs("pass tcp from ", o);
		server_addr(o);
		fputs(" port ", o);
		service_ports(o);
		fputs(" to ", o);
		client_net(o);
	} else if (r < 999) { /* port-only */
		uint32_t lo = 1024 + below(48000);

		/* Never a common service port: one such rule early in the
		 * file would decide most of the traffic. */
		fprintf(o, "%s %s to port %u", action(),
			below(2) ? "udp" : "tcp", lo);
		if (below(2))
			fprintf(o, "-%u", lo + below(100));
	} else { /* a filter, scoped to a port */
		fprintf(o,
			"drop log filter \"tcp and dst port %u and src net "
			"198.51.100.0/24\"",
			1024 + below(48000));
	}
	fprintf(o, "   # %" PRIu64 "\n", n);
}

int main(int argc, char **argv)
{
	uint64_t n = 100000, i;
	const char *out = NULL;
	FILE *o = stdout;
	char *end;
	int c;

	rng_state = 1;
	while ((c = getopt(argc, argv, "n:s:o:")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *end || n > 10000000) {
				fprintf(stderr, "genrules: bad -n '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			rng_state = strtoull(optarg, &end, 10);
			if (errno || *end) {
				fprintf(stderr, "genrules: bad -s '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		default:
			fprintf(stderr, "usage: genrules [-n RULES] [-s SEED] "
					"[-o FILE]\n");
			return 2;
		}
	}
	if (out && !(o = fopen(out, "w"))) {
		fprintf(stderr, "genrules: %s: %s\n", out, strerror(errno));
		return 1;
	}
	fprintf(o, "# %" PRIu64 " mixed rules, genrules -s seed %" PRIu64
		   "\n", n, rng_state);
	fputs("dynamic-range iana\nunexpected reject log\ndefault pass\n"
	      "invalid drop log\nloopback local\n", o);
	for (i = 0; i < n; i++)
		rule(o, i);
	if (fclose(o) != 0) {
		fprintf(stderr, "genrules: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
