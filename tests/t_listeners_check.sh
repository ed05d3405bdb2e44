#!/bin/sh
# `portclass listeners` as a check, in a network namespace of its own:
# filters, exit status 1 for an unexpected listener (0 none, 2 error), the
# owner's command line escaped, explicit rules judged before `expect`;
# `explain` with services, PORT/PROTO and ranges, each argument on its own;
# and the baseline: `listeners --suggest` and `portclass-replay --suggest`
# print expect lines that pass `check` and, appended, make exactly those
# listeners expected.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
PC=$BUILD/portclass
REPLAY=$BUILD/portclass-replay
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$PC" ] || fail "$PC not built"
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root for a network namespace"; exit 77; fi
command -v ip >/dev/null 2>&1 || { echo "skip: no ip(8)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }

NS=pc-lcheck-$$
TMP=$(mktemp -d /tmp/pc-lcheck.XXXXXX) || fail "mktemp"
PIDS= DUMP_PID=
cleanup() {
	[ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	# whatever still runs in the namespace goes too
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns delete "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$NS" || { echo "skip: cannot create a network namespace"; exit 77; }
ip -n "$NS" link set lo up || fail "lo up"
nsx() { ip netns exec "$NS" "$@"; }

# argv[6] is decoration: a command line the listener chose itself,
# with an escape sequence in it
cat >"$TMP/serve.py" <<'EOPY'
import socket, sys, time
kind, fam, addr, port, ready = sys.argv[1:6]
s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET,
                  socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, int(port)))
if kind == "tcp":
    s.listen(8)
open(ready, "w").close()
time.sleep(120)
EOPY
serve() {
	ip netns exec "$NS" python3 "$TMP/serve.py" "$@" &
	PIDS="$PIDS $!"
}
ESC=$(printf '\033')
serve tcp 4 0.0.0.0 60314 "$TMP/a.ready" "rogue${ESC}[31mRED"
ROGUE=$!
serve udp 4 127.0.0.1 60001 "$TMP/b.ready"
serve tcp 4 127.0.0.1 60500 "$TMP/c.ready"
serve tcp 6 ::1 8080 "$TMP/d.ready"
serve udp 4 127.0.0.1 60777 "$TMP/e.ready"
i=0
for r in a b c d e; do
	while [ ! -e "$TMP/$r.ready" ]; do
		i=$((i + 1)); [ $i -le 200 ] || fail "servers did not start"; sleep 0.1
	done
done
P=$TMP/p.rules
cat >"$P" <<'EOR'
dynamic-range iana
unexpected reject log
default pass
pass tcp to port 60500
expect udp port 60001
loopback inbound
EOR
# (loopback inbound: the capture below is the host talking to itself)

# ---- 4. listeners as a check ------------------------------------------------
L() { nsx "$PC" listeners -c "$P" "$@" >"$TMP/out" 2>"$TMP/err"; }
L; rc=$?
[ $rc -eq 1 ] || fail "unexpected present: exit $rc: $(cat "$TMP/err")"
grep -Eq "^tcp +0\.0\.0\.0 +60314 .* unexpected +$ROGUE " "$TMP/out" || fail "rogue: $(cat "$TMP/out")"
grep -Eq "^udp +127\.0\.0\.1 +60777 .* unexpected " "$TMP/out" || fail "udp rogue: $(cat "$TMP/out")"
grep -Eq "^udp +127\.0\.0\.1 +60001 .* expected " "$TMP/out" || fail "expected: $(cat "$TMP/out")"
grep -Eq "^tcp +::1 +8080 .* not-guarded " "$TMP/out" || fail "8080: $(cat "$TMP/out")"
# the explicit rule decides before expect/unexpected, as in the decision
grep -Eq "^tcp +127\.0\.0\.1 +60500 .* pass:$P:4 " "$TMP/out" || fail "rule: $(cat "$TMP/out")"
# the command line, escaped
grep -q 'python3 .*serve.py tcp 4 0.0.0.0 60314 .* rogue\\x1b\[31mRED' "$TMP/out" || fail "cmdline: $(grep 60314 "$TMP/out")"
grep -q "$ESC" "$TMP/out" && fail "a raw escape reached the terminal"
# filters
L --unexpected; rc=$?
[ $rc -eq 1 ] || fail "--unexpected exit $rc"
[ "$(tail -n +2 "$TMP/out" | wc -l)" -eq 2 ] || fail "--unexpected: $(cat "$TMP/out")"
tail -n +2 "$TMP/out" | grep -v " unexpected " && fail "--unexpected shows others"
L --proto udp --port 60001; rc=$?
[ $rc -eq 0 ] || fail "--proto udp --port 60001: exit $rc"
[ "$(tail -n +2 "$TMP/out" | awk '{ print $1, $3 }')" = "udp 60001" ] || fail "filters: $(cat "$TMP/out")"
L --port 60000-60400; rc=$?
[ $rc -eq 1 ] || fail "--port 60000-60400: exit $rc"
[ "$(tail -n +2 "$TMP/out" | awk '{ print $3 }' | sort | tr '\n' ' ')" = "60001 60314 " ] ||
	fail "--port range: $(cat "$TMP/out")"
L --proto tcp --port 60500; rc=$?
[ $rc -eq 0 ] || fail "rule-passed listener counted unexpected: exit $rc"
L --proto icmp; rc=$?
[ $rc -eq 2 ] || fail "--proto icmp: exit $rc"
L --port 70000; rc=$?
[ $rc -eq 2 ] || fail "--port 70000: exit $rc"
nsx "$PC" listeners -c "$TMP/missing.rules" >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing policy: want 2"

# ---- explain: every argument on its own ---------------------------------------
nsx "$PC" explain -c "$P" ssh 60500/tcp 60313-60315 nonsense 22/icmp \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] || fail "explain with bad arguments: exit $rc"
[ "$(grep -c '^port' "$TMP/out")" -eq 3 ] || fail "explain blocks: $(cat "$TMP/out")"
grep -q "^port 22 (ssh)" "$TMP/out" || fail "service: $(cat "$TMP/out")"
grep -q "^ports 60313-60315" "$TMP/out" || fail "range: $(cat "$TMP/out")"
grep -q "listening: *tcp 0.0.0.0:60314 pid $ROGUE" "$TMP/out" || fail "range listeners: $(cat "$TMP/out")"
grep -q "listening: *tcp 127.0.0.1:60500 .* - rule $P:4: pass" "$TMP/out" || fail "rule: $(cat "$TMP/out")"
grep -q "'nonsense': unknown service name" "$TMP/err" || fail "bad service: $(cat "$TMP/err")"
grep -q "'22/icmp': unknown protocol" "$TMP/err" || fail "bad proto: $(cat "$TMP/err")"
nsx "$PC" explain -c "$P" 22/tcp >/dev/null || fail "explain 22/tcp"

