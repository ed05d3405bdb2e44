#!/bin/sh
# t_log_escape: nothing a stranger controls reaches the log unescaped.  A
# listener whose program name (prctl PR_SET_NAME) holds a quote, a
# backslash, a tab and control bytes sits on a dynamic port; connection
# attempts to it are alerts naming it.  Every line of the log must be valid
# JSON (python3 json.loads), the alert's "program" must decode to exactly
# the name, and the raw log must hold no control byte but the newlines.
set -u
. tests/nfq/lib.sh
nfq_init logesc

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
# 15 bytes at most (TASK_COMM_LEN 16): a " b \ c TAB d 0x01 e 0x1b f 0x7f
cat >"$TMP/srv.py" <<'PY'
import ctypes, os, socket, sys, time
name = b'a"b\\c\td\x01e\x1bf\x7f'
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:  # PR_SET_NAME
    sys.exit("prctl failed")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 60314))
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
ip netns exec "$NS" $PY "$TMP/srv.py" "$TMP/odd.pid" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$TMP/odd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/odd.pid" ] || fail "odd server did not start"
pid=$(cat "$TMP/odd.pid")
od -c "/proc/$pid/comm" | head -n 2

nfq_start -c "$TMP/rules" -q 0
expect_client refused tcp 127.0.0.1 60314 3
wait_for "$LOG" '"dport":60314' 5 || fail "no alert"
sleep 0.5
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"

$PY - "$LOG" "$pid" <<'PY' || fail "log check"
import json, sys
raw = open(sys.argv[1], "rb").read()
bad = [b for b in raw if (b < 0x20 and b != 0x0a) or b == 0x7f]
if bad:
    sys.exit("raw control bytes in the log: %r" % bytes(bad[:10]))
want = 'a"b\\c\td\x01e\x1bf\x7f'
found = 0
for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
    try:
        obj = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line))
    if obj.get("type") == "alert" and obj.get("listener") == "rogue":
        if obj.get("pid") != int(sys.argv[2]):
            sys.exit("alert pid %r, expected %s" % (obj.get("pid"), sys.argv[2]))
        if obj.get("program") != want:
            sys.exit("program %r, expected %r" % (obj.get("program"), want))
        found += 1
if not found:
    sys.exit("no rogue alert for 60314")
print("alerts with the odd name: %d, every line valid JSON" % found)
PY
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
