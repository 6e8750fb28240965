#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Issue 21's measurements of the adaptation service (services/adapt.c,
# docs/apps/adapt.md): ffmpeg on h (10.77.1.2) streams 12 s of a test
# pattern as MPEG-TS over UDP to c (10.77.2.2) across an anode router m,
# in two encodings (3 Mbit/s 640x360 under PID 0x100, 300 kbit/s 320x180
# under PID 0x101), and records what it sends (its tee muxer). m's link to
# c is shaped by tc at 10 Mbit/s, lowered to 1 Mbit/s from 3 s to 8 s.
# Two ways, alternating within each round:
#   none    no service
#   adapt   anode-adapt, rate=4000000 keep=0x101
# Figures (medians over rounds): packets of each encoding lost (sent less
# received), the frames of the low encoding ffmpeg decodes from what c
# got (of 300) and the error lines its decoder prints, the ratio of adapt's
# figures to none's in the same round; the time from the capacity event to
# the filter (the service's own figure); the service's memory (its
# cgroup's usage).
#
# Usage: bench/adapt.sh [BUILD_DIR]   (root; writes bench/RESULTS.md)
# Environment: ROUNDS=3
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"
[[ $BUILD = /* ]] || BUILD=$TOP/$BUILD
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
ADAPT=$BUILD/services/anode-adapt
[ "$(id -u)" = 0 ] || { echo "adapt.sh: needs root (namespaces, router mode)" >&2; exit 1; }
for f in "$ANODE" "$ANODED" "$ADAPT"; do
	[[ -x $f ]] || { echo "adapt.sh: $f missing (build first: ninja -C $BUILD)" >&2; exit 1; }
done
for t in ffmpeg tc bwrap; do command -v $t >/dev/null || { echo "adapt.sh: $t missing" >&2; exit 1; }; done

run=$$
S=an-ba-$run-h M=an-ba-$run-m R=an-ba-$run-c
TMP=$(mktemp -d /tmp/anode-bench-adapt.XXXXXX)
chmod 755 "$TMP"
PIDS=()
finish() {
	set +e
	mid_stop
	rm -rf "$TMP"
}
trap finish EXIT
mid_net_up
shape() { tc -n "$M" qdisc "$1" dev m1 root tbf rate "$2" burst 32kbit latency 300ms; }
shape add 10mbit
install -m 755 "$ADAPT" "$TMP/anode-adapt"
"$ANODE" key gen -o "$TMP/alice.key" >"$TMP/alice.pub"
cat >"$TMP/policy" <<POL
user alice $(cat "$TMP/alice.pub")
service adapt program $TMP/anode-adapt
allow alice service adapt
allow alice filter 10.77.2.2/32 proto udp ports 6000
POL
mid_router ba
as_alice=(--key "$TMP/alice.key" --user alice)

count() { awk -v p="pid=$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$3"; }
# One run: prints "lost_low lost_high frames_low error_lines".
trial() { # name
	local f=$TMP/$1
	ip netns exec "$R" /usr/bin/python3 "$TOP/tests/lab/ts_recv.py" 6000 "$f.ts" >"$f.report" &
	local recv=$!
	sleep 0.3
	ip netns exec "$S" ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i testsrc=size=640x360:rate=25 \
		-t 12 -filter_complex "[0:v]split=2[a][b];[b]scale=320:180[b2]" -map "[a]" -map "[b2]" -c:v mpeg2video \
		-b:v:0 3M -minrate:v:0 3M -maxrate:v:0 3M -bufsize:v:0 1M \
		-b:v:1 300k -minrate:v:1 300k -maxrate:v:1 300k -bufsize:v:1 200k -g 12 \
		-f tee "[f=mpegts]udp\\://10.77.2.2\\:6000?pkt_size=1316|[f=mpegts]$f.sent.ts" &
	local send=$!
	sleep 3
	shape change 1mbit
	sleep 5
	shape change 10mbit
	wait "$send"
	sleep 0.5
	kill "$recv"
	wait "$recv" 2>/dev/null || true
	/usr/bin/python3 "$TOP/tests/lab/ts_recv.py" --count "$f.sent.ts" >"$f.sent"
	local frames errors
	frames=$(ffprobe -v quiet -select_streams i:0x101 -count_frames -show_entries stream=nb_read_frames \
		-of default=nw=1:nk=1 "$f.ts" 2>/dev/null | head -1)
	errors=$(ffmpeg -nostdin -v error -i "$f.ts" -map 0:i:0x101 -f null - 2>&1 | wc -l)
	echo "$(($(count 0x101 packets "$f.sent") - $(count 0x101 packets "$f.report"))) \
$(($(count 0x100 packets "$f.sent") - $(count 0x100 packets "$f.report"))) ${frames:-0} $errors"
}

for ((round = 0; round < ROUNDS; round++)); do
	for ((k = 0; k < 2; k++)); do
		if (((round + k) % 2 == 0)); then
			w=none
		else
			w=adapt
			"$ANODE" -n "$TMP/n.app" svc activate adapt dev=m1 dst=10.77.2.2 port=6000 rate=4000000 keep=0x101 \
				"${as_alice[@]}" >/dev/null
			sleep 0.5
		fi
		echo "$round $w $(trial "$w.$round")" | tee -a "$TMP/trials"
		if [[ $w == adapt ]]; then
			cg=$(sed -n 's/.*service adapt for alice started: .* cgroup \(anode\/[^ ]*\) .*/\1/p' "$TMP/node.log" | tail -1)
			cat "/sys/fs/cgroup/memory/$cg/memory.max_usage_in_bytes" >>"$TMP/mem.max" 2>/dev/null || true
			cat "/sys/fs/cgroup/memory/$cg/memory.usage_in_bytes" >>"$TMP/mem.now" 2>/dev/null || true
			"$ANODE" -n "$TMP/n.app" svc stop adapt "${as_alice[@]}" >/dev/null
			sleep 0.5
		fi
	done
done
filter_ms=$(sed -n 's/.*adapt: awake: filter [0-9]* installed \([0-9.]*\) ms after the event.*/\1/p' "$TMP/node.log" | median)
now_kb=$(($(sort -n "$TMP/mem.now" | tail -1) / 1024))
max_kb=$(($(sort -n "$TMP/mem.max" | tail -1) / 1024))
med() { awk -v w="$1" -v c="$2" '$2 == w { print $c }' "$TMP/trials" | median; }
# adapt / none within each round, for column c (none's 0 taken as 1)
x() { awk -v c="$1" '$2 == "none" { n[$1] = $c } $2 == "adapt" { a[$1] = $c }
	END { for (r in a) print a[r] / (n[r] > 0 ? n[r] : 1) }' "$TMP/trials" | median; }

section=$TMP/section
{
	echo "<!-- adapt:begin (written by bench/adapt.sh; edit outside these markers) -->"
	echo "## The adaptation service (issue 21)"
	echo
	echo "\`sudo bench/adapt.sh\` (ROUNDS=$ROUNDS), $(date -u +%Y-%m-%d), $(nproc) CPUs."
	echo "ffmpeg streams 12 s of MPEG-TS in two encodings (3 Mbit/s under PID 0x100, 300 kbit/s"
	echo "under 0x101) across an anode router whose link to the receiver tc shapes at 10 Mbit/s,"
	echo "1 Mbit/s from 3 s to 8 s. none: no service; adapt: anode-adapt keeping 0x101 while the"
	echo "link is slower than 4 Mbit/s. Lost: packets sent (ffmpeg's own record) less received;"
	echo "frames: those of the low encoding ffprobe decodes from what the receiver got (300 sent);"
	echo "errors: the lines ffmpeg's decoder prints for it. Medians of the rounds; x none: the"
	echo "median of the rounds' ratios."
	echo
	echo "| | none | adapt | x none |"
	echo "|---|---:|---:|---:|"
	echo "| low encoding (300 kbit/s) packets lost | $(med none 3) | $(med adapt 3) | $(printf '%.2f' "$(x 3)") |"
	echo "| high encoding (3 Mbit/s) packets lost (adapt cuts them on purpose) | $(med none 4) | $(med adapt 4) | $(printf '%.2f' "$(x 4)") |"
	echo "| low encoding frames decoded | $(med none 5) | $(med adapt 5) | $(printf '%.2f' "$(x 5)") |"
	echo "| decoder error lines, low encoding | $(med none 6) | $(med adapt 6) | $(printf '%.2f' "$(x 6)") |"
	echo
	echo "From the capacity event to the filter (the service's figure): median $filter_ms ms"
	echo "(target 10 ms). The service's memory (its cgroup): $now_kb kB after a run, at most"
	echo "$max_kb kB."
	echo "<!-- adapt:end -->"
} >"$section"
cat "$section"
results_section "$HERE/RESULTS.md" adapt "$section"
