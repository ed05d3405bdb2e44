/* snapshot: see snapshot.h. */
#include "snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "class.h"
#include "event.h"
#include "jsonr.h"
#include "packet.h"

const char *snapshot_policy_name(enum snapshot_policy p)
{
	switch (p) {
	case SNAPSHOT_EXPECTED:
		return "expected";
	case SNAPSHOT_UNEXPECTED:
		return "unexpected";
	default:
		return "not-guarded";
	}
}

void snapshot_probe(const struct listener *l, struct packet *p)
{
	/* A packet built by hand, with no bytes behind it: exactly the
	 * fields ruleset_expect reads. */
	memset(p, 0, sizeof(*p));
	p->family = l->family;
	p->proto = l->proto;
	switch (l->proto) {
	case PROTO_TCP:
		p->ipproto = 6;
		p->tcp_flags = PACKET_TCP_SYN;
		break;
	case PROTO_UDP:
		p->ipproto = 17;
		break;
	case PROTO_UDPLITE:
		p->ipproto = 136;
		break;
	case PROTO_SCTP:
		p->ipproto = 132;
		break;
	case PROTO_DCCP:
		p->ipproto = 33;
		break;
	default:
		break;
	}
	p->has_ports = 1;
	p->conn_attempt = 1;
	p->dport = l->port;
	memcpy(p->dst, l->addr, sizeof(p->dst));
	p->status = PACKET_OK;
	p->reason = PR_NONE;
}

enum expect_result snapshot_expect(const struct ruleset *rs,
				   struct listener_table *t,
				   const struct listener *l)
{
	struct packet p;

	snapshot_probe(l, &p);
	return ruleset_expect(rs, &p, t, NULL, NULL);
}

enum snapshot_policy snapshot_judge(const struct ruleset *rs,
				    struct listener_table *t,
				    const struct listener *l)
{
	struct port_range dyn = ruleset_dynamic_range(rs);

	if (!range_contains(&dyn, l->port))
		return SNAPSHOT_NOT_GUARDED;
	return snapshot_expect(rs, t, l) == EXPECT_YES ? SNAPSHOT_EXPECTED
						       : SNAPSHOT_UNEXPECTED;
}

static int row_cmp(const void *a, const void *b)
{
	const struct listener *x = ((const struct snapshot_row *)a)->l;
	const struct listener *y = ((const struct snapshot_row *)b)->l;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return 0;
}

void snapshot_sort(struct snapshot_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof(*rows), row_cmp);
}

static void write_row(struct jsonw *w, const struct snapshot_row *r)
{
	const struct listener *l = r->l;
	const struct listener_owner *o = listener_owner_known(l);
	char abuf[64];

	jsonw_object_begin(w);
	jsonw_kv_string(w, "proto", packet_proto_name((enum packet_proto)l->proto));
	jsonw_kv_int(w, "family", l->family);
	jsonw_kv_string(w, "addr", addr_format(l->family, l->addr, abuf,
					       sizeof(abuf)));
	jsonw_kv_uint(w, "port", l->port);
	jsonw_kv_string(w, "class", class_name(class_of(l->port)));
	if (r->ephemeral < 0)
		jsonw_kv_null(w, "ephemeral");
	else
		jsonw_kv_bool(w, "ephemeral", r->ephemeral);
	jsonw_kv_bool(w, "reserved", r->reserved);
	event_write_owner_members(w, o, 1);
	jsonw_kv_string(w, "policy", snapshot_policy_name(r->policy));
	jsonw_object_end(w);
}

void snapshot_write(struct jsonw *w, const char *host, int64_t time_s,
		    const struct port_range *range,
		    const struct snapshot_row *rows, size_t n)
{
	snapshot_write_hosts(w, host, time_s, range, NULL, 0, rows, n);
}

