#!/bin/sh
# t_priv_seccomp: least privilege as the kernel sees it.
#   - default: after set-up the packet process runs under a seccomp filter
#     (/proc/PID/status Seccomp: 2) as nobody (Uid and Gid), with only
#     CAP_NET_ADMIN (permitted, effective, bounding), nothing inheritable
#     or ambient, NoNewPrivs 1; its owner resolver child with only
#     CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, under its own filter;
#     and it still works: every code path that runs after set-up (verdicts,
#     listener refreshes, owner lookups, stats file, log file reopen,
#     reloads, SIGUSR1, stop) runs under the filter without being killed;
#   - the resolver killed: verdicts go on, alerts say owner unknown, the
#     loss is logged;
#   - --no-owner-caps: the resolver keeps no capability;
#   - started as the systemd unit starts it (not root, the capabilities
#     ambient) it narrows each process to its own set;
#   - --no-seccomp: Seccomp: 0.
set -u
. tests/nfq/lib.sh
nfq_init seccomp

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect udp port 55000 program python3\n' >"$TMP/rules"
chmod 644 "$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 55000 expected
server tcp 0.0.0.0 8080 web
mkdir "$TMP/out"
chown nobody "$TMP/out"

# status_is FIELD REGEX
status_is() {
	grep -Eq "^$1:[[:space:]]+$2\$" "/proc/$DAEMON/status" ||
		fail "$1: $(grep "^$1:" "/proc/$DAEMON/status")"
}

nfq_start -c "$TMP/rules" -q 0 --user nobody --stats-file "$TMP/out/s.prom" \
	--stats-interval 1
grep -q 'seccomp filter: [0-9]* system calls allowed' "$ERR" ||
	fail "no seccomp line: $(cat "$ERR")"
nsys=$(sed -n 's/.*seccomp filter: \([0-9]*\) system calls allowed.*/\1/p' "$ERR")
echo "seccomp allow-list: $nsys system calls"
uid=$(id -u nobody)
gid=$(id -g nobody)
status_is Seccomp 2
status_is NoNewPrivs 1
status_is Uid "$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid"
status_is Gid "$gid[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid"
for f in CapPrm CapEff CapBnd; do status_is $f 0000000000001000; done
for f in CapInh CapAmb; do status_is $f 0000000000000000; done
# Every thread too; the queue thread under a second filter (no file opens).
for t in /proc/$DAEMON/task/*; do
	grep -Eq '^Seccomp:[[:space:]]+2$' "$t/status" || fail "thread $t without the filter"
	grep -Eq '^Seccomp_filters:[[:space:]]+[12]$' "$t/status" || fail "thread $t: $(grep Seccomp_filters "$t/status")"
done
grep -Eq '^Seccomp_filters:[[:space:]]+2$' /proc/$DAEMON/task/*/status ||
	fail "no queue thread with its own filter"
