/*
 * bench_engine: the decision engine's cost per packet, in memory.
 *
 * Builds two policies with ruleset_parse_string - 1,000 port rules, and the
 * same plus 10 filter rules - pre-parses a few thousand varied packets, and
 * times decision_make over them (best of several rounds, CLOCK_MONOTONIC).
 * In the same run it times a bare loop doing one 64K-table lookup per
 * packet over the same packets, the floor any port policy pays.
 *
 * usage: bench_engine [MILLIONS_PER_ROUND [ROUNDS]]   (default 1 20)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "flow.h"
#include "packet.h"
#include "ruleset.h"

#define NPKT 4096 /* power of two: the loops index with & (NPKT - 1) */
#define NRULES 1000
#define NFILTERS 10

struct raw {
	uint8_t b[80];
};

static struct raw raws[NPKT];
static struct packet pkts[NPKT];
static uint16_t rule_ports[NRULES];

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One packet: 70% TCP (a third of them SYNs), 25% UDP, 5% ICMP; a fifth
 * IPv6; destination ports a third from the rules, a third in the dynamic
 * range, a third anywhere. */
static void make_packet(size_t i)
{
	uint8_t *b = raws[i].b;
	uint32_t kind = rnd() % 100;
	int v6 = rnd() % 5 == 0;
	int ipproto = kind < 70 ? 6 : kind < 95 ? 17 : (v6 ? 58 : 1);
	size_t ih = v6 ? 40 : 20, l4 = ipproto == 6 ? 20 : 8;
	uint16_t dport, sport = (uint16_t)(32768 + rnd() % 28000);
	uint32_t which = rnd() % 3;

	if (which == 0)
		dport = rule_ports[rnd() % NRULES];
	else if (which == 1)
		dport = (uint16_t)(49152 + rnd() % 16384);
	else
		dport = (uint16_t)(rnd() % 65536);

	memset(b, 0, sizeof(raws[i].b));
	if (v6) {
		b[0] = 0x60;
		put16(b + 4, (uint16_t)l4);
		b[6] = (uint8_t)ipproto;
		b[7] = 64;
		b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8;
		b[22] = (uint8_t)rnd(), b[23] = (uint8_t)rnd();
		b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8;
		b[39] = (uint8_t)(1 + rnd() % 8);
	} else {
		b[0] = 0x45;
		put16(b + 2, (uint16_t)(ih + l4));
		b[8] = 64;
		b[9] = (uint8_t)ipproto;
		/* sources in 198.51.100.0/24 and 203.0.113.0/24 */
		b[12] = rnd() & 1 ? 198 : 203;
		b[13] = b[12] == 198 ? 51 : 0;
		b[14] = b[12] == 198 ? 100 : 113;
		b[15] = (uint8_t)rnd();
		b[16] = 192, b[17] = 0, b[18] = 2, b[19] = (uint8_t)(1 + rnd() % 8);
	}
	b += ih;
	if (ipproto == 6 || ipproto == 17) {
		put16(b, sport);
		put16(b + 2, dport);
		if (ipproto == 6) {
			b[12] = 0x50;
			b[13] = rnd() % 3 == 0 ? PACKET_TCP_SYN : PACKET_TCP_ACK;
		} else {
			put16(b + 4, 8);
		}
	} else {
		b[0] = ipproto == 1 ? 8 : 128;
	}
	if (packet_parse(&pkts[i], raws[i].b, ih + l4) < 0) {
		fprintf(stderr, "bench_engine: crafted packet %zu does not parse\n",
			i);
		exit(1);
	}
}

struct buf {
	char *s;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			exit(1);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = 2 * b->cap + (size_t)n + 1;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			perror("bench_engine");
			exit(1);
		}
	}
	b->len += (size_t)n;
}

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

static const char *const broad_filters[] = {
	"udp and src net 203.0.113.0/28",
	"tcp and tcp[tcpflags] & tcp-rst != 0",
	"ip and ip[8] < 5",
	"src host 198.51.100.77",
	"ip6 and src net 2001:db8:ffff::/48",
};

static struct ruleset *build_policy(int filters)
{
	static const char *const verdicts[] = { "pass", "drop", "reject",
						"drop log" };
	static const char *const protos[] = { "tcp", "udp", "{ tcp, udp }" };
	struct buf b = { .s = malloc(1024), .cap = 1024 };
	struct ruleset_opts o = { .report = report };
	struct ruleset *rs;
	int nerr = 0;

