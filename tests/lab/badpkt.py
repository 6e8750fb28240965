#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Send hand-made ANEP packets to a node, for the bad-input tests.

An encoder written from docs/wire.md alone, independent of src/wire, so
that the tests also check the node against the documented format.

usage: badpkt.py ADDR:PORT KIND [ARGS]   (see KINDS below)
"""
import hashlib
import os
import socket
import struct
import sys

TYPE_CAPSULE = 0x4101
TYPE_CODE_REQUEST = 0x4102
OPT_SRC, OPT_DST, OPT_HOP_LIMIT = 1, 2, 0x101
MUST_KNOW = 0x2


def addr_bytes(text):
    host, port = text.rsplit(":", 1)
    ip = socket.inet_pton(socket.AF_INET6, "::ffff:" + host)
    return ip, int(port)


def option(opt_type, value, flags=0):
    assert len(value) % 4 == 0
    return struct.pack("!HH", (flags << 14) | opt_type, 1 + len(value) // 4) + value


def addr_option(opt_type, text):
    ip, port = addr_bytes(text)
    return option(opt_type, struct.pack("!HH", 6, port) + ip)


def anep(type_id, options, payload, flags=0, version=1, pkt_len=None, hdr_words=None):
    hdr_len = 8 + len(options)
    if hdr_words is None:
        hdr_words = hdr_len // 4
    if pkt_len is None:
        pkt_len = hdr_len + len(payload)
    return struct.pack("!BBHHH", version, flags, type_id, hdr_words, pkt_len) + options + payload


def capsule(name, data, code=b"", flags=None, hop_limit=8, dst=None, home=None):
    if flags is None:
        flags = 1 if code else 0
    ip, port = addr_bytes(home) if home else (bytes(16), 0)
    hdr = name + ip + struct.pack("!HHHH", port, 0, flags, len(code))
    pad = b"\0" * (-len(code) % 4)
    opts = option(OPT_HOP_LIMIT, struct.pack("!B3x", hop_limit))
    if dst:
        opts = addr_option(OPT_DST, dst) + opts
    return anep(TYPE_CAPSULE, opts, hdr + code + pad + data)


def main():
    target, kind = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    host, port = target.rsplit(":", 1)
    good_name = hashlib.sha256(b"no such code object").digest()
    if kind == "garbage":  # random bytes of every length up to 64
        pkts = [os.urandom(n) for n in range(0, 64)]
    elif kind == "version":  # ANEP version 2
        pkts = [anep(TYPE_CAPSULE, b"", bytes(64), version=2)]
    elif kind == "truncated":  # a capsule cut at every length below its header
        whole = capsule(good_name, b"data")
        pkts = [whole[:n] for n in range(8, len(whole) - 4)]
        # and ANEP lengths that lie: past the datagram, header past packet
        pkts.append(anep(TYPE_CAPSULE, b"", bytes(60), pkt_len=200))
        pkts.append(anep(TYPE_CAPSULE, b"", bytes(60), hdr_words=30))
    elif kind == "must-know":  # an unknown option the sender says must be known
        pkts = [anep(TYPE_CAPSULE, option(0x3fff, bytes(4), flags=MUST_KNOW), bytes(60))]
    elif kind == "unknown-drop":  # unknown Type ID, flag says drop
        pkts = [anep(0x7777, b"", b"payload!", flags=0x80)]
    elif kind == "unknown-forward":  # unknown Type ID, forward by default routing toward args[0]
        dst = addr_option(OPT_DST, args[0])
        hl = option(OPT_HOP_LIMIT, struct.pack("!B3x", 8))
        pkts = [anep(0x7777, dst + hl, b"payload!")]
    elif kind == "unknown-noroute":  # unknown Type ID, forward flag, no destination
        pkts = [anep(0x7777, b"", b"payload!")]
    elif kind == "hop-limit":  # a capsule that arrives with no hops left
        pkts = [capsule(good_name, b"x" * 8, hop_limit=0)]
    elif kind == "code-missing":  # names code nobody has
        pkts = [capsule(good_name, b"x" * 8)]
    elif kind == "carried-mismatch":  # carried code that does not hash to its name
        code = open(args[0], "rb").read()
        pkts = [capsule(good_name, b"x" * 8, code=code)]
    elif kind == "carried":  # carried code under its true name (args: file, count)
        code = open(args[0], "rb").read()
        name = hashlib.sha256(code).digest()
        pkts = [capsule(name, b"x" * 8, code=code) for _ in range(int(args[1]))]
    elif kind == "code-request":  # a code request without its requester (SRC)
        pkts = [anep(TYPE_CODE_REQUEST, b"", good_name + bytes(8))]
    elif kind == "signal":  # Type ID 0x4104 with no signalling message in it (args: [destination])
        opts = addr_option(OPT_DST, args[0]) + option(OPT_HOP_LIMIT, struct.pack("!B3x", 8)) if args else b""
        pkts = [anep(0x4104, opts, bytes(16))]
    else:
        sys.exit("unknown kind " + kind)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in pkts:
        s.sendto(p, (host, int(port)))
    print(len(pkts))


if __name__ == "__main__":
    main()
