#!/bin/sh
# t_vm_iptables: the packaged unit behind /usr/share/portclass/iptables-setup.sh
# (iptables-nft on Debian 12, the xtables NFQUEUE target): the rogue
# listener is cut off with the kernel's conntrack state, other traffic
# flows, iptables-teardown.sh removes the chain, and the unit never
# restarted.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
vm_init iptables
ROGUE=60314
rogue_start $ROGUE

/usr/share/portclass/iptables-setup.sh || fail "iptables-setup.sh"
iptables -w -S PORTCLASS | grep -q 'NFQUEUE --queue-num 0 --queue-bypass' ||
	fail "no queue rule: $(iptables -w -S PORTCLASS)"
ip6tables -w -S PORTCLASS | grep -q NFQUEUE || fail "no IPv6 queue rule"
expect_client ok tcp $ROGUE		# bypass: nobody bound yet

svc_start
expect_client refused tcp $ROGUE
expect_client refused tcp $ROGUE
wait_jlog 10 '"type":"alert"' "\"dport\":$ROGUE" '"unit":"rogue.service"' ||
	fail "no alert naming rogue.service"
n=$(jlog '"type":"alert"' "\"dport\":$ROGUE" | grep -c '"conntrack":"new"')
[ "$n" -ge 2 ] || fail "$n alerts with the kernel's NEW: $(jlog '"type":"alert"')"
[ "$(systemctl show -P NRestarts $SVC)" = 0 ] || fail "NRestarts $(systemctl show -P NRestarts $SVC)"
systemctl stop $SVC || fail "systemctl stop"
expect_client ok tcp $ROGUE

/usr/share/portclass/iptables-teardown.sh || fail "iptables-teardown.sh"
iptables -w -S PORTCLASS >/dev/null 2>&1 && fail "the chain is still there"
iptables -w -S INPUT | grep -q PORTCLASS && fail "INPUT still jumps to PORTCLASS"
expect_client ok tcp $ROGUE
echo ok