	if (!b.s)
		exit(1);
	bprintf(&b, "dynamic-range iana\nunexpected drop log\ndefault pass\n");
	bprintf(&b, "expect tcp port 55000-55100\nexpect udp port 60000-61000\n");
	for (int i = 0; i < NRULES; i++) {
		uint16_t port = rule_ports[i];

		if (i % 10 == 9)
			bprintf(&b, "%s %s to port %u-%u\n", verdicts[i % 4],
				protos[i % 3], port, port + 3u);
		else if (i % 10 == 8)
			bprintf(&b, "%s %s from port %u\n", verdicts[i % 4],
				protos[i % 3], port);
		else
			bprintf(&b, "%s %s to port %u\n", verdicts[i % 4],
				protos[i % 3], port);
	}
	/* Half the filters name a destination port (the ruleset can file
	 * them under it), half cannot be narrowed that way and are tried for
	 * every packet of their protocols that no earlier rule took. */
	for (int i = 0; i < filters; i++) {
		if (i % 2 == 0)
			bprintf(&b,
				"pass filter \"tcp and dst port %d and src net 198.51.100.0/24\"\n",
				8443 + i);
		else
			bprintf(&b, "drop log filter \"%s\"\n",
				broad_filters[(i / 2) % 5]);
	}
	rs = ruleset_parse_string("bench.rules", b.s, &o, &nerr);
	free(b.s);
	if (!rs) {
		fprintf(stderr, "bench_engine: policy does not load (%d errors)\n",
			nerr);
		exit(1);
	}
	return rs;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

/* Best ns per decision over rounds of n decisions. */
static double time_engine(const struct ruleset *rs, struct flow_table *ft,
			  uint64_t n, int rounds, uint64_t reasons[REASON_COUNT])
{
	double best = 1e30;

	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns(), acc = 0;
		struct decision d;

		for (uint64_t i = 0; i < n; i++) {
			decision_make(rs, ft, NULL, &pkts[i & (NPKT - 1)],
				      t0 + i, -1, &d);
			acc += d.verdict;
			if (r == 0 && reasons && i < NPKT)
				reasons[d.reason]++;
		}
		sink = acc;
		double ns = (double)(now_ns() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	return best;
}

static uint8_t table[65536];

static double time_bare(uint64_t n, int rounds)
{
	double best = 1e30;

	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		for (uint64_t i = 0; i < n; i++)
			sink = table[pkts[i & (NPKT - 1)].dport];
		double ns = (double)(now_ns() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	return best;
}

/* The same lookup behind an out-of-line call that fills a struct
 * decision: what any per-packet engine API pays before deciding anything. */
__attribute__((noinline)) static void bare_decide(const struct packet *p,
						  struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = (enum verdict)table[p->dport];
}

static double time_bare_call(uint64_t n, int rounds)
{
	double best = 1e30;

	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns(), acc = 0;
		struct decision d;

		for (uint64_t i = 0; i < n; i++) {
			bare_decide(&pkts[i & (NPKT - 1)], &d);
			acc += d.verdict;
		}
		sink = acc;
		double ns = (double)(now_ns() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	return best;
}

static unsigned long arg(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > max) {
		fprintf(stderr, "usage: bench_engine [MILLIONS [ROUNDS]]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000;
	int rounds = 20;
	struct ruleset *port_only, *with_filters;
	struct flow_table *ft;
	uint64_t reasons[REASON_COUNT] = { 0 };
	double t_port, t_filter, t_flow, t_bare, t_call;

	if (argc > 1)
		n = (uint64_t)arg(argv[1], 1000) * 1000000u;
	if (argc > 2)
		rounds = (int)arg(argv[2], 100);

	/* Rule ports: distinct, spread over the whole port space. */
	for (int i = 0; i < NRULES; i++)
		rule_ports[i] = (uint16_t)(1 + (uint32_t)i * 65 % 65500);
	for (size_t i = 0; i < NPKT; i++)
		make_packet(i);
	for (size_t i = 0; i < 65536; i++)
		table[i] = (uint8_t)(rnd() % VERDICT_COUNT);

	port_only = build_policy(0);
	with_filters = build_policy(NFILTERS);
	ft = flow_new(NULL);
	if (!ft) {
		perror("bench_engine: flow_new");
		return 1;
	}

	t_bare = time_bare(n, rounds);
	t_call = time_bare_call(n, rounds);
	t_port = time_engine(port_only, NULL, n, rounds, reasons);
	t_filter = time_engine(with_filters, NULL, n, rounds, NULL);
	t_flow = time_engine(port_only, ft, n, rounds, NULL);
	/* Again, so that a slow first measurement (frequency ramp-up) does
	 * not decide the ratio. */
	{
		double b2 = time_bare(n, rounds);

		if (b2 < t_bare)
			t_bare = b2;
	}

	printf("packets: %d pre-parsed (tcp 70%%, udp 25%%, icmp 5%%; 20%% ipv6), "
	       "%d rounds x %llu decisions, best round\n",
	       NPKT, rounds, (unsigned long long)n);
	printf("decisions on one pass (port-only): rule %llu, unexpected %llu, "
	       "expected %llu, default %llu\n",
	       (unsigned long long)reasons[REASON_RULE],
	       (unsigned long long)reasons[REASON_UNEXPECTED],
	       (unsigned long long)reasons[REASON_EXPECTED],
	       (unsigned long long)reasons[REASON_DEFAULT]);
	printf("port-only policy (%zu rules):            %6.1f ns/decision\n",
	       ruleset_rule_count(port_only), t_port);
	printf("port+filter policy (%zu rules, %d filters, %d port-scoped): "
	       "%6.1f ns/decision\n",
	       ruleset_rule_count(with_filters), NFILTERS, (NFILTERS + 1) / 2,
	       t_filter);
	printf("port-only policy + flow table:           %6.1f ns/decision\n",
	       t_flow);
	printf("bare 64K-table lookup loop:              %6.1f ns/packet\n",
	       t_bare);
	printf("bare lookup behind a call (context):     %6.1f ns/packet\n",
	       t_call);
	printf("ratio port-only/bare:                    %6.2f\n",
	       t_port / t_bare);
	/* Any engine behind a function that fills a struct decision pays
	 * the call; this ratio shows what is left above that. */
	printf("ratio port-only/bare behind a call:      %6.2f\n",
	       t_port / t_call);
	printf("goal <= 50 ns/decision (port-only): %s\n",
	       t_port <= 50.0 ? "met" : "MISSED");
	printf("goal <= 2x bare loop (port-only):   %s\n",
	       t_port <= 2.0 * t_bare ? "met" : "MISSED");

	flow_free(ft);
	ruleset_free(port_only);
	ruleset_free(with_filters);
	return 0;
}
