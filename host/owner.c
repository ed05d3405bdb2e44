/*
 * owner: see owner.h.
 *
 * The only way from a socket inode to a process is to look at every
 * process's open files: /proc/PID/fd/N is a symlink whose target reads
 * "socket:[INODE]".  Processes come and go while we scan, and without
 * CAP_SYS_PTRACE (or as another user) most fd directories are unreadable;
 * both are normal, so every failure inside the scan only skips that entry.
 */
#include "owner.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWNER_CGROUP_MAX 16384
#define OWNER_STATUS_MAX 8192

static const char *root_of(const char *procroot)
{
	return procroot && *procroot ? procroot : "/proc";
}

/* A /proc entry name that is a pid: digits only, 1..INT32_MAX. */
static int32_t parse_pid(const char *s)
{
	int64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT32_MAX)
			return -1;
	}
	return v > 0 ? (int32_t)v : -1;
}

/*
 * The inode in a link target "socket:[N]" of n bytes (not NUL-terminated),
 * or 0 when the target is anything else.
 */
static uint64_t socket_inode(const char *t, size_t n)
{
	static const char pre[] = "socket:[";
	const size_t plen = sizeof(pre) - 1;
	uint64_t v = 0;
	size_t i;

	if (n < plen + 2 || memcmp(t, pre, plen) != 0 || t[n - 1] != ']')
		return 0;
	for (i = plen; i < n - 1; i++) {
		if (t[i] < '0' || t[i] > '9')
			return 0;
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	return v;
}

/*
 * Reads at most cap-1 bytes of dfd/name into buf, NUL-terminated.  Returns
 * the length, or -1.  /proc files are read in a loop: one read may return
 * less than the whole file.
 */
static ssize_t read_small(int dfd, const char *name, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Copies n bytes of s into out (cap bytes) if they fit; else out is "". */
static int copy_fit(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap || memchr(s, '\0', n)) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Suffixes of unit types that can contain processes. */
static int is_process_unit(const char *c, size_t n)
{
	static const char *const sfx[] = { ".service", ".scope", ".socket",
					   ".mount", ".swap" };

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);
		/* a bare ".service" is no unit name */
		if (n > l && memcmp(c + n - l, sfx[i], l) == 0)
			return 1;
	}
	return 0;
}

/* Picks the unit out of one cgroup path (n bytes). */
static int unit_from_path(const char *p, size_t n, char *out, size_t outlen)
{
	const char *last = NULL, *prev = NULL;
	size_t last_n = 0, prev_n = 0;
	size_t i = 0;

	while (i < n) {
		while (i < n && p[i] == '/')
			i++;
		size_t start = i;
		while (i < n && p[i] != '/')
			i++;
		const char *c = p + start;
		size_t cn = i - start;
		/* systemd escapes a name that could clash with cgroupfs'
		 * own files by prefixing '_' (cg_escape). */
		if (cn > 1 && c[0] == '_') {
			c++;
			cn--;
		}
		if (cn && is_process_unit(c, cn)) {
			prev = last;
			prev_n = last_n;
			last = c;
			last_n = cn;
		}
	}
	if (!last)
		return -1;
	/* init.scope under a unit is that unit's own manager (systemd --user
	 * in user@UID.service): the enclosing unit says more. */
	if (prev && last_n == strlen("init.scope") &&
	    memcmp(last, "init.scope", last_n) == 0) {
		last = prev;
		last_n = prev_n;
	}
	return copy_fit(out, outlen, last, last_n);
}

