#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Users kept in their lanes (issue 17): h1 -- r -- h2 in network namespaces
# of this run, r an anode router with a policy of three users. carol is
# the victim: her packet module guards her flow (UDP to h2:7000) and an
# ICMP ping crosses r the whole time. mallory churns filters (installs her
# quota, removes each as soon as it is in, removes guessed handles 1-255,
# for 6 s) and holds silent control connections; eve answers packets with
# forged ones (UDP from 192.0.2.66:53), sends a record of no octets, and
# has a service that holds packets suspended. Checked: carol notices
# nothing (her packets, her filter, her activation during the churn, the
# ping), parent and child agree on every rule and a stopped service leaves
# none, no answer is lost, every refusal is counted with its reason, and
# no loop round of r is far past its slice. Needs root, ip netns,
# bubblewrap and cgroup v1; skips (77) otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
for t in bwrap iptables setpriv ping; do command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }; done
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || { echo "SKIP: no cgroup v1 memory controller"; exit 77; }
SVC_HOSTILE=${SVC_HOSTILE:?path to svc_hostile}
SVC_PROACTIVE=${SVC_PROACTIVE:?path to svc_proactive}
GUARD_AO=${GUARD_AO:?path to guard.ao}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/hu
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
install -m 755 "$SVC_HOSTILE" "$dir/svc_hostile"
install -m 755 "$SVC_PROACTIVE" "$dir/svc_proactive"
install -m 644 "$GUARD_AO" "$dir/guard.ao"
pids=()
trap hrh_finish EXIT
hrh_up hu

for u in carol mallory eve; do "$ANODE" key gen -o "$dir/$u.key" >"$dir/$u.pub"; done
cat >"$dir/policy" <<POL
user carol $(cat "$dir/carol.pub")
user mallory $(cat "$dir/mallory.pub")
user eve $(cat "$dir/eve.pub")
service guard module $dir/guard.ao
service churn program $dir/svc_hostile
service spoof program $dir/svc_hostile
service zero program $dir/svc_hostile
service holder program $dir/svc_proactive
allow carol service guard
allow carol filter 10.$X.2.0/24 proto udp ports 7000-7000
allow mallory service churn
allow mallory filter 10.$X.2.0/24 proto udp ports 7003-7003
allow eve service spoof,zero,holder
allow eve filter 10.$X.2.0/24 proto udp ports 7001-7002
POL
printf 'name hu\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
sv() { local u=$1; shift; "$ANODE" -n "$dir/n.app" svc "$@" --key "$dir/$u.key" --user "$u"; }
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:hu:' || true; }
stat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['$1']['$2']"; }
logged() { grep -q -e "$1" "$dir/node.log"; }
state_of() { sv "$1" list --json | json "[i['state'] for i in d['instances'] if i['service'] == '$2'][0]" 2>/dev/null; }
running() { [ "$(state_of "$1" "$2")" = running ]; }

# h2 writes what it receives, "PORT PAYLOAD" a line (7000-7002 and the
# spoof victim's 9999).
ip netns exec "$H2" /usr/bin/python3 -c "
import select, socket
socks = []
for p in (7000, 7001, 7002, 9999):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', p))
    socks.append((s, p))
with open('$dir/h2.txt', 'a') as f:
    while True:
        for s, p in socks:
            pass
        r, _, _ = select.select([s for s, p in socks], [], [])
        for s, p in socks:
            if s in r:
                data, peer = s.recvfrom(2048)
                f.write('%d %s\n' % (p, data.decode(errors='replace'))); f.flush()" &
