/*
 * listener: a table of listening sockets (TCP listeners, bound UDP and other
 * datagram sockets) and their owners.  The live daemon fills it from
 * NETLINK_SOCK_DIAG (see nfq/sockdiag.h); the replay tool fills it from a
 * snapshot, the JSON that `portclass listeners --json` prints.  The decision
 * reads it the same way in both, which is what keeps `expect ... program`
 * identical live and offline.  This module does no I/O: owners that are not
 * known yet are filled through a caller-supplied resolver.
 */
#ifndef PORTCLASS_LISTENER_H
#define PORTCLASS_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#define LISTENER_NAME_MAX 64
#define LISTENER_PATH_MAX 256
/* A table holds at most this many (a snapshot larger is refused rather
 * than grown into). */
#define LISTENER_MAX_ENTRIES ((size_t)1 << 20)

struct listener_owner {
	int32_t pid;			/* -1 when unknown */
	uint32_t uid;
	int has_uid;
	char program[LISTENER_NAME_MAX]; /* comm */
	char exe[LISTENER_PATH_MAX];	 /* /proc/PID/exe target */
	char user[LISTENER_NAME_MAX];	 /* name of uid, or the number */
	char unit[LISTENER_NAME_MAX * 2];/* systemd unit from the cgroup */
};

struct listener {
	uint8_t proto;	  /* enum packet_proto: TCP, UDP, UDPLITE, SCTP, DCCP */
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* all zero: wildcard */
	uint16_t port;
	uint64_t inode;	  /* socket inode (live), 0 offline */
	uint32_t uid;	  /* socket owner uid from sock_diag */
	int owner_state;  /* 0 not looked up, 1 known, -1 looked up, not found */
	struct listener_owner owner;
};

struct listener_table;

/*
 * Fills l->owner for a listener whose owner has not been looked up;
 * returns 0 when found, -1 when it cannot be found, 1 when the answer will
 * come later (an asynchronous resolver: the owner stays "not looked up",
 * listener_owner returns NULL meanwhile and asks again next time, and the
 * answer is stored with listener_set_owner).  Called at most once per
 * entry per table generation unless it returns 1.
 */
typedef int (*listener_resolve_fn)(void *ctx, struct listener *l);

/* NULL with errno ENOMEM on failure. */
struct listener_table *listener_table_new(void);
void listener_table_free(struct listener_table *t);
void listener_table_clear(struct listener_table *t);
void listener_table_set_resolver(struct listener_table *t,
				 listener_resolve_fn fn, void *ctx);

/* Adds a copy of *l.  Returns 0, or -1 with errno ENOMEM. */
int listener_table_add(struct listener_table *t, const struct listener *l);

size_t listener_table_count(const struct listener_table *t);
/* The i-th entry (0 <= i < count), for listing. */
struct listener *listener_table_at(struct listener_table *t, size_t i);

/*
 * The listener that would receive a packet for proto/family/addr/port: an
 * exact address match first, then a wildcard of the same family, then an
 * IPv6 wildcard for IPv4 (dual-stack sockets).  NULL when none.
 */
struct listener *listener_table_find(struct listener_table *t, uint8_t proto,
				     uint8_t family, const uint8_t addr[16],
				     uint16_t port);

/*
 * The owner of l, resolving it through the resolver on first use.  NULL
 * when unknown.
 */
const struct listener_owner *listener_owner(struct listener_table *t,
					    struct listener *l);

/* Stores the owner of l (a copy of *o), or with o NULL records that it
 * was looked up and not found (the owner cleared, pid -1). */
void listener_set_owner(struct listener *l, const struct listener_owner *o);

/* The owner of l when it is known, without looking it up; else NULL. */
const struct listener_owner *listener_owner_known(const struct listener *l);

/* 1 when l's owner has not been looked up yet (or the answer is still to
 * come), else 0.  NULL gives 0. */
int listener_owner_pending(const struct listener *l);

/* Drops the entries past the first n (n >= count: nothing). */
void listener_table_truncate(struct listener_table *t, size_t n);

/* One of the host's own addresses (IPv4 in the first 4 bytes). */
struct listener_host {
	uint8_t family;
	uint8_t addr[16];
};

#define LISTENER_MAX_HOSTS 65536

/*
 * The host's own addresses, as a snapshot records them (its interfaces'
 * addresses and broadcast addresses): the replay treats packets to them as
 * addressed to this host.  add_host returns 0 (also for a duplicate) or -1
 * with errno (EINVAL family, ENOSPC over LISTENER_MAX_HOSTS, ENOMEM).
 * listener_table_clear forgets them too.
 */
int listener_table_add_host(struct listener_table *t, uint8_t family,
			    const uint8_t addr[16]);
size_t listener_table_host_count(const struct listener_table *t);
const struct listener_host *listener_table_host_at(const struct listener_table *t,
						   size_t i);
int listener_table_is_host(const struct listener_table *t, uint8_t family,
			   const uint8_t addr[16]);
/* Forgets the host addresses added after the first n. */
void listener_table_truncate_hosts(struct listener_table *t, size_t n);

#endif
