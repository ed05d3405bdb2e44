#!/bin/sh
# t_replay_kernel: portclass-replay's model of the kernel in front of the
# queue, on captures written by tests/kernel/mkcaps.py (scapy):
# reassembly before the decision and before `filter` rules (v4 and v6),
# nmap -f tiny fragments decided as the SYN they make, overlapping
# fragments discarded, ACK pickup (and --tcp-loose 0), invalid flag
# combinations never queued, SCTP outside the selector, a late packet of an
# evicted flow never made NEW, snap-length-cut captures, and --fail-on on
# what could not be decided.
set -u
: "${BUILD:=build}"
REPLAY=$BUILD/portclass-replay
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$REPLAY" ] || { echo "skip: $REPLAY not built"; exit 77; }
$PY -c 'import scapy.all' 2>/dev/null || { echo "skip: python3-scapy not installed"; exit 77; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
$PY tests/kernel/mkcaps.py "$tmp" 2>"$tmp/mk.err" || { echo "FAIL: mkcaps: $(cat "$tmp/mk.err")"; exit 1; }
fails=0
R=$tmp/rules
cat >"$R" <<'RULES'
dynamic-range iana
local 192.0.2.0/24, 2001:db8:1::/48
unexpected reject log
default pass
pass filter "udp and dst port 60600 and greater 1500"
RULES

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run NAME CAPTURE [OPTIONS...]: jsonl packets in $tmp/NAME.jsonl, exit in $rc
run() {
	n=$1 c=$2
	shift 2
	rc=0
	"$REPLAY" -c "$R" --format jsonl --events packets "$@" "$tmp/$c" \
		>"$tmp/$n.jsonl" 2>"$tmp/$n.err" || rc=$?
}

# field NAME FRAME KEY: the value of KEY in that packet line
field() {
	$PY - "$tmp/$1.jsonl" "$2" "$3" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("type") == "packet" and o["frame"] == int(sys.argv[2]):
        v = o.get(sys.argv[3])
        print("null" if v is None else str(v).lower())
PYEOF
}

summary() {
	$PY - "$tmp/$1.jsonl" "$2" <<'PYEOF'
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])][-1]
v = o
for k in sys.argv[2].split("."):
    v = v[k]
print(v)
PYEOF
}

expect() { # NAME FRAME KEY WANT
	got=$(field "$1" "$2" "$3")
	[ "$got" = "$4" ] || fail "$1 frame $2: $3 is '$got', expected '$4'"
}

# Fragmented UDP (v4 1480-byte, v6 1280-byte fragments): the filter rule
# sees the whole datagram (UDP, > 1500 bytes) on the frame completing it.
run frag frag.pcap
expect frag 1 fragment held
expect frag 1 verdict null
expect frag 1 dport null
expect frag 3 fragment reassembled
expect frag 3 dport 60600
expect frag 3 verdict pass
expect frag 3 reason rule
expect frag 6 fragment reassembled
expect frag 6 verdict pass
expect frag 6 reason rule
[ "$(summary frag fragments.reassembled)" = 2 ] || fail "frag: reassembled count"
[ "$(summary frag alerts)" = 0 ] || fail "frag: alerts"

# nmap -f: 8-byte fragments of a SYN: one attempt, alerted, rejected.
run tiny tiny.pcap
expect tiny 3 new true
expect tiny 3 verdict reject
expect tiny 3 reason unexpected
[ "$(summary tiny alerts)" = 1 ] || fail "tiny: alerts"

# Overlap: the datagram is discarded and never decided.
run overlap overlap.pcap
expect overlap 2 fragment dropped
[ "$(summary overlap fragments.overlapping)" = 1 ] || fail "overlap: count"
[ "$(summary overlap attempts)" = 0 ] || fail "overlap: attempts"

