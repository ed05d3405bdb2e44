/*
 * packet: raw IPv4/IPv6 packet parsing for the decision engine.
 *
 * Two lengths bound every read: what was captured (caplen) and what the IP
 * header declares (total length / payload length).  A read that fails
 * inside the declared length but past the capture is "truncated"; one that
 * falls past the declared length is "malformed" (the header lies about
 * itself).  Bytes past the declared length are link padding and are never
 * read.  Every byte goes through the packet_get_* accessors.
 */
#include <stdint.h>
#include <string.h>

#include "packet.h"

int packet_get_bytes(const uint8_t *buf, size_t len, size_t off, void *out,
		     size_t n)
{
	if (n > len || off > len - n)
		return -1;
	if (n)
		memcpy(out, buf + off, n);
	return 0;
}

static const char *const proto_names[PROTO_COUNT] = {
	[PROTO_NON_IP] = "non-ip",
	[PROTO_OTHER_IP] = "other-ip",
	[PROTO_TCP] = "tcp",
	[PROTO_UDP] = "udp",
	[PROTO_UDPLITE] = "udplite",
	[PROTO_SCTP] = "sctp",
	[PROTO_DCCP] = "dccp",
	[PROTO_ICMP] = "icmp",
	[PROTO_ICMP6] = "icmp6",
};

const char *packet_proto_name(enum packet_proto p)
{
	if ((unsigned)p >= PROTO_COUNT)
		return "other-ip";
	return proto_names[p];
}

int packet_proto_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int p = PROTO_TCP; p < PROTO_COUNT; p++)
		if (strcmp(name, proto_names[p]) == 0)
			return p;
	return -1;
}

static const char *const reason_names[PR_COUNT] = {
	[PR_NONE] = "none",
	[PR_TRUNC_IP_VERSION] = "truncated-ip-version",
	[PR_TRUNC_IPV4_HEADER] = "truncated-ipv4-header",
	[PR_TRUNC_IPV6_HEADER] = "truncated-ipv6-header",
	[PR_TRUNC_IPV6_EXTHDR] = "truncated-ipv6-exthdr",
	[PR_TRUNC_TCP] = "truncated-tcp",
	[PR_TRUNC_UDP] = "truncated-udp",
	[PR_TRUNC_UDPLITE] = "truncated-udplite",
	[PR_TRUNC_SCTP] = "truncated-sctp",
	[PR_TRUNC_DCCP] = "truncated-dccp",
	[PR_TRUNC_ICMP] = "truncated-icmp",
	[PR_TRUNC_ICMP6] = "truncated-icmp6",
	[PR_BAD_IP_VERSION] = "bad-ip-version",
	[PR_BAD_IPV4_IHL] = "bad-ipv4-ihl",
	[PR_BAD_IPV4_TOTLEN] = "bad-ipv4-totlen",
	[PR_BAD_IPV6_PAYLOAD_LEN] = "bad-ipv6-payload-len",
	[PR_BAD_IPV6_EXTHDR_CHAIN] = "bad-ipv6-exthdr-chain",
	[PR_BAD_IPV6_EXTHDR_LEN] = "bad-ipv6-exthdr-len",
	[PR_BAD_TCP_OFFSET] = "bad-tcp-offset",
	[PR_BAD_UDP_LENGTH] = "bad-udp-length",
	[PR_BAD_L4_LENGTH] = "bad-l4-length",
};

const char *packet_reason_name(enum packet_reason r)
{
	if ((unsigned)r >= PR_COUNT)
		return "unknown";
	return reason_names[r];
}

enum packet_status packet_reason_status(enum packet_reason r)
{
	if (r == PR_NONE)
		return PACKET_OK;
	if (r >= PR_TRUNC_IP_VERSION && r <= PR_TRUNC_ICMP6)
		return PACKET_TRUNCATED;
	return PACKET_MALFORMED;
}

/* IP protocol numbers we parse. */
enum {
	IPP_HOPOPTS = 0,
	IPP_ICMP = 1,
	IPP_TCP = 6,
	IPP_UDP = 17,
	IPP_DCCP = 33,
	IPP_ROUTING = 43,
	IPP_FRAGMENT = 44,
	IPP_ESP = 50,
	IPP_AH = 51,
	IPP_ICMPV6 = 58,
	IPP_NONE = 59,
	IPP_DSTOPTS = 60,
	IPP_SCTP = 132,
	IPP_UDPLITE = 136,
};

