#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concast on overlay nodes (seed 001 §2, Figure 4's topology): three senders'
# counts merge at g1 and g2 into one message per tag at r1; the merge
# specification is pulled from the receiver hop by hop; a sender that stops
# is pruned after the keep-alive periods while the others go on; a receiver
# that leaves ends the flow with an error at the senders; a specification
# that fails validation is refused and nothing is installed; a node at its
# flow limit refuses a flow with an error; malformed signalling is dropped
# and counted.
. "$(dirname "$0")/lib.sh"
# A node this test restarts itself (step 8) is not the lab's to stop.
restarted=
concast_cleanup() {
  local rc=$?
  [ -z "$restarted" ] || { kill "$restarted" 2>/dev/null; wait "$restarted" 2>/dev/null; }
  (exit $rc)
  cleanup
}
trap concast_cleanup EXIT
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
G=198.18.0.1
COUNT=$CODE_DIR/count.ao

topo=$ANODE_RUN_DIR/cc.topo
{ cat "$TOPO_DIR/concast.topo"
  echo "set all concast-keepalive-ms 200"
  echo "set g2 concast-flows 1"; } >"$topo"
lab_up "$topo"
flows() { "$ANODE" -n "$1" concast flows --json; }
cstat() { "$ANODE" -n "$1" stats --json | json "d['concast']['$2']"; }
nflows() { flows "$1" | json "len(d['flows'])"; }
# Messages a listener printed: "count of lines, sum of counts, largest count".
summary() {
  /usr/bin/python3 -c "
import json, sys
c = [int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1]) if l.startswith('{')]
print(len(c), sum(c), max(c) if c else 0)" "$1"
}
listen() { # app-id output-file; the listener's pid in $!
  "$ANODE" -n r1 concast listen $G "$1" "$COUNT" --json >"$2" 2>&1 &
}

# 1. Three senders, one message per tag at the receiver. --after: all three
# have joined before any sends, so the nodes wait for all of them from tag
# 0 on (without it, the first tags of the first to join are done alone).
listen 7 "$ANODE_RUN_DIR/l1"; lp=$!
wait_for "r1 holds the flow's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q ready"
pids=()
for s in s1 s2 s3; do
  "$ANODE" -n $s concast join $G r1 7 --tags 40 --interval 50 --after 1000 >"$ANODE_RUN_DIR/j-$s" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a sender failed: $(cat "$ANODE_RUN_DIR"/j-*)"; done
# The senders left: their nodes freed the flow, so g1 and g2 prune them
# (and then each other) after three silent keep-alive periods.
wait_for "g2 pruned its silent upstream neighbours" 5 \
  sh -c "[ \"\$('$ANODE' -n g2 stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"concast\"][\"pruned\"])')\" -ge 1 ]"
kill "$lp"; wait "$lp" || true
read -r n sum max < <(summary "$ANODE_RUN_DIR/l1")
expect_eq "every sender's count arrived: 3 x 40" "$sum" 120
expect_eq "merged in the network: tags carried all three counts" "$max" 3
expect_eq "tag 0 too: it reached r1 once, with all three (join --after)" \
  "$(/usr/bin/python3 -c "
import json, sys
t0 = [int(json.loads(l)['hex'][16:24], 16) for l in open(sys.argv[1]) if l.startswith('{') and int(json.loads(l)['hex'][:16], 16) == 0]
print(t0)" "$ANODE_RUN_DIR/l1")" "[3]"
expect_ge "fewer messages reached r1 than were sent (120)" $((120 - n)) 60
expect_ge "g1 merged s1 and s2" "$(cstat g1 merged)" 40
expect_ge "g2 merged g1 and s3" "$(cstat g2 merged)" 40
expect_eq "r1 (the receiver's node) ran the specification on every message it delivered" "$(cstat r1 built)" "$n"
expect_eq "...and passed none on unmerged, though it has one upstream neighbour" "$(cstat r1 passed)" 0
expect_ge "the specification was fetched by the nodes on the way" "$(cstat g1 specs_fetched)" 1
expect_eq "s1's node fetched it too (it is a concast node)" "$(cstat s1 specs_fetched)" 1
expect_ge "g2 pruned upstream neighbours that went silent" "$(cstat g2 pruned)" 1
wait_for "senders gone: their flows are freed at every node" 5 \
  sh -c "[ \"\$('$ANODE' -n g2 concast flows)\" = 'no concast flows' ]"
