#!/bin/sh
# portclass explain / check: classes at the boundaries, profiles, bad
# arguments, check's verdicts; as root, a real listener named in its own
# network namespace.
set -eu
: "${BUILD:=build}"
PC=$BUILD/portclass
# the tree's policy, whatever is installed on this machine
PORTCLASS_POLICY=contrib/default.rules
export PORTCLASS_POLICY
tmp=$(mktemp -d)
ns=""
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

class_is() {
	out=$($PC explain "$1") || fail "explain $1 exited $?"
	echo "$out" | grep -q "IANA class: *$2 " || fail "port $1: expected $2, got: $out"
}
class_is 0 system
class_is 1023 system
class_is 1024 user
class_is 49151 user
class_is 49152 dynamic
class_is 65535 dynamic

# Profiles: 32767 is outside Linux's range, 32768 inside; 61000 outside.
$PC explain 32768 | grep -q "linux yes" || fail "32768 linux"
$PC explain 32767 | grep -q "linux no" || fail "32767 linux"
$PC explain 61000 | grep -q "linux no" || fail "61000 linux"
$PC explain 10000 | grep -q "freebsd yes" || fail "10000 freebsd"
$PC explain 9999 | grep -q "freebsd no" || fail "9999 freebsd"

# Several ports in one call, each with its own block.
[ "$($PC explain 22 60314 | grep -c '^port ')" -eq 2 ] || fail "two ports"

# Bad arguments: exit 2 and a message, nothing on stdout.
for bad in 70000 no-such-service -1 20-10 99999/tcp 22/icmp ""; do
	set +e
	out=$($PC explain "$bad" 2>"$tmp/err")
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "explain '$bad' exited $rc"
	[ -s "$tmp/err" ] || fail "explain '$bad': no message"
	[ -z "$out" ] || fail "explain '$bad' printed on stdout"
done
$PC explain 70000 2>&1 | grep -q "70000" || fail "message names the port"

# check: OK, then every error of a broken file in one run.
$PC check contrib/default.rules | grep -qx "configuration OK" || fail "default.rules"
for f in contrib/examples/*.rules; do
	$PC check "$f" >/dev/null || fail "check $f"
done
printf 'default pass\ndrop tcp to port 70000\nfrobnicate\npass udp from port 9-3\n' > "$tmp/bad.rules"
set +e
$PC check "$tmp/bad.rules" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "check bad.rules exited $rc"
grep -q "bad.rules:2:[0-9]*: error: .*70000" "$tmp/err" || fail "line 2 error: $(cat "$tmp/err")"
grep -q "bad.rules:3:1: error" "$tmp/err" || fail "line 3 error: $(cat "$tmp/err")"
grep -q "bad.rules:4:[0-9]*: error" "$tmp/err" || fail "line 4 error: $(cat "$tmp/err")"
grep -q "configuration OK" "$tmp/out" && fail "OK printed for a bad file"
set +e
$PC check "$tmp/missing.rules" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "missing file exited $rc"
grep -q "missing.rules" "$tmp/err" || fail "missing file not named"

# A real listener, named with its owner, inside a namespace of our own.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
	echo "ok (listener part skipped: needs root, ip, python3)"
	exit 0
fi
ns=pc-cli-$$
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 60314)); s.listen(); time.sleep(30)' &
pid=$!
i=0
until ip netns exec "$ns" $PC explain 60314 | grep -q "listening: *tcp 127.0.0.1:60314"; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "listener not seen"; sleep 0.1
done
out=$(ip netns exec "$ns" $PC explain -c contrib/default.rules 60314)
echo "$out" | grep -q "pid $pid (python3)" || fail "owner not named: $out"
echo "$out" | grep -q "UNEXPECTED" || fail "not flagged unexpected: $out"
ip netns exec "$ns" $PC explain 60315 | grep -q "nothing listens on 60315" || fail "60315"
echo ok
