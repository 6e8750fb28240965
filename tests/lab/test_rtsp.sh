#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# RTSP against a real server (issue 21, the caching service's groundwork):
# GStreamer's RTSP server (tests/lab/rtsp_server.py) streams to a client
# that src/wire/rtsp.c drives (tests/lab/rtsp_ctl.c); PAUSE and PLAY sent on
# the client's session from another connection, as the caching service
# will send them, stop and restart the RTP flow, and the server logs them.
# Both go on one connection of the service's own, kept open: once a PAUSE
# moved the session to it, GStreamer answers 404 to a PLAY from a third
# connection, and stops the stream when that connection closes.
# Loopback only, no privileges. Skipped (77) without GStreamer's RTSP
# server bindings.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null ||
  { echo "SKIP: gir1.2-gst-rtsp-server-1.0 or python3-gi is missing (scripts/deps.sh installs them)"; exit 77; }
dir=$ANODE_RUN_DIR
port=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
rtp=$(/usr/bin/python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1] & ~1)")
url=rtsp://127.0.0.1:$port/test
pids=()
rtsp_cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  (exit $rc)
  cleanup
}
trap rtsp_cleanup EXIT
/usr/bin/python3 "$SRC_DIR/tests/lab/rtsp_server.py" 127.0.0.1 "$port" "$dir/requests" >"$dir/server.out" 2>&1 &
pids+=($!)
wait_for "the RTSP server" 10 grep -q ready "$dir/server.out"
# The RTP receiver: packets per 0.5 s window, one line each.
/usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $rtp)); s.settimeout(0.05)
out = open('$dir/rtp', 'w', buffering=1); n = 0; t = time.time() + 0.5
while True:
    try: s.recv(2000); n += 1
    except socket.timeout: pass
    if time.time() >= t: out.write(f'{n}\n'); n = 0; t += 0.5" &
pids+=($!)
"$RTSP_CTL" open "$url" "$rtp" >"$dir/open.out" &
pids+=($!)
wait_for "the client's session" 10 grep -q session= "$dir/open.out"
session=$(sed -n 's/^session=\([^ ]*\).*/\1/p' "$dir/open.out")
ok "a client on src/wire/rtsp.c: DESCRIBE, SETUP, PLAY against GStreamer's RTSP server (session $session)"
last() { sleep 1.1; tail -1 "$dir/rtp"; }
[ "$(last)" -ge 10 ] || fail "no RTP while playing: $(tail -3 "$dir/rtp")"
ok "RTP flows while playing ($(tail -1 "$dir/rtp") packets in 0.5 s)"
"$RTSP_CTL" pauseplay "$url" "$session" 2500 >"$dir/pp.out" &
pp=$!
pids+=($pp)
wait_for "PAUSE's answer" 5 grep -q PAUSE "$dir/pp.out"
[ "$(cat "$dir/pp.out")" = "PAUSE 200" ] || fail "PAUSE from another connection: $(cat "$dir/pp.out")"
[ "$(last)" = 0 ] || fail "RTP after PAUSE: $(tail -3 "$dir/rtp")"
ok "PAUSE on the client's session from another connection: 200, and the flow stops"
wait_for "PLAY's answer" 6 grep -q PLAY "$dir/pp.out"
grep -q "^PLAY 200$" "$dir/pp.out" || fail "PLAY after PAUSE: $(cat "$dir/pp.out")"
[ "$(last)" -ge 10 ] || fail "no RTP after PLAY: $(tr "\n" " " <"$dir/rtp")"
ok "PLAY on the same connection 2.5 s later: 200, and the flow comes back"
grep -q "^PAUSE $session$" "$dir/requests" && grep -q "^PLAY $session$" "$dir/requests" ||
  fail "the server did not log PAUSE and PLAY: $(cat "$dir/requests")"
ok "the server logged PAUSE and PLAY on the session"
rc=0
"$RTSP_CTL" send PAUSE "$url" nosuchsession >/dev/null || rc=$?
[ $rc = 1 ] || fail "PAUSE of a session that does not exist was taken"
ok "a session that does not exist is refused by the server"
echo "$checks checks passed"
