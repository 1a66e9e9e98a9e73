"""replication_truncation_test - a divergent log is cut where the leaders'
histories part (KIP-101/KIP-320: the diverging epoch in the Fetch
response), on 3 brokers (and a controller of their own) with confluent-kafka clients.

Scenario (it needs an unclean election, the only way a committed suffix
diverges): both followers die; the leader, alone in the ISR, takes M records
acks=1 that nobody else has; the leader dies; the followers return and one
of them is elected uncleanly (unclean.leader.election.enable=true) in a new
leader epoch and takes N2 records; the old leader returns as a follower.
Proves: the old leader truncates exactly its M unreplicated records (which
lay below its own high watermark: it logs the operator warning), then
fetches the new leader's records, and all three replicas are byte-identical;
a consumer reads the N1 + N2 surviving records, none of the M.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402
from samsarepl import Topic, consume_all, high_watermarks, isr, leaders, produce, wait_identical  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PROPS = ["offsets.topic.replication.factor=1", "replica.fetch.backoff.ms=200", "replica.fetch.wait.max.ms=200",
         "replica.lag.time.max.ms=3000", "unclean.leader.election.enable=true",
         "broker.session.timeout.ms=3000", "broker.heartbeat.interval.ms=500",
         "replica.high.watermark.checkpoint.interval.ms=100"]
T = Topic("diverge-topic", 1)
N1, M, N2 = 1000, 300, 500


def wait_for(what, fn, timeout_s=60):
    deadline = time.time() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        check(time.time() < deadline, "timed out waiting for %s" % what)
        time.sleep(0.2)


def main():
    # a separate controller: two of three brokers die, the quorum must not
    cluster = Cluster(["controller"] + ["broker"] * 3, extra=PROPS)
    cluster.start()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    admin.create_topics([NewTopic(T.name, num_partitions=1, replication_factor=3)])[T.name].result(30)
    lead, replicas = wait_for("a leader", lambda: (lambda lr: lr if lr[0][0] >= 0 else None)(leaders(T, admin)))
    old = cluster.node(lead[0])
    followers = [cluster.node(n) for n in replicas[0] if n != old.id]
    produce(T, followers[0].bootstrap, 0, N1)
    wait_identical(T, cluster, replicas, high_watermarks(T, followers[0].bootstrap, N1), "before the failures")
    wait_for("a full ISR", lambda: isr(T, admin, 0) == sorted(replicas[0]))

    for f in followers:
        f.kill9()
    solo = AdminClient({"bootstrap.servers": old.bootstrap})
    wait_for("the ISR to shrink to the leader", lambda: isr(T, solo, 0) == [old.id])
    produce(T, old.bootstrap, N1, M, acks="1")
    high_watermarks(T, old.bootstrap, N1 + M)  # committed on the leader alone

    def hw_checkpointed():
        try:
            with open(os.path.join(old.dir, "data", "replication-offset-checkpoint")) as f:
                return "%s 0 %d\n" % (T.name, N1 + M) in f.read()
        except OSError:
            return False
    wait_for("the leader's HW checkpoint to hold %d" % (N1 + M), hw_checkpointed)
    old.kill9()

    for f in followers:
        f.start()
    for f in followers:
        f.wait_ready()
    back = AdminClient({"bootstrap.servers": followers[0].bootstrap})
    new_lead = wait_for("an unclean election", lambda: (lambda l: l if l >= 0 and l != old.id else None)(
        leaders(T, back)[0][0]))
    produce(T, followers[0].bootstrap, N1 + M, N2, acks="1")

    old.start()
    old.wait_ready()
    hws = high_watermarks(T, followers[0].bootstrap, N1 + N2)
    wait_identical(T, cluster, replicas, hws, "after the old leader %d returned" % old.id)
    check("TRUNCATED BELOW THE HIGH WATERMARK" in old.read_log(),
          "node %d cut records below its high watermark without the operator warning" % old.id)
    print("ok: node %d cut its %d unreplicated records, follows %d, byte-identical" % (old.id, M, new_lead))
    seen = consume_all(T, old.bootstrap, N1 + N2)
    want = set(range(N1)) | set(range(N1 + M, N1 + M + N2))
    check(set(seen) == want, "records read differ from the surviving ones (missing %s, extra %s)" % (
        sorted(want - set(seen))[:5], sorted(set(seen) - want)[:5]))
    print("PASS replication_truncation_test")


if __name__ == "__main__":
    main()
