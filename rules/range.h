/*
 * range: port ranges, the OS ephemeral-range profiles, and the host's own
 * ip_local_port_range / ip_local_reserved_ports.
 */
#ifndef PORTCLASS_RANGE_H
#define PORTCLASS_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct port_range {
	uint16_t lo, hi; /* inclusive, lo <= hi */
};

static inline int range_contains(const struct port_range *r, uint16_t port)
{
	return port >= r->lo && port <= r->hi;
}

/* A named OS profile and its ephemeral range. */
struct range_profile {
	const char *name;	 /* "iana", "linux", ... */
	const char *description; /* "Linux default", ... */
	struct port_range range;
};

/*
 * The fixed profiles (iana, linux, windows, freebsd, macos, solaris), in a
 * stable order; *count receives how many.  "host" is not among them: it is
 * read from the running system with range_host().
 */
const struct range_profile *range_profiles(size_t *count);

/* Looks up a fixed profile by name.  Returns 0, or -1 if unknown. */
int range_profile_lookup(const char *name, struct port_range *out);

/*
 * Parses "N" or "N-M" (decimal, 0-65535, N <= M; "N" collapses to N-N).
 * Returns 0, or -1 with a message in err ("port 70000 out of range
 * (0-65535)", "range 9-3: low end above high end").
 */
int range_parse(const char *s, struct port_range *out, char *err,
		size_t errlen);

/*
 * Reads <procroot>/sys/net/ipv4/ip_local_port_range ("32768\t60999").
 * procroot is normally "/proc"; tests point it elsewhere.  Returns 0, or -1
 * with errno-style text in err.
 */
int range_host(const char *procroot, struct port_range *out, char *err,
	       size_t errlen);

/* A set of ports as a 65536-bit bitmap. */
struct port_set {
	uint64_t bits[65536 / 64];
};

static inline int port_set_has(const struct port_set *s, uint16_t port)
{
	return (int)((s->bits[port >> 6] >> (port & 63)) & 1);
}

void port_set_add_range(struct port_set *s, uint16_t lo, uint16_t hi);

/*
 * Parses a comma-separated list of ports and ranges ("8080,50000-50010"),
 * as in ip_local_reserved_ports; the empty string is the empty set.
 * Returns 0, or -1 with a message in err.
 */
int range_parse_list(const char *s, struct port_set *out, char *err,
		     size_t errlen);

/* Reads <procroot>/sys/net/ipv4/ip_local_reserved_ports into out. */
int range_host_reserved(const char *procroot, struct port_set *out, char *err,
			size_t errlen);

#endif
