#!/bin/sh
# portclass-replay end to end: the golden cases of tests/replay/TESTLIST
# over captures crafted by build/tools/mkpcap, then the checks a golden
# file cannot express (files written by --write-*, re-read).
#
# REGEN=1 rewrites the golden files instead of comparing (then read every
# changed one before committing it).
set -u
: "${BUILD:=build}"
ROOT=$(pwd)
REPLAY=$ROOT/$BUILD/portclass-replay
MKPCAP=$ROOT/$BUILD/tools/mkpcap
for b in "$REPLAY" "$MKPCAP"; do
	if [ ! -x "$b" ]; then
		echo "skip: $b not built (make $BUILD/portclass-replay $BUILD/tools/mkpcap)"
		exit 77
	fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$MKPCAP" "$tmp" || { echo "mkpcap failed"; exit 1; }
# Cases run inside $tmp so that capture and rules names in the output are
# the short relative ones the golden files hold.
ln -s "$ROOT/tests/replay" "$tmp/replay"

pass=0 fail=0

# A sanitizer report anywhere is a failure, whatever the exit status.
sanitizer_hit() {
	grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' \
		-e 'UndefinedBehaviorSanitizer' "$1"
}

run_case() {
	name=$1 caps=$2 rules=$3 opts=$4 want=$5
	args="" stdin=/dev/null
	for c in $caps; do
		case $c in
		"<"*) stdin=${c#<}; args="$args -r -"; ;;
		*) args="$args -r $c" ;;
		esac
	done
	[ "$rules" = "-" ] || opts="-c $rules $opts"
	(cd "$tmp" && eval "\"\$REPLAY\" $opts $args" <"$stdin" \
		>"$tmp/out" 2>"$tmp/err")
	rc=$?
	{
		cat "$tmp/out"
		if [ -s "$tmp/err" ]; then
			echo "--- stderr"
			cat "$tmp/err"
		fi
	} >"$tmp/got"
	golden=$ROOT/tests/replay/$name.out
	if [ "${REGEN:-0}" = 1 ]; then
		cp "$tmp/got" "$golden"
	fi
	if sanitizer_hit "$tmp/err"; then
		echo "FAIL $name: sanitizer report"
		cat "$tmp/err"
		fail=$((fail + 1))
	elif [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"
		cat "$tmp/got"
		fail=$((fail + 1))
	elif ! diff -u "$golden" "$tmp/got"; then
		echo "FAIL $name: output differs from tests/replay/$name.out"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

while IFS=';' read -r name caps rules opts want; do
	case $name in '#'* | '') continue ;; esac
	run_case "$name" "$caps" "$rules" "$opts" "$want"
done <"$ROOT/tests/replay/TESTLIST"

