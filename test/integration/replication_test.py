"""replication_test - partition replication on a 3-node cluster with real
clients (confluent-kafka / librdkafka), bootstrapped at a broker that does
not lead partition 0.

Proves: a replication-factor-3 topic produced with acks=all ends up
byte-identical on all three replicas (same segment file names, same bytes:
offsets, leader epochs and CRCs are the leader's) up to the high watermark,
across several segments; a follower killed with -9 while records keep coming
restarts, catches up and is byte-identical again; a consumer reads every
record once.  The followers fetch with Kafka's Fetch protocol (brk_fetcher)
from the leader's inter.broker.listener.name endpoint.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402
from samsarepl import (start,  # noqa: E402
                       Topic, consume_all, high_watermarks, leaders, log_bytes, produce,  # noqa: E402
                       wait_identical)

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


T = Topic("rep-topic", 2)
N1 = 3000
N2 = 2000


def main():
    cluster, lead, replicas = start(T)
    other = [n for n in cluster.brokers() if n.id != lead[0]][0]
    produce(T, other.bootstrap, 0, N1)
    hws = high_watermarks(T, other.bootstrap, N1)
    wait_identical(T, cluster, replicas, hws, "after the first %d records" % N1)
    segs = len(log_bytes(T, cluster.node(lead[0]), 0)[0])
    check(segs >= 2, "expected several segments on partition 0, got %d" % segs)
    print("ok: %d records byte-identical on 3 replicas (%d segments on partition 0)" % (N1, segs))

    # a follower that leads nothing dies hard while records keep coming; acks=1
    # here: acks=all waits for the ISR to drop it (the leader's business, not
    # what this test is about)
    victim = [n for n in cluster.brokers() if n.id not in lead.values()][0]
    victim.kill9()
    alive = [n for n in cluster.brokers() if n.alive()]
    produce(T, alive[0].bootstrap, N1, N2, acks="1")
    victim.start()
    victim.wait_ready()
    hws = high_watermarks(T, alive[0].bootstrap, N1 + N2)
    wait_identical(T, cluster, replicas, hws, "after node %d's kill -9 and restart" % victim.id)
    print("ok: node %d caught up after kill -9; %d records byte-identical" % (victim.id, N1 + N2))
    consume_all(T, victim.bootstrap, N1 + N2)
    print("PASS replication_test")


if __name__ == "__main__":
    main()
