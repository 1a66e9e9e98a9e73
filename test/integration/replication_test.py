"""replication_test - partition replication on a 3-node cluster with real
clients (confluent-kafka / librdkafka), bootstrapped at a broker that does
not lead the partitions.

Proves: a replication-factor-3 topic produced with acks=all ends up
byte-identical on all three replicas (same segment file names, same bytes:
offsets, leader epochs and CRCs are the leader's) up to the high watermark;
a follower killed with -9 while records keep coming restarts, catches up
and is byte-identical again; a consumer reads every record once, in order.
The followers fetch with Kafka's Fetch protocol (brk_fetcher) from the
leader's inter.broker.listener.name endpoint.
"""
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "rep-topic"
PARTITIONS = 2
N1 = 3000
N2 = 2000


def part_dir(node, p):
    return os.path.join(node.dir, "data", "%s-%d" % (TOPIC, p))


def log_bytes(node, p):
    """The partition's segment files: {name: bytes}, and their concatenation."""
    files = sorted(glob.glob(os.path.join(part_dir(node, p), "*.log")))
    segs = {}
    for f in files:
        with open(f, "rb") as fh:
            segs[os.path.basename(f)] = fh.read()
    return segs, b"".join(segs[k] for k in sorted(segs))


def leaders(admin):
    md = admin.list_topics(TOPIC, timeout=10)
    t = md.topics[TOPIC]
    check(t.error is None, "topic metadata error %s" % t.error)
    return {p: t.partitions[p].leader for p in t.partitions}, {p: list(t.partitions[p].replicas) for p in t.partitions}


def produce(bootstrap, start, n, acks="all"):
    prod = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
                     "batch.num.messages": 100, "message.timeout.ms": 60000})
    errors = []

    def dr(err, msg):
        if err is not None:
            errors.append(str(err))

    for i in range(start, start + n):
        prod.produce(TOPIC, key=b"k%d" % i, value=b"value-%08d" % i, partition=i % PARTITIONS, on_delivery=dr)
        if i % 500 == 0:
            prod.poll(0)
    left = prod.flush(90)
    check(left == 0 and not errors, "produce: %d undelivered, errors %s" % (left, errors[:3]))


def high_watermarks(bootstrap, total, timeout_s=60):
    """The HWs once they cover `total` records (the followers' fetches move them)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "hw-probe", "enable.auto.commit": False})
    deadline = time.time() + timeout_s
    while True:
        hws = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS)}
        if sum(hws.values()) >= total or time.time() > deadline:
            break
        time.sleep(0.2)
    c.close()
    check(sum(hws.values()) == total, "high watermarks %s, expected %d records" % (hws, total))
    return hws


def wait_identical(cluster, replicas, hws, what, timeout_s=60):
    """Every replica's log equals the leader's up to (at least) the HW, byte for byte."""
    deadline = time.time() + timeout_s
    while True:
        bad = None
        for p in range(PARTITIONS):
            logs = {nid: log_bytes(cluster.node(nid), p) for nid in replicas[p]}
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


def consume_all(bootstrap, total):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "rep-reader", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
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
    check(all(seen[i] == i % PARTITIONS for i in seen), "a record in the wrong partition")


def main():
    cluster = Cluster(["broker,controller"] * 3,
                      extra=["offsets.topic.replication.factor=1", "replica.fetch.backoff.ms=200",
                             "replica.fetch.wait.max.ms=200", "replica.lag.time.max.ms=3000",
                             "log.segment.bytes=16384"])
    cluster.start()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    fs = admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=3)])
    fs[TOPIC].result(30)
    deadline = time.time() + 30
    while True:
        lead, replicas = leaders(admin)
        if all(lead[p] >= 0 for p in range(PARTITIONS)):
            break
        check(time.time() < deadline, "no leaders for %s: %s" % (TOPIC, lead))
        time.sleep(0.2)
    check(all(len(replicas[p]) == 3 for p in range(PARTITIONS)), "replicas %s" % replicas)
    # clients bootstrap at a broker that does not lead partition 0
    other = [n for n in cluster.brokers() if n.id != lead[0]][0]
    produce(other.bootstrap, 0, N1)
    hws = high_watermarks(other.bootstrap, N1)
    wait_identical(cluster, replicas, hws, "after the first %d records" % N1)
    segs = len(log_bytes(cluster.node(lead[0]), 0)[0])
    check(segs >= 2, "expected several segments on partition 0, got %d" % segs)
    print("ok: %d records byte-identical on 3 replicas (%d segments on partition 0)" % (N1, segs))

    # a follower that leads nothing dies hard while records keep coming; acks=1
    # here: acks=all waits for the ISR to drop it (the leader's business, not
    # what this test is about)
    victim = [n for n in cluster.brokers() if n.id not in lead.values()][0]
    victim.kill9()
    alive = [n for n in cluster.brokers() if n.alive()]
    produce(alive[0].bootstrap, N1, N2, acks="1")
    victim.start()
    victim.wait_ready()
    lead, replicas = leaders(AdminClient({"bootstrap.servers": alive[0].bootstrap}))
    hws = high_watermarks(alive[0].bootstrap, N1 + N2)
    wait_identical(cluster, replicas, hws, "after node %d's kill -9 and restart" % victim.id)
    print("ok: node %d caught up after kill -9; %d records byte-identical" % (victim.id, N1 + N2))
    consume_all(victim.bootstrap, N1 + N2)
    print("PASS replication_test")


if __name__ == "__main__":
    main()
