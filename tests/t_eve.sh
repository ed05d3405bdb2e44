#!/bin/sh
# --format eve: every line is a Suricata EVE alert (the fields an EVE
# pipeline reads, with their types), one per alert of the jsonl output,
# the same flows (community_id), and nothing else on stdout.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
REPLAY=$BUILD/portclass-replay
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$REPLAY" ] || fail "$REPLAY not built"
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=contrib/demo

"$REPLAY" -c $D/demo.rules --listeners $D/listeners.json --format eve \
	-r $D/demo.pcap >"$tmp/eve" 2>"$tmp/err" || fail "eve run: $(cat "$tmp/err")"
"$REPLAY" -c $D/demo.rules --listeners $D/listeners.json --format jsonl \
	-r $D/demo.pcap >"$tmp/jsonl" 2>"$tmp/err" || fail "jsonl run: $(cat "$tmp/err")"

python3 - "$tmp/eve" "$tmp/jsonl" <<'PY' || fail "EVE shape"
import json, re, sys
eve = [json.loads(l) for l in open(sys.argv[1])]
jl = [json.loads(l) for l in open(sys.argv[2])]
alerts = [e for e in jl if e["type"] == "alert"]
assert eve, "no EVE lines"
assert len(eve) == len(alerts), (len(eve), len(alerts))
need = {"timestamp": str, "event_type": str, "src_ip": str, "src_port": int,
        "dest_ip": str, "dest_port": int, "proto": str, "community_id": str,
        "alert": dict}
need_alert = {"action": str, "signature_id": int, "signature": str,
              "category": str, "severity": int, "gid": int, "rev": int}
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$")
for e, a in zip(eve, alerts):
    for k, t in need.items():
        assert isinstance(e.get(k), t), ("field", k, e)
    for k, t in need_alert.items():
        assert isinstance(e["alert"].get(k), t), ("alert field", k, e)
    assert e["event_type"] == "alert"
    assert ts.match(e["timestamp"]), e["timestamp"]
    assert e["alert"]["action"] in ("allowed", "blocked")
    assert 1 <= e["alert"]["severity"] <= 3
    assert e["proto"] in ("TCP", "UDP", "SCTP", "DCCP", "UDPLITE"), e["proto"]
    # the same flow as the portclass alert line, by its Community ID
    assert e["community_id"] == a["community_id"], (e, a)
    assert (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"]) == \
           (a["src"], a["sport"], a["dst"], a["dport"])
    assert e["alert"]["action"] == ("allowed" if a["verdict"] == "pass" else "blocked")
rogue = [e for e in eve if e["alert"]["signature_id"] == 9100001]
assert rogue and all(e["portclass"]["listener"] == "rogue" for e in rogue), "rogue alert"
PY

# the jq one-liner of an EVE pipeline finds them
if command -v jq >/dev/null 2>&1; then
	n=$(jq -c 'select(.event_type=="alert")' "$tmp/eve" | wc -l)
	[ "$n" -eq "$(wc -l <"$tmp/eve")" ] && [ "$n" -gt 0 ] || fail "jq finds $n alerts"
fi

# eve excludes options it cannot express
"$REPLAY" --format eve --events packets -r $D/demo.pcap >/dev/null 2>&1
[ $? -eq 2 ] || fail "--format eve --events packets: want exit 2"
echo ok
