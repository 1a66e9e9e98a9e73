"""node_id_zero_test - node.id=0 and broker.id=0 (the tutorial's value) work.

Proves: `samsa storage format` and the server accept id 0 the same way; a
single node with broker.id=0 (Kafka's old name) formats, starts and serves
produce/consume; a 3-node cluster with ids 0, 1, 2 (voter 0 in
controller.quorum.voters) elects a controller, lists brokers 0-2 in Metadata,
serves a consumer group, and node 0 rejoins after a restart (its persisted
vote, votedId 0, is read back as a vote for node 0, not as "none").
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def round_trip(bs, topic, group, node, n=20):
    admin = AdminClient({"bootstrap.servers": bs})
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(timeout=15)
    p = Producer({"bootstrap.servers": bs})
    for i in range(n):
        p.produce(topic, value=b"v%d" % i)
    check(p.flush(15) == 0, "produce to %s" % topic, node)
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got = set()
    for _ in range(200):
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.add(m.value())
        if len(got) == n:
            break
    c.close()
    check(len(got) == n, "%s: consumed %d of %d" % (topic, len(got), n), node)


one = Cluster(["broker,controller"], extra=["offsets.topic.replication.factor=1"], first_id=0, id_key="broker.id")
one.start()
check("broker.id=0" in open(one.nodes[0].conf).read(), "config without broker.id=0", one)
round_trip(one.bootstrap(), "zero-one", "g-zero-one", one)
one.cleanup()
print("ok broker.id=0: formatted, started, produce + group consume")

cl = Cluster(["broker,controller"] * 3, extra=["offsets.topic.replication.factor=1"], first_id=0)
cl.start()
check(cl.voters.startswith("0@"), "voters %s" % cl.voters, cl)
md = AdminClient({"bootstrap.servers": cl.bootstrap()}).list_topics(timeout=10)
check(sorted(md.brokers) == [0, 1, 2], "Metadata brokers %r" % sorted(md.brokers), cl)
round_trip(cl.bootstrap(), "zero-three", "g-zero-three", cl)
n0 = cl.node(0)
n0.restart()
qs = open(os.path.join(n0.dir, "data", "__cluster_metadata-0", "quorum-state")).read()
check('"votedId":' in qs, "quorum-state %r" % qs, cl)
round_trip(n0.bootstrap, "zero-after", "g-zero-after", cl)
check(all(n.alive() for n in cl.nodes), "a node died", cl)
print("ok 3 nodes with ids 0,1,2: quorum, metadata, groups, node 0 restart (quorum-state %s)" % qs.strip())
print("node_id_zero_test: OK")
