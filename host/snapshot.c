/* snapshot: see snapshot.h. */
#include "snapshot.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "class.h"
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

enum snapshot_policy snapshot_judge(const struct ruleset *rs,
				    struct listener_table *t,
				    const struct listener *l)
{
	struct port_range dyn = ruleset_dynamic_range(rs);
	struct packet p;

	if (!range_contains(&dyn, l->port))
		return SNAPSHOT_NOT_GUARDED;
	/* A packet built by hand, with no bytes behind it: exactly the
	 * fields ruleset_expect reads. */
	memset(&p, 0, sizeof(p));
	p.family = l->family;
	p.proto = l->proto;
	switch (l->proto) {
	case PROTO_TCP:
		p.ipproto = 6;
		p.tcp_flags = PACKET_TCP_SYN;
		break;
	case PROTO_UDP:
		p.ipproto = 17;
		break;
	case PROTO_UDPLITE:
		p.ipproto = 136;
		break;
	case PROTO_SCTP:
		p.ipproto = 132;
		break;
	case PROTO_DCCP:
		p.ipproto = 33;
		break;
	default:
		break;
	}
	p.has_ports = 1;
	p.conn_attempt = 1;
	p.dport = l->port;
	memcpy(p.dst, l->addr, sizeof(p.dst));
	p.status = PACKET_OK;
	p.reason = PR_NONE;
	return ruleset_expect(rs, &p, t, NULL, NULL) == EXPECT_YES
		       ? SNAPSHOT_EXPECTED
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
	const struct listener_owner *o = l->owner_state == 1 ? &l->owner : NULL;
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
	if (o && o->pid > 0)
		jsonw_kv_int(w, "pid", o->pid);
	else
		jsonw_kv_null(w, "pid");
	jsonw_kv_string_or_null(w, "program", o ? o->program : NULL);
	jsonw_kv_string_or_null(w, "exe", o ? o->exe : NULL);
	jsonw_kv_string_or_null(w, "user", o ? o->user : NULL);
	if (o && o->has_uid)
		jsonw_kv_uint(w, "uid", o->uid);
	else
		jsonw_kv_null(w, "uid");
	jsonw_kv_string_or_null(w, "unit", o ? o->unit : NULL);
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
			char a[INET6_ADDRSTRLEN];

			if (inet_ntop(addrs[i].family == 6 ? AF_INET6 : AF_INET,
				      addrs[i].addr, a, sizeof(a)))
				jsonw_string(w, a);
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
