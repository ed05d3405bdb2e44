/* fmt: see fmt.h. */
#include "fmt.h"

#include <string.h>

/* "00" "01" ... "99": two digits per division. */
static const char pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *fmt_u64(char *o, uint64_t v)
{
	char b[FMT_U64_MAX], *e = b + sizeof(b), *p = e;
	size_t n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(e - p);
	memcpy(o, p, n);
	return o + n;
}

/* One byte of a dotted quad: 1 to 3 digits. */
static inline char *octet(char *o, unsigned v)
{
	if (v >= 100) {
		*o++ = (char)('0' + v / 100);
		memcpy(o, pairs + 2 * (v % 100), 2);
		return o + 2;
	}
	if (v >= 10) {
		memcpy(o, pairs + 2 * v, 2);
		return o + 2;
	}
	*o++ = (char)('0' + v);
	return o;
}

char *fmt_ipv4(char *o, const uint8_t a[4])
{
	o = octet(o, a[0]);
	*o++ = '.';
	o = octet(o, a[1]);
	*o++ = '.';
	o = octet(o, a[2]);
	*o++ = '.';
	return octet(o, a[3]);
}

/* One group in lowercase hex without leading zeros ("%x"). */
static inline char *group(char *o, unsigned v)
{
	static const char hex[] = "0123456789abcdef";

	if (v >= 0x1000)
		*o++ = hex[v >> 12];
	if (v >= 0x100)
		*o++ = hex[(v >> 8) & 15];
	if (v >= 0x10)
		*o++ = hex[(v >> 4) & 15];
	*o++ = hex[v & 15];
	return o;
}

char *fmt_ipv6(char *o, const uint8_t a[16])
{
	unsigned w[8];
	int best = -1, bestlen = 0, cur = -1, curlen = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the first longest run of zero groups; "::" only for two or more */
	for (int i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0) {
				cur = i;
				curlen = 1;
			} else {
				curlen++;
			}
			if (curlen > bestlen) {
				best = cur;
				bestlen = curlen;
			}
		} else {
			cur = -1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + bestlen) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d, the forms glibc writes dotted */
		if (i == 6 && best == 0 &&
		    (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff)))
			return fmt_ipv4(o, a + 12);
		o = group(o, w[i]);
	}
	if (best >= 0 && best + bestlen == 8)
		*o++ = ':';
	return o;
}

void fmt_ts_init(struct fmt_ts *c)
{
	memset(c, 0, sizeof(*c));
}

/*
 * The civil date of a day count since 1970-01-01 in the proleptic
 * Gregorian calendar (as gmtime uses), by 400-year eras: H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil's
 * inverse, for days >= 0 only.
 */
static void civil(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)(era * 400 + yoe) + (*m <= 2);
}

static void day_text(char day[19], uint64_t sec)
{
	uint64_t days = sec / 86400;
	unsigned s = (unsigned)(sec % 86400), y, m, d;

	civil(days, &y, &m, &d);
	memcpy(day, pairs + 2 * (y / 100), 2);
	memcpy(day + 2, pairs + 2 * (y % 100), 2);
	day[4] = '-';
	memcpy(day + 5, pairs + 2 * m, 2);
	day[7] = '-';
	memcpy(day + 8, pairs + 2 * d, 2);
	day[10] = 'T';
	memcpy(day + 11, pairs + 2 * (s / 3600), 2);
	day[13] = ':';
	memcpy(day + 14, pairs + 2 * (s / 60 % 60), 2);
	day[16] = ':';
	memcpy(day + 17, pairs + 2 * (s % 60), 2);
}

char *fmt_ts(struct fmt_ts *c, char *o, uint64_t ns)
{
	uint64_t sec = ns / 1000000000u;
	unsigned us = (unsigned)(ns % 1000000000u / 1000u);

	if (!c->valid || c->sec != sec) {
		if (c->valid && sec == c->sec + 1 && c->day[18] != '9') {
			/* the next second, no carry: one digit */
			c->day[18]++;
		} else {
			day_text(c->day, sec);
		}
		c->sec = sec;
		c->valid = 1;
	}
	memcpy(o, c->day, sizeof(c->day));
	o += sizeof(c->day);
	*o++ = '.';
	memcpy(o, pairs + 2 * (us / 10000), 2);
	memcpy(o + 2, pairs + 2 * (us / 100 % 100), 2);
	memcpy(o + 4, pairs + 2 * (us % 100), 2);
	o[6] = 'Z';
	return o + 7;
}
