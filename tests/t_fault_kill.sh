#!/bin/sh
# t_fault_kill: the daemon SIGKILLed under load, three times.  A sender
# (new UDP flows to an expected listener, queued all the time) runs
# throughout.  Each time the daemon dies: with --queue-bypass, a TCP
# service and the rogue listener answer (fail-open, nothing blackholed);
# restarted, it binds the queue again and the rogue connection is rejected
# again, and the sender's packets are given verdicts again.
set -u
. tests/nfq/lib.sh
nfq_init fkill
BLAST=$BUILD/tools/udpblast
[ -x "$BLAST" ] || fail "$BLAST not built"

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect udp port 55000\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server tcp 0.0.0.0 8080 web
ip netns exec "$NS" "$BLAST" sink -p 55000 --ready "$TMP/sink.ready" &
PIDS="$PIDS $!"
wait_for_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}
wait_for_file "$TMP/sink.ready" || fail "sink did not start"

nfq_start -c "$TMP/rules" -q 0 --log-rate 5
expect_client refused tcp 127.0.0.1 60314 3
# The load: new UDP flows, each from its own source port, at the pace of
# one Python process (which the daemon keeps up with, so that what is
# tested is the kill, not an overflowing queue); it stops by itself after
# 120 s (or 1000 rounds of 5000 datagrams), and is killed at exit.
# (pk, not n: lib.sh's wait_for uses n.)
timeout 120 ip netns exec "$NS" sh -c "i=0; while [ \$i -lt 1000 ]; do
	$PY $PCPY udp-flood 127.0.0.1 55000 5000 || exit 1; i=\$((i + 1)); done" \
	>"$TMP/blast.out" &
BLASTPID=$!
PIDS="$PIDS $BLASTPID"

# packets counted by the daemon so far (SIGUSR1 counters), 0 if none.
packets() {
	# Counted before the signal: the line may be out before grep runs.
	n0=$(grep -c '"type":"counters"' "$LOG")
	kill -USR1 "$DAEMON"
	i=0
	while [ "$(grep -c '"type":"counters"' "$LOG")" -le "$n0" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep '"type":"counters"' "$LOG" | tail -n 1 |
		sed -n 's/.*"packets":\([0-9]*\).*/\1/p'
}

round=1
while [ $round -le 3 ]; do
	sleep 1
	kill -0 "$BLASTPID" 2>/dev/null || fail "round $round: the sender stopped early: $(cat "$TMP/blast.out")"
	pk=$(packets)
	[ -n "$pk" ] && [ "$pk" -gt 0 ] || fail "round $round: no packets under load ($pk)"
	kill -9 "$DAEMON"
	wait "$DAEMON" 2>/dev/null
	DAEMON=""
	# Dead daemon, load still running: bypass lets everything through.
	expect_client ok tcp 127.0.0.1 8080 3
	expect_client ok tcp 127.0.0.1 60314 3
	# Restarted: the queue binds again (no "already bound" after SIGKILL).
	nfq_start -c "$TMP/rules" -q 0 --log-rate 5
	expect_client refused tcp 127.0.0.1 60314 3
	expect_client ok tcp 127.0.0.1 8080 3
	echo "round $round: killed after $pk packets, restarted, enforcing again"
	round=$((round + 1))
done
pk=$(packets)
[ -n "$pk" ] && [ "$pk" -gt 0 ] || fail "no packets after the last restart"
kill -0 "$BLASTPID" 2>/dev/null || fail "the sender stopped early"
kill "$BLASTPID" 2>/dev/null
wait "$BLASTPID" 2>/dev/null
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
