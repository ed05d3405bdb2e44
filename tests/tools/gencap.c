/*
 * gencap: writes a synthetic, deterministic Ethernet pcap for the replay
 * benchmark.  The same options and seed always give the same bytes.
 *
 * The traffic is what a border capture of a client network looks like:
 * clients in 10.0.0.0/8 and 2001:db8:c::/48 open connections from Linux
 * ephemeral ports (32768-60999, so about 40% of them sit in the IANA
 * dynamic range) to servers on 443, 8080 and 22 (TCP), 53 (DNS) and 443
 * (QUIC), and the servers answer.  Among that, scanners in 198.51.100.0/24
 * and 2001:db8:bad::/48 send connection attempts to the clients' dynamic
 * ports: TCP SYNs (some retransmitted) answered by RST, by nothing, or by
 * a SYN/ACK from a rogue listener on 60314; UDP to random dynamic ports,
 * and UDP to 60001-60010 (mosh-like) that is answered.  A few ARP frames
 * stand for the non-IP traffic every real capture carries.
 *
 * Payload is never stored beyond the snap length (default 96, enough for
 * every header the generator writes, IPv6 SYN options included), so five
 * million packets stay around 450 MB while IP and UDP lengths keep the
 * wire sizes.  Flows interleave: a fixed number of flows are open at once
 * and each packet comes from one of them chosen at random.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ETH_LEN 14
#define MAX_HDR (ETH_LEN + 40 + 40)
#define MTU_PAYLOAD_TCP4 1448
#define OUTBUF_SIZE (1u << 20)
#define TS_BASE_S 1795000000ull /* 2026-11-18 */

struct opts {
	uint64_t packets;
	uint64_t flows;
	uint64_t seed;
	uint32_t snaplen;
	uint32_t probe_pct;
	uint32_t v6_pct;
	uint32_t active;
	const char *out;
};

enum kind { K_TCP, K_DNS, K_QUIC, K_PROBE_TCP, K_PROBE_UDP };

struct gflow {
	uint8_t kind, family, ipproto;
	uint8_t answer;	   /* probes: 0 none, 1 RST, 2 SYN/ACK, 3 UDP reply */
	uint8_t retrans;   /* probe TCP: SYN sent twice */
	uint16_t cport, sport;
	uint32_t len, pos; /* packets planned, packets written */
	uint32_t cseq, sseq;
	uint8_t caddr[16], saddr[16]; /* initiator, responder */
};

struct stats {
	uint64_t packets, bytes, tcp, udp, v6, nonip, flows;
	uint64_t tcp_dyn;	/* TCP connection attempts to dynamic ports */
	uint64_t syn_dyn;	/* their SYN packets, retransmits included */
	uint64_t udp_dyn;	/* UDP flows opened to dynamic ports */
};

static uint64_t rng_state;

/* splitmix64: small, fast, and good enough to spread test traffic. */
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

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Little buffered writer: fwrite would do, but this keeps one copy. */
struct out {
	int fd;
	uint8_t *buf;
	size_t len;
	int failed;
};

static void out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len && !o->failed) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->failed = errno;
			break;
		}
		off += (size_t)n;
	}
	o->len = 0;
}

