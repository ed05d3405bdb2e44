/*
 * progress: a one-line progress report on stderr for long replays (bytes
 * of the file read, packets per second), redrawn at most a few times a
 * second, and only when stderr is a terminal.
 */
#ifndef PORTCLASS_REPLAY_PROGRESS_H
#define PORTCLASS_REPLAY_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
	int enabled;
	const char *name;
	FILE *file;		/* the capture's stream, for its position */
	const uint64_t *offset;	/* or the reader's own position, if set */
	int64_t size;		/* -1: not a regular file */
	uint64_t start_ns, last_ns;
	uint64_t packets;	/* at the last check */
	int drawn;		/* a line is on screen */
};

/* enabled: draw at all (the caller checks isatty). */
void progress_begin(struct progress *pg, int enabled, const char *name,
		    FILE *file);

/* The position in the file is *offset from now on (a reader that walks
 * the file without its stream). */
void progress_follow(struct progress *pg, const uint64_t *offset);

/*
 * Called every PROGRESS_EVERY packets (the caller counts, so the hot path
 * pays one compare); redraws when enough time has passed.
 */
#define PROGRESS_EVERY 4096
void progress_tick(struct progress *pg, uint64_t packets);

/* Clears the line. */
void progress_end(struct progress *pg);

#endif
