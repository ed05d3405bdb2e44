/* event: see event.h. */
#include "event.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "class.h"
#include "communityid.h"

const char *event_format_ts(uint64_t ns, char *buf, size_t buflen)
{
	/* Consecutive events mostly fall in the same second: the calendar
	 * part is computed once per second (per thread) and the fraction
	 * written by hand. */
	static __thread time_t last = -1;
	static __thread char day[24];
	time_t secs = (time_t)(ns / 1000000000u);
	unsigned usec = (unsigned)((ns % 1000000000u) / 1000u);
	char frac[6];
	size_t dl;

	if (secs != last) {
		struct tm tm;

		if (!gmtime_r(&secs, &tm) ||
		    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
			last = -1;
			snprintf(buf, buflen, "1970-01-01T00:00:00.000000Z");
			return buf;
		}
		last = secs;
	}
	for (int i = 5; i >= 0; i--, usec /= 10)
		frac[i] = (char)('0' + usec % 10);
	dl = strlen(day);
	if (buflen < dl + 9) {
		snprintf(buf, buflen, "%s.%.6sZ", day, frac);
		return buf;
	}
	memcpy(buf, day, dl);
	buf[dl] = '.';
	memcpy(buf + dl + 1, frac, 6);
	buf[dl + 7] = 'Z';
	buf[dl + 8] = '\0';
	return buf;
}

void event_write_ts(struct jsonw *w, const char *key, uint64_t ns)
{
	char buf[40];

	jsonw_kv_string(w, key, event_format_ts(ns, buf, sizeof(buf)));
}

static void write_addr(struct jsonw *w, const char *key, uint8_t family,
		       const uint8_t a[16])
{
	char buf[64];

	if (family != 4 && family != 6) {
		jsonw_kv_null(w, key);
		return;
	}
	jsonw_kv_string(w, key, addr_format(family, a, buf, sizeof(buf)));
}

static void write_port(struct jsonw *w, const char *key, int has, uint16_t port)
{
	if (has)
		jsonw_kv_uint(w, key, port);
	else
		jsonw_kv_null(w, key);
}

void event_write_packet(struct jsonw *w, const struct packet *p,
			const struct decision *d)
{
	int ports = p->has_ports;
	char rule[320], cid[COMMUNITYID_LEN + 8];

	jsonw_kv_string(w, "proto", packet_proto_name((enum packet_proto)p->proto));
	write_addr(w, "src", p->family, p->src);
	write_port(w, "sport", ports, p->sport);
	jsonw_kv_string(w, "sclass", class_name(ports ? class_of(p->sport) : CLASS_NONE));
	write_addr(w, "dst", p->family, p->dst);
	write_port(w, "dport", ports, p->dport);
	jsonw_kv_string(w, "dclass", class_name(ports ? class_of(p->dport) : CLASS_NONE));
	jsonw_kv_string_or_null(w, "community_id",
				communityid_packet(p, cid, sizeof(cid)));
	if (d) {
		jsonw_kv_bool(w, "new", d->is_new);
		jsonw_kv_string(w, "dir", decision_dir_name(d->dir));
		jsonw_kv_string(w, "verdict", verdict_name(d->verdict));
		jsonw_kv_bool(w, "log", d->log);
		jsonw_kv_string(w, "reason", decision_reason_name(d->reason));
		if (d->rule_file) {
			snprintf(rule, sizeof(rule), "%s:%u", d->rule_file,
				 d->rule_line);
			jsonw_kv_string(w, "rule", rule);
		} else {
			jsonw_kv_string(w, "rule", decision_reason_name(d->reason));
		}
	} else {
		jsonw_kv_bool(w, "new", p->conn_attempt);
		jsonw_kv_null(w, "dir");
		jsonw_kv_null(w, "verdict");
		jsonw_kv_null(w, "log");
		jsonw_kv_null(w, "reason");
		jsonw_kv_null(w, "rule");
	}
	if (p->status != PACKET_OK)
		jsonw_kv_string(w, "error",
				packet_reason_name((enum packet_reason)p->reason));
	else
		jsonw_kv_null(w, "error");
}

void event_write_listener(struct jsonw *w, int listener,
			  const struct listener_owner *o)
{
	jsonw_kv_string(w, "listener",
			listener > 0 ? "rogue" : listener == 0 ? "probe" : "unknown");
	event_write_owner(w, o);
}

void event_write_owner_members(struct jsonw *w, const struct listener_owner *o,
				int with_uid)
{
	/* pid 0 is no process: the kernel's, or a snapshot's "none". */
	if (o && o->pid > 0)
		jsonw_kv_int(w, "pid", o->pid);
	else
		jsonw_kv_null(w, "pid");
	jsonw_kv_string_or_null(w, "program", o ? o->program : NULL);
	jsonw_kv_string_or_null(w, "exe", o ? o->exe : NULL);
	jsonw_kv_string_or_null(w, "user", o ? o->user : NULL);
	if (with_uid) {
		if (o && o->has_uid)
			jsonw_kv_uint(w, "uid", o->uid);
		else
			jsonw_kv_null(w, "uid");
	}
	jsonw_kv_string_or_null(w, "unit", o ? o->unit : NULL);
}

void event_write_owner(struct jsonw *w, const struct listener_owner *o)
{
	event_write_owner_members(w, o, 0);
}
