# portclass queue selector reader, sourced by iptables-setup.sh and
# nft-setup.sh (from the folder they are in): one reading of queue.conf for
# both firewall forms, the same lines portclass-replay --queue reads.
#
# queue_conf_read FILE GIVEN: sets protos, ports, iface, invalid and queue
# from FILE (each setting it names; "all" is empty for ports and
# interfaces).  A FILE that cannot be read is an error (exit 2) when GIVEN
# is non-empty (named with -C), else it is skipped and the defaults stay.
# An unknown setting is an error (exit 2).
queue_conf_read() {
	if [ -n "$2" ] && [ ! -r "$1" ]; then
		echo "$0: $1: cannot read" >&2
		exit 2
	fi
	[ -r "$1" ] || return 0
	while read -r key rest; do
		rest=${rest%%#*}
		case "$key" in
		''|'#'*) continue ;;
		# shellcheck disable=SC2086
		protos) protos=$(echo $rest) ;;
		# shellcheck disable=SC2086
		ports) ports=$(echo $rest); [ "$ports" = all ] && ports="" ;;
		# shellcheck disable=SC2086
		interfaces) iface=$(echo $rest); [ "$iface" = all ] && iface="" ;;
		# shellcheck disable=SC2086
		invalid) invalid=$(echo $rest) ;;
		# shellcheck disable=SC2086
		queue) queue=$(echo $rest) ;;
		*) echo "$0: $1: unknown setting $key" >&2; exit 2 ;;
		esac
	done <"$1"
}