/* The IPv6 extension header chain is walked as far as the packet goes, as
 * the kernel's ipv6_skip_exthdr() does: every header takes at least 8
 * bytes, so the packet's length is the bound.  A fixed count would be a
 * way past the policy: the kernel delivers a TCP segment behind 9 or 90
 * destination options headers as readily as behind one.  The only limit
 * is l4_off's: a transport header more than 64 KiB in (possible only in
 * a jumbogram) is past what any copy range brings us. */
#define IPV6_L4_OFF_MAX 0xffffu

/* A declared length we cannot trust (IPv4 total length 0, IPv6 payload
 * length 0: BIG TCP / GSO super-packets and jumbograms).  Then the capture
 * is the only bound and every short read counts as truncated. */
#define LEN_UNKNOWN ((size_t)-1)

/*
 * The parse state shared by the transport parsers.  lim is min(capture,
 * declared end): the length handed to the accessors.
 */
struct ctx {
	const uint8_t *buf;
	size_t cap;	/* bytes captured */
	size_t end;	/* declared end of the IP packet, or LEN_UNKNOWN */
	size_t lim;	/* min(cap, end) */
	int first_frag;	/* a first fragment: the datagram continues */
};

static int fail(struct packet *p, enum packet_reason r)
{
	p->has_ports = 0;
	p->conn_attempt = 0;
	p->reason = (uint8_t)r;
	p->status = (uint8_t)packet_reason_status(r);
	return -1;
}

/*
 * Checks that [off, off+n) is there: past the declared end is malformed
 * (bad), inside it but past the capture is truncated (trunc).  Returns 0,
 * or fails the packet.
 */
static int need(struct packet *p, const struct ctx *c, size_t off, size_t n,
		enum packet_reason trunc, enum packet_reason bad)
{
	if (c->end != LEN_UNKNOWN && (n > c->end || off > c->end - n))
		return fail(p, bad);
	if (n > c->cap || off > c->cap - n)
		return fail(p, trunc);
	return 0;
}

/* Bytes of IP payload from off to the declared end (huge when unknown). */
static size_t payload_from(const struct ctx *c, size_t off)
{
	if (c->end == LEN_UNKNOWN)
		return LEN_UNKNOWN;
	return c->end > off ? c->end - off : 0;
}

static enum packet_proto proto_of(uint8_t family, uint8_t ipproto)
{
	switch (ipproto) {
	case IPP_TCP:
		return PROTO_TCP;
	case IPP_UDP:
		return PROTO_UDP;
	case IPP_UDPLITE:
		return PROTO_UDPLITE;
	case IPP_SCTP:
		return PROTO_SCTP;
	case IPP_DCCP:
		return PROTO_DCCP;
	case IPP_ICMP:
		return family == 4 ? PROTO_ICMP : PROTO_OTHER_IP;
	case IPP_ICMPV6:
		return family == 6 ? PROTO_ICMP6 : PROTO_OTHER_IP;
	default:
		return PROTO_OTHER_IP;
	}
}

/* Source and destination port: the first four bytes of every transport
 * we parse.  The caller has checked they are there. */
static void read_ports(struct packet *p, const struct ctx *c, size_t off)
{
	(void)packet_get_be16(c->buf, c->lim, off, &p->sport);
	(void)packet_get_be16(c->buf, c->lim, off + 2, &p->dport);
}

/*
 * Fails the packet for reason r, but keeps what is there to read: the
 * ports when their four bytes lie inside both lengths (as tcpdump and
 * tshark print them for a cut or inconsistent header), and for TCP the
 * flags byte the same way.  The status still says the packet is not
 * whole; conn_attempt stays 0.
 */
static int fail_l4(struct packet *p, const struct ctx *c, size_t off,
		   enum packet_reason r)
{
	uint16_t sp, dp;
	uint8_t flags;

	fail(p, r);
	if (packet_get_be16(c->buf, c->lim, off, &sp) == 0 &&
	    packet_get_be16(c->buf, c->lim, off + 2, &dp) == 0) {
		p->sport = sp;
		p->dport = dp;
		p->has_ports = 1;
	}
	if (p->proto == PROTO_TCP &&
	    packet_get_u8(c->buf, c->lim, off + 13, &flags) == 0)
		p->tcp_flags = flags;
	return -1;
}

