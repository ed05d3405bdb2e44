/* worker: see worker.h. */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "clock.h"
#include "decision.h"
#include "event.h"
#include "eve.h"
#include "jsonw.h"
#include "listener.h"
#include "log.h"
#include "packet.h"
#include "policy.h"
#include "resolver.h"
#include "sandbox.h"
#include "sockdiag.h"

/* Packet messages read per wake-up before the verdicts are sent. */
#define WORKER_BATCH 64
/* How long a log line waits for its listener's owner from the resolver;
 * the verdict never waits.  Past it the line goes out with the owner
 * unknown (null). */
#define WORKER_OWNER_WAIT_NS (1000ull * 1000000u)
#define WORKER_WAITING_MAX 64
/* Owners asked for ahead of need after each listener-table refresh. */
#define WORKER_PREFETCH_MAX 64
/* How long start-up waits for the first owners (worker_primed): an
 * "expect ... program" rule is undetermined until its owner is known, so
 * the first verdicts are worth a slow /proc (an emulated or loaded CPU)
 * a few seconds of start-up. */
#define WORKER_PRIME_NS (3000ull * 1000000u)

/* A log line held back until its listener's owner is known: the JSON up
 * to the listener members, and the members after them. */
struct waiting {
	char *head, *tail;
	size_t hlen, tlen;
	int alert;	 /* "listener":"rogue" (else "present") */
	int keyed;	 /* the line goes through key's log bucket */
	struct log_key key;
	uint64_t inode;
	uint64_t deadline;
};

struct worker {
	struct queue *q;
	const struct worker_config *cfg;
	pthread_t thread;
	int started;
	int stop_fd;
	struct flow_table *flows;
	struct listener_table *listeners;
	int have_table;
	uint64_t last_refresh_ns;
	uint64_t last_refresh_warn_ns;
	struct policy_ref *policy;
	uint64_t policy_gen;
	struct jsonw json;
	int warned_loop, warned_verdict;
	int failed; /* atomic: the thread gave up */
	struct stats_counters c;
	uint16_t qnum;
	struct queue_stats final_qstats; /* the queue's, once unbound */
	struct resolver_client *rc;
	int resolver_warned;
	struct waiting waiting[WORKER_WAITING_MAX];
	unsigned nwaiting;
	int primed;	/* atomic: the first owners are in (or given up) */
	uint64_t started_ns;
};

static uint64_t mono_ns(void)
{
	return clock_mono_ns();
}

static int owner_from_resolver(void *ctx, struct listener *l)
{
	struct worker *w = ctx;
	struct listener_owner o;

	switch (resolver_client_lookup(w->rc, l, mono_ns(), &o)) {
	case RESOLVER_FOUND:
		listener_set_owner(l, &o);
		return 0;
	case RESOLVER_PENDING:
		return 1;
	default:
		return -1;
	}
}


struct worker *worker_new(struct queue *q, const struct worker_config *c)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->q = q;
	w->qnum = queue_num(q);
	w->cfg = c;
	w->flows = flow_new(&c->flow);
	w->listeners = listener_table_new();
	w->rc = resolver_client_new(-1);
	if (!w->flows || !w->listeners || !w->rc) {
		flow_free(w->flows);
		listener_table_free(w->listeners);
		resolver_client_free(w->rc);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	/* Owners come from the resolver process, never from this thread. */
	listener_table_set_resolver(w->listeners, owner_from_resolver, w);
	jsonw_init(&w->json);
	return w;
}

void worker_unbind(struct worker *w)
{
	if (w && w->q) {
		queue_get_stats(w->q, &w->final_qstats);
		queue_close(w->q);
		w->q = NULL;
	}
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_unbind(w);
	flow_free(w->flows);
	listener_table_free(w->listeners);
	resolver_client_free(w->rc);
	while (w->nwaiting > 0) {
		w->nwaiting--;
		free(w->waiting[w->nwaiting].head);
		free(w->waiting[w->nwaiting].tail);
	}
	policy_release(w->policy);
	jsonw_free(&w->json);
	free(w);
}

