#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The overlay forwarding benchmark (issue 2), as PAN measured its node
# (seed 003 §5.1-5.3): sender -> middle -> receiver on loopback, where the
# middle is either an anoded running apps/forward.ao ("user/active") or
# bench/cforward, a plain C UDP relay with the same batching ("user/cforw").
# For each capsule size it measures
#   - throughput: the sender blasts for SECS seconds, the receiver counts
#     (median of TRIALS trials, the two middles interleaved so that drift in
#     the machine hits both alike);
#   - latency: PINGS round trips, one outstanding, through the middle twice
#     (the receiver answers each capsule with a new capsule toward the sender).
# A third middle, cforward -e (the node's epoll loop shape), is measured as a
# diagnostic: it separates the cost of the loop from the cost of the capsule
# path. Throughput is measured again with the sender sending runs of
# capsules as UDP_SEGMENT messages (capgen send -G), as an upstream anode
# node sends them: anode's middle takes them as GRO runs, cforward as the
# datagrams the kernel cuts them into. Then it runs bench/ee_bench (the EE
# alone), prints a table and replaces the "Overlay forwarding" section of
# bench/RESULTS.md.
#
# Usage: bench/overlay.sh [BUILD_DIR]   (default: build/ under the repository)
# Builds nothing. Environment: TRIALS (3), SECS (3), PINGS (5000),
# SIZES ("96 1400"), PIN (1: middle on CPU 1, end hosts on CPU 0; 0: no pinning).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
TRIALS=${TRIALS:-3}
SECS=${SECS:-3}
PINGS=${PINGS:-5000}
# 64 octets cannot hold a capsule: ANEP 8 + dst option 24 + hop limit option
# 8 + capsule header 56 = 96 with no data at all. 96 is the small size.
SIZES=${SIZES:-96 1400}
PIN=${PIN:-1}

ANODED=$BUILD/src/node/anoded
CAPGEN=$BUILD/bench/capgen
CFORWARD=$BUILD/bench/cforward
EE_BENCH=$BUILD/bench/ee_bench
FORWARD_AO=$BUILD/apps/forward.ao
for f in "$ANODED" "$CAPGEN" "$CFORWARD" "$EE_BENCH" "$FORWARD_AO" "$BUILD/bench/ee_bench_fwd.ao"; do
	[[ -e $f ]] || { echo "overlay.sh: $f missing; build first (ninja -C $BUILD)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/anode-overlay.XXXXXX)
PIDS=()
cleanup() {
	# Only what this script started, by PID.
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
# Forget a PID once it has been waited for, so that cleanup never signals a
# number the kernel may have handed to someone else since.
forget() {
	local keep=() pid
	for pid in "${PIDS[@]}"; do
		[[ $pid == "$1" ]] || keep+=("$pid")
	done
	PIDS=("${keep[@]}")
}
trap 'exit 130' INT TERM

if [[ $PIN == 1 ]]; then
	# Throughput: two cores, three busy processes. The middle, which is what
	# is measured, gets a core of its own; the end hosts share the other.
	MID_CPU=(taskset -c 1)
	END_CPU=(taskset -c 0)
	# Latency: with one capsule outstanding only one process runs at a time,
	# so all three share CPU 1. Split across cores, every hop is a
	# cross-CPU wakeup, which in this VM costs ~10 us and far more in the
	# tail: that measures the hypervisor, not the middle.
	LAT_CPU=(taskset -c 1)
else
	MID_CPU=()
	END_CPU=()
	LAT_CPU=()
fi

# Ports below the ephemeral range, random per run so that runs do not meet.
BASE=$((20000 + RANDOM % 9000))
A_ANODE=127.0.0.1:$BASE
A_CFWD=127.0.0.1:$((BASE + 1))
A_CFWDE=127.0.0.1:$((BASE + 2))
A_SEND=127.0.0.1:$((BASE + 3))
A_RECV=127.0.0.1:$((BASE + 4))
MIDDLES=(anode cforward cforward-e)
declare -A MID_ADDR=([anode]=$A_ANODE [cforward]=$A_CFWD [cforward-e]=$A_CFWDE)

kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1"; }

# Kernel drops on the sockets bound to a port (last column of /proc/net/udp*),
# to tell where the loss happens: at the middle or beyond it.
udp_drops() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$2 ~ p"$" { d += $NF } END { print d + 0 }' /proc/net/udp /proc/net/udp6
}

# Nanoseconds a process has spent on a CPU (first field of schedstat). The
# machine is shared and other work may take the middle's core for a while:
# capsules per CPU-second of the middle is the figure such noise moves least.
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }

