/*
 * test_capfile: captures as they are stored (pcap-replay/capfile.c): the
 * same bytes out of a plain file and of its gzip, xz and zstd forms
 * (made here with the Debian tools, skipped one by one when a tool is
 * missing), the compression told by its magic bytes and not the name, a
 * gzip file of two members read whole, bzip2 refused with its name, a
 * missing file named; a directory listed in name order without hidden
 * files or subdirectories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capfile.h"

static char dir[64];
static unsigned char data[100000];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Everything capfile_open gives for path; NULL when it refuses. */
static unsigned char *read_all(const char *path, size_t *n, char *err,
			       size_t errlen)
{
	FILE *f = capfile_open(path, err, errlen);
	unsigned char *buf;
	size_t got;

	if (!f)
		return NULL;
	buf = malloc(sizeof(data) * 3);
	assert_non_null(buf);
	*n = 0;
	while ((got = fread(buf + *n, 1, sizeof(data) * 3 - *n, f)) > 0)
		*n += got;
	fclose(f);
	return buf;
}

static int have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void test_compressed(void **state)
{
	static const char *const tools[][2] = {
		{ "gzip", "gzip -c" },
		{ "xz", "xz -c" },
		{ "zstd", "zstd -q -c" },
	};
	char plain[128], cmd[1024], err[256], renamed[128];
	unsigned char *got;
	size_t n;
	FILE *f;

	(void)state;
	path_of(plain, sizeof(plain), "plain.pcap");
	path_of(renamed, sizeof(renamed), "x.renamed");
	f = fopen(plain, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, sizeof(data), f), sizeof(data));
	fclose(f);
	got = read_all(plain, &n, err, sizeof(err));
	assert_non_null(got);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(got, data, n);
	free(got);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (!have(tools[i][0]))
			continue;
		snprintf(cmd, sizeof(cmd), "%s %s > %s", tools[i][1], plain,
			 renamed);
		assert_int_equal(system(cmd), 0);
		/* no telling name: the magic bytes decide */
		got = read_all(renamed, &n, err, sizeof(err));
		assert_non_null(got);
		assert_int_equal(n, sizeof(data));
		assert_memory_equal(got, data, n);
		free(got);
	}
	if (have("gzip")) {
		/* two gzip members, as concatenated rotations are */
		snprintf(cmd, sizeof(cmd), "gzip -c %s > %s; gzip -c %s >> %s",
			 plain, renamed, plain, renamed);
		assert_int_equal(system(cmd), 0);
		got = read_all(renamed, &n, err, sizeof(err));
		assert_non_null(got);
		assert_int_equal(n, 2 * sizeof(data));
		assert_memory_equal(got + sizeof(data), data, sizeof(data));
		free(got);
	}
}

static void test_refused(void **state)
{
	static const unsigned char bz[] = "BZh91AY&SY";
	char p[256], err[256];
	size_t n;
	FILE *f;

	(void)state;
	path_of(p, sizeof(p), "x.bz2");
	f = fopen(p, "wb");
	assert_non_null(f);
	fwrite(bz, 1, sizeof(bz) - 1, f);
	fclose(f);
	assert_null(read_all(p, &n, err, sizeof(err)));
	assert_non_null(strstr(err, "bzip2"));
	path_of(p, sizeof(p), "none.pcap");
	assert_null(read_all(p, &n, err, sizeof(err)));
	assert_true(err[0] != '\0');
}

static void test_list_dir(void **state)
{
	static const char *const files[] = { "b.pcap", "a.pcap", ".hidden",
					     "c.pcap.gz" };
	char p[512], sub[256], **names;
	int n;

	(void)state;
	path_of(sub, sizeof(sub), "d");
	assert_int_equal(mkdir(sub, 0700), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", sub, files[i]);
		f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/subdir", sub);
	assert_int_equal(mkdir(p, 0700), 0);
	n = capfile_list_dir(sub, &names);
	assert_int_equal(n, 3);
	snprintf(p, sizeof(p), "%s/a.pcap", sub);
	assert_string_equal(names[0], p);
	snprintf(p, sizeof(p), "%s/b.pcap", sub);
	assert_string_equal(names[1], p);
	snprintf(p, sizeof(p), "%s/c.pcap.gz", sub);
	assert_string_equal(names[2], p);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	path_of(p, sizeof(p), "no-such-dir");
	assert_int_equal(capfile_list_dir(p, &names), -1);
}

static int setup(void **state)
{
	uint32_t x = 12345;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_capfile.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* compressible but not trivial */
	for (size_t i = 0; i < sizeof(data); i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)((x >> 16) & 0x0f);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_list_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
