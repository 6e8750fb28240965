#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Routes from a routing daemon (issue 19, item 2): a ring of five anode
# routers in namespaces (examples/ring5-hosts.topo), first with the lab's
# static shortest-path routes, then with FRR's OSPF (lab up --routing ospf).
# An active ping from a to d runs while the a - b link fails, twice: the
# link goes down (both veth ends lose carrier), and the link goes silent
# (it stays up and drops everything, so only OSPF's dead interval finds
# it). With static routes the capsules are lost from the failure on (a
# blackhole); with OSPF the anode routers, which send capsules on by the
# kernel's routes, follow the new route (a - c - e - d) within OSPF's
# convergence, and an active trace shows it. The outages are printed.
# lab down leaves no FRR daemon and no FRR directory behind.
# Skipped (77) without root, ip netns, iptables or FRR.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in ip iptables; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -x /usr/lib/frr/ospfd ] || { echo "SKIP: FRR is not installed (scripts/deps.sh installs frr)"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab=os$$
topo=$ANODE_RUN_DIR/$lab.topo
cp "$TOPO_DIR/ring5-hosts.topo" "$topo"
export ANODE_LAB=$lab

in_ns() { "$ANODE" lab exec "$lab" "$@"; }
path_to_d() { "$ANODE" -n a trace d --json | json "' '.join(r['node'] for r in d['records'][1:])"; }
# Fail the a - b link one way or the other while an active ping a -> d
# runs (50 capsules a second for 6 s; the failure after 1 s); prints
# ping_outage.py's figures.
ping_across() { # down|silent
  local out=$ANODE_RUN_DIR/ping-$1.json
  "$ANODE" -n a ping d -c 300 -i 0.02 -W 1 --json >"$out" &
  local ping=$!
  sleep 1
  if [ "$1" = down ]; then
    in_ns a -- ip link set to-b down
  else
    in_ns a -- iptables -w -t raw -I PREROUTING -i to-b -j DROP
    in_ns b -- iptables -w -t raw -I PREROUTING -i to-a -j DROP
  fi
  wait "$ping"
  "$here/ping_outage.py" <"$out"
}
restore() { # down|silent
  if [ "$1" = down ]; then
    in_ns a -- ip link set to-b up
  else
    in_ns a -- iptables -w -t raw -D PREROUTING -i to-b -j DROP
    in_ns b -- iptables -w -t raw -D PREROUTING -i to-a -j DROP
  fi
}

# Static routes: a failed link is a blackhole.
"$ANODE" lab up "$topo" --netns >/dev/null
labs_up+=("$topo")
expect_eq "static: a reaches d by the short side" "$(path_to_d)" "b d"
static=$(ping_across down)
echo "static, link down: $static"
expect_eq "static: the capsules are lost from the failure on (a blackhole)" \
  "$(json "d['blackhole'] and d['received'] < d['transmitted']" <<<"$static")" True
"$ANODE" lab down "$topo" >/dev/null
labs_up=()

# OSPF.
up=$("$ANODE" lab up "$topo" --netns --routing ospf --json 2>"$ANODE_RUN_DIR/up.err")
up="$(cat "$ANODE_RUN_DIR/up.err")
$up"
labs_up+=("$topo")
expect_match "lab up waits for OSPF and says how long it took" "$up" '^OSPF converged in [0-9]+ ms'
echo "$up" | head -1
expect_match "lab status names the routing" "$("$ANODE" lab status "$lab")" 'routes: OSPF'
expect_eq "lab up --json says the same as lab status --json: routing, 5 routers, 2 hosts, 5 nodes running" \
  "$(json "d['labs'][0]['routing'], sum(n['kind'] == 'router' for n in d['labs'][0]['namespaces']), sum(n['kind'] == 'host' for n in d['labs'][0]['namespaces']), sum(n['state'] == 'running' for n in d['labs'][0]['nodes'])" <<<"$("$ANODE" lab status "$lab" --json)")" \
  "ospf 5 2 5"
expect_eq "...lab up --json printed one JSON value, this lab" "$(tail -1 <<<"$up" | json "d['name'], len(d['links'])")" "$lab 7"
pids=$(cat /run/frr/an-"$lab"-*/{zebra,ospfd}.pid | xargs)
expect_eq "zebra and ospfd run in each of the 5 routers" "$(wc -w <<<"$pids")" 10
expect_match "OSPF's routes leave from the node address" \
  "$(in_ns a -- ip -4 route show proto ospf)" "src $(awk '$1 == "router" && $2 == "a" {print $4}' "$ANODE_RUN_DIR/$lab/netns")"
expect_eq "ospf: a reaches d by the short side" "$(path_to_d)" "b d"
expect_match "a router has no table of its own: route show says where its routes are" \
  "$("$ANODE" -n a route show)" "^router mode: capsules follow the kernel's routes"
rc=0; out=$("$ANODE" -n a route del d 2>&1) || rc=$?
expect_match "...and route del is refused with the reason" "$rc $out" "^1 .*router mode: capsules follow the kernel's routes; change those"

down=$(ping_across down)
echo "OSPF, link down: $down"
expect_eq "ospf, link down: the ping goes on (no blackhole)" "$(json "d['blackhole']" <<<"$down")" False
expect_eq "ospf, link down: the outage is shorter than the dead interval (3 s)" \
  "$(json "d['outage_ms'] < 3000" <<<"$down")" True
expect_eq "ospf: the active trace takes the long side" "$(path_to_d)" "c e d"
restore down
wait_for "OSPF to take the short side again" 20 bash -c "[ \"\$($(declare -f path_to_d json); path_to_d)\" = 'b d' ]"
ok "ospf: the restored link carries a -> d again"

silent=$(ping_across silent)
echo "OSPF, link silent: $silent"
expect_eq "ospf, silent link: the ping goes on (no blackhole)" "$(json "d['blackhole']" <<<"$silent")" False
expect_eq "ospf, silent link: the outage ends within the dead interval and an SPF (under 5 s)" \
  "$(json "d['outage_ms'] < 5000" <<<"$silent")" True
expect_eq "ospf: the active trace takes the long side" "$(path_to_d)" "c e d"
restore silent

"$ANODE" lab down "$topo" >/dev/null
labs_up=()
left=0
for p in $pids; do [ -d "/proc/$p" ] && left=$((left + 1)); done
expect_eq "lab down stops every FRR daemon" "$left" 0
expect_eq "lab down removes the FRR directories" "$(compgen -G "/run/frr/an-$lab-*" | wc -l)" 0
echo "$checks checks passed"
