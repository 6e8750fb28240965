#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CLI's code commands and its errors: building and validating code
# objects, inserting, listing and removing them, refusing bad ones, and
# clear messages for wrong use.
. "$(dirname "$0")/lib.sh"
work=$ANODE_RUN_DIR/work
mkdir -p "$work"

cat > "$work/hello.c" <<'C'
#include "anode/node.h"
AN_ACCEPT int64_t hello_accept(struct an_ctx *ctx)
{
	an_log(AN_LOG_INFO, 1, 2, 3);
	return 0;
}
C
out=$("$ANODE" code build "$work/hello.c")
expect_match "code build prints a 64-hex name and the file" "$(head -1 <<<"$out")" "^[0-9a-f]{64}  $work/hello.ao \([0-9]+ bytes\)$"
expect_eq "the name is the SHA-256 of the file (kernel section included)" "$(head -1 <<<"$out" | cut -c1-64)" \
  "$(sha256sum "$work/hello.ao" | cut -c1-64)"
expect_match "...and it says the kernel section it added" "$(sed -n 2p <<<"$out")" '^  kernel section: [0-9]+ instructions$'
llvm-objcopy --dump-section anode.kernel="$work/hello.kernel.o" "$work/hello.ao" "$work/copy.ao"
expect_eq "the kernel section is the program ready to load (docs/kernel.md)" "$(head -c 4 "$work/hello.kernel.o")" ANK1
# Code whose kernel build fails (here on purpose: code may keep itself to
# user space so) still builds, for user space alone, and says why.
cat > "$work/ustr.c" <<'C'
#include "anode/node.h"
#ifdef AN_KERNEL
#error "this code keeps to user space"
#endif
AN_ACCEPT int64_t ustr_accept(struct an_ctx *ctx)
{
	return 0;
}
C
out=$("$ANODE" code build "$work/ustr.c" 2>&1) || true
expect_match "code the kernel cannot run builds for user space and says why" "$out" \
  'no kernel section \(runs in user space only\): .*this code keeps to user space'
out=$("$ANODE" code build "$work/hello.c" --no-kernel -o "$work/hello-user.ao")
expect_eq "--no-kernel builds the user section alone" "$(wc -l <<<"$out")" 1
if llvm-objdump -h "$work/hello-user.ao" | grep -q anode.kernel; then fail "--no-kernel left a kernel section"; fi
ok "--no-kernel leaves no kernel section"
cat > "$work/loop.c" <<'C'
#include "anode/node.h"
AN_ACCEPT int64_t loop_accept(struct an_ctx *ctx)
{
	int64_t s = 0;
#pragma clang loop unroll(disable)
	for (uint32_t i = 0; i < ctx->data_len; i++)
		s += an_data(ctx)[i & 63];
	return s;
}
C
if out=$("$ANODE" code build "$work/loop.c" 2>&1); then fail "a loop was accepted"; fi
expect_match "code build refuses a loop, as the node's validator would, and says why" "$out" 'refused: section accept has a loop'
[ ! -e "$work/loop.ao" ] || fail "the refused object was left behind"
ok "the refused object is not left behind"

# Twenty independent branches: a million paths for librte_bpf's validator
# to walk. Refused at once, by counting them, instead of after seconds.
{
  echo '#include "anode/node.h"'
  echo 'AN_ACCEPT int64_t paths_accept(struct an_ctx *ctx) {'
  echo '	uint8_t *d = an_data(ctx); int64_t s = 0;'
  for i in $(seq 0 19); do echo "	if (d[$i] == $i) s += an_time_ns();"; done
  echo '	return s; }'
} > "$work/paths.c"
start=$(date +%s%N)
if out=$("$ANODE" code build "$work/paths.c" -v 2>&1); then fail "code with a million paths was accepted"; fi
expect_match "code with too many paths is refused" "$out" 'more than 65536 paths'
expect_ge "...quickly (under a second, in ms: 1000 minus the time taken)" "$((1000 - ($(date +%s%N) - start) / 1000000))" 1

