/*
 * report_jsonl: the JSON lines writer of a replay report - one line per
 * packet, alert or difference as the run goes, and the summary at the
 * end - next to report.c's human printer of the same record.  Its
 * functions are declared in report.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "eve.h"
#include "fmt.h"
#include "report.h"
#include "report_int.h"

static void emit(struct jsonw *w, FILE *out)
{
	if (w->failed) {
		/* never a half line: a consumer reads line by line */
		fputs("{\"type\":\"error\",\"message\":\"out of memory\"}\n", out);
		return;
	}
	/* the line and its newline in one call: the NUL's place (there is
	 * always room for it) holds the newline for the time of the write.
	 * Unlocked: the report's stream is written by one thread at a time
	 * (report.h). */
	w->buf[w->len] = '\n';
	fwrite_unlocked(w->buf, 1, w->len + 1, out);
	w->buf[w->len] = '\0';
}

/* The file's name as a JSON string, escaped once per file; NULL when
 * memory ran out. */
static const char *json_name(struct report *r, unsigned file, size_t *len)
{
	struct report_file *f = &r->files[file];

	if (!f->json_name) {
		size_t n = strlen(f->name);
		char *s = malloc(JSONW_ESCAPED_MAX(n));

		if (!s)
			return NULL;
		f->json_name_len = (size_t)(jsonw_escape(s, f->name, n) - s);
		f->json_name = s;
	}
	*len = f->json_name_len;
	return f->json_name;
}

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

static void head(struct report *r, struct jsonw *w, const char *type,
		 unsigned file, uint64_t frame, uint64_t ts_ns)
{
	size_t nl, tl = strlen(type);
	const char *name = json_name(r, file, &nl);
	char *o;

	jsonw_reset(w);
	if (!name) {
		w->failed = 1;
		return;
	}
	o = jsonw_room(w, 64 + JSONW_ESCAPED_MAX(tl) + nl + FMT_U64_MAX +
				  FMT_TS_LEN);
	if (!o)
		return;
	o = PUT_LIT(o, "{\"type\":");
	o = jsonw_escape(o, type, tl);
	o = PUT_LIT(o, ",\"file\":");
	memcpy(o, name, nl);
	o += nl;
	o = PUT_LIT(o, ",\"frame\":");
	o = fmt_u64(o, frame);
	o = PUT_LIT(o, ",\"ts\":\"");
	o = event_put_ts(o, ts_ns);
	*o++ = '"';
	jsonw_commit(w, o);
}

void report_jsonl_packet(struct report *r, struct jsonw *w, FILE *out,
			 unsigned file, uint64_t frame, uint64_t ts_ns,
			 const struct packet *p, const struct decision *d,
			 const struct report_kernel *k)
{
	/* the kernel's names are string literals: memoized */
	struct jsonw_name ct, queue, frag;
	size_t room = 2;
	char *o;

	head(r, w, "packet", file, frame, ts_ns);
	event_write_packet(w, p, d);
	if (k && k->ct) {
		jsonw_name(&ct, k->ct);
		room += 6 + jsonw_name_room(&ct);
	}
	if (k && k->queue) {
		jsonw_name(&queue, k->queue);
		room += 9 + jsonw_name_room(&queue);
	}
	if (k && k->fragment) {
		jsonw_name(&frag, k->fragment);
		room += 12 + jsonw_name_room(&frag);
	}
	o = jsonw_room(w, room);
	if (!o)
		goto out;
	if (k && k->ct) {
		o = PUT_LIT(o, ",\"ct\":");
		o = jsonw_name_put(o, &ct);
	}
	if (k && k->queue) {
		o = PUT_LIT(o, ",\"queue\":");
		o = jsonw_name_put(o, &queue);
	}
	if (k && k->fragment) {
		o = PUT_LIT(o, ",\"fragment\":");
		o = jsonw_name_put(o, &frag);
	}
	*o++ = '}';
	jsonw_commit(w, o);
out:
	emit(w, out);
}

void report_jsonl_alert(struct report *r, struct jsonw *w, FILE *out,
			unsigned file, uint64_t frame, uint64_t ts_ns,
			const struct packet *p, const struct decision *d,
			struct listener_table *lt)
{
	const struct listener_owner *o = NULL;

	if (d->owner_of && lt)
		o = listener_owner(lt, d->owner_of);
	if (r->eve) {
		/* offline: nothing was enforced, so "allowed" is the truth
		 * only for pass; EVE's action tells what the policy does */
		eve_write_alert(w, ts_ns, p, d, o, NULL, 0);
		emit(w, out);
		return;
	}
	head(r, w, "alert", file, frame, ts_ns);
	event_write_packet(w, p, d);
	event_write_listener(w, d->listener, o);
	jsonw_object_end(w);
	emit(w, out);
}

