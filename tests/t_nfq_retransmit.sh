#!/bin/sh
# t_nfq_retransmit: with the kernel's conntrack state (or --assume-new,
# where the kernel gives none) every copy of an unanswered SYN is NEW and
# queued again.  Each is decided (dropped) and logged, but only the first
# is a new alert: the repeats say "retransmit":true and the counters count
# one rogue alert.  The same for a UDP datagram repeated on one flow.
set -u
. tests/nfq/lib.sh
nfq_init retransmit
nfq_peer
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'unexpected drop log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 60315 rogueudp
nfq_start -r "$TMP/rules" -q 0 --assume-new
# One connect: the SYN and its retransmissions (1 s, 3 s).
r=$(peerx $PY "$PCPY" tcp-client $SRV4 60314 4)
case "$r" in timeout*) ;; *) fail "client: $r" ;; esac
# One UDP flow, three datagrams.
peerx $PY "$PCPY" udp-repeat $SRV4 60315 3 1 >/dev/null
sleep 0.5
n=$(json_lines '"type":"alert"' '"dport":60314' | grep -c .)
[ "$n" -ge 2 ] || fail "only $n lines for the retransmitting client"
[ "$(json_lines '"type":"alert"' '"dport":60314' '"retransmit":false' | grep -c .)" = 1 ] ||
	fail "not exactly one first attempt: $(json_lines '"dport":60314')"
[ "$(json_lines '"type":"alert"' '"dport":60314' '"retransmit":true' | grep -c .)" = $((n - 1)) ] ||
	fail "repeats not marked: $(json_lines '"dport":60314')"
json_lines '"dport":60314' | grep -v '"verdict":"drop"' | grep -q . && fail "a repeat was not dropped"
u=$(json_lines '"type":"alert"' '"dport":60315' | grep -c .)
[ "$u" -ge 2 ] || fail "only $u lines for the repeated datagrams"
[ "$(json_lines '"type":"alert"' '"dport":60315' '"retransmit":true' | grep -c .)" = $((u - 1)) ] ||
	fail "UDP repeats not marked: $(json_lines '"dport":60315')"
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
json_lines '"type":"counters"' | tail -n 1 | grep -q '"alerts_rogue":2[,}]' ||
	fail "rogue alerts counted: $(json_lines '"type":"counters"' | tail -n 1)"
nfq_stop
echo ok
