#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PAN's kernel node (issue 22, docs/kernel.md): a line of five anode routers
# in network namespaces with `kernel-path all`, hosts at both ends.
#  - A capsule whose code has a kernel section runs in the kernel: the
#    routers' kernel path counters move, their user-space capsule runs do
#    not; active ping gives the hops it gives through user space.
#  - Code without a kernel section (the same forward, built --no-kernel)
#    still runs, through NFQUEUE and the user-space node.
#  - Runs the kernel cannot finish go up: trace (a RESULT option at every
#    node) and flood's status (a second send) work as before.
#  - Soft state is one for both paths: flood's receiver counts the capsules
#    its kernel section took and those its user section took in one table.
#  - Hostile kernel sections: one that writes a kernel address into the
#    capsule is refused by the kernel's verifier (its words shown by
#    `anode kernel`), one that calls a helper outside the node interface by
#    the node's own checker; the code still runs in user space.
#  - A clean stop leaves no TC filter behind; one killed with SIGKILL
#    leaves its filter attached, and the next start takes it over.
# Skipped (77) without root, ip netns or a kernel that takes the programs.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in ip tc llvm-objcopy; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
CAPGEN=${CAPGEN:?path to bench/capgen}
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab=kp$$
topo=$ANODE_RUN_DIR/$lab.topo
# c also takes what goes up by AF_XDP (kernel-up afxdp): capsules of code
# without a kernel section reach its user-space node without NFQUEUE.
{ cat "$TOPO_DIR/line5-hosts.topo"; echo "set all kernel-path all"; echo "set c kernel-up afxdp"; } >"$topo"
state=$ANODE_RUN_DIR/$lab
export ANODE_LAB=$lab
work=$ANODE_RUN_DIR/work
mkdir -p "$work"

extra_pids=()
kernel_cleanup() {
  local rc=$?
  set +e
  for p in "${extra_pids[@]}"; do kill "$p" 2>/dev/null; done
  (exit $rc)
  cleanup
}
trap kernel_cleanup EXIT

in_ns() { "$ANODE" lab exec "$lab" "$@"; }
addr() { awk -v n="$1" '($1 == "router" || $1 == "host") && $2 == n {print $4}' "$state/netns"; }
app_of() { awk -v n="$1" '$1 == n {print $3}' "$state/nodes"; }
kstat() { "$ANODE" -n "$1" stats --json | json "d['kernel_path']['$2']"; }
ustat() { "$ANODE" -n "$1" stats --json | json "d['$2']['$3']"; }

"$ANODE" lab up "$topo" --netns >/dev/null
labs_up+=("$topo")
kp_on() { [ "$("$ANODE" -n "$1" kernel --json | json "d['kernel_path']")" = on ]; }
for r in a b c d e; do wait_for "router $r's kernel path" 10 kp_on "$r"; done
if [ "$("$ANODE" -n c kernel --json | json "d['kernel_path']")" != on ]; then
  echo "SKIP: the kernel path did not start here: $("$ANODE" -n c kernel)"
  exit 77
fi
ok "the kernel path runs on every router"
in_ns c -- tc filter show dev "$(in_ns c -- ip -o link show | awk -F': ' '$2 !~ /^lo/ {sub(/@.*/, "", $2); print $2; exit}')" ingress \
  >"$work/filters"
expect_match "its TC filter sits at the interfaces' ingress" "$(cat "$work/filters")" 'bpf.*direct-action'

