#!/bin/sh
# The documented way in, inside the guest (tests/vm/guest.sh runs it first
# in the lane of the t_vm_* tests, which need the package): `apt install`
# of the run's .deb, answering nothing, keeping any conffile already there.
set -u
set -- /srv/pc/portclass_*.deb
deb=$1
[ -e "$deb" ] || { echo "FAIL: no .deb in /srv/pc"; exit 1; }
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y \
	-o Dpkg::Options::=--force-confold "$deb" >/tmp/apt.log 2>&1; then
	tail -n 20 /tmp/apt.log
	echo "FAIL: apt install $deb"
	exit 1
fi
dpkg-query -W -f='${Status}\n' portclass | grep -qx 'install ok installed' ||
	{ echo "FAIL: portclass is not installed: $(dpkg-query -W -f='${Status}' portclass 2>&1)"; exit 1; }
echo ok
