#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The adaptation service (issue 21, seed 000 §3.2; docs/apps/adapt.md):
# h1 -- r -- h2 in network namespaces of this run, r an anode router with a
# policy and tc shaping r's link to h2 at 10 Mbit/s. ffmpeg on h1 streams
# MPEG-TS over UDP to h2 with two encodings of one source: 3 Mbit/s under
# PID 0x100 and 300 kbit/s under PID 0x101. alice activates anode-adapt on
# r, subscribed to the capacity of r's link to h2. After 3 s tc lowers the
# link to 1 Mbit/s, after 8 s it gives back 10. Checked: the service wakes
# on the change, thins the stream to PID 0x101 and the tables, and sleeps
# again when the capacity returns; h2 received the 300 kbit/s encoding
# with under 1 % of its packets lost and ffmpeg decodes it without an
# error (lost: what ffmpeg sent, recorded on h1 by its tee muxer, less
# what h2 got), while an attacker on h3 sends PATs that would make a
# credulous service keep the 3 Mbit/s encoding. The same run without the service: what h2 lost is
# reported, and must be more. Needs root, ip netns, tc, bubblewrap and ffmpeg; skips
# otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
for t in bwrap iptables tc ffmpeg; do command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }; done
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || { echo "SKIP: no cgroup v1 memory controller"; exit 77; }
ANODE_ADAPT=${ANODE_ADAPT:?path to anode-adapt}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"

H1= R= H2= X=
dir=$ANODE_RUN_DIR/ad
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
install -m 755 "$ANODE_ADAPT" "$dir/anode-adapt"
pids=()
trap hrh_finish EXIT
hrh_up ad
h2=10.$X.2.2
# An attacker's host h3 on a third link of r.
H3=an-ad-$$-h3
HRH_EXTRA=$H3
ip netns add "$H3"
ip -n "$H3" link set lo up
ip -n "$H3" link add eth0 type veth peer name r3 netns "$R"
ip -n "$H3" addr add 10.$X.3.2/24 dev eth0
ip -n "$R" addr add 10.$X.3.1/24 dev r3
ip -n "$H3" link set eth0 up
ip -n "$R" link set r3 up
ip -n "$H3" route add default via 10.$X.3.1
shape() { tc -n "$R" qdisc "$1" dev r2 root tbf rate "$2" burst 32kbit latency 300ms; }
shape add 10mbit

"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
cat >"$dir/policy" <<POL
user alice $(cat "$dir/alice.pub")
service adapt program $dir/anode-adapt
allow alice service adapt
allow alice filter $h2/32 proto udp ports 6000
POL
printf 'name ad\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
logged() { grep -q -e "$1" "$dir/node.log"; }
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:ad:' || true; }
as_alice=(--key "$dir/alice.key" --user alice)

# One run: 12 s of the two encodings, the link at 1 Mbit/s from 3 s to 8 s.
# Prints the receiver's report.
stream() { # name
  ip netns exec "$H2" /usr/bin/python3 "$SRC_DIR/tests/lab/ts_recv.py" 6000 "$dir/$1.ts" >"$dir/$1.report" &
  local recv=$!
  sleep 0.3
  ip netns exec "$H1" ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i testsrc=size=640x360:rate=25 \
    -t 12 -filter_complex "[0:v]split=2[a][b];[b]scale=320:180[b2]" -map "[a]" -map "[b2]" -c:v mpeg2video \
    -b:v:0 3M -minrate:v:0 3M -maxrate:v:0 3M -bufsize:v:0 1M \
    -b:v:1 300k -minrate:v:1 300k -maxrate:v:1 300k -bufsize:v:1 200k -g 12 \
    -f tee "[f=mpegts]udp\\://$h2\\:6000?pkt_size=1316|[f=mpegts]$dir/$1.sent.ts" 2>"$dir/$1.ffmpeg" &
  local send=$!
  sleep 3
  shape change 1mbit
  if [ "${2:-}" = attack ]; then
    # h3 sends PATs to h2's port naming the 3 Mbit/s encoding's PID 0x100
    # as a PMT, so that a service that believed them would keep it.
    ip netns exec "$H3" /usr/bin/python3 -c "
import socket, time
section = bytes([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe1, 0x00, 0, 0, 0, 0])
pkt = bytes([0x47, 0x40, 0x00, 0x10, 0x00]) + section
pkt += b'\xff' * (188 - len(pkt))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(40):
    s.sendto(pkt, ('$h2', 6000))
    time.sleep(0.05)" &
  fi
  sleep 5
  shape change 10mbit
  wait "$send" || fail "ffmpeg could not stream: $(cat "$dir/$1.ffmpeg")"
  sleep 0.5
  kill "$recv"
  wait "$recv" 2>/dev/null
  cat "$dir/$1.report"
  /usr/bin/python3 "$SRC_DIR/tests/lab/ts_recv.py" --count "$dir/$1.sent.ts" | sed 's/^pid=\([^ ]*\) packets=/pid=\1 sent=/'
}
field() { # pid key report
  awk -v p="pid=$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' <<<"$3"
}

