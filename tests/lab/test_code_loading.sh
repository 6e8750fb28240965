#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# On-demand code loading: code spreads hop by hop across five nodes; a lost
# chunk is asked for again by bitmap; code that does not hash to its name is
# refused; code that fails validation is remembered as bad; parking is
# bounded; a code home that never answers costs a timeout, counted.
. "$(dirname "$0")/lib.sh"
fake() { /usr/bin/python3 "$(dirname "$0")/fakehome.py" "$@"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The requests a node makes for a code object: one chunk first, then a
# request per window of three of the rest (src/codeload/fetch.c); the
# shipped objects' sizes change with their kernel sections.
requests_for() { /usr/bin/python3 -c "import math, os; c = math.ceil(os.path.getsize('$1') / 1024); print(1 + math.ceil((c - 1) / 3))"; }
ping_reqs=$(requests_for "$CODE_DIR/ping.ao")
pm_reqs=$(requests_for "$CODE_DIR/portmapper.ao") # at least: a window may be asked again

lab_up "$TOPO_DIR/line5.topo"
out=$("$ANODE" -n a ping e -c 3 -i 0.05)
expect_match "line5: ping a->e with every other node starting empty" "$out" '3 received'
for n in b c d e; do
  expect_eq "line5: $n loaded the ping code on demand, once" "$(counter $n code_fetched)" 1
  expect_ge "line5: $n parked capsules while it loaded the code" "$(counter $n parked)" 1
done
# A first request for one chunk of ping.ao, then one per window of the rest.
for n in b c d; do expect_eq "line5: $n answered its next hop's $ping_reqs requests" "$(counter $n code_requests_served)" "$ping_reqs"; done
expect_eq "line5: e asked only its previous hop, $ping_reqs times" "$("$ANODE" -n e stats --json | json "d['fetch']['requests_sent']")" "$ping_reqs"
out=$("$ANODE" -n a ping e -c 1 --carry)
expect_match "line5: --carry works on a warm path too" "$out" '1 received'

b=$(awk '$1 == "b" {print $2}' "$ANODE_RUN_DIR/line5/nodes")
# flood built for user space alone: four chunks (b does not have it).
"$ANODE" code build "$SRC_DIR/apps/flood.c" -I "$SRC_DIR/apps" --no-kernel --label flood -o "$ANODE_RUN_DIR/flood4.ao" >/dev/null
out=$(fake "$b" lose1 "$ANODE_RUN_DIR/flood4.ao" 1 1.5)
expect_eq "a lost chunk: the first request asks for one chunk" "$(echo "$out" | json "d['requests'][0]")" 1
expect_eq "...padded to pay for it, no more (3x its size covers one chunk)" \
  "$(echo "$out" | json "1128 <= d['sizes'][0] * 3 < 2 * 1128")" True
expect_eq "...the second, once one came, for a window of three" "$(echo "$out" | json "d['requests'][1]")" 14
expect_eq "...padded to pay for three" "$(echo "$out" | json "d['sizes'][1] * 3 >= 3 * 1128")" True
expect_eq "...the third asks for the lost chunk 1 only" "$(echo "$out" | json "d['requests'][2]")" 2
expect_eq "a lost chunk: the code was loaded after all" "$(counter b code_fetched)" 2
expect_ge "a lost chunk: the capsule ran" "$(counter b drop_code_error)" 1

pm_ao=$CODE_DIR/portmapper.ao   # only a has it
fake "$b" wrong "$pm_ao" 1 1 >/dev/null
expect_eq "code that does not hash to its name is refused" "$("$ANODE" -n b stats --json | json "d['fetch']['mismatches']")" 1
expect_eq "...and the capsule waiting for it is dropped as such" "$(counter b drop_code_mismatch)" 1
grep -q "^$("$ANODE" code name "$pm_ao" | cut -c1-64)" <<<"$("$ANODE" -n b code list)" && fail "mismatched code was cached"
ok "...and nothing was cached under that name"

# The home is two hops away (c -> b -> a) and b lacks the code: b passes the
# request on in its own name and relays the answer, so every node answers
# only the node that really sent it the request.
a_addr=$(awk '$1 == "a" {print $2}' "$ANODE_RUN_DIR/line5/nodes")
c=$(awk '$1 == "c" {print $2}' "$ANODE_RUN_DIR/line5/nodes")
served_a=$(counter a code_requests_served)
fake "$c" silent "$pm_ao" 1 1 "$a_addr" >/dev/null
expect_eq "home two hops away: c loaded the code" "$(counter c code_fetched)" 2
fwd=$(counter b code_requests_forwarded)
expect_ge "...b passed c's requests on (one chunk, then a window at a time)" "$fwd" "$pm_reqs"
expect_ge "...and relayed the chunks back to c" "$(counter b code_chunks_relayed)" 3
expect_eq "...a answered b, the node that asked it, each one" "$(($(counter a code_requests_served) - served_a))" "$fwd"
grep -q "^$("$ANODE" code name "$pm_ao" | cut -c1-64)" <<<"$("$ANODE" -n b code list)" && fail "b cached code it only relayed"
ok "...and b, which only relayed it, did not cache it"

bad_ao=$EE_TEST_DIR/bad_loop.ao
fake "$b" serve "$bad_ao" 1 1 >/dev/null
expect_eq "fetched code that fails validation is refused" "$(counter b failed_validation)" 1
out=$(fake "$b" serve "$bad_ao" 3 0.5)
expect_eq "...and remembered: no second request for it" "$(echo "$out" | json "len(d['requests'])")" 0
expect_eq "...capsules naming it are dropped at once" "$(counter b drop_code_bad)" 4

forward_ao=$CODE_DIR/forward.ao
before=$(counter b drop_code_timeout)
out=$(fake "$b" silent "$forward_ao" 40 3.5)
expect_eq "parking is bounded: 8 of 40 capsules found no room" "$(counter b drop_park_full)" 8
expect_eq "a home that never answers: the 32 parked capsules time out" "$(($(counter b drop_code_timeout) - before))" 32
expect_ge "...after asking again several times" "$(echo "$out" | json "len(d['requests'])")" 5
expect_eq "...and b holds nothing parked afterwards" "$("$ANODE" -n b stats --json | json "d['fetch']['parked_now']")" 0
out=$("$ANODE" -n a ping e -c 1)
expect_match "the nodes still serve everyone else" "$out" '1 received'
echo "code loading: $checks checks passed"
