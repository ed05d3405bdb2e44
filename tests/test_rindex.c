/*
 * Tests for rules/rindex.c and rules/addrindex.c: the compiled index finds
 * the same first matching rule as a plain scan of the rules in file order.
 *
 * - addrindex alone: random nested and overlapping prefixes of both
 *   families (/0 to /32 and /128, IPv4-mapped IPv6 among them); for random
 *   addresses near and on their edges, the chain of the node found holds
 *   exactly the entries whose prefix covers the address, the node is the
 *   longest such prefix, and first[] is the least code along the chain.
 * - ruleset_match against an oracle written here: random policies of
 *   addresses (lists mixing families, overlapping, /0, hosts), ports,
 *   ranges, source ports, protocols (any, one, a list, ICMP), `new`, so
 *   that rules land in every index (rindex_home), and many random packets
 *   of both families aimed at the prefixes' edges.  A candidate missed or
 *   tried out of order gives another line than the oracle.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"
#include "addrindex.h"
#include "packet.h"
#include "rindex.h"
#include "rule.h"
#include "ruleset.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* ---- addresses near a few bases ---------------------------------------- */

#define POOL 48

struct pool {
	uint8_t a[2][POOL][16]; /* [0] IPv4 (4 bytes used), [1] IPv6 */
};

/* Bases that nest and neighbour one another, and an IPv4-mapped IPv6
 * range, which an IPv4 rule must never match. */
