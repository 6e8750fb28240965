#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write a pcap of on-path signalling messages (ANEP Type ID 0x4104 in
UDP 3322 from 10.200.0.1 to 10.200.0.22), one per file given, for the
dissector test: sig_pcap.py OUT.pcap MESSAGE-FILE..."""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def frame(payload):
    anep = struct.pack('!BBHHH', 1, 0, 0x4104, 2, 8 + len(payload)) + payload
    udp = struct.pack('!HHHH', 3322, 3322, 8 + len(anep), 0) + anep
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 200, 0, 1]),
                     bytes([10, 200, 0, 22]))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip + udp


out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for i, name in enumerate(sys.argv[2:]):
    d = frame(open(name, 'rb').read())
    out += struct.pack('<IIII', 1796310000 + i, 0, len(d), len(d)) + d
open(sys.argv[1], 'wb').write(out)
