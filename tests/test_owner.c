/*
 * test_owner: socket owners from a fake /proc tree built in a temporary
 * directory (fd symlinks "socket:[N]", comm, exe, status, cgroup), and the
 * systemd unit picked out of cgroup files, one case per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"
#include "owner.h"

/* ---- cgroup -> unit, table-driven: "cgroup text;unit" or ";fail" ---- */

struct unit_case {
	const char *text;
	const char *unit; /* NULL: no unit */
};

static const struct unit_case unit_cases[] = {
	{ "0::/system.slice/ssh.service\n", "ssh.service" },
	{ "0::/system.slice/ssh.service", "ssh.service" },
	{ "0::/system.slice/nginx.service/worker\n", "nginx.service" },
	{ "0::/system.slice/docker-0123abcd.scope\n", "docker-0123abcd.scope" },
	{ "0::/system.slice/systemd-journald.socket\n",
	  "systemd-journald.socket" },
	{ "0::/system.slice/home.mount\n", "home.mount" },
	{ "0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope" },
	{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "app-org.gnome.Terminal.slice/vte-spawn-1234.scope\n",
	  "vte-spawn-1234.scope" },
	{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "syncthing.service\n", "syncthing.service" },
	{ "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n",
	  "user@1000.service" },
	{ "0::/init.scope\n", "init.scope" },
	/* systemd's escape for names that clash with cgroupfs files */
	{ "0::/system.slice/_cgroup.service\n", "cgroup.service" },
	/* cgroup v1: the name=systemd hierarchy wins over the others */
	{ "12:cpu,cpuacct:/system.slice/wrong.service\n"
	  "1:name=systemd:/system.slice/right.service\n"
	  "0::/system.slice/unified.service\n", "right.service" },
	{ "1:name=systemd:/system.slice/v1.service\n", "v1.service" },
	/* hybrid without name=systemd: the unified line */
	{ "4:memory:/system.slice/mem.service\n0::/system.slice/u.service\n",
	  "u.service" },
	/* the path may itself contain ':' */
	{ "0::/system.slice/a:b.service\n", "a:b.service" },
	{ "0::/\n", NULL },
	{ "0::/system.slice\n", NULL },
	{ "0::/user.slice/user-1000.slice\n", NULL },
	{ "0::/docker/0123456789abcdef\n", NULL },
	{ "0::/system.slice/.service\n", NULL },
	{ "4:memory:/system.slice/mem.service\n", NULL },
	{ "1::/system.slice/notunified.service\n", NULL },
	{ "", NULL },
	{ "garbage", NULL },
	{ "::::\n\n\n", NULL },
	{ "0:", NULL },
	{ "0::", NULL },
	/* a name longer than the 128-byte field: dropped, not cut */
	{ "0::/system.slice/"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".service\n", NULL },
};

static void test_unit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(unit_cases) / sizeof(unit_cases[0]);
	     i++) {
		const struct unit_case *c = &unit_cases[i];
		size_t len = strlen(c->text);
		/* exact-size heap copy, no terminator: reads past the end
		 * show up under the sanitizer */
		char *copy = malloc(len ? len : 1);
		char out[LISTENER_NAME_MAX * 2];
		int r;

		assert_non_null(copy);
		memcpy(copy, c->text, len);
		memset(out, 'x', sizeof(out));
		r = owner_unit_from_cgroup(copy, len, out, sizeof(out));
		free(copy);
		if (c->unit) {
			if (r != 0 || strcmp(out, c->unit) != 0)
				fail_msg("case %zu \"%s\": got %d \"%s\", want "
					 "\"%s\"", i, c->text, r, out, c->unit);
		} else {
			if (r != -1 || out[0] != '\0')
				fail_msg("case %zu \"%s\": got %d \"%s\", want "
					 "none", i, c->text, r, out);
		}
	}
}

