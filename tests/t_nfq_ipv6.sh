#!/bin/sh
# t_nfq_ipv6: the same policy over ::1 through ip6tables: a rogue TCP
# listener is reset and named, a rogue UDP socket gets ICMPv6 port
# unreachable, the expected UDP listener and a user-port service work.
set -u
. tests/nfq/lib.sh
nfq_init ipv6

nsx contrib/iptables-setup.sh -6 -q 0 || fail "iptables-setup.sh -6"
nsx ip6tables -w -S PORTCLASS | grep -q 'icmp6-port-unreachable' ||
	fail "no ICMPv6 reject rule"
cat >"$TMP/rules" <<RULES
loopback inbound
unexpected reject log
default pass
expect udp port 55000
RULES

server tcp ::1 60314 rogue
server udp ::1 60315 rogueudp
server udp ::1 55000 expected
server tcp ::1 8080 web
nfq_start -c "$TMP/rules" -q 0

expect_client refused tcp ::1 60314 3
rogue_pid=$(cat "$TMP/rogue.pid")
wait_for "$LOG" '"dport":60314' 5 || fail "no alert for [::1]:60314"
json_lines '"type":"alert"' '"src":"::1"' '"dst":"::1"' '"listener":"rogue"' \
	"\"pid\":$rogue_pid," '"verdict":"reject"' | grep -q . ||
	fail "IPv6 alert wrong"

expect_client refused udp ::1 60315 3
wait_for "$LOG" '"dport":60315' 5 || fail "no alert for UDP [::1]:60315"
json_lines '"proto":"udp"' '"dport":60315' "\"pid\":$(cat "$TMP/rogueudp.pid")," |
	grep -q . || fail "IPv6 UDP alert lacks the owner"

expect_client ok udp ::1 55000 3
expect_client ok tcp ::1 8080 3
expect_client ok tcp ::1 8080 3 60600
json_lines '"dport":55000' | grep -q . && fail "expected listener logged"

nfq_stop INT
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC after SIGINT"
grep -q '"type":"stop"' "$LOG" || fail "no stop line after SIGINT"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
