#!/bin/sh
# t_demo: the committed demo (contrib/demo/) says what its README says.
# Replays demo.pcap with demo.rules and the listener snapshot, without the
# snapshot, and with the default policy, and checks the alerts, the
# reasons and the listeners seen.  Exit 0 pass, 77 skip, else fail.
set -eu

: "${BUILD:=build}"
REPLAY=$BUILD/portclass-replay
D=contrib/demo
if [ ! -x "$REPLAY" ]; then
	echo "t_demo: $REPLAY not built" >&2
	exit 1
fi
if [ ! -f "$D/demo.pcap" ]; then
	echo "t_demo: $D/demo.pcap missing" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "skip: python3 not installed (needed to read the JSON)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-demo-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

# run NAME ARGS...: replays the demo as jsonl alerts into $tmp/NAME.
run() {
	name=$1
	shift
	rc=0
	timeout 30 "$REPLAY" --format jsonl "$@" "$D/demo.pcap" \
		>"$tmp/$name" 2>"$tmp/$name.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "t_demo: $name: exit $rc" >&2
		cat "$tmp/$name.err" >&2
		exit 1
	fi
}
run snap -c "$D/demo.rules" --listeners "$D/listeners.json"
run nosnap -c "$D/demo.rules"
run default -c contrib/default.rules

python3 - "$tmp" <<'EOF'
import json, sys

d = sys.argv[1]
failed = 0

def load(name):
    with open("%s/%s" % (d, name)) as f:
        lines = [json.loads(l) for l in f]
    assert lines and lines[-1]["type"] == "summary", name + ": no summary"
    return [l for l in lines if l["type"] == "alert"], lines[-1]

def check(what, got, want):
    global failed
    if got != want:
        print("FAIL %s: got %r, want %r" % (what, got, want))
        failed += 1

def seen(summary):
    return {(l["proto"], l["addr"], l["port"]): l["policy"]
            for l in summary["listeners_seen"]}

# demo.rules with the snapshot: 17 attempts, 8 alerts, mosh expected.
alerts, s = load("snap")
check("snap attempts", s["attempts"], 17)
check("snap alerts", s["alerts"], 8)
check("snap expected", s["reasons"]["expected"], 2)
check("snap undetermined", s["reasons"]["undetermined"], 0)
check("snap alert ports", sorted(a["dport"] for a in alerts),
      [49152, 50000, 55555, 60002, 60314, 60314, 60314, 61000])
for a in alerts:
    if a["dport"] in (60314, 60002):
        check("snap alert %s program" % a["dport"], a.get("program"), "nc")
        check("snap alert %s listener" % a["dport"], a.get("listener"),
              "rogue")
    else:
        check("snap alert %s listener" % a["dport"], a.get("listener"),
              "probe")
check("snap listeners seen", seen(s), {
    ("tcp", "10.99.0.1", 60314): "unexpected",
    ("tcp", "fd99::1", 60314): "unexpected",
    ("udp", "10.99.0.1", 60001): "expected",
    ("udp", "fd99::1", 60001): "expected",
    ("udp", "10.99.0.1", 60002): "unexpected",
})

# Without the snapshot the owner is unknown: `expect ... program` cannot
# decide the UDP attempts in 60000-61000.
alerts, s = load("nosnap")
check("nosnap alerts", s["alerts"], 10)
check("nosnap undetermined", s["undetermined"], 4)
check("nosnap expected", s["reasons"]["expected"], 0)

# The default policy: no local, no expect: every attempt on a dynamic
# port alerts, and nothing else does (the server's own connections and
# the clients' replies to ephemeral ports are not attempts on it).
alerts, s = load("default")
check("default alerts", s["alerts"], 10)
check("default alert ports", sorted(a["dport"] for a in alerts),
      [49152, 50000, 55555, 60001, 60001, 60002, 60314, 60314, 60314,
       61000])
sys.exit(1 if failed else 0)
EOF
echo ok
