/*
 * portclass listeners: every listening socket on the host, classified -
 * what `ss -ltnup` and `lsof -i` answer, plus the IANA class, the host's
 * ephemeral range and what the rules say about it.  --json prints the
 * snapshot that `portclass-replay --listeners` reads back.
 */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "class.h"
#include "cli.h"
#include "esc.h"
#include "jsonw.h"
#include "listener.h"
#include "owner.h"
#include "packet.h"
#include "range.h"
#include "ruleset.h"
#include "snapshot.h"
#include "sockdiag.h"

static const char usage_text[] =
	"usage: portclass listeners [--json] [-r RULES]\n";

static void usage_long(FILE *f)
{
	fprintf(f,
		"%s"
		"\n"
		"Lists every listening TCP socket and every bound, unconnected UDP\n"
		"and UDP-Lite socket (and SCTP and DCCP listeners where the kernel\n"
		"has them), IPv4 and IPv6, with its IANA class, whether the port is\n"
		"in this host's ephemeral range, the owning process and what the\n"
		"rules say about it:\n"
		"  expected     in the guarded dynamic range, covered by an `expect`\n"
		"  unexpected   in the guarded dynamic range, not covered: a new\n"
		"               inbound connection to it gets the `unexpected` action\n"
		"  not-guarded  outside the guarded dynamic range\n"
		"\n"
		"A listener counts as expected when an `expect` rule covers a new\n"
		"connection to its address and port from anywhere: rules limited\n"
		"with `from` never do, and rules naming a program or user do only\n"
		"when its owner can be found.\n"
		"\n"
		"  -r, --rules FILE   rules to judge by (default: %s,\n"
		"                     or contrib/default.rules in a source tree;\n"
		"                     with neither, no rules: the IANA dynamic range\n"
		"                     49152-65535 is guarded and nothing is expected)\n"
		"  -j, --json         the JSON snapshot `portclass-replay --listeners`\n"
		"                     reads\n"
		"  -h, --help         this help\n"
		"\n"
		"EPHEM is yes when the port is in ip_local_port_range, reserved when it\n"
		"is also in ip_local_reserved_ports (the kernel does not hand it out).\n"
		"Owners of other users' sockets are found only as root.\n",
		usage_text, PORTCLASS_DATADIR "/default.rules");
}

static void report(void *ctx, const char *diag)
{
	(void)ctx;
	fprintf(stderr, "%s\n", diag);
}

/*
 * The host's own addresses: every interface address and IPv4 broadcast
 * address (the replay treats packets to them as addressed to this host).
 * NULL with *n 0 when they cannot be listed.
 */
static struct listener_host *host_addrs(size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct listener_host *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return NULL;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr *sa[3] = { i->ifa_addr, NULL, NULL };
		struct sockaddr_in subnet_bcast;

		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    (i->ifa_flags & IFF_BROADCAST)) {
			sa[1] = i->ifa_broadaddr;
			/* The subnet's broadcast address from the prefix,
			 * also when none was configured (the stack still
			 * takes it). */
			if (i->ifa_netmask &&
			    i->ifa_netmask->sa_family == AF_INET) {
				const struct sockaddr_in *a = (const void *)i->ifa_addr;
				const struct sockaddr_in *m = (const void *)i->ifa_netmask;

				memset(&subnet_bcast, 0, sizeof(subnet_bcast));
				subnet_bcast.sin_family = AF_INET;
				subnet_bcast.sin_addr.s_addr =
					a->sin_addr.s_addr | ~m->sin_addr.s_addr;
				if (m->sin_addr.s_addr != 0xffffffffu)
					sa[2] = (const struct sockaddr *)(const void *)&subnet_bcast;
			}
		}
		for (int k = 0; k < 3; k++) {
			struct listener_host h;

			if (!sa[k])
				continue;
			memset(&h, 0, sizeof(h));
			if (sa[k]->sa_family == AF_INET) {
				h.family = 4;
				memcpy(h.addr, &((const struct sockaddr_in *)
						 (const void *)sa[k])->sin_addr, 4);
			} else if (sa[k]->sa_family == AF_INET6) {
				h.family = 6;
				memcpy(h.addr, &((const struct sockaddr_in6 *)
						 (const void *)sa[k])->sin6_addr, 16);
			} else {
				continue;
			}
			if (*n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct listener_host *nv =
					realloc(v, nc * sizeof(*nv));

				if (!nv)
					goto out;
				v = nv;
				cap = nc;
			}
			for (size_t d = 0; d < *n; d++)
				if (v[d].family == h.family &&
				    !memcmp(v[d].addr, h.addr, 16))
					goto next;
			v[(*n)++] = h;
next:
			;
		}
	}
