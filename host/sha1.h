/*
 * sha1: SHA-1 (FIPS 180-4), for the Community ID flow hash - which the
 * specification defines over SHA-1; not for anything that needs collision
 * resistance.  No library the programs already link provides it.
 */
#ifndef PORTCLASS_SHA1_H
#define PORTCLASS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t len);
/* Writes the 20-byte digest; s must be initialised again before reuse. */
void sha1_final(struct sha1 *s, uint8_t out[SHA1_LEN]);

#endif