check() {
	if [ "$1" = "$2" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL $3: got '$1', expected '$2'"
		fail=$((fail + 1))
	fi
}

# frames in a capture, as portclass-replay itself counts them
frames_of() {
	"$REPLAY" -c "$ROOT/tests/replay/pass.rules" --format jsonl "$1" 2>&1 |
		sed -n 's/.*"type":"summary".*"frames":\([0-9]*\),"bytes".*/\1/p'
}

# --write-passed/--write-dropped: 7 of eth.pcap's 17 IP packets are
# dropped (6 by the policy - the SCTP INIT is in the default queue
# selector - and 1 with a bad IHL by the kernel's IP layer); its 2 non-IP
# frames and its lone fragment, held for a datagram that never completes,
# have no verdict and go to neither file.
(cd "$tmp" && "$REPLAY" -c replay/basic.rules --write-passed passed.pcap \
	--write-dropped dropped.pcap eth.pcap >/dev/null 2>"$tmp/err")
check "$?" 0 "write: exit status"
sanitizer_hit "$tmp/err" && check sanitizer none "write: sanitizer"
check "$(frames_of "$tmp/passed.pcap")" 9 "write-passed: frames"
check "$(frames_of "$tmp/dropped.pcap")" 7 "write-dropped: frames"
# The written files keep the link type and the nanosecond stamps, and
# the dropped file replays as all drops under the same policy.
out=$("$REPLAY" -c "$ROOT/tests/replay/basic.rules" --format jsonl \
	--events packets "$tmp/dropped.pcap" 2>&1)
check "$(printf '%s\n' "$out" | grep -c '"type":"packet".*"verdict":"drop"')" 7 \
	"write-dropped: all drops on replay"
check "$(printf '%s\n' "$out" | sed -n '1s/.*"ts":"\([^"]*\)".*/\1/p')" \
	"2026-11-27T13:00:00.373456Z" "write-dropped: first stamp"
if command -v tcpdump >/dev/null 2>&1; then
	check "$(tcpdump -nr "$tmp/passed.pcap" 2>/dev/null | wc -l | tr -d ' ')" 9 \
		"write-passed: tcpdump reads it"
	check "$(tcpdump -nr "$tmp/dropped.pcap" 2>/dev/null | wc -l | tr -d ' ')" 7 \
		"write-dropped: tcpdump reads it"
fi
# A second capture of another link type cannot go into the same pcap.
(cd "$tmp" && "$REPLAY" -c replay/basic.rules --write-passed p2.pcap \
	eth.pcap sll.pcap >/dev/null 2>"$tmp/err")
check "$?" 2 "write: mixed link types exit status"
check "$(grep -c 'differs from EN10MB' "$tmp/err")" 1 "write: mixed link types message"
check "$(frames_of "$tmp/p2.pcap")" 9 "write: mixed link types, first file only"

# Output that cannot be written is an error (exit 2), named once.
(cd "$tmp" && "$REPLAY" -c replay/basic.rules --write-passed no-dir/x.pcap \
	eth.pcap >/dev/null 2>"$tmp/err")
check "$?" 2 "write: cannot create"
check "$(cat "$tmp/err")" "portclass-replay: no-dir/x.pcap: No such file or directory" \
	"write: cannot create message"
if [ -w /dev/full ]; then
	(cd "$tmp" && "$REPLAY" -c replay/basic.rules --write-dropped /dev/full \
		eth.pcap >/dev/null 2>"$tmp/err")
	check "$?" 2 "write: device full"
	(cd "$tmp" && "$REPLAY" -c replay/basic.rules eth.pcap >/dev/full 2>"$tmp/err")
	check "$?" 2 "stdout: device full"
	check "$(cat "$tmp/err")" "portclass-replay: standard output: No space left on device" \
		"stdout: device full message"
fi

# Nothing goes to stdout but the report: jsonl lines all parse as objects.
(cd "$tmp" && "$REPLAY" -c replay/basic.rules --format jsonl --events packets \
	eth.pcap vlan.pcap sll2.pcap >"$tmp/out" 2>"$tmp/err")
check "$(grep -vc '^{.*}$' "$tmp/out")" 0 "jsonl: one object per line"
check "$(grep -c '"type":"summary"' "$tmp/out")" 1 "jsonl: one summary"
check "$(tail -n 1 "$tmp/out" | grep -c '"type":"summary"')" 1 "jsonl: summary last"
# frames restart at 1 in each file
check "$(grep -c '"frame":1,' "$tmp/out")" 3 "jsonl: frame numbers per file"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$tmp/out"
	check "$?" 0 "jsonl: valid JSON"
fi

# The progress line: on stderr only when it is a terminal, drawn when a
# run takes a while (here a pipe that stalls), erased at the end.
{
	cat "$tmp/eth.pcap"
	i=0
	while [ $i -lt 500 ]; do tail -c +25 "$tmp/eth.pcap"; i=$((i + 1)); done
} >"$tmp/big.pcap"
cat >"$tmp/slow.sh" <<EOS
{ head -c 20000 "$tmp/big.pcap"; sleep 0.6; tail -c +20001 "$tmp/big.pcap"; } |
	"$REPLAY" -c "$ROOT/tests/replay/basic.rules" - >/dev/null
EOS
sh "$tmp/slow.sh" 2>"$tmp/err"
check "$(wc -c <"$tmp/err" | tr -d ' ')" 0 "progress: nothing when stderr is not a terminal"
if command -v script >/dev/null 2>&1; then
	script -qec "sh $tmp/slow.sh" /dev/null >"$tmp/tty" 2>&1
	check "$(tr '\r' '\n' <"$tmp/tty" | grep -c '^-: [0-9]* packets, [0-9]* packets/s' |
		awk '{ print ($1 >= 1) }')" 1 \
		"progress: drawn on a terminal"
	check "$(tail -c 4 "$tmp/tty" | od -An -c | tr -d ' ')" '\r033[K' \
		"progress: erased at the end"
fi

# Damaged captures (mkpcap's mutants): exit 0 or 2, never a crash, a hang
# or a sanitizer report, and the jsonl stream still ends with its summary.
bad=0 n=0
for m in "$tmp"/mutant*; do
	n=$((n + 1))
	timeout 20 "$REPLAY" -c "$ROOT/tests/replay/basic.rules" --format jsonl \
		--events packets "$m" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if { [ "$rc" != 0 ] && [ "$rc" != 2 ]; } || sanitizer_hit "$tmp/err" ||
	    ! tail -n 1 "$tmp/out" | grep -q '^{"type":"summary"'; then
		echo "FAIL mutant $(basename "$m"): exit $rc"
		head -n 20 "$tmp/err"
		bad=$((bad + 1))
	fi
done
check "$bad" 0 "mutants: $n damaged captures"

# --help and --version exit 0 and print to stdout
"$REPLAY" --help >"$tmp/out" 2>&1
check "$?" 0 "--help exit"
check "$(grep -c -e '--write-dropped' "$tmp/out")" 1 "--help lists options"
check "$("$REPLAY" --version)" "portclass-replay $(sed -n 's/^VERSION := //p' "$ROOT/Makefile")" "--version"

# Without -c the bundled policy is used (from the source tree here; an
# installed site policy must not shadow it).
if [ -f "$ROOT/contrib/default.rules" ]; then
	(cd "$tmp" && PORTCLASS_SYSCONFDIR=$tmp/no-etc PORTCLASS_POLICY= "$REPLAY" eth.pcap >"$tmp/out" 2>"$tmp/err")
	rc=$?
	case $rc in 0 | 1) check ok ok "default policy" ;; *) check "$rc" "0" "default policy exit" ;; esac
	check "$(sed -n '1s/^policy: .*contrib\/default.rules .*/yes/p' "$tmp/out")" yes \
		"default policy named"
fi

echo "replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
