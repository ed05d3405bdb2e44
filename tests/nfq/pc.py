#!/usr/bin/env python3
"""Servers and clients for the portclass-nfq namespace tests.

  pc.py tcp-server HOST PORT PIDFILE LIFETIME   accept, send "hi", close
  pc.py udp-server HOST PORT PIDFILE LIFETIME   echo every datagram
  pc.py tcp-client HOST PORT TIMEOUT [SPORT]    prints ok|refused|timeout|error
  pc.py udp-client HOST PORT TIMEOUT [DSTOPTS]  prints ok|refused|timeout|error;
                                                IPv6: a destination options
                                                header of DSTOPTS bytes
  pc.py tcp-burst HOST FIRSTPORT COUNT TIMEOUT  COUNT connections to
                                                FIRSTPORT.. prints a tally
  pc.py udp-repeat HOST PORT COUNT TIMEOUT      COUNT datagrams on one socket
                                                (one flow), a word for each
  pc.py udp-flood HOST PORT COUNT               COUNT datagrams, each from a
                                                new socket (a new flow)

Servers write their own pid to PIDFILE once they listen and exit after
LIFETIME seconds, so nothing outlives a test.  Clients always exit 0 and
print one word (plus the elapsed seconds).
"""
import os
import socket
import sys
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_server(host, port, pidfile, lifetime):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    s.settimeout(0.2)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    end = time.time() + lifetime
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        try:
            c.sendall(b"hi\n")
        except OSError:
            pass
        c.close()


def udp_server(host, port, pidfile, lifetime):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(0.2)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    end = time.time() + lifetime
    while time.time() < end:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        s.sendto(data, peer)


def tcp_client(host, port, timeout, sport=0):
    t = time.time()
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::" if ":" in host else "0.0.0.0", sport))
        s.connect((host, port))
        data = s.recv(16)
        r = "ok" if data.startswith(b"hi") else "nodata"
    except ConnectionRefusedError:
        r = "refused"
    except socket.timeout:
        r = "timeout"
    except OSError as e:
        r = "error:%s" % e.errno
    print("%s %.3f" % (r, time.time() - t))


def udp_client(host, port, timeout, dstopts=0):
    t = time.time()
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    if dstopts:
        # Next header (the kernel fills it), length in 8-byte units after
        # the first 8, then one option filling the rest: type 0x1e (RFC
        # 4727 experiment, "skip if unknown"), since Linux refuses more
        # than 7 bytes of padding.
        hdr = bytes([0, dstopts // 8 - 1, 0x1E, dstopts - 4]) + bytes(dstopts - 4)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, hdr)
    try:
        s.connect((host, port))
        s.send(b"ping")
        data = s.recv(2048)
        r = "ok" if data == b"ping" else "nodata"
    except ConnectionRefusedError:
        r = "refused"
    except socket.timeout:
        r = "timeout"
    except OSError as e:
        r = "error:%s" % e.errno
    print("%s %.3f" % (r, time.time() - t))


def tcp_burst(host, first, count, timeout):
    tally = {}
    for i in range(count):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, first + i))
            r = "ok"
        except ConnectionRefusedError:
            r = "refused"
        except socket.timeout:
            r = "timeout"
        except OSError as e:
            r = "error:%s" % e.errno
        s.close()
        tally[r] = tally.get(r, 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(tally.items())))


def udp_repeat(host, port, count, timeout):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.connect((host, port))
    out = []
    for _ in range(count):
        try:
            s.send(b"ping")
            out.append("ok" if s.recv(2048) == b"ping" else "nodata")
        except ConnectionRefusedError:
            out.append("refused")
        except socket.timeout:
            out.append("timeout")
        except OSError as e:
            out.append("error:%s" % e.errno)
    print(" ".join(out))


def udp_flood(host, port, count):
    for _ in range(count):
        s = socket.socket(family(host), socket.SOCK_DGRAM)
        try:
            s.sendto(b"x", (host, port))
        except OSError:
            pass
        s.close()
    print("sent %d" % count)


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "tcp-server":
        tcp_server(host, port, sys.argv[4], float(sys.argv[5]))
    elif mode == "udp-server":
        udp_server(host, port, sys.argv[4], float(sys.argv[5]))
    elif mode == "tcp-client":
        sport = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        tcp_client(host, port, float(sys.argv[4]), sport)
    elif mode == "udp-client":
        dst = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        udp_client(host, port, float(sys.argv[4]), dst)
    elif mode == "udp-repeat":
        udp_repeat(host, port, int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "udp-flood":
        udp_flood(host, port, int(sys.argv[4]))
    elif mode == "tcp-burst":
        tcp_burst(host, port, int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
