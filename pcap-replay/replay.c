/*
 * replay: see replay.h.  The loop is the hot path of a multi-million
 * packet run: no allocation per packet, counters bumped in place, JSON
 * formatted only for lines that are printed.
 *
 * One file over 800 lines on purpose: the read-ahead ring, the kernel's
 * view in front of the queue and the dump writers all work on struct
 * replay's per-run state inside the one loop; private here, the state has
 * one owner and the per-frame steps stay static to it.
 */
#include "replay.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "capfile.h"
#include "decision.h"
#include "linktype.h"
#include "mapread.h"
#include "packet.h"
#include "pipeline.h"
#include "progress.h"
#include "seen.h"

#define PROG "portclass-replay"
/* Written files get a generous snap length: libpcap cuts records longer
 * than the header's, and later inputs may have a larger one than the
 * first. */
#define DUMP_SNAPLEN 262144
#define READ_BUF (1u << 20)
/*
 * Frames in flight between reading and deciding (a power of two).  The
 * flow lookup of a frame is a cache miss in a large table; reading and
 * parsing a few frames ahead and prefetching their flow entries lets
 * those misses overlap the work on the frames before them.  libpcap
 * reuses its buffer for every frame, so each one in flight is copied.
 */
#define AHEAD 4
/*
 * With deciding threads (jobs > 1): frames per batch, and batches in
 * flight.  A batch costs one lock round per thread; a thousand frames
 * make that noise, and four batches let the reader run ahead of the
 * deciders while the oldest is reported.
 */
#define BATCH 1024
#define DEPTH 4

/* What frame_prep made of a frame, for the deciding step. */
enum slot_kind {
	SLOT_NON_IP = 0,    /* not IP, or the link layer is cut */
	SLOT_KERNEL_DROP,   /* the IP layer drops it before the firewall */
	SLOT_FRAGMENT,	    /* a fragment reassembly held or dropped */
	SLOT_DECIDE,	    /* conntrack, the queue, the decision */
};

struct dump {
	const char *path;
	pcap_t *dead;
	pcap_dumper_t *d;
	int dlt;
};

/* A frame read but not decided yet: its header, its bytes (a copy) and
 * what the link layer and packet_parse made of them. */
struct slot {
	struct pcap_pkthdr h;
	uint64_t frame;
	enum linktype_result lr;
	struct packet p;	/* p.data points into bytes */
	const u_char *bytes;	/* buf, or the frame in the mapped file */
	u_char *buf;
	size_t cap;
	/* frame_prep */
	uint8_t kind;		/* enum slot_kind */
	uint8_t rr;		/* SLOT_FRAGMENT: enum reasm_result */
	uint8_t reassembled;	/* pp is the datagram this frame completed */
	uint16_t shard;		/* jobs > 1: the deciding thread */
	const struct packet *pp; /* the packet counted: &p or &whole */
	const struct packet *dp; /* the packet decided: pp or &dq */
	struct packet whole, dq;
	u_char *wbuf;		/* jobs > 1: a copy of the datagram */
	size_t wcap;
	/* frame_verdict (SLOT_DECIDE), frame_prep (SLOT_KERNEL_DROP) */
	struct flow_result fr;
	uint8_t qs;		/* enum queuesel_result */
	uint8_t clocked;	/* deciding it set its flow table's clock */
	struct decision d, d2;
};

/* One deciding thread's flows (jobs > 1). */
struct shard {
	struct flow_table *flows, *flows2;
	uint16_t idx[BATCH];	/* its frames in the batch at hand */
};

struct batch {
	struct slot s[BATCH];
	unsigned n;
};

struct replay {
	struct replay_opts o;
	struct queuesel *own_sel;	/* o.sel when the caller gave none */
	struct flow_table *flows, *flows2;
	struct reasm *reasm;
	struct report_counts *c;
	struct port_range dyn;
	int has_local;
	struct dump passed, dropped;
	/* the dumpers the current file writes to (NULL: none, or a link
	 * type the file cannot take) */
	pcap_dumper_t *cur_passed, *cur_dropped;
	int dump_failed;
	struct jsonw w;
	char *iobuf;		/* stdio buffer of the capture being read */
	struct slot ring[AHEAD];
	/* jobs > 1 */
	uint64_t clock_ns;	/* time of the latest frame, in capture order,
				 * that set its shard's clock */
	unsigned jobs;
	struct pipeline *pl;
	struct shard *shards;	/* jobs */
	struct batch *batches;	/* DEPTH */
	unsigned fidx;		/* the file of the batches in flight */
	int wbuf_failed;
};

static void par_work(void *ctx, unsigned worker, unsigned batch);

/* Each shard holds an equal part of the bound (at least one flow). */
static int shards_new(struct replay *r)
{
	struct flow_opts fo = r->o.flow;
	size_t max = fo.max_flows ? fo.max_flows : 4194304;

	fo.max_flows = max / r->jobs ? max / r->jobs : 1;
	r->shards = calloc(r->jobs, sizeof(*r->shards));
	r->batches = calloc(DEPTH, sizeof(*r->batches));
	if (!r->shards || !r->batches)
		return -1;
	for (unsigned i = 0; i < r->jobs; i++) {
		r->shards[i].flows = flow_new(&fo);
		if (!r->shards[i].flows)
			return -1;
		if (r->o.rs2 && queuesel_is_all(r->o.sel)) {
			r->shards[i].flows2 = flow_new(&fo);
			if (!r->shards[i].flows2)
				return -1;
		}
	}
	r->pl = pipeline_new(r->jobs, DEPTH, par_work, r);
	return r->pl ? 0 : -1;
}