int owner_unit_from_cgroup(const char *text, size_t len, char *out,
			   size_t outlen)
{
	const char *v1 = NULL, *v2 = NULL;
	size_t v1_n = 0, v2_n = 0;
	size_t i = 0;

	if (!out || outlen == 0)
		return -1;
	out[0] = '\0';
	if (!text)
		return -1;
	while (i < len) {
		size_t start = i;
		while (i < len && text[i] != '\n')
			i++;
		const char *line = text + start;
		size_t n = i - start;
		i++; /* past '\n' */

		/* "ID:CONTROLLERS:PATH"; the path may itself hold ':'. */
		const char *c1 = memchr(line, ':', n);
		if (!c1)
			continue;
		const char *c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line));
		if (!c2)
			continue;
		const char *path = c2 + 1;
		size_t pn = n - (size_t)(path - line);
		size_t ctl_n = (size_t)(c2 - c1 - 1);

		if (ctl_n == strlen("name=systemd") &&
		    memcmp(c1 + 1, "name=systemd", ctl_n) == 0) {
			v1 = path;
			v1_n = pn;
		} else if (ctl_n == 0 && c1 - line == 1 && line[0] == '0') {
			v2 = path;
			v2_n = pn;
		}
	}
	if (v1)
		return unit_from_path(v1, v1_n, out, outlen);
	if (v2)
		return unit_from_path(v2, v2_n, out, outlen);
	return -1;
}

/* The effective uid from a status file ("Uid:\treal\teffective\t..."). */
static int status_euid(const char *s, uint32_t *out)
{
	const char *p = s;

	for (;;) {
		if (strncmp(p, "Uid:", 4) == 0)
			break;
		p = strchr(p, '\n');
		if (!p)
			return -1;
		p++;
	}
	p += 4;
	for (int field = 0; field < 2; field++) {
		char *end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || v > UINT32_MAX)
			return -1;
		if (field == 1) {
			*out = (uint32_t)v;
			return 0;
		}
		p = end;
	}
	return -1;
}

static void user_name(uint32_t uid, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char stackbuf[4096];
	char *buf = stackbuf;
	size_t cap = sizeof(stackbuf);

	/* Retry with a bigger buffer on ERANGE (large NSS entries). */
	for (;;) {
		int r = getpwuid_r((uid_t)uid, &pw, buf, cap, &res);
		if (r == ERANGE && cap < 1u << 20) {
			char *nb = realloc(buf == stackbuf ? NULL : buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
			continue;
		}
		break;
	}
	if (!res || !res->pw_name ||
	    copy_fit(out, outlen, res->pw_name, strlen(res->pw_name)) < 0)
		snprintf(out, outlen, "%" PRIu32, uid);
	if (buf != stackbuf)
		free(buf);
}

int owner_fill_pid(const char *procroot, int32_t pid, uint32_t fallback_uid,
		   struct listener_owner *o)
{
	char path[PATH_MAX];
	char *big;
	ssize_t n;
	int dfd;

	memset(o, 0, sizeof(*o));
	o->pid = -1;
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%" PRId32,
			     root_of(procroot), pid) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Everything is read relative to this one directory handle, so a pid
	 * reused mid-way cannot mix two processes' files. */
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	o->pid = pid;

	n = read_small(dfd, "comm", o->program, sizeof(o->program));
	if (n > 0 && o->program[n - 1] == '\n')
		o->program[n - 1] = '\0';
	else if (n < 0)
		o->program[0] = '\0';

	/* readlink does not terminate, and says nothing of truncation: a
	 * result that fills the buffer may be cut, so it is dropped. */
	n = readlinkat(dfd, "exe", o->exe, sizeof(o->exe));
	if (n > 0 && (size_t)n < sizeof(o->exe))
		o->exe[n] = '\0';
	else
		o->exe[0] = '\0';

	big = malloc(OWNER_CGROUP_MAX);
	if (big) {
		o->uid = fallback_uid;
		if (read_small(dfd, "status", big, OWNER_STATUS_MAX) >= 0)
			(void)status_euid(big, &o->uid);
		n = read_small(dfd, "cgroup", big, OWNER_CGROUP_MAX);
		if (n > 0)
			(void)owner_unit_from_cgroup(big, (size_t)n, o->unit,
						     sizeof(o->unit));
		free(big);
	} else {
		o->uid = fallback_uid;
	}
	o->has_uid = 1;
	user_name(o->uid, o->user, sizeof(o->user));
	close(dfd);
	return 0;
}

