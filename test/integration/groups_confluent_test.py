"""groups_confluent_test - consumer groups with confluent-kafka (librdkafka)
on a 3-node cluster, every client bootstrapped at a broker that is NOT the
group's coordinator (so FindCoordinator must name another broker).

Proves: two consumers in one group split a 4-partition topic after a
rebalance and together read every record once; synchronous commits are
acknowledged; after the coordinator node restarts the committed offsets are still there
(loaded from __consumer_offsets) and a new consumer resumes exactly there;
the records in __consumer_offsets are byte-exact Kafka format (key v1
OffsetCommitKey + value v3, key v2 GroupMetadataKey + value v3), decoded
here by an independent decoder written from Kafka's schemas; ListGroups /
DescribeGroups through the admin client.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check, group_partition  # noqa: E402
from offsets_records import decode  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "grp-topic"
GROUP = "grp-one"
N = 400
PROPS = ["offsets.topic.replication.factor=1", "offsets.topic.num.partitions=5",
         "group.initial.rebalance.delay.ms=0"]


def consumer(bs, name):
    return Consumer({"bootstrap.servers": bs, "group.id": GROUP, "client.id": name,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                     "partition.assignment.strategy": "range"})


def poll_until(consumers, want, deadline_s, seen):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and len(seen) < want:
        for c in consumers:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            seen.setdefault((m.partition(), m.offset()), m.value())
    return seen


cl = Cluster(["broker,controller"] * 3, extra=PROPS)
cl.start()
node = cl  # check(..., node) prints every node's log tail
coord = cl.coordinator(GROUP)
entry = cl.not_coordinator(GROUP)
bs = entry.bootstrap
print("group %s: coordinator node %d, clients bootstrap at node %d" % (GROUP, coord.id, entry.id))
admin = AdminClient({"bootstrap.servers": bs})
admin.create_topics([NewTopic(TOPIC, 4, 1)])[TOPIC].result(timeout=10)
p = Producer({"bootstrap.servers": bs})
for i in range(N):
    p.produce(TOPIC, key=b"k%d" % i, value=b"v%d" % i, partition=i % 4)
check(p.flush(15) == 0, "produce did not finish", node)

c1 = consumer(bs, "c1")
c1.subscribe([TOPIC])
seen = {}
# c1 alone gets all four partitions ...
deadline = time.monotonic() + 30
while time.monotonic() < deadline and len(c1.assignment()) < 4:
    m = c1.poll(0.2)
    if m is not None and not m.error():
        seen.setdefault((m.partition(), m.offset()), m.value())
check(len(c1.assignment()) == 4, "c1 assignment %r" % c1.assignment(), node)
c1.commit(asynchronous=False)  # what it has read so far
# ... then c2 joins: the group rebalances to two partitions each
c2 = consumer(bs, "c2")
c2.subscribe([TOPIC])
deadline = time.monotonic() + 40
while time.monotonic() < deadline and not (len(c1.assignment()) == 2 and len(c2.assignment()) == 2):
    for c in (c1, c2):
        m = c.poll(0.2)
        if m is not None and not m.error():
            seen.setdefault((m.partition(), m.offset()), m.value())
check(len(c1.assignment()) == 2 and len(c2.assignment()) == 2,
      "after rebalance: c1=%r c2=%r" % (c1.assignment(), c2.assignment()), node)
poll_until((c1, c2), N, 30, seen)
check(len(seen) == N, "read %d of %d records" % (len(seen), N), node)
for c in (c1, c2):
    c.commit(asynchronous=False)
tps = [TopicPartition(TOPIC, i) for i in range(4)]
committed = c1.committed(tps, timeout=10)
check(all(tp.offset == N // 4 for tp in committed), "committed %r" % committed, node)

gl = admin.list_groups(timeout=10)
check(any(g.id == GROUP for g in gl), "list_groups: %r" % [g.id for g in gl], node)
g = [g for g in gl if g.id == GROUP][0]
check(g.state == "Stable" and g.protocol_type == "consumer" and len(g.members) == 2,
      "group %s state=%s protocol=%s members=%d" % (g.id, g.state, g.protocol, len(g.members)), node)
# DescribeGroups reports each member's address as Kafka does ("/" + IP)
check(all(m.client_host == "/127.0.0.1" for m in g.members),
      "member client_host %r" % [m.client_host for m in g.members], node)
c1.close()
c2.close()

coord.restart()  # the coordinator reloads the group from __consumer_offsets
check(cl.coordinator(GROUP) is coord, "coordinator moved after restart", node)
# committed offsets came back from __consumer_offsets
c3 = consumer(bs, "c3")
committed = c3.committed(tps, timeout=15)
check(all(tp.offset == N // 4 for tp in committed), "after restart committed %r" % committed, node)
p = Producer({"bootstrap.servers": bs})
for i in range(40):
    p.produce(TOPIC, value=b"new%d" % i, partition=i % 4)
check(p.flush(15) == 0, "second produce did not finish", node)
c3.subscribe([TOPIC])
got = {}
poll_until((c3,), 40, 40, got)
check(len(got) == 40 and all(off >= N // 4 for (_, off) in got),
      "resumed read: %d records, offsets %r" % (len(got), sorted(got)[:5]), node)
check(all(v.startswith(b"new") for v in got.values()), "re-read old records after restart", node)
c3.commit(asynchronous=False)
c3.close()

# __consumer_offsets: an internal topic, records in Kafka's exact format
md = admin.list_topics(timeout=10)
check("__consumer_offsets" in md.topics and len(md.topics["__consumer_offsets"].partitions) == 5,
      "__consumer_offsets metadata %r" % md.topics.get("__consumer_offsets"), node)
part = group_partition(GROUP, 5)
raw = Consumer({"bootstrap.servers": bs, "group.id": "raw-reader-unused", "enable.auto.commit": False})
lo, hi = raw.get_watermark_offsets(TopicPartition("__consumer_offsets", part), timeout=10)
check(hi > 0, "no records in __consumer_offsets-%d (java hash placement)" % part, node)
raw.assign([TopicPartition("__consumer_offsets", part, 0)])
recs = []
deadline = time.monotonic() + 20
while time.monotonic() < deadline and len(recs) < hi:
    m = raw.poll(0.5)
    if m is not None and not m.error():
        recs.append(decode(m.key(), m.value()))
raw.close()
check(len(recs) == hi, "read %d of %d __consumer_offsets records" % (len(recs), hi), node)
offs = [r for r in recs if r["kv"] == 1]
groups = [r for r in recs if r["kv"] == 2]
check(offs and all(r["group"] == GROUP and r["topic"] == TOPIC and r["vv"] == 3 for r in offs),
      "offset commit records %r" % offs[:3], node)
last = {}
for r in offs:
    last[r["partition"]] = r["offset"]
check(last == {0: N // 4 + 10, 1: N // 4 + 10, 2: N // 4 + 10, 3: N // 4 + 10}, "last commits %r" % last, node)
stable = [r for r in groups if r.get("members")]
check(stable and stable[-1]["protocol_type"] == "consumer" and stable[-1]["protocol"] == "range",
      "group metadata records %r" % groups, node)
check(any(len(r["members"]) == 2 for r in stable), "no 2-member generation stored", node)
check(all(m["host"] == "/127.0.0.1" for r in stable for m in r["members"]),
      "stored member hosts %r" % [m["host"] for r in stable for m in r["members"]], node)
check(any(r.get("members") == [] and r["protocol"] is None for r in groups), "no empty-group record", node)
print("groups_confluent_test: OK (%d offset records, %d group records)" % (len(offs), len(groups)))