struct replay *replay_new(const struct replay_opts *o, char *err,
			  size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->o = *o;
	if (!o->sel) {
		/* none given: the bundled selector */
		r->own_sel = queuesel_default();
		if (!r->own_sel) {
			snprintf(err, errlen, "out of memory");
			free(r);
			return NULL;
		}
		r->o.sel = r->own_sel;
	}
	o = &r->o;
	r->jobs = o->jobs > REPLAY_MAX_JOBS ? REPLAY_MAX_JOBS : o->jobs;
	r->reasm = reasm_new(&o->reasm);
	if (!r->reasm) {
		snprintf(err, errlen, "flow table: %s", strerror(errno));
		replay_free(r);
		return NULL;
	}
	if (r->jobs > 1) {
		if (shards_new(r) < 0) {
			snprintf(err, errlen, "deciding threads: %s",
				 strerror(errno));
			replay_free(r);
			return NULL;
		}
	} else {
		r->jobs = 1;
		r->flows = flow_new(&o->flow);
		/* With the kernel model both policies see conntrack's one
		 * view; with every packet handed over each keeps its own
		 * table. */
		if (o->rs2 && queuesel_is_all(o->sel))
			r->flows2 = flow_new(&o->flow);
		if (!r->flows ||
		    (o->rs2 && queuesel_is_all(o->sel) && !r->flows2)) {
			snprintf(err, errlen, "flow table: %s", strerror(errno));
			replay_free(r);
			return NULL;
		}
	}
	r->c = report_counts(o->rep);
	r->dyn = ruleset_dynamic_range(o->rs);
	r->has_local = ruleset_has_local(o->rs);
	r->passed.path = o->write_passed;
	r->dropped.path = o->write_dropped;
	r->passed.dlt = r->dropped.dlt = -1;
	jsonw_init(&r->w);
	r->iobuf = malloc(READ_BUF); /* without it, stdio's default */
	return r;
}

/* libpcap puts the file name in front of some messages and not others;
 * ours always name the file once. */
static const char *without_path(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static void dump_close(struct dump *d, int *failed)
{
	if (d->d) {
		if (pcap_dump_flush(d->d) < 0 || ferror(pcap_dump_file(d->d))) {
			fprintf(stderr, PROG ": %s: write error\n", d->path);
			*failed = 1;
		}
		pcap_dump_close(d->d);
		d->d = NULL;
	}
	if (d->dead) {
		pcap_close(d->dead);
		d->dead = NULL;
	}
}

void replay_free(struct replay *r)
{
	int failed = 0;

	if (!r)
		return;
	pipeline_free(r->pl); /* the threads first: they use the rest */
	if (r->shards) {
		for (unsigned i = 0; i < r->jobs; i++) {
			flow_free(r->shards[i].flows);
			flow_free(r->shards[i].flows2);
		}
		free(r->shards);
	}
	if (r->batches) {
		for (unsigned b = 0; b < DEPTH; b++)
			for (unsigned i = 0; i < BATCH; i++) {
				free(r->batches[b].s[i].buf);
				free(r->batches[b].s[i].wbuf);
			}
		free(r->batches);
	}
	dump_close(&r->passed, &failed);
	dump_close(&r->dropped, &failed);
	flow_free(r->flows);
	flow_free(r->flows2);
	reasm_free(r->reasm);
	queuesel_free(r->own_sel);
	jsonw_free(&r->w);
	free(r->iobuf);
	for (int i = 0; i < AHEAD; i++) {
		free(r->ring[i].buf);
		free(r->ring[i].wbuf);
	}
	free(r);
}

void replay_flow_stats(const struct replay *r, struct flow_stats *out)
{
	struct flow_stats t;

	if (r->flows) {
		flow_get_stats(r->flows, out);
		return;
	}
	/* Every shard counts what has expired by the time of the stream's
	 * latest frame to reach a table, as one table would. */
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; r->shards && i < r->jobs; i++) {
		flow_get_stats_at(r->shards[i].flows, r->clock_ns, &t);
		out->flows += t.flows;
		out->created += t.created;
		out->evicted += t.evicted;
		out->expired += t.expired;
		out->grown += t.grown;
		out->pickups += t.pickups;
		out->forgotten += t.forgotten;
		if (t.probe_max > out->probe_max)
			out->probe_max = t.probe_max;
		out->bytes += t.bytes;
	}
}

void replay_reasm_stats(const struct replay *r, struct reasm_stats *out)
{
	reasm_get_stats(r->reasm, out);
}

int replay_finish(struct replay *r)
{
	dump_close(&r->passed, &r->dump_failed);
	dump_close(&r->dropped, &r->dump_failed);
	return r->dump_failed ? -1 : 0;
}

/*
 * Opens a --write-* file with the link type of the first capture.  A later
 * capture of another link type cannot go into the same pcap file; its
 * packets are left out and the run ends with an input error.
 */
