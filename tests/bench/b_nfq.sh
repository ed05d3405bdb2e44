#!/bin/sh
# b_nfq: portclass-nfq with every packet of a UDP flood queued to it, next
# to a bare accept-all consumer with the same library and settings
# (build/tools/nfq_bare), in the same run, in a network namespace of its
# own (loopback only).  Prints:
#   - packets/s each consumer verdicted while tests/tools/udpblast sent
#     N datagrams from 64 source ports to an expected UDP listener, and the
#     ratio (goal >= 0.9); also CPU time per packet, which still compares
#     the two when the sender, not the consumer, is the bottleneck;
#   - added latency per packet: p50/p99 of UDP echo round trips with the
#     request queued, minus the same without the queue rule;
#   - the daemon's resident memory (VmRSS, VmHWM) after the flood.
# Root only (skips otherwise).  BENCH_NFQ_PACKETS (default 2000000),
# BENCH_NFQ_SECONDS (per flood, default 10), BENCH_NFQ_PINGS (default
# 10000), BENCH_RUNS (best of, default 3).
set -u

: "${BUILD:=build}"
N=${BENCH_NFQ_PACKETS:-2000000}
SECS=${BENCH_NFQ_SECONDS:-10}
PINGS=${BENCH_NFQ_PINGS:-10000}
RUNS=${BENCH_RUNS:-3}
BARE=$BUILD/tools/nfq_bare
BLAST=$BUILD/tools/udpblast
NFQ=$BUILD/portclass-nfq
PORT=60999  # the flood
EPORT=60998 # the echo

if [ "$(id -u)" -ne 0 ]; then
	echo "b_nfq: skipped: needs root (network namespace, iptables, NFQUEUE)"
	exit 0
fi
for t in "$BARE" "$BLAST"; do
	if [ ! -x "$t" ]; then
		echo "b_nfq: $t not built (make tools)" >&2
		exit 1
	fi
done
for c in ip iptables python3; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "b_nfq: skipped: $c not installed"
		exit 0
	}
done

have_daemon=1
if [ ! -x "$NFQ" ] || ! "$NFQ" --help >/dev/null 2>&1; then
	have_daemon=0
fi

NS=pc-bench-nfq-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-bench-nfq.XXXXXX") || exit 1
PIDS=""
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns delete "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

nsx() { ip netns exec "$NS" "$@"; }
die() { echo "b_nfq: $*" >&2; exit 1; }

ip netns add "$NS" || die "cannot create a network namespace"
nsx ip link set lo up || die "lo up"

# Both ports expected: every packet is judged and accepted, as the bare
# consumer accepts them, so verdict batching applies to both alike.
cat >"$tmp/bench.rules" <<EOF
dynamic-range iana
expect udp port $EPORT-$PORT
EOF
if [ "$have_daemon" = 1 ] && ! "$NFQ" -n -c "$tmp/bench.rules" >/dev/null 2>&1; then
	echo "b_nfq: portclass-nfq -n rejects the bench rules:" >&2
	"$NFQ" -n -c "$tmp/bench.rules" >&2
	exit 1
fi

# Background process in the namespace; its pid.  Not through nsx: a
# function run with & is a subshell, whose pid is not the program's (ip
# execs the command, so this one is).
start() {
	out=$1
	shift
	ip netns exec "$NS" "$@" >"$out" 2>"$out.err" &
	LAST=$!
	PIDS="$PIDS $LAST"
}

stop_pid() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# Waits until queue 0 in the namespace has a consumer bound.
wait_bound() {
	i=0
	while :; do
		if nsx awk '$1 == 0 && $2 != 0 { f = 1 } END { exit !f }' \
			/proc/net/netfilter/nfnetlink_queue 2>/dev/null; then
			return 0
		fi
		kill -0 "$1" 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}

wait_file() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}

# utime + stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

field() { # field NAME FILE: the number after NAME on the last line having it
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) } END { print v + 0 }' "$2"
}

HZ=$(getconf CLK_TCK)

# Sender and consumer on CPUs of their own where there are two: the runs
# then compete with each other less and with the rest of the machine only.
PIN_SEND="" PIN_CONS=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	PIN_SEND="taskset -c 0"
	PIN_CONS="taskset -c 1"
fi

# A sink bound to the flood port: the listener the rules expect.
start "$tmp/sink.out" "$BLAST" sink -p "$PORT" --ready "$tmp/sink.ready"
wait_file "$tmp/sink.ready" || die "sink did not start"

# The sender alone, nothing queued: its ceiling on this machine.
nsx $PIN_SEND "$BLAST" blast -p "$PORT" -n "$N" -t "$SECS" >"$tmp/raw.out" || die "blast failed"
raw_pps=$(field pps "$tmp/raw.out")

nsx iptables -A INPUT -p udp --dport "$PORT" -j NFQUEUE --queue-num 0 \
	--queue-bypass || die "iptables NFQUEUE rule"

# flood KIND: one consumer, one flood.  Sets F_PKTS F_SENT F_SECS F_CPU
# F_RSS F_HWM.
flood() {
	kind=$1
	if [ "$kind" = bare ]; then
		start "$tmp/c.out" $PIN_CONS "$BARE" -q 0
	else
		start "$tmp/c.out" $PIN_CONS "$NFQ" -q 0 -c "$tmp/bench.rules" --log-rate 10
	fi
	pid=$LAST
	wait_bound "$pid" || { cat "$tmp/c.out.err" >&2; die "$kind: queue 0 not bound"; }
	c0=$(cpu_ticks "$pid")
	nsx $PIN_SEND "$BLAST" blast -p "$PORT" -n "$N" -t "$SECS" >"$tmp/blast.out" || die "blast failed"
	sleep 0.5 # let the queue drain
	c1=$(cpu_ticks "$pid")
	F_CPU=$((c1 - c0))
	F_SENT=$(field sent "$tmp/blast.out")
	F_SECS=$(awk '{ for (i = 1; i < NF; i++) if ($i == "seconds") print $(i + 1) }' "$tmp/blast.out")
	if [ "$kind" = bare ]; then
		stop_pid "$pid" TERM
		F_PKTS=$(field packets "$tmp/c.out")
		F_RSS=0 F_HWM=0
	else
		F_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		F_HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
		kill -USR1 "$pid"
		sleep 0.3
		F_PKTS=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if isinstance(d, dict) and d.get("type") == "counters":
        n = d.get("packets", 0)
print(n)' "$tmp/c.out")
		stop_pid "$pid" TERM
	fi
}

