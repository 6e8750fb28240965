#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# What one work unit costs, helper by helper (issue 17, "cost is work"):
# bench/helper_cost runs each calibration object of bench/cost/ (one helper
# called many times at its slowest) with a budget that never runs out, and
# divides its median time by the units it was charged. The baseline is
# straight-line eBPF instructions (one unit each). Target: 0.5-2 ns per
# unit for every helper whose charge is meant to be exact (the bulk ones);
# figures far below 0.5 are helpers charged above their cost.
# Then it replaces the "helper-cost" section of bench/RESULTS.md.
#
# Usage: bench/helper_cost.sh [BUILD_DIR]   (default: build/ under the repository)
# Builds nothing. Environment: RUNS (2000) runs per object.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
RUNS=${RUNS:-2000}
[[ -x $BUILD/bench/helper_cost ]] || { echo "helper_cost.sh: $BUILD/bench/helper_cost missing; build first" >&2; exit 1; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$("$BUILD/bench/helper_cost" -r "$RUNS" "$BUILD/bench")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$table"
section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
	echo "<!-- helper-cost:begin (written by bench/helper_cost.sh; edit outside these markers) -->"
	echo "## What a work unit costs, helper by helper (issue 17)"
	echo
	echo "- command: \`bench/helper_cost.sh build\` (RUNS=$RUNS)"
	echo "- date: $started; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: nproc $(nproc), kernel $(uname -r); load average before/after: $load_before / $load_after"
	echo
	echo "Each row runs one calibration object (bench/cost/) whose entry point calls the helper"
	echo "many times with the arguments that make it slowest; ns per unit = median run time /"
	echo "units charged. Target 0.5-2 ns per unit. an_node_info and an_send call the bench's"
	echo "trivial callbacks here (the node's own look up figures and routes), so they read low."
	echo
	echo "$table"
	echo "<!-- helper-cost:end -->"
} >"$section"
results_section "$ROOT/bench/RESULTS.md" helper-cost "$section"
