#!/bin/sh
# t_replay_jobs: portclass-replay -j N (deciding threads, flows sharded by
# a hash of their key) writes what -j 1 writes.  For N in 2, 3 and 8,
# against -j 1, byte for byte: standard output, standard error, the exit
# status, and the --write-passed / --write-dropped captures (cmp), in
# every output mode (human, --format jsonl, --format json, --events
# packets), over
#   - generated captures with many flows (build/tools/gencap), IPv4 and
#     IPv6, with the kernel model, --queue all, --compare (two policies,
#     two tables per shard under --queue all), a --max-flows that holds
#     the flows, standard input and --no-mmap (the copying reader), a
#     mapping window small enough to slide mid-batch;
#   - mkpcap's captures (every link type, fragments, mutants), all in one
#     run (several files: one stream of time) and the demo capture with
#     its listener snapshot;
#   - tcpdump's test captures in ../shared/corpus/tcpdump when present
#     (PC_CORPUS elsewhere), all in one run.
# The flow statistics too: each shard counts what has expired by the
# stream's latest packet, as one table does; except in the captures run
# one by one (mkpcap's mutants and the corpus), where a clock that jumps
# ahead by months and back makes one table sweep flows that another's
# never saw go idle: there the expired count is left out (see -j in
# portclass-replay(1)).  Then the bound: --max-flows without -j keeps one table (same
# output as -j 1, evictions included); with -j N each shard holds
# max-flows/N (at least 1).
set -u
: "${BUILD:=build}"
ROOT=$(pwd)
REPLAY=$ROOT/$BUILD/portclass-replay
GENCAP=$ROOT/$BUILD/tools/gencap
MKPCAP=$ROOT/$BUILD/tools/mkpcap
CORPUS=${PC_CORPUS:-$ROOT/../shared/corpus/tcpdump}
JOBS=${PC_JOBS_LIST:-2 3 8}
for b in "$REPLAY" "$GENCAP" "$MKPCAP"; do
	if [ ! -x "$b" ]; then
		echo "skip: $b not built (make $BUILD/portclass-replay tools)"
		exit 77
	fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0 runs=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}


# one J TAG STDIN ARGS...: a run with -j J into $tmp/TAG.jJ.*
one() {
	oj=$1 otag=$2 oin=$3
	shift 3
	o=$tmp/$otag.j$oj
	rc=0
	"$REPLAY" -j "$oj" --write-passed "$o.passed" \
		--write-dropped "$o.dropped" "$@" <"$oin" >"$o.out" \
		2>"$o.err" || rc=$?
	echo "$rc" >"$o.rc"
	# names of the written files, so that stderr compares across runs
	sed -i "s|$o\.|OUT.|g" "$o.err"
	runs=$((runs + 1))
}

# Leaves the expired count out (see above).
mask() {
	sed -e 's/[0-9][0-9]* expired/N expired/' \
	    -e 's/"expired":[0-9][0-9]*/"expired":N/' "$1"
}

# same TAG J [mask]: the -j J run of TAG against -j 1.
same() {
	tag=$1 j=$2
	a=$tmp/$tag.j1 b=$tmp/$tag.j$j
	if [ "${3:-}" = mask ]; then
		mask "$a.out" >"$a.m" && mv "$a.m" "$a.out"
		mask "$b.out" >"$b.m" && mv "$b.m" "$b.out"
	fi
	cmp -s "$a.rc" "$b.rc" ||
		fail "$tag -j $j: exit $(cat "$b.rc"), -j 1 $(cat "$a.rc")"
	cmp -s "$a.out" "$b.out" || {
		fail "$tag -j $j: standard output differs from -j 1"
		diff "$a.out" "$b.out" | head -n 6 | cut -c 1-300
	}
	cmp -s "$a.err" "$b.err" || {
		fail "$tag -j $j: standard error differs from -j 1"
		diff "$a.err" "$b.err" | head -n 6 | cut -c 1-300
	}
	for w in passed dropped; do
		if [ -e "$a.$w" ] || [ -e "$b.$w" ]; then
			cmp -s "$a.$w" "$b.$w" ||
				fail "$tag -j $j: --write-$w differs from -j 1"
		fi
	done
	if grep -q -e 'AddressSanitizer' -e 'runtime error:' \
		-e 'ThreadSanitizer' "$b.err"; then
		fail "$tag -j $j: sanitizer report"
	fi
}

# check TAG STDIN ARGS...: every mode (MODES), every J (JOBS), against
# -j 1.
MODES="human jsonl json packets"
check() {
	ctag=$1 cin=$2
	shift 2
	for mode in $MODES; do
		case $mode in
		human) m= ;;
		jsonl) m="--format jsonl" ;;
		json) m="--format json" ;;
		packets) m="--format jsonl --events packets" ;;
		esac
		# shellcheck disable=SC2086
		one 1 "$ctag-$mode" "$cin" $m "$@"
		for cj in $JOBS; do
			# shellcheck disable=SC2086
			one "$cj" "$ctag-$mode" "$cin" $m "$@"
			same "$ctag-$mode" "$cj"
		done
	done
}