# ---- the middles ----
cat >"$TMP/middle.conf" <<EOF
name middle
listen $A_ANODE
app-socket $TMP/middle.app
ctl-socket $TMP/middle.ctl
route $A_RECV $A_RECV
route $A_SEND $A_SEND
EOF
declare -A MID_PID
"${MID_CPU[@]}" "$ANODED" -q -f "$TMP/middle.conf" 2>"$TMP/anoded.log" &
PIDS+=($!)
MID_PID[anode]=$!
"${MID_CPU[@]}" "$CFORWARD" -l "$A_CFWD" -a "$A_SEND" -b "$A_RECV" 2>"$TMP/cforward.log" &
PIDS+=($!)
MID_PID[cforward]=$!
"${MID_CPU[@]}" "$CFORWARD" -e -l "$A_CFWDE" -a "$A_SEND" -b "$A_RECV" 2>"$TMP/cforward-e.log" &
PIDS+=($!)
MID_PID[cforward-e]=$!
for _ in $(seq 50); do
	[[ -S $TMP/middle.app ]] && break
	sleep 0.1
done
[[ -S $TMP/middle.app ]] || { echo "overlay.sh: anoded did not start:" >&2; cat "$TMP/anoded.log" >&2; exit 1; }
"$CAPGEN" insert -A "$TMP/middle.app" -c "$FORWARD_AO" >"$TMP/insert.out"
echo "forward.ao inserted into the anode middle: $(kv "$TMP/insert.out" inserted)"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ---- throughput ----
# One trial: receiver up, sender blasts, receiver stops 300 ms after the last
# capsule. Appends "sent_rate recv_rate loss mid_drops" to $TMP/tput.MID.SIZE.
tput_trial() { # middle size [runs]
	local mid=$1 size=$2 mport d0 d1 c0 c1 rpid gso=() out=$TMP/tput.$1.$2
	[[ ${3:-} == runs ]] && gso=(-G) out=$TMP/tput-runs.$1.$2
	mport=${MID_ADDR[$mid]##*:}
	d0=$(udp_drops "$mport")
	c0=$(cpu_ns "${MID_PID[$mid]}")
	"${END_CPU[@]}" "$CAPGEN" recv -l "$A_RECV" -s "$size" -i 300 -w 10 >"$TMP/recv.out" &
	rpid=$!
	PIDS+=($rpid)
	sleep 0.2
	"${END_CPU[@]}" "$CAPGEN" send -l "$A_SEND" -m "${MID_ADDR[$mid]}" -d "$A_RECV" -c "$FORWARD_AO" \
		-s "$size" -t "$SECS" "${gso[@]}" >"$TMP/send.out" 2>"$TMP/layout.$size"
	wait "$rpid"
	forget "$rpid"
	d1=$(udp_drops "$mport")
	c1=$(cpu_ns "${MID_PID[$mid]}")
	local sent srate recvd rrate
	sent=$(kv "$TMP/send.out" sent)
	srate=$(kv "$TMP/send.out" rate)
	recvd=$(kv "$TMP/recv.out" received)
	rrate=$(kv "$TMP/recv.out" rate)
	local per_cpu
	per_cpu=$(awk -v r="$recvd" -v ns="$((c1 - c0))" 'BEGIN { printf "%.0f", (ns > 0 ? r / (ns / 1e9) : 0) }')
	echo "$srate $rrate $(awk -v s="$sent" -v r="$recvd" 'BEGIN { printf "%.4f", s ? 1 - r / s : 0 }') $((d1 - d0)) $per_cpu" \
		>>"$out"
	printf '  %-10s %5s B  trial%s  sent %8s/s  received %8s/s  %8s per middle CPU-s  (%s of %s; %s dropped at the middle)\n' \
		"$mid" "$size" "${3:+ ($3)}" "$srate" "$rrate" "$per_cpu" "$recvd" "$sent" "$((d1 - d0))"
}

# ---- latency ----
ping_run() {
	local mid=$1 size=$2 epid
	"${LAT_CPU[@]}" "$CAPGEN" echo -l "$A_RECV" -m "${MID_ADDR[$mid]}" -d "$A_SEND" 2>/dev/null &
	epid=$!
	PIDS+=($epid)
	sleep 0.2
	"${LAT_CPU[@]}" "$CAPGEN" ping -l "$A_SEND" -m "${MID_ADDR[$mid]}" -d "$A_RECV" -c "$FORWARD_AO" \
		-s "$size" -n "$PINGS" -W 500 >"$TMP/ping.out" 2>/dev/null
	kill "$epid"
	wait "$epid" 2>/dev/null || true
	forget "$epid"
	echo "$(kv "$TMP/ping.out" median_us) $(kv "$TMP/ping.out" p99_us) $(kv "$TMP/ping.out" lost)" \
		>>"$TMP/ping.$mid.$size"
	printf '  %-10s %5s B  ping   median %s us  p99 %s us  lost %s\n' "$mid" "$size" \
		"$(kv "$TMP/ping.out" median_us)" "$(kv "$TMP/ping.out" p99_us)" "$(kv "$TMP/ping.out" lost)"
}

RUN_MIDDLES=(anode cforward)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
for size in $SIZES; do
	echo "size $size:"
	for t in $(seq "$TRIALS"); do
		# Rotate the order each trial, so that no middle always runs
		# first (cold) or right after another's backlog.
		for i in 0 1 2; do
			tput_trial "${MIDDLES[$(((i + t) % 3))]}" "$size"
		done
	done
	for t in $(seq "$TRIALS"); do
		for i in 0 1; do
			tput_trial "${RUN_MIDDLES[$(((i + t) % 2))]}" "$size" runs
		done
	done
	# A ping run is short (PINGS x ~15 us), so it is repeated TRIALS times
	# too: the median of the runs' medians and p99s resists a co-tenant's burst.
	for t in $(seq "$TRIALS"); do
		for i in 0 1 2; do
			ping_run "${MIDDLES[$(((i + t) % 3))]}" "$size"
		done
	done
done

"$BUILD/tools/anode" -n "$TMP/middle.app" stats >"$TMP/anode.stats" 2>&1 || true
EE_OUT=$("$EE_BENCH" "$BUILD/bench/ee_bench_fwd.ao" 2>&1)
END=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ----
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
TABLE=$TMP/table.md
{
	echo "| size (B) | data (B) | middle | sender (cap/s) | received (cap/s) | loss | received per middle CPU-s | middle CPU per capsule (µs) | RTT median (µs) | RTT p99 (µs) |"
	echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		data=$(sed -n 's/.* + \([0-9]*\) of data/\1/p' "$TMP/layout.$size")
		for mid in "${MIDDLES[@]}"; do
			f=$TMP/tput.$mid.$size
			pc=$(col 5 "$f")
			printf '| %s | %s | %s | %.0f | %.0f | %.1f %% | %.0f | %s | %s | %s |\n' "$size" "$data" "$mid" \
				"$(col 1 "$f")" "$(col 2 "$f")" "$(awk '{ print $3 * 100 }' "$f" | median)" "$pc" \
				"$(awk -v p="$pc" 'BEGIN { printf "%.3f", (p > 0 ? 1e6 / p : 0) }')" \
				"$(col 1 "$TMP/ping.$mid.$size")" "$(col 2 "$TMP/ping.$mid.$size")"
		done
	done
	echo
	echo "| size (B) | received rate anode/cforward (target ≥ 0.8) | per middle CPU-s anode/cforward | RTT median anode/cforward (target ≤ 1.2) | RTT p99 anode/cforward | rate anode/cforward-e | RTT median anode/cforward-e |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		awk -v s="$size" \
			-v ra="$(col 2 "$TMP/tput.anode.$size")" -v rc="$(col 2 "$TMP/tput.cforward.$size")" \
			-v re="$(col 2 "$TMP/tput.cforward-e.$size")" \
			-v ca="$(col 5 "$TMP/tput.anode.$size")" -v cc="$(col 5 "$TMP/tput.cforward.$size")" \
			-v la="$(col 1 "$TMP/ping.anode.$size")" -v lc="$(col 1 "$TMP/ping.cforward.$size")" \
			-v le="$(col 1 "$TMP/ping.cforward-e.$size")" \
			-v pa="$(col 2 "$TMP/ping.anode.$size")" -v pc="$(col 2 "$TMP/ping.cforward.$size")" \
			'BEGIN { printf "| %s | %.2f%s | %.2f | %.2f%s | %.2f | %.2f | %.2f |\n", s,
				ra / rc, (ra / rc >= 0.795 ? "" : " (missed)"), ca / cc,
				la / lc, (la / lc < 1.205 ? "" : " (missed)"), pa / pc, ra / re, la / le }'
	done
	echo
	echo "The sender sending runs of capsules as UDP_SEGMENT messages (capgen send -G), as an upstream anode"
	echo "node does: anode's middle takes GRO runs, cforward the datagrams the kernel cuts them into."
	echo
	echo "| size (B) | anode: received (cap/s) | anode: per middle CPU-s | cforward: received (cap/s) | cforward: per middle CPU-s | per middle CPU-s anode/cforward (target ≥ 1.5) |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		printf '| %s | %.0f | %.0f | %.0f | %.0f | %s |\n' "$size" "$(col 2 "$TMP/tput-runs.anode.$size")" \
			"$(col 5 "$TMP/tput-runs.anode.$size")" "$(col 2 "$TMP/tput-runs.cforward.$size")" \
			"$(col 5 "$TMP/tput-runs.cforward.$size")" \
			"$(awk -v a="$(col 5 "$TMP/tput-runs.anode.$size")" -v c="$(col 5 "$TMP/tput-runs.cforward.$size")" \
				'BEGIN { printf "%.2f", (c > 0 ? a / c : 0) }')"
	done
} >"$TABLE"

