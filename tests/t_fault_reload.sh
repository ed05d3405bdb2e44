#!/bin/sh
# t_fault_reload: SIGHUP in a tight loop while traffic flows.
#   - 200 reloads, each waited for, cycling good file A (60314 unexpected),
#     a broken file, good file B (60314 expected), a broken file: every
#     reload line says ok or not as it should, and after each one a
#     connection to 60314 gets what the rules in force say (a broken file
#     keeps the old rules);
#   - meanwhile new UDP flows and TCP clients to the rogue listener and to
#     a user-port service run without pause: every client gets an answer
#     (no timeouts: no packet left without a verdict);
#   - then 200 SIGHUPs in a burst without waiting (the clients still
#     running): no crash;
#   - the counters add up: 100 good and 100 failed paced reloads at least.
set -u
. tests/nfq/lib.sh
nfq_init freload
HUP=tests/nfq/hup.py

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
R=$TMP/rules
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$R"
server tcp 0.0.0.0 60314 rogue 120
server tcp 0.0.0.0 8080 web 120
server udp 0.0.0.0 55000 sink 120
nfq_start -c "$R" -q 0 --log-rate 5
expect_client refused tcp 127.0.0.1 60314 3

# Background traffic, each bounded in time.
timeout 60 ip netns exec "$NS" sh -c "i=0; while [ \$i -lt 100 ]; do
	$PY $PCPY udp-flood 127.0.0.1 61000 2000 >/dev/null || exit 1; i=\$((i + 1)); done" &
FLOOD=$!
PIDS="$PIDS $FLOOD"
# 25 s: a reload waits until the rules file has been left alone for 50 ms
# (portclass-nfq(8)), so 200 paced reloads take about 15 s.
timeout 60 ip netns exec "$NS" $PY $HUP clients 127.0.0.1 8080 25 >"$TMP/web.tally" &
WEB=$!
PIDS="$PIDS $WEB"

t0=$(date +%s)
timeout 50 ip netns exec "$NS" $PY $HUP paced "$DAEMON" "$R" "$LOG" 200 >"$TMP/paced.out" 2>&1 ||
	fail "paced reloads: $(cat "$TMP/paced.out")"
t1=$(date +%s)
cat "$TMP/paced.out"
kill -0 "$DAEMON" 2>/dev/null || fail "daemon died during the reloads"

# The burst.
ip netns exec "$NS" $PY $HUP burst "$DAEMON" "$R" 200 || fail "burst"
kill -0 "$WEB" 2>/dev/null || fail "the web clients ended before the burst"

wait "$WEB" || fail "web clients"
echo "user-port clients during the reloads: $(cat "$TMP/web.tally")"
grep -q 'ok=[1-9]' "$TMP/web.tally" || fail "no web client succeeded"
grep -Eq '(timeout|error|refused)' "$TMP/web.tally" &&
	fail "a web client got no answer: $(cat "$TMP/web.tally")"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$R"
kill -HUP "$DAEMON"
sleep 1
kill -0 "$DAEMON" 2>/dev/null || fail "daemon died during the burst"
expect_client refused tcp 127.0.0.1 60314 3
expect_client ok tcp 127.0.0.1 8080 3
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null

kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
c=$(grep '"type":"counters"' "$LOG" | tail -n 1)
rok=$(printf '%s' "$c" | sed -n 's/.*"reloads_ok":\([0-9]*\).*/\1/p')
rko=$(printf '%s' "$c" | sed -n 's/.*"reloads_failed":\([0-9]*\).*/\1/p')
pk=$(printf '%s' "$c" | sed -n 's/.*"packets":\([0-9]*\).*/\1/p')
echo "paced reloads in $((t1 - t0)) s; reloads ok $rok failed $rko; packets $pk"
[ "$rok" -ge 101 ] && [ "$rko" -ge 100 ] || fail "reload counters: $c"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
