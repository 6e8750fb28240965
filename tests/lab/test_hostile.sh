#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile code (issue 7): valid code objects and well-formed requests that
# try to loop, stall, amplify or reflect, each sent at the middle node of a
# line of three while an active ping crosses it. For every attack: the ping
# loses nothing, the node's control socket answers every 10 ms probe within
# 100 ms, and the node's counters account for every capsule of the attack.
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
attack() { /usr/bin/python3 "$SRC_DIR/tests/lab/attack.py" "$@"; }

lab_up "$TOPO_DIR/line3.topo"
addr() { awk -v n="$1" '$1 == n {print $2}' "$ANODE_RUN_DIR/line3/nodes"; }
a=$(addr a)
b=$(addr b)
b_ctl=$("$ANODE" -n b info --json | json "d['ctl_socket']")
b_app=$("$ANODE" -n b info --json | json "d['app_socket']")
# a is the code home: b loads every hostile object from it on demand.
for co in selfloop amplify fanout helperspam; do "$ANODE" -n a code insert "$HOSTILE_DIR/$co.ao" >/dev/null; done
"$ANODE" -n a ping c -c 1 >/dev/null # b and c have the ping code before the clock starts

# Run an attack (the arguments) while a pings c through b and a probe asks
# b's control socket every 10 ms; check both afterwards.
under_attack() { # description attack-args...
  local what=$1
  shift
  "$ANODE" -n a ping c -c 30 -i 0.05 -q >"$ANODE_RUN_DIR/ping.out" 2>&1 &
  local ping_pid=$!
  /usr/bin/python3 "$SRC_DIR/tests/lab/ctlprobe.py" "$b_ctl" 1.8 >"$ANODE_RUN_DIR/probe.out" &
  local probe_pid=$!
  attack "$@" >"$ANODE_RUN_DIR/attack.out"
  wait "$ping_pid" || true
  wait "$probe_pid"
  expect_match "$what: the ping across b lost nothing" "$(cat "$ANODE_RUN_DIR/ping.out")" ' 30 received'
  local probe
  probe=$(cat "$ANODE_RUN_DIR/probe.out")
  echo "  control socket: $probe"
  expect_eq "$what: b's control socket answered every probe within 100 ms" \
    "$(json "d['max_ms'] < 100 and d['failed'] == 0 and d['probes'] > 20" <<<"$probe")" True
}
delta() { # node counter before
  echo $(($(counter "$1" "$2") - $3))
}
# Every buffer back in the pool (but the link's receive slots) once b is quiet.
buffers_back() {
  "$ANODE" -n b stats --json | json "d['buffers']['free'] >= d['buffers']['pool'] - 32"
}

# 1. A capsule loaded on demand (parked, resumed) that sends itself to its
#    own node: every arrival takes a hop, so it dies after its hop limit.
loops=$(counter b looped)
hl=$(counter b drop_hop_limit)
under_attack "self-loop after an on-demand load" capsules "$b" "$HOSTILE_DIR/selfloop.ao" 20 100 home="$a" hops=16
expect_eq "self-loop: each of the 20 capsules looped 15 times" "$(delta b looped "$loops")" 300
expect_eq "...and was dropped when its hop limit ran out" "$(delta b drop_hop_limit "$hl")" 20
wait_for "b's buffers back" 5 buffers_back

# 2. Four copies to its own node per run, with the largest copy budget a
#    capsule can claim: the node caps the budget (16), so each capsule ends
#    as at most 17, every one of which dies by its hop limit.
copied=$(counter b copied)
hl=$(counter b drop_hop_limit)
share=$(counter b drop_buffer_share)
wb=$(counter b drop_work_budget)
under_attack "four copies per run" capsules "$b" "$HOSTILE_DIR/amplify.ao" 20 100 home="$a" hops=16 copies=65535
made=$(delta b copied "$copied")
echo "  20 capsules made $made copies"
[ "$made" -le $((20 * 16)) ] || fail "20 capsules made $made copies: more than their copy budgets allow"
ok "copies: no more than the capped budget (16 per capsule)"
expect_eq "...and every capsule and copy ended, counted (hop limit, buffer share or work budget)" \
  "$(($(delta b drop_hop_limit "$hl") + $(delta b drop_buffer_share "$share") + $(delta b drop_work_budget "$wb")))" \
  $((20 + made))
wait_for "b's buffers back" 5 buffers_back

# 3. 64 self-calls per level under the nesting limit (16.7 million calls),
#    each writing soft state and growing the capsule: the work budget ends
#    every such capsule.
wb=$(counter b drop_work_budget)
under_attack "an_call fan-out" capsules "$b" "$HOSTILE_DIR/fanout.ao" 20 100 home="$a"
expect_eq "fan-out: every capsule was dropped for its work budget" "$(delta b drop_work_budget "$wb")" 20

