#!/bin/sh
# `portclass listeners` in a network namespace of its own: a rogue TCP
# listener on 60314 and an expected UDP listener on 60001 (both python3),
# listed with their pid and program, classified under the rules, in JSON
# (the replay snapshot) and in the human table.
set -u
: "${BUILD:=build}"
PC=$BUILD/portclass
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$PC" ] || fail "$PC not built"

# Usage and errors need no privileges.
"$PC" listeners --help >/dev/null || fail "--help exit $?"
"$PC" listeners --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: want exit 2"
"$PC" listeners extra >/dev/null 2>&1
[ $? -eq 2 ] || fail "extra argument: want exit 2"
"$PC" listeners -c /nonexistent/rules >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing rules file: want exit 2"

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root for a network namespace"
	exit 77
fi
command -v ip >/dev/null 2>&1 || { echo "skip: no ip(8)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }

NS=pc-listeners-$$
TMP=$(mktemp -d /tmp/pc-listeners.XXXXXX) || fail "mktemp"
TCP_PID= UDP_PID= DUMP_PID=
cleanup() {
	[ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null
	[ -n "$TCP_PID" ] && kill "$TCP_PID" 2>/dev/null
	[ -n "$UDP_PID" ] && kill "$UDP_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns delete "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$NS" || { echo "skip: cannot create a network namespace"; exit 77; }
ip -n "$NS" link set lo up || fail "lo up"

# Each server binds, then says so through a file, then waits to be killed.
SERVE='
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
'
ip netns exec "$NS" python3 -c "$SERVE" tcp 4 0.0.0.0 60314 "$TMP/tcp.ready" &
TCP_PID=$!
ip netns exec "$NS" python3 -c "$SERVE" udp 6 ::1 60001 "$TMP/udp.ready" &
UDP_PID=$!
i=0
while [ ! -e "$TMP/tcp.ready" ] || [ ! -e "$TMP/udp.ready" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "servers did not start"
	sleep 0.1
done

# The capture below is of loopback traffic: guarded only with `loopback
# inbound`.
printf '# the UDP service is expected; anything else dynamic is not\nexpect udp port 60001\nloopback inbound\n' \
	>"$TMP/test.rules"

# exit 1: an unexpected listener (60314) is present
ip netns exec "$NS" "$PC" listeners --json -c "$TMP/test.rules" >"$TMP/out.json"
[ $? -eq 1 ] || fail "listeners --json: want exit 1 (unexpected present)"
ip netns exec "$NS" "$PC" listeners -c "$TMP/test.rules" >"$TMP/out.txt"
[ $? -eq 1 ] || fail "listeners: want exit 1 (unexpected present)"

python3 - "$TMP/out.json" "$TCP_PID" "$UDP_PID" <<'EOF' || fail "JSON check"
import json, sys
doc = json.load(open(sys.argv[1]))
tcp_pid, udp_pid = int(sys.argv[2]), int(sys.argv[3])
def die(msg):
    print("JSON:", msg, file=sys.stderr)
    print(json.dumps(doc, indent=1), file=sys.stderr)
    sys.exit(1)
if doc.get("version") != 1:
    die("version")
for k in ("host", "time", "range", "listeners"):
    if k not in doc:
        die("missing " + k)
keys = ["proto", "family", "addr", "port", "class", "ephemeral", "reserved",
        "pid", "program", "exe", "user", "uid", "unit", "policy"]
ls = doc["listeners"]
for l in ls:
    if list(l.keys()) != keys:
        die("members %s" % list(l.keys()))
# a fresh namespace has nothing else listening
if len(ls) != 2:
    die("want exactly 2 listeners")
t = [l for l in ls if l["proto"] == "tcp" and l["port"] == 60314]
u = [l for l in ls if l["proto"] == "udp" and l["port"] == 60001]
if len(t) != 1 or len(u) != 1:
    die("60314/tcp and 60001/udp not both listed")
t, u = t[0], u[0]
want_t = {"family": 4, "addr": "0.0.0.0", "class": "dynamic",
          "policy": "unexpected", "pid": tcp_pid, "program": "python3",
          "user": "root", "uid": 0}
want_u = {"family": 6, "addr": "::1", "class": "dynamic",
          "policy": "expected", "pid": udp_pid, "program": "python3"}
for got, want in ((t, want_t), (u, want_u)):
    for k, v in want.items():
        if got[k] != v:
            die("%s/%s: %s is %r, want %r" % (got["proto"], got["port"], k, got[k], v))
if not (t["exe"] or "").startswith("/"):
    die("exe %r" % t["exe"])
# sorted by protocol, then port
if [l["proto"] for l in ls] != ["tcp", "udp"]:
    die("order")
EOF

# The human table: a header, then one aligned line per listener.
head -n 1 "$TMP/out.txt" | grep -q '^PROTO  *ADDRESS  *PORT  *CLASS  *EPHEM  *POLICY  *PID  *PROGRAM  *USER  *UNIT  *COMMAND$' \
	|| fail "table header: $(head -n 1 "$TMP/out.txt")"
grep -Eq "^tcp +0\.0\.0\.0 +60314 +dynamic +[a-z]+ +unexpected +$TCP_PID +python3 +root " "$TMP/out.txt" \
	|| fail "tcp line: $(cat "$TMP/out.txt")"
grep -Eq "^udp +::1 +60001 +dynamic +[a-z]+ +expected +$UDP_PID +python3 +root " "$TMP/out.txt" \
	|| fail "udp line: $(cat "$TMP/out.txt")"
[ "$(wc -l <"$TMP/out.txt")" -eq 3 ] || fail "want 3 lines: $(cat "$TMP/out.txt")"
# PID column right-aligned, PROGRAM column starts at the same offset
awk 'NR > 1 { print index($0, "python3") }' "$TMP/out.txt" | sort -u | wc -l | grep -qx 1 \
	|| fail "columns not aligned: $(cat "$TMP/out.txt")"

# The snapshot is what portclass-replay --listeners reads: a capture of a
# connection to the rogue and a datagram to the expected service, replayed
# with it, names the rogue's owner and lets the expected one be.
REPLAY=$BUILD/portclass-replay
if [ -x "$REPLAY" ] && command -v tcpdump >/dev/null 2>&1; then
	ip netns exec "$NS" tcpdump -i lo -n -U --immediate-mode -w "$TMP/cap.pcap" \
		'tcp port 60314 or udp port 60001' 2>"$TMP/tcpdump.err" &
	DUMP_PID=$!
	i=0
	until grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "tcpdump did not start"
		sleep 0.1
	done
	ip netns exec "$NS" python3 -c '
import socket
c = socket.create_connection(("127.0.0.1", 60314), timeout=2)
c.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"x", ("::1", 60001))
' || fail "clients"
	sleep 0.5
	kill "$DUMP_PID"
	wait "$DUMP_PID" 2>/dev/null
	DUMP_PID=
	"$REPLAY" -c "$TMP/test.rules" --listeners "$TMP/out.json" \
		--format jsonl "$TMP/cap.pcap" >"$TMP/replay.jsonl" 2>"$TMP/replay.err"
	rc=$?
	[ $rc -le 1 ] || fail "replay exit $rc: $(cat "$TMP/replay.err")"
	python3 - "$TMP/replay.jsonl" "$TCP_PID" <<'EOF' || fail "replay check"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
alerts = [l for l in lines if l.get("dport") == 60314]
if not alerts:
    print("no alert for 60314:", lines, file=sys.stderr)
    sys.exit(1)
a = alerts[0]
if a.get("listener") != "rogue" or a.get("pid") != int(sys.argv[2]) \
        or a.get("program") != "python3":
    print("alert does not name the owner:", a, file=sys.stderr)
    sys.exit(1)
if [l for l in lines if l.get("dport") == 60001]:
    print("the expected service alerted:", lines, file=sys.stderr)
    sys.exit(1)
EOF
else
	echo "note: no portclass-replay or tcpdump: snapshot replay not checked" >&2
fi

# Without rules the dynamic range is still guarded: both unexpected.
: >"$TMP/empty.rules"
ip netns exec "$NS" "$PC" listeners --json -c "$TMP/empty.rules" >"$TMP/norules.json"
[ $? -eq 1 ] || fail "listeners with empty rules: want exit 1"
[ "$(grep -o '"policy":"unexpected"' "$TMP/norules.json" | wc -l)" -eq 2 ] \
	|| fail "empty rules: $(cat "$TMP/norules.json")"

# Once the rogue exits it is gone from the list.
kill "$TCP_PID"
wait "$TCP_PID" 2>/dev/null
TCP_PID=
ip netns exec "$NS" "$PC" listeners --json -c "$TMP/test.rules" >"$TMP/after.json"
[ $? -eq 0 ] || fail "listeners after the rogue left: want exit 0"
grep -q '"port":60314' "$TMP/after.json" && fail "60314 still listed after exit"
grep -q '"port":60001' "$TMP/after.json" || fail "60001 lost"

echo ok
