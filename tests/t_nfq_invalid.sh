#!/bin/sh
# t_nfq_invalid (W3): packets conntrack calls INVALID are never NEW, so
# never queued, yet the stack delivers them.  The contrib rules drop them
# first (`-m conntrack --ctstate INVALID -j DROP`, after a rate-limited LOG
# rule).  From a second namespace over a veth, with scapy:
#   - IPv6 UDP with length field 0 (the stack reads it as a jumbogram's)
#     to a rogue UDP listener;
#   - UDP-Lite from a plain socket, IPv4 and IPv6, to a rogue UDP-Lite
#     listener.
# Nothing reaches the listeners; each packet is accounted for, by the
# INVALID rules' counters (the kernel's log) or, where the kernel calls
# it NEW, by the daemon's own log line.  Then --no-invalid-drop shows the
# same packets do reach the listeners without those rules (the test can
# fail).
set -u
. tests/nfq/lib.sh
nfq_init invalid
need_scapy
nfq_peer
peerx iptables -w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
peerx ip6tables -w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
for ipt in iptables ip6tables; do
	nsx $ipt -w -S PORTCLASS | grep -q -- '--ctstate INVALID -j DROP' ||
		fail "$ipt: no INVALID drop"
	nsx $ipt -w -S PORTCLASS | grep -q -- '--ctstate INVALID.*-j LOG' ||
		fail "$ipt: no INVALID log"
done
REC=$TMP/rec
: >"$REC"
for l in "udp 60315" "udplite 60316"; do
	set -- $l
	rm -f "$TMP/l$1.pid"
	nsx $PY tests/nfq/attack.py listen "$1" "$2" "$REC" "$TMP/l$1.pid" 60 &
	PIDS="$PIDS $!"
	wait_for "$TMP/l$1.pid" . 10 || fail "listener $1 did not start"
done
printf 'dynamic-range iana\nunexpected drop log\ndefault pass\n' >"$TMP/rules"
nfq_start -r "$TMP/rules" -q 0

dropped() { # iptables|ip6tables: packets the INVALID DROP rule took
	nsx "$1" -w -vnxL PORTCLASS | awk '/DROP/ && /INVALID/ { print $1; exit }'
}
probe() {
	peerx $PY tests/nfq/attack.py "$@" 2>/dev/null | tail -n 1
}
probe udp6-len0 $SRV6 60315 W3-LEN0 >/dev/null
probe udplite $SRV4 60316 W3-LITE4 >/dev/null
probe udplite $SRV6 60316 W3-LITE6 >/dev/null
sleep 1
grep -q W3- "$REC" && fail "an INVALID packet reached a listener: $(cat "$REC")"
d4=$(dropped iptables)
d6=$(dropped ip6tables)
# What the kernel did not call INVALID went to the daemon, which must have
# said so (an alert or a drop line for the port).
n4=$(json_lines '"src":"10.99.0.2"' '"dport":60316' '"verdict":"drop"' | grep -c .)
n6=$(json_lines '"src":"fd00:99::2"' '"dport":6031[56]' '"verdict":"drop"' | grep -c .)
[ $((d4 + n4)) -ge 1 ] || fail "IPv4 UDP-Lite: neither dropped as INVALID nor logged"
[ $((d6 + n6)) -ge 2 ] || fail "IPv6: $d6 INVALID drops + $n6 daemon lines, expected 2"
echo "INVALID drops: IPv4 $d4, IPv6 $d6; daemon drop lines: IPv4 $n4, IPv6 $n6"
nfq_stop

# Without the INVALID rules (and without the daemon), the same packets
# reach the listeners: the test above can fail.
nsx contrib/iptables-setup.sh -q 0 --no-invalid-drop || fail "setup --no-invalid-drop"
nsx iptables -w -S PORTCLASS | grep -q INVALID && fail "--no-invalid-drop left an INVALID rule"
probe udp6-len0 $SRV6 60315 W3-LEN0 >/dev/null
probe udplite $SRV4 60316 W3-LITE4 >/dev/null
sleep 1
grep -q 'W3-LEN0' "$REC" || echo "note: the length-0 datagram was not delivered by this kernel"
grep -q 'W3-' "$REC" || fail "no W3 probe reaches a listener even unfiltered: the probes test nothing"
nsx contrib/iptables-teardown.sh
nsx iptables -w -S | grep -q PORTCLASS && fail "teardown left the chain"
echo ok
