#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The caching service for a mobile host (issue 21, seed 000 §3.2;
# docs/apps/caching.md): h1 -- r -- h2 in network namespaces of this run.
# GStreamer's RTSP server on h1 (tests/lab/rtsp_server.py) streams a live
# tone, one RTP packet each 20 ms, to a client on h2 (rtsp_ctl open, its
# RTP read by rtp_recv.py). alice activates anode-cache on r, an anode
# router with a policy. Checked: while h2 is there the stream crosses r
# with no filter for it; h2's link goes down for 2 s; the service hears it
# from the presence monitor, filters and keeps the stream and PAUSEs the
# session; h2 comes back, gets what was kept, and the stream goes on after
# PLAY; the client missed only what the router forwarded before the service
# could know, saw nothing twice or out of order, and the server logged
# PAUSE and PLAY on the client's session. Then without PAUSE (pause=no) for
# 1 s: the service keeps and replays it all. Then ffmpeg as the client, a
# real player: it plays on across a 2 s absence. Attacked: answers forged
# from the server's address naming sessions of the attacker's are refused. Needs root, ip
# netns, bubblewrap, ffmpeg and GStreamer's RTSP server; skips otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
for t in bwrap iptables ffmpeg; do command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }; done
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || { echo "SKIP: no cgroup v1 memory controller"; exit 77; }
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null ||
  { echo "SKIP: gir1.2-gst-rtsp-server-1.0 or python3-gi is missing (scripts/deps.sh installs them)"; exit 77; }
ANODE_CACHE=${ANODE_CACHE:?path to anode-cache}
RTSP_CTL=${RTSP_CTL:?path to rtsp_ctl}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/ca
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
install -m 755 "$ANODE_CACHE" "$dir/anode-cache"
pids=()
trap hrh_finish EXIT
hrh_up ca
h1=10.$X.1.2 h2=10.$X.2.2
# h2 announces itself when its link comes back (a gratuitous ARP), as a
# mobile host does when it joins a network again: r's neighbour entry for
# it, left waiting when it went, resolves at once rather than at the
# kernel's next retry (up to a second or two later).
ip netns exec "$H2" sysctl -qw net.ipv4.conf.eth0.arp_notify=1

"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
cat >"$dir/policy" <<POL
user alice $(cat "$dir/alice.pub")
service cache program $dir/anode-cache
allow alice service cache
allow alice filter $h1/32 proto tcp ports 8554
allow alice filter $h2/32 proto tcp
allow alice filter $h2/32 proto udp ports 5000-5999
POL
printf 'name ca\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
logged() { grep -q -e "$1" "$dir/node.log"; }
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:ca:' || true; }

ip netns exec "$H1" /usr/bin/python3 "$SRC_DIR/tests/lab/rtsp_server.py" "$h1" 8554 "$dir/requests" \
  >"$dir/server.out" 2>&1 &
pids+=($!)
wait_for "the RTSP server" 10 grep -q ready "$dir/server.out"

"$ANODE" -n "$dir/n.app" svc activate cache server=$h1:8554 client=$h2 store=1M \
  --key "$dir/alice.key" --user alice >/dev/null
wait_for "the service to watch h2" 10 logged "cache: watching $h2's RTSP sessions"
# Its two filters are asked for as it starts to watch; the second may be
# installed a little later (seen under ASan).
three_rules() { [ "$(rules)" = 3 ]; }
wait_for "the service's two filters" 10 three_rules
expect_eq "the service filters the RTSP control connection only (two rules and the node's)" "$(rules)" 3

ip netns exec "$H2" /usr/bin/python3 "$SRC_DIR/tests/lab/rtp_recv.py" 5004 "$dir/rtp" >"$dir/rtp.report" &
recv_pid=$!
pids+=($recv_pid)
ip netns exec "$H2" "$RTSP_CTL" open "rtsp://$h1:8554/test" 5004 >"$dir/open.out" &
pids+=($!)
wait_for "the client's session" 10 grep -q session= "$dir/open.out"
session=$(sed -n 's/^session=\([^ ]*\).*/\1/p' "$dir/open.out")
wait_for "the service to learn the session" 10 logged "cache: session $session"
learned=$(grep 'cache: ' "$dir/node.log")
expect_match "...its control URL, from the client's PLAY" "$learned" "control URL rtsp://$h1:8554/test$"
expect_match "...and the client's ports, from its SETUP" "$learned" 'the client receives on ports 5004-5005'

