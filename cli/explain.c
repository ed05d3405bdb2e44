/*
 * portclass explain: everything portclass knows about a port - the first
 * thing a puzzled admin types after seeing something on 60314.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "class.h"
#include "cli.h"
#include "listener.h"
#include "owner.h"
#include "range.h"
#include "ruleset.h"
#include "snapshot.h"
#include "sockdiag.h"

static const char usage_text[] =
	"usage: portclass explain [-r RULES] PORT...\n";

static const char *class_span(enum port_class c)
{
	switch (c) {
	case CLASS_SYSTEM:
		return "0-1023";
	case CLASS_USER:
		return "1024-49151";
	case CLASS_DYNAMIC:
		return "49152-65535";
	default:
		return "";
	}
}

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

/* What the host says: its own ephemeral range, reserved ports, listeners. */
struct host_view {
	int have_range;
	struct port_range range;
	char range_err[128];
	int have_reserved;
	struct port_set *reserved;
	struct listener_table *listeners;
	int have_listeners;
	char listen_err[128];
};

static void host_view_load(struct host_view *h)
{
	memset(h, 0, sizeof(*h));
	h->have_range = range_host("/proc", &h->range, h->range_err,
				   sizeof(h->range_err)) == 0;
	h->reserved = calloc(1, sizeof(*h->reserved));
	if (h->reserved)
		h->have_reserved = range_host_reserved("/proc", h->reserved,
						       NULL, 0) == 0;
	h->listeners = listener_table_new();
	if (h->listeners) {
		listener_table_set_resolver(h->listeners, owner_resolve, NULL);
		h->have_listeners = sockdiag_fill(h->listeners, h->listen_err,
						  sizeof(h->listen_err)) >= 0;
	}
}

static void host_view_free(struct host_view *h)
{
	free(h->reserved);
	listener_table_free(h->listeners);
}

static void explain_listeners(struct host_view *h, uint16_t port,
			      const struct ruleset *rs)
{
	int found = 0;
	size_t n = listener_table_count(h->listeners);

	for (size_t i = 0; i < n; i++) {
		struct listener *l = listener_table_at(h->listeners, i);
		char ab[64];

		if (l->port != port)
			continue;
		found++;
		printf("  listening:      %s %s%s%s:%u", packet_proto_name(l->proto),
		       l->family == 6 ? "[" : "",
		       addr_format(l->family, l->addr, ab, sizeof(ab)),
		       l->family == 6 ? "]" : "", port);
		const struct listener_owner *o = listener_owner(h->listeners, l);
		if (o) {
			printf(" pid %d (%s)", (int)o->pid, o->program);
			if (o->user[0])
				printf(" user %s", o->user);
			if (o->unit[0])
				printf(" unit %s", o->unit);
		} else {
			printf(" owner unknown");
		}
		if (rs) {
			struct port_range dr = ruleset_dynamic_range(rs);
			const char *what = "not guarded";
			if (range_contains(&dr, port)) {
				switch (snapshot_expect(rs, h->listeners, l)) {
				case EXPECT_YES:
					what = "expected";
					break;
				case EXPECT_UNDETERMINED:
					what = "undetermined";
					break;
				default:
					what = "UNEXPECTED";
					break;
				}
			}
			printf(" - %s", what);
		}
		printf("\n");
	}
	if (!found)
		printf("  listening:      nothing listens on %u\n", port);
}

static void explain_one(struct host_view *h, uint16_t port,
			const struct ruleset *rs)
{
	enum port_class c = class_of(port);
	size_t np;
	const struct range_profile *prof = range_profiles(&np);

	printf("port %u\n", port);
	printf("  IANA class:     %s (%s, RFC 6335 section 6)\n", class_name(c),
	       class_span(c));
	printf("  ephemeral in:  ");
	for (size_t i = 0; i < np; i++)
		printf(" %s %s%s", prof[i].name,
		       range_contains(&prof[i].range, port) ? "yes" : "no",
		       i + 1 < np ? "," : "\n");
	if (h->have_range)
		printf("  this host:      %s ip_local_port_range %u-%u",
		       range_contains(&h->range, port) ? "in" : "outside",
		       h->range.lo, h->range.hi);
	else
		printf("  this host:      ip_local_port_range unknown (%s)",
		       h->range_err);
	if (h->have_reserved)
		printf("; %s\n", port_set_has(h->reserved, port) ?
		       "reserved (ip_local_reserved_ports: never handed out)" :
		       "not reserved");
	else
		printf("\n");
	if (rs) {
		struct port_range dr = ruleset_dynamic_range(rs);
		printf("  policy:         guarded range %s (%u-%u): %s\n",
		       ruleset_dynamic_range_name(rs), dr.lo, dr.hi,
		       range_contains(&dr, port) ?
		       "inbound NEW connections here must be expected" :
		       "not guarded");
	}
	if (h->have_listeners)
		explain_listeners(h, port, rs);
	else
		printf("  listening:      unknown (%s)\n", h->listen_err);
}

int cli_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = NULL;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}

	/* Validate every argument before printing anything. */
	uint16_t *ports = calloc((size_t)(argc - optind), sizeof(*ports));
	if (!ports) {
		fprintf(stderr, "portclass: out of memory\n");
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		struct port_range r = { 0, 0 };
		char err[128] = "";

		if (range_parse(argv[i], &r, err, sizeof(err)) < 0 ||
		    r.lo != r.hi) {
			fprintf(stderr, "portclass: %s: %s\n", argv[i],
				r.lo != r.hi && !err[0] ? "not a single port" : err);
			rc = 2;
			continue;
		}
		ports[i - optind] = r.lo;
	}
	if (rc) {
		free(ports);
		return rc;
	}

	struct ruleset *rs = NULL;
	if (rules) {
		struct ruleset_opts o = { .procroot = NULL, .report = report };
		int nerr = 0;
		rs = ruleset_load(rules, &o, &nerr);
		if (!rs) {
			fprintf(stderr, "portclass: %s: %d error%s\n", rules, nerr,
				nerr == 1 ? "" : "s");
			free(ports);
			return 1;
		}
	}

	struct host_view h;
	host_view_load(&h);
	for (int i = 0; i < argc - optind; i++) {
		if (i)
			printf("\n");
		explain_one(&h, ports[i], rs);
	}
	host_view_free(&h);
	ruleset_free(rs);
	free(ports);
	return 0;
}
