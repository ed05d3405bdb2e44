/*
 * snapshot: the listener snapshot - the JSON document `portclass listeners
 * --json` prints and `portclass-replay --listeners` reads back - written
 * and read here, side by side, with the per-listener policy it records.
 * Buffers only; no I/O.  It lives in host/ (not rules/) because the
 * writer uses jsonw and the reader jsonr, and rules/ depends on nothing
 * above it; the listener table it fills is rules/'s.
 */
#ifndef PORTCLASS_SNAPSHOT_H
#define PORTCLASS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"
#include "listener.h"
#include "packet.h"
#include "range.h"
#include "ruleset.h"

enum snapshot_policy {
	SNAPSHOT_NOT_GUARDED = 0, /* port outside the guarded dynamic range */
	SNAPSHOT_EXPECTED,	  /* inside, an `expect` covers it */
	SNAPSHOT_UNEXPECTED,	  /* inside, nothing covers it */
};

/* "not-guarded", "expected", "unexpected". */
const char *snapshot_policy_name(enum snapshot_policy p);

/* One listener and what is known about it on this host. */
struct snapshot_row {
	struct listener *l;
	enum snapshot_policy policy;
	int ephemeral; /* in ip_local_port_range: 1, 0, or -1 unknown */
	int reserved;  /* in ip_local_reserved_ports */
};

/*
 * The connection attempt a listener is judged by, the one probe for the
 * snapshot and `portclass explain`: a TCP SYN (or the first datagram) to
 * l's address and port from the unspecified address, fields only (no
 * bytes behind them).
 */
void snapshot_probe(const struct listener *l, struct packet *p);

/* ruleset_expect on snapshot_probe(l), with t as the listener table. */
enum expect_result snapshot_expect(const struct ruleset *rs,
				   struct listener_table *t,
				   const struct listener *l);

/*
 * What rs says about a connection attempt to l: a TCP SYN (or the first
 * UDP datagram) to l's address and port from the unspecified address,
 * asked of ruleset_expect with t as the listener table.  So `expect ...
 * from` rules never cover it, and a wildcard listener is asked about the
 * wildcard address.  EXPECT_UNDETERMINED (the rules need an owner nobody
 * could name) is SNAPSHOT_UNEXPECTED: the live decision would alert.
 */
enum snapshot_policy snapshot_judge(const struct ruleset *rs,
				    struct listener_table *t,
				    const struct listener *l);

/*
 * Orders rows by protocol, port, family, address (then inode), the order
 * `portclass listeners` prints.
 */
void snapshot_sort(struct snapshot_row *rows, size_t n);

/*
 * Writes the whole document:
 *   {"version":1,"host":H,"time":"2026-11-27T13:00:00Z",
 *    "range":{"lo":32768,"hi":60999},"listeners":[{"proto":"tcp",
 *    "family":4,"addr":"0.0.0.0","port":60314,"class":"dynamic",
 *    "ephemeral":true,"reserved":false,"pid":1234,"program":"nc",
 *    "exe":"/usr/bin/nc.openbsd","user":"root","uid":0,
 *    "unit":"ssh.service","policy":"unexpected"}, ...]}
 * host may be NULL or "" (null), range NULL (null: unknown).  Owner fields
 * are null unless the row's owner is known (owner_state 1), and each one
 * that is empty is null.  Check w->failed afterwards.
 */
void snapshot_write(struct jsonw *w, const char *host, int64_t time_s,
		    const struct port_range *range,
		    const struct snapshot_row *rows, size_t n);

/*
 * Reads a snapshot (the document snapshot_write writes, what `portclass
 * listeners --json` prints) and adds its entries to t, each with the
 * owner the snapshot names (known) or none (looked up, not found: offline
 * nobody can look it up later).  All or nothing: on error t is left as it
 * was.  Returns 0, or -1 (errno EINVAL) with "line:col: message" in err.
 * Unknown members are skipped so that newer snapshots still load.
 */
int snapshot_parse(struct listener_table *t, const char *text, size_t len,
		   char *err, size_t errlen);

/*
 * snapshot_write with the host's own addresses, written after "range" as
 *   "addresses":["127.0.0.1","10.0.0.1","10.0.0.255","::1","fe80::1"]
 * (so that the replay can tell packets addressed to this host); addrs NULL
 * leaves the member out, as snapshot_write does.  snapshot_parse reads
 * them into the table (listener_table_add_host).
 */
void snapshot_write_hosts(struct jsonw *w, const char *host, int64_t time_s,
			  const struct port_range *range,
			  const struct listener_host *addrs, size_t naddrs,
			  const struct snapshot_row *rows, size_t n);

#endif
