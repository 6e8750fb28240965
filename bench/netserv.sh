#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Issue 20's measurements: NetServ's MLFFR ladder (seed 004 §9, Figure 12)
# and the cost of signalling.
#
# 1. A flow crossing a middle m between a sender s and a receiver r (three
#    namespaces of this run), UDP blasted by bench/udpblast from s for SECS
#    s per size (64 and 340 B, Figure 12's), counted at r's UDP layer, with
#    m as
#      kernel      plain Linux forwarding (configuration 1)
#      iptables    plus a mangle rule the flow does not match (configuration 2)
#      nfq         bench/nfq_pass behind a rule for the flow: the kernel to
#                  user space transition alone (configuration 3)
#      anode       an anode router: its rule for UDP 3322 only, the flow stays
#                  in the kernel
#      setup-pass  the same with a packet module that accepts every packet
#                  (tests/lab/modules/pass.c) installed by `anode signal setup`
#                  from s, on the flow: the container without an application
#                  (configuration 4)
#      netmonitor  NetMonitor (apps/netmonitor.c) installed the same way
#                  (configuration 5)
#    ROUNDS rounds; within a round kernel, iptables and nfq run before
#    anoded starts and the anode configurations after, so that no node is
#    there for the first three. Ratios are taken within a round.
# 2. Signalling's round trip across three anode routers (h1 - a - b - c -
#    h2, a namespace lab) against ping(8)'s RTT on the same path: PROBE,
#    SETUP of a module every router has (a refresh, no fetch), SETUP of a
#    module none has (each router fetches it from a web server on h1), N
#    times each, medians.
#
# Usage: bench/netserv.sh [BUILD_DIR]   (root; writes bench/RESULTS.md and bench/netserv.png)
# Environment: ROUNDS=3 SECS=1 SIZES="64 340" N=10 PIN=1
set -euo pipefail

