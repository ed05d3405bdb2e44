/*
 * mkpcap: writes the small crafted captures the replay golden tests read,
 * into a directory given on the command line:
 *
 *   eth.pcap vlan.pcap qinq.pcap sll.pcap sll2.pcap raw.pcap ipv4.pcap
 *   ipv6.pcap null.pcap null-be.pcap loop.pcap eth.pcapng
 *   unsupported.pcap user13.pcap truncated.pcap truncated.pcapng corrupt.pcap
 *   bad-caplen.pcap empty.pcap, and mutant-*.pcap/.pcapng (random bytes
 *   overwritten) for the robustness check
 *
 * Every capture carries the same scenario of IP packets (see scenario()),
 * wrapped in its link layer, so their reports differ only where the link
 * layer does (non-IP frames, truncated link headers).  pcap files are
 * written with libpcap (pcap_open_dead + pcap_dump, nanosecond stamps);
 * pcapng is written byte by byte since libpcap cannot write it.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define T0 1795784400ull /* 2026-11-27T13:00:00Z */
#define MAXPKT 64
#define MAXLEN 512

/* One scenario item: an IP packet, or a non-IP frame. */
struct item {
	int non_ip;		/* an ARP request */
	uint8_t family;		/* 4 or 6 */
	uint8_t b[MAXLEN];
	size_t len;		/* on the wire */
	size_t caplen;		/* captured (< len: snapped) */
};

static struct item items[MAXPKT];
static int nitems;

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static unsigned csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* IPv4 header + l4; frag is the flags/fragment-offset field. */
static struct item *ip4(const char *src, const char *dst, uint8_t proto,
			const uint8_t *l4, size_t l4len, unsigned frag)
{
	struct item *it = &items[nitems++];
	uint8_t *b = it->b;
	unsigned a[4], d[4];

	memset(it, 0, sizeof(*it));
	sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(dst, "%u.%u.%u.%u", &d[0], &d[1], &d[2], &d[3]);
	b[0] = 0x45;
	put16(b + 2, (unsigned)(20 + l4len));
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)a[i];
		b[16 + i] = (uint8_t)d[i];
	}
	put16(b + 10, csum(b, 20));
	memcpy(b + 20, l4, l4len);
	it->family = 4;
	it->len = it->caplen = 20 + l4len;
	return it;
}

/* "2001:db8:1::10" style, enough for the test addresses. */
static void parse6(const char *s, uint8_t out[16])
{
	unsigned g[8] = { 0 }, tail[8];
	int n = 0, nt = 0, after = 0;
	const char *p = s;

	while (*p) {
		if (p[0] == ':' && p[1] == ':') {
			after = 1;
			p += 2;
			continue;
		}
		if (*p == ':') {
			p++;
			continue;
		}
		char *end;
		unsigned v = (unsigned)strtoul(p, &end, 16);

		p = end;
		if (after)
			tail[nt++] = v;
		else
			g[n++] = v;
	}
	for (int i = 0; i < nt; i++)
		g[8 - nt + i] = tail[i];
	for (int i = 0; i < 8; i++)
		put16(out + 2 * i, g[i]);
}

static struct item *ip6(const char *src, const char *dst, uint8_t nh,
			const uint8_t *l4, size_t l4len)
{
	struct item *it = &items[nitems++];
	uint8_t *b = it->b;

	memset(it, 0, sizeof(*it));
	b[0] = 0x60;
	put16(b + 4, (unsigned)l4len);
	b[6] = nh;
	b[7] = 64;
	parse6(src, b + 8);
	parse6(dst, b + 24);
	memcpy(b + 40, l4, l4len);
	it->family = 6;
	it->len = it->caplen = 40 + l4len;
	return it;
}

static size_t tcp(uint8_t *b, unsigned sport, unsigned dport, uint8_t flags)
{
	memset(b, 0, 20);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, 1000);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	return 20;
}

static size_t udp(uint8_t *b, unsigned sport, unsigned dport, size_t payload)
{
	memset(b, 0, 8 + payload);
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (unsigned)(8 + payload));
	return 8 + payload;
}

#define SYN 0x02
#define ACK 0x10

