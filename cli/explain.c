/*
 * portclass explain: everything portclass knows about a port - the first
 * thing a puzzled admin types after seeing something on 60314.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>

#include "addr.h"
#include "class.h"
#include "cli.h"
#include "esc.h"
#include "listener.h"
#include "owner.h"
#include "range.h"
#include "ruleset.h"
#include "snapshot.h"
#include "sockdiag.h"

static const char usage_text[] =
	"usage: portclass explain [-c POLICY] [-v] PORT|SERVICE|A-B[/PROTO]...\n";

static void usage_long(FILE *f)
{
	fprintf(f, "%s"
		"\n"
		"Everything portclass knows about a port: IANA class, OS ephemeral\n"
		"ranges, this host's range and reserved ports, the policy's guarded\n"
		"range, and who listens.  Each argument is a port (60314), a service\n"
		"name (ssh, from /etc/services), a range (60000-60002), any of them\n"
		"with /PROTO (22/tcp, domain/udp); each is answered on its own.\n"
		"\n"
		"  -c, --policy FILE  the policy (default: the one every portclass\n"
		"                     program reads, see portclass(1))\n"
		"  -v, --verbose      name the policy file read\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: 0 every argument explained, 2 an argument or the\n"
		"policy was bad (the good arguments are still explained).\n",
		usage_text);
}

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

/* What one argument asks about: ports lo-hi, of one protocol or any. */
struct query {
	uint16_t lo, hi;
	int proto;		/* enum packet_proto, or -1: any */
};

