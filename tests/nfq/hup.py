#!/usr/bin/env python3
"""SIGHUP reloads in a loop for tests/t_fault_reload.sh.

  hup.py paced PID RULES LOG COUNT
      COUNT reloads, each waited for (its "reload" line in LOG), cycling
      through: good file A (the rogue listener on 60314 is unexpected),
      a broken file, good file B (60314 expected), a broken file.  After
      each one a TCP connection to 127.0.0.1:60314 must give what the rules
      in force say: refused under A and under a broken file that followed
      A, ok under B and a broken file that followed B.  Prints a tally;
      exits 1 on the first wrong answer.
  hup.py burst PID RULES COUNT
      COUNT reloads without waiting, alternating A and broken files.
  hup.py clients HOST PORT SECONDS
      TCP connections one after the other for SECONDS; prints a tally
      (ok, refused, timeout ...).  A client left hanging shows as timeout.
"""
import os
import signal
import socket
import sys
import time

GOOD_A = "loopback inbound\nunexpected reject log\ndefault pass\n"
GOOD_B = "loopback inbound\nunexpected reject log\ndefault pass\nexpect tcp port 60314\n"
# Broken in several ways: a bad port, an unknown word, binary bytes.
BROKEN = [
    "unexpected reject log\ndefault pass\nexpect tcp port 70000\n",
    "unexpected reject log\nbogus\n",
    "default pass\n\x01\x02\xff\xfe garbage\n",
]


def write(path, text):
    with open(path + ".new", "w", encoding="latin-1") as f:
        f.write(text)
    os.rename(path + ".new", path)


def connect(host, port, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return "ok"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%d" % e.errno
    finally:
        s.close()


def reload_lines(log):
    with open(log, "rb") as f:
        # Whole lines only: the daemon may be half way through one.
        return [l for l in f if b'"type":"reload"' in l and l.endswith(b"\n")]


def paced(pid, rules, log, count):
    done = len(reload_lines(log))
    last_good = "A"
    tally = {}
    for i in range(count):
        kind = ["A", "broken", "B", "broken"][i % 4]
        if kind == "A":
            write(rules, GOOD_A)
        elif kind == "B":
            write(rules, GOOD_B)
        else:
            write(rules, BROKEN[(i // 2) % len(BROKEN)])
        os.kill(pid, signal.SIGHUP)
        end = time.time() + 5
        while True:
            lines = reload_lines(log)
            if len(lines) > done:
                break
            if time.time() > end:
                print("reload %d (%s): no reload line within 5 s" % (i, kind))
                return 1
            time.sleep(0.002)
        done = len(lines)
        ok = b'"ok":true' in lines[-1]
        if ok != (kind != "broken"):
            print("reload %d (%s): logged %s" % (i, kind, lines[-1].decode()))
            return 1
        if kind != "broken":
            last_good = kind
        want = "refused" if last_good == "A" else "ok"
        got = connect("127.0.0.1", 60314)
        tally[got] = tally.get(got, 0) + 1
        if got != want:
            print("reload %d (%s after %s): connection %s, expected %s" %
                  (i, kind, last_good, got, want))
            return 1
    print("reloads %d " % count +
          " ".join("%s=%d" % kv for kv in sorted(tally.items())))
    return 0


def burst(pid, rules, count):
    for i in range(count):
        write(rules, GOOD_A if i % 2 == 0 else BROKEN[i % len(BROKEN)])
        os.kill(pid, signal.SIGHUP)
    return 0


def clients(host, port, seconds):
    tally = {}
    end = time.time() + seconds
    while time.time() < end:
        r = connect(host, port)
        tally[r] = tally.get(r, 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(tally.items())))
    return 0


def main():
    mode = sys.argv[1]
    if mode == "paced":
        return paced(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if mode == "burst":
        return burst(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    if mode == "clients":
        return clients(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    sys.exit(main())
