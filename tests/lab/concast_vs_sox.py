#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compare a concast receiver's mixed audio with sox's mix of the senders'.

Usage: concast_vs_sox.py DIR I...

DIR holds, for each sender I, its raw mu-law file tI.ul and its `concast
join --audio --json` output aI (whose last line gives first_seq, the number
of its first message), and the receiver's messages mix.msgs (each a 4-octet
sequence number and 480 samples, as `concast listen --out` writes them).
The senders' files are lined up by their first numbers (silence before a
sender began), mixed with `sox -D -m -v 1 ...`, and each received interval
is compared with sox's at its number. Prints three numbers: intervals
identical, intervals received, intervals with a sample more than one mu-law
step from sox's.
"""
import json
import struct
import subprocess
import sys

SAMPLES = 480


def linear(u):
    """The 16-bit value of a mu-law octet (G.711)."""
    u = ~u & 0xff
    mag = ((((u & 15) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84
    return -mag if u & 0x80 else mag


def segment(u):
    return (~u >> 4) & 7


def main():
    d, senders = sys.argv[1], sys.argv[2:]
    first = {i: json.loads(open(f'{d}/a{i}').read().splitlines()[-1])['first_seq'] for i in senders}
    base = min(first.values())
    cmd = ['sox', '-D', '-m']
    for i in senders:
        pcm = open(f'{d}/t{i}.ul', 'rb').read()
        with open(f'{d}/aligned{i}.ul', 'wb') as f:
            f.write(b'\xff' * SAMPLES * (first[i] - base) + pcm + b'\xff' * SAMPLES * 4)
        cmd += ['-v', '1', '-t', 'ul', '-r', '8000', '-c', '1', f'{d}/aligned{i}.ul']
    subprocess.run(cmd + ['-t', 'ul', f'{d}/sox.ul'], check=True, stderr=subprocess.DEVNULL)
    ref = open(f'{d}/sox.ul', 'rb').read()
    raw = open(f'{d}/mix.msgs', 'rb').read()
    same = total = worse = 0
    for k in range(0, len(raw) - SAMPLES - 3, SAMPLES + 4):
        seq = struct.unpack('>I', raw[k:k + 4])[0]
        got = raw[k + 4:k + 4 + SAMPLES]
        want = ref[SAMPLES * (seq - base):SAMPLES * (seq - base + 1)]
        total += 1
        same += got == want
        # One mu-law step at the larger magnitude is 8 << segment.
        worse += len(got) != len(want) or any(
            abs(linear(a) - linear(b)) > 8 << max(segment(a), segment(b)) for a, b in zip(got, want))
    print(same, total, worse)


if __name__ == '__main__':
    main()