static void out_write(struct out *o, const void *p, size_t n)
{
	if (o->len + n > OUTBUF_SIZE)
		out_flush(o);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void out_u32(struct out *o, uint32_t v)
{
	out_write(o, &v, sizeof v); /* native order, as the magic says */
}

static void pcap_file_header(struct out *o, uint32_t snaplen)
{
	out_u32(o, 0xa1b2c3d4u);
	out_u32(o, 2u | (4u << 16)); /* version 2.4, native order */
	out_u32(o, 0);		     /* thiszone */
	out_u32(o, 0);		     /* sigfigs */
	out_u32(o, snaplen);
	out_u32(o, 1); /* LINKTYPE_ETHERNET */
}

static uint16_t ip4_csum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void rand_client(struct gflow *f, uint8_t *a)
{
	memset(a, 0, 16);
	if (f->family == 4) {
		uint32_t r = below(1u << 24);

		a[0] = 10;
		a[1] = (uint8_t)(r >> 16);
		a[2] = (uint8_t)(r >> 8);
		a[3] = (uint8_t)(r | 1);
	} else {
		uint64_t r = rnd();

		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		a[4] = 0x00, a[5] = 0x0c;
		for (int i = 8; i < 16; i++, r >>= 8)
			a[i] = (uint8_t)r;
	}
}

/* A few thousand servers, as real clients talk to a limited set. */
static void rand_server(struct gflow *f, uint8_t *a)
{
	uint32_t r = below(4096);

	memset(a, 0, 16);
	if (f->family == 4) {
		a[0] = 172, a[1] = 16;
		a[2] = (uint8_t)(r >> 8), a[3] = (uint8_t)(r | 1);
	} else {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		a[4] = 0x00, a[5] = 0x05;
		a[14] = (uint8_t)(r >> 8), a[15] = (uint8_t)(r | 1);
	}
}

static void rand_scanner(struct gflow *f, uint8_t *a)
{
	uint32_t r = below(256);

	memset(a, 0, 16);
	if (f->family == 4) {
		a[0] = 198, a[1] = 51, a[2] = 100, a[3] = (uint8_t)r;
	} else {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		a[4] = 0x0b, a[5] = 0xad;
		a[15] = (uint8_t)r;
	}
}

static uint16_t ephemeral(void)
{
	return (uint16_t)(32768 + below(60999 - 32768 + 1));
}

static uint16_t dynamic(void)
{
	return (uint16_t)(49152 + below(65535 - 49152 + 1));
}

/*
 * Starts a new flow.  mean_extra10 is ten times the mean number of
 * packets a TCP or QUIC flow has beyond its minimum, chosen so that the whole capture has
 * about the requested number of flows.
 */
static uint32_t extra_len(uint32_t mean_extra10)
{
	uint32_t x = below(2 * mean_extra10 + 1);

	return x / 10 + (below(10) < x % 10);
}

static void flow_start(struct gflow *f, const struct opts *o,
		       uint32_t mean_extra10)
{
	uint32_t r = below(1000);
	uint32_t probe = o->probe_pct * 10;

	memset(f, 0, sizeof *f);
	f->family = below(100) < o->v6_pct ? 6 : 4;
	f->cseq = (uint32_t)rnd();
	f->sseq = (uint32_t)rnd();
	if (r < probe) {
		/* 70% of probes are TCP, 30% UDP */
		if (r < probe * 7 / 10) {
			uint32_t a = below(100);

			f->kind = K_PROBE_TCP;
			f->ipproto = 6;
			rand_scanner(f, f->caddr);
			rand_client(f, f->saddr);
			f->cport = ephemeral();
			if (a < 30) {
				f->sport = 60314;
				f->answer = 2;
			} else {
				f->sport = dynamic();
				f->answer = a < 86 ? 1 : 0;
			}
			f->retrans = below(4) == 0;
			f->len = 1u + f->retrans + (f->answer ? 1u : 0u) +
				 (f->answer == 2 ? 1u : 0u);
		} else {
			f->kind = K_PROBE_UDP;
			f->ipproto = 17;
			rand_scanner(f, f->caddr);
			rand_client(f, f->saddr);
			f->cport = ephemeral();
			if (below(100) < 40) {
				f->sport = (uint16_t)(60001 + below(10));
				f->answer = 3;
				f->len = 4 + below(9);
			} else {
				f->sport = dynamic();
				f->len = 1;
			}
		}
		return;
	}
	rand_client(f, f->caddr);
	rand_server(f, f->saddr);
	f->cport = ephemeral();
	r = below(100);
	if (r < 22) {
		f->kind = K_DNS;
		f->ipproto = 17;
		f->sport = 53;
		f->len = 2;
	} else if (r < 30) {
		f->kind = K_QUIC;
		f->ipproto = 17;
		f->sport = 443;
		f->len = 2 + extra_len(mean_extra10);
	} else {
		f->kind = K_TCP;
		f->ipproto = 6;
		f->sport = r < 80 ? 443 : r < 92 ? 8080 : 22;
		f->len = 6 + extra_len(mean_extra10);
	}
}

/*
 * Writes the frame for packet number f->pos of flow f into frame[] and
 * returns its wire length.  Only headers are written; the payload bytes
 * up to the snap length stay zero.
 */
static uint32_t flow_frame(struct gflow *f, uint8_t *frame, uint32_t ts32,
			   int *from_client, uint8_t *flags_out,
			   uint32_t *paylen_out)
{
	uint32_t pos = f->pos, paylen = 0;
	uint8_t flags = 0;
	int fc = 1;

	switch (f->kind) {
	case K_TCP:
		if (pos == 0) {
			flags = 0x02;
		} else if (pos == 1) {
			flags = 0x12, fc = 0;
		} else if (pos == 2) {
			flags = 0x10;
		} else if (pos == 3) {
			flags = 0x18, paylen = 80 + below(500);
		} else if (pos == f->len - 2) {
			flags = 0x11;
		} else if (pos == f->len - 1) {
			flags = 0x11, fc = 0;
		} else if (below(4) == 0) {
			flags = 0x10; /* the client's ACK */
		} else {
			flags = 0x18, fc = 0;
			paylen = below(8) ? MTU_PAYLOAD_TCP4 : 1 + below(1448);
		}
		break;
	case K_DNS:
		fc = pos == 0;
		paylen = fc ? 28 + below(40) : 60 + below(400);
		break;
	case K_QUIC:
		fc = pos == 0 || below(5) == 0;
		paylen = fc && pos == 0 ? 1200 : fc ? 30 + below(60) :
			 1200 + below(150);
		break;
	case K_PROBE_TCP:
		if (pos == 0 || (pos == 1 && f->retrans)) {
			flags = 0x02;
		} else if (pos == 1u + f->retrans) {
			flags = f->answer == 2 ? 0x12 : 0x14, fc = 0;
			if (f->answer == 1)
				f->sseq = 0;
		} else {
			flags = 0x04; /* the scanner resets the half-open */
		}
		break;
	case K_PROBE_UDP:
		fc = pos == 0 || (pos & 1) == 0;
		paylen = 40 + below(200);
		break;
	}
	*from_client = fc;
	*flags_out = flags;
	*paylen_out = paylen;

	const uint8_t *src = fc ? f->caddr : f->saddr;
	const uint8_t *dst = fc ? f->saddr : f->caddr;
	uint16_t sp = fc ? f->cport : f->sport, dp = fc ? f->sport : f->cport;
	uint32_t l4len, iplen, off = ETH_LEN;
	uint8_t *eth = frame, *ip = frame + ETH_LEN, *l4;

	/* Two fixed MACs: the border router and the capture host's side. */
	memset(eth, 0, 12);
	eth[0] = 0x02, eth[5] = fc ? 0x01 : 0x02;
	eth[6] = 0x02, eth[11] = fc ? 0x02 : 0x01;

	if (f->ipproto == 6) {
		uint32_t optlen = flags & 0x02 ? 20 : 12;

		l4len = 20 + optlen + paylen;
	} else {
		l4len = 8 + paylen;
	}
	if (f->family == 4) {
		put16(eth + 12, 0x0800);
		iplen = 20 + l4len;
		ip[0] = 0x45, ip[1] = 0;
		put16(ip + 2, iplen);
		put16(ip + 4, below(65536));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = fc ? 64 : 52;
		ip[9] = f->ipproto;
		put16(ip + 10, 0);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, ip4_csum(ip));
		off += 20;
	} else {
		put16(eth + 12, 0x86dd);
		iplen = 40 + l4len;
		put32(ip, 0x60000000u);
		put16(ip + 4, l4len);
		ip[6] = f->ipproto;
		ip[7] = fc ? 64 : 52;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		off += 40;
	}
	l4 = frame + off;
	put16(l4, sp);
	put16(l4 + 2, dp);
	if (f->ipproto == 6) {
		uint32_t *seq = fc ? &f->cseq : &f->sseq;
		uint32_t ack = fc ? f->sseq : f->cseq;
		uint8_t *opt = l4 + 20;

		put32(l4 + 4, *seq);
		put32(l4 + 8, flags & 0x10 ? ack : 0);
		l4[12] = (uint8_t)((l4len - paylen) / 4 << 4);
		l4[13] = flags;
		put16(l4 + 14, 64240);
		put32(l4 + 16, 0); /* checksum, urgent pointer */
		if (flags & 0x02) {
			/* MSS, SACK permitted, timestamps, NOP, wscale */
			const uint8_t syn_opt[20] = {
				2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				0, 0, 0, 0, 0, 0, 1, 3, 3, 7,
			};
			memcpy(opt, syn_opt, sizeof syn_opt);
			put32(opt + 8, ts32);
		} else {
			opt[0] = 1, opt[1] = 1, opt[2] = 8, opt[3] = 10;
			put32(opt + 4, ts32);
			put32(opt + 8, ts32 - 7);
		}
		/* a retransmitted SYN repeats the sequence number */
		if (!(f->kind == K_PROBE_TCP && pos == 0 && f->retrans))
			*seq += paylen + (flags & 0x03 ? 1u : 0u);
	} else {
		put16(l4 + 4, l4len);
		put16(l4 + 6, 0);
	}
	return ETH_LEN + iplen;
}

