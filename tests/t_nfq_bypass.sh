#!/bin/sh
# t_nfq_bypass: fail-open.  After `kill -9` of the daemon, --queue-bypass
# lets every connection through (the policy is gone, the server is not
# blackholed).  With iptables-setup.sh --fail-closed the same situation
# drops new connections.
set -u
. tests/nfq/lib.sh
nfq_init bypass

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
server tcp 0.0.0.0 60314 rogue
server tcp 0.0.0.0 8080 web
nfq_start -c "$TMP/rules" -q 0
expect_client refused tcp 127.0.0.1 60314 3
kill -9 "$DAEMON"
wait "$DAEMON" 2>/dev/null
DAEMON=""
expect_client ok tcp 127.0.0.1 8080 3
expect_client ok tcp 127.0.0.1 60314 3

# Fail-closed: no bypass, nobody bound -> dropped.
nsx contrib/iptables-setup.sh -q 0 --fail-closed || fail "setup --fail-closed"
nsx iptables -w -S PORTCLASS | grep -q -- '--queue-bypass' &&
	fail "--fail-closed still has --queue-bypass"
expect_client timeout tcp 127.0.0.1 8080 2
# ... and a daemon started with --fail-closed serves it again.
nfq_start -c "$TMP/rules" -q 0 --fail-closed
grep -q '"fail_open":false' "$LOG" || fail "start line does not say fail-closed"
expect_client ok tcp 127.0.0.1 8080 3
expect_client refused tcp 127.0.0.1 60314 3
nfq_stop
nsx contrib/iptables-teardown.sh || fail "teardown"
nsx iptables -w -S | grep -q PORTCLASS && fail "teardown left the chain"
nsx ip6tables -w -S | grep -q PORTCLASS && fail "teardown left the IPv6 chain"
expect_client ok tcp 127.0.0.1 60314 3
echo ok