# Flags: the ACK is picked up (NEW, alert); SYN+FIN, null and Xmas are
# conntrack INVALID (dropped by the firewall, no alert); SCTP INIT is
# outside a tcp/udp selector (passes, no alert); the SYN alerts.
printf 'protos tcp udp\n' >"$tmp/tcpudp.conf"
run flags flags.pcap --queue "$tmp/tcpudp.conf"
expect flags 1 ct new
expect flags 1 verdict reject
expect flags 3 ct invalid
expect flags 3 reason conntrack-invalid
expect flags 3 verdict drop
expect flags 4 reason conntrack-invalid
expect flags 5 reason conntrack-invalid
expect flags 6 queue outside-selector
expect flags 6 verdict pass
expect flags 7 verdict reject
[ "$(summary flags alerts)" = 2 ] || fail "flags: alerts $(summary flags alerts), expected 2"
[ "$(summary flags queue.conntrack.invalid)" = 3 ] || fail "flags: invalid count"
# nf_conntrack_tcp_loose=0: the lone ACK is INVALID, not an attempt.
run strict flags.pcap --queue "$tmp/tcpudp.conf" --tcp-loose 0
expect strict 1 ct invalid
expect strict 1 verdict drop
[ "$(summary strict alerts)" = 1 ] || fail "strict: alerts"
# SCTP in the selector (the default, and a queue.conf naming it):
# queued, alerted.
run dflt flags.pcap
expect dflt 6 queue queued
expect dflt 6 verdict reject
printf 'protos tcp udp sctp\n' >"$tmp/q.conf"
run sctp flags.pcap --queue "$tmp/q.conf"
expect sctp 6 queue queued
expect sctp 6 verdict reject
# Every packet handed over (--queue all): the SYN+FIN is decided.
run all flags.pcap --queue all
expect all 3 verdict reject

# A late ACK of a connection the bounded table evicted is not a pickup.
run evict evict.pcap --max-flows 1
expect evict 4 ct unknown
expect evict 4 new false
expect evict 4 reason undecided
[ "$(summary evict flows.forgotten)" = 1 ] || fail "evict: forgotten"
[ "$(summary evict alerts)" = 2 ] || fail "evict: alerts"

# A capture cut at 40 bytes: UDP ports are there (decided, alerted), the
# TCP flags are not (undecided); --fail-on alert fails either way, and
# --fail-on drop fails on the undecided packets alone.
if command -v editcap >/dev/null 2>&1; then
	editcap -s 40 "$tmp/cut.pcap" "$tmp/cut40.pcap" >/dev/null 2>&1
	editcap -s 68 "$tmp/cut.pcap" "$tmp/cut68.pcap" >/dev/null 2>&1
else
	$PY - "$tmp" <<'PYEOF'
import sys
from scapy.all import rdpcap, wrpcap, Raw
d = sys.argv[1]
for n in (40, 68):
    from scapy.utils import PcapWriter
    w = PcapWriter("%s/cut%d.pcap" % (d, n), snaplen=n, sync=True)
    for p in rdpcap(d + "/cut.pcap"):
        w.write(p)
PYEOF
fi
run cut40 cut40.pcap
expect cut40 1 error truncated-tcp
expect cut40 1 dport 60321
expect cut40 1 reason undecided
expect cut40 3 error truncated-udp
expect cut40 3 dport 60323
expect cut40 3 reason unexpected
[ "$(summary cut40 undecided)" = 2 ] || fail "cut40: undecided $(summary cut40 undecided)"
"$REPLAY" -c "$R" --fail-on drop "$tmp/cut40.pcap" >/dev/null 2>&1
[ $? = 1 ] || fail "cut40: --fail-on drop passed a capture it could not read"
run cut68 cut68.pcap
expect cut68 1 error null
expect cut68 1 new true
expect cut68 2 error truncated-tcp
expect cut68 1 reason unexpected
expect cut68 2 new true
expect cut68 2 reason unexpected
[ "$(summary cut68 undecided)" = 0 ] || fail "cut68: undecided"
[ "$(summary cut68 alerts)" = 3 ] || fail "cut68: alerts"

for f in "$tmp"/*.err; do
	if grep -q -e Sanitizer -e 'runtime error' "$f"; then
		fail "sanitizer report in $f"
		cat "$f"
	fi
done
[ $fails = 0 ] || exit 1
echo ok
