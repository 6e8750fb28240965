#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The code distribution benchmark (issue 3), as seed 002 measured its nodes
# (§2.2-2.3, Figure 6): processing time per node and round trip of the 1st,
# 2nd, 3rd and >10th trace capsule that crosses a 3-node line, for code of
# 1, 2 and 6 chunks (1024 octets each), loaded on demand or carried in the
# capsule ("associated" code distribution).
#
# Every series starts a fresh lab (examples/line3.topo: a - b - c, empty
# code caches), sends CAPSULES trace capsules a -> c -> a one after the
# other with `anode trace --code bench/fig6/... --json`, checks from the
# nodes' counters that the code went the way it should (fetched in the
# expected number of chunks, or carried), and stops the lab. Figures are the
# median over SERIES series (for ">10th", over capsules 11..CAPSULES of all
# series). The six configurations are interleaved series by series, so that
# drift in the machine hits them alike. Then it prints the table and replaces
# the "Code distribution" section of bench/RESULTS.md.
#
# Usage: bench/codeload.sh [BUILD_DIR]   (default: build/ under the repository)
# Builds nothing. Environment:
#   SERIES (15)    series per configuration (a fresh lab each)
#   CAPSULES (12)  trace capsules per series (at least 11)
#   WARMUP (1)     before each series, one active ping a -> c, whose own code
#                  (ping.ao) is loaded on demand, so that the first trace
#                  capsule does not also pay for the node processes' very
#                  first packet, fetch and JIT; 0: none
#   INSERTS (9)    fresh bench/ee_insert processes per object (the cost of
#                  installing the code, without I/O)
#   KEEP (0)       1: keep the raw figures in the temporary directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SERIES=${SERIES:-15}
CAPSULES=${CAPSULES:-12}
WARMUP=${WARMUP:-1}
INSERTS=${INSERTS:-9}
((CAPSULES >= 11)) || { echo "codeload.sh: CAPSULES must be at least 11 (for the >10th capsule)" >&2; exit 2; }

ANODE=$BUILD/tools/anode
SIZES=(1chunk 2chunks 6chunks)
declare -A CHUNKS=([1chunk]=1 [2chunks]=2 [6chunks]=6)
MODES=(on-demand carry)
for f in "$ANODE" "$BUILD/src/node/anoded" "$BUILD/apps/ping.ao" "$BUILD/apps/portmapper.ao" \
	"$BUILD"/bench/fig6_trace_{1chunk,2chunks,6chunks}.ao "$BUILD/bench/ee_insert"; do
	[[ -e $f ]] || { echo "codeload.sh: $f missing; build first (ninja -C $BUILD)" >&2; exit 1; }
done
export ANODED=$BUILD/src/node/anoded
export ANODE_CODE_DIR=$BUILD/apps

# The objects call the node's helpers by index (see bench/fig6/trace_fig6.c):
# check the indices against the node's table before trusting a figure.
check_helpers() {
	local want have
	want=$(sed -n 's/^#define FIG6_H_\(AN_[A-Z_]*\) \([0-9]*\)$/\2 \L\1/p' "$ROOT/bench/fig6/trace_fig6.c")
	have=$(grep -o 'EE_FUNC("an_[a-z_]*"' "$ROOT/src/ee/helpers.c" | awk -F'"' '{ print NR - 1, $2 }')
	while read -r i name; do
		grep -qx "$i $name" <<<"$have" || {
			echo "codeload.sh: bench/fig6/trace_fig6.c calls $name as helper $i, but src/ee/helpers.c" \
				"has $(grep " $name\$" <<<"$have" | cut -d' ' -f1): fix FIG6_H_*" >&2
			exit 1
		}
	done <<<"$want"
}
check_helpers

