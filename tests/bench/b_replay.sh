#!/bin/sh
# b_replay: portclass-replay throughput on a synthetic capture, next to two
# baselines measured in the same run over the same file:
#   - a bare libpcap read loop (build/tools/pcap_bare): the floor any
#     pcap reader pays; goal: replay >= 0.7 of its packets/s;
#   - tcpdump -r FILE -w /dev/null with the BPF filter that selects what
#     the policy alerts on; goal: replay faster than tcpdump.
# Also prints the replay's peak memory and what one tracked flow costs
# (goal <= 200 bytes).
#
# The capture (5 million packets, ~1 million flows, by tests/tools/gencap)
# is generated into a temporary directory and removed at exit.  Set
# PC_BENCH_PCAP=FILE to use (and keep) an existing capture instead, and
# BENCH_RUNS=N for best of N (default 3).  Run from the repo root with
# $BUILD set (make bench does both).
set -eu

: "${BUILD:=build}"
RUNS=${BENCH_RUNS:-3}
REPLAY=$BUILD/portclass-replay
GENCAP=$BUILD/tools/gencap
BARE=$BUILD/tools/pcap_bare
FLOWSIZE=$BUILD/tools/flowsize
LIMIT=120 # seconds any single run may take

# What the default policy alerts on is a NEW inbound connection to a
# destination port in the dynamic range (49152-65535).  In BPF, which has
# no flow state, the closest equivalent is:
#  - TCP: SYN without ACK to a dynamic destination port.  `tcp[...]` only
#    reaches IPv4 in libpcap 1.10, so IPv6 is spelled out with ip6[] offsets
#    (no extension headers: the generator writes none): next header 6,
#    flags at 40+13, destination port at 40+2.
#  - UDP: any datagram to a dynamic destination port.  BPF cannot tell the
#    first datagram of a flow from a reply to a client's ephemeral port, so
#    this is a superset (DNS/QUIC replies to clients match too).
# tcpdump therefore writes more packets than replay alerts on, but does
# strictly less work per packet: no full parse, no flow table, no policy.
BPF='(tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst portrange 49152-65535)
 or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02 and ip6[42:2] >= 49152)
 or (udp and dst portrange 49152-65535)'

for t in "$GENCAP" "$BARE" "$FLOWSIZE"; do
	if [ ! -x "$t" ]; then
		echo "b_replay: $t not built (make tools)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

if [ -n "${PC_BENCH_PCAP:-}" ] && [ -s "$PC_BENCH_PCAP" ]; then
	pcap=$PC_BENCH_PCAP
	echo "capture: $pcap (given)"
else
	pcap=$tmp/bench.pcap
	t0=$(date +%s%N)
	timeout "$LIMIT" "$GENCAP" -o "$pcap" 2>"$tmp/gencap.err" || {
		cat "$tmp/gencap.err" >&2
		echo "b_replay: gencap failed" >&2
		exit 1
	}
	t1=$(date +%s%N)
	echo "capture: generated in $(awk -v d=$((t1 - t0)) \
		'BEGIN { printf "%.2f", d / 1e9 }') s"
	sed 's/^/  /' "$tmp/gencap.err"
fi
size=$(wc -c <"$pcap")
echo "  file size: $(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }')"

# A 1,000-rule policy: port rules on both protocols, single ports and
# ranges, some inside the dynamic range, so the port tables are full and
# some probes hit an explicit rule instead of the unexpected path.
rules1k=$tmp/1000.rules
awk 'BEGIN {
	print "dynamic-range iana"
	print "unexpected drop log"
	print "default pass"
	print "expect udp port 60001-60010"
	for (i = 0; i < 1000; i++) {
		p = 20000 + i * 45
		if (p == 60314) p++
		m = i % 4
		if (m == 0)      printf "pass tcp to port %d\n", p
		else if (m == 1) printf "drop log udp to port %d\n", p
		else if (m == 2) printf "reject tcp to port %d-%d\n", p, p + 5
		else             printf "pass udp from port %d\n", p
	}
}' >"$rules1k"

# Peak RSS and CPU time of a command: GNU time when present, else peak RSS
# from VmHWM (hwm below) and no CPU time.
GNUTIME=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null
then
	GNUTIME=/usr/bin/time
fi

