/*
 * fuzz_packet: packet_parse and decision_make, as both front ends call
 * them, under fixed policies that use every kind of rule (port tables,
 * addresses, classes, a BPF filter, expects by port, address, program and
 * user) with a flow table and a listener table.
 *
 * Input: one byte of setup, then packets, each a 3-byte header (time step,
 * big-endian length) and its bytes; the last packet takes whatever is
 * left.  Several packets per input let the flow table see handshakes,
 * replies, retransmits, timeouts and time going backwards.  Each packet is
 * copied into a buffer of exactly its length so a read past it is caught.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "event.h"
#include "flow.h"
#include "fuzz.h"
#include "jsonw.h"
#include "listener.h"
#include "packet.h"
#include "ruleset.h"

static const char policy[] =
	"dynamic-range iana\n"
	"unexpected drop log\n"
	"default pass\n"
	"pass tcp to port 22\n"
	"drop tcp to port { 23, 8000-8080 }\n"
	"reject udp from 203.0.113.0/24 to class dynamic new\n"
	"pass from class system to class dynamic\n"
	"drop log tcp from 192.0.2.66 to 2001:db8::/32 port 50000-50010\n"
	"drop log filter \"tcp and dst port 8443 and src net 198.51.100.0/24\"\n"
	"reject filter \"ip6 and udp dst port 5353\" new\n"
	"drop filter \"ip[8] < 5\"\n"
	"pass { sctp, dccp, udplite } to port 38412\n"
	"drop icmp6 from 2001:db8::/32\n"
	"expect tcp port 55000 from 198.51.100.0/24\n"
	"expect udp port 60000-61000 program mosh-server\n"
	"expect tcp port 60314 user root\n"
	"expect { tcp, udp } port 50000-50100 to 192.0.2.10\n"
	"expect sctp port { 36412, 38412 }\n";

/* The same with protected hosts, so directions other than "in" occur. */
static const char policy_local[] =
	"dynamic-range linux\n"
	"local { 192.0.2.0/24, 2001:db8::/32 }\n"
	"unexpected reject log\n"
	"default drop\n"
	"pass tcp to port 22 new\n"
	"pass udp from any port 53\n"
	"drop log filter \"tcp[13] & 2 != 0\"\n"
	"expect tcp port 40000-41000 program sshd\n"
	"expect udp port 33000 user 1000\n";

static struct ruleset *rs[2];
static struct listener_table *lt;

static void add_listener(uint8_t proto, uint8_t family, const char *a0,
			 uint16_t port, uint64_t inode)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = proto;
	l.family = family;
	if (a0) {
		l.addr[0] = (uint8_t)a0[0];
		l.addr[1] = (uint8_t)a0[1];
		l.addr[2] = (uint8_t)a0[2];
		l.addr[3] = (uint8_t)a0[3];
	}
	l.port = port;
	l.inode = inode;
	if (listener_table_add(lt, &l) < 0)
		abort();
}

/* Owners: even inodes belong to a known program, odd ones to nobody. */
static int resolve(void *ctx, struct listener *l)
{
	(void)ctx;
	if (l->inode & 1)
		return -1;
	l->owner.pid = (int32_t)l->inode;
	l->owner.uid = l->inode == 2 ? 0 : 1000;
	l->owner.has_uid = 1;
	snprintf(l->owner.program, sizeof(l->owner.program), "%s",
		 l->inode == 4 ? "mosh-server" : "sshd");
	snprintf(l->owner.user, sizeof(l->owner.user), "%s",
		 l->inode == 2 ? "root" : "alice");
	return 0;
}

static struct ruleset *load(const char *name, const char *text)
{
	int nerr = 0;
	struct ruleset *r = ruleset_parse_string(name, text, NULL, &nerr);