ok "and g1 and g2 keep no state for the flow"

# 2. A sender that stops is pruned; the others are unaffected.
listen 7 "$ANODE_RUN_DIR/l2"; lp=$!
wait_for "r1 holds the flow's specification again" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q ready"
pids=()
for s in s1 s2; do
  "$ANODE" -n $s concast join $G r1 7 --tags 60 --interval 50 >"$ANODE_RUN_DIR/j2-$s" 2>&1 &
  pids+=($!)
done
"$ANODE" -n s3 concast join $G r1 7 --tags 10 --interval 50 >"$ANODE_RUN_DIR/j2-s3" 2>&1
pruned=$(cstat g2 pruned)
wait_for "g2 pruned s3 after its keep-alives stopped" 3 \
  sh -c "[ \"\$('$ANODE' -n g2 concast flows --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"flows\"][0][\"upstream\"]))')\" = 1 ]"
expect_ge "...counted" "$(cstat g2 pruned)" $((pruned + 1))
for p in "${pids[@]}"; do wait "$p" || fail "s1 or s2 failed after s3 stopped"; done
sleep 0.6
kill "$lp"; wait "$lp" || true
read -r n sum max < <(summary "$ANODE_RUN_DIR/l2")
expect_eq "s1 and s2 went on: every count arrived (2 x 60 + 10)" "$sum" 130

# 3. A receiver that leaves: the error reaches the sender, which stops.
listen 7 "$ANODE_RUN_DIR/l3"; lp=$!
wait_for "r1 holds the flow's specification" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q ready"
"$ANODE" -n s1 concast join $G r1 7 --tags 200 --interval 50 >"$ANODE_RUN_DIR/j3" 2>&1 &
jp=$!
sleep 1
kill "$lp"; wait "$lp" || true
rc=0; timeout 5 tail --pid="$jp" -f /dev/null || true; wait "$jp" || rc=$?
expect_eq "the sender stopped with an error" "$rc" 1
expect_match "...saying the receiver left" "$(cat "$ANODE_RUN_DIR/j3")" 'receiver left'
expect_ge "g1 passed the error upstream" "$(cstat g1 errors_sent)" 1
expect_eq "...and freed the flow" "$(nflows g1)" 0

# 4. A specification that fails validation: refused, nothing installed;
# senders then hear that there is none.
rc=0; out=$("$ANODE" -n r1 concast listen $G 9 "$CODE_DIR/ping.ao" 2>&1) || rc=$?
expect_eq "a capsule code object is refused as a merge specification" "$rc" 1
expect_match "...with the validator's reason" "$out" 'refused the merge specification: .*(section|Invalid)'
expect_eq "...and r1 installed nothing" "$(nflows r1)" 0
rc=0; out=$("$ANODE" -n s1 concast join $G r1 9 2>&1) || rc=$?
expect_eq "a sender of a flow without a specification fails" "$rc" 1
expect_match "...told by the receiver's node" "$out" 'no such merge specification'
expect_eq "...and the nodes on the way freed what they had made" "$(nflows g1)" 0

# 5. State limits: g2 keeps at most one flow.
listen 7 "$ANODE_RUN_DIR/l5"; lp=$!
listen 8 "$ANODE_RUN_DIR/l5b"; lp2=$!
wait_for "r1 receives two flows" 5 sh -c "[ \"\$('$ANODE' -n r1 concast flows | grep -c ready)\" = 2 ]"
"$ANODE" -n s3 concast join $G r1 7 --tags 100 --interval 50 >/dev/null 2>&1 &
jp=$!
wait_for "g2 holds s3's flow" 5 sh -c "'$ANODE' -n g2 concast flows | grep -q 'app 7'"
rc=0; out=$("$ANODE" -n s1 concast join $G r1 8 2>&1) || rc=$?
expect_eq "a second flow through g2 is refused" "$rc" 1
expect_match "...because of g2's flow limit" "$out" 'state limit|No space'
expect_ge "...counted at g2" "$(cstat g2 refused_flows)" 1
kill "$jp" "$lp" "$lp2"; wait "$jp" "$lp" "$lp2" 2>/dev/null || true

# 6. The audio mixer across the network (seed 001 §5, Figure 4): three
# senders' tones, s1 and s2 merged at g1, g1's sum and s3 at g2, one stream
# at r1, equal to sox's mix of the three.
for t in 1:500 2:1100 3:1700; do
  sox -n -r 8000 -c 1 -t ul "$ANODE_RUN_DIR/t${t%%:*}.ul" synth 2 sine "${t#*:}" vol 0.25
