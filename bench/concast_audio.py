#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Seed 001 §5's audio experiment, the parts that are not anode: the plain
unicast sender and receiver it is compared with, the count of senders
audible in each 60 ms interval, and the figure.

  concast_audio.py send DST_IP PORT TONE.ul SECONDS FLOWS
        FLOWS unicast streams (ports PORT..PORT+FLOWS-1) of 480 μ-law samples
        every 60 ms after a 4-octet sequence number (the wall clock's 60 ms
        interval), as `anode concast join --audio` sends them
  concast_audio.py recv PORT SECONDS FLOWS OUTDIR
        receive them; per flow, mix what came for each interval (summed in
        linear, clipped, back to μ-law) into OUTDIR/flowN.msgs, in the
        format `anode concast listen --out` writes (sequence + samples)
  concast_audio.py count FREQ,FREQ,... FILE...
        per interval from the first to the last, how many of the tones are
        audible (missing intervals: none); JSON on stdout
  concast_audio.py plot CONCAST.json UNICAST.json OUT.png
"""
import json
import socket
import struct
import sys
import time

import numpy as np

SAMPLES = 480
MSG = 4 + SAMPLES


def ulaw_table():
    t = np.zeros(256, dtype=np.int32)
    for b in range(256):
        u = ~b & 0xff
        mag = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84
        t[b] = -mag if u & 0x80 else mag
    return t


DECODE = ulaw_table()


def encode(x):
    x = np.clip(x, -32635, 32635)
    sign = np.where(x < 0, 0x80, 0)
    m = np.abs(x) + 0x84
    seg = np.floor(np.log2(m >> 7)).astype(int)
    step = (m >> (seg + 3)) & 0x0f
    return (~(sign | (seg << 4) | step) & 0xff).astype(np.uint8)


def send(dst, port, tone, seconds, flows):
    data = open(tone, 'rb').read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = int(seconds / 0.06)
    t = time.monotonic()
    for i in range(n):
        chunk = data[(i * SAMPLES) % (len(data) - SAMPLES):][:SAMPLES]
        seq = int(time.time() * 1000) // 60
        for f in range(flows):
            s.sendto(struct.pack('>I', seq & 0xffffffff) + chunk, (dst, port + f))
        t += 0.06
        time.sleep(max(0, t - time.monotonic()))


def recv(port, seconds, flows, outdir):
    socks = []
    for f in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', port + f))
        s.setblocking(False)
        socks.append(s)
    got = [dict() for _ in range(flows)]
    end = time.monotonic() + seconds
    import select
    while time.monotonic() < end:
        r, _, _ = select.select(socks, [], [], 0.1)
        for s in r:
            f = socks.index(s)
            while True:
                try:
                    b = s.recv(2048)
                except BlockingIOError:
                    break
                if len(b) != MSG:
                    continue
                seq = struct.unpack('>I', b[:4])[0]
                got[f].setdefault(seq, []).append(DECODE[np.frombuffer(b[4:], dtype=np.uint8)])
    for f in range(flows):
        with open('%s/flow%d.msgs' % (outdir, f + 1), 'wb') as out:
            for seq in sorted(got[f]):
                mix = encode(np.sum(got[f][seq], axis=0))
                out.write(struct.pack('>I', seq) + mix.tobytes())


def audible(freqs, path):
    raw = open(path, 'rb').read()
    msgs = {}
    for i in range(0, len(raw) - MSG + 1, MSG):
        seq = struct.unpack('>I', raw[i:i + 4])[0]
        msgs[seq] = DECODE[np.frombuffer(raw[i + 4:i + MSG], dtype=np.uint8)].astype(float)
    if not msgs:
        return []
    win = np.hanning(SAMPLES)
    counts = []
    for seq in range(min(msgs), max(msgs) + 1):
        if seq not in msgs:
            counts.append(0)
            continue
        spec = np.abs(np.fft.rfft(msgs[seq] * win))
        # A tone is audible when its bin stands well above the interval's
        # median (the noise floor) and above a fixed level.
        floor = np.median(spec) + 1.0
        k = 0
        for fr in freqs:
            b = int(round(fr * SAMPLES / 8000))
            if spec[b - 1:b + 2].max() > max(20 * floor, 50000):
                k += 1
        counts.append(k)
    return counts


def count(freqs, files):
    out = {'files': {}}
    for f in files:
        out['files'][f] = audible(freqs, f)
    allc = [c for v in out['files'].values() for c in v]
    out['mean'] = float(np.mean(allc)) if allc else 0.0
    out['all_audible'] = float(np.mean([c == len(freqs) for c in allc])) if allc else 0.0
    json.dump(out, sys.stdout)
    print()


def plot(cjson, ujson, png):
    """Every flow in its own panel (flow k of concast against flow k of
    unicast), each with its own means, and the overall means the summary
    states in the title: one flow alone can favour either."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    c = json.load(open(cjson))
    u = json.load(open(ujson))
    cfs, ufs = sorted(c['files']), sorted(u['files'])
    n = min(len(cfs), len(ufs))
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.4 * rows + 0.6), sharex=True, sharey=True, squeeze=False)
    for k in range(rows * cols):
        ax = axes[k // cols][k % cols]
        if k >= n:
            ax.axis('off')
            continue
        cv, uv = c['files'][cfs[k]], u['files'][ufs[k]]
        ax.plot(np.arange(len(cv)) * 0.06, cv, drawstyle='steps-post',
                label='concast (mean %.2f)' % (np.mean(cv) if cv else 0))
        ax.plot(np.arange(len(uv)) * 0.06, uv, drawstyle='steps-post',
                label='unicast (mean %.2f)' % (np.mean(uv) if uv else 0), alpha=0.8)
        ax.set_ylim(-0.2, 3.4)
        ax.set_yticks([0, 1, 2, 3])
        ax.set_title('flow %d' % (k + 1), fontsize=9)
        ax.legend(loc='lower right', fontsize=8)
        if k // cols == rows - 1:
            ax.set_xlabel('time (s)')
        if k % cols == 0:
            ax.set_ylabel('senders audible')
    fig.suptitle('Senders heard in each 60 ms interval at R1, every flow (seed 001 Fig. 5): '
                 'concast %.2f, unicast %.2f on average' % (c['mean'], u['mean']), fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


def main():
    cmd = sys.argv[1]
    if cmd == 'send':
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6]))
    elif cmd == 'recv':
        recv(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif cmd == 'count':
        count([float(x) for x in sys.argv[2].split(',')], sys.argv[3:])
    elif cmd == 'plot':
        plot(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
