#!/bin/sh
# t_nfq_ratelimit: --log-rate N caps the event lines; what was held back
# is reported in "suppressed" lines, and the alerts written plus the
# suppressed counts add up to exactly the connection attempts made.
set -u
. tests/nfq/lib.sh
nfq_init ratelimit

nsx contrib/iptables-setup.sh -q 0 || fail "iptables-setup.sh"
printf 'loopback inbound\nunexpected reject log\ndefault pass\n' >"$TMP/rules"
nfq_start -c "$TMP/rules" -q 0 --log-rate 2 --log-burst 3

got=$(timeout 30 ip netns exec "$NS" $PY "$PCPY" tcp-burst 127.0.0.1 61000 20 2)
[ "$got" = "refused=20" ] || fail "burst: $got"
# One more after the bucket refilled flushes the suppressed count.
sleep 1.5
expect_client refused tcp 127.0.0.1 62000 2
wait_for "$LOG" '"type":"suppressed"' 5 || fail "no suppressed line"
kill -USR1 "$DAEMON"
wait_for "$LOG" '"type":"counters"' 5 || fail "no counters"
res=$($PY - "$LOG" <<'PY'
import json, sys
alerts = supp = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "alert":
        alerts += 1
    elif o["type"] == "suppressed":
        supp += o["count"]
    elif o["type"] == "counters":
        counted = o["log_suppressed"]
print(alerts, supp, counted)
PY
) || fail "log is not JSON lines"
set -- $res
[ "$1" -lt 21 ] || fail "nothing was suppressed ($1 alerts)"
[ $(($1 + $2)) -eq 21 ] || fail "alerts $1 + suppressed $2 != 21"
[ "$2" -eq "$3" ] || fail "suppressed lines say $2, counters say $3"
nfq_stop
echo ok
