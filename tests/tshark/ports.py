#!/usr/bin/env python3
"""Per-frame ports: portclass-replay against tshark.

  ports.py ALLOW MERGED_TSV FILELIST

FILELIST: one line per capture, "PATH<TAB>REPLAY_JSONL" in the order the
captures were concatenated (mergecap -a) into the capture tshark read.
MERGED_TSV: tshark -T fields -e frame.number -e frame.time_epoch
-e frame.protocols -e tcp.srcport -e tcp.dstport -e udp.srcport
-e udp.dstport over that concatenation.

A frame is compared when tshark's first TCP or UDP layer sits directly on
the outermost IP header (the ports portclass reads): not the ports quoted
inside an ICMP error, nor those of a tunnelled packet behind a second IP
header.  Every frame where the two disagree is printed; a disagreement
counts as a failure unless ALLOW lists it ("NAME reason" for a whole
capture, "NAME:FRAME reason" for one frame; '#' starts a comment).  Allow
entries that match nothing are reported too (stale entries fail).
"""
import json
import sys

IP = ("ip", "ipv6")
# tshark's names for IPv6 extension headers sit between ipv6 and tcp/udp.
IPV6_EXT = ("ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts",
            "ipv6.shim6", "ah")


def first(v):
    v = v.split(",")[0].strip()
    return int(v) if v else None


def tshark_ports(protos, ts, td, us, ud):
    """(layer, sport, dport) for the outermost transport on the outermost
    IP header, or None when tshark saw no such layer."""
    layers = protos.split(":")
    nip = 0
    prev = None
    for name in layers:
        if name in IP:
            nip += 1
            prev = name
            continue
        if name in IPV6_EXT:
            continue
        if name in ("tcp", "udp"):
            if nip != 1 or prev not in IP:
                return "inner"
            if name == "tcp":
                return ("tcp", first(ts), first(td))
            return ("udp", first(us), first(ud))
        if nip:
            # Something else (icmp, gre, esp, a fragment reassembled
            # elsewhere) follows the outer IP header: its ports, if any
            # further in, are not the outer packet's.
            return None if "tcp" not in layers and "udp" not in layers else "inner"
    return None


def load_allow(path):
    allow = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit("%s: entry without a reason: %s" % (path, key))
            allow[key] = reason.strip()
    return allow


def main():
    allow = load_allow(sys.argv[1])
    used = set()
    rows = []
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (7 - len(parts))
            rows.append(parts)
    files = []
    with open(sys.argv[3]) as f:
        for line in f:
            path, jl = line.rstrip("\n").split("\t")
            files.append((path, jl))

    pos = 0
    compared = bad = allowed = 0
    misaligned = 0
    for path, jl in files:
        name = path.rsplit("/", 1)[-1]
        pkts = []
        with open(jl) as f:
            for line in f:
                o = json.loads(line)
                if o.get("type") == "packet":
                    pkts.append(o)
        for o in pkts:
            if pos >= len(rows):
                print("ALIGN %s: tshark has fewer frames" % name)
                return 1
            r = rows[pos]
            pos += 1
            t = tshark_ports(r[2], r[3], r[4], r[5], r[6])
            if t == "inner":
                continue
            if o["proto"] in ("tcp", "udp") and o["sport"] is not None:
                p = (o["proto"], o["sport"], o["dport"])
            else:
                p = None
            if t is None and p is None:
                continue
            compared += 1
            if t == p:
                continue
            key = "%s:%d" % (name, o["frame"])
            why = allow.get(key) or allow.get(name)
            if why:
                used.add(key if key in allow else name)
                allowed += 1
                tag = "allowed"
            else:
                bad += 1
                tag = "DIFF"
            print("%s %s tshark=%s portclass=%s error=%s protos=%s%s" % (
                tag, key, t, p, o.get("error"), r[2],
                (" (%s)" % why) if why else ""))
    if pos != len(rows):
        print("ALIGN: tshark has %d frames, the replays %d" % (len(rows), pos))
        misaligned = 1
    stale = sorted(set(allow) - used)
    for k in stale:
        print("STALE allow-list entry (nothing to allow): %s" % k)
    print("%d files, %d frames compared, %d disagreements (%d allowed, %d not)"
          % (len(files), compared, bad + allowed, allowed, bad))
    return 1 if bad or misaligned or stale else 0


if __name__ == "__main__":
    sys.exit(main())