void snapshot_write_hosts(struct jsonw *w, const char *host, int64_t time_s,
			  const struct port_range *range,
			  const struct listener_host *addrs, size_t naddrs,
			  const struct snapshot_row *rows, size_t n)
{
	time_t secs = (time_t)time_s;
	struct tm tm;
	char when[32];

	if (!gmtime_r(&secs, &tm) ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");

	jsonw_object_begin(w);
	jsonw_kv_int(w, "version", 1);
	jsonw_kv_string_or_null(w, "host", host);
	jsonw_kv_string(w, "time", when);
	jsonw_key(w, "range");
	if (range) {
		jsonw_object_begin(w);
		jsonw_kv_uint(w, "lo", range->lo);
		jsonw_kv_uint(w, "hi", range->hi);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	if (addrs) {
		jsonw_key(w, "addresses");
		jsonw_array_begin(w);
		for (size_t i = 0; i < naddrs; i++) {
			char a[64];

			jsonw_string(w, addr_format(addrs[i].family,
						    addrs[i].addr, a,
						    sizeof(a)));
		}
		jsonw_array_end(w);
	}
	jsonw_key(w, "listeners");
	jsonw_array_begin(w);
	for (size_t i = 0; i < n; i++)
		write_row(w, &rows[i]);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

/* ---- reading: the snapshot back into a listener table ---------------- */

struct snap_entry {
	struct listener l;
	struct listener_owner o;
	char addr[64];
	size_t addr_at;
	int has_proto, has_family, has_addr, has_port, has_owner;
};

static int entry_member(struct jsonr *j, const char *key, void *ctx)
{
	struct snap_entry *e = ctx;
	struct listener_owner *o = &e->o;
	size_t at = j->pos;
	int64_t v;
	int r;

	if (strcmp(key, "proto") == 0) {
		char name[16];
		int p;

		if (jsonr_string_field(j, "proto", name, sizeof(name), 0) < 0)
			return -1;
		p = packet_proto_lookup(name);
		if (p != PROTO_TCP && p != PROTO_UDP && p != PROTO_UDPLITE &&
		    p != PROTO_SCTP && p != PROTO_DCCP)
			return jsonr_fail(j, at, "unknown proto \"%s\"", name);
		e->l.proto = (uint8_t)p;
		e->has_proto = 1;
		return 0;
	}
	if (strcmp(key, "family") == 0) {
		if (jsonr_int_range(j, "family", 4, 6, &v) < 0)
			return -1;
		if (v == 5)
			return jsonr_fail(j, at, "family must be 4 or 6");
		e->l.family = (uint8_t)v;
		e->has_family = 1;
		return 0;
	}
	if (strcmp(key, "addr") == 0) {
		if (jsonr_string_field(j, "addr", e->addr, sizeof(e->addr), 0) < 0)
			return -1;
		e->addr_at = at;
		e->has_addr = 1;
		return 0;
	}
	if (strcmp(key, "port") == 0) {
		if (jsonr_int_range(j, "port", 0, 65535, &v) < 0)
			return -1;
		e->l.port = (uint16_t)v;
		e->has_port = 1;
		return 0;
	}
	if (strcmp(key, "inode") == 0) {
		if ((r = jsonr_is_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jsonr_int_range(j, "inode", 0, INT64_MAX, &v) < 0)
			return -1;
		e->l.inode = (uint64_t)v;
		return 0;
	}
	if (strcmp(key, "pid") == 0) {
		if ((r = jsonr_is_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jsonr_int_range(j, "pid", 0, INT32_MAX, &v) < 0)
			return -1;
		/* No process has pid 0: it says as much as null, and the
		 * writer reads it back as unknown, so treat it so here. */
		if (v == 0)
			return 0;
		o->pid = (int32_t)v;
		e->has_owner = 1;
		return 0;
	}
	if (strcmp(key, "uid") == 0) {
		if ((r = jsonr_is_null(j)) != 0)
			return r < 0 ? -1 : 0;
		if (jsonr_int_range(j, "uid", 0, UINT32_MAX, &v) < 0)
			return -1;
		o->uid = (uint32_t)v;
		o->has_uid = 1;
		e->l.uid = (uint32_t)v;
		e->has_owner = 1;
		return 0;
	}
	{
		char *dst = NULL;
		size_t cap = 0;

		if (strcmp(key, "program") == 0) {
			dst = o->program;
			cap = sizeof(o->program);
		} else if (strcmp(key, "exe") == 0) {
			dst = o->exe;
			cap = sizeof(o->exe);
		} else if (strcmp(key, "user") == 0) {
			dst = o->user;
			cap = sizeof(o->user);
		} else if (strcmp(key, "unit") == 0) {
			dst = o->unit;
			cap = sizeof(o->unit);
		}
		if (dst) {
			if ((r = jsonr_is_null(j)) != 0) {
				dst[0] = '\0';
				return r < 0 ? -1 : 0;
			}
			if (jsonr_string_field(j, key, dst, cap, 1) < 0)
				return -1;
			if (dst[0])
				e->has_owner = 1;
			return 0;
		}
	}
	/* class, ephemeral, reserved, policy: derived data, and anything a
	 * newer writer adds. */
	return jsonr_skip(j);
}

static int parse_entry(struct jsonr *j, struct listener_table *t)
{
	struct snap_entry e;
	size_t at = j->pos;
	int fam;

	memset(&e, 0, sizeof(e));
	e.o.pid = -1;
	if (jsonr_peek(j) != '{')
		return jsonr_expect(j, "a listener object");
	if (jsonr_object(j, entry_member, &e) < 0)
		return -1;
	if (!e.has_proto)
		return jsonr_fail(j, at, "listener without \"proto\"");
	if (!e.has_port)
		return jsonr_fail(j, at, "listener without \"port\"");
	if (!e.has_addr)
		return jsonr_fail(j, at, "listener without \"addr\"");
	fam = strchr(e.addr, ':') ? 6 : 4;
	if (e.has_family && e.l.family != fam)
		return jsonr_fail(j, e.addr_at, "addr \"%s\" is not IPv%d", e.addr,
			     e.l.family);
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, e.addr, e.l.addr) != 1)
		return jsonr_fail(j, e.addr_at, "bad address \"%s\"", e.addr);
	e.l.family = (uint8_t)fam;
	/* Offline nobody can look the owner up later: what the snapshot
	 * says is all there is. */
	listener_set_owner(&e.l, e.has_owner ? &e.o : NULL);
	if (listener_table_add(t, &e.l) < 0)
		return jsonr_fail(j, at, "%s", listener_table_count(t) >= LISTENER_MAX_ENTRIES
						  ? "too many listeners"
						  : "out of memory");
	return 0;
}

static int entry_element(struct jsonr *j, void *ctx)
{
	return parse_entry(j, ctx);
}

/* One of the host's addresses: "10.0.0.1", "fe80::1" (a "%scope" suffix
 * is ignored). */
static int host_element(struct jsonr *j, void *ctx)
{
	struct listener_table *t = ctx;
	char a[80], *pct;
	uint8_t bin[16] = { 0 };
	size_t at = j->pos;
	int fam;

	if (jsonr_peek(j) != '"')
		return jsonr_expect(j, "an address string");
	if (jsonr_string_field(j, "address", a, sizeof(a), 0) < 0)
		return -1;
	pct = strchr(a, '%');
	if (pct)
		*pct = '\0';
	fam = strchr(a, ':') ? 6 : 4;
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, a, bin) != 1)
		return jsonr_fail(j, at, "bad address \"%s\"", a);
	if (listener_table_add_host(t, (uint8_t)fam, bin) < 0)
		return jsonr_fail(j, at, "%s", errno == ENOSPC ?
				  "too many addresses" : "out of memory");
	return 0;
}

struct snap_doc {
	struct listener_table *t;
	int has_version, has_listeners;
};

static int doc_member(struct jsonr *j, const char *key, void *ctx)
{
	struct snap_doc *d = ctx;
	size_t at = j->pos;

	if (strcmp(key, "version") == 0) {
		int64_t v;
		int c = jsonr_peek(j);

		if (!(c == '-' || (c >= '0' && c <= '9')))
			return jsonr_expect(j, "an integer");
		if (jsonr_number(j, &v) < 0)
			return -1;
		if (v != 1)
			return jsonr_fail(j, at,
				     "unsupported snapshot version %lld (expected 1)",
				     (long long)v);
		d->has_version = 1;
		return 0;
	}
	if (strcmp(key, "addresses") == 0) {
		if (jsonr_is_null(j) == 1)
			return 0; /* not recorded */
		if (jsonr_peek(j) != '[')
			return jsonr_expect(j, "'[' (the host's addresses)");
		return jsonr_array(j, host_element, d->t);
	}
	if (strcmp(key, "listeners") == 0) {
		d->has_listeners = 1;
		if (jsonr_peek(j) != '[')
			return jsonr_expect(j, "'[' (the listeners array)");
		return jsonr_array(j, entry_element, d->t);
	}
	return jsonr_skip(j);
}

int snapshot_parse(struct listener_table *t, const char *text, size_t len,
		   char *err, size_t errlen)
{
	struct jsonr j;
	struct snap_doc d = { .t = t };
	size_t n0 = listener_table_count(t);
	size_t h0 = listener_table_host_count(t);

	jsonr_init(&j, text, len, err, errlen);
	jsonr_ws(&j);
	if (j.pos == j.len) {
		jsonr_fail(&j, j.pos, "empty snapshot");
		goto fail;
	}
	if (jsonr_peek(&j) != '{') {
		jsonr_expect(&j, "'{' (a snapshot object)");
		goto fail;
	}
	if (jsonr_object(&j, doc_member, &d) < 0)
		goto fail;
	jsonr_ws(&j);
	if (j.pos != j.len) {
		jsonr_fail(&j, j.pos, "trailing data after the snapshot");
		goto fail;
	}
	if (!d.has_version) {
		jsonr_fail(&j, 0, "snapshot without \"version\"");
		goto fail;
	}
	if (!d.has_listeners) {
		jsonr_fail(&j, 0, "snapshot without \"listeners\"");
		goto fail;
	}
	return 0;
fail:
	/* All or nothing: drop what this document had added. */
	listener_table_truncate(t, n0);
	listener_table_truncate_hosts(t, h0);
	errno = EINVAL;
	return -1;
}
