/*
 * fuzz_snapshot: the listener-snapshot JSON reader
 * (snapshot_parse), what `portclass-replay --listeners` loads.
 *
 * Checks: a failed parse leaves the table as it was and says where
 * ("line:col: message"); a parse that succeeds gives entries every lookup
 * finds again, and a snapshot written from them (snapshot_write, as
 * `portclass listeners --json` does) reads back to the same entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonw.h"
#include "listener.h"
#include "snapshot.h"

/* An entry that is already there: a failed parse must keep it. */
static void add_fixed(struct listener_table *t)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.proto = PROTO_TCP;
	l.family = 4;
	l.port = 22;
	l.owner_state = -1;
	l.owner.pid = -1;
	if (listener_table_add(t, &l) < 0)
		abort();
}

static void check_err(const char *err)
{
	unsigned line, col;
	int n = 0;

	FUZZ_CHECK(memchr(err, '\0', 256) != NULL);
	FUZZ_CHECK(sscanf(err, "%u:%u: %n", &line, &col, &n) == 2 && n > 0);
	FUZZ_CHECK(line >= 1 && col >= 1 && err[n] != '\0');
}

/*
 * An owner the snapshot says something about.  A "pid":0 alone is read as
 * a known owner (owner_state 1) that the writer, which treats pid <= 0 as
 * unknown, writes back as all nulls, read again as unknown; nothing else
 * depends on the difference (tests/regress/fuzz_snapshot/pid-zero-owner),
 * so the comparison is of what is known, not of owner_state.
 */
static int owner_known(const struct listener *l)
{
	const struct listener_owner *o = &l->owner;

	return l->owner_state == 1 &&
	       (o->pid > 0 || o->has_uid || o->program[0] || o->exe[0] ||
		o->user[0] || o->unit[0]);
}

static void same_entry(struct listener *a, struct listener *b)
{
	FUZZ_CHECK(a->proto == b->proto && a->family == b->family &&
		   a->port == b->port);
	FUZZ_CHECK(memcmp(a->addr, b->addr, sizeof(a->addr)) == 0);
	FUZZ_CHECK(owner_known(a) == owner_known(b));
	if (!owner_known(a))
		return;
	FUZZ_CHECK(strcmp(a->owner.program, b->owner.program) == 0);
	FUZZ_CHECK(strcmp(a->owner.exe, b->owner.exe) == 0);
	FUZZ_CHECK(strcmp(a->owner.user, b->owner.user) == 0);
	FUZZ_CHECK(strcmp(a->owner.unit, b->owner.unit) == 0);
	FUZZ_CHECK(a->owner.has_uid == b->owner.has_uid);
	if (a->owner.has_uid)
		FUZZ_CHECK(a->owner.uid == b->owner.uid);
	FUZZ_CHECK((a->owner.pid > 0 ? a->owner.pid : -1) ==
		   (b->owner.pid > 0 ? b->owner.pid : -1));
}

static void round_trip(struct listener_table *t)
{
	size_t i, n = listener_table_count(t);
	struct snapshot_row *rows = calloc(n ? n : 1, sizeof(*rows));
	struct listener_table *t2 = listener_table_new();
	struct port_range range = { 32768, 60999 };
	struct jsonw w;
	char err[256];
	const char *s;

	if (!rows || !t2)
		abort();
	for (i = 0; i < n; i++) {
		rows[i].l = listener_table_at(t, i);
		rows[i].policy = SNAPSHOT_NOT_GUARDED;
		rows[i].ephemeral = -1;
	}
	jsonw_init(&w);
	snapshot_write(&w, "fuzz", 0, &range, rows, n);
	if (!w.failed) {
		s = jsonw_str(&w);
		if (snapshot_parse(t2, s, strlen(s), err,
					    sizeof(err)) < 0) {
			fprintf(stderr, "re-reading %s: %s\n", s, err);
			FUZZ_CHECK(!"a written snapshot reads back");
		}
		FUZZ_CHECK(listener_table_count(t2) == n);
		for (i = 0; i < n; i++)
			same_entry(listener_table_at(t, i),
				   listener_table_at(t2, i));
	}
	jsonw_free(&w);
	listener_table_free(t2);
	free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listener_table *t = listener_table_new();
	char err[256];
	size_t i, n;

	if (!t)
		abort();
	add_fixed(t);
	memset(err, 'x', sizeof(err));
	if (snapshot_parse(t, (const char *)data, size, err,
				    sizeof(err)) < 0) {
		check_err(err);
		FUZZ_CHECK(listener_table_count(t) == 1);
		FUZZ_CHECK(listener_table_find(t, PROTO_TCP, 4,
					       listener_table_at(t, 0)->addr,
					       22) != NULL);
		listener_table_free(t);
		return 0;
	}
	n = listener_table_count(t);
	FUZZ_CHECK(n >= 1);
	for (i = 0; i < n; i++) {
		struct listener *l = listener_table_at(t, i);

		FUZZ_CHECK(l->family == 4 || l->family == 6);
		FUZZ_CHECK(l->proto == PROTO_TCP || l->proto == PROTO_UDP ||
			   l->proto == PROTO_UDPLITE ||
			   l->proto == PROTO_SCTP || l->proto == PROTO_DCCP);
		FUZZ_CHECK(listener_table_find(t, l->proto, l->family, l->addr,
					       l->port) != NULL);
		(void)listener_owner(t, l);
	}
	round_trip(t);
	listener_table_free(t);
	return 0;
}