# 4. As many costly helper calls as an object can hold, at every level.
wb=$(counter b drop_work_budget)
under_attack "helper calls" capsules "$b" "$HOSTILE_DIR/helperspam.ao" 20 100 home="$a"
expect_eq "helper calls: every capsule was dropped for its work budget" "$(delta b drop_work_budget "$wb")" 20

# 5. Code requests whose SRC names a victim: answers go only to the real
#    sender, and never more than three times what it sent.
served=$(counter b code_chunks_served)
under_attack "forged code requests" reflect "$b" "$HOSTILE_DIR/fanout.ao" 100 1200
out=$(cat "$ANODE_RUN_DIR/attack.out")
echo "  $out"
expect_eq "reflection: the victim named in SRC got nothing" "$(json "d['to_victim_packets']" <<<"$out")" 0
expect_eq "...the real sender got at most 3x what it sent" "$(json "0 < d['ratio'] <= 3" <<<"$out")" True
out=$(attack reflect "$b" "$HOSTILE_DIR/fanout.ao" 100 80)
expect_eq "...and unpadded requests (80 octets) get nothing: a chunk would cost more than 3x" \
  "$(json "d['to_sender_packets'] + d['to_victim_packets']" <<<"$out")" 0

# 6. Capsules naming unknown code whose home is a victim: in overlay mode a
#    node asks a home only by route, and the victim is no node of the lab.
before=$(($(counter b drop_code_timeout) + $(counter b drop_park_full)))
under_attack "a chosen code home" homeflood "$b" 40 1.8
out=$(cat "$ANODE_RUN_DIR/attack.out")
expect_eq "home flood: the victim named as code home got no request" "$(json "d['victim_requests']" <<<"$out")" 0
expect_eq "...the previous hop (the sender) was asked at a bounded rate" "$(json "d['prev_hop_requests'] <= 40" <<<"$out")" True
# (wait_for runs its command again each time: the counters are read in it)
reached() { # node counter before expected-delta
  [ "$(delta "$1" "$2" "$3")" -eq "$4" ]
}
all_dropped() { [ $(($(counter b drop_code_timeout) + $(counter b drop_park_full) - before)) -eq 40 ]; }
wait_for "the 40 capsules to time out or find no room" 6 all_dropped
ok "...and all 40 capsules were dropped, counted"

# A control client that connects and says nothing does not hold the node;
# it is closed after a second.
under_attack "silent control clients" silentctl "$b_ctl" 4 1.6
expect_eq "silent control clients: closed by the node" "$(json "d['closed_by_node']" <"$ANODE_RUN_DIR/attack.out")" 4

# 7. Datagrams larger than a context: received, and dropped for their size.
rx=$(counter b received)
tb=$(counter b drop_too_big)
attack oversize "$b" 5 >/dev/null
wait_for "b to count the oversized datagrams" 5 reached b drop_too_big "$tb" 5
expect_eq "oversized datagrams count as received" "$(delta b received "$rx")" 5

# 8. The out-of-bounds objects of the unit tests, carried: refused, counted,
#    and the node says why when one is inserted.
bad=$(counter b drop_code_bad)
/usr/bin/python3 "$SRC_DIR/tests/lab/badpkt.py" "$b" carried "$EE_TEST_DIR/bad_oob.ao" 3 >/dev/null
wait_for "b to refuse the carried out-of-bounds code" 5 reached b drop_code_bad "$bad" 3
ok "carried out-of-bounds code: the 3 capsules were dropped as bad code"

# 9. Application link slots are shared per user: one user holding a hundred
#    connections gets a quarter of them, and others still get in.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 0755 "$ANODE_RUN_DIR" "$ANODE_RUN_DIR/line3"
  chmod 0666 "$b_app" # this test only: let another user in
  setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$SRC_DIR/tests/lab/attack.py" \
    applinks "$b_app" 100 3 >"$ANODE_RUN_DIR/applinks.out" &
  holder=$!
  wait_for "the other user to hold its connections" 5 grep -q held "$ANODE_RUN_DIR/applinks.out"
  expect_eq "one user holds at most a quarter of the 256 slots" "$(json "d['held']" <"$ANODE_RUN_DIR/applinks.out")" 64
  expect_eq "...and each of the 36 refused was told why before the close" \
    "$(json "d['refused_with_reason']" <"$ANODE_RUN_DIR/applinks.out")" 36
  expect_match "another user's application still gets in" "$("$ANODE" -n b ping c -c 1)" '1 received'
  expect_eq "...and the refusals were counted" "$("$ANODE" -n b stats --json | json "d['applinks']['refused_user']")" 36
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
else
  echo "skipped: application link sharing per user (needs root and setpriv)"
fi
echo "hostile: $checks checks passed"
