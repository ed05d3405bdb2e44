#!/bin/sh
# Removes what iptables-setup.sh installed: the jump from INPUT and the
# chain (with every rule in it: the INVALID log and drop, the reject and
# the queue rules), for IPv4 and IPv6.  Safe to run twice.
#
# usage: iptables-teardown.sh [-c CHAIN] [-4|-6]
set -u

chain=PORTCLASS
families="4 6"

while [ $# -gt 0 ]; do
	case "$1" in
	-c|--chain) chain=$2; shift 2 ;;
	-4) families=4; shift ;;
	-6) families=6; shift ;;
	-h|--help) echo "usage: $0 [-c CHAIN] [-4|-6]"; exit 0 ;;
	*) echo "$0: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$chain" in
''|*[!A-Za-z0-9_.-]*) echo "$0: invalid chain name: '$chain'" >&2; exit 2 ;;
esac

for fam in $families; do
	if [ "$fam" = 4 ]; then ipt=iptables; else ipt=ip6tables; fi
	command -v "$ipt-restore" >/dev/null 2>&1 || continue
	n=0
	while $ipt -w -D INPUT -j "$chain" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || break
	done
	# Flush and delete in one transaction; a chain that is not there makes
	# the batch fail, and nothing changes.
	printf '*filter\n-F %s\n-X %s\nCOMMIT\n' "$chain" "$chain" |
		"$ipt-restore" -w --noflush 2>/dev/null
done
exit 0