lab_up "$TOPO_DIR/line3.topo"
expect_eq "the application socket is mode 0660 whatever the umask" "$(stat -c %a "$ANODE_RUN_DIR/line3/b.app")" 660
expect_eq "the control socket too" "$(stat -c %a "$ANODE_RUN_DIR/line3/b.ctl")" 660
out=$("$ANODE" -n b code insert "$work/hello.ao")
expect_match "code insert prints the name" "$out" '^[0-9a-f]{64}  inserted into b$'
name=$(echo "$out" | cut -c1-64)
expect_match "code list shows it, labelled with its file's name" "$("$ANODE" -n b code list)" "^$name  hello +[0-9]+ bytes"
expect_match "...and --json has the label" "$("$ANODE" -n b code list --json)" "\"name\":\"$name\",\"label\":\"hello\""
expect_match "code list --json" "$("$ANODE" -n b code list --json)" "\"name\":\"$name\""
if out=$("$ANODE" -n b code insert "$EE_TEST_DIR/bad_oob.ao" 2>&1); then fail "bad code inserted"; fi
expect_match "inserting code that fails validation is refused with the validator's reason" "$out" \
  'refused .*bad_oob.ao: section accept: memory boundary violation at pc'
expect_match "...which the node logs at the normal level" "$(cat "$ANODE_RUN_DIR/line3/b.log")" 'code insert refused: section accept: memory boundary violation'
if out=$("$ANODE" -n b code insert "$EE_TEST_DIR/bad_oob.ao" 2>&1); then fail "bad code inserted"; fi
expect_match "...and the second time it is known bad" "$out" 'failed validation on this node'
"$ANODE" -n b code remove "$name" >/dev/null
expect_eq "code remove evicts it" "$("$ANODE" -n b code list | grep -c "$name" || true)" 0

if out=$("$ANODE" -n nosuchnode stats 2>&1); then fail "stats of an unknown node succeeded"; fi
expect_match "an unknown node is named in the error" "$out" "no running lab has a node 'nosuchnode'"
if out=$("$ANODE" -n a ping nowhere 2>&1); then fail "ping to an unknown destination succeeded"; fi
expect_match "an unknown destination is named in the error" "$out" 'nowhere: not a node of the lab'
if out=$("$ANODE" lab up "$TOPO_DIR/line3.topo" 2>&1); then fail "a second lab up succeeded"; fi
expect_match "lab up refuses a lab that is already up" "$out" 'already up'
# A lab of both families would start and lose every capsule between them
# (issue 19): refused, with the reason.
printf 'node a6 [::1]:47501\nnode b4\nlink a6 b4\n' >"$work/mixed.topo"
rc=0; out=$("$ANODE" lab up "$work/mixed.topo" 2>&1) || rc=$?
expect_match "an overlay lab of IPv4 and IPv6 nodes is refused, saying why" "$rc $out" \
  '^1 .*mixes IPv4 and IPv6 nodes \(b4 is on 127\.0\.0\.1 \(the default\), a6 on \[::1\]:47501\)'
printf 'node x\nlink x y\n' > "$work/bad.topo"
if out=$("$ANODE" lab up "$work/bad.topo" 2>&1); then fail "a bad topology started"; fi
expect_match "a bad topology file names its line" "$out" 'bad.topo:2: link names an unknown node'
expect_match "anode -h explains the commands" "$("$ANODE" -h)" 'ping +active ping'
for cmd in lab ping flood trace code stats routes route info key svc events concast; do
  grep -q '^Usage: anode' <<<"$("$ANODE" $cmd -h)" || fail "anode $cmd -h has no usage"
done
ok "every command has --help"
# At the second level too, anywhere, without side effects (no node asked,
# no file read or written, no lab started) and exit 0 (issue 19).
for args in "lab up $work/bad.topo -h" "lab status --help" "lab down x -h" "code insert -h" "code name -h" \
  "code build -h" "svc activate cache -h" "svc list --help" "concast join 198.18.0.1 r1 7 -h" \
  "concast flows -h" "key gen -o $work/k -h" "ping c -c 3 --help" "stats --json -h" "route del c -h"; do
  rc=0; out=$("$ANODE" $args 2>"$work/help.err") || rc=$?
  [ "$rc" -eq 0 ] && grep -q '^Usage: anode' <<<"$out" && [ ! -s "$work/help.err" ] ||
    fail "anode $args: exit $rc, $(head -c 200 "$work/help.err")"
done
[ ! -e "$work/k" ] || fail "key gen -h made a key"
ok "every subcommand takes -h or --help anywhere: its usage on stdout, exit 0, nothing done"
rc=0; out=$("$ANODE" lab exec nolab x -- true -h 2>&1) || rc=$?
expect_match "...but not past '--' (lab exec runs another program)" "$out" 'nolab'

