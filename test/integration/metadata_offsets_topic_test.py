"""metadata_offsets_topic_test - Metadata auto-creates __consumer_offsets as
Kafka's AutoTopicCreationManager does, on a fresh 3-node cluster where no
group has been used yet (raw frames, so each version is the one asked).

Why: sarama 1.22.1 (Debian's Burrow 1.2.1) asks Metadata (v0, v1 or v5 by
its kafka-version) for __consumer_offsets before it reads it, and Burrow
exits ("failed to get partition count") if the topic is missing.  Kafka creates it there, with the group coordinator's
offsets.topic.num.partitions and offsets.topic.replication.factor.

Proves:
  - Metadata v4 with allow_auto_topic_creation=false: UNKNOWN_TOPIC_OR_PARTITION,
    is_internal=true, nothing created;
  - Metadata v1 (auto-creation implied): LEADER_NOT_AVAILABLE (or the topic,
    if already made), is_internal=true; then the topic is there with
    offsets.topic.num.partitions partitions, offsets.topic.replication.factor
    replicas, a leader each, is_internal=true, and cleanup.policy=compact.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, roundtrip  # noqa: E402
from kwire_py import Reader, kstr  # noqa: E402

from confluent_kafka.admin import AdminClient, ConfigResource  # noqa: E402

OFFSETS = "__consumer_offsets"
PARTS = 7
UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE = 3, 5


def metadata(port, version, topics, allow=True):
    """Metadata v1 or v4 for topics -> {name: (error, is_internal, {partition: (error, leader, replicas)})}."""
    body = struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics)
    if version >= 4:
        body += struct.pack(">?", allow)
    r = Reader(roundtrip(port, struct.pack(">hhi", 3, version, 5) + kstr("offsets-topic-test") + body),
               "metadata v%d" % version)
    r.take(">i")  # correlation id
    if version >= 3:
        r.take(">i")  # throttle
    for _ in range(r.take(">i")):
        r.take(">i")
        r.string()
        r.take(">i")
        r.string()  # rack
    if version >= 2:
        r.string()  # cluster id
    r.take(">i")  # controller
    out = {}
    for _ in range(r.take(">i")):
        err, name, internal = r.take(">h"), r.string(), r.take(">?")
        parts = {}
        for _ in range(r.take(">i")):
            perr, pid, leader = r.take(">hii")
            replicas = [r.take(">i") for _ in range(r.take(">i"))]
            [r.take(">i") for _ in range(r.take(">i"))]  # isr
            parts[pid] = (perr, leader, replicas)
        out[name] = (err, internal, parts)
    r.done()
    return out


cl = Cluster(["broker,controller"] * 3, extra=["offsets.topic.num.partitions=%d" % PARTS])
cl.start()
node = cl.brokers()[1]
admin = AdminClient({"bootstrap.servers": node.bootstrap})


def check(cond, msg):
    if not cond:
        cl.fail(msg)


check(OFFSETS not in admin.list_topics(timeout=10).topics, "fresh cluster already has %s" % OFFSETS)

# v4 without auto-creation: unknown, internal, and still absent
ans = metadata(node.client_port, 4, [OFFSETS], allow=False)[OFFSETS]
check(ans == (UNKNOWN_TOPIC_OR_PARTITION, True, {}), "Metadata v4 allow=false: %r" % (ans,))
time.sleep(0.5)
check(OFFSETS not in admin.list_topics(timeout=10).topics, "Metadata v4 allow=false created %s" % OFFSETS)

# v1: Kafka creates it (LEADER_NOT_AVAILABLE while on its way)
ans = metadata(node.client_port, 1, [OFFSETS])[OFFSETS]
check(ans[0] in (LEADER_NOT_AVAILABLE, 0) and ans[1] is True, "first Metadata v1: %r" % (ans,))
print("first Metadata v1 for %s: error %d, is_internal %s" % (OFFSETS, ans[0], ans[1]))


def ready():
    err, internal, parts = metadata(node.client_port, 1, [OFFSETS])[OFFSETS]
    if err != 0 or len(parts) != PARTS or any(p[1] < 0 for p in parts.values()):
        return None
    return internal, parts


internal, parts = cl.wait_for("%s with %d led partitions" % (OFFSETS, PARTS), ready, 20)
check(internal is True, "%s is_internal=%r" % (OFFSETS, internal))
check(all(p[0] == 0 and len(p[2]) == 3 for p in parts.values()), "partitions %r" % parts)
leaders = sorted(set(p[1] for p in parts.values()))
cfg = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, OFFSETS)])
policy = list(cfg.values())[0].result(timeout=10)["cleanup.policy"].value
check(policy == "compact", "%s cleanup.policy=%s" % (OFFSETS, policy))
print("%s: %d partitions, RF 3, leaders on nodes %r, compact" % (OFFSETS, PARTS, leaders))
print("PASS")