static void explain_listeners(struct host_view *h, const struct query *q,
			      const struct ruleset *rs)
{
	int found = 0;
	size_t n = listener_table_count(h->listeners);

	for (size_t i = 0; i < n; i++) {
		struct listener *l = listener_table_at(h->listeners, i);
		uint16_t port = l->port;
		char ab[64];

		if (l->port < q->lo || l->port > q->hi ||
		    (q->proto >= 0 && l->proto != q->proto))
			continue;
		found++;
		printf("  listening:      %s %s%s%s:%u", packet_proto_name(l->proto),
		       l->family == 6 ? "[" : "",
		       addr_format(l->family, l->addr, ab, sizeof(ab)),
		       l->family == 6 ? "]" : "", port);
		const struct listener_owner *o = listener_owner(h->listeners, l);
		if (o) {
			char eb[ESC_SIZE(256)];

			/* Names come from the process: escaped, never raw. */
			printf(" pid %d (%s)", (int)o->pid,
			       esc_str(eb, sizeof(eb), o->program));
			if (o->user[0])
				printf(" user %s", esc_str(eb, sizeof(eb), o->user));
			if (o->unit[0])
				printf(" unit %s", esc_str(eb, sizeof(eb), o->unit));
		} else {
			printf(" owner unknown");
		}
		if (rs) {
			struct port_range dr = ruleset_dynamic_range(rs);
			const char *what = "not guarded";
			struct packet p;
			struct rule_ref ref;

			snapshot_probe(l, &p);
			if (ruleset_match(rs, &p, 1, 1, &ref)) {
				/* an explicit rule decides before `expect` */
				printf(" - rule %s:%u: %s%s\n", ref.file,
				       ref.line, verdict_name(ref.verdict),
				       ref.log ? " log" : "");
				continue;
			}
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
	if (!found) {
		if (q->lo == q->hi)
			printf("  listening:      nothing listens on %u%s%s\n",
			       q->lo, q->proto >= 0 ? "/" : "",
			       q->proto >= 0 ? packet_proto_name(q->proto) : "");
		else
			printf("  listening:      nothing listens in %u-%u%s%s\n",
			       q->lo, q->hi, q->proto >= 0 ? "/" : "",
			       q->proto >= 0 ? packet_proto_name(q->proto) : "");
	}
}

static void explain_port(struct host_view *h, uint16_t port)
{
	enum port_class c = class_of(port);
	size_t np;
	const struct range_profile *prof = range_profiles(&np);

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
}

/* A range: how it lies across the classes and ranges, not port by port. */
static void explain_range(struct host_view *h, const struct query *q)
{
	size_t np;
	const struct range_profile *prof = range_profiles(&np);
	struct port_range r = { q->lo, q->hi };

	printf("  IANA class:     %s", class_name(class_of(q->lo)));
	if (class_of(q->lo) != class_of(q->hi))
		printf(" to %s", class_name(class_of(q->hi)));
	printf(" (RFC 6335 section 6)\n");
	printf("  ephemeral in:  ");
	for (size_t i = 0; i < np; i++) {
		const struct port_range *pr = &prof[i].range;
		const char *w = pr->lo <= r.lo && r.hi <= pr->hi ? "all" :
				pr->hi < r.lo || r.hi < pr->lo ? "no" : "part";
		printf(" %s %s%s", prof[i].name, w, i + 1 < np ? "," : "\n");
	}
	if (h->have_range) {
		const struct port_range *hr = &h->range;
		printf("  this host:      %s ip_local_port_range %u-%u\n",
		       hr->lo <= r.lo && r.hi <= hr->hi ? "inside" :
		       hr->hi < r.lo || r.hi < hr->lo ? "outside" : "overlaps",
		       hr->lo, hr->hi);
	} else {
		printf("  this host:      ip_local_port_range unknown (%s)\n",
		       h->range_err);
	}
}

static void explain_one(struct host_view *h, const char *arg,
			const struct query *q, const struct ruleset *rs)
{
	const char *pname = q->proto >= 0 ? packet_proto_name(q->proto) : NULL;
	struct servent *se;
	char esc[128];

	esc_str(esc, sizeof(esc), arg);
	if (q->lo == q->hi)
		printf("port %u%s%s", q->lo, pname ? "/" : "", pname ? pname : "");
	else
		printf("ports %u-%u%s%s", q->lo, q->hi, pname ? "/" : "",
		       pname ? pname : "");
	if (strcmp(esc, arg) == 0 && !(arg[0] >= '0' && arg[0] <= '9'))
		printf(" (%s)", esc);
	printf("\n");
	if (q->lo == q->hi) {
		se = getservbyport(htons(q->lo), pname &&
				   (q->proto == PROTO_TCP || q->proto == PROTO_UDP ||
				    q->proto == PROTO_SCTP || q->proto == PROTO_DCCP) ?
				   pname : NULL);
		if (se && se->s_name) {
			esc_str(esc, sizeof(esc), se->s_name);
			printf("  service:        %s (/etc/services)\n", esc);
		}
		explain_port(h, q->lo);
	} else {
		explain_range(h, q);
	}
	if (rs) {
		struct port_range dr = ruleset_dynamic_range(rs);
		int in = dr.lo <= q->lo && q->hi <= dr.hi;
		int out = dr.hi < q->lo || q->hi < dr.lo;
		printf("  policy:         guarded range %s (%u-%u): %s\n",
		       ruleset_dynamic_range_name(rs), dr.lo, dr.hi,
		       in ? "inbound NEW connections here must be expected" :
		       out ? "not guarded" : "partly guarded");
	}
	if (h->have_listeners)
		explain_listeners(h, q, rs);
	else
		printf("  listening:      unknown (%s)\n", h->listen_err);
}

/*
 * One argument: PORT, SERVICE, A-B, each optionally /PROTO.  Returns 0,
 * or -1 with a message in err.
 */
static int parse_query(const char *arg, struct query *q, char *err,
		       size_t errlen)
{
	char buf[128], *slash;
	struct port_range r = { 0, 0 };
	const char *proto = NULL;

	q->proto = -1;
	if (!*arg) {
		snprintf(err, errlen, "empty argument");
		return -1;
	}
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		proto = slash + 1;
		q->proto = packet_proto_lookup(proto);
		if (q->proto < 0 || q->proto == PROTO_ICMP ||
		    q->proto == PROTO_ICMP6) {
			snprintf(err, errlen, "unknown protocol '%.40s' (tcp, "
				 "udp, udplite, sctp, dccp)", proto);
			return -1;
		}
	}
	if (buf[0] >= '0' && buf[0] <= '9') {
		if (range_parse(buf, &r, err, errlen) < 0)
			return -1;
	} else if (buf[0] == '-') {
		snprintf(err, errlen, "not a port, service or range");
		return -1;
	} else {
		struct servent *se = getservbyname(buf, proto);

		if (!se && !proto) /* e.g. a service only known for udp */
			se = getservbyname(buf, "udp");
		if (!se) {
			snprintf(err, errlen, "unknown service name (not in "
				 "/etc/services%s%s)", proto ? " for " : "",
				 proto ? proto : "");
			return -1;
		}
		r.lo = r.hi = ntohs((uint16_t)se->s_port);
	}
	q->lo = r.lo;
	q->hi = r.hi;
	return 0;
}

int cli_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = NULL;
	int c, rc = 0, verbose = 0, shown = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'r': /* the old flag */
			rules = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage_long(stdout);
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

	int absent = 0;
	struct ruleset *rs = cli_load_policy(rules, verbose, &absent);
	if (!rs && !absent)
		rc = 2; /* said why; the ports are still explained */

	struct host_view h;
	host_view_load(&h);
	for (int i = optind; i < argc; i++) {
		struct query q;
		char err[160] = "", esc[128];

		if (parse_query(argv[i], &q, err, sizeof(err)) < 0) {
			esc_str(esc, sizeof(esc), argv[i]);
			fprintf(stderr, "portclass: explain: '%s': %s\n", esc, err);
			rc = 2;
			continue;
		}
		if (shown++)
			printf("\n");
		explain_one(&h, argv[i], &q, rs);
	}
	host_view_free(&h);
	ruleset_free(rs);
	return rc;
}
