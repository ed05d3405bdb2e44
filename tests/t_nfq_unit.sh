#!/bin/sh
# t_nfq_unit: contrib/portclass-nfq.service.in, filled in as `make install`
# does, passes `systemd-analyze verify` apart from the installed binaries
# and man pages it cannot find here, and keeps its hardening.
set -u
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: systemd-analyze not installed"; exit 77; }
TMP=$(mktemp -d /tmp/pc-unit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
U=$TMP/portclass-nfq.service
sed -e 's|@SBINDIR@|/usr/local/sbin|g' -e 's|@BINDIR@|/usr/local/bin|g' \
	-e 's|@SYSCONFDIR@|/etc|g' -e 's|@DATADIR@|/usr/local/share/portclass|g' \
	contrib/portclass-nfq.service.in >"$U"
grep -q '@[A-Z]*@' "$U" && fail "placeholder left: $(grep '@[A-Z]*@' "$U")"
systemd-analyze verify "$U" >"$TMP/out" 2>&1
if grep -v -e 'is not executable' -e "Command 'man " -e '^$' "$TMP/out" | grep -q .; then
	fail "systemd-analyze: $(cat "$TMP/out")"
fi
for d in 'ExecStartPre=/usr/local/bin/portclass check /etc/portclass/rules.conf' \
	'ExecReload=/bin/kill -HUP $MAINPID' 'NoNewPrivileges=yes' \
	'ExecReload=/usr/local/bin/portclass check /etc/portclass/rules.conf' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'CapabilityBoundingSet=CAP_NET_ADMIN' 'RestrictAddressFamilies=AF_NETLINK AF_UNIX' \
	'SystemCallArchitectures=native' 'MemoryDenyWriteExecute=yes' \
	'SystemCallFilter=~@privileged @resources' 'SystemCallFilter=seccomp'; do
	grep -qF -- "$d" "$U" || fail "unit lacks $d"
done
# The reload checks the rules before it signals: a broken file never
# reaches the daemon, and systemctl reload fails with the diagnostics.
[ "$(grep '^ExecReload=' "$U" | head -n 1)" = \
	'ExecReload=/usr/local/bin/portclass check /etc/portclass/rules.conf' ] ||
	fail "ExecReload does not check first: $(grep '^ExecReload=' "$U")"
echo ok
