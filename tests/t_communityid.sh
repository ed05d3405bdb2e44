#!/bin/sh
# Community ID v1 against the specification's own baseline (every tuple
# of its test captures, default seed, seed 1 and the hex variant), and in
# the replay's jsonl and EVE events.  Skips when the corpus is absent.
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
CORPUS=${CID_CORPUS:-../shared/corpus/community-id}
TOOL=$BUILD/tools/communityid
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$TOOL" ] || fail "$TOOL not built (make $TOOL)"
if [ ! -d "$CORPUS/baseline" ]; then
	echo "skip: no Community ID corpus at $CORPUS"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for v in deflt:0:b64 seed1:1:b64 nob64:0:nob64; do
	name=${v%%:*} rest=${v#*:}
	seed=${rest%%:*} form=${rest#*:}
	f=$CORPUS/baseline/baseline_$name.json
	[ -r "$f" ] || fail "missing $f"
	python3 - "$f" >"$tmp/$name.in" 2>"$tmp/err" <<'PY' || fail "read $f: $(cat "$tmp/err")"
import json, sys
for e in json.load(open(sys.argv[1])):
    sp = e.get("sport"); dp = e.get("dport")
    print(e["proto"], e["saddr"], e["daddr"],
          "-" if sp is None else sp, "-" if dp is None else dp, e["communityid"])
PY
	cut -d' ' -f1-5 "$tmp/$name.in" | "$TOOL" "$seed" "$form" >"$tmp/$name.got" ||
		fail "tool failed on $name"
	cut -d' ' -f6 "$tmp/$name.in" >"$tmp/$name.want"
	[ -s "$tmp/$name.want" ] || fail "$name: no vectors"
	if ! cmp -s "$tmp/$name.want" "$tmp/$name.got"; then
		paste -d' ' "$tmp/$name.in" "$tmp/$name.got" | awk '$6 != $7' | head -5 >&2
		fail "$name: Community IDs differ from the baseline"
	fi
	n=$((n + $(wc -l <"$tmp/$name.want")))
done

# The same IDs in the replay's events: every jsonl line with a flow has
# one, and the spec's tcp.pcap gives the baseline's IDs.
REPLAY=$BUILD/portclass-replay
if [ -x "$REPLAY" ] && [ -r "$CORPUS/pcaps/tcp.pcap" ]; then
	"$REPLAY" -c contrib/default.rules --format jsonl --events packets \
		-r "$CORPUS/pcaps/tcp.pcap" >"$tmp/tcp.jsonl" 2>"$tmp/err" ||
		fail "replay tcp.pcap: $(cat "$tmp/err")"
	python3 - "$tmp/tcp.jsonl" "$tmp/deflt.in" <<'PY' || fail "replay community_id"
import json, sys
want = set(l.split()[5] for l in open(sys.argv[2]))
got = [json.loads(l) for l in open(sys.argv[1])]
pk = [e for e in got if e.get("type") == "packet"]
assert pk, "no packet lines"
for e in pk:
    assert e.get("community_id") in want, ("unknown id", e.get("community_id"))
PY
fi
echo "ok ($n vectors)"
