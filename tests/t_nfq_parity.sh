#!/bin/sh
# t_nfq_parity: live and offline give the same verdicts.  In a namespace:
# the daemon enforces a policy while tcpdump records the loopback traffic
# (rogue TCP and UDP listeners, a probe, an expected UDP listener, a
# listener expected by program name and one whose program does not match,
# services allowed and dropped by explicit rules, IPv4 and IPv6); `portclass
# listeners --json` takes the snapshot; then portclass-replay evaluates the
# capture with the same rules and snapshot.  Every connection attempt must
# get the same verdict, and the alerts the same listener and pid.
set -u
. tests/nfq/lib.sh
REPLAY=$BUILD/portclass-replay
PORTCLASS=$BUILD/portclass
[ -x "$REPLAY" ] || { echo "skip: $REPLAY not built"; exit 77; }
[ -x "$PORTCLASS" ] || { echo "skip: $PORTCLASS not built"; exit 77; }
command -v tcpdump >/dev/null 2>&1 || { echo "skip: tcpdump not installed"; exit 77; }
nfq_init parity

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 60315 rogueudp
server udp 0.0.0.0 55000 expected
server tcp 0.0.0.0 8080 web
server tcp 0.0.0.0 8081 web1
server tcp ::1 60316 rogue6
server tcp 0.0.0.0 60317 pyexp
server tcp 0.0.0.0 60318 pyother
comm=$(cat "/proc/$(cat "$TMP/pyexp.pid")/comm")
R=$TMP/rules
cat >"$R" <<RULES
loopback inbound
dynamic-range iana
unexpected reject log
default pass
expect udp port 55000
drop log tcp to port 8081
expect tcp port 60317 program "$comm"
expect tcp port 60318 program no-such-program
RULES

nsx "$PORTCLASS" listeners --json -c "$R" >"$TMP/snap.json"
[ $? -le 1 ] || fail "portclass listeners --json"
grep -q '"port":60314' "$TMP/snap.json" || fail "snapshot lacks 60314"

ip netns exec "$NS" tcpdump -i lo -U --immediate-mode -n -s 512 -w "$TMP/cap.pcap" \
	>/dev/null 2>"$TMP/tcpdump.err" &
TCPDUMP=$!
PIDS="$PIDS $TCPDUMP"
wait_for "$TMP/tcpdump.err" 'listening on' 5 || fail "tcpdump did not start"

nfq_start -c "$R" -q 0
expect_client refused tcp 127.0.0.1 60314 3
expect_client refused udp 127.0.0.1 60315 3
expect_client refused tcp 127.0.0.1 61000 3
expect_client ok udp 127.0.0.1 55000 3
expect_client ok tcp 127.0.0.1 8080 3
expect_client timeout tcp 127.0.0.1 8081 2
expect_client refused tcp ::1 60316 3
expect_client ok tcp 127.0.0.1 8080 3 60500
expect_client ok tcp 127.0.0.1 60317 3
expect_client refused tcp 127.0.0.1 60318 3
sleep 0.5
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
timeout 60 "$REPLAY" -c "$R" --listeners "$TMP/snap.json" --format jsonl \
	--events packets "$TMP/cap.pcap" >"$TMP/packets.jsonl" 2>"$TMP/replay.err" || rc=$?
[ $rc -eq 0 ] || fail "replay --events packets: exit $rc: $(cat "$TMP/replay.err")"
rc=0
timeout 60 "$REPLAY" -c "$R" --listeners "$TMP/snap.json" --format jsonl \
	--events alerts "$TMP/cap.pcap" >"$TMP/alerts.jsonl" 2>"$TMP/replay.err" || rc=$?
[ $rc -eq 0 ] || fail "replay --events alerts: exit $rc: $(cat "$TMP/replay.err")"

$PY tests/nfq/parity.py "$LOG" "$TMP/packets.jsonl" "$TMP/alerts.jsonl" >"$TMP/parity" ||
	fail "live and offline differ: $(cat "$TMP/parity")"
# The comparison must have covered the interesting cases.
for want in ':60314 live=reject' ':60315 live=reject' ':61000 live=reject' \
	':55000 live=pass' ':8080 live=pass' ':8081 live=drop' ':60316 live=reject' \
	':60317 live=pass' ':60318 live=reject'; do
	grep -q -- "$want" "$TMP/parity" || fail "parity did not cover $want: $(cat "$TMP/parity")"
done
echo ok
