#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concast on IP (seed 001 §3) between router-mode nodes in network
# namespaces, Figure 4's topology with a plain Linux router (no anode) on
# the way from s3: data and requests travel as IP protocol 253 with Router
# Alert and the AppID option, data with the group as IP source; each
# concast router takes them from the kernel by Router Alert, the plain
# router forwards them; three senders' counts merge into one message per
# tag at r1.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
G=198.18.0.1
lab=ci$$
topo=$ANODE_RUN_DIR/$lab.topo
# p is a plain router: a host namespace would end the path, so p is a
# node whose anoded we stop (then it only forwards, as the kernel does).
cat >"$topo" <<'T'
node s1
node s2
node s3
node p
node g1
node g2
node r1
link s1 g1
link s2 g1
link g1 g2
link s3 p
link p g2
link g2 r1 2mbit
T
tshark_pid=
ip_cleanup() {
  local rc=$?
  set +e
  [ -z "$tshark_pid" ] || kill "$tshark_pid" 2>/dev/null
  (exit $rc)
  cleanup
}
trap ip_cleanup EXIT
"$ANODE" lab up "$topo" --netns >/dev/null
labs_up+=("$lab")
kill "$(awk '$1 == "p" {print $NF}' "$ANODE_RUN_DIR/$lab/nodes")"
wait_for "p's node stopped: p is a plain router" 5 sh -c "! '$ANODE' -n p info"
cstat() { "$ANODE" -n "$1" stats --json | json "d['concast']['$2']"; }
# The sum of the counts a listener printed (--json).
counts_sum() {
  /usr/bin/python3 -c "
import json, sys
print(sum(int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1]) if l.startswith('{')))" "$1"
}

# What crosses the bottleneck, as Wireshark decodes it.
cap=$ANODE_RUN_DIR/cap.txt
pcap=$ANODE_RUN_DIR/cc.pcapng
ip netns exec "an-$lab-g2" tshark -n -i to-r1 -f "ip proto 253" -c 60 -w "$pcap" >/dev/null 2>&1 &
tshark_pid=$!
sleep 1
"$ANODE" -n r1 concast listen $G 7 "$CODE_DIR/count.ao" --json >"$ANODE_RUN_DIR/l" 2>&1 &
lp=$!
wait_for "r1 holds the flow's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q ready"
pids=()
for s in s1 s2 s3; do
  "$ANODE" -n $s concast join $G r1 7 --tags 30 --interval 50 >"$ANODE_RUN_DIR/j-$s" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a sender failed: $(cat "$ANODE_RUN_DIR"/j-*)"; done
sleep 0.5
kill "$lp"; wait "$lp" || true
read -r n sum max < <(/usr/bin/python3 -c "
import json, sys
c = [int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1]) if l.startswith('{')]
print(len(c), sum(c), max(c) if c else 0)" "$ANODE_RUN_DIR/l")
expect_eq "every sender's count arrived at r1 through IP: 3 x 30" "$sum" 90
expect_eq "merged at g1 and g2: tags carried all three counts" "$max" 3
expect_ge "g2 took datagrams from IP by Router Alert (its IP link)" \
  "$("$ANODE" -n g2 stats --json | json "d['link_ip']['rx_packets']")" 30
expect_ge "g2 merged s3 (through the plain router p) with g1" "$(cstat g2 merged)" 30
expect_eq "nothing went over UDP: the matching engine saw no concast" "$(counter g2 drop_malformed)" 0
kill -INT "$tshark_pid" 2>/dev/null; wait "$tshark_pid" 2>/dev/null || true; tshark_pid=
LUA=$SRC_DIR/tools/wireshark/anode.lua
tshark -r "$pcap" -X "lua_script:$LUA" -T fields -e ip.src -e ip.hdr_len -e ip.opt.type -e anep.type \
  -e anode.concast.app_id -e anode.concast.csp >"$cap" 2>"$ANODE_RUN_DIR/decode.err"