# An attacker who can send as the server (here from h1 itself, through a
# raw socket) forges answers naming sessions of its choosing: to a port of
# the client's it guessed, and on the client's real control connection
# with a CSeq it guessed. The service takes neither; the client notices
# nothing (below: the real session is paused and played, no gap).
cport=$(ip netns exec "$H2" ss -Htn state established '( dport = :8554 )' | awk '{ sub(/.*:/, "", $3); print $3; exit }')
forge() { ip netns exec "$H1" /usr/bin/python3 "$SRC_DIR/tests/lab/rtsp_forge.py" "$h1" 8554 "$h2" "$@"; }
forge 40000 'RTSP/1.0 200 OK\nCSeq: 2\nSession: evil1\n\n'
forge "$cport" 'RTSP/1.0 200 OK\nCSeq: 7\nSession: evil2\n\n'
wait_for "the service to refuse the forged answers" 5 logged 'naming session evil2 to no SETUP seen'
expect_match "forged answers naming sessions are refused, saying why" "$(grep 'cache: ' "$dir/node.log")" \
  'an answer naming session evil1 to no SETUP seen from the client: ignored \(1 so far\)'
logged 'cache: session evil' && fail "the service took a forged session"
ok "...and the service keeps the client's session ($session)"
sleep 1.5
expect_eq "while h2 is there the stream crosses r with no filter for it" "$(rules)" 3
before=$(wc -l <"$dir/rtp")
[ "$before" -ge 50 ] || fail "the stream does not reach h2: $before packets"

# h2 leaves for 2 s. (Its default route goes with the link; put back.)
# The kernel takes some time to take a link down (h2's end stops taking
# packets first, r's end loses carrier last, after RCU grace periods):
# what r forwards meanwhile is lost before anyone on r can know.
t0=$(date +%s%N)
ip -n "$H2" link set eth0 down
down_ms=$((($(date +%s%N) - t0) / 1000000))
wait_for "the service to hear h2 go" 5 logged 'cache: client absent: keeping the stream, PAUSE sent'
wait_for "the stream's filter" 5 logged 'cache: awake: filter [0-9]* installed'
wait_for "the server's answer to PAUSE" 5 logged 'cache: PAUSE 200'
ok "h2's link down: the service filtered the stream and paused the session (PAUSE 200)"
sleep 2
ip -n "$H2" link set eth0 up
up_at=$(date +%s%N)
ip -n "$H2" route replace default via 10.$X.2.1
wait_for "the service to hear h2 come back" 10 logged 'cache: client back after'
echo "# h2 back: heard $(( ($(date +%s%N) - up_at) / 1000000 )) ms after its link came up"
wait_for "the server's answer to PLAY" 5 logged 'cache: PLAY 200'
replayed=$(sed -n 's/.*cache: client back after [0-9]* ms: replayed \([0-9]*\) of.*/\1/p' "$dir/node.log" | tail -1)
[ -n "$replayed" ] || fail "the service did not say what it replayed"
ok "h2 back: the service replayed the $replayed packets it kept and resumed the session (PLAY 200)"
no_rule() { [ "$(rules)" = 3 ]; }
wait_for "the stream's filter to go" 5 no_rule
ok "...and removed its filter: asleep again"
sleep 2
kill "$recv_pid"
wait "$recv_pid" 2>/dev/null
report=$(cat "$dir/rtp.report")
echo "# client: $report"
missing=$(sed -n 's/.* missing=\([0-9]*\) .*/\1/p' <<<"$report")
filter_ms=$(sed -n 's/.*cache: awake: filter [0-9]* installed \([0-9]*\)\.[0-9] ms after.*/\1/p' "$dir/node.log" | head -1)
bound=$(((down_ms + ${filter_ms:-0}) / 20 + 2))
echo "# taking h2's link down took $down_ms ms, the filter was in $filter_ms ms after the event: at most $bound packets of 20 ms lost meanwhile"
[ "${missing:-999}" -le $bound ] || fail "the client missed $missing packets, more than the $bound sent before the service could keep them"
ok "the client missed no packet but those sent before the service could keep them ($missing, at most $bound)"
expect_match "...and got every other once and in order, across the 2 s" "$report" 'reordered=0 duplicates=0 '
grep -q "^PAUSE $session$" "$dir/requests" && grep -q "^PLAY $session$" "$dir/requests" ||
  fail "the server did not log PAUSE and PLAY on $session: $(cat "$dir/requests")"
ok "the server logged PAUSE and PLAY on the client's session"

