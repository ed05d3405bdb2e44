/* resolver: see resolver.h. */
#include "resolver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "owner.h"
#include "packet.h"
#include "privdrop.h"
#include "sandbox.h"
#include "sockdiag.h"

#define MSG_REQUEST 1
#define MSG_REPLY 2
#define MSG_READY 3
#define REPLY_HDR 28
#define FLAG_HAS_UID 0x1

/* ---- codec ------------------------------------------------------------ */

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return ((uint32_t)get16(b) << 16) | get16(b + 2);
}

static uint64_t get64(const uint8_t *b)
{
	return ((uint64_t)get32(b) << 32) | get32(b + 4);
}

static int ported(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP ||
	       proto == PROTO_UDPLITE || proto == PROTO_SCTP ||
	       proto == PROTO_DCCP;
}

static int key_ok(uint8_t proto, uint8_t family, const uint8_t addr[16])
{
	size_t i;

	if (!ported(proto) || (family != 4 && family != 6))
		return 0;
	if (family == 4)
		for (i = 4; i < 16; i++)
			if (addr[i])
				return 0;
	return 1;
}

size_t resolver_encode_request(const struct resolver_request *rq,
			       uint8_t *buf, size_t len)
{
	if (len < RESOLVER_REQUEST_LEN || !key_ok(rq->proto, rq->family, rq->addr))
		return 0;
	memset(buf, 0, RESOLVER_REQUEST_LEN);
	buf[0] = RESOLVER_VERSION;
	buf[1] = MSG_REQUEST;
	buf[2] = rq->proto;
	buf[3] = rq->family;
	put64(buf + 4, rq->tag);
	memcpy(buf + 12, rq->addr, 16);
	put16(buf + 28, rq->port);
	return RESOLVER_REQUEST_LEN;
}

int resolver_decode_request(const uint8_t *buf, size_t len,
			    struct resolver_request *out)
{
	if (len != RESOLVER_REQUEST_LEN || buf[0] != RESOLVER_VERSION ||
	    buf[1] != MSG_REQUEST || buf[30] || buf[31])
		return -1;
	memset(out, 0, sizeof(*out));
	out->proto = buf[2];
	out->family = buf[3];
	out->tag = get64(buf + 4);
	memcpy(out->addr, buf + 12, 16);
	out->port = get16(buf + 28);
	return key_ok(out->proto, out->family, out->addr) ? 0 : -1;
}

/* A length-prefixed string: the field's size bounds it (one byte for the
 * NUL), and it holds no NUL of its own. */
static size_t put_str(uint8_t *b, size_t room, const char *s, size_t field)
{
	size_t n = strnlen(s, field);

	if (n >= field || 2 + n > room)
		return 0;
	put16(b, (uint16_t)n);
	memcpy(b + 2, s, n);
	return 2 + n;
}

