# Shared by tests/vm/t_vm_*.sh, which run inside the Debian 12 guest of
# `make check-vm` (tests/vm/run.sh) with the package installed and systemd
# as PID 1.  The service runs in the guest's root network namespace; the
# client runs in a namespace the test creates, joined to the root one by a
# veth pair with addresses the test assigns (10.77.0.1 root side, 10.77.0.2
# client side).  No other traffic.  Everything is undone by a trap.
#
#   vm_init NAME             checks (exit 77), namespace, veth, trap, cursor
#   nsx CMD...               run in the client namespace
#   client tcp|udp PORT      prints ok|refused|timeout... (pc.py)
#   expect_client WANT tcp|udp PORT
#   rogue_start PORT         rogue.service (transient, systemd-run): a TCP
#                            listener on PORT run as the user pcrogue; its
#                            pid in $ROGUE_PID
#   svc_start / svc_pid      the portclass-nfq unit
#   jlog [REGEX...]          the unit's journal since vm_init, lines matching
#                            every REGEX
#   wait_jlog SECS REGEX...  0 once such a line is there
#   raw_tcp FLAGS SPORT PORT [N]  N (1) bare TCP segments from the client
#                            namespace (raw socket): S for SYN, A for ACK
#   fail MSG / skip MSG

SVC=portclass-nfq.service
NS=pc-vmc
HOST_IP=10.77.0.1
CLI_IP=10.77.0.2
PCPY=/srv/pc/tests/nfq/pc.py
CURSOR=""
ROGUE_PID=""
EXTRA_PIDS=""
# The warm interpreter tests/vm/guest.sh starts (tests/nfq/pyfork.py), when
# it serves; rogue.service runs a real python3, its own process.
VPY=python3
if [ -n "${PC_PYFORK:-}" ] && [ -S "$PC_PYFORK" ] && [ -x /srv/pc/build/tools/pyfork ]; then
	VPY=/srv/pc/build/tools/pyfork
fi

fail() {
	echo "FAIL: $*"
	echo "--- systemctl status $SVC"
	systemctl status --no-pager -n 0 "$SVC" 2>&1 | head -n 15
	echo "--- journal of $SVC"
	jlog | tail -n 25
	exit 1
}

skip() {
	echo "skip: $*"
	exit 77
}

jlog() {
	if [ -n "$CURSOR" ]; then
		out=$(journalctl -q --no-pager -o cat -u "$SVC" --after-cursor "$CURSOR" 2>/dev/null)
	else
		out=$(journalctl -q --no-pager -o cat -u "$SVC" 2>/dev/null)
	fi
	for re in "$@"; do
		out=$(printf '%s\n' "$out" | grep -E -- "$re" || true)
	done
	printf '%s\n' "$out" | sed '/^$/d'
}

wait_jlog() {
	secs=$1
	shift
	i=0
	while [ $i -lt $((secs * 5)) ]; do
		[ -n "$(jlog "$@")" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

vm_cleanup() {
	systemctl stop "$SVC" rogue.service 2>/dev/null
	systemctl reset-failed rogue.service 2>/dev/null
	nft delete table inet portclass 2>/dev/null
	/usr/share/portclass/iptables-teardown.sh >/dev/null 2>&1
	for p in $EXTRA_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip link del pcv0 2>/dev/null
	[ -f /etc/portclass/rules.conf.vmsave ] &&
		mv /etc/portclass/rules.conf.vmsave /etc/portclass/rules.conf
	return 0
}

# nsenter rather than `ip netns exec`: no new mount namespace and sysfs
# for each command (a second each here), nothing here reads /sys.
nsx() {
	nsenter --net="/run/netns/$NS" -- "$@"
}

vm_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -d /run/systemd/system ] || skip "systemd is not PID 1 (runs in the make check-vm guest)"
	dpkg-query -W -f='${Status}' portclass 2>/dev/null | grep -q 'ok installed' ||
		skip "the portclass package is not installed (runs in the make check-vm guest)"
	for t in ip nft iptables python3 journalctl timeout nsenter; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
	trap vm_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	vm_cleanup
	cp -p /etc/portclass/rules.conf /etc/portclass/rules.conf.vmsave
	CURSOR=$(journalctl -q -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
	ip netns add "$NS" || fail "ip netns add"
	ip link add pcv0 type veth peer name pcv1 netns "$NS" || fail "veth"
	ip addr add "$HOST_IP/24" dev pcv0
	ip link set pcv0 up
	nsx ip addr add "$CLI_IP/24" dev pcv1
	nsx ip link set pcv1 up
	nsx ip link set lo up
	i=0
	until nsx ping -c 1 -W 1 "$HOST_IP" >/dev/null 2>&1 ||
		nsx $VPY -c "import socket; socket.create_connection(('$HOST_IP', 9), 1)" 2>&1 |
		grep -q 'refused'; do
		i=$((i + 1))
		[ $i -lt 20 ] || fail "no link between the namespaces"
		sleep 0.2
	done
}

client() {
	timeout 20 nsenter --net="/run/netns/$NS" -- $VPY "$PCPY" "$1-client" "$HOST_IP" "$2" 3 ||
		echo "killed"
}

expect_client() {
	got=$(client "$2" "$3")
	case "$got" in
	"$1 "*) ;;
	*) fail "$2 client to port $3: expected $1, got '$got'" ;;
	esac
}

rogue_start() {
	id pcrogue >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin pcrogue ||
		fail "useradd pcrogue"
	# A transient unit (systemd-run): a unit of its own, with its own
	# cgroup, and no daemon-reload (seconds under an emulated CPU) to make
	# it or to undo it.
	systemd-run --quiet --unit=rogue.service \
		--description="a listener nobody expects on a dynamic port" \
		--property=User=pcrogue --property=RuntimeDirectory=rogue \
		/usr/bin/python3 "$PCPY" tcp-server 0.0.0.0 "$1" /run/rogue/pid 600 ||
		fail "rogue.service does not start"
	/srv/pc/build/tools/waitfor -s /run/rogue/pid 20 ||
		fail "rogue.service does not listen"
	ROGUE_PID=$(cat /run/rogue/pid)
	[ "$ROGUE_PID" = "$(systemctl show -P MainPID rogue.service)" ] ||
		fail "rogue pid $ROGUE_PID is not the unit's main pid"
}

svc_pid() {
	systemctl show -P MainPID "$SVC"
}

svc_start() {
	systemctl start "$SVC" || fail "systemctl start $SVC"
	wait_jlog 30 '"type":"start"' || fail "no start record in the journal"
	[ "$(systemctl is-active "$SVC")" = active ] || fail "$SVC not active"
}

raw_tcp() {
	nsx $VPY - "$1" "$2" "$3" "${4:-1}" "$CLI_IP" "$HOST_IP" <<'EOF' || fail "raw TCP sender"
import socket, struct, sys
flags, sport, dport, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
src, dst = sys.argv[5], sys.argv[6]
bits = (0x02 if "S" in flags else 0) | (0x10 if "A" in flags else 0)
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
hdr = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000 if bits & 0x10 else 0,
                  5 << 4, bits, 64240, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
hdr = hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for _ in range(count):
    s.sendto(hdr, (dst, 0))
EOF
}
