/*
 * policy: the ruleset the queue threads share, swapped atomically on
 * reload.  A small RCU-like scheme: the current ruleset sits in a
 * reference-counted holder; a reload installs a new holder and bumps a
 * generation number.  Each thread checks the generation (one relaxed
 * atomic load) once per batch of packets and, when it changed, takes a
 * reference on the new holder and drops the old one.  The last reference
 * frees the old ruleset, so a thread in the middle of a decision never
 * sees it freed.
 */
#ifndef PORTCLASS_POLICY_H
#define PORTCLASS_POLICY_H

#include <stdint.h>

#include "ruleset.h"

struct policy_ref;

/* Installs the first ruleset (takes ownership).  Returns 0 or -1 ENOMEM. */
int policy_init(struct ruleset *rs);

/* Replaces the ruleset (takes ownership); the old one is freed once no
 * thread holds it.  Returns 0 or -1 ENOMEM (then rs was freed and the old
 * ruleset stays). */
int policy_swap(struct ruleset *rs);

/* Drops the global reference (at exit). */
void policy_shutdown(void);

/* Bumped by every swap. */
uint64_t policy_generation(void);

/* A reference on the current ruleset, and its generation in *gen. */
struct policy_ref *policy_acquire(uint64_t *gen);
void policy_release(struct policy_ref *r);
const struct ruleset *policy_ruleset(const struct policy_ref *r);

#endif
