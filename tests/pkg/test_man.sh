#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The manual pages written by hand say what the code does: every helper a
# code object may call (the helper tables of every EE kind: src/ee/helper.h
# and helpers.c, and the rooms' kinds, src/*/kind*.c) is in anode-code(7), every
# policy keyword src/svc/policy.c reads is in anode-policy(5), and the pages
# made from --help (anoded.conf(5), anode(8)) hold every directive and
# subcommand. Expects SRC_DIR and BUILD_DIR.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
man_text() { MANWIDTH=200 man -l "$1" 2>/dev/null; }

code7=$(man_text "$SRC_DIR/man/anode-code.7")
for h in $(cat "$SRC_DIR"/src/ee/helper.h "$SRC_DIR"/src/ee/helpers.c "$SRC_DIR"/src/*/kind*.c |
  grep -o 'EE_FUNC("an_[a-z_]*"' | sed 's/EE_FUNC("//; s/"//' | sort -u); do
  grep -q "$h(" <<<"$code7" || fail "anode-code(7) does not describe helper $h"
done
ok "anode-code(7) describes every helper code objects may call"
for k in accept packet probe get_tag merge done build AN_PTR_ADD; do
  grep -qw "$k" <<<"$code7" || fail "anode-code(7) does not mention $k"
done
ok "...and every kind's entry points"

policy5=$(man_text "$SRC_DIR/man/anode-policy.5")
for k in $(grep -o '!strcmp([a-z0-9_\[\]]*, "[a-z]*")' "$SRC_DIR/src/svc/policy.c" | sed 's/.*"\([a-z]*\)")/\1/' | sort -u); do
  grep -qw "$k" <<<"$policy5" || fail "anode-policy(5) does not describe keyword '$k' that policy.c reads"
done
ok "anode-policy(5) describes every keyword the policy parser reads"

[ -f "$BUILD_DIR/man/anoded.conf.5" ] || { echo "SKIP: manual pages not built (help2man missing?)"; exit 77; }
conf5=$(man_text "$BUILD_DIR/man/anoded.conf.5")
for d in $("$BUILD_DIR/src/node/anoded" -h | awk '/^Configuration:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort -u); do
  grep -q "^       $d" <<<"$conf5" || fail "anoded.conf(5) lacks directive $d"
done
ok "anoded.conf(5) has every directive anoded -h lists"
if [ -f "$BUILD_DIR/man/anode.8" ]; then
  anode8=$(man_text "$BUILD_DIR/man/anode.8")
  for c in $("$BUILD_DIR/tools/anode" -h | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'); do
    grep -q "anode $c" <<<"$anode8" || fail "anode(8) lacks the subcommand $c"
  done
  ok "anode(8) has every subcommand's --help"
fi
echo "$n checks passed"
