#!/bin/sh
# b_events: what one JSON line per packet costs.  Over the same synthetic
# capture (BENCH_EVENTS_PACKETS packets, default 2 million, in
# BENCH_EVENTS_FLOWS flows, default 100k; by tests/tools/gencap), in the
# same run:
#   - a bare libpcap read loop (the floor any pcap reader pays);
#   - the replay in the human mode (the summary at the end only);
#   - the replay with --format jsonl --events packets, the output thrown
#     away (/dev/null) and written to a file.
# Goal (issue "Replay at memory speed"): --events packets at >= 0.5 of the
# human mode's packets/s.  Ratios are times of the baseline over times of
# the subject, best of BENCH_RUNS (default 3), wall clock and CPU time
# (user + system: less disturbed by other work on a shared machine).
set -eu

: "${BUILD:=build}"
RUNS=${BENCH_RUNS:-3}
PACKETS=${BENCH_EVENTS_PACKETS:-2000000}
FLOWS=${BENCH_EVENTS_FLOWS:-100000}
REPLAY=$BUILD/portclass-replay
GENCAP=$BUILD/tools/gencap
BARE=$BUILD/tools/pcap_bare
LIMIT=300

for t in "$GENCAP" "$BARE" "$REPLAY"; do
	[ -x "$t" ] || { echo "b_events: $t not built" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "b_events: needs GNU time (/usr/bin/time)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-events.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

# best LABEL OUT CMD...: best wall time (ns) and best CPU time (ns) of
# RUNS runs, stdout to OUT.
best() {
	label=$1 out=$2
	shift 2
	b= c=
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		i=$((i + 1))
		t0=$(date +%s%N)
		timeout "$LIMIT" /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" \
			>"$out" 2>"$tmp/$label.err" || {
			echo "b_events: $label failed" >&2
			head -n 5 "$tmp/$label.err" >&2
			return 1
		}
		t1=$(date +%s%N)
		d=$((t1 - t0))
		u=$(awk '{ printf "%.0f", ($1 + $2) * 1e9 }' "$tmp/cpu")
		if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
		if [ -z "$c" ] || [ "$u" -lt "$c" ]; then c=$u; fi
	done
	echo "$b $c"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

pcap=$tmp/events.pcap
"$GENCAP" -n "$PACKETS" -f "$FLOWS" -o "$pcap" 2>"$tmp/gencap.err" || {
	cat "$tmp/gencap.err" >&2
	exit 1
}
"$BARE" "$pcap" >/dev/null # into the page cache
set -- $(best bare /dev/null "$BARE" "$pcap")
bare=$1 bare_c=$2
set -- $(best human /dev/null "$REPLAY" -c contrib/default.rules -r "$pcap")
human=$1 human_c=$2
set -- $(best events /dev/null "$REPLAY" -c contrib/default.rules \
	--format jsonl --events packets -r "$pcap")
ev=$1 ev_c=$2
set -- $(best file "$tmp/events.jsonl" "$REPLAY" -c contrib/default.rules \
	--format jsonl --events packets -r "$pcap")
evf=$1 evf_c=$2
lines=$(wc -l <"$tmp/events.jsonl")
bytes=$(wc -c <"$tmp/events.jsonl")
rm -f "$tmp/events.jsonl"

printf '%-22s %9s %9s %9s %9s\n' "$PACKETS packets" "wall ms" "vs bare" \
	"vs human" "cpu"
row() {
	printf '%-22s %9s %9s %9s %9s\n' "$1" \
		"$(awk -v t="$2" 'BEGIN { printf "%.0f", t / 1e6 }')" \
		"$(ratio "$bare" "$2")" "$(ratio "$human" "$2")" \
		"$(ratio "$human_c" "$3")"
}
row "bare loop" "$bare" "$bare_c"
row "human" "$human" "$human_c"
row "events -> /dev/null" "$ev" "$ev_c"
row "events -> file" "$evf" "$evf_c"
echo "(vs bare, vs human: packets/s ratio, wall clock; cpu: vs human in CPU"
echo " time; goal: events >= 0.5 x human; $lines lines of" \
	"$(awk -v b="$bytes" -v n="$lines" 'BEGIN { printf "%.0f", (n ? b / n : 0) }') bytes;"
echo " each line costs" \
	"$(awk -v e="$ev_c" -v h="$human_c" -v n="$PACKETS" 'BEGIN { printf "%.0f", (e - h) / n }')" \
	"ns of CPU over the human mode)"
