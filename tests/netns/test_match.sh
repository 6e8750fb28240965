#!/bin/bash
# SPDX-License-Identifier: MIT
# The matching engine on a real router: host A -- router R -- host B, each a
# network namespace of this run, joined by veth pairs. match_test runs in R
# and installs a UDP filter; udp.py sends from A and receives in B. Every
# check waits by polling for what it expects (with a bound), never by
# sleeping a fixed time. Needs root and `ip netns`; skips (77) otherwise.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "skip: no ip netns"; exit 77; }
MATCH_TEST=${MATCH_TEST:?path to match_test}
UDP=${UDP_PY:-$(dirname "$0")/udp.py}
PY=/usr/bin/python3

RUN=$(printf '%04x' $((RANDOM % 65536)))
A=an-$RUN-a R=an-$RUN-r B=an-$RUN-b
X=$((100 + RANDOM % 150))
NET_A=10.$X.1 NET_B=10.$X.2
TAG=t$RUN
WORK=$(mktemp -d /tmp/an-netns-$RUN.XXXXXX)
PIDS=()

cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$A" "$R" "$B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$A" "$R" "$B"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$A" link add eth0 type veth peer name a0 netns "$R"
ip -n "$B" link add eth0 type veth peer name b0 netns "$R"
ip -n "$A" addr add "$NET_A.2/24" dev eth0
ip -n "$R" addr add "$NET_A.1/24" dev a0
ip -n "$R" addr add "$NET_B.1/24" dev b0
ip -n "$B" addr add "$NET_B.2/24" dev eth0
for l in "$A eth0" "$R a0" "$R b0" "$B eth0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$A" route add default via "$NET_A.1"
ip -n "$B" route add default via "$NET_B.1"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1

# NFQUEUE with --queue-bypass must exist in R, or there is nothing to test.
if ! ip netns exec "$R" iptables -w -t mangle -A PREROUTING -p udp --dport 9 -j NFQUEUE --queue-num 1 \
	--queue-bypass 2>/dev/null; then
	echo "skip: no NFQUEUE target"
	exit 77
fi
ip netns exec "$R" iptables -w -t mangle -D PREROUTING -p udp --dport 9 -j NFQUEUE --queue-num 1 --queue-bypass

PASS=0 FAIL=0
ok() { echo "ok - $*"; PASS=$((PASS + 1)); }
bad() { echo "not ok - $*"; FAIL=$((FAIL + 1)); }

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local t=$(($1 * 50)); shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 0.02
	done
}

