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
#include "suggest.h"
#include "sockdiag.h"

static const char usage_text[] =
	"usage: portclass listeners [-c POLICY] [--json|--suggest] [--unexpected]\n"
	"                           [--proto PROTO] [--port RANGE] [-v]\n";

static void usage_long(FILE *f)
{
	fprintf(f,
		"%s"
		"\n"
		"Lists every listening TCP socket and every bound, unconnected UDP\n"
		"and UDP-Lite socket (and SCTP and DCCP listeners where the kernel\n"
		"has them), IPv4 and IPv6, with its IANA class, whether the port is\n"
		"in this host's ephemeral range, the owning process and what the\n"
		"policy decides for a new connection to it from anywhere:\n"
		"  expected     in the guarded dynamic range, covered by an `expect`\n"
		"  unexpected   in the guarded dynamic range, not covered: a new\n"
		"               inbound connection to it gets the `unexpected` action\n"
		"  not-guarded  outside the guarded dynamic range\n"
		"  pass:LINE    an explicit rule decides first (also drop:, reject:);\n"
		"               rules with `from` or `filter` are not judged here\n"
		"\n"
		"A listener counts as expected when an `expect` rule covers a new\n"
		"connection to its address and port from anywhere: rules limited\n"
		"with `from` never do, and rules naming a program or user do only\n"
		"when its owner can be found.\n"
		"\n"
		"  -c, --policy FILE  the policy to judge by (default: $PORTCLASS_POLICY,\n"
		"                     else /etc/portclass/rules.conf when present, else\n"
		"                     %s; with none, the IANA dynamic\n"
		"                     range 49152-65535 is guarded, nothing expected)\n"
		"  -j, --json         the JSON snapshot `portclass-replay --listeners`\n"
		"                     reads\n"
		"  -s, --suggest      `expect` lines for the unexpected listeners: a\n"
		"                     baseline to append to the policy\n"
		"  -u, --unexpected   only unexpected listeners\n"
		"  -p, --proto PROTO  only this protocol (tcp, udp, udplite, sctp, dccp)\n"
		"  -P, --port RANGE   only ports in RANGE (60314, 60000-61000)\n"
		"  -v, --verbose      name the policy file read\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status (cron and monitoring-plugin style): 0 no unexpected\n"
		"listener among those shown, 1 at least one, 2 usage or input error.\n"
		"COMMAND is the owner's command line (/proc/PID/cmdline, escaped).\n"
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
	   C_PROGRAM, C_USER, C_UNIT, C_COMMAND, C_COUNT };

static const char *const col_head[C_COUNT] = {
	"PROTO", "ADDRESS", "PORT", "CLASS", "EPHEM", "POLICY", "PID",
	"PROGRAM", "USER", "UNIT", "COMMAND"
};

/* What the whole policy decides about one listener. */
struct judged {
	int rule;		/* an explicit rule matched */
	struct rule_ref ref;
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

/*
 * The owner's command line, NUL-separated arguments joined by spaces and
 * escaped ("\\x1b" for ESC): a program's argv is its own to choose.
 */
static void read_cmdline(int32_t pid, char *out, size_t len)
{
	char path[64], raw[512];
	size_t n, i;
	FILE *f;

	out[0] = '\0';
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(raw, 1, sizeof(raw) - 1, f);
	fclose(f);
	while (n > 0 && raw[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (raw[i] == '\0')
			raw[i] = ' ';
	raw[n] = '\0';
	esc_str(out, len, raw);
}

static int print_table(const struct snapshot_row *rows, size_t n,
		       const struct judged *jd)
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
		const struct listener_owner *o = listener_owner_known(l);
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
		if (jd[i].rule) {
			char file[96];

			esc_str(file, sizeof(file), jd[i].ref.file);
			snprintf(r[C_POLICY], CELL, "%s:%s:%u",
				 verdict_name(jd[i].ref.verdict), file,
				 jd[i].ref.line);
		} else {
			cell_set(r[C_POLICY],
				 snapshot_policy_name(rows[i].policy));
		}
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
		read_cmdline(o ? o->pid : -1, r[C_COMMAND], CELL);
		if (!r[C_COMMAND][0])
			cell_set(r[C_COMMAND], NULL);
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
 * The policy: -c FILE, else the default every program reads, else an empty
 * ruleset (which guards the IANA dynamic range and expects nothing).
 */
static struct ruleset *load_rules(const char *path, int verbose)
{
	struct ruleset_opts o = { .procroot = NULL, .report = report };
	int absent = 0, nerr = 0;
	struct ruleset *rs = cli_load_policy(path, verbose, &absent);

	if (!rs && absent)
		rs = ruleset_parse_string("(no rules)", "", &o, &nerr);
	return rs;
}

/* A connection attempt to l from anywhere, as the rules see it. */
static void attempt_to(const struct listener *l, struct packet *p)
{
	memset(p, 0, sizeof(*p));
	p->family = l->family;
	p->proto = l->proto;
	p->has_ports = 1;
	p->conn_attempt = 1;
	p->tcp_flags = PACKET_TCP_SYN;
	p->dport = l->port;
	memcpy(p->dst, l->addr, sizeof(p->dst));
	p->status = PACKET_OK;
}

static void print_suggest(const struct snapshot_row *rows, size_t n,
			  const struct judged *jd, const struct ruleset *rs)
{
	size_t i, count = 0;

	printf("# expect lines for the unexpected listeners of this host\n"
	       "# (guarded range %s); review, then append to the policy\n",
	       ruleset_dynamic_range_name(rs));
	for (i = 0; i < n; i++) {
		const struct listener *l = rows[i].l;
		const struct listener_owner *o =
			l->owner_state == 1 ? &l->owner : NULL;
		struct suggest_line sl;
		char line[512];

		if (jd[i].rule || rows[i].policy != SNAPSHOT_UNEXPECTED)
			continue;
		memset(&sl, 0, sizeof(sl));
		sl.proto = l->proto;
		sl.family = l->family;
		memcpy(sl.addr, l->addr, 16);
		sl.port = l->port;
		sl.program = o && o->program[0] ? o->program : NULL;
		sl.user = o && o->user[0] ? o->user : NULL;
		sl.uid = sl.user ? -1 : (int64_t)l->uid;
		if (suggest_format(&sl, line, sizeof(line)) == 0) {
			printf("%s\n", line);
			count++;
		}
	}
	if (!count)
		printf("# (none)\n");
}

int cli_listeners(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "policy", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'c' }, /* the old name */
		{ "suggest", no_argument, NULL, 's' },
		{ "unexpected", no_argument, NULL, 'u' },
		{ "proto", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = NULL;
	int json = 0, suggest = 0, only_unexp = 0, verbose = 0, proto = -1;
	struct port_range want = { 0, 65535 };
	struct judged *jd = NULL;
	size_t shown = 0, unexpected = 0;
	int opt, rc = 2;
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
	while ((opt = getopt_long(argc, argv, "+jc:r:sup:P:vh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'c':
		case 'r': /* the old flag */
			rules = optarg;
			break;
		case 's':
			suggest = 1;
			break;
		case 'u':
			only_unexp = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'p':
			proto = packet_proto_lookup(optarg);
			if (proto < 0 || proto == PROTO_ICMP ||
			    proto == PROTO_ICMP6) {
				fprintf(stderr, "portclass: listeners: --proto: "
					"'%s' is not tcp, udp, udplite, sctp or "
					"dccp\n", optarg);
				return 2;
			}
			break;
		case 'P':
			if (range_parse(optarg, &want, err, sizeof(err)) < 0) {
				fprintf(stderr, "portclass: listeners: --port: "
					"%s\n", err);
				return 2;
			}
			break;
		case 'h':
			usage_long(stdout);
			return 0;
		default:
			if (optopt && strchr("crpP", optopt))
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

	if (json && suggest) {
		fprintf(stderr, "portclass: listeners: --json and --suggest "
			"exclude each other\n");
		return 2;
	}
	rs = load_rules(rules, verbose);
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
	jd = calloc(n ? n : 1, sizeof(*jd));
	if (!rows || !jd) {
		fprintf(stderr, "portclass: listeners: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct snapshot_row *r = &rows[i];
		struct listener *l = listener_table_at(t, i);

		if ((proto >= 0 && l->proto != proto) || l->port < want.lo ||
		    l->port > want.hi)
			continue;
		r = &rows[shown];
		r->l = l;
		r->ephemeral = have_range ? range_contains(&range, r->l->port)
					  : -1;
		r->reserved = have_reserved && port_set_has(reserved, r->l->port);
		r->policy = snapshot_judge(rs, t, r->l);
		shown++;
	}
	snapshot_sort(rows, shown);
	/* explicit rules first, as the decision takes them */
	n = shown;
	shown = 0;
	for (size_t i = 0; i < n; i++) {
		struct packet p;
		struct judged j;

		memset(&j, 0, sizeof(j));
		attempt_to(rows[i].l, &p);
		j.rule = ruleset_match(rs, &p, 1, 1, &j.ref);
		if (!j.rule && rows[i].policy == SNAPSHOT_UNEXPECTED)
			unexpected++;
		else if (only_unexp)
			continue;
		rows[shown] = rows[i];
		jd[shown++] = j;
	}

	if (suggest) {
		print_suggest(rows, shown, jd, rs);
		rc = fflush(stdout) != 0 ? 2 : 0;
	} else {
		rc = json ? print_json(rows, shown, have_range ? &range : NULL)
			  : print_table(rows, shown, jd);
		if (rc)
			rc = 2;
		else if (unexpected)
			rc = 1;
	}
	if (verbose)
		fprintf(stderr, "portclass: listeners: %zu shown, %zu "
			"unexpected\n", shown, unexpected);
out:
	free(jd);
	free(rows);
	free(reserved);
	listener_table_free(t);
	ruleset_free(rs);
	return rc;
}
