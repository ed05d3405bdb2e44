#!/bin/sh
# t_nfq_logflood (W6): 2,000 SYNs to dynamic ports nobody listens on spend
# the shared log bucket (--log-rate 20); one connection to a rogue listener
# in the middle of it must still be named within the second, with its owner, since
# events about a listener have that listener's own bucket.  The flood's
# lines are suppressed and counted, not lost.
set -u
. tests/nfq/lib.sh
nfq_init logflood
need_scapy
nfq_peer
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'dynamic-range iana\nunexpected drop log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
nfq_start -r "$TMP/rules" -q 0 --log-rate 20
# The flood runs for about 3 s; the rogue attempt comes in the middle of
# it, when the shared bucket is empty.
t0=$(date +%s)
peerx $PY tests/nfq/attack.py synflood $SRV4 50000 x 2000 >/dev/null 2>&1 &
flood=$!
PIDS="$PIDS $flood"
wait_for "$LOG" '"listener":"probe"' 10 || fail "the flood does not arrive"
sleep 1
r=$(peerx $PY "$PCPY" tcp-client $SRV4 60314 1)
# Named before the flood is over (one SYN, no retransmission).
kill -0 $flood 2>/dev/null || echo "note: the flood ended before the attempt"
wait_for "$LOG" '"dport":60314' 1 || fail "the rogue listener was not named during the flood ($r)"
wait $flood
t1=$(date +%s)
json_lines '"type":"alert"' '"dport":60314' '"listener":"rogue"' \
	"\"pid\":$(cat "$TMP/rogue.pid")," | grep -q . || fail "alert lacks the owner: $(json_lines '"dport":60314')"
kill -USR1 "$DAEMON"
sleep 0.5
json_lines '"type":"counters"' | tail -n 1 | grep -q '"log_suppressed":[1-9]' ||
	fail "the flood was not suppressed (the test proves nothing): $(json_lines '"type":"counters"' | tail -n 1)"
flood=$(json_lines '"type":"alert"' '"listener":"probe"' | grep -c .)
# The shared bucket allows 20 lines a second: however long the flood took
# (3 s here, a minute under qemu without acceleration), no more than that.
most=$((20 * (t1 - t0 + 2) + 20))
echo "flood lines written: $flood of 2000 in $((t1 - t0)) s (at most $most)"
[ "$flood" -le "$most" ] && [ "$flood" -lt 2000 ] ||
	fail "the shared limit did not hold: $flood flood lines in $((t1 - t0)) s"
nfq_stop
echo ok