# run1 LABEL CMD...: runs CMD once (stdout discarded), appends
# "nanoseconds rss_kb cpu_seconds" to $tmp/LABEL.times (cpu NA without GNU
# time).  Fails when CMD fails.
run1() {
	label=$1
	shift
	t0=$(date +%s%N)
	if [ -n "$GNUTIME" ]; then
		rc=0
		timeout "$LIMIT" "$GNUTIME" -f '%M %U %S' -o "$tmp/rss" "$@" \
			>/dev/null 2>"$tmp/$label.err" || rc=$?
		set -- $(tail -n 1 "$tmp/rss" 2>/dev/null || echo 0 0 0)
		rss=${1:-0}
		cpu=$(awk -v u="${2:-0}" -v s="${3:-0}" \
			'BEGIN { printf "%.2f", u + s }')
	else
		rc=0
		timeout "$LIMIT" "$@" >/dev/null 2>"$tmp/$label.err" || rc=$?
		rss=0 cpu=NA
	fi
	t1=$(date +%s%N)
	if [ "$rc" -ne 0 ]; then
		echo "b_replay: $label: exit $rc" >&2
		sed 's/^/  /' "$tmp/$label.err" | head -n 20 >&2
		return 1
	fi
	echo "$((t1 - t0)) $rss $cpu" >>"$tmp/$label.times"
}

# hwm CMD...: without GNU time, the peak RSS in kB of one more run of CMD,
# read from VmHWM in /proc while it runs.  VmHWM is a high-water mark, so
# the last sample before exit holds the peak up to then; sampling is kept
# out of the timed runs.
hwm() {
	"$@" >/dev/null 2>&1 &
	pid=$!
	kb=0 n=0
	while kill -0 "$pid" 2>/dev/null; do
		while read -r k v _; do
			[ "$k" = VmHWM: ] && kb=$v
		done <"/proc/$pid/status" 2>/dev/null || :
		n=$((n + 1))
		[ "$n" -gt $((LIMIT * 20)) ] && kill "$pid" 2>/dev/null
		sleep 0.05
	done
	wait "$pid" || :
	echo "$kb"
}

# best LABEL: "seconds rss_kb cpu_seconds": the fastest run's wall clock
# and memory, and the least CPU time of all runs (user + system; steadier
# than the wall clock on a busy machine).
best() {
	sort -n "$tmp/$1.times" | awk '
		NR == 1 { s = $1; r = $2 }
		$3 != "NA" && (c == "" || $3 + 0 < c + 0) { c = $3 }
		END { printf "%.3f %d %s\n", s / 1e9, r, c == "" ? "NA" : c }'
}

# The first read pulls the file into the page cache for everyone.
"$BARE" "$pcap" >"$tmp/bare.out"
packets=$(awk '{ print $2 }' "$tmp/bare.out")

have_replay=1
if [ ! -x "$REPLAY" ]; then
	echo "b_replay: $REPLAY not built: baselines only" >&2
	have_replay=0
fi
replay_ok=$have_replay
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	run1 bare "$BARE" "$pcap"
	run1 tcpdump tcpdump -r "$pcap" -w /dev/null "$BPF"
	if [ "$replay_ok" -eq 1 ]; then
		run1 replay "$REPLAY" -c contrib/default.rules "$pcap" &&
			run1 replay1k "$REPLAY" -c "$rules1k" "$pcap" ||
			replay_ok=0
	fi
done
matched=$(tcpdump -r "$pcap" --count "$BPF" 2>/dev/null |
	awk '{ print $1 }')

set -- $(best bare)
bare_s=$1 bare_cpu=$3
set -- $(best tcpdump)
tcpdump_s=$1 tcpdump_rss=$2 tcpdump_cpu=$3
[ -n "$GNUTIME" ] ||
	tcpdump_rss=$(hwm tcpdump -r "$pcap" -w /dev/null "$BPF")

mpps() {
	awk -v n="$packets" -v s="$1" \
		'BEGIN { printf "%.2f Mpps", (s > 0 ? n / s / 1e6 : 0) }'
}
mb() {
	awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'
}
secs() {
	if [ "$1" = NA ]; then echo "n/a"; else echo "${1}s"; fi
}
ratio() {
	awk -v a="$1" -v b="$2" \
		'BEGIN { if (a == "NA" || b == "NA") printf "NA";
			 else printf "%.2f", (b > 0 ? a / b : 0) }'
}

