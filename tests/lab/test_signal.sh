#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# On-path signalling (issue 20; seed 004 §4, Figure 5) in a namespace lab
# h1 - a - p - b - h2, where a and b are anode routers and p a plain Linux
# router: `anode signal probe` from h1 toward h2 (UDP to h2:3322 with IP
# Router Alert) is taken by a and b, crosses p as any datagram, and the
# answer carries a's and b's entries; refusals (bad signature, unknown
# user) are answered by the first node and go no further; the hop limit
# ends a request where it runs out. Then the attacks, each with a victim
# that must notice nothing: requests forged in a victim's name (the node
# sends the victim no more octets than the attacker sent it), requests of
# an unknown user (no state kept), forged HERE and responses (nothing
# sent), all while a real probe still gets its whole answer.
# Skipped (77) without root or ip netns.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sig_lab.sh"
lab=sig$$
dir=$ANODE_RUN_DIR
"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
"$ANODE" key gen -o "$dir/eve.key" >/dev/null
echo "user alice $(cat "$dir/alice.pub")" >"$dir/policy"
tshark_pid=
signal_cleanup() {
  local rc=$?
  [ -z "$tshark_pid" ] || kill "$tshark_pid" 2>/dev/null
  (exit $rc)
  cleanup
}
trap signal_cleanup EXIT
sig_lab_up
echo "$status" | py "import json,sys; l=json.load(sys.stdin)['labs'][0]; assert [n['state'] for n in l['nodes'] if n['name']=='p'] == ['no node']" ||
  fail "p runs a node"
ok "p is a plain router: no anoded, the kernel forwards"
sstat() { "$ANODE" -n "$1" stats --json | py "import json,sys; print(json.load(sys.stdin)['sig']['$2'])"; }
nodes_of() { py "import json,sys; d=json.load(sys.stdin); print(' '.join(n['address']+'/'+str(n.get('status','-')) for n in d['nodes']))"; }

# A probe: both anode routers answer, nearest first; p is not among them.
out=$(sig probe "$H2" --user alice --key "$dir/alice.key" --json) || fail "probe failed: $out"
[ "$(echo "$out" | nodes_of)" = "$A/0 $B/0" ] || fail "probe stack is not a, b: $out"
ok "PROBE h1 -> h2 crosses a, p (plain), b: the answer holds a's and b's entries, nearest first"
echo "$out" | py "import json,sys; d=json.load(sys.stdin); n=d['nodes']; assert d['answered'] and d['heard'] and d['attempts']==1
assert all(x['ee_kinds'] & 3 == 3 and x['sandbox_kinds'] == 1 and x['free_memory_kb'] > 0 for x in n)" ||
  fail "entries lack capabilities: $out"
ok "each entry says what the node runs (capsules, packet modules), its sandboxes and free memory"
text=$(sig probe "$H2" --user alice --key "$dir/alice.key")
echo "$text" | grep -q "^PROBE toward $H2: answered in .* 2 anode nodes on the path" || fail "text output: $text"
ok "the text answer names the path's anode nodes"
[ "$(sstat b requests_last)" -ge 2 ] && [ "$(sstat a requests_passed_on)" -ge 2 ] || fail "a passed on, b was last: counters"
ok "a passed the requests on, b answered as the last anode node (h2 is on its link)"

# On the wire, as Wireshark shows it (tools/wireshark/anode.lua): a probe
# captured at p, the plain router between a and b.
if command -v tshark >/dev/null; then
  ip netns exec "an-$lab-p" tshark -i any -f "udp port 3322" -w "$dir/p.pcap" >"$dir/tshark.log" 2>&1 &
  tshark_pid=$!
  wait_for "tshark at p" 10 grep -q "Capturing on" "$dir/tshark.log"
  sleep 0.5
  sig probe "$H2" --user alice --key "$dir/alice.key" >/dev/null || fail "probe under capture"
  sleep 0.5
  kill "$tshark_pid"
  wait "$tshark_pid" 2>/dev/null || true
  tshark_pid=
  info=$(tshark -X lua_script:"$SRC_DIR/tools/wireshark/anode.lua" -r "$dir/p.pcap" -T fields -e _ws.col.Info 2>/dev/null |
    sort | uniq | tr '\n' '|')
  for want in "signalling PROBE by alice" "signalling HERE" "signalling RESPONSE, 1 entries"; do
    case "|$info" in *"|$want|"*) ;; *) fail "the dissector did not show '$want' at p: $info" ;; esac
  done
  ok "at p the dissector shows the PROBE by alice, b's HERE to a and b's response (1 entry) going back to a"
fi

# Refusals: the first node answers alone, the request goes no further.
b_before=$(sstat b requests_received)
rc=0
out=$(sig probe "$H2" --user alice --key "$dir/eve.key" --json) || rc=$?
[ $rc -eq 1 ] || fail "a forged probe exited $rc, not 1"
[ "$(echo "$out" | nodes_of)" = "$A/-1" ] && echo "$out" | grep -q '"why":"bad signature"' ||
  fail "bad signature not refused by a alone: $out"