/*
 * The scenario, in order (protected hosts 192.0.2.0/24, 2001:db8:1::/48):
 *  1 ARP (non-IP; only where the link layer can carry it)
 *  2 SYN 198.51.100.7:40000 -> 192.0.2.10:60314   rogue listener probed
 *  3 the same SYN again                            retransmit, folded
 *  4 SYN/ACK back from 192.0.2.10:60314             listener seen
 *  5 ACK
 *  6 UDP 198.51.100.8:50000 -> 192.0.2.10:60001     expected UDP listener
 *  7 UDP reply from 192.0.2.10:60001                listener seen
 *  8 SYN 192.0.2.10:51000 -> 203.0.113.5:443        outgoing
 *  9 SYN/ACK from 203.0.113.5:443                   reply to an ephemeral port
 * 10 SYN 198.51.100.7:40001 -> 192.0.2.10:22        system port
 * 11 SYN 198.51.100.9:40002 -> 192.0.2.10:8080      user port, a drop rule
 * 12 IPv6 SYN [2001:db8::7]:40003 -> [2001:db8:1::10]:60314   probe
 * 13 ICMP echo 198.51.100.7 -> 192.0.2.10
 * 14 IPv6 UDP [2001:db8:1::10]:53 -> [2001:db8::7]:55555      DNS answer out
 * 15 SYN 198.51.100.7:40005 -> 192.0.2.10:60315, TCP cut after 2 bytes
 * 16 IPv4 with ihl 4                                malformed
 * 17 UDP fragment at offset 1480 (no ports)
 * 18 SCTP INIT 198.51.100.7:40004 -> 192.0.2.10:50000
 */
static void scenario(void)
{
	uint8_t l4[128];
	size_t n;
	struct item *it;

	nitems = 0;
	it = &items[nitems++];
	memset(it, 0, sizeof(*it));
	it->non_ip = 1;
	/* ARP request who-has 192.0.2.10 tell 192.0.2.1 */
	{
		static const uint8_t arp[28] = {
			0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1,
			192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 10 };
		memcpy(it->b, arp, sizeof(arp));
		it->len = it->caplen = sizeof(arp);
	}
	n = tcp(l4, 40000, 60314, SYN);
	ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	n = tcp(l4, 60314, 40000, SYN | ACK);
	ip4("192.0.2.10", "198.51.100.7", 6, l4, n, 0x4000);
	n = tcp(l4, 40000, 60314, ACK);
	ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	n = udp(l4, 50000, 60001, 12);
	ip4("198.51.100.8", "192.0.2.10", 17, l4, n, 0);
	n = udp(l4, 60001, 50000, 20);
	ip4("192.0.2.10", "198.51.100.8", 17, l4, n, 0);
	n = tcp(l4, 51000, 443, SYN);
	ip4("192.0.2.10", "203.0.113.5", 6, l4, n, 0x4000);
	n = tcp(l4, 443, 51000, SYN | ACK);
	ip4("203.0.113.5", "192.0.2.10", 6, l4, n, 0x4000);
	n = tcp(l4, 40001, 22, SYN);
	ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	n = tcp(l4, 40002, 8080, SYN);
	ip4("198.51.100.9", "192.0.2.10", 6, l4, n, 0x4000);
	n = tcp(l4, 40003, 60314, SYN);
	ip6("2001:db8::7", "2001:db8:1::10", 6, l4, n);
	memset(l4, 0, 8);
	l4[0] = 8; /* echo request */
	put16(l4 + 4, 1);
	put16(l4 + 6, 1);
	put16(l4 + 2, csum(l4, 8));
	ip4("198.51.100.7", "192.0.2.10", 1, l4, 8, 0);
	n = udp(l4, 53, 55555, 40);
	ip6("2001:db8:1::10", "2001:db8::7", 17, l4, n);
	n = tcp(l4, 40005, 60315, SYN);
	it = ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	it->caplen = 22;
	n = tcp(l4, 40006, 60316, SYN);
	it = ip4("198.51.100.7", "192.0.2.10", 6, l4, n, 0x4000);
	it->b[0] = 0x44;
	memset(l4, 0, 32);
	ip4("198.51.100.7", "192.0.2.10", 17, l4, 32, 1480 / 8);
	/* SCTP: common header (ports, vtag 0, crc) + INIT chunk */
	memset(l4, 0, 32);
	put16(l4, 40004);
	put16(l4 + 2, 50000);
	l4[12] = 1; /* INIT */
	put16(l4 + 14, 20);
	ip4("198.51.100.7", "192.0.2.10", 132, l4, 32, 0x4000);
}

