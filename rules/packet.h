/*
 * packet: parse a raw IP packet (IPv4 or IPv6, no link layer) into the
 * fields the decision needs.  Every byte is read through the bounds-checked
 * accessors below; nothing else in the project dereferences packet bytes.
 */
#ifndef PORTCLASS_PACKET_H
#define PORTCLASS_PACKET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Accessors: the single way to read untrusted bytes.  Each returns 0 and
 * stores the value when [off, off+n) lies inside [0, len), else returns -1
 * and leaves *out untouched.  Overflow-safe for any off.
 */
static inline int packet_get_u8(const uint8_t *buf, size_t len, size_t off,
				uint8_t *out)
{
	if (off >= len)
		return -1;
	*out = buf[off];
	return 0;
}

static inline int packet_get_be16(const uint8_t *buf, size_t len, size_t off,
				  uint16_t *out)
{
	if (len < 2 || off > len - 2)
		return -1;
	*out = (uint16_t)((buf[off] << 8) | buf[off + 1]);
	return 0;
}

static inline int packet_get_be32(const uint8_t *buf, size_t len, size_t off,
				  uint32_t *out)
{
	if (len < 4 || off > len - 4)
		return -1;
	*out = ((uint32_t)buf[off] << 24) | ((uint32_t)buf[off + 1] << 16) |
	       ((uint32_t)buf[off + 2] << 8) | (uint32_t)buf[off + 3];
	return 0;
}

/* Copies n bytes; same contract as the others. */
int packet_get_bytes(const uint8_t *buf, size_t len, size_t off, void *out,
		     size_t n);

/* Transport protocol as the project names it (replay's "proto" field). */
enum packet_proto {
	PROTO_NON_IP = 0, /* not IPv4/IPv6 at all */
	PROTO_OTHER_IP,	  /* IP, transport we do not parse (also ESP,
			   * no-next-header, ICMP in IPv6, ICMPv6 in IPv4).
			   * A non-first fragment keeps its transport's
			   * proto (tcp, udp, ...) with has_ports 0. */
	PROTO_TCP,
	PROTO_UDP,
	PROTO_UDPLITE,
	PROTO_SCTP,
	PROTO_DCCP,
	PROTO_ICMP,
	PROTO_ICMP6,
	PROTO_COUNT
};

/* "tcp", "udp", ..., "other-ip", "non-ip". Never NULL. */
const char *packet_proto_name(enum packet_proto p);
/* Inverse of packet_proto_name for the port-carrying and ICMP protocols;
 * returns -1 for an unknown name. */
int packet_proto_lookup(const char *name);

enum packet_status {
	PACKET_OK = 0,
	PACKET_TRUNCATED, /* the bytes needed were not captured */
	PACKET_MALFORMED, /* the bytes are there but contradict themselves */
};

/*
 * Why a packet is truncated or malformed.  Each value has a stable name
 * (packet_reason_name) used in counters, logs and the replay's "error".
 */
enum packet_reason {
	PR_NONE = 0,
	/* truncated */
	PR_TRUNC_IP_VERSION,	/* not even one byte */
	PR_TRUNC_IPV4_HEADER,	/* fewer than ihl*4 bytes captured */
	PR_TRUNC_IPV6_HEADER,	/* fewer than 40 bytes captured */
	PR_TRUNC_IPV6_EXTHDR,	/* an extension header runs past the capture */
	PR_TRUNC_TCP,		/* TCP ports/flags not captured */
	PR_TRUNC_UDP,
	PR_TRUNC_UDPLITE,
	PR_TRUNC_SCTP,		/* ports, or first chunk type for INIT */
	PR_TRUNC_DCCP,		/* ports, or packet type */
	PR_TRUNC_ICMP,
	PR_TRUNC_ICMP6,
	/* malformed */
	PR_BAD_IP_VERSION,	/* version nibble is neither 4 nor 6 */
	PR_BAD_IPV4_IHL,	/* ihl < 5 */
	PR_BAD_IPV4_TOTLEN,	/* total length < ihl*4 */
	PR_BAD_IPV6_PAYLOAD_LEN,/* payload length shorter than ext headers */
	PR_BAD_IPV6_EXTHDR_CHAIN,/* hop-by-hop not first, or the chain
				  * runs past 64 KiB (jumbograms only);
				  * chains are otherwise walked to the end,
				  * however many headers they have */
	PR_BAD_IPV6_EXTHDR_LEN,	/* ext header length inconsistent (AH too short) */
	PR_BAD_TCP_OFFSET,	/* data offset < 5 or past the IP payload */
	PR_BAD_UDP_LENGTH,	/* UDP length < 8 or > IP payload */
	PR_BAD_L4_LENGTH,	/* IP payload shorter than the minimal L4 header
				 * (TCP 20, UDP/UDP-Lite 8, SCTP 12+4 for the
				 * first chunk, DCCP 12/16, ICMP/ICMPv6 4), or
				 * a DCCP data offset outside [that, payload] */
	PR_COUNT
};

/* Stable kebab-case name, e.g. "truncated-tcp", "bad-ipv4-ihl". */
const char *packet_reason_name(enum packet_reason r);
/* PACKET_TRUNCATED or PACKET_MALFORMED for a reason (PACKET_OK for PR_NONE). */
enum packet_status packet_reason_status(enum packet_reason r);