# ---- a capsule with a kernel section runs in the kernel ----
out=$("$ANODE" -n a ping e -c 1)
expect_match "the first ping loads the code on demand, through user space" "$out" 'hops=4\+4'
loaded() { [ "$("$ANODE" -n "$1" kernel --json | json "sum(c['state'] == 'kernel' for c in d['code'])")" -ge 1 ]; }
for r in b c d; do wait_for "ping's kernel section at $r" 10 loaded "$r"; done
u0=$(ustat c counters runs) k0=$(kstat c runs)
out=$("$ANODE" -n a ping e -c 20 -i 0.02)
expect_match "20 active pings through the kernel path, all answered" "$out" '20 capsules transmitted, 20 received'
expect_match "...with the hops the user-space path gives" "$out" 'hops=4\+4'
u1=$(ustat c counters runs) k1=$(kstat c runs)
expect_eq "c's user-space node ran none of them" "$((u1 - u0))" 0
expect_eq "c's kernel path ran each one twice (out and back)" "$((k1 - k0))" 40
expect_eq "...and sent them all on" "$(kstat c punted)" 0
r1=$(kstat c redirected)
expect_ge "...forwarding them itself, by FIB lookup and redirect, past the stack" "$r1" 40

# ---- code without a kernel section runs in user space ----
"$ANODE" code build "$SRC_DIR/apps/forward.c" --no-kernel --label fwd-user -o "$work/fwd-user.ao" >/dev/null
"$ANODE" code build "$SRC_DIR/apps/forward.c" --label fwd-kernel -o "$work/fwd-kernel.ao" >/dev/null
for r in a b c d e; do
  "$CAPGEN" insert -A "$(app_of "$r")" -c "$work/fwd-user.ao" >/dev/null
  "$CAPGEN" insert -A "$(app_of "$r")" -c "$work/fwd-kernel.ao" >/dev/null
done
kstate_of() { # NODE NAME: where that code's capsules run at NODE
  "$ANODE" -n "$1" kernel --json | json "([c['state'] for c in d['code'] if c['name'] == '$2'] + ['none'])[0]"
}
in_kernel() { [ "$(kstate_of "$1" "$2")" = kernel ]; }
fwdk=$("$ANODE" code name "$work/fwd-kernel.ao" | cut -c1-64)
for r in b c d; do wait_for "fwd-kernel's kernel section at $r" 10 in_kernel "$r" "$fwdk"; done
h1=$(addr h1) h2=$(addr h2)
send() { # CODE COUNT: capsules from h1 to h2 through the five routers, counted at h2
  in_ns h2 -- "$CAPGEN" recv -l "$h2:3322" -i 500 -w 5 >"$work/recv.out" &
  local rpid=$!
  extra_pids+=("$rpid")
  sleep 0.2
  in_ns h1 -- "$CAPGEN" send -l "$h1:3322" -m "$h2:3322" -d "$h2:3322" -c "$1" -s 200 -N "$2" >/dev/null
  wait "$rpid" || true
  sed -n 's/.*\breceived=\([0-9]*\).*/\1/p' "$work/recv.out"
}
u0=$(ustat c counters runs) k0=$(kstat c runs) n0=$(kstat b unknown_code) x0=$(kstat c up_xsk) q0=$(ustat c queue xsk_packets)
got=$(send "$work/fwd-user.ao" 200)
u1=$(ustat c counters runs) k1=$(kstat c runs) n1=$(kstat b unknown_code)
expect_eq "200 capsules of code without a kernel section reach h2" "$got" 200
expect_eq "...each run by c's user-space node" "$((u1 - u0))" 200
expect_eq "...none by its kernel path" "$((k1 - k0))" 0
expect_eq "...b's handed them up as code it does not have (NFQUEUE)" "$((n1 - n0))" 200
expect_eq "...c's XDP program sent them up by AF_XDP instead" "$(($(kstat c up_xsk) - x0))" 200
expect_eq "...where c's matching engine read them" "$(($(ustat c queue xsk_packets) - q0))" 200
expect_eq "...and sent every one on" "$(ustat c queue xsk_lost)" 0
u0=$u1 k0=$k1
got=$(send "$work/fwd-kernel.ao" 200)
u1=$(ustat c counters runs) k1=$(kstat c runs)
expect_eq "200 capsules of the same code with a kernel section reach h2" "$got" 200
expect_eq "...each run by c's kernel path" "$((k1 - k0))" 200
expect_eq "...none by its user-space node" "$((u1 - u0))" 0

