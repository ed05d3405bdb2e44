#!/bin/sh
# A tcpdump/Suricata user's habits: -r reads captures (repeatable, "-"),
# trailing words filter, -c names the policy in all three programs, a file
# given as the wrong thing is named for what it is; the same default
# policy everywhere; captures as stored (gzip, xz, zstd, directories);
# the shared conventions (exit statuses, --version, -v, completion).
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/.." || exit 1
PC=$BUILD/portclass
REPLAY=$BUILD/portclass-replay
NFQ=$BUILD/portclass-nfq
D=contrib/demo
fail() { echo "FAIL: $*" >&2; exit 1; }
for b in "$PC" "$REPLAY" "$NFQ"; do [ -x "$b" ] || fail "$b not built"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# nothing installed on this machine may take part
PORTCLASS_SYSCONFDIR=$tmp/no-etc
export PORTCLASS_SYSCONFDIR
unset PORTCLASS_POLICY

# run WANT_RC CMD...: output in $tmp/out, $tmp/err
run() {
	want=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "$*: exit $rc, want $want: $(cat "$tmp/err")"
}
frames() { sed -n 's/^frames: \([0-9]*\),.*/\1/p' "$tmp/out"; }

# ---- 1. tcpdump's habits ---------------------------------------------------
run 0 "$REPLAY" -c $D/demo.rules -r $D/demo.pcap
all=$(frames)
[ "$all" -gt 0 ] || fail "no frames"
run 0 "$REPLAY" -c $D/demo.rules -r $D/demo.pcap -r $D/demo.pcap
[ "$(frames)" -eq $((all * 2)) ] || fail "-r twice: $(frames) frames"
run 0 sh -c "\"$REPLAY\" -c $D/demo.rules -r - <$D/demo.pcap"
[ "$(frames)" -eq "$all" ] || fail "-r -: $(frames) frames"
# trailing words are tcpdump's expression
run 0 "$REPLAY" -c $D/demo.rules -r $D/demo.pcap tcp port 60314
want=$(tcpdump -r $D/demo.pcap -n tcp port 60314 2>/dev/null | wc -l)
grep -q "^filter: tcp port 60314 " "$tmp/out" || fail "filter not reported: $(head -5 "$tmp/out")"
[ "$(grep -c "" "$tmp/out")" -gt 0 ] || fail "empty"
left=$(sed -n 's/^filter: .*(\([0-9]*\) frames left out)/\1/p' "$tmp/out")
[ "$((all - left))" -eq "$want" ] || fail "filter kept $((all - left)), tcpdump $want"
run 2 "$REPLAY" -c $D/demo.rules -f udp -r $D/demo.pcap tcp
grep -q "filter given twice" "$tmp/err" || fail "-f and words: $(cat "$tmp/err")"
# the old long name of the policy option still works
run 0 "$REPLAY" --rules $D/demo.rules -r $D/demo.pcap
run 0 "$NFQ" -n --rules $D/demo.rules
run 0 "$NFQ" -n -c $D/demo.rules
# a capture given as the policy, everywhere
gzip -c $D/demo.pcap >"$tmp/demo.pcap.gz"
for p in $D/demo.pcap "$tmp/demo.pcap.gz"; do
	kind="pcap file"
	case $p in *.gz) kind="gzip-compressed file" ;; esac
	for cmd in "$PC check" "$PC check -c" "$PC explain 1 -c" "$PC listeners -c" \
		"$REPLAY -r $D/demo.pcap -c" "$NFQ -n -c"; do
		# shellcheck disable=SC2086
		$cmd "$p" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 2 ] || fail "$cmd $p: exit $rc"
		grep -q "$p: this is a $kind, not a policy" "$tmp/err" ||
			fail "$cmd $p: $(cat "$tmp/err")"
	done
done
# the old habit: -r RULES CAPTURE
run 2 "$REPLAY" -r $D/demo.rules $D/demo.pcap
grep -q "demo.rules: this is a rules file, not a capture" "$tmp/err" ||
	fail "rules as capture: $(cat "$tmp/err")"
