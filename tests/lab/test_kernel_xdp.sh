#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What goes up by AF_XDP (issue 22 item 4, docs/kernel.md): h1 -- r -- h2
# in network namespaces of this run, r an anode router with `kernel-path
# all` and `kernel-up afxdp`. bob's packet module has no kernel section
# (built --no-kernel), so every packet of his flow goes up to the
# user-space node: by AF_XDP (the XDP program's counters and the matching
# engine's xsk_packets move, NFQUEUE's share does not), on to h2 by the raw
# socket with its TTL taken as a router's; a drop stays a drop. Killed with
# SIGKILL, the node leaves neither XDP program nor black hole: the flow goes
# on through the stack (fail-open). An interface that has an XDP program of
# another is not taken: AF_XDP is refused, and says why, and NFQUEUE
# serves. Needs root and ip netns; skips (77) otherwise.
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
export PATH="$PATH:/usr/sbin:/sbin"
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hrh.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

H1= R= H2= X=
dir=$ANODE_RUN_DIR/kx
mkdir -p "$dir"
chmod 755 "$ANODE_RUN_DIR" "$dir"
pids=()
trap hrh_finish EXIT
hrh_up kx

cat >"$dir/umod.c" <<'C'
#include "anode/module.h"
/* Counts the packets of its flow; drops a payload that starts with 'D'. */
AN_PACKET int64_t umod_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->proto != 17 || ctx->l4_off != 20 || ctx->len < 29)
		return AN_PKT_ACCEPT;
	struct an_key k = { { 0 } };
	struct an_val v = { { 0 } };
	an_state_get(&k, &v);
	v.b[0]++;
	an_state_put(&k, &v);
	return ctx->pkt[28] == 'D' ? AN_PKT_DROP : AN_PKT_ACCEPT;
}
C
"$ANODE" code build "$dir/umod.c" --module --no-kernel -o "$dir/umod.ao" >/dev/null
chmod 644 "$dir/umod.ao"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
cat >"$dir/policy" <<POL
user bob $(cat "$dir/bob.pub")
service umod module $dir/umod.ao
allow bob service umod
allow bob filter 10.$X.2.0/24 proto udp ports 7000-7000
POL
conf() { printf 'name kx\nmode router\nlisten 10.%s.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\nkernel-path all\nkernel-up afxdp\n' \
  "$X" "$dir" "$dir" "$dir" >"$dir/n.conf"; }
conf
start_node() {
  ip netns exec "$R" "$ANODED" -f "$dir/n.conf" >>"$dir/node.log" 2>&1 &
  node_pid=$!
  pids+=($node_pid)
  wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
}
start_node
kq() { "$ANODE" -n "$dir/n.app" kernel --json | json "d['$1']"; }
up_settled() { [ "$(kq up)" != starting ] && [ "$(kq kernel_path)" != starting ]; }
wait_for "the kernel path and its AF_XDP sockets" 10 up_settled || true
if [ "$(kq kernel_path)" != on ]; then echo "SKIP: the kernel path did not start here: $("$ANODE" -n "$dir/n.app" kernel)"; exit 77; fi
if [ "$(kq up)" != afxdp ]; then echo "SKIP: AF_XDP did not start here: $("$ANODE" -n "$dir/n.app" kernel)"; exit 77; fi
expect_eq "one AF_XDP socket per interface (veth: one queue)" "$(kq afxdp_sockets)" 2
out=$("$ANODE" -n "$dir/n.app" kernel)
expect_match "anode kernel says what goes up comes by AF_XDP" "$out" 'up to the node: afxdp \(2 sockets'
xdp_n() { ip netns exec "$R" ip -d link show "$1" | grep -c 'prog/xdp'; }
expect_eq "an XDP program on r1" "$(xdp_n r1)" 1

sv() { "$ANODE" -n "$dir/n.app" svc "$@" --key "$dir/bob.key" --user bob; }
kstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['kernel_path']['$1']"; }
rstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['queue']['$1']"; }
mstat() { "$ANODE" -n "$dir/n.app" stats --json | json "d['modules']['$1']"; }

ip netns exec "$H2" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL
s.bind(('10.$X.2.2', 7000))
with open('$dir/h2.txt', 'a') as f:
    while True:
        data, anc, flags, peer = s.recvmsg(2048, 64)
        ttl = [int.from_bytes(d, 'little') for l, t, d in anc if t == 2]  # IP_TTL
        f.write(data.decode(errors='replace') + ' ttl=%d\n' % (ttl[0] if ttl else -1)); f.flush()" &