echo "packets: $packets, best of $RUNS runs (wall clock incl. start-up; cpu = user + sys)"
printf '  %-28s %7ss  %s  cpu %s\n' "bare libpcap loop" "$bare_s" \
	"$(mpps "$bare_s")" "$(secs "$bare_cpu")"
printf '  %-28s %7ss  %s  cpu %s  peak %s  (%s packets matched)\n' \
	"tcpdump -w /dev/null + BPF" "$tcpdump_s" "$(mpps "$tcpdump_s")" \
	"$(secs "$tcpdump_cpu")" "$(mb "$tcpdump_rss")" "$matched"

set -- $("$FLOWSIZE")
entry=$2 per_flow=$8

if [ "$replay_ok" -eq 1 ]; then
	set -- $(best replay)
	replay_s=$1 replay_rss=$2 replay_cpu=$3
	set -- $(best replay1k)
	replay1k_s=$1 replay1k_rss=$2 replay1k_cpu=$3
	if [ -z "$GNUTIME" ]; then
		replay_rss=$(hwm "$REPLAY" -c contrib/default.rules "$pcap")
		replay1k_rss=$(hwm "$REPLAY" -c "$rules1k" "$pcap")
	fi
	printf '  %-28s %7ss  %s  cpu %s  peak %s\n' "replay default.rules" \
		"$replay_s" "$(mpps "$replay_s")" "$(secs "$replay_cpu")" \
		"$(mb "$replay_rss")"
	printf '  %-28s %7ss  %s  cpu %s  peak %s\n' \
		"replay 1000-rule policy" "$replay1k_s" "$(mpps "$replay1k_s")" \
		"$(secs "$replay1k_cpu")" "$(mb "$replay1k_rss")"
	# speed ratios: time of the baseline over time of the replay
	echo "replay packets/s: $(mpps "$replay_s") (1000 rules: $(mpps "$replay1k_s"))"
	echo "ratio to bare loop: $(ratio "$bare_s" "$replay_s") (1000 rules: $(ratio "$bare_s" "$replay1k_s")) (goal >= 0.7)"
	echo "ratio to tcpdump: $(ratio "$tcpdump_s" "$replay_s") (1000 rules: $(ratio "$tcpdump_s" "$replay1k_s")) (goal > 1: faster)"
	echo "by cpu time: ratio to bare loop $(ratio "$bare_cpu" "$replay_cpu"), to tcpdump $(ratio "$tcpdump_cpu" "$replay_cpu")"
	echo "peak memory: $(mb "$replay_rss") (1000 rules: $(mb "$replay1k_rss"))"
	# What the replay made of it (its jsonl summary): to compare with
	# the generator's count of attempts, and the flow table's churn.
	"$REPLAY" -c contrib/default.rules --format jsonl "$pcap" \
		2>/dev/null | tail -n 1 >"$tmp/summary" || :
	sed -n 's/.*"attempts":\([0-9]*\).*"alerts":\([0-9]*\).*/replay summary: attempts \1, alerts \2/p' \
		"$tmp/summary"
	# Every attempt the generator made on a dynamic port should be
	# exactly one alert (retransmits folded, replies not counted).
	want=$(sed -n 's/.*dynamic ports: \([0-9]*\) tcp ([0-9]* SYNs) + \([0-9]*\) udp.*/\1 \2/p' \
		"$tmp/gencap.err" 2>/dev/null | awk '{ print $1 + $2 }')
	got=$(sed -n 's/.*"alerts":\([0-9]*\).*/\1/p' "$tmp/summary")
	if [ -n "$want" ]; then
		if [ "$want" = "$got" ]; then
			echo "alerts match the generator's $want attempts"
		else
			echo "alerts: $got, the generator made $want attempts" \
				"(flow table evictions or a bug)"
		fi
	fi
	sed -n 's/.*"flows":{\([^}]*\)}.*/\1/p' "$tmp/summary" |
		sed 's/"\([a-z_]*\)":/\1 /g; s/,/, /g; s/^/replay flow table: /'
fi
echo "bytes per tracked flow: $per_flow (flow_entry_size $entry) (goal <= 200)"
if [ "$have_replay" -eq 0 ] || [ "$replay_ok" -eq 0 ]; then
	echo "b_replay: replay not measured" >&2
	exit 1
fi
