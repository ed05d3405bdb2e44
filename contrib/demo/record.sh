#!/bin/sh
# record.sh: records the demo capture (demo.pcap) and the listener snapshot
# taken during it (listeners.json), next to this script.  Run as root.
#
# Two network namespaces made here and deleted at exit, joined by a veth
# pair; no traffic leaves them:
#   pc-demo-srv-PID  "the server", 10.99.0.1/24 and fd99::1/64: the host
#                    the policy protects (demo.rules: local).  It hands
#                    out ephemeral ports from 49152-65535, as Windows and
#                    macOS do, so the replies to its own connections come
#                    back to dynamic-range ports.
#   pc-demo-cli-PID  "the outside", 10.99.0.2/24 and fd99::2/64: clients,
#                    a port scanner, and servers the server talks to.
# tcpdump on the server's interface records everything.  See README.md.
#
# usage: sh contrib/demo/record.sh [OUTDIR]   (default: contrib/demo)
#        PORTCLASS=path/to/portclass for the snapshot (default:
#        build/portclass next to this tree; without it the snapshot is
#        written by this script from what it started).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:-$here}
PORTCLASS=${PORTCLASS:-$here/../../build/portclass}

if [ "$(id -u)" -ne 0 ]; then
	echo "record.sh: must run as root (it creates network namespaces)" >&2
	exit 1
fi
for c in ip tcpdump nc python3 timeout; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "record.sh: $c not found" >&2
		exit 1
	fi
done
# The real interpreter, not a wrapper script, so that a symlink to it
# gives the process the symlink's name.
PY=$(python3 -c 'import sys; print(sys.executable)')

SRV=pc-demo-srv-$$
CLI=pc-demo-cli-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/pc-demo.XXXXXX")
pids=
tcpdump_pid=

