/* rule: see rule.h. */
#include "rule.h"

#include <stdlib.h>
#include <string.h>

static void endpoint_free(struct endpoint *e)
{
	free(e->addrs);
	free(e->ports);
	memset(e, 0, sizeof(*e));
}

void rule_free(struct rule *r)
{
	endpoint_free(&r->src);
	endpoint_free(&r->dst);
	if (r->has_filter)
		pcap_freecode(&r->prog);
	r->has_filter = 0;
}

void rule_expect_free(struct expect_rule *x)
{
	endpoint_free(&x->src);
	endpoint_free(&x->dst);
	free(x->program);
	free(x->user);
	x->program = x->user = NULL;
}

static int range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)x->hi - (int)y->hi;
}

/* A rule so contributes one add and one remove event per maximal run of
 * ports to the index (rindex.c). */
void rule_ports_normalize(struct endpoint *e)
{
	uint32_t i, o = 0;

	if (e->nports < 2)
		return;
	qsort(e->ports, e->nports, sizeof(e->ports[0]), range_cmp);
	for (i = 1; i < e->nports; i++) {
		struct port_range *last = &e->ports[o];

		if ((uint32_t)e->ports[i].lo <= (uint32_t)last->hi + 1) {
			if (e->ports[i].hi > last->hi)
				last->hi = e->ports[i].hi;
		} else {
			e->ports[++o] = e->ports[i];
		}
	}
	e->nports = o + 1;
}