grep -q "Bad\|binary\|unknown file format" "$tmp/err" && fail "parser noise: $(cat "$tmp/err")"

# ---- 2. one policy by default ------------------------------------------------
mkdir -p "$tmp/etc/portclass"
printf 'dynamic-range 50000-50010\nunexpected drop log\ndefault pass\n' \
	>"$tmp/etc/portclass/rules.conf"
# without a site policy: the bundled one (this tree's)
run 0 "$PC" check -v
grep -q "checking .*contrib/default.rules" "$tmp/err" || fail "bundled: $(cat "$tmp/err")"
run 0 "$REPLAY" -r $D/demo.pcap
grep -q "^policy: .*contrib/default.rules" "$tmp/out" || fail "replay bundled: $(head -1 "$tmp/out")"
# with one: the site policy, in every program
export PORTCLASS_SYSCONFDIR="$tmp/etc"
run 0 "$PC" check -v
grep -q "checking $tmp/etc/portclass/rules.conf" "$tmp/err" || fail "site: $(cat "$tmp/err")"
run 0 "$REPLAY" -r $D/demo.pcap
grep -q "^policy: $tmp/etc/portclass/rules.conf" "$tmp/out" || fail "replay site: $(head -1 "$tmp/out")"
"$PC" explain 50005 >"$tmp/out" 2>&1
grep -q "guarded range 50000-50010" "$tmp/out" || fail "explain site: $(cat "$tmp/out")"
run 0 "$NFQ" -n -v
grep -q "policy $tmp/etc/portclass/rules.conf" "$tmp/err" || fail "nfq site: $(cat "$tmp/err")"
# bare check checks it, and fails with it
echo "frobnicate" >>"$tmp/etc/portclass/rules.conf"
run 2 "$PC" check
grep -q "$tmp/etc/portclass/rules.conf:4:1: error" "$tmp/err" || fail "bare check: $(cat "$tmp/err")"
# $PORTCLASS_POLICY beats both
PORTCLASS_POLICY=$D/demo.rules run 0 "$PC" check -v
grep -q "checking $D/demo.rules" "$tmp/err" || fail "PORTCLASS_POLICY: $(cat "$tmp/err")"
export PORTCLASS_SYSCONFDIR="$tmp/no-etc"

# ---- 5. captures as they are stored -----------------------------------------
run 0 "$REPLAY" -c $D/demo.rules --format jsonl --events packets -r $D/demo.pcap
grep -v '"type":"summary"' "$tmp/out" | sed 's/"file":"[^"]*"//' >"$tmp/plain"
xz -c $D/demo.pcap >"$tmp/demo.pcap.xz"
zstd -q -c $D/demo.pcap >"$tmp/demo.pcap.zst"
# a gzip file of two members (as `cat a.gz b.gz` or pigz make): one stream
{ head -c 4000 $D/demo.pcap | gzip -c; tail -c +4001 $D/demo.pcap | gzip -c; } \
	>"$tmp/two-members.gz"
for f in "$tmp/demo.pcap.gz" "$tmp/demo.pcap.xz" "$tmp/demo.pcap.zst"; do
	run 0 "$REPLAY" -c $D/demo.rules --format jsonl --events packets -r "$f"
	grep -v '"type":"summary"' "$tmp/out" | sed 's/"file":"[^"]*"//' | cmp -s - "$tmp/plain" ||
		fail "$f: not the same packets as the plain capture"