out:
	freeifaddrs(ifa);
	return v;
}

static int print_json(const struct snapshot_row *rows, size_t n,
		      const struct port_range *range)
{
	struct jsonw w;
	char host[256];
	struct listener_host *addrs;
	size_t naddrs;
	int rc = 0;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	addrs = host_addrs(&naddrs);
	jsonw_init(&w);
	snapshot_write_hosts(&w, host, (int64_t)time(NULL), range, addrs,
			     naddrs, rows, n);
	free(addrs);
	if (w.failed) {
		fprintf(stderr, "portclass: listeners: out of memory\n");
		rc = 1;
	} else if (printf("%s\n", jsonw_str(&w)) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "portclass: listeners: write: %s\n",
			strerror(errno));
		rc = 1;
	}
	jsonw_free(&w);
	return rc;
}

/* The human table's columns. */
enum col { C_PROTO, C_ADDR, C_PORT, C_CLASS, C_EPHEM, C_POLICY, C_PID,
	   C_PROGRAM, C_USER, C_UNIT, C_COUNT };

static const char *const col_head[C_COUNT] = {
	"PROTO", "ADDRESS", "PORT", "CLASS", "EPHEM", "POLICY", "PID",
	"PROGRAM", "USER", "UNIT"
};

#define CELL 160

/*
 * Copies s into a cell through the escape-safe printer (a program may
 * name itself with escape sequences or newlines).
 */
static void cell_set(char *cell, const char *s)
{
	if (!s || !*s) {
		snprintf(cell, CELL, "-");
		return;
	}
	esc_str(cell, CELL, s);
}

