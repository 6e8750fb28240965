#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every documented command runs (issue 19, item 6): the shell blocks of
# README.md and docs/*.md fenced as "```sh runnable" (or "runnable-root":
# they build network namespaces) run as printed, in order, each in a fresh
# bash with -e -u -o pipefail, from a directory that looks like the top of
# the tree (examples/ and build/ are links to this tree's), so that what
# they write stays out of the tree. A block fails the test when any of its
# commands fails; root blocks are skipped, and counted, without root.
. "$(dirname "$0")/lib.sh"
[ -n "${BUILD_DIR:-}" ] || fail "BUILD_DIR is not set (meson sets it)"
work=$ANODE_RUN_DIR/docs
mkdir -p "$work/blocks"
# A service process runs as its user's uid and must reach the program a
# block's policy names under $work, as it would under a checked-out tree.
chmod 711 "$ANODE_RUN_DIR"
chmod 755 "$work"
ln -s "$SRC_DIR/examples" "$work/examples"
ln -s "$BUILD_DIR" "$work/build"

# Extract: one file per block, named after its place.
n=0
for doc in "$SRC_DIR/README.md" "$SRC_DIR"/docs/*.md; do
  rel=${doc#"$SRC_DIR"/}
  awk -v rel="$rel" -v dir="$work/blocks" -v start="$n" '
    /^```sh runnable(-root)?$/ { k++; kind = ($0 ~ /-root$/) ? "root" : "user";
      f = sprintf("%s/%03d-%s", dir, start + k, kind); print "# " rel ":" NR > f; inside = 1; next }
    inside && /^```$/ { inside = 0; close(f); next }
    inside { print > f }
    END { if (inside) { print rel ": a runnable block is not closed" > "/dev/stderr"; exit 1 } }' "$doc"
  n=$(find "$work/blocks" -type f | wc -l)
done
[ "$n" -ge 5 ] || fail "only $n runnable blocks found (README.md has at least 5)"

skipped=0
for b in "$work"/blocks/*; do
  where=$(head -1 "$b" | cut -c3-)
  if [[ $b == *-root ]] && [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: $where (needs root)"
    skipped=$((skipped + 1))
    continue
  fi
  if ! (cd "$work" && timeout 180 bash -euo pipefail -x "$b") >"$b.log" 2>&1; then
    echo "---- $where, the block:" >&2
    cat "$b" >&2
    echo "---- what it printed (last 40 lines):" >&2
    tail -40 "$b.log" >&2
    for log in "$ANODE_RUN_DIR"/*/*.log; do
      [ -f "$log" ] && { echo "---- $log:" >&2; tail -15 "$log" >&2; }
    done
    fail "the block at $where does not run as printed"
  fi
  ok "$where runs as printed ($(grep -cv '^#' "$b") lines)"
done
echo "$checks checks passed, $skipped blocks skipped"
