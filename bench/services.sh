#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Issue 9's measurements, in the spirit of seed 000 Fig. 4 and seed 004
# Fig. 12/14: a flow crossing a middle m between a sender s and a receiver r
# (three network namespaces of this run), with m
#   kernel   an anode router with no service: the flow stays in the kernel
#   asleep   the same with a proactive service activated and asleep
#            (subscribed to a monitor, no filter): seed 000's claim is that
#            this costs nothing
#   nfq      bench/nfq_pass behind an iptables rule for the flow: the
#            kernel-to-user transition alone
#   module   a packet module that accepts every packet (tests/lab/modules/
#            pass.c) bound to the flow: each packet runs in the node
#   service  a service process (tests/lab/svc_proactive.c, mode=pass) in its
#            sandbox whose filter takes the flow: each packet goes node ->
#            service -> verdict
# The middles are measured in ROUNDS rounds, the order rotating; within a
# round each is blasted for SECS seconds per size by bench/udpblast from s
# (UDP to r:6000), and what reaches r's UDP layer is counted from r's
# /proc/net/snmp (a sink that never reads). Figures are medians over rounds
# and ratios are taken within a round. Then the cost of a service: the time
# from a signed activation to the program's first record to its node, and
# the memory of 1, 10 and 100 sandboxed services (RSS of their processes and
# their cgroups' memory.usage_in_bytes).
#
# Usage: bench/services.sh [BUILD_DIR]   (root; writes bench/RESULTS.md)
# Environment: ROUNDS=5 SECS=1 SIZES="64 512 1400" MANY="1 10 100" PIN=1
set -euo pipefail

