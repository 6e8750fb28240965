#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Wireshark dissector (tools/wireshark/anode.lua) against real traffic:
# tshark captures a lab of three nodes on loopback while an active ping
# loads its code on demand (capsules, code requests, chunks) and an active
# trace carries its code and collects at a goal (GOAL and RESULT options);
# then tshark decodes the capture with the dissector, and every datagram
# between the nodes must decode as ANEP, field by field, with no malformed
# packet and no expert warning. Capturing needs root (skip, 77, otherwise).
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: capturing on loopback needs root"
  exit 77
fi
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed (scripts/deps.sh installs it)"; exit 77; }
. "$(dirname "$0")/lib.sh"
LUA=$SRC_DIR/tools/wireshark/anode.lua

lab_up "$TOPO_DIR/line3.topo"
ports=$(awk '!/^#/ {split($2, a, ":"); print a[2]}' "$ANODE_RUN_DIR/line3/nodes")
filter="udp and ($(sed 's/^/port /' <<<"$ports" | paste -sd' ' | sed 's/ port/ or port/g'))"
cap=$ANODE_RUN_DIR/lab.pcapng
tshark -i lo -f "$filter" -w "$cap" -P -l >"$ANODE_RUN_DIR/tshark.log" 2>&1 &
tshark_pid=$!
dissector_cleanup() {
  local rc=$?
  kill "$tshark_pid" 2>/dev/null || true
  (exit $rc)
  cleanup
}
trap dissector_cleanup EXIT
# tshark says "Capturing on" a little before it captures: a marker (a
# well-formed ANEP packet of a Type ID that a drops) is sent until tshark
# shows it, so that nothing of what follows is missed.
a_addr=$(awk '$1 == "a" {print $2}' "$ANODE_RUN_DIR/line3/nodes")
capturing() {
  /usr/bin/python3 "$SRC_DIR/tests/lab/badpkt.py" "$a_addr" unknown-drop >/dev/null
  grep -q "0x7777\|ANEP\|UDP" "$ANODE_RUN_DIR/tshark.log"
}
wait_for "tshark to capture" 20 capturing

expect_match "ping across the lab (code loaded on demand)" "$("$ANODE" -n a ping c -c 3 -i 0.1)" '3 received'
expect_match "trace with carried code, collecting at b" "$("$ANODE" -n a trace c --carry --at b)" 'b'
# tshark writes what it captured when it stops; the loopback is quiet now.
sleep 0.5
kill -INT "$tshark_pid"
wait "$tshark_pid" 2>/dev/null || true

decode() { tshark -r "$cap" -X "lua_script:$LUA" "$@" 2>"$ANODE_RUN_DIR/decode.err"; }
total=$(decode -T fields -e frame.number | wc -l)
anep=$(decode -Y anep -T fields -e frame.number | wc -l)
echo "captured $total datagrams between the nodes, $anep decoded as ANEP"
expect_ge "the capture holds the lab's traffic" "$total" 12
expect_eq "every datagram between the nodes decodes as ANEP" "$anep" "$total"
count() { decode -Y "$1" -T fields -e frame.number | wc -l; }
expect_ge "capsules are recognised" "$(count 'anep.type == 0x4101')" 12
expect_ge "code requests are recognised (ping.ao loaded on demand)" "$(count 'anep.type == 0x4102')" 2
expect_ge "...and their chunks" "$(count 'anep.type == 0x4103')" 3
expect_ge "...padded to pay for the answer" "$(count 'anode.code.padding > 0')" 2
expect_ge "every capsule shows its hop limit and copy budget" "$(count 'anep.type == 0x4101 && anep.hop_limit && anep.copies >= 0')" 12
expect_ge "the trace carried its code" "$(count 'anode.capsule.carried == 1 && anode.capsule.carried_code')" 1
expect_ge "...named its goal" "$(count 'anep.goal')" 1
expect_ge "...and collected a result there (visit 1)" "$(count 'anep.result && anep.visit == 1')" 1
expect_ge "capsules show their code, home and data" "$(count 'anode.capsule.code && anode.capsule.home && anode.capsule.data_len')" 12
out=$(decode -V)
if grep -q "Malformed" <<<"$out"; then
  grep -B5 "Malformed" <<<"$out" | head -40 >&2
  fail "tshark marked a packet malformed"
fi
ok "no packet is marked malformed"
if grep -q "Not as docs/wire.md says" <<<"$out"; then
  grep -B5 "Not as docs/wire.md says" <<<"$out" | head -40 >&2
  fail "the dissector found a packet that does not follow docs/wire.md"
fi
ok "...and none breaks the documented format"
# (tshark warns that it runs as root: that is not about the dissector)
complaints=$(grep -v 'Running as user "root"' "$ANODE_RUN_DIR/decode.err" || true)
[ -z "$complaints" ] || { echo "$complaints" >&2; fail "tshark complained about the dissector"; }
ok "tshark loaded the dissector without a complaint"

# On-path signalling (docs/wire.md §10), from the fuzz seeds written from
# its test vector: no node sends it yet, so a capture file is made of them.
sigs=$SRC_DIR/tests/fuzz/corpus/fuzz_sig
/usr/bin/python3 "$SRC_DIR/tests/lab/sig_pcap.py" "$ANODE_RUN_DIR/sig.pcap" "$sigs/seed-setup" \
  "$sigs/seed-response-one" "$sigs/seed-trigger" "$sigs/seed-response-truncated" "$sigs/seed-here"
sig=$(tshark -X lua_script:"$LUA" -r "$ANODE_RUN_DIR/sig.pcap" -V 2>/dev/null)
expect_eq "signalling: each message's kind in the summary" \
  "$(tshark -X lua_script:"$LUA" -r "$ANODE_RUN_DIR/sig.pcap" -T fields -e _ws.col.Info 2>/dev/null | xargs -d '\n' | tr -s ' ')" \
  "signalling SETUP by janedoe NetMonitor signalling RESPONSE, 1 entries signalling TRIGGER by janedoe, encloses SETUP NetMonitor signalling RESPONSE, 2 entries signalling HERE"
expect_match "...a SETUP's fields as Figure 4's" "$sig" 'url: http://10.200.0.1/modules/netmonitor.ao'
expect_match "...its filter" "$sig" 'filter: proto 17, dports 5060-5060'
expect_match "...a response's entry: the node and what it has installed" "$sig" 'installed: NetMonitor 1.0.0, 3599 s left'
expect_match "...a truncated stack is flagged" "$sig" 'Stack truncated: True'
if grep -q "Not as docs/wire.md says\|Malformed" <<<"$sig"; then fail "a signalling message decoded as malformed"; fi
ok "...none malformed"
echo "dissector: $checks checks passed"
