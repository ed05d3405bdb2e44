/* event: see event.h. */
#include "event.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "class.h"
#include "communityid.h"
#include "fmt.h"

/* Consecutive events mostly fall in the same second: fmt_ts keeps the
 * calendar part of the last one, per thread. */
static __thread struct fmt_ts ts_cache;

char *event_put_ts(char *o, uint64_t ns)
{
	return fmt_ts(&ts_cache, o, ns);
}

const char *event_format_ts(uint64_t ns, char *buf, size_t buflen)
{
	char t[FMT_TS_LEN];
	size_t n;

	if (buflen == 0)
		return buf;
	fmt_ts(&ts_cache, t, ns);
	n = buflen - 1 < sizeof(t) ? buflen - 1 : sizeof(t);
	memcpy(buf, t, n);
	buf[n] = '\0';
	return buf;
}

void event_write_ts(struct jsonw *w, const char *key, uint64_t ns)
{
	char buf[40];

	jsonw_kv_string(w, key, event_format_ts(ns, buf, sizeof(buf)));
}

/* A literal member name or punctuation, copied without a strlen. */
#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

static char *put_addr(char *o, uint8_t family, const uint8_t a[16])
{
	if (family == 4) {
		*o++ = '"';
		o = fmt_ipv4(o, a);
		*o++ = '"';
	} else if (family == 6) {
		*o++ = '"';
		o = fmt_ipv6(o, a);
		*o++ = '"';
	} else {
		o = PUT_LIT(o, "null");
	}
	return o;
}

static char *put_port(char *o, int has, uint16_t port)
{
	return has ? fmt_u64(o, port) : PUT_LIT(o, "null");
}

static char *put_bool(char *o, int v)
{
	return v ? PUT_LIT(o, "true") : PUT_LIT(o, "false");
}

/*
 * The whole record is written into room taken once, sized for the worst
 * case of this packet: the longest addresses and numbers, every name and
 * the rule's file name escaped at their longest.  The engine's names are
 * escaped once per thread (jsonw_name); the rule's file name on every
 * line; addresses, numbers, booleans and the Community ID (base64) are
 * characters JSON never escapes.
 */
void event_write_packet(struct jsonw *w, const struct packet *p,
			const struct decision *d)
{
	int ports = p->has_ports;
	char rule[320], cid[COMMUNITYID_LEN + 8];
	const char *cidp = communityid_packet(p, cid, sizeof(cid));
	const char *rfile = NULL;
	struct jsonw_name proto, sclass, dclass, dir, verdict, reason, error;
	size_t l_rule = 0, l_cid = 0, room;
	char *o;

	jsonw_name(&proto, packet_proto_name((enum packet_proto)p->proto));
	jsonw_name(&sclass, class_name(ports ? class_of(p->sport) : CLASS_NONE));
	jsonw_name(&dclass, class_name(ports ? class_of(p->dport) : CLASS_NONE));
	room = 320 + 2 * (FMT_IPV6_MAX + 2) + 2 * FMT_U64_MAX +
	       jsonw_name_room(&proto) + jsonw_name_room(&sclass) +
	       jsonw_name_room(&dclass);
	if (cidp) {
		l_cid = strlen(cidp);
		room += l_cid;
	}
	if (d) {
		jsonw_name(&dir, decision_dir_name(d->dir));
		jsonw_name(&verdict, verdict_name(d->verdict));
		jsonw_name(&reason, decision_reason_name(d->reason));
		room += jsonw_name_room(&dir) + jsonw_name_room(&verdict) +
			2 * jsonw_name_room(&reason);
		if (d->rule_file) {
			rfile = d->rule_file;
			l_rule = strlen(rfile);
			/* "file:line" was cut to the buffer: the same cut */
			if (l_rule + 1 + FMT_U64_MAX >= sizeof(rule)) {
				snprintf(rule, sizeof(rule), "%s:%u", rfile,
					 d->rule_line);
				rfile = rule;
				l_rule = strlen(rule);
			}
			room += JSONW_ESCAPED_MAX(l_rule) + FMT_U64_MAX;
		}
	}
	if (p->status != PACKET_OK) {
		jsonw_name(&error,
			   packet_reason_name((enum packet_reason)p->reason));
		room += jsonw_name_room(&error);
	}
	o = jsonw_room(w, room);
	if (!o)
		return;
	if (w->need_comma)
		*o++ = ',';
	o = PUT_LIT(o, "\"proto\":");
	o = jsonw_name_put(o, &proto);
	o = PUT_LIT(o, ",\"src\":");
	o = put_addr(o, p->family, p->src);
	o = PUT_LIT(o, ",\"sport\":");
	o = put_port(o, ports, p->sport);
	o = PUT_LIT(o, ",\"sclass\":");
	o = jsonw_name_put(o, &sclass);
	o = PUT_LIT(o, ",\"dst\":");
	o = put_addr(o, p->family, p->dst);
	o = PUT_LIT(o, ",\"dport\":");
	o = put_port(o, ports, p->dport);
	o = PUT_LIT(o, ",\"dclass\":");
	o = jsonw_name_put(o, &dclass);
	o = PUT_LIT(o, ",\"community_id\":");
	if (l_cid) {
		/* "1:" and base64: nothing JSON escapes */
		*o++ = '"';
		memcpy(o, cidp, l_cid);
		o += l_cid;
		*o++ = '"';
	} else {
		o = PUT_LIT(o, "null");
	}
	o = PUT_LIT(o, ",\"new\":");
	if (d) {
		o = put_bool(o, d->is_new);
		o = PUT_LIT(o, ",\"dir\":");
		o = jsonw_name_put(o, &dir);
		o = PUT_LIT(o, ",\"verdict\":");
		o = jsonw_name_put(o, &verdict);
		o = PUT_LIT(o, ",\"log\":");
		o = put_bool(o, d->log);
		o = PUT_LIT(o, ",\"reason\":");
		o = jsonw_name_put(o, &reason);
		o = PUT_LIT(o, ",\"rule\":");
		if (rfile == rule) {
			o = jsonw_escape(o, rule, l_rule);
		} else if (rfile) {
			/* the escape of "file:line" is the file's, then
			 * ":line": ASCII never continues a UTF-8 sequence */
			o = jsonw_escape(o, rfile, l_rule);
			o[-1] = ':';
			o = fmt_u64(o, d->rule_line);
			*o++ = '"';
		} else {
			o = jsonw_name_put(o, &reason);
		}
	} else {
		o = put_bool(o, p->conn_attempt);
		o = PUT_LIT(o, ",\"dir\":null,\"verdict\":null,\"log\":null,"
			       "\"reason\":null,\"rule\":null");
	}
	o = PUT_LIT(o, ",\"error\":");
	if (p->status != PACKET_OK)
		o = jsonw_name_put(o, &error);
	else
		o = PUT_LIT(o, "null");
	jsonw_commit(w, o);
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
