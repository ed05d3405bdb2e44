#!/bin/sh
# t_nfq_setup: contrib/iptables-setup.sh and iptables-teardown.sh, in a
# namespace: the rules each option produces (IPv4 and IPv6), the reject
# rules ahead of the queue rules, idempotence, and a clean teardown.
set -u
. tests/nfq/lib.sh
nfq_init setup

S=contrib/iptables-setup.sh
T=contrib/iptables-teardown.sh
rules4() { nsx iptables -w -S PORTCLASS 2>/dev/null; }
rules6() { nsx ip6tables -w -S PORTCLASS 2>/dev/null; }
has() { printf '%s\n' "$1" | grep -qF -- "$2" || fail "missing '$2' in: $1"; }

nsx sh $S || fail "defaults"
r4=$(rules4)
r6=$(rules6)
has "$r4" '-A PORTCLASS -p tcp -m mark --mark 0x70c1a55 -j REJECT --reject-with tcp-reset'
has "$r4" '-A PORTCLASS -p udp -m mark --mark 0x70c1a55 -j REJECT --reject-with icmp-port-unreachable'
has "$r4" '-A PORTCLASS -p tcp -m conntrack --ctstate NEW -m mark ! --mark 0x70c1a55 -j NFQUEUE --queue-num 0 --queue-bypass'
has "$r6" '-A PORTCLASS -p udp -m mark --mark 0x70c1a55 -j REJECT --reject-with icmp6-port-unreachable'
has "$r6" '-A PORTCLASS -p udp -m conntrack --ctstate NEW -m mark ! --mark 0x70c1a55 -j NFQUEUE --queue-num 0 --queue-bypass'
# Rejects come first: a marked packet must never reach the queue rule.
first_q=$(printf '%s\n' "$r4" | grep -n NFQUEUE | head -n 1 | cut -d: -f1)
last_r=$(printf '%s\n' "$r4" | grep -n REJECT | tail -n 1 | cut -d: -f1)
[ "$last_r" -lt "$first_q" ] || fail "REJECT rules after the queue rules"
nsx iptables -w -S INPUT | grep -qx -- '-A INPUT -j PORTCLASS' || fail "no jump from INPUT"

# Options, and idempotence: a second run replaces, never duplicates.
for i in 1 2; do
	nsx sh $S -q 2:5 -i lo -p 32768:65535 -P "tcp udp sctp" -m 0x1234 ||
		fail "options"
done
r4=$(rules4)
has "$r4" '-A PORTCLASS -i lo -p sctp -m mark --mark 0x1234 -j REJECT --reject-with icmp-port-unreachable'
has "$r4" '-A PORTCLASS -i lo -p tcp -m tcp --dport 32768:65535 -m conntrack --ctstate NEW -m mark ! --mark 0x1234 -j NFQUEUE --queue-balance 2:5 --queue-bypass --queue-cpu-fanout'
has "$r4" '-A PORTCLASS -i lo -p sctp -m sctp --dport 32768:65535 -m conntrack --ctstate NEW'
[ "$(printf '%s\n' "$r4" | grep -c NFQUEUE)" -eq 3 ] || fail "duplicated rules: $r4"
[ "$(nsx iptables -w -S INPUT | grep -c PORTCLASS)" -eq 1 ] || fail "duplicated jump"

nsx sh $S -4 --fail-closed -c PCTEST || fail "-4 --fail-closed -c"
nsx iptables -w -S PCTEST | grep NFQUEUE | grep -q -- --queue-bypass && fail "--fail-closed kept bypass"
nsx ip6tables -w -S PCTEST >/dev/null 2>&1 && fail "-4 touched ip6tables"

rc=0
nsx sh $S --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"

for i in 1 2; do
	nsx sh $T || fail "teardown run $i"
	nsx sh $T -c PCTEST || fail "teardown -c run $i"
done
nsx iptables -w -S | grep -q -e PORTCLASS -e PCTEST && fail "IPv4 leftovers"
nsx ip6tables -w -S | grep -q PORTCLASS && fail "IPv6 leftovers"
echo ok
