#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Seed 001 §5's experiment (Figures 4 and 5) on router-mode nodes in network
# namespaces: senders s1 and s2 merge at g1, g1 and s3 at g2, and the link
# from g2 to the receiver r1 is a tc bottleneck (RATE, default 400kbit).
# Each sender sends four simultaneous audio flows, its own tone in each
# (500, 1100, 1700 Hz), 480 μ-law samples every 60 ms.
#   concast: r1 listens on four flows with the audio mixer; g1, g2 (and r1)
#            merge; one stream per flow crosses the bottleneck
#   unicast: the same streams sent as plain UDP to r1, mixed there
# For each, how many senders are audible at r1 in every 60 ms interval
# (an FFT of the interval), the octets that crossed the bottleneck, and
# the figure bench/concast-fig5.png. Ratios concast/unicast in one run.
#
#   bench/concast.sh [SECONDS] [RATE]      (root; ninja -C build first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${1:-10}
rate=${2:-400kbit}
[ "$(id -u)" -eq 0 ] || { echo "bench/concast.sh: needs root (network namespaces)" >&2; exit 1; }
export PATH="$PATH:/usr/sbin:/sbin"
ANODE=$root/build/tools/anode
MIXER=$root/build/apps/mixer.ao
PY=/usr/bin/python3
AUDIO=$here/concast_audio.py
export ANODE_RUN_DIR
ANODE_RUN_DIR=$(mktemp -d /tmp/anode-bench-cc.XXXXXX)
lab=cc$$
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  "$ANODE" lab down "$lab" >/dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$ANODE_RUN_DIR"
}
trap cleanup EXIT

sed "s/^link g2 r1\$/link g2 r1 $rate/" "$root/examples/concast.topo" >"$ANODE_RUN_DIR/$lab.topo"
"$ANODE" lab up "$ANODE_RUN_DIR/$lab.topo" --netns >/dev/null
r1=$(awk '$1 == "r1" {print $2}' "$ANODE_RUN_DIR/$lab/nodes" | cut -d: -f1)
freqs=(500 1100 1700)
i=0
for s in s1 s2 s3; do
  sox -n -r 8000 -c 1 -t ul "$ANODE_RUN_DIR/$s.ul" synth $((secs + 2)) sine "${freqs[$i]}" vol 0.25
  i=$((i + 1))
done
txbytes() { ip -n "an-$lab-g2" -s -j link show to-r1 | $PY -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['tx']['bytes'])"; }
n=$((secs * 1000 / 60))

# Concast.
for f in 1 2 3 4; do
  "$ANODE" -n r1 concast listen 198.18.0.1 $f "$MIXER" --seconds $((secs + 3)) \
    --out "$ANODE_RUN_DIR/cc-flow$f.msgs" >/dev/null 2>&1 &
  pids+=($!)
done
sleep 1
b0=$(txbytes)
jp=()
for s in s1 s2 s3; do
  for f in 1 2 3 4; do
    "$ANODE" -n $s concast join 198.18.0.1 r1 $f --audio "$ANODE_RUN_DIR/$s.ul" --count $n >/dev/null &
    jp+=($!)
  done
done
for p in "${jp[@]}"; do wait "$p"; done
b1=$(txbytes)
for p in "${pids[@]}"; do wait "$p" || true; done
pids=()
cc_bytes=$((b1 - b0))

# Unicast: the same streams as plain UDP, mixed at r1.
mkdir -p "$ANODE_RUN_DIR/uc"
"$ANODE" lab exec "$lab" r1 -- $PY "$AUDIO" recv 6001 $((secs + 3)) 4 "$ANODE_RUN_DIR/uc" &
rp=$!
pids+=($rp)
sleep 1
b0=$(txbytes)
jp=()
for s in s1 s2 s3; do
  "$ANODE" lab exec "$lab" $s -- $PY "$AUDIO" send "$r1" 6001 "$ANODE_RUN_DIR/$s.ul" "$secs" 4 &
  jp+=($!)
done
for p in "${jp[@]}"; do wait "$p"; done
b1=$(txbytes)
wait "$rp" || true
pids=()
uc_bytes=$((b1 - b0))

tones=$(IFS=,; echo "${freqs[*]}")
$PY "$AUDIO" count "$tones" "$ANODE_RUN_DIR"/cc-flow*.msgs >"$ANODE_RUN_DIR/cc.json"
$PY "$AUDIO" count "$tones" "$ANODE_RUN_DIR"/uc/flow*.msgs >"$ANODE_RUN_DIR/uc.json"
$PY "$AUDIO" plot "$ANODE_RUN_DIR/cc.json" "$ANODE_RUN_DIR/uc.json" "$here/concast-fig5.png"
$PY - "$ANODE_RUN_DIR/cc.json" "$ANODE_RUN_DIR/uc.json" "$cc_bytes" "$uc_bytes" "$secs" "$rate" <<'EOF' | tee "$ANODE_RUN_DIR/summary"
import json, sys
c, u = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cb, ub, secs = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print("seed 001 §5 experiment: 3 senders x 4 flows, %s s, bottleneck g2-r1 %s" % (sys.argv[5], sys.argv[6]))
print("%-8s %18s %22s %20s" % ("", "audible senders", "intervals all 3 heard", "bottleneck kbit/s"))
print("%-8s %18.2f %21.0f%% %20.0f" % ("concast", c['mean'], 100 * c['all_audible'], cb * 8 / secs / 1000))
print("%-8s %18.2f %21.0f%% %20.0f" % ("unicast", u['mean'], 100 * u['all_audible'], ub * 8 / secs / 1000))
print("ratio concast/unicast: audible %.2f, bytes across the bottleneck %.2f" %
      (c['mean'] / u['mean'] if u['mean'] else float('inf'), cb / ub if ub else float('inf')))
EOF
echo "figure: bench/concast-fig5.png"
. "$here/lib.sh"
{
  echo "<!-- concast:begin (written by bench/concast.sh; edit outside these markers) -->"
  echo "## Concast: seed 001's audio experiment, concast vs. unicast (issue 10)"
  echo
  echo "\`sudo bench/concast.sh $secs $rate\` on $(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Figure 4's topology on router-mode nodes in namespaces (concast on IP: Router Alert,"
  echo "AppID), three senders with four audio flows each (a tone per sender), the link"
  echo "g2 - r1 limited by tc tbf; audible senders counted per 60 ms interval by FFT, over all"
  echo "four flows; octets counted on g2's interface toward r1 while the senders sent."
  echo
  echo '```'
  cat "$ANODE_RUN_DIR/summary"
  echo '```'
  echo
  echo "![senders audible per interval](concast-fig5.png)"
  echo "<!-- concast:end -->"
} >"$ANODE_RUN_DIR/section"
results_section "$here/RESULTS.md" concast "$ANODE_RUN_DIR/section"
