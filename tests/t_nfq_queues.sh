#!/bin/sh
# t_nfq_queues: -q 0:1 binds two queues, one thread each, behind
# `iptables-setup.sh -q 0:1` (--queue-balance 0:1 --queue-cpu-fanout).
# Clients pinned to each CPU land on each queue; both enforce the policy.
set -u
. tests/nfq/lib.sh
nfq_init queues

nsx contrib/iptables-setup.sh -q 0:1 || fail "iptables-setup.sh -q 0:1"
nsx iptables -w -S PORTCLASS | grep -q -- '--queue-balance 0:1' ||
	fail "no --queue-balance rule"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server tcp 0.0.0.0 8080 web
nfq_start -c "$TMP/rules" -q 0:1
n=$(nsx awk '$1 == 0 || $1 == 1' /proc/net/netfilter/nfnetlink_queue | grep -c .)
[ "$n" -eq 2 ] || fail "$n queues bound, want 2"
# One thread per queue, plus the main thread (signals, stats).
nt=$(ls /proc/"$DAEMON"/task | grep -c .)
[ "$nt" -eq 3 ] || fail "$nt threads, want 3"
ncpu=$(nproc)
[ "$ncpu" -gt 2 ] && ncpu=2
cpu=0
while [ $cpu -lt "$ncpu" ]; do
	got=$(timeout 10 ip netns exec "$NS" taskset -c $cpu $PY "$PCPY" tcp-client 127.0.0.1 60314 3)
	case "$got" in refused*) ;; *) fail "cpu $cpu rogue: $got" ;; esac
	got=$(timeout 10 ip netns exec "$NS" taskset -c $cpu $PY "$PCPY" tcp-client 127.0.0.1 8080 3)
	case "$got" in ok*) ;; *) fail "cpu $cpu service: $got" ;; esac
	cpu=$((cpu + 1))
done
wait_for "$LOG" '"dport":60314' 5 || fail "no alert"
if [ "$ncpu" -ge 2 ]; then
	json_lines '"queue":0,' '"dport":60314' | grep -q . || fail "no alert from queue 0"
	json_lines '"queue":1,' '"dport":60314' | grep -q . || fail "no alert from queue 1"
fi
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
