/*
 * filekind: what a file is, from its first bytes - so that a capture given
 * where a policy belongs (or a policy given as a capture) is named for what
 * it is instead of failing with a parser's confusion.
 */
#ifndef PORTCLASS_FILEKIND_H
#define PORTCLASS_FILEKIND_H

#include <stddef.h>

enum filekind {
	FILEKIND_UNKNOWN = 0,	/* binary, none of the below */
	FILEKIND_TEXT,		/* no NUL and no control bytes but tab/CR/LF */
	FILEKIND_PCAP,
	FILEKIND_PCAPNG,
	FILEKIND_GZIP,
	FILEKIND_XZ,
	FILEKIND_ZSTD,
	FILEKIND_BZIP2,
	FILEKIND_EMPTY,
	FILEKIND_DIR,
};

/*
 * Classifies the first len bytes of a file (len may be short; a short
 * prefix can only be TEXT, EMPTY or UNKNOWN unless a magic fits).
 */
enum filekind filekind_of_bytes(const unsigned char *b, size_t len);

/*
 * Reads up to 4096 bytes of path and classifies them; a directory is
 * FILEKIND_DIR.  Returns -1 (errno set) when the file cannot be opened or
 * read.  Never prints.
 */
int filekind_sniff(const char *path, enum filekind *out);

/* "pcap file", "pcapng file", "gzip-compressed file", "text file", ... */
const char *filekind_name(enum filekind k);

/* 1 for pcap, pcapng and the compressed kinds a capture may come in. */
int filekind_is_capture(enum filekind k);

/*
 * 1 when text looks like a portclass rules file: its first word that is
 * not a comment is a keyword of the rules language.
 */
int filekind_text_is_rules(const char *text, size_t len);

/* The same for a file (reads its first 4096 bytes); 0 when unreadable. */
int filekind_file_is_rules(const char *path);

#endif
