/*
 * test_range: port and range parsing (table-driven, with messages), port
 * lists, and the host's ranges read from a fake procroot.
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

#include "range.h"

/*
 * One case per line: "input;ok;lo;hi" or "input;fail;message".  The
 * input may not contain ';'.
 */
static const char *const parse_cases[] = {
	"0;ok;0;0",
	"1;ok;1;1",
	"65535;ok;65535;65535",
	"80;ok;80;80",
	"0-65535;ok;0;65535",
	"49152-65535;ok;49152;65535",
	"60000-60000;ok;60000;60000",
	"007;ok;7;7",
	"1-2;ok;1;2",
	"65536;fail;port 65536 out of range (0-65535)",
	"70000;fail;port 70000 out of range (0-65535)",
	"1-70000;fail;port 70000 out of range (0-65535)",
	"99999999999999999999999;fail;port 99999999999999999999999 out of range (0-65535)",
	"9-3;fail;range 9-3: low end above high end",
	"65535-0;fail;range 65535-0: low end above high end",
	";fail;missing port number",
	"-5;fail;invalid port '-5'",
	"+5;fail;invalid port '+5'",
	" 5;fail;invalid port ' 5'",
	"5 ;fail;unexpected ' ' after port",
	"5-;fail;missing port number",
	"5--6;fail;invalid port '-6'",
	"-;fail;invalid port '-'",
	"5-6-7;fail;unexpected '-7' after port",
	"0x50;fail;unexpected 'x50' after port",
	"abc;fail;invalid port 'abc'",
	"80,443;fail;unexpected ',' after port",
	"80x,443;fail;unexpected 'x' after port",
	"1-2 and a very long tail that goes on and on and on;fail;unexpected ' and a very long tail that goes ' after port",
	"1.5;fail;unexpected '.5' after port",
};

static void split(const char *line, char *in, char *res, char *rest)
{
	const char *a = strchr(line, ';');
	const char *b;

	assert_non_null(a);
	b = strchr(a + 1, ';');
	assert_non_null(b);
	memcpy(in, line, (size_t)(a - line));
	in[a - line] = '\0';
	memcpy(res, a + 1, (size_t)(b - a - 1));
	res[b - a - 1] = '\0';
	strcpy(rest, b + 1);
}

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		char in[128], res[8], rest[128], err[128] = "";
		struct port_range r = { 1234, 1234 };
		int rc;

		split(parse_cases[i], in, res, rest);
		rc = range_parse(in, &r, err, sizeof(err));
		if (strcmp(res, "ok") == 0) {
			unsigned lo, hi;

			assert_int_equal(sscanf(rest, "%u;%u", &lo, &hi), 2);
			if (rc != 0)
				fail_msg("'%s': unexpected error '%s'", in, err);
			assert_int_equal(r.lo, lo);
			assert_int_equal(r.hi, hi);
		} else {
			if (rc != -1)
				fail_msg("'%s': parsed as %u-%u", in, r.lo,
					 r.hi);
			if (strcmp(err, rest) != 0)
				fail_msg("'%s': message '%s', want '%s'", in,
					 err, rest);
			/* output untouched on failure */
			assert_int_equal(r.lo, 1234);
			assert_int_equal(r.hi, 1234);
		}
	}
}