int worker_set_resolver(struct worker *w, int fd)
{
	struct resolver_client *c = resolver_client_new(fd);

	if (!c)
		return -1;
	resolver_client_free(w->rc);
	w->rc = c;
	return 0;
}

int worker_primed(const struct worker *w)
{
	return __atomic_load_n(&w->primed, __ATOMIC_ACQUIRE);
}

int worker_failed(const struct worker *w)
{
	return __atomic_load_n(&w->failed, __ATOMIC_ACQUIRE);
}

uint16_t worker_queue_num(const struct worker *w)
{
	return w->qnum;
}

const struct stats_counters *worker_counters(const struct worker *w)
{
	return &w->c;
}

void worker_queue_stats(const struct worker *w, struct queue_stats *out)
{
	if (w->q)
		queue_get_stats(w->q, out);
	else
		*out = w->final_qstats;
}

/*
 * Asks the resolver, ahead of need, for the owners of the listeners in the
 * guarded range, so that `expect ... program|user` finds them known when a
 * connection attempt comes (the decision does not wait: an owner still
 * unknown then is undetermined).  At most WORKER_PREFETCH_MAX a refresh.
 */
static void prefetch_owners(struct worker *w)
{
	struct port_range dyn;
	size_t i, n = listener_table_count(w->listeners);
	unsigned asked = 0;

	if (!w->policy || resolver_client_fd(w->rc) < 0)
		return;
	dyn = ruleset_dynamic_range(policy_ruleset(w->policy));
	for (i = 0; i < n && asked < WORKER_PREFETCH_MAX; i++) {
		struct listener *l = listener_table_at(w->listeners, i);

		if (!range_contains(&dyn, l->port))
			continue;
		(void)listener_owner(w->listeners, l);
		asked += listener_owner_pending(l);
	}
}

static void refresh_listeners(struct worker *w, uint64_t now)
{
	char err[256];

	w->last_refresh_ns = now;
	STATS_INC(w->c.refreshes);
	if (sockdiag_fill(w->listeners, err, sizeof(err)) < 0) {
		STATS_INC(w->c.refresh_errors);
		/* Without a table every alert says "unknown"; say why, but
		 * not for every packet. */
		if (now - w->last_refresh_warn_ns > 60ull * 1000000000u ||
		    !w->last_refresh_warn_ns) {
			log_warnx("queue %u: listener table: %s",
				  queue_num(w->q), err);
			w->last_refresh_warn_ns = now;
		}
		w->have_table = 0;
		return;
	}
	w->have_table = 1;
	prefetch_owners(w);
}

static int ported_proto(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP ||
	       proto == PROTO_UDPLITE || proto == PROTO_SCTP ||
	       proto == PROTO_DCCP;
}

/*
 * The listener cache is refreshed when a connection attempt to a guarded
 * dynamic port finds no entry (a listener started since the last dump), at
 * most every refresh_min_ms, and whenever the table is older than
 * listener_max_age_ms (a port may have changed hands).  Attempts to other
 * ports never cost a dump.
 */
static void maybe_refresh(struct worker *w, const struct ruleset *rs,
			  const struct packet *p, int ct_new, uint64_t now)
{
	struct port_range dyn;
	uint64_t age = now - w->last_refresh_ns;
	int attempt;

	if (p->status != PACKET_OK || !p->has_ports || !ported_proto(p->proto))
		return;
	if (ct_new >= 0)
		attempt = ct_new;
	else
		attempt = p->conn_attempt || p->proto == PROTO_UDP ||
			  p->proto == PROTO_UDPLITE;
	if (!attempt)
		return;
	dyn = ruleset_dynamic_range(rs);
	if (!range_contains(&dyn, p->dport))
		return;
	if (p->origin == PACKET_ORIGIN_LOOPBACK && !ruleset_loopback_inbound(rs))
		return;
	if (p->origin != PACKET_ORIGIN_HOST && p->origin != PACKET_ORIGIN_LOOPBACK &&
	    ruleset_has_local(rs) && !ruleset_is_local(rs, p->family, p->dst))
		return;
	if (!w->have_table ||
	    age >= (uint64_t)w->cfg->listener_max_age_ms * 1000000u) {
		refresh_listeners(w, now);
		return;
	}
	if (age >= (uint64_t)w->cfg->refresh_min_ms * 1000000u &&
	    !listener_table_find(w->listeners, p->proto, p->family, p->dst,
				 p->dport))
		refresh_listeners(w, now);
}