expect_match "the bottleneck carried data with the group as IP source" "$(cat "$cap")" "^$G"
# Wireshark lists the options it knows (148, then the padding: NOP, EOL)
# and not the AppID's experimental number: 32 octets of header hold it.
expect_match "...with Router Alert (148) and room for the AppID option" "$(grep "^$G" "$cap" | head -1)" "^$G\s+32\s+148,"
expect_match "anode's dissector decodes them as concast data of app 7" "$(grep "^$G" "$cap" | head -1)" \
  "0x4105\s+0x0+7"
expect_match "...and the keep-alives r1 gets from g2 as signalling" "$(grep -v "^$G" "$cap")" '0x4106.*\s3$'
! grep -qi "lua\|error" "$ANODE_RUN_DIR/decode.err" || fail "the dissector complained: $(cat "$ANODE_RUN_DIR/decode.err")"
ok "the dissector ran without a Lua error"
# An off-path host chooses a flow's merge code (issue 18): p (a plain
# router, off the path s1 -> g1 -> g2 -> r1) sends MS for a new flow to g1
# from its own address, naming its own specification, while g1 waits for
# the answer to its request (g2's answers to g1 held back a while, so that
# the forged ones come first). In router mode g1 took the first answer from
# anyone; it now takes only one that echoes its request's nonce, which p
# never saw.
"$ANODE" -n r1 concast listen $G 9 "$CODE_DIR/count.ao" --json >"$ANODE_RUN_DIR/l9" 2>&1 &
lp=$!
wait_for "r1 holds flow 9's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 9: ready'"
g1_addr=$("$ANODE" -n g1 info --json | json "d['address']")
r1_addr=$("$ANODE" -n r1 info --json | json "d['address']")
p_ip=$(ip -n "an-$lab-p" -4 -o addr show | awk '$2 != "lo" {sub("/.*", "", $4); print $4; exit}')
ip netns exec "an-$lab-g2" iptables -w -I OUTPUT -o to-g1 -p 253 -j DROP
"$ANODE" -n s1 concast join $G r1 9 --tags 10 --interval 50 --wait 8000 >"$ANODE_RUN_DIR/j9" 2>&1 &
jp=$!
wait_for "g1 to wait for flow 9's specification" 5 sh -c "'$ANODE' -n g1 concast flows | grep -q 'app 9: asking'"
ip netns exec "an-$lab-p" /usr/bin/python3 - "$g1_addr" "$r1_addr" "$p_ip" $G 9 50 >"$ANODE_RUN_DIR/spray" <<'PY'
import os, socket, struct, sys, time
g1, r1, p_ip, group, app, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
def addr(a):
    h, port = a.rsplit(':', 1)
    return bytes(10) + b'\xff\xff' + socket.inet_aton(h), int(port)
def opt(t, a):
    ip, port = addr(a)
    return struct.pack('>HHHH', t, 6, 6, port) + ip
r1ip, r1port = addr(r1)
flow = bytes(10) + b'\xff\xff' + socket.inet_aton(group) + r1ip + struct.pack('>HHI', r1port, 0, app)
opts = opt(1, p_ip + ':3322') + opt(2, g1) + struct.pack('>HHB3x', 0x101, 2, 9)
ipopts = bytes([0x9e, 6]) + struct.pack('>I', app) + bytes([1, 0])   # AppID, NOP, EOL
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
g1ip = g1.rsplit(':', 1)[0]
for _ in range(count):
    body = struct.pack('>BBH', 2, 0, 0) + flow + os.urandom(8) + bytes(range(32)) + struct.pack('>IB', 2904, 0)
    anep = struct.pack('>BBHHH', 1, 0, 0x4106, (8 + len(opts)) // 4, 8 + len(opts) + len(body)) + opts + body
    ihl = (20 + len(ipopts)) // 4
    hdr = struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(ipopts) + len(anep), 0, 0x4000, 64, 253, 0,
                      socket.inet_aton(p_ip), socket.inet_aton(g1ip)) + ipopts
    s.sendto(hdr + anep, (g1ip, 0))
    time.sleep(0.01)
