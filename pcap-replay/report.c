/*
 * report: see report.h.  Counting is done by the caller on the hot path;
 * this file only formats, so it favours clarity over speed.  It holds
 * what a run keeps (files, kept events) and the human summary; the JSON
 * lines writer over the same record is report_jsonl.c.
 */
#include "report.h"
#include "report_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "esc.h"
#include "event.h"

void report_set_eve(struct report *r, int eve)
{
	r->eve = eve;
}

struct report *report_new(size_t max_list)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->seen = seen_new();
	if (!r->seen) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->max_list = max_list;
	return r;
}

void report_free(struct report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].name);
		free(r->files[i].dlt_name);
		free(r->files[i].error);
		free(r->files[i].json_name);
	}
	free(r->files);
	free(r->alerts.v);
	free(r->diffs.v);
	seen_free(r->seen);
	free(r);
}

struct report_counts *report_counts(struct report *r)
{
	return &r->c;
}

struct seen_set *report_seen(struct report *r)
{
	return r->seen;
}

int report_add_file(struct report *r, const char *name)
{
	struct report_file *nf;
	char *copy = strdup(name);

	if (!copy)
		return -1;
	nf = realloc(r->files, (r->nfiles + 1) * sizeof(*nf));
	if (!nf) {
		free(copy);
		return -1;
	}
	r->files = nf;
	memset(&nf[r->nfiles], 0, sizeof(*nf));
	nf[r->nfiles].name = copy;
	nf[r->nfiles].dlt = -1;
	return (int)r->nfiles++;
}

void report_file_linktype(struct report *r, unsigned file, int dlt,
			  const char *dlt_name, int supported)
{
	struct report_file *f = &r->files[file];

	f->dlt = dlt;
	free(f->dlt_name);
	f->dlt_name = dlt_name ? strdup(dlt_name) : NULL;
	f->unsupported = !supported;
}

void report_file_error(struct report *r, unsigned file, uint64_t frames,
		       const char *msg)
{
	struct report_file *f = &r->files[file];

	f->frames = frames;
	free(f->error);
	f->error = strdup(msg ? msg : "error");
}

void report_file_frames(struct report *r, unsigned file, uint64_t frames)
{
	r->files[file].frames = frames;
}

int report_input_errors(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		if (r->files[i].unsupported || r->files[i].error)
			return 1;
	return 0;
}

const char *report_file_name(const struct report *r, unsigned file)
{
	return r->files[file].name;
}

static void keep(struct event_list *l, size_t max, const struct report_event *e)
{
	if (max && l->n >= max)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct report_event *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return; /* the count stays right; the listing is short */
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
}

void report_keep_alert(struct report *r, const struct report_event *e)
{
	keep(&r->alerts, r->max_list, e);
}

void report_keep_diff(struct report *r, const struct report_event *e)
{
	keep(&r->diffs, r->max_list, e);
}

void report_event_fill(struct report_event *e, unsigned file, uint64_t frame,
		       uint64_t ts_ns, const struct packet *p,
		       const struct decision *d, const struct decision *d2,
		       struct listener_table *lt)
{
	const struct listener_owner *o = NULL;

	memset(e, 0, sizeof(*e));
	e->ts_ns = ts_ns;
	e->frame = frame;
	e->file = file;
	e->proto = p->proto;
	e->family = p->family;
	e->sport = p->sport;
	e->dport = p->dport;
	memcpy(e->src, p->src, 16);
	memcpy(e->dst, p->dst, 16);
	e->dclass = (uint8_t)d->dclass;
	e->verdict = (uint8_t)d->verdict;
	e->reason = (uint8_t)d->reason;
	e->rule_file = d->rule_file;
	e->rule_line = d->rule_line;
	if (d2) {
		e->verdict2 = (uint8_t)d2->verdict;
		e->reason2 = (uint8_t)d2->reason;
		e->rule_file2 = d2->rule_file;
		e->rule_line2 = d2->rule_line;
	}
	e->listener = d->listener;
	e->pid = -1;
	if (d->owner_of && lt)
		o = listener_owner(lt, d->owner_of);
	if (o) {
		e->pid = o->pid;
		snprintf(e->program, sizeof(e->program), "%s", o->program);
	}
}

/* ---- human summary ---- */

