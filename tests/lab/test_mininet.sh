#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# anode routers under Mininet (issue 19, item 8): tools/mininet's
# AnodeRouter node class in Mininet's own network (AnodeLine: h1 - r1 - r2
# - h2), run by tests/lab/mininet_anode.py inside `unshare --pid --fork
# --mount-proc --net`, so that nothing Mininet does reaches this machine's
# processes or network. Skipped (77) without root or Mininet.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
/usr/bin/python3 -c 'import mininet.net' 2>/dev/null || { echo "SKIP: Mininet is not installed (scripts/deps.sh installs mininet)"; exit 77; }
export PATH="$PATH:/usr/sbin:/sbin"
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH="$SRC_DIR/tools/mininet" MN_RUNDIR="$ANODE_RUN_DIR/mn"
rc=0
unshare --pid --fork --mount-proc --net -- /usr/bin/python3 "$here/mininet_anode.py" || rc=$?
[ "$rc" -eq 0 ] || fail "the Mininet network failed (exit $rc); r1's and r2's logs: $(tail -20 "$MN_RUNDIR"/r*/anoded.log 2>/dev/null)"
