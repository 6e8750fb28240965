#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packet modules in the kernel path (issue 22, docs/kernel.md): h1 -- r -- h2
# in network namespaces of this run, r an anode router with `kernel-path all`
# and a policy. bob activates a module (built by anode code build --module,
# so with a kernel section) bound to his flow (UDP to h2:7000). It counts
# packets in its soft state, drops those whose payload starts with "D" and
# goes up for "U" (a helper the kernel path does not offer): the first two
# in the kernel (the user-space node's module counters do not move, the
# kernel path's do), the third through the user-space node. Its soft state
# is one table for both paths. Stopped, its kernel filter goes with its
# rule. A second module rewrites and answers in the kernel: "A" answered
# back to h1 (addresses and ports swapped, its payload made "pong"), "R"
# sent on to h2's port 7001 (inside its filter's ports), "X" sent toward
# an address outside its filter (refused and dropped in the kernel).
# Needs root and ip netns; skips (77) otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/km
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
pids=()
trap hrh_finish EXIT
hrh_up km

cat >"$dir/kmod.c" <<'C'
#include "anode/module.h"
/* Counts the packets of its flow; drops a payload that starts with 'D';
 * a payload that starts with 'U' asks for a pattern search. */
AN_PACKET int64_t kmod_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->proto != 17 || ctx->l4_off != 20 || ctx->len < 29)
		return AN_PKT_ACCEPT;
	if (ctx->pkt[28] == 'U') {
		struct an_pattern p = { .len = 1, .b = { 'U' } };
		if (an_pkt_find(ctx, 28, &p) < 0)
			return AN_PKT_ACCEPT;
	}
	struct an_key k = { { 0 } };
	struct an_val v = { { 0 } };
	an_state_get(&k, &v);
	v.b[0]++;
	an_state_put(&k, &v);
	return ctx->pkt[28] == 'D' ? AN_PKT_DROP : AN_PKT_ACCEPT;
}
C
cat >"$dir/kans.c" <<'C'
#include "anode/module.h"
/* 'A': answered, its payload "pong"; 'R': on to port 7001; 'X': toward
 * 10.99.99.99, outside the filter. */
AN_PACKET int64_t kans_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->proto != 17 || ctx->l4_off != 20 || ctx->len < 32)
		return AN_PKT_ACCEPT;
	if (ctx->pkt[28] == 'A') {
		ctx->pkt[28] = 'p';
		ctx->pkt[29] = 'o';
		ctx->pkt[30] = 'n';
		ctx->pkt[31] = 'g';
		return AN_PKT_ANSWER;
	}
	if (ctx->pkt[28] == 'R') {
		ctx->pkt[22] = 7001 >> 8;
		ctx->pkt[23] = 7001 & 0xff;
		return AN_PKT_MODIFIED;
	}
	if (ctx->pkt[28] == 'X') {
		ctx->pkt[16] = 10;
		ctx->pkt[17] = 99;
		ctx->pkt[18] = 99;
		ctx->pkt[19] = 99;
		return AN_PKT_MODIFIED;
	}
	return AN_PKT_ACCEPT;
}
C
out=$("$ANODE" code build "$dir/kans.c" --module -o "$dir/kans.ao")
expect_match "a module that rewrites and answers gets a kernel section" "$out" 'kernel section: [0-9]+ instructions'
chmod 644 "$dir/kans.ao"
out=$("$ANODE" code build "$dir/kmod.c" --module -o "$dir/kmod.ao")
expect_match "anode code build --module adds a kernel section" "$out" 'kernel section: [0-9]+ instructions'
chmod 644 "$dir/kmod.ao"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
cat >"$dir/policy" <<POL
user bob $(cat "$dir/bob.pub")
service kmod module $dir/kmod.ao
allow bob service kmod
allow bob filter 10.$X.2.0/24 proto udp ports 7000-7001
service kans module $dir/kans.ao
allow bob service kans
POL
printf 'name km\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\nkernel-path all\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"
ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
pids+=($!)
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
kp_on() { [ "$("$ANODE" -n "$dir/n.app" kernel --json | json "d['kernel_path']")" = on ]; }
wait_for "the kernel path" 10 kp_on || true
if ! kp_on; then echo "SKIP: the kernel path did not start here: $("$ANODE" -n "$dir/n.app" kernel)"; exit 77; fi
sv() { "$ANODE" -n "$dir/n.app" svc "$@" --key "$dir/bob.key" --user bob; }
kstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['kernel_path']['$1']"; }
mstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['modules']['$1']"; }

