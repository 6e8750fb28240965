# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts (sourced).

# Put a section between "<!-- NAME:begin" and "<!-- NAME:end -->" of
# bench/RESULTS.md, replacing what was there, or append it (creating the
# file with its heading when there is none). The section file holds both
# markers.
results_section() { # results-file name section-file
	local results=$1 name=$2 section=$3
	if [[ -f $results ]] && grep -q "<!-- $name:begin" "$results"; then
		awk -v sec="$section" -v b="<!-- $name:begin" -v e="<!-- $name:end -->" '
			index($0, b) == 1 { while ((getline l < sec) > 0) print l; skip = 1; next }
			index($0, e) == 1 { skip = 0; next }
			!skip { print }' "$results" >"$results.new"
		cat "$results.new" >"$results"
		rm -f "$results.new"
	else
		# Test before redirecting: ">>" creates the file.
		local new_file=0
		[[ -f $results ]] || new_file=1
		{
			if [[ $new_file == 1 ]]; then
				echo "# Benchmark results"
				echo
				echo "Figures measured by the scripts in bench/; each section is rewritten by the"
				echo "script named in it."
			fi
			echo
			cat "$section"
		} >>"$results"
	fi
	echo "bench/RESULTS.md updated (section $name)"
}

# ---- a middle between a sender and a receiver (services.sh, netserv.sh) ----
#
# Namespaces $S (10.77.1.2), $M (the middle, 10.77.1.1 and 10.77.2.1,
# forwarding) and $R (10.77.2.2), set by the caller, joined by veth pairs;
# the caller deletes them.
mid_net_up() {
	for n in "$S" "$M" "$R"; do ip netns add "$n"; ip -n "$n" link set lo up; done
	ip -n "$S" link add eth0 type veth peer name m0 netns "$M"
	ip -n "$R" link add eth0 type veth peer name m1 netns "$M"
	ip -n "$S" addr add 10.77.1.2/24 dev eth0
	ip -n "$M" addr add 10.77.1.1/24 dev m0
	ip -n "$M" addr add 10.77.2.1/24 dev m1
	ip -n "$R" addr add 10.77.2.2/24 dev eth0
	local l
	for l in "$S eth0" "$M m0" "$M m1" "$R eth0"; do set -- $l; ip -n "$1" link set "$2" up; done
	ip -n "$S" route add default via 10.77.1.1
	ip -n "$R" route add default via 10.77.2.1
	ip netns exec "$M" sysctl -qw net.ipv4.ip_forward=1
}

# The whole set-up: MID_CPU and END_CPU (the middle on CPU 1, the ends on
# CPU 0, when $PIN is 1), the namespaces, and a sink on $R:6000 (in PIDS).
mid_start() {
	MID_CPU=() END_CPU=()
	if [[ $PIN == 1 ]]; then MID_CPU=(taskset -c 1); END_CPU=(taskset -c 0); fi
	mid_net_up
	ip netns exec "$R" "$UDPBLAST" -k -l 10.77.2.2:6000 &
	PIDS+=($!)
}
# Stop what the caller started (PIDS) and delete the namespaces.
mid_stop() {
	local p n
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "$S" "$M" "$R"; do ip netns del "$n" 2>/dev/null; done
}

# An anode router on $M named NAME with the policy $TMP/policy, its sockets
# $TMP/n.app and $TMP/n.ctl, its log $TMP/node.log; NODE_PID, in PIDS.
# Returns once it answers, else says why and fails.
mid_router() { # name
	printf 'name %s\nmode router\nlisten 10.77.1.1:3322\napp-socket %s/n.app\nctl-socket %s/n.ctl\npolicy %s/policy\n' \
		"$1" "$TMP" "$TMP" "$TMP" >"$TMP/n.conf"
	ip netns exec "$M" "$ANODED" -f "$TMP/n.conf" >"$TMP/node.log" 2>&1 &
	NODE_PID=$!
	PIDS+=($NODE_PID)
	local _
	for _ in $(seq 100); do "$ANODE" -n "$TMP/n.app" info >/dev/null 2>&1 && return 0; sleep 0.05; done
	echo "the router did not start:" >&2
	cat "$TMP/node.log" >&2
	return 1
}

# UDP datagrams that reached $R's UDP layer (delivered or dropped at a full
# socket: a sink that never reads).
arrived() { ip netns exec "$R" awk '$1 == "Udp:" { if (h) { print $2 + $4; exit } h = 1 }' /proc/net/snmp; }
kv() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
# bench/udpblast from $S to $R:6000 for $SECS s (on ${END_CPU[@]}): "sent/s
# arrived/s" appended to $TMP/tp.CONFIG.SIZE.
blast() { # config size
	local a0 a1 secs
	a0=$(arrived)
	"${END_CPU[@]}" ip netns exec "$S" "$UDPBLAST" -l 10.77.1.2:5000 -d 10.77.2.2:6000 -s "$2" -t "$SECS" >"$TMP/blast.out"
	sleep 0.2
	a1=$(arrived)
	secs=$(kv "$TMP/blast.out" secs)
	echo "$(kv "$TMP/blast.out" rate) $(/usr/bin/python3 -c "print(int(($a1 - $a0) / $secs))")" >>"$TMP/tp.$1.$2"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$1"; }
# Per-round ratios of column c of two files of rounds: median (min-max).
ratio() { # a-file b-file column
	paste "$1" "$2" | awk -v c="$3" -v w=2 '{ b = $(c + w); print (b > 0 ? $c / b : 0) }' | sort -n |
		awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f (%.2f-%.2f)", m, a[1], a[NR] }'
}
