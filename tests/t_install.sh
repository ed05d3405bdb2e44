#!/bin/sh
# make install / uninstall into a staging DESTDIR: every file where the
# README says, placeholders filled, the site policy never overwritten.
set -eu
: "${BUILD:=build}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

san=""
[ "$BUILD" = build-san ] && san="SANITIZE=1"
# shellcheck disable=SC2086
make -s install DESTDIR="$tmp" $san >/dev/null
P=$tmp/usr/local
for f in bin/portclass bin/portclass-replay sbin/portclass-nfq \
	share/man/man1/portclass.1 share/man/man1/portclass-replay.1 \
	share/man/man5/portclass.rules.5 share/man/man8/portclass-nfq.8 \
	share/portclass/default.rules share/portclass/portclass.nft \
	share/portclass/iptables-setup.sh share/portclass/iptables-teardown.sh \
	lib/systemd/system/portclass-nfq.service; do
	[ -s "$P/$f" ] || fail "missing $f"
done
[ -x "$P/sbin/portclass-nfq" ] || fail "portclass-nfq not executable"
# bash completion for all three programs, where bash-completion looks
for c in portclass portclass-replay portclass-nfq; do
	[ -e "$P/share/bash-completion/completions/$c" ] || fail "no completion for $c"
	grep -q "complete -F _[a-z_]* $c\$" "$P/share/bash-completion/completions/$c" ||
		fail "completion file for $c does not complete it"
done
# Each program links only what it uses: netfilter_queue and seccomp are
# the daemon's alone.  (Read from the link commands: a linker that drops
# unused libraries would hide it from ldd.)
# shellcheck disable=SC2086
links=$(make -s -n -B V=1 $san "$BUILD/portclass" "$BUILD/portclass-replay" "$BUILD/portclass-nfq" |
	grep -E -- "-o $BUILD/portclass(-replay|-nfq)? ")
for p in portclass portclass-replay; do
	printf '%s\n' "$links" | grep -E -- "-o $BUILD/$p " | grep -Eq 'netfilter_queue|seccomp|nfnetlink' &&
		fail "$p is linked with $(printf '%s\n' "$links" | grep -E -- "-o $BUILD/$p ")"
done
printf '%s\n' "$links" | grep -E -- "-o $BUILD/portclass-nfq " | grep -q netfilter_queue ||
	fail "no link command for portclass-nfq with netfilter_queue: $links"
ls "$P"/share/portclass/examples/*.rules >/dev/null || fail "examples"
unit=$P/lib/systemd/system/portclass-nfq.service
grep -q "@[A-Z]*DIR@" "$unit" && fail "placeholder left in the unit"
grep -q "^ExecStart=/usr/local/sbin/portclass-nfq " "$unit" || fail "ExecStart path"
grep -q "^ExecStartPre=/usr/local/bin/portclass check /etc/portclass/rules.conf" "$unit" ||
	fail "ExecStartPre"

# The installed tools work on the installed policy.
"$P/bin/portclass" check "$tmp/etc/portclass/rules.conf" | grep -qx "configuration OK" ||
	fail "installed rules.conf does not check"
"$P/bin/portclass-replay" --version >/dev/null || fail "replay --version"
"$P/sbin/portclass-nfq" --version >/dev/null || fail "nfq --version"

# A site policy survives a second install.
echo "default drop" > "$tmp/etc/portclass/rules.conf"
# shellcheck disable=SC2086
make -s install DESTDIR="$tmp" $san >/dev/null
grep -qx "default drop" "$tmp/etc/portclass/rules.conf" || fail "rules.conf overwritten"

# Man pages format without warnings.
if command -v groff >/dev/null; then
	for m in man/*.[158]; do
		w=$(groff -man -ww -z "$m" 2>&1) || fail "groff $m"
		[ -z "$w" ] || fail "groff warnings in $m: $w"
	done
fi

# shellcheck disable=SC2086
make -s uninstall DESTDIR="$tmp" $san >/dev/null
left=$(find "$P" -type f | wc -l)
[ "$left" -eq 0 ] || fail "uninstall left $left files: $(find "$P" -type f)"
[ ! -d "$P/share/portclass" ] || fail "uninstall left an empty $P/share/portclass"

# uninstall removes what install put there and nothing else: a folder
# shared with other files (DATADIR overridden) keeps them.
# (Installed into place by hand: `make install DATADIR=...` would rebuild
# the programs with that path compiled in.)
shared="$tmp/shared"
mkdir -p "$shared/examples"
cp contrib/default.rules contrib/portclass.nft contrib/iptables-setup.sh \
	contrib/iptables-teardown.sh "$shared/"
cp contrib/examples/*.rules "$shared/examples/"
echo keep >"$shared/mine.txt"
echo keep >"$shared/examples/mine.rules"
# shellcheck disable=SC2086
make -s uninstall DESTDIR="$tmp" DATADIR=/shared $san >/dev/null
[ -f "$shared/mine.txt" ] && [ -f "$shared/examples/mine.rules" ] ||
	fail "uninstall removed files it did not install"
left=$(find "$shared" -type f | wc -l)
[ "$left" -eq 2 ] || fail "uninstall left $(find "$shared" -type f)"
echo ok
