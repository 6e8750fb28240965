#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The router-mode benchmark (issue 4 §5), by PAN's method (seed 003 §5.1-5.3:
# sender - middle - receiver; kernel/passive against user/cforw against the
# active node) and NetServ's (seed 004 §9: the same packets through plain
# Linux forwarding, through the kernel-to-user transition alone, and through
# the full node). Three labs of three network namespaces each, built by
# `anode lab up --netns` from a generated topology (node m, host s m,
# host r m), are up at once, one per middle:
#   kernel  plain kernel forwarding (lab up --no-nodes);
#   nfq     the same plus anoded's iptables rule, with bench/nfq_pass, a
#           plain C NFQUEUE pass-through, bound to the queue (the baseline);
#   anode   the lab's own anoded in router mode (lab up), apps/forward.ao
#           inserted through its application socket: every capsule to
#           UDP 3322 is intercepted, run, and sent on as the packet's verdict.
# The machine is shared, and its speed moves by tens of percent within a
# minute; so the middles are measured in rounds, one short run each in turn
# (the order rotating), and every ratio is taken within a round before the
# median over rounds. For every size a round measures
#   - capsules (ANEP in UDP to the receiver's address:3322, built by
#     bench/capgen, dst option = the receiver): the sender blasts for SECS
#     seconds; the receiver's kernel counts what arrives; the middle's own
#     counters say how many it intercepted (the queue is fail-open, as in
#     anoded: what overflows it is forwarded by the kernel without the
#     middle);
#   - (kernel and anode) a flow that no filter matches: UDP to port 5001
#     (bench/udpblast), counted the same way;
# then latency rounds: PINGS capsule round trips (the receiver answers each
# with a new capsule toward the sender: two crossings of the middle) and
# ping(8) between the hosts; then, if iperf3 is installed, TCP rounds (kernel
# and anode). Then it prints tables and replaces the router section of
# bench/RESULTS.md.
#
# Usage: bench/router.sh [BUILD_DIR]  (default build/ under the repository)
# As root. Builds nothing. Environment: ROUNDS (5), SECS (1), PINGS (3000),
# ICMP (300), SIZES ("64 512 1400"), PIN (1), IPERF (1), RESULTS (1: write
# bench/RESULTS.md).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-1}
PINGS=${PINGS:-3000}
ICMP=${ICMP:-300}
SIZES=${SIZES:-64 512 1400}
PIN=${PIN:-1}
IPERF=${IPERF:-1}
WRITE_RESULTS=${RESULTS:-1}
TCP_SECS=$(awk -v s="$SECS" 'BEGIN { t = int(s + 0.999); print (t < 1 ? 1 : t) }')