# st FILE KEY: a value from match_test's status line.
st() { head -1 "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"; }
st_is() { [ "$(st "$1" "$2")" = "$3" ]; }
st_ge() { local v; v=$(st "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
lines_ge() { [ "$(lines "$1")" -ge "$2" ]; }
anode_rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c "anode:$TAG:" || true; }

# start_node NAME MODE PORT [EXTRA]: match_test in R, waits until its filters are in.
start_node() {
	rm -f "$WORK/$1.st"
	ip netns exec "$R" "$MATCH_TEST" --tag "$TAG" --queue 200 --dport "$3" --extra "${4:-0}" --mode "$2" \
		--status "$WORK/$1.st" 2>"$WORK/$1.log" &
	NODE=$!
	PIDS+=("$NODE")
	wait_for 10 st_is "$WORK/$1.st" ready 1 || { cat "$WORK/$1.log"; return 1; }
}
stop_node() { kill -TERM "$NODE"; wait "$NODE" || true; }

# start_recv NAME PORT: a receiver in B, bound before this returns.
start_recv() {
	ip netns exec "$B" "$PY" "$UDP" recv "$2" "$WORK/$1.rx" &
	PIDS+=("$!")
	wait_for 10 test -e "$WORK/$1.rx"
}
send() { ip netns exec "$A" "$PY" "$UDP" send "$NET_B.2" "$@"; }

# 1. count: every matched packet reaches the handler and then B.
start_node count count 5001
start_recv count 5001
send 5001 10 c
if wait_for 10 lines_ge "$WORK/count.rx" 10 && st_is "$WORK/count.st" handled 10 &&
	st_is "$WORK/count.st" wrong 0; then ok "count: 10 seen, 10 delivered"
else bad "count: $(lines "$WORK/count.rx") delivered, $(head -1 "$WORK/count.st")"; fi

# 2. unmatched flows never reach the handler (filter still on 5001).
start_recv other 5002
send 5002 10 o
if wait_for 10 lines_ge "$WORK/other.rx" 10 && st_is "$WORK/count.st" handled 10; then
	ok "unmatched: 10 delivered, handler saw none"
else bad "unmatched: $(lines "$WORK/other.rx") delivered, $(head -1 "$WORK/count.st")"; fi

# 3. remove at run time: afterwards traffic flows and the handler sees nothing.
kill -USR1 "$NODE"
wait_for 10 st_is "$WORK/count.st" removed 1
if [ "$(anode_rules)" = 0 ] && st_is "$WORK/count.st" filters 0; then ok "remove: rule gone"
else bad "remove: $(anode_rules) rule(s) left"; fi
send 5001 10 r
if wait_for 10 lines_ge "$WORK/count.rx" 20 && st_is "$WORK/count.st" handled 10; then
	ok "remove: 10 more delivered, handler saw none"
else bad "remove: $(lines "$WORK/count.rx") delivered, $(head -1 "$WORK/count.st")"; fi
stop_node
if [ "$(anode_rules)" = 0 ] && grep -q exited=1 "$WORK/count.st"; then ok "clean exit: no anode rules"
else bad "clean exit: $(anode_rules) rule(s) left"; fi

# 4. drop: B gets nothing of the matched flow; the unmatched flow behind it arrives.
start_node drop drop 5003
start_recv drop 5003
send 5003 10 d
wait_for 10 st_is "$WORK/drop.st" dropped 10 || true
send 5002 5 o
if wait_for 10 lines_ge "$WORK/other.rx" 15 && [ "$(lines "$WORK/drop.rx")" = 0 ] &&
	st_is "$WORK/drop.st" dropped 10; then ok "drop: 10 dropped, none delivered"
else bad "drop: $(lines "$WORK/drop.rx") delivered, $(head -1 "$WORK/drop.st")"; fi
stop_node

# 5. modify: B receives the rewritten, longer payload (its kernel checks the UDP checksum).
start_node modify modify 5004
start_recv modify 5004
send 5004 10 m
if wait_for 10 lines_ge "$WORK/modify.rx" 10 && [ "$(grep -c ' X-[0-9]*-[0-9]*+$' "$WORK/modify.rx")" = 10 ] &&
	st_is "$WORK/modify.st" modified 10; then ok "modify: 10 rewritten payloads delivered"
else bad "modify: $(cat "$WORK/modify.rx" 2>/dev/null | head -3) $(head -1 "$WORK/modify.st")"; fi
stop_node

# 6. hold: each packet is held 200 ms, then reinjected.
start_node hold hold 5005
start_recv hold 5005
send 5005 10 h
late() { awk '$1 >= 195 { n++ } END { exit !(n == 10) }' "$WORK/hold.rx"; }
if wait_for 10 lines_ge "$WORK/hold.rx" 10 && late && st_is "$WORK/hold.st" reinjected 10; then
	ok "hold: 10 delivered after >= 200 ms"
else bad "hold: $(awk '{print $1}' "$WORK/hold.rx" 2>/dev/null | tr '\n' ' ') $(head -1 "$WORK/hold.st")"; fi

# 7. removing a filter while it holds packets: they still get their
# verdicts (after 200 ms), and later packets pass without the handler.
send 5005 3 f
wait_for 10 st_is "$WORK/hold.st" held 13 || true
kill -USR1 "$NODE"
if wait_for 10 lines_ge "$WORK/hold.rx" 13 && wait_for 10 st_is "$WORK/hold.st" reinjected 13; then
	ok "hold: packets held across match_remove released"
else bad "hold: $(lines "$WORK/hold.rx") of 13 delivered after match_remove; $(head -1 "$WORK/hold.st")"; fi
send 5005 3 g
if wait_for 10 lines_ge "$WORK/hold.rx" 16 && st_is "$WORK/hold.st" handled 13; then
	ok "hold: after match_remove, packets pass untouched"
else bad "hold: $(lines "$WORK/hold.rx") of 16 delivered; $(head -1 "$WORK/hold.st")"; fi
stop_node

# 8. match_free gives held packets their verdict: hold, then stop at once.
start_node hold2 hold 5005
send 5005 3 e
wait_for 10 st_is "$WORK/hold2.st" held 3 || true
stop_node
if wait_for 10 lines_ge "$WORK/hold.rx" 19; then ok "hold: match_free released the held packets"
else bad "hold: $(lines "$WORK/hold.rx") of 19 delivered after match_free"; fi

# 9. kill -9: the rule stays, traffic still flows (--queue-bypass), and the
# next start with the same tag removes the stale rule.
start_node k1 count 5006
start_recv kill 5006
kill -9 "$NODE"; wait "$NODE" 2>/dev/null || true
if [ "$(anode_rules)" = 1 ]; then ok "kill -9: rule left behind"; else bad "kill -9: $(anode_rules) rules"; fi
send 5006 10 k
if wait_for 10 lines_ge "$WORK/kill.rx" 10; then ok "kill -9: traffic bypasses the unbound queue"
else bad "kill -9: $(lines "$WORK/kill.rx") delivered"; fi
start_node k2 count 5007
if [ "$(anode_rules)" = 1 ] && grep -q "dport 5007" <<<"$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING)"; then
	ok "restart: stale rule removed, new one in"
else bad "restart: $(ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep anode)"; fi
stop_node
if [ "$(anode_rules)" = 0 ]; then ok "restart: clean exit"; else bad "restart: rules left"; fi

# 10. three filters at once: a queue each (200, 201, 202), one handler.
start_node multi count 5010 2
start_recv multi 5012
for p in 5010 5011 5012; do send $p 5 "p$p"; done
rules=$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep "anode:$TAG:" | grep -o 'queue-num [0-9]*' | sort | tr '\n' ' ')
if [ "$rules" = "queue-num 200 queue-num 201 queue-num 202 " ] && wait_for 10 st_is "$WORK/multi.st" handled 15 &&
	wait_for 10 lines_ge "$WORK/multi.rx" 5 && st_is "$WORK/multi.st" wrong 0; then
	ok "three filters: three queues, 15 seen"
