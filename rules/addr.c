/*
 * addr: CIDR prefixes for rules, address formatting for output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "num.h"

int addr_prefix_parse(const char *s, struct addr_prefix *out, char *err,
		      size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t hlen;
	unsigned max;
	unsigned long len;
	uint8_t bytes[16] = { 0 };
	uint8_t family;

	if (!s || !*s) {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	slash = strchr(s, '/');
	hlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "invalid address '%s'", s);
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	if (strchr(host, ':')) {
		if (inet_pton(AF_INET6, host, bytes) != 1) {
			snprintf(err, errlen, "invalid IPv6 address '%s'",
				 host);
			return -1;
		}
		family = 6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, host, bytes) != 1) {
			snprintf(err, errlen, "invalid IPv4 address '%s'",
				 host);
			return -1;
		}
		family = 4;
		max = 32;
	}

	len = max;
	if (slash) {
		const char *num = slash + 1;
		uint64_t v;

		if (num_parse(num, 0, max, 0, &v) < 0) {
			if (errno == ERANGE)
				snprintf(err, errlen,
					 "prefix length %s out of range (0-%u)",
					 num, max);
			else
				snprintf(err, errlen,
					 "invalid prefix length '%s'", num);
			return -1;
		}
		len = (unsigned long)v;
	}

	/* Host bits under the mask usually mean a typo (192.0.2.1/24 for
	 * 192.0.2.0/24); silently masking would hide it. */
	for (unsigned i = 0; i < max / 8; i++) {
		unsigned bit0 = i * 8;
		uint8_t mask;

		if (bit0 + 8 <= len)
			continue;
		mask = bit0 >= len ? 0 : (uint8_t)(0xff << (8 - (len - bit0)));
		if (bytes[i] & (uint8_t)~mask) {
			uint8_t net[16];
			char buf[INET6_ADDRSTRLEN];

			memcpy(net, bytes, sizeof(net));
			for (unsigned j = i; j < max / 8; j++) {
				unsigned b0 = j * 8;
				uint8_t m = b0 >= len ? 0 :
					(uint8_t)(0xff << (8 - (len - b0)));
				net[j] &= m;
			}
			addr_format(family, net, buf, sizeof(buf));
			snprintf(err, errlen,
				 "host bits set in '%s' (did you mean %s/%lu?)",
				 s, buf, len);
			return -1;
		}
	}

	out->family = family;
	out->len = (uint8_t)len;
	memcpy(out->bytes, bytes, sizeof(out->bytes));
	return 0;
}

int addr_prefix_contains(const struct addr_prefix *pfx, uint8_t family,
			 const uint8_t addr[16])
{
	unsigned full, rest;

	if (pfx->family != family)
		return 0;
	full = pfx->len / 8u;
	rest = pfx->len % 8u;
	if (full && memcmp(pfx->bytes, addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((addr[full] & mask) != pfx->bytes[full])
			return 0;
	}
	return 1;
}

const char *addr_format(uint8_t family, const uint8_t addr[16], char *buf,
			size_t buflen)
{
	if (buflen == 0)
		return buf;
	if (family == 4 && buflen >= 16) {
		/* The common case by hand: inet_ntop goes through sprintf. */
		char *o = buf;

		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];

			if (i)
				*o++ = '.';
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
		}
		*o = '\0';
		return buf;
	}
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)buflen))
		snprintf(buf, buflen, "?");
	return buf;
}