print(count)
PY
ip netns exec "an-$lab-g2" iptables -w -D OUTPUT -o to-g1 -p 253 -j DROP
wait "$jp" || fail "s1's join failed under p's forged MS: $(cat "$ANODE_RUN_DIR/j9")"
sleep 0.3
kill "$lp"; wait "$lp" || true
sum=$(counts_sum "$ANODE_RUN_DIR/l9")
expect_eq "under an off-path host's forged MS, s1's join merged with the receiver's code: 10 counts" "$sum" 10
expect_ge "...g1 refused the forged ones: they did not echo its nonce (50 sent)" "$(cstat g1 bad_nonce)" 50
# Return routability before state (issue 18): p sprays RMS toward r1 for
# 200 flows in s1's name (forged IP and ANEP sources); g2 intercepts them
# (Router Alert) and answers each with a CHALLENGE to s1, keeping nothing.
s1_ip=$("$ANODE" -n s1 info --json | json "d['address'].rsplit(':', 1)[0]")
before=$(cstat g2 challenges_sent)
ip netns exec "an-$lab-p" /usr/bin/python3 - "$r1_addr" "$s1_ip" $G 200 <<'PY'
import socket, struct, sys
r1, s1, group, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def addr(a):
    h, port = a.rsplit(':', 1)
    return bytes(10) + b'\xff\xff' + socket.inet_aton(h), int(port)
def opt(t, a):
    ip, port = addr(a)
    return struct.pack('>HHHH', t, 6, 6, port) + ip
r1ip, r1port = addr(r1)
opts = opt(1, s1 + ':3322') + opt(2, r1) + struct.pack('>HHB3x', 0x101, 2, 9)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for app in range(1000, 1000 + n):
    flow = bytes(10) + b'\xff\xff' + socket.inet_aton(group) + r1ip + struct.pack('>HHI', r1port, 0, app)
    body = struct.pack('>BBH', 1, 0, 0) + flow + bytes(16)          # RMS, no cookie
    anep = struct.pack('>BBHHH', 1, 0, 0x4106, (8 + len(opts)) // 4, 8 + len(opts) + len(body)) + opts + body
    ipopts = bytes([148, 4, 0, 0]) + bytes([0x9e, 6]) + struct.pack('>I', app) + bytes([1, 0])  # Router Alert, AppID
    ihl = (20 + len(ipopts)) // 4
    hdr = struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(ipopts) + len(anep), 0, 0x4000, 64, 253, 0,
                      socket.inet_aton(s1), socket.inet_aton(r1.rsplit(':', 1)[0])) + ipopts
    s.sendto(hdr + anep, (r1.rsplit(':', 1)[0], 0))
PY
challenged() { [ "$(cstat g2 challenges_sent)" -ge $((before + 200)) ]; }
wait_for "g2 to challenge the 200 forged requests" 5 challenged
ok "g2 answered each forged request with a challenge to the address it claimed"
expect_eq "...and keeps no flow for them" "$("$ANODE" -n g2 concast flows --json | json "len([f for f in d['flows'] if f['app_id'] >= 1000])")" 0
expect_eq "...nor did r1" "$("$ANODE" -n r1 concast flows --json | json "len([f for f in d['flows'] if f['app_id'] >= 1000])")" 0
# The receiver decides who may send (issue 18): r1 admits only the nodes
# on the paths from s1 and s2 (s1, s2, g1, g2, as /32 prefixes); s3's
# node, behind the plain router p, is refused by g2, the first merging node
# its request reaches, and hears why; s1's counts still merge.
adm=()
for nd in s1 s2 g1 g2; do
  adm+=(--admit "$("$ANODE" -n $nd info --json | json "d['address'].rsplit(':', 1)[0]")")