listen_h2() { # PORT FILE: each datagram to h2:PORT, a line of FILE
  ip netns exec "$H2" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.$X.2.2', $1))
with open('$2', 'a') as f:
    while True:
        data, peer = s.recvfrom(2048)
        f.write(data.decode(errors='replace') + '\n'); f.flush()" &
  pids+=($!)
}
listen_h2 7000 "$dir/h2.txt"
send() { ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in sys.argv[1:]:
    s.sendto(p.encode(), ('10.$X.2.2', 7000)); time.sleep(0.002)" "$@"; }
got() { grep -qx -e "$1" "$dir/h2.txt" 2>/dev/null; }
count_got() { grep -c -e "$1" "$dir/h2.txt" 2>/dev/null || true; }
warm() { send warmup; got warmup; }
wait_for "h2's server" 10 warm

sv activate kmod dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
in_kernel() { [ "$("$ANODE" -n "$dir/n.app" kernel --json | json "sum(c['state'] == 'kernel' for c in d['code'])")" -ge 1 ]; }
wait_for "the module's kernel section" 10 in_kernel
filter_up() { [ "$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:km:')" -ge 2 ]; }
wait_for "the module's filter" 10 filter_up
sleep 0.2 # the kernel filter follows the rule (one message to the parent)
u0=$(mstat packets) k0=$(kstat module_runs)
send $(seq -f "hello-%g" 1 20)
wait_for "the 20 packets at h2" 10 eval '[ "$(count_got "^hello-")" -ge 20 ]'
expect_eq "20 packets of bob's flow crossed the module to h2" "$(count_got '^hello-')" 20
expect_eq "...the module ran on each in the kernel" "$(($(kstat module_runs) - k0))" 20
expect_eq "...and let each go on there" "$(kstat module_accepted)" 20
expect_eq "...the user-space node's module saw none of them" "$(($(mstat packets) - u0))" 0

send Dropme after-drop
wait_for "the packet after the dropped one" 5 got after-drop
got Dropme && fail "the packet the module dropped in the kernel reached h2"
ok "a packet the module drops in the kernel never reaches h2"
expect_eq "...dropped there" "$(kstat module_dropped)" 1

send Up
wait_for "the packet that went up" 5 got Up
expect_eq "a run that calls a helper the kernel does not offer goes up" "$(kstat module_punted)" 1
expect_eq "...and the user-space node's module ran it" "$(($(mstat packets) - u0))" 1

# One soft state: 20 + 1 (dropped after counting) + 1 (counted in user
# space) + warm-ups after the filter: the key's count is in the one table
# both paths write, which the node reads back (code list: 1 entry).
entries=$("$ANODE" -n "$dir/n.app" code list --json | json "[c['state_entries'] for c in d['code'] if c['label'] == 'kmod'][0]")
expect_eq "the module's soft state is one table for both paths (one key)" "$entries" 1

sv stop kmod >/dev/null
one_rule() { [ "$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:km:')" -eq 1 ]; }
wait_for "the module's rule to go" 10 one_rule
sleep 0.2
k1=$(kstat module_runs)
send Dagain
wait_for "the flow to be the kernel's again" 5 got Dagain
expect_eq "stopped, its kernel filter goes too (no more runs)" "$(kstat module_runs)" "$k1"

# ---- rewrites and answers in the kernel ----
listen_h2 7001 "$dir/h2-7001.txt"
sv activate kans dst=10.$X.2.0/24 proto=udp port=7000-7001 >/dev/null
kans_in() { [ "$("$ANODE" -n "$dir/n.app" kernel --json | json "sum(c['state'] == 'kernel' for c in d['code'])")" -ge 1 ]; }
wait_for "kans's kernel section" 10 kans_in
wait_for "kans's filter" 10 filter_up
sleep 0.3
u0=$(mstat packets) a0=$(kstat module_answered) m0=$(kstat module_modified) r0=$(kstat module_refused)
answers=$(ip netns exec "$H1" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.$X.1.2', 5555))
s.settimeout(2)
got = 0
for i in range(10):
    s.sendto(b'Anything-%d' % i, ('10.$X.2.2', 7000))
    try:
        data, peer = s.recvfrom(2048)
        if data.startswith(b'pong') and peer == ('10.$X.2.2', 7000):
            got += 1
    except socket.timeout:
        pass
print(got)")
expect_eq "10 packets the module answers come back to h1 from h2:7000, payload pong" "$answers" 10
expect_eq "...answered in the kernel" "$(($(kstat module_answered) - a0))" 10
send Rewritten-1 Rewritten-2 Rewritten-3
wait_for "the rewritten packets at h2:7001" 5 eval '[ "$(grep -c ^Rewritten "$dir/h2-7001.txt" 2>/dev/null)" -ge 3 ]'
expect_eq "3 packets the module sends on to port 7001 (inside its filter) arrive there" \
  "$(grep -c ^Rewritten "$dir/h2-7001.txt")" 3
expect_eq "...rewritten in the kernel" "$(($(kstat module_modified) - m0))" 3
send Xout after-x
wait_for "the packet after the refused one" 5 got after-x
expect_eq "a rewrite toward an address outside the filter is refused in the kernel" "$(($(kstat module_refused) - r0))" 1
expect_eq "...and the user-space node's module saw none of these" "$(($(mstat packets) - u0))" 0
sv stop kans >/dev/null
echo "$checks checks passed"
