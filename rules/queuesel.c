/*
 * queuesel: see queuesel.h.  The file is deliberately simple enough for
 * a POSIX shell `while read key value` loop: the setup scripts read the
 * same lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queuesel.h"
#include "range.h"

#define LINE_MAX_LEN 1024

struct queuesel {
	int all;
	unsigned protos;	/* bit per enum packet_proto */
	int all_ports;
	struct port_set ports;
	int ifaces;
	int invalid_drop;
	char desc[512];
};

static void describe(struct queuesel *q, const char *ports,
		     const char *ifaces)
{
	static const int order[] = { PROTO_TCP, PROTO_UDP, PROTO_UDPLITE,
				     PROTO_SCTP, PROTO_DCCP };
	size_t n = 0;

	if (q->all) {
		snprintf(q->desc, sizeof(q->desc), "all packets");
		return;
	}
	q->desc[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (q->protos & (1u << order[i]))
			n += (size_t)snprintf(q->desc + n, sizeof(q->desc) - n,
					      "%s%s", n ? " " : "",
					      packet_proto_name(order[i]));
	if (n < sizeof(q->desc))
		snprintf(q->desc + n, sizeof(q->desc) - n,
			 "%sports %.100s, interfaces %.100s, invalid %s",
			 n ? ", " : "", ports, ifaces,
			 q->invalid_drop ? "drop" : "accept");
}

static struct queuesel *base(void)
{
	struct queuesel *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->protos = (1u << PROTO_TCP) | (1u << PROTO_UDP) |
		    (1u << PROTO_UDPLITE) | (1u << PROTO_SCTP) |
		    (1u << PROTO_DCCP);
	q->all_ports = 1;
	q->invalid_drop = 1;
	return q;
}

struct queuesel *queuesel_default(void)
{
	struct queuesel *q = base();

	if (q)
		describe(q, "all", "all");
	return q;
}

struct queuesel *queuesel_all(void)
{
	struct queuesel *q = base();

	if (q) {
		q->all = 1;
		describe(q, "all", "all");
	}
	return q;
}

void queuesel_free(struct queuesel *q)
{
	free(q);
}

int queuesel_is_all(const struct queuesel *q)
{
	return q->all;
}

const char *queuesel_describe(const struct queuesel *q)
{
	return q->desc;
}

int queuesel_has_interfaces(const struct queuesel *q)
{
	return q->ifaces;
}

int queuesel_invalid_drop(const struct queuesel *q)
{
	return q->invalid_drop;
}

const char *queuesel_result_name(enum queuesel_result r)
{
	static const char *const names[QS_COUNT] = {
		[QS_QUEUED] = "queued",
		[QS_OUTSIDE] = "outside-selector",
		[QS_NOT_NEW] = "not-new",
		[QS_INVALID] = "conntrack-invalid",
		[QS_UNDETERMINED] = "undetermined",
	};

	return (unsigned)r < QS_COUNT ? names[r] : "undetermined";
}

/* One "KEY VALUE..." line; -1 with a message in msg. */
static int setting(struct queuesel *q, char *line, char *ports, char *ifaces,
		   char *msg, size_t msglen)
{
	char *save = NULL, *key = strtok_r(line, " \t", &save), *v;

	if (!key)
		return 0;
	if (!strcmp(key, "protos")) {
		q->protos = 0;
		while ((v = strtok_r(NULL, " \t", &save))) {
			int p = packet_proto_lookup(v);

			if (p != PROTO_TCP && p != PROTO_UDP &&
			    p != PROTO_UDPLITE && p != PROTO_SCTP &&
			    p != PROTO_DCCP) {
				snprintf(msg, msglen, "protos: '%.40s' is not "
					 "one of tcp udp udplite sctp dccp", v);
				return -1;
			}
			q->protos |= 1u << p;
		}
		if (!q->protos) {
			snprintf(msg, msglen, "protos: no protocol given");
			return -1;
		}
	} else if (!strcmp(key, "ports")) {
		v = strtok_r(NULL, " \t", &save);
		if (!v || strtok_r(NULL, " \t", &save)) {
			snprintf(msg, msglen, "ports: one value expected "
				 "(all, or a list such as 1024-65535,8080)");
			return -1;
		}
		snprintf(ports, 128, "%.120s", v);
		if (!strcmp(v, "all")) {
			q->all_ports = 1;
			return 0;
		}
		memset(&q->ports, 0, sizeof(q->ports));
		if (range_parse_list(v, &q->ports, msg, msglen) < 0)
			return -1;
		q->all_ports = 0;
	} else if (!strcmp(key, "interfaces")) {
		size_t n = 0;

		q->ifaces = 0;
		ifaces[0] = '\0';
		while ((v = strtok_r(NULL, " \t", &save))) {
			if (strcmp(v, "all"))
				q->ifaces = 1;
			n += (size_t)snprintf(ifaces + n, n < 128 ? 128 - n : 0,
					      "%s%.40s", n ? " " : "", v);
			if (n >= 128)
				n = 127;
		}
		if (!ifaces[0]) {
			snprintf(msg, msglen, "interfaces: none given");
			return -1;
		}
	} else if (!strcmp(key, "invalid")) {
		v = strtok_r(NULL, " \t", &save);
		if (v && !strcmp(v, "drop"))
			q->invalid_drop = 1;
		else if (v && !strcmp(v, "accept"))
			q->invalid_drop = 0;
		else {
			snprintf(msg, msglen, "invalid: drop or accept expected");
			return -1;
		}
	} else if (!strcmp(key, "queue")) {
		/* the scripts' business; checked loosely here */
		v = strtok_r(NULL, " \t", &save);
		if (!v || strspn(v, "0123456789:") != strlen(v)) {
			snprintf(msg, msglen, "queue: a number or FIRST:LAST "
				 "expected");
			return -1;
		}
	} else {
		snprintf(msg, msglen, "unknown setting '%.40s' (protos, ports, "
			 "interfaces, invalid, queue)", key);
		return -1;
	}
	return 0;
}

struct queuesel *queuesel_load(const char *path, char *err, size_t errlen)
{
	struct queuesel *q;
	char line[LINE_MAX_LEN], msg[256], ports[128] = "all",
					       ifaces[128] = "all";
	unsigned lineno = 0;
	int errors = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	q = base();
	if (!q) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			if (!errors++)
				snprintf(err, errlen, "%s:%u: line too long",
					 path, lineno);
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (hash)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (setting(q, line, ports, ifaces, msg, sizeof(msg)) < 0 &&
		    !errors++)
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
	}
	if (ferror(f) && !errors++)
		snprintf(err, errlen, "%s: read error", path);
	fclose(f);
	if (errors) {
		free(q);
		return NULL;
	}
	describe(q, ports, ifaces);
	return q;
}

enum queuesel_result queuesel_match(const struct queuesel *q,
				    const struct packet *p, int ct,
				    int inbound)
{
	int selected;

	if (q->all)
		return QS_QUEUED;
	if (!inbound)
		return QS_OUTSIDE;
	if (ct == FLOW_CT_INVALID)
		return QS_INVALID;
	selected = p->proto < 32 && (q->protos & (1u << p->proto)) &&
		   (q->all_ports ||
		    (p->has_ports && port_set_has(&q->ports, p->dport)) ||
		    /* udplite has no port match in xtables: all ports */
		    p->proto == PROTO_UDPLITE);
	if (!selected)
		return QS_OUTSIDE;
	if (ct == FLOW_CT_NEW)
		return QS_QUEUED;
	if (ct == FLOW_CT_ESTABLISHED)
		return QS_NOT_NEW;
	return QS_UNDETERMINED;
}