pids+=($!)
send() { ip netns exec "$H1" /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 64)
for p in sys.argv[1:]:
    s.sendto(p.encode(), ('10.$X.2.2', 7000)); time.sleep(0.002)" "$@"; }
got() { grep -q -e "^$1 " "$dir/h2.txt" 2>/dev/null; }
count_got() { grep -c -e "$1" "$dir/h2.txt" 2>/dev/null || true; }
warm() { send warmup; got warmup; }
wait_for "h2's server" 10 warm
expect_match "without a filter, h2 gets the plain router's TTL" "$(grep '^warmup ' "$dir/h2.txt" | head -1)" 'ttl=63$'

sv activate umod dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
filter_up() { [ "$(ip netns exec "$R" iptables -w -t mangle -S PREROUTING | grep -c 'anode:kx:')" -ge 2 ]; }
wait_for "the module's filter" 10 filter_up
sleep 0.3 # the module runs once its filter is ready
x0=$(rstat xsk_packets) p0=$(rstat packets) u0=$(mstat packets) k0=$(kstat up_xsk)
send $(seq -f "hello-%g" 1 20)
wait_for "the 20 packets at h2" 10 eval '[ "$(count_got "^hello-")" -ge 20 ]'
expect_eq "20 packets of bob's flow crossed the user-space module to h2" "$(count_got '^hello-')" 20
expect_eq "...the module ran on each" "$(($(mstat packets) - u0))" 20
expect_eq "...each came up by AF_XDP (the XDP program's count)" "$(($(kstat up_xsk) - k0))" 20
expect_eq "...the matching engine read each from its AF_XDP socket" "$(($(rstat xsk_packets) - x0))" 20
expect_eq "...and none by NFQUEUE" "$(($(rstat packets) - p0 - ($(rstat xsk_packets) - x0)))" 0
expect_eq "...went on with the TTL a router's forwarding leaves (64 - 1)" "$(grep '^hello-' "$dir/h2.txt" | grep -vc 'ttl=63$')" 0
expect_eq "...none lost on the way out" "$(rstat xsk_lost)" 0
expect_eq "...nor at the sockets' rings" "$(rstat xsk_kernel_drops)" 0

send Dropme after-drop
wait_for "the packet after the dropped one" 5 got after-drop
got Dropme && fail "the packet the module dropped reached h2"
ok "a packet the module drops never reaches h2"

# Fail-open: the node killed, its sockets close, the XDP program goes with
# its BPF link; the NFQUEUE rules it left are bypassed: the flow goes on.
kill -9 "$node_pid"
wait "$node_pid" 2>/dev/null || true
# The parent's children (node child, services) go with it.
sleep 0.5
expect_eq "killed with SIGKILL, the node leaves no XDP program on r1" "$(xdp_n r1)" 0
send after-kill
wait_for "the flow with the node gone" 5 got after-kill
ok "the flow goes on with the node gone (fail-open)"

# An interface with another's XDP program: AF_XDP refused, NFQUEUE serves.
printf '%s\n' '__attribute__((section("xdp"), used)) int pass(void *x) { return 2; /* XDP_PASS */ }' \
  'char _license[] __attribute__((section("license"), used)) = "MIT";' >"$dir/other.c"
clang -O2 -target bpf -c "$dir/other.c" -o "$dir/other.o"
ip netns exec "$R" ip link set dev r2 xdp obj "$dir/other.o" sec xdp
start_node
wait_for "the kernel path and its AF_XDP sockets" 10 up_settled || true
expect_eq "with another's XDP program on r2, AF_XDP is refused" "$(kq up)" failed
expect_match "...saying why (anode kernel)" "$("$ANODE" -n "$dir/n.app" kernel)" 'up to the node: failed: cannot attach the XDP program to r2.*another'
expect_eq "...the other's program stays" "$(xdp_n r2)" 1
expect_eq "...and ours is not left on r1" "$(xdp_n r1)" 0
sv activate umod dst=10.$X.2.0/24 proto=udp port=7000 >/dev/null
wait_for "the module's filter" 10 filter_up
sleep 0.3
p0=$(rstat packets) u0=$(mstat packets)
send via-nfqueue
wait_for "the flow through NFQUEUE" 5 got via-nfqueue
expect_eq "...the module's packets come by NFQUEUE then" "$(($(rstat packets) - p0 - $(rstat xsk_packets)))" 1
expect_eq "...and it runs on them" "$(($(mstat packets) - u0))" 1
echo "$checks checks passed"