enum link {
	L_ETH, L_VLAN, L_QINQ, L_SLL, L_SLL2, L_RAW, L_IPV4, L_IPV6, L_NULL,
	L_NULL_BE, L_LOOP,
};

/* A frame of link type l for item it; returns 0 when this link type cannot
 * carry the item. */
static int frame(enum link l, const struct item *it, uint8_t *out,
		 size_t *caplen, size_t *len)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 2 };
	unsigned type = it->non_ip ? 0x0806 : it->family == 6 ? 0x86dd : 0x0800;
	size_t h = 0;

	switch (l) {
	case L_ETH:
	case L_VLAN:
	case L_QINQ:
		memcpy(out, mac_a, 6);
		memcpy(out + 6, mac_b, 6);
		h = 12;
		if (l == L_QINQ) {
			put16(out + h, 0x88a8);
			put16(out + h + 2, 100);
			h += 4;
		}
		if (l != L_ETH) {
			put16(out + h, 0x8100);
			put16(out + h + 2, 0x2000 | 42);
			h += 4;
		}
		put16(out + h, type);
		h += 2;
		break;
	case L_SLL:
		put16(out, 0);	/* to us */
		put16(out + 2, 1); /* ARPHRD_ETHER */
		put16(out + 4, 6);
		memset(out + 6, 0, 8);
		memcpy(out + 6, mac_b, 6);
		put16(out + 14, type);
		h = 16;
		break;
	case L_SLL2:
		put16(out, type);
		put16(out + 2, 0);
		put32(out + 4, 2); /* ifindex */
		put16(out + 8, 1);
		out[10] = 0;
		out[11] = 6;
		memset(out + 12, 0, 8);
		memcpy(out + 12, mac_b, 6);
		h = 20;
		break;
	case L_RAW:
	case L_IPV4:
	case L_IPV6:
		if (it->non_ip)
			return 0;
		if ((l == L_IPV4 && it->family != 4) ||
		    (l == L_IPV6 && it->family != 6))
			return 0;
		break;
	case L_NULL: /* host order of a little-endian BSD */
		le32(out, it->non_ip ? 7 : it->family == 6 ? 24 : 2);
		h = 4;
		break;
	case L_NULL_BE: /* host order of a big-endian Darwin */
		put32(out, it->non_ip ? 7 : it->family == 6 ? 30 : 2);
		h = 4;
		break;
	case L_LOOP: /* network order, FreeBSD's AF_INET6 */
		put32(out, it->non_ip ? 7 : it->family == 6 ? 28 : 2);
		h = 4;
		break;
	}
	memcpy(out + h, it->b, it->caplen);
	*caplen = h + it->caplen;
	*len = h + it->len;
	return 1;
}

/* A frame whose link header is cut short, or 0 when none makes sense. */
static size_t short_frame(enum link l, uint8_t *out)
{
	memset(out, 0xee, 32);
	switch (l) {
	case L_ETH:
	case L_VLAN:
	case L_QINQ:
		return 13;
	case L_SLL:
		return 15;
	case L_SLL2:
		return 19;
	case L_NULL:
	case L_NULL_BE:
	case L_LOOP:
		return 3;
	default:
		return 0;
	}
}

static int dlt_of(enum link l)
{
	switch (l) {
	case L_ETH:
	case L_VLAN:
	case L_QINQ:
		return DLT_EN10MB;
	case L_SLL:
		return DLT_LINUX_SLL;
	case L_SLL2:
		return DLT_LINUX_SLL2;
	case L_RAW:
		return DLT_RAW;
	case L_IPV4:
		return DLT_IPV4;
	case L_IPV6:
		return DLT_IPV6;
	case L_NULL:
	case L_NULL_BE:
		return DLT_NULL;
	case L_LOOP:
		return DLT_LOOP;
	}
	return -1;
}

static uint64_t stamp(int i)
{
	/* nanoseconds that do not survive microsecond output: .123456789 */
	return T0 * 1000000000ull + (uint64_t)i * 250000000ull + 123456789ull;
}

static char dir[4096];

