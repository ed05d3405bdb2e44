#!/bin/sh
# Runs each cmocka test binary given; fails if any fails.
set -u
failed=0
for t in "$@"; do
	if ! "$t"; then
		echo "FAIL: $t" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
