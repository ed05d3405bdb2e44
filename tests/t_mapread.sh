#!/bin/sh
# The mapped reader (pcap-replay/mapread.c) and libpcap give the same
# answer, frame for frame: every capture under tests/ and, when present,
# the tcpdump corpus (../shared/corpus/tcpdump) replayed both ways, per-
# frame jsonl and the human summary compared.  Damaged files (truncated
# records, caplen beyond the snap length, cut headers) are where the two
# paths hand over, so they are the point of the test.
set -u
: "${BUILD:=build}"
REPLAY=$BUILD/portclass-replay
[ -x "$REPLAY" ] || { echo "FAIL: $REPLAY not built"; exit 1; }
tmp=$(mktemp -d /tmp/pc-mapread.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

n=0 bad=0
# check FILE [MODES]: both ways, in each output mode; MAPOPT is given to
# the mapped run (a small window makes it slide every few frames).
MAPOPT=""
check() {
	f=$1
	modes=${2:-"--format@jsonl@--events@packets human"}
	for mode in $modes; do
		mode=$(echo "$mode" | tr @ ' ')
		[ "$mode" = human ] && mode=""
		# shellcheck disable=SC2086
		"$REPLAY" -c contrib/default.rules $mode $MAPOPT -r "$f" >"$tmp/a" 2>"$tmp/ae"
		ra=$?
		# shellcheck disable=SC2086
		"$REPLAY" -c contrib/default.rules $mode --no-mmap -r "$f" >"$tmp/b" 2>"$tmp/be"
		rb=$?
		if [ "$ra" != "$rb" ] || ! cmp -s "$tmp/a" "$tmp/b" ||
			! cmp -s "$tmp/ae" "$tmp/be"; then
			echo "differs: $f ($mode): exit $ra vs $rb"
			diff "$tmp/a" "$tmp/b" | head -n 5
			diff "$tmp/ae" "$tmp/be" | head -n 5
			bad=$((bad + 1))
		fi
	done
	n=$((n + 1))
}

for f in tests/fuzz/seeds/fuzz_replay/*.pcap tests/regress/fuzz_replay/* \
	contrib/demo/demo.pcap; do
	[ -f "$f" ] && check "$f"
done

# Hand-made damage on a good capture: the last record cut, a caplen past
# the snap length in the middle, a file that is only a header.
good=contrib/demo/demo.pcap
size=$(wc -c <"$good")
head -c $((size - 7)) "$good" >"$tmp/cut.pcap"
check "$tmp/cut.pcap"
head -c 24 "$good" >"$tmp/hdronly.pcap"
check "$tmp/hdronly.pcap"
head -c 30 "$good" >"$tmp/cuthdr.pcap"
check "$tmp/cuthdr.pcap"
python3 - "$good" "$tmp/bigcap.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off, i = 24, 0
while off + 16 <= len(d):
    caplen = struct.unpack_from('<I', d, off + 8)[0]
    if i == 5:
        struct.pack_into('<I', d, off + 8, 0x7fffffff)
        break
    off += 16 + caplen
    i += 1
open(sys.argv[2], 'wb').write(d)
PY
check "$tmp/bigcap.pcap"

# A window of four pages: the walk slides (and drains the frames in
# flight) every few frames, and records straddle window ends.
MAPOPT="--mmap-window 16384"
check "$good"
check "$tmp/cut.pcap"
check "$tmp/bigcap.pcap"
python3 - "$tmp/big.pcap" <<'PY'
import struct, sys
# 3,000 frames of growing sizes (60..1500 bytes), Ethernet + IPv4 + UDP.
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for i in range(3000):
    n = 60 + (i * 37) % 1441
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, n - 14, i, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    udp = struct.pack('>HHHH', 40000 + i % 100, 49152 + i % 1000, n - 34, 0)
    frame = b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip + udp
    frame += b'\0' * (n - len(frame))
    out.write(struct.pack('<IIII', 1700000000 + i, i, n, n) + frame)
PY
check "$tmp/big.pcap"
MAPOPT=""

corpus=../shared/corpus/tcpdump
if [ -d "$corpus" ]; then
	for f in "$corpus"/*.pcap "$corpus"/*.cap; do
		[ -f "$f" ] && check "$f" "--format@jsonl@--events@packets"
	done
fi
echo "mapread: $n captures, $bad differing"
[ "$bad" -eq 0 ] || { echo "FAIL: the mapped reader differs from libpcap"; exit 1; }
echo ok