static char *copy_text(const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

/* The listener members of a line that waited: from the resolver's answer
 * when there is one, else the owner unknown. */
static void emit_waiting(struct worker *w, struct waiting *wt, uint64_t now)
{
	struct listener_owner o;
	const struct listener_owner *op = NULL;
	struct jsonw *j = &w->json;

	if (resolver_client_peek(w->rc, wt->inode, now, &o) == RESOLVER_FOUND)
		op = &o;
	jsonw_reset(j);
	j->need_comma = 1;
	if (wt->alert) {
		event_write_listener(j, 1, op);
	} else {
		jsonw_kv_string(j, "listener", "present");
		event_write_owner(j, op);
	}
	if (!j->failed) {
		size_t n = wt->hlen + j->len + wt->tlen;
		char *line = malloc(n);

		if (line) {
			memcpy(line, wt->head, wt->hlen);
			memcpy(line + wt->hlen, jsonw_str(j), j->len);
			memcpy(line + wt->hlen + j->len, wt->tail, wt->tlen);
			log_event_key(line, n, wt->keyed ? &wt->key : NULL);
			free(line);
		}
	}
	free(wt->head);
	free(wt->tail);
}

/* Emits the waiting lines whose owner is answered or whose time is up
 * (all of them with all set), in the order they were held. */
static void flush_waiting(struct worker *w, uint64_t now, int all)
{
	unsigned i, kept = 0;

	for (i = 0; i < w->nwaiting; i++) {
		struct waiting *wt = &w->waiting[i];

		if (all || now >= wt->deadline ||
		    resolver_client_peek(w->rc, wt->inode, now, NULL) !=
		    RESOLVER_PENDING)
			emit_waiting(w, wt, now);
		else
			w->waiting[kept++] = *wt;
	}
	w->nwaiting = kept;
}

/*
 * Holds the line being built in w->json (complete up to the listener
 * members) until l's owner is answered; tail is the rest of the line,
 * k (or NULL) the log bucket it goes through then.
 * Returns 0, or -1 when it cannot be held (then the caller writes it now,
 * owner unknown).
 */
static int hold_line(struct worker *w, const struct listener *l, int alert,
		     const struct jsonw *tail, const struct log_key *k)
{
	struct waiting *wt;

	if (w->nwaiting >= WORKER_WAITING_MAX || tail->failed || w->json.failed)
		return -1;
	wt = &w->waiting[w->nwaiting];
	wt->head = copy_text(jsonw_str(&w->json), w->json.len);
	wt->tail = copy_text(jsonw_str(tail), tail->len);
	if (!wt->head || !wt->tail) {
		free(wt->head);
		free(wt->tail);
		return -1;
	}
	wt->hlen = w->json.len;
	wt->tlen = tail->len;
	wt->alert = alert;
	wt->keyed = k != NULL;
	if (k)
		wt->key = *k;
	wt->inode = l->inode;
	wt->deadline = mono_ns() + WORKER_OWNER_WAIT_NS;
	w->nwaiting++;
	return 0;
}

/* The members after the listener and owner, as text that continues an
 * object: ,"retransmit":...} */
static void write_tail(struct worker *w, struct jsonw *t,
		       const struct decision *d, int ct_new)
{
	t->need_comma = 1;
	jsonw_kv_bool(t, "retransmit", d->retransmit);
	jsonw_kv_string(t, "conntrack",
			ct_new == 2 ? "assumed-new" : ct_new > 0 ? "new" :
			ct_new == 0 ? "not-new" : "none");
	jsonw_kv_bool(t, "enforced", !w->cfg->monitor);
	jsonw_object_end(t);
}

/* ct_new: 1 kernel NEW, 0 not NEW, -1 unknown, 2 assumed (--assume-new). */
static void log_packet(struct worker *w, const struct packet *p,
		       const struct decision *d, int ct_new)
{
	struct jsonw *j = &w->json;
	struct listener *wait_for = NULL;
	struct log_key key, *kp = NULL;
	const char *type;

	if (w->cfg->eve) {
		const struct listener_owner *o = NULL;

		if (d->alert && d->listener > 0 && d->owner_of)
			o = listener_owner(w->listeners, d->owner_of);
		eve_write_alert(j, clock_real_ns(), p, d, o, NULL, w->cfg->monitor);
		if (!j->failed)
			log_event(jsonw_str(j), j->len);
		return;
	}
	if (d->alert)
		type = "alert";
	else if (d->verdict == VERDICT_DROP)
		type = "drop";
	else if (d->verdict == VERDICT_REJECT)
		type = "reject";
	else
		type = "log";
	jsonw_reset(j);
	jsonw_object_begin(j);
	jsonw_kv_string(j, "type", type);
	event_write_ts(j, "ts", clock_real_ns());
	jsonw_kv_uint(j, "queue", queue_num(w->q));
	event_write_packet(j, p, d);
	if (d->alert) {
		const struct listener_owner *o = NULL;

		if (d->listener > 0 && d->owner_of) {
			o = listener_owner(w->listeners, d->owner_of);
			if (!o && listener_owner_pending(d->owner_of))
				wait_for = d->owner_of;
		}
		if (!wait_for)
			event_write_listener(j, d->listener, o);
		if (d->listener > 0)
			kp = &key;
	} else if (d->is_new && p->has_ports) {
		/* Not an alert (an explicit rule): whether something listens
		 * and who, without calling it rogue. */
		struct listener *l = NULL;
		const struct listener_owner *o = NULL;

		if (w->have_table)
			l = listener_table_find(w->listeners, p->proto,
						p->family, p->dst, p->dport);
		if (l) {
			o = listener_owner(w->listeners, l);
			if (!o && listener_owner_pending(l))
				wait_for = l;
			kp = &key;
		}
		if (!wait_for) {
			if (!w->have_table)
				jsonw_kv_null(j, "listener");
			else
				jsonw_kv_string(j, "listener", l ? "present" : "none");
			event_write_owner(j, o);
		}
	}
	if (kp) {
		/* About a socket that exists: its own bucket, so that a flood
		 * of probes to empty ports never hides it. */
		memset(&key, 0, sizeof(key));
		key.proto = p->proto;
		key.family = p->family;
		key.port = p->dport;
		memcpy(key.addr, p->dst, 16);
	}
	if (wait_for) {
		struct jsonw tail;
		int held;

		jsonw_init(&tail);
		write_tail(w, &tail, d, ct_new);
		held = hold_line(w, wait_for, d->alert, &tail, kp);
		jsonw_free(&tail);
		if (held == 0)
			return;
		/* Cannot wait: the line goes now, owner unknown. */
		if (d->alert) {
			event_write_listener(j, d->listener, NULL);
		} else {
			jsonw_kv_string(j, "listener", "present");
			event_write_owner(j, NULL);
		}
	}
	write_tail(w, j, d, ct_new);
	if (!j->failed)
		log_event_key(jsonw_str(j), j->len, kp);
}

/*
 * Takes the newest ruleset if a reload swapped it.  Checked before every
 * packet, not only between batches: once the "reload" line is out, no
 * packet read later may still be decided by the old rules (a batch can
 * last long under load).  The check is one atomic load.
 */
static void pick_up_policy(struct worker *w)
{
	if (policy_generation() != w->policy_gen) {
		struct policy_ref *old = w->policy;

		w->policy = policy_acquire(&w->policy_gen);
		policy_release(old);
	}
}

/* The loopback device has this index in every network namespace
 * (LOOPBACK_IFINDEX in the kernel). */
#define LOOPBACK_IFINDEX 1

/*
 * Where the packet was queued from says where it goes: from INPUT it is
 * addressed to this host, whatever its destination address (link-local,
 * multicast, broadcast) and whatever `local` lists; arriving on lo it is
 * the host talking to itself.  `local` is left for FORWARD and hooks that
 * do not say.
 */
static enum packet_origin origin_of(const struct queue_packet *qp)
{
	if (qp->indev == LOOPBACK_IFINDEX)
		return PACKET_ORIGIN_LOOPBACK;
	if (qp->hook == NF_INET_LOCAL_IN)
		return PACKET_ORIGIN_HOST;
	if (qp->hook == NF_INET_FORWARD)
		return PACKET_ORIGIN_FORWARD;
	return PACKET_ORIGIN_UNKNOWN;
}

static void on_packet(void *ctx, struct queue *q, const struct queue_packet *qp)
{
	struct worker *w = ctx;
	const struct ruleset *rs;
	struct decision d;
	struct packet p;
	uint64_t now = mono_ns();
	int ct_new = qp->ct_new;

	pick_up_policy(w);
	rs = policy_ruleset(w->policy);

	if (qp->has_mark && qp->mark == w->cfg->reject_mark) {
		/* We rejected this packet and the ruleset sent it straight
		 * back: repeating would loop forever.  Drop is the nearest
		 * safe answer; say once how to fix the rules. */
		STATS_INC(w->c.mark_loops);
		if (!w->warned_loop) {
			log_warnx("queue %u: a rejected packet came back with mark "
				  "0x%x: the NFQUEUE rule must skip it "
				  "(-m mark ! --mark 0x%x) and a REJECT rule "
				  "must follow; dropping such packets",
				  queue_num(q), w->cfg->reject_mark,
				  w->cfg->reject_mark);
			w->warned_loop = 1;
		}
		queue_verdict(q, qp->id, NF_DROP, 0, 0);
		return;
	}
	/* Without the kernel's answer, a firewall that queues only ctstate
	 * NEW has already said it: a UDP datagram stays NEW until the other
	 * side answers, where the flow table would call a repeat "not new". */
	if (ct_new < 0 && w->cfg->assume_new)
		ct_new = 1;
	(void)packet_parse(&p, qp->data, qp->caplen);
	p.origin = (uint8_t)origin_of(qp);
	if (p.status != PACKET_OK)
		STATS_INC(w->c.invalid);
	maybe_refresh(w, rs, &p, ct_new, now);
	decision_make(rs, w->flows, w->have_table ? w->listeners : NULL, &p,
		      now, ct_new, &d);
	if ((unsigned)d.sclass < CLASS_COUNT && (unsigned)d.dclass < CLASS_COUNT &&
	    (unsigned)d.verdict < VERDICT_COUNT)
		STATS_INC(w->c.packets[d.sclass][d.dclass][d.verdict]);
	/* A retransmitted attempt is logged again (it was queued again) but
	 * counted once, as the replay folds it. */
	if (d.alert && !d.retransmit)
		STATS_INC(w->c.alerts[d.listener > 0 ? STATS_ROGUE :
				      d.listener == 0 ? STATS_PROBE :
				      STATS_UNKNOWN]);
	if (d.alert || d.log || d.verdict != VERDICT_PASS)
		log_packet(w, &p, &d, qp->ct_new < 0 && ct_new > 0 ? 2 : ct_new);

	if (w->cfg->monitor || d.verdict == VERDICT_PASS)
		queue_verdict(q, qp->id, NF_ACCEPT, 0, 0);
	else if (d.verdict == VERDICT_DROP)
		queue_verdict(q, qp->id, NF_DROP, 0, 0);
	else
		/* REPEAT: the packet walks the same hook again with the mark;
		 * the contrib rules skip the queue for it and REJECT it. */
		queue_verdict(q, qp->id, NF_REPEAT, 1, w->cfg->reject_mark);
}

static void check_verdict_errors(struct worker *w)
{
	struct queue_stats st;

	if (w->warned_verdict)
		return;
	queue_get_stats(w->q, &st);
	if (st.verdict_errors) {
		errno = st.last_verdict_errno;
		log_warn("queue %u: the kernel refused a verdict", queue_num(w->q));
		w->warned_verdict = 1;
	}
}

/* Reads the resolver's answers; a resolver gone is said once, and from
 * then on every owner is unknown (verdicts go on). */
static void take_answers(struct worker *w, uint64_t now)
{
	if (resolver_client_receive(w->rc, now) < 0 && !w->resolver_warned) {
		log_warnx("queue %u: the owner resolver is gone: owners are "
			  "unknown from now on; verdicts go on",
			  queue_num(w->q));
		w->resolver_warned = 1;
	}
	flush_waiting(w, now, 0);
	if (!w->primed && (resolver_client_inflight(w->rc) == 0 ||
			   now - w->started_ns >= WORKER_PRIME_NS))
		__atomic_store_n(&w->primed, 1, __ATOMIC_RELEASE);
}

/* Milliseconds until the next waiting line is due (at most 1000). */
static int poll_timeout(const struct worker *w, uint64_t now)
{
	uint64_t due = now + 1000ull * 1000000u;
	unsigned i;

	for (i = 0; i < w->nwaiting; i++)
		if (w->waiting[i].deadline < due)
			due = w->waiting[i].deadline;
	if (!w->primed && w->started_ns + WORKER_PRIME_NS < due)
		due = w->started_ns + WORKER_PRIME_NS;
	return due > now ? (int)((due - now + 999999u) / 1000000u) : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[3];
	unsigned errors = 0;
	char err[256];

	if (w->cfg->seccomp && sandbox_restrict_thread(err, sizeof(err)) < 0) {
		log_warnx("queue %u: %s", queue_num(w->q), err);
		__atomic_store_n(&w->failed, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&w->primed, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	w->started_ns = mono_ns();
	w->policy = policy_acquire(&w->policy_gen);
	refresh_listeners(w, mono_ns());
	take_answers(w, mono_ns());
	pfd[0].fd = queue_fd(w->q);
	pfd[0].events = POLLIN;
	pfd[1].fd = w->stop_fd;
	pfd[1].events = POLLIN;
	pfd[2].events = POLLIN;
	for (;;) {
		int n;

		pfd[2].fd = resolver_client_fd(w->rc);
		n = poll(pfd, 3, poll_timeout(w, mono_ns()));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("queue %u: poll", queue_num(w->q));
			__atomic_store_n(&w->failed, 1, __ATOMIC_RELEASE);
			break;
		}
		if (pfd[1].revents)
			break;
		take_answers(w, mono_ns());
		pick_up_policy(w);
		if (!(pfd[0].revents & (POLLIN | POLLERR)))
			continue;
		if (queue_poll(w->q, WORKER_BATCH, on_packet, w) < 0) {
			log_warn("queue %u: receive", queue_num(w->q));
			/* Do not spin on a broken socket; after a run of
			 * failures, give up and let the daemon exit (the
			 * bypass carries traffic meanwhile). */
			if (++errors >= 50) {
				__atomic_store_n(&w->failed, 1, __ATOMIC_RELEASE);
				break;
			}
			usleep(100000);
		} else {
			errors = 0;
		}
		check_verdict_errors(w);
	}
	/* Stopping: what is still waiting goes out with what is known. */
	take_answers(w, mono_ns());
	flush_waiting(w, mono_ns(), 1);
	__atomic_store_n(&w->primed, 1, __ATOMIC_RELEASE);
	return NULL;
}

int worker_start(struct worker *w, int stop_fd)
{
	int rc;

	w->stop_fd = stop_fd;
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc == 0)
		w->started = 1;
	return rc;
}

void worker_join(struct worker *w)
{
	if (w && w->started) {
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
}