# ---- runs the kernel cannot finish go up ----
trace=$("$ANODE" -n a trace e --json)
expect_eq "trace collects at every router as through user space" \
  "$(echo "$trace" | json "' '.join(r['node'] for r in d['records'])")" "a b c d e"
p0=$(kstat e punted)
out=$("$ANODE" -n a flood e -t 1 -s 64 -r 2000 2>&1)
expect_match "flood's receiver counts what arrived" "$out" 'e received [0-9]+ of [0-9]+ capsules'
recv=$(sed -n 's/.*e received \([0-9]*\) of.*/\1/p' <<<"$out")
kruns=$(kstat e consumed)
expect_ge "...most of them counted by e's kernel path" "$kruns" $((recv / 2))
expect_ge "...its status capsules (a second send) went up to user space" "$(kstat e punted)" $((p0 + 1))
# One table for both paths: the user-space node's final count includes the
# capsules the kernel counted (more than the user-space runs alone).
expect_ge "...and the count the user-space node reports includes the kernel's runs" "$recv" $((kruns / 2))

# ---- hostile kernel sections ----
cat >"$work/kleak.c" <<'C'
#include "anode/node.h"
/* Its kernel section writes a kernel address into the capsule, which
 * would leave on the wire. */
AN_ACCEPT int64_t kleak_accept(struct an_ctx *ctx)
{
#ifdef AN_KERNEL
	*(uint64_t *)an_data(ctx) = (uint64_t)(unsigned long)an_k();
#endif
	return an_forward();
}
C
"$ANODE" code build "$work/kleak.c" -o "$work/kleak.ao" >/dev/null
name=$("$ANODE" -n c code insert "$work/kleak.ao" | cut -c1-64)
refused() { [ "$(kstate_of c "$name")" = refused ]; }
wait_for "c's verdict on the leaking kernel section" 10 refused
why=$("$ANODE" -n c kernel --json | json "[c['why'] for c in d['code'] if c['name'] == '$name'][0]")
expect_match "the kernel's verifier refuses a kernel section that leaks an address, in its words" "$why" \
  "verifier refused it.*leaks addr"
# A kernel section calling a helper the node interface does not offer
# (bpf_get_prandom_u32, helper 7), made by hand as a hostile author would:
# "ANK1", ABI 1, two instructions (call 7; exit).
cat >"$work/khelper.c" <<'C'
#include "anode/node.h"
AN_ACCEPT int64_t khelper_accept(struct an_ctx *ctx)
{
	return an_forward();
}
C
"$ANODE" code build "$work/khelper.c" --no-kernel -o "$work/khelper.ao" >/dev/null
/usr/bin/python3 -c "import struct, sys
insns = struct.pack('<BBhi', 0x85, 0, 0, 7) + struct.pack('<BBhi', 0x95, 0, 0, 0)
sys.stdout.buffer.write(b'ANK1' + struct.pack('<HHI', 1, 0, 2) + insns)" >"$work/khelper.kernel"
llvm-objcopy --add-section anode.kernel="$work/khelper.kernel" "$work/khelper.ao"
name=$("$ANODE" -n c code insert "$work/khelper.ao" | cut -c1-64)
wait_for "c's verdict on the kernel section calling a foreign helper" 10 refused
why=$("$ANODE" -n c kernel --json | json "[c['why'] for c in d['code'] if c['name'] == '$name'][0]")
expect_match "the node's checker refuses a kernel section calling a helper outside the node interface" "$why" \
  'calls kernel helper 7, which the node interface does not offer'
expect_ge "...counted" "$(kstat c sections_refused_here)" 1
for r in a b c d e; do "$CAPGEN" insert -A "$(app_of "$r")" -c "$work/khelper.ao" >/dev/null; done
u0=$(ustat c counters runs)
got=$(send "$work/khelper.ao" 50)
expect_eq "its capsules still reach h2, run in user space" "$got" 50
expect_eq "...by c's user-space node" "$(($(ustat c counters runs) - u0))" 50

