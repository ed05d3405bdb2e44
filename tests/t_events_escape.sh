#!/bin/sh
# t_events_escape: `portclass-replay --format jsonl --events packets` with a
# capture and a rules file whose names hold a quote, a backslash, a
# newline, a tab, a control byte, valid UTF-8 and bytes that are not
# UTF-8.  Every line must be one JSON object (no name can break a line or
# a string), "file" and "rule" must decode to the names (a byte that is
# not UTF-8 as the code point of the same value, as the writer promises),
# and the frames must be those of the same capture under a plain name.
set -u
: "${BUILD:=build}"
ROOT=$(pwd)
REPLAY=$ROOT/$BUILD/portclass-replay
MKPCAP=$ROOT/$BUILD/tools/mkpcap
for b in "$REPLAY" "$MKPCAP"; do
	[ -x "$b" ] || { echo "skip: $b not built"; exit 77; }
done
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$MKPCAP" "$tmp" >/dev/null || { echo "FAIL: mkpcap"; exit 1; }

# the odd names, made by python so every byte is exact
python3 - "$tmp" "$ROOT/tests/replay/basic.rules" <<'PY' || { echo "FAIL: setup"; exit 1; }
import os, shutil, sys
d = sys.argv[1]
odd = b'a"b\\c\nd\te\x01f\xc3\xa9g\xffh\xc3'
os.symlink(os.path.join(d, "eth.pcap").encode(), os.path.join(d.encode(), b"cap-" + odd + b".pcap"))
shutil.copy(sys.argv[2], os.path.join(d.encode(), b"rules-" + odd))
PY

cd "$tmp" || exit 1
"$REPLAY" -c "rules-$(printf 'a"b\\c\nd\te\001f\303\251g\377h\303')" --format jsonl \
	--events packets -r "cap-$(printf 'a"b\\c\nd\te\001f\303\251g\377h\303').pcap" \
	>odd.jsonl 2>odd.err
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: exit $rc"; cat odd.err; exit 1; }
"$REPLAY" -c "$ROOT/tests/replay/basic.rules" --format jsonl --events packets \
	-r eth.pcap >plain.jsonl 2>plain.err || { echo "FAIL: plain run"; exit 1; }

python3 - odd.jsonl plain.jsonl <<'PY'
import json, sys
odd = 'a"b\\c\nd\te\x01f\u00e9g\u00ffh\u00c3'
want_file = "cap-" + odd + ".pcap"
want_rule = "rules-" + odd
raw = open(sys.argv[1], "rb").read()
lines = raw.split(b"\n")
assert lines[-1] == b"", "output does not end with a newline"
objs = []
for i, l in enumerate(lines[:-1]):
    # one object per line: a newline in a name would split one
    o = json.loads(l.decode("utf-8"))
    assert isinstance(o, dict), "line %d is not an object" % (i + 1)
    objs.append(o)
plain = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
pk = [o for o in objs if o["type"] == "packet"]
pp = [o for o in plain if o["type"] == "packet"]
assert len(pk) == len(pp) and len(pk) > 0, "packet lines: %d vs %d" % (len(pk), len(pp))
rules = 0
for a, b in zip(pk, pp):
    assert a["file"] == want_file, "file %r" % a["file"]
    for k in b:
        if k in ("file", "rule"):
            continue
        assert a[k] == b[k], "frame %s: %s %r vs %r" % (a["frame"], k, a[k], b[k])
    if b["rule"] and ":" in b["rule"]:
        line = b["rule"].rsplit(":", 1)[1]
        assert a["rule"] == want_rule + ":" + line, "rule %r" % a["rule"]
        rules += 1
    else:
        assert a["rule"] == b["rule"]
assert rules > 0, "no packet matched a rule of the file"
print("ok (%d packet lines, %d naming a rule)" % (len(pk), rules))
PY