static void test_unit_edge(void **state)
{
	char out[16];
	const char nul[] = "0::/system.slice/a\0b.service\n";

	(void)state;
	/* an embedded NUL cannot be part of a name */
	assert_int_equal(owner_unit_from_cgroup(nul, sizeof(nul) - 1, out,
						sizeof(out)), -1);
	assert_string_equal(out, "");
	/* too small an output buffer: no truncated name */
	assert_int_equal(owner_unit_from_cgroup("0::/x/ssh.service", 17, out,
						8), -1);
	assert_string_equal(out, "");
	assert_int_equal(owner_unit_from_cgroup("0::/x/ssh.service", 17, out,
						12), 0);
	assert_string_equal(out, "ssh.service");
	assert_int_equal(owner_unit_from_cgroup(NULL, 0, out, sizeof(out)), -1);
	/* length bounds the text, not the terminator */
	assert_int_equal(owner_unit_from_cgroup("0::/x/ssh.service", 9, out,
						sizeof(out)), -1);
}

/* Random bytes, lengths and separators: never a crash, and a unit found
 * is always a whole path component with a unit suffix. */
static void test_unit_random(void **state)
{
	static const char alphabet[] = "0:/:/.servicescope_@\n\001ab";
	uint32_t x = 0xdecafbad;
	char out[LISTENER_NAME_MAX * 2];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		x = x * 1103515245u + 12345u;
		size_t len = (x >> 16) % 200;
		char *text = malloc(len ? len : 1);
		assert_non_null(text);
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			text[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		int r = owner_unit_from_cgroup(text, len, out, sizeof(out));
		free(text);
		if (r == 0) {
			size_t n = strlen(out);
			assert_true(n > 0 && n < sizeof(out));
			assert_null(strchr(out, '/'));
			assert_null(strchr(out, '\n'));
			assert_true(strchr(out, '.') != NULL);
		} else {
			assert_int_equal(r, -1);
			assert_string_equal(out, "");
		}
	}
}

/* ---- fake /proc tree ---- */

struct tree {
	char root[64];
};

/* root/rel into p, which must hold it. */
static void path_of(char *p, size_t cap, const char *root, const char *rel)
{
	int n = snprintf(p, cap, "%s/%s", root, rel);

	assert_true(n > 0 && (size_t)n < cap);
}

