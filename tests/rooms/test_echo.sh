#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rooms are plug-ins: anoded-rooms is anoded with the sample echo room
# (tests/rooms/echo, one folder and one build line, no edit to src/node).
# Its Type ID, directive, counters and command must reach a user through
# anoded -h, anoded -n, the packets it answers, stats --json and the
# control socket; the real anoded must know nothing of it.
. "$SRC_DIR/tests/lab/lib.sh"
work=$ANODE_RUN_DIR/work
mkdir -p "$work"

help=$("$ANODED" -h)
entry=$(awk '/^  echo-max /{p=1; print; next} p && (/^  [a-z]/ || /^$/){p=0} p' <<<"$help" | tr -s ' \n' ' ')
expect_match "anoded -h lists the room's directive with its default" "$entry" '^ echo-max N the sample echo room: .*\(512\) $'
expect_match "anoded -h still lists the node's and the other rooms' directives" "$help" '^  concast-flows N '
if grep -q echo-max <<<"$("$ANODED_PLAIN" -h)"; then
  fail "the real anoded lists the sample room's directive"
fi
ok "the real anoded has no sample room"

printf 'name q\nlisten 127.0.0.1:3322\napp-socket /tmp/q.app\nctl-socket /tmp/q.ctl\n' >"$work/q.conf"
expect_match "anoded -n prints the room's default" "$("$ANODED" -n -f "$work/q.conf")" '^echo-max 512$'
echo "echo-max 16" >>"$work/q.conf"
expect_match "anoded -n prints the room's directive as set" "$("$ANODED" -n -f "$work/q.conf")" '^echo-max 16$'
echo "echo-max 70000" >>"$work/q.conf"
if out=$("$ANODED" -n -f "$work/q.conf" 2>&1); then fail "echo-max 70000 passed"; fi
expect_match "a bad value of the room's directive names its line and range" "$out" \
  "q.conf:6: bad value for 'echo-max': 70000 \(a number from 0 to 65535\)"

topo=$ANODE_RUN_DIR/echo.topo
{ cat "$TOPO_DIR/line3.topo"; echo "set all echo-max 16"; } >"$topo"
lab_up "$topo"
addr=$("$ANODE" -n a info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
ctl=$("$ANODE" -n a info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ctl_socket"])')

# ANEP version 1, flags 0, Type ID 0x4fee, a header of 2 words, then the
# payload: sent from a UDP socket of ours, answered to it.
send_echo() { # payload-length -> prints the answer's payload, or "none"
  /usr/bin/python3 - "$addr" "$1" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
payload = bytes(range(65, 65 + int(sys.argv[2])))
pkt = struct.pack("!BBHHH", 1, 0, 0x4FEE, 2, 8 + len(payload)) + payload
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(pkt, (host.strip("[]"), int(port)))
try:
    answer = s.recv(2048)
    print(answer[8:].decode() if answer[:8] == pkt[:8] else "garbled")
except socket.timeout:
    print("none")
PY
}
expect_eq "the room answers a packet of its Type ID" "$(send_echo 10)" "ABCDEFGHIJ"
expect_eq "the room's directive holds (a payload over echo-max gets no answer)" "$(send_echo 40)" "none"

stats=$("$ANODE" -n a stats --json)
expect_eq "stats --json has the room's section and counters" \
  "$(/usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin)["echo"]; print(e["echoed"], e["too_long"])' <<<"$stats")" "1 1"
expect_match "stats as text shows the room's counters with their help" "$("$ANODE" -n a stats)" 'packets sent back to their sender'

ctl_cmd() { # command line -> the node's answer
  /usr/bin/python3 - "$ctl" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(2)
s.connect(sys.argv[1])
s.send(sys.argv[2].encode())
print(s.recv(65536).decode(), end="")
PY
}
expect_eq "the room's control command answers on the control socket" "$(ctl_cmd 'echo json')" \
  "$(printf 'ok\n{"echoed":1,"max":16}')"
expect_match "an unknown command lists the room's among the node's" "$(ctl_cmd 'nonesuch')" \
  '^error: unknown command .*stats.* concast.* echo'
# SIGHUP puts a new configuration in force as a whole, or none of it: an
# edited route is taken; a change the echo room cannot take while it runs
# (it has no reconfigure) refuses the whole reload, the new route too.
labdir=$ANODE_RUN_DIR/echo
pid=$(awk '$1 == "a" {print $NF}' "$labdir/nodes")
[ -n "$pid" ] && kill -0 "$pid" || fail "no pid for node a in $labdir/nodes"
echo "route 127.0.0.1:4999 127.0.0.1:4998" >>"$labdir/a.conf"
kill -HUP "$pid"
has_route() { grep -Eq '^127\.0\.0\.1:4999 +via 127\.0\.0\.1:4998$' <<<"$("$ANODE" -n a routes)"; }
wait_for "the reloaded route" 10 has_route
ok "a reload puts an edited route in force"
sed -i 's/^echo-max 16$/echo-max 8/' "$labdir/a.conf"
echo "route 127.0.0.1:4997 127.0.0.1:4998" >>"$labdir/a.conf"
kill -HUP "$pid"
refused() { grep -q "reload refused: the echo room's directives cannot change while the node runs" "$labdir"/*.log; }
wait_for "the refused reload" 10 refused
ok "a reload with a change a room cannot take is refused, saying why"
if grep -q '4997' <<<"$("$ANODE" -n a routes)"; then fail "half a refused reload was applied"; fi
ok "...and nothing of it applies (the other route is not in force)"
expect_eq "...the echo room keeps its configuration" "$(ctl_cmd 'echo json' | tail -1)" '{"echoed":1,"max":16}'
echo "rooms: $checks checks passed"