# ---- kernel-via-stack: sent on through the kernel's stack instead ----
stopo=$ANODE_RUN_DIR/stack.topo
{ cat "$TOPO_DIR/kernel.topo"; echo "set all kernel-via-stack yes"; } >"$stopo"
ANODE_LAB=stack "$ANODE" lab up "$stopo" --netns >/dev/null
labs_up+=("$stopo")
out=$(ANODE_LAB=stack "$ANODE" -n a ping c -c 2 -i 0.2 || true)
echo "# kernel-via-stack lab, first pings: $(tail -2 <<<"$out" | head -1)"
sloaded() { [ "$(ANODE_LAB=stack "$ANODE" -n b kernel --json | json "sum(c['state'] == 'kernel' for c in d['code'])")" -ge 1 ]; }
for _ in $(seq 200); do sloaded && break; sleep 0.1; done
sloaded || { ANODE_LAB=stack "$ANODE" -n b kernel >&2; ANODE_LAB=stack "$ANODE" -n b stats >&2; fail "no kernel section at b (stack lab)"; }
sk() { ANODE_LAB=stack "$ANODE" -n b stats --json | json "d['kernel_path']['$1']"; }
f0=$(sk forwarded)
out=$(ANODE_LAB=stack "$ANODE" -n a ping c -c 10 -i 0.02)
expect_match "kernel-via-stack: pings answered" "$out" '10 received'
expect_ge "...b's kernel path sent them on" "$(($(sk forwarded) - f0))" 20
expect_eq "...through the stack, never by redirect" "$(sk redirected)" 0
"$ANODE" lab down "$stopo" >/dev/null
unset 'labs_up[${#labs_up[@]}-1]'

# ---- nothing left behind ----
nslist=$(awk '$1 == "router" {print $3}' "$state/netns")
"$ANODE" lab down "$topo" >/dev/null
labs_up=()
ok "lab down"
left=0
for ns in $nslist; do
  if ip netns list | grep -qw "$ns"; then left=1; fi
done
expect_eq "the routers' namespaces are gone, with whatever was attached in them" "$left" 0
# A router killed with SIGKILL leaves its filter attached (the kernel keeps
# an attached program); its next start takes it over, and a clean stop
# removes it.
"$ANODE" lab up "$topo" --netns >/dev/null
labs_up+=("$topo")
wait_for "c's kernel path" 10 kp_on c
pid=$(awk '$1 == "c" {print $5}' "$state/nodes")
ns_c=$(awk '$1 == "router" && $2 == "c" {print $3}' "$state/netns")
dev=$(ip -n "$ns_c" -o link show | awk -F': ' '$2 !~ /^lo/ {sub(/@.*/, "", $2); print $2; exit}')
kill -9 "$pid"
wait_for "c's anoded to go" 10 gone "$pid"
expect_match "a router killed with SIGKILL leaves its filter attached" "$(ip netns exec "$ns_c" tc filter show dev "$dev" ingress)" 'bpf'
ip netns exec "$ns_c" "$ANODED" -f "$state/c.conf" >"$work/c2.log" 2>&1 &
pid2=$!
extra_pids+=("$pid2")
wait_for "the restarted c's kernel path" 10 grep -q "kernel path on" "$work/c2.log"
expect_eq "its next start takes the filter over (one, not two)" \
  "$(ip netns exec "$ns_c" tc filter show dev "$dev" ingress | grep -c 'handle 0xa0de')" 1
kill "$pid2"
wait_for "the restarted c to stop" 10 gone "$pid2"
expect_eq "a clean stop removes the filter" \
  "$(ip netns exec "$ns_c" tc filter show dev "$dev" ingress | grep -c 'handle 0xa0de' || true)" 0
# (The clsact qdisc stays: the node that made it was killed, and the next
# one cannot tell it from someone else's.)
echo "$checks checks passed"