ANODE=$BUILD/tools/anode
CAPGEN=$BUILD/bench/capgen
NFQ_PASS=$BUILD/bench/nfq_pass
UDPBLAST=$BUILD/bench/udpblast
FORWARD_AO=$BUILD/apps/forward.ao
for f in "$ANODE" "$BUILD/src/node/anoded" "$CAPGEN" "$NFQ_PASS" "$UDPBLAST" "$FORWARD_AO"; do
	[[ -e $f ]] || { echo "router.sh: $f missing; build first (ninja -C $BUILD)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "router.sh: needs root (network namespaces, iptables)" >&2; exit 1; }
for tool in ip iptables ping taskset; do
	command -v "$tool" >/dev/null || { echo "router.sh: $tool is not installed" >&2; exit 1; }
done
if [[ $IPERF == 1 ]] && ! command -v iperf3 >/dev/null; then
	echo "router.sh: iperf3 not installed, no TCP flow" >&2
	IPERF=0
fi

TMP=$(mktemp -d /tmp/anode-router.XXXXXX)
export ANODE_RUN_DIR=$TMP/run
mkdir -p "$ANODE_RUN_DIR"
CONFIGS=(kernel nfq anode)
declare -A LABS=([kernel]=rb$$k [nfq]=rb$$n [anode]=rb$$a)
LABS_UP=()
PIDS=()
cleanup() {
	# Only what this script started, by PID; the lab's anoded goes with
	# lab down (by the PID the lab recorded).
	local pid lab
	set +e
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for lab in "${LABS_UP[@]}"; do
		"$ANODE" lab down "$TMP/$lab.topo" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() {
	local keep=() pid
	for pid in "${PIDS[@]}"; do
		[[ $pid == "$1" ]] || keep+=("$pid")
	done
	PIDS=("${keep[@]}")
}

if [[ $PIN == 1 ]]; then
	# Two cores. Throughput: the middle's process on CPU 1, the sender on
	# CPU 0, and no receiving process (a sink that never reads). The
	# kernel forwards in the softirq of the CPU that hands it the packet:
	# the sender's for kernel forwarding and for what the queue lets by,
	# the middle's for what the middle sends on (its verdicts), up to the
	# receiver's socket. Latency: everything on CPU 1 (one process runs at
	# a time; cross-CPU wakeups in this VM cost ~10 us each).
	MID_CPU=(taskset -c 1)
	END_CPU=(taskset -c 0)
	LAT_CPU=(taskset -c 1)
else
	MID_CPU=()
	END_CPU=()
	LAT_CPU=()
fi

kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1"; }
ns() { echo "an-${LABS[$1]}-$2"; } # ns CFG NAME
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }
# 64 octets cannot hold a capsule with a destination option: ANEP 8 + dst
# option 24 + hop limit option 8 + capsule header 56 = 96 with no data.
capsize() { if (($1 < 96)); then echo 96; else echo "$1"; fi; }

# ---- the labs ----
MID_PID=0 # the lab's anoded
MID_APP=
lab_up() {
	local cfg=$1 lab=${LABS[$1]}
	cat >"$TMP/$lab.topo" <<EOF
# bench/router.sh ($cfg): sender s - middle m - receiver r
node m
host s m
host r m
EOF
	local -a opt=(--no-nodes)
	[[ $cfg == anode ]] && opt=()
	"$ANODE" lab up "$TMP/$lab.topo" --netns "${opt[@]}" >"$TMP/labup.out" 2>&1 || { cat "$TMP/labup.out" >&2; exit 1; }
	LABS_UP+=("$lab")
	local state=$ANODE_RUN_DIR/$lab
	# Every lab has the same addresses (the default subnet), each in its
	# own namespaces.
	S_IP=$(awk '$1 == "host" && $2 == "s" { print $4 }' "$state/netns")
	R_IP=$(awk '$1 == "host" && $2 == "r" { print $4 }' "$state/netns")
	if [[ $cfg == anode ]]; then
		MID_APP=$(awk '$1 == "m" { print $3 }' "$state/nodes")
		MID_PID=$(awk '$1 == "m" { print $5 }' "$state/nodes")
		for _ in $(seq 50); do
			[[ -S $MID_APP ]] && break
			sleep 0.1
		done
		[[ -S $MID_APP && $MID_PID -gt 0 ]] ||
			{ echo "router.sh: the lab's anoded did not start" >&2; cat "$state/m.log" >&2; exit 1; }
		# A router node is two processes (src/priv): the root parent
		# only installs rules; its one child runs the node, and is
		# what is pinned and measured.
		local parent=$MID_PID
		MID_PID=$(ps --ppid "$parent" -o pid= | tr -d ' ')
		[[ $MID_PID =~ ^[0-9]+$ ]] || { echo "router.sh: anoded $parent has no node child" >&2; exit 1; }
		if [[ $PIN == 1 ]]; then taskset -pc 1 "$parent" >/dev/null; taskset -pc 1 "$MID_PID" >/dev/null; fi
		"$CAPGEN" insert -A "$MID_APP" -c "$FORWARD_AO" >"$TMP/insert.out"
		ip netns exec "$(ns anode m)" iptables -w -t mangle -S PREROUTING | grep 'anode:m:' >"$TMP/rule" ||
			{ echo "router.sh: anoded installed no NFQUEUE rule" >&2; exit 1; }
	elif [[ $cfg == nfq ]]; then
		# anoded's rule, with a comment of our own.
		ip netns exec "$(ns nfq m)" iptables -w -t mangle -A PREROUTING -p udp --dport 3322 \
			-m comment --comment bench-router -j NFQUEUE --queue-num 3322 --queue-bypass
	fi
	# Neighbours resolved before anything is timed.
	ip netns exec "$(ns "$cfg" s)" ping -c 2 -i 0.05 -q "$R_IP" >/dev/null
}

# nfq_pass runs only while it is measured: started on the queue, stopped
# after, its count read from its exit line.
NFQ_PID=0
NFQ_COUNT=0
nfq_start() {
	"${MID_CPU[@]}" ip netns exec "$(ns nfq m)" "$NFQ_PASS" 3322 >"$TMP/nfq.out" 2>&1 &
	NFQ_PID=$!
	PIDS+=($NFQ_PID)
	for _ in $(seq 50); do
		ip netns exec "$(ns nfq m)" awk '$1 == 3322 { f = 1 } END { exit !f }' /proc/net/netfilter/nfnetlink_queue \
			2>/dev/null && return 0
		sleep 0.05
	done
	echo "router.sh: nfq_pass did not bind queue 3322" >&2
	cat "$TMP/nfq.out" >&2
	exit 1
}
nfq_stop() { # sets NFQ_COUNT, the number of packets nfq_pass handled
	kill "$NFQ_PID"
	wait "$NFQ_PID" 2>/dev/null || true
	forget "$NFQ_PID"
	NFQ_PID=0
	NFQ_COUNT=$(kv "$TMP/nfq.out" packets)
}
anode_queued() {
	"$ANODE" -n "$MID_APP" stats --json | sed -n 's/.*"queue":{[^}]*"packets":\([0-9]*\).*/\1/p'
}

# ---- throughput ----
# Datagrams that reached the receiver's UDP layer (its namespace's
# counters): InDatagrams + NoPorts + InErrors.
udp_arrived() {
	ip netns exec "$(ns "$1" r)" awk '$1 == "Udp:" { if (h) { print $2 + $3 + $4; exit } h = 1 }' /proc/net/snmp
}

# One blast: "sent_rate arrived_rate intercepted_rate let_by_frac mid_cpu_us
# mid_busy_frac" to $TMP/cap.CFG.SIZE (capsules) or $TMP/udp.CFG.SIZE (no
# filter matches), one line per round. The receiver is a sink that never
# reads (udpblast -k): what reaches r is counted by r's kernel, and no
# receiving process competes for a CPU.
blast() {
	local cfg=$1 kind=$2 size=$3 port csize kpid a0 a1 q0=0 q1=0 c0=0 c1=0 mid=0
	if [[ $kind == cap ]]; then port=3322; csize=$(capsize "$size"); else port=5001; csize=$size; fi
	ip netns exec "$(ns "$cfg" r)" "$UDPBLAST" -k -l "$R_IP:$port" &
	kpid=$!
	PIDS+=($kpid)
	if [[ $cfg == nfq && $kind == cap ]]; then
		nfq_start
		mid=$NFQ_PID
	elif [[ $cfg == anode ]]; then
		mid=$MID_PID
		q0=$(anode_queued)
	fi
	sleep 0.1
	[[ $mid != 0 ]] && c0=$(cpu_ns "$mid")
	a0=$(udp_arrived "$cfg")
	if [[ $kind == cap ]]; then
		"${END_CPU[@]}" ip netns exec "$(ns "$cfg" s)" "$CAPGEN" send -l "$S_IP:3322" -m "$R_IP:3322" \
			-d "$R_IP:3322" -c "$FORWARD_AO" -s "$csize" -t "$SECS" >"$TMP/send.out" 2>/dev/null
	else
		"${END_CPU[@]}" ip netns exec "$(ns "$cfg" s)" "$UDPBLAST" -l "$S_IP:5002" -d "$R_IP:5001" -s "$csize" \
			-t "$SECS" >"$TMP/send.out"
	fi
	# The middle's queue (at most 4096) drains in a few ms.
	sleep 0.1
	a1=$(udp_arrived "$cfg")
	[[ $mid != 0 ]] && c1=$(cpu_ns "$mid")
	if [[ $cfg == nfq && $kind == cap ]]; then
		nfq_stop
		q1=$NFQ_COUNT
	elif [[ $cfg == anode ]]; then
		q1=$(anode_queued)
	fi
	kill "$kpid"
	wait "$kpid" 2>/dev/null || true
	forget "$kpid"
	local sent secs srate q=$((q1 - q0)) a=$((a1 - a0))
	sent=$(kv "$TMP/send.out" sent)
	secs=$(kv "$TMP/send.out" secs)
	srate=$(kv "$TMP/send.out" rate)
	awk -v s="$srate" -v a="$a" -v q="$q" -v n="$sent" -v t="$secs" -v c="$((c1 - c0))" -v m="$mid" \
		'BEGIN { printf "%s %.0f %.0f %.4f %.3f %.3f\n", s, a / t, q / t, (m && n ? 1 - q / n : 0),
			(q > 0 ? c / q / 1000 : 0), c / 1e9 / (t + 0.1) }' \
		>>"$TMP/$kind.$cfg.$size"
	printf '  %-6s %-3s %4s B  sent %8s/s  arrived %8.0f/s  intercepted %8.0f/s  (%s and %s of %s)\n' "$cfg" "$kind" \
		"$csize" "$srate" "$(awk -v a="$a" -v t="$secs" 'BEGIN { print a / t }')" \
		"$(awk -v q="$q" -v t="$secs" 'BEGIN { print q / t }')" "$a" "$q" "$sent"
	if [[ $cfg == anode && $kind == udp && $q != 0 ]]; then
		echo "router.sh: anoded intercepted $q packets of a flow no filter matches" >&2
		exit 1
	fi
}

