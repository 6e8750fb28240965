# SPDX-License-Identifier: MIT
# h1 -- r -- h2 in network namespaces of this run, for the tests of a router
# node with services (sourced after lib.sh). hrh_up TAG sets H1, R, H2 (the
# namespaces) and X (their subnets are 10.X.1.0/24 and 10.X.2.0/24: h1 .1.2,
# r .1.1 on r1 and .2.1 on r2, h2 .2.2), with routes and forwarding on r;
# hrh_down removes them, and the node log's tail when the test failed, the
# processes in $pids stopped first. A test sets $dir and $pids, and traps
# EXIT with hrh_finish; namespaces of its own in $HRH_EXTRA go too.
hrh_up() { # tag
  H1=an-$1-$$-h1 R=an-$1-$$-r H2=an-$1-$$-h2
  X=$((100 + RANDOM % 150))
  for n in "$H1" "$R" "$H2"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip -n "$H1" link add eth0 type veth peer name r1 netns "$R"
  ip -n "$H2" link add eth0 type veth peer name r2 netns "$R"
  ip -n "$H1" addr add 10.$X.1.2/24 dev eth0
  ip -n "$R" addr add 10.$X.1.1/24 dev r1
  ip -n "$R" addr add 10.$X.2.1/24 dev r2
  ip -n "$H2" addr add 10.$X.2.2/24 dev eth0
  for l in "$H1 eth0" "$R r1" "$R r2" "$H2 eth0"; do set -- $l; ip -n "$1" link set "$2" up; done
  ip -n "$H1" route add default via 10.$X.1.1
  ip -n "$H2" route add default via 10.$X.2.1
  ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
}

hrh_finish() {
  local rc=$?
  set +e
  [ $rc = 0 ] || tail -30 "$dir/node.log" >&2
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for n in "$H1" "$R" "$H2" ${HRH_EXTRA:-}; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
  (exit $rc)
  cleanup
}
