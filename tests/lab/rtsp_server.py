#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A real RTSP server for the proactive services' tests (issue 21):
GStreamer's gst-rtsp-server (Debian gir1.2-gst-rtsp-server-1.0, through
/usr/bin/python3 and gi) serving a live mu-law tone at rtsp://ADDR:PORT/test,
one RTP packet every 20 ms. Every request it is asked is appended to LOG as
"METHOD SESSION" (the session id, or -), so tests can see the PAUSE and
PLAY a service sends on a client's session.

  rtsp_server.py ADDR PORT LOG     (prints "ready" when it listens)"""
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

addr, port, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
Gst.init(None)
log = open(log_path, 'a', buffering=1)
server = GstRtspServer.RTSPServer()
server.set_address(addr)
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( audiotestsrc is-live=1 samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 '
                   '! mulawenc ! rtppcmupay name=pay0 pt=0 )')
factory.set_shared(True)
server.get_mount_points().add_factory('/test', factory)


def logged(method):
    def on_request(client, ctx):
        session = ctx.session.get_sessionid() if ctx.session else '-'
        log.write(f'{method} {session}\n')
    return on_request


def on_client(server, client):
    for signal, method in (('describe-request', 'DESCRIBE'), ('setup-request', 'SETUP'),
                           ('play-request', 'PLAY'), ('pause-request', 'PAUSE'),
                           ('teardown-request', 'TEARDOWN')):
        client.connect(signal, logged(method))


server.connect('client-connected', on_client)
if server.attach(None) == 0:
    sys.exit(f'rtsp_server.py: cannot listen on {addr}:{port}')
print('ready', flush=True)
GLib.MainLoop().run()