# anoded's configuration check.
printf 'name q\nlisten 127.0.0.1:3322\napp-socket /tmp/q.app\nctl-socket /tmp/q.ctl\nroute default 127.0.0.1:3323\n' > "$work/q.conf"
expect_match "anoded -n prints a valid configuration back" "$("$ANODED" -n -f "$work/q.conf")" '^route default 127\.0\.0\.1:3323$'
# The defaults anoded -h states are the ones it uses (anoded -n prints them).
printf 'name q\nlisten 127.0.0.1:3322\napp-socket /tmp/q.app\nctl-socket /tmp/q.ctl\n' > "$work/min.conf"
mismatch=$("$ANODED" -n -f "$work/min.conf" | /usr/bin/python3 -c "
import re, sys, subprocess
help_text = subprocess.run([sys.argv[1], '-h'], capture_output=True, text=True).stdout
bad = []
for line in sys.stdin:
    key, _, value = line.strip().partition(' ')
    if not value.isdigit():
        continue
    # the directive's entry, up to the next directive
    m = re.search(r'^  ' + re.escape(key) + r' .*?(?=^  [a-z])', help_text, re.S | re.M)
    if not m or '(' + value + ')' not in m.group(0):
        bad.append(key + ' ' + value)
print(' '.join(bad))" "$ANODED")
expect_eq "anoded -h states the defaults anoded uses" "$mismatch" ""
printf 'name a"b\nlisten 127.0.0.1:3322\n' > "$work/badname.conf"
if out=$("$ANODED" -n -f "$work/badname.conf" 2>&1); then fail "a node name with a quote passed"; fi
expect_match "node names are checked (they go into JSON and iptables comments)" "$out" "badname.conf:1: bad value for .name."
printf 'name q\nlisten 127.0.0.1:3322\nbogus 1\n' > "$work/bad.conf"
if out=$("$ANODED" -n -f "$work/bad.conf" 2>&1); then fail "a bad configuration passed"; fi
expect_match "anoded names the bad line" "$out" "bad.conf:3: unknown directive 'bogus'"
# Bash completion (completions/anode), read from anode itself: commands,
# verbs, options, and the running lab's node names after -n.
comp() { # words...: what completing the last one offers
  ANODE_DIR=$(dirname "$ANODE") bash -c '
    . "$SRC_DIR/completions/anode"
    PATH=$ANODE_DIR:$PATH
    COMP_WORDS=(anode "$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _anode; echo "${COMPREPLY[*]}"' comp "$@"
}
expect_match "completion: the commands" "$(comp "")" '(^| )lab ping flood trace code stats routes route info'
expect_eq "completion: lab's verbs" "$(comp lab "")" "down exec status up"
expect_eq "completion: route's verbs, after -n NODE" "$(comp -n a route "")" "add del show"
expect_eq "completion: an option of ping" "$(comp ping --js)" "--json"
expect_match "completion: the running lab's nodes after -n" "$(comp -n "")" '^a b c$'
expect_match "completion: topology files for lab up" "$(comp lab up "$TOPO_DIR/ring")" 'ring5-hosts\.topo$'

# Type=notify (systemd): an overlay node says READY=1 once its sockets are
# open, RELOADING=1 and READY=1 around a reload, STOPPING=1 at the end.
printf 'name nt\nlisten 127.0.0.1:47393\napp-socket %s/nt.app\nctl-socket %s/nt.ctl\n' "$work" "$work" >"$work/nt.conf"
/usr/bin/python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
for _ in range(4):
    print(s.recv(4096).decode().replace("\n", " "), flush=True)' "$work/notify" >"$work/notify.log" &
listener=$!
wait_for "the notify socket" 5 test -S "$work/notify"
NOTIFY_SOCKET=$work/notify "$ANODED" -f "$work/nt.conf" 2>"$work/nt.log" &
nt=$!
wait_for "READY=1" 10 grep -q READY=1 "$work/notify.log"
expect_match "an overlay node tells systemd it is ready once its sockets are open" "$(head -1 "$work/notify.log")" \
  '^READY=1 STATUS=overlay node nt on 127\.0\.0\.1:47393$'
"$ANODE" -n "$work/nt.app" info >/dev/null || fail "READY=1 came before the node answered"
kill -HUP "$nt"
wait_for "the reload's READY=1" 10 grep -q 'STATUS=reloaded' "$work/notify.log"
kill "$nt"
wait "$nt" || true
wait "$listener" || true
expect_eq "...RELOADING=1, READY=1 after a reload, STOPPING=1 at SIGTERM" \
  "$(grep -o 'RELOADING=1\|READY=1\|STOPPING=1' "$work/notify.log" | xargs)" "READY=1 RELOADING=1 READY=1 STOPPING=1"
echo "cli: $checks checks passed"
