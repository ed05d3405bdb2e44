#!/bin/sh
# t_load_flood: a flood of TCP connection attempts (bare SYNs from
# tests/tools/synflood, loopback only) to 5000 dynamic ports from
# rotating source ports, at FLOOD_PPS per second for FLOOD_SECONDS
# (defaults 2000 and 20; bounded in count and time, stopping by itself).
# While it runs:
#   - a legitimate client connects to the expected listener (55001) and to
#     a user-port service every second: every connection succeeds;
# Afterwards:
#   - the daemon is still up, its peak resident memory (VmHWM) is under
#     the bound documented in portclass-nfq(8) (64 MB; 512 MB for the
#     sanitizer build, whose shadow memory counts);
#   - every queued packet got a verdict: packets == pass + drop + reject,
#     and packets + undelivered == the kernel's packet id sequence (nothing
#     unaccounted for); the kernel queue is empty;
#   - the event log was rate-limited: alert lines <= rate * seconds + burst,
#     and the rest were counted as suppressed.
set -u
. tests/nfq/lib.sh
nfq_init flood
SYN=$BUILD/tools/synflood
[ -x "$SYN" ] || fail "$SYN not built"
PPS=${FLOOD_PPS:-2000}
SECS=${FLOOD_SECONDS:-20}
RATE=10
BURST=20
case "$BUILD" in
*san*) BOUND_KB=524288 ;;
*) BOUND_KB=65536 ;;
esac

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'dynamic-range iana\nloopback inbound\nunexpected reject log\ndefault pass\nexpect tcp port 55001\n' >"$TMP/rules"
server tcp 0.0.0.0 55001 expected 120
server tcp 0.0.0.0 8080 web 120
nfq_start -c "$TMP/rules" -q 0 --log-rate $RATE --log-burst $BURST
t0=$(date +%s)

ip netns exec "$NS" "$SYN" -a 127.0.0.1 -p 60000-64999 -s 20000-40000 \
	-r "$PPS" -t "$SECS" >"$TMP/flood.out" 2>&1 &
FLOOD=$!
PIDS="$PIDS $FLOOD"

# The legitimate clients, one a second while the flood runs.
ok=0
bad=""
while kill -0 "$FLOOD" 2>/dev/null; do
	for p in 55001 8080; do
		got=$(client tcp 127.0.0.1 $p 3)
		case "$got" in
		ok*) ok=$((ok + 1)) ;;
		*) bad="$bad $p:$got" ;;
		esac
	done
	sleep 1
done
wait "$FLOOD" || fail "synflood: $(cat "$TMP/flood.out")"
t1=$(date +%s)
echo "flood: $(cat "$TMP/flood.out")"
grep -q '^sent [1-9]' "$TMP/flood.out" || fail "nothing sent"
[ -z "$bad" ] || fail "legitimate connections failed during the flood:$bad"
[ "$ok" -ge 4 ] || fail "only $ok legitimate connections during the flood"
echo "legitimate connections during the flood: $ok, all ok"

grep -Eq '^State:[[:space:]]*[RS]' "/proc/$DAEMON/status" || fail "daemon not running"
# Wait for the queue to drain (bounded).
i=0
while [ "$(nsx awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue)" != 0 ] &&
	[ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
# One more attempt closes any gap at the end of the id sequence.
expect_client ok tcp 127.0.0.1 55001 3
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON/status")
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
c=$(grep '"type":"counters"' "$LOG" | tail -n 1)
get() { printf '%s' "$c" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
pk=$(get packets)
pass=$(get pass)
drop=$(get drop)
rej=$(get reject)
und=$(get undelivered)
qd=$(get queue_dropped)
eno=$(get enobufs)
ids=$(nsx awk '$1 == 0 { print $8 }' /proc/net/netfilter/nfnetlink_queue)
qlen=$(nsx awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue)
alerts=$(grep -c '"type":"alert"' "$LOG")
supp=$(get log_suppressed)
# Seconds from the start to now (not to the end of the flood): lines for
# the backlog may still have gone out since.
el=$(($(date +%s) - t0 + 1))
echo "daemon: packets $pk (pass $pass reject $rej drop $drop), kernel ids $ids," \
	"undelivered $und, queue dropped $qd, enobufs $eno, queue length $qlen"
echo "peak memory (VmHWM) ${hwm} kB (bound $BOUND_KB kB)"
echo "alert lines $alerts in ${el} s (rate $RATE, burst $BURST), suppressed $supp"
[ "$qlen" -eq 0 ] || fail "$qlen packets still waiting for a verdict"
[ "$pk" -eq $((pass + drop + rej)) ] || fail "packets $pk != verdicts $((pass + drop + rej))"
[ $((pk + und)) -eq "$ids" ] || fail "packets $pk + undelivered $und != kernel ids $ids"
sent=$(sed -n 's/^sent \([0-9]*\).*/\1/p' "$TMP/flood.out")
[ "$rej" -ge $((sent / 2)) ] || fail "only $rej of $sent attempts rejected"
[ "$hwm" -lt "$BOUND_KB" ] || fail "VmHWM ${hwm} kB over the bound"
[ "$alerts" -le $((RATE * el + BURST)) ] || fail "$alerts alert lines: not rate-limited"
[ "$supp" -gt 0 ] || fail "nothing suppressed"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
