/*
 * test_report: the replay report (pcap-replay/report.c): the text summary
 * says what the counters say (frames, protocols, verdicts, attempts with
 * retransmits folded, alerts with their listener and owner), the alert
 * list is bounded and says how many more there were, files with problems
 * are listed as such, and the jsonl summary is one object with the same
 * numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonw.h"
#include "report.h"

static struct report_event alert_event(uint16_t dport, int listener)
{
	struct report_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 1700000000ull * 1000000000ull;
	e.proto = PROTO_TCP;
	e.family = 4;
	e.src[0] = 192; e.src[2] = 2; e.src[3] = 1;
	e.dst[0] = 192; e.dst[2] = 2; e.dst[3] = 2;
	e.sport = 40000;
	e.dport = dport;
	e.dclass = CLASS_DYNAMIC;
	e.verdict = VERDICT_DROP;
	e.reason = REASON_UNEXPECTED;
	e.listener = listener;
	e.pid = listener > 0 ? 77 : -1;
	if (listener > 0)
		strcpy(e.program, "rogue");
	return e;
}

static struct report_info info(void)
{
	struct report_info i;

	memset(&i, 0, sizeof(i));
	i.rules = "t.rules";
	i.range_name = "iana";
	i.range.lo = 49152;
	i.range.hi = 65535;
	return i;
}

static char *print(struct report *r, const struct report_info *in)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	report_print(r, f, in);
	fclose(f);
	return text;
}

static void test_text_summary(void **state)
{
	struct report *r = report_new(2);
	struct report_counts *c = report_counts(r);
	struct report_info in = info();
	struct report_event e;
	unsigned f;
	char *t;

	(void)state;
	f = (unsigned)report_add_file(r, "a.pcap");
	report_file_linktype(r, f, 1, "EN10MB", 1);
	report_file_frames(r, f, 9);
	c->frames = 9;
	c->bytes = 900;
	c->proto_pkts[PROTO_TCP] = 7;
	c->proto_bytes[PROTO_TCP] = 700;
	c->verdicts[VERDICT_DROP] = 3;
	c->verdicts[VERDICT_PASS] = 6;
	c->attempts = 5;
	c->retransmits = 1;
	c->alerts = 3;
	e = alert_event(60314, 1);
	report_keep_alert(r, &e);
	e = alert_event(60999, 0);
	report_keep_alert(r, &e);
	e = alert_event(61000, 0);
	report_keep_alert(r, &e); /* past max_list: counted, not listed */
	t = print(r, &in);
	assert_non_null(strstr(t, "policy: t.rules (dynamic range iana 49152-65535, no local: all inbound)"));
	assert_non_null(strstr(t, "a.pcap: 9 frames, link type EN10MB"));
	assert_non_null(strstr(t, "frames: 9, bytes: 900"));
	assert_non_null(strstr(t, "connection attempts: 4 (retransmits folded: 1)"));
	assert_non_null(strstr(t, "alerts: 3"));
	assert_non_null(strstr(t, "192.0.2.2:60314 dynamic drop unexpected"));
	assert_non_null(strstr(t, "listener rogue pid 77"));
	assert_non_null(strstr(t, ":60999 dynamic drop unexpected unexpected no-listener"));
	assert_null(strstr(t, ":61000"));
	assert_non_null(strstr(t, "... 1 more (see --max-alerts)"));
	assert_int_equal(report_input_errors(r), 0);
	free(t);
	report_free(r);
}

static void test_file_problems(void **state)
{
	struct report *r = report_new(10);
	struct report_info in = info();
	unsigned a, b;
	char *t;

	(void)state;
	a = (unsigned)report_add_file(r, "bad.pcap");
	report_file_error(r, a, 3, "truncated dump file");
	b = (unsigned)report_add_file(r, "odd.pcap");
	report_file_linktype(r, b, 147, "USER0", 0);
	assert_string_equal(report_file_name(r, a), "bad.pcap");
	assert_true(report_input_errors(r) > 0);
	t = print(r, &in);
	assert_non_null(strstr(t, "bad.pcap: error after 3 frames: truncated dump file"));
	assert_non_null(strstr(t, "odd.pcap: unsupported link type USER0 (147), skipped"));
	free(t);
	report_free(r);
}

static void test_jsonl_summary(void **state)
{
	struct report *r = report_new(10);
	struct report_counts *c = report_counts(r);
	struct report_info in = info();
	struct jsonw w;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c->frames = 4;
	c->bytes = 400;
	c->alerts = 2;
	jsonw_init(&w);
	f = open_memstream(&text, &len);
	report_jsonl_summary(r, &w, f, &in);
	fclose(f);
	/* one line, one object */
	assert_true(len > 2);
	assert_int_equal(text[0], '{');
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1));
	assert_non_null(strstr(text, "\"type\":\"summary\""));
	assert_non_null(strstr(text, "\"frames\":4"));
	assert_non_null(strstr(text, "\"bytes\":400"));
	assert_non_null(strstr(text, "\"name\":\"iana\",\"lo\":49152,\"hi\":65535"));
	assert_non_null(strstr(text, "\"filter\":null"));
	free(text);
	jsonw_free(&w);
	report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_summary),
		cmocka_unit_test(test_file_problems),
		cmocka_unit_test(test_jsonl_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
