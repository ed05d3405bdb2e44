/*
 * resolver: the privilege-separated owner resolver (OpenBSD's
 * privilege-separated daemons are the model).  Naming a listener's owner
 * means a sock_diag dump and a walk over /proc/PID/fd of every process,
 * which needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH and opening files.
 * That runs in a child process forked before the packet threads start,
 * with those two capabilities, without CAP_NET_ADMIN, under its own
 * seccomp list; the packet process keeps CAP_NET_ADMIN only.
 *
 * The two talk over one SOCK_SEQPACKET socketpair per queue thread, one
 * message per packet, with a narrow protocol:
 *   request: tag (opaque to the child, echoed), proto, family, addr, port
 *   reply:   tag, found, socket inode, pid, uid, program, exe, user, unit
 * Both are fixed layouts, big-endian, strings length-prefixed and bounded
 * by the listener_owner fields; every field is validated on receipt and a
 * message that is not exactly right is rejected as a whole.
 *
 * Nothing here ever blocks a packet thread: requests are sent with
 * MSG_DONTWAIT (a full socket means "owner unknown"), replies are read when
 * the thread's poll says they are there, and a dead resolver (EOF) only
 * turns every later owner into "unknown".
 */
#ifndef PORTCLASS_NFQ_RESOLVER_H
#define PORTCLASS_NFQ_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "listener.h"

#define RESOLVER_VERSION 1
#define RESOLVER_REQUEST_LEN 32
/* header 28 + four strings of 2 + their longest */
#define RESOLVER_REPLY_MAX (28 + 4 * 2 + (LISTENER_NAME_MAX - 1) + \
			    (LISTENER_PATH_MAX - 1) + (LISTENER_NAME_MAX - 1) + \
			    (LISTENER_NAME_MAX * 2 - 1))

struct resolver_request {
	uint64_t tag;
	uint8_t proto;	  /* enum packet_proto with ports */
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
	uint16_t port;
};

struct resolver_reply {
	uint64_t tag;
	int found;		/* 0: no socket or no process holds it */
	uint64_t inode;		/* the socket the child found (0 when none) */
	struct listener_owner owner; /* pid -1 and empty when !found */
};

/*
 * Codec.  encode_* write into buf (len >= RESOLVER_REQUEST_LEN or
 * RESOLVER_REPLY_MAX) and return the message length, or 0 when a field is
 * out of range (a string too long, a family not 4 or 6).  decode_* return
 * 0, or -1 when the message is not exactly one valid message of that type:
 * wrong length, version or type, a protocol without ports, a family not 4
 * or 6, IPv4 address bytes past the fourth, found not 0 or 1, a pid below 1
 * when found (or not -1 when not), an unknown flag, a string longer than
 * its field or holding a NUL, bytes left over.
 */
size_t resolver_encode_request(const struct resolver_request *rq,
			       uint8_t *buf, size_t len);
int resolver_decode_request(const uint8_t *buf, size_t len,
			    struct resolver_request *out);
size_t resolver_encode_reply(const struct resolver_reply *rp, uint8_t *buf,
			     size_t len);
int resolver_decode_reply(const uint8_t *buf, size_t len,
			  struct resolver_reply *out);

/* ---- the child process --------------------------------------------- */

struct resolver_opts {
	unsigned channels;	/* one per queue thread, 1-64 */
	const char *user;	/* switch to it (NULL: keep the uid) */
	int owner_caps;		/* keep CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH */
	int seccomp;		/* install the resolver's filter */
	const char *procroot;	/* "/proc" */
};

struct resolver;

/*
 * Forks the resolver.  The child closes every descriptor but stdio and its
 * ends of the channels (the queues stay the parent's alone), drops to
 * o->user with only the owner capabilities, dies with its parent
 * (PR_SET_PDEATHSIG), installs its filter, then says it is ready; this
 * returns once it has (or -1 with a message in err when it could not set
 * up, within 5 s).  Call before any thread exists.
 */
struct resolver *resolver_spawn(const struct resolver_opts *o, char *err,
				size_t errlen);

/* The parent's end of channel i (owned by the resolver handle). */
int resolver_channel(const struct resolver *r, unsigned i);
pid_t resolver_pid(const struct resolver *r);

/*
 * Closes the channels (the child exits on EOF) and reaps the child,
 * waiting at most about a second.  NULL is a no-op.
 */
void resolver_close(struct resolver *r);

/* ---- the packet thread's side of one channel ------------------------- */

enum resolver_answer {
	RESOLVER_FOUND = 1,	/* *out filled */
	RESOLVER_NOT_FOUND = 0, /* the resolver says nobody holds it */
	RESOLVER_PENDING = -1,	/* asked; the answer comes later */
	RESOLVER_UNKNOWN = -2,	/* cannot be asked (no resolver, it died,
				 * the channel is full, no inode) */
};

struct resolver_client;

/* Uses fd (not owned; -1: no resolver, every answer is UNKNOWN).  NULL
 * with errno ENOMEM. */
struct resolver_client *resolver_client_new(int fd);
void resolver_client_free(struct resolver_client *c);

/*
 * The owner of listener l from the cache (keyed by socket inode; an answer
 * is kept for a few seconds), or sends one request for it without
 * blocking.  now_ns is CLOCK_MONOTONIC.
 */
enum resolver_answer resolver_client_lookup(struct resolver_client *c,
					    const struct listener *l,
					    uint64_t now_ns,
					    struct listener_owner *out);

/* What the cache says about inode now, without asking (PENDING while a
 * request is in flight). */
enum resolver_answer resolver_client_peek(struct resolver_client *c,
					  uint64_t inode, uint64_t now_ns,
					  struct listener_owner *out);

/* The descriptor to poll for replies; -1 once the resolver is gone. */
int resolver_client_fd(const struct resolver_client *c);

/*
 * Reads every reply waiting, without blocking, into the cache.  Returns
 * how many valid replies were read, or -1 the first time the resolver is
 * found gone (EOF or error: the caller logs it; later calls return 0).
 * Malformed replies are dropped and counted.
 */
int resolver_client_receive(struct resolver_client *c, uint64_t now_ns);

/* Requests sent and not answered yet. */
unsigned resolver_client_inflight(const struct resolver_client *c);
/* Replies rejected by the decoder. */
uint64_t resolver_client_rejected(const struct resolver_client *c);

#endif
