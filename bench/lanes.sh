#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Users kept in their lanes (issue 17), measured in one run: h1 -- r -- h2
# in network namespaces of this run, r an anode router with two users.
#  1. The longest loop round of r and what the victim notices while the
#     attacker floods h2:7003 with 1400-octet packets of a's (python, as fast
#     as it goes) through, in turn: nothing (the baseline), a module that
#     accepts every packet (tests/lab/modules/pass.c), the worst module we
#     could write (bench/cost/worst_module.c: memmem at its slowest until
#     the work budget runs out), and a service that floods the node with
#     verdicts for packets it never got (tests/lab/svc_proactive.c,
#     mode=flood) besides the pass module. The victim, carol, has her own
#     pass module on her flow (50 packets a second to h2:7000, counted at
#     h2) and her control socket is probed every 10 ms (ctlprobe.py). A fresh
#     node per row.
#  2. How fast carol's filters go in: the median time from her service's
#     install request to its result (svc_hostile mode=rate, 20 installs
#     one after the other), quiet (mallory's service holds its filters) and
#     while mallory churns filters (svc_hostile mode=churn), in ROUNDS
#     rounds; the median ratio of install rates.
# Then it prints the tables and replaces the "lanes" section of
# bench/RESULTS.md. The per-helper cost of a work unit is bench/helper_cost.sh.
#
# Usage: bench/lanes.sh [BUILD_DIR]   (root; default build/)
# Environment: SECS (5) seconds of flood per row, ROUNDS (3) of part 2.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SECS=${SECS:-5}
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
[ "$(id -u)" = 0 ] || { echo "lanes.sh: needs root (namespaces, router mode)" >&2; exit 1; }
for f in "$ANODE" "$ANODED" "$BUILD/tests/lab/svc_hostile" "$BUILD/tests/lab/svc_proactive" \
	"$BUILD/tests/lab/pass.ao" "$BUILD/bench/worst_module.ao"; do
	[[ -e $f ]] || { echo "lanes.sh: $f missing; build first (ninja -C $BUILD)" >&2; exit 1; }
done
run=$$
H1=an-ln-$run-h1 R=an-ln-$run-r H2=an-ln-$run-h2
TMP=$(mktemp -d /tmp/anode-bench-lanes.XXXXXX)
chmod 755 "$TMP"
PIDS=()
NODE_PID=
finish() {
	set +e
	for p in "${PIDS[@]}" $NODE_PID; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" $NODE_PID; do wait "$p" 2>/dev/null; done
	for n in "$H1" "$R" "$H2"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$TMP"
}
trap finish EXIT
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

for n in "$H1" "$R" "$H2"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "$H1" link add eth0 type veth peer name r1 netns "$R"
ip -n "$H2" link add eth0 type veth peer name r2 netns "$R"
ip -n "$H1" addr add 10.78.1.2/24 dev eth0
ip -n "$R" addr add 10.78.1.1/24 dev r1
ip -n "$R" addr add 10.78.2.1/24 dev r2
ip -n "$H2" addr add 10.78.2.2/24 dev eth0
for l in "$H1 eth0" "$R r1" "$R r2" "$H2 eth0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$H1" route add default via 10.78.1.1
ip -n "$H2" route add default via 10.78.2.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1

install -m 755 "$BUILD/tests/lab/svc_hostile" "$TMP/svc_hostile"
install -m 755 "$BUILD/tests/lab/svc_proactive" "$TMP/svc_proactive"
install -m 644 "$BUILD/tests/lab/pass.ao" "$TMP/pass.ao"
install -m 644 "$BUILD/bench/worst_module.ao" "$TMP/worst.ao"
for u in carol mallory; do "$ANODE" key gen -o "$TMP/$u.key" >"$TMP/$u.pub"; done
cat >"$TMP/policy" <<POL
user carol $(cat "$TMP/carol.pub")
user mallory $(cat "$TMP/mallory.pub")
service passmod module $TMP/pass.ao
service worst module $TMP/worst.ao
service flood program $TMP/svc_proactive
service rate program $TMP/svc_hostile
service churn program $TMP/svc_hostile
allow carol service passmod,rate
allow carol filter 10.78.2.0/24 proto udp ports 7000-7000
allow mallory service passmod,worst,flood,churn
allow mallory filter 10.78.2.0/24 proto udp ports 7003-7003
POL
printf 'name ln\nmode router\nlisten 10.78.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
	"$TMP" "$TMP" "$TMP" >"$TMP/n.conf"
