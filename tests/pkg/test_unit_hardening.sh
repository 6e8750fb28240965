#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Does anoded@.service's hardening leave a router node working? This machine
# has no systemd as PID 1, so the test applies what the unit asks for by
# hand, read from the unit file itself: the capability bounding set and
# no_new_privs (setpriv), ProtectSystem=strict (/ read-only but for
# ReadWritePaths and the API file systems), ProtectHome (empty /home and
# /root), PrivateTmp (a /tmp of its own), PrivateDevices (a /dev of null,
# zero, full, random, urandom, tty), ProtectKernelTunables and
# ProtectKernelLogs if the unit sets them (mounts over /proc/sys and
# /proc/kmsg, which stop bubblewrap mounting a service's /proc: the unit
# does not), ProtectHostname (a UTS namespace), UMask, SystemCallFilter=~GROUPS and SystemCallArchitectures=
# native (tests/pkg/syscall_deny.c, with the groups systemd-analyze
# expands), PrivateMounts (a mount namespace of its own). Type=notify: the
# node's READY=1 reaches $NOTIFY_SOCKET once its capsule port is
# intercepted, RELOADING=1 and READY=1 frame a reload, STOPPING=1 ends it.
# Under them a router node with a policy starts (the privileged parent, the
# node child dropped to its user, the concast raw socket), a signed
# activation starts a service in its sandbox (bubblewrap, cgroups), and a
# reload (what ExecReload sends: SIGHUP) reads a new policy while the node
# goes on. Needs root, ip netns, bubblewrap, setpriv; skips (77) otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
for t in bwrap setpriv unshare systemd-analyze; do command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }; done
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || { echo "SKIP: no cgroup v1 memory controller"; exit 77; }
. "$(dirname "$0")/../lab/lib.sh"
unit=$SRC_DIR/systemd/anoded@.service
prop() { sed -n "s/^$1=//p" "$unit"; }

# What the unit asks for.
caps=$(prop CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)
[ -n "$caps" ] || fail "the unit has no CapabilityBoundingSet"
[ "$(prop NoNewPrivileges)" = yes ] || fail "the unit does not set NoNewPrivileges"
[ "$(prop ProtectSystem)" = strict ] || fail "the unit does not set ProtectSystem=strict"
rw=$(prop ReadWritePaths)
[ "$rw" = /run/anode ] || fail "the test knows ReadWritePaths=/run/anode, the unit says '$rw'"
for p in PrivateDevices ProtectHostname PrivateMounts; do
  [ "$(prop $p)" = yes ] || fail "the test knows $p=yes, the unit says '$(prop $p)'"