done
run 0 sh -c "zstd -q -c $D/demo.pcap | \"$REPLAY\" -c $D/demo.rules -r -"
[ "$(frames)" -eq "$all" ] || fail "zstd on stdin: $(frames) frames"
run 0 "$REPLAY" -c $D/demo.rules -r "$tmp/two-members.gz"
[ "$(frames)" -eq "$all" ] || fail "gzip members: $(frames)"
# a cut compressed file: an error, the frames before it counted
head -c 3000 "$tmp/demo.pcap.gz" >"$tmp/cut.gz"
run 2 "$REPLAY" -c $D/demo.rules -r "$tmp/cut.gz"
grep -q "cut.gz: read error after" "$tmp/err" || fail "cut: $(cat "$tmp/err")"
# a directory: its files in name order
mkdir "$tmp/dir"
cp $D/demo.pcap "$tmp/dir/b.pcap"
cp "$tmp/demo.pcap.xz" "$tmp/dir/a.pcap.xz"
run 0 "$REPLAY" -v -c $D/demo.rules -r "$tmp/dir"
[ "$(frames)" -eq $((all * 2)) ] || fail "directory: $(frames) frames"
[ "$(grep 'reading' "$tmp/err" | sed 's|.*/||' | tr '\n' ' ')" = "a.pcap.xz b.pcap " ] ||
	fail "directory order: $(cat "$tmp/err")"
mkdir "$tmp/empty"
run 2 "$REPLAY" -c $D/demo.rules -r "$tmp/empty"
grep -q "empty: directory holds no files" "$tmp/err" || fail "empty dir: $(cat "$tmp/err")"
# anything else: said clearly
bzip2 -c $D/demo.pcap >"$tmp/demo.pcap.bz2"
run 2 "$REPLAY" -c $D/demo.rules -r "$tmp/demo.pcap.bz2"
grep -q "bzip2-compressed captures are not read" "$tmp/err" || fail "bz2: $(cat "$tmp/err")"
echo "hello" >"$tmp/notes.txt"
run 2 "$REPLAY" -c $D/demo.rules -r "$tmp/notes.txt"
grep -q "notes.txt: this is a text file, not a capture" "$tmp/err" || fail "text: $(cat "$tmp/err")"

# ---- 6. conventions ------------------------------------------------------------
v=$(sed -n 's/^VERSION := //p' Makefile)
for cmd in "$PC --version" "$PC check --version" "$PC listeners --version" \
	"$REPLAY --version" "$NFQ --version"; do
	# shellcheck disable=SC2086
	out=$($cmd) || fail "$cmd: exit $?"
	case $out in *" $v") ;; *) fail "$cmd: $out" ;; esac
done
# the same broken policy: the same status everywhere
printf 'default pass\ndrop tcp to port 70000\n' >"$tmp/bad.rules"
for cmd in "$PC check" "$PC explain 1 -c" "$PC listeners -c" \
	"$REPLAY -r $D/demo.pcap -c" "$NFQ -n -c"; do
	# shellcheck disable=SC2086
	$cmd "$tmp/bad.rules" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "$cmd bad.rules: exit $rc, want 2"
done
# usage errors: 2
for cmd in "$PC frobnicate" "$PC check --bogus" "$PC listeners --bogus" \
	"$REPLAY --bogus" "$NFQ --bogus"; do
	# shellcheck disable=SC2086
	$cmd >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "$cmd: exit $rc, want 2"
done
# -v is accepted by every program
run 0 "$PC" check -v -c $D/demo.rules
run 0 "$REPLAY" -v -c $D/demo.rules -r $D/demo.pcap
grep -q "policy $D/demo.rules" "$tmp/err" || fail "replay -v: $(cat "$tmp/err")"
run 0 "$NFQ" -n -v -c $D/demo.rules
# every man page documents the exit statuses
for m in man/portclass.1 man/portclass-replay.1 man/portclass-nfq.8; do
	grep -q '^\.SH "\?EXIT STATUS' "$m" || fail "$m: no EXIT STATUS"
done
# completion: loads, and completes each program's options
if [ -r /usr/share/bash-completion/bash_completion ] && command -v bash >/dev/null; then
	got=$(bash -c '
		. /usr/share/bash-completion/bash_completion
		. contrib/bash-completion/portclass
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
		      COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		      $(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/"); echo "${COMPREPLY[*]}"; }
		c portclass-replay --form
		c portclass-replay --format ""
		c portclass li
		c portclass listeners --un
		c portclass-nfq --log-for
	' 2>&1)
	[ "$got" = "--format
human jsonl eve
listeners
--unexpected
--log-format" ] || fail "completion: $got"
fi
echo ok
