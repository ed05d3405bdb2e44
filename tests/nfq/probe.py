#!/usr/bin/env python3
"""Crafted probes for the parity tests (scapy, raw IPv4 sockets: the
kernel routes them, no ARP of our own).

  probe.py tiny SRC DST DPORT SPORT    a SYN in 8-byte fragments (nmap -f)
  probe.py ack SRC DST DPORT SPORT     a lone ACK (nmap -sA)
  probe.py synfin SRC DST DPORT SPORT  SYN+FIN (conntrack INVALID)
  probe.py sctp SRC DST DPORT SPORT    an SCTP INIT (nmap -sY)
  probe.py bigudp HOST DPORT SIZE      one UDP datagram of SIZE bytes from a
                                       socket (fragmented by the kernel)
"""
import socket
import sys


def main():
    what = sys.argv[1]
    if what == "bigudp":
        host, port, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.sendto(b"b" * size, (host, port))
        print("sent")
        return 0
    from scapy.all import IP, TCP, SCTP, SCTPChunkInit, conf, fragment, send
    conf.L3socket = conf.L3socket  # default
    from scapy.supersocket import L3RawSocket
    conf.L3socket = L3RawSocket
    src, dst, dport, sport = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ip = IP(src=src, dst=dst)
    if what == "tiny":
        pkts = fragment(ip / TCP(sport=sport, dport=dport, flags="S", seq=1000), fragsize=8)
    elif what == "ack":
        pkts = [ip / TCP(sport=sport, dport=dport, flags="A", seq=1, ack=1000)]
    elif what == "synfin":
        pkts = [ip / TCP(sport=sport, dport=dport, flags="SF", seq=1000)]
    elif what == "sctp":
        pkts = [ip / SCTP(sport=sport, dport=dport) / SCTPChunkInit(init_tag=1, n_in_streams=1, n_out_streams=1)]
    else:
        print("unknown probe", what)
        return 2
    for p in pkts:
        send(p, verbose=False)
    print("sent %d" % len(pkts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
