#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concast under attack from a real host (issue 18), on overlay nodes: the
# lab of examples/concast.topo on loopback, in a network namespace of its
# own where the attacker has an address of its own, 10.77.0.1 (a loopback
# lab's nodes all share 127.0.0.1, which the bound per address leaves
# alone).
#  1. One host on 70 ports: it answers every cookie from 70 UDP ports and
#     keeps them in the flow with keep-alives, never sending data. The list
#     at g2 holds 64: it used to be the attacker's, the real senders
#     refused and the receiver getting nothing. Now the host holds 8 slots
#     (concast-upstream-per-address), the rest are refused and told why,
#     and once their newcomer's grace is over the idle 8 hold no tag: the
#     three real senders' counts all merge.
#  2. The same host floods: one of its ports sends 8 new tags every 50 ms,
#     counting 1000 each (the receiver used to get 4 of 60 real tags). It
#     holds at most its share of the tag table; when the table is full, its
#     tags (which no one joins) end early to make room for the real
#     senders'; its counts are clamped to 64 and flagged against it; and
#     every real count merges.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for a network namespace"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
if [ -z "${CONCAST_HOSTILE_NETNS:-}" ]; then
  exec unshare --net -- env CONCAST_HOSTILE_NETNS=1 "$0" "$@"
fi
ip link set lo up
ip addr add 10.77.0.1/32 dev lo
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
G=198.18.0.1
COUNT=$CODE_DIR/count.ao
topo=$ANODE_RUN_DIR/cch.topo
{ cat "$TOPO_DIR/concast.topo"; echo "set all concast-keepalive-ms 200"; } >"$topo"
lab_up "$topo" >/dev/null
cstat() { "$ANODE" -n "$1" stats --json | json "d['concast']['$2']"; }
addr() { awk -v n="$1" '$1 == n {print $2}' "$ANODE_RUN_DIR/cch/nodes"; }
g2=$(addr g2)
r1=$(addr r1)
# Counts at the receiver: "messages sum largest".
summary() {
  /usr/bin/python3 -c "
import json, sys
c = [int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1]) if l.startswith('{')]
print(len(c), sum(c), max(c) if c else 0)" "$1"
}
# attack APP PORTS SECONDS [FLOOD]: the host, in the background ($!).
attack() {
  /usr/bin/python3 "$SRC_DIR/tests/lab/concast_ports.py" "$g2" "$r1" 10.77.0.1 $G "$@" >"$ANODE_RUN_DIR/attack" 2>&1 &
}
# real APP: the three real senders, 40 counts each; waits for them.
real() {
  local pids=() s
  for s in s1 s2 s3; do
    "$ANODE" -n $s concast join $G r1 "$1" --tags 40 --interval 50 >"$ANODE_RUN_DIR/j-$s" 2>&1 &
    pids+=($!)
  done
  for s in "${pids[@]}"; do wait "$s" || fail "a real sender failed: $(cat "$ANODE_RUN_DIR"/j-*)"; done
}

# 1. One host on 70 ports.
"$ANODE" -n r1 concast listen $G 21 "$COUNT" --json >"$ANODE_RUN_DIR/l21" 2>&1 &
lp=$!
wait_for "r1 holds flow 21" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 21: ready'"
attack 21 70 9
ap=$!
wait_for "the host to hold its slots at g2" 5 sh -c "'$ANODE' -n g2 concast flows --json | grep -q 10.77.0.1"
sleep 5.5 # the host's newcomer's grace (tag_max_ms, 5 s) runs out
real 21
wait "$ap" || fail "the attacker failed: $(cat "$ANODE_RUN_DIR/attack")"
read -r challenged taken refused _ <"$ANODE_RUN_DIR/attack"
echo "  the host: $challenged ports challenged, $taken taken into the flow, $refused refused"
expect_eq "the host was taken on 8 of its 70 ports" "$taken" 8
expect_eq "...and refused on the other 62, told why" "$refused" 62
expect_ge "...counted at g2" "$(cstat g2 refused_per_address)" 62
sleep 0.5
kill "$lp"; wait "$lp" || true
read -r n sum max < <(summary "$ANODE_RUN_DIR/l21")
expect_eq "the three real senders' counts all arrived at r1: 3 x 40" "$sum" 120
expect_eq "...merged: tags carried all three counts" "$max" 3

# 2. The host floods new tags, 8 every 50 ms, counting 1000 each.
"$ANODE" -n r1 concast listen $G 22 "$COUNT" --json >"$ANODE_RUN_DIR/l22" 2>&1 &
lp=$!
wait_for "r1 holds flow 22" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 22: ready'"
flagged=$(cstat g2 flagged)
attack 22 8 9 8
ap=$!
wait_for "the host to hold its slots at g2" 5 sh -c "'$ANODE' -n g2 concast flows --json | grep -q 10.77.0.1"
sleep 5.5
real 22
wait "$ap" || fail "the attacker failed: $(cat "$ANODE_RUN_DIR/attack")"
read -r _ taken _ flooded <"$ANODE_RUN_DIR/attack"
echo "  the host sent $flooded messages for new tags from one of its $taken ports"
sleep 0.5
kill "$lp"; wait "$lp" || true
real_sum=$(/usr/bin/python3 -c "
import json, sys
print(sum(int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1])
          if l.startswith('{') and int(json.loads(l)['hex'][:16], 16) < 1 << 40))" "$ANODE_RUN_DIR/l22")
echo "  real counts at r1: $real_sum of 120; g2: $(cstat g2 tags_share) refused for its share, $(cstat g2 tags_full) for a full table, $(cstat g2 tags_evicted) of its tags ended early for the real ones"
expect_eq "the real senders' counts all arrived at r1 beside the flood" "$real_sum" 120
expect_ge "...the flood's counts were clamped and flagged at g2" "$(cstat g2 flagged)" $((flagged + 100))
expect_ge "...and its new tags refused past its share" "$(cstat g2 tags_share)" 1
expect_ge "...or ended early to make room for the real senders' tags" "$(cstat g2 tags_evicted)" 1
