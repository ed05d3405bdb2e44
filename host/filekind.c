/* filekind: see filekind.h. */
#include "filekind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ruleset.h"

#define SNIFF_LEN 4096

static int has(const unsigned char *b, size_t len, const void *magic,
	       size_t mlen)
{
	return len >= mlen && memcmp(b, magic, mlen) == 0;
}

enum filekind filekind_of_bytes(const unsigned char *b, size_t len)
{
	static const unsigned char pcap_le[] = { 0xd4, 0xc3, 0xb2, 0xa1 };
	static const unsigned char pcap_be[] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	static const unsigned char pcapn_le[] = { 0x4d, 0x3c, 0xb2, 0xa1 };
	static const unsigned char pcapn_be[] = { 0xa1, 0xb2, 0x3c, 0x4d };
	static const unsigned char ng[] = { 0x0a, 0x0d, 0x0d, 0x0a };
	static const unsigned char gz[] = { 0x1f, 0x8b };
	static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const unsigned char bz[] = { 'B', 'Z', 'h' };
	size_t i;

	if (len == 0)
		return FILEKIND_EMPTY;
	if (has(b, len, pcap_le, 4) || has(b, len, pcap_be, 4) ||
	    has(b, len, pcapn_le, 4) || has(b, len, pcapn_be, 4))
		return FILEKIND_PCAP;
	/* a pcapng section header: block type, then (at 8) the byte-order
	 * magic; the first four bytes alone are CR LF CR LF in a text file */
	if (has(b, len, ng, 4) && len >= 12 &&
	    ((b[8] == 0x1a && b[9] == 0x2b && b[10] == 0x3c && b[11] == 0x4d) ||
	     (b[8] == 0x4d && b[9] == 0x3c && b[10] == 0x2b && b[11] == 0x1a)))
		return FILEKIND_PCAPNG;
	if (has(b, len, gz, 2))
		return FILEKIND_GZIP;
	if (has(b, len, xz, 6))
		return FILEKIND_XZ;
	if (has(b, len, zst, 4))
		return FILEKIND_ZSTD;
	if (has(b, len, bz, 3) && len >= 4 && b[3] >= '1' && b[3] <= '9')
		return FILEKIND_BZIP2;
	for (i = 0; i < len; i++) {
		unsigned char c = b[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f)
			return FILEKIND_UNKNOWN;
	}
	return FILEKIND_TEXT;
}

static ssize_t read_head(const char *path, unsigned char *buf, size_t len,
			 int *is_dir)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	*is_dir = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		*is_dir = 1;
		return 0;
	}
	/* a FIFO or a device is not sniffed: reading would consume it */
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ESPIPE;
		return -1;
	}
	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

int filekind_sniff(const char *path, enum filekind *out)
{
	unsigned char buf[SNIFF_LEN];
	int is_dir;
	ssize_t n = read_head(path, buf, sizeof(buf), &is_dir);

	if (n < 0)
		return -1;
	if (is_dir) {
		*out = FILEKIND_DIR;
		return 0;
	}
	*out = filekind_of_bytes(buf, (size_t)n);
	/* a cut multi-byte UTF-8 sequence at the end is still text */
	return 0;
}

const char *filekind_name(enum filekind k)
{
	switch (k) {
	case FILEKIND_TEXT:
		return "text file";
	case FILEKIND_PCAP:
		return "pcap file";
	case FILEKIND_PCAPNG:
		return "pcapng file";
	case FILEKIND_GZIP:
		return "gzip-compressed file";
	case FILEKIND_XZ:
		return "xz-compressed file";
	case FILEKIND_ZSTD:
		return "zstd-compressed file";
	case FILEKIND_BZIP2:
		return "bzip2-compressed file";
	case FILEKIND_EMPTY:
		return "empty file";
	case FILEKIND_DIR:
		return "directory";
	default:
		return "binary file";
	}
}

int filekind_is_capture(enum filekind k)
{
	return k == FILEKIND_PCAP || k == FILEKIND_PCAPNG ||
	       k == FILEKIND_GZIP || k == FILEKIND_XZ || k == FILEKIND_ZSTD ||
	       k == FILEKIND_BZIP2;
}

static int is_keyword(const char *w, size_t n)
{
	size_t nk, i;
	const char *const *kw = ruleset_keywords(&nk);

	for (i = 0; i < nk; i++)
		if (strlen(kw[i]) == n && memcmp(kw[i], w, n) == 0)
			return 1;
	return 0;
}

int filekind_text_is_rules(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t s;

		while (i < len && (text[i] == ' ' || text[i] == '\t' ||
				   text[i] == '\n' || text[i] == '\r'))
			i++;
		if (i < len && text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		s = i;
		while (i < len && text[i] >= 'a' && text[i] <= 'z')
			i++;
		while (i < len && text[i] == '-' ) {
			i++;
			while (i < len && text[i] >= 'a' && text[i] <= 'z')
				i++;
		}
		return i > s && is_keyword(text + s, i - s);
	}
	return 0;
}

int filekind_file_is_rules(const char *path)
{
	unsigned char buf[SNIFF_LEN];
	int is_dir;
	ssize_t n = read_head(path, buf, sizeof(buf), &is_dir);

	if (n <= 0 || filekind_of_bytes(buf, (size_t)n) != FILEKIND_TEXT)
		return 0;
	return filekind_text_is_rules((const char *)buf, (size_t)n);
}