BUILD=${1:-build}
ARGS="$*" # for the command line in RESULTS.md
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-1}
SIZES=${SIZES:-"64 512 1400"}
MANY=${MANY:-"1 10 100"}
PIN=${PIN:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"
[[ $BUILD = /* ]] || BUILD=$TOP/$BUILD
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
NFQ_PASS=$BUILD/bench/nfq_pass
UDPBLAST=$BUILD/bench/udpblast
SVC=$BUILD/tests/lab/svc_proactive
PASS_AO=$BUILD/tests/lab/pass.ao
[ "$(id -u)" = 0 ] || { echo "services.sh: needs root (namespaces, router mode)" >&2; exit 1; }
for f in "$ANODE" "$ANODED" "$NFQ_PASS" "$UDPBLAST" "$SVC" "$PASS_AO"; do
	[[ -x $f || ( $f == *.ao && -r $f ) ]] || { echo "services.sh: $f missing (build first: ninja -C $BUILD)" >&2; exit 1; }
done
for t in bwrap iptables taskset; do command -v $t >/dev/null || { echo "services.sh: $t missing" >&2; exit 1; }; done

run=$$
S=an-bs-$run-s M=an-bs-$run-m R=an-bs-$run-r
TMP=$(mktemp -d /tmp/anode-bench-svc.XXXXXX)
chmod 755 "$TMP"
PIDS=()
finish() {
	set +e
	mid_stop
	rm -rf "$TMP"
}
trap finish EXIT

mid_start

# The router, its policy: a user with a pass-through service, an asleep
# one, and MANY others for the memory figures.
cp "$SVC" "$TMP/svc"
chmod 755 "$TMP/svc"
install -m 644 "$PASS_AO" "$TMP/pass.ao"
"$ANODE" key gen -o "$TMP/bench.key" >"$TMP/bench.pub"
max=0
for k in $MANY; do ((k > max)) && max=$k; done
{
	echo "user bench $(cat "$TMP/bench.pub")"
	echo "service pass program $TMP/svc"
	echo "service asleep program $TMP/svc"
	echo "service passmod module $TMP/pass.ao"
	list=pass,asleep,passmod
	for i in $(seq "$max"); do echo "service many$i program $TMP/svc"; list=$list,many$i; done
	echo "allow bench service $list"
	echo "allow bench filter 10.77.2.0/24 proto udp ports 6000-6000"
	echo "quota bench services $((max + 2)) memory 64M cpu 100"
} >"$TMP/policy"
mid_router bs
CHILD=$(ps --ppid "$NODE_PID" -o pid=,user= | awk '$2 == "nobody" {print $1}')
[[ -n $CHILD ]] || { echo "services.sh: the router did not start:" >&2; cat "$TMP/node.log" >&2; exit 1; }
if [[ $PIN == 1 ]]; then taskset -pc 1 "$NODE_PID" >/dev/null; taskset -pc 1 "$CHILD" >/dev/null; fi
sv() { "$ANODE" -n "$TMP/n.app" svc "$@" --key "$TMP/bench.key" --user bench; }
svc_params="dev=m1 threshold=1000000000000 dst=10.77.2.0/24 port=6000"
instances() { sv list --json | /usr/bin/python3 -c "import json,sys; print(sum(1 for i in json.load(sys.stdin)['instances'] if i['state'] == 'running'))"; }
wait_running() { # count
	for _ in $(seq 400); do [[ $(instances) -ge $1 ]] && return 0; sleep 0.05; done
	echo "services.sh: services did not start" >&2
	tail "$TMP/node.log" >&2
	exit 1
}
rules() { ip netns exec "$M" iptables -w -t mangle -S PREROUTING | grep -c 'dport 6000' || true; }


setup() { # config
	case $1 in
	kernel) ;;
	asleep)
		sv activate asleep $svc_params mode=proactive >/dev/null
		wait_running 1 ;;
	nfq)
		ip netns exec "$M" iptables -w -t mangle -I PREROUTING -p udp --dport 6000 -m comment --comment bench-svc \
			-j NFQUEUE --queue-num 7000 --queue-bypass
		"${MID_CPU[@]}" ip netns exec "$M" "$NFQ_PASS" 7000 >"$TMP/nfq.out" 2>&1 &
		NFQ=$!
		sleep 0.3 ;;
	module)
		sv activate passmod dst=10.77.2.0/24 proto=udp port=6000 >/dev/null
		for _ in $(seq 100); do [[ $(rules) -ge 1 ]] && break; sleep 0.05; done ;;
	service)
		sv activate pass $svc_params mode=pass >/dev/null
		wait_running 1
		for _ in $(seq 100); do [[ $(rules) -ge 1 ]] && break; sleep 0.05; done ;;
	esac
}
teardown() { # config
	case $1 in
	asleep) sv stop asleep >/dev/null ;;
	nfq)
		kill "$NFQ"; wait "$NFQ" 2>/dev/null || true
		ip netns exec "$M" iptables -w -t mangle -D PREROUTING -p udp --dport 6000 -m comment --comment bench-svc \
			-j NFQUEUE --queue-num 7000 --queue-bypass ;;
	module) sv stop passmod >/dev/null ;;
	service) sv stop pass >/dev/null ;;
	esac
	sleep 0.2
}

CONFIGS=(kernel asleep nfq module service)
start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
ip netns exec "$S" ping -c 2 -i 0.05 -q 10.77.2.2 >/dev/null 2>&1 || true
for round in $(seq "$ROUNDS"); do
	for k in 0 1 2 3 4; do
		cfg=${CONFIGS[$(((round + k) % 5))]}
		setup "$cfg"
		for size in $SIZES; do
			blast "$cfg" "$size"
			echo "  round $round $cfg ${size} B: $(tail -1 "$TMP/tp.$cfg.$size")"
		done
		teardown "$cfg"
	done
done

# The cost of a service: activation time and memory.
: >"$TMP/mem"
alone=$(grep -c 'runs in its sandbox' "$TMP/node.log" || true)
for k in $MANY; do
	for i in $(seq "$k"); do sv activate "many$i" $svc_params mode=proactive >/dev/null; done
	wait_running "$k"
	sleep 0.5
	rss=0 cg=0
	for d in /sys/fs/cgroup/memory/anode/bs-*; do
		cg=$((cg + $(cat "$d/memory.usage_in_bytes")))
		for p in $(cat "$d/cgroup.procs"); do
			rss=$((rss + $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
		done
	done
	echo "$k $((rss / k)) $((cg / k / 1024))" >>"$TMP/mem"
	echo "  $k services: RSS $((rss / k)) kB, cgroup $((cg / k / 1024)) kB per service"
	for i in $(seq "$k"); do sv stop "many$i" >/dev/null; done
	sleep 0.5
done
{ grep -o "runs in its sandbox [0-9]* us" "$TMP/node.log" || true; } | awk "{print \$5}" >"$TMP/start_us"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - start))


section=$TMP/section.md
{
	echo "<!-- services:begin (written by bench/services.sh; edit outside these markers) -->"
	echo "## Services: asleep, pass-through service process, their cost (issue 9)"
	echo
	echo "- command: \`bench/services.sh $ARGS\` (ROUNDS=$ROUNDS SECS=$SECS SIZES=\"$SIZES\" MANY=\"$MANY\" PIN=$PIN)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo ?)"
	echo "- machine: nproc $(nproc), kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' | awk '{print $1, $2}'); load average before/after: $load0 / $load1; measured in ${elapsed} s"
	echo "- s -> m -> r in namespaces; UDP blasted by bench/udpblast for ${SECS} s per size (sendmmsg, 32 per call) to"
	echo "  r:6000, counted at r's UDP layer (/proc/net/snmp) per second of the blast. m is an anode router"
	echo "  (anoded, router mode) in every configuration: *kernel* with no service, *asleep* with a"
	echo "  proactive service subscribed to a monitor but without a filter, *nfq* with bench/nfq_pass behind"
	echo "  an iptables rule for the flow (the kernel-to-user transition alone), *service* with a service"
	echo "  process (tests/lab/svc_proactive.c mode=pass, sandboxed) whose filter takes the flow: node ->"
	echo "  service -> verdict for each packet. Pinned: m's processes on CPU 1, the sender on CPU 0 (PIN=$PIN)."
	echo "  *module*: a packet module that accepts every packet (tests/lab/modules/pass.c) bound to the"
	echo "  flow's filter, run in the node (the EE's JIT) on each packet."
	echo
	echo "Packets per second arrived at r, median over $ROUNDS rounds:"
	echo
	echo "| size (B) | kernel | asleep | nfq_pass | packet module | service process |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		printf '| %s ' "$size"
		for cfg in kernel asleep nfq module service; do printf '| %s ' "$(col "$TMP/tp.$cfg.$size" 2 | median)"; done
		echo "|"
	done
	echo
	echo "Ratios within a round, median (range):"
	echo
	echo "| size (B) | asleep/kernel (target ≥ 0.98) | module/nfq_pass (target ≥ 0.9) | service/nfq_pass (target ≥ 0.7) | nfq_pass/kernel |"
	echo "|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		echo "| $size | $(ratio "$TMP/tp.asleep.$size" "$TMP/tp.kernel.$size" 2) | $(ratio "$TMP/tp.module.$size" "$TMP/tp.nfq.$size" 2) | $(ratio "$TMP/tp.service.$size" "$TMP/tp.nfq.$size" 2) | $(ratio "$TMP/tp.nfq.$size" "$TMP/tp.kernel.$size" 2) |"
	done
	echo
	echo "Activation: a signed \`anode svc activate\` accepted by the control module, checked again by the"
	echo "privileged parent, cgroups made, bwrap started, the program running in its sandbox and its first"
	echo "record at the node (target ≤ 10 ms; Firecracker ~12 ms per microVM):"
	echo
	echo "- one at a time ($alone activations, the rounds' asleep and pass services): median"
	echo "  $(head -n "$alone" "$TMP/start_us" | median) µs, max $(head -n "$alone" "$TMP/start_us" | sort -n | tail -1) µs;"
	echo "- in bursts (the memory figures: 1, 10, 100 activations sent back to back, each waiting for the"
	echo "  ones before it): median $(tail -n +"$((alone + 1))" "$TMP/start_us" | median) µs, max $(tail -n +"$((alone + 1))" "$TMP/start_us" | sort -n | tail -1) µs."
	echo
	echo "Memory per service, asleep (three processes each: bwrap, its pid-1 bwrap, the program):"
	echo
	echo "| services | RSS per service (kB) | cgroup memory.usage_in_bytes per service (kB) |"
	echo "|---:|---:|---:|"
	while read -r k rss cg; do echo "| $k | $rss | $cg |"; done <"$TMP/mem"
	echo
	echo "Target ≤ 5 MB per service (NetServ: 110 MB). RSS counts shared pages (libc, bwrap) once per"
	echo "process, so it overstates; the cgroup figure counts what each sandbox charged."
	echo "<!-- services:end -->"
} >"$section"
results_section "$HERE/RESULTS.md" services "$section"
cat "$section"