static int get_str(const uint8_t *buf, size_t len, size_t *off, char *out,
		   size_t field)
{
	size_t n;

	if (len - *off < 2)
		return -1;
	n = get16(buf + *off);
	*off += 2;
	if (n >= field || n > len - *off || memchr(buf + *off, '\0', n))
		return -1;
	memcpy(out, buf + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

size_t resolver_encode_reply(const struct resolver_reply *rp, uint8_t *buf,
			     size_t len)
{
	const struct listener_owner *o = &rp->owner;
	size_t off = REPLY_HDR, n;

	if (len < REPLY_HDR)
		return 0;
	memset(buf, 0, REPLY_HDR);
	buf[0] = RESOLVER_VERSION;
	buf[1] = MSG_REPLY;
	buf[2] = rp->found ? 1 : 0;
	buf[3] = rp->found && o->has_uid ? FLAG_HAS_UID : 0;
	put64(buf + 4, rp->tag);
	put64(buf + 12, rp->inode);
	put32(buf + 20, (uint32_t)(rp->found ? o->pid : -1));
	put32(buf + 24, rp->found ? o->uid : 0);
	if (rp->found && o->pid < 1)
		return 0;
#define STR(field) do { \
		n = put_str(buf + off, len - off, rp->found ? o->field : "", \
			    sizeof(o->field)); \
		if (n == 0) \
			return 0; \
		off += n; \
	} while (0)
	STR(program);
	STR(exe);
	STR(user);
	STR(unit);
#undef STR
	return off;
}

int resolver_decode_reply(const uint8_t *buf, size_t len,
			  struct resolver_reply *out)
{
	struct listener_owner *o = &out->owner;
	size_t off = REPLY_HDR;
	int32_t pid;

	memset(out, 0, sizeof(*out));
	o->pid = -1;
	if (len < REPLY_HDR || len > RESOLVER_REPLY_MAX ||
	    buf[0] != RESOLVER_VERSION || buf[1] != MSG_REPLY || buf[2] > 1 ||
	    (buf[3] & ~FLAG_HAS_UID))
		return -1;
	out->found = buf[2];
	out->tag = get64(buf + 4);
	out->inode = get64(buf + 12);
	pid = (int32_t)get32(buf + 20);
	if (out->found ? pid < 1 : pid != -1)
		goto bad;
	if (!out->found && (buf[3] || get32(buf + 24)))
		goto bad;
	if (get_str(buf, len, &off, o->program, sizeof(o->program)) < 0 ||
	    get_str(buf, len, &off, o->exe, sizeof(o->exe)) < 0 ||
	    get_str(buf, len, &off, o->user, sizeof(o->user)) < 0 ||
	    get_str(buf, len, &off, o->unit, sizeof(o->unit)) < 0 ||
	    off != len)
		goto bad;
	if (!out->found && (o->program[0] || o->exe[0] || o->user[0] || o->unit[0]))
		goto bad;
	o->pid = pid;
	o->has_uid = buf[3] & FLAG_HAS_UID;
	o->uid = get32(buf + 24);
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	out->owner.pid = -1;
	return -1;
}

/* ---- the child ---------------------------------------------------------- */

struct resolver {
	pid_t pid;
	unsigned n;
	int fds[64];
};


/* A dump is at most this old when a request finds its socket in it. */
#define CHILD_TABLE_MAX_AGE_NS (100ull * 1000000u)

struct child {
	struct listener_table *t;
	uint64_t filled_ns;
	int have_table;
	int warned;
};

static void refill(struct child *ch, uint64_t now)
{
	char err[256];

	ch->filled_ns = now;
	ch->have_table = sockdiag_fill(ch->t, err, sizeof(err)) >= 0;
	if (!ch->have_table && !ch->warned) {
		log_warnx("owner resolver: listener table: %s", err);
		ch->warned = 1;
	}
}

static void answer(struct child *ch, int fd, const struct resolver_request *rq)
{
	struct resolver_reply rp;
	struct listener *l = NULL;
	const struct listener_owner *o;
	uint8_t buf[RESOLVER_REPLY_MAX];
	uint64_t now = clock_mono_ns();
	size_t n;

	if (ch->have_table)
		l = listener_table_find(ch->t, rq->proto, rq->family, rq->addr,
					rq->port);
	if (!l || now - ch->filled_ns > CHILD_TABLE_MAX_AGE_NS) {
		refill(ch, now);
		l = ch->have_table ? listener_table_find(ch->t, rq->proto,
				rq->family, rq->addr, rq->port) : NULL;
	}
	memset(&rp, 0, sizeof(rp));
	rp.tag = rq->tag;
	rp.owner.pid = -1;
	o = listener_owner(ch->t, l);
	if (l && o && o->pid > 0) {
		rp.found = 1;
		rp.inode = l->inode;
		rp.owner = *o;
	} else if (l) {
		rp.inode = l->inode;
	}
	n = resolver_encode_reply(&rp, buf, sizeof(buf));
	if (n == 0) {
		/* A field that does not fit the protocol: say "not found". */
		memset(&rp.owner, 0, sizeof(rp.owner));
		rp.owner.pid = -1;
		rp.found = 0;
		n = resolver_encode_reply(&rp, buf, sizeof(buf));
	}
	(void)send(fd, buf, n, MSG_NOSIGNAL);
}

static int kept(const int *keep, unsigned n, int fd)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return fd <= 2;
}

/* Closes every descriptor but stdio and keep[]: the ones open, read from
 * /proc/self/fd (a loop over every possible number costs a second under
 * the sanitizers); that loop only when /proc cannot be read. */