echo
cat "$TABLE"
echo
echo "$EE_OUT"
echo "(measured in $((END - START)) s)"

# ---- bench/RESULTS.md ----
RESULTS=$ROOT/bench/RESULTS.md
SECTION=$TMP/section.md
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "<!-- overlay:begin (written by bench/overlay.sh; edit outside these markers) -->"
	echo "## Overlay forwarding: anode forward.ao vs. a C forwarder (issue 2)"
	echo
	echo "PAN's experiment (seed 003 §5.1-5.3) on one machine: sender → middle →"
	echo "receiver over loopback UDP. The middle is \`anoded\` with \`apps/forward.ao\`"
	echo "inserted (user/active), \`bench/cforward\` (user/cforw: blocking"
	echo "recvmmsg + sendmmsg, 32 per batch, 4 MiB socket buffers, as src/link/udp.c),"
	echo "or \`cforward -e\` (same relay in anoded's loop shape: epoll, then"
	echo "non-blocking recvmmsg rounds until EAGAIN; a diagnostic, not the baseline)."
	echo "End hosts are \`bench/capgen\`; every middle carries the same capsule bytes."
	echo
	echo "- command: \`bench/overlay.sh ${1:-build}\` (TRIALS=$TRIALS SECS=$SECS PINGS=$PINGS SIZES=\"$SIZES\" PIN=$PIN)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: nproc $(nproc), kernel $(uname -r), ${CPU:-unknown CPU}; load average"
	echo "  before/after: $LOAD0 / $LOAD1 (the machine is shared: other work ran alongside)"
	if [[ $PIN == 1 ]]; then
		echo "- pinning (the same for every middle): throughput with the middle on CPU 1 and"
		echo "  sender + receiver on CPU 0; latency with middle, pinger and echo all on CPU 1"
		echo "  (one process runs at a time; cross-CPU wakeups in this VM add ~10 µs per hop)"
	else
		echo "- pinning: none"
	fi
	echo "- sizes are the whole UDP payload; 64 B cannot hold a capsule (ANEP 8 + dst"
	echo "  option 24 + hop limit option 8 + capsule header 56 = 96 B with no data), so the"
	echo "  small size is the smallest forwardable capsule, 96 B with 0 B of data."
	echo "- throughput: sender blasts for ${SECS} s with sendmmsg (32 per call) on a"
	echo "  connected socket; median of $TRIALS interleaved trials, each column on its own."
	echo "  Loss = 1 - received/sent, almost all of it at the middle's socket. Received per"
	echo "  middle CPU-s = received / CPU time the middle got (/proc/PID/schedstat)."
	echo "- latency: $PINGS round trips after 500 warm-up, one outstanding, median of"
	echo "  $TRIALS interleaved runs' medians and p99s; the receiver"
	echo "  answers each capsule with a new capsule toward the sender, so each round trip"
	echo "  crosses the middle twice."
	echo
	cat "$TABLE"
	echo
	echo "EE alone (\`ee_bench ee_bench_fwd.ao\`, target < 100 ns per capsule):"
	echo
	echo '```'
	echo "$EE_OUT"
	echo '```'
	echo "<!-- overlay:end -->"
} >"$SECTION"

results_section "$RESULTS" overlay "$SECTION"
