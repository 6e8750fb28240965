#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# anode lab --netns: a line of five routers with a host at each end, built
# as network namespaces and veths, checked with the kernel's own tools only
# (--no-nodes, so that this tests the network the lab builds, not the
# node's router mode): ping and traceroute between the hosts, a tc tbf
# bottleneck measured with iperf3, refusal of a namespace that exists, and
# lab down removing every namespace. Skipped (77) without root or ip netns.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in ip tc ping traceroute iperf3 ss; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"

# A per-run lab name, so that namespaces (an-LAB-NODE) never meet another
# run's; the topology is the shipped example.
lab=nl$$
topo=$ANODE_RUN_DIR/$lab.topo
cp "$TOPO_DIR/line5-hosts.topo" "$topo"
state=$ANODE_RUN_DIR/$lab

iperf_pid=
stray_ns=
netns_cleanup() {
  local rc=$?
  set +e # so that passing rc on below does not exit here
  [ -z "$iperf_pid" ] || kill "$iperf_pid" 2>/dev/null
  [ -z "$stray_ns" ] || ip netns del "$stray_ns"
  (exit $rc)
  cleanup
}
trap netns_cleanup EXIT

in_ns() { "$ANODE" lab exec "$lab" "$@"; }
ours() { ip netns list | awk '{print $1}' | grep -c "^an-$lab-" || true; }
# A router's or host's address, from the lab's netns state file.
addr() { awk -v n="$1" '($1 == "router" || $1 == "host") && $2 == n {print $4}' "$state/netns"; }
listening() { grep -q ":5201 " <<<"$(in_ns "$1" -- ss -Hltn)"; }
# Mbit/s that an iperf3 client in $1 gets to a one-shot server in $2.
iperf() { # client-ns server-ns server-address
  in_ns "$2" -- iperf3 -s -1 -B "$3" >"$ANODE_RUN_DIR/iperf3-server.log" 2>&1 &
  iperf_pid=$! # anode execs ip, which execs iperf3: the same process
  wait_for "iperf3 to listen in $2" 10 listening "$2"
  in_ns "$1" -- iperf3 -c "$3" -t 2 -J | /usr/bin/python3 -c "
import json, sys
print(int(json.load(sys.stdin)['end']['sum_received']['bits_per_second'] / 1e6))"
  wait_for "the iperf3 server to exit" 10 gone "$iperf_pid"
  wait "$iperf_pid" 2>/dev/null || true
  iperf_pid=
}

# A namespace of the same name makes lab up refuse, and leave nothing.
stray_ns=an-$lab-c
ip netns add "$stray_ns"
if out=$("$ANODE" lab up "$topo" --netns --no-nodes 2>&1); then fail "lab up ignored an existing namespace"; fi
expect_match "lab up refuses an existing namespace and says how to clean" "$out" \
  "an-$lab-c exists already; 'anode lab down .*$lab.topo'"
expect_eq "...and creates no namespace" "$(ours)" 1
expect_eq "...and leaves no state" "$([ -e "$state" ] && echo left || echo none)" none
ip netns del "$stray_ns"
stray_ns=

out=$("$ANODE" lab up "$topo" --netns --no-nodes)
labs_up+=("$topo")
expect_match "lab up reports routers and hosts" "$out" "5 routers \(0 with a node\), 2 hosts"
expect_eq "one namespace per router and host" "$(ours)" 7
if out=$("$ANODE" lab up "$topo" --netns --no-nodes 2>&1); then fail "a second lab up succeeded"; fi
expect_match "a lab that is up is not brought up again" "$out" "already up; 'anode lab down"
status=$("$ANODE" lab status "$topo")
expect_match "status shows the hosts" "$status" "h1 +host +an-$lab-h1 +10\.200\.0\.[0-9]+ +present \(on a\)"
expect_match "status shows the limited link" "$status" "c - d +10\.200\.0\.8/30 .* 10mbit"
expect_eq "the nodes file has node addresses with port 3322" \
  "$(awk '$1 == "c" {print $2}' "$state/nodes")" "$(addr c):3322"
expect_eq "node addresses are /32s on loopback" \
  "$(in_ns c -- ip -4 -o addr show dev lo | awk '$4 != "127.0.0.1/8" {print $4}')" "$(addr c)/32"
expect_eq "routers forward" "$(in_ns c -- cat /proc/sys/net/ipv4/ip_forward)" 1
expect_eq "...with rp_filter off" "$(in_ns c -- cat /proc/sys/net/ipv4/conf/all/rp_filter)" 0
expect_eq "hosts do not forward" "$(in_ns h1 -- cat /proc/sys/net/ipv4/ip_forward)" 0
if out=$(in_ns nosuch -- true 2>&1); then fail "lab exec ran in a node that does not exist"; fi
expect_match "lab exec names a missing node" "$out" "has no router or host 'nosuch'"

h2=$(addr h2)
out=$(in_ns h1 -- ping -c 3 -i 0.2 -W 2 "$h2")
expect_match "h1 pings h2 across five routers" "$out" "3 packets transmitted, 3 received"
expect_match "...decremented by each of them (ttl 64-5)" "$out" "ttl=59"
out=$(in_ns h1 -- traceroute -n -q 1 -w 2 -m 8 "$h2")
hops=$(echo "$out" | awk 'NR > 1 {print $2}' | paste -sd' ')
expect_eq "traceroute shows the five node addresses in order, then h2" "$hops" \
  "$(addr a) $(addr b) $(addr c) $(addr d) $(addr e) $h2"

expect_match "c's end of c - d has a 10 Mbit/s tbf" "$(in_ns c -- tc qdisc show dev to-d)" "^qdisc tbf .* rate 10Mbit "
expect_match "...and so has d's" "$(in_ns d -- tc qdisc show dev to-c)" "^qdisc tbf .* rate 10Mbit "
expect_eq "...and no other link has one" "$(in_ns b -- tc qdisc show | grep -c tbf || true)" 0
mbps=$(iperf h1 h2 "$h2")
[ "$mbps" -ge 8 ] && [ "$mbps" -le 10 ] || fail "iperf3 h1 -> h2 over the 10mbit link: $mbps Mbit/s"
ok "iperf3 h1 -> h2 across the 10mbit link gets $mbps Mbit/s"
mbps=$(iperf h1 b "$(addr b)")
expect_ge "iperf3 h1 -> b, not crossing it, gets far more (Mbit/s)" "$mbps" 100

out=$("$ANODE" lab down "$topo")
expect_match "lab down deletes the namespaces" "$out" "deleted 7 network namespaces"
expect_eq "...and none is left" "$(ours)" 0
expect_eq "...nor the lab's state" "$([ -e "$state" ] && echo left || echo none)" none
echo "netns lab: $checks checks passed"
