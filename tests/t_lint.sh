#!/bin/sh
# portclass check's warnings: an unreachable rule, duplicates, expects
# outside the guarded range, destination hosts without `local`; each at
# file:line:col with the line quoted; warnings never fail unless --strict;
# clean policies stay silent.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
PC=$BUILD/portclass
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$PC" ] || fail "$PC not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
R=$tmp/p.rules

cat >"$R" <<'EOR'
dynamic-range iana
pass tcp
drop log tcp to port 60314
pass udp to port 53
pass udp to port 53
pass udp to port 5353 new
drop udp to port 5353
expect udp port 60001
expect udp port 60001 program mosh-server
expect tcp port 8080
expect tcp port 49000-49200
drop tcp to 192.0.2.1 port 60000
EOR
"$PC" check "$R" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "warnings made check fail: exit $rc"
grep -qx "configuration OK" "$tmp/out" || fail "no configuration OK"
w() { grep -q "^$R:$1: warning: $2" "$tmp/err" || fail "missing '$1 $2': $(cat "$tmp/err")"; }
w 3:1 "rule never matches: the pass rule at line 2"
grep -A2 "^$R:3:1: warning" "$tmp/err" | sed -n 2p | grep -qx "drop log tcp to port 60314" ||
	fail "line not quoted"
w 5:1 "duplicate of the rule at line 4"
w 9:1 "expect never needed: the expect at line 8"
w 10:1 "expect outside the guarded dynamic range"
w 11:1 "expect partly outside the guarded dynamic range .* only 49 of its 201 ports"
w 12:1 "rule never matches"
w 12:1 "explicit rules name destination hosts but the policy has no .local."
# not warned: a `new` rule does not cover all of a later plain one
grep -q "^$R:7:" "$tmp/err" && fail "line 7 wrongly warned"
grep -q "^$R:4:\|^$R:8:\|^$R:2:" "$tmp/err" && fail "first rules warned"
[ "$(grep -c ': warning: ' "$tmp/err")" -eq 7 ] || fail "want 7 warnings: $(cat "$tmp/err")"
grep -qx "7 warnings" "$tmp/err" || fail "no count"

# --strict: warnings are findings (1); errors stay 2; -w hides warnings
"$PC" check --strict "$R" >/dev/null 2>&1
[ $? -eq 1 ] || fail "--strict: want exit 1"
out=$("$PC" check -w "$R" 2>&1) || fail "-w exit"
[ "$out" = "configuration OK" ] || fail "-w: $out"
printf 'pass tcp\npass tcp\ndrop tcp to port 70000\n' >"$tmp/bad.rules"
"$PC" check --strict "$tmp/bad.rules" >/dev/null 2>&1
[ $? -eq 2 ] || fail "errors under --strict: want exit 2"

# indentation: the column is where the rule starts
printf 'pass tcp\n\t  drop tcp\n' >"$tmp/ind.rules"
"$PC" check "$tmp/ind.rules" 2>&1 | grep -q "ind.rules:2:4: warning" ||
	fail "column: $("$PC" check "$tmp/ind.rules" 2>&1)"

# clean policies: not a word
for f in contrib/default.rules contrib/examples/*.rules contrib/demo/demo.rules; do
	out=$("$PC" check --strict "$f" 2>&1) || fail "$f: $out"
	[ "$out" = "configuration OK" ] || fail "$f warned: $out"
done
# different hosts or ports are no duplicates
printf 'pass tcp to port 60000-60010\ndrop tcp to port 60005-60020\nexpect tcp port 60000 to 192.0.2.1\nexpect tcp port 60000 to 192.0.2.2\nlocal 192.0.2.0/24\n' \
	>"$tmp/ok.rules"
out=$("$PC" check --strict "$tmp/ok.rules" 2>&1) || fail "ok.rules: $out"

echo ok
