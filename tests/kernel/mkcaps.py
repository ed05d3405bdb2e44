#!/usr/bin/env python3
"""Writes the captures tests/t_replay_kernel.sh replays (scapy).

  mkcaps.py DIR

Server 192.0.2.10 / 2001:db8:1::10, clients 198.51.100.x / 2001:db8::x.
Every capture is Ethernet, timestamps from 1000 s on.
"""
import sys

from scapy.all import (IP, IPv6, TCP, UDP, Ether, IPv6ExtHdrFragment, Raw,
                       SCTP, SCTPChunkInit, fragment, fragment6, wrpcap)

D = sys.argv[1]
S4, S6 = "192.0.2.10", "2001:db8:1::10"
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def write(name, pkts, t0=1000.0, step=0.01):
    out = []
    for i, p in enumerate(pkts):
        p = E / p if not isinstance(p, Ether) else p
        p.time = t0 + i * step
        out.append(p)
    wrpcap("%s/%s" % (D, name), out)


# 1. Fragmented UDP, v4 and v6, 3000 bytes to a filter-passed port.
u4 = IP(src="198.51.100.7", dst=S4, id=4242) / UDP(sport=40000, dport=60600) / Raw(b"x" * 3000)
u6 = IPv6(src="2001:db8::7", dst=S6) / IPv6ExtHdrFragment(id=777) / UDP(sport=40001, dport=60600) / Raw(b"y" * 3000)
write("frag.pcap", fragment(u4, fragsize=1480) + fragment6(u6, 1280))

# 2. nmap -f: a SYN in 8-byte fragments.
syn = IP(src="198.51.100.8", dst=S4, id=99) / TCP(sport=45000, dport=60314, flags="S", seq=1)
write("tiny.pcap", fragment(syn, fragsize=8))

# 3. ACK scan (pickup), SYN+FIN, null, Xmas; SCTP INIT; a normal SYN.
write("flags.pcap", [
    IP(src="198.51.100.9", dst=S4) / TCP(sport=46000, dport=60315, flags="A", ack=5),
    IP(dst="198.51.100.9", src=S4) / TCP(dport=46000, sport=60315, flags="R", seq=5),
    IP(src="198.51.100.9", dst=S4) / TCP(sport=46001, dport=60316, flags="SF"),
    IP(src="198.51.100.9", dst=S4) / TCP(sport=46002, dport=60316, flags=""),
    IP(src="198.51.100.9", dst=S4) / TCP(sport=46003, dport=60316, flags="FPU"),
    IP(src="198.51.100.9", dst=S4) / SCTP(sport=46004, dport=60317) / SCTPChunkInit(),
    IP(src="198.51.100.9", dst=S4) / TCP(sport=46005, dport=60318, flags="S"),
])

# 4. Overlapping fragments: the datagram is discarded, never decided.
o = IP(src="198.51.100.10", dst=S4, id=555) / UDP(sport=47000, dport=60600) / Raw(b"z" * 40)
raw = bytes(o[UDP])
f1 = IP(src="198.51.100.10", dst=S4, id=555, proto=17, flags="MF", frag=0) / Raw(raw[:24])
f2 = IP(src="198.51.100.10", dst=S4, id=555, proto=17, frag=2) / Raw(raw[16:])
write("overlap.pcap", [f1, f2])

# 5. Late packets of an evicted connection (replay with --max-flows 1).
c1 = IP(src="198.51.100.11", dst=S4) / TCP(sport=48000, dport=60319, flags="S")
write("evict.pcap", [
    c1,
    IP(dst="198.51.100.11", src=S4) / TCP(dport=48000, sport=60319, flags="SA"),
    IP(src="198.51.100.12", dst=S4) / TCP(sport=48001, dport=60320, flags="S"),
    IP(src="198.51.100.11", dst=S4) / TCP(sport=48000, dport=60319, flags="A"),
])

# 6. Two SYNs and a UDP datagram, to be cut at 40 bytes (editcap -s 40).
write("cut.pcap", [
    IP(src="198.51.100.13", dst=S4) / TCP(sport=49000, dport=60321, flags="S", options=[("MSS", 1460)]),
    IP6 if False else IPv6(src="2001:db8::13", dst=S6) / TCP(sport=49001, dport=60322, flags="S"),
    IP(src="198.51.100.13", dst=S4) / UDP(sport=49002, dport=60323) / Raw(b"q" * 100),
])
