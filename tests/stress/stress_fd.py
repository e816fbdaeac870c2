#!/usr/bin/env python3
"""stress_fd.py PROG HEAPSNAP SHIM - a service (stress_fd) closes its end
of a pipe while `heapsnap snap` is scanning it: the reader must see the end
while the scan's copy of the process is still there. Before the copy
closed the service's descriptors, the end came only when the scan did.
Meanwhile `heapsnap ps` lists the service and not the copy (it listed
the copy as a child of fork whose shim had not started).
Exits 0 when so, 1 with one FAIL line otherwise."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

prog, heapsnap, shim = sys.argv[1:4]
NODES = 3000000  # about a second of scan on this machine kind


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def children(pid):
    """The processes the service's threads started (the scan's copy)."""
    out = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def running(pid):
    """Not gone, nor a zombie (an exited copy waits for the scan to reap
    it, its descriptors closed by then)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, LD_PRELOAD=shim, HEAPSNAP_DIR=d)
    svc = subprocess.Popen([prog, str(NODES)], stdout=subprocess.PIPE,
                           env=env)
    try:
        if svc.stdout.readline() != b"ready\n":
            fail("the service did not start")
        snap = subprocess.Popen([heapsnap, "snap", str(svc.pid)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        copy, end = None, time.monotonic() + 20
        while not copy and time.monotonic() < end and snap.poll() is None:
            copy = min(children(svc.pid), default=None)
            time.sleep(0.001)
        if not copy:
            fail("never saw the scan's copy of the process: "
                 + snap.communicate()[1].decode().strip())
        # heapsnap ps lists the service, not the shim's copy of it
        rows = json.loads(subprocess.run([heapsnap, "ps", "--json"],
                                         capture_output=True,
                                         check=True).stdout)
        pids = {r["pid"] for r in rows}
        if copy in pids and running(copy):
            fail(f"heapsnap ps lists the scan's copy {copy} as a process")
        if svc.pid not in pids:
            fail("heapsnap ps does not list the service")
        svc.send_signal(signal.SIGUSR1)  # it closes its stdout
        t0 = time.monotonic()
        rest = svc.stdout.read()  # returns at the end of the pipe
        waited = time.monotonic() - t0
        copy_alive = running(copy)
        out, err = snap.communicate(timeout=60)
        if snap.returncode != 0:
            fail("heapsnap snap: " + err.decode().strip())
        if rest:
            fail(f"unexpected output: {rest!r}")
        if not copy_alive:
            fail(f"the end of the pipe came {waited:.3f} s after the close, "
                 "once the scan's copy of the process was gone: it held the "
                 "service's descriptor")
        print(f"ok: the end of the pipe came {waited:.3f} s after the close, "
              "the scan still running; snapshot " + out.decode().strip())
    finally:
        svc.kill()
        svc.wait()
