/* policy: see policy.h. */
#include "policy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct policy_ref {
	struct ruleset *rs;
	unsigned refs; /* atomic */
};

static pthread_mutex_t policy_mu = PTHREAD_MUTEX_INITIALIZER;
static struct policy_ref *current;
static uint64_t generation; /* atomic */

static struct policy_ref *ref_new(struct ruleset *rs)
{
	struct policy_ref *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->rs = rs;
	r->refs = 1; /* the global slot's reference */
	return r;
}

int policy_init(struct ruleset *rs)
{
	return policy_swap(rs);
}

int policy_swap(struct ruleset *rs)
{
	struct policy_ref *r = ref_new(rs), *old;

	if (!r) {
		ruleset_free(rs);
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&policy_mu);
	old = current;
	current = r;
	__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&policy_mu);
	if (old)
		policy_release(old);
	return 0;
}

void policy_shutdown(void)
{
	struct policy_ref *old;

	pthread_mutex_lock(&policy_mu);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&policy_mu);
	if (old)
		policy_release(old);
}

uint64_t policy_generation(void)
{
	return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

struct policy_ref *policy_acquire(uint64_t *gen)
{
	struct policy_ref *r;

	pthread_mutex_lock(&policy_mu);
	r = current;
	if (r)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	*gen = __atomic_load_n(&generation, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&policy_mu);
	return r;
}

void policy_release(struct policy_ref *r)
{
	if (!r)
		return;
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		ruleset_free(r->rs);
		free(r);
	}
}

const struct ruleset *policy_ruleset(const struct policy_ref *r)
{
	return r->rs;
}