void report_jsonl_diff(struct report *r, struct jsonw *w, FILE *out,
		       unsigned file, uint64_t frame, uint64_t ts_ns,
		       const struct packet *p, const struct decision *d,
		       const struct decision *d2)
{
	char rule[320];

	head(r, w, "diff", file, frame, ts_ns);
	event_write_packet(w, p, d);
	jsonw_kv_string(w, "compare_verdict", verdict_name(d2->verdict));
	jsonw_kv_bool(w, "compare_log", d2->log);
	jsonw_kv_string(w, "compare_reason", decision_reason_name(d2->reason));
	jsonw_kv_string(w, "compare_rule",
			report_rule_text(d2->rule_file, d2->rule_line, d2->reason,
				  rule, sizeof(rule)));
	jsonw_object_end(w);
	emit(w, out);
}

static void kv_str_or_null(struct jsonw *w, const char *k, const char *v)
{
	if (v)
		jsonw_kv_string(w, k, v);
	else
		jsonw_kv_null(w, k);
}

static void json_files(struct report *r, struct jsonw *w)
{
	size_t i;

	jsonw_key(w, "files");
	jsonw_array_begin(w);
	for (i = 0; i < r->nfiles; i++) {
		const struct report_file *f = &r->files[i];

		jsonw_object_begin(w);
		jsonw_kv_string(w, "file", f->name);
		jsonw_kv_uint(w, "frames", f->frames);
		if (f->dlt >= 0)
			jsonw_kv_int(w, "linktype", f->dlt);
		else
			jsonw_kv_null(w, "linktype");
		kv_str_or_null(w, "linktype_name", f->dlt_name);
		jsonw_kv_bool(w, "skipped", f->unsupported);
		kv_str_or_null(w, "error", f->error);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void json_bad(const struct report_counts *c, struct jsonw *w,
		     enum packet_status st, const char *key)
{
	int i;

	jsonw_key(w, key);
	jsonw_object_begin(w);
	if (st == PACKET_TRUNCATED && c->trunc_link)
		jsonw_kv_uint(w, "truncated-link", c->trunc_link);
	for (i = 1; i < PR_COUNT; i++)
		if (c->bad[i] && packet_reason_status((enum packet_reason)i) == st)
			jsonw_kv_uint(w, packet_reason_name((enum packet_reason)i),
				      c->bad[i]);
	jsonw_object_end(w);
}

static void json_seen(struct report *r, struct jsonw *w,
		      const struct report_info *info)
{
	struct seen_entry **v;
	size_t n, i;
	char ab[64], rule[320];

	v = seen_sorted(r->seen, &n);
	jsonw_key(w, "listeners_seen");
	jsonw_array_begin(w);
	for (i = 0; i < n; i++) {
		const struct seen_entry *e = v[i];

		jsonw_object_begin(w);
		jsonw_kv_string(w, "proto", packet_proto_name((enum packet_proto)e->proto));
		jsonw_kv_string(w, "addr", addr_format(e->family, e->addr, ab, sizeof(ab)));
		jsonw_kv_uint(w, "port", e->port);
		jsonw_kv_bool(w, "local", !info->has_local || e->local);
		jsonw_kv_string(w, "policy", report_seen_policy(e));
		if (e->expect_file) {
			snprintf(rule, sizeof(rule), "%s:%u", e->expect_file,
				 e->expect_line);
			jsonw_kv_string(w, "rule", rule);
		} else {
			jsonw_kv_null(w, "rule");
		}
		jsonw_kv_uint(w, "answers", e->answers);
		jsonw_kv_uint(w, "expected", e->expected);
		jsonw_kv_uint(w, "undetermined", e->undetermined);
		event_write_ts(w, "first", e->first_ns);
		if (e->pid >= 0)
			jsonw_kv_int(w, "pid", e->pid);
		else
			jsonw_kv_null(w, "pid");
		kv_str_or_null(w, "program", e->program[0] ? e->program : NULL);
		kv_str_or_null(w, "user", e->user[0] ? e->user : NULL);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	free(v);
}

void report_jsonl_summary(struct report *r, struct jsonw *w, FILE *out,
			  const struct report_info *info)
{
	const struct report_counts *c = &r->c;
	int i, j;

	jsonw_reset(w);
	jsonw_object_begin(w);
	jsonw_kv_string(w, "type", "summary");
	jsonw_kv_string(w, "rules", info->rules);
	kv_str_or_null(w, "compare", info->compare);
	jsonw_key(w, "dynamic_range");
	jsonw_object_begin(w);
	jsonw_kv_string(w, "name", info->range_name);
	jsonw_kv_uint(w, "lo", info->range.lo);
	jsonw_kv_uint(w, "hi", info->range.hi);
	jsonw_object_end(w);
	jsonw_kv_bool(w, "local", info->has_local);
	kv_str_or_null(w, "filter", info->filter);
	json_files(r, w);
	jsonw_kv_uint(w, "frames", c->frames);
	jsonw_kv_uint(w, "bytes", c->bytes);
	jsonw_kv_uint(w, "filtered", c->filtered);
	jsonw_key(w, "protocols");
	jsonw_object_begin(w);
	for (i = 0; i < PROTO_COUNT; i++) {
		jsonw_key(w, packet_proto_name((enum packet_proto)i));
		jsonw_object_begin(w);
		jsonw_kv_uint(w, "packets", c->proto_pkts[i]);
		jsonw_kv_uint(w, "bytes", c->proto_bytes[i]);
		jsonw_object_end(w);
	}
	jsonw_object_end(w);
	jsonw_key(w, "matrix");
	jsonw_object_begin(w);
	for (i = 0; i < CLASS_COUNT; i++) {
		jsonw_key(w, class_name((enum port_class)i));
		jsonw_object_begin(w);
		for (j = 0; j < CLASS_COUNT; j++)
			jsonw_kv_uint(w, class_name((enum port_class)j),
				      c->matrix[i][j]);
		jsonw_object_end(w);
	}
	jsonw_object_end(w);
	jsonw_key(w, "verdicts");
	jsonw_object_begin(w);
	for (i = 0; i < VERDICT_COUNT; i++)
		jsonw_kv_uint(w, verdict_name((enum verdict)i), c->verdicts[i]);
	jsonw_object_end(w);
	jsonw_kv_uint(w, "logged", c->logged);
	jsonw_key(w, "reasons");
	jsonw_object_begin(w);
	for (i = 0; i < REASON_COUNT; i++)
		jsonw_kv_uint(w, decision_reason_name((enum decision_reason)i),
			      c->reasons[i]);
	jsonw_object_end(w);
	json_bad(c, w, PACKET_TRUNCATED, "truncated");
	json_bad(c, w, PACKET_MALFORMED, "malformed");
	jsonw_kv_uint(w, "attempts", c->attempts - c->retransmits);
	jsonw_kv_uint(w, "retransmits", c->retransmits);
	jsonw_kv_uint(w, "alerts", c->alerts);
	jsonw_kv_uint(w, "undetermined", c->undetermined);
	jsonw_kv_uint(w, "undecided", c->undecided);
	jsonw_key(w, "fragments");
	jsonw_object_begin(w);
	jsonw_kv_uint(w, "held", c->frag_held);
	jsonw_kv_uint(w, "discarded", c->frag_dropped);
	jsonw_kv_uint(w, "reassembled", info->reasm.reassembled);
	jsonw_kv_uint(w, "timed_out", info->reasm.timeouts);
	jsonw_kv_uint(w, "overlapping", info->reasm.overlaps);
	jsonw_kv_uint(w, "duplicates", info->reasm.duplicates);
	jsonw_kv_uint(w, "over_memory", info->reasm.over_memory);
	jsonw_kv_uint(w, "bad", info->reasm.bad);
	jsonw_kv_uint(w, "pending", info->reasm.pending);
	jsonw_object_end(w);
	if (info->selector) {
		int i2;

		jsonw_key(w, "queue");
		jsonw_object_begin(w);
		jsonw_kv_string(w, "selector", info->selector);
		jsonw_kv_bool(w, "tcp_loose", info->tcp_loose);
		jsonw_key(w, "conntrack");
		jsonw_object_begin(w);
		for (i2 = 0; i2 < 4; i2++)
			jsonw_kv_uint(w, flow_ct_name((enum flow_ct)i2),
				      c->ct[i2]);
		jsonw_object_end(w);
		jsonw_key(w, "firewall");
		jsonw_object_begin(w);
		for (i2 = 0; i2 < QS_COUNT; i2++)
			jsonw_kv_uint(w, queuesel_result_name(
					      (enum queuesel_result)i2),
				      c->queue[i2]);
		jsonw_object_end(w);
		jsonw_object_end(w);
	} else {
		jsonw_kv_null(w, "queue");
	}
	if (info->compare)
		jsonw_kv_uint(w, "differences", c->diffs);
	else
		jsonw_kv_null(w, "differences");
	json_seen(r, w, info);
	jsonw_key(w, "flows");
	jsonw_object_begin(w);
	jsonw_kv_uint(w, "created", info->flows.created);
	jsonw_kv_uint(w, "evicted", info->flows.evicted);
	jsonw_kv_uint(w, "expired", info->flows.expired);
	jsonw_kv_uint(w, "pickups", info->flows.pickups);
	jsonw_kv_uint(w, "forgotten", info->flows.forgotten);
	jsonw_object_end(w);
	jsonw_object_end(w);
	emit(w, out);
}