done
pcap13=$ANODE_RUN_DIR/admit.pcapng
ip netns exec "an-$lab-g2" tshark -n -i to-r1 -f "ip proto 253" -a duration:4 -w "$pcap13" >/dev/null 2>&1 &
tshark_pid=$!
sleep 1
"$ANODE" -n r1 concast listen $G 13 "$CODE_DIR/count.ao" "${adm[@]}" --json >"$ANODE_RUN_DIR/l13" 2>&1 &
lp=$!
wait_for "r1 holds flow 13's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 13: ready'"
before=$(cstat g2 refused_admission)
"$ANODE" -n s1 concast join $G r1 13 --tags 10 --interval 50 >"$ANODE_RUN_DIR/j13" 2>&1 &
jp=$!
rc=0; out=$("$ANODE" -n s3 concast join $G r1 13 --tags 10 --interval 50 2>&1) || rc=$?
expect_eq "s3, whose node the receiver does not admit, could not join" "$rc" 1
expect_match "...and was told why" "$out" 'Permission denied: the receiver admits no'
expect_ge "...refused at g2, the first merging node on its way" "$(cstat g2 refused_admission)" $((before + 1))
expect_match "g2 knows the receiver's admission (it came with the MS)" \
  "$("$ANODE" -n g2 concast flows --json | json "[f.get('admit') for f in d['flows'] if f['app_id'] == 13]")" "/32"
wait "$jp" || fail "s1's join failed under admission: $(cat "$ANODE_RUN_DIR/j13")"
sleep 0.3
kill "$lp"; wait "$lp" || true
sum=$(counts_sum "$ANODE_RUN_DIR/l13")
expect_eq "...while s1, admitted, still merged its 10 counts at r1" "$sum" 10
wait "$tshark_pid" 2>/dev/null || true; tshark_pid=
expect_match "the dissector shows the admission r1's MS carried to g2" \
  "$(tshark -r "$pcap13" -X "lua_script:$LUA" -Y 'anode.concast.csp == 2' -T fields -e anode.concast.admit 2>&1)" \
  '^10\.[0-9.]+/32,10\.[0-9.]+/32,10\.[0-9.]+/32,10\.[0-9.]+/32'
