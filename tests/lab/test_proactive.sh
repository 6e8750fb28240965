#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proactive behaviour, shown (issue 9, seed 000 §3 Figure 2): h1 -- r -- h2
# in network namespaces of this run, r an anode router with a policy, the
# r -> h2 link limited by tc. alice activates tests/lab/svc_proactive.c,
# which subscribes to the transmit rate of r's interface toward h2 and
# filters her flow (UDP to h2:6000) only while that link is congested.
# Checked: while the link is idle her flow crosses r with no NFQUEUE rule
# for it (iptables -S, the node's counters); iperf3 load congests the link,
# the monitor's event wakes the service, the rule appears and the service
# sees the flow; the load stops, the next event puts it back to sleep and
# the rule goes. Needs root, ip netns, iperf3, bubblewrap; skips otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
for t in bwrap iperf3 tc iptables; do command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }; done
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || { echo "SKIP: no cgroup v1 memory controller"; exit 77; }
SVC_PROACTIVE=${SVC_PROACTIVE:?path to svc_proactive}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/pa
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
TICKS_AO=${TICKS_AO:?path to ticks.ao}
cp "$SVC_PROACTIVE" "$dir/svc_proactive"
install -m 644 "$TICKS_AO" "$dir/ticks.ao"
chmod 755 "$dir/svc_proactive"
pids=()
trap hrh_finish EXIT
hrh_up pa
tc -n "$R" qdisc add dev r2 root tbf rate 20mbit burst 32kbit latency 50ms

"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
cat >"$dir/policy" <<POL
user alice $(cat "$dir/alice.pub")
user bob $(cat "$dir/bob.pub")
service proactive program $dir/svc_proactive
service misbehave program $dir/svc_proactive
service watcher program $dir/svc_proactive
service ticks probe $dir/ticks.ao
allow alice service proactive
allow alice filter 10.$X.2.0/24 proto udp ports 6000-6000
allow bob service misbehave,watcher,ticks
allow bob filter 10.$X.2.0/24 proto udp ports 6000-6000
POL
printf 'name pa\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:pa:' || true; }
logged() { grep -q -e "$1" "$dir/node.log"; }
seen() { "$ANODE" -n "$dir/n.app" stats --json | json "d.get('services', {}).get('packets', 0)"; }

"$ANODE" -n "$dir/n.app" svc activate proactive dev=r2 threshold=5000000 dst=10.$X.2.0/24 port=6000 \
  --key "$dir/alice.key" --user alice >/dev/null
wait_for "the service to subscribe" 10 logged 'proactive: subscription made'
wait_for "the first event (idle)" 10 logged 'proactive: event: .* state=idle '
# alice's flow: 50 packets a second, UDP to h2:6000, for the whole test.
ip netns exec "$H1" /usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b'x' * 200, ('10.$X.2.2', 6000))
    time.sleep(0.02)" &
pids+=($!)
sleep 2 # the flow runs a while with the service asleep: nothing may intercept it
expect_eq "asleep: the node's own rule only, none for alice's flow" "$(rules)" 1
expect_eq "...and no packet of the flow went to the service" "$(seen)" 0

ip netns exec "$H2" iperf3 -s -1 >"$dir/iperf-s.log" 2>&1 &
pids+=($!)
listening() { ip netns exec "$H2" ss -Hlun | grep -q ':5201 ' || ip netns exec "$H2" ss -Hltn | grep -q ':5201 '; }
wait_for "iperf3 to listen" 10 listening
ip netns exec "$H1" iperf3 -c 10.$X.2.2 -u -b 15M -t 6 >"$dir/iperf-c.log" 2>&1 &
pids+=($!)
wait_for "the congestion event" 10 logged 'proactive: event: .* state=congested '
ok "congestion on r2 (iperf3 at 15 Mbit/s) made an event"
wait_for "the service to install its filter" 10 logged 'proactive: awake: filter [0-9]* installed'
has_rule() { [ "$(rules)" -eq 2 ]; }
wait_for "the rule for alice's flow" 10 has_rule
expect_match "...a rule for UDP to port 6000 appeared" \
  "$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING)" '-d 10\.[0-9.]+/24 -p udp -m udp --dport 6000 '
saw_flow() { [ "$(seen)" -gt 0 ]; }
wait_for "the service to see the flow" 10 saw_flow
wait_for "the service's own count" 10 logged 'proactive: packets='
ok "...and the service saw alice's flow ($(seen) packets so far)"

wait_for "the load to end and the idle event" 20 logged 'proactive: filter [0-9]* removed: asleep'
no_rule() { [ "$(rules)" -eq 1 ]; }
wait_for "the rule to go" 10 no_rule
ok "the link idle again, the service removed its filter and the rule went"
before=$(seen)
sleep 1.5
expect_eq "...and the flow no longer reaches the service" "$(seen)" "$before"
stats=$("$ANODE" -n "$dir/n.app" stats --json)
expect_ge "events sent to the service" "$(json "d['services']['events']" <<<"$stats")" 3
expect_eq "...no packet held past its time" "$(json "d['services']['held_timeouts']" <<<"$stats")" 0
events=$("$ANODE" -n "$dir/n.app" events)
expect_match "anode events lists the service's events, with their time in UTC" "$events" \
  '^[0-9]+ 20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z .*service=proactive user=alice resource=iface_tx_bps dev=r2 state=congested previous=idle'

# Faults (issue 9 §5): bob's service misbehaves; each fault is contained,
# counted, and alice's service and the node carry on.
as_bob=(--key "$dir/bob.key" --user bob)
misbehave() { "$ANODE" -n "$dir/n.app" svc activate misbehave dev=r2 threshold=5000000 dst=10.$X.2.0/24 port=6000 \
  mode="$@" "${as_bob[@]}" >/dev/null; }