static const char *path(const char *name)
{
	static char buf[4200];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static int write_pcap(enum link l, const char *name)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(
		dlt_of(l), 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d;
	struct pcap_pkthdr h;
	uint8_t buf[MAXLEN + 64];
	size_t caplen, len;
	int i;

	if (!dead)
		return -1;
	d = pcap_dump_open(dead, path(name));
	if (!d) {
		fprintf(stderr, "mkpcap: %s: %s\n", name, pcap_geterr(dead));
		return -1;
	}
	for (i = 0; i < nitems; i++) {
		if (!frame(l, &items[i], buf, &caplen, &len))
			continue;
		uint64_t ns = stamp(i);
		h.ts.tv_sec = (time_t)(ns / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull);
		h.caplen = (bpf_u_int32)caplen;
		h.len = (bpf_u_int32)len;
		pcap_dump((u_char *)d, &h, buf);
	}
	caplen = short_frame(l, buf);
	if (caplen) {
		uint64_t ns = stamp(nitems);
		h.ts.tv_sec = (time_t)(ns / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull);
		h.caplen = h.len = (bpf_u_int32)caplen;
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
}

/* ---- pcapng, by hand ---- */

static void ng_block(FILE *f, uint32_t type, const uint8_t *body, size_t n)
{
	uint8_t hdr[8], pad[4] = { 0 };
	size_t padded = (n + 3) & ~(size_t)3;
	uint32_t total = (uint32_t)(12 + padded);

	le32(hdr, type);
	le32(hdr + 4, total);
	fwrite(hdr, 1, 8, f);
	fwrite(body, 1, n, f);
	fwrite(pad, 1, padded - n, f);
	fwrite(hdr + 4, 1, 4, f);
}

static int write_pcapng(const char *name)
{
	FILE *f = fopen(path(name), "wb");
	uint8_t body[MAXLEN + 128], buf[MAXLEN + 64];
	size_t caplen, len;
	int i;

	if (!f)
		return -1;
	/* SHB: byte-order magic, version 1.0, section length unknown */
	memset(body, 0, 16);
	le32(body, 0x1a2b3c4d);
	body[4] = 1;
	memset(body + 8, 0xff, 8);
	ng_block(f, 0x0a0d0d0a, body, 16);
	/* IDB: Ethernet, snaplen 65535, if_tsresol = 9 (nanoseconds) */
	memset(body, 0, 16);
	body[0] = 1; /* LINKTYPE_ETHERNET, little-endian 16 bits */
	le32(body + 4, 65535);
	body[8] = 9;  /* option code if_tsresol */
	body[10] = 1; /* length */
	body[12] = 9;
	/* opt_endofopt: 4 zero bytes at 16 */
	memset(body + 16, 0, 4);
	ng_block(f, 1, body, 20);
	/* EPBs */
	for (i = 0; i < nitems; i++) {
		if (!frame(L_ETH, &items[i], buf, &caplen, &len))
			continue;
		uint64_t ns = stamp(i);
		le32(body, 0); /* interface 0 */
		le32(body + 4, (uint32_t)(ns >> 32));
		le32(body + 8, (uint32_t)ns);
		le32(body + 12, (uint32_t)caplen);
		le32(body + 16, (uint32_t)len);
		memcpy(body + 20, buf, caplen);
		ng_block(f, 6, body, 20 + caplen);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int write_bytes(const char *name, const void *b, size_t n)
{
	FILE *f = fopen(path(name), "wb");

	if (!f)
		return -1;
	fwrite(b, 1, n, f);
	return fclose(f) == 0 ? 0 : -1;
}

static size_t read_all(const char *name, uint8_t *b, size_t len)
{
	FILE *f = fopen(path(name), "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(b, 1, len, f);
	fclose(f);
	return n;
}

/* Writes from's bytes minus the last `cut` into name. */
static int write_cut(const char *from, const char *name, size_t cut)
{
	static uint8_t b[1 << 16];
	size_t n = read_all(from, b, sizeof(b));

	if (n <= cut)
		return -1;
	return write_bytes(name, b, n - cut);
}

/*
 * Mutants for the robustness check: copies of a capture with a few bytes
 * past the file header overwritten (lengths, link and IP headers alike).
 * A fixed generator keeps them the same from run to run.
 */
static int write_mutants(const char *from, const char *prefix, size_t skip,
			 int count)
{
	static uint8_t b[1 << 16], m[1 << 16];
	size_t n = read_all(from, b, sizeof(b));
	uint32_t x = 0x12345678;
	char name[64];
	int i, k;

	if (n <= skip)
		return -1;
	for (i = 0; i < count; i++) {
		memcpy(m, b, n);
		for (k = 0; k < 1 + i % 8; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			m[skip + x % (n - skip)] = (uint8_t)(x >> 8);
		}
		snprintf(name, sizeof(name), "%s-%02d%s", prefix, i,
			 strchr(from, '.'));
		if (write_bytes(name, m, n) < 0)
			return -1;
	}
	return 0;
}

static int write_others(void)
{
	/* 802.11 is a link type the replay does not read */
	pcap_t *dead = pcap_open_dead(DLT_IEEE802_11, 65535);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, path("unsupported.pcap")) : NULL;
	struct pcap_pkthdr h = { .caplen = 24, .len = 24 };
	uint8_t junk[24] = { 0x80 };
	static const char garbage[] = "this is not a capture file at all";
	uint8_t bad[24 + 16];

	if (!d)
		return -1;
	h.ts.tv_sec = (time_t)T0;
	pcap_dump((u_char *)d, &h, junk);
	pcap_dump_close(d);
	pcap_close(dead);

	/* 160 is one of the private DLT_USER values: libpcap has no name */
	dead = pcap_open_dead(160, 65535);
	d = dead ? pcap_dump_open(dead, path("user13.pcap")) : NULL;
	if (!d)
		return -1;
	pcap_dump((u_char *)d, &h, junk);
	pcap_dump_close(d);
	pcap_close(dead);

	dead = pcap_open_dead(DLT_EN10MB, 65535);
	d = dead ? pcap_dump_open(dead, path("empty.pcap")) : NULL;
	if (!d)
		return -1;
	pcap_dump_close(d);
	pcap_close(dead);

	if (write_bytes("corrupt.pcap", garbage, sizeof(garbage)) < 0)
		return -1;
	/* a valid header, then a record claiming a 4 GB packet */
	memset(bad, 0, sizeof(bad));
	le32(bad, 0xa1b2c3d4);
	bad[4] = 2;
	bad[6] = 4;
	le32(bad + 16, 65535);
	le32(bad + 20, 1);
	le32(bad + 24, (uint32_t)T0);
	le32(bad + 32, 0xfffffff0u);
	le32(bad + 36, 0xfffffff0u);
	if (write_bytes("bad-caplen.pcap", bad, sizeof(bad)) < 0)
		return -1;
	/* eth.pcap cut in the middle of its last record, the pcapng in the
	 * middle of its last block */
	if (write_cut("eth.pcap", "truncated.pcap", 5) < 0 ||
	    write_cut("eth.pcapng", "truncated.pcapng", 30) < 0)
		return -1;
	if (write_mutants("eth.pcap", "mutant", 24, 60) < 0 ||
	    write_mutants("sll2.pcap", "mutant-sll2", 24, 20) < 0 ||
	    write_mutants("null.pcap", "mutant-null", 24, 20) < 0 ||
	    write_mutants("eth.pcapng", "mutant", 0, 60) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		enum link l;
		const char *name;
	} files[] = {
		{ L_ETH, "eth.pcap" },	       { L_VLAN, "vlan.pcap" },
		{ L_QINQ, "qinq.pcap" },       { L_SLL, "sll.pcap" },
		{ L_SLL2, "sll2.pcap" },       { L_RAW, "raw.pcap" },
		{ L_IPV4, "ipv4.pcap" },       { L_IPV6, "ipv6.pcap" },
		{ L_NULL, "null.pcap" },       { L_NULL_BE, "null-be.pcap" },
		{ L_LOOP, "loop.pcap" },
	};
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkpcap DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	scenario();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (write_pcap(files[i].l, files[i].name) < 0) {
			fprintf(stderr, "mkpcap: %s: cannot write\n",
				files[i].name);
			return 1;
		}
	if (write_pcapng("eth.pcapng") < 0 || write_others() < 0) {
		fprintf(stderr, "mkpcap: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	return 0;
}
