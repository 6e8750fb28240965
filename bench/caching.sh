#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Issue 21's measurements of the caching service for a mobile host
# (services/cache.c, docs/apps/caching.md): GStreamer's RTSP server on h
# (10.77.1.2) streams a live tone, one RTP packet every 20 ms, to a client
# on c (10.77.2.2) across an anode router m (three network namespaces of
# this run). Each trial is a new session (tests/lab/rtsp_ctl.c, its RTP
# counted by tests/lab/rtp_recv.py); after 1 s c's link goes down for D
# seconds and comes back; 1.5 s later the receiver says which sequence
# numbers it missed. Three ways, rotating within each round:
#   none    no service: what the kernel alone does (its neighbour queue
#           holds some of what comes while c is away)
#   pause   anode-cache, pause=yes: PAUSE while away, replay, PLAY
#   keep    anode-cache, pause=no: keeps the stream while away, replays
# Figures: packets missed (median over rounds) per absence and way, the
# ratio to none in the same round; the time from c's link going to the
# service's filter being in (the service's own figure: event to filter
# result) and from its link coming back to the service hearing it; and the
# service's memory (its cgroup's usage, idle and at most).
#
# Usage: bench/caching.sh [BUILD_DIR]   (root; writes bench/RESULTS.md)
# Environment: ROUNDS=3 ABSENCES="1 2 5"
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
ABSENCES=${ABSENCES:-"1 2 5"}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"
[[ $BUILD = /* ]] || BUILD=$TOP/$BUILD
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
CACHE=$BUILD/services/anode-cache
RTSP_CTL=$BUILD/tests/lab/rtsp_ctl
[ "$(id -u)" = 0 ] || { echo "caching.sh: needs root (namespaces, router mode)" >&2; exit 1; }
for f in "$ANODE" "$ANODED" "$CACHE" "$RTSP_CTL"; do
	[[ -x $f ]] || { echo "caching.sh: $f missing (build first: ninja -C $BUILD)" >&2; exit 1; }
done
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null ||
	{ echo "caching.sh: GStreamer's RTSP server bindings missing (scripts/deps.sh)" >&2; exit 1; }

run=$$
S=an-bc-$run-h M=an-bc-$run-m R=an-bc-$run-c
TMP=$(mktemp -d /tmp/anode-bench-cache.XXXXXX)
chmod 755 "$TMP"
PIDS=()
finish() {
	set +e
	mid_stop
	rm -rf "$TMP"
}
trap finish EXIT
mid_net_up
ip netns exec "$R" sysctl -qw net.ipv4.conf.eth0.arp_notify=1
install -m 755 "$CACHE" "$TMP/anode-cache"
"$ANODE" key gen -o "$TMP/alice.key" >"$TMP/alice.pub"
cat >"$TMP/policy" <<POL
user alice $(cat "$TMP/alice.pub")
service cache program $TMP/anode-cache
allow alice service cache
allow alice filter 10.77.1.2/32 proto tcp ports 8554
allow alice filter 10.77.2.2/32 proto tcp
allow alice filter 10.77.2.2/32 proto udp ports 5000-5999
POL
mid_router bc
ip netns exec "$S" /usr/bin/python3 "$TOP/tests/lab/rtsp_server.py" 10.77.1.2 8554 "$TMP/requests" \
	>"$TMP/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$TMP/server.out" && break; sleep 0.1; done

as_alice=(--key "$TMP/alice.key" --user alice)
active=""
use() { # none | pause | keep
	if [[ $1 == none && -n $active ]]; then
		"$ANODE" -n "$TMP/n.app" svc stop cache "${as_alice[@]}" >/dev/null
		active=""
		sleep 0.5
	elif [[ $1 != none && -z $active ]]; then
		"$ANODE" -n "$TMP/n.app" svc activate cache server=10.77.1.2:8554 client=10.77.2.2 store=4M \
			"${as_alice[@]}" >/dev/null
		active=yes
		sleep 0.5
	fi
	if [[ $1 != none ]]; then
		"$ANODE" -n "$TMP/n.app" svc param cache pause=$([[ $1 == pause ]] && echo yes || echo no) \
			"${as_alice[@]}" >/dev/null
	fi
}
port=5000
# One trial: prints the packets the client missed.
trial() { # way absence
	port=$((port + 2))
	local rtp=$TMP/rtp.$port
	ip netns exec "$R" /usr/bin/python3 "$TOP/tests/lab/rtp_recv.py" $port "$rtp" >"$rtp.report" &
	local recv=$!
	ip netns exec "$R" "$RTSP_CTL" open rtsp://10.77.1.2:8554/test $port >"$rtp.open" &
	local ctl=$!
	sleep 1
	local backs
	backs=$(grep -c 'cache: client back after' "$TMP/node.log" || true)
	ip -n "$R" link set eth0 down
	sleep "$2"
	ip -n "$R" link set eth0 up
	local up=$EPOCHREALTIME
	ip -n "$R" route replace default via 10.77.2.1
	if [[ $1 != none ]]; then
		for _ in $(seq 300); do
			[[ $(grep -c 'cache: client back after' "$TMP/node.log" || true) -gt $backs ]] && break
			sleep 0.01
		done
		awk -v a="$up" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }' >>"$TMP/back.$1"
	fi
	sleep 1.5
	kill "$recv" "$ctl" 2>/dev/null
	wait "$recv" "$ctl" 2>/dev/null || true
	local session
	session=$(sed -n 's/^session=\([^ ]*\).*/\1/p' "$rtp.open")
	[[ -n $session ]] && ip netns exec "$R" "$RTSP_CTL" send TEARDOWN rtsp://10.77.1.2:8554/test "$session" \
		>/dev/null 2>&1 || true
	sed -n 's/.* missing=\([0-9]*\) .*/\1/p' "$rtp.report"
}

ways=(none pause keep)
for ((round = 0; round < ROUNDS; round++)); do
	for d in $ABSENCES; do
		for ((k = 0; k < 3; k++)); do
			w=${ways[$(((round + k) % 3))]}
			use "$w"
			m=$(trial "$w" "$d")
			echo "$round $d $w ${m:-999}" | tee -a "$TMP/trials"
			if [[ $w != none ]]; then
				cg=$(sed -n 's/.*service cache for alice started: .* cgroup \(anode\/[^ ]*\) .*/\1/p' "$TMP/node.log" | tail -1)
				cat "/sys/fs/cgroup/memory/$cg/memory.max_usage_in_bytes" >>"$TMP/mem.max" 2>/dev/null || true
			fi
		done
	done
done
use pause
sleep 2
cg=$(sed -n 's/.*service cache for alice started: .* cgroup \(anode\/[^ ]*\) .*/\1/p' "$TMP/node.log" | tail -1)
idle_kb=$(($(cat "/sys/fs/cgroup/memory/$cg/memory.usage_in_bytes") / 1024))
max_kb=$(($(sort -n "$TMP/mem.max" | tail -1) / 1024))
filter_ms=$(sed -n 's/.*cache: awake: filter [0-9]* installed \([0-9.]*\) ms after.*/\1/p' "$TMP/node.log" | median)
back_ms=$(cat "$TMP/back.pause" "$TMP/back.keep" | median)

section=$TMP/section
{
	echo "<!-- caching:begin (written by bench/caching.sh; edit outside these markers) -->"
	echo "## The caching service for a mobile host (issue 21)"
	echo
	echo "\`sudo bench/caching.sh\` (ROUNDS=$ROUNDS), $(date -u +%Y-%m-%d), $(nproc) CPUs."
	echo "GStreamer's RTSP server on h streams one RTP packet every 20 ms to a client on c"
	echo "across an anode router; in each trial (a new session) c's link goes down for the"
	echo "absence and comes back (c announces itself: arp_notify), and the client's receiver"
	echo "counts the sequence numbers it never got. none: no service (the kernel's neighbour"
	echo "queue alone); pause: anode-cache, PAUSE while away then replay and PLAY; keep:"
	echo "anode-cache, pause=no. Packets missed, median of the rounds; x none: the median of"
	echo "the rounds' ratios (with none's 0 taken as 1)."
	echo
	echo "| absence | none | pause | x none | keep | x none |"
	echo "|---|---:|---:|---:|---:|---:|"
	for d in $ABSENCES; do
		row="| $d s"
		for w in none pause keep; do
			v=$(awk -v d="$d" -v w="$w" '$2 == d && $3 == w { print $4 }' "$TMP/trials" | median)
			row="$row | $v"
			if [[ $w != none ]]; then
				x=$(awk -v d="$d" -v w="$w" '$2 == d && $3 == "none" { n[$1] = $4 } $2 == d && $3 == w { m[$1] = $4 }
					END { for (r in m) print m[r] / (n[r] > 0 ? n[r] : 1) }' "$TMP/trials" | median)
				row="$row | $(printf '%.2f' "$x")"
			fi
		done
		echo "$row |"
	done
	echo
	echo "From c's link going down to the service's filter being in (the service's figure:"
	echo "the presence event to the filter's result): median $filter_ms ms (target 10 ms)."
	echo "From c's link coming back up to the service saying so: median $back_ms ms."
	echo "The service's memory (its cgroup: the program, its sandbox's bwrap, what it keeps):"
	echo "$idle_kb kB idle, at most $max_kb kB over the trials."
	echo "<!-- caching:end -->"
} >"$section"
cat "$section"
results_section "$HERE/RESULTS.md" caching "$section"
