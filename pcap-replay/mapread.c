/*
 * mapread: see mapread.h.
 *
 * Why: libpcap's reader pays two fread calls and a copy per record; at the
 * rates of a replay (tens of millions of records a second from the page
 * cache) that is most of the time spent outside the engine.  Walking the
 * records in place costs a bounds check per record.
 *
 * The window slides: at most `window` bytes are mapped at once, and a
 * window is unmapped as soon as the walk leaves it, so the file's pages do
 * not pile up in the process's resident set however large the capture.
 * The file is only read, through a private read-only mapping.
 */
#include "mapread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAPREAD_WINDOW ((size_t)4 << 20)
#define FILE_HDR 24
#define REC_HDR 16

struct mapread {
	int fd;
	int swapped;		/* records in the other byte order */
	int scale;		/* 1000: microseconds on disk; 1: nanoseconds */
	uint32_t frac_max;	/* the largest fraction of a second on disk */
	uint32_t snaplen;	/* as libpcap applies it */
	int failed;		/* mapping failed: only MAPREAD_OTHER from now */
	size_t window, page;
	uint64_t size;		/* file size, re-read when the walk reaches it */
	uint64_t pos;		/* file offset of the next record */
	uint64_t wstart;	/* file offset of the mapping */
	size_t wlen;		/* bytes mapped (0: nothing) */
	const u_char *map;
	uint64_t done;
};

static uint32_t rd32(const u_char *b, int swapped)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

struct mapread *mapread_open(pcap_t *pc, size_t window)
{
	FILE *f = pcap_file(pc);
	u_char hdr[FILE_HDR];
	struct mapread *m;
	struct stat st;
	uint32_t magic;
	int fd;

	if (!f || pcap_get_tstamp_precision(pc) != PCAP_TSTAMP_PRECISION_NANO)
		return NULL;
	fd = fileno(f);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return NULL;
	/* The magic as written; libpcap already said which order it is. */
	magic = rd32(hdr, pcap_is_swapped(pc));
	if ((magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) ||
	    pcap_major_version(pc) != 2 || pcap_minor_version(pc) != 4 ||
	    pcap_snapshot(pc) <= 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->fd = fd;
	m->swapped = pcap_is_swapped(pc);
	m->scale = magic == 0xa1b2c3d4 ? 1000 : 1;
	m->frac_max = magic == 0xa1b2c3d4 ? 999999 : 999999999;
	m->snaplen = (uint32_t)pcap_snapshot(pc);
	m->page = (size_t)sysconf(_SC_PAGESIZE);
	m->window = window ? window : MAPREAD_WINDOW;
	if (m->window < 4 * m->page)
		m->window = 4 * m->page;
	m->window -= m->window % m->page;
	m->size = (uint64_t)st.st_size;
	m->pos = FILE_HDR;
	m->wstart = 0;
	return m;
}

void mapread_close(struct mapread *m)
{
	if (!m)
		return;
	if (m->wlen)
		munmap((void *)(uintptr_t)m->map, m->wlen);
	free(m);
}

int mapread_advance(struct mapread *m)
{
	void *p;
	uint64_t start = m->pos - m->pos % m->page;
	size_t len;

	if (m->wlen) {
		munmap((void *)(uintptr_t)m->map, m->wlen);
		m->wlen = 0;
		m->map = NULL;
	}
	if (m->failed || start >= m->size) {
		m->failed = 1;
		return -1;
	}
	len = m->size - start < m->window ? (size_t)(m->size - start)
					  : m->window;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, m->fd,
		 (off_t)start);
	if (p == MAP_FAILED) {
		m->failed = 1;
		return -1;
	}
	(void)madvise(p, len, MADV_SEQUENTIAL);
	m->map = p;
	m->wstart = start;
	m->wlen = len;
	return 0;
}

/* The walk reached the size seen so far: a file still being written may
 * have grown since (libpcap would read on). */
static void refresh_size(struct mapread *m)
{
	struct stat st;

	if (fstat(m->fd, &st) == 0 && (uint64_t)st.st_size > m->size)
		m->size = (uint64_t)st.st_size;
}

enum mapread_result mapread_next(struct mapread *m, struct pcap_pkthdr *h,
				 const u_char **data)
{
	uint64_t wend = m->wstart + m->wlen;
	uint32_t sec, frac, caplen, len;
	const u_char *r;

	if (m->failed)
		return MAPREAD_OTHER;
	if (m->size - m->pos < REC_HDR) {
		refresh_size(m);
		if (m->pos == m->size)
			return MAPREAD_END;
		if (m->size - m->pos < REC_HDR)
			return MAPREAD_OTHER; /* a cut record header */
	}
	if (!m->wlen || m->pos < m->wstart || m->pos + REC_HDR > wend)
		return MAPREAD_MOVE;
	r = m->map + (m->pos - m->wstart);
	/* The page cache is read once, in order: ask for the lines a few
	 * records ahead so the walk does not wait on each one (hardware
	 * prefetchers stop at page boundaries).  A hint past the window is
	 * harmless. */
	__builtin_prefetch(r + 1024);
	__builtin_prefetch(r + 1088);
	sec = rd32(r, m->swapped);
	frac = rd32(r + 4, m->swapped);
	caplen = rd32(r + 8, m->swapped);
	len = rd32(r + 12, m->swapped);
	/* Odd records (beyond the snap length, out-of-range fractions that
	 * libpcap scales its own way, cut short by the end of the file) are
	 * libpcap's to judge. */
	if (caplen > m->snaplen || frac > m->frac_max ||
	    m->size - m->pos - REC_HDR < caplen)
		return MAPREAD_OTHER;
	if (m->pos + REC_HDR + caplen > wend) {
		/* A record never fits a window it does not start in
		 * (snaplen is at most a few hundred KiB): move once. */
		if ((uint64_t)REC_HDR + caplen + m->page > m->window)
			return MAPREAD_OTHER;
		return MAPREAD_MOVE;
	}
	h->ts.tv_sec = (time_t)(int32_t)sec;
	h->ts.tv_usec = (suseconds_t)frac * m->scale;
	h->caplen = caplen;
	h->len = len;
	*data = r + REC_HDR;
	m->pos += REC_HDR + (uint64_t)caplen;
	m->done++;
	return MAPREAD_FRAME;
}

uint64_t mapread_done(const struct mapread *m)
{
	return m->done;
}

const uint64_t *mapread_offset(const struct mapread *m)
{
	return &m->pos;
}
