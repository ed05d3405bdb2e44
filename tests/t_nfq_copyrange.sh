#!/bin/sh
# t_nfq_copyrange: the copy range must hold IPv6 extension headers.  A UDP
# datagram over ::1 with a 48-byte destination options header reaches a
# rogue listener: with the default copy range (256) the daemon sees the
# ports and rejects it; with --copy-range 64 the UDP header is cut off, the
# packet is truncated, and it gets the `default` verdict (pass) with
# "error":"truncated-...".
set -u
. tests/nfq/lib.sh
nfq_init copyrange

nsx contrib/iptables-setup.sh -6 -q 0 || fail "iptables-setup.sh"
printf 'unexpected reject log\ndefault pass log\n' >"$TMP/rules"
server udp ::1 60315 rogue

nfq_start -c "$TMP/rules" -q 0
expect_client refused udp ::1 60315 3 48
wait_for "$LOG" '"dport":60315' 5 || fail "no alert with the default copy range"
json_lines '"type":"alert"' '"dport":60315' '"error":null' | grep -q . ||
	fail "alert: $(json_lines '"dport":60315')"
nfq_stop

nfq_start -c "$TMP/rules" -q 0 --copy-range 64
expect_client ok udp ::1 60315 3 48
wait_for "$LOG" '"error":"truncated' 5 || fail "no truncated packet logged"
json_lines '"type":"log"' '"reason":"invalid"' '"verdict":"pass"' \
	'"error":"truncated-' | grep -q . || fail "truncated: $(cat "$LOG")"
json_lines '"type":"alert"' | grep -q . && fail "alert from a truncated packet"
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
json_lines '"type":"counters"' '"invalid":[1-9]' | grep -q . || fail "invalid not counted"
nfq_stop
echo ok
