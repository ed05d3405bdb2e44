#!/bin/sh
# t_nfq_errors: clear messages and a non-zero exit when a queue cannot be
# bound - already bound by another process, not permitted (not root), part
# of a range taken - and for usage mistakes.  A failed range releases what
# it had bound.
set -u
. tests/nfq/lib.sh
nfq_init errors

printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
chmod 644 "$TMP/rules"
nfq_start -c "$TMP/rules" -q 0

# Already bound.
rc=0
timeout 10 ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 0 >"$TMP/o2" 2>"$TMP/e2" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "second daemon on queue 0: exit $rc"
grep -q "cannot bind queue 0: already bound by another process" "$TMP/e2" ||
	fail "message: $(cat "$TMP/e2")"

# A range where one queue is taken: fails, and frees queue 1 again.
rc=0
timeout 10 ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 1:2 >/dev/null 2>"$TMP/e3" &
p3=$!
PIDS="$PIDS $p3"
sleep 0.5
rc=0
timeout 10 ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 0:1 >/dev/null 2>"$TMP/e4" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "range over a bound queue: exit $rc"
grep -q "cannot bind queue" "$TMP/e4" || fail "range message: $(cat "$TMP/e4")"
kill "$p3" 2>/dev/null
wait "$p3" 2>/dev/null

# Not permitted: an unprivileged user cannot bind.
if [ -x "$(command -v setpriv)" ] && setpriv --reuid nobody --regid nogroup \
	--clear-groups test -x "$NFQ" 2>/dev/null && setpriv --reuid nobody \
	--regid nogroup --clear-groups test -r "$TMP/rules"; then
	rc=0
	timeout 10 ip netns exec "$NS" setpriv --reuid nobody --regid nogroup \
		--clear-groups --inh-caps=-all "$NFQ" -c "$TMP/rules" -q 5 \
		>/dev/null 2>"$TMP/e5" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "unprivileged bind: exit $rc"
	grep -q "cannot bind queue 5: .*needs root or CAP_NET_ADMIN" "$TMP/e5" ||
		fail "unprivileged message: $(cat "$TMP/e5")"
else
	echo "note: $NFQ not reachable by nobody; unprivileged case not run"
fi

# An unknown --user: exit 2 after binding, and the queue is free again.
rc=0
timeout 10 ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 6 --user no-such-user-pc \
	>/dev/null 2>"$TMP/e7" || rc=$?
[ "$rc" -eq 2 ] || fail "unknown user: exit $rc"
grep -q "cannot drop privileges: unknown user no-such-user-pc" "$TMP/e7" ||
	fail "unknown user message: $(cat "$TMP/e7")"
nsx awk '$1 == 6' /proc/net/netfilter/nfnetlink_queue | grep -q . &&
	fail "queue 6 still bound"

# Usage errors exit 2 with a message.
for args in "" "-q 70000" "-q 5:3" "-q 0 --reject-mark 0" "-q 0 --copy-range 10" \
	"-q 0 --log-file /dev/null --syslog" "-q 0 extra"; do
	rc=0
	# shellcheck disable=SC2086
	"$NFQ" -c "$TMP/rules" $args >/dev/null 2>"$TMP/e6" || rc=$?
	[ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2"
	[ -s "$TMP/e6" ] || fail "'$args': no message"
done

# The first daemon is still fine.
kill -0 "$DAEMON" || fail "first daemon died"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
