#!/bin/sh
# t_nfq_basic: portclass-nfq enforcing over IPv4 loopback in its own network
# namespace, behind contrib/iptables-setup.sh, running as nobody.
#   - a rogue TCP listener on 60314 is rejected (RST: refused at once) and
#     the alert names its pid and program; the same for a rogue UDP socket
#     (ICMP port unreachable);
#   - a probe of a dynamic port nobody listens on is an alert "probe";
#   - the expected UDP listener (55000), a TCP service on a user port
#     (8080) and a UDP service (5353) work, also from a client bound to a
#     dynamic source port (replies to ephemeral ports come back);
#   - SIGUSR1 logs the counters; --stats-file holds the Prometheus text;
#   - SIGTERM stops it with status 0.
set -u
NAME=nfqbasic
. tests/nfq/lib.sh
nfq_init basic

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
cat >"$TMP/rules" <<RULES
loopback inbound
dynamic-range iana
unexpected reject log
default pass
expect udp port 55000
RULES

server tcp 0.0.0.0 60314 rogue
server udp 0.0.0.0 60315 rogueudp
server udp 0.0.0.0 55000 expected
server tcp 0.0.0.0 8080 web
server udp 0.0.0.0 5353 dns

mkdir "$TMP/stats"
chown nobody "$TMP/stats"
nfq_start -c "$TMP/rules" -q 0 --user nobody \
	--stats-file "$TMP/stats/portclass.prom" --stats-interval 1
grep -q "running as uid $(id -u nobody) with cap_net_admin" "$ERR" ||
	fail "no privilege drop reported"
# What the kernel says: nobody, the packet process with exactly
# CAP_NET_ADMIN (12), no way back; its owner resolver child (named
# portclass-owner) with exactly CAP_SYS_PTRACE (19) and CAP_DAC_READ_SEARCH
# (2), as nobody too.
st=/proc/$DAEMON/status
grep -Eq "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)" "$st" ||
	fail "uid: $(grep ^Uid "$st")"
grep -Eq '^Groups:[[:space:]]*[0-9]*[[:space:]]*$' "$st" || fail "groups: $(grep ^Groups "$st")"
for f in CapPrm CapEff CapBnd; do
	grep -q "^$f:[[:space:]]*0000000000001000$" "$st" || fail "$f: $(grep "^$f" "$st")"
done
for f in CapInh CapAmb; do
	grep -q "^$f:[[:space:]]*0000000000000000$" "$st" || fail "$f: $(grep "^$f" "$st")"
done
child=$(cat /proc/$DAEMON/task/*/children | tr -s ' ' '\n' | grep . | head -n 1)
[ -n "$child" ] && [ "$(cat /proc/$child/comm)" = portclass-owner ] ||
	fail "no owner resolver child"
cst=/proc/$child/status
for f in CapPrm CapEff CapBnd; do
	grep -q "^$f:[[:space:]]*0000000000080004$" "$cst" || fail "resolver $f: $(grep "^$f" "$cst")"
done
grep -Eq "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" "$cst" || fail "resolver uid: $(grep ^Uid "$cst")"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$cst" || fail "resolver: no_new_privs not set"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "no_new_privs not set"

# The rogue listener: reset, so refused well before the timeout.
got=$(client tcp 127.0.0.1 60314 5)
case "$got" in
refused*) ;;
*) fail "rogue TCP: expected refused, got '$got'" ;;
esac
secs=${got#refused }
awk -v s="$secs" 'BEGIN { exit !(s + 0 < 2) }' ||
	fail "rogue TCP refused only after $secs s"

rogue_pid=$(cat "$TMP/rogue.pid")
rogue_comm=$(cat "/proc/$rogue_pid/comm")
wait_for "$LOG" '"dport":60314' 5 || fail "no log line for 60314"
line=$(json_lines '"type":"alert"' '"dport":60314')
[ -n "$line" ] || fail "no alert for 60314"
for want in '"verdict":"reject"' '"listener":"rogue"' "\"pid\":$rogue_pid," \
	"\"program\":\"$rogue_comm\"" '"reason":"unexpected"' '"proto":"tcp"' \
	'"dclass":"dynamic"' '"enforced":true' '"user":"root"'; do
	printf '%s' "$line" | grep -qF -- "$want" ||
		fail "alert lacks $want: $line"
done

# A rogue UDP socket: ICMP port unreachable, so the client sees refused.
expect_client refused udp 127.0.0.1 60315 3
udp_pid=$(cat "$TMP/rogueudp.pid")
wait_for "$LOG" '"dport":60315' 5 || fail "no log line for 60315"
json_lines '"type":"alert"' '"dport":60315' '"proto":"udp"' \
	"\"pid\":$udp_pid," '"listener":"rogue"' | grep -q . ||
	fail "UDP alert lacks the owner"

# A probe: nobody listens on 61000.
expect_client refused tcp 127.0.0.1 61000 3
wait_for "$LOG" '"dport":61000' 5 || fail "no log line for 61000"
json_lines '"dport":61000' '"listener":"probe"' '"pid":null' | grep -q . ||
	fail "probe not reported as such"

# What the policy allows.
expect_client ok tcp 127.0.0.1 8080 3
expect_client ok udp 127.0.0.1 55000 3
expect_client ok udp 127.0.0.1 5353 3
expect_client ok tcp 127.0.0.1 8080 3 60500
for p in 8080 55000 5353; do
	json_lines "\"dport\":$p," | grep -q . && fail "port $p was logged"
done

kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "SIGUSR1 logged no counters"
json_lines '"type":"counters"' '"alerts_rogue":2' '"alerts_probe":1' |
	grep -q . || fail "counters wrong: $(json_lines '"type":"counters"')"

prom=$TMP/stats/portclass.prom
# The file is rewritten every second: wait for one written after the last
# client (an earlier one may already show both rogue alerts).
wait_for "$prom" 'listener="rogue"\} 2' 5 || fail "stats file: $(cat "$prom" 2>&1 | head)"
wait_for "$prom" '^portclass_nfq_alerts_total\{queue="0",listener="probe"\} 1$' 5 ||
	fail "stats: probe alerts"
grep -q '^portclass_nfq_packets_total{queue="0",sclass="[a-z]*",dclass="dynamic",verdict="reject"} [1-9]' "$prom" ||
	fail "stats: no rejected packets"
wait_for "$prom" '^portclass_nfq_packets_total\{queue="0",sclass="[a-z]*",dclass="user",verdict="pass"\} [1-9]' 5 ||
	fail "stats: no passed packets to user ports"
grep -q '^portclass_nfq_listener_refreshes_total{queue="0"} [1-9]' "$prom" ||
	fail "stats: no listener refresh"
grep -q '^portclass_nfq_queue_dropped_total{queue="0"} 0$' "$prom" ||
	fail "stats: kernel queue counters missing"
grep -q '^# TYPE portclass_nfq_enobufs_total counter$' "$prom" ||
	fail "stats: enobufs"
[ ! -e "$prom.tmp" ] || fail "stats: temporary file left behind"

nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC after SIGTERM"
grep -q '"type":"stop"' "$LOG" || fail "no stop line"
if grep -E 'Sanitizer|runtime error' "$ERR"; then fail "sanitizer report"; fi
echo ok
