/*
 * test_event: the one writer of a listener's owner (host/event.c), used
 * by the daemon's alerts and rule logs and by the listener snapshot: the
 * same members in the same order, pid null unless positive, strings null
 * when empty, the uid only where asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"

static const char *owner_json(const struct listener_owner *o, int with_uid,
			      struct jsonw *w)
{
	jsonw_reset(w);
	jsonw_object_begin(w);
	event_write_owner_members(w, o, with_uid);
	jsonw_object_end(w);
	assert_false(w->failed);
	return jsonw_str(w);
}

static void test_owner_members(void **state)
{
	struct listener_owner o;
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	assert_string_equal(owner_json(NULL, 0, &w),
		"{\"pid\":null,\"program\":null,\"exe\":null,\"user\":null,\"unit\":null}");
	assert_string_equal(owner_json(NULL, 1, &w),
		"{\"pid\":null,\"program\":null,\"exe\":null,\"user\":null,\"uid\":null,\"unit\":null}");
	memset(&o, 0, sizeof(o));
	o.pid = 0; /* no process */
	strcpy(o.program, "x");
	assert_string_equal(owner_json(&o, 0, &w),
		"{\"pid\":null,\"program\":\"x\",\"exe\":null,\"user\":null,\"unit\":null}");
	o.pid = -1;
	assert_string_equal(owner_json(&o, 0, &w),
		"{\"pid\":null,\"program\":\"x\",\"exe\":null,\"user\":null,\"unit\":null}");
	o.pid = 42;
	o.uid = 1000;
	o.has_uid = 1;
	strcpy(o.user, "alice");
	strcpy(o.unit, "a.service");
	assert_string_equal(owner_json(&o, 1, &w),
		"{\"pid\":42,\"program\":\"x\",\"exe\":null,\"user\":\"alice\",\"uid\":1000,\"unit\":\"a.service\"}");
	/* event_write_owner is the same without the uid */
	jsonw_reset(&w);
	jsonw_object_begin(&w);
	event_write_owner(&w, &o);
	jsonw_object_end(&w);
	assert_string_equal(jsonw_str(&w),
		"{\"pid\":42,\"program\":\"x\",\"exe\":null,\"user\":\"alice\",\"unit\":\"a.service\"}");
	jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