static void pool_fill(struct pool *pl)
{
	static const char *const b4[] = { "10.0.0.0", "10.1.0.0",
					  "192.0.2.0", "255.255.255.255",
					  "0.0.0.0" };
	static const char *const b6[] = { "2001:db8::", "2001:db8:1::",
					  "::ffff:10.0.0.0", "::",
					  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	int fam, i, bits, bit;

	for (fam = 0; fam < 2; fam++) {
		bits = fam ? 128 : 32;
		for (i = 0; i < POOL; i++) {
			uint8_t *a = pl->a[fam][i];
			int flips = (int)(rnd() % 4);

			memset(a, 0, 16);
			assert_int_equal(
				inet_pton(fam ? AF_INET6 : AF_INET,
					  fam ? b6[rnd() % 5] : b4[rnd() % 5], a),
				1);
			while (flips--) { /* mostly low bits: deep nesting */
				bit = rnd() % 2 ? bits - 1 - (int)(rnd() % 12)
						: (int)(rnd() % (unsigned)bits);
				a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			}
		}
	}
}

static int rnd_len(int fam)
{
	static const int l4[] = { 0, 1, 7, 8, 15, 16, 23, 24, 25, 30, 31, 32 };
	static const int l6[] = { 0, 16, 32, 48, 64, 96, 104, 120, 127, 128 };

	if (rnd() % 4 == 0)
		return (int)(rnd() % (fam ? 129u : 33u));
	return fam ? l6[rnd() % 10] : l4[rnd() % 12];
}

static void mask(uint8_t *a, int len)
{
	int i;

	for (i = 0; i < 16; i++) {
		int b0 = i * 8;

		if (b0 >= len)
			a[i] = 0;
		else if (b0 + 8 > len)
			a[i] &= (uint8_t)(0xff << (8 - (len - b0)));
	}
}

static void rnd_prefix(const struct pool *pl, int fam,
		       struct addr_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = fam ? 6 : 4;
	out->len = (uint8_t)rnd_len(fam);
	memcpy(out->bytes, pl->a[fam][rnd() % POOL], fam ? 16 : 4);
	mask(out->bytes, out->len);
}

/* An address of the pool, one bit off now and then, or anywhere. */
static void rnd_addr(const struct pool *pl, int fam, uint8_t a[16])
{
	int bits = fam ? 128 : 32, i;

	memset(a, 0, 16);
	if (rnd() % 10 == 0) {
		for (i = 0; i < bits / 8; i++)
			a[i] = (uint8_t)rnd();
		return;
	}
	memcpy(a, pl->a[fam][rnd() % POOL], (size_t)bits / 8);
	if (rnd() % 3 == 0) {
		int bit = rnd() % 2 ? bits - 1 - (int)(rnd() % 12)
				    : (int)(rnd() % (unsigned)bits);

		a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
}

/* Written here rather than taken from addr.c: the oracle's own. */
static int covers(const struct addr_prefix *pf, int family,
		  const uint8_t a[16])
{
	int i;

	if (pf->family != family)
		return 0;
	for (i = 0; i < pf->len; i++)
		if (((pf->bytes[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

/* ---- addrindex alone ---------------------------------------------------- */

static void test_addrindex_chains(void **state)
{
	enum { NE = 300, NQ = 4000 };
	struct pool pl;
	struct addr_prefix *pf = calloc(NE, sizeof(*pf));
	struct addrindex_entry *e = calloc(NE, sizeof(*e));
	struct addrindex_entry *orig = calloc(NE, sizeof(*orig));
	int round, fam;

	(void)state;
	assert_non_null(pf);
	assert_non_null(e);
	assert_non_null(orig);
	for (round = 0; round < 8; round++) {
		for (fam = 0; fam < 2; fam++) {
			struct addrindex ax;
			size_t n = round == 0 ? 1 : round == 1 ? 2 : NE, i;
			int q;

			pool_fill(&pl);
			for (i = 0; i < n; i++) {
				rnd_prefix(&pl, fam, &pf[i]);
				/* some rules name several prefixes */
				orig[i] = (struct addrindex_entry){
					&pf[i],
					i && rnd() % 4 == 0 ? orig[i - 1].idx
							    : (uint32_t)i,
					1u << (rnd() % PROTO_COUNT),
					rnd() % 1000,
					{ 0, 0, 0, 0, 0, 0, 0, 0 }, 0
				};
				orig[i].protos |= rnd() % 3 ? 0 : 1u << PROTO_TCP;
			}
			memcpy(e, orig, n * sizeof(*e));
			memset(&ax, 0, sizeof(ax));
			assert_int_equal(addrindex_build(&ax, e, n), 0);
			for (q = 0; q < NQ; q++) {
				uint8_t a[16];
				uint32_t node, best = ADDRINDEX_NONE;
				int bestlen = -1, pr;
				uint8_t seen[NE] = { 0 }, want[NE] = { 0 };
				uint32_t first[PROTO_COUNT];

				rnd_addr(&pl, fam, a);
				for (pr = 0; pr < PROTO_COUNT; pr++)
					first[pr] = ADDRINDEX_NONE;
				for (i = 0; i < n; i++) {
					if (!covers(orig[i].pfx, fam ? 6 : 4, a))
						continue;
					want[orig[i].idx] = 1;
					if (orig[i].pfx->len > bestlen)
						bestlen = orig[i].pfx->len;
					for (pr = 0; pr < PROTO_COUNT; pr++)
						if ((orig[i].protos >> pr & 1) &&
						    orig[i].code < first[pr])
							first[pr] = orig[i].code;
				}
				node = addrindex_find(
					&ax, addrindex_key_of(fam ? 6 : 4, a));
				if (bestlen < 0) {
					assert_int_equal(node, ADDRINDEX_NONE);
					continue;
				}
				assert_int_not_equal(node, ADDRINDEX_NONE);
				best = node;
				for (pr = 0; pr < PROTO_COUNT; pr++)
					assert_int_equal(ax.nodes[best].first[pr],
							 first[pr]);
				for (; node != ADDRINDEX_NONE;
				     node = ax.nodes[node].parent) {
					const struct addrindex_node *nd =
						&ax.nodes[node];
					uint32_t k;

					assert_true(nd->n > 0);
					for (k = 0; k < nd->n; k++) {
						uint32_t v = ax.items[nd->off + k].idx;

						assert_true(want[v]);
						if (k)
							assert_true(
								v > ax.items[nd->off + k - 1].idx);
						seen[v] = 1;
					}
				}
				assert_memory_equal(seen, want, n);
				/* the node found is a longest covering one */
				for (i = 0; i < n; i++)
					if (covers(orig[i].pfx, fam ? 6 : 4, a) &&
					    orig[i].pfx->len == bestlen) {
						uint32_t k;
						int in = 0;

						for (k = 0; k < ax.nodes[best].n; k++)
							in |= ax.items[ax.nodes[best].off + k].idx ==
							      orig[i].idx;
						assert_true(in);
					}
			}
			addrindex_free(&ax);
		}
	}
	free(pf);
	free(e);
	free(orig);
}

/* ---- ruleset_match against the oracle ---------------------------------- */

struct orule {
	uint32_t protos; /* bits of enum packet_proto */
	const char *ptext;
	int ns, nd;	 /* addresses */
	struct addr_prefix src[3], dst[3];
	int nsp, ndp;	 /* port ranges */
	uint16_t splo[2], sphi[2], dplo[2], dphi[2];
	int is_new;
};

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < *cap - *len)
			break;
		*cap *= 2;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	*len += (size_t)n;
}

static void addrs_text(char **buf, size_t *len, size_t *cap,
		       const struct addr_prefix *a, int n)
{
	char s[64];
	int i;

	if (n > 1)
		append(buf, len, cap, "{ ");
	for (i = 0; i < n; i++) {
		addr_format(a[i].family, a[i].bytes, s, sizeof(s));
		append(buf, len, cap, "%s%s/%u", i ? ", " : "", s, a[i].len);
	}
	if (n > 1)
		append(buf, len, cap, " }");
}

static void ports_text(char **buf, size_t *len, size_t *cap,
		       const uint16_t *lo, const uint16_t *hi, int n)
{
	int i;

	append(buf, len, cap, " port ");
	if (n > 1)
		append(buf, len, cap, "{ ");
	for (i = 0; i < n; i++)
		append(buf, len, cap, "%s%u-%u", i ? ", " : "", lo[i], hi[i]);
	if (n > 1)
		append(buf, len, cap, " }");
}

static const uint16_t ports[] = { 0, 22, 53, 80, 443, 1024, 8080, 49152,
				  60000, 65535 };
#define NPORTS (sizeof(ports) / sizeof(ports[0]))

static void rnd_ports(uint16_t *lo, uint16_t *hi, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		lo[i] = ports[rnd() % NPORTS];
		hi[i] = rnd() % 2 ? lo[i] : ports[rnd() % NPORTS];
		if (hi[i] < lo[i]) {
			uint16_t t = lo[i];

			lo[i] = hi[i];
			hi[i] = t;
		}
	}
}

static uint16_t rnd_port(void)
{
	uint16_t p = ports[rnd() % NPORTS];

	if (rnd() % 4 == 0)
		p = (uint16_t)(p + (rnd() % 2 ? 1 : -1));
	return p;
}

/* The rule's text, and its model in o.  mix: how likely addresses are. */
static void rnd_rule(const struct pool *pl, struct orule *o, int mix,
		     char **buf, size_t *len, size_t *cap)
{
	static const struct {
		const char *t;
		uint32_t m;
	} pr[] = {
		{ "", 0 },
		{ " tcp", 1u << PROTO_TCP },
		{ " udp", 1u << PROTO_UDP },
		{ " { tcp, udp }", 1u << PROTO_TCP | 1u << PROTO_UDP },
		{ " icmp", 1u << PROTO_ICMP },
		{ " icmp6", 1u << PROTO_ICMP6 },
		{ " sctp", 1u << PROTO_SCTP },
	};
	int k = (int)(rnd() % 7), i, fs, fd;

	memset(o, 0, sizeof(*o));
	o->ns = rnd() % 10 < (unsigned)mix ? 1 + (int)(rnd() % 3) : 0;
	o->nd = rnd() % 10 < (unsigned)mix / 2 ? 1 + (int)(rnd() % 3) : 0;
	/* Lists mostly of one family, mixed now and then. */
	fs = (int)(rnd() % 2);
	fd = (int)(rnd() % 2);
	for (i = 0; i < o->ns; i++)
		rnd_prefix(pl, rnd() % 5 ? fs : !fs, &o->src[i]);
	for (i = 0; i < o->nd; i++)
		rnd_prefix(pl, rnd() % 5 ? fd : !fd, &o->dst[i]);
	if (k < 4 || k == 6) {
		o->ndp = rnd() % 3 ? (int)(rnd() % 3) : 0;
		o->nsp = rnd() % 4 == 0 ? 1 + (int)(rnd() % 2) : 0;
		rnd_ports(o->dplo, o->dphi, o->ndp);
		rnd_ports(o->splo, o->sphi, o->nsp);
	}
	if (!o->ns && !o->nd && !o->ndp && !o->nsp && k == 0)
		k = 1; /* a rule needs something to say */
	o->ptext = pr[k].t;
	o->protos = pr[k].m;
	if (!o->protos)
		o->protos = (o->ndp || o->nsp) ? PORT_PROTO_MASK
					       : ALL_PROTO_MASK;
	o->is_new = rnd() % 6 == 0;
	append(buf, len, cap, "pass%s", o->ptext);
	if (o->ns || o->nsp) {
		append(buf, len, cap, " from ");
		if (o->ns)
			addrs_text(buf, len, cap, o->src, o->ns);
		if (o->nsp)
			ports_text(buf, len, cap, o->splo, o->sphi, o->nsp);
	}
	if (o->nd || o->ndp) {
		append(buf, len, cap, " to ");
		if (o->nd)
			addrs_text(buf, len, cap, o->dst, o->nd);
		if (o->ndp)
			ports_text(buf, len, cap, o->dplo, o->dphi, o->ndp);
	}
	append(buf, len, cap, "%s\n", o->is_new ? " new" : "");
}

static int in_ports(const uint16_t *lo, const uint16_t *hi, int n,
		    uint16_t p)
{
	int i;

	for (i = 0; i < n; i++)
		if (p >= lo[i] && p <= hi[i])
			return 1;
	return 0;
}

static int in_addrs(const struct addr_prefix *a, int n, int family,
		    const uint8_t *x)
{
	int i;

	for (i = 0; i < n; i++)
		if (covers(&a[i], family, x))
			return 1;
	return 0;
}

static int oracle_ok(const struct orule *o, const struct packet *p,
		     int is_new)
{
	if (!(o->protos >> p->proto & 1))
		return 0;
	if (o->is_new && !is_new)
		return 0;
	if ((o->nsp || o->ndp) && !p->has_ports)
		return 0;
	if (o->nsp && !in_ports(o->splo, o->sphi, o->nsp, p->sport))
		return 0;
	if (o->ndp && !in_ports(o->dplo, o->dphi, o->ndp, p->dport))
		return 0;
	if (o->ns && !in_addrs(o->src, o->ns, p->family, p->src))
		return 0;
	if (o->nd && !in_addrs(o->dst, o->nd, p->family, p->dst))
		return 0;
	return 1;
}

struct pkt {
	uint8_t buf[96];
	struct packet p;
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A TCP SYN, UDP datagram, SCTP DATA chunk or ICMP echo. */
static void mk(struct pkt *k, int proto, int v6, const uint8_t *src,
	       uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	size_t ipl = v6 ? 40 : 20, l4, tot;
	uint8_t ipproto, *l;

	memset(k, 0, sizeof(*k));
	switch (proto) {
	case PROTO_TCP:
		l4 = 20, ipproto = 6;
		break;
	case PROTO_UDP:
		l4 = 8, ipproto = 17;
		break;
	case PROTO_SCTP:
		l4 = 16, ipproto = 132;
		break;
	default:
		l4 = 8, ipproto = v6 ? 58 : 1;
		break;
	}
	tot = ipl + l4;
	if (v6) {
		k->buf[0] = 0x60;
		put16(k->buf + 4, (uint16_t)l4);
		k->buf[6] = ipproto;
		k->buf[7] = 64;
		memcpy(k->buf + 8, src, 16);
		memcpy(k->buf + 24, dst, 16);
	} else {
		k->buf[0] = 0x45;
		put16(k->buf + 2, (uint16_t)tot);
		k->buf[8] = 64;
		k->buf[9] = ipproto;
		memcpy(k->buf + 12, src, 4);
		memcpy(k->buf + 16, dst, 4);
	}
	l = k->buf + ipl;
	switch (proto) {
	case PROTO_TCP:
		put16(l, sport);
		put16(l + 2, dport);
		l[12] = 0x50;
		l[13] = 0x02;
		put16(l + 14, 65535);
		break;
	case PROTO_UDP:
		put16(l, sport);
		put16(l + 2, dport);
		put16(l + 4, 8);
		break;
	case PROTO_SCTP:
		put16(l, sport);
		put16(l + 2, dport);
		put16(l + 14, 4);
		break;
	default:
		l[0] = v6 ? 128 : 8;
		break;
	}
	assert_int_equal(packet_parse(&k->p, k->buf, tot), 0);
}

static void first_error(void *ctx, const char *d)
{
	char *buf = ctx;

	if (!buf[0])
		snprintf(buf, 512, "%s", d);
}

static struct ruleset *parse_ok(const char *text)
{
	struct ruleset_opts o;
	char err[512] = "";
	int nerr = -1;
	struct ruleset *rs;

	memset(&o, 0, sizeof(o));
	o.report = first_error;
	o.ctx = err;
	rs = ruleset_parse_string("oracle.rules", text, &o, &nerr);
	if (!rs || nerr)
		fail_msg("policy refused (%d errors): %s", nerr, err);
	return rs;
}

static void test_match_oracle(void **state)
{
	enum { NR = 400, NP = 12000 };
	struct orule *r = calloc(NR, sizeof(*r));
	size_t len, cap = 1 << 16;
	char *text = malloc(cap);
	struct pool pl;
	int round, i, j;
	unsigned homes[3] = { 0, 0, 0 };

	(void)state;
	assert_non_null(r);
	assert_non_null(text);
	for (round = 0; round < 12; round++) {
		/* from port rules with a few addresses to address rules */
		int mix = round % 11, nr = round == 11 ? 3 : NR;
		struct ruleset *rs;

		pool_fill(&pl);
		len = 0;
		text[0] = '\0';
		for (i = 0; i < nr; i++)
			rnd_rule(&pl, &r[i], mix, &text, &len, &cap);
		rs = parse_ok(text);
		assert_int_equal(ruleset_rule_count(rs), (size_t)nr);
		for (i = 0; i < NP; i++) {
			static const int pp[] = { PROTO_TCP, PROTO_UDP,
						  PROTO_SCTP, PROTO_ICMP };
			int v6 = (int)(rnd() % 2), proto = pp[rnd() % 4];
			int is_new = (int)(rnd() % 2);
			uint8_t s[16], d[16];
			struct rule_ref ref;
			unsigned want = 0, got = 0;
			struct pkt k;

			rnd_addr(&pl, v6, s);
			rnd_addr(&pl, v6, d);
			mk(&k, proto, v6, s, rnd_port(), d, rnd_port());
			for (j = 0; j < nr; j++)
				if (oracle_ok(&r[j], &k.p, is_new)) {
					want = (unsigned)j + 1;
					break;
				}
			memset(&ref, 0, sizeof(ref));
			if (ruleset_match(rs, &k.p, is_new, 1, &ref))
				got = ref.line;
			if (got != want) {
				char a[64], b[64];

				fail_msg("round %d: %s %s %u -> %s %u new %d: "
					 "want line %u, got %u",
					 round, v6 ? "v6" : "v4",
					 addr_format(k.p.family, s, a, sizeof(a)),
					 k.p.sport,
					 addr_format(k.p.family, d, b, sizeof(b)),
					 k.p.dport, is_new, want, got);
			}
		}
		ruleset_free(rs);
		/* Where such rules are filed, through the rule records. */
		for (i = 0; i < nr; i++) {
			struct port_range sp[2], dp[2];
			struct rule x;

			for (j = 0; j < 2; j++) {
				sp[j] = (struct port_range){ r[i].splo[j],
							     r[i].sphi[j] };
				dp[j] = (struct port_range){ r[i].dplo[j],
							     r[i].dphi[j] };
			}
			memset(&x, 0, sizeof(x));
			x.src.ports = sp;
			x.dst.ports = dp;
			x.protos = r[i].protos;
			x.src.naddrs = (uint32_t)r[i].ns;
			x.src.addrs = r[i].src;
			x.dst.naddrs = (uint32_t)r[i].nd;
			x.dst.addrs = r[i].dst;
			x.src.nports = (uint32_t)r[i].nsp;
			x.dst.nports = (uint32_t)r[i].ndp;
			homes[rindex_home(&x)]++;
		}
	}
	/* The policies exercised every index. */
	assert_true(homes[RINDEX_BY_PORT] > 100);
	assert_true(homes[RINDEX_BY_SRC] > 100);
	assert_true(homes[RINDEX_BY_DST] > 100);
	free(r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addrindex_chains),
		cmocka_unit_test(test_match_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
