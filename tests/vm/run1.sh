#!/bin/sh
# tests/vm/guest.sh's runner for one test: runs TEST under a time bound,
# prints its one line ("pcvm: PASS|FAIL|SKIP TEST (N s)", a failure's last
# lines after it, in one write so that parallel runs do not interleave
# them) and leaves the outcome (pass, fail or skip) in RESDIR.  More than
# one TEST: one after the other, in order.
# usage: run1.sh RESDIR TEST...
set -u
res=$1
shift
: "${VM_TEST_TIMEOUT:=240}"
for t in "$@"; do
	t0=$(date +%s.%N)
	out=$(BUILD=build timeout -k 5 "$VM_TEST_TIMEOUT" sh "$t" 2>&1)
	rc=$?
	d=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	name=$(printf '%s' "$t" | tr '/' '_')
	if [ "$rc" -eq 77 ]; then
		echo skip >"$res/$name"
		printf 'pcvm: SKIP %s (%s s): %s\n' "$t" "$d" "$(printf '%s\n' "$out" | tail -n 1)"
	elif [ "$rc" -eq 0 ]; then
		echo pass >"$res/$name"
		printf 'pcvm: PASS %s (%s s)\n' "$t" "$d"
	else
		echo fail >"$res/$name"
		[ "$rc" -eq 124 ] && out="$out
timed out after $VM_TEST_TIMEOUT s"
		printf 'pcvm: FAIL %s (%s s, exit %d)\n%s\n' "$t" "$d" "$rc" \
			"$(printf '%s\n' "$out" | tail -n 40 | sed 's/^/pcvm:   /')"
	fi
done
exit 0
