/*
 * report_int: the record of a run that report.c keeps and prints for
 * people and report_jsonl.c writes as JSON lines; internal to the two.
 */
#ifndef PORTCLASS_REPORT_INT_H
#define PORTCLASS_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "decision.h"
#include "report.h"
#include "seen.h"

struct report_file {
	char *name;
	uint64_t frames;
	int dlt;		/* -1: not opened */
	char *dlt_name;
	int unsupported;
	char *error;		/* open/read error, or NULL */
	char *json_name;	/* name quoted and escaped for JSON, made
				 * by the first line that needs it */
	size_t json_name_len;
};

struct event_list {
	struct report_event *v;
	size_t n, cap;
};

struct report {
	struct report_counts c;
	struct seen_set *seen;
	struct report_file *files;
	size_t nfiles;
	size_t max_list;
	struct event_list alerts, diffs;
	int eve;		/* jsonl alerts in Suricata's EVE shape */
};

/* "file:line" of a rule (the file name escaped), or the reason's name
 * when no rule decided; into buf, which is returned. */
const char *report_rule_text(const char *file, unsigned line,
			     enum decision_reason reason, char *buf,
			     size_t len);

/* How a listener's answers went: "expected", "undetermined",
 * "unexpected" or "mixed". */
const char *report_seen_policy(const struct seen_entry *e);

#endif
