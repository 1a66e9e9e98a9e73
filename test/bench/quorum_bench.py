#!/usr/bin/env python3
"""quorum_bench - the metadata quorum's numbers, on a 3-node combined cluster
on loopback (make bench runs it).

  1. CreateTopics round trip: one topic per request through librdkafka's
     AdminClient (what kafka-topics users see), p50/p99 over N requests.
  2. Controller failover: kill -9 the active controller, then retry
     CreateTopics through the live brokers until one commits; the time from
     the kill to that first committed write.  Repeated, median reported.
     The same after SIGTERM (a graceful stop: the controller resigns).
  3. 10,000 partitions: create them (10 topics x 1000 partitions, RF 1),
     time until every broker's Metadata shows all of them; then one more
     failover with that image.
Targets (issue: KRaft): failover <= 2 s, 10,000 partitions <= 5 s.
"""
import os
import socket
import struct
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

N_CREATE = int(os.environ.get("QB_CREATES", "200"))
N_FAILOVER = int(os.environ.get("QB_FAILOVERS", "3"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def create(bootstrap, name, partitions=1, timeout=10):
    a = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 1000, "reconnect.backoff.max.ms": 100})
    a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                    operation_timeout=timeout, request_timeout=timeout)[name].result(timeout + 2)


def raw_create(port, name, corr):
    """One CreateTopics v4 request on a fresh socket; returns the topic's error
    code (0 = committed), or None on a socket problem.  A raw client so the
    measurement is the cluster's, not a client library's retry schedule."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(name)) + name.encode() + struct.pack(">ihi", 1, 1, 0)
    body += struct.pack(">i", 0) + struct.pack(">i", 1000) + b"\x00"
    hdr = struct.pack(">hhih", 19, 4, corr, 5) + b"bench"
    frame = hdr + body
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(1.5)
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recvn(s, 4))[0]
        resp = recvn(s, size)
        s.close()
    except OSError:
        return None
    # corr(4) throttle(4) count(4) name(2+n) error(2)
    off = 12
    nlen = struct.unpack(">h", resp[off:off + 2])[0]
    return struct.unpack(">h", resp[off + 2 + nlen:off + 4 + nlen])[0]


def recvn(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise OSError("closed")
        out += chunk
    return out


def failover(c, tag, graceful=False):
    victim = c.active_controller()
    live = [n for n in c.brokers() if n is not victim]
    if graceful:
        victim.proc.terminate()  # SIGTERM: it resigns, waits for a successor, exits
    else:
        victim.kill9()
    t0 = time.time()
    i = 0
    took = float("nan")
    while time.time() - t0 < 30:
        i += 1
        err = raw_create(live[i % len(live)].client_port, "%s-after-%d" % (tag, i), i)
        if err == 0:
            took = time.time() - t0
            break
        time.sleep(0.02)
    if graceful:
        victim.proc.wait(10)
    victim.start()
    victim.wait_ready()
    return took


def main():
    c = Cluster(["broker,controller"] * 3)
    c.start()
    boot = c.bootstrap()
    a = AdminClient({"bootstrap.servers": boot})
    lat = []
    for i in range(N_CREATE):
        t = time.time()
        a.create_topics([NewTopic("lat-%d" % i, num_partitions=1, replication_factor=1)])["lat-%d" % i].result(10)
        lat.append((time.time() - t) * 1000)
    print("quorum-bench: CreateTopics round trip (1 topic/request, %d requests): p50 %.1f ms, p99 %.1f ms"
          % (N_CREATE, pct(lat, 50), pct(lat, 99)))
    fo = [failover(c, "fo%d" % k) for k in range(N_FAILOVER)]
    med = statistics.median(fo)
    print("quorum-bench: controller failover, kill -9 to first committed CreateTopics: median %.2f s "
          "(runs: %s)%s" % (med, ", ".join("%.2f" % x for x in fo), "" if med <= 2.0 else "  TARGET MISSED (<= 2 s)"))
    fg = [failover(c, "fg%d" % k, graceful=True) for k in range(N_FAILOVER)]
    print("quorum-bench: controller failover, SIGTERM (resign) to first committed CreateTopics: median %.2f s "
          "(runs: %s)" % (statistics.median(fg), ", ".join("%.2f" % x for x in fg)))
    t0 = time.time()
    fs = a.create_topics([NewTopic("big-%d" % i, num_partitions=1000, replication_factor=1) for i in range(10)],
                         operation_timeout=60, request_timeout=60)
    for f in fs.values():
        f.result(120)
    acked = time.time() - t0
    want = {"big-%d" % i for i in range(10)}
    for n in c.brokers():
        while True:
            md = AdminClient({"bootstrap.servers": n.bootstrap}).list_topics(timeout=30)
            if all(t in md.topics and len(md.topics[t].partitions) == 1000 for t in want):
                break
            time.sleep(0.05)
    visible = time.time() - t0
    print("quorum-bench: 10,000 partitions (10 topics x 1000): acknowledged in %.2f s, on every broker in %.2f s%s"
          % (acked, visible, "" if visible <= 5.0 else "  TARGET MISSED (<= 5 s)"))
    big = failover(c, "big")
    print("quorum-bench: failover with 10,000 partitions in the image: %.2f s%s"
          % (big, "" if big <= 2.0 else "  TARGET MISSED (<= 2 s)"))
    c.cleanup()


main()
