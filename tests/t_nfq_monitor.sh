#!/bin/sh
# t_nfq_monitor: --monitor accepts everything (the rogue listener answers)
# but logs what would have been rejected, with "enforced":false.  Events
# go to --log-file, which SIGHUP reopens after rotation.
set -u
. tests/nfq/lib.sh
nfq_init monitor

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
cat >"$TMP/rules" <<RULES
loopback inbound
unexpected reject log
default pass
drop tcp to port 8081
RULES
server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 60315 rogueudp
server tcp 0.0.0.0 8081 web1
LOG=$TMP/events.log
nfq_start -c "$TMP/rules" -q 0 --monitor --stats-file "$TMP/stats.prom" \
	--log-file "$LOG"
grep -q '"monitor":true' "$LOG" || fail "start line does not say monitor"

expect_client ok tcp 127.0.0.1 60314 3
expect_client ok udp 127.0.0.1 60315 3
expect_client ok tcp 127.0.0.1 8081 3
wait_for "$LOG" '"dport":8081' 5 || fail "no line for 8081"
json_lines '"type":"alert"' '"dport":60314' '"verdict":"reject"' \
	'"enforced":false' "\"pid\":$(cat "$TMP/rogue.pid")," | grep -q . ||
	fail "monitor alert for 60314"
json_lines '"type":"alert"' '"dport":60315' '"enforced":false' | grep -q . ||
	fail "monitor alert for UDP 60315"
json_lines '"type":"drop"' '"dport":8081' '"enforced":false' | grep -q . ||
	fail "monitor drop line for 8081"
# Rotation: move the file away, SIGHUP, the daemon writes a new one.
mv "$LOG" "$LOG.1"
kill -HUP "$DAEMON"
wait_for "$LOG" '"type":"reload".*"ok":true' 5 || fail "no new log file after SIGHUP"
grep -q '"type":"start"' "$LOG.1" || fail "rotated file lost its lines"
expect_client ok tcp 127.0.0.1 60314 3
wait_for "$LOG" '"dport":60314' 5 || fail "events not in the new file"
nfq_stop
grep -q '^portclass_nfq_monitor 1$' "$TMP/stats.prom" || fail "stats monitor gauge"
echo ok
