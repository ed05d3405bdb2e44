/*
 * test_event: the one writer of a listener's owner (host/event.c), used
 * by the daemon's alerts and rule logs and by the listener snapshot: the
 * same members in the same order, pid null unless positive, strings null
 * when empty, the uid only where asked for.  The packet record's direct
 * writer against the member-by-member reference on random packets and
 * hostile rule file names; timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <stdio.h>

#include <cmocka.h>

#include "class.h"
#include "communityid.h"
#include "event.h"

static const char *owner_json(const struct listener_owner *o, int with_uid,
			      struct jsonw *w)
{
	jsonw_reset(w);
	jsonw_object_begin(w);
	event_write_owner_members(w, o, with_uid);
	jsonw_object_end(w);
	assert_false(w->failed);
	return jsonw_str(w);
}

static void test_owner_members(void **state)
{
	struct listener_owner o;
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	assert_string_equal(owner_json(NULL, 0, &w),
		"{\"pid\":null,\"program\":null,\"exe\":null,\"user\":null,\"unit\":null}");
	assert_string_equal(owner_json(NULL, 1, &w),
		"{\"pid\":null,\"program\":null,\"exe\":null,\"user\":null,\"uid\":null,\"unit\":null}");
	memset(&o, 0, sizeof(o));
	o.pid = 0; /* no process */
	strcpy(o.program, "x");
	assert_string_equal(owner_json(&o, 0, &w),
		"{\"pid\":null,\"program\":\"x\",\"exe\":null,\"user\":null,\"unit\":null}");
	o.pid = -1;
	assert_string_equal(owner_json(&o, 0, &w),
		"{\"pid\":null,\"program\":\"x\",\"exe\":null,\"user\":null,\"unit\":null}");
	o.pid = 42;
	o.uid = 1000;
	o.has_uid = 1;
	strcpy(o.user, "alice");
	strcpy(o.unit, "a.service");
	assert_string_equal(owner_json(&o, 1, &w),
		"{\"pid\":42,\"program\":\"x\",\"exe\":null,\"user\":\"alice\",\"uid\":1000,\"unit\":\"a.service\"}");
	/* event_write_owner is the same without the uid */
	jsonw_reset(&w);
	jsonw_object_begin(&w);
	event_write_owner(&w, &o);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w),
		"{\"pid\":42,\"program\":\"x\",\"exe\":null,\"user\":\"alice\",\"unit\":\"a.service\"}");
	jsonw_free(&w);
}

/*
 * The packet record as it was first written, member by member through
 * jsonw's general calls, with inet_ntop and snprintf: the reference the
 * direct writer must match byte for byte.
 */
static void ref_addr(struct jsonw *w, const char *key, uint8_t family,
		     const uint8_t a[16])
{
	char buf[64];

	if (family != 4 && family != 6) {
		jsonw_kv_null(w, key);
		return;
	}
	assert_non_null(inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf,
				  sizeof(buf)));
	jsonw_kv_string(w, key, buf);
}

static void ref_port(struct jsonw *w, const char *key, int has, uint16_t port)
{
	if (has)
		jsonw_kv_uint(w, key, port);
	else
		jsonw_kv_null(w, key);
}