/*
 * Where the front end saw the packet, when it knows: packet_parse sets
 * PACKET_ORIGIN_UNKNOWN and a front end may set the field afterwards (the
 * daemon from the netfilter hook and input interface, the replay from the
 * host addresses a listener snapshot records).  The decision's direction
 * comes from it before any `local` prefix.
 */
enum packet_origin {
	PACKET_ORIGIN_UNKNOWN = 0, /* offline, or a hook that does not say */
	PACKET_ORIGIN_HOST,	   /* addressed to this host from the network
				    * (INPUT), whatever the address: link-local,
				    * multicast, broadcast included */
	PACKET_ORIGIN_LOOPBACK,	   /* this host to itself (arrived on lo) */
	PACKET_ORIGIN_FORWARD,	   /* routed through this host */
};

/* TCP flag bits as on the wire. */
#define PACKET_TCP_FIN 0x01
#define PACKET_TCP_SYN 0x02
#define PACKET_TCP_RST 0x04
#define PACKET_TCP_PSH 0x08
#define PACKET_TCP_ACK 0x10

/*
 * The parsed packet.  A plain value (not opaque): it is filled once per
 * packet on the hot path and read field by field by every layer above, so
 * hiding it behind getters would only cost calls.  `data` still points at
 * the caller's buffer and is valid only as long as that buffer.
 *
 * Addresses are kept as 16 bytes; IPv4 addresses sit in the first 4 bytes
 * and the rest are zero.
 */
struct packet {
	const uint8_t *data;	/* the IP header */
	uint32_t caplen;	/* bytes available at data */
	uint32_t wirelen;	/* IP total length from the header (or caplen) */
	uint8_t family;		/* 4, 6, or 0 when not IP */
	uint8_t proto;		/* enum packet_proto */
	uint8_t ipproto;	/* transport protocol number (after ext hdrs) */
	uint8_t has_ports;	/* sport/dport are valid */
	uint8_t conn_attempt;	/* TCP SYN w/o ACK, SCTP INIT, DCCP Request */
	uint8_t tcp_flags;	/* valid for TCP */
	uint8_t fragment;	/* 1: a fragment (first or not); non-first has no
				 * ports: proto/ipproto name the transport,
				 * l4_off points at the fragment's data */
	uint8_t icmp_type;	/* valid for ICMP/ICMPv6 */
	uint16_t sport, dport;
	uint16_t l4_off;	/* offset of the transport header in data */
	uint8_t src[16], dst[16];
	uint8_t status;		/* enum packet_status */
	uint8_t reason;		/* enum packet_reason */
	uint8_t origin;		/* enum packet_origin, set by the front end */
};

/*
 * Parses caplen bytes at data as one IP packet.  Always fills *p (status,
 * reason, and whatever could be read before a problem).  Returns 0 when
 * status is PACKET_OK, -1 otherwise.  A total length larger than the
 * capture is not an error as long as every header needed was captured
 * (snap lengths and NFQUEUE copy ranges cut payload, not headers); bytes
 * past the total length (link padding) are ignored.  Never allocates,
 * never reads outside [data, data+caplen).
 *
 * Details a caller may rely on:
 * - On error conn_attempt is 0; family, addresses, proto and ipproto are
 *   filled when the IP header was read.  A transport header that is cut
 *   or contradicts itself (truncated-tcp, bad-udp-length, ...) still has
 *   its ports read when their four bytes lie inside both lengths
 *   (has_ports 1, as tcpdump and tshark read them), and TCP its flags
 *   byte likewise (see packet_l4_len for whether it was there); any other
 *   error leaves has_ports 0.
 * - "Needed" headers: the IPv4 header (ihl*4), the 40-byte IPv6 header,
 *   every extension header in full (so l4_off <= caplen), and the L4
 *   minimum listed at PR_BAD_L4_LENGTH.  TCP options need not be captured.
 * - An IPv4 total length of 0 or an IPv6 payload length of 0 (BIG TCP / TSO
 *   super-packets, jumbograms) means "unknown": the capture is the only
 *   bound, short reads are truncated, wirelen = caplen.
 * - First fragments are parsed as usual except that the UDP length and TCP
 *   and DCCP data offsets may point past this fragment; a first fragment
 *   too short for the L4 minimum (RFC 1858 tiny fragment) is
 *   PR_BAD_L4_LENGTH.  An IPv6 atomic fragment (offset 0, M 0) is not a
 *   fragment.
 * - UDP length shorter than the IP payload is accepted (surplus area);
 *   the UDP-Lite checksum coverage is not checked.  A UDP length of 0
 *   under an unknown IP length (a UDP tunnel around a BIG TCP packet) is
 *   accepted too.
 */
int packet_parse(struct packet *p, const uint8_t *data, size_t caplen);

/*
 * Bytes of the transport header (and what follows) that a parsed packet
 * holds inside both its captured and its declared length: what a caller
 * may still read of a truncated or malformed transport header (TCP flags
 * need 14).  0 when no transport header was reached (has_ports 0).
 */
size_t packet_l4_len(const struct packet *p);

#endif