# The resolver child.
resolver_pid() {
	cat /proc/$DAEMON/task/*/children | tr -s ' ' '\n' | grep . | head -n 1
}
child=$(resolver_pid)
[ -n "$child" ] && [ "$(cat /proc/$child/comm)" = portclass-owner ] || fail "no resolver"
for f in CapPrm CapEff CapBnd; do
	grep -Eq "^$f:[[:space:]]+0000000000080004\$" /proc/$child/status ||
		fail "resolver $f: $(grep "^$f:" /proc/$child/status)"
done
grep -Eq '^Seccomp:[[:space:]]+2$' /proc/$child/status || fail "resolver without its filter"

# Exercise everything the daemon does after set-up.
expect_client refused tcp 127.0.0.1 60314 3
expect_client ok udp 127.0.0.1 55000 3
expect_client ok tcp 127.0.0.1 8080 3
expect_client refused tcp 127.0.0.1 61000 3
wait_for "$LOG" '"dport":60314.*"program":"python3' 5 || fail "no owner in the alert"
kill -HUP "$DAEMON"
wait_for "$LOG" '"type":"reload".*"ok":true' 5 || fail "reload under the filter"
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "SIGUSR1 under the filter"
wait_for "$TMP/out/s.prom" 'portclass_nfq_alerts_total' 5 || fail "stats under the filter"
timeout 30 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 55000 3000 >/dev/null ||
	fail "flood"
expect_client refused tcp 127.0.0.1 60314 3
kill -0 "$DAEMON" 2>/dev/null || fail "the filter killed the daemon"
kill -0 "$child" 2>/dev/null || fail "the filter killed the resolver"

# The resolver killed: verdicts go on, a new listener's owner is unknown
# (owners answered before stay cached a while), and the loss is said.
# (55000 first: its owner was answered up to 10 s before, and the cache
# keeps it no longer.)
kill -KILL "$child"
expect_client ok udp 127.0.0.1 55000 3
server tcp 0.0.0.0 60330 rogue2
expect_client refused tcp 127.0.0.1 60314 3
expect_client refused tcp 127.0.0.1 60330 3
expect_client ok tcp 127.0.0.1 8080 3
wait_for "$ERR" 'owner resolver is gone' 5 || fail "resolver loss not logged"
wait_for "$LOG" '"dport":60330' 5 || fail "no alert for 60330"
json_lines '"type":"alert"' '"dport":60330' '"listener":"rogue"' '"pid":null' | grep -q . ||
	fail "no alert with the owner unknown after the resolver died: $(json_lines '"dport":60330')"
kill -0 "$DAEMON" 2>/dev/null || fail "the daemon died with its resolver"
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC under the filter"
grep -q '"type":"stop".*"ok":true' "$LOG" || fail "no clean stop"

# A log file, reopened on SIGHUP, with only CAP_NET_ADMIN.
ip netns exec "$NS" "$NFQ" -c "$TMP/rules" -q 0 --user nobody --no-owner-caps \
	--log-file "$TMP/out/events.log" 2>"$ERR" &
DAEMON=$!
wait_for "$TMP/out/events.log" '"type":"start"' 10 || fail "no start with --log-file"
status_is Seccomp 2
for f in CapPrm CapEff CapBnd; do status_is $f 0000000000001000; done
child=$(resolver_pid)
grep -Eq '^CapEff:[[:space:]]+0000000000000000$' /proc/$child/status ||
	fail "--no-owner-caps: resolver $(grep CapEff /proc/$child/status)"
mv "$TMP/out/events.log" "$TMP/out/events.log.1"
kill -HUP "$DAEMON"
wait_for "$TMP/out/events.log" '"type":"reload"' 5 || fail "log file not reopened"
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC with --log-file"

# Started as the bundled unit starts it: not root, exactly the three
# capabilities, ambient, and the same bounding set.  Each process narrows
# itself with capset: the packet process to CAP_NET_ADMIN, the resolver to
# the other two.
if command -v setpriv >/dev/null 2>&1 && command -v strace >/dev/null 2>&1 &&
	setpriv --reuid nobody --regid nogroup --clear-groups test -x "$NFQ" 2>/dev/null; then
	caps=+net_admin,+sys_ptrace,+dac_read_search
	: >"$LOG"
	# (LeakSanitizer cannot run under ptrace.)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		ip netns exec "$NS" strace -f -qq -e trace=execve,capset -o "$TMP/capset.trace" \
		setpriv --reuid nobody --regid nogroup --clear-groups \
		--inh-caps=-all,$caps --ambient-caps=-all,$caps \
		--bounding-set=-all,$caps "$NFQ" -c "$TMP/rules" -q 0 \
		>"$LOG" 2>"$ERR" &
	DAEMON=$!
	wait_for "$LOG" '"type":"start"' 10 || fail "no start with ambient capabilities: $(cat "$ERR")"
	expect_client refused tcp 127.0.0.1 60314 3
	grep -q 'running as uid '"$uid"' with cap_net_admin$' "$ERR" ||
		fail "ambient start: $(cat "$ERR")"
	# $DAEMON is strace; stop the daemon itself (its child), then strace
	# ends with it.
	real=$(cat /proc/$DAEMON/task/*/children 2>/dev/null | tr -s ' ' '\n' | head -n 1)
	[ -n "$real" ] || fail "no daemon under strace"
	for f in CapInh CapAmb; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' /proc/$real/status)
		[ "$v" = 0000000000000000 ] || fail "ambient start: $f $v"
	done
	PIDS="$PIDS $real"
	kill -TERM "$real"
	nfq_stop
	[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC with ambient capabilities"
else
	echo "note: setpriv or strace missing, ambient start not checked"
fi

nfq_start -c "$TMP/rules" -q 0 --no-seccomp
status_is Seccomp 0
grep -q 'no seccomp filter' "$ERR" || fail "--no-seccomp not reported"
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
