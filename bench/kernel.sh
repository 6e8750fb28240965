#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# PAN's kernel node against kernel forwarding and the user-space node
# (issue 22; seed 003 §5.2-5.3, Figures 5-2 and 5-3): sender s - middle m -
# receiver r in three network namespaces (bench/lib.sh), the middle in turn
#   kernel  plain kernel forwarding (PAN's kernel/passive);
#   kpath   anoded in router mode with `kernel-path all`: apps/forward.ao's
#           kernel section runs at the TC ingress of m's interfaces (PAN's
#           kernel/active);
#   user    anoded in router mode without it: the same forward.ao runs in
#           the user-space node behind NFQUEUE (PAN's user/active).
# For each size: throughput (bench/capgen blasts capsules at r's
# address:3322 for SECS s; what reached r's UDP layer, per second) and
# latency (PINGS capsule round trips, one outstanding, r answering each with
# a capsule toward s: two crossings of m; and ping(8)). Rounds rotate the
# order; ratios are taken within a round, then the median (range) over
# rounds. Prints tables and bars, and replaces the "kernel" section of
# bench/RESULTS.md.
#
# Part "afxdp" (issue 22 item 4): a packet module without a kernel section
# (tests/lab/modules/pass.c built --no-kernel) accepting every packet of a
# UDP flow through m, reached by NFQUEUE (umod: no kernel path) or by
# AF_XDP (xmod: `kernel-path all`, `kernel-up afxdp`); replaces the
# "kernel-afxdp" section.
#
# Usage: bench/kernel.sh [BUILD_DIR]   As root. Environment: ROUNDS (3),
# SECS (1), PINGS (2000), SIZES ("64 512 1400"), PIN (1), RESULTS (1),
# PARTS ("capsules modules afxdp": the kernel section needs the first two),
# RATE (60000: the afxdp part's paced load).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-1}
PINGS=${PINGS:-2000}
SIZES=${SIZES:-64 512 1400}
PIN=${PIN:-1}
WRITE_RESULTS=${RESULTS:-1}
RATE=${RATE:-60000}
PARTS=${PARTS:-capsules modules afxdp}
has_part() { [[ " $PARTS " == *" $1 "* ]]; }
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
CAPGEN=$BUILD/bench/capgen
UDPBLAST=$BUILD/bench/udpblast
FORWARD_AO=$BUILD/apps/forward.ao
PASS_AO=$BUILD/tests/lab/pass.ao
for f in "$ANODE" "$ANODED" "$CAPGEN" "$UDPBLAST" "$FORWARD_AO" "$PASS_AO"; do
	[[ -e $f ]] || { echo "kernel.sh: $f missing; build first (ninja -C $BUILD)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "kernel.sh: needs root (network namespaces, TC programs)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/anode-kbench.XXXXXX)