# ---- latency ----
# Capsule round trips (median, p99) to $TMP/lat.CFG.SIZE, then ping(8)'s
# (median, p99 of the per-packet times) to $TMP/icmp.CFG.SIZE.
latency() {
	local cfg=$1 size=$2 csize epid
	csize=$(capsize "$size")
	[[ $cfg == nfq ]] && nfq_start
	"${LAT_CPU[@]}" ip netns exec "$(ns "$cfg" r)" "$CAPGEN" echo -l "$R_IP:3322" -m "$S_IP:3322" -d "$S_IP:3322" \
		2>/dev/null &
	epid=$!
	PIDS+=($epid)
	sleep 0.1
	"${LAT_CPU[@]}" ip netns exec "$(ns "$cfg" s)" "$CAPGEN" ping -l "$S_IP:3322" -m "$R_IP:3322" -d "$R_IP:3322" \
		-c "$FORWARD_AO" -s "$csize" -n "$PINGS" -W 300 >"$TMP/ping.out" 2>/dev/null
	kill "$epid"
	wait "$epid" 2>/dev/null || true
	forget "$epid"
	[[ $cfg == nfq ]] && nfq_stop
	echo "$(kv "$TMP/ping.out" median_us) $(kv "$TMP/ping.out" p99_us) $(kv "$TMP/ping.out" lost)" >>"$TMP/lat.$cfg.$size"
	# ping -s N: N octets of ICMP data, so the IP packet is as long as a
	# UDP datagram with N octets of payload.
	"${LAT_CPU[@]}" ip netns exec "$(ns "$cfg" s)" ping -n -c "$ICMP" -i 0.002 -s "$size" "$R_IP" |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | awk '{ print $1 * 1000 }' | sort -g >"$TMP/icmp.times"
	awk '{ v[NR] = $1 } END { if (NR) printf "%s %s\n", v[int((NR + 1) / 2)], v[int(0.99 * NR + 0.999)] }' \
		"$TMP/icmp.times" >>"$TMP/icmp.$cfg.$size"
	printf '  %-6s lat %4s B  capsule RTT median %s us p99 %s us (lost %s)  ping(8) median/p99 %s us\n' "$cfg" \
		"$csize" "$(kv "$TMP/ping.out" median_us)" "$(kv "$TMP/ping.out" p99_us)" "$(kv "$TMP/ping.out" lost)" \
		"$(tail -1 "$TMP/icmp.$cfg.$size" | tr ' ' /)"
}

