/*
 * test_merge: adding up replay summaries (pcap-replay/merge.c): counters
 * and maps of counters add up, listeners merge by key with the earliest
 * first answer and a recomputed policy, files are listed by name, the
 * order of the parts does not matter, a merge's output merges again, and
 * what cannot add up (another policy, another shape, bad JSON, something
 * that is not a summary) is refused with its name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "merge.h"

#define A "{\"type\":\"summary\",\"rules\":\"p.rules\",\"frames\":10," \
	"\"files\":[{\"file\":\"b.pcap\",\"frames\":10}]," \
	"\"verdicts\":{\"pass\":8,\"drop\":2},\"truncated\":{}," \
	"\"differences\":null," \
	"\"listeners_seen\":[{\"proto\":\"tcp\",\"addr\":\"192.0.2.1\"," \
	"\"port\":60314,\"policy\":\"unexpected\",\"answers\":1," \
	"\"expected\":0,\"undetermined\":0," \
	"\"first\":\"2026-11-27T13:00:05.000000Z\",\"pid\":7}]}"
#define B "{\"type\":\"summary\",\"rules\":\"p.rules\",\"frames\":5," \
	"\"files\":[{\"file\":\"a.pcap\",\"frames\":5}]," \
	"\"verdicts\":{\"pass\":5,\"drop\":0}," \
	"\"truncated\":{\"truncated-tcp\":1},\"differences\":null," \
	"\"listeners_seen\":[{\"proto\":\"tcp\",\"addr\":\"192.0.2.1\"," \
	"\"port\":60314,\"policy\":\"expected\",\"answers\":2," \
	"\"expected\":2,\"undetermined\":0," \
	"\"first\":\"2026-11-27T13:00:01.000000Z\",\"pid\":9}," \
	"{\"proto\":\"udp\",\"addr\":\"192.0.2.1\",\"port\":60001," \
	"\"policy\":\"expected\",\"answers\":1,\"expected\":1," \
	"\"undetermined\":0,\"first\":\"2026-11-27T13:00:02.000000Z\"," \
	"\"pid\":null}]}"

/* The merge of the given texts, as one line (caller frees), or NULL
 * with the error in err. */
static char *merge_of(const char *const *texts, size_t n, char *err,
		      size_t errlen)
{
	struct merge *m = merge_new();
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(m);
	for (size_t i = 0; i < n; i++) {
		if (merge_add(m, "part", texts[i], strlen(texts[i]), err,
			      errlen) < 0) {
			merge_free(m);
			return NULL;
		}
	}
	f = open_memstream(&out, &len);
	assert_non_null(f);
	if (merge_write(m, f, err, errlen) < 0) {
		fclose(f);
		free(out);
		merge_free(m);
		return NULL;
	}
	fclose(f);
	merge_free(m);
	return out;
}

static void test_adds_up(void **state)
{
	const char *ab[] = { A, B };
	char err[256] = "", *s;

	(void)state;
	s = merge_of(ab, 2, err, sizeof(err));
	assert_non_null(s);
	/* counters, maps of counters, a key only one part had */
	assert_non_null(strstr(s, "\"frames\":15,"));
	assert_non_null(strstr(s, "\"verdicts\":{\"pass\":13,\"drop\":2}"));
	assert_non_null(strstr(s, "\"truncated\":{\"truncated-tcp\":1}"));
	assert_non_null(strstr(s, "\"differences\":null"));
	/* files by name */
	assert_true(strstr(s, "a.pcap") < strstr(s, "b.pcap"));
	/* one tcp listener: answers added, the earlier part's owner, the
	 * policy recomputed (2 of 3 expected: mixed); the udp one kept */
	assert_non_null(strstr(s, "\"port\":60314,\"policy\":\"mixed\","
				  "\"answers\":3,\"expected\":2"));
	assert_non_null(strstr(s, "\"first\":\"2026-11-27T13:00:01.000000Z\","
				  "\"pid\":9"));
	assert_non_null(strstr(s, "\"port\":60001"));
	assert_null(strstr(s, "\"pid\":7"));
	free(s);
}

static void test_order_and_again(void **state)
{
	const char *ab[] = { A, B }, *ba[] = { B, A };
	char err[256] = "", *x, *y, *z;
	const char *xa[2];

	(void)state;
	x = merge_of(ab, 2, err, sizeof(err));
	y = merge_of(ba, 2, err, sizeof(err));
	assert_non_null(x);
	assert_non_null(y);
	/* files and listeners in a fixed order, counters summed: the same
	 * text whatever the order of the parts */
	assert_string_equal(x, y);
	/* a merge's output is a summary: merging it with A again adds A's
	 * frames once more */
	xa[0] = x;
	xa[1] = A;
	z = merge_of(xa, 2, err, sizeof(err));
	assert_non_null(z);
	assert_non_null(strstr(z, "\"frames\":25,"));
	free(x);
	free(y);
	free(z);
}

static void test_refusals(void **state)
{
	const char *other[] = { A, "{\"type\":\"summary\",\"rules\":\"q.rules\","
				   "\"frames\":1}" };
	const char *shape[] = { A, "{\"type\":\"summary\",\"rules\":\"p.rules\","
				   "\"frames\":\"many\"}" };
	const char *bad[] = { "{\"type\":\"summary\",\"frames\":1,}" };
	const char *alert[] = { "{\"type\":\"alert\"}" };
	/* jsonl: the last summary line counts */
	const char *jsonl[] = { "{\"type\":\"alert\",\"x\":1}\n" A "\n" };
	char err[256], *s;

	(void)state;
	assert_null(merge_of(other, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "\"rules\" differs"));
	assert_null(merge_of(shape, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "\"frames\" cannot be added up"));
	assert_null(merge_of(bad, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "part: 1:"));
	assert_null(merge_of(alert, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "not a portclass-replay summary"));
	assert_null(merge_of(NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "nothing to merge"));
	s = merge_of(jsonl, 1, err, sizeof(err));
	assert_non_null(s);
	assert_non_null(strstr(s, "\"frames\":10,"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adds_up),
		cmocka_unit_test(test_order_and_again),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
