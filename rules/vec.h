/*
 * vec: the growing arrays of the engine's compiled forms (rules, expect
 * rules, prefixes, index lists).  Internal to the engine.
 */
#ifndef PORTCLASS_VEC_H
#define PORTCLASS_VEC_H

#include <stddef.h>

/*
 * Makes the array at *pp (of *cap elements of elsz bytes) hold at least
 * need elements, doubling from 8.  Returns 0, or -1 with errno ENOMEM
 * (the array and *cap untouched).  pp is the address of the array
 * pointer (a T **, passed as void *).
 */
int vec_grow(void *pp, size_t *cap, size_t need, size_t elsz);

#endif
