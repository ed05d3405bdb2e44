/*
 * fuzz_replay: a whole capture (pcap or pcapng, any link type) through
 * the replay path of portclass-replay - libpcap's reader, link-layer
 * stripping, packet_parse, decision_make with capture-time flows, the
 * listeners seen, the report in both output forms, and the --write-*
 * dumpers - by calling replay_file() on the input as a file, exactly as
 * the tool does.
 *
 * The input goes into a memfd and is read back through /proc/self/fd/N,
 * so nothing touches the disk.  Which options are on (jsonl, --events
 * packets, --compare, --listeners, -f, --write-*, --local) comes from a
 * hash of the input: the capture itself stays a valid capture, and every
 * input replays the same way from its file alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "jsonw.h"
#include "listener.h"
#include "snapshot.h"
#include "replay.h"
#include "report.h"
#include "ruleset.h"

static const char policy[] =
	"dynamic-range iana\n"
	"unexpected drop log\n"
	"pass tcp to port 22\n"
	"drop tcp to port 8000-8080\n"
	"reject udp from 203.0.113.0/24 to class dynamic new\n"
	"drop log filter \"tcp and dst port 8443\"\n"
	"expect udp port 60000-61000 program mosh-server\n"
	"expect tcp port 55000 from 198.51.100.0/24\n";

static const char policy2[] =
	"dynamic-range linux\n"
	"local { 192.0.2.0/24, 2001:db8::/32 }\n"
	"unexpected reject log\n"
	"default drop\n"
	"pass udp from any port 53\n";

static const char listeners[] =
	"{\"version\":1,\"host\":\"server\",\"time\":\"2026-11-27T13:00:00Z\","
	"\"range\":{\"lo\":49152,\"hi\":65535},\"listeners\":["
	"{\"proto\":\"tcp\",\"family\":4,\"addr\":\"0.0.0.0\",\"port\":60314,"
	"\"pid\":4242,\"program\":\"nc\",\"exe\":\"/usr/bin/nc.openbsd\","
	"\"user\":\"root\",\"uid\":0,\"unit\":null},"
	"{\"proto\":\"udp\",\"family\":4,\"addr\":\"192.0.2.10\","
	"\"port\":60001,\"pid\":777,\"program\":\"mosh-server\","
	"\"user\":\"alice\",\"uid\":1000},"
	"{\"proto\":\"tcp\",\"family\":6,\"addr\":\"::\",\"port\":55000,"
	"\"pid\":null,\"program\":null}]}";

static struct ruleset *rs, *rs_local, *rs2;
static struct listener_table *lt;
static FILE *devnull;
static struct queuesel *sel_default, *sel_all;
static int fd = -1;
static char fdpath[64];

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
	char err[256];

	(void)argc;
	(void)argv;
	rs = load("fuzz.rules", policy);
	rs_local = load("fuzz.rules", policy);
	if (ruleset_add_local(rs_local, "192.0.2.0/24", err, sizeof(err)) < 0)
		abort();
	rs2 = load("compare.rules", policy2);
	sel_default = queuesel_default();
	sel_all = queuesel_all();
	if (!sel_default || !sel_all)
		abort();
	lt = listener_table_new();
	if (!lt || snapshot_parse(lt, listeners, strlen(listeners),
					   err, sizeof(err)) < 0) {
		fprintf(stderr, "snapshot: %s\n", err);
		abort();
	}
	devnull = fopen("/dev/null", "w");
	fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
	if (!devnull || fd < 0) {
		perror("fuzz_replay");
		abort();
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	return 0;
}

static uint32_t hash(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t mode = hash(data, size);
	struct replay_opts ro;
	struct report_info info;
	struct report *rep;
	struct replay *r;
	struct jsonw w;
	char err[256];
	size_t off = 0;

	if (ftruncate(fd, 0) < 0)
		abort();
	while (off < size) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}

	rep = report_new(mode & 0x100 ? 0 : 4);
	if (!rep)
		abort();
	memset(&ro, 0, sizeof(ro));
	ro.rs = mode & 0x80 ? rs_local : rs;
	ro.rs2 = mode & 1 ? rs2 : NULL;
	ro.listeners = mode & 2 ? lt : NULL;
	ro.flow.max_flows = 16;
	ro.flow.udp_timeout_s = 2;
	ro.flow.tcp_timeout_s = 10;
	ro.flow.tcp_strict = (mode & 0x200) != 0;
	ro.sel = mode & 0x400 ? sel_all : sel_default;
	ro.reasm.max_bytes = 8192;
	ro.reasm.timeout_s = 2;
	ro.filter = mode & 4 ? "tcp or udp or (ip6 and not icmp6)" : NULL;
	ro.write_passed = mode & 8 ? "/dev/null" : NULL;
	ro.write_dropped = mode & 8 ? "/dev/null" : NULL;
	ro.jsonl = (mode & 0x30) != 0;
	ro.events_packets = (mode & 0x30) == 0x30;
	ro.rep = rep;
	ro.out = devnull;
	r = replay_new(&ro, err, sizeof(err));
	if (!r)
		abort();
	(void)replay_file(r, fdpath);
	(void)replay_finish(r);

	memset(&info, 0, sizeof(info));
	info.rules = "fuzz.rules";
	info.compare = ro.rs2 ? "compare.rules" : NULL;
	info.range = ruleset_dynamic_range(ro.rs);
	info.range_name = ruleset_dynamic_range_name(ro.rs);
	info.has_local = ruleset_has_local(ro.rs);
	info.have_listeners = ro.listeners != NULL;
	info.filter = ro.filter;
	replay_reasm_stats(r, &info.reasm);
	info.selector = queuesel_is_all(ro.sel) ? NULL : queuesel_describe(ro.sel);
	replay_flow_stats(r, &info.flows);
	FUZZ_CHECK(info.flows.flows <= 16);
	if (ro.jsonl) {
		jsonw_init(&w);
		report_jsonl_summary(rep, &w, devnull, &info);
		jsonw_free(&w);
	} else {
		report_print(rep, devnull, &info);
	}
	{
		const struct report_counts *c = report_counts(rep);
		uint64_t v = 0;
		int i;

		for (i = 0; i < VERDICT_COUNT; i++)
			v += c->verdicts[i];
		/* one verdict per IP frame at most; fragments are decided
		 * with their datagram (on the frame completing it) */
		FUZZ_CHECK(v <= c->frames &&
			   v + c->proto_pkts[PROTO_NON_IP] + c->frag_held +
					   c->frag_dropped >= c->frames);
		FUZZ_CHECK(c->undecided <= c->frames);
		FUZZ_CHECK(c->alerts <= c->attempts);
	}
	replay_free(r);
	report_free(rep);
	return 0;
}
