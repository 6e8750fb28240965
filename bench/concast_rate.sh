#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Concast merge rate at one node (issue 10), overlay nodes on loopback:
#   ccgen (N upstream neighbours) -> M (merges, counting merge) -> R (receiver)
# for N = 1, 10 and 1000, against the same node's plain capsule forwarding
# (capgen -> M running forward.ao -> capgen), in the same run. Each figure
# is messages M took per second of M's CPU time (schedstat), the measure a
# co-tenant's bursts move least, and per wall-clock second.
# Then the receiving host's CPU (R's node and the listening application)
# per delivered message: with merging in the network (ccgen -> M -> R) and
# without (ccgen -> R: R's node merges the N streams itself), N = 10.
#
# Usage: bench/concast_rate.sh [BUILD_DIR]   Environment: SECS (3), PIN (1).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SECS=${SECS:-3}
PIN=${PIN:-1}
ANODED=$BUILD/src/node/anoded
ANODE=$BUILD/tools/anode
CCGEN=$BUILD/bench/ccgen
CAPGEN=$BUILD/bench/capgen
for f in "$ANODED" "$ANODE" "$CCGEN" "$CAPGEN" "$BUILD/apps/count.ao" "$BUILD/apps/forward.ao"; do
	[[ -e $f ]] || { echo "concast_rate.sh: $f missing; build first" >&2; exit 1; }
done
MID_CPU=() END_CPU=()
if [[ $PIN == 1 ]] && command -v taskset >/dev/null; then
	MID_CPU=(taskset -c 1)
	END_CPU=(taskset -c 0)
