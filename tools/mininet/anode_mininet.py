# SPDX-License-Identifier: MIT
"""anode routers in Mininet networks.

AnodeRouter is a Mininet node that forwards IP (a router) and runs anoded
in router mode in its network namespace: capsules that cross it run there,
everything else the kernel forwards. Put it in any Mininet network:

    from anode_mininet import AnodeRouter
    r1 = net.addHost('r1', cls=AnodeRouter, anode_addr='10.0.12.1')

anode_addr is the node address (capsules are sent to it, port 3322; default:
the node's first interface's address once the links are up); anoded is the
program (default: anoded on PATH, or $ANODED); rundir holds each router's
anoded.conf, log and sockets (default /tmp/anode-mn/NAME). The anode CLI
reaches a router through its sockets:

    anode -n /tmp/anode-mn/r1/node.app ping 10.0.12.2:3322

Or with `mn`: `sudo mn --custom anode_mininet.py --topo anodeline` builds
h1 - r1 - r2 - h2 with static routes (see AnodeLine).

Mininet's own cleanup (mn -c) kills processes by name; run it only in a
PID namespace of its own (unshare --pid --fork --mount-proc).
"""
import os
import subprocess

from mininet.node import Node
from mininet.topo import Topo

ANODE_PORT = 3322


class AnodeRouter(Node):
    """A Mininet node that is an anode router (anoded, mode router)."""

    def config(self, anode_addr=None, anoded=None, rundir=None, anode_conf=(), **params):
        r = super().config(**params)
        for key, value in (('net.ipv4.ip_forward', 1), ('net.ipv4.conf.all.rp_filter', 0),
                           ('net.ipv4.conf.default.rp_filter', 0)):
            self.cmd('sysctl -q -w %s=%d' % (key, value))
        self.anode_dir = rundir or os.path.join('/tmp/anode-mn', self.name)
        os.makedirs(self.anode_dir, exist_ok=True)
        self.anode_addr = anode_addr or self.IP()
        conf = os.path.join(self.anode_dir, 'anoded.conf')
        with open(conf, 'w') as f:
            f.write('# written by anode_mininet.AnodeRouter for %s\n' % self.name)
            f.write('name %s\nmode router\nlisten %s:%d\n' % (self.name, self.anode_addr, ANODE_PORT))
            f.write('app-socket %s/node.app\nctl-socket %s/node.ctl\n' % (self.anode_dir, self.anode_dir))
            for line in anode_conf:
                f.write(line + '\n')
        program = anoded or os.environ.get('ANODED', 'anoded')
        self.anode_log = open(os.path.join(self.anode_dir, 'anoded.log'), 'ab')
        self.anoded = self.popen([program, '-f', conf], stdin=subprocess.DEVNULL, stdout=self.anode_log,
                                 stderr=subprocess.STDOUT)
        return r

    @property
    def app_socket(self):
        """What `anode -n` takes to reach this router."""
        return os.path.join(self.anode_dir, 'node.app')

    def terminate(self):
        proc = getattr(self, 'anoded', None)
        if proc and proc.poll() is None:
            proc.terminate()  # the parent removes its rules and stops its child
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log = getattr(self, 'anode_log', None)
        if log:
            log.close()
        super().terminate()


class AnodeLine(Topo):
    """h1 - r1 - r2 - h2: two anode routers between two hosts, static routes.

    h1 10.0.1.1/24, r1 10.0.1.254 and 10.0.12.1/24, r2 10.0.12.2 and
    10.0.2.254/24, h2 10.0.2.1/24. The routers' node addresses are
    10.0.12.1 and 10.0.12.2; routes are installed by AnodeLine.routes(net)
    once the network is built (mn --custom does it through its 'post' hook
    in a script; see tests/lab/mininet_anode.py).
    """

    def build(self, anoded=None, rundir=None):
        h1 = self.addHost('h1', ip='10.0.1.1/24', defaultRoute='via 10.0.1.254')
        h2 = self.addHost('h2', ip='10.0.2.1/24', defaultRoute='via 10.0.2.254')
        where = (lambda name: os.path.join(rundir, name)) if rundir else (lambda name: None)
        r1 = self.addNode('r1', cls=AnodeRouter, ip='10.0.1.254/24', anode_addr='10.0.12.1', anoded=anoded,
                          rundir=where('r1'))
        # A node's ip= goes on its first interface: r2's first link is to r1.
        r2 = self.addNode('r2', cls=AnodeRouter, ip='10.0.12.2/24', anode_addr='10.0.12.2', anoded=anoded,
                          rundir=where('r2'))
        self.addLink(h1, r1, intfName2='r1-eth0', params2={'ip': '10.0.1.254/24'})
        self.addLink(r1, r2, intfName1='r1-eth1', params1={'ip': '10.0.12.1/24'},
                     intfName2='r2-eth1', params2={'ip': '10.0.12.2/24'})
        self.addLink(r2, h2, intfName1='r2-eth0', params1={'ip': '10.0.2.254/24'})

    @staticmethod
    def routes(net):
        net['r1'].cmd('ip route add 10.0.2.0/24 via 10.0.12.2')
        net['r2'].cmd('ip route add 10.0.1.0/24 via 10.0.12.1')


topos = {'anodeline': AnodeLine}
