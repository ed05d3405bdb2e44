#!/bin/sh
# t_fault_rules: hostile rules files never crash or hang the parser, in
# `portclass check` and in the daemon's `portclass-nfq -n`:
#   - an empty file is a valid (empty) policy;
#   - 4096 bytes of binary garbage (deterministic: the same bytes every
#     run) give file:line errors and exit 1, no sanitizer report;
#   - 100,000 rules load, with the time reported (asserted < 5 s only, so
#     a loaded CI machine cannot make it flake);
#   - a file that includes itself, and two files that include each other,
#     are reported as include loops.
# Every run is wrapped in timeout 20: a hang fails the test.
set -u
: "${BUILD:=build}"
PC=$BUILD/portclass
NFQ=$BUILD/portclass-nfq
[ -x "$PC" ] || { echo "FAIL: $PC not built"; exit 1; }
[ -x "$NFQ" ] || { echo "FAIL: $NFQ not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not installed"; exit 77; }
TMP=$(mktemp -d /tmp/pc-fault-rules.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	[ -s "$TMP/out" ] && { echo "--- output"; head -n 20 "$TMP/out"; }
	exit 1
}

# run WANT_RC FILE: both front ends on FILE, bounded, no sanitizer report.
run() {
	for cmd in "$PC check" "$NFQ -n -c"; do
		# shellcheck disable=SC2086
		timeout 20 $cmd "$2" >"$TMP/out" 2>&1
		rc=$?
		[ $rc -eq 124 ] && fail "$cmd $2: no answer within 20 s"
		[ $rc -eq "$1" ] || fail "$cmd $2: exit $rc, expected $1"
		if grep -E 'Sanitizer|runtime error' "$TMP/out"; then
			fail "$cmd $2: sanitizer report"
		fi
	done
}

: >"$TMP/empty.rules"
run 0 "$TMP/empty.rules"
grep -q 'configuration OK' "$TMP/out" || fail "empty file: no 'configuration OK'"

# Deterministic garbage: SHA-256 in counter mode from a fixed seed.
python3 - "$TMP/binary.rules" <<'PY' || fail "generating garbage"
import hashlib, sys
out = b"".join(hashlib.sha256(b"portclass-fault-%d" % i).digest() for i in range(128))
open(sys.argv[1], "wb").write(out[:4096])
PY
[ "$(wc -c <"$TMP/binary.rules")" -eq 4096 ] || fail "garbage size"
run 2 "$TMP/binary.rules"
grep -Eq "binary.rules:[0-9]+:[0-9]+: error:" "$TMP/out" ||
	fail "garbage: no file:line:column error"

# Garbage with NUL bytes and very long lines.
python3 - "$TMP/long.rules" <<'PY' || fail "generating long lines"
import sys
open(sys.argv[1], "wb").write(b"expect tcp port " + b"1," * 100000 + b"\n" +
                              b"\0" * 1000 + b"\npass " + b"x" * 200000 + b"\n")
PY
run 2 "$TMP/long.rules"

# 100,000 rules: expect and pass lines over every port and address form.
python3 - "$TMP/big.rules" <<'PY' || fail "generating 100k rules"
import sys
with open(sys.argv[1], "w") as f:
    f.write("dynamic-range iana\nunexpected reject log\ndefault pass\n")
    for i in range(100000):
        port = 49152 + i % 16384
        k = i % 4
        if k == 0:
            f.write("expect tcp port %d from 10.%d.%d.0/24\n" % (port, i >> 16 & 255, i >> 8 & 255))
        elif k == 1:
            f.write("expect udp port %d to 2001:db8::%x:%x\n" % (port, i >> 16, i & 0xffff))
        elif k == 2:
            f.write("pass tcp from 192.0.2.%d to port %d\n" % (i & 255, port))
        else:
            f.write("drop udp from 198.51.100.%d/32 to port %d\n" % (i & 255, port))
PY
[ "$(grep -c . "$TMP/big.rules")" -eq 100003 ] || fail "big file line count"
for cmd in "$PC check" "$NFQ -n -c"; do
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	timeout 20 $cmd "$TMP/big.rules" >"$TMP/out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	[ $rc -eq 0 ] || fail "$cmd: 100,000 rules: exit $rc"
	ms=$(((t1 - t0) / 1000000))
	echo "100,000 rules: $cmd: $ms ms"
	[ "$ms" -lt 5000 ] || fail "$cmd: 100,000 rules took $ms ms"
done

# A file that includes itself, and a loop through two files.
printf 'default pass\ninclude "self.rules"\n' >"$TMP/self.rules"
run 2 "$TMP/self.rules"
grep -Eq 'self.rules:2:[0-9]+: error:.*(loop|includ)' "$TMP/out" ||
	fail "self include: no error on line 2"
printf 'include "b.rules"\n' >"$TMP/a.rules"
printf 'include "a.rules"\n' >"$TMP/b.rules"
run 2 "$TMP/a.rules"
grep -Eq 'rules:1:[0-9]+: error:' "$TMP/out" || fail "mutual include: no error"
# Including a directory, a missing file and /dev/zero: errors, not hangs.
printf 'include "%s"\ninclude "missing.rules"\n' "$TMP" >"$TMP/dir.rules"
run 2 "$TMP/dir.rules"
if [ -e /dev/zero ]; then
	printf 'include "/dev/zero"\n' >"$TMP/zero.rules"
	for cmd in "$PC check" "$NFQ -n -c"; do
		# shellcheck disable=SC2086
		timeout 20 $cmd "$TMP/zero.rules" >"$TMP/out" 2>&1
		rc=$?
		[ $rc -eq 124 ] && fail "$cmd: include /dev/zero hangs"
		[ $rc -eq 2 ] || fail "$cmd: include /dev/zero: exit $rc"
	done
fi
echo ok