	if (!r) {
		fprintf(stderr, "%s: %d errors\n", name, nerr);
		abort();
	}
	return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rs[0] = load("fuzz.rules", policy);
	rs[1] = load("fuzz-local.rules", policy_local);
	lt = listener_table_new();
	if (!lt)
		abort();
	listener_table_set_resolver(lt, resolve, NULL);
	add_listener(PROTO_TCP, 4, NULL, 60314, 2);
	add_listener(PROTO_UDP, 4, "\xc0\x00\x02\x0a", 60001, 4);
	add_listener(PROTO_TCP, 6, NULL, 40022, 6);
	add_listener(PROTO_TCP, 6, NULL, 55000, 7);
	add_listener(PROTO_SCTP, 4, NULL, 36412, 0);
	add_listener(PROTO_UDP, 4, NULL, 33000, 9);
	return 0;
}

static void check_packet(const struct packet *p, int rc, size_t len)
{
	FUZZ_CHECK((rc == 0) == (p->status == PACKET_OK));
	FUZZ_CHECK(p->status <= PACKET_MALFORMED);
	FUZZ_CHECK(p->reason < PR_COUNT);
	FUZZ_CHECK(packet_reason_status((enum packet_reason)p->reason) ==
		   p->status);
	FUZZ_CHECK(p->proto < PROTO_COUNT);
	FUZZ_CHECK(packet_proto_name((enum packet_proto)p->proto) != NULL);
	FUZZ_CHECK(packet_reason_name((enum packet_reason)p->reason) != NULL);
	FUZZ_CHECK(p->caplen == len);
	if (p->status != PACKET_OK) {
		FUZZ_CHECK(!p->conn_attempt);
		if (p->has_ports)
			FUZZ_CHECK(p->l4_off + 4u <= p->caplen &&
				   packet_l4_len(p) >= 4);
		return;
	}
	FUZZ_CHECK(p->family == 4 || p->family == 6);
	FUZZ_CHECK(p->l4_off <= p->caplen);
	if (p->has_ports)
		FUZZ_CHECK(p->l4_off + 4u <= p->caplen);
	if (p->fragment && !p->has_ports)
		FUZZ_CHECK(!p->conn_attempt);
}

static void check_decision(const struct packet *p, const struct decision *d)
{
	FUZZ_CHECK(d->verdict < VERDICT_COUNT);
	FUZZ_CHECK(d->reason < REASON_COUNT);
	FUZZ_CHECK(d->dir <= DIR_LOOPBACK);
	FUZZ_CHECK(d->sclass < CLASS_COUNT && d->dclass < CLASS_COUNT);
	FUZZ_CHECK(decision_reason_name(d->reason) != NULL);
	FUZZ_CHECK(decision_dir_name(d->dir) != NULL);
	FUZZ_CHECK(verdict_name(d->verdict) != NULL);
	if (p->status != PACKET_OK)
		FUZZ_CHECK(d->reason == REASON_INVALID && !d->alert);
	if (d->reason == REASON_RULE || d->reason == REASON_EXPECTED)
		FUZZ_CHECK(d->rule_file != NULL && d->rule_line > 0);
	FUZZ_CHECK(d->alert == (d->reason == REASON_UNEXPECTED ||
				d->reason == REASON_UNDETERMINED));
	if (d->alert)
		FUZZ_CHECK(d->is_new && d->dyn_dport && d->dir == DIR_IN);
	if (d->retransmit)
		FUZZ_CHECK(d->is_new);
	if (d->listener == 1)
		FUZZ_CHECK(d->owner_of != NULL);
	if (!p->has_ports)
		FUZZ_CHECK(d->sclass == CLASS_NONE && d->dclass == CLASS_NONE &&
			   !d->dyn_dport);
}

/*
 * Bytes past the IP total length are link padding and must not change
 * anything: the packet cut at wirelen parses the same.
 */
