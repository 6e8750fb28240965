#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build a build directory: scripts/build.sh DIR [meson options...]
set -euo pipefail
dir=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$top" "$@" >"$top/.meson-setup.log" 2>&1 || { cat "$top/.meson-setup.log"; exit 1; }
  rm -f "$top/.meson-setup.log"
fi
# Quiet when it works; the whole story when it does not.
ninja -C "$dir" >"$dir/ninja.log" 2>&1 || { cat "$dir/ninja.log"; exit 1; }
