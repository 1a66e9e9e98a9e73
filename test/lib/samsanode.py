"""samsanode - run one Samsa node from a Python integration test.

The Python twin of test/lib/node.sh: a fresh temp dir, free loopback ports
from the kernel, a KRaft combined-mode server.properties, `samsa storage
format`, then build/bin/samsa-server, polled (with a deadline, never a fixed
sleep) until the PLAINTEXT port accepts connections.

Invariants: every server started is killed at interpreter exit (atexit and
`with`), so none outlives a test; server output is kept in <dir>/server.log
and printed by fail() or when the `with` block raises.

Does not: build binaries, speak Kafka (tests use real clients or raw frames).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ.get("SAMSA_SERVER", os.path.join(TOP, "build", "bin", "samsa-server"))
CLI = os.environ.get("SAMSA_CLI", os.path.join(TOP, "build", "bin", "samsa"))
WAIT_S = float(os.environ.get("NODE_WAIT_S", "20"))

_live = []


def _die_with_parent():
    """Runs in the child before exec: SIGKILL the server if this test dies,
    even by SIGKILL, so no server outlives its test."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# SIGTERM (e.g. from the runner's timeout) exits through atexit, which kills the servers
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _cleanup():
    for node in list(_live):
        node.kill(quiet=True)
    for node in list(_all):
        if not os.environ.get("KEEP"):
            shutil.rmtree(node.root, ignore_errors=True)


_all = []
atexit.register(_cleanup)


class Node:
    def __init__(self, extra_props=None):
        self.root = tempfile.mkdtemp(prefix="samsa-it-py.")
        _all.append(self)
        self.port, self.cport = free_ports(2)
        self.bootstrap = "127.0.0.1:%d" % self.port
        self.props = os.path.join(self.root, "server.properties")
        self.log = os.path.join(self.root, "server.log")
        self.proc = None
        lines = [
            "process.roles=broker,controller",
            "node.id=1",
            "listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d" % (self.port, self.cport),
            "advertised.listeners=PLAINTEXT://127.0.0.1:%d" % self.port,
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "controller.quorum.voters=1@127.0.0.1:%d" % self.cport,
            "log.dirs=%s" % os.path.join(self.root, "data"),
            "num.partitions=1",
            "offsets.topic.replication.factor=1",  # one broker, as in Kafka's single-node examples
        ] + list(extra_props or [])
        with open(self.props, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.cluster_id = subprocess.check_output([CLI, "storage", "random-uuid"], text=True).strip()
        with open(self.log, "a") as logf:
            subprocess.check_call([CLI, "storage", "format", "-t", self.cluster_id, "-c", self.props],
                                  stdout=logf, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, *args):
        with open(self.log, "a") as logf:
            logf.write("==== node start %s args: %s ====\n" % (time.strftime("%T"), " ".join(args)))
            logf.flush()
            self.proc = subprocess.Popen([SERVER, self.props] + list(args), stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
        _live.append(self)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail("samsa-server exited with %d before accepting" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)  # poll interval
        self.fail("port %d not accepting after %.0fs" % (self.port, WAIT_S))

    def stop(self):
        assert self.alive(), "stop: not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.fail("samsa-server did not exit after SIGTERM")
        _live.remove(self)
        self.proc = None
        return rc

    def kill(self, quiet=False):
        if not self.alive():
            if self in _live:
                _live.remove(self)
            return
        self.proc.kill()
        self.proc.wait()
        if self in _live:
            _live.remove(self)
        self.proc = None

    def restart(self, *args):
        rc = self.stop()
        if rc != 0:
            self.fail("samsa-server exited %d after SIGTERM" % rc)
        return self.start(*args)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def print_log(self, lines=60):
        print("---- server log %s (last %d lines) ----" % (self.log, lines))
        print("\n".join(self.log_text().splitlines()[-lines:]))
        sys.stdout.flush()

    def fail(self, msg):
        print("FAIL: " + msg)
        self.print_log()
        sys.stdout.flush()
        sys.exit(1)

    def __enter__(self):
        return self.start()

    def __exit__(self, etype, evalue, tb):
        if etype is not None and etype is not SystemExit:
            self.print_log()
        self.kill(quiet=True)
        return False


def java_hash(s):
    """Java's String.hashCode (over UTF-16 units), as a signed 32-bit int."""
    h = 0
    b = s.encode("utf-16-be")
    for unit in struct.unpack(">%dH" % (len(b) // 2), b):
        h = (31 * h + unit) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def group_partition(group, partitions):
    """Kafka's __consumer_offsets partition of a group:
    Utils.abs(group.hashCode()) % partitions, Utils.abs(MIN_VALUE) == 0."""
    h = java_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


def check(cond, msg, node=None):
    """Fail the test (with the server log) unless cond."""
    if not cond:
        if node is not None:
            node.fail(msg)
        print("FAIL: " + msg)
        sys.exit(1)


def produce_until(p, topic, stop, value_of, on_delivery, errors, lock, partition=0):
    """Produce value_of(0), value_of(1), ... to topic/partition with the
    confluent-kafka producer p until the event stop is set, then flush; an
    undelivered remainder is appended to errors (under lock).  Returns how
    many records were produced."""
    i = 0
    while not stop.is_set():
        try:
            p.produce(topic, value=value_of(i), partition=partition, on_delivery=on_delivery)
            i += 1
        except BufferError:
            p.poll(0.01)
        p.poll(0)
        if i % 50 == 0:
            p.poll(0.001)
    left = p.flush(120)
    with lock:
        if left:
            errors.append("%d records still undelivered after flush" % left)
    return i