# Without PAUSE (pause=no, passed to the running service): h2 away for
# 1 s, the server streams on, the service keeps it all and replays it.
"$ANODE" -n "$dir/n.app" svc param cache pause=no --key "$dir/alice.key" --user alice >/dev/null
wait_for "the new parameters" 5 logged 'cache: parameters: store 1048576 octets, pause no'
ip netns exec "$H2" /usr/bin/python3 "$SRC_DIR/tests/lab/rtp_recv.py" 5004 "$dir/rtp2" >"$dir/rtp2.report" &
recv_pid=$!
pids+=($recv_pid)
sleep 1
t0=$(date +%s%N)
ip -n "$H2" link set eth0 down
down_ms=$((($(date +%s%N) - t0) / 1000000))
wait_for "the service to hear h2 go again" 5 logged 'cache: client absent: keeping the stream (no PAUSE)'
sleep 1
ip -n "$H2" link set eth0 up
ip -n "$H2" route replace default via 10.$X.2.1
back2() { [ "$(grep -c 'cache: client back after' "$dir/node.log")" -ge 2 ]; }
wait_for "the service to hear h2 come back again" 10 back2
replayed=$(sed -n 's/.*cache: client back after [0-9]* ms: replayed \([0-9]*\) of.*/\1/p' "$dir/node.log" | tail -1)
[ "${replayed:-0}" -ge 40 ] || fail "the service replayed ${replayed:-no} packets of a 1 s absence (50 expected)"
ok "without PAUSE the service kept the stream and replayed it ($replayed packets)"
sleep 1.5
kill "$recv_pid"
wait "$recv_pid" 2>/dev/null
report=$(cat "$dir/rtp2.report")
echo "# client: $report"
missing=$(sed -n 's/.* missing=\([0-9]*\) .*/\1/p' <<<"$report")
filter_ms=$(sed -n 's/.*cache: awake: filter [0-9]* installed \([0-9]*\)\.[0-9] ms after.*/\1/p' "$dir/node.log" | tail -1)
bound=$(((down_ms + ${filter_ms:-0}) / 20 + 2))
[ "${missing:-999}" -le $bound ] || fail "the client missed $missing packets, more than the $bound sent before the service could keep them"
expect_match "...and the client got it in order, missing only what came before the filter ($missing, at most $bound)" \
  "$report" 'reordered=0 duplicates=0 '
expect_eq "...and the server was not paused again" "$(grep -c "^PAUSE $session$" "$dir/requests")" 1

# A real player as the mobile client: ffmpeg plays a new session over UDP;
# h2 away 2 s, the service keeping the stream (still pause=no: the server's
# media is shared, and the first session, which the service's connection
# now holds, keeps it running, so a paused session's sequence numbers
# would jump by the pause when it plays again). ffmpeg takes the replayed
# packets, though they come from the router, plays on and says what it
# missed.
ip netns exec "$H2" ffmpeg -nostdin -hide_banner -loglevel info -rtsp_transport udp -min_port 5010 -max_port 5011 \
  -i "rtsp://$h1:8554/test" -f null - >"$dir/ffmpeg.log" 2>&1 &
ff=$!
pids+=($ff)
wait_for "the service to learn ffmpeg's ports" 10 logged 'the client receives on ports 5010-5011'
wait_for "ffmpeg to play" 10 grep -q 'time=00:00:01' "$dir/ffmpeg.log"
t0=$(date +%s%N)
ip -n "$H2" link set eth0 down
down_ms=$((($(date +%s%N) - t0) / 1000000))
absent3() { [ "$(grep -c 'cache: client absent: keeping the stream' "$dir/node.log")" -ge 3 ]; }
wait_for "the service to keep ffmpeg's stream" 5 absent3
sleep 2
ip -n "$H2" link set eth0 up
ip -n "$H2" route replace default via 10.$X.2.1
back3() { [ "$(grep -c 'cache: client back after' "$dir/node.log")" -ge 3 ]; }
wait_for "the service to hear h2 come back a third time" 10 back3
sleep 2
kill -INT "$ff"
wait "$ff" 2>/dev/null || true # 255: interrupted, as asked
grep -q 'Exiting normally' "$dir/ffmpeg.log" || fail "ffmpeg did not play to the end: $(tail -3 "$dir/ffmpeg.log")"
played=$(grep -o 'time=[0-9:.]*' "$dir/ffmpeg.log" | tail -1 | awk -F'[=:]' '{ printf "%d", $3 * 60 + $4 }')
missed=$(awk '{ while (match($0, /RTP: missed [0-9]+ packets/)) { split(substr($0, RSTART, RLENGTH), w, " ")
  n += w[3]; $0 = substr($0, RSTART + RLENGTH) } } END { print n + 0 }' "$dir/ffmpeg.log")
filter_ms=$(sed -n 's/.*cache: awake: filter [0-9]* installed \([0-9]*\)\.[0-9] ms after.*/\1/p' "$dir/node.log" | tail -1)
bound=$(((down_ms + ${filter_ms:-0}) / 20 + 2))
[ "$played" -ge 4 ] || fail "ffmpeg played only ${played}s of media"
[ "$missed" -le "$bound" ] || fail "ffmpeg missed $missed packets, more than the $bound sent before the service could keep them"
replayed=$(sed -n 's/.*cache: client back after [0-9]* ms: replayed \([0-9]*\) of.*/\1/p' "$dir/node.log" | tail -1)
ok "a real player (ffmpeg) plays on across a 2 s absence: ${played}s of media, $replayed packets replayed, $missed missed (at most $bound)"
expect_match "the node counted the presence changes it heard" \
  "$("$ANODE" -n "$dir/n.app" stats --json | json "d['monitors']['presence_changes']")" '^[2-9]'
echo "$checks checks passed"