ok "a request signed with another key: refused by a, 'bad signature', exit 1"
rc=0
out=$(sig probe "$H2" --user mallory --key "$dir/eve.key" --json) || rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q '"why":"unknown user"' || fail "unknown user: $out"
ok "a user no policy names: refused, 'unknown user'"
[ "$(sstat b requests_received)" = "$b_before" ] || fail "a refused request reached b"
ok "refused requests went no further than a"
out=$(sig probe "$H2" --user alice --key "$dir/alice.key" --hop-limit 1 --json)
[ "$(echo "$out" | nodes_of)" = "$A/0" ] && echo "$out" | grep -q 'hop limit ends here' || fail "hop limit 1: $out"
ok "--hop-limit 1: a answers, the request goes no further"

# A replay: another request signed with a nonce a took already.
nonce=00112233445566778899aabbccddeeff
sig probe "$H2" --user alice --key "$dir/alice.key" --nonce $nonce --json >/dev/null || fail "the first use of a nonce"
rc=0
out=$(sig probe "$H2" --user alice --key "$dir/alice.key" --nonce $nonce --json) || rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | nodes_of)" = "$A/-114" ] && echo "$out" | grep -q 'replayed' ||
  fail "a replayed nonce: $out"
ok "another request with a nonce seen already: refused by a as replayed, exit 1"
# The reverse path (seed 004 §8): a TRIGGER toward h2; b, the last node,
# starts the enclosed PROBE back toward h1, through p, to a.
out=$(sig probe "$H2" --reverse --user alice --key "$dir/alice.key" --json) || fail "reverse probe: $out"
[ "$(echo "$out" | nodes_of)" = "$B/0 $A/0" ] || fail "the reverse path is not b, a: $out"
echo "$out" | py "import json,sys; d=json.load(sys.stdin); assert d['reverse'] and d['forward'] == ['$A', '$B'], d" ||
  fail "the TRIGGER's own answer: $out"
[ "$(sstat b triggered)" -ge 1 ] || fail "b did not count the TRIGGER"
ok "--reverse: the TRIGGER crosses a and b; b starts the PROBE back, and the answer is b's and a's"

# Lost on the way: p drops what goes to h2 for a moment. a hears no HERE
# and answers as the last node, saying so.
ip netns exec "an-$lab-p" iptables -I FORWARD -p udp --dport 3322 -j DROP
out=$(sig probe "$H2" --user alice --key "$dir/alice.key" --json)
ip netns exec "an-$lab-p" iptables -D FORWARD -p udp --dport 3322 -j DROP
[ "$(echo "$out" | nodes_of)" = "$A/0" ] && echo "$out" | grep -q 'nothing further on said it took' ||
  fail "a lost request beyond a: $out"
ok "a request lost beyond a: a answers as the last node after sig-here-ms, and says why"

# Attacks, with a probe as the victim that must notice nothing.
victim_port=9999
ip netns exec "an-$lab-h2" /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', $victim_port)); s.settimeout(0.5)
n = 0; end = time.time() + 8
while time.time() < end:
    try: n += len(s.recv(65536))
    except socket.timeout: pass
open('$dir/victim', 'w').write(str(n))" &
listener=$!
sleep 0.3
a_in_flight=$(sstat a requests_in_flight)
a_sent_before=$(sstat a responses_sent)
sent=$("$ANODE" lab exec "$lab" h1 -- "$SIG_ATTACK" reflect "$H2:3322" "$H2:$victim_port" 300)
unknown=$("$ANODE" lab exec "$lab" h1 -- "$SIG_ATTACK" unknown "$H2:3322" mallory 300)
forged=$("$ANODE" lab exec "$lab" h1 -- "$SIG_ATTACK" forge "$A" 300)
out=$(sig probe "$H2" --user alice --key "$dir/alice.key" --json) || fail "the victim's probe failed: $out"
[ "$(echo "$out" | nodes_of)" = "$A/0 $B/0" ] || fail "the victim's probe lost a node: $out"
ok "during the attacks a real probe still gets a's and b's entries"
wait "$listener"
got=$(cat "$dir/victim")
echo "# reflection: attacker sent $sent octets of requests, the victim received $got octets"
[ "$got" -gt 0 ] && [ "$got" -le "$sent" ] || fail "reflection amplified: sent $sent, the victim got $got"
ok "requests forged in a victim's name: a sends the victim refusals, no more octets than it was sent ($got <= $sent)"
[ "$(sstat a requests_refused)" -ge 600 ] || fail "a refused $(sstat a requests_refused) of 600"
[ "$(sstat a requests_in_flight)" -le $((a_in_flight + 1)) ] || fail "refused requests took state at a"
[ "$(sstat b requests_received)" -le $((b_before + 8)) ] || fail "forged requests reached b"
ok "forged and unknown-user requests: refused at a, no state kept, none reached b"
[ "$(sstat a responses_unexpected)" -ge 150 ] && [ "$(sstat a here_unexpected)" -ge 150 ] ||
  fail "forged HERE/responses not counted"
[ "$(($(sstat a responses_sent) - a_sent_before))" -le 601 ] || fail "forged responses made a send"
ok "forged HERE and responses for ids in flight nowhere: counted, nothing sent ($forged octets)"
echo "# unknown-user flood: $unknown octets"
echo "$checks checks passed"
