#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The control module (issue 9, seed 000 §4.3) through the real CLI and a
# real node: keys made by `anode key gen`, a policy the node prints back
# with -n, and every kind of request it must refuse, each refused with its
# reason and counted: unknown user, forged, unsigned, replayed, expired,
# signed ahead of the clock, for another node, malformed, not granted by
# the policy. Needs no privileges: an overlay node on loopback.
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

dir=$ANODE_RUN_DIR/svc
mkdir -p "$dir"
"$ANODE" key gen -o "$dir/alice.key" >"$dir/alice.pub"
"$ANODE" key gen -o "$dir/bob.key" >"$dir/bob.pub"
"$ANODE" key gen -o "$dir/eve.key" >/dev/null
expect_eq "a key file is private (0600)" "$(stat -c %a "$dir/bob.key")" 600
expect_match "the public key is an ed25519: line" "$(cat "$dir/bob.pub")" '^ed25519:[A-Za-z0-9+/]{43}=$'
expect_eq "key pub prints the same public key" "$("$ANODE" key pub "$dir/bob.key")" "$(cat "$dir/bob.pub")"
if "$ANODE" key gen -o "$dir/bob.key" >/dev/null 2>"$dir/err"; then fail "key gen overwrote a key"; fi
expect_match "key gen keeps an existing key" "$(cat "$dir/err")" 'use --force'

cat >"$dir/policy" <<POL
admin alice $(cat "$dir/alice.pub")
user bob $(cat "$dir/bob.pub")
service echo program /bin/cat
service spare program /bin/true
allow bob service echo
allow bob filter 10.1.0.0/16 proto udp ports 5000-6000
quota bob services 1
POL
port=$((20000 + RANDOM % 20000))
printf 'name sv1\nlisten 127.0.0.1:%s\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
  "$port" "$dir" "$dir" "$dir" >"$dir/n.conf"
printed=$("$ANODED" -f "$dir/n.conf" -n)
expect_match "anoded -n prints the policy back" "$printed" 'allow bob filter 10.1.0.0/16 proto udp ports 5000-6000'
expect_match "...with bob's quota and the defaults" "$printed" 'quota bob services 1 filters 8 '
printf 'user bob ed25519:AAAA\n' >"$dir/bad.policy"
sed "s|policy .*|policy $dir/bad.policy|" "$dir/n.conf" >"$dir/bad.conf"
if "$ANODED" -f "$dir/bad.conf" -n >/dev/null 2>"$dir/err"; then fail "a bad policy passed -n"; fi
expect_match "a bad policy is refused with its place" "$(cat "$dir/err")" 'bad.policy:1: bad key'

"$ANODED" -f "$dir/n.conf" >"$dir/node.log" 2>&1 &
node_pid=$!
trap 'rc=$?; set +e; kill $node_pid 2>/dev/null; (exit $rc); cleanup' EXIT
wait_for "the node" 10 "$ANODE" -n "$dir/n.app" info
sv() { "$ANODE" -n "$dir/n.app" svc "$@"; }
as_bob=(--key "$dir/bob.key" --user bob)

out=$(sv list "${as_bob[@]}")
expect_match "bob lists the services the policy gives him" "$out" '^service echo \(program\)$'
[[ $out != *spare* ]] || fail "bob sees a service he may not use"
ok "...and not the others"
out=$(sv list --key "$dir/alice.key" --user alice --json)
expect_eq "an administrator sees every service" "$(json "len(d['services'])" <<<"$out")" 2

refused() { # description expected-reason command...
  local what=$1 why=$2; shift 2
  if "$@" >"$dir/out" 2>&1; then cat "$dir/out" >&2; fail "$what: accepted"; fi
  expect_match "$what" "$(cat "$dir/out")" "$why"
}
refused "a service not granted is refused" 'the policy does not allow' sv activate spare "${as_bob[@]}"
refused "an unknown user is refused" 'unknown user' sv list --key "$dir/eve.key" --user eve
refused "a request signed with another key is forged" 'bad signature' sv list --key "$dir/eve.key" --user bob
req=$(sv sign list "${as_bob[@]}")
sv send "$req" >/dev/null
refused "the same request again is a replay" 'replayed' sv send "$req"
unsigned=$(/usr/bin/python3 -c "
import base64, sys
b = bytearray(base64.urlsafe_b64decode(sys.argv[1] + '=' * (-len(sys.argv[1]) % 4)))
b[-64:] = bytes(64)
print(base64.urlsafe_b64encode(bytes(b)).decode().rstrip('='))" "$req")
refused "an unsigned request (zero signature) is refused" 'bad signature' sv send "$unsigned"
refused "a request signed a minute ago has expired" 'expired' sv list "${as_bob[@]}" --time $(($(date +%s) - 60))
refused "a request signed a minute ahead is refused" 'in the future' sv list "${as_bob[@]}" --time $(($(date +%s) + 60))
other=$("$ANODE" svc sign list --node sv2 "${as_bob[@]}")
refused "a request for another node is refused" 'another node' sv send "$other"
refused "garbage is refused" 'malformed' sv send AAAAAAAA
refused "what is not base64 is refused" 'not base64' sv send '!!!'
refused "an overlay node runs no service processes, and says so" 'router nodes only' sv activate echo "${as_bob[@]}"

stats=$("$ANODE" -n "$dir/n.app" stats --json)
c() { json "d['svc']['$1']" <<<"$stats"; }
expect_eq "requests counted" "$(c requests)" 13
expect_eq "...accepted: the lists" "$(c accepted)" 3
expect_eq "...refused by policy" "$(c refused_policy)" 1
expect_eq "...unknown user" "$(c refused_unknown_user)" 1
expect_eq "...forged and unsigned" "$(c refused_forged)" 2
expect_eq "...replayed" "$(c refused_replayed)" 1
expect_eq "...expired or ahead" "$(c refused_expired)" 2
expect_eq "...for another node" "$(c refused_other_node)" 1
expect_eq "...malformed" "$(c refused_malformed)" 1
expect_eq "...and the activation the node cannot run" "$(c failed)" 1
expect_match "refusals are logged with their reason" "$(cat "$dir/node.log")" 'refused: the policy does not allow'
# SIGHUP reloads the policy: eve, added, may now list.
echo "user eve $("$ANODE" key pub "$dir/eve.key")" >>"$dir/policy"
kill -HUP "$node_pid"
eve_in() { sv list --key "$dir/eve.key" --user eve; }
wait_for "the reloaded policy to know eve" 10 eve_in
ok "a policy reloaded on SIGHUP is in force at once"
echo "svc: $checks checks passed"
