#!/bin/sh
# t_vm_nft: the packaged unit under systemd 252 on Debian's kernel, behind
# contrib/portclass.nft loaded with `nft -f` (the native queue statement).
#   - with the queue rule in place and no daemon, traffic flows (bypass);
#   - the unit starts and stays up with its hardening intact (dynamic user,
#     exactly its three capabilities, no_new_privs, systemd's seccomp filter
#     and the daemon's own on top of it);
#   - the kernel's conntrack state reaches the daemon ("conntrack":"kernel"
#     at start, "conntrack":"new" in every alert), so a repeated SYN and a
#     bare ACK the kernel picks up as NEW are the kernel's NEW;
#   - a rogue listener, its own unit (rogue.service) run as its own user on
#     a dynamic port, is cut off, and its alert in the journal names pid,
#     program, user and unit; a listener outside the dynamic range is not;
#   - `systemctl reload` applies a new policy; a broken one fails the
#     reload (the unit checks first) and the old one stays;
#   - no restart for the whole run; `systemctl stop` leaves traffic flowing.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
vm_init nft
ROGUE=60314
rogue_start $ROGUE
# An ordinary service outside the dynamic range: never cut off.
$VPY "$PCPY" tcp-server 0.0.0.0 8080 /run/pc-ok.pid 600 &
EXTRA_PIDS=$!

nft -f /usr/share/portclass/portclass.nft || fail "nft -f portclass.nft"
nft list table inet portclass | grep -q 'queue .*bypass' || fail "no queue rule loaded"
expect_client ok tcp $ROGUE		# bypass: nobody bound yet

svc_start
PID=$(svc_pid)
[ "$PID" -gt 0 ] 2>/dev/null || fail "no main pid"

# Hardening, as the kernel sees the process.
S=/proc/$PID/status
grep -q '^Seccomp:[[:space:]]*2$' "$S" || fail "not under a seccomp filter: $(grep ^Seccomp "$S")"
nf=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' "$S")
[ "${nf:-0}" -ge 2 ] || fail "Seccomp_filters '$nf': the daemon's own filter is missing"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$S" || fail "no_new_privs not set"
# The packet process keeps CAP_NET_ADMIN (12) alone; the owner resolver,
# its child, CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19).  The bounding
# set stays systemd's (dropping from it needs CAP_SETPCAP).
for c in CapPrm CapEff; do
	v=$(sed -n "s/^$c:[[:space:]]*//p" "$S")
	[ "$v" = 0000000000001000 ] || fail "$c is $v, not 0000000000001000"
done
v=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$S")
case $v in
0000000000081004 | 0000000000001000) ;;
*) fail "CapBnd is $v" ;;
esac
# Nothing ambient, nothing inheritable (one capset clears what systemd put
# there for the ambient set).
for c in CapAmb CapInh; do
	v=$(sed -n "s/^$c:[[:space:]]*//p" "$S")
	[ "$v" = 0000000000000000 ] || fail "$c is $v: it must be empty"
done
RES=$(cat /proc/"$PID"/task/*/children 2>/dev/null | tr -s ' ' '\n' | head -n 1)
[ -n "$RES" ] || fail "no owner resolver child"
RS=/proc/$RES/status
for c in CapPrm CapEff; do
	v=$(sed -n "s/^$c:[[:space:]]*//p" "$RS")
	[ "$v" = 0000000000080004 ] || fail "resolver $c is $v, not 0000000000080004"
done
grep -q '^Seccomp:[[:space:]]*2$' "$RS" || fail "the resolver is not under a seccomp filter"
uid=$(awk '/^Uid:/ { print $2 }' "$S")
[ "$uid" -ne 0 ] || fail "runs as root"
[ "$(systemctl show -P DynamicUser $SVC)" = yes ] || fail "not a dynamic user"
f=$(systemctl show -P SystemCallFilter $SVC)
case " $f " in *" seccomp "*) ;; *) fail "the unit's filter lacks seccomp" ;; esac
# capset is allowed (it can only lower capabilities); nothing else
# privileged is
case " $f " in *" capset "*) ;; *) fail "the unit's filter lacks capset" ;; esac
case " $f " in *" setuid "*|*" mount "*|*" init_module "*) fail "the unit's filter allows a privileged call" ;; esac
wait_jlog 10 'seccomp filter: [0-9]+ system calls allowed' || fail "the daemon's filter is not reported"
jlog 'seccomp_init|capset|cannot drop' | grep -q . && fail "set-up errors: $(jlog 'seccomp_init|capset|cannot drop')"

