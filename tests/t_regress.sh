#!/bin/sh
# Replays every fuzzing finding (tests/regress/<harness>/*) and every seed
# (tests/fuzz/seeds/<harness>/*) through the harness built as a plain
# program ($BUILD/fuzz/<harness>, `make check-regress`; under SANITIZE=1
# with ASan + UBSan).  A crash, sanitizer report, failed check or hang
# (60 s per harness) fails the test.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
n=0
for src in tests/fuzz/fuzz_*.c; do
	h=$(basename "$src" .c)
	if [ ! -x "$BUILD/fuzz/$h" ]; then
		echo "skip: $BUILD/fuzz/$h not built (make check-regress)"
		exit 77
	fi
done
for src in tests/fuzz/fuzz_*.c; do
	h=$(basename "$src" .c)
	set --
	for f in tests/regress/"$h"/* tests/fuzz/seeds/"$h"/*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	[ $# -gt 0 ] || continue
	if ! timeout 60 "$BUILD/fuzz/$h" "$@" >/dev/null 2>"$BUILD/fuzz/$h.err"
	then
		echo "FAIL: $h on one of: $*"
		tail -n 20 "$BUILD/fuzz/$h.err"
		exit 1
	fi
	n=$((n + $#))
done
echo "ok: $n inputs replayed"
