#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Labs from examples/: nodes start empty, ping capsules carry their code,
# every node on the path caches it, hop counts follow the shortest paths,
# and `lab down` leaves no process and no state behind.
. "$(dirname "$0")/lib.sh"

lab_up "$TOPO_DIR/line3.topo"
for n in a b c; do expect_eq "line3: node $n starts with an empty code cache" "$(counter $n objects)" 0; done
out=$("$ANODE" -n a ping c -c 3 -i 0.05 --carry)
expect_match "line3: ping a->c answers 3 of 3" "$out" '3 capsules transmitted, 3 received, 0% capsule loss'
expect_match "line3: ping a->c crosses 2 links each way" "$out" 'seq=1 hops=2\+2 time='
expect_match "line3: ping prints rtt statistics" "$out" 'rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms'
ping_name=$("$ANODE" code name "$CODE_DIR/ping.ao" | cut -c1-64)
for n in b c; do
  expect_match "line3: $n cached the ping code it carried" "$("$ANODE" -n $n code list)" "^$ping_name "
  expect_eq "line3: $n cached code from a capsule once" "$(counter $n code_carried)" 1
done
expect_eq "line3: b forwarded 6 capsules (3 out, 3 back)" "$(counter b forwarded)" 6
# Metrics (issue 19): stats --prometheus is the Prometheus text format that
# promtool accepts, with every figure of --json, counters as counters.
prom=$("$ANODE" -n b stats --prometheus)
promtool check metrics <<<"$prom" >"$ANODE_RUN_DIR/promtool.out" 2>&1 ||
  fail "promtool check metrics refused stats --prometheus: $(cat "$ANODE_RUN_DIR/promtool.out")"
ok "line3: stats --prometheus passes promtool check metrics"
expect_match "...b's forwarded capsules, a counter labelled with the node" "$prom" \
  '^anode_counters_forwarded_total\{node="b",mode="overlay",link_kind="udp"\} 6$'
expect_match "...with its type and help" "$prom" '# TYPE anode_counters_forwarded_total counter'
expect_match "...figures now as gauges" "$prom" '# TYPE anode_buffers_free gauge'
expect_eq "...and as many samples as --json has figures" \
  "$(grep -c '^anode_' <<<"$prom")" \
  "$("$ANODE" -n b stats --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(1 + sum(len(v) for v in d.values() if isinstance(v, dict)))")"
out=$("$ANODE" -n c ping a -c 1)
expect_match "line3: ping the other way, c->a" "$out" '1 received'
# anode route (issue 19): the table with the lab's names, changed while the
# node runs.
expect_match "line3: route show names c and its next hop b" "$("$ANODE" -n a route show)" \
  '^127\.0\.0\.1:[0-9]+ \(c\) +via 127\.0\.0\.1:[0-9]+ \(b\)$'
expect_eq "line3: routes --json, with names" \
  "$("$ANODE" -n a routes --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['mode'], sorted((r['destination_name'], r['via_name']) for r in d['routes']), d['default'])")" \
  "overlay [('b', 'b'), ('c', 'b')] None"
"$ANODE" -n a route del c
rc=0; out=$("$ANODE" -n a route del c 2>&1) || rc=$?
expect_eq "line3: route del of a route that is gone fails" "$rc" 1
expect_match "...saying so" "$out" 'no route to 127'
expect_match "line3: without the route, a's capsules to c drop: no route" \
  "$("$ANODE" -n a ping c -c 1 -W 1 --json)" '"dropped":\{"node":"a","reason":"No route to host"\}'
"$ANODE" -n a route add c via b
expect_match "line3: route add c via b: a reaches c again" "$("$ANODE" -n a ping c -c 1)" '1 received'
"$ANODE" -n a route add default b
expect_match "line3: route add default" "$("$ANODE" -n a route show)" '^default +via 127\.0\.0\.1:[0-9]+ \(b\)$'
"$ANODE" -n a route del default
rc=0; out=$("$ANODE" -n a route add c a 2>&1) || rc=$?
expect_match "line3: a route through the node itself is refused" "$rc $out" '^1 .*is this node itself'
# ping --json (issue 19): JSON Lines, a reply per answer and a summary.
out=$("$ANODE" -n a ping c -c 2 -i 0.05 --json)
expect_eq "line3: ping --json: two replies of 2+2 hops and a summary with no loss" \
  "$(/usr/bin/python3 -c "
