# SPDX-License-Identifier: MIT
# Shared by the signalling lab tests (test_signal.sh, test_signal_modules.sh):
# examples/sig.topo (h1 - a - p - b - h2; a, b anode routers, p plain) up in
# namespaces with the policy $dir/policy and any more 'set' lines given,
# then the addresses (H1, H2; A, B with port 3322) and `sig ARGS`, the CLI
# run on h1. Sourced after lib.sh; expects lab and dir.
py() { /usr/bin/python3 -c "$@"; }
sig_lab_up() { # more-set-lines
  { cat "$TOPO_DIR/sig.topo"; echo "set all policy $dir/policy"; printf '%s\n' "${1:-}"; } >"$dir/$lab.topo"
  "$ANODE" lab up "$dir/$lab.topo" --netns >/dev/null
  labs_up+=("$lab")
  status=$("$ANODE" lab status "$lab" --json)
  H1=$(addr_of h1) H2=$(addr_of h2)
  A=$(addr_of a):3322 B=$(addr_of b):3322
}
addr_of() { echo "$status" | py "import json,sys; l=json.load(sys.stdin)['labs'][0]; print([n['address'] for n in l['namespaces'] if n['name']=='$1'][0])"; }
sig() { "$ANODE" lab exec "$lab" h1 -- "$ANODE" signal "$@"; }
