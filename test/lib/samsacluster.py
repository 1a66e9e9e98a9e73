"""samsacluster - run a multi-node Samsa cluster on loopback for a test.

Each node gets its own temp dir, free kernel-assigned ports, a Kafka-style
server.properties (process.roles per node), `samsa storage format` with one
shared cluster id, and is started as build/bin/samsa-server.  Readiness is
polled with a deadline (never a fixed sleep).  Every process is SIGKILLed at
exit, so no server outlives its test; logs stay in <dir>/server.log.
"""
import atexit
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import samsanode
from kwire_py import kstr, recv_frame

TOP = samsanode.TOP
SERVER = samsanode.SERVER
CLI = samsanode.CLI


class Node:
    def __init__(self, cluster, node_id, roles, client_port, ctrl_port, host="127.0.0.1", wrap=()):
        self.cluster = cluster
        self.host = host      # the address it listens on and advertises
        self.wrap = list(wrap)  # a command prefix, e.g. ip netns exec NS
        self.id = node_id
        self.roles = roles
        self.client_port = client_port
        self.ctrl_port = ctrl_port
        self.dir = os.path.join(cluster.dir, "n%d" % node_id)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "server.properties")
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.client_port)

    def write_config(self):
        listeners = []
        if "broker" in self.roles:
            listeners.append("PLAINTEXT://%s:%d" % (self.host, self.client_port))
        if "controller" in self.roles:
            listeners.append("CONTROLLER://%s:%d" % (self.host, self.ctrl_port))
        lines = [
            "process.roles=%s" % self.roles,
            "%s=%d" % (self.cluster.id_key, self.id),
            "listeners=%s" % ",".join(listeners),
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "controller.quorum.voters=%s" % self.cluster.voters,
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=%s" % os.path.join(self.dir, "data"),
            "num.partitions=1",
        ]
        lines.extend(self.cluster.extra)
        if "broker" in self.roles:
            lines.append("advertised.listeners=PLAINTEXT://%s:%d" % (self.host, self.client_port))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.wrap + [SERVER, self.conf], stdout=logf, stderr=subprocess.STDOUT,
                                     preexec_fn=samsanode._die_with_parent)

    def wait_ready(self, timeout_s=30):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited rc=%s:\n%s" % (self.id, self.proc.returncode, self.tail()))
            if "broker" in self.roles:
                try:
                    socket.create_connection((self.host, self.client_port), timeout=0.5).close()
                    return
                except OSError:
                    pass
            elif "metadata caught up" in self.read_log():
                return
            time.sleep(0.05)
        raise RuntimeError("node %d not ready in %ss:\n%s" % (self.id, timeout_s, self.tail()))

    def restart(self):
        self.stop()
        self.start()
        self.wait_ready()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def tail(self, n=40):
        return "\n".join(self.read_log().splitlines()[-n:])


class Cluster:
    """roles: a list like ["broker,controller"] * 3, or
    ["controller"] * 3 + ["broker"] * 2.  Controllers are the voters."""

    def __init__(self, roles, extra=(), first_id=1, id_key="node.id", hosts=None, wraps=None):
        """first_id: the first node's id (Kafka's start at 0); id_key:
        node.id, or broker.id (its old name); hosts: each node's address
        (default 127.0.0.1); wraps: each node's command prefix (e.g.
        ["ip", "netns", "exec", NS], which execs the server: its pid stays
        the server's)."""
        self.dir = tempfile.mkdtemp(prefix="samsa-cluster-")
        self.extra = list(extra)
        self.id_key = id_key
        ports = samsanode.free_ports(2 * len(roles))
        hosts = hosts or ["127.0.0.1"] * len(roles)
        wraps = wraps or [()] * len(roles)
        self.nodes = [Node(self, first_id + i, r, ports[2 * i], ports[2 * i + 1], hosts[i], wraps[i])
                      for i, r in enumerate(roles)]
        self.voters = ",".join("%d@%s:%d" % (n.id, n.host, n.ctrl_port) for n in self.nodes if "controller" in n.roles)
        cid = subprocess.check_output([CLI, "storage", "random-uuid"], text=True).strip()
        for n in self.nodes:
            n.write_config()
            subprocess.check_output([CLI, "storage", "format", "-t", cid, "-c", n.conf], text=True)
        atexit.register(self.cleanup)

    def start(self):
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            n.wait_ready()

    def brokers(self):
        return [n for n in self.nodes if "broker" in n.roles]

    def bootstrap(self):
        return ",".join(n.bootstrap for n in self.brokers() if n.alive())

    def active_controller(self):
        """The node whose log most recently says it became the active controller."""
        best, when = None, ""
        for n in self.nodes:
            if not n.alive():
                continue
            for m in re.finditer(r"^(\S+) INFO  \[ctrl\] active controller node=(\d+)", n.read_log(), re.M):
                if m.group(1) > when:
                    best, when = n, m.group(1)
        return best

    def node(self, node_id):
        return [n for n in self.nodes if n.id == node_id][0]

    def fail(self, msg):
        """Print msg and every node's log tail, then exit 1 (samsanode.check's contract)."""
        for n in self.nodes:
            print("---- node %d (%s) log tail:\n%s" % (n.id, n.roles, n.tail(25)))
        print("FAIL: " + msg)
        sys.stdout.flush()
        sys.exit(1)

    def wait_for(self, what, fn, timeout_s=30, fail=True):
        """Poll fn every 50 ms until it returns something true (returned);
        past timeout_s, fail(what) (or return None if not fail)."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.05)
        if fail:
            self.fail("timed out after %ss waiting for %s" % (timeout_s, what))
        return None

    def find_coordinator(self, node, group, version=0, key_type=0, timeout_s=30):
        """FindCoordinator asked at node (raw frames, kwire_py): retried while
        the answer is COORDINATOR_NOT_AVAILABLE (15, __consumer_offsets being
        created).  Returns (error, node_id, host, port); v4 sends one key."""
        deadline = time.time() + timeout_s
        while True:
            ans = find_coordinator_once(node.client_port, group, version, key_type)
            if ans[0] != 15 or time.time() > deadline:
                return ans
            time.sleep(0.1)

    def coordinator(self, group, timeout_s=30):
        """The broker that coordinates group, as FindCoordinator names it (asked of a live broker)."""
        live = [b for b in self.brokers() if b.alive()]
        err, nid, _, _ = self.find_coordinator(live[0], group, timeout_s=timeout_s)
        if err != 0:
            self.fail("FindCoordinator %s: error %d" % (group, err))
        return self.node(nid)

    def not_coordinator(self, group):
        """A live broker that is NOT group's coordinator (bootstrap clients there)."""
        coord = self.coordinator(group)
        return [n for n in self.brokers() if n is not coord and n.alive()][0]

    def cleanup(self):
        for n in self.nodes:
            n.kill9()
        if os.environ.get("KEEP_CLUSTER"):
            return
        shutil.rmtree(self.dir, ignore_errors=True)