# The chunks each object is fetched in: ELF size / 1024, rounded up.
declare -A BYTES
for s in "${SIZES[@]}"; do
	BYTES[$s]=$(stat -c %s "$BUILD/bench/fig6_trace_$s.ao")
	got=$(((BYTES[$s] + 1023) / 1024))
	[[ $got == "${CHUNKS[$s]}" ]] || {
		echo "codeload.sh: fig6_trace_$s.ao is ${BYTES[$s]} octets, $got chunks, not ${CHUNKS[$s]}" >&2
		exit 1
	}
done

# Short: unix socket paths ($ANODE_RUN_DIR/codeload/NODE.app) must fit in 108 octets.
TMP=$(mktemp -d /tmp/cl.XXXXXX)
export ANODE_RUN_DIR=$TMP/r
mkdir -p "$ANODE_RUN_DIR"
TOPO=$TMP/codeload.topo
cp "$ROOT/examples/line3.topo" "$TOPO"
export ANODE_LAB=codeload
LAB_UP=0
cleanup() {
	# Only this script's lab: lab down signals the anoded processes whose
	# configuration is inside $ANODE_RUN_DIR/codeload.
	if [[ $LAB_UP == 1 ]]; then
		"$ANODE" lab down "$TOPO" >/dev/null 2>&1 || true
	fi
	if [[ ${KEEP:-0} == 1 ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stat_of() { # NODE KEY...: the counters named, from anode stats --json
	"$ANODE" -n "$1" stats --json | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
flat = dict(j["counters"])
flat.update({"fetch_" + k: v for k, v in j["fetch"].items()})
flat.update({"cache_" + k: v for k, v in j["code_cache"].items()})
print(" ".join(str(flat[k]) for k in sys.argv[1:]))' "${@:2}"
}

diff_counts() { # "BEFORE..." "AFTER...": the differences, field by field
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x); split(b, y); for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? " " : ""), y[i] - x[i]; print "" }'
}

# One series: fresh lab, CAPSULES traces, counters checked, lab down.
# Appends one JSON line per capsule to $TMP/raw.jsonl.
PROBLEMS=$TMP/problems
: >"$PROBLEMS"
series() {
	local size=$1 mode=$2 run=$3 code=$BUILD/bench/fig6_trace_$1.ao i out
	"$ANODE" lab up "$TOPO" >"$TMP/labup.out" 2>&1 || { cat "$TMP/labup.out" >&2; exit 1; }
	LAB_UP=1
	if [[ $WARMUP == 1 ]]; then
		"$ANODE" -n a ping c -c 1 >/dev/null 2>&1 || echo "series $size $mode $run: warm-up ping failed" >>"$PROBLEMS"
	fi
	# Counters before the traces (the warm-up ping loads ping.ao on demand).
	local a0 b0 c0
	a0=$(stat_of a code_chunks_served)
	b0=$(stat_of b code_chunks_served code_fetched code_carried fetch_retries fetch_timeouts)
	c0=$(stat_of c code_chunks_served code_fetched code_carried fetch_retries fetch_timeouts)
	for i in $(seq "$CAPSULES"); do
		if out=$("$ANODE" -n a trace c --"$mode" --code "$code" --json 2>"$TMP/trace.err"); then
			printf '{"size":"%s","mode":"%s","series":%d,"capsule":%d,"trace":%s}\n' \
				"$size" "$mode" "$run" "$i" "$out" >>"$TMP/raw.jsonl"
		else
			echo "series $size $mode $run: capsule $i: $(tr '\n' ' ' <"$TMP/trace.err")" >>"$PROBLEMS"
		fi
	done
	# How the trace code got to b and c: fetched (a served the chunks to b,
	# b to c), or carried; and nothing dropped or retried on the way.
	local sa sb sc n=${CHUNKS[$size]}
	sa=$(diff_counts "$a0" "$(stat_of a code_chunks_served)")
	sb=$(diff_counts "$b0" "$(stat_of b code_chunks_served code_fetched code_carried fetch_retries fetch_timeouts)")
	sc=$(diff_counts "$c0" "$(stat_of c code_chunks_served code_fetched code_carried fetch_retries fetch_timeouts)")
	local want_a want_b want_c
	if [[ $mode == on-demand ]]; then
		want_a="$n" want_b="$n 1 0 0 0" want_c="0 1 0 0 0"
	else
		want_a="0" want_b="0 0 1 0 0" want_c="0 0 1 0 0"
	fi
	[[ "$sa|$sb|$sc" == "$want_a|$want_b|$want_c" ]] ||
		echo "series $size $mode $run: counters a [chunks_served] $sa, b/c [chunks_served fetched carried retries timeouts] $sb / $sc; expected $want_a, $want_b / $want_c" >>"$PROBLEMS"
	for node in a b c; do
		stat_of "$node" drop_code_timeout drop_park_full drop_code_missing drop_no_buffer cache_run_errors |
			awk -v s="series $size $mode $run: $node" '$1 + $2 + $3 + $4 + $5 > 0 {
				print s ": drops timeout/park_full/code_missing/no_buffer " $1 "/" $2 "/" $3 "/" $4 ", run errors " $5 }' >>"$PROBLEMS"
	done
	"$ANODE" lab down "$TOPO" >/dev/null
	LAB_UP=0
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
: >"$TMP/raw.jsonl"
CONFIGS=()
for s in "${SIZES[@]}"; do
	for m in "${MODES[@]}"; do
		CONFIGS+=("$s $m")
	done