sv() { local u=$1; shift; "$ANODE" -n "$TMP/n.app" svc "$@" --key "$TMP/$u.key" --user "$u" >/dev/null; }
stat() { "$ANODE" -n "$TMP/n.app" stats --json | json "d['$1']['$2']"; }
rules() { ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:ln:' || true; }
wait_rules() { for _ in $(seq 200); do [[ $(rules) -ge $1 ]] && return 0; sleep 0.05; done; echo "lanes.sh: filters did not come ($(rules) rules of $1):" >&2; tail -15 "$TMP/node.log" >&2; exit 1; }
node_up() {
	ip netns exec "$R" "$ANODED" -f "$TMP/n.conf" >>"$TMP/node.log" 2>&1 &
	NODE_PID=$!
	for _ in $(seq 100); do "$ANODE" -n "$TMP/n.app" info >/dev/null 2>&1 && return 0; sleep 0.05; done
	echo "lanes.sh: the router did not start" >&2; tail "$TMP/node.log" >&2; exit 1
}
node_down() { kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=; }
# h2 counts what reaches 7000 (carol) and sinks 7003.
ip netns exec "$H2" /usr/bin/python3 -c "
import select, socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('0.0.0.0', 7000))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('0.0.0.0', 7003))
n = 0
while True:
    r, _, _ = select.select([a, b], [], [])
    if a in r:
        a.recvfrom(2048); n += 1
        open('$TMP/carol.count', 'w').write(str(n))
    if b in r:
        b.recvfrom(2048)" &
PIDS+=($!)
carol_flow() { # seconds -> packets sent
	ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1]); k = 0
while time.time() < end:
    s.sendto(b'carol', ('10.78.2.2', 7000)); k += 1; time.sleep(0.02)
print(k)" "$1"
}
flood() { # seconds
	ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p = b'a' * 1400; end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(64):
        try: s.sendto(p, ('10.78.2.2', 7003))
        except OSError: pass" "$1"
}
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

t1="| attack on r | carol's packets sent | received | r's longest round during it, wall (µs) | x baseline | ...on r's own CPU time (µs) | control socket, longest answer (ms) | module runs over budget |
|---|---:|---:|---:|---:|---:|---:|---:|"
base_round=
for row in none pass worst flood; do
	node_up
	sv carol activate passmod dst=10.78.2.0/24 proto=udp port=7000
	case $row in
	pass) sv mallory activate passmod dst=10.78.2.0/24 proto=udp port=7003 ;;
	worst) sv mallory activate worst dst=10.78.2.0/24 proto=udp port=7003 ;;
	flood) sv mallory activate passmod dst=10.78.2.0/24 proto=udp port=7003
	       sv mallory activate flood mode=flood dev=r2 threshold=1 dst=10.78.2.0/24 port=7003 ;;
	esac
	case $row in none) wait_rules 2 ;; *) wait_rules 3 ;; esac
	before=$(cat "$TMP/carol.count" 2>/dev/null || echo 0)
	/usr/bin/python3 "$ROOT/tests/lab/ctlprobe.py" "$TMP/n.ctl" "$SECS" >"$TMP/probe.out" &
	probe=$!
	[[ $row == none ]] || { flood "$SECS" & PIDS+=($!); }
	carol_flow "$SECS" >"$TMP/sent" &
	flow=$!
	# The longest round of the last second or two, read once near the
	# flood's end: a stats request is a round of its own (it builds the
	# whole JSON), which earlier reads would add; activation, which loads
	# code, is long before.
	sleep "$(/usr/bin/python3 -c "print($SECS - 0.3)")"
	round=$(stat loop recent_max_round_us)
	cpu=$(stat loop recent_max_round_cpu_us)
	wait "$flow" || true
	sent=$(cat "$TMP/sent")
	wait "$probe" || true
	sleep 0.5
	got=$(($(cat "$TMP/carol.count" 2>/dev/null || echo 0) - before))
	over=$(stat modules errors)
	ctl=$(json "'%s (%d failed)' % (d['max_ms'], d['failed'])" <"$TMP/probe.out" 2>/dev/null || echo "?")
	[[ -n $base_round ]] || base_round=$round
	x=$(/usr/bin/python3 -c "print('%.1f' % ($round / $base_round))")
	name=$row
	case $row in
	none) name="none (baseline)" ;;
	pass) name="flood through a pass module" ;;
	worst) name="flood through the worst module (memmem at its slowest until the budget)" ;;
	flood) name="flood through a pass module, and a service flooding verdicts" ;;
	esac
	t1="$t1
| $name | $sent | $got | $round | $x | $cpu | $ctl | $over |"
	node_down
done

