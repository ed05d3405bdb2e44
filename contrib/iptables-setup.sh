#!/bin/sh
# Sends NEW inbound connections to portclass-nfq through NFQUEUE, for IPv4
# (iptables) and IPv6 (ip6tables), in a dedicated chain (PORTCLASS) jumped
# to from the top of INPUT.  See portclass-nfq(8).
#
# Only NEW packets are queued (-m conntrack --ctstate NEW): established
# traffic, including replies to our own outgoing connections, never leaves
# the kernel.  (So portclass-nfq --assume-new is right with these rules
# when the kernel does not hand over conntrack state.)  --queue-bypass accepts packets while no daemon is bound, so a
# stopped or crashed daemon never blackholes a server (--fail-closed drops
# that instead).
#
# Reject: the daemon answers `reject` with NF_REPEAT and the reject mark.
# The packet then walks INPUT again; the mark rules at the head of the
# chain REJECT it (TCP reset, ICMP/ICMPv6 port unreachable), and the queue
# rules skip marked packets, so it is never queued twice.
#
# Which packets are queued (protocols, destination ports, interfaces,
# INVALID handling, queue number) is read from the queue selector file,
# /etc/portclass/queue.conf (-C FILE; contrib/queue.conf is the bundled
# one), the file portclass-replay --queue reads too, so that an offline run
# decides exactly what the daemon is given.  Options given here override
# the file.
#
# What conntrack calls INVALID is dropped ahead of the queue rules (the
# selector's `invalid drop`, the default): such a packet is never NEW, so it
# would never be queued, yet the stack may still deliver it to a listener.
# A rate-limited LOG rule in front of the drop (--log-prefix
# "portclass-invalid: ", at most 10 lines a second) says so in the kernel
# log; --no-invalid-drop (or `invalid accept`) leaves both out.
#
# usage: iptables-setup.sh [-C QUEUE.CONF] [-q NUM|FIRST:LAST] [-i IFACE]
#            [-p PORTS] [-P PROTOS] [-m MARK] [-c CHAIN] [-4|-6]
#            [--fail-closed] [--no-invalid-drop]
set -eu

queue=0
iface=""
ports=""
protos="tcp udp udplite sctp dccp"
mark=0x70c1a55
chain=PORTCLASS
families="4 6"
bypass="--queue-bypass"
invalid=drop
config=/etc/portclass/queue.conf

# The queue selector file first; the options below override it.
prev=""
given=""
for a in "$@"; do
	[ "$prev" = cfg ] && { config=$a; given=1; }
	prev=""
	case "$a" in -C|--config) prev=cfg ;; esac
done
# shellcheck source=contrib/queue-conf.sh
. "$(dirname "$0")/queue-conf.sh"
queue_conf_read "$config" "$given"

usage() {
	cat <<USAGE
usage: $0 [options]
  -C, --config FILE     queue selector (default /etc/portclass/queue.conf
                        when it exists; see contrib/queue.conf)
  -q, --queue N|A:B     queue number, or a range balanced over CPUs
                        (--queue-balance A:B --queue-cpu-fanout); default 0
  -i, --interface IF    only packets arriving on IF (default: all; several
                        names separated by spaces)
  -p, --ports PORTS     only these destination ports, e.g. 32768:65535
                        or 32768-60999,8080
                        (default: all)
  -P, --protos LIST     protocols to queue (default "tcp udp udplite sctp
                        dccp": every one the daemon reads ports from)
  -m, --mark MARK       reject mark, as portclass-nfq --reject-mark
                        (default 0x70c1a55)
  -c, --chain NAME      chain name (default PORTCLASS)
  -4 | -6               IPv4 or IPv6 only (default both)
      --fail-closed     no --queue-bypass: packets are dropped while no
                        daemon is bound
      --no-invalid-drop do not drop (and log) what conntrack calls INVALID
USAGE
}

while [ $# -gt 0 ]; do
	case "$1" in
	-C|--config) shift 2 ;;
	-q|--queue) queue=$2; shift 2 ;;
	-i|--interface) iface=$2; shift 2 ;;
	-p|--ports) ports=$2; shift 2 ;;
	-P|--protos) protos=$2; shift 2 ;;
	-m|--mark) mark=$2; shift 2 ;;
	-c|--chain) chain=$2; shift 2 ;;
	-4) families=4; shift ;;
	-6) families=6; shift ;;
	--fail-closed) bypass=""; shift ;;
	--no-invalid-drop) invalid=accept; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "$0: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