/* "192.0.2.1:80" or "[2001:db8::1]:80" */
static const char *endpoint(uint8_t family, const uint8_t a[16], uint16_t port,
			    char *buf, size_t len)
{
	char ab[64];

	addr_format(family, a, ab, sizeof(ab));
	if (family == 6)
		snprintf(buf, len, "[%s]:%u", ab, port);
	else
		snprintf(buf, len, "%s:%u", ab, port);
	return buf;
}

const char *report_rule_text(const char *file, unsigned line,
			     enum decision_reason reason, char *buf,
			     size_t len)
{
	if (file) {
		char eb[256];

		/* A file name may hold anything: escaped. */
		snprintf(buf, len, "%s:%u", esc_str(eb, sizeof(eb), file), line);
	} else
		snprintf(buf, len, "%s", decision_reason_name(reason));
	return buf;
}

static void print_files(struct report *r, FILE *out)
{
	size_t i;

	fprintf(out, "files:\n");
	for (i = 0; i < r->nfiles; i++) {
		const struct report_file *f = &r->files[i];

		fputs("  ", out);
		esc_fputs(f->name, out);
		fputs(": ", out);
		if (f->unsupported && f->dlt_name)
			fprintf(out, "unsupported link type %s (%d), skipped\n",
				f->dlt_name, f->dlt);
		else if (f->unsupported)
			fprintf(out, "unsupported link type %d (unknown to "
				"libpcap), skipped\n", f->dlt);
		else if (f->error) {
			fprintf(out, "error after %" PRIu64 " frames: ",
				f->frames);
			esc_fputs(f->error, out);
			fputc('\n', out);
		} else {
			fprintf(out, "%" PRIu64 " frames, link type %s\n",
				f->frames, f->dlt_name ? f->dlt_name : "?");
		}
	}
}

static void print_matrix(const struct report_counts *c, FILE *out)
{
	int s, d;

	fprintf(out, "\nsource class x destination class (IP packets):\n");
	fprintf(out, "  %-9s", "src\\dst");
	for (d = 0; d < CLASS_COUNT; d++)
		fprintf(out, " %10s", class_name((enum port_class)d));
	fprintf(out, "\n");
	for (s = 0; s < CLASS_COUNT; s++) {
		fprintf(out, "  %-9s", class_name((enum port_class)s));
		for (d = 0; d < CLASS_COUNT; d++)
			fprintf(out, " %10" PRIu64, c->matrix[s][d]);
		fprintf(out, "\n");
	}
}

static void print_bad(const struct report_counts *c, FILE *out)
{
	uint64_t trunc = c->trunc_link, bad = 0;
	int i;

	for (i = 1; i < PR_COUNT; i++) {
		if (packet_reason_status((enum packet_reason)i) == PACKET_TRUNCATED)
			trunc += c->bad[i];
		else
			bad += c->bad[i];
	}
	fprintf(out, "\ntruncated: %" PRIu64 "\n", trunc);
	if (c->trunc_link)
		fprintf(out, "  %-24s %10" PRIu64 "\n", "truncated-link",
			c->trunc_link);
	for (i = 1; i < PR_COUNT; i++)
		if (c->bad[i] && packet_reason_status((enum packet_reason)i) ==
					 PACKET_TRUNCATED)
			fprintf(out, "  %-24s %10" PRIu64 "\n",
				packet_reason_name((enum packet_reason)i),
				c->bad[i]);
	fprintf(out, "malformed: %" PRIu64 "\n", bad);
	for (i = 1; i < PR_COUNT; i++)
		if (c->bad[i] && packet_reason_status((enum packet_reason)i) ==
					 PACKET_MALFORMED)
			fprintf(out, "  %-24s %10" PRIu64 "\n",
				packet_reason_name((enum packet_reason)i),
				c->bad[i]);
}

