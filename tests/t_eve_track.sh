#!/bin/sh
# --format eve tracks only the flows that can give an alert (a port in the
# guarded range or named by a logging rule: rules/portset.c).  Its output
# must be byte for byte what tracking every flow gives (--fail-on, which
# reads more than alerts, turns the shortcut off): on the demo capture and
# a generated one, under policies whose port sets differ, with the kernel
# model and with every packet handed over, and with a small table.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
REPLAY=$BUILD/portclass-replay
GENCAP=$BUILD/tools/gencap
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$REPLAY" ] || fail "$REPLAY not built"
[ -x "$GENCAP" ] || { echo "skip: $GENCAP not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$GENCAP" -n 60000 -f 6000 -o "$tmp/gen.pcap" 2>"$tmp/err" ||
	fail "gencap: $(cat "$tmp/err")"
cat >"$tmp/ports.rules" <<'R'
dynamic-range linux
unexpected drop log
drop log tcp to port 22
pass udp to port 53
R
cat >"$tmp/all.rules" <<'R'
dynamic-range iana
default pass log
R

n=0
for cap in contrib/demo/demo.pcap "$tmp/gen.pcap"; do
	for rules in contrib/default.rules "$tmp/ports.rules" "$tmp/all.rules"; do
		for opt in "" "--queue all" "--max-flows 500"; do
			# shellcheck disable=SC2086
			"$REPLAY" -c "$rules" --format eve $opt -r "$cap" \
				>"$tmp/track" 2>"$tmp/err.t"
			st=$?
			[ "$st" -le 1 ] || fail "$cap $rules $opt: $(cat "$tmp/err.t")"
			# shellcheck disable=SC2086
			"$REPLAY" -c "$rules" --format eve --fail-on alert $opt \
				-r "$cap" >"$tmp/every" 2>"$tmp/err.e"
			st=$?
			[ "$st" -le 1 ] || fail "$cap $rules $opt: $(cat "$tmp/err.e")"
			cmp -s "$tmp/track" "$tmp/every" ||
				fail "$cap $rules $opt: eve output differs when only alerting flows are tracked"
			n=$((n + $(wc -l <"$tmp/track")))
		done
	done
done
[ "$n" -gt 100 ] || fail "too few alerts compared ($n)"
echo "ok ($n alerts compared)"