static void put_file(const char *root, const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, sizeof(p), root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void put_dir(const char *root, const char *rel)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void put_link(const char *root, const char *rel, const char *target)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void rm_tree(const char *root)
{
	char cmd[PATH_MAX + 16];

	/* mkdtemp paths hold no shell metacharacters */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char longexe[LISTENER_PATH_MAX + 32];

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/pc-owner-XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	/* pid 100: a complete process, nc holding socket 123 on fd 3 */
	put_dir(t->root, "100");
	put_dir(t->root, "100/fd");
	put_link(t->root, "100/fd/0", "/dev/null");
	put_link(t->root, "100/fd/1", "pipe:[77]");
	put_link(t->root, "100/fd/2", "socket:[12]");
	put_link(t->root, "100/fd/3", "socket:[123]");
	put_file(t->root, "100/comm", "nc\n");
	put_link(t->root, "100/exe", "/usr/bin/nc.openbsd");
	put_file(t->root, "100/status",
		 "Name:\tnc\nUmask:\t0022\nState:\tS (sleeping)\n"
		 "Uid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
	put_file(t->root, "100/cgroup", "0::/system.slice/ssh.service\n");

	/* pid 200: socket 456, and every other file missing or garbage */
	put_dir(t->root, "200");
	put_dir(t->root, "200/fd");
	put_link(t->root, "200/fd/7", "socket:[456]");
	put_file(t->root, "200/status", "Uid:\tnonsense\n");
	put_file(t->root, "200/cgroup", "\x01\x02garbage:::\n\xff");
	memset(longexe, 'a', sizeof(longexe) - 1);
	longexe[0] = '/';
	longexe[sizeof(longexe) - 1] = '\0';
	put_link(t->root, "200/exe", longexe);

	/* pid 300: a 15-byte comm with no newline, odd fds */
	put_dir(t->root, "300");
	put_dir(t->root, "300/fd");
	put_link(t->root, "300/fd/4", "socket:[789]");
	put_file(t->root, "300/fd/5", "a regular file, not a link");
	put_dir(t->root, "300/fd/6");
	put_file(t->root, "300/comm", "abcdefghijklmno");
	put_file(t->root, "300/status", "Uid:\t0\t0\t0\t0\n");
	put_file(t->root, "300/cgroup",
		 "0::/user.slice/user-0.slice/user@0.service/init.scope\n");

	/* near misses that must never match socket 999 or 123 */
	put_dir(t->root, "400");
	put_dir(t->root, "400/fd");
	put_link(t->root, "400/fd/1", "socket:[999");
	put_link(t->root, "400/fd/2", "socket:999]");
	put_link(t->root, "400/fd/3", "socket:[]");
	put_link(t->root, "400/fd/4", "socket:[99a]");
	put_link(t->root, "400/fd/5", "socket:[+999]");
	put_link(t->root, "400/fd/6", "socket:[99999999999999999999999999]");
	put_link(t->root, "400/fd/7", "anon_inode:[999]");
	put_link(t->root, "400/fd/8", "socket:[0999]x");
	put_file(t->root, "400/comm", "decoy\n");

	/* entries that are not processes */
	put_dir(t->root, "sys");
	put_file(t->root, "uptime", "1.0 1.0\n");
	put_link(t->root, "self", "100");
	put_dir(t->root, "0");
	put_dir(t->root, "0/fd");
	put_link(t->root, "0/fd/1", "socket:[999]");
	put_dir(t->root, "99999999999");
	put_dir(t->root, "99999999999/fd");
	put_link(t->root, "99999999999/fd/1", "socket:[999]");
	put_dir(t->root, "12ab");
	put_dir(t->root, "12ab/fd");
	put_link(t->root, "12ab/fd/1", "socket:[999]");
	/* a process whose fd is a file, not a directory */
	put_dir(t->root, "500");
	put_file(t->root, "500/fd", "not a directory");
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	rm_tree(t->root);
	free(t);
	return 0;
}

static struct listener mk(uint64_t inode, uint32_t uid)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = 2;
	l.family = 4;
	l.port = 60314;
	l.inode = inode;
	l.uid = uid;
	l.owner.pid = -1;
	return l;
}

static void expect_user(uint32_t uid, const char *got)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	char num[16];

	if (pw) {
		assert_string_equal(got, pw->pw_name);
	} else {
		snprintf(num, sizeof(num), "%" PRIu32, uid);
		assert_string_equal(got, num);
	}
}

static void test_resolve_complete(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(123, 4242);

	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner_state, 1);
	assert_int_equal(l.owner.pid, 100);
	assert_string_equal(l.owner.program, "nc");
	assert_string_equal(l.owner.exe, "/usr/bin/nc.openbsd");
	/* the effective uid (second field), not the socket's */
	assert_int_equal(l.owner.has_uid, 1);
	assert_int_equal(l.owner.uid, 0);
	expect_user(0, l.owner.user);
	assert_string_equal(l.owner.unit, "ssh.service");
}

static void test_resolve_garbage(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(456, 3999999);

	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 200);
	assert_string_equal(l.owner.program, ""); /* no comm */
	assert_string_equal(l.owner.exe, "");	  /* too long: dropped */
	assert_int_equal(l.owner.uid, 3999999);	  /* status unparsable */
	expect_user(3999999, l.owner.user);
	assert_string_equal(l.owner.unit, "");
}

static void test_resolve_comm_and_init_scope(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(789, 0);

	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 300);
	assert_string_equal(l.owner.program, "abcdefghijklmno");
	assert_string_equal(l.owner.exe, "");
	assert_string_equal(l.owner.unit, "user@0.service");
}

