# SPDX-License-Identifier: MIT
# Shared by the lab tests: a private run directory, a trap that stops every
# lab this test started (by the PIDs the lab recorded), and checks that say
# what they expected. Sourced; expects ANODE (the CLI) and TOPO_DIR.
set -euo pipefail

export ANODE_RUN_DIR
ANODE_RUN_DIR=$(mktemp -d /tmp/anode-test.XXXXXX)
labs_up=()
# In a sanitized build, nodes and the CLI write sanitizer reports here
# (a node's stderr goes to a log that lab down removes).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$ANODE_RUN_DIR/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$ANODE_RUN_DIR/sanitizer"
cleanup() {
  local rc=$?
  for t in "${labs_up[@]}"; do "$ANODE" lab down "$t" >/dev/null 2>&1 || true; done
  # Any lab this test started that it did not get to record (lab down takes
  # the lab's name as well as its file).
  for d in "$ANODE_RUN_DIR"/*/; do
    [ -f "$d/nodes" ] && "$ANODE" lab down "$(basename "$d")" >/dev/null 2>&1 || true
  done
  if compgen -G "$ANODE_RUN_DIR/sanitizer*" >/dev/null; then
    echo "FAIL: sanitizer reports:" >&2
    cat "$ANODE_RUN_DIR"/sanitizer* >&2
    rc=1
  fi
  rm -rf "$ANODE_RUN_DIR"
  exit $rc
}
trap cleanup EXIT

checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

lab_up() { # topology file
  "$ANODE" lab up "$1"
  labs_up+=("$1")
}

# The value of one counter of a node's stats --json.
counter() { # node name
  "$ANODE" -n "$1" stats --json | /usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
k = sys.argv[1]
for section in (d['counters'], d['link'], d['code_cache'], d['applinks']):
    if k in section:
        print(section[k]); break
else:
    sys.exit('no counter ' + k)" "$2"
}

# The sum of a node's drop_* counters.
drops() { # node
  "$ANODE" -n "$1" stats --json | /usr/bin/python3 -c "
import json, sys
print(sum(v for k, v in json.load(sys.stdin)['counters'].items() if k.startswith('drop_')))"
}

# Whether a process is gone (a zombie that nobody reaped counts as gone).
gone() { # pid
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  [[ $state == Z* ]]
}

expect_eq() { # description actual expected
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
  ok "$1"
}

expect_ge() { # description actual minimum
  [ "$2" -ge "$3" ] || fail "$1: got $2, expected at least $3"
  ok "$1 ($2)"
}

expect_match() { # description text regex
  grep -Eq -e "$3" <<<"$2" || { echo "$2" >&2; fail "$1: output does not match /$3/"; } # a here-string: under pipefail, echo | grep -q can fail with SIGPIPE
  ok "$1"
}

# Wait until a command succeeds (polling a real event, not sleeping blindly).
wait_for() { # description timeout-seconds command...
  local what=$1 t=$2; shift 2
  local until=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || fail "timed out waiting for $what"
    sleep 0.05
  done
}
