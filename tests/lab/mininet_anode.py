#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""anode routers in a Mininet network (tools/mininet/anode_mininet.py):
h1 - r1 - r2 - h2 (AnodeLine), run by test_mininet.sh inside a PID and
network namespace of its own. Prints 'ok N - ...' lines; exits 1 on the
first failure. Needs $ANODE, $ANODED and anode_mininet on PYTHONPATH."""
import json
import os
import subprocess
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet

from anode_mininet import AnodeLine

ANODE = os.environ['ANODE']
checks = 0


def ok(what):
    global checks
    checks += 1
    print('ok %d - %s' % (checks, what), flush=True)


def fail(what):
    print('FAIL: ' + what, flush=True)
    sys.exit(1)


def anode(node, *args):
    return subprocess.run([ANODE, '-n', node.app_socket] + list(args), capture_output=True, text=True, timeout=30)


def main():
    setLogLevel('warning')
    rundir = os.environ.get('MN_RUNDIR')
    net = Mininet(topo=AnodeLine(anoded=os.environ['ANODED'], rundir=rundir), controller=None, build=False)
    net.build()
    try:
        AnodeLine.routes(net)
        net.start()
        r1, r2, h1, h2 = net['r1'], net['r2'], net['h1'], net['h2']
        for r in (r1, r2):
            until = time.time() + 10
            while anode(r, 'info').returncode != 0:
                if time.time() > until or r.anoded.poll() is not None:
                    log = open(os.path.join(r.anode_dir, 'anoded.log')).read()
                    fail('anoded in %s did not come up:\n%s' % (r.name, log))
                time.sleep(0.1)
        ok('anoded runs in router mode in r1 and r2 (Mininet nodes of class AnodeRouter)')
        info = json.loads(anode(r1, 'stats', '--json').stdout)
        if info.get('mode') != 'router':
            fail('r1 is not in router mode: %s' % info.get('mode'))
        ok('r1 says it is a router node')
        out = h1.cmd('ping -c 3 -i 0.2 -W 2 10.0.2.1')
        if ' 0% packet loss' not in out:
            fail('h1 cannot ping h2 across the routers:\n' + out)
        ok('h1 pings h2 across r1 and r2 (the kernel forwards)')
        p = anode(r1, 'ping', '10.0.12.2:%d' % 3322, '-c', '3', '-i', '0.1', '--json')
        lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        summary = [l['summary'] for l in lines if 'summary' in l]
        if p.returncode != 0 or not summary or summary[0]['received'] != 3:
            fail('active ping r1 -> r2: %s %s' % (p.stdout, p.stderr))
        ok('active ping r1 -> r2: 3 of 3 capsules answered')
        t = anode(r1, 'trace', '10.0.12.2:3322', '--json')
        nodes = [r['node'] for r in json.loads(t.stdout)['records']] if t.returncode == 0 else []
        # Outside a lab the CLI knows no names: the records show addresses.
        if nodes != ['10.0.12.1:3322', '10.0.12.2:3322']:
            fail('active trace r1 -> r2 saw %s: %s' % (nodes, t.stderr))
        ok('active trace r1 -> r2 collects both routers\' resources')
        received = json.loads(anode(r2, 'stats', '--json').stdout)['counters']['received']
        if received < 4:
            fail('r2 received %d capsules, expected at least 4' % received)
        ok('r2 intercepted the capsules (%d received)' % received)
    finally:
        net.stop()
    for r in ('r1', 'r2'):
        if net[r].anoded.poll() is None:
            fail('anoded in %s still runs after net.stop()' % r)
    ok('net.stop() stops every anoded')
    print('%d checks passed' % checks)


if __name__ == '__main__':
    main()