/* As need(), failing through fail_l4. */
static int need_l4(struct packet *p, const struct ctx *c, size_t off,
		   size_t n, enum packet_reason trunc, enum packet_reason bad)
{
	if (need(p, c, off, n, trunc, bad) == 0)
		return 0;
	return fail_l4(p, c, off, (enum packet_reason)p->reason);
}

static int parse_tcp(struct packet *p, const struct ctx *c, size_t off)
{
	uint8_t doff_byte = 0, flags = 0;
	size_t hlen;

	if (need_l4(p, c, off, 20, PR_TRUNC_TCP, PR_BAD_L4_LENGTH) < 0)
		return -1;
	(void)packet_get_u8(c->buf, c->lim, off + 12, &doff_byte);
	(void)packet_get_u8(c->buf, c->lim, off + 13, &flags);
	hlen = (size_t)(doff_byte >> 4) * 4;
	/* Options may continue in the next fragment of a first fragment;
	 * otherwise they must end inside the segment. */
	if (hlen < 20 || (!c->first_frag && hlen > payload_from(c, off)))
		return fail_l4(p, c, off, PR_BAD_TCP_OFFSET);
	read_ports(p, c, off);
	p->tcp_flags = flags;
	p->conn_attempt = (flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) ==
			  PACKET_TCP_SYN;
	p->has_ports = 1;
	return 0;
}

static int parse_udp(struct packet *p, const struct ctx *c, size_t off)
{
	uint16_t ulen = 0;

	if (need_l4(p, c, off, 8, PR_TRUNC_UDP, PR_BAD_L4_LENGTH) < 0)
		return -1;
	(void)packet_get_be16(c->buf, c->lim, off + 4, &ulen);
	/* A UDP length of 0 with an IP length of 0 is a GSO super-packet
	 * (BIG TCP in a UDP tunnel) or an RFC 2675 jumbogram: the length
	 * did not fit; the capture bounds the datagram. */
	if (ulen == 0 && c->end == LEN_UNKNOWN)
		ulen = 8;
	/* The UDP length covers the whole datagram, so in a first fragment
	 * it exceeds what this fragment carries.  Shorter than the IP
	 * payload is allowed (trailing surplus area). */
	if (ulen < 8 || (!c->first_frag && ulen > payload_from(c, off)))
		return fail_l4(p, c, off, PR_BAD_UDP_LENGTH);
	read_ports(p, c, off);
	p->has_ports = 1;
	return 0;
}

static int parse_udplite(struct packet *p, const struct ctx *c, size_t off)
{
	/* Bytes 4-5 are the checksum coverage (RFC 3828), not a length:
	 * no UDP length rules apply, and the coverage is the receiver's
	 * business. */
	if (need_l4(p, c, off, 8, PR_TRUNC_UDPLITE, PR_BAD_L4_LENGTH) < 0)
		return -1;
	read_ports(p, c, off);
	p->has_ports = 1;
	return 0;
}

static int parse_sctp(struct packet *p, const struct ctx *c, size_t off)
{
	uint8_t chunk = 0;

	/* Common header (12) plus the first chunk's header (4): a packet
	 * carries at least one chunk (RFC 9260 3). */
	if (need_l4(p, c, off, 16, PR_TRUNC_SCTP, PR_BAD_L4_LENGTH) < 0)
		return -1;
	(void)packet_get_u8(c->buf, c->lim, off + 12, &chunk);
	read_ports(p, c, off);
	p->conn_attempt = chunk == 1; /* INIT */
	p->has_ports = 1;
	return 0;
}

static int parse_dccp(struct packet *p, const struct ctx *c, size_t off)
{
	uint8_t doff = 0, type_byte = 0;
	size_t hlen, min;

	if (need_l4(p, c, off, 12, PR_TRUNC_DCCP, PR_BAD_L4_LENGTH) < 0)
		return -1;
	(void)packet_get_u8(c->buf, c->lim, off + 4, &doff);
	(void)packet_get_u8(c->buf, c->lim, off + 8, &type_byte);
	/* X=1: 48-bit sequence numbers, a 16-byte generic header. */
	min = (type_byte & 1) ? 16 : 12;
	if (need_l4(p, c, off, min, PR_TRUNC_DCCP, PR_BAD_L4_LENGTH) < 0)
		return -1;
	hlen = (size_t)doff * 4;
	if (hlen < min || (!c->first_frag && hlen > payload_from(c, off)))
		return fail_l4(p, c, off, PR_BAD_L4_LENGTH);
	read_ports(p, c, off);
	p->conn_attempt = ((type_byte >> 1) & 0xf) == 0; /* DCCP-Request */
	p->has_ports = 1;
	return 0;
}

