#!/bin/sh
# t_tshark_ports: per-frame source and destination ports, portclass-replay
# against tshark, over every capture of ../shared/corpus/tcpdump that
# portclass-replay reads (exit 0).  The captures are concatenated with
# mergecap -a so that tshark starts once (its start-up dominates), and
# the frames are matched back in order.  Every disagreement is listed;
# one not documented in tests/tshark/allow (with a reason) fails the test.
# Skips (77) without the corpus, tshark or mergecap.
set -u
: "${BUILD:=build}"
REPLAY=$BUILD/portclass-replay
CORPUS=${PC_CORPUS:-../shared/corpus/tcpdump}
ALLOW=tests/tshark/allow
[ -x "$REPLAY" ] || { echo "skip: $REPLAY not built"; exit 77; }
[ -d "$CORPUS" ] || { echo "skip: no corpus at $CORPUS"; exit 77; }
for t in tshark mergecap python3; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/list"
n=0
for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	out=$tmp/$n.jsonl
	if timeout 10 "$REPLAY" -c contrib/default.rules \
		--format jsonl --events packets "$f" >"$out" 2>/dev/null </dev/null; then
		printf '%s\t%s\n' "$f" "$out" >>"$tmp/list"
	else
		rm -f "$out"
	fi
done
[ -s "$tmp/list" ] || { echo "skip: no capture read"; exit 77; }
# BIG TCP (IPv4 total length 0; IPv6 payload length 0, with or without a
# jumbo option; inside VXLAN and Geneve): read as the kernel and tcpdump
# read them, every frame with its ports, none flagged.
for f in "$CORPUS"/bigtcp-*.pcap; do
	[ -f "$f" ] || continue
	out=$(grep -F "$f	" "$tmp/list" | cut -f2)
	[ -n "$out" ] || { echo "FAIL: $f not read"; exit 1; }
	if grep '"type":"packet"' "$out" | grep -q -e '"sport":null' -e '"error":"'; then
		echo "FAIL: $f: a frame without ports or flagged:"
		grep '"type":"packet"' "$out" | grep -e '"sport":null' -e '"error":"' | head -n 3
		exit 1
	fi
done
# shellcheck disable=SC2046
mergecap -a -F pcapng -w "$tmp/all.pcapng" $(cut -f1 "$tmp/list") ||
	{ echo "FAIL: mergecap"; exit 1; }
tshark -n -r "$tmp/all.pcapng" -T fields -e frame.number -e frame.time_epoch \
	-e frame.protocols -e tcp.srcport -e tcp.dstport -e udp.srcport \
	-e udp.dstport >"$tmp/tshark.tsv" 2>"$tmp/tshark.err" ||
	{ echo "FAIL: tshark: $(head -n 3 "$tmp/tshark.err")"; exit 1; }
if python3 tests/tshark/ports.py "$ALLOW" "$tmp/tshark.tsv" "$tmp/list" >"$tmp/res"; then
	grep -v '^allowed' "$tmp/res" | tail -n 20
	tail -n 1 "$tmp/res"
	echo ok
	exit 0
fi
grep -v '^allowed' "$tmp/res"
echo "FAIL: disagreements with tshark (document real ones in $ALLOW)"
exit 1
