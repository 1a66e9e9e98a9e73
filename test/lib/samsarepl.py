"""samsarepl - helpers for replication tests on a samsacluster.Cluster:
produce and consume with confluent-kafka, read the high watermarks, and
compare every replica's partition directory byte for byte (segment file
names and bytes) up to the high watermark.
"""
import glob
import os
import time

from samsanode import check

from confluent_kafka import Consumer, Producer, TopicPartition


class Topic:
    def __init__(self, name, partitions):
        self.name = name
        self.partitions = partitions


def part_dir(t, node, p):
    return os.path.join(node.dir, "data", "%s-%d" % (t.name, p))


def log_bytes(t, node, p):
    """The partition's segment files: {name: bytes}, and their concatenation."""
    files = sorted(glob.glob(os.path.join(part_dir(t, node, p), "*.log")))
    segs = {}
    for f in files:
        with open(f, "rb") as fh:
            segs[os.path.basename(f)] = fh.read()
    return segs, b"".join(segs[k] for k in sorted(segs))


def isr(t, admin, p):
    """Partition p's ISR as the metadata says."""
    return sorted(admin.list_topics(t.name, timeout=10).topics[t.name].partitions[p].isrs)


def leaders(t, admin):
    md = admin.list_topics(t.name, timeout=10)
    mt = md.topics[t.name]
    if mt.error is not None and not mt.partitions:
        # LEADER_NOT_AVAILABLE while an election is pending: no leader yet
        check(mt.error.code() == 5, "topic metadata error %s" % mt.error)
        return {p: -1 for p in range(t.partitions)}, {p: [] for p in range(t.partitions)}
    return ({p: mt.partitions[p].leader for p in mt.partitions},
            {p: list(mt.partitions[p].replicas) for p in mt.partitions})


def produce(t, bootstrap, start, n, acks="all"):
    prod = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
                     "batch.num.messages": 100, "message.timeout.ms": 60000})
    errors = []

    def dr(err, msg):
        if err is not None:
            errors.append(str(err))

    for i in range(start, start + n):
        prod.produce(t.name, key=b"k%d" % i, value=b"value-%08d" % i, partition=i % t.partitions, on_delivery=dr)
        if i % 500 == 0:
            prod.poll(0)
    left = prod.flush(90)
    check(left == 0 and not errors, "produce: %d undelivered, errors %s" % (left, errors[:3]))


def high_watermarks(t, bootstrap, total, timeout_s=60):
    """The HWs once they cover `total` records (the followers' fetches move them)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "hw-probe", "enable.auto.commit": False})
    deadline = time.time() + timeout_s
    while True:
        hws = {p: c.get_watermark_offsets(TopicPartition(t.name, p), timeout=10)[1] for p in range(t.partitions)}
        if sum(hws.values()) >= total or time.time() > deadline:
            break
        time.sleep(0.2)
    c.close()
    check(sum(hws.values()) == total, "high watermarks %s, expected %d records" % (hws, total))
    return hws


def wait_identical(t, cluster, replicas, hws, what, timeout_s=60):
    """Every replica's log equals the leader's up to (at least) the HW, byte for byte."""
    deadline = time.time() + timeout_s
    while True:
        bad = None
        for p in range(t.partitions):
            logs = {nid: log_bytes(t, cluster.node(nid), p) for nid in replicas[p]}
            names = {nid: sorted(segs) for nid, (segs, _) in logs.items()}
            blobs = {nid: blob for nid, (_, blob) in logs.items()}
            first = replicas[p][0]
            for nid in replicas[p]:
                if names[nid] != names[first] or blobs[nid] != blobs[first]:
                    bad = "partition %d: node %d has %d bytes in %s, node %d has %d bytes in %s" % (
                        p, nid, len(blobs[nid]), names[nid], first, len(blobs[first]), names[first])
            # the HW is covered: the last batch's end offset >= hw
            if bad is None and not covers(blobs[first], hws[p]):
                bad = "partition %d: logs end before the high watermark %d" % (p, hws[p])
        if bad is None:
            return
        if time.time() > deadline:
            cluster.fail("%s: replicas not byte-identical after %ds: %s" % (what, timeout_s, bad))
        time.sleep(0.2)


def covers(blob, hw):
    """The v2 batches in blob reach offset hw (their last offset + 1 >= hw)."""
    i, end = 0, 0
    while i + 61 <= len(blob):
        base = int.from_bytes(blob[i:i + 8], "big")
        length = int.from_bytes(blob[i + 8:i + 12], "big")
        delta = int.from_bytes(blob[i + 23:i + 27], "big")
        end = base + delta + 1
        i += 12 + length
    return end >= hw


def consume_all(t, bootstrap, total):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "rep-reader", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(t.name, p, 0) for p in range(t.partitions)])
    seen = {}
    deadline = time.time() + 60
    while len(seen) < total and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        i = int(m.value().decode().split("-")[1])
        check(i not in seen, "record %d read twice" % i)
        seen[i] = m.partition()
    c.close()
    check(len(seen) == total, "consumer read %d of %d records" % (len(seen), total))
    check(all(seen[i] == i % t.partitions for i in seen), "a record in the wrong partition")
    return seen


from samsacluster import Cluster  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PROPS = ["offsets.topic.replication.factor=1", "replica.fetch.backoff.ms=200", "replica.fetch.wait.max.ms=200",
         "replica.lag.time.max.ms=3000", "log.segment.bytes=16384"]


def start(t):
    """A 3-node cluster with t created at replication factor 3; (cluster, leaders, replicas)."""
    cluster = Cluster(["broker,controller"] * 3, extra=PROPS)
    cluster.start()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    admin.create_topics([NewTopic(t.name, num_partitions=t.partitions, replication_factor=3)])[t.name].result(30)
    deadline = time.time() + 30
    while True:
        lead, replicas = leaders(t, admin)
        if all(lead[p] >= 0 for p in range(t.partitions)):
            break
        check(time.time() < deadline, "no leaders for %s: %s" % (t.name, lead))
        time.sleep(0.2)
    check(all(len(replicas[p]) == 3 for p in range(t.partitions)), "replicas %s" % replicas)
    return cluster, lead, replicas
