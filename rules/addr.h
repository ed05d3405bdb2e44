/*
 * addr: IP addresses and CIDR prefixes for rules and output.
 * Addresses are 16 bytes with a family; IPv4 uses the first 4 bytes.
 */
#ifndef PORTCLASS_ADDR_H
#define PORTCLASS_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct addr_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* prefix length, 0..32 or 0..128 */
	uint8_t bytes[16]; /* host bits are zero */
};

/*
 * Parses "192.0.2.1", "192.0.2.0/24", "2001:db8::/32" or "::1".  Host bits
 * set under the mask are an error ("192.0.2.1/24").  Returns 0, or -1 with
 * a reason in err (e.g. "prefix length 33 out of range (0-32)").
 */
int addr_prefix_parse(const char *s, struct addr_prefix *out, char *err,
		      size_t errlen);

/* 1 when the address (family, 16 bytes as in struct packet) is inside. */
int addr_prefix_contains(const struct addr_prefix *pfx, uint8_t family,
			 const uint8_t addr[16]);

/* Formats an address with inet_ntop; buf needs 46 bytes.  Returns buf. */
const char *addr_format(uint8_t family, const uint8_t addr[16], char *buf,
			size_t buflen);

#endif
