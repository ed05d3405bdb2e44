/*
 * linktype: see linktype.h.  Layouts follow the tcpdump.org link-layer
 * header type registry (https://www.tcpdump.org/linktypes.html).
 */
#include "linktype.h"

#include <pcap/pcap.h>

#include "packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad stacked tags */
#define ETHERTYPE_MAX_LEN 1500	  /* at or below: an 802.3 length, LLC follows */
#define ETHERTYPE_MACSEC 0x88e5	  /* IEEE 802.1AE */
#define ETHERTYPE_NSH 0x894f	  /* RFC 8300 */
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848

/* MACsec TCI bits: SCI present, encrypted (E), changed text (C). */
#define MACSEC_TCI_SC 0x20
#define MACSEC_TCI_E 0x08
#define MACSEC_TCI_C 0x04
/* NSH next protocol values (RFC 8300 2.2, IANA). */
#define NSH_NP_IPV4 1
#define NSH_NP_IPV6 2
/* An MPLS label stack deeper than this is not a real network. */
#define MPLS_LABELS_MAX 16

/* A stack deeper than this is not a real network; stop rather than loop. */
#define VLAN_TAGS_MAX 8

/* LINKTYPE_RAW as written in files; libpcap maps it to DLT_RAW on read,
 * but a build that hands it through must still work. */
#define LINKTYPE_RAW_FILE 101

/* BSD address family values for IPv6 in DLT_NULL/DLT_LOOP headers:
 * NetBSD/OpenBSD, FreeBSD, Darwin.  (AF_INET is 2 everywhere.) */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20

int linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_FILE:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	default:
		return 0;
	}
}

static int is_ip_ethertype(uint16_t type)
{
	return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6;
}

static int is_vlan_ethertype(uint16_t type)
{
	return type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD ||
	       type == ETHERTYPE_QINQ_OLD;
}

/*
 * From an ethertype field at off: skips VLAN tags (each 2 bytes of TCI
 * then the next ethertype) and an LLC/SNAP header, and says where IP
 * starts.
 */
static enum linktype_result walk_ethertype(const uint8_t *buf, size_t caplen,
					   size_t off, size_t *ip_off)
{
	uint16_t type;
	int tags = 0;

	if (packet_get_be16(buf, caplen, off, &type) < 0)
		return LINKTYPE_TRUNCATED;
	off += 2;
	for (;;) {
		if (is_vlan_ethertype(type)) {
			if (++tags > VLAN_TAGS_MAX)
				return LINKTYPE_NON_IP;
			/* TCI at off, inner type at off + 2 */
			if (packet_get_be16(buf, caplen, off + 2, &type) < 0)
				return LINKTYPE_TRUNCATED;
			off += 4;
		} else if (type == ETHERTYPE_MACSEC) {
			/* SecTAG: TCI/AN, short length, packet number, then
			 * the SCI when SC is set.  Without E and C the user
			 * data is plain: the original ethertype follows (the
			 * ICV trails the frame and is never read).  Encrypted
			 * or changed text carries nothing we can read. */
			uint8_t tci;

			if (++tags > VLAN_TAGS_MAX)
				return LINKTYPE_NON_IP;
			if (packet_get_u8(buf, caplen, off, &tci) < 0)
				return LINKTYPE_TRUNCATED;
			if (tci & (MACSEC_TCI_E | MACSEC_TCI_C))
				return LINKTYPE_NON_IP;
			off += 6 + ((tci & MACSEC_TCI_SC) ? 8 : 0);
			if (packet_get_be16(buf, caplen, off, &type) < 0)
				return LINKTYPE_TRUNCATED;
			off += 2;
		} else {
			break;
		}
	}
	if (type == ETHERTYPE_NSH) {
		/* Base header: version/flags/TTL/length (6 bits, in 4-byte
		 * words, the whole NSH header), MD type, next protocol. */
		uint16_t w0;
		uint8_t np;
		size_t hlen;

		if (packet_get_be16(buf, caplen, off, &w0) < 0 ||
		    packet_get_u8(buf, caplen, off + 3, &np) < 0)
			return LINKTYPE_TRUNCATED;
		hlen = (size_t)(w0 & 0x3f) * 4;
		if ((w0 >> 14) != 0 || hlen < 8)
			return LINKTYPE_NON_IP; /* unknown version, or bad */
		if (np != NSH_NP_IPV4 && np != NSH_NP_IPV6)
			return LINKTYPE_NON_IP;
		if (packet_get_u8(buf, caplen, off + hlen - 1, &np) < 0)
			return LINKTYPE_TRUNCATED; /* metadata cut */
		*ip_off = off + hlen;
		return LINKTYPE_IP;
	}
	if (type == ETHERTYPE_MPLS || type == ETHERTYPE_MPLS_MC) {
		/* Labels up to bottom of stack; then IP by its version
		 * nibble, as tcpdump and Wireshark guess (a pseudowire
		 * carries Ethernet instead, and starts otherwise). */
		uint32_t label = 0;
		uint8_t v;
		int n = 0;

		do {
			if (++n > MPLS_LABELS_MAX)
				return LINKTYPE_NON_IP;
			if (packet_get_be32(buf, caplen, off, &label) < 0)
				return LINKTYPE_TRUNCATED;
			off += 4;
		} while (!(label & 0x100));
		if (packet_get_u8(buf, caplen, off, &v) < 0)
			return LINKTYPE_TRUNCATED;
		if ((v >> 4) != 4 && (v >> 4) != 6)
			return LINKTYPE_NON_IP;
		*ip_off = off;
		return LINKTYPE_IP;
	}
	if (type <= ETHERTYPE_MAX_LEN) {
		/* 802.3 length: IP only inside LLC/SNAP with OUI 0 */
		uint8_t dsap, ssap, ctl, oui[3];

		if (packet_get_u8(buf, caplen, off, &dsap) < 0 ||
		    packet_get_u8(buf, caplen, off + 1, &ssap) < 0 ||
		    packet_get_u8(buf, caplen, off + 2, &ctl) < 0)
			return LINKTYPE_TRUNCATED;
		if (dsap != 0xaa || ssap != 0xaa || ctl != 0x03)
			return LINKTYPE_NON_IP;
		if (packet_get_bytes(buf, caplen, off + 3, oui, 3) < 0 ||
		    packet_get_be16(buf, caplen, off + 6, &type) < 0)
			return LINKTYPE_TRUNCATED;
		if (oui[0] || oui[1] || oui[2])
			return LINKTYPE_NON_IP;
		off += 8;
	}
	if (!is_ip_ethertype(type))
		return LINKTYPE_NON_IP;
	*ip_off = off;
	return LINKTYPE_IP;
}

