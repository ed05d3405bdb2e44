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
# flood REGEX: floods of 2000 new flows until the stats file shows REGEX
# (up to 40000 datagrams in all); their number in $SENT.
flood() {
	SENT=0
	while [ $SENT -lt 40000 ]; do
		timeout 60 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 5000 2000 >/dev/null ||
			fail "flood"
		SENT=$((SENT + 2000))
		wait_for "$TMP/stats.prom" "$1" 3 && return 0
	done
	return 1
}
flood '^portclass_nfq_enobufs_total\{queue="0"\} [1-9]' || fail "no ENOBUFS after $SENT datagrams"
kill -0 "$DAEMON" 2>/dev/null || fail "daemon died under the flood"
expect_client refused tcp 127.0.0.1 60314 3
expect_client ok udp 127.0.0.1 5000 3
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
eno=$(json_lines '"type":"counters"' | sed -n 's/.*"enobufs":\([0-9]*\).*/\1/p' | tail -n 1)
[ -n "$eno" ] && [ "$eno" -gt 0 ] || fail "no ENOBUFS counted: $(json_lines '"type":"counters"')"
pk=$(json_lines '"type":"counters"' | sed -n 's/.*"packets":\([0-9]*\).*/\1/p' | tail -n 1)
[ "$pk" -lt $((SENT + 2)) ] || fail "every packet arrived ($pk of $SENT): nothing overflowed"
wait_for "$TMP/stats.prom" '^portclass_nfq_enobufs_total\{queue="0"\} [1-9]' 5 ||
	fail "stats file lacks ENOBUFS"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi

rm -f "$TMP/stats.prom"
nfq_start -c "$TMP/rules" -q 0 --fail-closed --queue-maxlen 4 --log-rate 5 \
	--stats-file "$TMP/stats.prom" --stats-interval 1
flood '^portclass_nfq_queue_dropped_total\{queue="0"\} [1-9]' ||
	fail "queue full drops not counted after $SENT datagrams: $(grep dropped "$TMP/stats.prom")"
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