static void close_other_fds(const int *keep, unsigned n)
{
	int fds[1024];
	size_t nfds = 0, i;
	DIR *d = opendir("/proc/self/fd");
	long max;
	int fd;

	if (d) {
		struct dirent *e;
		int self = dirfd(d);

		while ((e = readdir(d)) && nfds < sizeof(fds) / sizeof(fds[0])) {
			char *end;
			long v = strtol(e->d_name, &end, 10);

			if (*end || end == e->d_name || v == self ||
			    kept(keep, n, (int)v))
				continue;
			fds[nfds++] = (int)v;
		}
		closedir(d);
		if (nfds < sizeof(fds) / sizeof(fds[0])) {
			for (i = 0; i < nfds; i++)
				(void)close(fds[i]);
			return;
		}
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (!kept(keep, n, fd))
			(void)close(fd);
}

static void child_main(const struct resolver_opts *o, int *fds, pid_t parent)
{
	struct pollfd pfd[64];
	struct child ch;
	sigset_t all;
	char err[512];
	uint8_t ready[4] = { RESOLVER_VERSION, MSG_READY, 0, 0 };
	unsigned i, open_n = o->channels;
	int nsys = 0;

	/* The daemon reads its signals from a signalfd (blocked here); the
	 * child ignores them: a stop sent to the whole group (systemd,
	 * timeout) must not end it before the daemon, which would log it as
	 * lost.  It ends when the daemon closes the channels, or dies with
	 * it (PR_SET_PDEATHSIG). */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigfillset(&all);
	(void)sigprocmask(SIG_UNBLOCK, &all, NULL);
	close_other_fds(fds, o->channels);
	(void)prctl(PR_SET_NAME, "portclass-owner", 0, 0, 0);
	switch (privdrop(o->user, o->owner_caps ? PRIVDROP_SYS_PTRACE |
			 PRIVDROP_DAC_READ_SEARCH : 0, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		log_warnx("owner resolver: %s", err);
		break;
	default:
		log_warnx("owner resolver: cannot drop privileges: %s", err);
		_exit(1);
	}
	/* After the uid change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	memset(&ch, 0, sizeof(ch));
	ch.t = listener_table_new();
	if (!ch.t) {
		log_warn("owner resolver");
		_exit(1);
	}
	listener_table_set_resolver(ch.t, owner_resolve,
				    (void *)(uintptr_t)o->procroot);
	if (o->seccomp) {
		nsys = sandbox_apply_resolver(err, sizeof(err));
		if (nsys < 0) {
			log_warnx("owner resolver: %s", err);
			_exit(1);
		}
	}
	if (send(fds[0], ready, sizeof(ready), MSG_NOSIGNAL) < 0)
		_exit(1);
	for (i = 0; i < o->channels; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (open_n > 0) {
		if (poll(pfd, o->channels, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 0; i < o->channels; i++) {
			uint8_t buf[RESOLVER_REQUEST_LEN + 1];
			struct resolver_request rq;
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				/* The queue thread's end is closed. */
				(void)close(pfd[i].fd);
				pfd[i].fd = -1;
				open_n--;
				continue;
			}
			if (resolver_decode_request(buf, (size_t)n, &rq) < 0)
				continue;
			answer(&ch, pfd[i].fd, &rq);
		}
	}
	_exit(0);
}

struct resolver *resolver_spawn(const struct resolver_opts *o, char *err,
				size_t errlen)
{
	struct resolver *r;
	int child_fds[64];
	unsigned i;
	pid_t parent = getpid();

	if (o->channels < 1 || o->channels > 64) {
		snprintf(err, errlen, "owner resolver: %u channels", o->channels);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "owner resolver: %s", strerror(errno));
		return NULL;
	}
	for (i = 0; i < o->channels; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			snprintf(err, errlen, "owner resolver: socketpair: %s",
				 strerror(errno));
			while (i-- > 0) {
				close(r->fds[i]);
				close(child_fds[i]);
			}
			free(r);
			return NULL;
		}
		r->fds[i] = sv[0];
		child_fds[i] = sv[1];
	}
	r->n = o->channels;
	r->pid = fork();
	if (r->pid < 0) {
		snprintf(err, errlen, "owner resolver: fork: %s", strerror(errno));
		for (i = 0; i < r->n; i++) {
			close(r->fds[i]);
			close(child_fds[i]);
		}
		free(r);
		return NULL;
	}
	if (r->pid == 0)
		child_main(o, child_fds, parent);
	for (i = 0; i < r->n; i++)
		close(child_fds[i]);
	/* Wait for "ready": the child has dropped its privileges and
	 * installed its filter, or it has exited (EOF). */
	{
		struct pollfd pfd = { .fd = r->fds[0], .events = POLLIN };
		uint8_t buf[8];
		ssize_t n = -1;

		if (poll(&pfd, 1, 5000) > 0)
			n = recv(r->fds[0], buf, sizeof(buf), MSG_DONTWAIT);
		if (n != 4 || buf[0] != RESOLVER_VERSION || buf[1] != MSG_READY) {
			snprintf(err, errlen, "owner resolver did not start%s",
				 n == 0 ? " (it exited; see above)" : "");
			resolver_close(r);
			return NULL;
		}
	}
	return r;
}

int resolver_channel(const struct resolver *r, unsigned i)
{
	return r && i < r->n ? r->fds[i] : -1;
}

pid_t resolver_pid(const struct resolver *r)
{
	return r ? r->pid : -1;
}

