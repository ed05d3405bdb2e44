#!/bin/sh
# t_corpus: every capture in ../shared/corpus/tcpdump/ (tcpdump's own test
# captures: hundreds of link types, malformed and truncated files) through
# `portclass-replay -c contrib/default.rules --format jsonl --events
# packets`.  For each file:
#   - exit 0 or 2 (2 only with a message on stderr, and never for a
#     supported link type in a file tcpdump reads cleanly), within 10 s;
#   - no AddressSanitizer, LeakSanitizer or UBSan report;
#   - the stream ends with the "summary" object;
#   - on exit 0, one "packet" line per frame, frames numbered 1..N, and N
#     equal to what tcpdump counts for files tcpdump reads cleanly;
#   - every line is a JSON object (checked at the end with python3, when
#     present).
# Files run two at a time (PC_JOBS); PC_CORPUS points elsewhere.
# Exit 0 pass, 77 skip (no corpus), else fail.
set -eu

: "${BUILD:=build}"
REPLAY=$BUILD/portclass-replay
CORPUS=${PC_CORPUS:-../shared/corpus/tcpdump}
LIMIT=${PC_CORPUS_TIMEOUT:-10}
RULES=$(pwd)/contrib/default.rules
export BUILD REPLAY LIMIT RULES

# one FILE: checks one capture and writes one result line to
# $PC_CORPUS_TMP/res/NAME: "ok|fail RC NAME LINKTYPE DETAIL".
one() {
	f=$1
	b=${f##*/}
	out=$PC_CORPUS_TMP/out/$b.jsonl
	err=$PC_CORPUS_TMP/out/$b.err
	res=$PC_CORPUS_TMP/res/$b
	rc=0
	timeout -k 2 "$LIMIT" "$REPLAY" -c "$RULES" --format jsonl --events packets "$f" \
		>"$out" 2>"$err" </dev/null || rc=$?

	# What tcpdump makes of the file: its link type and, when it reads
	# the whole file without a word beyond "reading from file", its frame
	# count.  (Process start-up dominates here: keep the spawns few.)
	trc=0
	tcnt=$(tcpdump -r "$f" --count 2>"$err.td") || trc=$?
	first= second=
	{ read -r first || :; read -r second || :; } <"$err.td"
	lt=${first#*link-type }
	if [ "$lt" = "$first" ]; then
		lt=unreadable
	else
		lt=${lt%%[ ,]*}
	fi
	if [ "$trc" -eq 0 ] && [ -z "$second" ]; then
		tcnt=${tcnt%% *}
	else
		tcnt=
	fi

	fail() {
		echo "fail $rc $b $lt $*" >"$res"
	}
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "timeout after ${LIMIT}s"
		return 0
	fi
	if [ -s "$err" ] && grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$err"; then
		fail "sanitizer report: $(grep -m 1 'ERROR\|runtime error' "$err")"
		return 0
	fi
	case $rc in
	0) ;;
	2)
		if [ ! -s "$err" ]; then
			fail "exit 2 without a message"
			return 0
		fi
		# A link type the replay takes, in a file tcpdump reads
		# from end to end, is no input error.
		case $lt in
		EN10MB | LINUX_SLL | LINUX_SLL2 | RAW | IPV4 | IPV6 | NULL | LOOP)
			if [ -n "$tcnt" ]; then
				fail "exit 2 on a clean $lt capture: $(head -c 160 "$err")"
				return 0
			fi
			;;
		esac
		;;
	*)
		fail "exit $rc: $(head -c 200 "$err" | tr '\n' ' ')"
		return 0
		;;
	esac
	# One pass over the output: packet lines, their frame numbers in
	# order, the summary last, and the size.
	set -- $(awk '
		/"type":"packet"/ {
			np++
			if (match($0, /"frame":[0-9]+/)) {
				if (substr($0, RSTART + 8, RLENGTH - 8) + 0 != np)
					badframe++
			} else {
				badframe++
			}
		}
		{ last = $0; bytes += length($0) + 1 }
		END {
			printf "%d %d %d %d\n", np, badframe,
				last ~ /"type":"summary"/, bytes
		}' "$out")
	np=$1 badframe=$2 summary=$3 size=$4
	if [ "$summary" -ne 1 ]; then
		fail "stream does not end with the summary object"
		return 0
	fi
	if [ "$rc" -eq 0 ]; then
		if [ "$badframe" -ne 0 ]; then
			fail "frame numbers are not 1..N"
			return 0
		fi
		if [ -n "$tcnt" ] && [ "$np" -ne "$tcnt" ]; then
			fail "$np packet lines, tcpdump counts $tcnt frames"
			return 0
		fi
		echo "ok 0 $b $lt $np packets${tcnt:+ (tcpdump agrees)}" >"$res"
	else
		first=
		read -r first <"$err" || :
		echo "ok 2 $b $lt tcpdump:${tcnt:-unclean} $first" >"$res"
	fi
	# Keep the output for the JSON check only while it is small.
	if [ "$size" -gt 4000000 ]; then
		: >"$out"
	fi
}