cleanup() {
	set +e
	[ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	# and whatever they started (nc under sh, sleep): every process left
	# in the two namespaces made above
	for ns in "$SRV" "$CLI"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	wait 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

S="ip netns exec $SRV"
C="ip netns exec $CLI"

# bg NS CMD...: starts a server in the background, remembered for cleanup.
bg() {
	ns=$1
	shift
	ip netns exec "$ns" "$@" </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
}

ip netns add "$SRV"
ip netns add "$CLI"
ip link add pcds$$ type veth peer name pcdc$$
ip link set pcds$$ netns "$SRV"
ip link set pcdc$$ netns "$CLI"
ip -n "$SRV" link set pcds$$ name eth0
ip -n "$CLI" link set pcdc$$ name eth0
for ns in "$SRV" "$CLI"; do
	ip -n "$ns" link set lo up
done
ip -n "$SRV" addr add 10.99.0.1/24 dev eth0
ip -n "$SRV" addr add fd99::1/64 dev eth0 nodad
ip -n "$CLI" addr add 10.99.0.2/24 dev eth0
ip -n "$CLI" addr add fd99::2/64 dev eth0 nodad
ip -n "$SRV" link set eth0 up
ip -n "$CLI" link set eth0 up
$S sysctl -q -w net.ipv4.ip_local_port_range="49152 65535"

# Helpers: a UDP echo server and the clients (python3: nothing else to
# install, and every byte it sends is visible in the script).
cat >"$work/udp_echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(2048)
    if s.getsockname()[1] == 53 and len(data) >= 12:
        # a resolver stand-in: every name is NXDOMAIN
        s.sendto(data[:2] + bytes([data[2] | 0x80, 0x83]) + data[4:], peer)
    else:
        s.sendto(b"echo " + data, peer)
EOF
cat >"$work/udp_client.py" <<'EOF'
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(0.5)
for i in range(n):
    if port == 53:
        # a DNS query: id, RD, one question demo.example. A IN
        msg = (bytes([0x12, i, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) +
               b"\x04demo\x07example\x00\x00\x01\x00\x01")
    else:
        msg = b"datagram %d" % i
    s.sendto(msg, (host, port))
    try:
        s.recvfrom(2048)
    except OSError:
        pass
EOF
cat >"$work/http_get.py" <<'EOF'
import http.client, sys
host, port = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, port, timeout=2)
c.request("GET", "/")
c.getresponse().read()
c.close()
EOF
mkdir "$work/www"
printf '<html><body>portclass demo</body></html>\n' >"$work/www/index.html"
ln -s "$PY" "$work/mosh-server"

# The server's listeners.
bg "$SRV" nc -lk 60314				# rogue: a leftover nc
bg "$SRV" nc -6 -lk 60314
bg "$SRV" "$work/mosh-server" "$work/udp_echo.py" 60001	# expected
# in mosh's range, not mosh; answers the first datagram with "ok"
bg "$SRV" sh -c '(printf "ok\n"; sleep 60) | nc -lu 60002'
bg "$SRV" "$PY" -m http.server -b :: -d "$work/www" 80		# system port
bg "$SRV" "$PY" -m http.server -b :: -d "$work/www" 8080	# user port
# Servers outside that the server itself talks to.
bg "$CLI" "$PY" "$work/udp_echo.py" 53		# a resolver stand-in
bg "$CLI" "$PY" -m http.server -b :: -d "$work/www" 443

# Wait until every listener is up (bounded).
n=0
while :; do
	up=$($S ss -Hlnu 'sport = :60001 or sport = :60002' | wc -l)
	up=$((up + $($S ss -Hlnt \
		'sport = :60314 or sport = :80 or sport = :8080' | wc -l)))
	up=$((up + $($C ss -Hlntu 'sport = :53 or sport = :443' | wc -l)))
	[ "$up" -ge 8 ] && break
	n=$((n + 1))
	if [ "$n" -gt 50 ]; then
		echo "record.sh: listeners did not come up" >&2
		exit 1
	fi
	sleep 0.1
done

$S tcpdump -i eth0 -U -s 0 -w "$work/demo.pcap" 2>"$work/tcpdump.err" &
tcpdump_pid=$!
sleep 1 # tcpdump opens the interface before the first packet

# The snapshot, taken while everything listens.
if [ -x "$PORTCLASS" ] &&
	$S "$PORTCLASS" listeners --json >"$work/listeners.json" 2>/dev/null
then
	snap="portclass listeners --json"
else
	snap="written by record.sh"
	"$PY" - "$work/listeners.json" <<'EOF'
import json, socket, sys, time
L = []
def add(proto, fam, addr, port, prog, policy):
    cls = "system" if port < 1024 else "user" if port < 49152 else "dynamic"
    L.append({"proto": proto, "family": fam, "addr": addr, "port": port,
              "class": cls, "ephemeral": port >= 49152, "reserved": False,
              "pid": None, "program": prog, "exe": None, "user": "root",
              "uid": 0, "unit": None, "policy": policy})
add("tcp", 4, "0.0.0.0", 60314, "nc", "unexpected")
add("tcp", 6, "::", 60314, "nc", "unexpected")
add("udp", 6, "::", 60001, "mosh-server", "expected")
add("udp", 4, "0.0.0.0", 60002, "nc", "unexpected")
add("tcp", 6, "::", 80, "python3", "not-guarded")
add("tcp", 6, "::", 8080, "python3", "not-guarded")
doc = {"version": 1, "host": socket.gethostname(),
       "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "range": {"lo": 49152, "hi": 65535}, "listeners": L}
open(sys.argv[1], "w").write(json.dumps(doc) + "\n")
EOF
fi

T="timeout 5"
# 1. Clients use the system- and user-port services, IPv4 and IPv6.
$C $T "$PY" "$work/http_get.py" 10.99.0.1 80
$C $T "$PY" "$work/http_get.py" fd99::1 80
$C $T "$PY" "$work/http_get.py" 10.99.0.1 8080
# 2. The server's own outgoing traffic: DNS-like queries and a web fetch;
#    every reply comes back to one of its dynamic-range ephemeral ports.
$S $T "$PY" "$work/udp_client.py" 10.99.0.2 53 2
$S $T "$PY" "$work/udp_client.py" fd99::2 53 1
$S $T "$PY" "$work/http_get.py" 10.99.0.2 443
$S $T "$PY" "$work/http_get.py" fd99::2 443
# 3. A mosh-like session to the expected UDP listener.
$C $T "$PY" "$work/udp_client.py" 10.99.0.1 60001 3
$C $T "$PY" "$work/udp_client.py" fd99::1 60001 2
# 4. The scanner: probes the rogue nc (it answers), closed dynamic ports
#    (RST), the leftover UDP listener in mosh's range, and a closed UDP
#    port (ICMP port unreachable).
$C $T nc -z -w 1 10.99.0.1 60314 || :
printf 'hello\n' | $C $T nc -N -w 1 10.99.0.1 60314 || :
$C $T nc -z -w 1 fd99::1 60314 || :
$C $T nc -z -w 1 10.99.0.1 50000 || :
$C $T nc -z -w 1 10.99.0.1 55555 || :
$C $T nc -z -w 1 fd99::1 49152 || :
$C $T "$PY" "$work/udp_client.py" 10.99.0.1 60002 1
$C $T "$PY" "$work/udp_client.py" 10.99.0.1 61000 1

sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || :
tcpdump_pid=
sed -n 's/^\([0-9]* packets captured\)/record.sh: \1/p' "$work/tcpdump.err"

mkdir -p "$outdir"
cp "$work/demo.pcap" "$outdir/demo.pcap"
cp "$work/listeners.json" "$outdir/listeners.json"
echo "record.sh: wrote $outdir/demo.pcap ($(wc -c <"$outdir/demo.pcap") bytes)" \
	"and $outdir/listeners.json ($snap)"