/* The 4-byte AF header of DLT_NULL (host order of the capturing machine)
 * and DLT_LOOP (network order).  Either order is accepted for both: the
 * value is small, so a byte-swapped one has its low half zero. */
static enum linktype_result strip_null(const uint8_t *buf, size_t caplen,
				       size_t *ip_off)
{
	uint32_t af;

	if (packet_get_be32(buf, caplen, 0, &af) < 0)
		return LINKTYPE_TRUNCATED;
	if ((af & 0xffff) == 0)
		af = ((af >> 24) & 0xff) | ((af >> 8) & 0xff00);
	switch (af) {
	case BSD_AF_INET:
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		*ip_off = 4;
		return LINKTYPE_IP;
	default:
		return LINKTYPE_NON_IP;
	}
}

enum linktype_result linktype_strip(int dlt, const uint8_t *buf, size_t caplen,
				    size_t *ip_off)
{
	switch (dlt) {
	case DLT_EN10MB:
		/* dst 6, src 6, type 2 */
		return walk_ethertype(buf, caplen, 12, ip_off);
	case DLT_LINUX_SLL:
		/* packet type 2, ARPHRD 2, addr len 2, addr 8, protocol 2 */
		if (caplen < SLL_HDR_LEN)
			return LINKTYPE_TRUNCATED;
		return walk_ethertype(buf, caplen, 14, ip_off);
	case DLT_LINUX_SLL2: {
		/* protocol 2, reserved 2, ifindex 4, ARPHRD 2, packet type 1,
		 * addr len 1, addr 8; the tag walk starts at the protocol but
		 * the payload after the 20-byte header */
		uint16_t type;
		size_t off;
		enum linktype_result r;

		if (caplen < SLL2_HDR_LEN)
			return LINKTYPE_TRUNCATED;
		if (packet_get_be16(buf, caplen, 0, &type) < 0)
			return LINKTYPE_TRUNCATED;
		if (is_ip_ethertype(type)) {
			*ip_off = SLL2_HDR_LEN;
			return LINKTYPE_IP;
		}
		if (!is_vlan_ethertype(type))
			return LINKTYPE_NON_IP;
		/* a tagged payload: TCI then the inner type, after the header */
		r = walk_ethertype(buf, caplen, SLL2_HDR_LEN + 2, &off);
		if (r == LINKTYPE_IP)
			*ip_off = off;
		return r;
	}
	case DLT_RAW:
	case LINKTYPE_RAW_FILE:
	case DLT_IPV4:
	case DLT_IPV6:
		*ip_off = 0;
		return LINKTYPE_IP;
	case DLT_NULL:
	case DLT_LOOP:
		return strip_null(buf, caplen, ip_off);
	default:
		return LINKTYPE_NON_IP;
	}
}
