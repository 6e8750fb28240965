#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packet modules (issue 9): h1 -- r -- h2 in network namespaces of this run,
# r an anode router with a policy. bob activates tests/lab/modules/guard.c
# bound to his flow (UDP to h2:7000): the module runs in the node on every
# packet of it and lets one go on, drops one that carries "DROPME", and
# answers "PING" with "PONG" on behalf of h2 (h2 never sees it). Refused,
# with the reason: a filter outside bob's grants, and a module the
# validator refuses. Stopped, the rule goes and the flow is the kernel's
# again. Then a server service: python3's http.server in a network
# namespace of its own, bob's traffic to h2:8080 redirected to it, until
# it is stopped. Needs root and ip netns; skips (77) otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
GUARD_AO=${GUARD_AO:?path to guard.ao}
HOLD_AO=${HOLD_AO:?path to hold.ao}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/mo
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
# Read by the node child (an unprivileged user).
install -m 644 "$GUARD_AO" "$dir/guard.ao"
install -m 644 "$HOLD_AO" "$dir/hold.ao"
install -m 644 "$CODE_DIR/ping.ao" "$dir/capsule.ao"
pids=()
trap hrh_finish EXIT
hrh_up mo

# The same tooling as capsule code: anode code build, checked as a module.
"$ANODE" code build "$SRC_DIR/tests/lab/modules/guard.c" -o "$dir/built.ao" --module >/dev/null
expect_eq "anode code build --module makes the same object as the build" \
  "$("$ANODE" code name "$dir/built.ao" | cut -c1-64)" "$("$ANODE" code name "$dir/guard.ao" | cut -c1-64)"
if "$ANODE" code build "$SRC_DIR/tests/lab/modules/guard.c" -o "$dir/x.ao" >"$dir/out" 2>&1; then
  fail "a module passed as capsule code"; fi
expect_match "...and without --module it is not capsule code" "$(cat "$dir/out")" 'no accept section'
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
cat >"$dir/policy" <<POL
user bob $(cat "$dir/bob.pub")
service guard module $dir/guard.ao
service notamodule module $dir/capsule.ao
service web server /usr/bin/python3 -m http.server 8080 --bind 0.0.0.0
service holder module $dir/hold.ao
allow bob service guard,notamodule,web,holder
allow bob filter 10.$X.2.0/24 proto udp ports 7000-7000
allow bob filter 10.$X.2.2/32 proto tcp ports 8080
POL
printf 'name mo\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
node_pid=$!
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
sv() { "$ANODE" -n "$dir/n.app" svc "$@" --key "$dir/bob.key" --user bob; }
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:mo:' || true; }
mstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['modules']['$1']"; }

# h2's server writes what it receives, one payload a line.
ip netns exec "$H2" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.$X.2.2', 7000))
with open('$dir/h2.txt', 'a') as f:
    while True:
        data, peer = s.recvfrom(2048)
        f.write(data.decode(errors='replace') + '\n'); f.flush()" &
