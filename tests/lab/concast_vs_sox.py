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
is compared with sox's at its number. An interval that differs may be one
a sender's message missed (the mixer sends an interval 60 ms after its
first message without the late ones): it must then be the mix of the
others, computed here (decode, sum, clip, encode: sox's own sum while it
does not clip). Prints four numbers: intervals identical to sox's,
intervals received, intervals that are neither within one mu-law step of
sox's at every sample nor the mix of some of the senders (mixing errors),
and intervals that were the mix of fewer senders (late messages).
"""
import itertools
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


def encode(pcm):
    """The mu-law octet of a linear sample, clipped (G.711, as src/core/g711.h)."""
    sign = 0
    if pcm < 0:
        pcm, sign = min(-pcm, 32635), 0x80
    pcm = min(pcm, 32635) + 0x84
    seg = (pcm >> 8).bit_length()
    return ~(sign | seg << 4 | (pcm >> (seg + 3)) & 15) & 0xff


def near(got, want):
    """Every sample within one mu-law step (8 << segment at the larger)."""
    return len(got) == len(want) and all(
        abs(linear(a) - linear(b)) <= 8 << max(segment(a), segment(b)) for a, b in zip(got, want))


def main():
    d, senders = sys.argv[1], sys.argv[2:]
    first = {i: json.loads(open(f'{d}/a{i}').read().splitlines()[-1])['first_seq'] for i in senders}
    base = min(first.values())
    cmd = ['sox', '-D', '-m']
    aligned = {}
    for i in senders:
        pcm = open(f'{d}/t{i}.ul', 'rb').read()
        aligned[i] = b'\xff' * SAMPLES * (first[i] - base) + pcm + b'\xff' * SAMPLES * 4
        with open(f'{d}/aligned{i}.ul', 'wb') as f:
            f.write(aligned[i])
        cmd += ['-v', '1', '-t', 'ul', '-r', '8000', '-c', '1', f'{d}/aligned{i}.ul']
    subprocess.run(cmd + ['-t', 'ul', f'{d}/sox.ul'], check=True, stderr=subprocess.DEVNULL)
    ref = open(f'{d}/sox.ul', 'rb').read()
    raw = open(f'{d}/mix.msgs', 'rb').read()
    subsets = [c for n in range(1, len(senders)) for c in itertools.combinations(senders, n)]
    same = total = worse = partial = 0
    for k in range(0, len(raw) - SAMPLES - 3, SAMPLES + 4):
        seq = struct.unpack('>I', raw[k:k + 4])[0]
        at = SAMPLES * (seq - base)
        got = raw[k + 4:k + 4 + SAMPLES]
        want = ref[at:at + SAMPLES]
        total += 1
        same += got == want
        if near(got, want):
            continue
        mixes = (bytes(encode(sum(linear(aligned[i][at + j]) for i in c)) for j in range(SAMPLES)) for c in subsets)
        if any(near(got, m) for m in mixes):
            partial += 1
        else:
            worse += 1
    print(same, total, worse, partial)


if __name__ == '__main__':
    main()
