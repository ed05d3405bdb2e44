/*
 * mapread: classic pcap records read straight from a memory-mapped window
 * of the file, for the replay's hot loop.  libpcap stays in charge of
 * everything else: it opens the file and validates the global header
 * (link type, snap length, byte order, precision), and it reads pcapng,
 * pipes, compressed streams and any record this reader does not vouch for.
 *
 * The contract that keeps both paths identical: mapread hands out a record
 * only when libpcap would hand out the same header and bytes (a record
 * header fully present, caplen within the snap length libpcap applies, the
 * whole record inside the file).  At the first record it is not sure of,
 * it stops with MAPREAD_OTHER and says how many records it handed out; the
 * caller then lets libpcap skip that many records and carry on, so libpcap
 * decides (and words the error for) whatever is odd.
 */
#ifndef PORTCLASS_REPLAY_MAPREAD_H
#define PORTCLASS_REPLAY_MAPREAD_H

#include <pcap/pcap.h>
#include <stdint.h>

struct mapread;

/*
 * A reader for the capture libpcap opened as pc (positioned after the
 * global header, nothing read yet), or NULL when the file is not one this
 * reader takes: not a regular file, pcapng, a pcap variant other than 2.4
 * with the standard magic, or mmap failing.  Never changes pc or its
 * stream.  window: bytes mapped at a time (0: a default of 32 MiB).
 */
struct mapread *mapread_open(pcap_t *pc, size_t window);
void mapread_close(struct mapread *m);

enum mapread_result {
	MAPREAD_FRAME = 1, /* *h and *data filled */
	MAPREAD_END = 0,   /* clean end of file */
	MAPREAD_MOVE = 2,  /* the next record lies past the window: the data
			    * of every record handed out so far is about to
			    * be unmapped; call mapread_advance, then again */
	MAPREAD_OTHER = 3, /* a record this reader leaves to libpcap (or an
			    * I/O error): see mapread_done */
};

/*
 * The next record.  *data stays valid until mapread_advance or
 * mapread_close; timestamps are in nanoseconds in h->ts.tv_usec, as
 * libpcap gives them to a handle opened with PCAP_TSTAMP_PRECISION_NANO.
 */
enum mapread_result mapread_next(struct mapread *m, struct pcap_pkthdr *h,
				 const u_char **data);

/* Moves the window to the next record.  Returns 0, or -1 (then
 * mapread_next answers MAPREAD_OTHER). */
int mapread_advance(struct mapread *m);

/* Records handed out so far. */
uint64_t mapread_done(const struct mapread *m);

/* Bytes of the file consumed so far (for a progress line). */
const uint64_t *mapread_offset(const struct mapread *m);

#endif
