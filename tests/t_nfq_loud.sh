#!/bin/sh
# t_nfq_loud: the daemon's failures are loud and its events SIEM-ready.
# --syslog with no syslog socket refuses to start (exit 2, a clear
# message); a stats file it can no longer write is marked stale, not left
# with old values; nothing is inheritable whatever the start path; with
# --log-format eve, alerts are Suricata EVE alert objects with the same
# community_id the replay computes.
set -u
. tests/nfq/lib.sh
nfq_init loud
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"

# ---- --syslog without a socket: a private /dev with only null ---------------
if command -v unshare >/dev/null 2>&1; then
	mkdir "$TMP/dev"
	: >"$TMP/dev/null"
	rc=0
	timeout 10 ip netns exec "$NS" unshare -m sh -c '
		mount --make-rprivate / &&
		mount --bind /dev/null "$1/dev/null" &&
		mount --bind "$1/dev" /dev &&
		shift && exec "$@"' sh "$TMP" "$NFQ" -c "$TMP/rules" -q 0 --syslog \
		>"$TMP/o" 2>"$TMP/e" || rc=$?
	[ "$rc" -eq 2 ] || fail "--syslog without socket: exit $rc: $(cat "$TMP/e")"
	grep -q "syslog: no syslog socket at /dev/log" "$TMP/e" ||
		fail "--syslog message: $(cat "$TMP/e")"
	[ -s "$TMP/o" ] && fail "--syslog without socket wrote events: $(cat "$TMP/o")"
else
	echo "note: no unshare; --syslog failure not checked"
fi

# ---- a stats file the daemon cannot write any more --------------------------
nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
server tcp 0.0.0.0 60314 rogue
mkdir "$TMP/st"
chown nobody "$TMP/st"
nfq_start -c "$TMP/rules" -q 0 --user nobody --stats-file "$TMP/st/s.prom" \
	--stats-interval 1 --log-format eve
wait_for "$TMP/st/s.prom" '^portclass_' 5 || fail "no stats file"
grep -q portclass_stats_stale "$TMP/st/s.prom" && fail "stale before anything failed"

# ---- EVE alerts from the daemon ---------------------------------------------
expect_client refused tcp 127.0.0.1 60314 3
wait_for "$LOG" '"event_type":"alert"' 5 || fail "no EVE alert: $(cat "$LOG")"
grep '"event_type":"alert"' "$LOG" >"$TMP/eve"
$PY - "$TMP/eve" <<'PY' || fail "EVE shape: $(cat "$TMP/eve")"
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k, t in (("timestamp", str), ("src_ip", str), ("src_port", int),
                 ("dest_ip", str), ("dest_port", int), ("proto", str),
                 ("community_id", str), ("alert", dict)):
        assert isinstance(e.get(k), t), (k, e)
    for k, t in (("action", str), ("signature_id", int), ("signature", str),
                 ("category", str), ("severity", int)):
        assert isinstance(e["alert"].get(k), t), (k, e)
    assert re.match(r"^1:[A-Za-z0-9+/]{27}=$", e["community_id"]), e
    assert e["dest_port"] == 60314 and e["proto"] == "TCP", e
    assert e["alert"]["action"] == "blocked", e
    assert e["alert"]["signature_id"] == 9100001, e
    assert e["portclass"]["listener"] == "rogue", e
PY
# the daemon and the replay name the flow alike (the spec's vectors check
# the hash itself: t_communityid.sh)
TOOLS=$BUILD/tools
if [ -x "$TOOLS/communityid" ]; then
	read -r sip sport dip dport cid <<EOT
$($PY -c 'import json,sys; e=json.loads(open(sys.argv[1]).readline()); print(e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"], e["community_id"])' "$TMP/eve")
EOT
	got=$(echo "6 $sip $dip $sport $dport" | "$TOOLS/communityid")
	[ "$got" = "$cid" ] || fail "community_id $cid, want $got"
fi

# now the directory refuses: the old numbers must not stay
chmod 555 "$TMP/st"
i=0
until grep -qx 'portclass_stats_stale 1' "$TMP/st/s.prom" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 50 ] || fail "stats not marked stale: $(head -5 "$TMP/st/s.prom")"
	sleep 0.1
done
grep -v '^#' "$TMP/st/s.prom" | grep -vx 'portclass_stats_stale 1' | grep -q . &&
	fail "old values left: $(cat "$TMP/st/s.prom")"
grep -q "cannot write $TMP/st/s.prom" "$ERR" || fail "not logged: $(cat "$ERR")"
# no inheritable or ambient capabilities (root start, then --user)
for f in CapInh CapAmb; do
	v=$(awk -v f="$f:" '$1 == f { print $2 }' /proc/$DAEMON/status)
	[ "$v" = 0000000000000000 ] || fail "$f $v"
done
nfq_stop
[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC"
chmod 755 "$TMP/st"

# a root start that hands down inheritable capabilities
if command -v setpriv >/dev/null 2>&1; then
	: >"$LOG"; : >"$ERR"
	ip netns exec "$NS" setpriv --inh-caps=+net_admin,+sys_ptrace \
		"$NFQ" -c "$TMP/rules" -q 0 >"$LOG" 2>"$ERR" &
	DAEMON=$!
	wait_for "$LOG" '"type":"start"' 10 || fail "setpriv start: $(cat "$ERR")"
	v=$(awk '$1 == "CapInh:" { print $2 }' /proc/$DAEMON/status)
	[ "$v" = 0000000000000000 ] || fail "inheritable kept: CapInh $v"
	nfq_stop
	[ "$NFQ_RC" = 0 ] || fail "exit status $NFQ_RC (setpriv start)"
fi
echo ok