static int print_table(const struct snapshot_row *rows, size_t n)
{
	size_t width[C_COUNT];
	char (*cells)[C_COUNT][CELL];

	cells = calloc(n + 1, sizeof(*cells));
	if (!cells) {
		fprintf(stderr, "portclass: listeners: out of memory\n");
		return 1;
	}
	for (int c = 0; c < C_COUNT; c++)
		cell_set(cells[0][c], col_head[c]);
	for (size_t i = 0; i < n; i++) {
		const struct listener *l = rows[i].l;
		const struct listener_owner *o =
			l->owner_state == 1 ? &l->owner : NULL;
		char (*r)[CELL] = cells[i + 1];
		char buf[64];

		cell_set(r[C_PROTO], packet_proto_name((enum packet_proto)l->proto));
		cell_set(r[C_ADDR], addr_format(l->family, l->addr, buf,
						sizeof(buf)));
		snprintf(r[C_PORT], CELL, "%u", (unsigned)l->port);
		cell_set(r[C_CLASS], class_name(class_of(l->port)));
		cell_set(r[C_EPHEM], rows[i].ephemeral < 0 ? "?"
				     : !rows[i].ephemeral ? "no"
				     : rows[i].reserved ? "reserved"
							: "yes");
		cell_set(r[C_POLICY], snapshot_policy_name(rows[i].policy));
		if (o && o->pid > 0)
			snprintf(r[C_PID], CELL, "%" PRId32, o->pid);
		else
			cell_set(r[C_PID], NULL);
		cell_set(r[C_PROGRAM], o ? o->program : NULL);
		if (o && o->user[0]) {
			cell_set(r[C_USER], o->user);
		} else {
			/* The socket's uid is known even when its process is
			 * not (another user's, and we are not root). */
			snprintf(buf, sizeof(buf), "uid:%" PRIu32, l->uid);
			cell_set(r[C_USER], buf);
		}
		cell_set(r[C_UNIT], o ? o->unit : NULL);
	}
	for (int c = 0; c < C_COUNT; c++) {
		width[c] = 0;
		for (size_t i = 0; i <= n; i++) {
			size_t len = strlen(cells[i][c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (size_t i = 0; i <= n; i++) {
		for (int c = 0; c < C_COUNT; c++) {
			if (c == C_COUNT - 1)
				printf("%s\n", cells[i][c]);
			else if (c == C_PORT || c == C_PID)
				printf("%*s  ", (int)width[c], cells[i][c]);
			else
				printf("%-*s  ", (int)width[c], cells[i][c]);
		}
	}
	free(cells);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "portclass: listeners: write: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * The rules: -r FILE, else the default file if there is one, else an empty
 * ruleset (which guards the IANA dynamic range and expects nothing).
 */
static struct ruleset *load_rules(const char *path)
{
	struct ruleset_opts o = { .procroot = NULL, .report = report };
	struct ruleset *rs;
	int nerr = 0;

	if (!path) {
		const char *def = cli_default_rules();
		if (access(def, R_OK) == 0)
			path = def;
	}
	if (path)
		rs = ruleset_load(path, &o, &nerr);
	else
		rs = ruleset_parse_string("(no rules)", "", &o, &nerr);
	if (!rs) {
		if (nerr)
			fprintf(stderr, "portclass: %s: %d error%s\n",
				path ? path : "(no rules)", nerr,
				nerr == 1 ? "" : "s");
		else
			fprintf(stderr, "portclass: %s: %s\n",
				path ? path : "(no rules)", strerror(errno));
	}
	return rs;
}

int cli_listeners(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "rules", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = NULL;
	int json = 0, opt, rc = 1;
	struct ruleset *rs = NULL;
	struct listener_table *t = NULL;
	struct port_set *reserved = NULL;
	struct port_range range = { 0, 0 };
	struct snapshot_row *rows = NULL;
	int have_range, have_reserved;
	char err[256];
	size_t n;

	optind = 0; /* GNU: start afresh whatever ran before */
	opterr = 0; /* our own messages, named after the command */
	while ((opt = getopt_long(argc, argv, "+jr:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'r':
			rules = optarg;
			break;
		case 'h':
			usage_long(stdout);
			return 0;
		default:
			if (optopt && strchr("r", optopt))
				fprintf(stderr, "portclass: listeners: option "
					"-%c needs an argument\n", optopt);
			else if (optopt)
				fprintf(stderr, "portclass: listeners: unknown "
					"option -%c\n", optopt);
			else
				fprintf(stderr, "portclass: listeners: unknown "
					"option %s\n", argv[optind - 1]);
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portclass: listeners: unexpected argument '%s'\n",
			argv[optind]);
		fputs(usage_text, stderr);
		return 2;
	}

	rs = load_rules(rules);
	if (!rs)
		goto out;

	t = listener_table_new();
	if (!t) {
		fprintf(stderr, "portclass: listeners: out of memory\n");
		goto out;
	}
	if (sockdiag_fill(t, err, sizeof(err)) < 0) {
		fprintf(stderr, "portclass: listeners: %s\n", err);
		goto out;
	}
	/* One pass over /proc for every socket; owners that are not found
	 * (not root, or the process is gone) print as unknown. */
	if (owner_resolve_table("/proc", t) < 0)
		fprintf(stderr, "portclass: listeners: warning: /proc: %s; "
			"owners unknown\n", strerror(errno));
	/* ruleset_expect may ask the table for owners of entries the pass
	 * above did not find; the resolver will not find them either. */
	listener_table_set_resolver(t, owner_resolve, NULL);

	have_range = range_host("/proc", &range, err, sizeof(err)) == 0;
	if (!have_range)
		fprintf(stderr, "portclass: listeners: warning: %s\n", err);
	reserved = calloc(1, sizeof(*reserved));
	have_reserved = reserved &&
			range_host_reserved("/proc", reserved, NULL, 0) == 0;

	n = listener_table_count(t);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "portclass: listeners: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct snapshot_row *r = &rows[i];
		r->l = listener_table_at(t, i);
		r->ephemeral = have_range ? range_contains(&range, r->l->port)
					  : -1;
		r->reserved = have_reserved && port_set_has(reserved, r->l->port);
		r->policy = snapshot_judge(rs, t, r->l);
	}
	snapshot_sort(rows, n);

	rc = json ? print_json(rows, n, have_range ? &range : NULL)
		  : print_table(rows, n);
out:
	free(rows);
	free(reserved);
	listener_table_free(t);
	ruleset_free(rs);
	return rc;
}
