#!/bin/sh
# Runs inside the Debian 12 guest (tests/vm/run.sh), as root, from the
# pc-vm.service oneshot unit, with the run's disk mounted read-only on
# /mnt/pc.  Installs the package the documented way, then runs
# tests/vm/t_vm_*.sh (the package, the unit under systemd, both contrib
# firewall paths, conntrack) and every tests/t_nfq_*.sh of the tree
# (BUILD=build: the plain programs).  Every line it prints starts with
# "pcvm: "; the last one is "vm: N passed, N failed, N skipped".
set -u
say() { printf 'pcvm: %s\n' "$*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

pass=0 fail=0 skip=0
say "guest up after $(cut -d' ' -f1 /proc/uptime) s: $(uname -r), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"

# A writable copy everyone may read (the rogue listener runs as its own
# user and starts tests/nfq/pc.py from it).
rm -rf /srv/pc
cp -a /mnt/pc /srv/pc
chmod -R a+rX /srv/pc
cd /srv/pc || exit 1
# One warm python3 serves every script the tests start (tests/nfq/pyfork.py:
# here a python3 start costs a second and `import scapy.all` ten or more).
# A second one without scapy serves the scripts that do not name it: a
# smaller process forks and exits faster, and it is up within seconds,
# while the other still imports (the tests that need scapy wait for it).
export PC_PYFORK=/run/pc-pyfork.sock PC_PYFORK_LIGHT=/run/pc-pyfork-light.sock
/usr/bin/python3 tests/nfq/pyfork.py "$PC_PYFORK" 3600 </dev/null >/tmp/pyfork.log 2>&1 &
/usr/bin/python3 tests/nfq/pyfork.py --no-scapy "$PC_PYFORK_LIGHT" 3600 </dev/null >/tmp/pyfork-light.log 2>&1 &
filter=$(cat vm-tests 2>/dev/null)
# VM_JOBS and VM_TEST_TIMEOUT (a bound per test) from the host.
VM_JOBS=$(sed -n 's/^VM_JOBS=\([0-9]*\)$/\1/p' vm-env 2>/dev/null)
VM_TEST_TIMEOUT=$(sed -n 's/^VM_TEST_TIMEOUT=\([0-9]*\)$/\1/p' vm-env 2>/dev/null)
VM_PROFILE=$(sed -n 's/^VM_PROFILE=\([0-9]*\)$/\1/p' vm-env 2>/dev/null)
export VM_TEST_TIMEOUT="${VM_TEST_TIMEOUT:-240}"

# The package lane: `apt install` of the run's .deb (tests/vm/install.sh),
# t_vm_deb (the package as apt left it, nothing running), then the other
# t_vm_* tests, which share the guest's root namespace and the one service:
# one after the other, in order.  The t_nfq_* tests each make their own
# network namespaces (queues, rules and servers are per namespace) and use
# the programs of build/, not the package: from the start, the lanes take
# them in turn, VM_JOBS lanes in all.
RES=/tmp/pc-vm-results
rm -rf "$RES"
mkdir -p "$RES"
pick() {
	for t in "$@"; do
		[ -e "$t" ] || continue
		if [ -n "$filter" ] && ! printf '%s\n' "$t" | grep -Eq -- "$filter"; then
			continue
		fi
		printf '%s\n' "$t"
	done
}
# How busy the guest's CPUs were over the tests: idle time means more
# lanes would help, none means the emulated CPUs are the bound.
cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
c0=$(cpu)
# VM_PROFILE=1: which programs took it (process accounting).
[ "${VM_PROFILE:-}" = 1 ] && /usr/bin/python3 tests/vm/acct.py on /tmp/pc-acct
# The scripts wait for a warm interpreter: the one without scapy is up
# within seconds (need_scapy waits for the other).
build/tools/waitfor -e "$PC_PYFORK_LIGHT" 20
t=$(now)
{
	vm=$(pick tests/vm/t_vm_deb.sh; pick tests/vm/t_vm_*.sh | grep -v '/t_vm_deb\.sh$')
	# shellcheck disable=SC2086
	[ -z "$vm" ] || echo tests/vm/install.sh $vm
	# The longest first (as measured here), so that no lane is left with
	# a long test at the end while the other has finished; then the rest.
	# Those that need scapy come after the first few, by when the warm
	# interpreter has it imported.
	slow="reload_storm drop retransmit reload setup exthdr direction parity_kernel invalid"
	first=""
	for n in $slow; do
		first="$first tests/t_nfq_$n.sh"
	done
	# shellcheck disable=SC2086
	pick $first
	# shellcheck disable=SC2086
	pick tests/t_nfq_*.sh | grep -vxF "$(printf '%s\n' $first)"
} | sed '/^$/d' | xargs -r -L 1 -P "${VM_JOBS:-1}" sh tests/vm/run1.sh "$RES"
busy=$(printf '%s %s\n' "$c0" "$(cpu)" | awk '{ b = $3 - $1; i = $4 - $2; if (b + i > 0) printf "%d", 100 * b / (b + i); else print "?" }')
if [ "${VM_PROFILE:-}" = 1 ]; then
	/usr/bin/python3 tests/vm/acct.py off /tmp/pc-acct
	say "profile: $(grep -E '^(pgmajfault|pswpin) ' /proc/vmstat | tr '\n' ' ')$(grep -E '^(MemTotal|MemAvailable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
fi
say "tests: $(secs "$t" "$(now)") s (${VM_JOBS:-1} at a time, CPUs ${busy}% busy)"
for r in "$RES"/*; do
	[ -e "$r" ] || continue
	case $(cat "$r") in
	pass) pass=$((pass + 1)) ;;
	skip) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
done
say "vm: $pass passed, $fail failed, $skip skipped"
