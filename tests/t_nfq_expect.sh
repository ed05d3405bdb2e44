#!/bin/sh
# t_nfq_expect: `expect ... program` and `expect ... user` decided live,
# from the owner of the listening socket (sock_diag + /proc), with the
# daemon running as nobody.  A listener run by the expected program or user
# is reachable; the same rule does not cover another program (nc) or
# another user's process on its port, and the alert names that owner.
set -u
. tests/nfq/lib.sh
command -v nc >/dev/null 2>&1 || skip "nc not installed"
command -v setpriv >/dev/null 2>&1 || skip "setpriv not installed"
nfq_init expect

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
server tcp 0.0.0.0 60320 py
py_comm=$(cat "/proc/$(cat "$TMP/py.pid")/comm")
# nc on the port the rules reserve for $py_comm.
ip netns exec "$NS" timeout 60 nc -l -k -p 60321 >/dev/null 2>&1 </dev/null &
PIDS="$PIDS $!"
# The same server, as nobody, and as root on the port reserved for nobody.
chmod 755 "$TMP"
mkdir "$TMP/nobody.d"
chown nobody "$TMP/nobody.d"
ip netns exec "$NS" setpriv --reuid nobody --regid nogroup --clear-groups \
	$PY "$PCPY" tcp-server 0.0.0.0 60322 "$TMP/nobody.d/asnobody.pid" 60 &
PIDS="$PIDS $!"
server tcp 0.0.0.0 60323 rootpy
i=0
while [ ! -s "$TMP/nobody.d/asnobody.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/nobody.d/asnobody.pid" ] || fail "server as nobody did not start"
i=0
while ! nsx ss -ltn | grep -q ':60321 ' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

cat >"$TMP/rules" <<RULES
loopback inbound
unexpected reject log
default pass
expect tcp port 60320 program "$py_comm"
expect tcp port 60321 program "$py_comm"
expect tcp port 60322-60323 user nobody
RULES
chmod 644 "$TMP/rules"
nfq_start -c "$TMP/rules" -q 0 --user nobody

expect_client ok tcp 127.0.0.1 60320 3
expect_client refused tcp 127.0.0.1 60321 3
expect_client ok tcp 127.0.0.1 60322 3
expect_client refused tcp 127.0.0.1 60323 3

wait_for "$LOG" '"dport":60323' 5 || fail "no alert for 60323"
json_lines '"type":"alert"' '"dport":60321' '"listener":"rogue"' '"program":"nc"' |
	grep -q . || fail "alert for nc: $(json_lines '"dport":60321')"
json_lines '"type":"alert"' '"dport":60323' '"user":"root"' \
	"\"pid\":$(cat "$TMP/rootpy.pid")," | grep -q . ||
	fail "alert for root's server: $(json_lines '"dport":60323')"
for p in 60320 60322; do
	json_lines "\"dport\":$p," | grep -q . && fail "expected listener $p logged"
done
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
echo ok