static int parse_icmp(struct packet *p, const struct ctx *c, size_t off,
		      enum packet_reason trunc)
{
	/* type, code, checksum: the part common to every message. */
	if (need(p, c, off, 4, trunc, PR_BAD_L4_LENGTH) < 0)
		return -1;
	(void)packet_get_u8(c->buf, c->lim, off, &p->icmp_type);
	return 0;
}

/* Dispatches on p->proto; the IP layer has set proto, ipproto, l4_off. */
static int parse_l4(struct packet *p, const struct ctx *c)
{
	size_t off = p->l4_off;
	int rc;

	switch (p->proto) {
	case PROTO_TCP:
		rc = parse_tcp(p, c, off);
		break;
	case PROTO_UDP:
		rc = parse_udp(p, c, off);
		break;
	case PROTO_UDPLITE:
		rc = parse_udplite(p, c, off);
		break;
	case PROTO_SCTP:
		rc = parse_sctp(p, c, off);
		break;
	case PROTO_DCCP:
		rc = parse_dccp(p, c, off);
		break;
	case PROTO_ICMP:
		rc = parse_icmp(p, c, off, PR_TRUNC_ICMP);
		break;
	case PROTO_ICMP6:
		rc = parse_icmp(p, c, off, PR_TRUNC_ICMP6);
		break;
	default:
		rc = 0;
		break;
	}
	return rc;
}

static int parse_ipv4(struct packet *p, struct ctx *c, uint8_t vihl)
{
	size_t hlen = (size_t)(vihl & 0x0f) * 4;
	uint16_t totlen = 0, frag = 0;
	uint8_t ipproto = 0;

	p->family = 4;
	p->proto = PROTO_OTHER_IP;
	if (hlen < 20)
		return fail(p, PR_BAD_IPV4_IHL);
	if (packet_get_be16(c->buf, c->cap, 2, &totlen) < 0)
		return fail(p, PR_TRUNC_IPV4_HEADER);
	if (totlen == 0) {
		/* Linux BIG TCP / TSO captures: the length did not fit or
		 * was never filled in.  tcpdump does the same. */
		c->end = LEN_UNKNOWN;
	} else {
		if (totlen < hlen)
			return fail(p, PR_BAD_IPV4_TOTLEN);
		c->end = totlen;
	}
	c->lim = c->end < c->cap ? c->end : c->cap;
	if (hlen > c->cap)
		return fail(p, PR_TRUNC_IPV4_HEADER);
	p->wirelen = c->end == LEN_UNKNOWN ? p->caplen : totlen;

	(void)packet_get_be16(c->buf, c->lim, 6, &frag);
	(void)packet_get_u8(c->buf, c->lim, 9, &ipproto);
	(void)packet_get_bytes(c->buf, c->lim, 12, p->src, 4);
	(void)packet_get_bytes(c->buf, c->lim, 16, p->dst, 4);
	p->ipproto = ipproto;
	p->proto = (uint8_t)proto_of(4, ipproto);
	p->l4_off = (uint16_t)hlen;

	if (frag & 0x3fff) { /* MF or a fragment offset */
		p->fragment = 1;
		if (frag & 0x1fff)
			return 0; /* non-first: no transport header here */
		c->first_frag = 1;
	}
	return parse_l4(p, c);
}