pids+=($!)
# send PAYLOAD: from h1 to h2:7000; prints the answer, if one comes in 1 s.
send() { ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(sys.argv[1].encode(), ('10.$X.2.2', 7000))
try:
    data, peer = s.recvfrom(2048)
    print(data.decode(errors='replace'), peer[0], peer[1])
except socket.timeout:
    pass" "$1"; }
got() { grep -qx -e "$1" "$dir/h2.txt" 2>/dev/null; }
# send_now PAYLOAD...: from h1 to h2:7000, one datagram each, without
# waiting for answers (held packets must be checked within 2 s).
send_now() { ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in sys.argv[1:]:
    s.sendto(p.encode(), ('10.$X.2.2', 7000))" "$@"; }
warm() { send warmup >/dev/null; got warmup; }
wait_for "h2's server" 10 warm

if sv activate guard dst=10.$X.1.0/24 proto=udp port=7000 >"$dir/out" 2>&1; then fail "a filter outside bob's grants was taken"; fi
expect_match "a module's filter outside the user's grants is refused" "$(cat "$dir/out")" 'outside what the policy lets'
svcstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['svc']['$1']"; }
expect_eq "...counted as refused by the policy" "$(svcstat refused_policy)" 1
expect_eq "...not as a failure of the node" "$(svcstat failed)" 0
if sv activate notamodule dst=10.$X.2.0/24 proto=udp port=7000 >"$dir/out" 2>&1; then fail "capsule code ran as a module"; fi
expect_match "code that is not a packet module is refused, with the validator's reason" "$(cat "$dir/out")" \
  'refused: no packet section'

sv activate guard dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
two_rules() { [ "$(rules)" -eq 2 ]; }
wait_for "the module's filter" 10 two_rules
ok "the module's filter is in place (a rule of its own)"
send hello >/dev/null
wait_for "hello at h2" 5 got hello
ok "a plain packet crosses the module to h2"
send "xxDROPMExx" >/dev/null
send after-drop >/dev/null
wait_for "the packet after it" 5 got after-drop
got xxDROPMExx && fail "the packet the module dropped reached h2"
ok "a packet the module drops never reaches h2"
answer=$(send PING)
expect_match "PING is answered with PONG, from h2's address, by the router" "$answer" "^PONG 10\.$X\.2\.2 7000$"
got PING && fail "h2 saw the PING the router answered"
ok "...and h2 never saw the PING"
expect_ge "modules counted the packets" "$(mstat packets)" 4
expect_eq "...one dropped" "$(mstat dropped)" 1
expect_eq "...one answered" "$(mstat answered)" 1
expect_eq "...no failure" "$(mstat errors)" 0

sv stop guard >/dev/null
one_rule() { [ "$(rules)" -eq 1 ]; }
wait_for "the module's rule to go" 10 one_rule
ok "stopped, the module's rule goes"
send "againDROPME" >/dev/null
wait_for "the flow to be the kernel's again" 5 got againDROPME
ok "...and the flow is the kernel's again"

# A module that holds: packets kept until it releases them (in order), or
# until they have waited 2 s.
sv activate holder dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "the holder's filter" 10 two_rules
send_now HOLD-1 HOLD-2
sleep 0.5
got HOLD-1 && fail "a held packet reached h2 before its release"
ok "packets the module holds do not go on"
send_now FLUSH
wait_for "the release" 5 got FLUSH
expect_eq "...until it releases them, in order, before the packet that released them" \
  "$(grep -E '^(HOLD-[12]|FLUSH)$' "$dir/h2.txt" | tr '\n' ' ')" "HOLD-1 HOLD-2 FLUSH "
send_now HOLD-3
wait_for "a held packet to go on after 2 s" 6 got HOLD-3
expect_ge "...or after they waited too long" "$(mstat hold_timeouts)" 1
sv stop holder >/dev/null
wait_for "the holder's rule to go" 10 one_rule

# A server service (issue 9): a program in a network namespace of its own,
# the traffic bob names redirected to it. h2 serves nothing on 8080: the
# answer comes from the sandbox on r.
http() { ip netns exec "$H1" /usr/bin/python3 -c "
import urllib.request
try:
    r = urllib.request.urlopen('http://10.$X.2.2:8080/', timeout=2)
    print(r.status, r.headers.get('Server'))
except Exception as e:
    print('error', type(e).__name__)"; }
expect_match "without the server, nothing answers on h2:8080" "$(http)" '^error'
if sv activate web dst=10.$X.1.2/32 proto=tcp port=8080 >"$dir/out" 2>&1; then fail "a server took traffic outside bob's grants"; fi
expect_match "a server's traffic outside the user's grants is refused" "$(cat "$dir/out")" 'outside what the policy lets'
sv activate web dst=10.$X.2.2/32 proto=tcp port=8080 >/dev/null
served() { http | grep -q '^200 SimpleHTTP'; }
wait_for "the server in its sandbox to answer for h2:8080" 15 served
ok "a server in a network namespace of its own answers the traffic redirected to it"
expect_match "...through a redirection of its own" \
  "$(ip netns exec "$R" iptables -w -t nat -S PREROUTING)" 'anode:mo:s[0-9]+.* -j DNAT --to-destination 169\.254\.'
sv stop web >/dev/null
unserved() { http | grep -q '^error'; }
wait_for "the redirection to go with the server" 10 unserved
expect_eq "...and stopped, its redirection is gone" \
  "$(ip netns exec "$R" iptables -w -t nat -S PREROUTING | grep -c 'anode:mo:' || true)" 0
# A reload that narrows bob's grant revokes the module whose filter now
# lies outside it, and its rule goes (the policy is read by the parent).
sv activate guard dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "the guard's filter again" 10 two_rules
sed -i "s|^allow bob filter 10.$X.2.0/24 proto udp ports 7000-7000$|allow bob filter 10.$X.2.0/24 proto udp ports 7001-7001|" \
  "$dir/policy"
kill -HUP "$node_pid"
wait_for "the module outside the narrowed grant to go" 10 one_rule
ok "a reload that narrows a user's filter grant removes the module's filter"
expect_eq "...and revokes the module" \
  "$("$ANODE" -n "$dir/n.app" stats --json | json "d['svc']['revoked']")" 1
echo "modules: $checks checks passed"
