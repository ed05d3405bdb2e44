/* progress: see progress.h. */
#include "progress.h"

#include <sys/stat.h>
#include <time.h>

#define REDRAW_NS 250000000ull /* four times a second at most */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void progress_begin(struct progress *pg, int enabled, const char *name,
		    FILE *file)
{
	struct stat st;

	pg->enabled = enabled && file;
	pg->name = name;
	pg->file = file;
	pg->offset = NULL;
	pg->size = -1;
	pg->packets = 0;
	pg->drawn = 0;
	if (!pg->enabled)
		return;
	if (fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode))
		pg->size = (int64_t)st.st_size;
	pg->start_ns = pg->last_ns = now_ns();
}

void progress_follow(struct progress *pg, const uint64_t *offset)
{
	pg->offset = offset;
}

void progress_tick(struct progress *pg, uint64_t packets)
{
	uint64_t t;
	double secs, mb;
	long pos;

	if (!pg->enabled)
		return;
	t = now_ns();
	if (t - pg->last_ns < REDRAW_NS)
		return;
	pg->last_ns = t;
	secs = (double)(t - pg->start_ns) / 1e9;
	pos = pg->offset ? (long)*pg->offset : ftell(pg->file);
	mb = pos >= 0 ? (double)pos / 1e6 : 0;
	if (pg->size > 0)
		fprintf(stderr, "\r%s: %.1f/%.1f MB (%d%%), %.0f packets/s\033[K",
			pg->name, mb, (double)pg->size / 1e6,
			(int)(100.0 * (double)pos / (double)pg->size),
			secs > 0 ? (double)packets / secs : 0);
	else if (pos >= 0)
		fprintf(stderr, "\r%s: %.1f MB, %.0f packets/s\033[K", pg->name,
			mb, secs > 0 ? (double)packets / secs : 0);
	else /* a pipe has no position */
		fprintf(stderr, "\r%s: %llu packets, %.0f packets/s\033[K",
			pg->name, (unsigned long long)packets,
			secs > 0 ? (double)packets / secs : 0);
	fflush(stderr);
	pg->drawn = 1;
}

void progress_end(struct progress *pg)
{
	if (pg->enabled && pg->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	pg->drawn = 0;
}
