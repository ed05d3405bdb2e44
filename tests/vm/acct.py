#!/usr/bin/env python3
"""Where the guest's CPU went: BSD process accounting (acct(2)) over the
tests, for make check-vm VM_PROFILE=1 (tests/vm/guest.sh).

  acct.py on FILE     start accounting into FILE
  acct.py off FILE    stop, and print the CPU time of the processes that
                      ended, by program name, most first

Each line starts with "pcvm: ".  Processes still running when accounting
stops are not counted, nor is the kernel's own work.
"""
import collections
import ctypes
import struct
import sys

ACCT_V3_SIZE = 64  # struct acct_v3 (linux/acct.h)
AHZ = 100          # its times are in 1/100 s, as comp_t


def comp_t(v):
    """13-bit mantissa, 3-bit base-8 exponent."""
    return (v & 0x1FFF) << (3 * (v >> 13))


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    if sys.argv[1] == "on":
        open(sys.argv[2], "ab").close()
        if libc.acct(sys.argv[2].encode()) != 0:
            print("pcvm: acct: %s" % ctypes.get_errno())
        return
    libc.acct(None)
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    cpu = collections.Counter()
    count = collections.Counter()
    for off in range(0, len(data) - ACCT_V3_SIZE + 1, ACCT_V3_SIZE):
        rec = data[off:off + ACCT_V3_SIZE]
        if rec[1] != 3:
            continue
        utime, stime = struct.unpack_from("<HH", rec, 32)
        comm = rec[48:64].split(b"\0")[0].decode("ascii", "replace")
        comm = "".join(c if c.isprintable() else "?" for c in comm)
        cpu[comm] += (comp_t(utime) + comp_t(stime)) / AHZ
        count[comm] += 1
    print("pcvm: profile: %.1f s of CPU in %d processes that ended" %
          (sum(cpu.values()), sum(count.values())))
    for comm, secs in cpu.most_common(25):
        print("pcvm: profile: %-16s %7.1f s %6d runs %6.3f s a run" %
              (comm, secs, count[comm], secs / count[comm]))


if __name__ == "__main__":
    main()