static void test_parse_misc(void **state)
{
	struct port_range r;
	char err[16];

	(void)state;
	assert_int_equal(range_parse(NULL, &r, err, sizeof(err)), -1);
	/* a short error buffer truncates, never overflows */
	assert_int_equal(range_parse("70000", &r, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(range_parse("1-65535", &r, err, sizeof(err)), 0);
	assert_int_equal(r.lo, 1);
}

static int port_count(const struct port_set *s)
{
	int n = 0;

	for (uint32_t p = 0; p <= 65535; p++)
		n += port_set_has(s, (uint16_t)p);
	return n;
}

static void test_port_set(void **state)
{
	static struct port_set s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(port_count(&s), 0);
	port_set_add_range(&s, 63, 64);
	assert_false(port_set_has(&s, 62));
	assert_true(port_set_has(&s, 63));
	assert_true(port_set_has(&s, 64));
	assert_false(port_set_has(&s, 65));
	port_set_add_range(&s, 65535, 65535);
	assert_true(port_set_has(&s, 65535));
	port_set_add_range(&s, 0, 0);
	assert_true(port_set_has(&s, 0));
	assert_int_equal(port_count(&s), 4);
	/* the whole space terminates (no 16-bit wrap) */
	port_set_add_range(&s, 0, 65535);
	assert_int_equal(port_count(&s), 65536);
}

static void test_parse_list(void **state)
{
	static struct port_set s;
	char err[128];

	(void)state;
	assert_int_equal(range_parse_list("", &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 0);
	assert_int_equal(range_parse_list("\n", &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 0);

	assert_int_equal(range_parse_list("8080,50000-50010\n", &s, err,
					  sizeof(err)), 0);
	assert_int_equal(port_count(&s), 12);
	assert_true(port_set_has(&s, 8080));
	assert_false(port_set_has(&s, 8081));
	assert_false(port_set_has(&s, 49999));
	assert_true(port_set_has(&s, 50000));
	assert_true(port_set_has(&s, 50010));
	assert_false(port_set_has(&s, 50011));

	assert_int_equal(range_parse_list("1, 2 ,3", &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 3);
	assert_int_equal(range_parse_list("0-65535", &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 65536);
	/* overlapping entries */
	assert_int_equal(range_parse_list("10-20,15-25,20", &s, err,
					  sizeof(err)), 0);
	assert_int_equal(port_count(&s), 16);

	/* errors leave the set as it was */
	assert_int_equal(range_parse_list("1,70000", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "port 70000 out of range (0-65535)");
	assert_int_equal(port_count(&s), 16);
	assert_int_equal(range_parse_list("9-3", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "range 9-3: low end above high end");
	assert_int_equal(range_parse_list("1,", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "missing port after ','");
	assert_int_equal(range_parse_list("1,,2", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid port ','");
	assert_int_equal(range_parse_list(",1", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid port ','");
	assert_int_equal(range_parse_list("1,x2,3", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid port 'x2'");
	assert_int_equal(range_parse_list("1 2", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected '2' in port list");
	assert_int_equal(range_parse_list("1;2", &s, err, sizeof(err)), -1);
	assert_int_equal(port_count(&s), 16);
}

/* ---- host files under a temporary procroot ---------------------------- */

struct fake_proc {
	char root[64];
	char dir[128];
};

static int setup_proc(void **state)
{
	struct fake_proc *fp = calloc(1, sizeof(*fp));
	char sub[160];

	if (!fp)
		return -1;
	strcpy(fp->root, "/tmp/pc-range-XXXXXX");
	if (!mkdtemp(fp->root))
		return -1;
	snprintf(sub, sizeof(sub), "%s/sys", fp->root);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/sys/net", fp->root);
	mkdir(sub, 0700);
	snprintf(fp->dir, sizeof(fp->dir), "%s/sys/net/ipv4", fp->root);
	if (mkdir(fp->dir, 0700) < 0)
		return -1;
	*state = fp;
	return 0;
}

static void rm_file(struct fake_proc *fp, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fp->dir, name);
	unlink(path);
}

static int teardown_proc(void **state)
{
	struct fake_proc *fp = *state;
	char path[256];

	rm_file(fp, "ip_local_port_range");
	rm_file(fp, "ip_local_reserved_ports");
	rmdir(fp->dir);
	snprintf(path, sizeof(path), "%s/sys/net", fp->root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", fp->root);
	rmdir(path);
	rmdir(fp->root);
	free(fp);
	return 0;
}

static void write_file(struct fake_proc *fp, const char *name,
		       const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fp->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_host_range(void **state)
{
	struct fake_proc *fp = *state;
	static const struct {
		const char *text;
		int ok;
		uint16_t lo, hi;
		const char *msg; /* expected end of the error */
	} cases[] = {
		{ "32768\t60999\n", 1, 32768, 60999, NULL },
		{ "1024 65535", 1, 1024, 65535, NULL },
		{ "  50000 \t 50000 \n\n", 1, 50000, 50000, NULL },
		{ "", 0, 0, 0, "missing port number" },
		{ "\n", 0, 0, 0, "missing port number" },
		{ "32768\n", 0, 0, 0, "missing port number" },
		{ "32768", 0, 0, 0, "expected two port numbers" },
		{ "32768 60999 7", 0, 0, 0, "expected two port numbers" },
		{ "32768-60999", 0, 0, 0, "expected two port numbers" },
		{ "60999 32768", 0, 0, 0,
		  "range 60999-32768: low end above high end" },
		{ "1 70000", 0, 0, 0, "port 70000 out of range (0-65535)" },
		{ "garbage", 0, 0, 0, "invalid port 'garbage'" },
		{ "garbage\nmore\n", 0, 0, 0, "invalid port 'garbage'" },
		{ "-1 5", 0, 0, 0, "invalid port '-1 5'" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct port_range r = { 7, 7 };
		int rc;

		write_file(fp, "ip_local_port_range", cases[i].text);
		err[0] = '\0';
		rc = range_host(fp->root, &r, err, sizeof(err));
		if (cases[i].ok) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].text, err);
			assert_int_equal(r.lo, cases[i].lo);
			assert_int_equal(r.hi, cases[i].hi);
		} else {
			size_t el = strlen(err), ml = strlen(cases[i].msg);

			if (rc != -1)
				fail_msg("'%s' accepted", cases[i].text);
			assert_int_equal(r.lo, 7);
			/* names the file, ends with the reason */
			assert_non_null(strstr(err, "ip_local_port_range"));
			if (el < ml ||
			    strcmp(err + el - ml, cases[i].msg) != 0)
				fail_msg("'%s': message '%s', want ...'%s'",
					 cases[i].text, err, cases[i].msg);
		}
	}
}

static void test_host_range_missing(void **state)
{
	struct fake_proc *fp = *state;
	struct port_range r;
	char err[512];

	rm_file(fp, "ip_local_port_range");
	assert_int_equal(range_host(fp->root, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ip_local_port_range"));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(range_host("/nonexistent-procroot", &r, err,
				    sizeof(err)), -1);
	/* a directory where the file should be */
	assert_int_equal(range_host(fp->dir, &r, err, sizeof(err)), -1);
}

static void test_host_range_real(void **state)
{
	struct port_range r;
	char err[512];

	(void)state;
	/* where /proc has the file (any Linux), it parses */
	if (access("/proc/sys/net/ipv4/ip_local_port_range", R_OK) != 0)
		skip();
	assert_int_equal(range_host(NULL, &r, err, sizeof(err)), 0);
	assert_true(r.lo <= r.hi);
	assert_int_equal(range_host("/proc", &r, err, sizeof(err)), 0);
}

static void test_host_reserved(void **state)
{
	struct fake_proc *fp = *state;
	static struct port_set s;
	char err[512];

	write_file(fp, "ip_local_reserved_ports", "\n");
	assert_int_equal(range_host_reserved(fp->root, &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 0);

	write_file(fp, "ip_local_reserved_ports", "8080,50000-50010\n");
	assert_int_equal(range_host_reserved(fp->root, &s, err, sizeof(err)), 0);
	assert_int_equal(port_count(&s), 12);
	assert_true(port_set_has(&s, 50005));

	write_file(fp, "ip_local_reserved_ports", "8080,oops\n");
	assert_int_equal(range_host_reserved(fp->root, &s, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "ip_local_reserved_ports"));
	assert_non_null(strstr(err, "invalid port 'oops"));
	assert_int_equal(port_count(&s), 12);

	rm_file(fp, "ip_local_reserved_ports");
	assert_int_equal(range_host_reserved(fp->root, &s, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "No such file or directory"));

	/* the longest list the kernel can print: every other port alone */
	{
		size_t cap = 65536 * 7, len = 0;
		char *big = malloc(cap);

		assert_non_null(big);
		for (uint32_t p = 0; p <= 65535; p += 2)
			len += (size_t)snprintf(big + len, cap - len, "%s%u",
						p ? "," : "", p);
		big[len++] = '\n';
		big[len] = '\0';
		write_file(fp, "ip_local_reserved_ports", big);
		free(big);
		assert_int_equal(range_host_reserved(fp->root, &s, err,
						     sizeof(err)), 0);
		assert_int_equal(port_count(&s), 32768);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_misc),
		cmocka_unit_test(test_port_set),
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test_setup_teardown(test_host_range, setup_proc,
						teardown_proc),
		cmocka_unit_test_setup_teardown(test_host_range_missing,
						setup_proc, teardown_proc),
		cmocka_unit_test(test_host_range_real),
		cmocka_unit_test_setup_teardown(test_host_reserved, setup_proc,
						teardown_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