static void ref_write_packet(struct jsonw *w, const struct packet *p,
			     const struct decision *d)
{
	int ports = p->has_ports;
	char rule[320], cid[COMMUNITYID_LEN + 8];

	jsonw_kv_string(w, "proto", packet_proto_name((enum packet_proto)p->proto));
	ref_addr(w, "src", p->family, p->src);
	ref_port(w, "sport", ports, p->sport);
	jsonw_kv_string(w, "sclass", class_name(ports ? class_of(p->sport) : CLASS_NONE));
	ref_addr(w, "dst", p->family, p->dst);
	ref_port(w, "dport", ports, p->dport);
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

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Rule file names a policy could come from: plain, hostile (quotes,
 * backslashes, control bytes, invalid and valid UTF-8), and long enough
 * that "file:line" is cut to the reference's 320-byte buffer, with the
 * cut falling inside a multibyte sequence. */
static void rule_name(char *buf, size_t size, unsigned kind)
{
	static const char *const pieces[] = {
		"rules.conf", "\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9",
		"\xc3", "\xff", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "/etc/x/",
		"\xed\xa0\x80", " ",
	};
	size_t n = 0, want;

	switch (kind % 4) {
	case 0:
		snprintf(buf, size, "/etc/portclass/rules.conf");
		return;
	case 1:
		want = rnd() % 40;
		break;
	case 2:
		want = 290 + rnd() % 40; /* around the cut */
		break;
	default:
		want = 300 + rnd() % 400;
		break;
	}
	while (n < want && n + 8 < size) {
		const char *pc = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(pc);

		if (n + l + 1 >= size)
			break;
		memcpy(buf + n, pc, l);
		n += l;
	}
	buf[n] = '\0';
}

static void random_packet(struct packet *p, uint8_t *data, size_t dsize)
{
	memset(p, 0, sizeof(*p));
	switch (rnd() % 8) {
	case 0:
		p->family = 0;
		break;
	case 1:
	case 2:
	case 3:
		p->family = 4;
		break;
	default:
		p->family = 6;
		break;
	}
	p->proto = (uint8_t)(rnd() % PROTO_COUNT);
	p->ipproto = (uint8_t)rnd();
	p->has_ports = (uint8_t)(rnd() % 4 != 0);
	p->conn_attempt = (uint8_t)(rnd() % 2);
	p->sport = (uint16_t)rnd();
	p->dport = (uint16_t)(rnd() % 3 ? rnd() : rnd() % 1024);
	p->icmp_type = (uint8_t)rnd();
	for (int i = 0; i < 16; i++) {
		p->src[i] = (uint8_t)(rnd() % 3 ? rnd() : 0);
		p->dst[i] = (uint8_t)(rnd() % 3 ? rnd() : 0);
	}
	if (p->family == 6 && rnd() % 4 == 0) {
		/* IPv4-mapped */
		memset(p->src, 0, 10);
		p->src[10] = p->src[11] = 0xff;
	}
	for (size_t i = 0; i < dsize; i++)
		data[i] = (uint8_t)rnd();
	p->data = data;
	p->caplen = (uint32_t)(rnd() % dsize);
	p->l4_off = (uint16_t)(rnd() % dsize);
	if (rnd() % 4 == 0) {
		p->reason = (uint8_t)(1 + rnd() % (PR_COUNT - 1));
		p->status = (uint8_t)packet_reason_status((enum packet_reason)p->reason);
	}
}

static void test_packet_same_as_reference(void **state)
{
	struct jsonw a, b;
	uint8_t data[64];
	char file[1024];

	(void)state;
	jsonw_init(&a);
	jsonw_init(&b);
	for (int i = 0; i < 50000; i++) {
		struct packet p;
		struct decision d;
		int has_d = rnd() % 5 != 0, lead = (int)(rnd() % 2);

		random_packet(&p, data, sizeof(data));
		memset(&d, 0, sizeof(d));
		d.verdict = (enum verdict)(rnd() % VERDICT_COUNT);
		d.log = (int)(rnd() % 2);
		d.reason = (enum decision_reason)(rnd() % REASON_COUNT);
		d.is_new = (int)(rnd() % 2);
		d.dir = (enum decision_dir)(rnd() % 4);
		if (rnd() % 2) {
			rule_name(file, sizeof(file), (unsigned)rnd());
			d.rule_file = file;
			d.rule_line = (unsigned)(rnd() % 3 ? rnd() % 1000 : rnd());
		}
		/* with and without members before it in the object */
		jsonw_reset(&a);
		jsonw_reset(&b);
		jsonw_object_begin(&a);
		jsonw_object_begin(&b);
		if (lead) {
			jsonw_kv_string(&a, "type", "packet");
			jsonw_kv_string(&b, "type", "packet");
		}
		event_write_packet(&a, &p, has_d ? &d : NULL);
		ref_write_packet(&b, &p, has_d ? &d : NULL);
		jsonw_kv_string(&a, "after", "x");
		jsonw_kv_string(&b, "after", "x");
		jsonw_object_end(&a);
		jsonw_object_end(&b);
		assert_false(a.failed);
		assert_string_equal(jsonw_str(&a), jsonw_str(&b));
	}
	jsonw_free(&a);
	jsonw_free(&b);
}

/* event_format_ts and event_write_ts: the text gmtime/strftime give,
 * cut like snprintf when the buffer is short. */
static void test_ts(void **state)
{
	char buf[40], want[40];
	struct jsonw w;

	(void)state;
	assert_string_equal(event_format_ts(1795784400123456789ull, buf,
					    sizeof(buf)),
			    "2026-11-27T13:00:00.123456Z");
	assert_string_equal(event_format_ts(0, buf, sizeof(buf)),
			    "1970-01-01T00:00:00.000000Z");
	for (size_t len = 1; len < 30; len++) {
		snprintf(want, len, "%s", "2026-11-27T13:00:00.123456Z");
		assert_string_equal(event_format_ts(1795784400123456789ull, buf,
						    len),
				    want);
	}
	jsonw_init(&w);
	jsonw_object_begin(&w);
	event_write_ts(&w, "ts", 1795784400999999999ull);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w), "{\"ts\":\"2026-11-27T13:00:00.999999Z\"}");
	jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_members),
		cmocka_unit_test(test_packet_same_as_reference),
		cmocka_unit_test(test_ts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
