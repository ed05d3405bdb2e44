#!/bin/sh
# t_vm_deb: the package as `apt install ./portclass_*.deb` left it on a
# stock Debian 12 server (tests/vm/guest.sh installed it): every file in
# place, the site policy a conffile, and the service installed but neither
# enabled nor started.  Runs first of the t_vm_* tests, before any of them
# starts the service.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
[ -d /run/systemd/system ] || skip "systemd is not PID 1 (runs in the make check-vm guest)"
dpkg-query -W -f='${Status}' portclass 2>/dev/null | grep -q 'ok installed' ||
	skip "the portclass package is not installed (runs in the make check-vm guest)"

for f in /usr/bin/portclass /usr/bin/portclass-replay /usr/sbin/portclass-nfq; do
	[ -x "$f" ] || fail "$f missing"
done
for f in /usr/share/man/man1/portclass.1.gz /usr/share/man/man1/portclass-replay.1.gz \
	/usr/share/man/man5/portclass.rules.5.gz /usr/share/man/man8/portclass-nfq.8.gz \
	/usr/share/portclass/default.rules /usr/share/portclass/portclass.nft \
	/lib/systemd/system/portclass-nfq.service /etc/portclass/rules.conf; do
	[ -s "$f" ] || fail "$f missing"
done
for f in /usr/share/portclass/iptables-setup.sh /usr/share/portclass/iptables-teardown.sh; do
	[ -x "$f" ] || fail "$f missing or not executable"
done
ls /usr/share/portclass/examples/*.rules >/dev/null 2>&1 || fail "no examples"
dpkg-query -W -f='${Conffiles}\n' portclass | grep -q '^ /etc/portclass/rules.conf ' ||
	fail "/etc/portclass/rules.conf is not a conffile"
grep -q '^ExecStart=/usr/sbin/portclass-nfq ' /lib/systemd/system/portclass-nfq.service ||
	fail "unit ExecStart: $(grep ^ExecStart= /lib/systemd/system/portclass-nfq.service)"

# Installed, not enabled, not started: no enforcement before a policy.
st=$(systemctl is-enabled "$SVC" 2>&1)
[ "$st" = disabled ] || fail "after install the unit is '$st', not disabled"
st=$(systemctl is-active "$SVC" 2>&1)
[ "$st" = inactive ] || fail "after install the unit is '$st', not inactive"
# (the installed program: the namespace tests run build/'s beside this one)
bin=$(readlink -f "$(command -v portclass-nfq)") || fail "portclass-nfq is not on PATH"
find /proc/[0-9]*/exe -maxdepth 0 -lname "$bin" 2>/dev/null | grep -q . &&
	fail "$bin runs after install"

# The unit as systemd 252 reads it: no complaint about it (the man pages
# are there, man itself is not installed on this server).
out=$(systemd-analyze verify "$SVC" 2>&1 | grep -v -e "Command 'man " -e '^$')
[ -z "$out" ] || fail "systemd-analyze verify: $out"
/usr/bin/portclass check /etc/portclass/rules.conf | grep -qx 'configuration OK' ||
	fail "the installed policy does not check"
/usr/sbin/portclass-nfq --version >/dev/null || fail "portclass-nfq --version"
echo ok
