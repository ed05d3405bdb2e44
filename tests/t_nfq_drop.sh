#!/bin/sh
# t_nfq_drop: `unexpected drop` and an explicit `drop` rule: the client
# gets no answer and times out (TCP and UDP); the drop is logged with type
# "drop" for the explicit rule and "alert" for the unexpected listener; a
# reject rule on a user port is reset.  Passed traffic is untouched.
set -u
. tests/nfq/lib.sh
nfq_init drop

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
cat >"$TMP/rules" <<RULES
unexpected drop log
default pass
drop log tcp to port 8081
reject tcp to port 8082
loopback inbound
RULES

server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 60315 rogueudp
server tcp 0.0.0.0 8080 web
server tcp 0.0.0.0 8081 web1
server tcp 0.0.0.0 8082 web2
nfq_start -c "$TMP/rules" -q 0

expect_client timeout tcp 127.0.0.1 60314 2
expect_client timeout udp 127.0.0.1 60315 2
expect_client timeout tcp 127.0.0.1 8081 2
expect_client refused tcp 127.0.0.1 8082 2
expect_client ok tcp 127.0.0.1 8080 2

wait_for "$LOG" '"dport":8081' 5 || fail "no line for 8081"
json_lines '"type":"alert"' '"dport":60314' '"verdict":"drop"' \
	"\"pid\":$(cat "$TMP/rogue.pid")," | grep -q . || fail "rogue drop alert"
json_lines '"type":"drop"' '"dport":8081' '"reason":"rule"' '"rule":"[^"]*rules:3"' \
	'"listener":"present"' "\"pid\":$(cat "$TMP/web1.pid")," |
	grep -q . || fail "explicit drop line: $(json_lines '"dport":8081')"
# Retransmitted SYNs are queued (and dropped) again.
n=$(json_lines '"dport":60314' | grep -c .)
[ "$n" -ge 2 ] || fail "only $n lines for the retransmitting client"
# Whether NEW is the flow table's or the kernel's (Debian's kernel, make
# check-vm: the dropped SYN took its unconfirmed conntrack entry with it,
# so every retransmit is NEW again to conntrack), the flow table remembers
# the attempt: the first one, then retransmits ...
[ "$(json_lines '"dport":60314' '"retransmit":false' | grep -c .)" -eq 1 ] ||
	fail "the first attempt is not the only non-retransmit"
json_lines '"dport":60314' '"retransmit":true' | grep -q . ||
	fail "retransmits not marked"
if json_lines '"type":"start"' '"conntrack":"kernel"' | grep -q .; then
	[ "$(json_lines '"dport":60314' '"conntrack":"new"' | grep -c .)" -eq "$n" ] ||
		fail "a retransmit that is not the kernel's NEW: $(json_lines '"dport":60314')"
fi
want=2
# ... counted once each as alerts.
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
json_lines '"type":"counters"' "\"alerts_rogue\":$want," | grep -q . ||
	fail "alerts_rogue is not $want: $(json_lines '"type":"counters"')"
# `reject` without `log` is still logged: every drop and reject is.
json_lines '"type":"reject"' '"dport":8082' '"log":false' '"rule":"[^"]*rules:4"' |
	grep -q . ||
	fail "reject without log not logged"

nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
