#!/bin/sh
# t_nfq_exthdr (W1, W2, W7): headers the kernel reads, the daemon reads.
# From a second namespace over a veth, with scapy, to rogue listeners
# (tcp 60314, udp 60315) under `unexpected drop log`, `default pass`:
#   W1  IPv6 with 9 and with 12 extension headers (hop-by-hop, then
#       destination options and routing), a TCP handshake and a UDP
#       datagram;
#   W2  one destination options header with a 255-byte option pushing TCP
#       past 256 bytes;
#   W7  IPv4 with 40 bytes of IP options and a SYN with 40 bytes of TCP
#       options (120 bytes of headers).
# Nothing reaches a listener, every probe gets its alert line; the capture
# taken on the server's side, replayed under the same rules, flags the same
# packets.
set -u
. tests/nfq/lib.sh
nfq_init exthdr
need_scapy
command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed"
REPLAY=$BUILD/portclass-replay
[ -x "$REPLAY" ] || fail "$REPLAY not built"
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
printf 'dynamic-range iana\nunexpected drop log\ndefault pass\n' >"$TMP/rules"
ip netns exec "$NS" tcpdump --immediate-mode -i veth0 -s 0 -U -w "$TMP/cap.pcap" 'tcp or udp or ip6' 2>"$TMP/tcpdump.err" &
PIDS="$PIDS $!"
wait_for "$TMP/tcpdump.err" 'listening' 10 || fail "tcpdump did not start"
nfq_start -r "$TMP/rules" -q 0

probe() {
	peerx $PY tests/nfq/attack.py "$@" 2>/dev/null | tail -n 1
}
for n in 9 12; do
	r=$(probe exthdr-tcp $SRV6 60314 W1-TCP-$n $n)
	[ "$r" = synack ] && fail "W1: $n extension headers: the SYN was answered"
	probe exthdr-udp $SRV6 60315 W1-UDP-$n $n >/dev/null
done
r=$(probe bigopt-tcp $SRV6 60314 W2-TCP)
[ "$r" = synack ] && fail "W2: the SYN behind a 255-byte option was answered"
r=$(probe synopt $SRV4 60314 W7)
[ "$r" = synack ] && fail "W7: the SYN with 120 bytes of headers was answered"
sleep 1
grep -q 'W[127]' "$REC" && fail "a probe reached a listener: $(cat "$REC")"
grep -q 'accept' "$REC" && fail "a handshake completed: $(cat "$REC")"
a6t=$(json_lines '"type":"alert"' '"proto":"tcp"' '"src":"fd00:99::2"' '"dport":60314' '"verdict":"drop"' | grep -c .)
a6u=$(json_lines '"type":"alert"' '"proto":"udp"' '"src":"fd00:99::2"' '"dport":60315' '"verdict":"drop"' | grep -c .)
a4t=$(json_lines '"type":"alert"' '"proto":"tcp"' '"src":"10.99.0.2"' '"dport":60314' '"verdict":"drop"' | grep -c .)
[ "$a6t" -ge 3 ] || fail "W1/W2: $a6t IPv6 TCP alerts, expected 3 or more"
[ "$a6u" -ge 2 ] || fail "W1: $a6u IPv6 UDP alerts, expected 2"
[ "$a4t" -ge 1 ] || fail "W7: no alert for the SYN with 120 bytes of headers"
json_lines '"reason":"invalid"' | grep -q . && fail "a probe was unreadable: $(json_lines '"reason":"invalid"')"
nfq_stop
sleep 0.5

# The capture, replayed: the same SYNs and datagrams are alerts.
out=$("$REPLAY" -c "$TMP/rules" --format jsonl "$TMP/cap.pcap" 2>&1) ||
	[ $? -le 1 ] || fail "replay failed: $out"
r6t=$(printf '%s\n' "$out" | grep '"type":"alert"' | grep '"proto":"tcp"' | grep '"src":"fd00:99::2"' | grep -c '"dport":60314')
r6u=$(printf '%s\n' "$out" | grep '"type":"alert"' | grep '"proto":"udp"' | grep -c '"dport":60315')
r4t=$(printf '%s\n' "$out" | grep '"type":"alert"' | grep '"src":"10.99.0.2"' | grep -c '"dport":60314')
[ "$r6t" -ge 3 ] || fail "replay: $r6t IPv6 TCP alerts: $out"
[ "$r6u" -ge 2 ] || fail "replay: $r6u IPv6 UDP alerts"
[ "$r4t" -ge 1 ] || fail "replay: no alert for the W7 SYN"
printf '%s\n' "$out" | grep '"type":"packet"\|"type":"alert"' | grep -q '"error":"[a-z]' &&
	fail "replay: unreadable packets: $(printf '%s\n' "$out" | grep '"error":"[a-z]')"
echo ok
