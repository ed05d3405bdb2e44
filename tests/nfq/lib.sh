# Shared by tests/t_nfq_*.sh: a network namespace per test, the contrib
# iptables rules inside it, the daemon, servers and clients (tests/nfq/pc.py),
# all torn down by a trap on any exit.  Loopback only.  Every wait is
# bounded.  Source it after setting NAME.
#
#   nfq_init NAME            root/tool checks (exit 77), namespace, trap
#   nsx CMD...               run in the namespace
#   nfq_start ARGS...        start the daemon (log in $LOG, stderr in $ERR)
#   nfq_stop [SIG]           SIGTERM (or SIG), bounded wait, status in $NFQ_RC
#   server tcp|udp HOST PORT NAME   start a server, pid in $TMP/NAME.pid
#   client tcp|udp HOST PORT TIMEOUT  prints ok|refused|timeout ...
#   wait_for FILE REGEX SECS
#   wait_file FILE SECS      FILE exists and is not empty
#   fail MSG / skip MSG
#   nfq_peer                 a second namespace ($PEER, run in it with
#                            peerx) joined by a veth: the server side has
#                            $SRV4 (10.99.0.1/24) and $SRV6 (fd00:99::1/64),
#                            the peer $CLI4 and $CLI6 (.2 / ::2)
#   need_scapy               skip unless python3-scapy imports

: "${BUILD:=build}"
NFQ=$BUILD/portclass-nfq
PCPY=tests/nfq/pc.py
PIDS=""
NS=""
PEER=""
SRV4=10.99.0.1
CLI4=10.99.0.2
SRV6=fd00:99::1
CLI6=fd00:99::2
DAEMON=""
TMP=""

