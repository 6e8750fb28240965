#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Writes the hand-made seed inputs of the fuzz corpus (files named seed-*)
# from the test vectors in tests/unit/wire/vectors.h, plus truncations and
# edge cases that each hit one rule of docs/wire.md. The rest of the corpus
# is what libFuzzer found from these (run.sh, -merge=1). Run from anywhere;
# rerunning it rewrites the same files.
import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))
vectors_h = os.path.join(here, '..', 'unit', 'wire', 'vectors.h')


def load_vectors():
    text = open(vectors_h).read()
    out = {}
    for m in re.finditer(r'static const uint8_t (\w+)\[\d+\] = \{([^}]*)\}', text):
        out[m.group(1)] = bytes(int(x, 0) for x in m.group(2).replace('\n', ' ').split(',') if x.strip())
    return out


def write(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


def anep(flags, type_id, opts, payload):
    hl = 8 + len(opts)
    return struct.pack('>BBHHH', 1, flags, type_id, hl // 4, hl + len(payload)) + opts + payload


def poke(b, at, v):
    b = bytearray(b)
    b[at] = v
    return bytes(b)


v = load_vectors()
cmin, ccar = v['vec_capsule_min'], v['vec_capsule_carried']
addr_opt = lambda t: struct.pack('>HHHH', t, 6, 6, 3322) + bytes(10) + b'\xff\xff\x0a\x00\x00\x01'
hop = struct.pack('>HHB3x', 0x101, 2, 9)

anep_seeds = {
    'capsule-min': cmin, 'capsule-carried': ccar, 'trailer': cmin + b'\xee' * 7,
    'bare': anep(0, 0x4104, b'', b''), 'prev-hop': anep(0x80, 0x4102, addr_opt(0x100) + hop, b'xyz'),
    'unknown-opt': anep(0, 0x4101, struct.pack('>HH', 0x3000, 2) + b'abcd', b''),
    'must-know': anep(0, 0x4101, struct.pack('>HH', 0xb000, 1), b''),
    'goal': anep(0, 0x4101, struct.pack('>HH', 0x8102, 3) + bytes(8), b''),
    'version2': poke(cmin, 0, 2), 'opt-zero-len': poke(cmin, 11, 0), 'dup-src': poke(cmin, 33, 1),
}
for n in (0, 7, 8, 12, 63, 64, 123):
    anep_seeds['trunc-%d' % n] = cmin[:n]
for k, b in anep_seeds.items():
    write('fuzz_anep', k, b)

caps_seeds = {
    'min': cmin, 'carried': ccar, 'no-flag': poke(ccar, 69, 0), 'flag-no-code': poke(cmin, 117, 1),
    'pad': poke(ccar, 79, 1), 'code-long': poke(ccar, 71, 9), 'home-zero': poke(ccar, 67, 1),
    'prev-hop': anep(0, 0x4101, addr_opt(0x100) + hop, ccar[16:]),
    'not-capsule': poke(cmin, 3, 2), 'short': poke(cmin, 7, 119),
}
for k, b in caps_seeds.items():
    write('fuzz_capsule', k, b)

hdr = lambda t, st=0: struct.pack('>BBHi', t, 1, 0, st)
app_seeds = {
    'hello': v['vec_hello'], 'deliver': v['vec_deliver'], 'code-result': v['vec_code_result'],
    'inject': hdr(2) + cmin, 'code-insert': hdr(4) + b'\x7fELF\x02\x01\x01' + bytes(9),
    'error': hdr(6, -2) + b'no such code', 'error-empty': hdr(6, -5),
    'hello-64': v['vec_hello'][:36] + b'n' * 64, 'hello-pad': v['vec_hello'] + bytes(5),
    'hello-noname': v['vec_hello'][:36], 'version2': poke(v['vec_hello'], 1, 2), 'type7': hdr(7),
    'short': v['vec_hello'][:5],
}
for k, b in app_seeds.items():
    write('fuzz_applink', k, b)

addr_seeds = [
    '127.0.0.1:3322', '[::1]:3322', '[2001:db8::1]:1', '255.255.255.255:65535', '[::ffff:10.0.0.1]:7',
    '[fe80::1%1]:1', '127.0.0.1:0', '127.0.0.1:65536', '::1:3322', '[::1]', '1.2.3.4:00080', '[]:1',
    '[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535',
]
for i, s in enumerate(addr_seeds):
    write('fuzz_addr', '%02d' % i, s.encode())