# 2. carol's filter installs, quiet and during mallory's churn, in ROUNDS
# rounds; in the quiet phase mallory's service holds its 8 filters without
# churning (so that both phases have the same rules for iptables to walk).
node_up
carol_rate() { # -> median ms of carol's installs
	local lines
	lines=$(grep -c 'rate: installs=' "$TMP/node.log" || true)
	sv carol activate rate mode=rate n=20 dst=10.78.2.0/24 port=7000
	for _ in $(seq 600); do [[ $(grep -c 'rate: installs=' "$TMP/node.log" || true) -gt $lines ]] && break; sleep 0.1; done
	[[ $(grep -c 'rate: installs=' "$TMP/node.log" || true) -gt $lines ]] ||
		{ echo "lanes.sh: carol's installs did not report:" >&2; tail -20 "$TMP/node.log" >&2; exit 1; }
	sv carol stop rate
	grep -o 'rate: installs=[0-9]* median_ms=[0-9.]*' "$TMP/node.log" | tail -1 | sed 's/.*median_ms=//'
}
quiets=() churns=() ratios=()
for round in $(seq "${ROUNDS:-3}"); do
	sv mallory activate churn mode=churn dst=10.78.2.0/24 port=7003 secs=0
	wait_rules 9
	quiets+=("$(carol_rate)")
	sv mallory stop churn
	sleep 1
	sv mallory activate churn mode=churn dst=10.78.2.0/24 port=7003 secs=120
	sleep 2
	churns+=("$(carol_rate)")
	sv mallory stop churn
	sleep 1
	ratios+=("$(/usr/bin/python3 -c "print('%.2f' % (${quiets[-1]} / ${churns[-1]}))")")
done
busy=$(stat services filters_busy)
paused=$(stat services records_paused)
queue_max=$(stat queue parent_queue_max)
node_down
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
quiet=$(med "${quiets[@]}") churn=$(med "${churns[@]}") ratio=$(med "${ratios[@]}")
t2="| carol's installs | median request to result (ms) | installs per second | x quiet |
|---|---:|---:|---:|
| quiet (mallory holds 8 filters) | $quiet | $(/usr/bin/python3 -c "print('%.0f' % (1000 / $quiet))") | 1.00 |
| while mallory churns | $churn | $(/usr/bin/python3 -c "print('%.0f' % (1000 / $churn))") | $ratio |

Rounds (quiet ms / churn ms = ratio): $(for k in "${!ratios[@]}"; do printf '%s / %s = %s; ' "${quiets[$k]}" "${churns[$k]}" "${ratios[$k]}"; done)the ratio shown is the median of the rounds'."
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$t1"
echo
echo "$t2"
echo "mallory's installs refused past her share: $busy; her service paused: $paused; requests that waited for room to the parent, at most: $queue_max"

section=$(mktemp)
{
	echo "<!-- lanes:begin (written by bench/lanes.sh; edit outside these markers) -->"
	echo "## Users kept in their lanes (issue 17)"
	echo
	echo "- command: \`bench/lanes.sh build\` (SECS=$SECS)"
	echo "- date: $started; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: nproc $(nproc), kernel $(uname -r); load average before/after: $load_before / $load_after"
	echo
	echo "### 1. The victim's flow and r's loop while another user floods r through their code"
	echo
	echo "carol's flow: 50 packets a second through her own pass module; the attacker floods"
	echo "1400-octet packets of a's from python as fast as it goes. A fresh node per row; the"
	echo "rounds are the longest of the last second or two of the flood, read once at its end"
	echo "(activation, which loads code, comes before). Target: carol loses nothing; r's"
	echo "longest round the 2 ms slice and about one packet. The wall time of a round also holds"
	echo "what the kernel takes from the node's CPU (the flood's softirqs, on 2 cores shared with"
	echo "the flooder): the CPU-time column is the node's own work."
	echo
	echo "$t1"
	echo
	echo "### 2. carol's filter installs while mallory churns filters"
	echo
	echo "20 installs one after the other (each removed again; past her share carol's service"
	echo "waits 250 ms, not timed), in ${ROUNDS:-3} rounds of a quiet phase (mallory's service holds its"
	echo "8 filters) and a churn (it removes each filter as soon as it is in, asks for it again,"
	echo "and removes guessed handles 1-255). In all, $busy of mallory's installs were refused"
	echo "past her share, her service was paused $paused times for its records, and at most"
	echo "$queue_max requests waited for room to the parent. Target: at least 0.9x the quiet rate."
	echo
	echo "$t2"
	echo "<!-- lanes:end -->"
} >"$section"
results_section "$ROOT/bench/RESULTS.md" lanes "$section"
rm -f "$section"
