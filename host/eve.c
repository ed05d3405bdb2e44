/* eve: see eve.h. */
#include "eve.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "communityid.h"
#include "event.h"
#include "fmt.h"

/* Suricata's timestamp: local-time offset form, here always UTC.  No
 * libc time function: strftime may load the time zone, a file the
 * daemon can no longer open once its seccomp filter is on. */
static void eve_ts(uint64_t ns, char *buf, size_t len)
{
	char t[FMT_TS_LEN + 8];
	char *e = event_put_ts(t, ns) - 1; /* the 'Z' */
	size_t n;

	if (len == 0)
		return;
	memcpy(e, "+0000", 5);
	n = (size_t)(e + 5 - t);
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

static const char *eve_proto(const struct packet *p, char *buf, size_t len)
{
	switch (p->proto) {
	case PROTO_TCP: return "TCP";
	case PROTO_UDP: return "UDP";
	case PROTO_UDPLITE: return "UDPLITE";
	case PROTO_SCTP: return "SCTP";
	case PROTO_DCCP: return "DCCP";
	case PROTO_ICMP: return "ICMP";
	case PROTO_ICMP6: return "IPv6-ICMP";
	default:
		/* Suricata writes the number for protocols it does not name */
		snprintf(buf, len, "%u", p->ipproto);
		return buf;
	}
}

static void kv_addr(struct jsonw *w, const char *key, const struct packet *p,
		    const uint8_t *a)
{
	char buf[64];

	if (p->family == 4 || p->family == 6)
		jsonw_kv_string(w, key, addr_format(p->family, a, buf,
						    sizeof(buf)));
	else
		jsonw_kv_null(w, key);
}

void eve_write_alert(struct jsonw *w, uint64_t ts_ns, const struct packet *p,
		     const struct decision *d, const struct listener_owner *o,
		     const char *host, int monitor)
{
	char ts[48], pbuf[8], cid[COMMUNITYID_LEN + 8], sig[160], rule[320];
	int ports = p->status == PACKET_OK && p->has_ports;
	const char *category, *pname = packet_proto_name(p->proto);
	unsigned sid, severity;

	if (d->reason == REASON_UNEXPECTED && d->listener > 0) {
		sid = EVE_SID_UNEXPECTED;
		severity = 1;
		category = "Unexpected listener in the dynamic port range";
		snprintf(sig, sizeof(sig), "PORTCLASS new inbound connection "
			 "to an unexpected dynamic-range listener (%s %u)",
			 pname, ports ? p->dport : 0);
	} else if (d->reason == REASON_UNEXPECTED) {
		sid = EVE_SID_PROBE;
		severity = 2;
		category = "Probe of the dynamic port range";
		snprintf(sig, sizeof(sig), "PORTCLASS new inbound connection "
			 "to an unexpected dynamic-range port (%s %u)",
			 pname, ports ? p->dport : 0);
	} else if (d->reason == REASON_UNDETERMINED) {
		sid = EVE_SID_UNDETERMINED;
		severity = 2;
		category = "Unexpected listener in the dynamic port range";
		snprintf(sig, sizeof(sig), "PORTCLASS new inbound connection "
			 "to a dynamic-range listener whose owner is unknown "
			 "(%s %u)", pname, ports ? p->dport : 0);
	} else if (d->reason == REASON_RULE) {
		sid = EVE_SID_RULE;
		severity = 3;
		category = "Policy rule";
		snprintf(sig, sizeof(sig), "PORTCLASS rule %s:%u (%s)",
			 d->rule_file ? d->rule_file : "?", d->rule_line,
			 verdict_name(d->verdict));
	} else {
		sid = EVE_SID_OTHER;
		severity = 3;
		category = "Policy";
		snprintf(sig, sizeof(sig), "PORTCLASS %s (%s)",
			 decision_reason_name(d->reason),
			 verdict_name(d->verdict));
	}

	jsonw_reset(w);
	jsonw_object_begin(w);
	eve_ts(ts_ns, ts, sizeof(ts));
	jsonw_kv_string(w, "timestamp", ts);
	if (host)
		jsonw_kv_string(w, "host", host);
	jsonw_kv_string(w, "event_type", "alert");
	kv_addr(w, "src_ip", p, p->src);
	if (ports)
		jsonw_kv_uint(w, "src_port", p->sport);
	kv_addr(w, "dest_ip", p, p->dst);
	if (ports)
		jsonw_kv_uint(w, "dest_port", p->dport);
	jsonw_kv_string(w, "proto", eve_proto(p, pbuf, sizeof(pbuf)));
	jsonw_kv_string_or_null(w, "community_id",
				communityid_packet(p, cid, sizeof(cid)));
	jsonw_key(w, "alert");
	jsonw_object_begin(w);
	jsonw_kv_string(w, "action", !monitor && d->verdict != VERDICT_PASS ?
				     "blocked" : "allowed");
	jsonw_kv_uint(w, "gid", 1);
	jsonw_kv_uint(w, "signature_id", sid);
	jsonw_kv_uint(w, "rev", 1);
	jsonw_kv_string(w, "signature", sig);
	jsonw_kv_string(w, "category", category);
	jsonw_kv_uint(w, "severity", severity);
	jsonw_object_end(w);
	jsonw_key(w, "portclass");
	jsonw_object_begin(w);
	jsonw_kv_string(w, "verdict", verdict_name(d->verdict));
	jsonw_kv_string(w, "reason", decision_reason_name(d->reason));
	if (d->rule_file) {
		snprintf(rule, sizeof(rule), "%s:%u", d->rule_file, d->rule_line);
		jsonw_kv_string(w, "rule", rule);
	} else {
		jsonw_kv_null(w, "rule");
	}
	jsonw_kv_string(w, "dir", decision_dir_name(d->dir));
	if (d->alert)
		event_write_listener(w, d->listener, o);
	jsonw_object_end(w);
	jsonw_object_end(w);
}