# flows K: the flows line's numbers of a human run's output file.
flows_of() {
	sed -n 's/^flows: \([0-9]*\) created, \([0-9]*\) evicted, \([0-9]*\) expired.*/\1 \2 \3/p' "$1"
}

cd "$tmp" || exit 1
"$GENCAP" -n 120000 -f 12000 -o g4.pcap 2>/dev/null ||
	{ echo "gencap failed"; exit 1; }
"$GENCAP" -n 60000 -f 20000 -6 60 -p 30 -c 20000 -s 7 -o g6.pcap \
	2>/dev/null || { echo "gencap failed"; exit 1; }
mkdir mk && "$MKPCAP" "$tmp/mk" >/dev/null || { echo "mkpcap failed"; exit 1; }
R=$ROOT/tests/replay
N=/dev/null

check g4 $N -r g4.pcap
check g6 $N -r g6.pcap -r g4.pcap
check all $N --queue all --compare "$R/compare.rules" -c "$R/basic.rules" \
	-r g6.pcap
check cmp $N --compare "$R/compare.rules" -c "$R/basic.rules" -r g4.pcap
check bound $N --max-flows 600000 -r g6.pcap
check stdin g6.pcap -r -
check nommap $N --no-mmap -r g6.pcap
check window $N --mmap-window 70000 -r g4.pcap
# Flows that go idle: 400 UDP flows, one datagram each, half a second
# apart, then one more datagram 60 s after the last: by the stream's
# latest packet most are past the 30 s UDP timeout, but each shard's own
# latest packet comes earlier.  The expired count must still be -j 1's.
python3 - idle.pcap <<'PY' || { echo "idle capture failed"; exit 1; }
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
def frame(i, sport):
    udp = struct.pack("!HHHH", sport, 60000 + i % 500, 12, 0) + b"idle"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17,
                     0, bytes([10, 1, i >> 8, i & 255]), bytes([10, 2, 0, 1]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(401):
        t = 1700000000 * 1000000 + i * 500000 + (60000000 if i == 400 else 0)
        b = frame(i, 40000 + i)
        f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(b), len(b)))
        f.write(b)
PY
check idle $N -r idle.pcap
set -- $(flows_of "$tmp/idle-human.j1.out")
[ "${3:-0}" -gt 300 ] || fail "idle: ${3:-0} flows expired with -j 1, expected most of 401"

check demo $N -c "$ROOT/contrib/demo/demo.rules" \
	--listeners "$ROOT/contrib/demo/listeners.json" \
	-r "$ROOT/contrib/demo/demo.pcap"

# Files of different dates in one run make the clock jump back and forth
# (see portclass-replay(1), -j): those are checked one file per run, with
# every packet's answer and the summary (--events packets), with 3
# threads (PC_JOBS_EACH) against 1, for the files with an IP packet.
each() {
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		t=each-${f##*/}
		one 1 "$t" $N -c "$2" --format jsonl --events packets -r "$f"
		grep -q '"verdict"' "$tmp/$t.j1.out" || continue
		for ej in ${PC_JOBS_EACH:-3}; do
			one "$ej" "$t" $N -c "$2" --format jsonl --events packets \
				-r "$f"
			same "$t" "$ej" mask
		done
	done
}
each "$tmp/mk" "$R/basic.rules"
if [ -d "$CORPUS" ]; then
	each "$CORPUS" "$ROOT/contrib/default.rules"
else
	echo "note: no corpus at $CORPUS"
fi

# The runs compared above did decide something: alerts and both verdicts.
grep -q '^alerts: [1-9]' "$tmp/g6-human.j8.out" || fail "g6: no alerts"
[ -s "$tmp/g4-human.j8.passed" ] && [ -s "$tmp/g4-human.j8.dropped" ] ||
	fail "g4: --write-* files empty"

# --max-flows without -j: one table (it holds one flow at the end, not
# one per thread).
"$REPLAY" --max-flows 1 -r g4.pcap >b0.out 2>&1
set -- $(flows_of b0.out)
held=$((${1:-0} - ${2:-0} - ${3:-0}))
[ "$held" -eq 1 ] || fail "--max-flows 1 without -j: $held flows held, not 1"

# -j 8 --max-flows 1: eight shards of one flow each (created - evicted -
# expired: the flows held at the end).
"$REPLAY" -j 8 --max-flows 1 -r g4.pcap >s8.out 2>&1
set -- $(flows_of s8.out)
held=$((${1:-0} - ${2:-0} - ${3:-0}))
[ "$held" -gt 1 ] && [ "$held" -le 8 ] ||
	fail "-j 8 --max-flows 1: $held flows held, not 2..8"
"$REPLAY" -j 1 --max-flows 1 -r g4.pcap >s1.out 2>&1
set -- $(flows_of s1.out)
held=$((${1:-0} - ${2:-0} - ${3:-0}))
[ "$held" -eq 1 ] || fail "-j 1 --max-flows 1: $held flows held, not 1"

# Bad counts are refused.
for bad in -1 65 x ""; do
	if "$REPLAY" -j "$bad" -r g4.pcap >/dev/null 2>&1; then
		fail "-j '$bad' accepted"
	fi
done

if [ "$fails" -ne 0 ]; then
	echo "$fails failures in $runs runs"
	exit 1
fi
echo "ok ($runs runs)"
