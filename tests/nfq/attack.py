#!/usr/bin/env python3
"""Crafted packets for the namespace tests (scapy), and listeners that
record what reaches them.

  attack.py listen PROTO PORT RECFILE PIDFILE LIFETIME
      PROTO tcp|udp|udplite; listens on 0.0.0.0 and :: (every address,
      link-local, multicast and broadcast included) and appends one line per
      event to RECFILE: "PROTO accept PEER" and "PROTO data PEER TEXT".
  attack.py PROBE DST PORT MARK [ARGS]
      sends one crafted probe carrying the ASCII text MARK and prints one
      word (what came back):
        exthdr-tcp DST PORT MARK N   handshake behind N IPv6 extension
                                     headers (hop-by-hop, then destination
                                     options and routing alternately), then
                                     MARK as data: "synack", "rst", "none"
        exthdr-udp DST PORT MARK N   one datagram behind the same chain
        bigopt-tcp DST PORT MARK     handshake behind one destination
                                     options header with a 255-byte option
        udp6-len0 DST PORT MARK      IPv6 UDP with length field 0
        udplite DST PORT MARK        UDP-Lite from a plain socket
        tcp DST PORT MARK [IFACE]    plain TCP handshake then MARK (for
                                     link-local destinations: IFACE)
        udp DST PORT MARK [IFACE]    plain datagram (broadcast allowed)
        synopt DST PORT MARK         IPv4 SYN with 40 bytes of TCP options
                                     and a 40-byte IPv4 option, then MARK
        synflood DST FIRST MARK N    N SYNs to ports FIRST, FIRST+1, ...
                                     over about 3 s (MARK unused)

The raw probes go out through scapy's layer-3 sockets; the peer namespace
must not answer the server's SYN-ACK with a reset (the test drops outgoing
resets there).
"""
import os
import select
import socket
import struct
import sys
import time

IPPROTO_UDPLITE = 136
IPV6_CHECKSUM = 7


def listen(proto, port, recfile, pidfile, lifetime):
    socks = []
    for fam, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        if proto == "tcp":
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif proto == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        else:
            s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_UDPLITE)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        if proto == "tcp":
            s.listen(16)
        socks.append(s)
    rec = open(recfile, "a", buffering=1)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    conns = []
    end = time.time() + lifetime
    while time.time() < end:
        r, _, _ = select.select(socks + conns, [], [], 0.2)
        for s in r:
            if s in socks and proto == "tcp":
                c, peer = s.accept()
                rec.write("tcp accept %s\n" % peer[0])
                c.setblocking(False)
                conns.append(c)
            elif s in socks:
                data, peer = s.recvfrom(65535)
                rec.write("%s data %s %s\n" % (proto, peer[0],
                                              data.decode("ascii", "replace")))
            else:
                try:
                    data = s.recv(65535)
                except OSError:
                    data = b""
                if data:
                    rec.write("tcp data %s %s\n" % (s.getpeername()[0],
                                                   data.decode("ascii", "replace")))
                else:
                    conns.remove(s)
                    s.close()


def chain(n):
    from scapy.all import (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                           IPv6ExtHdrRouting, PadN)
    hdrs = IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
    for i in range(n - 1):
        if i % 2:
            hdrs = hdrs / IPv6ExtHdrRouting(addresses=[], segleft=0)
        else:
            hdrs = hdrs / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
    return hdrs


def bigopt():
    from scapy.all import IPv6ExtHdrDestOpt, HBHOptUnknown
    # Option type 0x1e: "skip if unknown" (RFC 4727 experiment); Linux
    # refuses more than 7 bytes of padding, not unknown options.
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E,
                                                    optdata=b"\0" * 255)])


def answer(pkt, port, sport, iface="veth0"):
    """Sends pkt and returns the first TCP segment from port to sport seen
    on iface within 3 s (a sniffer, not sr1: scapy does not match answers
    behind every extension header)."""
    from scapy.all import AsyncSniffer, TCP, send
    sn = AsyncSniffer(iface=iface, count=1, timeout=3,
                      lfilter=lambda p: TCP in p and p[TCP].sport == port
                      and p[TCP].dport == sport)
    sn.start()
    time.sleep(0.3)
    send(pkt, verbose=0)
    sn.join()
    return sn.results[0][TCP] if sn.results else None


