#!/bin/sh
# t_nfq_enobufs: overload.  With a tiny --rcvbuf, a flood of new UDP flows
# overflows the queue socket: the kernel reports ENOBUFS, the daemon counts
# it (SIGUSR1 counters, --stats-file) and keeps going, fail-open lets the
# overflow through, and the policy still holds afterwards.  Then with
# --fail-closed and a tiny --queue-maxlen, the kernel drops what does not
# fit and the stats show it.
set -u
. tests/nfq/lib.sh
nfq_init enobufs

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 5000 sink 120
nfq_start -c "$TMP/rules" -q 0 --rcvbuf 4096 --log-rate 5 \
	--stats-file "$TMP/stats.prom" --stats-interval 1
for i in 1 2; do
	timeout 60 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 5000 20000 >/dev/null ||
		fail "flood"
done
kill -0 "$DAEMON" 2>/dev/null || fail "daemon died under the flood"
expect_client refused tcp 127.0.0.1 60314 3
expect_client ok udp 127.0.0.1 5000 3
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
eno=$(json_lines '"type":"counters"' | sed -n 's/.*"enobufs":\([0-9]*\).*/\1/p' | tail -n 1)
[ -n "$eno" ] && [ "$eno" -gt 0 ] || fail "no ENOBUFS counted: $(json_lines '"type":"counters"')"
pk=$(json_lines '"type":"counters"' | sed -n 's/.*"packets":\([0-9]*\).*/\1/p' | tail -n 1)
[ "$pk" -lt 40002 ] || fail "every packet arrived ($pk): nothing overflowed"
wait_for "$TMP/stats.prom" '^portclass_nfq_enobufs_total\{queue="0"\} [1-9]' 5 ||
	fail "stats file lacks ENOBUFS"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi

rm -f "$TMP/stats.prom"
nfq_start -c "$TMP/rules" -q 0 --fail-closed --queue-maxlen 4 --log-rate 5 \
	--stats-file "$TMP/stats.prom" --stats-interval 1
timeout 60 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 5000 20000 >/dev/null ||
	fail "flood"
wait_for "$TMP/stats.prom" '^portclass_nfq_queue_dropped_total\{queue="0"\} [1-9]' 5 ||
	fail "queue full drops not counted: $(grep dropped "$TMP/stats.prom")"
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
