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

# One transaction a family: a re-run the kernel refuses (a protocol it does
# not know) leaves the rules in force as they were, never an empty or
# half-filled chain that lets NEW connections past the queue.
before=$(rules4)
rc=0
nsx sh $S -4 -q 7 -P "tcp nosuchproto" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "an unknown protocol was accepted"
[ "$(rules4)" = "$before" ] || fail "a refused re-run changed the rules: $(rules4)"
# A value that would break the batch's lines is refused before any change.
for bad in "-c A B" "-m 1
-F" "-q 0;1"; do
	rc=0
	# shellcheck disable=SC2086
	nsx sh $S -4 ${bad%% *} "${bad#* }" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "option '$bad': exit $rc"
done
[ "$(rules4)" = "$before" ] || fail "a refused option changed the rules"

nsx sh $S -4 --fail-closed -c PCTEST || fail "-4 --fail-closed -c"
nsx iptables -w -S PCTEST | grep NFQUEUE | grep -q -- --queue-bypass && fail "--fail-closed kept bypass"
nsx ip6tables -w -S PCTEST >/dev/null 2>&1 && fail "-4 touched ip6tables"

rc=0
nsx sh $S --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"

# The queue selector file (the one portclass-replay --queue reads): its
# protocols, port list, interfaces, queue and INVALID handling become the
# rules; an option still overrides it.
Q=$TMP/queue.conf
cat >"$Q" <<'CONF'
# a comment
protos tcp sctp    # not udp
ports 60000-61000,8080
interfaces lo
invalid drop
queue 3
CONF
nsx sh $S -C "$Q" -4 || fail "-C"
r4=$(rules4)
has "$r4" '-A PORTCLASS -i lo -p tcp -m multiport --dports 60000:61000,8080 -m conntrack --ctstate NEW -m mark ! --mark 0x70c1a55 -j NFQUEUE --queue-num 3 --queue-bypass'
has "$r4" '-A PORTCLASS -i lo -p sctp -m multiport --dports 60000:61000,8080 -m conntrack --ctstate NEW'
has "$r4" '-A PORTCLASS -i lo -m conntrack --ctstate INVALID -j DROP'
printf '%s\n' "$r4" | grep -q -- '-p udp' && fail "-C: udp queued: $r4"
first_q=$(printf '%s\n' "$r4" | grep -n NFQUEUE | head -n 1 | cut -d: -f1)
inv=$(printf '%s\n' "$r4" | grep -n 'INVALID' | head -n 1 | cut -d: -f1)
[ "$inv" -lt "$first_q" ] || fail "INVALID drop after the queue rules"
nsx sh $S -C "$Q" -4 -q 7 || fail "-C with -q"
rules4 | grep -q -- '--queue-num 7' || fail "-q did not override the file"
printf 'invalid accept\n' >"$Q"
nsx sh $S -C "$Q" -4 || fail "-C invalid accept"
rules4 | grep -q INVALID && fail "invalid accept kept the INVALID drop"
rc=0
nsx sh $S -C "$TMP/no-such.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-C missing file: exit $rc"
printf 'colour blue\n' >"$Q"
rc=0
nsx sh $S -C "$Q" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-C unknown setting: exit $rc"
# The bundled file and the replay agree on it: portclass-replay reads it.
if [ -x "$BUILD/portclass-replay" ]; then
	"$BUILD/portclass-replay" --queue contrib/queue.conf --format jsonl \
		/dev/null >/dev/null 2>"$TMP/qerr"
	grep -q -- '--queue' "$TMP/qerr" && fail "replay rejects contrib/queue.conf: $(cat "$TMP/qerr")"
fi
# nft-setup.sh: the nftables form of the same file.
printf 'protos tcp udp\nports 32768-60999\ninterfaces lo\nqueue 0:1\n' >"$Q"
out=$(sh contrib/nft-setup.sh -C "$Q") || fail "nft-setup.sh"
has "$out" 'iifname "lo" meta mark != 0x070c1a55 ct state new meta l4proto { tcp, udp } th dport 32768-60999 queue flags bypass,fanout to 0-1'
has "$out" 'ct state invalid drop'
printf 'invalid accept\n' >"$Q"
sh contrib/nft-setup.sh -C "$Q" | grep -q 'invalid drop' && fail "nft-setup.sh: invalid accept"

for i in 1 2; do
	nsx sh $T || fail "teardown run $i"
	nsx sh $T -c PCTEST || fail "teardown -c run $i"
done
nsx iptables -w -S | grep -q -e PORTCLASS -e PCTEST && fail "IPv4 leftovers"
nsx ip6tables -w -S | grep -q PORTCLASS && fail "IPv6 leftovers"
echo ok
