#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Routes from a routing daemon (issue 19, item 2): how long anode capsules
# are lost when a link fails, with the lab's static routes and with FRR's
# OSPF (anode lab up --netns --routing ospf). The ring of five routers of
# examples/ring5-hosts.topo, a - b - d the short side and a - c - e - d the
# long one; an active ping from a to d (50 capsules a second, for WINDOW
# seconds) while the a - b link fails one second in, two ways:
#   down    both veth ends lose carrier (ip link set down): the routers at
#           either end hear it at once;
#   silent  the link stays up and drops everything (iptables raw DROP both
#           ways): only OSPF's dead interval (3 s in the lab) finds it.
# The outage is the longest run of unanswered capsules times the measured
# interval; with static routes the run lasts to the end of the window (a
# blackhole), so its figure is the window after the failure. Each case is
# run TRIALS times; the median is reported, and the ratio OSPF / static.
#
# Usage: bench/reroute.sh [BUILD_DIR]   As root, with FRR installed.
# Environment: TRIALS (3), WINDOW (6), RESULTS (1: write bench/RESULTS.md).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
TRIALS=${TRIALS:-3}
WINDOW=${WINDOW:-6}
WRITE_RESULTS=${RESULTS:-1}
ANODE=$BUILD/tools/anode
[ "$(id -u)" -eq 0 ] || { echo "bench/reroute.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x /usr/lib/frr/ospfd ] || { echo "bench/reroute.sh: needs FRR (scripts/deps.sh)" >&2; exit 1; }

export ANODE_RUN_DIR
ANODE_RUN_DIR=$(mktemp -d /tmp/anode-reroute.XXXXXX)
lab=rr$$
topo=$ANODE_RUN_DIR/$lab.topo
cp "$ROOT/examples/ring5-hosts.topo" "$topo"
export ANODE_LAB=$lab
up=""
cleanup() {
	[ -z "$up" ] || "$ANODE" lab down "$topo" >/dev/null 2>&1 || true
	rm -rf "$ANODE_RUN_DIR"
}
trap cleanup EXIT

count=$((WINDOW * 50))
one() { # routing failure -> outage in ms (whole window after the failure when a blackhole)
	local routing=$1 how=$2
	if [ "$routing" = ospf ]; then
		"$ANODE" lab up "$topo" --netns --routing ospf >/dev/null 2>&1
	else
		"$ANODE" lab up "$topo" --netns >/dev/null
	fi
	up=1
	local out=$ANODE_RUN_DIR/ping.json
	"$ANODE" -n a ping d -c "$count" -i 0.02 -W 1 --json >"$out" &
	local ping=$!
	sleep 1
	if [ "$how" = down ]; then
		"$ANODE" lab exec "$lab" a -- ip link set to-b down
	else
		"$ANODE" lab exec "$lab" a -- iptables -w -t raw -I PREROUTING -i to-b -j DROP
		"$ANODE" lab exec "$lab" b -- iptables -w -t raw -I PREROUTING -i to-a -j DROP
	fi
	wait "$ping" || true
	"$ROOT/tests/lab/ping_outage.py" <"$out" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['outage_ms'])"
	"$ANODE" lab down "$topo" >/dev/null
	up=""
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A res
for how in down silent; do
	for routing in static ospf; do
		vals=""
		for _ in $(seq "$TRIALS"); do vals="$vals $(one "$routing" "$how")"; done
		res[$routing-$how]=$(tr ' ' '\n' <<<"$vals" | grep . | median)
		echo "$routing, link $how: outages (ms)$vals -> median ${res[$routing-$how]}"
	done
done

section=$ANODE_RUN_DIR/section.md
{
	echo "<!-- reroute:begin (written by bench/reroute.sh; do not edit by hand) -->"
	echo "## Routes from OSPF: capsules lost across a link failure (issue 19)"
	echo
	echo "\`sudo bench/reroute.sh\` (TRIALS=$TRIALS, WINDOW=$WINDOW s), $(date -u +%Y-%m-%d), $(nproc) CPUs."
	echo "examples/ring5-hosts.topo in namespaces, router mode; an active ping a -> d at"
	echo "50 capsules/s while the a - b link fails; the longest run of lost capsules"
	echo "(median of $TRIALS). Static routes never recover: their figure is the rest of the"
	echo "window. OSPF: FRR's zebra and ospfd, hello 1 s, dead 3 s."
	echo
	echo "| failure | static routes | OSPF | OSPF / static |"
	echo "|---|---|---|---|"
	for how in down silent; do
		s=${res[static-$how]} o=${res[ospf-$how]}
		echo "| link $how | ${s} ms (blackhole) | ${o} ms | $(awk -v o="$o" -v s="$s" 'BEGIN { printf "%.3f", s ? o / s : 0 }') |"
	done
	echo "<!-- reroute:end -->"
} >"$section"
cat "$section"
if [ "$WRITE_RESULTS" = 1 ]; then
	results_section "$ROOT/bench/RESULTS.md" reroute "$section"
fi