static int dump_prepare(struct dump *d, int dlt, const char *input,
			int *failed)
{
	if (!d->path)
		return 0;
	if (!d->d) {
		if (d->dlt >= 0)
			return -1; /* opening failed before */
		d->dlt = dlt;
		d->dead = pcap_open_dead_with_tstamp_precision(
			dlt, DUMP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
		if (!d->dead) {
			fprintf(stderr, PROG ": %s: cannot create a pcap handle\n",
				d->path);
			*failed = 1;
			return -1;
		}
		d->d = pcap_dump_open(d->dead, d->path);
		if (!d->d) {
			fprintf(stderr, PROG ": %s: %s\n", d->path,
				without_path(pcap_geterr(d->dead), d->path));
			*failed = 1;
			return -1;
		}
		return 0;
	}
	if (d->dlt != dlt) {
		fprintf(stderr,
			PROG ": %s: link type %s differs from %s of the first "
			"capture; its packets are not written to %s\n",
			input, pcap_datalink_val_to_name(dlt) ?
				pcap_datalink_val_to_name(dlt) : "?",
			pcap_datalink_val_to_name(d->dlt) ?
				pcap_datalink_val_to_name(d->dlt) : "?",
			d->path);
		*failed = 1;
		return -1;
	}
	return 0;
}

/* Who held the answering socket, by the snapshot: the point of the
 * audit is to name the program behind a rogue listener. */
static void note_owner(struct replay *r, struct seen_entry *e,
		       const struct packet *p)
{
	struct listener *l;
	const struct listener_owner *o;

	l = listener_table_find(r->o.listeners, p->proto, p->family, p->src,
				p->sport);
	o = l ? listener_owner(r->o.listeners, l) : NULL;
	if (!o)
		return;
	e->pid = o->pid;
	snprintf(e->program, sizeof(e->program), "%s", o->program);
	snprintf(e->user, sizeof(e->user), "%s", o->user);
}

/* A listener answered: record it and whether the policy expects it. */
static void note_listener(struct replay *r, const struct packet *p,
			  uint64_t ts)
{
	struct seen_entry *e;
	struct packet q = *p;
	const char *file = NULL;
	unsigned line = 0;
	enum expect_result er;

	e = seen_get(report_seen(r->o.rep), p->proto, p->family, p->src,
		     p->sport);
	if (!e)
		return;
	/* ask about the attempt this packet answers: the reverse direction */
	memcpy(q.src, p->dst, 16);
	memcpy(q.dst, p->src, 16);
	q.sport = p->dport;
	q.dport = p->sport;
	q.conn_attempt = 1;
	q.tcp_flags = PACKET_TCP_SYN;
	er = ruleset_expect(r->o.rs, &q, r->o.listeners, &file, &line);
	if (e->answers++ == 0) {
		e->first_ns = ts;
		e->local = !r->has_local ||
			   ruleset_is_local(r->o.rs, p->family, p->src);
		e->pid = -1;
		if (r->o.listeners)
			note_owner(r, e, p);
	}
	if (er == EXPECT_YES) {
		e->expected++;
		if (!e->expect_file) {
			e->expect_file = file;
			e->expect_line = line;
		}
	} else if (er == EXPECT_UNDETERMINED) {
		e->undetermined++;
	}
}

static const struct packet non_ip_packet = { .proto = PROTO_NON_IP };

static int multicast_or_broadcast(const struct packet *p)
{
	if (p->family == 4)
		return (p->dst[0] & 0xf0) == 0xe0 ||
		       !memcmp(p->dst, "\xff\xff\xff\xff", 4);
	return p->family == 6 && p->dst[0] == 0xff;
}

/*
 * Where the packet went, from the host addresses a listener snapshot
 * records (none: unknown, and `local` decides, as before): to one of them,
 * or to a multicast or broadcast address, from elsewhere, it was addressed
 * to this host (as a packet the daemon sees at INPUT); from one of them to
 * one of them it is the host talking to itself.
 */
static void set_origin(const struct replay *r, struct packet *p)
{
	const struct listener_table *t = r->o.listeners;
	int from_host, to_host;

	if (!t || !listener_table_host_count(t) || !p->family)
		return;
	from_host = listener_table_is_host(t, p->family, p->src);
	to_host = listener_table_is_host(t, p->family, p->dst);
	if (from_host && to_host)
		p->origin = PACKET_ORIGIN_LOOPBACK;
	else if (!from_host && (to_host || multicast_or_broadcast(p)))
		p->origin = PACKET_ORIGIN_HOST;
}

/* Whether p's flow is tracked: always, unless the output shows alerts
 * only and p's flow cannot give one (portset.h). */
static inline int tracked(const struct replay *r, const struct packet *p)
{
	return !r->o.track || portset_flow(r->o.track, p);
}

/* Finds the IP packet in a frame's bytes, parses it, and starts loading
 * its flow entries. */
static void frame_parse(struct replay *r, struct slot *s, int dlt,
			const u_char *bytes)
{
	size_t off = 0;

	s->lr = linktype_strip(dlt, bytes, s->h.caplen, &off);
	if (s->lr != LINKTYPE_IP)
		return;
	packet_parse(&s->p, bytes + off, s->h.caplen - off);
	set_origin(r, &s->p);
	if (!s->p.fragment && r->flows && tracked(r, &s->p))
		flow_prefetch(r->flows, &s->p);
	if (r->flows2)
		flow_prefetch(r->flows2, &s->p);
}

/* First half of a frame: slot s holds it (a copy, unless mapped: a
 * mapped frame stays where it is until the ring is drained), parsed.
 * Returns -1 (nothing kept) when the copy cannot be allocated. */
static int frame_load(struct replay *r, struct slot *s, int dlt,
		      uint64_t frame, const struct pcap_pkthdr *h,
		      const u_char *data, int mapped)
{
	if (mapped) {
		s->bytes = data;
		goto loaded;
	}
	/* !s->buf: a first frame of caplen 0 still needs a buffer, as
	 * memcpy to NULL is undefined even for 0 bytes */
	if (h->caplen > s->cap || !s->buf) {
		size_t cap = s->cap ? s->cap : 2048;
		u_char *nb;

		while (cap < h->caplen)
			cap *= 2;
		nb = malloc(cap);
		if (!nb)
			return -1;
		free(s->buf);
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf, data, h->caplen);
	s->bytes = s->buf;
loaded:
	s->h = *h;
	s->frame = frame;
	frame_parse(r, s, dlt, s->bytes);
	return 0;
}

/* A decision the engine did not make: what the kernel does with a packet
 * it does not queue, or could not be told. */
static void kernel_decision(const struct replay *r, const struct packet *p,
			    enum verdict v, enum decision_reason why,
			    struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = v;
	d->reason = why;
	d->listener = -1;
	if (p->has_ports) {
		d->sclass = class_of(p->sport);
		d->dclass = class_of(p->dport);
		d->dyn_dport = range_contains(&r->dyn, p->dport);
	}
	d->dir = decision_direction(r->o.rs, p);
}

/*
 * ip_rcv_core drops an IPv4 packet whose header is bad (IHL, total
 * length) or whose header checksum is wrong before any netfilter hook:
 * no reassembly, no conntrack, no queue.  Linux always computes the
 * header checksum in software, so a capture holds it right.  Returns 1
 * for such a packet.  (A header not captured whole is not judged.)
 */
static int ipv4_kernel_drop(const struct packet *p)
{
	uint32_t sum = 0;
	uint16_t w = 0;
	uint8_t vihl;
	size_t hlen;

	if (p->family != 4)
		return 0;
	if (p->reason == PR_BAD_IPV4_IHL || p->reason == PR_BAD_IPV4_TOTLEN)
		return 1;
	if (packet_get_u8(p->data, p->caplen, 0, &vihl) < 0)
		return 0;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20 || hlen > p->caplen)
		return 0;
	for (size_t i = 0; i < hlen; i += 2) {
		(void)packet_get_be16(p->data, p->caplen, i, &w);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum != 0xffff;
}

/*
 * A packet cut by the capture whose deciding bytes are all there (the
 * ports; TCP's flags, SCTP's first chunk type, DCCP's packet type): the
 * kernel had it whole, so it is decided as if whole.  Fills *q and
 * returns 1, or returns 0.
 */
static int decidable_copy(const struct packet *p, struct packet *q)
{
	size_t n = packet_l4_len(p);
	uint8_t b = 0;

	if (p->status != PACKET_TRUNCATED || !p->has_ports)
		return 0;
	*q = *p;
	q->status = PACKET_OK;
	q->reason = PR_NONE;
	switch (p->proto) {
	case PROTO_TCP:
		if (n < 14)
			return 0;
		q->conn_attempt = (p->tcp_flags &
				   (PACKET_TCP_SYN | PACKET_TCP_ACK)) ==
				  PACKET_TCP_SYN;
		return 1;
	case PROTO_UDP:
	case PROTO_UDPLITE:
		return 1;
	case PROTO_SCTP:
		if (packet_get_u8(p->data + p->l4_off, n, 12, &b) < 0)
			return 0;
		q->conn_attempt = b == 1;
		return 1;
	case PROTO_DCCP:
		if (packet_get_u8(p->data + p->l4_off, n, 8, &b) < 0)
			return 0;
		q->conn_attempt = ((b >> 1) & 0xf) == 0;
		return 1;
	default:
		return 0;
	}
}

/*
 * The kernel in front of the queue: conntrack's state and the queue
 * selector.  Fills *d (the engine's decision for queued packets) and
 * returns what the firewall does with p.
 */
static enum queuesel_result kernel_view(const struct replay *r,
					const struct ruleset *rs,
					const struct packet *p, uint64_t ts,
					const struct flow_result *fr,
					struct decision *d)
{
	const struct ruleset_summary *sum = ruleset_summary(rs);
	/* what reaches this host's INPUT hook: from the network, or from
	 * the host itself over loopback */
	enum decision_dir dir = decision_direction(rs, p);
	int inbound = dir == DIR_IN || dir == DIR_LOOPBACK;
	enum queuesel_result qs;

	qs = queuesel_match(r->o.sel, p, fr->ct, inbound);
	/* What cannot be read is never waved through: an IP header cut
	 * before its protocol or ports is not known to be outside. */
	if (qs == QS_OUTSIDE && p->status == PACKET_TRUNCATED &&
	    !p->has_ports &&
	    (inbound || p->reason == PR_TRUNC_IP_VERSION ||
	     p->reason == PR_TRUNC_IPV4_HEADER ||
	     p->reason == PR_TRUNC_IPV6_HEADER))
		qs = QS_UNDETERMINED;
	switch (qs) {
	case QS_QUEUED:
		decision_make(rs, NULL, r->o.listeners, p, ts, 1, d);
		d->retransmit = fr->retransmit;
		d->reply = fr->reply;
		break;
	case QS_OUTSIDE:
	case QS_NOT_NEW:
		kernel_decision(r, p, VERDICT_PASS, REASON_NOT_QUEUED, d);
		d->is_new = fr->is_new;
		d->retransmit = fr->retransmit;
		d->reply = fr->reply;
		break;
	case QS_INVALID:
		kernel_decision(r, p,
				queuesel_invalid_drop(r->o.sel) ? VERDICT_DROP
								: VERDICT_PASS,
				REASON_CT_INVALID, d);
		break;
	default:
		kernel_decision(r, p, (enum verdict)sum->def_verdict,
				REASON_UNDECIDED, d);
		d->is_new = fr->is_new;
		break;
	}
	return qs;
}

static uint64_t slot_ts(const struct slot *s)
{
	/* nanoseconds: opened NANO */
	return (uint64_t)s->h.ts.tv_sec * 1000000000ull +
	       (uint64_t)s->h.ts.tv_usec;
}

/*
 * What happens to the frame before conntrack, in capture order: the IP
 * layer's drop, then nf_defrag (before conntrack and before any queue
 * rule: a fragment is decided with its datagram, on the frame that
 * completes it).  Sets s->kind, s->pp and s->dp.  copy: the datagram a
 * fragment completes is copied into the slot (reassembly reuses its
 * buffer on the next fragment); else s->whole points into reassembly's
 * buffer until the next call.
 */
static void frame_prep(struct replay *r, struct slot *s, int copy)
{
	const struct packet *p = &s->p;

	s->pp = s->dp = p;
	s->reassembled = 0;
	s->clocked = 0;
	if (s->lr != LINKTYPE_IP) {
		s->kind = SLOT_NON_IP;
		return;
	}
	if (!queuesel_is_all(r->o.sel) && ipv4_kernel_drop(p)) {
		s->kind = SLOT_KERNEL_DROP;
		memset(&s->fr, 0, sizeof(s->fr));
		kernel_decision(r, p, VERDICT_DROP, REASON_KERNEL_DROP, &s->d);
		s->d2 = s->d;
		s->qs = QS_OUTSIDE;
		return;
	}
	if (p->fragment) {
		const uint8_t *dg;
		size_t dglen;
		enum reasm_result rr = reasm_add(r->reasm, p->data, p->caplen,
						 slot_ts(s), &dg, &dglen);

		if (rr == REASM_DONE && copy && dglen > s->wcap) {
			u_char *nb = malloc(dglen);

			if (nb) {
				free(s->wbuf);
				s->wbuf = nb;
				s->wcap = dglen;
			} else {
				if (!r->wbuf_failed)
					fprintf(stderr, PROG ": out of memory: "
						"a reassembled datagram is "
						"counted as dropped\n");
				r->wbuf_failed = 1;
				rr = REASM_DROPPED;
			}
		}
		if (rr == REASM_DONE) {
			if (copy) {
				memcpy(s->wbuf, dg, dglen);
				dg = s->wbuf;
			}
			packet_parse(&s->whole, dg, dglen);
			s->pp = s->dp = &s->whole;
			s->reassembled = 1;
		} else if (rr != REASM_NONE) {
			s->kind = SLOT_FRAGMENT;
			s->rr = (uint8_t)rr;
			return;
		}
	}
	s->kind = SLOT_DECIDE;
	if (s->pp->status == PACKET_TRUNCATED && decidable_copy(s->pp, &s->dq))
		s->dp = &s->dq;
}

/*
 * Conntrack's view, the queue selector and the decisions of a SLOT_DECIDE
 * frame, on the given flow tables.  Reads r but never writes it: with
 * jobs > 1 the deciding threads run this concurrently, each on its own
 * tables and its own frames.
 */
static void frame_verdict(const struct replay *r, struct flow_table *flows,
			  struct flow_table *flows2, struct slot *s)
{
	uint64_t ts = slot_ts(s), ticks;
	int all = queuesel_is_all(r->o.sel);

	memset(&s->fr, 0, sizeof(s->fr));
	s->qs = QS_QUEUED;
	if (!tracked(r, s->dp))
		flows = NULL;
	ticks = flows ? flow_ticks(flows) : 0;
	if (all) {
		decision_make(r->o.rs, flows, r->o.listeners, s->dp, ts, -1,
			      &s->d);
	} else {
		if (flows)
			flow_conntrack(flows, s->dp, ts, &s->fr);
		s->qs = (uint8_t)kernel_view(r, r->o.rs, s->dp, ts, &s->fr,
					     &s->d);
	}
	s->clocked = flows && flow_ticks(flows) != ticks;
	if (!r->o.rs2)
		return;
	if (all)
		decision_make(r->o.rs2, flows2, r->o.listeners, s->dp, ts, -1,
			      &s->d2);
	else
		(void)kernel_view(r, r->o.rs2, s->dp, ts, &s->fr, &s->d2);
}

/* Last step: the counters, the output and the --write-* files, in frame
 * order, from what frame_prep and frame_verdict left in the slot. */
static void frame_post(struct replay *r, unsigned file, const struct slot *s,
		       const u_char *data)
{
	struct report_counts *c = r->c;
	const struct pcap_pkthdr *h = &s->h;
	uint64_t frame = s->frame;
	uint64_t ts = slot_ts(s);
	const struct packet *p = s->pp, *dp = s->dp;
	const struct decision *d = &s->d;
	struct report_kernel k = { NULL, NULL, NULL };
	enum queuesel_result qs = (enum queuesel_result)s->qs;
	int attempt, alert, all = queuesel_is_all(r->o.sel);

	c->frames++;
	c->bytes += h->len;
	if (s->clocked)
		r->clock_ns = ts;
	switch (s->kind) {
	case SLOT_NON_IP:
		c->proto_pkts[PROTO_NON_IP]++;
		c->proto_bytes[PROTO_NON_IP] += h->len;
		if (s->lr == LINKTYPE_TRUNCATED)
			c->trunc_link++;
		if (r->o.jsonl && r->o.events_packets)
			report_jsonl_packet(r->o.rep, &r->w, r->o.out, file,
					    frame, ts, &non_ip_packet, NULL,
					    NULL);
		return;
	case SLOT_FRAGMENT: {
		struct packet f = s->p;

		/* the ports belong to the datagram */
		f.has_ports = 0;
		c->proto_pkts[f.proto]++;
		c->proto_bytes[f.proto] += h->len;
		if (s->rr == REASM_HELD)
			c->frag_held++;
		else
			c->frag_dropped++;
		k.fragment = s->rr == REASM_HELD ? "held" : "dropped";
		if (r->o.jsonl && r->o.events_packets)
			report_jsonl_packet(r->o.rep, &r->w, r->o.out, file,
					    frame, ts, &f, NULL, &k);
		return;
	}
	case SLOT_KERNEL_DROP:
		k.queue = "kernel-drop";
		break;
	default:
		if (s->reassembled)
			k.fragment = "reassembled";
		if (!all) {
			c->ct[s->fr.ct]++;
			c->queue[qs]++;
			k.ct = flow_ct_name((enum flow_ct)s->fr.ct);
			k.queue = queuesel_result_name(qs);
			if (qs == QS_UNDETERMINED)
				c->undecided++;
		}
		break;
	}

	c->proto_pkts[p->proto]++;
	c->proto_bytes[p->proto] += h->len;
	c->matrix[d->sclass][d->dclass]++;
	c->verdicts[d->verdict]++;
	c->reasons[d->reason]++;
	c->blocked += (uint64_t)(qs == QS_QUEUED && d->verdict != VERDICT_PASS);
	c->bad[p->reason]++;
	c->logged += (uint64_t)(d->log != 0);
	attempt = d->is_new && !d->retransmit;
	alert = qs == QS_QUEUED && attempt && (d->alert || d->log);
	if (d->is_new) {
		c->attempts++;
		c->retransmits += (uint64_t)(d->retransmit != 0);
		if (attempt && d->reason == REASON_UNDETERMINED)
			c->undetermined++;
	}
	if (d->reply && dp->has_ports && range_contains(&r->dyn, dp->sport))
		note_listener(r, dp, ts);

	if (r->o.jsonl && r->o.events_packets)
		report_jsonl_packet(r->o.rep, &r->w, r->o.out, file, frame, ts,
				    p, d, all && !k.fragment ? NULL : &k);
	if (alert) {
		c->alerts++;
		if (!r->o.jsonl) {
			struct report_event e;

			report_event_fill(&e, file, frame, ts, p, d, NULL,
					  r->o.listeners);
			report_keep_alert(r->o.rep, &e);
		} else if (!r->o.events_packets) {
			report_jsonl_alert(r->o.rep, &r->w, r->o.out, file,
					   frame, ts, p, d, r->o.listeners);
		}
	}

	if (r->o.rs2) {
		const struct decision *d2 = &s->d2;

		if (d2->verdict != d->verdict) {
			c->diff_packets++;
			if (attempt || (d2->is_new && !d2->retransmit)) {
				c->diffs++;
				if (r->o.jsonl) {
					report_jsonl_diff(r->o.rep, &r->w,
							  r->o.out, file, frame,
							  ts, p, d, d2);
				} else {
					struct report_event e;

					report_event_fill(&e, file, frame, ts,
							  p, d, d2,
							  r->o.listeners);
					report_keep_diff(r->o.rep, &e);
				}
			}
		}
	}

	if (d->verdict == VERDICT_PASS) {
		if (r->cur_passed)
			pcap_dump((u_char *)r->cur_passed, h, data);
	} else if (r->cur_dropped) {
		pcap_dump((u_char *)r->cur_dropped, h, data);
	}
}

/* One frame, all steps, on this thread's tables (jobs 1). */
static void frame_decide(struct replay *r, unsigned file, struct slot *s,
			 const u_char *data)
{
	frame_prep(r, s, 0);
	if (s->kind == SLOT_DECIDE)
		frame_verdict(r, r->flows, r->flows2, s);
	frame_post(r, file, s, data);
}

/*
 * Opens the stream itself so that it reads through a large buffer: with
 * stdio's default of one page, a multi-gigabyte capture costs a read(2)
 * per few packets.  pcap_close() closes the stream.
 */
static pcap_t *open_capture(struct replay *r, const char *path, char *errbuf)
{
	FILE *f;
	pcap_t *pc;

	/* gzip, xz and zstd captures are inflated as libpcap reads them */
	f = capfile_open(path, errbuf, PCAP_ERRBUF_SIZE);
	if (!f)
		return NULL;
	if (r->iobuf)
		setvbuf(f, r->iobuf, _IOFBF, READ_BUF);
	/* Only this thread reads the stream: libpcap's two freads per
	 * frame need not take the stream's lock. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	pc = pcap_fopen_offline_with_tstamp_precision(
		f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc)
		fclose(f); /* stdin too: its buffer is ours and goes away */
	return pc;
}

/*
 * The deciding thread of a flow: a hash of its key that is the same for
 * both directions.  Not keyed: traffic crafted to land in one shard only
 * makes that thread busier, the answers stay the same.
 */
static unsigned shard_of(const struct packet *p, unsigned n)
{
	uint64_t a[2], b[2], ha, hb, h;

	memcpy(a, p->src, 16);
	memcpy(b, p->dst, 16);
	ha = (a[0] ^ (a[1] * 0x9e3779b97f4a7c15ull)) +
	     (uint64_t)(p->has_ports ? p->sport : 0) * 0xc2b2ae3d27d4eb4full;
	hb = (b[0] ^ (b[1] * 0x9e3779b97f4a7c15ull)) +
	     (uint64_t)(p->has_ports ? p->dport : 0) * 0xc2b2ae3d27d4eb4full;
	/* a sum: the same whichever end is the source */
	h = (ha + hb) ^ ((uint64_t)p->proto << 8 | p->family);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (unsigned)((h & 0xffffffffu) * n >> 32);
}

/* Deciding thread `worker`: its frames of the batch, on its tables,
 * each flow entry loaded a few frames ahead. */
static void par_work(void *ctx, unsigned worker, unsigned batch)
{
	const struct replay *r = ctx;
	struct batch *b = &r->batches[batch];
	struct shard *sh = &r->shards[worker];
	unsigned m = 0;

	for (unsigned i = 0; i < b->n; i++)
		if (b->s[i].kind == SLOT_DECIDE && b->s[i].shard == worker)
			sh->idx[m++] = (uint16_t)i;
	for (unsigned j = 0; j < m; j++) {
		if (j + AHEAD < m) {
			const struct packet *q = b->s[sh->idx[j + AHEAD]].dp;

			flow_prefetch(sh->flows, q);
			if (sh->flows2)
				flow_prefetch(sh->flows2, q);
		}
		frame_verdict(r, sh->flows, sh->flows2, &b->s[sh->idx[j]]);
	}
}

/* Reports the batches the deciders are done with, oldest first; wait:
 * every batch in flight. */
static void par_report(struct replay *r, int wait)
{
	int bi;

	while ((bi = pipeline_oldest(r->pl, wait)) >= 0) {
		struct batch *b = &r->batches[bi];

		for (unsigned i = 0; i < b->n; i++)
			frame_post(r, r->fidx, &b->s[i], b->s[i].bytes);
		b->n = 0;
		pipeline_release(r->pl);
	}
}

/* Hands the batch being filled to the deciders, and makes room for the
 * next one. */
static void par_submit(struct replay *r)
{
	if (r->batches[pipeline_next(r->pl)].n)
		pipeline_submit(r->pl);
	par_report(r, 0);
	if (pipeline_in_flight(r->pl) == DEPTH) {
		if (pipeline_oldest(r->pl, 1) >= 0)
			par_report(r, 0);
	}
}

/* Every frame read so far decided and reported. */
static void par_flush(struct replay *r)
{
	par_submit(r);
	par_report(r, 1);
}

/* A frame read, with deciding threads: into the batch being filled. */
static void par_frame(struct replay *r, int dlt, uint64_t frame,
		      const struct pcap_pkthdr *h, const u_char *data,
		      int mapped)
{
	struct batch *b = &r->batches[pipeline_next(r->pl)];
	struct slot *s = &b->s[b->n];

	if (frame_load(r, s, dlt, frame, h, data, mapped) < 0) {
		/* No memory for a copy: decide what is in flight, then
		 * this frame where libpcap holds it, on this thread (the
		 * deciders are idle). */
		struct slot tmp;
		struct shard *sh;

		par_flush(r);
		memset(&tmp, 0, sizeof(tmp));
		tmp.h = *h;
		tmp.frame = frame;
		frame_parse(r, &tmp, dlt, data);
		frame_prep(r, &tmp, 0);
		if (tmp.kind == SLOT_DECIDE) {
			sh = &r->shards[shard_of(tmp.dp, r->jobs)];
			frame_verdict(r, sh->flows, sh->flows2, &tmp);
		}
		frame_post(r, r->fidx, &tmp, data);
		return;
	}
	frame_prep(r, s, 1);
	if (s->kind == SLOT_DECIDE)
		s->shard = (uint16_t)shard_of(s->dp, r->jobs);
	if (++b->n == BATCH)
		par_submit(r);
}

/* Decides every frame in flight: ring[*head..tail), or with deciding
 * threads every batch. */
static void drain(struct replay *r, unsigned fidx, unsigned *head,
		  unsigned tail)
{
	if (r->pl) {
		par_flush(r);
		return;
	}
	for (; *head != tail; (*head)++) {
		struct slot *q = &r->ring[*head & (AHEAD - 1)];

		frame_decide(r, fidx, q, q->bytes);
	}
}

/*
 * The next frame, as pcap_next_ex answers: from the mapped file while
 * *mp is set, else from libpcap.  Frames in flight are decided before a
 * mapped window goes away.  When the mapped walk meets a record it leaves
 * to libpcap, libpcap skips the records already walked and takes over for
 * the rest of the file (see mapread.h).
 */
static int frame_next(struct replay *r, unsigned fidx, pcap_t *pc,
		      struct mapread **mp, unsigned *head, unsigned tail,
		      struct pcap_pkthdr *hbuf, struct pcap_pkthdr **h,
		      const u_char **data)
{
	struct mapread *m = *mp;
	uint64_t skip;
	int rc;

	if (!m)
		return pcap_next_ex(pc, h, data);
	for (;;) {
		switch (mapread_next(m, hbuf, data)) {
		case MAPREAD_FRAME:
			*h = hbuf;
			return 1;
		case MAPREAD_END:
			return PCAP_ERROR_BREAK;
		case MAPREAD_MOVE:
			drain(r, fidx, head, tail);
			if (mapread_advance(m) == 0)
				continue;
			break;
		case MAPREAD_OTHER:
			break;
		}
		break;
	}
	drain(r, fidx, head, tail);
	skip = mapread_done(m);
	mapread_close(m);
	*mp = NULL;
	for (; skip; skip--) {
		rc = pcap_next_ex(pc, h, data);
		if (rc != 1)
			return rc;
	}
	return pcap_next_ex(pc, h, data);
}

int replay_file(struct replay *r, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int have_prog = 0, dlt, rc, ret = 0, fidx;
	const char *dlt_name;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frame = 0;
	unsigned head = 0, tail = 0; /* frames in flight: ring[head..tail) */
	struct progress pg;
	struct pcap_pkthdr hbuf;
	struct mapread *m = NULL;
	pcap_t *pc;

	fidx = report_add_file(r->o.rep, path);
	if (fidx < 0) {
		fprintf(stderr, PROG ": %s: out of memory\n", path);
		return -1;
	}
	r->fidx = (unsigned)fidx;
	pc = open_capture(r, path, errbuf);
	if (!pc) {
		const char *msg = without_path(errbuf, path);

		fprintf(stderr, PROG ": %s: %s\n", path, msg);
		report_file_error(r->o.rep, (unsigned)fidx, 0, msg);
		return -1;
	}
	dlt = pcap_datalink(pc);
	dlt_name = pcap_datalink_val_to_name(dlt);
	report_file_linktype(r->o.rep, (unsigned)fidx, dlt, dlt_name,
			     linktype_supported(dlt));
	if (!linktype_supported(dlt)) {
		if (dlt_name)
			fprintf(stderr, PROG ": %s: unsupported link type %s "
				"(%d), file skipped\n", path, dlt_name, dlt);
		else
			fprintf(stderr, PROG ": %s: unsupported link type %d "
				"(unknown to libpcap), file skipped\n", path, dlt);
		pcap_close(pc);
		return -1;
	}
	if (r->o.filter) {
		if (pcap_compile(pc, &prog, r->o.filter, 1,
				 PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(errbuf, sizeof(errbuf), "filter: %s",
				 pcap_geterr(pc));
			fprintf(stderr, PROG ": %s: %s\n", path, errbuf);
			report_file_error(r->o.rep, (unsigned)fidx, 0, errbuf);
			pcap_close(pc);
			return -1;
		}
		have_prog = 1;
	}
	r->cur_passed = r->cur_dropped = NULL;
	if (dump_prepare(&r->passed, dlt, path, &r->dump_failed) == 0)
		r->cur_passed = r->passed.d;
	else
		ret = -1;
	if (dump_prepare(&r->dropped, dlt, path, &r->dump_failed) == 0)
		r->cur_dropped = r->dropped.d;
	else
		ret = -1;

	progress_begin(&pg, r->o.progress, path, pcap_file(pc));
	if (!r->o.no_mmap)
		m = mapread_open(pc, r->o.mmap_window);
	if (m)
		progress_follow(&pg, mapread_offset(m));
	/*
	 * The filter runs here rather than through pcap_setfilter so that
	 * frames it leaves out still count: frame numbers then match
	 * tcpdump's and tshark's for the unfiltered file.
	 */
	while ((rc = frame_next(r, (unsigned)fidx, pc, &m, &head, tail, &hbuf,
				&h, &data)) == 1) {
		struct slot *s;

		frame++;
		if ((frame & (PROGRESS_EVERY - 1)) == 0)
			progress_tick(&pg, frame);
		if (have_prog && !pcap_offline_filter(&prog, h, data)) {
			r->c->filtered++;
			continue;
		}
		if (r->pl) {
			par_frame(r, dlt, frame, h, data, m != NULL);
			continue;
		}
		if (tail - head == AHEAD) {
			s = &r->ring[head++ & (AHEAD - 1)];
			frame_decide(r, (unsigned)fidx, s, s->bytes);
		}
		s = &r->ring[tail & (AHEAD - 1)];
		if (frame_load(r, s, dlt, frame, h, data, m != NULL) == 0) {
			tail++;
			continue;
		}
		/* No memory for a copy: decide what is in flight, then
		 * this frame where libpcap holds it. */
		drain(r, (unsigned)fidx, &head, tail);
		{
			struct slot tmp;

			tmp.h = *h;
			tmp.frame = frame;
			frame_parse(r, &tmp, dlt, data);
			frame_decide(r, (unsigned)fidx, &tmp, data);
		}
	}
	drain(r, (unsigned)fidx, &head, tail);
	mapread_close(m);
	m = NULL;
	progress_end(&pg);
	report_file_frames(r->o.rep, (unsigned)fidx, frame);
	if (rc == PCAP_ERROR) {
		snprintf(errbuf, sizeof(errbuf), "%s", pcap_geterr(pc));
		fprintf(stderr, PROG ": %s: read error after %llu frames: %s\n",
			path, (unsigned long long)frame, errbuf);
		report_file_error(r->o.rep, (unsigned)fidx, frame, errbuf);
		ret = -1;
	}
	if (have_prog)
		pcap_freecode(&prog);
	pcap_close(pc);
	return ret;
}
