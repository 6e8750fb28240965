#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An MPEG-TS over UDP receiver for the adaptation service's tests (issue
21): writes the stream to FILE as it comes; on SIGTERM prints, per PID,
the packets received and the packets missing by their continuity
counters, one line each: "pid=0x101 packets=N missing=M".

  ts_recv.py PORT FILE
  ts_recv.py --count FILE     (the packets per PID in a recorded stream)"""
import signal
import socket
import sys

if sys.argv[1] == '--count':
    counts = {}
    with open(sys.argv[2], 'rb') as f:
        data = f.read()
    for off in range(0, len(data) - 187, 188):
        if data[off] == 0x47:
            pid = (data[off + 1] & 0x1f) << 8 | data[off + 2]
            counts[pid] = counts.get(pid, 0) + 1
    for pid in sorted(counts):
        print(f'pid={pid:#x} packets={counts[pid]}')
    sys.exit(0)
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(('0.0.0.0', port))
out = open(path, 'wb')
last, packets, missing = {}, {}, {}


def stop(*_):
    out.close()
    for pid in sorted(packets):
        print(f'pid={pid:#x} packets={packets[pid]} missing={missing.get(pid, 0)}', flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    d = s.recv(65536)
    out.write(d)
    for off in range(0, len(d) - 187, 188):
        if d[off] != 0x47:
            continue
        pid = (d[off + 1] & 0x1f) << 8 | d[off + 2]
        packets[pid] = packets.get(pid, 0) + 1
        if not d[off + 3] & 0x10 or pid == 0x1fff:
            continue  # no payload: the counter does not move
        cc = d[off + 3] & 15
        if pid in last and cc != last[pid]:
            missing[pid] = missing.get(pid, 0) + ((cc - last[pid] - 1) & 15)
        last[pid] = cc