import json, sys
lines = [json.loads(l) for l in sys.stdin]
r = [l['reply'] for l in lines if 'reply' in l]
s = [l['summary'] for l in lines if 'summary' in l][0]
print([(x['seq'], x['hops_out'], x['hops_back']) for x in r], s['transmitted'], s['received'], s['loss_pct'], s['rtt_ms']['min'] <= s['rtt_ms']['max'])" <<<"$out")" \
  "[(1, 2, 2), (2, 2, 2)] 2 2 0.0 True"
out=$("$ANODE" -n b ping b -c 1)
expect_match "line3: ping a node itself: zero hops" "$out" 'hops=0\+0'
out=$("$ANODE" lab status)
expect_match "line3: lab status lists running nodes" "$out" 'a +127\.0\.0\.1:[0-9]+ +running'
expect_match "line3: a node's log lines carry the time, in UTC" "$(head -1 "$ANODE_RUN_DIR/line3/a.log")" \
  '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z anoded: info: '
expect_eq "line3: lab status --json: one lab, a b c running, b forwarded what the text says" \
  "$("$ANODE" lab status line3 --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin)['labs'][0]; print(d['name'], [(n['name'], n['state']) for n in d['nodes']], 'routing' in d, [n['forwarded'] for n in d['nodes'] if n['name'] == 'b'][0] > 0)")" \
  "line3 [('a', 'running'), ('b', 'running'), ('c', 'running')] False True"
# routes --json is JSON (it used to print the text), the same routes.
c_addr=$(awk '$1 == "c" {print $2}' "$ANODE_RUN_DIR/line3/nodes")
b_addr=$(awk '$1 == "b" {print $2}' "$ANODE_RUN_DIR/line3/nodes")
expect_eq "line3: routes --json at a: c via b" \
  "$("$ANODE" -n a routes --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print([r['via'] for r in d['routes'] if r['destination'] == '$c_addr'], d['default'])")" \
  "['$b_addr'] None"
expect_match "line3: routes as text says the same" "$("$ANODE" -n a routes)" "^$c_addr \\(c\\) +via $b_addr \\(b\\)$"
pids=$(awk '!/^#/ {print $5}' "$ANODE_RUN_DIR/line3/nodes")
"$ANODE" lab down "$TOPO_DIR/line3.topo" >/dev/null
labs_up=()
for p in $pids; do gone "$p" || fail "node pid $p still running after lab down"; done
ok "line3: lab down stops every node"
[ ! -e "$ANODE_RUN_DIR/line3" ] || fail "lab state left in $ANODE_RUN_DIR/line3"
ok "line3: lab down removes the lab's state"

lab_up "$TOPO_DIR/line5.topo"
out=$("$ANODE" -n a ping e -c 2 -i 0.05)
expect_match "line5: ping a->e crosses 4 links each way" "$out" 'hops=4\+4'
for n in b c d e; do expect_eq "line5: $n loaded the code on the way" "$(counter $n code_fetched)" 1; done
out=$("$ANODE" -n a ping e -c 1 -t 3 -W 0.5 || true)
expect_match "line5: hop limit 3 does not reach e, 4 links away" "$out" '0 received'
expect_eq "line5: d dropped it for its hop limit" "$(counter d drop_hop_limit)" 1

lab_up "$TOPO_DIR/mesh.topo"
out=$("$ANODE" -n a ping e -c 2 -i 0.05)
expect_match "mesh: ping a->e takes a shortest path (3 links)" "$out" 'hops=3\+3'
out=$("$ANODE" -n d ping b -c 1)
expect_match "mesh: the chord d-b is one link" "$out" 'hops=1\+1'
out=$("$ANODE" -n e flood a -t 0.5 -s 200)
expect_match "mesh: flood e->a gets a final status" "$out" 'final : [1-9][0-9]* capsules received'
# flood --json (issue 19): JSON Lines, the reports, then a summary.
out=$("$ANODE" -n e flood a -t 0.5 -s 200 -r 1000 --json)
expect_eq "mesh: flood --json: a final status and a summary that agree" \
  "$(/usr/bin/python3 -c "
import json, sys
lines = [json.loads(l) for l in sys.stdin]
final = [l['status'] for l in lines if 'status' in l and l['status']['final']]
s = [l['summary'] for l in lines if 'summary' in l][0]
print(len(final) >= 1 and final[-1]['received'] == s['received'] > 0, s['sent'] >= s['received'])" <<<"$out")" \
  "True True"
echo "topologies: $checks checks passed"
