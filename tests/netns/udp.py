#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A tiny UDP sender and receiver for tests/netns: the receiver appends one
# line per datagram ("<delay ms> <payload>") to a file that the test polls;
# the payload carries the sender's CLOCK_MONOTONIC (shared by namespaces),
# so the receiver can tell how long the network held a packet.
import socket
import sys
import time


def send(dst, port, count, tag, gap_ms=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(f"{tag}-{i}-{time.monotonic_ns()}".encode(), (dst, port))
        if gap_ms:
            time.sleep(gap_ms / 1000)


def recv(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    with open(out, "a", buffering=1) as f:
        f.write("")  # the file's existence says "bound"
        while True:
            data, _ = s.recvfrom(65535)
            text = data.decode(errors="replace")
            try:
                sent = int(text.split("-")[2].rstrip("+"))
                delay = (time.monotonic_ns() - sent) / 1e6
            except (IndexError, ValueError):
                delay = -1
            f.write(f"{delay:.1f} {text}\n")


if __name__ == "__main__":
    if sys.argv[1] == "send":
        gap = float(sys.argv[6]) if len(sys.argv) > 6 else 5.0
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], gap)
    elif sys.argv[1] == "recv":
        recv(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(2)
