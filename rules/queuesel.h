/*
 * queuesel: the queue selector, which packets the firewall hands to
 * portclass-nfq.  One small file (/etc/portclass/queue.conf, the bundled
 * contrib/queue.conf) is read by contrib/iptables-setup.sh and
 * contrib/nft-setup.sh to build the NFQUEUE rules, and by portclass-replay
 * to decide exactly the packets the daemon would have been given.
 *
 * Format: one setting per line, "KEY VALUE...", '#' to the end of a line
 * is a comment:
 *   protos tcp udp        protocols queued (tcp udp udplite sctp dccp)
 *   ports all             destination ports: all, or a list 1024-65535,8080
 *   interfaces all        input interfaces: all, or names
 *   invalid drop          what the firewall does with conntrack INVALID
 *                         packets: drop (the contrib rules) or accept;
 *                         they are never queued either way
 *   queue 0               NFQUEUE number, or FIRST:LAST (the scripts only)
 * The rules queue only inbound packets (the INPUT hook) whose conntrack
 * state is NEW; that part is fixed.  Missing keys keep the defaults above
 * (the bundled file).  No I/O but reading the file.
 */
#ifndef PORTCLASS_QUEUESEL_H
#define PORTCLASS_QUEUESEL_H

#include <stddef.h>

#include "flow.h"
#include "packet.h"

struct queuesel;

/* The defaults (the bundled contrib/queue.conf).  NULL with errno. */
struct queuesel *queuesel_default(void);

/*
 * Reads a selector file.  NULL on error with "FILE:LINE: message" in err
 * (every error of the file counted, the first reported), or errno's text
 * when the file cannot be read.
 */
struct queuesel *queuesel_load(const char *path, char *err, size_t errlen);

/* Every packet is handed over (a queue without conntrack state): the
 * `--queue all` of the replay. */
struct queuesel *queuesel_all(void);

void queuesel_free(struct queuesel *q);

/* 1 for queuesel_all. */
int queuesel_is_all(const struct queuesel *q);

/* A one-line description: "tcp udp, ports all, interfaces all, invalid
 * drop" (or "all packets").  Valid as long as q. */
const char *queuesel_describe(const struct queuesel *q);

/* 1 when the interfaces are restricted (the replay cannot check them:
 * a capture is taken as arriving on them). */
int queuesel_has_interfaces(const struct queuesel *q);

/* 1 when INVALID packets are dropped by the firewall, 0 accepted. */
int queuesel_invalid_drop(const struct queuesel *q);

enum queuesel_result {
	QS_QUEUED = 0,	    /* handed to the daemon */
	QS_OUTSIDE,	    /* protocol or port not selected, or not inbound */
	QS_NOT_NEW,	    /* selected, but conntrack says ESTABLISHED */
	QS_INVALID,	    /* conntrack INVALID: never queued */
	QS_UNDETERMINED,    /* selected, and conntrack's state unknown */
	QS_COUNT
};

/* "queued", "outside-selector", "not-new", "conntrack-invalid",
 * "undetermined". */
const char *queuesel_result_name(enum queuesel_result r);

/*
 * Whether the firewall would hand p (parsed, after reassembly) to the
 * queue, given conntrack's state ct (enum flow_ct) and whether p is
 * inbound (to a protected host).  INVALID comes first, as the contrib
 * rules' INVALID line sits above the queue rules; packets outside the
 * selector are QS_OUTSIDE whatever their state.
 */
enum queuesel_result queuesel_match(const struct queuesel *q,
				    const struct packet *p, int ct,
				    int inbound);

#endif
