"""replication_failover_test - a partition leader killed with -9 on a
3-node cluster (confluent-kafka clients).

Proves: a follower from the ISR takes over in a new leader epoch, the other
follower moves its fetches to it, records produced meanwhile carry the new
epoch; the old leader restarts as a follower (its last fetched epoch is the
old one: the new leader's diverging-epoch check, then the new epoch's
batches) and every replica is byte-identical again up to the high
watermark; a consumer reads every record once.  Needs the ISR to hold all
three replicas before the kill (AlterPartition) and the controller's
election from the ISR.
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


T = Topic("failover-topic", 1)
N1 = 2000
N2 = 1000


def main():
    cluster, lead, replicas = start(T)
    other = [n for n in cluster.brokers() if n.id != lead[0]][0]
    produce(T, other.bootstrap, 0, N1)
    hws = high_watermarks(T, other.bootstrap, N1)
    wait_identical(T, cluster, replicas, hws, "before the failover")
    old = cluster.node(lead[0])
    old.kill9()
    alive = [n for n in cluster.brokers() if n.alive()]
    admin = AdminClient({"bootstrap.servers": alive[0].bootstrap})
    deadline = time.time() + 60
    while True:
        new_lead, replicas = leaders(T, admin)
        if new_lead[0] >= 0 and new_lead[0] != old.id:
            break
        check(time.time() < deadline, "no new leader after node %d died: %s" % (old.id, new_lead))
        time.sleep(0.2)
    produce(T, alive[0].bootstrap, N1, N2, acks="1")
    old.start()
    old.wait_ready()
    hws = high_watermarks(T, alive[0].bootstrap, N1 + N2)
    wait_identical(T, cluster, replicas, hws, "after leader %d's kill -9, a new leader and its return" % old.id)
    print("ok: leader %d replaced by %d, back as a follower; %d records byte-identical" % (old.id, new_lead[0],
                                                                                         N1 + N2))
    consume_all(T, old.bootstrap, N1 + N2)
    print("PASS replication_failover_test")


if __name__ == "__main__":
    main()
