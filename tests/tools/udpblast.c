/*
 * udpblast: UDP load and latency for the NFQUEUE bench.  Loopback only:
 * every mode refuses a destination outside 127.0.0.0/8 and ::1, so a typo
 * can never send a flood anywhere else.
 *
 *   udpblast blast -p PORT [-a ADDR] [-n COUNT] [-t SECONDS] [-s SOCKETS]
 *                  [-l BYTES]
 *       sends COUNT datagrams (default 2000000) as fast as it can, from
 *       SOCKETS sockets (default 64, each its own source port) in turn,
 *       stopping after SECONDS (default 10) at the latest; prints
 *       "sent N seconds S pps P".
 *   udpblast sink -p PORT [-a ADDR]
 *       binds PORT and never reads (datagrams that overflow its buffer are
 *       dropped by the kernel, cheaply); until SIGINT/SIGTERM.
 *   udpblast echo -p PORT [-a ADDR]
 *       sends every datagram back to its sender; until SIGINT/SIGTERM.
 *   udpblast ping -p PORT [-a ADDR] [-n COUNT]
 *       COUNT (default 10000) request/reply round trips with an echo,
 *       one at a time; prints "rtt_ns n N lost N p50 X p90 X p99 X max X".
 *   udpblast --ready FILE ... creates FILE once the socket is bound (sink,
 *       echo), for scripts to wait on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 1024
#define MMSG 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Parses a loopback address and port into ss.  -1 for anything else. */
static int loopback_addr(const char *s, uint16_t port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
			return -1;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

static int num_arg(const char *s, unsigned long long lo, unsigned long long hi,
		   unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || *end || *out < lo || *out > hi) ? -1 : 0;
}

static int touch(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "udpblast: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int bound_socket(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int do_blast(const struct sockaddr_storage *dst, socklen_t dlen,
		    uint64_t count, double seconds, unsigned nsock,
		    size_t bytes)
{
	int fds[MAX_SOCKETS];
	struct mmsghdr msgs[MMSG];
	struct iovec iov;
	char *payload = calloc(1, bytes ? bytes : 1);
	uint64_t sent = 0, start, deadline, end;
	unsigned i, k = 0;

	if (!payload)
		return 1;
	for (i = 0; i < nsock; i++) {
		fds[i] = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (const struct sockaddr *)dst, dlen) < 0) {
			perror("udpblast: socket");
			return 1;
		}
	}
	iov.iov_base = payload;
	iov.iov_len = bytes;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < MMSG; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	while (sent < count && !stop) {
		unsigned batch = count - sent < MMSG ? (unsigned)(count - sent)
						     : MMSG;
		int n = sendmmsg(fds[k], msgs, batch, 0);

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS ||
			    errno == EAGAIN || errno == ECONNREFUSED)
				n = 0; /* try the next socket */
			else {
				perror("udpblast: sendmmsg");
				return 1;
			}
		}
		sent += (uint64_t)n;
		k = (k + 1) % nsock;
		/* vDSO clock: cheap next to 64 sends */
		if (now_ns() >= deadline)
			break;
	}
	end = now_ns();
	double secs = (double)(end - start) / 1e9;
	printf("sent %" PRIu64 " seconds %.3f pps %.0f\n", sent, secs,
	       secs > 0 ? (double)sent / secs : 0.0);
	for (i = 0; i < nsock; i++)
		close(fds[i]);
	free(payload);
	return 0;
}

static int do_sink(const struct sockaddr_storage *a, socklen_t alen,
		   const char *ready)
{
	int fd = bound_socket(a, alen);

	if (fd < 0) {
		perror("udpblast: bind");
		return 1;
	}
	if (touch(ready) < 0)
		return 1;
	while (!stop)
		pause();
	close(fd);
	return 0;
}

static int do_echo(const struct sockaddr_storage *a, socklen_t alen,
		   const char *ready)
{
	int fd = bound_socket(a, alen);
	char buf[2048];

	if (fd < 0) {
		perror("udpblast: bind");
		return 1;
	}
	if (touch(ready) < 0)
		return 1;
	while (!stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udpblast: recvfrom");
			return 1;
		}
		(void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			     fl);
	}
	close(fd);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int do_ping(const struct sockaddr_storage *dst, socklen_t dlen,
		   uint64_t count)
{
	uint64_t *rtt = calloc(count ? count : 1, sizeof(*rtt));
	uint64_t lost = 0, seq;
	size_t n = 0;
	int fd;

	if (!rtt)
		return 1;
	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)dst, dlen) < 0) {
		perror("udpblast: socket");
		return 1;
	}
	for (seq = 0; seq < count && !stop; seq++) {
		uint64_t t0 = now_ns(), got;
		if (send(fd, &seq, sizeof(seq), 0) < 0) {
			lost++;
			continue;
		}
		/* Wait for this request's reply; stale replies to a request
		 * that timed out are skipped. */
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int left = 1000 - (int)((now_ns() - t0) / 1000000u);
			if (left <= 0 || poll(&pfd, 1, left) <= 0) {
				lost++;
				break;
			}
			if (recv(fd, &got, sizeof(got), 0) != sizeof(got))
				continue;
			if (got != seq)
				continue;
			rtt[n++] = now_ns() - t0;
			break;
		}
	}
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("rtt_ns n %zu lost %" PRIu64 " p50 %" PRIu64 " p90 %" PRIu64
	       " p99 %" PRIu64 " max %" PRIu64 "\n",
	       n, lost, pct(rtt, n, 0.50), pct(rtt, n, 0.90),
	       pct(rtt, n, 0.99), n ? rtt[n - 1] : 0);
	close(fd);
	free(rtt);
	return n ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: udpblast blast|sink|echo|ping -p PORT [-a ADDR] "
		   "[-n COUNT] [-t SECONDS] [-s SOCKETS] [-l BYTES] "
		   "[--ready FILE]\n"
		   "ADDR must be loopback (127.0.0.0/8 or ::1); default "
		   "127.0.0.1\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ready", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode, *addr = "127.0.0.1", *ready = NULL;
	unsigned long long port = 0, count = 0, secs = 10, nsock = 64,
			   bytes = 32;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sigaction sa;
	int opt;

	if (argc < 2 || argv[1][0] == '-') {
		usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "p:a:n:t:s:l:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (num_arg(optarg, 1, 65535, &port) < 0)
				goto bad;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'n':
			if (num_arg(optarg, 1, 1000000000ull, &count) < 0)
				goto bad;
			break;
		case 't':
			if (num_arg(optarg, 1, 3600, &secs) < 0)
				goto bad;
			break;
		case 's':
			if (num_arg(optarg, 1, MAX_SOCKETS, &nsock) < 0)
				goto bad;
			break;
		case 'l':
			if (num_arg(optarg, 8, 1400, &bytes) < 0)
				goto bad;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || !port)
		goto bad;
	if (loopback_addr(addr, (uint16_t)port, &ss, &sl) < 0) {
		fprintf(stderr, "udpblast: %s: not a loopback address\n", addr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!strcmp(mode, "blast"))
		return do_blast(&ss, sl, count ? count : 2000000, (double)secs,
				(unsigned)nsock, (size_t)bytes);
	if (!strcmp(mode, "sink"))
		return do_sink(&ss, sl, ready);
	if (!strcmp(mode, "echo"))
		return do_echo(&ss, sl, ready);
	if (!strcmp(mode, "ping"))
		return do_ping(&ss, sl, count ? count : 10000);
bad:
	usage(stderr);
	return 2;
}