# A multicast group cannot be an IP source: refused with the reason.
rc=0; out=$("$ANODE" -n s1 concast join 232.1.2.3 r1 7 2>&1) || rc=$?
expect_eq "a multicast group is refused on IP" "$rc" 1
expect_match "...saying why" "$out" 'must be unicast'
# A router further on loses its route (issue 18): p, the plain router
# between s3 and g2, has its route toward r1 withdrawn; s3's node (whose
# own route is fine) learns it from p's ICMP net unreachable (IP_RECVERR on
# its IP link), the sender hears "path lost" and, once the route is back,
# "path restored", and its counts reach r1 again.
"$ANODE" -n r1 concast listen $G 15 "$CODE_DIR/count.ao" --seconds 30 --json >"$ANODE_RUN_DIR/l15" 2>&1 &
lp=$!
wait_for "r1 holds flow 15's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 15: ready'"
"$ANODE" -n s3 concast join $G r1 15 --tags 600 --interval 50 --json >"$ANODE_RUN_DIR/j15" 2>"$ANODE_RUN_DIR/j15.err" &
jp=$!
wait_for "g2 to merge flow 15" 5 sh -c "'$ANODE' -n g2 concast flows | grep -q 'app 15: ready'"
r1_ip=${r1_addr%:*}
p_route=$(ip -n "an-$lab-p" -4 route show "$r1_ip")
[ -n "$p_route" ] || fail "p has no route toward r1 to withdraw"
ip -n "an-$lab-p" route del "$r1_ip"
t0=$(date +%s%N)
wait_for "s3's sender to hear that the path is lost" 6 grep -q '"path":"lost"' "$ANODE_RUN_DIR/j15"
lost_ms=$((($(date +%s%N) - t0) / 1000000))
expect_match "...from p's ICMP" "$(cat "$ANODE_RUN_DIR/j15.err")" 'path toward the receiver lost: a router on the way has no route toward the receiver \(ICMP\)'
expect_ge "...counted by s3's IP link" "$("$ANODE" -n s3 stats --json | json "d['link_ip']['rx_icmp_unreachable']")" 1
ip -n "an-$lab-p" route add $p_route
t1=$(date +%s%N)
wait_for "s3's sender to hear that the path is back" 6 grep -q '"path":"restored"' "$ANODE_RUN_DIR/j15"
back_ms=$((($(date +%s%N) - t1) / 1000000))
before=$(grep -c '^{' "$ANODE_RUN_DIR/l15" || true)
more15() { [ "$(grep -c '^{' "$ANODE_RUN_DIR/l15" || true)" -ge $((before + 5)) ]; }
wait_for "s3's counts to reach r1 again" 5 more15
ok "the flow goes on through p"
echo "  path lost (ICMP) told after ${lost_ms} ms, restored after ${back_ms} ms"
kill "$jp" "$lp" 2>/dev/null; wait "$jp" "$lp" 2>/dev/null || true
# A broken path is reported, and a flow re-forms when it comes back
# (issue 18): the link from g2 to r1 goes down mid-stream; the kernel drops
# g2's routes through it, g2's next keep-alive finds none, and the sender
# hears "path lost" within about a period instead of sending into nothing;
# the flow waits. The link comes back up (and its routes, which the kernel
# does not put back by itself); g2's keep-alives leave again, r1 (which
# pruned g2 meanwhile) takes g2 back after its cookie, the sender hears
# "path restored", and its counts reach r1 again.
"$ANODE" -n r1 concast listen $G 11 "$CODE_DIR/count.ao" --seconds 30 --json >"$ANODE_RUN_DIR/l11" 2>&1 &
lp=$!
wait_for "r1 holds flow 11's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 11: ready'"
"$ANODE" -n s1 concast join $G r1 11 --tags 600 --interval 50 --json >"$ANODE_RUN_DIR/j11" 2>"$ANODE_RUN_DIR/j11.err" &
jp=$!
wait_for "g2 to merge flow 11" 5 sh -c "'$ANODE' -n g2 concast flows | grep -q 'app 11: ready'"
routes=$(ip -n "an-$lab-g2" -4 route show dev to-r1)
pruned=$(cstat r1 pruned)
ip -n "an-$lab-g2" link set to-r1 down
t0=$(date +%s%N)
wait_for "the sender to hear that the path is lost" 6 grep -q '"path":"lost"' "$ANODE_RUN_DIR/j11"
lost_ms=$((($(date +%s%N) - t0) / 1000000))
expect_match "...with g2's reason" "$(cat "$ANODE_RUN_DIR/j11.err")" 'path toward the receiver lost: no route toward the receiver'
gone "$jp" && fail "the sender's join ended when the path was lost: the flow should wait"
ok "...and the flow waits: the sender goes on"
expect_ge "...counted at g2" "$(cstat g2 paths_lost)" 1
expect_ge "...and passed on upstream by g1" "$(cstat g1 path_notices)" 1
wait_for "r1 to prune the silent g2 (three periods): the flow must re-form, not just resume" 6 \
  sh -c "[ \"\$('$ANODE' -n r1 stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"concast\"][\"pruned\"])')\" -gt $pruned ]"
expect_eq "...while g2 kept the flow and its upstream neighbour" \
  "$("$ANODE" -n g2 concast flows --json | json "[len(f['upstream']) for f in d['flows'] if f['app_id'] == 11]")" "[1]"
ip -n "an-$lab-g2" link set to-r1 up
while read -r route; do
  [ -n "$route" ] && ip -n "an-$lab-g2" route replace $route dev to-r1
done <<<"$routes"
t1=$(date +%s%N)
wait_for "the sender to hear that the path is back" 6 grep -q '"path":"restored"' "$ANODE_RUN_DIR/j11"
back_ms=$((($(date +%s%N) - t1) / 1000000))
expect_ge "...counted at g2" "$(cstat g2 paths_restored)" 1
before=$(grep -c '^{' "$ANODE_RUN_DIR/l11" || true)
more() { [ "$(grep -c '^{' "$ANODE_RUN_DIR/l11" || true)" -ge $((before + 5)) ]; }
wait_for "the counts to reach r1 again through g2" 5 more
ok "the flow re-formed: r1 took g2 back and merges its messages"
echo "  path lost told after ${lost_ms} ms, restored after ${back_ms} ms (keep-alive period 1 s)"
kill "$jp" "$lp" 2>/dev/null; wait "$jp" "$lp" 2>/dev/null || true
echo "$checks checks passed"