done
for run in $(seq "$SERIES"); do
	# Rotate the order each round, so that no configuration always runs first.
	for k in $(seq 0 $((${#CONFIGS[@]} - 1))); do
		# shellcheck disable=SC2086
		series ${CONFIGS[$(((k + run) % ${#CONFIGS[@]}))]} "$run"
	done
	echo "  series $run of $SERIES done ($(wc -l <"$TMP/raw.jsonl") capsules back)"
done
# Installing the code alone (no I/O): ee_insert in fresh processes, ping.ao
# first as in a lab node after the warm-up, then the trace object.
: >"$TMP/install.txt"
for s in "${SIZES[@]}"; do
	for _ in $(seq "$INSERTS"); do
		echo "$s $("$BUILD/bench/ee_insert" "$BUILD/apps/ping.ao" "$BUILD/bench/fig6_trace_$s.ao" -r 20)" >>"$TMP/install.txt"
	done
done
END=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ----
TABLE=$TMP/table.md
RATIOS=$TMP/ratios.md
BYTES_ARGS=()
for s in "${SIZES[@]}"; do BYTES_ARGS+=("$s=${BYTES[$s]}"); done
COSTS=$TMP/costs.md
/usr/bin/python3 - "$TMP/raw.jsonl" "$TABLE" "$RATIOS" "$CAPSULES" "$TMP/install.txt" "$COSTS" "${BYTES_ARGS[@]}" <<'EOF'
import json, statistics, struct, sys

raw, table_path, ratios_path, capsules = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
install_path, costs_path = sys.argv[5], sys.argv[6]
size_bytes = dict(a.split("=") for a in sys.argv[7:])
sizes = ["1chunk", "2chunks", "6chunks"]
chunks = {"1chunk": 1, "2chunks": 2, "6chunks": 6}
modes = [("on-demand", "on demand"), ("carry", "carried")]
nodes = ["a", "b", "c"]
cols = [("1st", [1]), ("2nd", [2]), ("3rd", [3]), (">10th", list(range(11, capsules + 1)))]

# (size, mode, capsule) -> list of (rtt_ns, {node: processing_ns})
data = {}
for line in open(raw):
    r = json.loads(line)
    t = r["trace"]
    proc = {}
    for rec in t["records"]:
        # struct fig6_record after its head: binary marker, processing_ns, delay_ns
        marker, p_ns, d_ns = struct.unpack_from("<Qqq", bytes.fromhex(rec["hex"]))
        proc[rec["node"]] = p_ns
    data.setdefault((r["size"], r["mode"], r["capsule"]), []).append((t["rtt_ns"], proc))

def med(size, mode, caps, what):
    v = []
    for c in caps:
        for rtt, proc in data.get((size, mode, c), []):
            x = rtt if what == "rtt" else proc.get(what)
            if x is not None:
                v.append(x)
    return (statistics.median(v) / 1000.0, len(v)) if v else (None, 0)

def fmt(x):
    return "-" if x is None else ("%.1f" % x if x < 100 else "%.0f" % x)

out = []
out.append("| code | distribution | figure | " + " | ".join(c for c, _ in cols) + " |")
out.append("|---|---|---|" + "---:|" * len(cols))
for s in sizes:
    label = "%d chunk%s (%s B)" % (chunks[s], "s" if chunks[s] > 1 else "", size_bytes[s])
    for m, mname in modes:
        for i, what in enumerate(nodes + ["rtt"]):
            fig = ("node %s processing (µs)" % what) if what != "rtt" else "**round trip (µs)**"
            vals = []
            for _, caps in cols:
                x = med(s, m, caps, what)[0]
                vals.append(fmt(x) if what != "rtt" else "**%s**" % fmt(x))
            out.append("| %s | %s | %s | %s |" % (label if i == 0 else "", mname if i == 0 else "", fig,
                                                   " | ".join(vals)))
open(table_path, "w").write("\n".join(out) + "\n")

r = []
r.append("| code | 1st on demand / warm (target ≤ 5) | 1st carried / warm | warm carried / warm on demand | 1st on demand / 1st carried |")
r.append("|---|---:|---:|---:|---:|")
for s in sizes:
    od1 = med(s, "on-demand", [1], "rtt")[0]
    odw = med(s, "on-demand", cols[3][1], "rtt")[0]
    ca1 = med(s, "carry", [1], "rtt")[0]
    caw = med(s, "carry", cols[3][1], "rtt")[0]
    if None in (od1, odw, ca1, caw):
        r.append("| %s | - | - | - | - |" % s)
        continue
    ratio = od1 / odw
    r.append("| %d chunk%s | %.2f%s | %.2f | %.2f | %.2f |" % (chunks[s], "s" if chunks[s] > 1 else "", ratio,
             "" if ratio <= 5.0 else " (missed)", ca1 / odw, caw / odw, od1 / ca1))
open(ratios_path, "w").write("\n".join(r) + "\n")

# Where the 1st capsule's extra time goes at b and c: installing the code
# (ee_insert, no I/O) and, on demand, getting it from the previous hop.
inst = {}
for line in open(install_path):
    f = line.split()  # size, ping insert, trace insert, "warm", warm insert
    inst.setdefault(f[0], []).append((float(f[2]), float(f[4])))
c = []
c.append("| code | install, fresh node (µs) | install, warm (µs) | 1st − warm processing at b, on demand (µs) | the same, carried (µs) | at c, on demand (µs) | at c, carried (µs) |")
c.append("|---|---:|---:|---:|---:|---:|---:|")
for s in sizes:
    fresh = statistics.median(x for x, _ in inst.get(s, [(float("nan"), 0)]))
    warm = statistics.median(y for _, y in inst.get(s, [(0, float("nan"))]))
    ex = []
    for node in ("b", "c"):
        for m in ("on-demand", "carry"):
            first, warmp = med(s, m, [1], node)[0], med(s, m, cols[3][1], node)[0]
            ex.append("-" if None in (first, warmp) else "%.0f" % (first - warmp))
    c.append("| %d chunk%s | %.0f | %.0f | %s |" % (chunks[s], "s" if chunks[s] > 1 else "", fresh, warm, " | ".join(ex)))
open(costs_path, "w").write("\n".join(c) + "\n")
EOF

echo
cat "$TABLE"
echo
cat "$RATIOS"
echo
cat "$COSTS"
echo
N_BACK=$(wc -l <"$TMP/raw.jsonl")
N_SENT=$((SERIES * CAPSULES * ${#CONFIGS[@]}))
echo "$N_BACK of $N_SENT capsules came back (measured in $((END - START)) s)"
if [[ -s $PROBLEMS ]]; then
	echo "problems:"
	sed 's/^/  /' "$PROBLEMS"
fi

# ---- bench/RESULTS.md ----
RESULTS=$ROOT/bench/RESULTS.md
SECTION=$TMP/section.md
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
COMMIT=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
{
	echo "<!-- codeload:begin (written by bench/codeload.sh; edit outside these markers) -->"
	echo "## Code distribution: on demand vs. carried, 1st to >10th capsule (issue 3)"
	echo
	echo "Seed 002's Figure 6 on one machine: trace capsules a → c → a across the"
	echo "3-node line (\`examples/line3.topo\`, loopback UDP), each series from empty"
	echo "code caches (a fresh lab), with code loaded on demand (b fetches it from a,"
	echo "c from b, in 1024-octet chunks) or carried in every capsule (seed 002's"
	echo "\"associated\" distribution). The code is \`bench/fig6/trace_fig6.c\`, a"
	echo "trace object that records each node's processing time (from the node's"
	echo "receipt of the capsule, parking while its code is fetched included, to the"
	echo "record), built three times: the bare object and the same code padded with an"
	echo "unreferenced section to 2 and 6 chunks. The round trip is the src node's"
	echo "clock from the capsule's first run to its return. Node a is the source: the"
	echo "CLI inserts the code there before each capsule, so a never loads it."
	echo
	echo "- command: \`bench/codeload.sh ${1:-build}\` (SERIES=$SERIES CAPSULES=$CAPSULES WARMUP=$WARMUP)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $COMMIT"
	echo "- machine: nproc $(nproc), kernel $(uname -r), ${CPU:-unknown CPU}; load average"
	echo "  before/after: $LOAD0 / $LOAD1 (the machine is shared: other work ran alongside)"
	echo "- code sizes (the ELF object, what is fetched or carried): ${BYTES[1chunk]} octets (1 chunk),"
	echo "  ${BYTES[2chunks]} (2 chunks), ${BYTES[6chunks]} (6 chunks)"
	echo "- figures: medians over $SERIES series (a fresh lab each) of capsule 1, 2, 3, and"
	echo "  of capsules 11..$CAPSULES for \">10th\"; µs. $N_BACK of $N_SENT capsules came back."
	if [[ $WARMUP == 1 ]]; then
		echo "- before each series one active ping a → c (ping.ao, loaded on demand: other"
		echo "  code) wakes the fresh node processes, so that the 1st trace capsule pays for"
		echo "  its code and not for the processes' very first packet, fetch and JIT."
	fi
	echo "- checked in every series from the nodes' counters: on demand, a served N chunks"
	echo "  to b and b served N to c, with no retry or timeout; carried, b and c cached the"
	echo "  carried code and fetched nothing.$([[ -s $PROBLEMS ]] && echo " Exceptions: $(wc -l <"$PROBLEMS") (listed below).")"
	echo
	cat "$TABLE"
	echo
	echo "Round trips of the first capsule against a warm one (the >10th on demand, the"
	echo "issue's target: the first on-demand capsule across 3 nodes within 5x):"
	echo
	cat "$RATIOS"
	echo
	echo "The 1st capsule's extra processing at b and c against the cost of installing"
	echo "the code alone (\`bench/ee_insert ping.ao OBJECT -r 20\`: SHA-256 name, ELF"
	echo "checks, path count, librte_bpf validation and JIT, no I/O; median of $INSERTS fresh"
	echo "processes, ping.ao inserted first as in a node after the warm-up; \"warm\": the"
	echo "same process inserting it again):"
	echo
	cat "$COSTS"
	if [[ -s $PROBLEMS ]]; then
		echo
		echo "Exceptions seen by the script:"
		echo
		sed 's/^/- /' "$PROBLEMS"
	fi
	echo "<!-- codeload:end -->"
} >"$SECTION"

results_section "$RESULTS" codeload "$SECTION"
