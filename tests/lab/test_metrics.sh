#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Metrics over HTTP (issue 19, item 3): router a of a small namespace lab
# (a - b, host h1 on a) serves `stats --prometheus` at metrics-listen
# 0.0.0.0:9322 from its unprivileged child, under the system call
# allow-list. A real Prometheus in a's namespace scrapes it each second and
# holds a's forwarded capsules; promtool accepts the page; other paths and
# methods get 404 and 405, counted. The attack: h1 opens 40 connections to
# the port and sends nothing. At most 4 stay open (the per-address bound),
# they are closed after the 5 s idle time, and meanwhile the victim notices
# nothing: Prometheus keeps scraping and capsules keep crossing a.
# Skipped (77) without root, ip netns, curl or prometheus.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in ip curl prometheus promtool; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/deps.sh installs it)"; exit 77; }
done
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
. "$(dirname "$0")/lib.sh"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab=mx$$
topo=$ANODE_RUN_DIR/$lab.topo
printf 'node a\nnode b\nlink a b\nhost h1 a\nset a metrics-listen 0.0.0.0:9322\n' >"$topo"
export ANODE_LAB=$lab
extra_pids=()
metrics_cleanup() {
  local rc=$?
  set +e
  for p in "${extra_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  (exit $rc)
  cleanup
}
trap metrics_cleanup EXIT
in_ns() { "$ANODE" lab exec "$lab" "$@"; }

"$ANODE" lab up "$topo" --netns >/dev/null
labs_up+=("$topo")
a_addr=$(awk '$1 == "router" && $2 == "a" {print $4}' "$ANODE_RUN_DIR/$lab/netns")
url=http://127.0.0.1:9322/metrics
page=$(in_ns a -- curl -sf "$url")
promtool check metrics <<<"$page" >"$ANODE_RUN_DIR/promtool.out" 2>&1 ||
  fail "promtool check metrics refused the page: $(cat "$ANODE_RUN_DIR/promtool.out")"
ok "a serves /metrics from its child, in the Prometheus text format promtool accepts"
expect_match "...labelled as router mode" "$page" '^anode_info\{node="a",mode="router",link_kind="udp"\} 1$'
expect_match "...with the content type Prometheus expects" \
  "$(in_ns a -- curl -sf -o /dev/null -w '%{content_type}' "$url")" '^text/plain; version=0.0.4'
expect_eq "another path: 404" "$(in_ns a -- curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9322/)" 404
expect_eq "another method: 405" "$(in_ns a -- curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url")" 405
expect_match "a's log says it serves" "$(cat "$ANODE_RUN_DIR/$lab/a.log")" 'metrics: serving http://0.0.0.0:9322/metrics'

# A real Prometheus, scraping every second.
prom=$ANODE_RUN_DIR/prom
mkdir -p "$prom/data"
cat >"$prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: anode
    static_configs:
      - targets: ['127.0.0.1:9322']
YML
in_ns a -- prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
  --web.listen-address=127.0.0.1:9090 >"$prom/log" 2>&1 &
extra_pids+=($!)
query() { in_ns a -- curl -sf --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query; }
value() { query "$1" | json "d['data']['result'][0]['value'][1] if d['data']['result'] else ''"; }
scraped() { [ "$(value 'up{job="anode"}')" = 1 ]; }
wait_for "Prometheus to scrape a" 30 scraped
ok "Prometheus scrapes a: up{job=\"anode\"} is 1"

# Capsules across a (b pings h1's router a: they cross a's UDP port), and
# Prometheus sees a's count grow.
"$ANODE" -n b ping a -c 5 -i 0.05 >/dev/null
n=$("$ANODE" -n a stats --json | json "d['counters']['received']")
seen() { [ "$(value "anode_counters_received_total{node=\"a\"}")" = "$n" ]; }
wait_for "Prometheus to hold a's received count ($n)" 15 seen
ok "Prometheus holds a's received capsules ($n), as anode stats says"

# The attack: 40 idle connections from h1.
in_ns h1 -- /usr/bin/python3 -c "
import socket, time
s = []
for i in range(40):
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect(('$a_addr', 9322)); s.append(c)
    except OSError:
        pass
time.sleep(30)
" &
extra_pids+=($!)
attacker=$!
open_from_h1() { in_ns a -- ss -Htn state established "( sport = :9322 )" | grep -vc '127.0.0.1' || true; }
sleep 1.5
held=$(open_from_h1)
echo "connections from h1 the node holds: $held of 40"
[ "$held" -le 4 ] || fail "the node holds $held connections from one address (bound 4)"
ok "the node holds at most 4 idle connections from one address ($held)"
before=$(value 'anode_metrics_scrapes_total{node="a"}')
out=$("$ANODE" -n b ping a -c 5 -i 0.05)
expect_match "...meanwhile capsules still cross a" "$out" '5 received'
more() { [ "$(value 'anode_metrics_scrapes_total{node="a"}')" -gt "$before" ]; }
wait_for "Prometheus to scrape again during the attack" 10 more
ok "...and Prometheus still scrapes it"
idle_closed() { [ "$(open_from_h1)" -eq 0 ]; }
wait_for "the idle connections to be closed" 15 idle_closed
ok "the idle connections are closed after the idle time"
kill "$attacker" 2>/dev/null || true
echo "$checks checks passed"
