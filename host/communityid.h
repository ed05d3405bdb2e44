/*
 * communityid: the Community ID v1 flow hash (corelight/community-id-spec),
 * the key by which Zeek, Suricata and Elastic join records of the same
 * connection: "1:" + base64(sha1(seed | saddr | daddr | proto | 0 | sport
 * | dport)), endpoints ordered so both directions hash alike.
 */
#ifndef PORTCLASS_COMMUNITYID_H
#define PORTCLASS_COMMUNITYID_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITYID_LEN 31

/*
 * The Community ID of a flow.  family 4 or 6; ipproto the IP protocol
 * number; has_ports 0 for protocols without ports (then sport/dport are
 * ignored).  For ICMP (1) and ICMPv6 (58), sport is the type and dport the
 * code, mapped as the specification says (request/reply pairs hash
 * alike).  b64 0 writes the 40 hex digits instead (the spec's "no base64"
 * variant; out must then hold 43 bytes).  Writes a NUL-terminated string
 * into out and returns out.
 */
char *communityid_v1(uint16_t seed, uint8_t family, const uint8_t *saddr,
		     const uint8_t *daddr, uint8_t ipproto, int has_ports,
		     uint16_t sport, uint16_t dport, int b64, char *out,
		     size_t outlen);

/*
 * The Community ID of a parsed packet (seed 0), or NULL when the packet
 * is not IP or too damaged to name its flow.
 */
const char *communityid_packet(const struct packet *p, char *out,
			       size_t outlen);

#endif