static void test_resolve_near_misses(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(999, 0);

	assert_int_equal(owner_resolve(t->root, &l), -1);
	assert_int_equal(l.owner_state, -1);
	assert_int_equal(l.owner.pid, -1);
	assert_string_equal(l.owner.program, "");

	l = mk(0, 0);
	assert_int_equal(owner_resolve(t->root, &l), -1);
	l = mk(77, 0); /* a pipe's inode is no socket */
	assert_int_equal(owner_resolve(t->root, &l), -1);
}

static void test_resolve_no_proc(void **state)
{
	struct listener l = mk(123, 0);

	(void)state;
	assert_int_equal(owner_resolve("/nonexistent/proc-root", &l), -1);
	assert_int_equal(l.owner_state, -1);
	assert_int_equal(owner_fill_pid("/nonexistent/proc-root", 1, 0,
					&l.owner), -1);
	assert_int_equal(l.owner.pid, -1);
}

static void test_fill_pid(void **state)
{
	struct tree *t = *state;
	struct listener_owner o;

	assert_int_equal(owner_fill_pid(t->root, 100, 7, &o), 0);
	assert_int_equal(o.pid, 100);
	assert_string_equal(o.program, "nc");
	assert_int_equal(owner_fill_pid(t->root, 101, 7, &o), -1);
	assert_int_equal(o.pid, -1);
	assert_int_equal(owner_fill_pid(t->root, 0, 7, &o), -1);
	assert_int_equal(owner_fill_pid(t->root, -5, 7, &o), -1);
}

