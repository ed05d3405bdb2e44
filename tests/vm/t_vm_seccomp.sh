#!/bin/sh
# t_vm_seccomp: why the unit once crash-looped, kept as a test.  systemd's
# @system-service set lacks seccomp(), which libseccomp needs to install
# the daemon's own filter: with the unit's filter minus its
# `SystemCallFilter=seccomp` line (a drop-in), the daemon fails with
# "seccomp_init failed" and systemd restarts it over and over; with the
# unit as shipped it starts and stays up, its own filter installed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
D=/run/systemd/system/$SVC.d
vm_cleanup_seccomp() {
	rm -rf "$D"
	systemctl daemon-reload
	vm_cleanup
}
vm_init seccomp
trap vm_cleanup_seccomp EXIT

mkdir -p "$D"
cat >"$D/no-seccomp-call.conf" <<'CONF'
[Service]
SystemCallFilter=
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallFilter=capset
CONF
systemctl daemon-reload
f=$(systemctl show -P SystemCallFilter $SVC)
case " $f " in *" seccomp "*) fail "the drop-in did not take seccomp out" ;; esac
systemctl start $SVC 2>/dev/null
i=0
until [ "$(systemctl show -P NRestarts $SVC)" -ge 1 ] 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 150 ] || fail "no restart without seccomp(): $(systemctl show -P NRestarts $SVC)"
	sleep 0.2
done
wait_jlog 10 'seccomp_init failed' || fail "no seccomp_init failure in the journal"
systemctl stop $SVC
systemctl reset-failed $SVC 2>/dev/null

rm -rf "$D"
systemctl daemon-reload
CURSOR=$(journalctl -q -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
svc_start
wait_jlog 10 'seccomp filter: [0-9]+ system calls allowed' || fail "no filter of its own"
sleep 3
[ "$(systemctl is-active $SVC)" = active ] || fail "not active"
[ "$(systemctl show -P NRestarts $SVC)" = 0 ] || fail "restarted: $(systemctl show -P NRestarts $SVC)"
jlog 'seccomp_init|capset' | grep -q . && fail "set-up errors: $(jlog 'seccomp_init|capset')"
systemctl stop $SVC
echo ok
