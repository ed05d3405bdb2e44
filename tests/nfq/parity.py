#!/usr/bin/env python3
"""Compares the live daemon's verdicts with portclass-replay's.

  parity.py LIVE_LOG REPLAY_PACKETS_JSONL REPLAY_ALERTS_JSONL

A connection attempt is keyed by (proto, src, sport, dst, dport).  Live: the
daemon logs every alert, drop and reject; an attempt it did not log was
passed.  Offline: every "new" packet of the replay with its verdict.  Every
attempt the capture holds must have the same verdict in both, and the
replay's alerts (with their listener and pid) must be the daemon's.  Prints
one line per attempt and exits 1 on any difference.
"""
import json
import sys


def key(o):
    return (o["proto"], o["src"], o["sport"], o["dst"], o["dport"])


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    live_lines = load(sys.argv[1])
    packets = load(sys.argv[2])
    alerts = load(sys.argv[3])

    live = {}
    live_alerts = {}
    for o in live_lines:
        if o.get("type") in ("alert", "drop", "reject", "log") and o.get("new"):
            live[key(o)] = o["verdict"]
            if o["type"] == "alert":
                live_alerts[key(o)] = (o["listener"], o["pid"])

    # Offline, the daemon's part: a packet the kernel would not queue
    # (outside the selector, not NEW, conntrack INVALID) is one the daemon
    # never saw, so it says nothing: "pass" in the daemon's log terms.
    # Such packets are attempts too when they open something (an SCTP
    # INIT outside the selector) or are INVALID (SYN+FIN).
    offline = {}
    for o in packets:
        if o.get("type") != "packet" or o.get("dir") != "in":
            continue
        invalid = o.get("reason") == "conntrack-invalid"
        if not o.get("new") and not invalid:
            continue
        if o["proto"] not in ("tcp", "udp", "sctp") or o.get("sport") is None:
            continue
        queued = o.get("queue", "queued") == "queued"
        v = o["verdict"] if queued else "pass"
        k = key(o)
        if k in offline and offline[k] != v:
            print("offline verdict changes within one attempt:", k)
            return 1
        offline[k] = v

    off_alerts = {}
    for o in alerts:
        # The replay also lists logged rule matches; alerts proper are
        # the unexpected-listener ones.
        if o.get("type") == "alert" and o.get("reason") in ("unexpected", "undetermined"):
            off_alerts[key(o)] = (o.get("listener"), o.get("pid"))

    bad = 0
    for k in sorted(offline, key=str):
        lv = live.get(k, "pass")
        ov = offline[k]
        flag = "same" if lv == ov else "DIFF"
        if lv != ov:
            bad += 1
        print("%s %s live=%s offline=%s" % (flag, "%s %s:%s -> %s:%s" % k, lv, ov))
    for k in live:
        if k not in offline:
            print("MISSING from the capture: %s %s:%s -> %s:%s" % k)
            bad += 1
    for k in set(live_alerts) | set(off_alerts):
        if live_alerts.get(k) != off_alerts.get(k):
            print("ALERT DIFF %s: live=%s offline=%s" % (k, live_alerts.get(k), off_alerts.get(k)))
            bad += 1
    print("%d attempts, %d live alerts, %d differences" % (len(offline), len(live_alerts), bad))
    if len(offline) == 0:
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
