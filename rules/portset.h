/*
 * portset: the ports whose flows can change what an alerts-only output
 * shows.  Under a policy, a connection attempt is an alert when it goes
 * to the guarded dynamic range (`unexpected`) or when a logging rule (or
 * a logging `default`) decides it.  A flow with neither port in the set
 * this module derives can never give an alert, so a front end that shows
 * nothing but alerts need not track it.  No I/O.
 */
#ifndef PORTCLASS_PORTSET_H
#define PORTCLASS_PORTSET_H

#include <stdint.h>

#include "packet.h"
#include "ruleset.h"

struct portset;

/*
 * The ports that can make a packet an alert under rs: the guarded
 * dynamic range, and every destination port (or, for a rule with source
 * ports only, source port) of a rule that logs.  Every port when `default`
 * logs, or a logging rule names no port (addresses or a filter only).
 * Rules that do not log, `expect` rules and `invalid` add nothing: they
 * never make an attempt an alert.  NULL with errno ENOMEM.
 */
struct portset *portset_alerts(const struct ruleset *rs);
void portset_free(struct portset *ps);

/* 1 when every port is in the set (nothing can be left out). */
int portset_is_all(const struct portset *ps);

/* 1 when port is in the set. */
int portset_has(const struct portset *ps, uint16_t port);

/*
 * 1 when p's flow may matter: p has no ports, or is not PACKET_OK (those
 * never reach a flow table), or either of its ports is in the set.  The
 * same answer for both directions of a flow.
 */
int portset_flow(const struct portset *ps, const struct packet *p);

#endif
