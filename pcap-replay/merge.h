/*
 * merge: the summaries of several replay runs made into the summary of the
 * whole, so that a capture archive can be replayed in parts (on several
 * machines, by GNU parallel or a batch scheduler) and added up.
 *
 * A summary is the {"type":"summary",...} object `portclass-replay
 * --format json` writes (the last line of --format jsonl holds the same).
 * Merging is exact, associative and commutative: counters add up, maps of
 * counters add up key by key, the files are listed in name order, the
 * listeners seen are merged by (proto, addr, port) with their answers
 * added and the earliest first answer kept; everything that describes the
 * run rather than counts it (the policy, the guarded range, the filter,
 * the queue selector) must be the same in every part, else merging is an
 * error: parts replayed under different policies do not add up.
 */
#ifndef PORTCLASS_REPLAY_MERGE_H
#define PORTCLASS_REPLAY_MERGE_H

#include <stdio.h>

struct merge;

/* An empty merge.  NULL with errno ENOMEM. */
struct merge *merge_new(void);
void merge_free(struct merge *m);

/*
 * Adds the summary found in text (len bytes: a summary object, or jsonl
 * lines of which the last summary object counts).  name is used in
 * messages.  Returns 0, or -1 with a message in err ("NAME: line:col:
 * ..." for bad JSON, "NAME: ..." for a summary that does not fit).
 */
int merge_add(struct merge *m, const char *name, const char *text, size_t len,
	      char *err, size_t errlen);

/* Writes the merged summary as one JSON line.  Returns 0, or -1 when
 * nothing was added or memory ran out (message in err). */
int merge_write(struct merge *m, FILE *out, char *err, size_t errlen);

#endif
