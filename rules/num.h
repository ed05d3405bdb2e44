/*
 * num: the one bounded number parser (OpenBSD strtonum's contract, for
 * unsigned values): digits only - no sign, no space, no empty string - and
 * a range check, so that "+5", " 5", "-1", "5x" and 70000 for a port are
 * all errors, told apart as "not a number" and "out of range".  Used by
 * the rules language and by every front end's command line.
 */
#ifndef PORTCLASS_NUM_H
#define PORTCLASS_NUM_H

#include <stdint.h>

/* flags */
#define NUM_HEX 0x1	/* "0x..." is hexadecimal (decimal otherwise) */

/*
 * The number that is the whole of s, in [lo, hi].  Decimal, or with
 * NUM_HEX also 0x/0X-prefixed hexadecimal; a leading 0 is never octal.
 * Returns 0 with *out set, or -1 with errno EINVAL (empty, a character
 * that is not a digit, a sign, space) or ERANGE (outside [lo, hi], or past
 * what 64 bits hold); *out is untouched then.
 */
int num_parse(const char *s, uint64_t lo, uint64_t hi, unsigned flags,
	      uint64_t *out);

/*
 * The same for the digits at the start of *sp (decimal only), which must
 * begin with a digit; *sp is moved past them on success (what follows is
 * the caller's to judge).  Also -1 EINVAL / ERANGE.  On ERANGE *sp is
 * moved past the digits too, so that the caller can quote them.
 */
int num_parse_prefix(const char **sp, uint64_t lo, uint64_t hi,
		     uint64_t *out);

#endif
