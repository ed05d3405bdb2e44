/* rfile: see rfile.h. */
#include "rfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE_MAX (16u << 20)

/* Reads a whole regular file (bounded) into a NUL-terminated buffer, once. */
static int read_once(const char *path, char **text, size_t *len,
		     struct stat *st, const char **why)
{
	char *buf = NULL;
	size_t n = 0;
	int fd, e;

	*why = NULL;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer,
	 * forever; fstat below turns it away like any other non-file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		errno = EINVAL;
		goto fail;
	}
	if (st->st_size > (off_t)FILE_SIZE_MAX) {
		*why = "file too large (limit 16 MiB)";
		errno = EFBIG;
		goto fail;
	}
	/* One byte more than announced: a file that grew is noticed. */
	buf = malloc((size_t)st->st_size + 2);
	if (!buf)
		goto fail;
	while (n < (size_t)st->st_size + 1) {
		ssize_t r = read(fd, buf + n, (size_t)st->st_size + 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	*text = buf;
	*len = n;
	return 0;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

static int same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A file modified less than this long ago may still be being written. */
#define READ_SETTLE_NS 50000000LL
/* Tries before a file that keeps changing is refused (about 2 s). */
#define READ_TRIES 40

static long long ns_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000000000LL +
	       (now.tv_nsec - t->tv_nsec);
}

/*
 * Reads a rules file that is not changing.  A file rewritten in place
 * (truncated, then written) can be caught half-written, and a half is
 * often a valid policy (`dynamic-range 4` of `dynamic-range 49152-65535`):
 * applied, it would silently guard the wrong range.  So the file is read
 * only once it has been left alone for READ_SETTLE_NS, and the read counts
 * only if the file is the same version (inode, size, mtime, ctime) before,
 * during and after it and holds exactly the announced bytes; otherwise it
 * is read again, up to READ_TRIES times, then refused ("changed while being
 * read").  A file replaced by rename never shows a half.
 */
int rfile_read(const char *path, char **text, size_t *len, dev_t *dev,
	       ino_t *ino, const char **why)
{
	struct stat before, during, after;
	struct timespec pause = { 0, READ_SETTLE_NS };

	for (int tries = 0;; tries++) {
		char *buf = NULL;
		size_t n = 0;
		long long age;

		if (stat(path, &before) < 0) {
			*why = NULL;
			return -1;
		}
		age = ns_since(&before.st_mtim);
		if (ns_since(&before.st_ctim) < age)
			age = ns_since(&before.st_ctim);
		if (age >= 0 && age < READ_SETTLE_NS) {
			struct timespec wait = { 0, READ_SETTLE_NS - age };

			/* Never read a file that has not settled, however
			 * long it keeps changing: refuse it instead. */
			if (tries >= READ_TRIES) {
				*why = "changed while being read (replace "
				       "rules files by rename)";
				errno = EAGAIN;
				return -1;
			}
			nanosleep(&wait, NULL);
			continue;
		}
		if (read_once(path, &buf, &n, &during, why) < 0)
			return -1;
		if (stat(path, &after) == 0 && same_version(&before, &during) &&
		    same_version(&during, &after) &&
		    n == (size_t)during.st_size) {
			*text = buf;
			*len = n;
			*dev = during.st_dev;
			*ino = during.st_ino;
			return 0;
		}
		free(buf);
		if (tries >= READ_TRIES) {
			*why = "changed while being read (replace rules files "
			       "by rename)";
			errno = EAGAIN;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}
