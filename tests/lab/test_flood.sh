#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Active flood: the receiver counts in soft state and the final status
# matches what it consumed; a rate-limited flood loses nothing; a flood
# whose application is killed mid-stream leaves every node serving others.
. "$(dirname "$0")/lib.sh"

lab_up "$TOPO_DIR/line3.topo"
out=$("$ANODE" -n a flood c -t 1 -r 2000 -s 1400 -I 200)
expect_match "paced flood: status reports arrive during the flood" "$out" 'status: [1-9][0-9]* capsules received'
received=$(echo "$out" | sed -n 's/^c received \([0-9]*\) of \([0-9]*\) capsules.*/\1/p')
sent=$(echo "$out" | sed -n 's/^c received \([0-9]*\) of \([0-9]*\) capsules.*/\2/p')
expect_ge "paced flood: c counted capsules" "${received:-0}" 1000
expect_eq "paced flood: at 2000/s nothing is lost" "$received" "$sent"
consumed=$(counter c consumed)
expect_ge "c consumed the data capsules it counted" "$consumed" "$((received - 10))"

lost_at() { echo $(( $(counter "$1" rx_kernel_drops) + $(counter "$1" rx_gro_dropped) )); }
before=$(( $(counter a tx_errors) + $(lost_at b) + $(lost_at c) ))
out=$("$ANODE" -n a flood c -t 1 -s 64)
expect_match "unpaced flood: final status" "$out" 'final : [1-9][0-9]* capsules received'
received=$(echo "$out" | sed -n 's/^c received \([0-9]*\) of \([0-9]*\) capsules.*/\1/p')
sent=$(echo "$out" | sed -n 's/^c received \([0-9]*\) of \([0-9]*\) capsules.*/\2/p')
# Every capsule lost is counted somewhere: a's send errors, the kernel
# dropping it at b's or c's full socket (sampled every second), or their
# links taking a GRO run apart with no buffer left for it.
accounted() { echo $(( $(counter a tx_errors) + $(lost_at b) + $(lost_at c) - before )); }
# Status capsules on their way back cross b too, so a few more drops may
# be counted than data capsules were lost; never fewer.
lost=$((sent - received))
for _ in $(seq 60); do
  [ "$(accounted)" -ge "$lost" ] && break
  sleep 0.1
done
got=$(accounted)
[ "$got" -ge "$lost" ] && [ "$got" -le $((lost + 10)) ] ||
  fail "unpaced flood: $lost data capsules lost, $got drops counted"
ok "unpaced flood: every lost capsule is counted ($lost of $sent; $got drops counted)"
# The links batch runs to one next hop: a and b send them as GSO messages,
# b and c take the GRO runs apart (every capsule counted above came so).
expect_ge "unpaced flood: a sent runs of capsules as GSO messages" "$(counter a tx_gso_runs)" 1
expect_ge "...b took runs apart as they came (GRO)" "$(counter b rx_gro_runs)" 1
expect_ge "...and sent them on as runs" "$(counter b tx_gso_runs)" 1

# An application that vanishes mid-stream.
"$ANODE" -n a flood c -t 30 -s 500 >/dev/null 2>&1 &
flood_pid=$!
wait_for "the flood to be under way" 10 bash -c "[ \$(\"$ANODE\" -n c stats --json | tr , '\n' | sed -n 's/.*\"consumed\":\([0-9]*\).*/\1/p') -gt $((consumed + 1000)) ]"
kill -9 $flood_pid
wait $flood_pid 2>/dev/null || true
ok "killed the flood application mid-stream"
wait_for "a to notice the application went away" 10 bash -c "[ \$(\"$ANODE\" -n a stats --json | sed -n 's/.*\"connected\":\([0-9]*\).*/\1/p') -eq 0 ]"
ok "a closed the vanished application's link"
out=$("$ANODE" -n a ping c -c 2 -i 0.05)
expect_match "ping still works after the application vanished" "$out" '2 received'
echo "flood: $checks checks passed"