static uint32_t arp_frame(uint8_t *frame)
{
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01,
		0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1,
		0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 0,
	};

	memcpy(frame, arp, sizeof arp);
	frame[41] = (uint8_t)(2 + below(250));
	return sizeof arp;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: gencap [-n PACKETS] [-f FLOWS] [-s SEED] [-S SNAPLEN]\n"
		"              [-p PROBE%%] [-6 IPV6%%] [-c CONCURRENT] [-o FILE]\n"
		"Writes a deterministic synthetic Ethernet pcap (default:\n"
		"5000000 packets, 1000000 flows, seed 1, snaplen 96, 10%% of\n"
		"flows probes to dynamic ports, 30%% IPv6, 4096 concurrent\n"
		"flows) to FILE or standard output; prints what it wrote on\n"
		"standard error.\n");
}

int main(int argc, char **argv)
{
	struct opts o = {
		.packets = 5000000, .flows = 1000000, .seed = 1,
		.snaplen = 96, .probe_pct = 10, .v6_pct = 30, .active = 4096,
		.out = "-",
	};
	struct stats st = {0};
	struct out w = {0};
	struct gflow *act;
	uint64_t v, t_ns = 0;
	uint8_t frame[2048];
	int c;

	while ((c = getopt(argc, argv, "n:f:s:S:p:6:c:o:h")) != -1) {
		int bad = 0;

		switch (c) {
		case 'n':
			bad = parse_u64(optarg, 1, UINT64_MAX / 2, &o.packets);
			break;
		case 'f':
			bad = parse_u64(optarg, 1, UINT64_MAX / 2, &o.flows);
			break;
		case 's':
			bad = parse_u64(optarg, 0, UINT64_MAX, &o.seed);
			break;
		case 'S':
			bad = parse_u64(optarg, 60, 2000, &v);
			o.snaplen = (uint32_t)v;
			break;
		case 'p':
			bad = parse_u64(optarg, 0, 100, &v);
			o.probe_pct = (uint32_t)v;
			break;
		case '6':
			bad = parse_u64(optarg, 0, 100, &v);
			o.v6_pct = (uint32_t)v;
			break;
		case 'c':
			bad = parse_u64(optarg, 1, 1u << 20, &v);
			o.active = (uint32_t)v;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "gencap: -%c %s: invalid number\n", c,
				optarg);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/*
	 * Flow lengths: DNS has 2 packets, probes about 2, TCP at least 6,
	 * QUIC at least 2.  Solve for the mean extra length of TCP/QUIC
	 * flows that gives packets/flows on average.
	 */
	double mean = (double)o.packets / (double)o.flows;
	double p_probe = o.probe_pct / 100.0, p_normal = 1.0 - p_probe;
	double fixed = p_probe * 2.8 + p_normal * (0.22 * 2 + 0.08 * 2 +
						  0.70 * 6);
	double extra = p_normal > 0 ? (mean - fixed) / (p_normal * 0.78) : 0;
	uint32_t mean_extra10 = extra < 0 ? 0 :
				extra > 1e8 ? 1000000000u :
				(uint32_t)(extra * 10 + 0.5);

	rng_state = o.seed;
	w.buf = malloc(OUTBUF_SIZE);
	act = calloc(o.active, sizeof *act);
	if (!w.buf || !act) {
		fprintf(stderr, "gencap: out of memory\n");
		return 1;
	}
	if (strcmp(o.out, "-") == 0) {
		w.fd = 1;
	} else {
		w.fd = open(o.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (w.fd < 0) {
			fprintf(stderr, "gencap: %s: %s\n", o.out,
				strerror(errno));
			return 1;
		}
	}
	memset(frame, 0, sizeof frame);
	pcap_file_header(&w, o.snaplen);
	for (uint32_t i = 0; i < o.active; i++) {
		flow_start(&act[i], &o, mean_extra10);
		st.flows++;
	}

	for (uint64_t n = 0; n < o.packets && !w.failed; n++) {
		uint32_t wire, caplen, paylen = 0;
		uint8_t flags = 0;
		int fc = 0;

		t_ns += 1 + below(40000); /* 20 us apart on average */
		if (below(5000) == 0) {
			wire = arp_frame(frame);
			st.nonip++;
		} else {
			struct gflow *f = &act[below(o.active)];

			wire = flow_frame(f, frame, (uint32_t)(t_ns / 1000000),
					  &fc, &flags, &paylen);
			if (f->ipproto == 6)
				st.tcp++;
			else
				st.udp++;
			if (f->family == 6)
				st.v6++;
			if (fc && f->sport >= 49152) {
				if (f->ipproto == 6 && flags == 0x02) {
					st.syn_dyn++;
					st.tcp_dyn += f->pos == 0;
				} else if (f->ipproto == 17 && f->pos == 0) {
					st.udp_dyn++;
				}
			}
			if (++f->pos >= f->len) {
				flow_start(f, &o, mean_extra10);
				st.flows++;
			}
		}
		caplen = wire < o.snaplen ? wire : o.snaplen;
		/* the payload is zeros, not what an earlier header left */
		if (caplen > wire - paylen)
			memset(frame + (wire - paylen), 0,
			       caplen - (wire - paylen));
		uint64_t ts = TS_BASE_S * 1000000000ull + t_ns;
		uint32_t hdr[4] = {
			(uint32_t)(ts / 1000000000ull),
			(uint32_t)(ts % 1000000000ull / 1000),
			caplen, wire,
		};
		out_write(&w, hdr, sizeof hdr);
		out_write(&w, frame, caplen);
		st.packets++;
		st.bytes += sizeof hdr + caplen;
	}
	out_flush(&w);
	if (w.failed || (w.fd != 1 && close(w.fd) != 0)) {
		fprintf(stderr, "gencap: %s: write: %s\n", o.out,
			strerror(w.failed ? w.failed : errno));
		return 1;
	}
	fprintf(stderr,
		"gencap: %" PRIu64 " packets (tcp %" PRIu64 ", udp %" PRIu64
		", ipv6 %" PRIu64 ", non-ip %" PRIu64 "), %" PRIu64
		" flows, connection attempts to dynamic ports: %" PRIu64
		" tcp (%" PRIu64 " SYNs) + %" PRIu64 " udp = %.2f%% of packets"
		", %" PRIu64 " bytes\n",
		st.packets, st.tcp, st.udp, st.v6, st.nonip, st.flows,
		st.tcp_dyn, st.syn_dyn, st.udp_dyn,
		st.packets ? 100.0 * (double)(st.syn_dyn + st.udp_dyn) /
				     (double)st.packets : 0.0,
		st.bytes + 24);
	free(act);
	free(w.buf);
	return 0;
}
