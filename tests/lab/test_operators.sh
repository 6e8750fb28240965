#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Operators without root (issue 19, item 1): a node's sockets go to its
# socket-group, mode 0660; a member of that group (no root) may look at
# the node (stats, routes, code list) and use it (ping), but not change it
# (code remove, log-level, shutdown), which root, the node's own user and
# members of its admin-group may; a process in neither group cannot
# connect. Run as root, the operators are uids with no account (setpriv).
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (setpriv to other uids)"
  exit 77
fi
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) is not installed"; exit 77; }
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
OPS=4242   # the operators' group (socket-group)
ADMIN=4343 # the admin group
topo=$ANODE_RUN_DIR/ops.topo
{ cat "$TOPO_DIR/line3.topo"; echo "set all socket-group $OPS"; echo "set all admin-group $ADMIN"; } >"$topo"
lab_up "$topo" >/dev/null
# The operators reach the sockets: the directories on the way are
# traversable (the sockets themselves say who may connect).
chmod 0711 "$ANODE_RUN_DIR" "$ANODE_RUN_DIR/ops"
b_app=$("$ANODE" -n b info --json | json "d['app_socket']")
b_ctl=$("$ANODE" -n b info --json | json "d['ctl_socket']")
c_addr=$(awk '$1 == "c" {print $2}' "$ANODE_RUN_DIR/ops/nodes")
chmod 0711 "$(dirname "$b_app")" "$(dirname "$b_ctl")"
for s in "$b_app" "$b_ctl"; do
  expect_eq "$(basename "$s") belongs to group $OPS, mode 0660" "$(stat -c '%g %a' "$s")" "$OPS 660"
done
as() { # uid groups command...: as a process with that uid, primary group the first
  local uid=$1 groups=$2
  shift 2
  setpriv --reuid "$uid" --regid "${groups%%,*}" --groups "$groups" --inh-caps=-all -- \
    env ANODE_RUN_DIR="$ANODE_RUN_DIR/op-$uid" "$@"
}
ping_name=$("$ANODE" code name "$CODE_DIR/ping.ao" | cut -c1-64)

# An operator: in the socket group only.
out=$(as 5001 $OPS "$ANODE" -n "$b_app" stats --json)
expect_eq "an operator (uid 5001, group $OPS) reads b's counters" "$(json "d['node']" <<<"$out")" b
expect_match "...its routes" "$(as 5001 $OPS "$ANODE" -n "$b_app" routes)" "via"
out=$(as 5001 $OPS "$ANODE" -n "$b_app" ping "$c_addr" -c 2 -i 0.05)
expect_match "...and pings through it, as an application" "$out" '2 received'
expect_match "...which cached the ping code" "$(as 5001 $OPS "$ANODE" -n "$b_app" code list)" "^$ping_name"
rc=0; out=$(as 5001 $OPS "$ANODE" -n "$b_app" code remove "$ping_name" 2>&1) || rc=$?
expect_eq "...but may not remove code" "$rc" 1
expect_match "...told why" "$out" "changing the node needs root, its own user or group $ADMIN"
expect_match "...the code is still there" "$("$ANODE" -n b code list)" "^$ping_name"
rc=0; out=$(as 5001 $OPS "$ANODE" -n "$b_app" route del "$c_addr" 2>&1) || rc=$?
expect_eq "...nor remove a route" "$rc $out" "1 anode: node b: changing the node needs root, its own user or group $ADMIN (this process may only look)"
expect_ge "...refusals counted" "$("$ANODE" -n b stats --json | json "d['control']['refused_changes']")" 1

# An admin: in both groups.
as 5002 "$OPS,$ADMIN" "$ANODE" -n "$b_app" code remove "$ping_name" >/dev/null ||
  fail "an admin (group $ADMIN) could not remove code"
rc=0; "$ANODE" -n b code list | grep -q "^$ping_name" || rc=1
expect_eq "an admin (uid 5002, groups $OPS and $ADMIN) removed it" "$rc" 1

# Anyone else cannot connect at all.
rc=0; out=$(as 5003 5003 "$ANODE" -n "$b_app" stats 2>&1) || rc=$?
expect_eq "a process in neither group (uid 5003) cannot reach b" "$rc" 1
expect_match "...told so" "$out" 'Permission denied'

# An explicit group that does not exist stops the node with the reason.
printf 'name q\nlisten 127.0.0.1:47391\napp-socket %s/q.app\nctl-socket %s/q.ctl\nsocket-group no-such-group-x\n' \
  "$ANODE_RUN_DIR" "$ANODE_RUN_DIR" >"$ANODE_RUN_DIR/q.conf"
rc=0; out=$(timeout 10 "$ANODED" -f "$ANODE_RUN_DIR/q.conf" 2>&1) || rc=$?
expect_eq "a node whose socket-group does not exist does not start" "$rc" 1
expect_match "...and says why" "$out" 'socket-group no-such-group-x: no such group'
echo "$checks checks passed"
