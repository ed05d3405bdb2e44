#!/bin/sh
# t_nfq_check: `portclass-nfq -n` parses the rules only (no root, no
# queue): "configuration OK" and 0, or every error with file:line and 1.
# Also --help and --version.
set -u
: "${BUILD:=build}"
NFQ=$BUILD/portclass-nfq
[ -x "$NFQ" ] || { echo "FAIL: $NFQ not built"; exit 1; }
TMP=$(mktemp -d /tmp/pc-nfqchk.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf 'dynamic-range iana\nunexpected reject log\ndefault pass\nexpect udp port 60000-61000\n' >"$TMP/good"
out=$("$NFQ" -n -c "$TMP/good" 2>&1) || fail "good file: $out"
[ "$out" = "configuration OK" ] || fail "good file said: $out"
out=$("$NFQ" --check --rules "$TMP/good" 2>&1) || fail "long options: $out"

printf 'default pass\ndrop tcp to port 70000\nfrobnicate\n' >"$TMP/bad"
rc=0
out=$("$NFQ" -n -c "$TMP/bad" 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "bad file: exit $rc"
printf '%s\n' "$out" | grep -q "$TMP/bad:2:[0-9]*: error: port 70000 out of range" ||
	fail "line 2 not reported: $out"
printf '%s\n' "$out" | grep -q "$TMP/bad:3:[0-9]*: error:" || fail "line 3 not reported: $out"
printf '%s\n' "$out" | grep -q "configuration OK" && fail "bad file said OK"

rc=0
"$NFQ" -n -c "$TMP/missing" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] || fail "missing file: exit $rc"
grep -q "$TMP/missing" "$TMP/err" || fail "missing file not named"

"$NFQ" --help | grep -q -- "--reject-mark" || fail "--help"
"$NFQ" --version | grep -Eq '^portclass-nfq [0-9]+\.[0-9]+' || fail "--version"
echo ok
