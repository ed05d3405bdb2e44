#!/bin/sh
# portclass-replay --format json and --merge: a capture archive replayed in
# parts adds up to the replay of the whole.  Three captures with no
# connection in common (the demo, a synthetic client network, a crafted
# IPv6 one): the merge of their three summaries equals the summary of one
# run over all three, counter for counter (flows.* aside: expiry and
# eviction follow one table's life, see portclass-replay(1)); the merge is
# associative and commutative; parts replayed under different policies
# refuse to merge; bad input is named.
set -u
: "${BUILD:=build}"
R=$BUILD/portclass-replay
for b in "$R" "$BUILD/tools/gencap" "$BUILD/tools/mkpcap"; do
	[ -x "$b" ] || { echo "skip: $b not built"; exit 77; }
done
command -v python3 >/dev/null 2>&1 || { echo "skip: python3"; exit 77; }
tmp=$(mktemp -d /tmp/pc-merge.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "FAIL: $*"; exit 1; }

"$BUILD/tools/mkpcap" "$tmp" >/dev/null || fail mkpcap
"$BUILD/tools/gencap" -n 20000 -f 2000 -o "$tmp/c.pcap" 2>/dev/null || fail gencap
cp contrib/demo/demo.pcap "$tmp/a.pcap"
cp "$tmp/ipv6.pcap" "$tmp/b.pcap"
P=contrib/default.rules
for p in a b c; do
	"$R" -c $P --format json -r "$tmp/$p.pcap" >"$tmp/$p.json" ||
		fail "replay $p: exit $?"
	[ "$(wc -l <"$tmp/$p.json")" = 1 ] || fail "--format json: not one line"
done
"$R" -c $P --format json -r "$tmp/a.pcap" -r "$tmp/b.pcap" -r "$tmp/c.pcap" \
	>"$tmp/whole.json" || fail "whole"
"$R" --merge "$tmp/a.json" "$tmp/b.json" "$tmp/c.json" >"$tmp/abc.json" ||
	fail "merge: exit $?"
"$R" --merge "$tmp/c.json" "$tmp/a.json" "$tmp/b.json" >"$tmp/cab.json" || fail "merge cab"
"$R" --merge "$tmp/b.json" "$tmp/c.json" >"$tmp/bc.json" || fail "merge bc"
"$R" --merge "$tmp/a.json" "$tmp/bc.json" >"$tmp/a_bc.json" || fail "merge a(bc)"
"$R" --merge "$tmp/a.json" "$tmp/b.json" >"$tmp/ab.json" || fail "merge ab"
"$R" --merge "$tmp/ab.json" - <"$tmp/c.json" >"$tmp/ab_c.json" || fail "merge (ab)c"
# jsonl output holds the same summary on its last line
"$R" -c $P --format jsonl -r "$tmp/c.pcap" >"$tmp/c.jsonl" || fail "jsonl"
"$R" --merge "$tmp/a.json" "$tmp/b.json" "$tmp/c.jsonl" >"$tmp/abcl.json" || fail "merge jsonl"

python3 - "$tmp" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def load(n):
    return json.load(open(f"{t}/{n}.json"))
whole, abc = load("whole"), load("abc")
for part in ("cab", "a_bc", "ab_c", "abcl"):
    if load(part) != abc:
        sys.exit(f"FAIL: merge {part} differs from merge abc")
w = dict(whole); m = dict(abc)
for d in (w, m):
    d.pop("flows")
if w != m:
    for k in sorted(set(w) | set(m)):
        if w.get(k) != m.get(k):
            print("differs:", k, w.get(k), "|", m.get(k))
    sys.exit("FAIL: the merge differs from the whole")
if abc["frames"] != sum(load(p)["frames"] for p in "abc"):
    sys.exit("FAIL: frames do not add up")
if abc["alerts"] == 0 or len(abc["listeners_seen"]) == 0:
    sys.exit("FAIL: nothing to compare (no alerts or listeners)")
PY

# Parts under different policies do not add up.
printf 'dynamic-range 50000-60000\nunexpected drop log\ndefault pass\n' >"$tmp/other.rules"
"$R" -c "$tmp/other.rules" --format json -r "$tmp/b.pcap" >"$tmp/o.json" || fail "other"
"$R" --merge "$tmp/a.json" "$tmp/o.json" >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "different policies merged"
grep -q 'differs' "$tmp/err" || fail "different policies: $(cat "$tmp/err")"
# Not a summary, bad JSON, no file, nothing at all.
printf '{"type":"alert"}\n' >"$tmp/x.json"
"$R" --merge "$tmp/x.json" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q 'not a portclass-replay summary' "$tmp/err" || fail "not a summary: $(cat "$tmp/err")"
printf '{"type":"summary","frames":1,}\n' >"$tmp/y.json"
"$R" --merge "$tmp/y.json" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q 'y.json: 1:' "$tmp/err" || fail "bad json: $(cat "$tmp/err")"
"$R" --merge "$tmp/none.json" >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "missing file"
"$R" --merge >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "no file"
echo ok