static int parse_ipv6(struct packet *p, struct ctx *c)
{
	uint16_t plen = 0;
	uint8_t nh = 0;
	size_t off = 40;

	p->family = 6;
	p->proto = PROTO_OTHER_IP;
	if (c->cap < 40)
		return fail(p, PR_TRUNC_IPV6_HEADER);
	(void)packet_get_be16(c->buf, c->cap, 4, &plen);
	(void)packet_get_u8(c->buf, c->cap, 6, &nh);
	(void)packet_get_bytes(c->buf, c->cap, 8, p->src, 16);
	(void)packet_get_bytes(c->buf, c->cap, 24, p->dst, 16);
	/* Payload length 0: a jumbogram or a BIG TCP super-packet. */
	c->end = plen ? 40 + (size_t)plen : LEN_UNKNOWN;
	c->lim = c->end < c->cap ? c->end : c->cap;
	p->wirelen = plen ? 40u + plen : p->caplen;

	for (int n = 0;; n++) {
		uint8_t next = 0, lenb = 0;
		size_t hlen;

		if (nh != IPP_HOPOPTS && nh != IPP_ROUTING &&
		    nh != IPP_FRAGMENT && nh != IPP_DSTOPTS && nh != IPP_AH)
			break;
		/* Hop-by-hop is only valid right after the IPv6 header
		 * (the kernel, ip6_input.c, drops it anywhere else). */
		if (nh == IPP_HOPOPTS && n > 0)
			return fail(p, PR_BAD_IPV6_EXTHDR_CHAIN);
		if (need(p, c, off, nh == IPP_FRAGMENT ? 8 : 2,
			 PR_TRUNC_IPV6_EXTHDR, PR_BAD_IPV6_PAYLOAD_LEN) < 0)
			return -1;
		(void)packet_get_u8(c->buf, c->lim, off, &next);
		(void)packet_get_u8(c->buf, c->lim, off + 1, &lenb);
		if (nh == IPP_FRAGMENT) {
			uint16_t fo = 0;

			(void)packet_get_be16(c->buf, c->lim, off + 2, &fo);
			p->fragment = (fo & 0xfff9) != 0; /* offset or M */
			if (fo & 0xfff8) {
				/* Non-first: what follows is the middle of
				 * the datagram, whatever next says. */
				if (off + 8 > IPV6_L4_OFF_MAX)
					return fail(p, PR_BAD_IPV6_EXTHDR_CHAIN);
				p->ipproto = next;
				p->proto = (uint8_t)proto_of(6, next);
				p->l4_off = (uint16_t)(off + 8);
				return 0;
			}
			c->first_frag = p->fragment;
			hlen = 8;
		} else if (nh == IPP_AH) {
			/* RFC 4302: length in 4-byte words minus 2; the
			 * fixed part alone is 12 bytes. */
			if (lenb < 1)
				return fail(p, PR_BAD_IPV6_EXTHDR_LEN);
			hlen = ((size_t)lenb + 2) * 4;
		} else {
			hlen = ((size_t)lenb + 1) * 8;
		}
		/* The whole header, not just its first bytes: a chain that
		 * runs past the capture is cut, even when nothing after it
		 * (ESP, no-next-header) is read. */
		if (need(p, c, off, hlen, PR_TRUNC_IPV6_EXTHDR,
			 PR_BAD_IPV6_PAYLOAD_LEN) < 0)
			return -1;
		off += hlen;
		if (off > IPV6_L4_OFF_MAX)
			return fail(p, PR_BAD_IPV6_EXTHDR_CHAIN);
		nh = next;
	}

	p->ipproto = nh;
	p->proto = (uint8_t)proto_of(6, nh); /* ESP, no-next-header: other */
	p->l4_off = (uint16_t)off;
	return parse_l4(p, c);
}

int packet_parse(struct packet *p, const uint8_t *data, size_t caplen)
{
	struct ctx c;
	uint8_t b0;

	memset(p, 0, sizeof(*p));
	p->data = data;
	p->caplen = caplen > UINT32_MAX ? UINT32_MAX : (uint32_t)caplen;
	p->wirelen = p->caplen;
	/* Never look past what caplen can describe. */
	c.buf = data;
	c.cap = p->caplen;
	c.end = LEN_UNKNOWN;
	c.lim = c.cap;
	c.first_frag = 0;

	if (packet_get_u8(data, c.cap, 0, &b0) < 0)
		return fail(p, PR_TRUNC_IP_VERSION);
	switch (b0 >> 4) {
	case 4:
		return parse_ipv4(p, &c, b0);
	case 6:
		return parse_ipv6(p, &c);
	default:
		return fail(p, PR_BAD_IP_VERSION);
	}
}

size_t packet_l4_len(const struct packet *p)
{
	size_t lim = p->caplen < p->wirelen ? p->caplen : p->wirelen;

	if (!p->has_ports || p->l4_off >= lim)
		return 0;
	return lim - p->l4_off;
}
