#!/bin/sh
# t_nfq_assumenew: NEW for UDP.  Conntrack keeps a UDP flow NEW until the
# other side answers, so `--ctstate NEW` queues every unanswered datagram.
# With the kernel's conntrack state (or --assume-new where the kernel does
# not give it) each of them is an attempt: a client repeating datagrams on
# one socket to a rogue UDP listener is refused every time.  Expected
# listeners and services, whose first answer makes the flow ESTABLISHED,
# are unaffected.  Without either, the flow table decides (as the replay
# does), and it too keeps an unanswered flow's datagrams attempts.
set -u
. tests/nfq/lib.sh
nfq_init assumenew

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect udp port 55000\n' >"$TMP/rules"
server udp 0.0.0.0 60315 rogue
server udp 0.0.0.0 55000 expected
server tcp 0.0.0.0 8080 web
repeat() {
	timeout 30 ip netns exec "$NS" $PY "$PCPY" udp-repeat 127.0.0.1 "$1" 3 2
}

nfq_start -c "$TMP/rules" -q 0 --assume-new
got=$(repeat 60315)
[ "$got" = "refused refused refused" ] || fail "--assume-new, rogue: $got"
got=$(repeat 55000)
[ "$got" = "ok ok ok" ] || fail "--assume-new, expected: $got"
expect_client ok tcp 127.0.0.1 8080 3
expect_client ok tcp 127.0.0.1 8080 3 60700
if grep -q 'does not provide conntrack' "$ERR"; then
	json_lines '"type":"alert"' '"dport":60315' '"conntrack":"assumed-new"' |
		grep -q . || fail "alert does not say assumed-new"
fi
[ "$(json_lines '"type":"alert"' '"dport":60315' | grep -c .)" -eq 3 ] ||
	fail "want 3 alerts: $(json_lines '"dport":60315')"
nfq_stop

nfq_start -c "$TMP/rules" -q 0
got=$(repeat 60315)
[ "$got" = "refused refused refused" ] || fail "without --assume-new, rogue: $got"
got=$(repeat 55000)
[ "$got" = "ok ok ok" ] || fail "without --assume-new, expected: $got"
nfq_stop
echo ok