def handshake(l3, port, mark):
    """SYN, then (on a SYN-ACK) ACK with MARK as data, all behind l3."""
    from scapy.all import TCP, send
    sport = 40000 + os.getpid() % 20000
    t = answer(l3 / TCP(sport=sport, dport=port, flags="S", seq=1000),
               port, sport)
    if t is None:
        return "none"
    if t.flags & 0x04:
        return "rst"
    if (t.flags & 0x12) != 0x12:
        return "other"
    send(l3 / TCP(sport=sport, dport=port, flags="PA", seq=1001,
                  ack=t.seq + 1) / mark.encode(), verbose=0)
    time.sleep(0.3)
    return "synack"


def synflood(dst, first, n):
    """N bare SYNs from ports 30000.. to ports FIRST.. over about 3 s (the
    rogue attempt lands in it), from a raw socket: the kernel adds the IP
    header; scapy would build each one for a good millisecond, which
    stretches the flood well past 3 s on an emulated CPU."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
    if fam == socket.AF_INET6:
        # The kernel fills in the TCP checksum (offset 16) for IPv6.
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
    s.connect((dst, 0))
    src = s.getsockname()[0]
    if fam == socket.AF_INET:
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, 20)
    start = time.time()
    for i in range(n):
        hdr = struct.pack("!HHIIBBHHH", 30000 + i % 2000, (first + i) & 0xFFFF, i, 0,
                          5 << 4, 0x02, 8192, 0, 0)
        if fam == socket.AF_INET:
            hdr = hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]
        try:
            s.send(hdr)
        except OSError:
            pass
        # Paced against the clock, not by sleeps of 3/N each.
        ahead = start + 3.0 * (i + 1) / n - time.time()
        if ahead > 0:
            time.sleep(ahead)
    return "sent"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def probe(kind, dst, port, mark, extra):
    if kind == "synflood":
        return synflood(dst, port, int(extra[0]))
    if kind in ("udplite", "tcp", "udp"):
        # Plain sockets: no scapy to import (seconds on an emulated CPU).
        return plain(kind, dst, port, mark, extra)
    from scapy.all import IP, IPv6, UDP, TCP, IPOption, send, conf
    conf.verb = 0
    if kind in ("exthdr-tcp", "exthdr-udp"):
        n = int(extra[0])
        l3 = IPv6(dst=dst) / chain(n)
        if kind == "exthdr-tcp":
            return handshake(l3, port, mark)
        send(l3 / UDP(sport=40000 + os.getpid() % 20000, dport=port) / mark.encode())
        return "sent"
    if kind == "bigopt-tcp":
        return handshake(IPv6(dst=dst) / bigopt(), port, mark)
    if kind == "udp6-len0":
        send(IPv6(dst=dst) / UDP(sport=40000 + os.getpid() % 20000, dport=port, len=0) /
             mark.encode())
        return "sent"
    if kind == "synopt":
        # 40 bytes of IPv4 options (NOPs and an end-of-list) and 40 of TCP
        # options: 60 + 60 bytes of headers before any payload.
        l3 = IP(dst=dst, options=[IPOption(b"\x01" * 39 + b"\x00")])
        sport = 40000 + os.getpid() % 20000
        t = answer(l3 / TCP(sport=sport, dport=port, flags="S", seq=1000,
                            options=[("NOP", None)] * 40), port, sport)
        if t is None:
            return "none"
        return "rst" if t.flags & 0x04 else "synack"
    raise SystemExit("unknown probe " + kind)


def plain(kind, dst, port, mark, extra):
    if kind == "udplite":
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_UDPLITE)
        s.sendto(mark.encode(), (dst, port))
        return "sent"
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    addr = (dst, port)
    if fam == socket.AF_INET6 and extra:
        addr = (dst, port, 0, socket.if_nametoindex(extra[0]))
    if kind == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect(addr)
            s.sendall(mark.encode())
            time.sleep(0.3)
            return "ok"
        except ConnectionRefusedError:
            return "refused"
        except socket.timeout:
            return "timeout"
        except OSError as e:
            return "error:%s" % e.errno
        finally:
            s.close()
    if kind == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if fam == socket.AF_INET6 and extra:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
                         socket.if_nametoindex(extra[0]))
        s.sendto(mark.encode(), addr)
        return "sent"
    raise SystemExit("unknown probe " + kind)


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    if a[0] == "listen":
        listen(a[1], int(a[2]), a[3], a[4], float(a[5]))
        return
    print(probe(a[0], a[1], int(a[2]), a[3], a[4:]))


if __name__ == "__main__":
    main()
