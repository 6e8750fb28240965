#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes help2man's include file for anode(8): a COMMANDS section with the
# --help text of every subcommand `anode -h` lists, so that the manual page
# and --help are one text and cannot drift apart.
#   man/subcommands.sh ANODE OUTPUT
set -euo pipefail
anode=$1 out=$2
{
  echo "[COMMANDS]"
  "$anode" -h | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' |
    while read -r cmd; do
      echo ".SS \"anode $cmd\""
      echo ".nf"
      # roff: escape backslashes, and lines that would start a request.
      "$anode" "$cmd" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
      echo ".fi"
    done
  echo "[SEE ALSO]"
  echo "anoded(8), anoded.conf(5), anode-policy(5), anode-code(7)."
  echo "The documentation in /usr/share/doc/anode, and docs/ in the source."
} >"$out"
