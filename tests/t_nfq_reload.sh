#!/bin/sh
# t_nfq_reload: SIGHUP reloads the rules.  A broken file keeps the old rules
# (the rogue listener stays rejected) and every error is reported with
# file:line; a good file changes behaviour (an `expect` lets it through).
set -u
. tests/nfq/lib.sh
nfq_init reload

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
R=$TMP/rules
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$R"
server tcp 0.0.0.0 60314 rogue
nfq_start -c "$R" -q 0 --user nobody
expect_client refused tcp 127.0.0.1 60314 3

# Two mistakes: both must be reported, and nothing may change.
printf 'unexpected reject log\ndefault pass\nexpect tcp port 70000\nbogus\n' >"$R"
kill -HUP "$DAEMON"
wait_for "$LOG" '"type":"reload"' 5 || fail "no reload line"
json_lines '"type":"reload"' '"ok":false' '"errors":2' | grep -q . ||
	fail "broken reload not reported: $(json_lines '"type":"reload"')"
grep -q "$R:3:[0-9]*: error: .*70000" "$ERR" || fail "error on line 3 not reported"
grep -q "$R:4:[0-9]*: error:" "$ERR" || fail "error on line 4 not reported"
grep -q "keeping the old rules" "$ERR" || fail "no 'keeping the old rules'"
expect_client refused tcp 127.0.0.1 60314 3

# A good file: the listener is now expected.
printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect tcp port 60314\n' >"$R"
kill -HUP "$DAEMON"
wait_for "$LOG" '"type":"reload".*"ok":true' 5 || fail "good reload not logged"
expect_client ok tcp 127.0.0.1 60314 3
# And back again, to show the swap is not one-way.
printf 'loopback inbound\nunexpected drop log\ndefault pass\n' >"$R"
kill -HUP "$DAEMON"
i=0
while [ "$(json_lines '"type":"reload"' '"ok":true' | grep -c .)" -lt 2 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_client timeout tcp 127.0.0.1 60314 2

# Reloads while packets flow: the threads swap rulesets under load (the
# sanitizer build catches a ruleset freed while in use).
timeout 60 ip netns exec "$NS" $PY "$PCPY" udp-flood 127.0.0.1 61000 20000 >/dev/null &
flood=$!
PIDS="$PIDS $flood"
i=0
while [ $i -lt 40 ]; do
	if [ $((i % 2)) -eq 0 ]; then
		printf 'loopback inbound\nunexpected reject log\ndefault pass\nexpect udp port 61000\n' >"$R.new"
	else
		printf 'loopback inbound\nunexpected drop\ndefault pass\n' >"$R.new"
	fi
	mv "$R.new" "$R"
	kill -HUP "$DAEMON"
	sleep 0.05
	i=$((i + 1))
done
# The flood has done its part once the reloads are over (on an emulated
# CPU 20000 flows take far longer than 40 reloads).
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$R"
kill -HUP "$DAEMON"
sleep 0.5
kill -0 "$DAEMON" || fail "daemon died during reloads under load"
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
