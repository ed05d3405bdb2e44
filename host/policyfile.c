/* policyfile: see policyfile.h. */
#include "policyfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filekind.h"

#ifndef PORTCLASS_DATADIR
#define PORTCLASS_DATADIR "/usr/local/share/portclass"
#endif
#ifndef PORTCLASS_SYSCONFDIR
#define PORTCLASS_SYSCONFDIR "/etc"
#endif

static int readable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, R_OK) == 0;
}

const char *policyfile_default(char *buf, size_t len)
{
	static char site[PATH_MAX + 32];
	const char *env = getenv("PORTCLASS_POLICY");
	const char *etc = getenv("PORTCLASS_SYSCONFDIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	snprintf(site, sizeof(site), "%s/portclass/rules.conf",
		 etc && *etc ? etc : PORTCLASS_SYSCONFDIR);
	if (readable(site))
		return site;
	if (readable(PORTCLASS_DATADIR "/default.rules"))
		return PORTCLASS_DATADIR "/default.rules";
	if (readable("contrib/default.rules"))
		return "contrib/default.rules";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && buf && len) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/../contrib/default.rules", exe);
			if (readable(buf))
				return buf;
		}
	}
	return site;
}

int policyfile_misplaced(const char *path, char *msg, size_t msglen)
{
	enum filekind k;

	if (filekind_sniff(path, &k) < 0)
		return 0;
	/* text, and binary garbage too: the parser points at the line */
	if (k != FILEKIND_DIR && !filekind_is_capture(k))
		return 0;
	if (k == FILEKIND_DIR)
		snprintf(msg, msglen, "%s: this is a directory, not a policy",
			 path);
	else
		snprintf(msg, msglen, "%s: this is a %s, not a policy%s", path,
			 filekind_name(k),
			 filekind_is_capture(k) ?
			 " (captures are read with portclass-replay -r)" : "");
	return -1;
}

struct ruleset *policyfile_load(const char *path, const struct ruleset_opts *o,
				char *err, size_t errlen)
{
	struct ruleset *rs;
	int nerr = 0;

	if (policyfile_misplaced(path, err, errlen) < 0)
		return NULL;
	rs = ruleset_load(path, o, &nerr);
	if (!rs) {
		if (nerr)
			snprintf(err, errlen, "%s: %d error%s", path, nerr,
				 nerr == 1 ? "" : "s");
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	return rs;
}