if [ "${1:-}" = "--one" ]; then
	shift
	for f in "$@"; do
		one "$f"
	done
	exit 0
fi

if [ ! -d "$CORPUS" ]; then
	echo "skip: corpus $CORPUS absent"
	exit 77
fi
if [ ! -x "$REPLAY" ]; then
	echo "t_corpus: $REPLAY not built" >&2
	exit 1
fi
if ! command -v tcpdump >/dev/null 2>&1; then
	echo "skip: tcpdump not installed (needed to count frames)"
	exit 77
fi

PC_CORPUS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pc-corpus.XXXXXX")
export PC_CORPUS_TMP
trap 'rm -rf "$PC_CORPUS_TMP"' EXIT
trap 'exit 130' INT TERM HUP PIPE
mkdir "$PC_CORPUS_TMP/out" "$PC_CORPUS_TMP/res"
# A private copy: a rebuild during the run must not change the binary
# under test half-way through.
cp "$REPLAY" "$PC_CORPUS_TMP/portclass-replay"
REPLAY=$PC_CORPUS_TMP/portclass-replay
export REPLAY

# ASan: report leaks too, and never hang on a symbolizer.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

find "$CORPUS" -maxdepth 1 -type f -print0 | sort -z |
	xargs -0 -r -n 8 -P "${PC_JOBS:-2}" sh "$0" --one

files=$(find "$CORPUS" -maxdepth 1 -type f | wc -l)
results=$(find "$PC_CORPUS_TMP/res" -type f | wc -l)
cat "$PC_CORPUS_TMP"/res/* >"$PC_CORPUS_TMP/all" 2>/dev/null || :
nfail=$(grep -c '^fail' "$PC_CORPUS_TMP/all" || true)
n0=$(grep -c '^ok 0 ' "$PC_CORPUS_TMP/all" || true)
n2=$(grep -c '^ok 2 ' "$PC_CORPUS_TMP/all" || true)
agree=$(grep -c 'tcpdump agrees' "$PC_CORPUS_TMP/all" || true)

jsonbad=0
if command -v python3 >/dev/null 2>&1; then
	python3 - "$PC_CORPUS_TMP/out" >"$PC_CORPUS_TMP/json" 2>&1 <<'EOF' || jsonbad=1
import json, os, sys
d = sys.argv[1]
bad = 0
for name in sorted(os.listdir(d)):
    if not name.endswith(".jsonl"):
        continue
    with open(os.path.join(d, name), "rb") as f:
        for i, line in enumerate(f, 1):
            try:
                o = json.loads(line)
                if not isinstance(o, dict) or "type" not in o:
                    raise ValueError("not an object with a type")
            except Exception as e:
                print("%s:%d: %s" % (name[:-6], i, e))
                bad += 1
                break
sys.exit(1 if bad else 0)
EOF
fi

grep '^fail' "$PC_CORPUS_TMP/all" | sed 's/^fail /FAIL exit /' || true
if [ "$jsonbad" -ne 0 ]; then
	sed 's/^/FAIL json: /' "$PC_CORPUS_TMP/json" | head -n 20
fi
echo "corpus: $files files, $results checked: $n0 exit 0 ($agree frame counts" \
	"checked against tcpdump), $n2 exit 2, $nfail failed"
# Exit 2 on a file tcpdump reads cleanly means a link type we do not
# take; the rest are truncated or corrupt files.
echo "exit 2 on files tcpdump reads cleanly, by link type:"
grep '^ok 2 ' "$PC_CORPUS_TMP/all" | grep ' tcpdump:[0-9]' |
	awk '{ n[$4]++ } END { for (k in n) printf "  %s: %d\n", k, n[k] }' |
	sort || true
echo "exit 2 on files tcpdump does not read cleanly:" \
	"$(grep '^ok 2 ' "$PC_CORPUS_TMP/all" | grep -c ' tcpdump:unclean' || true)"
if [ "$nfail" -ne 0 ] || [ "$jsonbad" -ne 0 ] || [ "$results" -ne "$files" ]; then
	echo "t_corpus: $nfail failed, json ok: $((1 - jsonbad)), $results/$files checked"
	exit 1
fi
echo "ok"
