/*
 * range: port ranges, the OS ephemeral-range profiles, and the host's
 * ip_local_port_range / ip_local_reserved_ports.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"
#include "num.h"

/* Defaults as shipped by each OS (sysctl net.ipv4.ip_local_port_range,
 * netsh int ipv4 show dynamicport, net.inet.ip.portrange.first/last,
 * tcp_smallest_anon_port). */
static const struct range_profile profiles[] = {
	{ "iana", "IANA dynamic/private ports (RFC 6335)", { 49152, 65535 } },
	{ "linux", "Linux default ip_local_port_range", { 32768, 60999 } },
	{ "windows", "Windows Vista and later", { 49152, 65535 } },
	{ "freebsd", "FreeBSD default portrange", { 10000, 65535 } },
	{ "macos", "macOS default portrange", { 49152, 65535 } },
	{ "solaris", "Solaris / illumos anonymous ports", { 32768, 65535 } },
};

const struct range_profile *range_profiles(size_t *count)
{
	if (count)
		*count = sizeof(profiles) / sizeof(profiles[0]);
	return profiles;
}

int range_profile_lookup(const char *name, struct port_range *out)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (strcmp(name, profiles[i].name) == 0) {
			*out = profiles[i].range;
			return 0;
		}
	}
	return -1;
}

/* How much of the rest of the input to quote in a message: up to the end
 * of the line or list item, and never a whole file. */
static int token_len(const char *s)
{
	size_t n = strcspn(s, "\n,");

	if (n == 0 && *s)
		n = 1;
	return n > 32 ? 32 : (int)n;
}

/*
 * One port number at *sp: decimal digits only (strtoul alone would accept
 * "+5", " 5" and "-1").  Advances *sp past the digits.
 */
static int parse_port(const char **sp, uint16_t *out, char *err,
		      size_t errlen)
{
	const char *s = *sp, *end = s;
	uint64_t v;

	if (num_parse_prefix(&end, 0, 65535, &v) == 0) {
		*out = (uint16_t)v;
		*sp = end;
		return 0;
	}
	if (errno == ERANGE)
		snprintf(err, errlen, "port %.*s out of range (0-65535)",
			 (int)(end - s), s);
	else if (*s)
		snprintf(err, errlen, "invalid port '%.*s'", token_len(s), s);
	else
		snprintf(err, errlen, "missing port number");
	return -1;
}

/* Parses "N" or "N-M" at *sp, stopping at the first character that cannot
 * continue it; the callers decide what may follow. */
static int parse_range_at(const char **sp, struct port_range *out, char *err,
			  size_t errlen)
{
	const char *s = *sp;
	uint16_t lo, hi;

	if (parse_port(&s, &lo, err, errlen) < 0)
		return -1;
	hi = lo;
	if (*s == '-') {
		s++;
		if (parse_port(&s, &hi, err, errlen) < 0)
			return -1;
		if (lo > hi) {
			snprintf(err, errlen,
				 "range %u-%u: low end above high end",
				 (unsigned)lo, (unsigned)hi);
			return -1;
		}
	}
	out->lo = lo;
	out->hi = hi;
	*sp = s;
	return 0;
}

int range_parse(const char *s, struct port_range *out, char *err,
		size_t errlen)
{
	struct port_range r;

	if (!s) {
		snprintf(err, errlen, "missing port number");
		return -1;
	}
	if (parse_range_at(&s, &r, err, errlen) < 0)
		return -1;
	if (*s) {
		snprintf(err, errlen, "unexpected '%.*s' after port",
			 token_len(s), s);
		return -1;
	}
	*out = r;
	return 0;
}

/* Reads a small /proc file into buf (NUL-terminated). */
static int read_proc(const char *procroot, const char *rel, char *buf,
		     size_t buflen, char *err, size_t errlen)
{
	char path[4096];
	FILE *f;
	size_t n;
	int saved;

	if (!procroot)
		procroot = "/proc";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", procroot, rel) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", procroot, rel);
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	n = fread(buf, 1, buflen - 1, f);
	if (ferror(f)) {
		saved = errno ? errno : EIO;
		fclose(f);
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (n == buflen - 1 && fgetc(f) != EOF) {
		fclose(f);
		snprintf(err, errlen, "%s: file too long", path);
		errno = EINVAL;
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	return 0;
}

int range_host(const char *procroot, struct port_range *out, char *err,
	       size_t errlen)
{
	static const char rel[] = "sys/net/ipv4/ip_local_port_range";
	char buf[128];
	const char *s = buf;
	uint16_t lo, hi;
	char msg[96];

	if (read_proc(procroot, rel, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	/* The kernel prints "lo\thi\n"; accept any whitespace around. */
	while (isspace((unsigned char)*s))
		s++;
	if (parse_port(&s, &lo, msg, sizeof(msg)) < 0)
		goto bad;
	if (!isspace((unsigned char)*s)) {
		snprintf(msg, sizeof(msg), "expected two port numbers");
		goto bad;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (parse_port(&s, &hi, msg, sizeof(msg)) < 0)
		goto bad;
	while (isspace((unsigned char)*s))
		s++;
	if (*s) {
		snprintf(msg, sizeof(msg), "expected two port numbers");
		goto bad;
	}
	if (lo > hi) {
		snprintf(msg, sizeof(msg), "range %u-%u: low end above high end",
			 (unsigned)lo, (unsigned)hi);
		goto bad;
	}
	out->lo = lo;
	out->hi = hi;
	return 0;
bad:
	snprintf(err, errlen, "%s/%s: %s", procroot ? procroot : "/proc", rel,
		 msg);
	errno = EINVAL;
	return -1;
}

void port_set_add_range(struct port_set *s, uint16_t lo, uint16_t hi)
{
	for (uint32_t p = lo; p <= hi; p++)
		s->bits[p >> 6] |= (uint64_t)1 << (p & 63);
}

int range_parse_list(const char *s, struct port_set *out, char *err,
		     size_t errlen)
{
	struct port_set set;

	memset(&set, 0, sizeof(set));
	if (!s)
		s = "";
	/* The kernel prints the list followed by a newline. */
	while (isspace((unsigned char)*s))
		s++;
	while (*s) {
		struct port_range r;

		if (parse_range_at(&s, &r, err, errlen) < 0)
			return -1;
		port_set_add_range(&set, r.lo, r.hi);
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ',') {
			s++;
			while (isspace((unsigned char)*s))
				s++;
			if (!*s) {
				snprintf(err, errlen, "missing port after ','");
				return -1;
			}
		} else if (*s) {
			snprintf(err, errlen, "unexpected '%.*s' in port list",
				 token_len(s), s);
			return -1;
		}
	}
	*out = set;
	return 0;
}

int range_host_reserved(const char *procroot, struct port_set *out, char *err,
			size_t errlen)
{
	static const char rel[] = "sys/net/ipv4/ip_local_reserved_ports";
	/* At most 65536 ports as "N," is far less than this in practice as
	 * the kernel prints ranges, but a worst case of isolated ports is
	 * 32768 * 6 bytes. */
	static const size_t cap = 65536 * 7;
	char *buf;
	char msg[160];

	buf = malloc(cap);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (read_proc(procroot, rel, buf, cap, err, errlen) < 0) {
		free(buf);
		return -1;
	}
	if (range_parse_list(buf, out, msg, sizeof(msg)) < 0) {
		free(buf);
		snprintf(err, errlen, "%s/%s: %s",
			 procroot ? procroot : "/proc", rel, msg);
		errno = EINVAL;
		return -1;
	}
	free(buf);
	return 0;
}
