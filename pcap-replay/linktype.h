/*
 * linktype: find the IP header inside a captured frame for the link types
 * the replay tool reads.  Every byte is read through packet_get_* so a
 * short or hostile frame can never be read past its captured length.
 */
#ifndef PORTCLASS_REPLAY_LINKTYPE_H
#define PORTCLASS_REPLAY_LINKTYPE_H

#include <stddef.h>
#include <stdint.h>

enum linktype_result {
	LINKTYPE_IP = 0,	/* *ip_off is the offset of an IP header */
	LINKTYPE_NON_IP,	/* a well-formed frame that carries no IP */
	LINKTYPE_TRUNCATED,	/* the link header itself was not captured */
};

/*
 * 1 when dlt (pcap_datalink()) is one the replay can strip: Ethernet
 * (802.1Q/802.1ad tags, LLC/SNAP, MACsec without encryption, NSH and MPLS
 * carrying IP; encrypted MACsec is non-IP), Linux SLL and SLL2, raw IP (DLT_RAW,
 * LINKTYPE_RAW 101, DLT_IPV4, DLT_IPV6), BSD NULL and LOOP.
 */
int linktype_supported(int dlt);

/*
 * Walks the link header(s) of one frame of type dlt.  On LINKTYPE_IP,
 * *ip_off receives where the IP header starts (it may still be empty or
 * garbage: packet_parse judges that).  Never allocates, never reads
 * outside [buf, buf+caplen).
 */
enum linktype_result linktype_strip(int dlt, const uint8_t *buf, size_t caplen,
				    size_t *ip_off);

#endif
