#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile senders for tests/lab/test_hostile.sh and bench/hostile.sh.

Every packet is built from docs/wire.md (badpkt.py), independently of
src/wire. Prints one JSON line with what it sent and what came back.

usage: attack.py KIND ARGS...
  capsules NODE CODE.ao N RATE [carry|home=ADDR] [copies=C] [hops=H]
      N capsules naming CODE.ao, RATE per second, sent to NODE from a socket
      of our own (their previous hop, which never answers a code request):
      carried, or loaded on demand from ADDR (the code's home).
  reflect NODE CODE.ao N PAD
      N code requests for CODE.ao (which NODE has), padded to PAD octets,
      whose SRC option names a victim socket: counts what NODE sends to the
      victim and to us, the real sender.
  homeflood NODE N SECONDS
      N capsules naming code nobody has, each a different name, whose code
      home is a victim socket: counts the requests the victim receives.
  oversize NODE N
      N datagrams of 9000 octets, more than a context holds.
  applinks SOCKET N SECONDS
      opens N application link connections and holds them.
  silentctl SOCKET N SECONDS
      opens N control socket connections that never send a request.
"""
import hashlib
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from badpkt import (TYPE_CAPSULE, TYPE_CODE_REQUEST, OPT_SRC, OPT_DST, OPT_HOP_LIMIT,  # noqa: E402
                    addr_bytes, addr_option, anep, option)


def capsule(name, data, code=b"", hop_limit=16, copies=0, dst=None, home=None):
    ip, port = addr_bytes(home) if home else (bytes(16), 0)
    hdr = name + ip + struct.pack("!HHHH", port, 0, 1 if code else 0, len(code))
    pad = b"\0" * (-len(code) % 4)
    opts = option(OPT_HOP_LIMIT, struct.pack("!BxH", hop_limit, copies))
    if dst:
        opts = addr_option(OPT_DST, dst) + opts
    return anep(TYPE_CAPSULE, opts, hdr + code + pad + data)


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, "127.0.0.1:%d" % s.getsockname()[1]


def target(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def drain(socks, seconds):
    """Octets and datagrams each socket receives within seconds."""
    got = {s: [0, 0] for s in socks}
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            break
        ready = select.select(socks, [], [], left)[0]
        for s in ready:
            pkt = s.recv(65536)
            got[s][0] += len(pkt)
            got[s][1] += 1
    return got


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    out = {"kind": kind}
    if kind == "capsules":
        node, path, n, rate = args[0], args[1], int(args[2]), float(args[3])
        opts = dict(a.split("=", 1) if "=" in a else (a, "1") for a in args[4:])
        code = open(path, "rb").read()
        name = hashlib.sha256(code).digest()
        s, me = udp()
        pkt = capsule(name, bytes(64), code=code if "carry" in opts else b"", home=opts.get("home"),
                      hop_limit=int(opts.get("hops", 16)), copies=int(opts.get("copies", 0)), dst=node)
        for i in range(n):
            s.sendto(pkt, target(node))
            time.sleep(1.0 / rate)
        out.update(sent=n, octets=len(pkt))
    elif kind == "reflect":
        node, path, n, pad = args[0], args[1], int(args[2]), int(args[3])
        name = hashlib.sha256(open(path, "rb").read()).digest()
        s, me = udp()
        victim, vaddr = udp()
        opts = addr_option(OPT_SRC, vaddr) + option(OPT_HOP_LIMIT, struct.pack("!B3x", 8))
        body = name + struct.pack("!Q", 2**64 - 1)
        req = anep(TYPE_CODE_REQUEST, opts, body + bytes(max(0, pad - 8 - len(opts) - len(body))))
        for _ in range(n):
            s.sendto(req, target(node))
        got = drain([s, victim], 1.0)
        out.update(sent=n, sent_octets=n * len(req), to_sender_octets=got[s][0], to_sender_packets=got[s][1],
                   to_victim_octets=got[victim][0], to_victim_packets=got[victim][1],
                   ratio=round(got[s][0] / (n * len(req)), 3))
    elif kind == "homeflood":
        node, n, seconds = args[0], int(args[1]), float(args[2])
        s, me = udp()
        victim, vaddr = udp()
        for i in range(n):
            name = hashlib.sha256(b"nobody has this code %d" % i).digest()
            s.sendto(capsule(name, bytes(64), home=vaddr, dst=node), target(node))
        got = drain([s, victim], seconds)
        out.update(sent=n, victim_requests=got[victim][1], victim_octets=got[victim][0],
                   prev_hop_requests=got[s][1], seconds=seconds)
    elif kind == "oversize":
        node, n = args[0], int(args[1])
        s, me = udp()
        for _ in range(n):
            s.sendto(os.urandom(9000), target(node))
        out.update(sent=n)
    elif kind == "applinks":
        path, n, seconds = args[0], int(args[1]), float(args[2])
        conns, hello = [], 0
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                c.connect(path)
            except OSError:
                c.close()
                continue
            conns.append(c)
        refused = 0
        for c in conns:  # a refused connection gets an ERROR (type 6) with why, then is closed
            c.settimeout(0.5)
            try:
                m = c.recv(4096)
                hello += len(m) > 0 and m[0] != 6
                refused += len(m) > 0 and m[0] == 6 and b"application links" in m
            except OSError:
                pass
        print(json.dumps({"kind": kind, "held": hello, "refused_with_reason": refused}), flush=True)
        time.sleep(seconds)
        return
    elif kind == "silentctl":
        path, n, seconds = args[0], int(args[1]), float(args[2])
        conns = []
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            c.connect(path)
            conns.append(c)
        time.sleep(seconds)
        closed = 0
        for c in conns:  # the node closed the ones it gave up on, saying why
            c.setblocking(False)
            try:
                said = c.recv(256)
                closed += said == b"" or said.startswith(b"error: no request")
            except BlockingIOError:
                pass
        out.update(opened=n, closed_by_node=closed)
    else:
        sys.exit("unknown kind " + kind)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
