#!/bin/sh
# t_esc_human: a listener whose program name (prctl PR_SET_NAME) holds an
# escape sequence, a newline, a quote, a backslash, a bell and bytes from
# 0x80 up sits on a dynamic port in a namespace.  Every human output that
# names it - `portclass explain`, `portclass listeners`, the replay report
# (from a capture and a `listeners --json` snapshot) - must print it
# escaped: no raw control byte, no byte from 0x80 up, and the escaped name
# in full.
set -u
. tests/nfq/lib.sh
nfq_init eschuman
command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed"
PC=$BUILD/portclass
REPLAY=$BUILD/portclass-replay
# 13 bytes (TASK_COMM_LEN 16): ESC [ 2 J LF X " \ 0xe9 0x9b BEL
cat >"$TMP/srv.py" <<'PY'
import ctypes, os, socket, sys, time
name = b'\x1b[2J\nX"\\\xe9\x9b\x07'
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:  # PR_SET_NAME
    sys.exit("prctl failed")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 60314))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + 60
s.settimeout(0.2)
while time.time() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
PY
nsx $PY "$TMP/srv.py" "$TMP/odd.pid" &
PIDS="$PIDS $!"
wait_for "$TMP/odd.pid" . 10 || fail "odd server did not start"
WANT='\x1b[2J\nX"\\\xe9\x9b\x07'
# The capture is of loopback traffic: guarded with `loopback inbound`.
printf 'dynamic-range iana\nunexpected drop log\ndefault pass\nloopback inbound\n' >"$TMP/rules"

# check NAME FILE [WANT]: no raw control byte (but newlines) nor 8-bit
# byte, and the escaped name present.
check() {
	$PY - "$2" "${3:-$WANT}" "$1" <<'PY' || fail "$1"
import sys
raw = open(sys.argv[1], "rb").read()
bad = [b for b in raw if (b < 0x20 and b != 0x0a) or b >= 0x7f]
if bad:
    sys.exit("%s: raw bytes %r reach the terminal" % (sys.argv[3], bytes(bad[:8])))
if sys.argv[2].encode() not in raw:
    sys.exit("%s: the escaped name %s is missing:\n%s" % (sys.argv[3], sys.argv[2], raw.decode()))
PY
}

nsx "$PC" explain -c "$TMP/rules" 60314 >"$TMP/explain" 2>&1 || fail "explain failed"
check explain "$TMP/explain"
# exit 1: an unexpected listener is a finding
nsx "$PC" listeners -c "$TMP/rules" >"$TMP/listeners" 2>&1
[ $? -le 1 ] || fail "listeners failed"
check listeners "$TMP/listeners"
nsx "$PC" listeners -c "$TMP/rules" --json >"$TMP/snap.json" 2>/dev/null
[ $? -le 1 ] || fail "listeners --json failed"

# A capture of a connection to it, replayed with the snapshot.
ip netns exec "$NS" tcpdump --immediate-mode -i lo -s 0 -U -w "$TMP/cap.pcap" 'tcp port 60314' 2>"$TMP/tcpdump.err" &
td=$!
PIDS="$PIDS $td"
wait_for "$TMP/tcpdump.err" 'listening' 10 || fail "tcpdump did not start"
sleep 0.5
expect_client nodata tcp 127.0.0.1 60314 3
sleep 0.5
kill -TERM $td
wait $td
"$REPLAY" -c "$TMP/rules" --listeners "$TMP/snap.json" -r "$TMP/cap.pcap" >"$TMP/report" 2>&1
[ $? -le 1 ] || fail "replay failed: $(cat "$TMP/report")"
grep -q 'listener' "$TMP/report" || fail "the report names no listener: $(cat "$TMP/report")"
# The snapshot stores names as JSON strings, whose reader turns the byte
# 0xe9 into the character U+00E9 (UTF-8 c3 a9): either way, escaped.
check "replay report" "$TMP/report" '\x1b[2J\nX"\\\x'
[ "$(grep -c 'x1b\[2J' "$TMP/report")" -ge 2 ] ||
	fail "the report does not name the listener in both the alerts and the listeners seen"
echo ok
