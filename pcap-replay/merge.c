/*
 * merge: see merge.h.
 *
 * Each summary is read into a small tree of JSON values (jsonr checks the
 * text) and folded into the first one by rules that depend only on where a
 * value sits, so adding A then B equals adding B then A.
 */
#include "merge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonr.h"
#include "jsonw.h"
#include "packet.h"
#include "seen.h"

#define STR_MAX 8192

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	enum jv_type t;
	int64_t n;		/* JV_NUM, JV_BOOL */
	char *s;		/* JV_STR */
	size_t nkids, cap;
	char **keys;		/* JV_OBJ: nkids names */
	struct jv *kids;	/* JV_ARR, JV_OBJ */
};

struct merge {
	struct jv sum;		/* JV_NULL until the first summary */
	int parts;
};

static void jv_free(struct jv *v)
{
	for (size_t i = 0; i < v->nkids; i++) {
		jv_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

/* Appends an empty child (named key for an object); NULL on ENOMEM. */
static struct jv *jv_push(struct jv *v, const char *key)
{
	if (v->nkids == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 8;
		struct jv *nk = realloc(v->kids, nc * sizeof(*nk));

		if (!nk)
			return NULL;
		v->kids = nk;
		if (v->t == JV_OBJ) {
			char **nkeys = realloc(v->keys, nc * sizeof(*nkeys));

			if (!nkeys)
				return NULL;
			v->keys = nkeys;
		}
		v->cap = nc;
	}
	if (v->t == JV_OBJ) {
		v->keys[v->nkids] = strdup(key);
		if (!v->keys[v->nkids])
			return NULL;
	}
	memset(&v->kids[v->nkids], 0, sizeof(v->kids[0]));
	return &v->kids[v->nkids++];
}

static struct jv *jv_get(const struct jv *v, const char *key)
{
	if (v->t != JV_OBJ)
		return NULL;
	for (size_t i = 0; i < v->nkids; i++)
		if (!strcmp(v->keys[i], key))
			return &v->kids[i];
	return NULL;
}

static int jv_copy(struct jv *dst, const struct jv *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->t = src->t;
	dst->n = src->n;
	if (src->s && !(dst->s = strdup(src->s)))
		return -1;
	for (size_t i = 0; i < src->nkids; i++) {
		struct jv *k = jv_push(dst, src->keys ? src->keys[i] : NULL);

		if (!k || jv_copy(k, &src->kids[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_value(struct jsonr *j, struct jv *v);

static int on_member(struct jsonr *j, const char *key, void *ctx)
{
	struct jv *k = jv_push(ctx, key);

	if (!k)
		return jsonr_fail(j, j->pos, "out of memory");
	return parse_value(j, k);
}

static int on_element(struct jsonr *j, void *ctx)
{
	struct jv *k = jv_push(ctx, NULL);

	if (!k)
		return jsonr_fail(j, j->pos, "out of memory");
	return parse_value(j, k);
}

static int parse_value(struct jsonr *j, struct jv *v)
{
	char buf[STR_MAX];
	int c;

	jsonr_ws(j);
	c = jsonr_peek(j);
	switch (c) {
	case '{':
		v->t = JV_OBJ;
		return jsonr_object(j, on_member, v);
	case '[':
		v->t = JV_ARR;
		return jsonr_array(j, on_element, v);
	case '"':
		v->t = JV_STR;
		if (jsonr_string_field(j, "string", buf, sizeof(buf), 0) < 0)
			return -1;
		v->s = strdup(buf);
		return v->s ? 0 : jsonr_fail(j, j->pos, "out of memory");
	case 't':
	case 'f': {
		const char *w = c == 't' ? "true" : "false";
		size_t n = strlen(w);

		if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
			return jsonr_expect(j, "a value");
		j->pos += n;
		v->t = JV_BOOL;
		v->n = c == 't';
		return 0;
	}
	case 'n':
		v->t = JV_NULL;
		return jsonr_is_null(j) == 1 ? 0 : jsonr_expect(j, "a value");
	default:
		v->t = JV_NUM;
		return jsonr_number(j, &v->n);
	}
}

/* What describes a run rather than counts it: equal in every part. */
static int descriptive(const char *path)
{
	static const char *const keys[] = {
		"type", "rules", "compare", "dynamic_range", "local", "filter",
		"queue.selector", "queue.tcp_loose",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(path, keys[i]))
			return 1;
	return 0;
}

static int jv_equal(const struct jv *a, const struct jv *b)
{
	if (a->t != b->t || a->n != b->n || a->nkids != b->nkids)
		return 0;
	if (a->t == JV_STR && strcmp(a->s, b->s) != 0)
		return 0;
	for (size_t i = 0; i < a->nkids; i++) {
		if (a->keys && strcmp(a->keys[i], b->keys[i]) != 0)
			return 0;
		if (!jv_equal(&a->kids[i], &b->kids[i]))
			return 0;
	}
	return 1;
}

static const char *str_of(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->t == JV_STR ? v->s : "";
}

static int64_t num_of(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->t == JV_NUM ? v->n : 0;
}

/* The order `portclass-replay` lists listeners in: protocol, family,
 * address, port. */
static int cmp_listener(const void *pa, const void *pb)
{
	const struct jv *a = pa, *b = pb;
	int x = packet_proto_lookup(str_of(a, "proto"));
	int y = packet_proto_lookup(str_of(b, "proto"));
	uint8_t aa[16] = { 0 }, ab[16] = { 0 };
	int fa, fb, c;

	if (x != y)
		return x < y ? -1 : 1;
	fa = strchr(str_of(a, "addr"), ':') ? 6 : 4;
	fb = strchr(str_of(b, "addr"), ':') ? 6 : 4;
	if (fa != fb)
		return fa < fb ? -1 : 1;
	(void)inet_pton(fa == 6 ? AF_INET6 : AF_INET, str_of(a, "addr"), aa);
	(void)inet_pton(fb == 6 ? AF_INET6 : AF_INET, str_of(b, "addr"), ab);
	c = memcmp(aa, ab, 16);
	if (c)
		return c;
	x = (int)num_of(a, "port");
	y = (int)num_of(b, "port");
	return x < y ? -1 : x > y;
}

static int cmp_file(const void *pa, const void *pb)
{
	return strcmp(str_of(pa, "file"), str_of(pb, "file"));
}

static void set_num(struct jv *o, const char *key, int64_t n)
{
	struct jv *v = jv_get(o, key);

	if (v && v->t == JV_NUM)
		v->n = n;
}

/* One listener seen in both: answers added, the earliest first answer and
 * what was known of the listener then kept, the policy recomputed. */
static int merge_listener(struct jv *d, const struct jv *s)
{
	struct jv *pol = jv_get(d, "policy");
	int64_t ans = num_of(d, "answers") + num_of(s, "answers");
	int64_t exp = num_of(d, "expected") + num_of(s, "expected");
	int64_t und = num_of(d, "undetermined") + num_of(s, "undetermined");

	if (strcmp(str_of(s, "first"), str_of(d, "first")) < 0) {
		struct jv t;

		if (jv_copy(&t, s) < 0)
			return -1;
		jv_free(d);
		*d = t;
		pol = jv_get(d, "policy");
	}
	set_num(d, "answers", ans);
	set_num(d, "expected", exp);
	set_num(d, "undetermined", und);
	if (pol && pol->t == JV_STR) {
		char *p = strdup(seen_policy_name((uint64_t)ans, (uint64_t)exp,
						  (uint64_t)und));

		if (!p)
			return -1;
		free(pol->s);
		pol->s = p;
	}
	return 0;
}

static int merge_into(struct jv *d, const struct jv *s, const char *path,
		      char *err, size_t errlen);

static int merge_listeners(struct jv *d, const struct jv *s)
{
	for (size_t i = 0; i < s->nkids; i++) {
		const struct jv *e = &s->kids[i];
		size_t k;

		for (k = 0; k < d->nkids; k++)
			if (cmp_listener(&d->kids[k], e) == 0)
				break;
		if (k < d->nkids) {
			if (merge_listener(&d->kids[k], e) < 0)
				return -1;
		} else {
			struct jv *n = jv_push(d, NULL);

			if (!n || jv_copy(n, e) < 0)
				return -1;
		}
	}
	return 0;
}

static int merge_into(struct jv *d, const struct jv *s, const char *path,
		      char *err, size_t errlen)
{
	if (descriptive(path)) {
		if (!jv_equal(d, s)) {
			snprintf(err, errlen, "\"%s\" differs from the other "
				 "parts': they were not replayed alike", path);
			return -1;
		}
		return 0;
	}
	if (!strcmp(path, "files")) {
		if (d->t != JV_ARR || s->t != JV_ARR)
			goto shape;
		for (size_t i = 0; i < s->nkids; i++) {
			struct jv *n = jv_push(d, NULL);

			if (!n || jv_copy(n, &s->kids[i]) < 0)
				goto oom;
		}
		return 0;
	}
	if (!strcmp(path, "listeners_seen")) {
		if (d->t != JV_ARR || s->t != JV_ARR)
			goto shape;
		return merge_listeners(d, s) < 0 ? (snprintf(err, errlen,
				"%s", strerror(ENOMEM)), -1) : 0;
	}
	if (d->t != s->t)
		goto shape;
	switch (d->t) {
	case JV_NUM:
		d->n += s->n;
		return 0;
	case JV_OBJ:
		for (size_t i = 0; i < s->nkids; i++) {
			struct jv *k = jv_get(d, s->keys[i]);
			char sub[256];

			snprintf(sub, sizeof(sub), "%s%s%s", path,
				 *path ? "." : "", s->keys[i]);
			if (k) {
				if (merge_into(k, &s->kids[i], sub, err,
					       errlen) < 0)
					return -1;
				continue;
			}
			/* a counter the other parts never needed (a
			 * malformed-packet reason, say): taken as is */
			k = jv_push(d, s->keys[i]);
			if (!k || jv_copy(k, &s->kids[i]) < 0)
				goto oom;
		}
		return 0;
	case JV_NULL:
		return 0;
	default:
		if (jv_equal(d, s))
			return 0;
		break;
	}
shape:
	snprintf(err, errlen, "\"%s\" cannot be added up (%s)", path,
		 d->t != s->t ? "not the same kind of value in every part"
			      : "not the same value in every part");
	return -1;
oom:
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	return -1;
}

struct merge *merge_new(void)
{
	return calloc(1, sizeof(struct merge));
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	jv_free(&m->sum);
	free(m);
}

/* The last line of text that holds a summary object, or all of text. */
static const char *summary_line(const char *text, size_t len, size_t *n)
{
	const char *best = NULL, *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		if (memmem(p, (size_t)(e - p), "\"type\":\"summary\"", 16)) {
			best = p;
			*n = (size_t)(e - p);
		}
		p = nl ? nl + 1 : end;
	}
	if (best)
		return best;
	*n = len;
	return text;
}

int merge_add(struct merge *m, const char *name, const char *text, size_t len,
	      char *err, size_t errlen)
{
	char msg[256] = "";
	struct jsonr j;
	struct jv v;
	const char *line;
	size_t n;

	memset(&v, 0, sizeof(v));
	line = summary_line(text, len, &n);
	jsonr_init(&j, line, n, msg, sizeof(msg));
	if (parse_value(&j, &v) < 0) {
		snprintf(err, errlen, "%s: %s", name, msg);
		jv_free(&v);
		return -1;
	}
	jsonr_ws(&j);
	if (j.pos != j.len) {
		jsonr_fail(&j, j.pos, "text after the summary");
		snprintf(err, errlen, "%s: %s", name, msg);
		jv_free(&v);
		return -1;
	}
	if (v.t != JV_OBJ || strcmp(str_of(&v, "type"), "summary") != 0) {
		snprintf(err, errlen, "%s: not a portclass-replay summary "
			 "(--format json)", name);
		jv_free(&v);
		return -1;
	}
	if (m->parts == 0) {
		m->sum = v;
		m->parts = 1;
		return 0;
	}
	if (merge_into(&m->sum, &v, "", msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s: %s", name, msg);
		jv_free(&v);
		return -1;
	}
	jv_free(&v);
	m->parts++;
	return 0;
}

static void jv_write(struct jsonw *w, const struct jv *v)
{
	switch (v->t) {
	case JV_NULL:
		jsonw_null(w);
		break;
	case JV_BOOL:
		jsonw_bool(w, (int)v->n);
		break;
	case JV_NUM:
		jsonw_int(w, v->n);
		break;
	case JV_STR:
		jsonw_string(w, v->s);
		break;
	case JV_ARR:
		jsonw_array_begin(w);
		for (size_t i = 0; i < v->nkids; i++)
			jv_write(w, &v->kids[i]);
		jsonw_array_end(w);
		break;
	case JV_OBJ:
		jsonw_object_begin(w);
		for (size_t i = 0; i < v->nkids; i++) {
			jsonw_key(w, v->keys[i]);
			jv_write(w, &v->kids[i]);
		}
		jsonw_object_end(w);
		break;
	}
}

int merge_write(struct merge *m, FILE *out, char *err, size_t errlen)
{
	struct jv *files, *seen;
	struct jsonw w;
	int rc = 0;

	if (!m->parts) {
		snprintf(err, errlen, "nothing to merge");
		return -1;
	}
	/* listed the way a merge lists them, however many parts */
	files = jv_get(&m->sum, "files");
	if (files && files->t == JV_ARR)
		qsort(files->kids, files->nkids, sizeof(files->kids[0]),
		      cmp_file);
	seen = jv_get(&m->sum, "listeners_seen");
	if (seen && seen->t == JV_ARR)
		qsort(seen->kids, seen->nkids, sizeof(seen->kids[0]),
		      cmp_listener);
	jsonw_init(&w);
	jv_write(&w, &m->sum);
	if (w.failed) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		rc = -1;
	} else {
		fwrite(w.buf, 1, w.len, out);
		putc('\n', out);
	}
	jsonw_free(&w);
	return rc;
}
