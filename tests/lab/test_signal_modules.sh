#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Modules deployed by on-path signalling (issue 20, item 3; seed 004 §4):
# in the namespace lab h1 - a - p - b - h2 (a, b anode routers, p plain), a
# real nginx on h1 serves packet modules; `anode signal setup` from h1
# toward h2 makes a and b fetch the module (each once: nginx's access log),
# check its SHA-256 and size, and install it on the traffic its filter
# names; the traffic crosses it; PROBE lists it with its lifetime; a
# SETUP again renews it without a fetch; REMOVE and the end of its
# lifetime take it out (its iptables rule with it). Refused with the
# reason and nothing installed: a hash mismatch, a 404, a URL that does not
# answer in time, a body larger than signed, a filter outside the user's
# grants, a missing dependency, another user's module.
# Skipped (77) without root, ip netns or nginx.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (scripts/deps.sh installs it)"; exit 77; }
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sig_lab.sh"
lab=sm$$
dir=$ANODE_RUN_DIR
# nginx's workers (www-data) read the modules: a directory of their own,
# open to them (the run directory holds keys).
www=$(mktemp -d /tmp/anode-www.XXXXXX)
chmod 755 "$www"
cp "$PASS_AO" "$www/pass.ao"
cp "$GUARD_AO" "$www/guard.ao"
cp "$HOLD_AO" "$www/hold.ao"
cp "$NETMON_AO" "$www/netmonitor.ao"
cat "$GUARD_AO" "$GUARD_AO" >"$www/big.ao"
# guard.ao with its last octet changed: the same size, another hash.
/usr/bin/python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[-1] ^= 1; open(sys.argv[2], 'wb').write(b)" "$GUARD_AO" "$www/forged.ao"
chmod 644 "$www"/*
"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
cat >"$dir/policy" <<P
user alice $(cat "$dir/alice.pub")
user bob $(cat "$dir/bob.pub")
allow alice filter 10.200.0.0/16 proto udp ports 5000-6000
allow bob filter 10.200.0.0/16 proto udp ports 5000-6000
P
nginx_pid=
silent_pid=
collector_pid=
sm_cleanup() {
  local rc=$?
  set +e
  [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null
  [ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null
  [ -z "$collector_pid" ] || kill "$collector_pid" 2>/dev/null
  rm -rf "$www"
  (exit $rc)
  cleanup
}
trap sm_cleanup EXIT
# HTTPS: a CA of this run that the nodes trust (sig-fetch-ca), and one
# they do not.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 1 -subj /CN=anode-test-ca 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/rogue.key" -out "$dir/rogue.pem" -days 1 -subj /CN=rogue 2>/dev/null
sig_lab_up "set all sig-fetch-timeout-ms 1000
set all sig-modules-per-user 3
set all sig-fetch-ca $dir/ca.pem"
openssl req -newkey rsa:2048 -nodes -keyout "$dir/h1.key" -out "$dir/h1.csr" -subj /CN=h1 2>/dev/null
printf 'subjectAltName=IP:%s\n' "$H1" >"$dir/san"
openssl x509 -req -in "$dir/h1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/h1.pem" -days 1 \
  -extfile "$dir/san" 2>/dev/null
cat >"$dir/nginx.conf" <<N
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 64; }
http {
  access_log $dir/access.log;
  server { listen $H1:8080; root $www; }
  server { listen $H1:8443 ssl; ssl_certificate $dir/h1.pem; ssl_certificate_key $dir/h1.key; root $www; }
  server { listen $H1:8444 ssl; ssl_certificate $dir/rogue.pem; ssl_certificate_key $dir/rogue.key; root $www; }
}
N
ip netns exec "an-$lab-h1" nginx -c "$dir/nginx.conf" -p "$dir" &
nginx_pid=$!
# A web server that takes connections and never answers.
ip netns exec "an-$lab-h1" /usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$H1', 8081)); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)" &
silent_pid=$!
wait_for "nginx on h1" 5 "$ANODE" lab exec "$lab" h1 -- curl -sf -o /dev/null "http://$H1:8080/pass.ao"
: >"$dir/access.log"
"$ANODE" -n a stats --json | py "import json,sys; assert 'sig_fetch' in json.load(sys.stdin)" || fail "a has no module fetcher"
ok "each anode router started its module fetcher in a sandbox"

as_alice=(--user alice --key "$dir/alice.key")
flt=proto=udp,dst=$H2/32,dport=5000-5010
url=http://$H1:8080
entries() { py "import json,sys; d=json.load(sys.stdin); print(' '.join(n['address']+'/'+str(n['status'])+'/'+','.join(m['name'] for m in n['installed']) for n in d['nodes']))"; }
whys() { py "import json,sys; print(' | '.join(n['why'] for n in json.load(sys.stdin)['nodes']))"; }
fetches() { grep -c "GET /$1 .*anode-fetch" "$dir/access.log" || true; }
rules() { ip netns exec "an-$lab-$1" iptables -t mangle -S PREROUTING | grep -c "dport 5000:5010" || true; }
mstat() { "$ANODE" -n "$1" stats --json | py "import json,sys; print(json.load(sys.stdin)['$2']['$3'])"; }

out=$(sig setup "$H2" --module "$url/pass.ao" --filter "$flt" --lifetime 60 "${as_alice[@]}" --json) || fail "setup: $out"
[ "$(echo "$out" | entries)" = "$A/0/pass $B/0/pass" ] || fail "setup stack: $out"
echo "$out" | whys | grep -q "installed for 60 s | installed for 60 s" || fail "setup results: $out"
ok "SETUP from h1: a and b fetch, check and install pass; p (plain) forwards; each says 'installed for 60 s'"
[ "$(fetches pass.ao)" = 2 ] || fail "nginx served pass.ao $(fetches pass.ao) times to fetchers: $(cat "$dir/access.log")"
grep "GET /pass.ao" "$dir/access.log" | grep -q "^$(addr_of a) " && grep "GET /pass.ao" "$dir/access.log" | grep -q "^$(addr_of b) " ||
  fail "the fetches did not come from a and b: $(cat "$dir/access.log")"
ok "nginx's access log: one fetch of pass.ao from a, one from b"
[ "$(rules a)" = 1 ] && [ "$(rules b)" = 1 ] || fail "the module's filter is not installed at a and b"
ok "its filter is an iptables rule at a and at b (udp to h2 ports 5000-5010)"
pa=$(mstat a modules packets) pb=$(mstat b modules packets)
"$ANODE" lab exec "$lab" h1 -- /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50): s.sendto(b'x' * 100, ('$H2', 5005))"
wait_for "the module to see 50 packets at b" 5 sh -c "[ \$('$ANODE' -n b stats --json | /usr/bin/python3 -c \"import json,sys; print(json.load(sys.stdin)['modules']['packets'])\") -ge $((pb + 50)) ]"
[ "$(mstat a modules packets)" -ge $((pa + 50)) ] || fail "a's module did not see the traffic"
ok "50 datagrams h1 -> h2:5005 cross the module at a and at b"
out=$(sig probe "$H2" "${as_alice[@]}" --json)
echo "$out" | py "import json,sys; n=json.load(sys.stdin)['nodes']; assert all(x['installed'][0]['name']=='pass' and 50 <= x['installed'][0]['remaining_s'] <= 60 and x['free_modules']==31 for x in n)" ||
  fail "probe: $out"
ok "PROBE: both list pass with its remaining lifetime, one module slot fewer"
"$ANODE" -n a signal list --json | py "import json,sys; d=json.load(sys.stdin); m=d['modules'][0]
assert d['free_slots'] == 31 and m['name'] == 'pass' and m['user'] == 'alice' and m['state'] == 'installed' and m['filters'] == 1, d" ||
  fail "signal list at a: $("$ANODE" -n a signal list)"
"$ANODE" -n b signal list | grep -q "^pass .* alice .* installed .* 1 filter, [0-9]* s left of 60$" || fail "signal list text: $("$ANODE" -n b signal list)"
ok "anode -n a signal list: the node's own view of what signalling installed (text, --json)"
out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --filter "$flt" --lifetime 2 "${as_alice[@]}" --json)
echo "$out" | whys | grep -q "refreshed for 2 s | refreshed for 2 s" || fail "refresh: $out"
[ "$(fetches pass.ao)" = 2 ] || fail "a refresh fetched again"
ok "the same SETUP again renews it (now 2 s) without a fetch"
sleep 3.2
out=$(sig probe "$H2" "${as_alice[@]}" --json)
[ "$(echo "$out" | entries)" = "$A/0/ $B/0/" ] || fail "after its lifetime: $out"
[ "$(rules a)" = 0 ] && [ "$(rules b)" = 0 ] || fail "an expired module left its rule"
[ "$(mstat a sig_modules expired)" = 1 ] || fail "expiry not counted"
ok "not renewed, it is gone when its lifetime ends, its filter too"

out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --filter "$flt" "${as_alice[@]}" --json)
[ "$(echo "$out" | entries)" = "$A/0/pass $B/0/pass" ] || fail "setup again: $out"
rc=0
out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --filter "$flt" --user bob --key "$dir/bob.key" --json) || rc=$?
[ $rc = 1 ] && echo "$out" | whys | grep -q "module pass here is another user's | module pass here is another user's" ||
  fail "bob over alice's module: $out"
rc=0
out=$(sig remove "$H2" --name pass --user bob --key "$dir/bob.key" --json) || rc=$?
[ $rc = 1 ] && echo "$out" | whys | grep -q "another user's" || fail "bob removes alice's: $out"
ok "another user can neither replace nor remove it"
out=$(sig remove "$H2" --name pass "${as_alice[@]}" --json) || fail "remove: $out"
[ "$(echo "$out" | whys)" = "removed | removed" ] && [ "$(rules a)" = 0 ] && [ "$(rules b)" = 0 ] || fail "remove: $out"
ok "REMOVE takes it out at a and b, filters too"

# NetMonitor (seed 004 §9.2): counts per (source, destination, TTL), its
# table reported every second to a collector on h1.
ip netns exec "an-$lab-h1" /usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$H1', 5999)); s.settimeout(0.2)
out = open('$dir/reports', 'w'); end = time.time() + 30
while time.time() < end:
    try: out.write(s.recv(65536).decode()); out.flush()
    except socket.timeout: pass" &
collector_pid=$!
out=$(sig setup "$H2" --module "$www/netmonitor.ao" --url "$url/netmonitor.ao" --name NetMonitor --version 1.0.0 \
  --filter "$flt" --prop "collector=$H1:5999" --prop report=1 --lifetime 60 "${as_alice[@]}" --json) ||
  fail "NetMonitor setup: $out"
[ "$(echo "$out" | entries)" = "$A/0/NetMonitor $B/0/NetMonitor" ] || fail "NetMonitor stack: $out"
"$ANODE" lab exec "$lab" h1 -- /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40): s.sendto(b'x' * 64, ('$H2', 5001))
for i in range(7): s.sendto(b'y' * 64, ('$H2', 5002))"
# The latest report of node $1: its count for (h1, h2, TTL $2).
nm_count() {
  py "
import json, socket, sys
key = (socket.inet_aton('$H1') + socket.inet_aton('$H2') + bytes([$2])).hex()
while key.endswith('00'):
    key = key[:-2]
last = {}
for line in open('$dir/reports'):
    r = json.loads(line)
    if r['node'] == '$1' and r['module'] == 'NetMonitor':
        last = r
for e in last.get('entries', []):
    if e['key'] == key:
        print(int.from_bytes(bytes.fromhex(e['value']).ljust(8, b'\\0')[:8], 'little')); break
else:
    print(0)"
}
wait_for "NetMonitor's reports: a counts 47 at TTL 64, b at TTL 62" 10 sh -c \
  "[ \"\$($(declare -f nm_count py); H1=$H1 H2=$H2 dir=$dir; nm_count $A 64)\" = 47 ] && [ \"\$($(declare -f nm_count py); H1=$H1 H2=$H2 dir=$dir; nm_count $B 62)\" = 47 ]"
ok "NetMonitor at a and b: 47 packets of (h1, h2) at TTL 64 (a) and 62 (b, after a and p), reported to the collector"
kill "$collector_pid" 2>/dev/null || true
"$ANODE" -n a stats --json | py "import json,sys; assert json.load(sys.stdin)['sig_modules']['reports'] >= 1" || fail "reports not counted"
rc=0
out=$(sig setup "$H2" --module "$www/netmonitor.ao" --url "$url/netmonitor.ao" --name NM2 --filter "$flt" \
  --prop "collector=$H1:22" "${as_alice[@]}" --json) || rc=$?
[ $rc = 1 ] && echo "$out" | whys | grep -q "collector=$H1:22 is outside the addresses and ports the user may filter" ||
  fail "a collector outside the grants: $out"
ok "a collector outside what the user may filter is refused: reports go to no one else"
sig remove "$H2" --name NetMonitor "${as_alice[@]}" >/dev/null || fail "NetMonitor remove"

# HTTPS: from a server whose certificate the nodes' CA signed; not from
# one whose certificate no trusted CA signed.
out=$(sig setup "$H2" --module "$www/hold.ao" --url "https://$H1:8443/hold.ao" --name tls --filter "$flt" \
  "${as_alice[@]}" --json) || fail "https setup: $out"
[ "$(echo "$out" | entries)" = "$A/0/tls $B/0/tls" ] || fail "https setup: $out"
[ "$(fetches hold.ao)" = 2 ] || fail "nginx did not serve hold.ao over HTTPS twice"
sig remove "$H2" --name tls "${as_alice[@]}" >/dev/null || fail "remove tls"
rc=0
out=$(sig setup "$H2" --module "$www/forged.ao" --url "https://$H1:8444/forged.ao" --name rogue --filter "$flt" \
  "${as_alice[@]}" --json) || rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | entries)" = "$A/-5/ $B/-5/" ] && echo "$out" | whys | grep -qi "certificate" ||
  fail "a server no trusted CA vouches for: $out"
ok "HTTPS: fetched from a server the nodes' CA (sig-fetch-ca) signed; refused from one it did not ('certificate')"

# Users in their lanes: bob fills his share of module slots (3 here),
# the next is refused with why, and alice, the victim, notices nothing.
as_bob=(--user bob --key "$dir/bob.key")
for i in 1 2 3; do
  out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --name "bob$i" --filter "$flt" "${as_bob[@]}" --json) ||
    fail "bob's module $i: $out"
done
rc=0
out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --name bob4 --filter "$flt" "${as_bob[@]}" --json) || rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | entries)" = "$A/-122/ $B/-122/" ] &&
  echo "$out" | whys | grep -q "bob has 3 modules here already, as many as one user may" || fail "bob's 4th module: $out"
out=$(sig setup "$H2" --module "$www/pass.ao" --url "$url/pass.ao" --name alices --filter "$flt" "${as_alice[@]}" --json) ||
  fail "alice after bob: $out"
[ "$(echo "$out" | entries)" = "$A/0/alices $B/0/alices" ] || fail "alice after bob: $out"
ok "a user past sig-modules-per-user is refused at each node, saying so; another user still installs hers"
for m in bob1 bob2 bob3; do sig remove "$H2" --name $m "${as_bob[@]}" >/dev/null || fail "remove $m"; done
sig remove "$H2" --name alices "${as_alice[@]}" >/dev/null || fail "remove alices"

# On the reverse path: installed where h2's traffic toward h1 goes.
out=$(sig setup "$H2" --reverse --module "$www/pass.ao" --url "$url/pass.ao" --name back \
  --filter "proto=udp,dst=$H1/32,dport=5000" "${as_alice[@]}" --json) || fail "reverse setup: $out"
[ "$(echo "$out" | entries)" = "$B/0/back $A/0/back" ] || fail "reverse setup stack: $out"
ok "SETUP --reverse: b starts it back toward h1; b and a install the module for h2 -> h1 traffic"
sig remove "$H2" --reverse --name back "${as_alice[@]}" >/dev/null || fail "reverse remove"

# Refusals: each node says why; nothing is installed. guard.ao is in no
# node's cache, so each of these needs a fetch.
refused() { # description expected-why setup-args...
  local what=$1 want=$2
  shift 2
  local out rc=0
  out=$(sig setup "$H2" --name mod --filter "$flt" "${as_alice[@]}" --json "$@") || rc=$?
  [ $rc = 1 ] || fail "$what: exit $rc: $out"
  echo "$out" | whys | grep -q "$want" || fail "$what: not '$want': $out"
  echo "$out" | py "import json,sys; assert all(not n['installed'] and n['status'] < 0 for n in json.load(sys.stdin)['nodes'])" ||
    fail "$what: something was installed: $out"
  [ "$(rules a)" = 0 ] && [ "$(rules b)" = 0 ] || fail "$what: a filter was left"
  ok "$what: refused at each node ('$want'), nothing installed"
}
refused "a hash mismatch" "does not hash to the request's SHA-256" --module "$www/guard.ao" --url "$url/forged.ao"
refused "a body of another size" "the body is $(stat -c %s "$www/pass.ao") octets, the request says" --module "$www/guard.ao" --url "$url/pass.ao"
refused "a 404" "fetching it failed: HTTP status 404" --module "$www/guard.ao" --url "$url/none.ao"
refused "a URL that does not answer" "fetching it failed: timed out after 1000 ms" --module "$www/guard.ao" --url "http://$H1:8081/guard.ao"
refused "a body larger than signed" "larger than $(stat -c %s "$www/guard.ao") octets" --module "$www/guard.ao" --url "$url/big.ao"
refused "a missing dependency" "a module it depends on is not installed here: NetMonitor" --module "$www/guard.ao" --url "$url/guard.ao" --dep NetMonitor
rc=0
out=$(sig setup "$H2" --module "$www/guard.ao" --url "$url/guard.ao" --filter proto=udp,dst=$H2/32,dport=22 "${as_alice[@]}" --json) || rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | entries)" = "$A/-13/" ] || fail "a filter outside the grants: $out"
ok "a filter outside the user's grants: refused by a, which passes it no further"
[ "$(fetches guard.ao)" = 0 ] || fail "a refused SETUP fetched guard.ao: $(cat "$dir/access.log")"
ok "refusals decided before a fetch (a dependency, the grants) fetched nothing: nginx never served guard.ao"
echo "$checks checks passed"