void resolver_close(struct resolver *r)
{
	unsigned i;
	int tries;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	for (tries = 0; r->pid > 0 && tries < 100; tries++) {
		pid_t w = waitpid(r->pid, NULL, WNOHANG);

		if (w == r->pid || (w < 0 && errno != EINTR))
			break;
		{
			struct timespec ts = { 0, 10 * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	free(r);
}

/* ---- the packet thread's side ------------------------------------------ */

#define CACHE_SLOTS 256
/* How long an answer stands: a socket can change hands (fd passing, a
 * parent exiting), so owners are asked again now and then. */
#define FOUND_TTL_NS (10ull * 1000000000u)
#define NOT_FOUND_TTL_NS (1ull * 1000000000u)
/* A request with no answer after this is asked again. */
#define ASKED_TTL_NS (1ull * 1000000000u)

enum slot_state { SLOT_EMPTY = 0, SLOT_ASKED, SLOT_FOUND, SLOT_NOT_FOUND };

struct slot {
	uint64_t inode;
	uint64_t t_ns;
	int state;
	struct listener_owner owner;
};

struct resolver_client {
	int fd;
	unsigned inflight;
	uint64_t rejected;
	struct slot slots[CACHE_SLOTS];
};

struct resolver_client *resolver_client_new(int fd)
{
	struct resolver_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	return c;
}

void resolver_client_free(struct resolver_client *c)
{
	free(c);
}

int resolver_client_fd(const struct resolver_client *c)
{
	return c ? c->fd : -1;
}

unsigned resolver_client_inflight(const struct resolver_client *c)
{
	return c ? c->inflight : 0;
}

uint64_t resolver_client_rejected(const struct resolver_client *c)
{
	return c ? c->rejected : 0;
}

static struct slot *slot_of(struct resolver_client *c, uint64_t inode)
{
	uint64_t h = inode * 0x9e3779b97f4a7c15ull;

	return &c->slots[h >> 56];
}

enum resolver_answer resolver_client_peek(struct resolver_client *c,
					  uint64_t inode, uint64_t now_ns,
					  struct listener_owner *out)
{
	struct slot *s;

	if (!c || !inode)
		return RESOLVER_UNKNOWN;
	s = slot_of(c, inode);
	if (s->inode == inode) {
		uint64_t age = now_ns - s->t_ns;

		if (s->state == SLOT_FOUND && age < FOUND_TTL_NS) {
			if (out)
				*out = s->owner;
			return RESOLVER_FOUND;
		}
		if (s->state == SLOT_NOT_FOUND && age < NOT_FOUND_TTL_NS)
			return RESOLVER_NOT_FOUND;
		if (s->state == SLOT_ASKED && age < ASKED_TTL_NS && c->fd >= 0)
			return RESOLVER_PENDING;
	}
	return RESOLVER_UNKNOWN;
}

enum resolver_answer resolver_client_lookup(struct resolver_client *c,
					    const struct listener *l,
					    uint64_t now_ns,
					    struct listener_owner *out)
{
	struct resolver_request rq;
	uint8_t buf[RESOLVER_REQUEST_LEN];
	enum resolver_answer a;
	struct slot *s;
	size_t n;

	if (!c || !l || !l->inode)
		return RESOLVER_UNKNOWN;
	a = resolver_client_peek(c, l->inode, now_ns, out);
	if (a != RESOLVER_UNKNOWN || c->fd < 0)
		return a;
	memset(&rq, 0, sizeof(rq));
	rq.tag = l->inode;
	rq.proto = l->proto;
	rq.family = l->family;
	memcpy(rq.addr, l->addr, 16);
	rq.port = l->port;
	n = resolver_encode_request(&rq, buf, sizeof(buf));
	if (n == 0)
		return RESOLVER_UNKNOWN;
	if (send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		/* Full (the resolver is behind) or gone: the owner is unknown
		 * now; receive() notices a dead resolver. */
		return RESOLVER_UNKNOWN;
	s = slot_of(c, l->inode);
	s->inode = l->inode;
	s->state = SLOT_ASKED;
	s->t_ns = now_ns;
	c->inflight++;
	return RESOLVER_PENDING;
}

int resolver_client_receive(struct resolver_client *c, uint64_t now_ns)
{
	int got = 0;

	if (!c || c->fd < 0)
		return 0;
	for (;;) {
		uint8_t buf[RESOLVER_REPLY_MAX + 1];
		struct resolver_reply rp;
		struct slot *s;
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return got;
		if (n <= 0) {
			/* EOF or an error: the resolver is gone.  The fd is
			 * the resolver handle's to close. */
			c->fd = -1;
			c->inflight = 0;
			return -1;
		}
		if (c->inflight)
			c->inflight--;
		if (resolver_decode_reply(buf, (size_t)n, &rp) < 0) {
			c->rejected++;
			continue;
		}
		got++;
		s = slot_of(c, rp.tag);
		s->inode = rp.tag;
		s->t_ns = now_ns;
		/* The child found another socket on that address and port:
		 * ours is gone, so its owner is not that one. */
		if (rp.found && rp.inode == rp.tag) {
			s->state = SLOT_FOUND;
			s->owner = rp.owner;
		} else {
			s->state = SLOT_NOT_FOUND;
		}
	}
}
