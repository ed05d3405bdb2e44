#!/bin/sh
# `make bench`: runs every tests/bench/b_*.sh in order.  Each measures its
# subject next to a baseline taken in the same run and prints the ratio.
set -u
: "${BUILD:=build}"
export BUILD
cd "$(dirname "$0")/../.." || exit 1
rc=0
for b in tests/bench/b_*.sh; do
	[ -e "$b" ] || continue
	echo "== $b"
	sh "$b" || { rc=1; echo "bench $b failed" >&2; }
done
exit $rc