S=kb$$s M=kb$$m R=kb$$r
PIDS=()
cleanup() {
	set +e
	[[ ${NODE_PID:-0} != 0 ]] && kill "$NODE_PID" && wait "$NODE_PID"
	mid_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MID_CPU=() END_CPU=()
if [[ $PIN == 1 ]]; then MID_CPU=(taskset -c 1); END_CPU=(taskset -c 0); fi
mid_net_up
S_IP=10.77.1.2 R_IP=10.77.2.2
ip netns exec "$S" ping -c 2 -i 0.05 -q "$R_IP" >/dev/null
capsize() { if (($1 < 96)); then echo 96; else echo "$1"; fi; }

# A user with a packet module that accepts every packet (tests/lab/modules/
# pass.c, with its kernel section) on the flow UDP to r:6000.
chmod 755 "$TMP"
install -m 644 "$PASS_AO" "$TMP/pass.ao"
"$ANODE" code build "$ROOT/tests/lab/modules/pass.c" --module --no-kernel -o "$TMP/upass.ao" >/dev/null
chmod 644 "$TMP/upass.ao"
"$ANODE" key gen -o "$TMP/bench.key" >"$TMP/bench.pub"
{
	echo "user bench $(cat "$TMP/bench.pub")"
	echo "service passmod module $TMP/pass.ao"
	echo "allow bench service passmod"
	echo "service upassmod module $TMP/upass.ao"
	echo "allow bench service upassmod"
	echo "allow bench filter 10.77.2.0/24 proto udp ports 6000-6000"
} >"$TMP/policy"

# The middle: nothing (kernel), or anoded with or without the kernel path
# (kpath and kmod with it; kmod and umod with the module on the flow).
NODE_PID=0
mid_node() { # config
	[[ $1 == kernel ]] && return 0
	{
		printf 'name kb\nmode router\nlisten 10.77.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
			"$TMP" "$TMP" "$TMP"
		[[ $1 == kpath || $1 == kmod || $1 == xmod ]] && echo "kernel-path all"
		[[ $1 == xmod ]] && echo "kernel-up afxdp"
	} >"$TMP/n.conf"
	"${MID_CPU[@]}" ip netns exec "$M" "$ANODED" -f "$TMP/n.conf" >"$TMP/node.log" 2>&1 &
	NODE_PID=$!
	local _
	for _ in $(seq 100); do "$ANODE" -n "$TMP/n.app" info >/dev/null 2>&1 && break; sleep 0.05; done
	if [[ $1 == xmod ]]; then
		for _ in $(seq 100); do
			"$ANODE" -n "$TMP/n.app" kernel --json | grep -q '"up":"afxdp"' && break
			sleep 0.05
		done
		"$ANODE" -n "$TMP/n.app" kernel --json | grep -q '"up":"afxdp"' ||
			{ echo "kernel.sh: AF_XDP did not start:" >&2; "$ANODE" -n "$TMP/n.app" kernel >&2; exit 1; }
	fi
	if [[ $1 == kmod || $1 == umod || $1 == xmod ]]; then
		"$ANODE" -n "$TMP/n.app" svc activate "$([[ $1 == xmod ]] && echo upassmod || echo passmod)" \
			dst=10.77.2.0/24 proto=udp port=6000 --key "$TMP/bench.key" --user bench >/dev/null
		for _ in $(seq 100); do
			ip netns exec "$M" iptables -w -t mangle -S PREROUTING | grep -q 'dport 6000' && break
			sleep 0.05
		done
	fi
	"$CAPGEN" insert -A "$TMP/n.app" -c "$FORWARD_AO" >/dev/null
	if [[ $1 == kpath || $1 == kmod ]]; then
		for _ in $(seq 100); do
			"$ANODE" -n "$TMP/n.app" kernel --json | grep -q '"state":"kernel"' && return 0
			sleep 0.05
		done
		echo "kernel.sh: forward.ao's kernel section did not load:" >&2
		"$ANODE" -n "$TMP/n.app" kernel >&2
		exit 1
	fi
}
mid_node_stop() {
	[[ $NODE_PID == 0 ]] && return 0
	kill "$NODE_PID"
	wait "$NODE_PID" 2>/dev/null || true
	NODE_PID=0
}
# Capsules the kernel path and the user-space node ran.
runs() { # -> "kernel user"
	"$ANODE" -n "$TMP/n.app" stats --json | /usr/bin/python3 -c \
		"import json,sys; d=json.load(sys.stdin); print(d.get('kernel_path', {}).get('runs', 0), d['counters']['runs'])"
}
arrived_r() { ip netns exec "$R" awk '$1 == "Udp:" { if (h) { print $2 + $3 + $4; exit } h = 1 }' /proc/net/snmp; }

through() { # config size -> appends "sent/s arrived/s run/s" to $TMP/tp.CFG.SIZE
	local csize a0 a1 kpid r0=0 r1=0 k u
	csize=$(capsize "$2")
	if [[ $1 != kernel ]]; then read -r k u < <(runs); r0=$([[ $1 == kpath ]] && echo "$k" || echo "$u"); fi
	ip netns exec "$R" "$UDPBLAST" -k -l "$R_IP:3322" &
	kpid=$!
	sleep 0.1
	a0=$(arrived_r)
	"${END_CPU[@]}" ip netns exec "$S" "$CAPGEN" send -l "$S_IP:3322" -m "$R_IP:3322" -d "$R_IP:3322" \
		-c "$FORWARD_AO" -s "$csize" -t "$SECS" >"$TMP/send.out" 2>/dev/null
	sleep 0.1
	a1=$(arrived_r)
	kill "$kpid"
	wait "$kpid" 2>/dev/null || true
	if [[ $1 != kernel ]]; then read -r k u < <(runs); r1=$([[ $1 == kpath ]] && echo "$k" || echo "$u"); fi
	awk -v r="$(kv "$TMP/send.out" rate)" -v a=$((a1 - a0)) -v t="$(kv "$TMP/send.out" secs)" -v n=$((r1 - r0)) \
		'BEGIN { printf "%.0f %.0f %.0f\n", r, a / t, n / t }' >>"$TMP/tp.$1.$2"
}

latency() { # config size -> appends "median_us p99_us" to $TMP/lat.CFG.SIZE and ping(8)'s to $TMP/icmp.CFG.SIZE
	local csize epid
	csize=$(capsize "$2")
	"${MID_CPU[@]}" ip netns exec "$R" "$CAPGEN" echo -l "$R_IP:3322" -m "$S_IP:3322" -d "$S_IP:3322" 2>/dev/null &
	epid=$!
	sleep 0.1
	"${MID_CPU[@]}" ip netns exec "$S" "$CAPGEN" ping -l "$S_IP:3322" -m "$R_IP:3322" -d "$R_IP:3322" \
		-c "$FORWARD_AO" -s "$csize" -n "$PINGS" -W 200 >"$TMP/ping.out" 2>/dev/null
	kill "$epid"
	wait "$epid" 2>/dev/null || true
	echo "$(kv "$TMP/ping.out" median_us) $(kv "$TMP/ping.out" p99_us)" >>"$TMP/lat.$1.$2"
	"${MID_CPU[@]}" ip netns exec "$S" ping -n -c 200 -i 0.002 -s "$2" "$R_IP" |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | awk '{ print $1 * 1000 }' | median >>"$TMP/icmp.$1.$2"
}

# A flow no capsule: UDP to r:6000 (bench/udpblast), "sent/s arrived/s
# module-runs/s" to $TMP/fl.CFG.SIZE; runs: the kernel path's module runs
# (kmod) or the user-space node's module packets (umod).
mod_runs() {
	"$ANODE" -n "$TMP/n.app" stats --json | /usr/bin/python3 -c \
		"import json,sys; d=json.load(sys.stdin); print(d.get('kernel_path', {}).get('module_runs', 0), d['modules']['packets'])"
}
# Nanoseconds anoded and its processes spent on a CPU (schedstat's first
# field; the node child does the work): the cost of what the node ran,
# which the sender's rate does not cap.
node_cpu_ns() {
	[[ $NODE_PID == 0 ]] && { echo 0; return; }
	local pids=("$NODE_PID") i=0 p c t=0
	while ((i < ${#pids[@]})); do
		p=${pids[$i]}
		i=$((i + 1))
		t=$((t + $(cut -d' ' -f1 "/proc/$p/schedstat" 2>/dev/null || echo 0)))
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids+=("$c"); done
	done
	echo "$t"
}
flow() { # config size [rate: datagrams a second, paced]
	local a0 a1 kpid r0=0 r1=0 k u c0 c1 pace=()
	[[ -n ${3:-} ]] && pace=(-r "$3")
	"${END_CPU[@]}" ip netns exec "$R" "$UDPBLAST" -k -l "$R_IP:6000" &
	kpid=$!
	sleep 0.1
	if [[ $1 != kernel ]]; then read -r k u < <(mod_runs); r0=$([[ $1 == kmod ]] && echo "$k" || echo "$u"); fi
	a0=$(arrived_r)
	c0=$(node_cpu_ns)
	"${END_CPU[@]}" ip netns exec "$S" "$UDPBLAST" -l "$S_IP:5000" -d "$R_IP:6000" -s "$2" -t "$SECS" "${pace[@]}" \
		>"$TMP/blast.out"
	sleep 0.1
	c1=$(node_cpu_ns)
	a1=$(arrived_r)
	if [[ $1 != kernel ]]; then read -r k u < <(mod_runs); r1=$([[ $1 == kmod ]] && echo "$k" || echo "$u"); fi
	kill "$kpid"
	wait "$kpid" 2>/dev/null || true
	awk -v r="$(kv "$TMP/blast.out" rate)" -v a=$((a1 - a0)) -v t="$(kv "$TMP/blast.out" secs)" -v n=$((r1 - r0)) \
		-v c=$((c1 - c0)) 'BEGIN { printf "%.0f %.0f %.0f %.0f\n", r, a / t, n / t, (c > 0 ? n / (c / 1e9) : 0) }' \
		>>"$TMP/fl.$1.$2"
	printf 'round %s %-6s %4s B flow: arrived %s/s, module runs %s/s\n' "$r" "$1" "$2" \
		"$(tail -1 "$TMP/fl.$1.$2" | cut -d' ' -f2)" "$(tail -1 "$TMP/fl.$1.$2" | cut -d' ' -f3)"
}

CONFIGS=(kernel kpath user)
MCONFIGS=(kernel kmod umod)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
XCONFIGS=(umod xmod)
has_part capsules && for r in $(seq "$ROUNDS"); do
	for i in 0 1 2; do
		cfg=${CONFIGS[$(((i + r) % 3))]}
		mid_node "$cfg"
		k0=0 u0=0
		[[ $cfg != kernel ]] && read -r k0 u0 < <(runs)
		for size in $SIZES; do
			through "$cfg" "$size"
			latency "$cfg" "$size"
			printf 'round %s %-6s %4s B: arrived %s/s (sent %s/s), capsule RTT median %s us, ping(8) %s us\n' "$r" \
				"$cfg" "$(capsize "$size")" "$(tail -1 "$TMP/tp.$cfg.$size" | cut -d' ' -f2)" \
				"$(tail -1 "$TMP/tp.$cfg.$size" | cut -d' ' -f1)" "$(tail -1 "$TMP/lat.$cfg.$size" | cut -d' ' -f1)" \
				"$(tail -1 "$TMP/icmp.$cfg.$size")"
		done
		if [[ $cfg != kernel ]]; then
			read -r k1 u1 < <(runs)
			echo "  $cfg: $((k1 - k0)) capsules run in the kernel, $((u1 - u0)) in the user-space node"
			echo "$((k1 - k0)) $((u1 - u0))" >>"$TMP/runs.$cfg"
		fi
		mid_node_stop
	done
done
has_part modules && for r in $(seq "$ROUNDS"); do
	for i in 0 1 2; do
		cfg=${MCONFIGS[$(((i + r) % 3))]}
		mid_node "$cfg"
		for size in $SIZES; do flow "$cfg" "$size"; done
		mid_node_stop
	done
done
# AF_XDP against NFQUEUE, each round in turn (umod's plain rows are the
# modules part's when both ran). Then the node's cost per packet at a
# paced RATE both ways take, with r a sink: an XDP program drops every
# frame at r's interface, so that r's own receiving, which runs on m's CPU
# in the node's system calls (the veth hands frames over on the sending
# CPU), is not counted in it.
if has_part afxdp; then
	# IPv4 dropped, the rest (ARP: m must still resolve r) passed.
	cat >"$TMP/sink.c" <<'C'
struct xdp_md { unsigned int data, data_end; };
__attribute__((section("xdp"), used)) int sink(struct xdp_md *x)
{
	unsigned char *d = (unsigned char *)(long)x->data, *e = (unsigned char *)(long)x->data_end;
	if (d + 14 > e)
		return 2; /* XDP_PASS */
	return d[12] == 8 && d[13] == 0 ? 1 /* XDP_DROP */ : 2;
}
char _license[] __attribute__((section("license"), used)) = "MIT";
C
	clang -O2 -target bpf -c "$TMP/sink.c" -o "$TMP/sink.o"
fi
has_part afxdp && for r in $(seq "$ROUNDS"); do
	for i in 0 1; do
		cfg=${XCONFIGS[$(((i + r) % 2))]}
		mid_node "$cfg"
		has_part modules && [[ $cfg == umod ]] || for size in $SIZES; do flow "$cfg" "$size"; done
		ip netns exec "$R" ip link set dev eth0 xdp obj "$TMP/sink.o" sec xdp
		for size in $SIZES; do flow "$cfg-paced" "$size" "$RATE"; done
		ip netns exec "$R" ip link set dev eth0 xdp off
		mid_node_stop
	done
done
END=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- tables ----
med() { col "$1" "$2" | median; }
# As lib.sh's ratio, for files of three columns: column A of the first over
# column B (default A) of the second, per round; median (min-max).
ratio3() { # a-file b-file column-a [column-b]
	paste "$1" "$2" | awk -v a="$3" -v b="${4:-$3}" '{ d = $(b + NF / 2); print (d > 0 ? $a / d : 0) }' | sort -n |
		awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}
bar() { # value max width -> a bar of # characters
	awk -v v="$1" -v m="$2" -v w="$3" 'BEGIN { n = (m > 0 ? int(v / m * w + 0.5) : 0); s = ""; for (i = 0; i < n; i++) s = s "#"; print s }'
}
SECTION=$TMP/section.md
has_part capsules && has_part modules && {
	echo "<!-- kernel:begin (written by bench/kernel.sh; do not edit by hand) -->"
	echo "## PAN's kernel node: capsules in the kernel path vs. kernel forwarding vs. the user-space node (issue 22)"
	echo
	echo "PAN's sender → middle → receiver (seed 003 §5, Figures 5-2 and 5-3), three"
	echo "network namespaces joined by veths. The middle is plain kernel forwarding"
	echo "(PAN's kernel/passive), anoded in router mode with \`kernel-path all\`, where"
	echo "apps/forward.ao's kernel section runs at the TC ingress of the middle's"
	echo "interfaces (kpath: PAN's kernel/active), or the same anoded without it, where"
	echo "the same forward.ao runs in the user-space node behind NFQUEUE (user: PAN's"
	echo "user/active). Capsules from bench/capgen to r's address:3322, r as the ANEP"
	echo "destination; sizes are the whole UDP payload (64 B cannot hold a capsule: 96 B)."
	echo
	echo "- command: \`bench/kernel.sh\` (ROUNDS=$ROUNDS SECS=$SECS PINGS=$PINGS SIZES=\"$SIZES\" PIN=$PIN)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: nproc $(nproc), kernel $(uname -r); load average before/after: $LOAD0 / $LOAD1; measured in $((END - START)) s"
	echo "- throughput: the sender (CPU 0) blasts for ${SECS} s; *arrived* is what reached r's UDP"
	echo "  layer per second (a socket never read). The kernel path runs in the softirq"
	echo "  of the CPU that hands the packet on, like kernel forwarding; the user-space"
	echo "  node runs on CPU 1. Latency: $PINGS capsule round trips, one outstanding, all"
	echo "  on CPU 1, r answering each with a capsule toward s (two crossings of m); and"
	echo "  200 ping(8) round trips."
	echo "- *arrived* counts everything that reached r: for *user*, that includes the capsules"
	echo "  NFQUEUE let by unrun when the node's queue was full (fail-open, as anoded binds"
	echo "  it); *run by the middle's code* is what the kernel path (kpath) or the"
	echo "  user-space node (user) ran, per second of the blast: the user node's capacity."
	echo "- capsules run where: $(awk '{ k += $1; u += $2 } END { printf "kpath %d in the kernel, %d in user space", k, u }' "$TMP/runs.kpath");" \
		"$(awk '{ k += $1; u += $2 } END { printf "user %d in the kernel, %d in user space", k, u }' "$TMP/runs.user")" \
		"(the first capsule of a run loads nothing: forward.ao is inserted first)."
	echo
	echo "| size (B) | capsule (B) | middle | sender (cap/s) | arrived at r (cap/s) | run by the middle's code (cap/s) | capsule RTT median (µs) | capsule RTT p99 (µs) | ping(8) median (µs) |"
	echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		for cfg in "${CONFIGS[@]}"; do
			run="—"
			[[ $cfg != kernel ]] && run=$(printf %.0f "$(med "$TMP/tp.$cfg.$size" 3)")
			printf '| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s |\n' "$size" "$(capsize "$size")" "$cfg" \
				"$(med "$TMP/tp.$cfg.$size" 1)" "$(med "$TMP/tp.$cfg.$size" 2)" "$run" \
				"$(med "$TMP/lat.$cfg.$size" 1)" "$(med "$TMP/lat.$cfg.$size" 2)" "$(med "$TMP/icmp.$cfg.$size" 1)"
		done
	done
	echo
	echo "Ratios within a round, median (range) over $ROUNDS rounds:"
	echo
	echo "| size (B) | throughput kpath/kernel, arrived (target ≥ 0.9) | user node: run / kernel's arrived | capsule RTT kpath/kernel (target ≤ 1.2) | capsule RTT user/kernel |"
	echo "|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		printf '| %s | %s | %s | %s | %s |\n' "$size" \
			"$(ratio3 "$TMP/tp.kpath.$size" "$TMP/tp.kernel.$size" 2)" "$(ratio3 "$TMP/tp.user.$size" "$TMP/tp.kernel.$size" 3 2)" \
			"$(ratio "$TMP/lat.kpath.$size" "$TMP/lat.kernel.$size" 1)" "$(ratio "$TMP/lat.user.$size" "$TMP/lat.kernel.$size" 1)"
	done
	echo
	echo "A packet module on a flow (UDP to r:6000, bench/udpblast from s; no capsules): tests/lab/modules/"
	echo "pass.c, which accepts every packet, bound to the flow by a signed activation, run in the"
	echo "kernel path (kmod) or in the user-space node behind NFQUEUE (umod); medians (cap/s):"
	echo
	echo "| size (B) | kernel: arrived | kmod: arrived | kmod: module runs | umod: arrived | umod: module runs | kmod/kernel, arrived (target ≥ 0.9) | umod runs / kernel arrived |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		printf '| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n' "$size" "$(med "$TMP/fl.kernel.$size" 2)" \
			"$(med "$TMP/fl.kmod.$size" 2)" "$(med "$TMP/fl.kmod.$size" 3)" "$(med "$TMP/fl.umod.$size" 2)" \
			"$(med "$TMP/fl.umod.$size" 3)" "$(ratio3 "$TMP/fl.kmod.$size" "$TMP/fl.kernel.$size" 2)" \
			"$(ratio3 "$TMP/fl.umod.$size" "$TMP/fl.kernel.$size" 3 2)"
	done
	echo
	echo "As PAN's Figures 5-2 (latency) and 5-3 (throughput), one bar per middle (rate: arrived at r; for user, what the node ran):"
	echo
	echo '```'
	for size in $SIZES; do
		maxl=0 maxt=0
		for cfg in "${CONFIGS[@]}"; do
			l=$(med "$TMP/lat.$cfg.$size" 1) t=$(med "$TMP/tp.$cfg.$size" 2)
			maxl=$(awk -v a="$maxl" -v b="$l" 'BEGIN { print (b > a ? b : a) }')
			maxt=$(awk -v a="$maxt" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
		done
		echo "$(capsize "$size") B capsules"
		for cfg in "${CONFIGS[@]}"; do
			l=$(med "$TMP/lat.$cfg.$size" 1)
			printf '  RTT  %-6s %-40s %8.1f us\n' "$cfg" "$(bar "$l" "$maxl" 40)" "$l"
		done
		for cfg in "${CONFIGS[@]}"; do
			t=$(med "$TMP/tp.$cfg.$size" 2)
			[[ $cfg == user ]] && t=$(med "$TMP/tp.$cfg.$size" 3)
			printf '  rate %-6s %-40s %8.0f cap/s\n' "$cfg" "$(bar "$t" "$maxt" 40)" "$t"
		done
	done
	echo '```'
	echo "<!-- kernel:end -->"
} >"$SECTION"
if has_part capsules && has_part modules; then
	cat "$SECTION"
	[[ $WRITE_RESULTS == 1 ]] && results_section "$ROOT/bench/RESULTS.md" kernel "$SECTION"
fi
XSECTION=$TMP/xsection.md
if has_part afxdp; then
	{
		echo "<!-- kernel-afxdp:begin (written by bench/kernel.sh; do not edit by hand) -->"
		echo "## What goes up: AF_XDP vs. NFQUEUE pass-through (issue 22, item 4)"
		echo
		echo "\`PARTS=afxdp sudo bench/kernel.sh\` ($ROUNDS rounds of $SECS s per size; load $LOAD0 -> $LOAD1; $(date -u +%Y-%m-%d))."
		echo "s - m - r as above; a UDP flow (bench/udpblast) to r:6000 through m, where a packet module"
		echo "without a kernel section (tests/lab/modules/pass.c built --no-kernel), accepting every packet,"
		echo "runs in the user-space node: reached by NFQUEUE (umod: no kernel path; accepted packets go on"
		echo "by the queue's verdict) or by AF_XDP (xmod: \`kernel-path all\`, \`kernel-up afxdp\`; accepted"
		echo "packets go on by the AF_XDP socket of m's side toward r, where the XDP program's FIB lookup"
		echo "said). Medians (packets/s) of what reached r and of what the"
		echo "module ran, and packets the module ran per CPU-second of anoded's processes (schedstat:"
		echo "the node's cost, which the sender's rate does not cap: on these veths the sender's CPU also"
		echo "takes every frame in, and plain kernel forwarding arrives at about the rate NFQUEUE does);"
		echo "ratios per round, median (range). Middle pinned to one CPU, sender and receiver to the other."
		echo
		echo "| size (B) | umod (NFQUEUE): arrived | umod: runs | umod: runs per CPU-s | xmod (AF_XDP): arrived | xmod: runs | xmod: runs per CPU-s | xmod/umod, arrived | xmod/umod, runs per CPU-s (target ≥ 1.5) |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for size in $SIZES; do
			printf '| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n' "$size" "$(med "$TMP/fl.umod.$size" 2)" \
				"$(med "$TMP/fl.umod.$size" 3)" "$(med "$TMP/fl.umod.$size" 4)" "$(med "$TMP/fl.xmod.$size" 2)" \
				"$(med "$TMP/fl.xmod.$size" 3)" "$(med "$TMP/fl.xmod.$size" 4)" \
				"$(ratio3 "$TMP/fl.xmod.$size" "$TMP/fl.umod.$size" 2)" "$(ratio3 "$TMP/fl.xmod.$size" "$TMP/fl.umod.$size" 4)"
		done
		echo
		echo "The node's cost per packet at a load both ways take ($RATE packets/s, paced; r a sink: an XDP"
		echo "program drops every IPv4 frame at its interface, so that r's receiving, which these veths run on m's"
		echo "CPU inside the node's own system calls, is not counted): anoded's CPU time per packet the"
		echo "module ran, and packets per CPU-second."
		echo
		echo "| size (B) | umod: runs/s | umod: ns per packet | xmod: runs/s | xmod: ns per packet | xmod/umod, packets per CPU-s (target ≥ 1.5) |"
		echo "|---:|---:|---:|---:|---:|---:|"
		for size in $SIZES; do
			printf '| %s | %.0f | %.0f | %.0f | %.0f | %s |\n' "$size" "$(med "$TMP/fl.umod-paced.$size" 3)" \
				"$(awk -v v="$(med "$TMP/fl.umod-paced.$size" 4)" 'BEGIN { print (v > 0 ? 1e9 / v : 0) }')" \
				"$(med "$TMP/fl.xmod-paced.$size" 3)" \
				"$(awk -v v="$(med "$TMP/fl.xmod-paced.$size" 4)" 'BEGIN { print (v > 0 ? 1e9 / v : 0) }')" \
				"$(ratio3 "$TMP/fl.xmod-paced.$size" "$TMP/fl.umod-paced.$size" 4)"
		done
		echo "<!-- kernel-afxdp:end -->"
	} >"$XSECTION"
	cat "$XSECTION"
	[[ $WRITE_RESULTS == 1 ]] && results_section "$ROOT/bench/RESULTS.md" kernel-afxdp "$XSECTION"
fi
