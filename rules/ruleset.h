/*
 * ruleset: the rules language (portclass.rules(5)) - parsing with
 * file:line:col diagnostics, and the compiled form the decision queries.
 *
 * Reading the rules file (and its includes, and /proc for `dynamic-range
 * host`) is the only I/O this library does.
 */
#ifndef PORTCLASS_RULESET_H
#define PORTCLASS_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "listener.h"
#include "packet.h"
#include "range.h"

struct ruleset;

enum verdict { VERDICT_PASS = 0, VERDICT_DROP, VERDICT_REJECT, VERDICT_COUNT };

/* "pass", "drop", "reject". */
const char *verdict_name(enum verdict v);

/* The language's keywords, sorted (strcmp order) for bsearch; *n receives
 * how many.  Exposed so a test can check the order. */
const char *const *ruleset_keywords(size_t *n);

/*
 * Receives one complete diagnostic, already formatted:
 *   rules.conf:12:18: error: port 70000 out of range (0-65535)
 *   drop tcp to port 70000
 *                    ^
 * (three lines, no trailing newline after the caret line).
 */
typedef void (*ruleset_report_fn)(void *ctx, const char *diag);

struct ruleset_opts {
	const char *procroot;	  /* for `dynamic-range host`; NULL: "/proc" */
	ruleset_report_fn report; /* may be NULL: errors only counted */
	void *ctx;
};

/*
 * Parses and compiles a rules file with its includes.  Parsing goes on
 * after an error so that every error is reported in one run.  Returns the
 * ruleset, or NULL when there was any error (*nerrors > 0) or memory ran
 * out (*nerrors == 0, errno ENOMEM).  A missing or unreadable file is one
 * error ("rules.conf: error: cannot open: No such file or directory").
 */
struct ruleset *ruleset_load(const char *path, const struct ruleset_opts *o,
			     int *nerrors);

/* The same from a string; name is used in diagnostics and for `include`
 * paths relative to its directory. */
struct ruleset *ruleset_parse_string(const char *name, const char *text,
				     const struct ruleset_opts *o,
				     int *nerrors);

void ruleset_free(struct ruleset *rs);

/* Number of explicit rules (pass/drop/reject) and of expect rules. */
size_t ruleset_rule_count(const struct ruleset *rs);
size_t ruleset_expect_count(const struct ruleset *rs);

/* The guarded dynamic range, and the name it was given ("iana", "host",
 * "50000-60000"). */
struct port_range ruleset_dynamic_range(const struct ruleset *rs);
const char *ruleset_dynamic_range_name(const struct ruleset *rs);

/* 1 when the ruleset names protected hosts with `local`. */
int ruleset_has_local(const struct ruleset *rs);
/* 1 when the address is one of the `local` prefixes. */
int ruleset_is_local(const struct ruleset *rs, uint8_t family,
		     const uint8_t addr[16]);

/* 1 when the policy says `loopback inbound`: the host's traffic to itself
 * counts as inbound (by default it does not). */
int ruleset_loopback_inbound(const struct ruleset *rs);

/* Adds a `local` prefix from outside the file (replay's --local). */
int ruleset_add_local(struct ruleset *rs, const char *cidr, char *err,
		      size_t errlen);

/* The `unexpected`, `default` and `invalid` actions (defaults: drop log /
 * pass / drop log). */
enum verdict ruleset_unexpected_verdict(const struct ruleset *rs, int *log);
enum verdict ruleset_default_verdict(const struct ruleset *rs, int *log);
enum verdict ruleset_invalid_verdict(const struct ruleset *rs, int *log);

/*
 * The per-packet constants of a ruleset, for a caller that decides many
 * packets: the same values as ruleset_dynamic_range, ruleset_has_local,
 * ruleset_unexpected_verdict and ruleset_default_verdict, in one struct
 * fetched once.  Owned by the ruleset, valid until ruleset_free, and kept
 * current by ruleset_add_local.  Never NULL for a loaded ruleset.
 */
struct ruleset_summary {
	struct port_range dyn;	/* the guarded dynamic range */
	uint8_t has_local;	/* `local` (or --local) names protected hosts */
	uint8_t unexp_verdict;	/* enum verdict of `unexpected` */
	uint8_t unexp_log;
	uint8_t def_verdict;	/* enum verdict of `default` */
	uint8_t def_log;
	uint8_t inv_verdict;	/* enum verdict of `invalid` */
	uint8_t inv_log;
	uint8_t loopback_in;	/* `loopback inbound` */
};

const struct ruleset_summary *ruleset_summary(const struct ruleset *rs);

/* What a matching explicit rule says, and where it was written. */
struct rule_ref {
	enum verdict verdict;
	int log;
	const char *file; /* owned by the ruleset */
	unsigned line;
};

/*
 * First explicit rule (file order) that matches the packet.  is_new says
 * whether the packet is a connection attempt (for `new`), inbound whether
 * it goes to a protected host.  Returns 1 and fills *out on a match, 0 when
 * no rule matches.  Port-only policies are answered from per-protocol
 * 65536-entry tables (one or two loads: the first rule by destination
 * port, and by source port when the policy has source-port rules); only
 * rules with addresses, filters or `new` are tried in order, and only up
 * to the first table hit.
 */
int ruleset_match(const struct ruleset *rs, const struct packet *p,
		  int is_new, int inbound, struct rule_ref *out);

enum expect_result {
	EXPECT_NONE = 0,	 /* no expect rule covers the packet */
	EXPECT_YES,		 /* an expect rule covers it */
	EXPECT_UNDETERMINED,	 /* only rules that need the listener's owner
				  * could cover it, and the owner is unknown */
};

/*
 * Whether an `expect` rule covers a connection attempt (by protocol,
 * destination port, source/destination address, and for `program`/`user`
 * the owner of the listener found in listeners, which may be NULL).
 * On EXPECT_YES, *line (if not NULL) receives the expect rule's line and
 * *file its file.
 */
enum expect_result ruleset_expect(const struct ruleset *rs,
				  const struct packet *p,
				  struct listener_table *listeners,
				  const char **file, unsigned *line);

/*
 * Read-only views of the compiled rules, in file order, for tools that
 * reason about the policy itself (lint.h).  Everything points into the
 * ruleset and is valid until ruleset_free.
 */
struct ruleset_end {
	size_t naddrs;			  /* 0: any address */
	const struct addr_prefix *addrs;
	size_t nports;			  /* 0: any port; sorted, disjoint */
	const struct port_range *ports;
};

struct ruleset_view {
	uint32_t protos;	/* bit per enum packet_proto */
	enum verdict verdict;	/* explicit rules */
	int log, is_new, has_filter;
	const char *file;
	unsigned line;
	struct ruleset_end src, dst;
	const char *program, *user; /* expect rules; NULL when absent */
};

/* Rule i (< ruleset_rule_count) / expect i (< ruleset_expect_count) into
 * *out; -1 when i is out of range. */
int ruleset_rule_view(const struct ruleset *rs, size_t i,
		      struct ruleset_view *out);
int ruleset_expect_view(const struct ruleset *rs, size_t i,
			struct ruleset_view *out);

#endif
