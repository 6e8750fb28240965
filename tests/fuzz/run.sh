#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build the libFuzzer targets of src/wire with clang and run each for a given
# number of seconds (default 30), then merge what was found into the
# checked-in corpus (tests/fuzz/corpus/<target>), keeping the hand-made
# seed-* files and only the other inputs that add coverage (-merge=1).
# A crash stops the script with the reproducer left in $BUILD/crashes.
#
#   tests/fuzz/run.sh [seconds] [target...]
#   BUILD=/tmp/anode-fuzz SRC=<meson source root> tests/fuzz/run.sh 60
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$(cd "$here/../.." && pwd)}
BUILD=${BUILD:-/tmp/anode-fuzz}
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_anep fuzz_capsule fuzz_codeload fuzz_applink fuzz_addr fuzz_ipv4 fuzz_elf fuzz_kobj fuzz_node fuzz_rewrite}

if [ ! -d "$BUILD" ]; then
	CC=clang meson setup -Dfuzzing=true -Dwerror=false "$BUILD" "$SRC"
fi
for t in $targets; do
	ninja -C "$BUILD" "tests/fuzz/$t"
done

mkdir -p "$BUILD/crashes"
for t in $targets; do
	corpus="$here/corpus/$t"
	found="$BUILD/found/$t"
	merged="$BUILD/merged/$t"
	mkdir -p "$corpus" "$found"
	rm -rf "$merged"
	mkdir -p "$merged"
	echo "== $t: ${secs}s"
	"$BUILD/tests/fuzz/$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$BUILD/crashes/$t-" "$found" "$corpus"
	# Seeds stay whatever their coverage; the rest only if it adds some.
	cp "$corpus"/seed-* "$merged"/ 2>/dev/null || true
	"$BUILD/tests/fuzz/$t" -merge=1 "$merged" "$corpus" "$found" 2>&1 | tail -n 1
	find "$corpus" -type f ! -name 'seed-*' -delete
	find "$merged" -type f ! -name 'seed-*' -exec cp {} "$corpus"/ \;
	echo "== $t: $(ls "$corpus" | wc -l) files in corpus"
done
