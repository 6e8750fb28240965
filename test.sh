#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build anode and run every test: unit tests, the fuzz corpora replayed,
# and lab tests that start real nodes on loopback. Everything runs twice:
# in a plain build and in an AddressSanitizer + UndefinedBehaviorSanitizer
# build; then the release build compiles, and the Debian package is built,
# checked and installed into a fresh root. Installs missing Debian packages first. Ends with the line
# "N passed, N failed, N skipped" (N counts tests over both builds; a skip is
# not a pass).
set -uo pipefail
cd "$(dirname "$0")"
top=$(pwd)

scripts/deps.sh || { echo "cannot install dependencies"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

: >"$top/.test-failures.txt"
passed=0
failed=0
skipped=0
run_suite() { # build-dir label [meson options]
  local dir=$1 label=$2; shift 2
  echo "== $label build ($dir)"
  if ! scripts/build.sh "$dir" "$@"; then
    echo "$label build failed"
    failed=$((failed + 1))
    return
  fi
  meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 3 2>&1 | tee "$dir/test-summary.txt" |
    grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped|Unexpected Pass|Expected Fail):' || true
  local ok fail timeout unexpected skip
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -1)
  timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -1)
  unexpected=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -1)
  skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -1)
  if [ -z "$ok" ]; then
    echo "$label: meson test did not run"
    failed=$((failed + 1))
    return
  fi
  # The end of each failing test's output, printed again last of all, so
  # that the tail of this script's output says why (CI shows the tail).
  awk -v label="$label" '
    /^ *[0-9]+\/[0-9]+ .* (FAIL|TIMEOUT|UNEXPECTEDPASS) / { name = $0 }
    /✀/ { on = 1; n = 0; next }
    on && /^―/ {
      on = 0
      print "== why " label " " name
      for (i = (n > 60 ? n - 60 : 0); i < n; i++) print buf[i % 60]
      next
    }
    on { buf[n % 60] = $0; n++ }
  ' "$dir/test-summary.txt" >>"$top/.test-failures.txt"
  passed=$((passed + ok))
  skipped=$((skipped + ${skip:-0}))
  failed=$((failed + ${fail:-0} + ${timeout:-0} + ${unexpected:-0}))
}

run_suite "$top/build" plain
# ASan and JIT-compiled eBPF agree (the JIT's code is not instrumented, the
# helpers it calls are); leaks are checked too.
ASAN_OPTIONS=detect_leaks=1 run_suite "$top/build-asan" sanitized -Db_sanitize=address,undefined -Db_lundef=false

# The demo builds with --buildtype=release, where gcc warns about other
# things (-O3): that build must compile too.
echo "== release build ($top/build-release)"
if scripts/build.sh "$top/build-release" --buildtype=release; then
  echo "release build OK"
  passed=$((passed + 1))
else
  echo "release build FAILED"
  failed=$((failed + 1))
fi

# The Debian package, built from this tree and installed into a fresh root
# (an overlay of / in a mount namespace: the machine is left as it was).
echo "== package (tests/pkg/test_package.sh)"
tests/pkg/test_package.sh "$top" 2>&1 | tail -20
case ${PIPESTATUS[0]} in
  0) passed=$((passed + 1)) ;;
  77) skipped=$((skipped + 1)) ;;
  *) echo "package test FAILED"; failed=$((failed + 1)) ;;
esac

cat "$top/.test-failures.txt"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
