#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Active traceroute (seed 002): records from every node or only the goal
# nodes, in path order, with figures the nodes read from the system; code
# loaded on demand or carried; and a user's own code object that collects
# its own figure in its own format.
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab_up "$TOPO_DIR/line5.topo"
out=$("$ANODE" -n a trace e --json)
expect_eq "trace a->e: one record per node, in path order" "$(echo "$out" | json "','.join(r['node'] for r in d['records'])")" "a,b,c,d,e"
expect_eq "every record is a first visit" "$(echo "$out" | json "set(r['visit'] for r in d['records'])")" "{1}"
memtotal=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
expect_eq "memory total is the system's (/proc/meminfo)" "$(echo "$out" | json "d['records'][2]['mem_total_kb']")" "$memtotal"
expect_eq "used + available = total (read a moment apart: within 1 %)" "$(echo "$out" | json "all(abs(r['mem_used_kb'] + r['mem_available_kb'] - r['mem_total_kb']) < r['mem_total_kb'] / 100 for r in d['records'])")" True
expect_eq "load is the system's 1-minute load" "$(echo "$out" | json "abs(d['records'][0]['load_milli'] / 1000 - $(cut -d' ' -f1 /proc/loadavg)) < 0.5")" True
expect_eq "link counters are the nodes' own (c has sent and received)" "$(echo "$out" | json "d['records'][2]['link_rx_bytes'] > 0 and d['records'][2]['link_tx_bytes'] > 0")" True
expect_eq "processing time and delay are measured" "$(echo "$out" | json "all(r['processing_ns'] > 0 for r in d['records']) and all(r['delay_ns'] > 0 for r in d['records'][1:])")" True
for n in b c d e; do expect_eq "the trace code was loaded on demand at $n" "$(counter $n code_fetched)" 1; done

out=$("$ANODE" -n a trace e --at b,d --json)
expect_eq "--at b,d: records from the goal nodes only" "$(echo "$out" | json "','.join(r['node'] for r in d['records'])")" "b,d"
out=$("$ANODE" -n a trace e --at b,d)
expect_match "text output has a table and the round trip" "$out" 'round trip [0-9.]+ ms, 2 records'

lab_up "$TOPO_DIR/line3.topo"
export ANODE_LAB=line3
out=$("$ANODE" -n a trace c --carry --json)
expect_eq "--carry: three records" "$(echo "$out" | json "len(d['records'])")" 3
for n in b c; do expect_eq "--carry: $n cached the code it carried" "$(counter $n code_carried)" 1; done

"$ANODE" code build "$(dirname "$0")/usertrace.c" -I "$SRC_DIR/apps" -o "$ANODE_RUN_DIR/usertrace.ao" >/dev/null
out=$("$ANODE" -n a trace c --code "$ANODE_RUN_DIR/usertrace.ao" --json)
c_port=$(awk '$1 == "c" {print $2}' "$ANODE_RUN_DIR/line3/nodes" | cut -d: -f2)
expect_eq "--code: the user's records, in the user's format" "$(echo "$out" | json "d['records'][2]['text']")" "port=$(printf %05d "$c_port")"
expect_eq "--code: the user's code was loaded on demand" "$(counter b code_fetched)" 1
echo "trace: $checks checks passed"
