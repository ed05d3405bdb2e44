#!/bin/sh
# t_nfq_direction (W4): a packet queued from INPUT is addressed to this
# host, whatever `local` lists.  The policy names the server's global
# addresses only (/32 and /128, as a README-style `local` list would);
# from a second namespace:
#   - a TCP handshake to the server's link-local fe80:: address,
#   - a UDP datagram to ff02::1 (all nodes),
#   - a UDP datagram to the subnet broadcast 10.99.0.255,
# to rogue listeners (tcp 60314, udp 60315 on every address) must not reach
# them and must each be alerted with "dir":"in".  The capture, replayed
# with a `portclass listeners --json` snapshot (which records the host's
# addresses), flags the same packets.
set -u
. tests/nfq/lib.sh
nfq_init direction
need_scapy
command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed"
nfq_peer
peerx iptables -w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
peerx ip6tables -w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
REC=$TMP/rec
: >"$REC"
for l in "tcp 60314" "udp 60315"; do
	set -- $l
	nsx $PY tests/nfq/attack.py listen "$1" "$2" "$REC" "$TMP/l$1.pid" 90 &
	PIDS="$PIDS $!"
	wait_for "$TMP/l$1.pid" . 10 || fail "listener $1 did not start"
done
LL=$(nsx ip -6 addr show dev veth0 scope link | sed -n 's/.*inet6 \(fe80[^/]*\).*/\1/p' | head -n 1)
[ -n "$LL" ] || fail "no link-local address"
cat >"$TMP/rules" <<RULES
dynamic-range iana
local $SRV4/32, $SRV6/128
unexpected drop log
default pass
RULES
# (exit 1: an unexpected listener is a finding)
nsx "$BUILD/portclass" listeners -c "$TMP/rules" --json >"$TMP/snap.json"
[ $? -le 1 ] || fail "listeners --json"
grep -q "\"$LL\"" "$TMP/snap.json" || fail "the snapshot lacks the link-local address: $(head -c 600 "$TMP/snap.json")"
ip netns exec "$NS" tcpdump --immediate-mode -i veth0 -s 0 -U -w "$TMP/cap.pcap" \
	'tcp port 60314 or udp port 60315' 2>"$TMP/tcpdump.err" &
td=$!
PIDS="$PIDS $td"
wait_for "$TMP/tcpdump.err" 'listening' 10 || fail "tcpdump did not start"
nfq_start -r "$TMP/rules" -q 0

r=$(peerx $PY tests/nfq/attack.py tcp "$LL" 60314 W4-LL veth0 2>&1 | tail -n 1)
peerx $PY tests/nfq/attack.py udp ff02::1 60315 W4-MCAST veth0 >/dev/null 2>&1
peerx $PY tests/nfq/attack.py udp 10.99.0.255 60315 W4-BCAST >/dev/null 2>&1
sleep 1
grep -q 'W4-' "$REC" && fail "a probe reached a listener: $(cat "$REC")"
grep -q 'accept' "$REC" && fail "the link-local handshake completed ($r)"
json_lines '"type":"alert"' '"proto":"tcp"' "\"dst\":\"$LL\"" '"dir":"in"' '"verdict":"drop"' |
	grep -q . || fail "link-local SYN not alerted ($r): $(cat "$LOG")"
json_lines '"type":"alert"' '"dst":"ff02::1"' '"dir":"in"' '"verdict":"drop"' |
	grep -q . || fail "ff02::1 not alerted"
json_lines '"type":"alert"' '"dst":"10.99.0.255"' '"dir":"in"' '"verdict":"drop"' |
	grep -q . || fail "subnet broadcast not alerted"
nfq_stop
sleep 0.5
kill $td 2>/dev/null; cp "$TMP/snap.json" "$TMP/cap.pcap" /tmp/ 2>/dev/null
wait $td 2>/dev/null

# Offline: the snapshot's host addresses make the same packets inbound.
out=$("$BUILD/portclass-replay" -c "$TMP/rules" --listeners "$TMP/snap.json" \
	--format jsonl "$TMP/cap.pcap" 2>&1)
[ $? -le 1 ] || fail "replay: $out"
for dst in "$LL" ff02::1 10.99.0.255; do
	printf '%s\n' "$out" | grep '"type":"alert"' | grep "\"dst\":\"$dst\"" |
		grep -q '"dir":"in"' || fail "replay does not flag the packet to $dst: $out"
done
# Without the snapshot the replay only has `local`: the same packets are
# transit (this is what the snapshot's addresses are for).
out=$("$BUILD/portclass-replay" -c "$TMP/rules" --format jsonl "$TMP/cap.pcap" 2>&1)
printf '%s\n' "$out" | grep '"type":"alert"' | grep -q '"dst":"ff02::1"' &&
	fail "replay without addresses flags ff02::1: the check above proves nothing"
echo ok
