/* privdrop: see privdrop.h. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t cap_mask(unsigned keep)
{
	uint64_t m = 0;

	if (keep & PRIVDROP_NET_ADMIN)
		m |= 1ull << CAP_NET_ADMIN;
	if (keep & PRIVDROP_SYS_PTRACE)
		m |= 1ull << CAP_SYS_PTRACE;
	if (keep & PRIVDROP_DAC_READ_SEARCH)
		m |= 1ull << CAP_DAC_READ_SEARCH;
	return m;
}

const char *privdrop_describe(unsigned keep, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s%s",
		 keep & PRIVDROP_NET_ADMIN ? "cap_net_admin," : "",
		 keep & PRIVDROP_SYS_PTRACE ? "cap_sys_ptrace," : "",
		 keep & PRIVDROP_DAC_READ_SEARCH ? "cap_dac_read_search," : "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, buflen, "none");
	return buf;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = 40;

	if (f) {
		if (fscanf(f, "%d", &v) != 1 || v < 0 || v > 63)
			v = 40;
		fclose(f);
	}
	return v;
}

/* The permitted (or effective) set now; 0 when it cannot be read. */
static uint64_t caps_now(int effective);

/* The inheritable set now; 0 when it cannot be read. */
static uint64_t caps_inheritable(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	return (uint64_t)data[0].inheritable |
	       ((uint64_t)data[1].inheritable << 32);
}

static uint64_t caps_now(int effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	if (effective)
		return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
}

/* The PRIVDROP_* bits present in a capability mask. */
static unsigned caps_to_keep(uint64_t e)
{
	unsigned out = 0;

	if (e & (1ull << CAP_NET_ADMIN))
		out |= PRIVDROP_NET_ADMIN;
	if (e & (1ull << CAP_SYS_PTRACE))
		out |= PRIVDROP_SYS_PTRACE;
	if (e & (1ull << CAP_DAC_READ_SEARCH))
		out |= PRIVDROP_DAC_READ_SEARCH;
	return out;
}

unsigned privdrop_effective(void)
{
	return caps_to_keep(caps_now(1));
}

static int set_caps(uint64_t m)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)m;
	data[1].effective = data[1].permitted = (uint32_t)(m >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

int privdrop(const char *user, unsigned keep, char *err, size_t errlen)
{
	uint64_t m = cap_mask(keep);
	struct passwd *pw = NULL;
	int c, lc = last_cap();

	if (user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "unknown user %s%s%s", user,
				 errno ? ": " : "", errno ? strerror(errno) : "");
			return -1;
		}
	}
	/* Started without root but with capabilities (systemd User= plus
	 * AmbientCapabilities=): keep only those we have. */
	m &= caps_now(0);
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * we are about to lose.  Without CAP_SETPCAP (not started as root)
	 * the service manager's bounding set is the one that applies. */
	for (c = 0; c <= lc; c++) {
		if (m & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			if (errno == EPERM)
				break;
			snprintf(err, errlen, "PR_CAPBSET_DROP %d: %s", c,
				 strerror(errno));
			return -1;
		}
	}
	if (pw) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			snprintf(err, errlen, "PR_SET_KEEPCAPS: %s", strerror(errno));
			return -1;
		}
		if (setgroups(1, &pw->pw_gid) < 0) {
			snprintf(err, errlen, "setgroups: %s", strerror(errno));
			return -1;
		}
		if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0) {
			snprintf(err, errlen, "setresgid %u: %s",
				 (unsigned)pw->pw_gid, strerror(errno));
			return -1;
		}
		if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
			snprintf(err, errlen, "setresuid %u: %s",
				 (unsigned)pw->pw_uid, strerror(errno));
			return -1;
		}
	}
	/* After setresuid with KEEPCAPS the permitted set survives and the
	 * effective set is empty: restore just the ones we keep.  The
	 * ambient set goes first (clearing it needs no privilege), then
	 * capset empties the inheritable set: a service manager that
	 * grants ambient capabilities must fill it, and nothing this daemon
	 * runs may inherit anything.  Nothing to change at all: no capset. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if ((pw || caps_now(0) != m || caps_now(1) != m ||
	     caps_inheritable() != 0) && set_caps(m) < 0) {
		snprintf(err, errlen, "capset (to keep %s and clear the "
			 "inheritable set): %s", pw ? "only what is needed" :
			 "the capabilities given", strerror(errno));
		return -1;
	}
	if (caps_inheritable() != 0) {
		snprintf(err, errlen, "inheritable capabilities remain");
		return -1;
	}
	if (pw)
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* A drop that can be undone is no drop. */
	if (pw && pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "could regain root after dropping to %s",
			 user);
		return -1;
	}
	return 0;
}
