#!/bin/sh
# b_scale: portclass-replay against the flow count.  For captures of the
# same number of packets (5 million unless BENCH_PACKETS says otherwise)
# with 10k, 100k, 1M and 4M flows (BENCH_FLOWS), measured in the same run
# over the same file:
#   - a bare libpcap read loop (the floor any pcap reader pays);
#   - tcpdump -w /dev/null with the BPF that selects what the policy alerts
#     on (see b_replay.sh for why this BPF);
#   - the replay under the default policy with its default flow-table
#     bound, on one thread (-j 1) and with two deciding threads (-j 2),
#     and with a bound of 262144 (a table too small for the larger
#     captures, one thread), with their peak RSS and alert counts.
# Goals (issue "Replay at memory speed"): >= 0.9 x bare at 100k flows,
# >= 0.7 x bare at 1M, faster than tcpdump at 1M; the same alerts for every
# bound that holds the live flows; peak RSS <= 64 MB + 64 B per flow.
# Ratios are times of the baseline over times of the replay (best of
# BENCH_RUNS, default 3).
set -eu

: "${BUILD:=build}"
RUNS=${BENCH_RUNS:-3}
PACKETS=${BENCH_PACKETS:-5000000}
FLOWS=${BENCH_FLOWS:-10000 100000 1000000 4000000}
REPLAY=$BUILD/portclass-replay
GENCAP=$BUILD/tools/gencap
BARE=$BUILD/tools/pcap_bare
LIMIT=300
BPF='(tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst portrange 49152-65535)
 or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02 and ip6[42:2] >= 49152)
 or (udp and dst portrange 49152-65535)'

for t in "$GENCAP" "$BARE" "$REPLAY"; do
	[ -x "$t" ] || { echo "b_scale: $t not built" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "b_scale: needs GNU time (/usr/bin/time)" >&2; exit 1; }
command -v tcpdump >/dev/null 2>&1 || { echo "b_scale: needs tcpdump" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

# best LABEL CMD...: best wall time of RUNS runs (s), the peak RSS (kB) of
# that run, stdout of the last run in $tmp/LABEL.out.
best() {
	label=$1
	shift
	b= rss=
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		i=$((i + 1))
		t0=$(date +%s%N)
		timeout "$LIMIT" /usr/bin/time -f %M -o "$tmp/rss" "$@" \
			>"$tmp/$label.out" 2>"$tmp/$label.err" || {
			echo "b_scale: $label failed" >&2
			head -n 5 "$tmp/$label.err" >&2
			return 1
		}
		t1=$(date +%s%N)
		d=$((t1 - t0))
		if [ -z "$b" ] || [ "$d" -lt "$b" ]; then
			b=$d
			rss=$(tail -n 1 "$tmp/rss")
		fi
	done
	echo "$b $rss"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}
alerts() {
	sed -n 's/.*"alerts":\([0-9]*\).*/\1/p' "$tmp/$1.out" | tail -n 1
}

printf '%-8s %9s %8s %8s %8s %8s %7s %7s %8s %8s %8s %8s\n' flows \
	"bare Mpps" tcpdump "-j 1" "-j 2" "vs tcpd" "RSS j1" "RSS j2" \
	"RSS goal" alerts "alrt j2" "@262144"
for f in $FLOWS; do
	pcap=$tmp/f$f.pcap
	"$GENCAP" -n "$PACKETS" -f "$f" -o "$pcap" 2>"$tmp/gencap.err" || {
		cat "$tmp/gencap.err" >&2
		exit 1
	}
	"$BARE" "$pcap" >/dev/null # into the page cache
	set -- $(best bare "$BARE" "$pcap")
	bare=$1
	set -- $(best tcpdump tcpdump -r "$pcap" -w /dev/null "$BPF")
	tcpd=$1
	set -- $(best replay "$REPLAY" -j 1 -c contrib/default.rules \
		-r "$pcap" --format jsonl)
	rep=$1 rss=$2
	a_def=$(alerts replay)
	set -- $(best replay2 "$REPLAY" -j 2 -c contrib/default.rules \
		-r "$pcap" --format jsonl)
	rep2=$1 rss2=$2
	a_def2=$(alerts replay2)
	RUNS=1 best small "$REPLAY" -c contrib/default.rules --format jsonl \
		--max-flows 262144 -r "$pcap" >/dev/null
	a_small=$(alerts small)
	goal=$(awk -v f="$f" 'BEGIN { printf "%.0f", 64 + f * 64 / 1048576 }')
	printf '%-8s %9s %8s %8s %8s %8s %7s %7s %8s %8s %8s %8s\n' "$f" \
		"$(awk -v n="$PACKETS" -v s="$bare" 'BEGIN { printf "%.2f", n / (s / 1e9) / 1e6 }')" \
		"$(ratio "$bare" "$tcpd")" "$(ratio "$bare" "$rep")" \
		"$(ratio "$bare" "$rep2")" "$(ratio "$tcpd" "$rep2")" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')" \
		"$(awk -v k="$rss2" 'BEGIN { printf "%.0f", k / 1024 }')" \
		"$goal" "$a_def" "$a_def2" "$a_small"
	rm -f "$pcap"
done
echo "(tcpdump, -j 1, -j 2: ratio of packets/s to the bare loop, the replay on one"
echo " thread and with two deciding threads; vs tcpd: -j 2 over tcpdump;"
echo " alerts: default bound, -j 1 and -j 2; @262144: with --max-flows 262144)"
