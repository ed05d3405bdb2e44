#!/usr/bin/env python3
"""A warm python3 for the tests (the server half of tests/tools/pyfork.c).

  pyfork.py [--no-scapy] SOCKET [LIFETIME]

Imports what the tests' scripts use (scapy included, when installed) once,
then serves SOCKET (AF_UNIX, SOCK_SEQPACKET, created atomically once
ready, so a client that comes earlier falls back to a plain python3).  For
each request it forks; the child takes on the caller's network and mount
namespaces, working directory, uid/gid and groups, CPU affinity,
environment and standard descriptors, then runs the script as python3
would (SCRIPT, -c CODE or - for stdin) and exits as it would.  The server
sends the child's pid, then its wait status.  A child whose client goes
away (killed) is killed.  Exits after LIFETIME seconds (default 3600).

For make check-vm (tests/vm/guest.sh), where a python3 start costs about a
second and `import scapy.all` ten or more.  --no-scapy serves without
scapy: a small process forks and exits faster, and the client sends the
scripts that do not name scapy there ($PC_PYFORK_LIGHT).
"""
import atexit
import ctypes
import gc
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
import types

# What the scripts import, loaded once here.
import json  # noqa: F401
import random  # noqa: F401
import struct  # noqa: F401
import subprocess  # noqa: F401

NO_SCAPY = len(sys.argv) > 1 and sys.argv[1] == "--no-scapy"
if NO_SCAPY:
    del sys.argv[1]
scapy_conf = None
if not NO_SCAPY:
    try:
        import scapy.all  # noqa: F401
        from scapy.config import conf as scapy_conf
    except Exception:  # not installed: scripts that need it say so
        scapy_conf = None

# Everything imported so far stays shared with the children: a collection
# in a child would touch (and copy) every page of it.
gc.freeze()

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(path, flag):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, flag) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def ids(pid):
    """(uids, gids, groups) of pid, from /proc/PID/status."""
    u = g = None
    groups = []
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "Uid":
                u = [int(x) for x in v.split()[:3]]
            elif k == "Gid":
                g = [int(x) for x in v.split()[:3]]
            elif k == "Groups":
                groups = [int(x) for x in v.split()]
    return u, g, groups


