"""netns - one network namespace per node, joined by a bridge, cut with iptables.

    net = Net(3)            # needs root; net.hosts = ["10.231.K.1", ...]
    Cluster(..., hosts=net.hosts, wraps=net.wraps)
    net.isolate(1, [2, 3])  # node 1 and nodes 2, 3 no longer reach each other
    net.drop_from(1, [2])   # one way: node 1 stops receiving from node 2
    net.heal()

Topology: node namespaces sf<K>n<i> (eth0 = 10.231.K.i/24), each joined by a
veth pair to bridge br0 in a switch namespace sf<K>sw; the root namespace
joins the same bridge through veth sf<K>r (10.231.K.254), so clients in the
root namespace reach every node.  The bridge lives in its own namespace
because Docker's FORWARD policy (DROP) in the root namespace would also drop
bridged traffic when br_netfilter is loaded; the switch namespace has empty
tables.  Cuts are iptables DROP rules in the node namespaces (packets vanish;
no RST, as in a real partition); heal() flushes them.  K is the first subnet
index with no namespace or address in use, so several runs can coexist.

There is no tc netem on this machine (see reliability-anchors.md): delays
would need a userspace proxy; this module only cuts.  Everything created is
removed at exit (atexit, also after a failure); deleting a namespace deletes
its veths.
"""
import atexit
import os
import subprocess


def sh(*args, check=True):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("netns: `%s` failed (exit %d): %s" % (" ".join(args), r.returncode, r.stdout.strip()))
    return r.stdout


class Net:
    def __init__(self, count):
        if os.geteuid() != 0:
            raise PermissionError("network namespaces need root")
        used = sh("ip", "netns", "list") + sh("ip", "-o", "addr")
        self.k = next(k for k in range(1, 250) if "sf%dn" % k not in used and "sf%dsw" % k not in used
                      and "10.231.%d." % k not in used)
        k = self.k
        self.sw = "sf%dsw" % k
        self.ns = ["sf%dn%d" % (k, i + 1) for i in range(count)]
        self.hosts = ["10.231.%d.%d" % (k, i + 1) for i in range(count)]
        self.wraps = [["ip", "netns", "exec", ns] for ns in self.ns]
        self.root_veth = "sf%dr" % k
        self._made = []
        atexit.register(self.teardown)
        self._build()

    def _in(self, ns, *args, check=True):
        return sh("ip", "netns", "exec", ns, *args, check=check)

    def _build(self):
        k = self.k
        sh("ip", "netns", "add", self.sw)
        self._made.append(self.sw)
        self._in(self.sw, "ip", "link", "add", "br0", "type", "bridge")
        self._in(self.sw, "ip", "link", "set", "br0", "up")
        self._in(self.sw, "ip", "link", "set", "lo", "up")
        self._in(self.sw, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", check=False)
        for i, ns in enumerate(self.ns):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            a, b = "sf%dn%da" % (k, i + 1), "sf%dn%db" % (k, i + 1)
            sh("ip", "link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", self.sw)
            self._in(ns, "ip", "link", "set", a, "name", "eth0")
            self._in(ns, "ip", "addr", "add", self.hosts[i] + "/24", "dev", "eth0")
            self._in(ns, "ip", "link", "set", "eth0", "up")
            self._in(ns, "ip", "link", "set", "lo", "up")
            self._in(self.sw, "ip", "link", "set", b, "master", "br0")
            self._in(self.sw, "ip", "link", "set", b, "up")
        sh("ip", "link", "add", self.root_veth, "type", "veth", "peer", "name", "sf%drb" % k, "netns", self.sw)
        self._made.append("veth:" + self.root_veth)
        sh("ip", "addr", "add", "10.231.%d.254/24" % k, "dev", self.root_veth)
        sh("ip", "link", "set", self.root_veth, "up")
        self._in(self.sw, "ip", "link", "set", "sf%drb" % k, "master", "br0")
        self._in(self.sw, "ip", "link", "set", "sf%drb" % k, "up")

    def host(self, i):
        """Node i's address (i counts from 1, as node ids do)."""
        return self.hosts[i - 1]

    def drop_from(self, i, others):
        """One way: node i drops every packet from the nodes in others (it still sends to them)."""
        for j in others:
            self._in(self.ns[i - 1], "iptables", "-A", "INPUT", "-s", self.host(j), "-j", "DROP")

    def drop_to(self, i, others):
        for j in others:
            self._in(self.ns[i - 1], "iptables", "-A", "OUTPUT", "-d", self.host(j), "-j", "DROP")

    def isolate(self, i, others):
        """Both ways between node i and each of others (the client path stays open)."""
        self.drop_from(i, others)
        self.drop_to(i, others)

    def heal(self):
        for ns in self.ns:
            self._in(ns, "iptables", "-F", "INPUT")
            self._in(ns, "iptables", "-F", "OUTPUT")

    def teardown(self):
        for x in reversed(self._made):
            if x.startswith("veth:"):
                sh("ip", "link", "del", x[5:], check=False)
            else:
                sh("ip", "netns", "del", x, check=False)
        self._made = []