/* An fd directory entry's number, or -1. */
static int fd_number(const char *s)
{
	int32_t v = parse_pid(s); /* the same digits-only rule */

	return v < 0 ? -1 : (int)v;
}

/*
 * Where each recently resolved socket was found (inode -> pid, fd),
 * direct-mapped by inode.  Listener tables are rebuilt on every refresh,
 * which forgets their owners; the socket usually still sits at the same
 * fd of the same process, and one readlink says so.  A hint is only ever
 * a place to look first: it is checked before use, so a stale one costs a
 * readlink and never gives a wrong answer.  Shared by the daemon's queue
 * threads, hence the lock (held for a copy, never during I/O).
 */
#define HINT_SLOTS 256

struct hint {
	uint64_t inode;
	int32_t pid;
	int fd;
};

static struct hint hints[HINT_SLOTS];
static pthread_mutex_t hints_lock = PTHREAD_MUTEX_INITIALIZER;

static void hint_put(uint64_t inode, int32_t pid, int fd)
{
	struct hint *h = &hints[inode % HINT_SLOTS];

	if (fd < 0)
		return;
	pthread_mutex_lock(&hints_lock);
	h->inode = inode;
	h->pid = pid;
	h->fd = fd;
	pthread_mutex_unlock(&hints_lock);
}

static int hint_get(uint64_t inode, int32_t *pid, int *fd)
{
	const struct hint *h = &hints[inode % HINT_SLOTS];
	int ok;

	pthread_mutex_lock(&hints_lock);
	ok = h->inode == inode && h->pid > 0 && h->fd >= 0;
	if (ok) {
		*pid = h->pid;
		*fd = h->fd;
	}
	pthread_mutex_unlock(&hints_lock);
	return ok;
}

/* 1 when <procroot>/PID/fd/FD is socket:[inode]. */
static int hint_holds(const char *procroot, int32_t pid, int fd,
		      uint64_t inode)
{
	char path[PATH_MAX], target[64];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%" PRId32 "/fd/%d",
			     root_of(procroot), pid, fd) >= sizeof(path))
		return 0;
	n = readlink(path, target, sizeof(target));
	return n > 0 && (size_t)n < sizeof(target) &&
	       socket_inode(target, (size_t)n) == inode;
}