# ---- 9. the baseline ---------------------------------------------------------------
nsx "$PC" listeners -c "$P" --suggest >"$TMP/suggest" 2>"$TMP/err" ||
	fail "--suggest exit $?: $(cat "$TMP/err")"
grep -v '^#' "$TMP/suggest" >"$TMP/lines"
[ "$(wc -l <"$TMP/lines")" -eq 2 ] || fail "suggest: $(cat "$TMP/suggest")"
grep -qx 'expect tcp port 60314 program "python3" user "root"' "$TMP/lines" ||
	fail "suggest tcp: $(cat "$TMP/lines")"
grep -qx 'expect udp port 60777 to 127.0.0.1 program "python3" user "root"' "$TMP/lines" ||
	fail "suggest udp: $(cat "$TMP/lines")"
cat "$TMP/suggest" >"$TMP/frag.rules"
"$PC" check --strict "$TMP/frag.rules" >/dev/null || fail "suggestion alone does not check"
cat "$P" "$TMP/suggest" >"$TMP/p2.rules"
out=$("$PC" check --strict "$TMP/p2.rules" 2>&1) || fail "appended does not check: $out"
nsx "$PC" listeners -c "$TMP/p2.rules" >"$TMP/out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "after the baseline: exit $rc: $(cat "$TMP/out")"
# exactly those: the formerly unexpected are expected, nothing else moved
grep -Eq "^tcp +0\.0\.0\.0 +60314 .* expected " "$TMP/out" || fail "60314 not expected"
grep -Eq "^udp +127\.0\.0\.1 +60777 .* expected " "$TMP/out" || fail "60777 not expected"
grep -Eq "^tcp +::1 +8080 .* not-guarded " "$TMP/out" || fail "8080 moved"
grep -Eq "^tcp +127\.0\.0\.1 +60500 .* pass:" "$TMP/out" || fail "60500 moved"
# ...and not a wider door: another program on another port still alerts
serve tcp 4 0.0.0.0 60315 "$TMP/f.ready"
i=0; while [ ! -e "$TMP/f.ready" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "f"; sleep 0.1; done
nsx "$PC" listeners -c "$TMP/p2.rules" --unexpected >"$TMP/out" 2>&1
[ $? -eq 1 ] || fail "new rogue after baseline not flagged"
grep -q " 60315 " "$TMP/out" || fail "60315: $(cat "$TMP/out")"

# The same from a capture: portclass-replay --suggest (a listener shows
# in a capture by answering: the TCP one does, the silent UDP ones not)
if [ -x "$REPLAY" ] && command -v tcpdump >/dev/null 2>&1; then
	nsx "$PC" listeners --json -c "$P" >"$TMP/snap.json" 2>/dev/null
	# (ip execs tcpdump: $! is tcpdump itself)
	ip netns exec "$NS" tcpdump -i lo -n -U --immediate-mode -w "$TMP/cap.pcap" \
		'tcp port 60314 or udp port 60001' 2>"$TMP/tcpdump.err" &
	DUMP_PID=$!
	i=0
	until grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null; do
		i=$((i + 1)); [ $i -le 100 ] || fail "tcpdump did not start"; sleep 0.1
	done
	nsx python3 -c '
import socket
c = socket.create_connection(("127.0.0.1", 60314), timeout=2); c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"x", ("127.0.0.1", 60001))
' || fail "clients"
	sleep 0.5
	kill "$DUMP_PID"; wait "$DUMP_PID" 2>/dev/null; DUMP_PID=
	"$REPLAY" -c "$P" --listeners "$TMP/snap.json" --suggest -r "$TMP/cap.pcap" \
		>"$TMP/rsuggest" 2>"$TMP/err" || fail "replay --suggest: $(cat "$TMP/err")"
	grep -qx 'expect tcp port 60314 to 127.0.0.1 program "python3" user "root"' "$TMP/rsuggest" ||
		fail "replay suggest: $(cat "$TMP/rsuggest")"
	grep -v '^#' "$TMP/rsuggest" | grep -q " 60001 " && fail "expected listener suggested"
	cat "$P" "$TMP/rsuggest" >"$TMP/p3.rules"
	"$PC" check --strict "$TMP/p3.rules" >/dev/null 2>&1 || fail "replay suggestion does not check"
	"$REPLAY" -c "$TMP/p3.rules" --listeners "$TMP/snap.json" --fail-on alert \
		-r "$TMP/cap.pcap" >"$TMP/out" 2>&1
	[ $? -eq 0 ] || fail "after the replay baseline, alerts remain: $(cat "$TMP/out")"
	"$REPLAY" -c "$P" --listeners "$TMP/snap.json" --fail-on alert \
		-r "$TMP/cap.pcap" >/dev/null 2>&1
	[ $? -eq 1 ] || fail "the capture alerts without the baseline"
fi
echo ok
