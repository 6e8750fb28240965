#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Read `anode ping --json` (JSON Lines) on stdin and print one JSON object:
transmitted, received, the longest run of unanswered capsules between two
answers or at the end (outage_n, and outage_ms at the run's measured mean
interval), and whether the run lasted to the end (blackhole)."""
import json
import sys

seqs, summary = set(), None
for line in sys.stdin:
    d = json.loads(line)
    if "reply" in d:
        seqs.add(d["reply"]["seq"])
    elif "summary" in d:
        summary = d["summary"]
if summary is None:
    sys.exit("no summary: the ping did not finish")
sent = summary["transmitted"]
got = sorted(seqs)
interval_ms = summary["time_ms"] / sent if sent else 0
runs = [b - a - 1 for a, b in zip(got, got[1:])]
tail = sent - got[-1] if got else sent
longest = max(runs + [tail]) if got else sent
print(json.dumps({
    "transmitted": sent,
    "received": len(got),
    "outage_n": longest,
    "outage_ms": round(longest * interval_ms),
    "blackhole": tail == longest and tail > 0,
    "interval_ms": round(interval_ms, 1),
}))
