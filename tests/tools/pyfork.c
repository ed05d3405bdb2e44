/*
 * pyfork: python3 for the tests, started from a warm interpreter.
 *
 * Under an emulated CPU (make check-vm: qemu without acceleration) a
 * python3 start costs about a second and an `import scapy.all` ten or
 * more; the namespace tests start hundreds of them.  tests/nfq/pyfork.py
 * is one interpreter, started once with scapy and the standard modules
 * already imported, serving a socket: for each request it forks, and the
 * child takes on the caller's network and mount namespaces, working
 * directory, user, groups, CPU affinity, environment and standard
 * descriptors before it runs the script.  This client is what a test
 * starts instead of python3:
 *
 *   pyfork SCRIPT [ARG...]        as python3 SCRIPT ARG...
 *   pyfork -c CODE [ARG...]       as python3 -c CODE ARG...
 *   pyfork - [ARG...]             as python3 - ARG... (script on stdin)
 *
 * It passes its descriptors 0-2 (SCM_RIGHTS) and its arguments, forwards
 * the signals a test sends (TERM, INT, HUP, QUIT, USR1, USR2, ALRM) to the
 * child, and ends as the child ended: the same exit status, or killed by
 * the same signal.  When it dies itself (SIGKILL), the child sees the
 * socket close and dies too.  The child's pid is not this process's: a
 * script that must be found by pid writes its own (os.getpid()).
 *
 * A script that does not name scapy (its file, or the -c code) goes to
 * $PC_PYFORK_LIGHT when that is set: a server started with --no-scapy,
 * whose smaller process forks and exits faster.  A script that imports
 * scapy only through another module still runs there, only slower.  When
 * that server does not answer, $PC_PYFORK serves.
 *
 * $PC_PYFORK_NETNS (a network namespace's file, /run/netns/NAME) makes it
 * enter that namespace first, as `nsenter --net=FILE` would before it, so
 * that the script and the plain python3 both run there: one program start
 * fewer per script.  Failing to enter it is an error (exit 125), never a
 * run in the wrong namespace.
 *
 * Without $PC_PYFORK (the server's socket), with anything else as first
 * argument, or when the server does not answer, it execs
 * $PC_PYFORK_PYTHON (default /usr/bin/python3) with the same arguments:
 * never a different outcome, only a slower start.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQ_MAX (256 * 1024)

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Runs the real interpreter with the same arguments; never returns. */
static void exec_python(int argc, char **argv)
{
	const char *py = getenv("PC_PYFORK_PYTHON");
	char **av = calloc((size_t)argc + 1, sizeof(*av));

	if (!py || !*py)
		py = "/usr/bin/python3";
	if (!av) {
		perror("pyfork");
		exit(127);
	}
	av[0] = (char *)"python3";
	for (int i = 1; i < argc; i++)
		av[i] = argv[i];
	av[argc] = NULL;
	execv(py, av);
	execvp("python3", av);
	fprintf(stderr, "pyfork: cannot run %s: %s\n", py, strerror(errno));
	exit(127);
}

/* Appends s and its NUL to buf (size REQ_MAX) at *n; -1 when full. */
static int put(char *buf, size_t *n, const char *s)
{
	size_t l = strlen(s) + 1;

	if (*n + l > REQ_MAX)
		return -1;
	memcpy(buf + *n, s, l);
	*n += l;
	return 0;
}

/*
 * The request: cwd, then the arguments (argv[1]...), an empty string, the
 * environment, an empty string.  The server reads the caller's pid from
 * the socket (SO_PEERCRED) and the rest from /proc.
 */
static int build(char *buf, size_t *n, int argc, char **argv)
{
	extern char **environ;
	char cwd[4096];

	*n = 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	if (put(buf, n, cwd) < 0)
		return -1;
	for (int i = 1; i < argc; i++) {
		if (!*argv[i] || put(buf, n, argv[i]) < 0)
			return -1;
	}
	if (put(buf, n, "") < 0)
		return -1;
	for (char **e = environ; e && *e; e++) {
		if (**e && put(buf, n, *e) < 0)
			return -1;
	}
	return put(buf, n, "");
}

static int send_req(int s, char *buf, size_t n)
{
	int fds[3] = { 0, 1, 2 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(fds))];
	} u;
	struct iovec iov = { buf, n };
	struct msghdr m = { 0 };
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof(u.b);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	return sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* One reply: "P<pid>" or "S<wait status>"; -1 on EOF or error. */
static int reply(int s, char kind, long *out)
{
	char b[64];
	ssize_t r;
	char *end;

	do
		r = recv(s, b, sizeof(b) - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 2 || b[0] != kind)
		return -1;
	b[r] = '\0';
	errno = 0;
	*out = strtol(b + 1, &end, 10);
	return (errno || *end) ? -1 : 0;
}

/* 1 when the script argv[1..] names (so needs) scapy, or cannot be read
 * whole to tell: the server that has scapy imported then serves. */
static int names_scapy(int argc, char **argv)
{
	static char text[1 << 20];
	size_t n = 0;
	ssize_t r;
	int fd;

	if (!strcmp(argv[1], "-c"))
		return argc < 3 || strstr(argv[2], "scapy") != NULL;
	if (!strcmp(argv[1], "-"))
		return 1;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	while (n < sizeof(text) - 1 &&
	       (r = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n == sizeof(text) - 1)
		return 1;
	text[n] = '\0';
	return strlen(text) != n || strstr(text, "scapy") != NULL;
}

/* A connected socket to the server at PATH, or -1. */
static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s;

	if (!path || !*path || strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path));
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGALRM };
	const char *path = getenv("PC_PYFORK");
	struct sigaction sa;
	char *buf;
	size_t n;
	long v;
	int s, st;
	const char *ns = getenv("PC_PYFORK_NETNS");

	if (ns && *ns) {
		int fd = open(ns, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
			fprintf(stderr, "pyfork: cannot enter %s: %s\n", ns,
				strerror(errno));
			return 125;
		}
		close(fd);
	}
	unsetenv("PC_PYFORK_NETNS");
	if (!path || !*path || argc < 2)
		exec_python(argc, argv);
	if (argv[1][0] == '-' && strcmp(argv[1], "-") && strcmp(argv[1], "-c"))
		exec_python(argc, argv);
	if (!strcmp(argv[1], "-c") && argc < 3)
		exec_python(argc, argv);
	/* Closed standard descriptors cannot be passed: /dev/null instead. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			exec_python(argc, argv);
	}
	buf = malloc(REQ_MAX);
	if (!buf || build(buf, &n, argc, argv) < 0)
		exec_python(argc, argv);
	s = -1;
	if (!names_scapy(argc, argv))
		s = dial(getenv("PC_PYFORK_LIGHT"));
	if (s < 0)
		s = dial(path);
	if (s < 0 || send_req(s, buf, n) < 0 || reply(s, 'P', &v) < 0 || v <= 0) {
		/* Nothing ran: the plain interpreter does the same job. */
		if (s >= 0)
			close(s);
		exec_python(argc, argv);
	}
	free(buf);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	child = (pid_t)v;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (reply(s, 'S', &v) < 0) {
		fprintf(stderr, "pyfork: the server went away (child %d)\n", (int)child);
		kill(child, SIGKILL);
		return 255;
	}
	st = (int)v;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		sigset_t none;

		signal(WTERMSIG(st), SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		raise(WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return 255;
}