else bad "three filters: $rules; $(head -1 "$WORK/multi.st")"; fi
stop_node

# 11. a burst without pauses: batches of packets, one verdict each.
start_node burst count 5020
send 5020 3000 b 0
if wait_for 20 st_is "$WORK/burst.st" handled 3000 && st_is "$WORK/burst.st" accepted 3000 &&
	st_is "$WORK/burst.st" failed 0; then ok "burst: 3000 seen and accepted"
else bad "burst: $(head -1 "$WORK/burst.st")"; fi
stop_node
if [ "$(anode_rules)" = 0 ]; then ok "end: no anode rules"; else bad "end: rules left"; fi

# 12. a rule someone else removed: match_remove says that iptables -D failed
# (and the filter is gone all the same).
start_node gone count 5030
ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep "anode:$TAG:" | sed 's/^-A /-D /' |
	while read -r rule; do eval "ip netns exec \"$R\" iptables -w -t mangle $rule"; done
kill -USR1 "$NODE"
wait_for 10 st_is "$WORK/gone.st" removed 1 || true
if grep -Eq 'remove_rc=-[0-9]+' "$WORK/gone.st" && st_is "$WORK/gone.st" filters 0; then
	ok "remove: a failed iptables -D is reported"
else bad "remove: $(head -1 "$WORK/gone.st")"; fi
stop_node

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