pids+=($!)
send() { ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in sys.argv[2:]:
    s.sendto(p.encode(), ('10.$X.2.2', int(sys.argv[1])))" "$@"; }
got() { grep -qx -e "$1" "$dir/h2.txt" 2>/dev/null; }
warm() { send 7000 warmup; got "7000 warmup"; }
wait_for "h2's listener" 10 warm

# carol's guard, and the ping that crosses r for the whole test.
base=$(rules)
sv carol activate guard dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "carol's guard to run" 10 running carol guard
expect_eq "carol's guard runs with its rule in place" "$(rules)" $((base + 1))
ip netns exec "$H1" ping -q -i 0.05 -c 300 10.$X.2.2 >"$dir/ping.out" 2>&1 &
ping_pid=$!

# 1. mallory churns filters for 6 s.
sv mallory activate churn mode=churn dst=10.$X.2.0/24 port=7003 secs=6 >/dev/null
wait_for "mallory's churn to start" 10 logged 'filter refused: over the user.s share of filter changes'
# ...meanwhile carol stops and activates her guard again, and sends.
sv carol stop guard >/dev/null
sv carol activate guard dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "carol's guard to run again during the churn" 10 running carol guard
send 7000 during-churn xxDROPMExx after-drop
wait_for "carol's packets during the churn" 5 got "7000 after-drop"
got "7000 during-churn" || fail "carol's packet during the churn was lost"
got "7000 xxDROPMExx" && fail "carol's guard let a DROPME through during the churn"
ok "during the churn carol's guard ran again at once, and guarded her flow"
wait_for "the churn to end" 15 logged 'hostile: churn: installed='
churned=$(grep -o 'churn: installed=[0-9]* busy=[0-9]* refused=[0-9]*' "$dir/node.log" | tail -1)
echo "  mallory: $churned"
expect_ge "mallory's installs past her share were refused with EAGAIN, counted" "$(stat services filters_busy)" 1
sv mallory stop churn >/dev/null
settled() { [ "$(rules)" -eq $((base + 1)) ] && [ "$(stat queue parent_queue)" -eq 0 ]; }
for i in $(seq 100); do settled && break; sleep 0.1; done
settled || { ip netns exec "$R" iptables -w -t mangle -S PREROUTING >&2; "$ANODE" -n "$dir/n.app" stats >&2; fail "mallory's rules did not go"; }
ok "mallory stopped: no rule of hers is left, nothing waits for the parent"
echo "  requests that waited for room to the parent, at most: $(stat queue parent_queue_max)"
logged 'File exists' && fail "parent and child disagreed on a rule (File exists)"
ok "...and parent and child never disagreed on a rule"
sv carol stop guard >/dev/null
sv carol activate guard dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "carol's guard after the churn" 10 running carol guard
expect_eq "...carol's activation after it takes one rule" "$(rules)" $((base + 1))

# 2. eve forges packets from 192.0.2.66:53 through MODIFIED verdicts.
sv eve activate spoof mode=spoof dst=10.$X.2.0/24 port=7001 victim=10.$X.2.2 >/dev/null
wait_for "eve's spoofer to run" 10 running eve spoof
spoof_in() { [ "$(rules)" -eq $((base + 2)) ]; }
wait_for "eve's filter" 10 spoof_in
send 7001 bait1 bait2 bait3
wait_for "the node to tell eve why" 10 logged 'hostile: spoof: told verdict refused packet=[0-9]* why=source 192.0.2.66 outside the filter'
ok "eve's forged packets are refused, and her service is told why"
sleep 0.5
grep -q '^9999 ' "$dir/h2.txt" && fail "a forged packet reached its victim"
ok "...none reached the victim"
expect_ge "...counted as refused by the policy" "$(stat services refused_policy)" 3
sv eve stop spoof >/dev/null

# 3. eve's record of no octets is not taken as her service's end.
bad=$(stat services bad_records)
sv eve activate zero mode=zero >/dev/null
wait_for "eve's empty record" 10 logged 'hostile: zero: sent an empty record'
published() { [ "$(stat services published)" -ge 1 ]; }
wait_for "eve's value published after it" 5 published
ok "after a record of no octets the node still hears the service"
expect_ge "...which it counted as malformed" "$(stat services bad_records)" $((bad + 1))
expect_eq "...and the service runs on" "$(state_of eve zero)" running
sv eve stop zero >/dev/null

# 4. A suspended service's packets go on at once, not after a second.
sv eve activate holder mode=hold dev=r2 threshold=1 dst=10.$X.2.0/24 port=7002 >/dev/null
wait_for "eve's holder" 10 running eve holder
hold_in() { [ "$(rules)" -eq $((base + 2)) ]; }
wait_for "eve's holder's filter" 10 hold_in
sv eve suspend holder >/dev/null
timeouts=$(stat services held_timeouts)
send 7002 while-suspended
wait_for "the packet past the suspended service" 5 got "7002 while-suspended"
expect_ge "a suspended service's packet went on at once (counted)" "$(stat services passed_suspended)" 1
expect_eq "...not after the hold timeout" "$(stat services held_timeouts)" "$timeouts"
sv eve stop holder >/dev/null
# The holder was stopped while frozen: its program ends all the same.
no_holder() { ! pgrep -f "^$dir/svc_proactive" >/dev/null; }
wait_for "the suspended holder to end when stopped" 10 no_holder
ok "a service stopped while suspended ends (thawed, then killed)"

# 5. mallory's silent control connections (as another uid) lock no one out.
chmod 0666 "$dir/n.ctl" # this test only: let another uid in
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$SRC_DIR/tests/lab/attack.py" \
  silentctl "$dir/n.ctl" 16 2.5 >"$dir/silent.out" &
silent=$!
sleep 0.5
answered=0
for i in 1 2 3 4 5; do "$ANODE" -n "$dir/n.app" stats >/dev/null 2>&1 && answered=$((answered + 1)); sleep 0.1; done
expect_eq "while another uid holds 16 silent control connections, root is answered" "$answered" 5
wait "$silent" || true
expect_eq "...that uid held 4, the other 12 were refused, counted" "$(stat control refused_user)" 12

# The victim's figures.
wait "$ping_pid" || true
loss=$(grep -o '[0-9.]*% packet loss' "$dir/ping.out" | cut -d% -f1)
expect_eq "the ping across r lost nothing" "$loss" 0
got "7000 during-churn" || fail "carol lost a packet"
round=$(stat loop max_round_us)
echo "  r's longest loop round: $round us (slice 2000 us)"
expect_eq "no loop round of r was far past its slice (under 50 ms)" "$(json "d < 50000" <<<"$round")" True
echo "hostile users: $checks checks passed"
