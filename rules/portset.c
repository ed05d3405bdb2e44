/*
 * portset: a 65536-bit map, one bit per port, derived once from the
 * policy's public views (ruleset.h), so that the per-packet question is
 * two loads.
 */
#include <errno.h>
#include <stdlib.h>

#include "portset.h"

#define WORDS (65536 / 64)

struct portset {
	uint64_t bits[WORDS];
	int all;
};

static void add_range(struct portset *ps, struct port_range r)
{
	for (uint32_t p = r.lo; p <= r.hi; p++)
		ps->bits[p >> 6] |= (uint64_t)1 << (p & 63);
}

static void add_all(struct portset *ps)
{
	add_range(ps, (struct port_range){ 0, 65535 });
	ps->all = 1;
}

struct portset *portset_alerts(const struct ruleset *rs)
{
	const struct ruleset_summary *sum = ruleset_summary(rs);
	struct portset *ps = calloc(1, sizeof(*ps));
	size_t n = ruleset_rule_count(rs);

	if (!ps) {
		errno = ENOMEM;
		return NULL;
	}
	/* `unexpected` alerts whether or not it logs */
	add_range(ps, sum->dyn);
	if (sum->def_log) {
		/* `default ... log`: any attempt no rule decides */
		add_all(ps);
		return ps;
	}
	for (size_t i = 0; i < n && !ps->all; i++) {
		struct ruleset_view v;

		if (ruleset_rule_view(rs, i, &v) < 0 || !v.log)
			continue;
		if (v.dst.nports) {
			/* a match needs its destination port among these */
			for (size_t j = 0; j < v.dst.nports; j++)
				add_range(ps, v.dst.ports[j]);
		} else if (v.src.nports) {
			for (size_t j = 0; j < v.src.nports; j++)
				add_range(ps, v.src.ports[j]);
		} else {
			add_all(ps);
		}
	}
	return ps;
}

void portset_free(struct portset *ps)
{
	free(ps);
}

int portset_is_all(const struct portset *ps)
{
	return ps->all;
}

int portset_has(const struct portset *ps, uint16_t port)
{
	return (int)(ps->bits[port >> 6] >> (port & 63) & 1);
}

int portset_flow(const struct portset *ps, const struct packet *p)
{
	if (p->status != PACKET_OK || !p->has_ports)
		return 1;
	return portset_has(ps, p->sport) || portset_has(ps, p->dport);
}
