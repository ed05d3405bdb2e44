#!/bin/sh
# t_nfq_copyrange: the copy range and what does not fit in it.
# - The default copies whole packets: a UDP datagram over ::1 with a
#   48-byte destination options header to a rogue listener is read and
#   rejected as unexpected.
# - --copy-range below 120 bytes (the longest IPv4 + TCP headers) is
#   refused at start (W7: with 64 a SYN with 40 bytes of options would
#   have its ports cut off).
# - With --copy-range 120, a 136-byte destination options header pushes
#   the UDP header out of the copy: the packet is truncated and gets the
#   `invalid` action (drop log by default), not `default pass`: the
#   listener receives nothing, and the drop is logged with the reason.
set -u
. tests/nfq/lib.sh
nfq_init copyrange

nsx contrib/iptables-setup.sh -6 -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass log\n' >"$TMP/rules"
server udp ::1 60315 rogue

nfq_start -c "$TMP/rules" -q 0
expect_client refused udp ::1 60315 3 48
wait_for "$LOG" '"dport":60315' 5 || fail "no alert with the default copy range"
json_lines '"type":"alert"' '"dport":60315' '"error":null' | grep -q . ||
	fail "alert: $(json_lines '"dport":60315')"
nfq_stop

for cr in 64 119; do
	out=$(ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 0 --copy-range $cr 2>&1)
	rc=$?
	[ "$rc" = 2 ] || fail "--copy-range $cr: exit $rc, expected 2 ($out)"
	printf '%s\n' "$out" | grep -q 'invalid --copy-range.*120' ||
		fail "--copy-range $cr: message '$out'"
done

nfq_start -c "$TMP/rules" -q 0 --copy-range 120
expect_client timeout udp ::1 60315 2 136
wait_for "$LOG" '"error":"truncated' 5 || fail "no truncated packet logged"
json_lines '"type":"drop"' '"reason":"invalid"' '"verdict":"drop"' \
	'"error":"truncated-' | grep -q . || fail "truncated: $(cat "$LOG")"
json_lines '"type":"alert"' | grep -q . && fail "alert from a truncated packet"
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
json_lines '"type":"counters"' '"invalid":[1-9]' | grep -q . || fail "invalid not counted"
nfq_stop
echo ok
