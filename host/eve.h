/*
 * eve: alerts in Suricata's EVE JSON shape, so that a pipeline built for
 * Suricata (Filebeat's suricata module, Elastic, Splunk, jq
 * 'select(.event_type=="alert")') ingests portclass alerts unchanged.
 * Both the daemon (--log-format eve) and the replay (--format eve) write
 * them through here.
 */
#ifndef PORTCLASS_EVE_H
#define PORTCLASS_EVE_H

#include <stdint.h>

#include "decision.h"
#include "jsonw.h"
#include "listener.h"
#include "packet.h"

/* Signature ids, stable: a SIEM rule may key on them. */
#define EVE_SID_UNEXPECTED 9100001	/* NEW inbound, unexpected listener */
#define EVE_SID_PROBE 9100002		/* NEW inbound, nothing listens */
#define EVE_SID_UNDETERMINED 9100003	/* an owner-bound expect might cover */
#define EVE_SID_RULE 9100010		/* a `log` rule matched */
#define EVE_SID_OTHER 9100011		/* anything else logged */

/*
 * Writes one complete EVE alert object into w (reset first): timestamp
 * (ts_ns, "2026-11-29T14:29:42.123456+0000"), event_type "alert",
 * src_ip, src_port, dest_ip, dest_port, proto ("TCP", "UDP", ...),
 * community_id, alert {action "allowed"/"blocked", gid 1, signature_id,
 * rev 1, signature, category, severity 1-3}, and "portclass" {reason,
 * rule, dir, listener, pid, program, user, unit} with the details EVE has
 * no field for.  host (may be NULL) becomes "host".  monitor: the verdict
 * was not enforced (action "allowed").  o may be NULL.
 */
void eve_write_alert(struct jsonw *w, uint64_t ts_ns, const struct packet *p,
		     const struct decision *d, const struct listener_owner *o,
		     const char *host, int monitor);

#endif