/* The kernel in front of the queue: reassembly, conntrack, selector. */
static void print_kernel(const struct report_counts *c, FILE *out,
			 const struct report_info *info)
{
	const struct reasm_stats *rs = &info->reasm;
	int i;

	fprintf(out, "\nfragments: %" PRIu64 " held, %" PRIu64 " discarded; "
		"datagrams reassembled %" PRIu64 ", timed out %" PRIu64
		", overlapping %" PRIu64 ", duplicates %" PRIu64
		", over memory %" PRIu64 ", bad %" PRIu64 ", pending %" PRIu64
		"\n", c->frag_held, c->frag_dropped, rs->reassembled,
		rs->timeouts, rs->overlaps, rs->duplicates, rs->over_memory,
		rs->bad, rs->pending);
	if (!info->selector) {
		fprintf(out, "queue: all packets (no kernel model)\n");
		return;
	}
	fprintf(out, "queue: %s%s; tcp loose pickup %s\n", info->selector,
		info->selector_ifaces ? " (the capture is taken as arriving "
					"on them)" : "",
		info->tcp_loose ? "on" : "off");
	fprintf(out, "  conntrack:");
	for (i = 0; i < 4; i++)
		fprintf(out, " %s %" PRIu64, flow_ct_name((enum flow_ct)i),
			c->ct[i]);
	fprintf(out, "\n  firewall:");
	for (i = 0; i < QS_COUNT; i++)
		fprintf(out, " %s %" PRIu64,
			queuesel_result_name((enum queuesel_result)i),
			c->queue[i]);
	fprintf(out, "\n");
	fprintf(out, "undecided: %" PRIu64 " packets (what the kernel did "
		"cannot be told from the capture)\n", c->undecided);
}

static void print_event_head(const struct report_event *e, FILE *out)
{
	char ts[40], src[80], dst[80];

	fprintf(out, "  %s %s %s -> %s %s",
		event_format_ts(e->ts_ns, ts, sizeof(ts)),
		packet_proto_name((enum packet_proto)e->proto),
		endpoint(e->family, e->src, e->sport, src, sizeof(src)),
		endpoint(e->family, e->dst, e->dport, dst, sizeof(dst)),
		class_name((enum port_class)e->dclass));
}

static void print_alerts(struct report *r, FILE *out)
{
	const struct report_counts *c = &r->c;
	char rule[320];
	size_t i;

	fprintf(out, "\nconnection attempts: %" PRIu64 " (retransmits folded: %"
		PRIu64 ")\n", c->attempts - c->retransmits, c->retransmits);
	fprintf(out, "alerts: %" PRIu64 "\n", c->alerts);
	if (r->alerts.n)
		fprintf(out, "  time proto src:sport -> dst:dport class verdict "
			"reason rule [listener]\n");
	for (i = 0; i < r->alerts.n; i++) {
		const struct report_event *e = &r->alerts.v[i];

		print_event_head(e, out);
		fprintf(out, " %s %s %s",
			verdict_name((enum verdict)e->verdict),
			decision_reason_name((enum decision_reason)e->reason),
			report_rule_text(e->rule_file, e->rule_line,
				  (enum decision_reason)e->reason, rule,
				  sizeof(rule)));
		if (e->listener > 0) {
			fprintf(out, " listener");
			/* Names come from a snapshot file: escaped. */
			if (e->program[0]) {
				fputc(' ', out);
				esc_fputs(e->program, out);
			}
			if (e->pid >= 0)
				fprintf(out, " pid %d", (int)e->pid);
		} else if (e->listener == 0) {
			fprintf(out, " no-listener");
		}
		/* -1: no snapshot, nothing known to say */
		fprintf(out, "\n");
	}
	if (c->alerts > r->alerts.n)
		fprintf(out, "  ... %" PRIu64 " more (see --max-alerts)\n",
			c->alerts - r->alerts.n);
}

static void print_diffs(struct report *r, FILE *out,
			const struct report_info *info)
{
	const struct report_counts *c = &r->c;
	char r1[320], r2[320];
	size_t i;

	fprintf(out, "\npolicy differences (%s -> %s): %" PRIu64
		" connection attempts (%" PRIu64 " packets)\n",
		info->rules, info->compare, c->diffs, c->diff_packets);
	if (r->diffs.n)
		fprintf(out, "  time proto src:sport -> dst:dport class "
			"verdict (rule) -> verdict (rule)\n");
	for (i = 0; i < r->diffs.n; i++) {
		const struct report_event *e = &r->diffs.v[i];

		print_event_head(e, out);
		fprintf(out, " %s (%s) -> %s (%s)\n",
			verdict_name((enum verdict)e->verdict),
			report_rule_text(e->rule_file, e->rule_line,
				  (enum decision_reason)e->reason, r1,
				  sizeof(r1)),
			verdict_name((enum verdict)e->verdict2),
			report_rule_text(e->rule_file2, e->rule_line2,
				  (enum decision_reason)e->reason2, r2,
				  sizeof(r2)));
	}
	if (c->diffs > r->diffs.n)
		fprintf(out, "  ... %" PRIu64 " more (see --max-alerts)\n",
			c->diffs - r->diffs.n);
}

