#!/bin/sh
# t_nfq_parity_kernel: what the kernel does in front of the queue, live and
# replayed.  Two namespaces and a veth (MTU 1500): the server runs the
# contrib rules from a queue.conf and the daemon (--assume-new, as this
# kernel hands no conntrack state to the queue); the client sends UDP of
# 3,000 bytes (fragmented on the wire, v4 and v6) where a `filter` rule
# passes only datagrams over 2,000 bytes, small UDP that the filter does
# not pass, a SYN in 8-byte fragments (nmap -f), a lone ACK (picked up by
# conntrack as NEW), SYN+FIN (conntrack INVALID, dropped by the firewall),
# and an SCTP INIT (outside the tcp/udp selector).  tcpdump records the
# server's veth; portclass-replay decides the capture with the same rules,
# snapshot and queue.conf; every attempt must get the same verdict.
set -u
. tests/nfq/lib.sh
REPLAY=$BUILD/portclass-replay
PORTCLASS=$BUILD/portclass
[ -x "$REPLAY" ] || { echo "skip: $REPLAY not built"; exit 77; }
[ -x "$PORTCLASS" ] || { echo "skip: $PORTCLASS not built"; exit 77; }
command -v tcpdump >/dev/null 2>&1 || { echo "skip: tcpdump not installed"; exit 77; }
nfq_init paritykernel
need_scapy
CNS="$NS-c"
VS="pvs$$"
VC="pvc$$"
cleanup_all() {
	ip netns del "$CNS" 2>/dev/null
	nfq_cleanup
}
trap cleanup_all EXIT

ip netns add "$CNS" || fail "client namespace"
ip link add "$VS" type veth peer name "$VC" || fail "veth"
ip link set "$VS" netns "$NS" && ip link set "$VC" netns "$CNS" || fail "veth move"
nsx ip addr add 10.9.0.1/24 dev "$VS"
nsx ip addr add fd00:9::1/64 dev "$VS" nodad
nsx ip link set "$VS" up
cx() { ip netns exec "$CNS" "$@"; }
cx ip link set lo up
cx ip addr add 10.9.0.2/24 dev "$VC"
cx ip addr add fd00:9::2/64 dev "$VC" nodad
cx ip link set "$VC" up
i=0
until cx ping -c1 -W1 10.9.0.1 >/dev/null 2>&1 || [ $i -ge 20 ]; do
	sleep 0.2
	i=$((i + 1))
done

Q=$TMP/queue.conf
printf 'protos tcp udp\nports all\ninterfaces all\ninvalid drop\nqueue 0\n' >"$Q"
nsx sh contrib/iptables-setup.sh -C "$Q" || fail "iptables-setup.sh -C"

server tcp 0.0.0.0 60314 rogue
server udp :: 60600 udpbig
R=$TMP/rules
cat >"$R" <<'RULES'
dynamic-range iana
local 10.9.0.1, fd00:9::1
unexpected reject log
default pass
pass filter "udp and dst port 60600 and greater 2000"
RULES
# (exit 1: an unexpected listener is a finding)
nsx "$PORTCLASS" listeners --json -c "$R" >"$TMP/snap.json"
[ $? -le 1 ] || fail "portclass listeners --json"

ip netns exec "$NS" tcpdump -i "$VS" -U --immediate-mode -n -s 4000 \
	-w "$TMP/cap.pcap" >/dev/null 2>"$TMP/tcpdump.err" &
TCPDUMP=$!
PIDS="$PIDS $TCPDUMP"
wait_for "$TMP/tcpdump.err" 'listening on' 5 || fail "tcpdump did not start"

nfq_start -r "$R" -q 0 --assume-new
P="$PY tests/nfq/probe.py"
cx $P bigudp 10.9.0.1 60600 3000 >/dev/null || fail "bigudp v4"
cx $P bigudp fd00:9::1 60600 3000 >/dev/null || fail "bigudp v6"
sleep 0.3
cx $P bigudp 10.9.0.1 60600 64 >/dev/null || fail "small udp v4"
cx $P bigudp fd00:9::1 60600 64 >/dev/null || fail "small udp v6"
cx $P tiny 10.9.0.2 10.9.0.1 60314 41001 >/dev/null || fail "tiny fragments"
cx $P ack 10.9.0.2 10.9.0.1 60314 41002 >/dev/null || fail "ack"
cx $P synfin 10.9.0.2 10.9.0.1 60314 41003 >/dev/null || fail "synfin"
cx $P sctp 10.9.0.2 10.9.0.1 60317 41004 >/dev/null || fail "sctp"
sleep 1
nfq_stop
kill -INT "$TCPDUMP"
i=0
while kill -0 "$TCPDUMP" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$TCPDUMP" 2>/dev/null
wait "$TCPDUMP" 2>/dev/null

rc=0
timeout 60 "$REPLAY" -c "$R" --queue "$Q" --listeners "$TMP/snap.json" \
	--format jsonl --events packets "$TMP/cap.pcap" >"$TMP/packets.jsonl" \
	2>"$TMP/replay.err" || rc=$?
[ $rc -eq 0 ] || fail "replay --events packets: exit $rc: $(cat "$TMP/replay.err")"
rc=0
timeout 60 "$REPLAY" -c "$R" --queue "$Q" --listeners "$TMP/snap.json" \
	--format jsonl --events alerts "$TMP/cap.pcap" >"$TMP/alerts.jsonl" \
	2>"$TMP/replay.err" || rc=$?
[ $rc -eq 0 ] || fail "replay --events alerts: exit $rc: $(cat "$TMP/replay.err")"

$PY tests/nfq/parity.py "$LOG" "$TMP/packets.jsonl" "$TMP/alerts.jsonl" >"$TMP/parity" ||
	fail "live and offline differ: $(cat "$TMP/parity")"
for want in 'udp 10.9.0.2:[0-9]* -> 10.9.0.1:60600 live=pass offline=pass' \
	'udp 10.9.0.2:[0-9]* -> 10.9.0.1:60600 live=reject offline=reject' \
	'udp fd00:9::2:[0-9]* -> fd00:9::1:60600 live=pass offline=pass' \
	'udp fd00:9::2:[0-9]* -> fd00:9::1:60600 live=reject offline=reject' \
	':41001 -> 10.9.0.1:60314 live=reject' ':41002 -> 10.9.0.1:60314 live=reject' \
	':41003 -> 10.9.0.1:60314 live=pass' ':41004 -> 10.9.0.1:60317 live=pass'; do
	grep -q -- "$want" "$TMP/parity" || fail "parity did not cover $want: $(cat "$TMP/parity")"
done
# The replay says why: reassembled, picked up, INVALID, outside.
grep -q '"sport":41003.*"reason":"conntrack-invalid"' "$TMP/packets.jsonl" ||
	fail "SYN+FIN not conntrack-invalid offline"
grep -q '"sport":41004.*"queue":"outside-selector"' "$TMP/packets.jsonl" ||
	fail "SCTP INIT not outside the selector offline"
grep -q '"fragment":"reassembled"' "$TMP/packets.jsonl" || fail "nothing reassembled offline"
grep -q '"sport":41001.*"fragment":"reassembled"' "$TMP/packets.jsonl" ||
	fail "the tiny fragments were not reassembled offline"
grep -q '"sport":41003' "$LOG" && fail "the daemon was given the SYN+FIN"
grep -q '"sport":41004' "$LOG" && fail "the daemon was given the SCTP INIT"
cat "$TMP/parity" | tail -n 1
echo ok