fi
TMP=$(mktemp -d /tmp/anode-ccrate.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
P=$((20000 + RANDOM % 20000))
A_M=127.0.0.1:$P A_R=127.0.0.1:$((P + 1)) A_S=127.0.0.1:$((P + 2)) A_D=127.0.0.1:$((P + 3))
A_GEN=127.0.0.1:$((P + 10))
G=198.18.0.1
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
kv() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
node() { # name listen routes...
	local name=$1 listen=$2
	shift 2
	{
		echo "name $name"
		echo "listen $listen"
		echo "app-socket $TMP/$name.app"
		echo "ctl-socket $TMP/$name.ctl"
		echo "concast-upstream 1024"
		for r in "$@"; do echo "route $r $r"; done
	} >"$TMP/$name.conf"
}
node m "$A_M" "$A_R" "$A_S" "$A_D"
node r "$A_R" "$A_M"
"${MID_CPU[@]}" "$ANODED" -q -f "$TMP/m.conf" 2>"$TMP/m.log" &
PIDS+=($!)
M_PID=$!
"${END_CPU[@]}" "$ANODED" -q -f "$TMP/r.conf" 2>"$TMP/r.log" &
PIDS+=($!)
R_PID=$!
for _ in $(seq 50); do [[ -S $TMP/m.app && -S $TMP/r.app ]] && break; sleep 0.1; done
stat() { "$ANODE" -n "$TMP/$1.app" stats --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d$2)"; }

# The receiver: one flow per run (app id = run), counting merge.
listen() { # app
	# --out: the application only appends each message to a file, so that
	# what is measured is the receiving node's work.
	"${END_CPU[@]}" "$ANODE" -n "$TMP/r.app" concast listen $G "$1" "$BUILD/apps/count.ao" --out "$TMP/l.$1" &
	PIDS+=($!)
	L_PID=$!
	for _ in $(seq 50); do
		"$ANODE" -n "$TMP/r.app" concast flows 2>/dev/null | grep -q "app $1: ready" && break
		sleep 0.05
	done
}

merge_run() { # n app via
	local n=$1 app=$2 via=$3 m0 c0 m1 c1
	listen "$app"
	m0=$(stat m "['concast']['messages']")
	c0=$(cpu_ns "$M_PID")
	"${END_CPU[@]}" "$CCGEN" -l "$A_GEN" -m "$via" -g $G -r "$A_R" -a "$app" -n "$n" -t "$SECS" >"$TMP/gen.$app"
	sleep 0.3
	m1=$(stat m "['concast']['messages']")
	c1=$(cpu_ns "$M_PID")
	kill "$L_PID"; wait "$L_PID" 2>/dev/null || true
	local msgs=$((m1 - m0)) secs
	secs=$(kv "$TMP/gen.$app" seconds)
	awk -v m="$msgs" -v ns="$((c1 - c0))" -v s="$secs" -v n="$n" \
		'BEGIN { printf "%d %.0f %.0f\n", n, m / s, (ns > 0 ? m / (ns / 1e9) : 0) }' >>"$TMP/merge"
	printf '  concast N=%-5s %9d messages at M  %9.0f /s  %9.0f per M CPU-s\n' "$n" "$msgs" \
		"$(awk -v m="$msgs" -v s="$secs" 'BEGIN { print m / s }')" \
		"$(awk -v m="$msgs" -v ns="$((c1 - c0))" 'BEGIN { print (ns > 0 ? m / (ns / 1e9) : 0) }')"
}

capsule_run() {
	local f0 c0 f1 c1 rp
	"${END_CPU[@]}" "$CAPGEN" recv -l "$A_D" -i 300 -w 10 >"$TMP/crecv" &
	rp=$!
	PIDS+=($rp)
	sleep 0.2
	f0=$(stat m "['counters']['forwarded']")
	c0=$(cpu_ns "$M_PID")
	"${END_CPU[@]}" "$CAPGEN" send -l "$A_S" -m "$A_M" -d "$A_D" -c "$BUILD/apps/forward.ao" -s 96 -t "$SECS" \
		>"$TMP/csend" 2>/dev/null
	wait "$rp" || true
	f1=$(stat m "['counters']['forwarded']")
	c1=$(cpu_ns "$M_PID")
	local fw=$((f1 - f0))
	awk -v m="$fw" -v ns="$((c1 - c0))" -v s="$SECS" \
		'BEGIN { printf "%.0f %.0f\n", m / s, (ns > 0 ? m / (ns / 1e9) : 0) }' >>"$TMP/capsule"
	printf '  capsules (96 B)  %9d forwarded by M  %9.0f /s  %9.0f per M CPU-s\n' "$fw" \
		"$(awk -v m="$fw" -v s="$SECS" 'BEGIN { print m / s }')" \
		"$(awk -v m="$fw" -v ns="$((c1 - c0))" 'BEGIN { print (ns > 0 ? m / (ns / 1e9) : 0) }')"
}

"$CAPGEN" insert -A "$TMP/m.app" -c "$BUILD/apps/forward.ao" >/dev/null
echo "merge rate at M against its capsule forwarding, ${SECS} s each:"
app=1
for round in 1 2; do
	capsule_run
	for n in 1 10 1000; do
		merge_run "$n" "$app" "$A_M"
		app=$((app + 1))
	done
done

# Receiver CPU per delivered message, N = 10: merged at M, or at R itself.
rx_run() { # app via label
	local app=$1 via=$2 d0 c0 d1 c1
	listen "$app"
	d0=$(stat r "['concast']['delivered']")
	c0=$(($(cpu_ns "$R_PID") + $(cpu_ns "$L_PID")))
	"${END_CPU[@]}" "$CCGEN" -l "$A_GEN" -m "$via" -g $G -r "$A_R" -a "$app" -n 10 -t "$SECS" >/dev/null
	sleep 0.3
	d1=$(stat r "['concast']['delivered']")
	c1=$(($(cpu_ns "$R_PID") + $(cpu_ns "$L_PID")))
	kill "$L_PID"; wait "$L_PID" 2>/dev/null || true
	local d=$((d1 - d0))
	echo "$3 $d $(awk -v ns="$((c1 - c0))" -v d="$d" 'BEGIN { printf "%.2f", d ? ns / d / 1000 : 0 }')" >>"$TMP/rx"
	printf '  %-22s %8d merged messages delivered, %6.2f us of receiver CPU each\n' "$3" "$d" \
		"$(awk -v ns="$((c1 - c0))" -v d="$d" 'BEGIN { print d ? ns / d / 1000 : 0 }')"
}
echo "receiving host CPU (R's node + the application) per delivered message, N = 10:"
rx_run 100 "$A_M" "merged in the network"
rx_run 101 "$A_R" "merged at the receiver"

# Summary: medians of the two rounds (per CPU-s), ratios to capsule forwarding.
/usr/bin/python3 - "$TMP/merge" "$TMP/capsule" "$TMP/rx" <<'EOF' | tee "$TMP/summary"
import statistics, sys
merge = [l.split() for l in open(sys.argv[1])]
cap = [l.split() for l in open(sys.argv[2])]
rx = {l.split()[0] + ' ' + l.split()[1] + ' ' + l.split()[2] + ' ' + l.split()[3]: l.split() for l in open(sys.argv[3])}
c_wall = statistics.median(float(c[0]) for c in cap)
c_cpu = statistics.median(float(c[1]) for c in cap)
print("\n| at M | messages/s | per M CPU-s | ratio to capsule forwarding (per CPU-s) |")
print("|---|---|---|---|")
print("| capsule forwarding (forward.ao, 96 B) | %.0f | %.0f | 1.00 |" % (c_wall, c_cpu))
for n in ('1', '10', '1000'):
    rows = [m for m in merge if m[0] == n]
    w = statistics.median(float(m[1]) for m in rows)
    c = statistics.median(float(m[2]) for m in rows)
    print("| concast, counting merge, %s upstream | %.0f | %.0f | %.2f |" % (n, w, c, c / c_cpu))
r = [l.split() for l in open(sys.argv[3])]
net = float(r[0][-1]); recv = float(r[1][-1])
print("\nreceiving host CPU per delivered message, N = 10: %.2f us merged in the network, %.2f us merged at the receiver (ratio %.2f)" % (net, recv, recv / net if net else 0))
EOF
. "$ROOT/bench/lib.sh"
{
	echo "<!-- concast-rate:begin (written by bench/concast_rate.sh; edit outside these markers) -->"
	echo "## Concast: merges per second at one node, receiver CPU (issue 10)"
	echo
	echo "\`bench/concast_rate.sh\` (SECS=$SECS, PIN=$PIN) on $(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Overlay nodes on loopback: ccgen's N upstream neighbours send the counting merge's"
	echo "messages (92-octet packets) to M, which merges them toward R; the baseline is M forwarding"
	echo "96-octet capsules with forward.ao, in the same run. Medians of two rounds."
	cat "$TMP/summary"
	echo "<!-- concast-rate:end -->"
} >"$TMP/section"
results_section "$ROOT/bench/RESULTS.md" concast-rate "$TMP/section"