BUILD=${1:-build}
ARG=$BUILD
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-1}
SIZES=${SIZES:-"64 340"}
N=${N:-10}
PIN=${PIN:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"
[[ $BUILD = /* ]] || BUILD=$TOP/$BUILD
ANODE=$BUILD/tools/anode
ANODED=$BUILD/src/node/anoded
NFQ_PASS=$BUILD/bench/nfq_pass
UDPBLAST=$BUILD/bench/udpblast
PASS_AO=$BUILD/tests/lab/pass.ao
NETMON_AO=$BUILD/apps/netmonitor.ao
[ "$(id -u)" = 0 ] || { echo "netserv.sh: needs root (namespaces, router mode)" >&2; exit 1; }
for f in "$ANODE" "$ANODED" "$NFQ_PASS" "$UDPBLAST" "$BUILD/src/sig/anode-fetch"; do
	[[ -x $f ]] || { echo "netserv.sh: $f missing (build first: ninja -C $BUILD)" >&2; exit 1; }
done
for f in "$PASS_AO" "$NETMON_AO"; do [[ -r $f ]] || { echo "netserv.sh: $f missing" >&2; exit 1; }; done
for t in iptables taskset ping; do command -v $t >/dev/null || { echo "netserv.sh: $t missing" >&2; exit 1; }; done

run=$$
S=an-bn-$run-s M=an-bn-$run-m R=an-bn-$run-r
TMP=$(mktemp -d /tmp/anode-bench-netserv.XXXXXX)
chmod 755 "$TMP"
export ANODE_RUN_DIR=$TMP/labs
PIDS=()
NODE_PID=
lab=bn$run
finish() {
	set +e
	[[ -z $NODE_PID ]] || { kill "$NODE_PID"; wait "$NODE_PID"; }
	mid_stop
	"$ANODE" lab down "$lab" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap finish EXIT

# ---- 1. the ladder ----
mid_start
mkdir -p "$TMP/www"
install -m 644 "$PASS_AO" "$TMP/www/pass.ao"
install -m 644 "$NETMON_AO" "$TMP/www/netmonitor.ao"
ip netns exec "$S" /usr/bin/python3 -m http.server -d "$TMP/www" -b 10.77.1.2 8080 >/dev/null 2>&1 &
PIDS+=($!)
"$ANODE" key gen -o "$TMP/bench.key" >"$TMP/bench.pub"
printf 'user bench %s\nallow bench filter 10.77.2.0/24 proto udp ports 6000-6000\n' "$(cat "$TMP/bench.pub")" >"$TMP/policy"
printf 'name bn\nmode router\nlisten 10.77.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
	"$TMP" "$TMP" "$TMP" >"$TMP/n.conf"
node_start() {
	"${MID_CPU[@]}" ip netns exec "$M" "$ANODED" -f "$TMP/n.conf" >>"$TMP/node.log" 2>&1 &
	NODE_PID=$!
	for _ in $(seq 200); do "$ANODE" -n "$TMP/n.app" info >/dev/null 2>&1 && break; sleep 0.05; done
	"$ANODE" -n "$TMP/n.app" info >/dev/null || { echo "netserv.sh: the router did not start:" >&2; cat "$TMP/node.log" >&2; exit 1; }
	sleep 1 # its start (the fetcher's sandbox, the first samples) is not what is measured
}
node_stop() { kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=; }
signal() { ip netns exec "$S" "$ANODE" signal "$@" --user bench --key "$TMP/bench.key"; }
flow=proto=udp,dst=10.77.2.0/24,dport=6000
rule_nomatch=(-p udp --dport 9 -m comment --comment bench-netserv -j ACCEPT)
rule_nfq=(-p udp --dport 6000 -m comment --comment bench-netserv -j NFQUEUE --queue-num 7100 --queue-bypass)
setup() { # config
	case $1 in
	kernel | anode) ;;
	iptables) ip netns exec "$M" iptables -w -t mangle -I PREROUTING "${rule_nomatch[@]}" ;;
	nfq)
		ip netns exec "$M" iptables -w -t mangle -I PREROUTING "${rule_nfq[@]}"
		"${MID_CPU[@]}" ip netns exec "$M" "$NFQ_PASS" 7100 >"$TMP/nfq.out" 2>&1 &
		NFQ=$!
		sleep 0.3 ;;
	setup-pass | netmonitor)
		local mod=pass
		[[ $1 == netmonitor ]] && mod=netmonitor
		signal setup 10.77.2.2 --module "$TMP/www/$mod.ao" --url "http://10.77.1.2:8080/$mod.ao" --filter "$flow" \
			--lifetime 600 --json >"$TMP/setup.json" ||
			{ echo "netserv.sh: setup failed:" >&2; cat "$TMP/setup.json" >&2; exit 1; }
		sleep 0.2 ;;
	esac
}
teardown() { # config
	case $1 in
	iptables) ip netns exec "$M" iptables -w -t mangle -D PREROUTING "${rule_nomatch[@]}" ;;
	nfq)
		kill "$NFQ"; wait "$NFQ" 2>/dev/null || true
		ip netns exec "$M" iptables -w -t mangle -D PREROUTING "${rule_nfq[@]}" ;;
	setup-pass) signal remove 10.77.2.2 --name pass >/dev/null ;;
	netmonitor) signal remove 10.77.2.2 --name netmonitor >/dev/null ;;
	esac
	sleep 0.2
}
CONFIGS=(kernel iptables nfq anode setup-pass netmonitor)
start=$SECONDS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
ip netns exec "$S" ping -c 2 -i 0.05 -q 10.77.2.2 >/dev/null 2>&1 || true
for round in $(seq "$ROUNDS"); do
	for cfg in "${CONFIGS[@]}"; do
		[[ $cfg == anode ]] && node_start
		setup "$cfg"
		for size in $SIZES; do
			blast "$cfg" "$size"
			echo "  round $round $cfg ${size} B: $(tail -1 "$TMP/tp.$cfg.$size")"
		done
		teardown "$cfg"
	done
	node_stop
done
# NetMonitor counted what crossed it: its last report is not needed, the
# node's module counters say how many packets ran it.

# ---- 2. signalling's round trip across three anode routers ----
cat >"$TMP/line.topo" <<T
node a
node b
node c
link a b
link b c
host h1 a
host h2 c
set all policy $TMP/policy2
T
printf 'user bench %s\nallow bench filter 10.200.0.0/16 proto udp ports 5000-6000\n' "$(cat "$TMP/bench.pub")" >"$TMP/policy2"
cp "$TMP/line.topo" "$TMP/$lab.topo"
"$ANODE" lab up "$TMP/$lab.topo" --netns >/dev/null
status=$("$ANODE" lab status "$lab" --json)
addr_of() { echo "$status" | /usr/bin/python3 -c "import json,sys; l=json.load(sys.stdin)['labs'][0]; print([n['address'] for n in l['namespaces'] if n['name']=='$1'][0])"; }
H1=$(addr_of h1) H2=$(addr_of h2)
# N modules no router has: pass.c built with N labels (each its own hash).
for i in $(seq "$N"); do
	"$ANODE" code build "$TOP/tests/lab/modules/pass.c" --module --label "fetch$i" -o "$TMP/www/fetch$i.ao" >/dev/null
done
chmod 644 "$TMP/www"/*.ao
ip netns exec "an-$lab-h1" /usr/bin/python3 -m http.server -d "$TMP/www" -b "$H1" 8080 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
hsig() { ip netns exec "an-$lab-h1" "$ANODE" signal "$@" --user bench --key "$TMP/bench.key" --json; }
rtt() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); assert d['answered'] and len(d['nodes']) == 3 and all(n['status'] == 0 for n in d['nodes']), d; print(d['rtt_ms'])"; }
ip netns exec "an-$lab-h1" ping -c 3 -i 0.05 -q "$H2" >/dev/null
ip netns exec "an-$lab-h1" ping -c "$((N * 2))" -i 0.05 "$H2" | awk -F'time=' '/time=/ { split($2, t, " "); print t[1] }' >"$TMP/ping"
flt=proto=udp,dst=$H2/32,dport=5000
hsig setup "$H2" --module "$TMP/www/pass.ao" --url "http://$H1:8080/pass.ao" --filter "$flt" --lifetime 600 | rtt >/dev/null
for i in $(seq "$N"); do
	hsig probe "$H2" | rtt >>"$TMP/probe"
	hsig setup "$H2" --module "$TMP/www/pass.ao" --url "http://$H1:8080/pass.ao" --filter "$flt" --lifetime 600 | rtt >>"$TMP/refresh"
	hsig setup "$H2" --module "$TMP/www/fetch$i.ao" --url "http://$H1:8080/fetch$i.ao" --name "fetch$i" --filter "$flt" \
		--lifetime 600 | rtt >>"$TMP/fetch"
	hsig remove "$H2" --name "fetch$i" >/dev/null
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - start))

# ---- the plot: Figure 12's bars ----
/usr/bin/python3 - "$TMP" "$HERE/netserv.png" "$SIZES" <<'PY'
import sys, statistics
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
tmp, out, sizes = sys.argv[1], sys.argv[2], sys.argv[3].split()
configs = ["kernel", "iptables", "nfq", "anode", "setup-pass", "netmonitor"]
labels = ["kernel", "+iptables rule", "nfq_pass", "anode (flow\nnot queued)", "pass module\n(SETUP)", "NetMonitor\n(SETUP)"]
fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4))
if len(sizes) == 1:
    axes = [axes]
for ax, size in zip(axes, sizes):
    v = [statistics.median(float(l.split()[1]) for l in open(f"{tmp}/tp.{c}.{size}")) / 1000 for c in configs]
    ax.bar(range(len(configs)), v, color=["#888", "#888", "#c84", "#48c", "#48c", "#48c"])
    ax.set_xticks(range(len(configs)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("kpps arrived at r")
    ax.set_title(f"{size} B UDP through the middle")
fig.suptitle("NetServ's ladder (seed 004 Fig. 12) on anode, namespaces, one CPU for the middle")
fig.tight_layout()
fig.savefig(out, dpi=90)
PY

section=$TMP/section.md
{
	echo "<!-- netserv:begin (written by bench/netserv.sh; edit outside these markers) -->"
	echo "## On-path signalling: NetServ's ladder and signalling's round trip (issue 20)"
	echo
	echo "- command: \`bench/netserv.sh $ARG\` (ROUNDS=$ROUNDS SECS=$SECS SIZES=\"$SIZES\" N=$N PIN=$PIN)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo ?)"
	echo "- machine: nproc $(nproc), kernel $(uname -r); load average before/after: $load0 / $load1; measured in ${elapsed} s"
	echo "- s -> m -> r in namespaces, UDP blasted by bench/udpblast for ${SECS} s per size to r:6000, counted at"
	echo "  r's UDP layer. m: *kernel* forwarding; *iptables*, a mangle rule the flow does not match;"
	echo "  *nfq_pass* behind a rule for the flow; *anode*, an anode router whose only rule is for UDP 3322 (the"
	echo "  flow stays in the kernel); *pass module*, a packet module that accepts every packet, installed on"
	echo "  the flow by \`anode signal setup\` from s (fetched from s, checked, validated, JIT-compiled);"
	echo "  *NetMonitor*, the same with apps/netmonitor.c (a soft state update per packet). The middle's"
	echo "  processes on CPU 1, the sender on CPU 0 (PIN=$PIN)."
	echo
	echo "![NetServ's ladder on anode](netserv.png)"
	echo
	echo "Packets per second arrived at r, median over $ROUNDS rounds:"
	echo
	echo "| size (B) | kernel | + iptables rule | nfq_pass | anode, flow not queued | pass module (SETUP) | NetMonitor (SETUP) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		printf '| %s ' "$size"
		for cfg in "${CONFIGS[@]}"; do printf '| %s ' "$(col "$TMP/tp.$cfg.$size" 2 | median)"; done
		echo "|"
	done
	echo
	echo "Ratios within a round, median (range); targets: each anode configuration ≥ 0.9 of nfq_pass"
	echo "(NetServ's JVM container reached 0.51 of its C pass-through, NetMonitor 0.29 of netfilter):"
	echo
	echo "| size (B) | iptables/kernel | nfq_pass/kernel | anode/iptables | pass module/nfq_pass | NetMonitor/nfq_pass | NetMonitor/iptables |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		t=$TMP/tp
		echo "| $size | $(ratio $t.iptables.$size $t.kernel.$size 2) | $(ratio $t.nfq.$size $t.kernel.$size 2) | $(ratio $t.anode.$size $t.iptables.$size 2) | $(ratio $t.setup-pass.$size $t.nfq.$size 2) | $(ratio $t.netmonitor.$size $t.nfq.$size 2) | $(ratio $t.netmonitor.$size $t.iptables.$size 2) |"
	done
	echo
	echo "Signalling across three anode routers (h1 - a - b - c - h2, a namespace lab; the answer holds"
	echo "a, b and c, each having done what was asked), $N times each, medians (min-max), ms:"
	echo
	echo "| | round trip (ms) | / ping RTT |"
	echo "|---|---:|---:|"
	p=$(median <"$TMP/ping")
	for k in "ping(8) h1 -> h2:ping" "PROBE:probe" "SETUP, module already there (a refresh):refresh" "SETUP, each router fetches the module from h1:fetch"; do
		name=${k%%:*} f=${k##*:}
		m=$(median <"$TMP/$f")
		echo "| $name | $m ($(sort -n "$TMP/$f" | head -1)-$(sort -n "$TMP/$f" | tail -1)) | $(/usr/bin/python3 -c "print('%.1f' % ($m / $p))") |"
	done
	echo
	echo "A round trip is the CLI's: from the first send of the signed request to the whole answer, with"
	echo "each router authenticating (Ed25519), taking, telling HERE, passing on and pushing its entry; the"
	echo "fetching SETUP adds, at each router in parallel, libcurl's HTTP GET by the sandboxed fetcher,"
	echo "the hash check, validation and JIT, and the filter's iptables rule (through the privileged parent)."
	echo "<!-- netserv:end -->"
} >"$section"
results_section "$HERE/RESULTS.md" netserv "$section"
cat "$section"
