#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An RTP receiver for the caching service's tests (issue 21): writes one
line per packet received on PORT, "SEQ SECONDS", to LOG; on SIGTERM, or
with `rtp_recv.py --report LOG`, what the sequence numbers say:

  packets=N first=S last=S missing=M reordered=R duplicates=D longest_gap=G

missing counts the numbers between the first and the last never received
(modulo 2^16), reordered the packets that came after a higher number,
longest_gap the longest run of missing numbers.

  rtp_recv.py PORT LOG
  rtp_recv.py --report LOG"""
import signal
import socket
import sys
import time


def report(path):
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts:
                seqs.append(int(parts[0]))
    if not seqs:
        return 'packets=0 first=- last=- missing=0 reordered=0 duplicates=0 longest_gap=0'
    # Unwrap modulo 2^16, each number taken nearest the one before.
    ext, base, prev = [], 0, seqs[0]
    for s in seqs:
        d = (s - prev) & 0xFFFF
        if d >= 0x8000:
            d -= 0x10000
        base += d
        ext.append(seqs[0] + base)
        prev = s
    seen, dup, reord, high = set(), 0, 0, None
    for e in ext:
        if e in seen:
            dup += 1
        seen.add(e)
        if high is not None and e < high:
            reord += 1
        high = e if high is None else max(high, e)
    lo, hi = min(ext), max(ext)
    missing, gap, run = 0, 0, 0
    for e in range(lo, hi + 1):
        if e in seen:
            run = 0
        else:
            missing += 1
            run += 1
            gap = max(gap, run)
    return (f'packets={len(seqs)} first={seqs[0]} last={seqs[-1]} missing={missing} '
            f'reordered={reord} duplicates={dup} longest_gap={gap}')


def main():
    if sys.argv[1] == '--report':
        print(report(sys.argv[2]))
        return
    port, path = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(('0.0.0.0', port))
    out = open(path, 'w', buffering=1)

    def stop(*_):
        out.close()
        print(report(path), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        d = s.recv(4096)
        if len(d) >= 12 and d[0] >> 6 == 2:
            out.write(f'{d[2] << 8 | d[3]} {time.monotonic():.4f}\n')


main()
