#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build a build directory: scripts/build.sh DIR [meson options...]
set -euo pipefail
dir=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$top" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
