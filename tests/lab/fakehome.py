#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A scripted code home, for the on-demand loading tests.

Sends capsules that name a code object to a node, from a UDP socket of its
own that is both the capsules' previous hop and their code home, and then
answers the node's code requests as told: faithfully, losing a chunk the
first time, with bytes that do not hash to the name, or not at all. Prints
one JSON line: the requests it saw (bitmaps of wanted chunks), their sizes
in octets, and how many chunks the code has.
Written from docs/wire.md, independently of src/wire.

usage: fakehome.py NODE_ADDR:PORT MODE CODE.ao [N_CAPSULES] [SECONDS] [HOME]
MODE: serve | lose1 | wrong | silent
HOME: another code home to name in the capsules (default: this script)
"""
import hashlib
import json
import select
import socket
import struct
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from badpkt import TYPE_CAPSULE, addr_option, anep, capsule, option, OPT_SRC, OPT_DST, OPT_HOP_LIMIT  # noqa: E402

TYPE_CODE_REQUEST, TYPE_CODE_RESPONSE = 0x4102, 0x4103
CHUNK = 1024


def parse_request(pkt):
    version, flags, type_id, hdr_words, pkt_len = struct.unpack("!BBHHH", pkt[:8])
    if type_id != TYPE_CODE_REQUEST:
        return None
    payload = pkt[hdr_words * 4:pkt_len]
    name, want = payload[:32], struct.unpack("!Q", payload[32:40])[0]
    return name, want


def chunk_packet(me, node, name, code, index):
    count = (len(code) + CHUNK - 1) // CHUNK
    data = code[index * CHUNK:(index + 1) * CHUNK]
    opts = addr_option(OPT_SRC, me) + addr_option(OPT_DST, node) + option(OPT_HOP_LIMIT, struct.pack("!B3x", 64))
    return anep(TYPE_CODE_RESPONSE, opts, name + struct.pack("!IHH", len(code), index, count) + data)


def main():
    node, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
    n_capsules = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    home = sys.argv[6] if len(sys.argv) > 6 else None
    code = open(path, "rb").read()
    name = hashlib.sha256(code).digest()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    me = "127.0.0.1:%d" % s.getsockname()[1]
    host, port = node.rsplit(":", 1)
    for _ in range(n_capsules):
        s.sendto(capsule(name, bytes(200), home=home or me, dst=node), (host, int(port)))
    served = code if mode != "wrong" else code[:-1] + bytes([code[-1] ^ 0xFF])
    requests, sizes = [], []
    lost = False
    end = time.time() + seconds
    while time.time() < end:
        if not select.select([s], [], [], max(0, end - time.time()))[0]:
            break
        pkt, _ = s.recvfrom(65536)
        req = parse_request(pkt)
        if not req or req[0] != name:
            continue
        want = req[1]
        requests.append(want)
        sizes.append(len(pkt))
        if mode == "silent":
            continue
        count = (len(code) + CHUNK - 1) // CHUNK
        for i in range(count):
            if not want & (1 << i):
                continue
            if mode == "lose1" and i == 1 and not lost:
                lost = True
                continue  # lost on the way, the first time it is sent
            s.sendto(chunk_packet(me, node, name, served, i), (host, int(port)))
    print(json.dumps({"requests": requests, "sizes": sizes, "chunks": (len(code) + CHUNK - 1) // CHUNK}))


if __name__ == "__main__":
    main()