def parse(msg):
    parts = msg.split(b"\0")
    cwd = parts[0].decode("utf-8", "surrogateescape")
    i = 1
    argv = []
    while i < len(parts) and parts[i]:
        argv.append(parts[i].decode("utf-8", "surrogateescape"))
        i += 1
    i += 1
    env = {}
    while i < len(parts) and parts[i]:
        k, _, v = parts[i].partition(b"=")
        env[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
        i += 1
    return cwd, argv, env


def scapy_resync():
    """The interfaces and routes scapy read at import were the server's
    (quietly: a namespace's address-less lo is no news)."""
    log = logging.getLogger("scapy.runtime")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        scapy_conf.ifaces.reload()
        scapy_conf.route.resync()
        scapy_conf.route6.resync()
        scapy_conf.ifaces.load_confiface()
    except Exception:
        pass
    log.setLevel(level)


# Compiled scripts, kept in the server so that every child after the first
# starts without compiling (under an emulated CPU a good part of a run).
# Keyed by what the file is (device, inode, change time, size) or by the -c
# code itself; a child uses an entry only when the file it opens, as the
# caller, is the same.
compiled = {}


def file_key(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def precompile(cwd, argv):
    """In the server, before the fork: the request's code, compiled once."""
    try:
        if argv[0] == "-c" and len(argv) > 1:
            key = ("-c", argv[1])
            if key not in compiled:
                compiled[key] = (compile(argv[1], "<string>", "exec"),
                                 "scapy" in argv[1])
        elif argv[0] not in ("-", "-c"):
            path = os.path.join(cwd, argv[0])
            key = file_key(path)
            if key not in compiled:
                with open(path, "rb") as f:
                    src = f.read().decode("utf-8")
                compiled[key] = (compile(src, argv[0], "exec"), "scapy" in src)
    except (OSError, ValueError, SyntaxError):
        pass  # the child reads it as the caller and reports what fails


def run(argv):
    """Runs argv as python3 would; returns the exit status."""
    main = types.ModuleType("__main__")
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    try:
        code = None
        if argv[0] == "-c":
            sys.argv = ["-c"] + argv[2:]
            sys.path[0] = ""
            name, src = "<string>", argv[1]
            code, scapy = compiled.get(("-c", src), (None, False))
        elif argv[0] == "-":
            sys.argv = argv[:]
            sys.path[0] = ""
            name, src = "<stdin>", sys.stdin.read()
        else:
            sys.argv = argv[:]
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            name = argv[0]
            main.__file__ = argv[0]
            with open(argv[0], "rb") as f:
                code, scapy = compiled.get(file_key(f.fileno()), (None, False))
                if code is None:
                    src = f.read().decode("utf-8")
        if code is None:
            code = compile(src, name, "exec")
            scapy = "scapy" in src
        # Only a script that names scapy needs scapy's view of the
        # caller's namespace (a reload costs a good part of a start here).
        if scapy_conf is not None and scapy:
            scapy_resync()
        exec(code, main.__dict__)
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join()
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    return code


def child(conn, fds, pid, cwd, argv, env):
    """In the forked child: become the caller, run, exit."""
    for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
              signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
        signal.signal(s, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cpus = os.sched_getaffinity(pid)
        u, g, groups = ids(pid)
        netns = "/proc/%d/ns/net" % pid
        mntns = "/proc/%d/ns/mnt" % pid
        if os.stat(netns).st_ino != os.stat("/proc/self/ns/net").st_ino:
            setns(netns, CLONE_NEWNET)
        if os.stat(mntns).st_ino != os.stat("/proc/self/ns/mnt").st_ino:
            setns(mntns, CLONE_NEWNS)
        os.chdir(cwd)
        os.sched_setaffinity(0, cpus)
        os.setgroups(groups)
        os.setresgid(*g)
        os.setresuid(*u)
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
    except BaseException as e:
        os.write(fds[2] if len(fds) > 2 else 2,
                 ("pyfork: cannot become the caller: %s\n" % e).encode())
        os._exit(126)
    os.environ.clear()
    os.environ.update(env)
    os.umask(0o022)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", closefd=False, buffering=-1 if not os.isatty(1) else 1)
    sys.stderr = open(2, "w", closefd=False, buffering=1)
    def watch():
        # The client never writes after its request: EOF means it is gone.
        try:
            while conn.recv(16):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()
    code = run(argv)
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            pass
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def main():
    path = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    tmp = path + ".tmp"
    for p in (path, tmp):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(tmp)
    os.chmod(tmp, 0o666)
    srv.listen(128)
    os.rename(tmp, path)
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda s, f: None)
    children = {}
    end = time.time() + lifetime
    while time.time() < end:
        try:
            r, _, _ = select.select([srv, rfd], [], [], 1.0)
        except InterruptedError:
            r = []
        if rfd in r:
            try:
                os.read(rfd, 512)
            except BlockingIOError:
                pass
        while children:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            c = children.pop(pid, None)
            if c is not None:
                try:
                    c.send(b"S%d" % st)
                except OSError:
                    pass
                c.close()
        if srv not in r:
            continue
        try:
            conn, _ = srv.accept()
        except OSError:
            continue
        fds = []
        try:
            conn.settimeout(10)
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
            pid = struct.unpack("3i", creds)[0]
            msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            cwd, argv, env = parse(msg)
            if len(fds) != 3 or not argv:
                raise ValueError("bad request")
            conn.settimeout(None)
        except (OSError, ValueError):
            for fd in fds:
                os.close(fd)
            conn.close()
            continue
        precompile(cwd, argv)
        sys.stdout.flush()
        sys.stderr.flush()
        kid = os.fork()
        if kid == 0:
            signal.set_wakeup_fd(-1)
            os.close(rfd)
            os.close(wfd)
            srv.close()
            for c in children.values():
                c.close()
            child(conn, fds, pid, cwd, argv, env)
        for fd in fds:
            os.close(fd)
        try:
            conn.send(b"P%d" % kid)
        except OSError:
            pass
        children[kid] = conn
    os.unlink(path)


if __name__ == "__main__":
    main()
