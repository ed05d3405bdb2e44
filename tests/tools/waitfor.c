/*
 * waitfor: the tests' bounded waits, without a process per poll.
 *
 *   waitfor FILE REGEX SECS   0 once a line of FILE matches the extended
 *                             regular expression REGEX (as grep -Eq)
 *   waitfor -s FILE SECS      0 once FILE exists and is not empty
 *   waitfor -e FILE SECS      0 once FILE exists (any type)
 *   waitfor -p PID SECS       0 once process PID has ended (gone, or a
 *                             zombie nobody has reaped yet)
 *
 * Each exits 1 when SECS (a decimal number of seconds) pass first, 2 on a
 * usage error or a REGEX that does not compile.  A shell loop of `grep`
 * and `sleep 0.1` starts twenty programs a second; under an emulated CPU
 * (make check-vm) that alone kept a CPU busy while a test waited.  This
 * looks every 10 ms from one process and reads only what was appended
 * since it last looked: a file that shrinks, or is replaced (a new inode,
 * or a new modification time at the same size), is read again from the
 * start.  The last line counts even before its newline is written, as
 * grep reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 10000000L

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, POLL_NS };

	nanosleep(&ts, NULL);
}

/* What has been read of the file: its identity and how far, and the line
 * begun but not yet ended (tested as it stands, kept for the next read). */
struct tailer {
	dev_t dev;
	ino_t ino;
	off_t off;
	struct timespec mtime;
	char *part;
	size_t partlen, partcap;
	int known;
};

static int part_add(struct tailer *t, const char *s, size_t n)
{
	if (t->partlen + n + 1 > t->partcap) {
		size_t cap = t->partcap ? t->partcap : 4096;
		char *p;

		while (cap < t->partlen + n + 1)
			cap *= 2;
		p = realloc(t->part, cap);
		if (!p)
			return -1;
		t->part = p;
		t->partcap = cap;
	}
	memcpy(t->part + t->partlen, s, n);
	t->partlen += n;
	t->part[t->partlen] = '\0';
	return 0;
}

/* 1 when a line read so far matches RE, 0 when none does yet, -1 on an
 * allocation failure.  A NUL inside a line ends what regexec sees of it,
 * as for any C string; the tests' files are text. */
static int tailer_scan(struct tailer *t, const char *path, const regex_t *re)
{
	struct stat st;
	char buf[65536];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 0;
	}
	if (!t->known || st.st_dev != t->dev || st.st_ino != t->ino ||
	    st.st_size < t->off ||
	    (st.st_size == t->off &&
	     (st.st_mtim.tv_sec != t->mtime.tv_sec ||
	      st.st_mtim.tv_nsec != t->mtime.tv_nsec))) {
		t->off = 0;
		t->partlen = 0;
	}
	t->known = 1;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->mtime = st.st_mtim;
	if (lseek(fd, t->off, SEEK_SET) < 0) {
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		size_t i, start = 0;

		if (n <= 0)
			break;
		t->off += n;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n')
				continue;
			if (part_add(t, buf + start, i - start) != 0) {
				close(fd);
				return -1;
			}
			if (regexec(re, t->part, 0, NULL, 0) == 0) {
				close(fd);
				return 1;
			}
			t->partlen = 0;
			start = i + 1;
		}
		if (part_add(t, buf + start, (size_t)n - start) != 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (t->partlen > 0 && regexec(re, t->part, 0, NULL, 0) == 0)
		return 1;
	return 0;
}

/* 1 when PID is gone or a zombie. */
static int pid_ended(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold anything, the state follows
	 * the last ')'. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static int usage(void)
{
	fputs("usage: waitfor FILE REGEX SECS | -s FILE SECS | -e FILE SECS |"
	      " -p PID SECS\n", stderr);
	return 2;
}

static int parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e6)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct tailer t = { 0 };
	regex_t re;
	double secs, end;
	char mode = 'r';
	const char *target;
	long pid = 0;
	int rc;

	if (argc == 4 && argv[1][0] == '-' && argv[1][1] && !argv[1][2] &&
	    strchr("sep", argv[1][1])) {
		mode = argv[1][1];
		target = argv[2];
		if (parse_secs(argv[3], &secs) != 0)
			return usage();
		if (mode == 'p') {
			char *e;

			errno = 0;
			pid = strtol(target, &e, 10);
			if (errno || e == target || *e || pid <= 0)
				return usage();
		}
	} else if (argc == 4) {
		target = argv[1];
		if (parse_secs(argv[3], &secs) != 0)
			return usage();
		rc = regcomp(&re, argv[2], REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];

			regerror(rc, &re, msg, sizeof msg);
			fprintf(stderr, "waitfor: %s\n", msg);
			return 2;
		}
	} else {
		return usage();
	}

	end = now_s() + secs;
	for (;;) {
		struct stat st;

		switch (mode) {
		case 's':
			rc = stat(target, &st) == 0 && st.st_size > 0;
			break;
		case 'e':
			rc = stat(target, &st) == 0;
			break;
		case 'p':
			rc = pid_ended((pid_t)pid);
			break;
		default:
			rc = tailer_scan(&t, target, &re);
			if (rc < 0) {
				fputs("waitfor: out of memory\n", stderr);
				return 2;
			}
			break;
		}
		if (rc)
			break;
		if (now_s() >= end)
			break;
		nap();
	}
	if (mode == 'r') {
		regfree(&re);
		free(t.part);
	}
	return rc ? 0 : 1;
}
