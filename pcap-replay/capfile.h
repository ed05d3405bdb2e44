/*
 * capfile: a capture as it is stored - plain, or compressed with gzip, xz
 * or zstd - opened as one stdio stream of pcap/pcapng bytes for libpcap's
 * pcap_fopen_offline.  Compressed data is inflated as libpcap reads it
 * (a fopencookie stream), so a capture of any size costs a fixed buffer.
 * Also lists a directory's captures in name order.
 */
#ifndef PORTCLASS_REPLAY_CAPFILE_H
#define PORTCLASS_REPLAY_CAPFILE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Opens path ("-": standard input) for reading, decompressing gzip, xz and
 * zstd transparently (detected by their magic bytes, not the name).
 * Returns the stream, or NULL with a message in err ("cannot open: ...",
 * "bzip2-compressed: not supported, ...").  fclose() frees everything.
 */
FILE *capfile_open(const char *path, char *err, size_t errlen);

/*
 * The regular files of directory dir, sorted by name (strcmp), hidden
 * files (starting with '.') left out, each "dir/name" (malloc'ed, as is
 * the array).  Returns the count, or -1 with errno set.  The caller frees
 * each name and the array.
 */
int capfile_list_dir(const char *dir, char ***names);

#endif
