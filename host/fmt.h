/*
 * fmt: numbers, addresses and timestamps written as text straight into a
 * caller's buffer, for writers of one line per packet (event.c).  No
 * printf family, no locale, no allocation; each function writes at o and
 * returns the end of what it wrote (no NUL).  The text is exactly what
 * the libc routines named below would write, so output does not change
 * with the path that wrote it.
 */
#ifndef PORTCLASS_FMT_H
#define PORTCLASS_FMT_H

#include <stdint.h>

/* Room each writer needs at most. */
#define FMT_U64_MAX 20	/* "18446744073709551615" */
#define FMT_IPV4_MAX 15	/* "255.255.255.255" */
#define FMT_IPV6_MAX 45	/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
#define FMT_TS_LEN 27	/* "2026-11-27T13:00:00.123456Z" */

/* v in decimal, as printf("%" PRIu64) writes it. */
char *fmt_u64(char *o, uint64_t v);

/* The dotted quad of a (4 bytes), as inet_ntop(AF_INET) writes it. */
char *fmt_ipv4(char *o, const uint8_t a[4]);

/*
 * The text of the IPv6 address a (16 bytes), as glibc's inet_ntop
 * (AF_INET6) writes it: lowercase hex groups without leading zeros, the
 * first longest run of two or more zero groups as "::", and the
 * IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms with
 * a dotted tail.
 */
char *fmt_ipv6(char *o, const uint8_t a[16]);

/*
 * The calendar part of the last second formatted.  Consecutive packets
 * mostly fall in the same second, so the date and time are worked out
 * once per second and only the fraction per call.  A plain value: one per
 * writer (or per thread); fmt_ts_init before the first use.
 */
struct fmt_ts {
	uint64_t sec;
	int valid;
	char day[19];	/* "YYYY-MM-DDTHH:MM:SS" */
};

void fmt_ts_init(struct fmt_ts *c);

/*
 * The RFC 3339 UTC time of ns nanoseconds since the epoch with
 * microseconds (the fraction truncated), "YYYY-MM-DDTHH:MM:SS.uuuuuuZ",
 * as gmtime and strftime("%Y-%m-%dT%H:%M:%S") give it: FMT_TS_LEN bytes
 * (every uint64_t falls before the year 2555).  Uses and updates c.
 */
char *fmt_ts(struct fmt_ts *c, char *o, uint64_t ns);

#endif