# The batch is one rule a line: no value may break a line or a word.
for v in "$chain" "$mark" "$queue"; do
	case "$v" in
	''|*[!A-Za-z0-9_.:x-]*) echo "$0: invalid chain, mark or queue: '$v'" >&2; exit 2 ;;
	esac
done
case "$ports$protos$iface" in
*"
"*) echo "$0: a port, protocol or interface list spans lines" >&2; exit 2 ;;
esac

case "$queue" in
*:*) qtarget="--queue-balance $queue --queue-cpu-fanout" ;;
*) qtarget="--queue-num $queue" ;;
esac

# One batch per family through iptables-restore --noflush: the chain is
# made (or flushed) and filled in one transaction, so a re-run never leaves
# a moment in which NEW connections go past an empty chain, and a rule the
# kernel refuses leaves the old rules as they were.
rule() {
	batch="$batch$*
"
}

for fam in $families; do
	if [ "$fam" = 4 ]; then
		ipt=iptables
		unreach=icmp-port-unreachable
	else
		ipt=ip6tables
		unreach=icmp6-port-unreachable
	fi
	if ! command -v "$ipt" >/dev/null 2>&1 || ! command -v "$ipt-restore" >/dev/null 2>&1; then
		echo "$0: $ipt or $ipt-restore not found, skipping IPv$fam" >&2
		continue
	fi
	# Idempotent: an existing chain is flushed and refilled (the chain line
	# of a --noflush batch does that), the jump from INPUT added once.
	batch="*filter
:$chain - [0:0]
"
	$ipt -w -C INPUT -j "$chain" 2>/dev/null || rule -I INPUT 1 -j "$chain"

	for ifname in ${iface:-""}; do
	inopt=""
	[ -n "$ifname" ] && inopt="-i $ifname"
	# 1. Packets the daemon rejected come back here marked.
	for p in $protos; do
		case "$p" in
		tcp) how="--reject-with tcp-reset" ;;
		*) how="--reject-with $unreach" ;;
		esac
		# shellcheck disable=SC2086
		rule -A "$chain" $inopt -p "$p" -m mark --mark "$mark" -j REJECT $how
	done
	# conntrack INVALID packets (SYN+FIN, a SYN+ACK or RST without a
	# connection, bad lengths) are never queued; `invalid drop` in the
	# selector drops them here (portclass-replay reports them so).
	if [ "$invalid" = drop ]; then
		# shellcheck disable=SC2086
		rule -A "$chain" $inopt -m conntrack --ctstate INVALID \
			-m limit --limit 10/second --limit-burst 10 \
			-j LOG --log-prefix '"portclass-invalid: "'
		# shellcheck disable=SC2086
		rule -A "$chain" $inopt -m conntrack --ctstate INVALID -j DROP
	fi
	# 2. NEW inbound connections go to the queue; marked ones never.
	for p in $protos; do
		portopt=""
		if [ -n "$ports" ]; then
			xports=$(printf '%s' "$ports" | tr - :)
			case "$p:$xports" in
			# udplite has no port match in xtables: all its ports.
			udplite:*) ;;
			*,*) portopt="-m multiport --dports $xports" ;;
			*) portopt="--dport $xports" ;;
			esac
		fi
		# shellcheck disable=SC2086
		rule -A "$chain" $inopt -p "$p" $portopt \
			-m conntrack --ctstate NEW -m mark ! --mark "$mark" \
			-j NFQUEUE $qtarget $bypass
	done
	done
	rule COMMIT
	printf '%s' "$batch" | "$ipt-restore" -w --noflush
done
