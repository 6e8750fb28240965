#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Forge one TCP segment carrying an RTSP message (tests/lab/test_caching.sh:
an attacker who can send as the RTSP server tries to make the caching
service take a session of its choosing). Raw socket: root.

  rtsp_forge.py SRC SPORT DST DPORT TEXT    (TEXT's \\n become CRLF)"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
payload = sys.argv[5].replace('\\n', '\r\n').encode()
hdr = struct.pack('!HHIIBBHHH', sport, dport, 12345, 67890, 5 << 4, 0x18, 65535, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(hdr) + len(payload))
hdr = hdr[:16] + struct.pack('!H', csum(pseudo + hdr + payload)) + hdr[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.sendto(hdr + payload, (dst, 0))
