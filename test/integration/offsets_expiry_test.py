#!/usr/bin/env python3
"""offsets_expiry_test - committed offsets expire as Kafka expires them
(offsets.retention.minutes, Kafka 2.1+ rules), and the expiry is durable.

A node with offsets.retention.minutes=1 (the minimum) and
offsets.retention.check.interval.ms=500, real confluent-kafka clients:
  - "solo": assign() + commit, no membership: expires 1 min after the commit;
  - "left": a subscribed consumer commits and closes (LeaveGroup): the group
    is Empty, its offsets expire 1 min after that, and the group goes away
    (ListGroups no longer shows it);
  - "live": a consumer that keeps polling (so heartbeating) commits at the
    start: its offsets do not expire while it is a member.
After a restart the expired offsets stay gone (tombstones in
__consumer_offsets) and "live"'s are still there.  Takes about 75 s.
Prints "offsets_expiry: N passed, N failed".
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

ck = kw.Checks("offsets_expiry")
check = ck.check
for k in ("KAFKA_OFFSETS_RETENTION_MINUTES", "KAFKA_OFFSETS_RETENTION_CHECK_INTERVAL_MS"):
    os.environ.pop(k, None)

node = samsanode.Node(["offsets.retention.minutes=1", "offsets.retention.check.interval.ms=500"]).start()
bs = node.bootstrap
admin = AdminClient({"bootstrap.servers": bs})
for f in admin.create_topics([NewTopic("ex", 1, 1)]).values():
    f.result(15)
p = Producer({"bootstrap.servers": bs})
for i in range(10):
    p.produce("ex", b"v%d" % i)
p.flush(10)
TP = [TopicPartition("ex", 0)]


def consumer(group, **extra):
    conf = {"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": 6000}
    conf.update(extra)
    return Consumer(conf)


def committed(group):
    c = consumer(group)
    off = c.committed(TP, timeout=15)[0].offset
    c.close()
    return off


solo = consumer("solo")
solo.assign([TopicPartition("ex", 0, 0)])
solo.commit(offsets=[TopicPartition("ex", 0, 3)], asynchronous=False)
solo_committed_at = time.time()
solo.close()

left = consumer("left")
left.subscribe(["ex"])
got = 0
deadline = time.time() + 30
while got < 5 and time.time() < deadline:
    m = left.poll(0.5)
    got += 1 if m is not None and not m.error() else 0
left.commit(offsets=[TopicPartition("ex", 0, 5)], asynchronous=False)
left.close()  # LeaveGroup: the group is Empty from now

stop = threading.Event()
live_ready = threading.Event()


def live_loop():
    c = consumer("live")
    c.subscribe(["ex"])
    committed_once = False
    while not stop.is_set():
        m = c.poll(0.2)
        if m is not None and not m.error() and not committed_once:
            c.commit(offsets=[TopicPartition("ex", 0, 7)], asynchronous=False)
            committed_once = True
            live_ready.set()
    c.close()


t = threading.Thread(target=live_loop)
t.start()
check(live_ready.wait(30), "live consumer joined and committed")
check(committed("solo") == 3 and committed("left") == 5 and committed("live") == 7,
      "offsets committed: solo=3 left=5 live=7")
t0 = time.time()
while time.time() - t0 < 90 and (committed("solo") >= 0 or committed("left") >= 0):
    time.sleep(2)
since_commit = time.time() - solo_committed_at
check(committed("solo") < 0, "solo's offset expired (%.0f s after its commit; retention 60 s)" % since_commit)
check(committed("left") < 0, "left's offset expired after the group went Empty")
check(since_commit >= 58, "not before the retention: %.0f s after the commit" % since_commit)
check(committed("live") == 7, "live's offset kept while its consumer is a member")
groups = {g.id for g in admin.list_groups(timeout=10)}
check("left" not in groups and "solo" not in groups and "live" in groups,
      "ListGroups after expiry: %s" % sorted(groups))
log = open(node.log).read()
check("offsets expired group=left" in log and "offsets expired group=solo" in log, "the node logged the expiries")
stop.set()
t.join(30)

node.stop()
node.start()
check(committed("solo") < 0 and committed("left") < 0, "after a restart the expired offsets stay gone")
check(committed("live") == 7, "and live's offset is still there")
node.stop()
ck.exit()