# TCP through the middle, no filter matching: Mbit/s to $TMP/tcp.CFG.
tcp() {
	local cfg=$1 spid
	ip netns exec "$(ns "$cfg" r)" iperf3 -s -1 -B "$R_IP" >/dev/null 2>&1 &
	spid=$!
	PIDS+=($spid)
	for _ in $(seq 50); do
		ip netns exec "$(ns "$cfg" r)" ss -Hltn | grep -q ":5201 " && break
		sleep 0.05
	done
	# iperf3 takes whole seconds (a fraction makes it run on).
	timeout 30 ip netns exec "$(ns "$cfg" s)" iperf3 -c "$R_IP" -t "$TCP_SECS" -J >"$TMP/iperf.json" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	forget "$spid"
	sed -n '/"sum_received"/,/}/s/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' "$TMP/iperf.json" |
		head -1 | awk '{ printf "%.0f\n", $1 / 1e6 }' >>"$TMP/tcp.$cfg"
	printf '  %-6s tcp  %s Mbit/s\n' "$cfg" "$(tail -1 "$TMP/tcp.$cfg")"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
for cfg in "${CONFIGS[@]}"; do
	lab_up "$cfg"
done
# Round r runs the middles in the order starting at r mod 3 (mod 2 for the
# flows no filter matches), so that none always goes first.
for r in $(seq "$ROUNDS"); do
	echo "round $r:"
	for size in $SIZES; do
		for i in 0 1 2; do
			blast "${CONFIGS[$(((i + r) % 3))]}" cap "$size"
		done
		for cfg in kernel anode; do
			[[ $((r % 2)) == 1 ]] && cfg=$([[ $cfg == kernel ]] && echo anode || echo kernel)
			blast "$cfg" udp "$size"
		done
	done
done
for r in $(seq "$ROUNDS"); do
	echo "latency round $r:"
	for size in $SIZES; do
		for i in 0 1 2; do
			latency "${CONFIGS[$(((i + r) % 3))]}" "$size"
		done
	done
done
if [[ $IPERF == 1 ]]; then
	for r in $(seq "$ROUNDS"); do
		for cfg in kernel anode; do
			[[ $((r % 2)) == 1 ]] && cfg=$([[ $cfg == kernel ]] && echo anode || echo kernel)
			tcp "$cfg"
		done
	done
fi
"$ANODE" -n "$MID_APP" stats >"$TMP/anode.stats" 2>&1 || true
END=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- tables ----
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
# The median over rounds of a ratio taken within each round: column C of
# file A over column C of file B, line by line.
pratio() { paste -d' ' "$2" "$3" | awk -v c="$1" '{ n = NF / 2; if ($(c + n) > 0) print $c / $(c + n) }' | median; }
# ...and its smallest and largest, for the spread.
prange() {
	paste -d' ' "$2" "$3" | awk -v c="$1" '{ n = NF / 2; if ($(c + n) > 0) print $c / $(c + n) }' | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.2f-%.2f", v[1], v[NR] }'
}
# Column C of file F, median and range, formatted with FMT.
mr() { awk -v c="$1" '{ print $c }' "$2" | sort -g | awk -v f="$3" '{ v[NR] = $1 } END { printf f " (" f "-" f ")", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
TABLE=$TMP/table.md
{
	echo "Capsules (ANEP in UDP to the receiver's address:3322, destination option = the receiver); medians over rounds:"
	echo
	echo "| size (B) | capsule (B) | middle | sender (cap/s) | arrived at r (cap/s) | intercepted by the middle (cap/s) | let by (queue full) | middle busy | middle CPU per intercepted capsule (µs) | capsule RTT median (µs) | capsule RTT p99 (µs) | ping(8) RTT median (µs) | ping(8) RTT p99 (µs) |"
	echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		for cfg in "${CONFIGS[@]}"; do
			f=$TMP/cap.$cfg.$size
			if [[ $cfg == kernel ]]; then
				ic="—" by="—" pc="—" busy="—"
			else
				ic=$(col 3 "$f")
				by=$(awk '{ print $4 * 100 }' "$f" | median | awk '{ printf "%.1f %%", $1 }')
				pc=$(col 5 "$f")
				busy=$(awk '{ print $6 * 100 }' "$f" | median | awk '{ printf "%.0f %%", $1 }')
			fi
			printf '| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$size" "$(capsize "$size")" \
				"$cfg" "$(col 1 "$f")" "$(col 2 "$f")" "$ic" "$by" "$busy" "$pc" \
				"$(col 1 "$TMP/lat.$cfg.$size")" "$(col 2 "$TMP/lat.$cfg.$size")" \
				"$(col 1 "$TMP/icmp.$cfg.$size")" "$(col 2 "$TMP/icmp.$cfg.$size")"
		done
	done
	echo
	echo "A flow no filter matches (UDP to port 5001 with SIZE octets of payload; TCP by iperf3), medians (range) over rounds:"
	echo
	echo "| size (B) | middle | sender (pkt/s) | arrived at r (pkt/s) |"
	echo "|---:|---|---:|---:|"
	for size in $SIZES; do
		for cfg in kernel anode; do
			f=$TMP/udp.$cfg.$size
			printf '| %s | %s | %s | %s |\n' "$size" "$cfg" "$(mr 1 "$f" %.0f)" "$(mr 2 "$f" %.0f)"
		done
	done
	if [[ $IPERF == 1 ]]; then
		for cfg in kernel anode; do
			printf '| TCP | %s | | %s Mbit/s |\n' "$cfg" "$(mr 1 "$TMP/tcp.$cfg" %.0f)"
		done
	fi
	echo
	echo "Ratios, each taken within a round, median (range) over $ROUNDS rounds:"
	echo
	echo "| size (B) | intercepted anode/nfq_pass (target ≥ 0.8) | middle CPU per capsule anode/nfq_pass | no filter matches: arrived anode/kernel (target ≥ 0.98) | capsule RTT median anode/nfq_pass | capsule RTT median anode/kernel | ping(8) median anode/kernel |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		ri=$(pratio 3 "$TMP/cap.anode.$size" "$TMP/cap.nfq.$size")
		ru=$(pratio 2 "$TMP/udp.anode.$size" "$TMP/udp.kernel.$size")
		printf '| %s | %s%s (%s) | %.2f (%s) | %.3f%s (%s) | %.2f | %.2f | %.2f |\n' "$size" \
			"$(printf %.2f "$ri")" "$(awk -v r="$ri" 'BEGIN { if (r < 0.795) print " (missed)" }')" \
			"$(prange 3 "$TMP/cap.anode.$size" "$TMP/cap.nfq.$size")" \
			"$(pratio 5 "$TMP/cap.anode.$size" "$TMP/cap.nfq.$size")" \
			"$(prange 5 "$TMP/cap.anode.$size" "$TMP/cap.nfq.$size")" \
			"$ru" "$(awk -v r="$ru" 'BEGIN { if (r < 0.9795) print " (missed)" }')" \
			"$(prange 2 "$TMP/udp.anode.$size" "$TMP/udp.kernel.$size")" \
			"$(pratio 1 "$TMP/lat.anode.$size" "$TMP/lat.nfq.$size")" \
			"$(pratio 1 "$TMP/lat.anode.$size" "$TMP/lat.kernel.$size")" \
			"$(pratio 1 "$TMP/icmp.anode.$size" "$TMP/icmp.kernel.$size")"
	done
	if [[ $IPERF == 1 ]]; then
		echo
		rt=$(pratio 1 "$TMP/tcp.anode" "$TMP/tcp.kernel")
		printf 'TCP (iperf3, %s s per run) anode/kernel: %.3f%s (%s)\n' "$TCP_SECS" "$rt" \
			"$(awk -v r="$rt" 'BEGIN { if (r < 0.9795) print " (missed)" }')" "$(prange 1 "$TMP/tcp.anode" "$TMP/tcp.kernel")"
	fi
} >"$TABLE"

echo
cat "$TABLE"
echo
echo "anoded's counters at the end:"
sed -n '1,8p' "$TMP/anode.stats" 2>/dev/null || true
grep -i 'router mode' "$TMP/anode.stats" 2>/dev/null || true
echo "(measured in $((END - START)) s)"

[[ $WRITE_RESULTS == 1 ]] || exit 0

# ---- bench/RESULTS.md ----
RESULTS=$ROOT/bench/RESULTS.md
SECTION=$TMP/section.md
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "<!-- router:begin (written by bench/router.sh; edit outside these markers) -->"
	echo "## Router mode: anode intercepting capsules vs. NFQUEUE pass-through vs. kernel forwarding (issue 4)"
	echo
	echo "PAN's sender → middle → receiver (seed 003 §5.1: kernel/passive, user/cforw,"
	echo "active) and NetServ's layers (seed 004 §9: plain Linux forwarding, the"
	echo "kernel-to-user transition alone, the full node), in three network namespaces"
	echo "(\`anode lab up --netns\`: node m, hosts s and r on veths). The middle m is"
	echo "plain kernel forwarding (\`--no-nodes\`), \`bench/nfq_pass\` (a plain C"
	echo "NFQUEUE pass-through with src/link/match.c's batching) behind anoded's rule"
	echo "(\`-p udp --dport 3322 -j NFQUEUE --queue-num 3322 --queue-bypass\`), or the"
	echo "lab's own anoded in router mode with \`apps/forward.ao\` inserted, which runs"
	echo "every capsule and sends it on as the queued packet's verdict. Capsules are"
	echo "built by \`bench/capgen\` (src/wire) and sent from s to r's address:3322 with"
	echo "r as the ANEP destination; the same bytes cross every middle."
	echo
	echo "- command: \`bench/router.sh ${1:-build}\` (ROUNDS=$ROUNDS SECS=$SECS PINGS=$PINGS ICMP=$ICMP SIZES=\"$SIZES\" PIN=$PIN IPERF=$IPERF)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: nproc $(nproc), kernel $(uname -r), ${CPU:-unknown CPU}; load average"
	echo "  before/after: $LOAD0 / $LOAD1 (the machine is shared: other work ran alongside);"
	echo "  measured in $((END - START)) s"
	echo "- the three labs are up at once (the same addresses, each in its own"
	echo "  namespaces); the middles are measured in $ROUNDS rounds, one run each in turn,"
	echo "  the order rotating; figures are medians over rounds, each column on its own,"
	echo "  and ratios are taken within a round, then the median (range) over rounds: the"
	echo "  machine's speed moves by tens of percent within a minute."
	if [[ $PIN == 1 ]]; then
		echo "- pinning: throughput with the middle's process on CPU 1 and the sender on"
		echo "  CPU 0 (whose softirq does the kernel's forwarding of everything the middle"
		echo "  does not send on); latency with middle, pinger, echo and ping(8) all on CPU 1."
	else
		echo "- pinning: none"
	fi
	echo "- sizes are the whole UDP payload (ping(8) -s SIZE: the same IP length); 64 B"
	echo "  cannot hold a capsule (ANEP 8 + dst option 24 + hop limit option 8 + capsule"
	echo "  header 56 = 96 B with no data), so capsules of the small size are 96 B; the flow"
	echo "  no filter matches and ping(8) use 64 B."
	echo "- throughput: the sender blasts for $SECS s with sendmmsg (32 per call). The"
	echo "  receiver runs no process: a socket that is never read (\`udpblast -k\`), and"
	echo "  *arrived at r* is what reached r's UDP layer (r's /proc/net/snmp), per second"
	echo "  of the blast. *Intercepted* is what the middle handled (nfq_pass's count,"
	echo "  anoded's queue counter) per second. Both bind the queue fail-open, as"
	echo "  anoded does: when the 4096-packet queue is full the kernel forwards the"
	echo "  packet without the middle (*let by* = 1 - intercepted/sent), so arrivals"
	echo "  include those, and a middle that lets packets by is saturated. Middle CPU"
	echo "  per capsule = CPU time of the middle's process (/proc/PID/schedstat, which"
	echo "  includes the kernel's forwarding of the verdicts it sends) / intercepted;"
	echo "  *middle busy* = that CPU time / the blast's time (100 %: a whole CPU)."
	echo "- latency: $PINGS capsule round trips after 300 warm-up, one outstanding (the"
	echo "  receiver answers each capsule with a new capsule toward the sender: two"
	echo "  crossings of the middle), and $ICMP ping(8) round trips 2 ms apart; medians"
	echo "  and p99s per run, median over rounds."
	echo
	cat "$TABLE"
	echo "<!-- router:end -->"
} >"$SECTION"

results_section "$RESULTS" router "$SECTION"