static void test_resolve_table(void **state)
{
	struct tree *t = *state;
	struct listener_table *tab = listener_table_new();
	struct listener l;
	int seen100 = 0, seen200 = 0, seen300 = 0, unknown = 0;

	assert_non_null(tab);
	l = mk(456, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	l = mk(999, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	l = mk(123, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	l = mk(123, 0); /* the same socket listed twice */
	l.family = 6;
	assert_int_equal(listener_table_add(tab, &l), 0);
	l = mk(789, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	l = mk(0, 0); /* no inode (offline): never looked up */
	assert_int_equal(listener_table_add(tab, &l), 0);

	assert_int_equal(owner_resolve_table(t->root, tab), 4);
	for (size_t i = 0; i < listener_table_count(tab); i++) {
		struct listener *e = listener_table_at(tab, i);
		if (e->owner_state == 1) {
			if (e->inode == 123) {
				assert_int_equal(e->owner.pid, 100);
				assert_string_equal(e->owner.program, "nc");
				seen100++;
			} else if (e->inode == 456) {
				assert_int_equal(e->owner.pid, 200);
				seen200++;
			} else if (e->inode == 789) {
				assert_int_equal(e->owner.pid, 300);
				seen300++;
			} else {
				fail_msg("inode %" PRIu64 " resolved", e->inode);
			}
		} else {
			assert_int_equal(e->owner_state, -1);
			assert_int_equal(e->owner.pid, -1);
			assert_true(e->inode == 999 || e->inode == 0);
			unknown++;
		}
	}
	assert_int_equal(seen100, 2);
	assert_int_equal(seen200, 1);
	assert_int_equal(seen300, 1);
	assert_int_equal(unknown, 2);
	/* a second pass has nothing left to do */
	assert_int_equal(owner_resolve_table(t->root, tab), 0);
	/* the table's own resolver path gives the same owner */
	listener_table_clear(tab);
	l = mk(123, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	listener_table_set_resolver(tab, owner_resolve, t->root);
	const struct listener_owner *o =
		listener_owner(tab, listener_table_at(tab, 0));
	assert_non_null(o);
	assert_int_equal(o->pid, 100);
	assert_string_equal(o->unit, "ssh.service");
	listener_table_free(tab);

	/* an unreadable root is an error, not "nobody" */
	tab = listener_table_new();
	assert_non_null(tab);
	l = mk(123, 0);
	assert_int_equal(listener_table_add(tab, &l), 0);
	assert_int_equal(owner_resolve_table("/nonexistent/proc-root", tab), -1);
	listener_table_free(tab);
}

/* Two processes hold one socket (a pre-forked server): either is a
 * correct answer, but the owner must be consistent with that pid. */
static void test_shared_socket(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(5555, 0);

	put_dir(t->root, "600");
	put_dir(t->root, "600/fd");
	put_link(t->root, "600/fd/3", "socket:[5555]");
	put_file(t->root, "600/comm", "parent\n");
	put_dir(t->root, "601");
	put_dir(t->root, "601/fd");
	put_link(t->root, "601/fd/3", "socket:[5555]");
	put_file(t->root, "601/comm", "child\n");
	assert_int_equal(owner_resolve(t->root, &l), 0);
	if (l.owner.pid == 600)
		assert_string_equal(l.owner.program, "parent");
	else if (l.owner.pid == 601)
		assert_string_equal(l.owner.program, "child");
	else
		fail_msg("pid %d", (int)l.owner.pid);
}

/* A socket that moved (fd closed, now held by another process) is found
 * where it is now, whatever was remembered about where it was. */
static void test_moved_socket(void **state)
{
	struct tree *t = *state;
	struct listener l = mk(4444, 0);
	char p[PATH_MAX];

	put_dir(t->root, "700");
	put_dir(t->root, "700/fd");
	put_link(t->root, "700/fd/5", "socket:[4444]");
	put_file(t->root, "700/comm", "first\n");
	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 700);
	/* again: the same answer */
	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 700);

	/* fd 5 now refers to something else; pid 701 holds the socket */
	path_of(p, sizeof(p), t->root, "700/fd/5");
	assert_int_equal(unlink(p), 0);
	put_link(t->root, "700/fd/5", "socket:[4445]");
	put_dir(t->root, "701");
	put_dir(t->root, "701/fd");
	put_link(t->root, "701/fd/9", "socket:[4444]");
	put_file(t->root, "701/comm", "second\n");
	l = mk(4444, 0);
	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 701);
	assert_string_equal(l.owner.program, "second");

	/* and once nobody holds it, nobody is named */
	path_of(p, sizeof(p), t->root, "701/fd/9");
	assert_int_equal(unlink(p), 0);
	l = mk(4444, 0);
	assert_int_equal(owner_resolve(t->root, &l), -1);
	assert_int_equal(l.owner.pid, -1);

	/* the same inode under another root is looked up there */
	l = mk(4445, 0);
	assert_int_equal(owner_resolve(t->root, &l), 0);
	assert_int_equal(l.owner.pid, 700);
	l = mk(4445, 0);
	assert_int_equal(owner_resolve("/nonexistent/proc-root", &l), -1);
}

/* The real /proc: this process owns a socket it just opened. */
static void test_real_proc(void **state)
{
	char comm[64] = "";
	struct listener l;
	struct stat st;
	int fd = -1, cfd;
	ssize_t n;

	(void)state;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	cfd = open("/proc/self/comm", O_RDONLY);
	assert_true(cfd >= 0);
	n = read(cfd, comm, sizeof(comm) - 1);
	close(cfd);
	assert_true(n > 0);
	comm[n - 1] = '\0';

	l = mk((uint64_t)st.st_ino, (uint32_t)getuid());
	assert_int_equal(owner_resolve(NULL, &l), 0);
	assert_int_equal(l.owner.pid, getpid());
	assert_string_equal(l.owner.program, comm);
	assert_int_equal(l.owner.uid, geteuid());
	assert_true(l.owner.exe[0] == '/');
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_table),
		cmocka_unit_test(test_unit_edge),
		cmocka_unit_test(test_unit_random),
		cmocka_unit_test(test_resolve_complete),
		cmocka_unit_test(test_resolve_garbage),
		cmocka_unit_test(test_resolve_comm_and_init_scope),
		cmocka_unit_test(test_resolve_near_misses),
		cmocka_unit_test(test_resolve_no_proc),
		cmocka_unit_test(test_fill_pid),
		cmocka_unit_test(test_resolve_table),
		cmocka_unit_test(test_shared_socket),
		cmocka_unit_test(test_moved_socket),
		cmocka_unit_test(test_real_proc),
	};

	return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
