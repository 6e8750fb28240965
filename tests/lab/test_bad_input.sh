#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input never stops a node: malformed ANEP, other versions, truncated
# capsules, unknown Type IDs and options, exhausted hop limits, code that
# is missing, lies about its name or fails validation, bad messages on the
# application socket. Each is counted under its reason, and the node goes
# on serving everyone else.
. "$(dirname "$0")/lib.sh"
bad() { /usr/bin/python3 "$(dirname "$0")/badpkt.py" "$@"; }

# Send one kind of bad packet to b and wait until the counter named moves
# by one: expect_drop COUNTER DESCRIPTION KIND [ARGS].
expect_drop() {
  local name=$1 what=$2 before; shift 2
  before=$(counter b "$name")
  bad "$b" "$@" >/dev/null
  wait_for "$what" 5 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b $name) -eq $((before + 1)) ]"
  ok "$what"
}

lab_up "$TOPO_DIR/line3.topo"
b=$(awk '$1 == "b" {print $2}' "$ANODE_RUN_DIR/line3/nodes")
c=$(awk '$1 == "c" {print $2}' "$ANODE_RUN_DIR/line3/nodes")
before=$(counter b received)

sent=$(bad "$b" garbage)
n=$(bad "$b" truncated)
sent=$((sent + n))
wait_for "b to read the malformed packets" 10 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b received) -ge $((before + sent)) ]"
expect_eq "every malformed or truncated packet is counted as a drop" "$(drops b)" "$sent"
expect_ge "...most as malformed (random first octets are other versions)" "$(counter b drop_malformed)" 40
expect_drop drop_version "ANEP version 2 is dropped as such" version
expect_drop drop_option "an unknown option flagged must-know drops the packet" must-know
expect_drop drop_unknown_type "an unknown Type ID flagged drop is dropped" unknown-drop
expect_drop passed_unknown "an unknown Type ID flagged forward goes on by default routing" unknown-forward "$c"
expect_drop drop_no_route "an unknown Type ID without a destination is dropped for no route" unknown-noroute
expect_drop drop_hop_limit "a capsule that arrives with hop limit 0 is dropped" hop-limit
before=$(counter b drop_code_timeout)
bad "$b" code-missing >/dev/null
wait_for "the parked capsule to time out" 8 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b drop_code_timeout) -eq $((before + 1)) ]"
ok "a capsule naming code its sender does not serve is parked, then dropped on timeout"
# Signalling (Type ID 0x4104) is a room's now (src/sig): a payload that is
# no signalling message is dropped as malformed and answered nothing. (A
# Type ID no room handles follows the ANEP flag: the unknown ones above,
# and tests/unit/node/test_rooms.c.)
expect_drop drop_malformed "a signalling packet that holds no signalling message is dropped as malformed" signal "$c"
expect_drop drop_malformed "a code request without a requester is malformed" code-request
m=$(counter b drop_malformed)
bad "$b" carried-mismatch "$CODE_DIR/ping.ao" >/dev/null
wait_for "a name mismatch" 5 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b drop_malformed) -eq $((m + 1)) ]"
expect_eq "carried code that does not hash to its name is not cached" "$(counter b objects)" 0
bad "$b" carried "$EE_TEST_DIR/bad_loop.ao" 50 >/dev/null
wait_for "the bad code drops" 5 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b drop_code_bad) -eq 50 ]"
expect_eq "code with a loop fails validation once" "$(counter b failed_validation)" 1
expect_eq "...and 49 more capsules carrying it are refused by name" "$(counter b refused_known_bad)" 49
bad "$b" carried "$EE_TEST_DIR/bad_oob.ao" 1 >/dev/null
wait_for "the second bad code" 5 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b failed_validation) -eq 2 ]"
ok "code reading outside its context fails validation"

# Garbage on the application socket.
/usr/bin/python3 - "$ANODE_RUN_DIR/line3/b.app" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)                                 # HELLO
# Each bad message is answered with an ERROR record; read the answers
# before closing, or the node finds us gone and stops reading. A record of
# no octets is one of them (not the end of the stream).
bad = (b"\x01", b"\x63\x01\0\0\0\0\0\0", b"\x02\x07" + bytes(6), b"")
for m in bad:
    s.send(m)
s.settimeout(5)
errors = [s.recv(4096) for _ in bad]
assert all(e[0] == 6 for e in errors), errors   # WIRE_APP_ERROR
s.send(b"\x02\x01\0\0\0\0\0\0")            # an INJECT with no body (once a NULL to memcpy)
e = s.recv(4096)
assert e[0] == 6, e                          # refused with why, the node still up
s.send(b"\x02\x01\0\0\0\0\0\0" + b"junk")   # a well-formed INJECT of a malformed packet
s.close()
PY
wait_for "the bad application messages" 5 bash -c "[ \$($(declare -f counter); ANODE=$ANODE counter b bad_messages) -ge 4 ]"
ok "bad application link messages are counted"

out=$("$ANODE" -n a ping c -c 3 -i 0.05)
expect_match "after all that, ping a->c through b still works" "$out" '3 received'
kill -0 "$(awk '$1 == "b" {print $5}' "$ANODE_RUN_DIR/line3/nodes")" || fail "b died"
ok "b is still running"
echo "bad input: $checks checks passed"