# Best of RUNS, bare and daemon in turn so that drift in the machine's load
# hits both.  Packets/s is the goal's measure; CPU time per packet (the
# lowest seen) is what still compares the two on a busy machine, where
# other processes take turns on the consumer's CPU.
best_bare=0 best_nfq=0 bare_us="" nfq_us="" nfq_rss=0 nfq_hwm=0
min_us() { # min_us CURRENT NEW
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}
for r in $(seq 1 "$RUNS"); do
	for kind in bare nfq; do
		[ "$kind" = nfq ] && [ "$have_daemon" = 0 ] && continue
		flood "$kind"
		pps=$(awk -v p="$F_PKTS" -v s="$F_SECS" 'BEGIN { printf "%.0f", (s > 0 ? p / s : 0) }')
		us=$(awk -v c="$F_CPU" -v h="$HZ" -v p="$F_PKTS" 'BEGIN { printf "%.2f", (p > 0 ? c * 1e6 / h / p : 0) }')
		name=$kind
		[ "$kind" = nfq ] && name=portclass-nfq
		printf '  run %d %-14s verdicted %s of %s sent in %ss: %s pps, CPU %s us/packet\n' \
			"$r" "$name:" "$F_PKTS" "$F_SENT" "$F_SECS" "$pps" "$us"
		if [ "$kind" = bare ]; then
			[ "$pps" -gt "$best_bare" ] && best_bare=$pps
			bare_us=$(min_us "$bare_us" "$us")
		else
			[ "$pps" -gt "$best_nfq" ] && best_nfq=$pps
			nfq_us=$(min_us "$nfq_us" "$us")
			[ "${F_HWM:-0}" -gt "$nfq_hwm" ] && nfq_rss=$F_RSS nfq_hwm=$F_HWM
		fi
	done
done

cap() { awk -v u="$1" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }'; }
echo "sender alone (no queue rule): $raw_pps pps${PIN_SEND:+ (sender on CPU 0, consumer on CPU 1)}"
echo "bare consumer:  $best_bare pps verdicted (best of $RUNS); CPU $bare_us us/packet (one CPU: $(cap "$bare_us") pps)"
if [ "$have_daemon" = 1 ]; then
	echo "portclass-nfq:  $best_nfq pps verdicted (best of $RUNS); CPU $nfq_us us/packet (one CPU: $(cap "$nfq_us") pps)"
	awk -v d="$best_nfq" -v b="$best_bare" -v du="$nfq_us" -v bu="$bare_us" 'BEGIN {
		r = b > 0 ? d / b : 0
		c = du > 0 ? bu / du : 0
		printf "ratio portclass-nfq / bare: %.2f by packets/s (goal >= 0.9: %s), %.2f by CPU per packet (%s)\n",
			r, (r >= 0.9 ? "met" : "NOT met"), c, (c >= 0.9 ? "met" : "NOT met") }'
	echo "portclass-nfq memory (highest of the floods): VmRSS $nfq_rss kB, VmHWM $nfq_hwm kB"
else
	echo "portclass-nfq: not built or not working ($NFQ --help failed): daemon half skipped"
fi

# Latency: echo round trips, the request queued or not.
start "$tmp/echo.out" "$BLAST" echo -p "$EPORT" --ready "$tmp/echo.ready"
wait_file "$tmp/echo.ready" || die "echo did not start"
ping_stats() { # -> P50 P99 (ns)
	nsx "$BLAST" ping -p "$EPORT" -n "$PINGS" >"$tmp/ping.out" || die "ping failed: $(cat "$tmp/ping.out")"
	P50=$(field p50 "$tmp/ping.out")
	P99=$(field p99 "$tmp/ping.out")
	LOST=$(field lost "$tmp/ping.out")
}
ping_stats
base50=$P50 base99=$P99
echo "round trip without queueing ($PINGS pings): p50 ${base50} ns, p99 ${base99} ns"

nsx iptables -A INPUT -p udp --dport "$EPORT" -j NFQUEUE --queue-num 0 \
	--queue-bypass || die "iptables NFQUEUE rule"
latency() { # KIND
	if [ "$1" = bare ]; then
		start "$tmp/l.out" $PIN_CONS "$BARE" -q 0
	else
		start "$tmp/l.out" $PIN_CONS "$NFQ" -q 0 -c "$tmp/bench.rules" --log-rate 10
	fi
	lpid=$LAST
	wait_bound "$lpid" || die "$1: queue 0 not bound"
	ping_stats
	stop_pid "$lpid" TERM
	awk -v k="$1" -v a="$P50" -v b="$P99" -v x="$base50" -v y="$base99" -v l="$LOST" 'BEGIN {
		printf "added latency, %s: p50 %+.1f us, p99 %+.1f us (lost %d)\n",
			k, (a - x) / 1000, (b - y) / 1000, l }'
}
latency bare
if [ "$have_daemon" = 1 ]; then
	latency portclass-nfq
fi
exit 0