stop_bob() { "$ANODE" -n "$dir/n.app" svc stop misbehave "${as_bob[@]}" >/dev/null; }
stat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['services']['$1']"; }
misbehave outside
wait_for "the filter outside bob's grants to be refused" 10 logged 'proactive: filter Operation not permitted'
expect_ge "...refused and counted" "$(stat filters_refused)" 1
expect_eq "...and no rule was added for it" "$(rules)" 1
stop_bob
noports() { ip netns exec "$H2" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {print $3}' /proc/net/snmp; }
misbehave hold
wait_for "bob's filter on the flow" 10 logged 'proactive: filter installed'
wait_for "bob's service to hold packets" 10 logged 'proactive: holding packets, never answering'
timed_out() { [ "$(stat held_timeouts)" -gt 0 ]; }
wait_for "held packets to time out" 10 timed_out
before=$(noports)
sleep 1.5
after=$(noports)
expect_ge "packets held and never answered still reach h2 after the timeout (per 1.5 s)" $((after - before)) 40
stop_bob
misbehave flood
flooded() { [ "$(stat bad_verdicts)" -ge 2000 ] && [ "$(stat records_paused)" -ge 1 ]; }
wait_for "made-up verdicts to be counted, and the service paused" 20 flooded
ok "a flood of verdicts for packets never held is counted, ignored, and paced (the service is not read for a while past 1000 a second)"
"$ANODE" -n "$dir/n.app" info >/dev/null || fail "the node stopped answering"
ok "...and the node answers"
stop_bob
# The presence monitor (seed 000 §3.2): bob's service watches h2, which
# leaves the network and comes back.
misbehave presence host=10.$X.2.2
wait_for "h2 to be seen present" 10 logged 'presence event: resource=host_up state=present'
ok "the presence monitor sees h2 (it answers the probe)"
ip -n "$H2" link set eth0 down
wait_for "h2 to be seen gone" 10 logged 'presence event: resource=host_up state=absent previous=present'
ok "...h2 leaves the network: an event says it is absent"
ip -n "$H2" link set eth0 up
ip -n "$H2" route add default via 10.$X.2.1 2>/dev/null || true
wait_for "h2 to be seen back" 15 logged 'presence event: resource=host_up state=present previous=absent'
ok "...and back: present again"
stop_bob
# The capacity of the last link (seed 000 §3.2, the adaptation service's
# monitor): bob's service watches r2's, which tc shapes at 20 Mbit/s, then
# 1, then 20 again; each change is heard from rtnetlink as it happens.
misbehave capacity
wait_for "r2's capacity to be seen high" 10 logged 'capacity event: resource=iface_capacity_bps dev=r2 state=high .* value=20000000'
ok "the capacity monitor reads r2's tc rate (20 Mbit/s)"
t0=$(date +%s%N)
tc -n "$R" qdisc change dev r2 root tbf rate 1mbit burst 32kbit latency 50ms
wait_for "r2's capacity to be seen low" 5 logged 'capacity event: resource=iface_capacity_bps dev=r2 state=low previous=high value=1000000'
ok "...tc lowers it to 1 Mbit/s: an event says so ($((($(date +%s%N) - t0) / 1000000)) ms later, polled every 50 ms)"
tc -n "$R" qdisc change dev r2 root tbf rate 20mbit burst 32kbit latency 50ms
wait_for "r2's capacity to be seen high again" 5 logged 'capacity event: resource=iface_capacity_bps dev=r2 state=high previous=low'
ok "...and back to 20 Mbit/s"
stop_bob
# A custom probe: one of bob's services publishes a reading, another
# subscribes to it with states, as to any monitor.
misbehave publish
"$ANODE" -n "$dir/n.app" svc activate watcher mode=custom from=bob dev=r2 threshold=1 dst=10.$X.2.0/24 port=6000 \
  "${as_bob[@]}" >/dev/null
wait_for "the custom probe's first state" 10 logged 'custom event: resource=custom name=bob.level state=low'
wait_for "the custom probe to cross 3" 10 logged 'custom event: resource=custom name=bob.level state=high previous=low'
ok "a service's published reading is a monitor other services subscribe to"
expect_ge "...its readings counted" "$(stat published)" 3
"$ANODE" -n "$dir/n.app" svc stop watcher "${as_bob[@]}" >/dev/null
stop_bob
# A custom probe as a code object: its reading is published as bob.ticks.
"$ANODE" -n "$dir/n.app" svc activate ticks "${as_bob[@]}" >/dev/null
"$ANODE" -n "$dir/n.app" svc activate watcher mode=custom from=bob key=ticks dev=r2 threshold=1 \
  dst=10.$X.2.0/24 port=6000 "${as_bob[@]}" >/dev/null
wait_for "the probe's reading to cross 3" 15 logged 'custom event: resource=custom name=bob.ticks state=high previous=low'
ok "a probe code object's reading is a monitor services subscribe to"
expect_eq "...its runs kept their soft state (none failed)" \
  "$("$ANODE" -n "$dir/n.app" stats --json | json "d['modules']['probe_errors']")" 0
"$ANODE" -n "$dir/n.app" svc stop watcher "${as_bob[@]}" >/dev/null
"$ANODE" -n "$dir/n.app" svc stop ticks "${as_bob[@]}" >/dev/null
out=$("$ANODE" -n "$dir/n.app" svc list --key "$dir/alice.key" --user alice)
expect_match "alice's service ran on through bob's faults" "$out" 'proactive of alice: program running'
echo "proactive: $checks checks passed"
