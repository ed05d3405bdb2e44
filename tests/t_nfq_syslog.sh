#!/bin/sh
# t_nfq_syslog: --syslog sends the event lines (alerts at daemon.warning)
# and diagnostics to syslog, nothing to standard output.  The daemon runs
# in a private mount namespace whose /dev holds only null and a log socket
# served by the test, so the host's syslog is never touched.
set -u
. tests/nfq/lib.sh
command -v unshare >/dev/null 2>&1 || skip "unshare not installed"
nfq_init syslog

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
mkdir "$TMP/dev"
: >"$TMP/dev/null"
: >"$TMP/syslog"
$PY - "$TMP/dev/log" "$TMP/syslog" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 30
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            out.write(s.recv(65536).decode(errors="replace") + "\n")
            out.flush()
        except socket.timeout:
            pass
PY
PIDS="$PIDS $!"
i=0
while [ ! -S "$TMP/dev/log" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$TMP/dev/log" ] || fail "log socket"

: >"$LOG"
: >"$ERR"
ip netns exec "$NS" unshare -m sh -c '
	mount --make-rprivate / &&
	mount --bind /dev/null "$1/dev/null" &&
	mount --bind "$1/dev" /dev &&
	shift && exec "$@"' sh "$TMP" "$NFQ" -c "$TMP/rules" -q 0 --syslog \
	>"$LOG" 2>"$ERR" &
DAEMON=$!
wait_for "$TMP/syslog" '"type":"start"' 10 || fail "no start line in syslog: $(cat "$ERR")"
expect_client refused tcp 127.0.0.1 60314 3
wait_for "$TMP/syslog" '"dport":60314' 5 || fail "alert not in syslog"
# <28>: facility daemon (3), severity warning (4).
grep -q '^<28>.*portclass-nfq\[[0-9]*\]: {"type":"alert"' "$TMP/syslog" ||
	fail "alert priority/tag: $(grep 60314 "$TMP/syslog")"
grep -q '^<30>.*portclass-nfq\[[0-9]*\]: .*queues 0-0 bound' "$TMP/syslog" ||
	fail "diagnostic not in syslog"
[ -s "$LOG" ] && fail "standard output not empty: $(cat "$LOG")"
kill -TERM "$DAEMON"
i=0
while kill -0 "$DAEMON" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$DAEMON"
rc=$?
DAEMON=""
[ "$rc" -eq 0 ] || fail "exit status $rc"
echo ok
