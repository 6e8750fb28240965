#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# anoded.conf(5) from its template and the directive list `anoded -h`
# prints, so that the manual page and --help are one text.
#   man/conf.sh ANODED TEMPLATE VERSION OUTPUT
set -euo pipefail
anoded=$1 template=$2 version=$3 out=$4
# The whole text first: awk stops reading at the section's end, and anoded
# still writing into a closed pipe would die of SIGPIPE (pipefail).
help=$("$anoded" -h)
directives=$(printf '%s\n' "$help" | awk '
  /^Configuration:/ { on = 1; next }
  on && /^$/ { exit }
  on && /^  [a-z]/ {
    line = substr($0, 3)
    # "name ARGS   text": the directive and its arguments end at two blanks.
    i = index(line, "  ")
    head = substr(line, 1, i - 1); text = substr(line, i); sub(/^ +/, "", text)
    printf ".TP\n.B %s\n%s\n", head, text
    next
  }
  on { t = $0; sub(/^ +/, "", t); print t }' | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/^\\&\.TP$/.TP/' -e 's/^\\&\.B /.B /')
awk -v d="$directives" -v v="$version" '{ gsub(/@VERSION@/, v) } /^@DIRECTIVES@$/ { print d; next } { print }' "$template" >"$out"
