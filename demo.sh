#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The anode demo: build, start a lab of three overlay nodes on this machine
# (a - b - c, empty code caches), send active ping, traceroute and flood
# capsules across it, merge two senders' messages with concast, show what
# happened at each node, and stop the lab. Installs missing
# Debian packages first. Needs no configuration and no network.
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
scripts/build.sh build --buildtype=release

anode=build/tools/anode
topo=examples/line3.topo
# The lab's state (configurations, logs, sockets) lives in a directory of
# the demo's own, removed at the end unless the caller chose it.
own_dir=
if [ -z "${ANODE_RUN_DIR:-}" ]; then
  own_dir=$(mktemp -d /tmp/anode-demo.XXXXXX)
  ANODE_RUN_DIR=$own_dir
fi
export ANODE_RUN_DIR
trap '$anode lab down $topo >/dev/null 2>&1 || true; [ -z "$own_dir" ] || rm -rf "$own_dir"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Start the lab ($topo): three anoded processes joined by UDP overlay links"
$anode lab up $topo

step "Active ping a -> c: b and c load the ping code on demand from their previous hop"
$anode -n a ping c -c 5 -i 0.2

step "Code caches after the first ping (names are SHA-256 of the code)"
for n in a b c; do echo "-- $n"; $anode -n $n code list; done

step "Active traceroute a -> c: each node adds its figures, read from the system"
$anode -n a trace c
step "... the same with the trace code carried in the capsule, collecting at b only, as JSON"
$anode -n a trace c --carry --at b --json

step "Active flood a -> c for 2 seconds: c counts capsules in soft state and reports back"
$anode -n a flood c -t 2 -s 1000

step "Concast (seed 001): a and b send counts toward c, c set the merge; b merges a's with its own"
$anode -n c concast listen 198.18.0.1 7 build/apps/count.ao --seconds 3 --json &
listener=$!
until $anode -n c concast flows 2>/dev/null | grep -q ready; do sleep 0.1; done
# --after: both senders have joined before either sends, so b waits for
# both from the first tag on.
$anode -n a concast join 198.18.0.1 c 7 --tags 10 --interval 100 --after 500 &
sender=$!
sleep 0.05
$anode -n b concast join 198.18.0.1 c 7 --tags 10 --interval 100 --after 500
wait $sender
$anode -n b concast flows
wait $listener
echo "(each line: an 8-octet tag and a 4-octet count; 2 = merged from both senders)"

step "What the middle node did: every counter, drops by reason, its figures and bounds"
$anode -n b stats
step "What each node did, in a line"
$anode lab status

step "Stop the lab"
$anode lab down $topo
trap - EXIT
[ -z "$own_dir" ] || rm -rf "$own_dir"
