#!/bin/sh
# t_nfq_shutdown: the way down, as the system calls show it (strace).  On
# SIGTERM the queue is unbound (NFQNL_CFG_CMD_UNBIND) as soon as the queue
# thread has stopped, before the statistics file is written and before the
# stop record: the kernel's bypass carries traffic while the daemon writes.
# The owner resolver exits with it; exit status 0.
set -u
. tests/nfq/lib.sh
command -v strace >/dev/null 2>&1 || skip "strace not installed"
nfq_init shutdown

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
: >"$LOG"
# (LeakSanitizer cannot run under ptrace.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	ip netns exec "$NS" strace -f -q -e trace=sendto,write,writev,rename \
	-o "$TMP/trace" "$NFQ" -r "$TMP/rules" -q 0 --stats-file "$TMP/s.prom" \
	>"$LOG" 2>"$ERR" &
DAEMON=$!
wait_for "$LOG" '"type":"start"' 10 || fail "no start: $(cat "$ERR")"
expect_client refused tcp 127.0.0.1 60314 3
real=$(cat /proc/$DAEMON/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -n 1)
[ -n "$real" ] || fail "no daemon under strace"
PIDS="$PIDS $real"
kill -TERM "$real"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
grep -q '"type":"stop".*"ok":true' "$LOG" || fail "no stop record"

# Line numbers in the trace: the threads told to stop (8 bytes to the
# eventfd), the unbind (a queue config message whose command attribute is
# 2), the stats file's renames, the stop record.
stopping=$(grep -n 'write([0-9]*, "\\1\\0\\0\\0\\0\\0\\0\\0", 8)' "$TMP/trace" |
	tail -n 1 | cut -d: -f1)
unbind=$(grep -n 'NFQNL_MSG_CONFIG' "$TMP/trace" | grep '\\x02\\x00\\x00\\x00' |
	tail -n 1 | cut -d: -f1)
stop=$(grep -n '\\"type\\":\\"stop\\"' "$TMP/trace" | tail -n 1 | cut -d: -f1)
[ -n "$stopping" ] || fail "no stop signal to the threads in the trace"
[ -n "$unbind" ] || fail "no unbind in the trace: $(grep NFQNL_MSG_CONFIG "$TMP/trace")"
[ -n "$stop" ] || fail "no stop record in the trace"
[ "$stopping" -lt "$unbind" ] || fail "unbind (line $unbind) before the threads stopped ($stopping)"
# No file written between the threads' stop and the unbind; the last
# statistics come after it.
sed -n "${stopping},${unbind}p" "$TMP/trace" | grep -q 'rename(' &&
	fail "stats written between the threads' stop and the unbind: $(sed -n "${stopping},${unbind}p" "$TMP/trace")"
renamed=$(grep -n 'rename(.*s\.prom' "$TMP/trace" | tail -n 1 | cut -d: -f1)
[ -n "$renamed" ] && [ "$renamed" -gt "$unbind" ] || fail "no stats written after the unbind"
[ "$unbind" -lt "$stop" ] || fail "stop record (line $stop) before the unbind (line $unbind)"
# The resolver child exited before the daemon did.
grep -q 'exited with 0' "$TMP/trace" || fail "no process exited cleanly"
echo "unbind at trace line $unbind, stats at $renamed, stop record at $stop"
echo ok
