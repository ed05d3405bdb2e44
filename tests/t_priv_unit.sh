#!/bin/sh
# t_priv_unit: the bundled systemd unit, filled in as `make install` does,
# keeps its `systemd-analyze security --offline=true` exposure score at or
# below 1.9 (it was 2.3 before IPAddressDeny=any and
# SystemCallFilter=~@privileged @resources).  Skips where systemd-analyze is
# missing or has no --offline (systemd < 252).
set -u
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: systemd-analyze not installed"; exit 77; }
MAX=1.9
TMP=$(mktemp -d /tmp/pc-unit-sec.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP
U=$TMP/portclass-nfq.service
sed -e 's|@SBINDIR@|/usr/sbin|g' -e 's|@BINDIR@|/usr/bin|g' \
	-e 's|@SYSCONFDIR@|/etc|g' -e 's|@DATADIR@|/usr/share/portclass|g' \
	contrib/portclass-nfq.service.in >"$U"
if ! timeout 60 systemd-analyze security --offline=true --no-pager "$U" >"$TMP/out" 2>&1; then
	if grep -qiE 'unrecognized option|unknown option|offline' "$TMP/out"; then
		echo "skip: systemd-analyze security has no --offline: $(head -n 1 "$TMP/out")"
		exit 77
	fi
	# A score above the threshold also exits non-zero with --threshold
	# only; without it a failure is a real error.
	echo "FAIL: systemd-analyze security: $(tail -n 3 "$TMP/out")"
	exit 1
fi
score=$(sed -n 's/.*Overall exposure level for portclass-nfq.service: \([0-9.]*\).*/\1/p' "$TMP/out")
[ -n "$score" ] || { echo "FAIL: no exposure score in: $(tail -n 3 "$TMP/out")"; exit 1; }
echo "exposure score $score (at most $MAX)"
awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s <= m) }' ||
	{ echo "FAIL: exposure score $score above $MAX"; grep '✗' "$TMP/out"; exit 1; }
echo ok