"$ANODE" -n "$dir/n.app" svc activate adapt dev=r2 dst=$h2 port=6000 rate=4000000 keep=0x101 src=10.$X.1.2 \
  "${as_alice[@]}" >/dev/null
wait_for "the service to sleep" 10 logged 'adapt: asleep: the stream to'
expect_eq "asleep: no filter for the stream" "$(rules)" 1
with=$(stream with attack)
echo "# with the service: $(tr '\n' ' ' <<<"$with")"
logged 'adapt: the link is slower than the stream (resource=iface_capacity_bps dev=r2 state=thin previous=full value=1000000)' ||
  fail "the service did not hear the link slow down"
wait_for "the filter" 5 logged 'adapt: awake: filter [0-9]* installed'
filter_ms=$(sed -n 's/.*adapt: awake: filter [0-9]* installed \([0-9.]*\) ms after the event.*/\1/p' "$dir/node.log" | head -1)
ok "tc lowers the link to 1 Mbit/s: the service wakes and filters the stream ($filter_ms ms from the event to the filter)"
wait_for "the service to sleep again" 5 logged 'adapt: filter [0-9]* removed: asleep'
expect_match "...thins it while the link is slow, and sleeps when it is back to 10 Mbit/s" \
  "$(grep 'adapt: the link carries the stream again' "$dir/node.log")" 'TS packets kept, [1-9][0-9]* cut'
expect_eq "...its filter gone" "$(rules)" 1
low=$(field 0x101 packets "$with") lost=$(($(field 0x101 sent "$with") - $(field 0x101 packets "$with")))
[ "${low:-0}" -ge 2000 ] || fail "h2 got ${low:-no} packets of the 300 kbit/s encoding"
[ $((lost * 100)) -lt "$low" ] || fail "h2 lost $lost of $((low + lost)) packets of the 300 kbit/s encoding (1 % allowed)"
[ "$(field 0x101 missing "$with")" = 0 ] || [ "$lost" -gt 0 ] || fail "the counts disagree"
ok "h2 got the 300 kbit/s encoding throughout, $lost of $((low + lost)) packets lost (under 1 %)"
errors=$(ffmpeg -nostdin -v error -i "$dir/with.ts" -map 0:i:0x101 -f null - 2>&1 | head -5)
[ -z "$errors" ] || fail "ffmpeg found errors decoding it: $errors"
ok "...and ffmpeg decodes it without an error"
ok "...while h3 sent PATs naming the 3 Mbit/s encoding's PID as a PMT: the service (src= the sender) never read them"

"$ANODE" -n "$dir/n.app" svc stop adapt "${as_alice[@]}" >/dev/null
without=$(stream without)
echo "# without the service: $(tr '\n' ' ' <<<"$without")"
low_w=$(field 0x101 packets "$without") lost_w=$(($(field 0x101 sent "$without") - $(field 0x101 packets "$without")))
high_w=$(field 0x100 packets "$without") hlost_w=$(($(field 0x100 sent "$without") - $(field 0x100 packets "$without")))
echo "# without the service h2 lost $lost_w of $((low_w + lost_w)) packets of the 300 kbit/s encoding and $hlost_w of $((high_w + hlost_w)) of the 3 Mbit/s one"
echo "# ...and ffmpeg's decoder said $(ffmpeg -nostdin -v error -i "$dir/without.ts" -map 0:i:0x101 -f null - 2>&1 | wc -l) error lines decoding it"
[ "$lost_w" -gt "$lost" ] || fail "without the service h2 lost no more ($lost_w) than with it ($lost)"
ok "without the service h2 loses more of the 300 kbit/s encoding ($lost_w packets)"
echo "$checks checks passed"