/* What the policy says about a listener, over all the answers seen. */
const char *report_seen_policy(const struct seen_entry *e)
{
	return seen_policy_name(e->answers, e->expected, e->undetermined);
}

static void print_seen(struct report *r, FILE *out,
		       const struct report_info *info)
{
	struct seen_entry **v;
	size_t n, i;
	char ep[80], ts[40];

	v = seen_sorted(r->seen, &n);
	fprintf(out, "\nlisteners seen (answered connection attempts to %u-%u): %zu\n",
		info->range.lo, info->range.hi, seen_count(r->seen));
	if (n)
		fprintf(out, "  proto   listener                 policy [rule] "
			"answers N [not-local] first TIME [program P pid N "
			"user U]\n");
	for (i = 0; i < n; i++) {
		const struct seen_entry *e = v[i];
		const char *pol = report_seen_policy(e);

		fprintf(out, "  %-7s %-24s %-12s", packet_proto_name((enum packet_proto)e->proto),
			endpoint(e->family, e->addr, e->port, ep, sizeof(ep)),
			pol);
		if (e->expect_file) {
			fputc(' ', out);
			esc_fputs(e->expect_file, out);
			fprintf(out, ":%u", e->expect_line);
		}
		fprintf(out, " answers %" PRIu64, e->answers);
		if (!strcmp(pol, "mixed"))
			fprintf(out, " (expected %" PRIu64 ", undetermined %" PRIu64 ")",
				e->expected, e->undetermined);
		if (info->has_local && !e->local)
			fprintf(out, " not-local");
		fprintf(out, " first %s", event_format_ts(e->first_ns, ts, sizeof(ts)));
		if (e->program[0]) {
			fputs(" program ", out);
			esc_fputs(e->program, out);
		}
		if (e->pid >= 0)
			fprintf(out, " pid %d", (int)e->pid);
		if (e->user[0]) {
			fputs(" user ", out);
			esc_fputs(e->user, out);
		}
		fprintf(out, "\n");
	}
	free(v);
}

void report_print(struct report *r, FILE *out, const struct report_info *info)
{
	const struct report_counts *c = &r->c;
	int i;

	fputs("policy: ", out);
	esc_fputs(info->rules, out);
	fprintf(out, " (dynamic range %s %u-%u%s)\n",
		info->range_name, info->range.lo, info->range.hi,
		info->has_local ? ", local hosts given" : ", no local: all inbound");
	if (info->filter) {
		fputs("filter: ", out);
		esc_fputs(info->filter, out);
		fprintf(out, " (%" PRIu64 " frames left out)\n", c->filtered);
	}
	print_files(r, out);

	fprintf(out, "\nframes: %" PRIu64 ", bytes: %" PRIu64 "\n", c->frames,
		c->bytes);
	fprintf(out, "  %-10s %12s %14s\n", "protocol", "packets", "bytes");
	for (i = 0; i < PROTO_COUNT; i++)
		if (c->proto_pkts[i])
			fprintf(out, "  %-10s %12" PRIu64 " %14" PRIu64 "\n",
				packet_proto_name((enum packet_proto)i),
				c->proto_pkts[i], c->proto_bytes[i]);
	print_matrix(c, out);

	fprintf(out, "\nverdicts:");
	for (i = 0; i < VERDICT_COUNT; i++)
		fprintf(out, " %s %" PRIu64, verdict_name((enum verdict)i),
			c->verdicts[i]);
	fprintf(out, " (logged %" PRIu64 ")\nreasons:", c->logged);
	for (i = 0; i < REASON_COUNT; i++)
		fprintf(out, " %s %" PRIu64,
			decision_reason_name((enum decision_reason)i),
			c->reasons[i]);
	fprintf(out, "\n");
	print_bad(c, out);
	print_kernel(c, out, info);
	print_alerts(r, out);
	if (c->undetermined || !info->have_listeners)
		fprintf(out, "undetermined: %" PRIu64 " connection attempts%s\n",
			c->undetermined,
			info->have_listeners ? "" :
			" (no --listeners snapshot: owners unknown)");
	if (info->compare)
		print_diffs(r, out, info);
	print_seen(r, out, info);
	fprintf(out, "\nflows: %" PRIu64 " created, %" PRIu64 " evicted, %" PRIu64
		" expired, %" PRIu64 " picked up, %" PRIu64 " forgotten\n",
		info->flows.created, info->flows.evicted, info->flows.expired,
		info->flows.pickups, info->flows.forgotten);
}