static void check_padding(const struct packet *p, const uint8_t *buf,
			  size_t len)
{
	struct packet q;
	uint8_t *cut;

	if (p->wirelen == 0 || p->wirelen >= len)
		return;
	cut = malloc(p->wirelen);
	if (!cut)
		abort();
	memcpy(cut, buf, p->wirelen);
	(void)packet_parse(&q, cut, p->wirelen);
	FUZZ_CHECK(q.status == p->status && q.reason == p->reason);
	FUZZ_CHECK(q.family == p->family && q.proto == p->proto &&
		   q.ipproto == p->ipproto && q.fragment == p->fragment);
	FUZZ_CHECK(q.has_ports == p->has_ports &&
		   q.conn_attempt == p->conn_attempt);
	if (p->has_ports)
		FUZZ_CHECK(q.sport == p->sport && q.dport == p->dport);
	if (p->status == PACKET_OK)
		FUZZ_CHECK(q.l4_off == p->l4_off && q.wirelen == p->wirelen &&
			   q.tcp_flags == p->tcp_flags &&
			   q.icmp_type == p->icmp_type);
	free(cut);
}

/* The JSON a log line or a jsonl event is made of: packet bytes reach it
 * only escaped, so it never holds a control character or a raw newline. */
static void check_event(struct jsonw *w, const struct packet *p,
			const struct decision *d)
{
	const char *s;

	jsonw_reset(w);
	jsonw_object_begin(w);
	event_write_packet(w, p, d);
	if (d->alert)
		event_write_listener(w, d->listener,
				     d->owner_of ? listener_owner(lt, d->owner_of)
						 : NULL);
	jsonw_object_end(w);
	if (w->failed)
		return;
	for (s = jsonw_str(w); *s; s++)
		FUZZ_CHECK((unsigned char)*s >= 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_opts fo = { .max_flows = 8, .udp_timeout_s = 2,
				.tcp_timeout_s = 5 };
	struct flow_table *ft;
	struct listener_table *lts;
	const struct ruleset *r;
	struct jsonw w;
	uint64_t now = 1795784400ull * 1000000000ull;
	size_t pos = 1;
	uint8_t setup;

	if (size < 1)
		return 0;
	setup = data[0];
	r = rs[setup & 1];
	lts = (setup & 2) ? NULL : lt;
	/* fresh tables per input: a finding must replay from its file alone */
	ft = (setup & 4) ? NULL : flow_new(&fo);
	jsonw_init(&w);
	if (lts) {
		/* owners looked up again for each input */
		size_t i, n = listener_table_count(lts);

		for (i = 0; i < n; i++)
			listener_table_at(lts, i)->owner_state = 0;
	}

	while (pos < size) {
		struct packet p, next;
		struct decision d, d2;
		uint8_t step = data[pos];
		size_t len, hdr = 3;
		uint8_t *buf;
		int rc;

		if (size - pos < hdr) {
			len = size - pos - 1;
			hdr = 1;
		} else {
			len = (size_t)data[pos + 1] << 8 | data[pos + 2];
			if (len > size - pos - hdr)
				len = size - pos - hdr;
		}
		/* time: mostly forward in steps up to ~2 min, sometimes back */
		if (step & 0x80)
			now -= (uint64_t)(step & 0x7f) * 1000000000ull;
		else
			now += (uint64_t)step * 1000000000ull;
		buf = malloc(len ? len : 1);
		if (!buf)
			abort();
		memcpy(buf, data + pos + hdr, len);
		pos += hdr + len;

		rc = packet_parse(&p, buf, len);
		check_packet(&p, rc, len);
		check_padding(&p, buf, len);
		if (ft) {
			/* prefetching the next packet changes nothing */
			if (pos < size &&
			    packet_parse(&next, data + pos, size - pos) >= -1)
				flow_prefetch(ft, &next);
		}
		decision_make(r, ft, lts, &p, now, -1, &d);
		check_decision(&p, &d);
		check_event(&w, &p, &d);

		/* conntrack's answer wins over the flow table */
		decision_make(r, NULL, lts, &p, now, setup & 8 ? 1 : 0, &d2);
		check_decision(&p, &d2);
		if (p.status == PACKET_OK)
			FUZZ_CHECK(d2.is_new == ((setup & 8) != 0));
		free(buf);
	}
	if (ft) {
		struct flow_stats st;

		flow_get_stats(ft, &st);
		FUZZ_CHECK(st.flows <= fo.max_flows);
		flow_free(ft);
	}
	jsonw_free(&w);
	return 0;
}
