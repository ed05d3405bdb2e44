/* vec: see vec.h. */
#include "vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int vec_grow(void *pp, size_t *cap, size_t need, size_t elsz)
{
	void **p = pp;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elsz) {
			errno = ENOMEM;
			return -1;
		}
		ncap *= 2;
	}
	np = realloc(*p, ncap * elsz);
	if (!np) {
		errno = ENOMEM;
		return -1;
	}
	*p = np;
	*cap = ncap;
	return 0;
}