def roundtrip(port, payload, timeout_s=10):
    """Send one request (header + body, without its size) to 127.0.0.1:port
    on a new connection; its response frame, without the size."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    s.settimeout(timeout_s)
    try:
        s.sendall(struct.pack(">i", len(payload)) + payload)
        return recv_frame(s)
    finally:
        s.close()


def find_coordinator_once(port, key, version=0, key_type=0):
    """One FindCoordinator request (v0-v4; v3+ flexible: header v2, compact
    strings) to 127.0.0.1:port.  Returns (error, node_id, host, port)."""
    def cstr(v):
        b = v.encode()
        return bytes([len(b) + 1]) + b

    if version >= 3:
        hdr = struct.pack(">hhi", 10, version, 7) + kstr("samsacluster") + b"\x00"
        if version == 3:
            body = cstr(key) + struct.pack(">b", key_type) + b"\x00"
        else:
            body = struct.pack(">b", key_type) + bytes([2]) + cstr(key) + b"\x00"
    else:
        hdr = struct.pack(">hhi", 10, version, 7) + kstr("samsacluster")
        body = kstr(key) + (struct.pack(">b", key_type) if version >= 1 else b"")
    r = roundtrip(port, hdr + body)
    i = 4
    if version >= 3:
        i += 1  # response header v1 tags
    if version >= 1:
        i += 4  # throttle
    if version >= 4:
        n = r[i] - 1
        i += 1
        if n != 1:
            raise ValueError("v4: %d coordinators for 1 key" % n)
        klen = r[i] - 1
        i += 1 + klen
        nid, = struct.unpack(">i", r[i:i + 4])
        hlen = r[i + 4] - 1
        host = r[i + 5:i + 5 + hlen].decode()
        i += 5 + hlen
        prt, err = struct.unpack(">ih", r[i:i + 6])
        return err, nid, host, prt
    err, = struct.unpack(">h", r[i:i + 2])
    i += 2
    if version >= 1:
        if version >= 3:
            mlen = r[i] - 1
            i += 1 + max(mlen, 0)
        else:
            mlen, = struct.unpack(">h", r[i:i + 2])
            i += 2 + max(mlen, 0)
    nid, = struct.unpack(">i", r[i:i + 4])
    i += 4
    if version >= 3:
        hlen = r[i] - 1
        i += 1
    else:
        hlen, = struct.unpack(">h", r[i:i + 2])
        i += 2
    host = r[i:i + hlen].decode()
    prt, = struct.unpack(">i", r[i + hlen:i + hlen + 4])
    return err, nid, host, prt


def metadata_once(port, topics, timeout_s=5):
    """One Metadata v1 request for topics to 127.0.0.1:port.  Returns
    (broker_ids, controller_id, parts), parts[(topic, partition)] =
    (error, leader, replicas, isr).  Kafka lists only live (unfenced)
    brokers."""
    body = struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics)
    r = roundtrip(port, struct.pack(">hhi", 3, 1, 11) + kstr("samsacluster") + body, timeout_s)
    i = 4

    def i16():
        nonlocal i
        i += 2
        return struct.unpack(">h", r[i - 2:i])[0]

    def i32():
        nonlocal i
        i += 4
        return struct.unpack(">i", r[i - 4:i])[0]

    def sval():
        nonlocal i
        n = i16()
        if n < 0:
            return None
        i += n
        return r[i - n:i].decode()

    brokers = set()
    for _ in range(i32()):
        brokers.add(i32())
        sval()
        i32()
        sval()  # rack
    controller = i32()
    parts = {}
    for _ in range(i32()):
        i16()  # topic error
        name = sval()
        i += 1  # is_internal
        for _ in range(i32()):
            err, pid, leader = i16(), i32(), i32()
            replicas = [i32() for _ in range(i32())]
            isr = [i32() for _ in range(i32())]
            parts[(name, pid)] = (err, leader, replicas, isr)
    return brokers, controller, parts
