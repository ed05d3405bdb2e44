/* num: see num.h. */
#include "num.h"

#include <errno.h>

static int digit(char c, int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads digits of base at *sp; -1 EINVAL when there is none. */
static int read_digits(const char **sp, int base, uint64_t lo, uint64_t hi,
		       uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int d, overflow = 0;

	if (digit(*s, base) < 0) {
		errno = EINVAL;
		return -1;
	}
	while ((d = digit(*s, base)) >= 0) {
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			overflow = 1;
		else
			v = v * (uint64_t)base + (uint64_t)d;
		s++;
	}
	*sp = s;
	if (overflow || v < lo || v > hi) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int num_parse(const char *s, uint64_t lo, uint64_t hi, unsigned flags,
	      uint64_t *out)
{
	int base = 10;
	uint64_t v;

	if (!s) {
		errno = EINVAL;
		return -1;
	}
	if ((flags & NUM_HEX) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (read_digits(&s, base, lo, hi, &v) < 0) {
		/* "12x" is not a number, whatever its digits' value */
		if (errno == ERANGE) {
			while (digit(*s, base) >= 0)
				s++;
			if (*s)
				errno = EINVAL;
		}
		return -1;
	}
	if (*s) {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

int num_parse_prefix(const char **sp, uint64_t lo, uint64_t hi,
		     uint64_t *out)
{
	return read_digits(sp, 10, lo, hi, out);
}
