#!/bin/sh
# t_nfq_loopback: the host's traffic to itself is not inbound from the
# network.  Under the default setup (iptables-setup.sh) and the default
# policy (contrib/default.rules):
#   - a program listening on 127.0.0.1 port 0 (a kernel-chosen ephemeral
#     port) is reached by a local client, as are listeners on 60314 over
#     127.0.0.1 and ::1 and over the host's own veth address (lo too);
#   - the same listener is still guarded from the network (a second
#     namespace gets a reset, named in an alert with "dir":"in").
# With `loopback inbound` in the policy, local connections to it are
# rejected and alerted with "dir":"in".
set -u
. tests/nfq/lib.sh
nfq_init loopback
nfq_peer
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
server tcp 0.0.0.0 60314 rogue
server tcp ::1 60314 rogue6
nfq_start -r contrib/default.rules -q 0

cat >"$TMP/port0.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=3)
a, _ = s.accept()
a.sendall(b"hi")
print("ok %d" % s.getsockname()[1] if c.recv(2) == b"hi" else "nodata")
PY
r=$(timeout 10 ip netns exec "$NS" $PY "$TMP/port0.py" 2>&1)
case "$r" in ok*) ;; *) fail "127.0.0.1 port 0: $r" ;; esac
expect_client ok tcp 127.0.0.1 60314 3
expect_client ok tcp ::1 60314 3
expect_client ok tcp $SRV4 60314 3
json_lines '"type":"alert"' | grep -q . && fail "the host's own traffic alerted: $(json_lines '"type":"alert"')"
r=$(peerx $PY "$PCPY" tcp-client $SRV4 60314 3)
case "$r" in refused*) ;; *) fail "from the network: $r" ;; esac
wait_for "$LOG" '"src":"10.99.0.2"' 5 || fail "no alert for the network client"
json_lines '"type":"alert"' '"src":"10.99.0.2"' '"dir":"in"' '"listener":"rogue"' |
	grep -q . || fail "network alert: $(json_lines '"src":"10.99.0.2"')"
nfq_stop

printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
nfq_start -r "$TMP/rules" -q 0
expect_client refused tcp 127.0.0.1 60314 3
expect_client refused tcp $SRV4 60314 3
wait_for "$LOG" '"dport":60314' 5 || fail "no alert with loopback inbound"
json_lines '"type":"alert"' '"src":"127.0.0.1"' '"dir":"in"' | grep -q . ||
	fail "loopback inbound: $(cat "$LOG")"
nfq_stop
echo ok
