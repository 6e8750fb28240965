#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# On-path signalling in an overlay lab (issue 20): a request enters the
# overlay at the node named by -n (or --via) and goes hop by hop by the
# nodes' routes; the answer comes back through the same nodes. Needs no
# privileges: overlay nodes on loopback.
. "$(dirname "$0")/lib.sh"
py() { /usr/bin/python3 -c "$@"; }
dir=$ANODE_RUN_DIR
"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
"$ANODE" key gen -o "$dir/eve.key" >/dev/null
echo "user alice $(cat "$dir/alice.pub")" >"$dir/policy"
topo=$dir/sigline.topo
{ cat "$TOPO_DIR/line3.topo"; echo "set all policy $dir/policy"; echo "set c sig-here-ms 50"; } >"$topo"
lab_up "$topo" >/dev/null
addr() { "$ANODE" -n "$1" info --json | py "import json,sys; print(json.load(sys.stdin)['address'])"; }
A=$(addr a) B=$(addr b) C=$(addr c)
stack() { py "import json,sys; print(' '.join(n['address'] for n in json.load(sys.stdin)['nodes']))"; }
out=$("$ANODE" -n a signal probe c --user alice --key "$dir/alice.key" --json) || fail "probe: $out"
[ "$(echo "$out" | stack)" = "$A $B $C" ] || fail "stack is not a b c: $out"
ok "-n a signal probe c: the request enters at a and crosses b to c; the answer holds a, b, c, nearest first"
out=$("$ANODE" signal probe "$C" --via "$B" --user alice --key "$dir/alice.key" --json) || fail "probe via b: $out"
[ "$(echo "$out" | stack)" = "$B $C" ] || fail "--via b: $out"
ok "--via b, DEST as an address: b and c answer"
rc=0
out=$("$ANODE" -n a signal probe c --user alice --key "$dir/eve.key") || rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "refused (Operation not permitted): bad signature" || fail "bad key: rc $rc: $out"
ok "a bad signature: a refuses it, exit 1, the text says why"
rc=0
out=$("$ANODE" -n a signal probe nosuchnode --user alice --key "$dir/alice.key" 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "not a node of the lab" || fail "unknown destination: rc $rc: $out"
ok "an unknown destination is refused before anything is sent"
"$ANODE" lab down "$topo" >/dev/null
rc=0
out=$("$ANODE" signal probe "$C" --via "$A" --user alice --key "$dir/alice.key" --timeout 1.2 2>&1) || rc=$?
[ $rc -eq 3 ] && echo "$out" | grep -q "no answer from .* after 2 sends in 1.2 s" || fail "no node: rc $rc: $out"
ok "no node at all: sent at 0 and 0.5 s, gives up after --timeout with exit 3 and says so"
"$ANODE" signal -h | grep -q "^Usage: anode \[-n NODE\] signal probe DEST" || fail "signal -h"
ok "signal -h prints its usage"
echo "$checks checks passed"