# Conntrack from the kernel, detected at start.
jlog '"type":"start"' | grep -q '"conntrack":"kernel"' ||
	fail "start record: $(jlog '"type":"start"')"
jlog "NEW comes from the kernel's conntrack state" | grep -q . ||
	fail "the start messages do not say the state is the kernel's"

expect_client refused tcp $ROGUE
expect_client ok tcp 8080
wait_jlog 10 '"type":"alert"' "\"dport\":$ROGUE" || fail "no alert for port $ROGUE in the journal"
a=$(jlog '"type":"alert"' "\"dport\":$ROGUE" | head -n 1)
for want in "\"pid\":$ROGUE_PID," '"program":"python3"' '"user":"pcrogue"' \
	'"unit":"rogue.service"' '"verdict":"reject"' '"conntrack":"new"' '"enforced":true'; do
	case "$a" in *"$want"*) ;; *) fail "alert lacks $want: $a" ;; esac
done
jlog '"type":"alert"' '"dport":8080' | grep -q . && fail "alert for the user-range port 8080"

# The kernel's NEW, not an assumption: a SYN sent twice from one port (a
# retransmit to the daemon's flow table; the rejected first one took its
# unconfirmed conntrack entry with it) and a bare ACK that conntrack picks
# up mid-stream (not an attempt to the flow table) all arrive NEW.
raw_tcp S 40001 $ROGUE 1
wait_jlog 10 '"type":"alert"' '"sport":40001' || fail "no alert for the SYN"
raw_tcp S 40001 $ROGUE 1
i=0
until [ "$(jlog '"type":"alert"' '"sport":40001' | wc -l)" -ge 2 ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "the repeated SYN is not the kernel's NEW: $(jlog '"sport":40001')"
	sleep 0.2
done
raw_tcp A 40002 $ROGUE 1
wait_jlog 10 '"type":"alert"' '"sport":40002' || fail "the picked-up ACK was not queued as NEW"
for sp in 40001 40002; do
	jlog '"type":"alert"' "\"sport\":$sp" | grep -vq '"conntrack":"new"' &&
		fail "sport $sp: $(jlog "\"sport\":$sp")"
done
jlog '"conntrack":"(assumed-new|none)"' | grep -q . &&
	fail "a packet without the kernel's state: $(jlog '"conntrack":"(assumed-new|none)"' | head -n 1)"

# Reload: a broken policy keeps the old one, a good one applies.
# The unit's ExecReload checks the file first: a broken one fails the
# reload job (the admin sees it) and never reaches the daemon.
printf 'default pass\nunexpected bogus-action\n' >/etc/portclass/rules.conf
systemctl reload $SVC 2>/dev/null && fail "systemctl reload of a broken policy succeeded"
jlog 'bogus-action' | grep -q . || fail "the check's error is not in the journal"
[ "$(systemctl is-active $SVC)" = active ] || fail "a broken policy stopped the service"
expect_client refused tcp $ROGUE
printf 'dynamic-range iana\nunexpected reject log\ndefault pass\npass tcp to port %s\n' $ROGUE \
	>/etc/portclass/rules.conf
systemctl reload $SVC || fail "systemctl reload"
wait_jlog 20 '"type":"reload"' '"ok":true' || fail "no reload record"
expect_client ok tcp $ROGUE
cp -p /etc/portclass/rules.conf.vmsave /etc/portclass/rules.conf
systemctl reload $SVC || fail "systemctl reload"
i=0
until [ "$(jlog '"type":"reload"' '"ok":true' | wc -l)" -ge 2 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no second reload record"
	sleep 0.2
done
expect_client refused tcp $ROGUE

# Up the whole time, same process.
[ "$(systemctl show -P NRestarts $SVC)" = 0 ] || fail "NRestarts $(systemctl show -P NRestarts $SVC)"
[ "$(svc_pid)" = "$PID" ] || fail "main pid changed from $PID to $(svc_pid)"

systemctl stop $SVC || fail "systemctl stop"
wait_jlog 20 '"type":"stop"' || fail "no stop record"
expect_client ok tcp $ROGUE		# bypass: stopped, not blackholed
expect_client ok tcp 8080
echo ok
