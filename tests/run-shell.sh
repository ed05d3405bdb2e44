#!/bin/sh
# Runs every tests/t_*.sh.  Each prints "ok", "skip: why" or fails with a
# non-zero exit.  Prints one closing "N passed, N failed, N skipped" line.
set -u
: "${BUILD:=build}"
export BUILD
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0
for t in tests/t_*.sh; do
	[ -e "$t" ] || continue
	out=$(sh "$t" 2>&1)
	rc=$?
	if [ "$rc" -eq 77 ]; then
		skip=$((skip + 1))
		printf 'SKIP %s: %s\n' "$t" "$(printf '%s\n' "$out" | tail -n 1)"
	elif [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		printf 'PASS %s\n' "$t"
	else
		fail=$((fail + 1))
		printf 'FAIL %s (exit %d)\n%s\n' "$t" "$rc" "$out"
	fi
done
echo "shell: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
