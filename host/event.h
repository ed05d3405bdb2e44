/*
 * event: the JSON fields that describe one packet and its decision.  The
 * replay tool's jsonl and the daemon's log lines both write them through
 * here, so the two always use the same names and formats.
 */
#ifndef PORTCLASS_EVENT_H
#define PORTCLASS_EVENT_H

#include <stdint.h>

#include "decision.h"
#include "jsonw.h"
#include "listener.h"
#include "packet.h"

/*
 * Writes, as members of the object being built: "proto", "src", "sport",
 * "sclass", "dst", "dport", "dclass", "community_id" (Community ID v1 of
 * the flow, null for non-IP), "new", "dir", "verdict", "log",
 * "reason", "rule", and "error" (null unless the packet is truncated or
 * malformed).  Ports are null and classes "none" where there are none;
 * addresses null for non-IP.  "rule" is "file:line" for a matching rule or
 * expect, else the reason name.  d may be NULL (no decision was made:
 * verdict, log, reason and rule are null).
 */
void event_write_packet(struct jsonw *w, const struct packet *p,
			const struct decision *d);

/*
 * For alerts: "listener" ("rogue" when a socket listens, "probe" when none,
 * "unknown" when no listener table was available) and the owner as "pid",
 * "program", "exe", "user", "unit" (null where unknown or o is NULL).
 */
void event_write_listener(struct jsonw *w, int listener,
			  const struct listener_owner *o);

/*
 * The owner members, the one writer for alerts, rule logs and the listener
 * snapshot: "pid" (a positive pid, else null), "program", "exe", "user",
 * with with_uid "uid" (null unless known), "unit"; every one null when o
 * is NULL, strings null when empty.
 */
void event_write_owner_members(struct jsonw *w, const struct listener_owner *o,
				int with_uid);

/* event_write_owner_members without the uid. */
void event_write_owner(struct jsonw *w, const struct listener_owner *o);

/* "key":"2026-11-27T13:00:00.123456Z" from nanoseconds since the epoch. */
void event_write_ts(struct jsonw *w, const char *key, uint64_t ns);

/* The same text, FMT_TS_LEN bytes written at o (no quotes, no NUL);
 * returns the end. */
char *event_put_ts(char *o, uint64_t ns);

/* Formats the RFC 3339 UTC timestamp with microseconds into buf (>= 32). */
const char *event_format_ts(uint64_t ns, char *buf, size_t buflen);

#endif
