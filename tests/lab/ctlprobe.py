#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Ask a node's control socket for its info every 10 ms for a while and
print the longest wait for an answer, in ms (JSON): whether the node kept
serving while it was attacked.

usage: ctlprobe.py CTL_SOCKET SECONDS
"""
import json
import socket
import sys
import time


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    worst, n, failed = 0.0, 0, 0
    end = time.time() + seconds
    while time.time() < end:
        t0 = time.monotonic()
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(path)
            s.send(b"info")
            ok = s.recv(65536).startswith(b"ok")
            s.close()
        except OSError:
            ok = False
        ms = (time.monotonic() - t0) * 1000
        worst = max(worst, ms)
        n += 1
        failed += not ok
        time.sleep(0.01)
    print(json.dumps({"max_ms": round(worst, 3), "probes": n, "failed": failed}))


if __name__ == "__main__":
    main()