fail() {
	echo "FAIL: $*"
	if [ -n "$TMP" ]; then
		for f in "$TMP"/log "$TMP"/err; do
			[ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	exit 1
}

skip() {
	echo "skip: $*"
	exit 77
}

nfq_cleanup() {
	for p in $DAEMON $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $DAEMON $PIDS; do
		wait "$p" 2>/dev/null
	done
	# Whatever still runs in the namespace (a child orphaned when the
	# `timeout` or wrapper above it was killed) goes too: a deleted
	# namespace lives on as long as one process holds it.
	if [ -n "$NS" ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	if [ -n "$PEER" ]; then
		for p in $(ip netns pids "$PEER" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$PEER" 2>/dev/null
	fi
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	return 0
}

# nsrun NAME CMD...: CMD in the network namespace NAME, as `ip netns exec`
# without its new mount namespace and sysfs for each command (nothing
# here reads /sys): nsenter, which execs CMD itself.  That costs a second
# per command on an emulated CPU (make check-vm), nsenter almost nothing.
# The warm interpreter's client enters the namespace itself
# ($PC_PYFORK_NETNS): no nsenter before it.
nsrun() {
	if [ -n "$PYFORK_NS" ] && [ "$2" = "$PY" ]; then
		_ns=$1
		shift
		PC_PYFORK_NETNS="/run/netns/$_ns" "$@"
	elif [ -n "$NSENTER" ]; then
		_ns=$1
		shift
		nsenter --net="/run/netns/$_ns" -- "$@"
	else
		ip netns exec "$@"
	fi
}
NSENTER=""
command -v nsenter >/dev/null 2>&1 && NSENTER=nsenter
PYFORK_NS=""
WAITFOR=""
[ -x "$BUILD/tools/waitfor" ] && WAITFOR=$(cd "$BUILD/tools" && pwd)/waitfor

nsx() {
	nsrun "$NS" "$@"
}

nfq_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, iptables, NFQUEUE)"
	for t in ip iptables ip6tables iptables-restore python3 timeout; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
	[ -x "$NFQ" ] || fail "$NFQ not built"
	# The system interpreter starts fastest (no version-manager shims).
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	# Where a warm interpreter serves (tests/nfq/pyfork.py, started by make
	# check-vm's guest, where a python3 start costs seconds), its client.
	# (The one without scapy may be up before the other: the client sends
	# each script to one that serves it, else runs python3.)
	if [ -n "${PC_PYFORK:-}" ] && [ -x "$BUILD/tools/pyfork" ] &&
		{ [ -S "$PC_PYFORK" ] || [ -S "${PC_PYFORK_LIGHT:-/nonexistent}" ]; }; then
		PY=$(cd "$BUILD/tools" && pwd)/pyfork
		PYFORK_NS=1
	fi
	TMP=$(mktemp -d /tmp/pc-nfq.XXXXXX)
	chmod 755 "$TMP"
	NS="pc-$1-$$"
	trap nfq_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	ip netns add "$NS" || skip "cannot create a network namespace"
	nsx ip link set lo up || fail "lo up"
	# NFQUEUE support: the xtables target must load.
	# (added and deleted in one transaction: one program start)
	if ! printf '%s\n' '*filter' \
		'-A INPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9 --queue-bypass' \
		'-D INPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9 --queue-bypass' \
		COMMIT | nsx iptables-restore -w --noflush 2>"$TMP/probe.err"; then
		skip "no NFQUEUE support: $(head -n 1 "$TMP/probe.err")"
	fi
	LOG=$TMP/log
	ERR=$TMP/err
	: >"$LOG"
	: >"$ERR"
}

peerx() {
	nsrun "$PEER" "$@"
}

nfq_peer() {
	PEER="$NS-c"
	ip netns add "$PEER" || fail "cannot create the peer namespace"
	ip link add pcs$$ netns "$NS" type veth peer name pcc$$ netns "$PEER" ||
		fail "cannot create a veth pair"
	# One ip a namespace (-batch): a program start is costly under an
	# emulated CPU (make check-vm).
	printf '%s\n' "link set pcs$$ name veth0" "addr add $SRV4/24 brd + dev veth0" \
		"addr add $SRV6/64 dev veth0 nodad" "link set veth0 up" |
		ip -n "$NS" -batch - || fail "the server side of the veth pair"
	printf '%s\n' "link set lo up" "link set pcc$$ name veth0" \
		"addr add $CLI4/24 brd + dev veth0" "addr add $CLI6/64 dev veth0 nodad" \
		"link set veth0 up" |
		ip -n "$PEER" -batch - || fail "the client side of the veth pair"
	# Let the link come up (IPv6 needs it for link-local addresses).
	i=0
	while [ $i -lt 50 ]; do
		case "$(nsx ip -6 addr show dev veth0)" in
		*tentative*) ;;
		*fe80*) break ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
}

need_scapy() {
	# The warm interpreter that has scapy imported may still be importing
	# it (make check-vm starts it with the guest's tests): waiting for it
	# costs less than a python3 that imports scapy itself.
	if [ -n "${PC_PYFORK:-}" ] && [ ! -S "$PC_PYFORK" ] && [ -n "$WAITFOR" ]; then
		"$WAITFOR" -e "$PC_PYFORK" 90
	fi
	$PY -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
}

