#!/bin/sh
# b_rules: portclass-replay against the size of the policy.  Over one
# capture of 5 million packets and 1M flows (BENCH_PACKETS,
# BENCH_RULES_FLOWS), measured in the same run over the same file:
#   - a bare libpcap read loop (the floor any pcap reader pays);
#   - the replay under the default policy;
#   - the replay under mixed policies of 1,000, 10,000 and 100,000 rules
#     (BENCH_RULES; build/tools/genrules: IPv4 and IPv6 prefixes of every
#     length, ports, ranges and lists, several protocols, pass, drop,
#     reject, log), with the time to load and index each policy (a replay
#     of a 1,000-packet capture), the packets a rule decided, and the peak
#     RSS.
# Goal (issue "Replay at memory speed"): 100,000 mixed rules at >= 0.5 x
# the bare loop at 1M flows.  "vs default" shows what the rules alone
# cost.  The ratios are given in wall time and in CPU time (user +
# system, least of the runs), which other processes disturb less.  Ratios are times of the baseline over times of the replay (best
# of BENCH_RUNS, default 3).
set -eu

: "${BUILD:=build}"
RUNS=${BENCH_RUNS:-3}
PACKETS=${BENCH_PACKETS:-5000000}
FLOWS=${BENCH_RULES_FLOWS:-1000000}
RULES=${BENCH_RULES:-1000 10000 100000}
REPLAY=$BUILD/portclass-replay
GENCAP=$BUILD/tools/gencap
GENRULES=$BUILD/tools/genrules
BARE=$BUILD/tools/pcap_bare
LIMIT=${BENCH_LIMIT:-600}

for t in "$GENCAP" "$GENRULES" "$BARE" "$REPLAY"; do
	[ -x "$t" ] || { echo "b_rules: $t not built" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "b_rules: needs GNU time (/usr/bin/time)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-rules.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

# best LABEL CMD...: best wall time of RUNS runs (ns), the peak RSS (kB)
# of that run, the least CPU time (user + system, ms) of the runs, stdout
# of the last run in $tmp/LABEL.out.  On a shared machine the CPU time
# is the steadier measure.
best() {
	label=$1
	shift
	b= rss= cpu=
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		i=$((i + 1))
		t0=$(date +%s%N)
		timeout "$LIMIT" /usr/bin/time -f '%M %U %S' -o "$tmp/rss" \
			"$@" >"$tmp/$label.out" 2>"$tmp/$label.err" || {
			echo "b_rules: $label failed" >&2
			head -n 5 "$tmp/$label.err" >&2
			return 1
		}
		t1=$(date +%s%N)
		d=$((t1 - t0))
		c=$(tail -n 1 "$tmp/rss" |
			awk '{ printf "%.0f", ($2 + $3) * 1000 }')
		if [ -z "$b" ] || [ "$d" -lt "$b" ]; then
			b=$d
			rss=$(tail -n 1 "$tmp/rss" | cut -d' ' -f1)
		fi
		if [ -z "$cpu" ] || [ "$c" -lt "$cpu" ]; then
			cpu=$c
		fi
	done
	echo "$b $rss $cpu"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}
by_rule() {
	sed -n 's/.*"reasons":{[^}]*"rule":\([0-9]*\).*/\1/p' "$tmp/$1.out" |
		tail -n 1
}

pcap=$tmp/cap.pcap
small=$tmp/small.pcap
"$GENCAP" -n "$PACKETS" -f "$FLOWS" -o "$pcap" 2>"$tmp/gencap.err" || {
	cat "$tmp/gencap.err" >&2
	exit 1
}
"$GENCAP" -n 1000 -f 100 -o "$small" 2>/dev/null
"$BARE" "$pcap" >/dev/null # into the page cache
set -- $(best bare "$BARE" "$pcap")
bare=$1 bare_cpu=$3
set -- $(best default "$REPLAY" -c contrib/default.rules -r "$pcap" \
	--format json)
def=$1 rss=$2 def_cpu=$3
printf '%d packets, %d flows; bare loop %s Mpps\n' "$PACKETS" "$FLOWS" \
	"$(awk -v n="$PACKETS" -v s="$bare" 'BEGIN { printf "%.2f", n / (s / 1e9) / 1e6 }')"
printf '%-8s %8s %10s %8s %10s %8s %8s %9s\n' rules replay "vs default" \
	"cpu" "cpu vs def" "load s" "RSS MB" "by a rule"
printf '%-8s %8s %10s %8s %10s %8s %8s %9s\n' default \
	"$(ratio "$bare" "$def")" 1.00 "$(ratio "$bare_cpu" "$def_cpu")" 1.00 \
	- "$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')" \
	"$(by_rule default)"
for n in $RULES; do
	pol=$tmp/r$n.rules
	"$GENRULES" -n "$n" -o "$pol"
	set -- $(RUNS=1 best load "$REPLAY" -c "$pol" -r "$small" \
		--format json)
	load=$1
	set -- $(best rules "$REPLAY" -c "$pol" -r "$pcap" --format json)
	rep=$1 rss=$2 cpu=$3
	printf '%-8s %8s %10s %8s %10s %8s %8s %9s\n' "$n" \
		"$(ratio "$bare" "$rep")" "$(ratio "$def" "$rep")" \
		"$(ratio "$bare_cpu" "$cpu")" "$(ratio "$def_cpu" "$cpu")" \
		"$(awk -v s="$load" 'BEGIN { printf "%.2f", s / 1e9 }')" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')" \
		"$(by_rule rules)"
done
echo "(replay: ratio of packets/s to the bare loop; vs default: to the replay"
echo " under the default policy; cpu, cpu vs def: the same in CPU time; load:"
echo " time to load, index and replay 1,000 packets; by a rule: packets whose"
echo " verdict an explicit rule gave)"
