#!/bin/sh
# t_fault_stop: the consumer stopped (SIGSTOP) while traffic flows.
#   1. Socket overrun (a small --rcvbuf): while the daemon is stopped,
#      5000 new UDP flows arrive; the socket fills, fail-open lets the rest
#      through (the sink is reachable, a TCP service answers, and so does
#      the rogue listener: the price of fail-open).  After SIGCONT the
#      daemon does not exit, counts ENOBUFS and the undelivered packets
#      (gaps in the packet ids), and its accounting is exact: packets
#      received + undelivered == the kernel's id sequence.  The policy holds
#      again at once.
#   2. Queue full (a small --queue-maxlen, the default buffer): while
#      stopped, the kernel holds exactly maxlen packets and passes the
#      rest; after SIGCONT they all get verdicts (queue length back to 0).
set -u
. tests/nfq/lib.sh
nfq_init fstop
BLAST=$BUILD/tools/udpblast
[ -x "$BLAST" ] || fail "$BLAST not built"

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect udp port 55000\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server tcp 0.0.0.0 8080 web
ip netns exec "$NS" "$BLAST" sink -p 55000 --ready "$TMP/sink.ready" &
PIDS="$PIDS $!"
i=0
while [ ! -e "$TMP/sink.ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$TMP/sink.ready" ] || fail "sink did not start"

# kq FIELD: a column of queue 0 in the kernel's table (3 queue_total,
# 6 queue_dropped, 7 user_dropped, 8 id_sequence).
kq() {
	nsx awk -v f="$1" '$1 == 0 { print $f }' /proc/net/netfilter/nfnetlink_queue
}

# counter NAME: the member NAME of a fresh SIGUSR1 counters line.
counter() {
	c0=$(grep -c '"type":"counters"' "$LOG")
	kill -USR1 "$DAEMON"
	j=0
	while [ "$(grep -c '"type":"counters"' "$LOG")" -le "$c0" ] && [ $j -lt 50 ]; do
		sleep 0.1
		j=$((j + 1))
	done
	grep '"type":"counters"' "$LOG" | tail -n 1 |
		sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# alive: running or sleeping, not a zombie (kill -0 succeeds on one).
alive() {
	grep -Eq '^State:[[:space:]]*[RSD]' "/proc/$DAEMON/status" 2>/dev/null
}

# Every thread of the daemon in the stopped state ('T' in the third field
# of /proc/PID/task/TID/stat).
stopped() {
	for t in /proc/$DAEMON/task/*; do
		[ "$(sed 's/^.*) //' "$t/stat" | cut -d' ' -f1)" = T ] || return 1
	done
}

# The stop is delivered asynchronously: wait for it, at most 5 s.
wait_stopped() {
	i=0
	while ! stopped; do
		[ $i -lt 500 ] || return 1
		sleep 0.01
		i=$((i + 1))
	done
}

# 1. Socket overrun.
nfq_start -c "$TMP/rules" -q 0 --rcvbuf 16K --log-rate 5
expect_client refused tcp 127.0.0.1 60314 3
kill -STOP "$DAEMON"
wait_stopped || fail "daemon not stopped within 5 s"
timeout 30 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 55000 5000 >/dev/null ||
	fail "flood while stopped"
expect_client ok tcp 127.0.0.1 8080 3
expect_client ok tcp 127.0.0.1 60314 3
stopped || fail "daemon woke up during the test"
ids=$(kq 8)
[ "$ids" -ge 5000 ] || fail "the kernel queued only $ids packets"
kill -CONT "$DAEMON"
sleep 0.2
alive || fail "daemon died on SIGCONT"
# One more queued packet after the stop closes any gap at the end.
expect_client refused tcp 127.0.0.1 60314 3
alive || fail "daemon exited after SIGCONT"
pk=$(counter packets)
und=$(counter undelivered)
eno=$(counter enobufs)
ids=$(kq 8)
echo "overrun: kernel ids $ids, received $pk, undelivered $und, enobufs $eno"
[ "$eno" -ge 1 ] || fail "no ENOBUFS counted"
[ "$und" -ge 1 ] || fail "no undelivered packets counted"
[ $((pk + und)) -eq "$ids" ] ||
	fail "accounting: received $pk + undelivered $und != kernel ids $ids"
expect_client ok tcp 127.0.0.1 8080 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi

# 2. Queue full.
nfq_start -c "$TMP/rules" -q 0 --queue-maxlen 64 --log-rate 5
expect_client refused tcp 127.0.0.1 60314 3
kill -STOP "$DAEMON"
wait_stopped || fail "daemon not stopped within 5 s"
timeout 30 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 55000 2000 >/dev/null ||
	fail "flood while stopped"
[ "$(kq 3)" -eq 64 ] || fail "queue length $(kq 3) while stopped, expected 64"
expect_client ok tcp 127.0.0.1 60314 3
kill -CONT "$DAEMON"
i=0
while [ "$(kq 3)" -ne 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(kq 3)" -eq 0 ] || fail "$(kq 3) packets still waiting for a verdict"
alive || fail "daemon exited after SIGCONT"
expect_client refused tcp 127.0.0.1 60314 3
pk=$(counter packets)
ids=$(kq 8)
echo "queue full: kernel ids $ids, received $pk"
[ "$pk" -eq "$ids" ] || fail "received $pk of $ids queued packets"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
