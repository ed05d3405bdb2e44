/*
 * seen: the listeners a capture shows, i.e. every host:port in the guarded
 * dynamic range that answered a connection attempt (a SYN/ACK, a UDP
 * reply).  A hash set keyed by protocol, address and port; it is touched
 * once per answered attempt, not per packet.
 */
#ifndef PORTCLASS_REPLAY_SEEN_H
#define PORTCLASS_REPLAY_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct seen_entry {
	uint8_t proto;	/* enum packet_proto */
	uint8_t family;	/* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
	uint8_t local;		/* 1: a protected host (or no `local` given) */
	uint64_t first_ns;	/* first answer in capture time */
	uint64_t answers;	/* answered attempts */
	uint64_t expected;	/* of which an `expect` covers */
	uint64_t undetermined;	/* of which only an owner-bound expect could */
	const char *expect_file; /* the first covering expect, or NULL */
	unsigned expect_line;
	/* the socket's owner from a listener snapshot, if any */
	int32_t pid;		/* -1 unknown */
	char program[64];	/* "" unknown */
	char user[64];
};

struct seen_set;

/* NULL with errno ENOMEM. */
struct seen_set *seen_new(void);
void seen_free(struct seen_set *s);

/*
 * The entry for proto/family/addr/port, created (zeroed but for the key)
 * on first use.  NULL with errno ENOMEM.
 */
struct seen_entry *seen_get(struct seen_set *s, uint8_t proto, uint8_t family,
			    const uint8_t addr[16], uint16_t port);

size_t seen_count(const struct seen_set *s);

/*
 * Every entry, sorted by protocol, family, address, port, in an array
 * the caller frees (NULL when empty or out of memory; *n gets the count).
 */
struct seen_entry **seen_sorted(struct seen_set *s, size_t *n);

/* How the policy saw a listener from its answered attempts: "expected"
 * (all expected), "undetermined" (all undetermined), "unexpected" (none
 * either), else "mixed". */
const char *seen_policy_name(uint64_t answers, uint64_t expected,
			     uint64_t undetermined);

#endif
