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
# A multicast group cannot be an IP source: refused with the reason.
rc=0; out=$("$ANODE" -n s1 concast join 232.1.2.3 r1 7 2>&1) || rc=$?
expect_eq "a multicast group is refused on IP" "$rc" 1
expect_match "...saying why" "$out" 'must be unicast'
echo "$checks checks passed"