/* An inode we look for and the table entry that wants it. */
struct want {
	uint64_t inode;
	size_t idx;
};

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* First index in w[0..n) with inode >= key. */
static size_t want_lower(const struct want *w, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w[mid].inode < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Calls found(ctx, pid, inode) for each socket fd of every process whose
 * inode is in w[0..n) (sorted), until found returns nonzero.  Returns 0, or
 * -1 when procroot cannot be opened.
 */
typedef int (*scan_fn)(void *ctx, int32_t pid, int fd, uint64_t inode);

static int scan(const char *procroot, const struct want *w, size_t n,
		scan_fn found, void *ctx)
{
	DIR *proc = opendir(root_of(procroot));
	struct dirent *pe;
	int done = 0;

	if (!proc)
		return -1;
	while (!done && (pe = readdir(proc)) != NULL) {
		int32_t pid = parse_pid(pe->d_name);
		char sub[32];
		if (pid < 0)
			continue;
		snprintf(sub, sizeof(sub), "%" PRId32 "/fd", pid);
		int fdd = openat(dirfd(proc), sub,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fdd < 0)
			continue; /* gone, or not ours to read */
		DIR *fds = fdopendir(fdd);
		if (!fds) {
			close(fdd);
			continue;
		}
		struct dirent *fe;
		while (!done && (fe = readdir(fds)) != NULL) {
			char target[64];
			if (fe->d_name[0] == '.')
				continue;
			/* Only symlinks (or unknown d_type) can be sockets. */
			if (fe->d_type != DT_LNK && fe->d_type != DT_UNKNOWN)
				continue;
			ssize_t tl = readlinkat(dirfd(fds), fe->d_name, target,
						sizeof(target));
			if (tl <= 0 || (size_t)tl >= sizeof(target))
				continue;
			uint64_t ino = socket_inode(target, (size_t)tl);
			if (!ino)
				continue;
			size_t i = want_lower(w, n, ino);
			if (i < n && w[i].inode == ino)
				done = found(ctx, pid, fd_number(fe->d_name),
					     ino);
		}
		closedir(fds);
	}
	closedir(proc);
	return 0;
}

struct one_ctx {
	int32_t pid;
	int fd;
};

static int one_found(void *ctx, int32_t pid, int fd, uint64_t inode)
{
	struct one_ctx *c = ctx;

	(void)inode;
	c->pid = pid;
	c->fd = fd;
	return 1; /* the first holder is the owner we report */
}

int owner_resolve(void *ctx, struct listener *l)
{
	const char *procroot = ctx;
	struct want w = { .inode = l->inode, .idx = 0 };
	struct one_ctx c = { .pid = -1, .fd = -1 };
	struct listener_owner o;

	listener_set_owner(l, NULL);
	if (l->inode == 0)
		return -1;
	/* Where the socket was last seen, if it is still there, saves a
	 * walk over every process's fds. */
	if (!hint_get(l->inode, &c.pid, &c.fd) ||
	    !hint_holds(procroot, c.pid, c.fd, l->inode)) {
		c.pid = -1;
		if (scan(procroot, &w, 1, one_found, &c) < 0 || c.pid < 0)
			return -1;
	}
	/* Exited between the two looks: as good as not found. */
	if (owner_fill_pid(procroot, c.pid, l->uid, &o) < 0)
		return -1;
	hint_put(l->inode, c.pid, c.fd);
	listener_set_owner(l, &o);
	return 0;
}

struct table_ctx {
	const char *procroot;
	struct listener_table *t;
	struct want *w;
	size_t n;
	size_t left;  /* entries still unresolved */
	int resolved;
};

static int table_found(void *ctx, int32_t pid, int fd, uint64_t inode)
{
	struct table_ctx *c = ctx;
	size_t i = want_lower(c->w, c->n, inode);

	for (; i < c->n && c->w[i].inode == inode; i++) {
		struct listener *l = listener_table_at(c->t, c->w[i].idx);
		struct listener_owner o;

		if (!listener_owner_pending(l))
			continue; /* an earlier process already holds it */
		if (owner_fill_pid(c->procroot, pid, l->uid, &o) < 0)
			continue; /* exited meanwhile; a later holder may do */
		listener_set_owner(l, &o);
		hint_put(inode, pid, fd);
		c->resolved++;
		c->left--;
	}
	return c->left == 0;
}

int owner_resolve_table(const char *procroot, struct listener_table *t)
{
	size_t count = listener_table_count(t);
	struct table_ctx c = { .procroot = procroot, .t = t };
	int r;

	c.w = calloc(count ? count : 1, sizeof(*c.w));
	if (!c.w) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct listener *l = listener_table_at(t, i);
		if (!listener_owner_pending(l))
			continue;
		if (l->inode == 0) {
			listener_set_owner(l, NULL);
			continue;
		}
		c.w[c.n].inode = l->inode;
		c.w[c.n].idx = i;
		c.n++;
	}
	c.left = c.n;
	if (c.n == 0) {
		free(c.w);
		return 0;
	}
	qsort(c.w, c.n, sizeof(*c.w), want_cmp);
	r = scan(procroot, c.w, c.n, table_found, &c);
	if (r < 0) {
		int saved = errno;
		free(c.w);
		errno = saved;
		return -1;
	}
	/* Whatever no process held: looked up, not found. */
	for (size_t i = 0; i < c.n; i++) {
		struct listener *l = listener_table_at(t, c.w[i].idx);
		if (listener_owner_pending(l))
			listener_set_owner(l, NULL);
	}
	free(c.w);
	return c.resolved;
}