done
wait_for "g2 (one flow at most) pruned the last one" 5 sh -c "[ \"\$('$ANODE' -n g2 concast flows)\" = 'no concast flows' ]"
"$ANODE" -n r1 concast listen $G 5 "$CODE_DIR/mixer.ao" --seconds 4 --out "$ANODE_RUN_DIR/mix.msgs" &
lp=$!
wait_for "r1 holds the mixer" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 5: ready'"
pids=()
for i in 1 2 3; do
  "$ANODE" -n s$i concast join $G r1 5 --audio "$ANODE_RUN_DIR/t$i.ul" --count 25 --json \
    >"$ANODE_RUN_DIR/a$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a sender could not send audio: $(cat "$ANODE_RUN_DIR"/a?)"; done
wait "$lp" || true
read -r mean < <(/usr/bin/python3 "$SRC_DIR/bench/concast_audio.py" count 500,1100,1700 "$ANODE_RUN_DIR/mix.msgs" |
  /usr/bin/python3 -c "import json,sys; c=[x for v in json.load(sys.stdin)['files'].values() for x in v]; print(sorted(c)[len(c)//2] if c else 0)")
expect_eq "mixed audio at r1: all three senders audible (median per interval)" "$mean" 3
expect_ge "g1 merged s1 and s2 (linear sums on to g2)" "$(cstat g1 merged)" 40
# Every interval against sox's mix of the three files, each lined up by the
# number its sender started from (silence where a sender had not begun):
# the merging nodes send each other linear sums and only r1 encodes
# μ-law, so a cascade of two merges equals one mix (issue 18).
# An interval a sender's message missed (late past the mixer's 60 ms) is
# sent without it: it must then be the mix of the others.
read -r same total worse partial < <(/usr/bin/python3 "$SRC_DIR/tests/lab/concast_vs_sox.py" "$ANODE_RUN_DIR" 1 2 3)
echo "mixed audio against sox: $same of $total intervals identical, $partial the mix of fewer senders (late), $worse neither"
expect_ge "...intervals at r1" "$total" 24
expect_eq "...every interval within one mu-law step of sox's mix, sample by sample, or of the senders that came" "$worse" 0
expect_ge "...and most identical to sox's mix of all three (24 or 25 of 25 unloaded)" "$((same * 2))" "$total"
# Numbered by the sample clock (issue 18): every interval from the first
# to the last, none repeated, none skipped. The first is delivered once:
# r1 runs the mixer on what it delivers, which drops an interval already
# sent (the first used to come twice, once passed on unmerged while g2 had
# one upstream neighbour, then merged when the second joined).
seqs=$(/usr/bin/python3 -c "
import struct, sys
raw = open(sys.argv[1], 'rb').read()
s = [struct.unpack('>I', raw[i:i + 4])[0] for i in range(0, len(raw) - 483, 484)]
print('ok' if s and len(s) == len(set(s)) == max(s) - min(s) + 1 and s == sorted(s) else 'gaps or repeats: %s' % s)" "$ANODE_RUN_DIR/mix.msgs")
expect_eq "...every interval delivered once, in sequence (the sample clock numbers them)" "$seqs" ok

# 7. A forged ERROR (from a socket that is not g1's downstream node, though
# it names g2 as its source) does not end the flow at g1.
listen 9 "$ANODE_RUN_DIR/l7"; lp=$!
wait_for "r1 holds flow 9" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 9: ready'"
"$ANODE" -n s1 concast join $G r1 9 --tags 100 --interval 50 >"$ANODE_RUN_DIR/j7" 2>&1 &
jp=$!
wait_for "g1 holds flow 9" 5 sh -c "'$ANODE' -n g1 concast flows | grep -q 'app 9: ready'"
before=$(cstat g1 errors_unexpected)
/usr/bin/python3 - "$ANODE_RUN_DIR/cc/nodes" $G <<'EOF'
import socket, struct, sys
nodes = {l.split()[0]: l.split()[1] for l in open(sys.argv[1]) if not l.startswith('#')}
def addr(a):
    h, p = a.rsplit(':', 1)
    return bytes(10) + b'\xff\xff' + socket.inet_aton(h), int(p)
def opt(t, a):
    ip, port = addr(a)
    return struct.pack('>HHHH', t, 6, 6, port) + ip
g1, g2, r1 = nodes['g1'], nodes['g2'], nodes['r1']
rip, rport = addr(r1)
flow = bytes(10) + b'\xff\xff' + socket.inet_aton(sys.argv[2]) + rip + struct.pack('>HHI', rport, 0, 9)
body = struct.pack('>BBH', 4, 5, 0) + flow + bytes(8) + b'forged'  # a nonce it guessed, text
opts = opt(1, g2) + opt(2, g1) + struct.pack('>HHB3x', 0x101, 2, 9)
pkt = struct.pack('>BBHHH', 1, 0, 0x4106, (8 + len(opts)) // 4, 8 + len(opts) + len(body)) + opts + body
h, p = g1.rsplit(':', 1)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(pkt, (h, int(p)))
EOF
wait_for "g1 counted the forged error" 3 sh -c "[ \$(\"\$0\" -n g1 stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"concast\"][\"errors_unexpected\"])') -gt $before ]" "$ANODE"
ok "g1 refused an ERROR that did not come from its downstream node"
gone "$jp" && fail "the sender stopped after a forged error: $(cat "$ANODE_RUN_DIR/j7")"
"$ANODE" -n g1 concast flows | grep -q 'app 9: ready' || fail "g1 dropped the flow after a forged error"
ok "...and the flow goes on"
kill "$jp" "$lp"; wait "$jp" "$lp" 2>/dev/null || true

# 8. A concast node that restarts loses its flow state; the keep-alives of
# its upstream neighbours rebuild it (a keep-alive from a stranger joins),
# it asks for the specification again, and merging goes on.
listen 10 "$ANODE_RUN_DIR/l8"; lp=$!
wait_for "r1 holds flow 10" 5 sh -c "'$ANODE' -n r1 concast flows | grep -q 'app 10: ready'"
pids=()
for s in s1 s2; do
  "$ANODE" -n $s concast join $G r1 10 --tags 120 --interval 50 >"$ANODE_RUN_DIR/j8-$s" 2>&1 &
  pids+=($!)
done
wait_for "g1 merges flow 10" 5 sh -c "'$ANODE' -n g1 concast flows | grep -q 'app 10: ready, .*2 upstream'"
g1_pid=$(awk '$1 == "g1" {print $NF}' "$ANODE_RUN_DIR/cc/nodes")
kill -9 "$g1_pid"
"$ANODED" -f "$ANODE_RUN_DIR/cc/g1.conf" >>"$ANODE_RUN_DIR/cc/g1.log" 2>&1 &
restarted=$!
wait_for "g1 up again" 5 "$ANODE" -n g1 info
wait_for "g1 rebuilt flow 10 from keep-alives, both senders in its UNL" 5 \
  sh -c "'$ANODE' -n g1 concast flows | grep -q 'app 10: ready, .*2 upstream'"
ok "a restarted node rebuilt the flow from its neighbours' keep-alives"
merged=$(cstat g1 merged)
sleep 1
expect_ge "...and merges again" "$(cstat g1 merged)" $((merged + 10))
for p in "${pids[@]}"; do wait "$p" || fail "a sender failed across g1's restart: $(cat "$ANODE_RUN_DIR"/j8-*)"; done
ok "...without the senders noticing"
kill "$lp"; wait "$lp" 2>/dev/null || true

# 9. Malformed signalling: dropped and counted.
g1=$(awk '$1 == "g1" {print $2}' "$ANODE_RUN_DIR/cc/nodes")
before=$(cstat g1 malformed)
/usr/bin/python3 - "$g1" <<'EOF'
import socket, struct, sys
host, port = sys.argv[1].rsplit(':', 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def anep(payload, type_id=0x4106):
    return struct.pack('!BBHHH', 1, 0, type_id, 2, 8 + len(payload)) + payload
for p in (anep(b''), anep(b'\x09' + b'\x00' * 47), anep(b'\x01\x00\x00\x00' + b'\x00' * 10),
          anep(b'\x00' * 3, 0x4105)):
    s.sendto(p, (host, int(port)))
EOF
wait_for "g1 counted four malformed concast messages" 3 \
  sh -c "[ \"\$('$ANODE' -n g1 stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"concast\"][\"malformed\"])')\" -ge $((before + 4)) ]"
expect_ge "...as drop_malformed" "$(counter g1 drop_malformed)" 4
echo "$checks checks passed"
