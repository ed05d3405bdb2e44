/* communityid: see communityid.h. */
#include "communityid.h"

#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>

/* ICMP type -> the type of the other direction (request <-> reply). */
static int icmp4_pair(uint16_t type, uint16_t *other)
{
	switch (type) {
	case 8: *other = 0; return 1;	/* echo */
	case 0: *other = 8; return 1;
	case 13: *other = 14; return 1; /* timestamp */
	case 14: *other = 13; return 1;
	case 15: *other = 16; return 1; /* info */
	case 16: *other = 15; return 1;
	case 10: *other = 9; return 1;	/* router solicitation/advert. */
	case 9: *other = 10; return 1;
	case 17: *other = 18; return 1; /* address mask */
	case 18: *other = 17; return 1;
	default: return 0;
	}
}

static int icmp6_pair(uint16_t type, uint16_t *other)
{
	switch (type) {
	case 128: *other = 129; return 1; /* echo */
	case 129: *other = 128; return 1;
	case 133: *other = 134; return 1; /* router sol./adv. */
	case 134: *other = 133; return 1;
	case 135: *other = 136; return 1; /* neighbor sol./adv. */
	case 136: *other = 135; return 1;
	case 130: *other = 131; return 1; /* multicast listener */
	case 131: *other = 130; return 1;
	case 144: *other = 145; return 1; /* home agent discovery */
	case 145: *other = 144; return 1;
	case 146: *other = 147; return 1; /* mobile prefix */
	case 147: *other = 146; return 1;
	case 139: *other = 140; return 1; /* node information */
	case 140: *other = 139; return 1;
	default: return 0;
	}
}

static void base64(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

char *communityid_v1(uint16_t seed, uint8_t family, const uint8_t *saddr,
		     const uint8_t *daddr, uint8_t ipproto, int has_ports,
		     uint16_t sport, uint16_t dport, int b64, char *out,
		     size_t outlen)
{
	size_t alen = family == 6 ? 16 : 4;
	const uint8_t *a1 = saddr, *a2 = daddr;
	uint16_t p1 = sport, p2 = dport;
	int one_way = 0;
	uint8_t digest[SHA1_DIGEST_SIZE], m[SHA1_BLOCK_SIZE];
	uint32_t st[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
			   0xc3d2e1f0 };
	size_t n = 0;
	char tmp[64];
	int cmp;

	if (has_ports && (ipproto == 1 || ipproto == 58)) {
		uint16_t other;
		int paired = ipproto == 1 ? icmp4_pair(sport, &other)
					  : icmp6_pair(sport, &other);
		/* type and code become the "ports": the type, and the type of
		 * the matching other direction; no pair: one-way */
		if (paired)
			p2 = other;
		else
			one_way = 1;
	}
	/* order the endpoints: the smaller address (then port) first */
	cmp = memcmp(a1, a2, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && has_ports && p1 > p2))) {
		const uint8_t *ta = a1;
		uint16_t tp = p1;

		a1 = a2;
		a2 = ta;
		p1 = p2;
		p2 = tp;
	}
	/* seed, both addresses, protocol, a zero byte, both ports: at most
	 * 40 bytes, so the message and SHA-1's padding fill one block, hashed
	 * with one call of the compression function (FIPS 180-4 5.1.1) */
	m[n++] = (uint8_t)(seed >> 8);
	m[n++] = (uint8_t)seed;
	memcpy(m + n, a1, alen);
	n += alen;
	memcpy(m + n, a2, alen);
	n += alen;
	m[n++] = ipproto;
	m[n++] = 0;
	if (has_ports) {
		m[n++] = (uint8_t)(p1 >> 8);
		m[n++] = (uint8_t)p1;
		m[n++] = (uint8_t)(p2 >> 8);
		m[n++] = (uint8_t)p2;
	}
	memset(m + n, 0, sizeof(m) - n);
	m[n] = 0x80;
	m[sizeof(m) - 2] = (uint8_t)((n * 8) >> 8);
	m[sizeof(m) - 1] = (uint8_t)(n * 8);
	nettle_sha1_compress(st, m);
	for (size_t i = 0; i < 5; i++) {
		digest[4 * i] = (uint8_t)(st[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(st[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(st[i] >> 8);
		digest[4 * i + 3] = (uint8_t)st[i];
	}
	if (b64 && outlen >= COMMUNITYID_LEN) {
		/* the common case, straight into out: 2 + 28 + NUL */
		out[0] = '1';
		out[1] = ':';
		base64(digest, sizeof(digest), out + 2);
		return out;
	}
	if (b64) {
		base64(digest, sizeof(digest), tmp);
	} else {
		static const char hex[] = "0123456789abcdef";

		for (size_t i = 0; i < sizeof(digest); i++) {
			tmp[2 * i] = hex[digest[i] >> 4];
			tmp[2 * i + 1] = hex[digest[i] & 15];
		}
		tmp[2 * sizeof(digest)] = '\0';
	}
	/* "1:" and the text, cut to outlen like snprintf would */
	n = strlen(tmp) + 2;
	if (outlen == 0)
		return out;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, "1:", n < 2 ? n : 2);
	if (n > 2)
		memcpy(out + 2, tmp, n - 2);
	out[n] = '\0';
	return out;
}

const char *communityid_packet(const struct packet *p, char *out,
			       size_t outlen)
{
	uint16_t sport = p->sport, dport = p->dport;
	int ports = p->has_ports;

	if (p->family != 4 && p->family != 6)
		return NULL;
	if (p->status != PACKET_OK && !p->has_ports &&
	    p->proto == PROTO_NON_IP)
		return NULL;
	if (p->status == PACKET_OK &&
	    (p->proto == PROTO_ICMP || p->proto == PROTO_ICMP6)) {
		uint8_t code = 0;

		if (packet_get_u8(p->data, p->caplen, (size_t)p->l4_off + 1,
				  &code) == 0) {
			sport = p->icmp_type;
			dport = code;
			ports = 1;
		}
	}
	if (p->status != PACKET_OK)
		ports = 0;
	return communityid_v1(0, p->family, p->src, p->dst, p->ipproto,
			      ports && p->status == PACKET_OK, sport, dport, 1,
			      out, outlen);
}