done
[ "$(prop SystemCallArchitectures)" = native ] || fail "the unit does not set SystemCallArchitectures=native"
[ "$(prop Type)" = notify ] || fail "the unit is not Type=notify"
umask_=$(prop UMask)
filter=$(prop SystemCallFilter)
[[ $filter == "~"* ]] || fail "the test knows a deny list (SystemCallFilter=~...), the unit says '$filter'"
denied=$(for g in ${filter#\~}; do systemd-analyze syscall-filter --no-pager "$g" | awk '$1 !~ /^[#@]/ && NF == 1 {print $1}'; done | sort -u)
[ "$(wc -l <<<"$denied")" -ge 40 ] || fail "systemd-analyze expanded '$filter' to only: $denied"
ok "the unit asks for: bounding set $caps, no_new_privs, ProtectSystem=strict, ProtectHome, PrivateTmp, PrivateDevices, ProtectHostname, UMask $umask_, $(wc -l <<<"$denied") system calls denied"

# The node's files live where the unit lets it write: /run/anode.
ns=an-uh-$$
dir=/run/anode/uh-$$
made_run=
[ -d /run/anode ] || made_run=1
mkdir -p "$dir"
chmod 755 /run/anode "$dir"
node_pid= parent=
# unshare --fork ignores SIGTERM while it waits: stop anoded (the parent
# inside it), and unshare ends with it.
notify_pid=
trap 'rc=$?; set +e; [ $rc = 0 ] || tail -40 "$dir/node.log" >&2; [ -z "$notify_pid" ] || kill $notify_pid 2>/dev/null; [ -z "$parent" ] || kill $parent 2>/dev/null; [ -z "$node_pid" ] || wait $node_pid 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf "$dir"; [ -z "$made_run" ] || rmdir /run/anode; (exit $rc); cleanup' EXIT
cp "$SRC_DIR/tests/lab/svc_probe.sh" "$dir/probe"
# PrivateTmp hides /tmp, where a build tree may be: anoded runs from here,
# as it would from /usr/sbin.
cp "$ANODED" "$dir/anoded"
cp "$SYSCALL_DENY" "$dir/syscall_deny"
chmod 755 "$dir/probe"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
"$ANODE" key gen -o "$dir/carol.key" >"$dir/carol.pub"
cat >"$dir/policy" <<POL
user bob $(cat "$dir/bob.pub")
service probe program $dir/probe
allow bob service probe
POL
printf 'name uh\nmode router\nuser nobody\nlisten 127.0.0.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns add "$ns"
ip -n "$ns" link set lo up
# The unit's sandbox, by hand, then anoded in it.
# Type=notify: what systemd would read from the node.
/usr/bin/python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(time.monotonic(), s.recv(4096).decode().replace("\n", " "), flush=True)' "$dir/notify" >"$dir/notify.log" 2>&1 &
notify_pid=$!
wait_for "the notify socket" 5 test -S "$dir/notify"
# In a sanitized build, LeakSanitizer's exit check attaches with ptrace,
# which the deny list (@debug) refuses as systemd would: leaks are other
# tests' business here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
NOTIFY_SOCKET=$dir/notify ip netns exec "$ns" unshare --mount --uts --fork -- sh -c '
  set -e
  mount --make-rprivate /
  mount -o remount,bind,ro /
  mount --bind /run/anode /run/anode && mount -o remount,bind,rw /run/anode
  mount -t tmpfs -o mode=1777 tmpfs /tmp
  for h in /home /root; do mount -t tmpfs -o ro,mode=0755 tmpfs $h; done
  # PrivateDevices: the real nodes kept aside, then a /dev of six.
  mkdir /tmp/.realdev && mount --rbind /dev /tmp/.realdev
  mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
  for d in null zero full random urandom tty; do touch /dev/$d && mount --bind /tmp/.realdev/$d /dev/$d; done
  umount -l /tmp/.realdev && rmdir /tmp/.realdev
  # What the unit may set that mounts over /proc (none now: see the unit).
  if [ "'"$(prop ProtectKernelTunables)"'" = yes ]; then
    mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && mount -o remount,bind,ro /sys
  fi
  if [ "'"$(prop ProtectKernelLogs)"'" = yes ]; then mount --bind /dev/null /proc/kmsg; fi
  umask '"$umask_"'
  exec "$0" '"$(echo $denied)"' -- setpriv --no-new-privs --bounding-set=-all,'"$caps"' "$@"' \
  "$dir/syscall_deny" "$dir/anoded" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
node_pid=$!
wait_for "the node under the unit's hardening" 10 "$ANODE" -n "$dir/n.app" info
ok "a router node starts under the unit's hardening"
expect_match "...under the system call deny list" "$(cat "$dir/node.log")" "syscall_deny: [0-9]+ system calls denied"
wait_for "READY=1 on the notify socket" 10 grep -q 'READY=1' "$dir/notify.log"
expect_match "...and tells systemd it is ready, with a status" "$(cat "$dir/notify.log")" \
  'READY=1 STATUS=router node uh: intercepting, node child [0-9]+'
rules=$(ip netns exec "$ns" iptables -w -t mangle -S PREROUTING | grep -c 'anode:uh:' || true)
expect_eq "...once its capsule port is intercepted (its rule is in)" "$rules" 1
parent=$(pgrep -P "$node_pid" -x anoded | head -1 || true)
[ -n "$parent" ] || fail "no anoded under unshare: $(ps -o pid,comm --ppid "$node_pid")"
child=""
for p in $(pgrep -P "$parent"); do
  [ "$(stat -c %U "/proc/$p")" = nobody ] && child=$p
done
[ -n "$child" ] || fail "no node child running as nobody: $(ps -o pid,user,comm --ppid "$parent")"
expect_eq "...its node child dropped to nobody with CAP_NET_ADMIN only" \
  "$(awk '/^CapEff/ {print $2}' "/proc/$child/status")" 0000000000001000
expect_eq "...with no_new_privs" "$(awk '/^NoNewPrivs/ {print $2}' "/proc/$child/status")" 1
if grep -q "cannot open the raw socket" "$dir/node.log"; then fail "concast on IP could not open its raw socket"; fi
expect_ge "...and concast on IP open (its stats section is there)" \
  "$("$ANODE" -n "$dir/n.app" stats --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["concast"]))')" 1

out=$("$ANODE" -n "$dir/n.app" svc activate probe greeting=hi --key "$dir/bob.key" --user bob)
expect_match "a signed activation is accepted" "$out" 'probe of bob: program (starting|running)'
wait_for "the service to report from its sandbox" 10 grep -q 'probe\[bob/probe\]: ready' "$dir/node.log"
log=$(grep 'probe\[bob/probe\]' "$dir/node.log")
expect_match "...it runs in its sandbox as bob's uid (bubblewrap and cgroups under the bounding set)" "$log" \
  'uid=200000 gid=200000'

# ExecReload: SIGHUP to the parent; carol appears in the new policy.
echo "user carol $(cat "$dir/carol.pub")" >>"$dir/policy"
echo "allow carol service probe" >>"$dir/policy"
kill -HUP "$parent"
wait_for "the reload" 10 grep -q 'svc: policy .* in force: 2 principal' "$dir/node.log"
ok "a reload (SIGHUP, as ExecReload sends) reads the new policy"
wait_for "READY=1 after the reload" 10 grep -Eq 'READY=1 STATUS=router node uh: configuration [0-9]+ in force' "$dir/notify.log"
expect_eq "...framed by RELOADING=1 and READY=1 for systemd" \
  "$(grep -o 'RELOADING=1\|READY=1' "$dir/notify.log" | xargs)" "READY=1 RELOADING=1 READY=1"
out=$("$ANODE" -n "$dir/n.app" svc list --key "$dir/carol.key" --user carol)
expect_match "...which carol may use at once" "$out" 'probe'
expect_match "...while bob's service goes on" "$("$ANODE" -n "$dir/n.app" svc list --key "$dir/bob.key" --user bob)" \
  'running'
kill "$parent"
wait_for "the node to stop" 10 gone "$parent"
expect_match "on SIGTERM it says STOPPING=1" "$(tail -1 "$dir/notify.log")" 'STOPPING=1'
parent=
echo "$checks checks passed"