# wait_for FILE REGEX SECS: 0 once a line of FILE matches, 1 on timeout.
# build/tools/waitfor looks every 10 ms from one process; the shell loop
# (without it) starts a grep and a sleep ten times a second, which under an
# emulated CPU (make check-vm) is a busy CPU taken from the test.
wait_for() {
	if [ -n "$WAITFOR" ]; then
		"$WAITFOR" "$1" "$2" "$3"
		return
	fi
	i=0
	n=$(($3 * 10))
	while [ $i -lt $n ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_file FILE SECS: 0 once FILE exists and is not empty.
wait_file() {
	if [ -n "$WAITFOR" ]; then
		"$WAITFOR" -s "$1" "$2"
		return
	fi
	i=0
	while [ ! -s "$1" ] && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

nfq_start() {
	: >"$LOG"
	: >"$ERR"
	# nsenter (or ip) execs the daemon, so $! is the daemon's own pid (not
	# through nsrun: a function in the background is a subshell).
	if [ -n "$NSENTER" ]; then
		nsenter --net="/run/netns/$NS" -- "$NFQ" "$@" >"$LOG" 2>"$ERR" &
	else
		ip netns exec "$NS" "$NFQ" "$@" >"$LOG" 2>"$ERR" &
	fi
	DAEMON=$!
	wait_for "$LOG" '"type":"start"' 10 ||
		fail "daemon did not start: $(cat "$ERR")"
}

nfq_stop() {
	NFQ_RC=none
	[ -n "$DAEMON" ] || return 0
	kill -"${1:-TERM}" "$DAEMON" 2>/dev/null
	if [ -n "$WAITFOR" ]; then
		"$WAITFOR" -p "$DAEMON" 10
	fi
	i=0
	while kill -0 "$DAEMON" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$DAEMON" 2>/dev/null; then
		kill -9 "$DAEMON"
		wait "$DAEMON" 2>/dev/null
		DAEMON=""
		fail "daemon did not stop within 10 s of SIG${1:-TERM}"
	fi
	wait "$DAEMON"
	NFQ_RC=$?
	DAEMON=""
}

# server tcp|udp HOST PORT NAME [LIFETIME]: LIFETIME (300 s) only bounds a
# server the cleanup missed; a test that runs longer than its servers (an
# emulated machine: make check-vm) would see them vanish.
server() {
	rm -f "$TMP/$4.pid"
	if [ -n "$PYFORK_NS" ]; then
		PC_PYFORK_NETNS="/run/netns/$NS" $PY "$PCPY" "$1-server" "$2" "$3" \
			"$TMP/$4.pid" "${5:-300}" &
	elif [ -n "$NSENTER" ]; then
		nsenter --net="/run/netns/$NS" -- $PY "$PCPY" "$1-server" "$2" "$3" \
			"$TMP/$4.pid" "${5:-300}" &
	else
		ip netns exec "$NS" $PY "$PCPY" "$1-server" "$2" "$3" "$TMP/$4.pid" \
			"${5:-300}" &
	fi
	PIDS="$PIDS $!"
	wait_file "$TMP/$4.pid" 10 || fail "server $4 did not start"
}

# client tcp|udp HOST PORT TIMEOUT [SPORT]: prints "ok 0.002", "refused ..."
# (TIMEOUT is the client's own; the bound around it only catches a hung
# client, with room for an emulated CPU under load to start one)
client() {
	if [ -n "$PYFORK_NS" ]; then
		PC_PYFORK_NETNS="/run/netns/$NS" timeout $(($4 + 20)) $PY "$PCPY" "$1-client" \
			"$2" "$3" "$4" ${5:-} || echo "killed"
	elif [ -n "$NSENTER" ]; then
		timeout $(($4 + 20)) nsenter --net="/run/netns/$NS" -- $PY "$PCPY" "$1-client" \
			"$2" "$3" "$4" ${5:-} || echo "killed"
	else
		timeout $(($4 + 20)) ip netns exec "$NS" $PY "$PCPY" "$1-client" \
			"$2" "$3" "$4" ${5:-} || echo "killed"
	fi
}

# expect_client WANT tcp|udp HOST PORT TIMEOUT
expect_client() {
	want=$1
	shift
	got=$(client "$@")
	case "$got" in
	"$want "*) ;;
	*) fail "$1 client to $2 port $3: expected $want, got '$got'" ;;
	esac
}

# json_lines REGEX...: the log lines matching every REGEX (extended regular
# expressions, as grep -E; one awk, not a grep per REGEX).
json_lines() {
	awk 'BEGIN { for (i = 1; i < ARGC; i++) re[i] = ARGV[i]; n = ARGC - 1; ARGC = 1 }
	{ for (i = 1; i <= n; i++) if ($0 !~ re[i]) next; print }' "$@" <"$LOG"
}
