#!/usr/bin/env python3
"""acks_fsync_test - samsa.acks.all.fsync on a 3-node cluster, seen from a
client (broker/replica/README.md): acks=all answers only once every ISR
member has fdatasync'd the batch.

Node 3 runs with the test-only fault hook SAMSA_TEST_ONLY_FSYNC_FAULT
(set through the environment of that one process; no config key enables
it), always a follower (every topic is assigned [1, 2, 3]: node 1 leads).

  1. delay_ms:3000 on node 3: an acks=all record to a topic WITHOUT the
     setting is acknowledged fast (Kafka's page-cache rule); to a topic with
     samsa.acks.all.fsync=true each acknowledgement takes >= 3 s, while a
     consumer reads the record long before (the ordinary high watermark moves
     at Kafka's pace: followers fetch on while their syncs run); node 3
     (only) logged the hook's warning.
  2. fail on node 3 (restarted; a new topic with the setting): the produce
     is never acknowledged (REQUEST_TIMED_OUT / message timeout) although
     node 3 is in the ISR and has the record in its log, node 3's log goes
     offline with the operator line, and the same produce to a topic without
     the setting is acknowledged.  With node 3 leading a topic with the
     setting, its own failing sync answers KAFKA_STORAGE_ERROR at once.

Clients bootstrap at node 2, not the leader.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kwire_py as kw  # noqa: E402
import samsacluster  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

DELAY_MS = 3000
HOOK = "SAMSA_TEST_ONLY_FSYNC_FAULT"
checks = kw.Checks("acks_fsync_test")
cluster = samsacluster.Cluster(["broker,controller"] * 3,
                               extra=["replica.lag.time.max.ms=30000"],
                               wraps=[(), (), ("env", "%s=delay_ms:%d" % (HOOK, DELAY_MS))])
cluster.start()
n1, n2, n3 = cluster.nodes
admin = AdminClient({"bootstrap.servers": n2.bootstrap})


def state(topic):
    _, _, parts = samsacluster.metadata_once(n2.client_port, [topic])
    if (topic, 0) not in parts:
        return None  # node 2 has not applied the topic yet
    err, leader, replicas, isr = parts[(topic, 0)]
    return leader, sorted(isr)


def create(topic, fsync, replicas=(1, 2, 3)):
    cfg = {"min.insync.replicas": "2"}
    if fsync:
        cfg["samsa.acks.all.fsync"] = "true"
    admin.create_topics([NewTopic(topic, 1, -1, replica_assignment=[list(replicas)], config=cfg)])[topic].result()
    cluster.wait_for("%s led by node %d with ISR [1, 2, 3]" % (topic, replicas[0]),
                     lambda: state(topic) == (replicas[0], [1, 2, 3]), 30)


def produce_timed(topic, value, timeout_ms=20000):
    """One acks=all record; (seconds until its delivery report, error or None, offset)."""
    p = Producer({"bootstrap.servers": n2.bootstrap, "acks": "all", "linger.ms": 0, "retries": 0,
                  "request.timeout.ms": timeout_ms, "message.timeout.ms": timeout_ms + 1000})
    p.list_topics(topic, timeout=10)  # connections and metadata first: time only the produce
    out = {}
    t0 = time.time()
    p.produce(topic, value, on_delivery=lambda err, msg: out.update(t=time.time() - t0, err=err,
                                                                      off=msg.offset()))
    p.flush(timeout_ms / 1000 + 10)
    return out.get("t"), out.get("err"), out.get("off")


# 1. the follower's sync delayed by 3 s
create("plain", False)
create("durable", True)
checks.check("TEST ONLY fault hook active" in n3.read_log() and "TEST ONLY" not in n1.read_log(),
             "node 3 (only) logged the test-only fault hook's warning at start")
for i in range(3):
    t, err, _ = produce_timed("plain", b"p%d" % i)
    checks.check(err is None and t is not None and t < DELAY_MS / 1000 - 1,
                 "without the setting acks=all answers from the page cache: %.3f s (error %s)" % (t or -1, err))
lat = []
for i in range(3):
    t, err, off = produce_timed("durable", b"d%d" % i)
    lat.append(t)
    checks.check(err is None and t is not None and t >= DELAY_MS / 1000,
                 "with samsa.acks.all.fsync acks=all waits for node 3's delayed sync: %.3f s >= %.1f s (error %s)"
                 % (t or -1, DELAY_MS / 1000, err))

# a consumer reads an acks=all record before it is acknowledged (the ordinary HW)
c = Consumer({"bootstrap.servers": n2.bootstrap, "group.id": "g", "enable.auto.commit": False,
              "fetch.wait.max.ms": 50})
c.assign([TopicPartition("durable", 0, 0)])
got = 0
deadline = time.time() + 15
while got < 3 and time.time() < deadline:  # the three records above: the consumer is connected
    m = c.poll(0.2)
    if m is not None and not m.error():
        got += 1
p = Producer({"bootstrap.servers": n2.bootstrap, "acks": "all", "linger.ms": 0, "retries": 0})
p.list_topics("durable", timeout=10)
acked = {}
p.produce("durable", b"early", on_delivery=lambda err, msg: acked.update(t=time.time(), err=err))
t_sent = time.time()
seen = None
while seen is None and time.time() - t_sent < DELAY_MS / 1000 - 0.5:
    p.poll(0)
    m = c.poll(0.05)
    if m is not None and not m.error() and m.value() == b"early":
        seen = time.time()
p.poll(0)
checks.check(got == 3 and seen is not None and "t" not in acked,
             "a consumer read the record %.3f s after the send, before its acknowledgement (none yet)"
             % ((seen or t_sent - 1) - t_sent))
p.flush(20)
checks.check(acked.get("err") is None and acked.get("t", 0) - t_sent >= DELAY_MS / 1000,
             "its acknowledgement came after node 3's delayed sync: %.3f s" % (acked.get("t", 0) - t_sent))
c.close()

# 2. the follower's sync fails
n3.stop()
n3.wrap = ["env", "%s=fail" % HOOK]
n3.start()
n3.wait_ready()
create("durable2", True)
create("plain2", False)
t, err, off = produce_timed("durable2", b"never-durable", timeout_ms=8000)
checks.check(err is not None and err.code() in (KafkaError.REQUEST_TIMED_OUT, KafkaError._MSG_TIMED_OUT,
                                               KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND),
             "with node 3's fdatasync failing, acks=all is never acknowledged: %s after %.1f s"
             % (err, t or -1))
checks.check("partition log offline after write failure dir=%s" % os.path.join(n3.dir, "data", "durable2-0")
             in n3.read_log(), "node 3 took durable2-0 offline with the operator line")
log3 = os.path.join(n3.dir, "data", "durable2-0", "00000000000000000000.log")
checks.check(os.path.exists(log3) and b"never-durable" in open(log3, "rb").read(),
             "node 3 had the record in its log (page cache): only the missing sync held the ack")
checks.check(1 in [state("durable2")[0]] and 3 in state("durable2")[1],
             "node 3 was still in the ISR (%s): the leader waited for its sync, never claimed it durable"
             % (state("durable2"),))
t, err, _ = produce_timed("plain2", b"page-cache", timeout_ms=8000)
checks.check(err is None and t < 3, "the same produce without the setting is acknowledged: %.3f s (error %s)"
             % (t or -1, err))

# the leader's own sync failing: answered KAFKA_STORAGE_ERROR at once, not acknowledged
create("durable3", True, replicas=(3, 1, 2))
t, err, _ = produce_timed("durable3", b"leader-cannot-sync", timeout_ms=8000)
checks.check(err is not None and err.code() == KafkaError.KAFKA_STORAGE_ERROR and t < 5,
             "with the leader's (node 3) fdatasync failing: %s after %.3f s, not acknowledged" % (err, t or -1))
checks.exit()
