"""groups_kafka_python_test - a kafka-python group consumer and kcat -G on a
3-node cluster, each bootstrapped at a broker that is not its group's
coordinator.

Proves: KafkaConsumer(group_id=...) joins (JoinGroup/SyncGroup with its own
assignor), reads every record, commits; the committed offsets are what
OffsetFetch returns to a fresh consumer; kcat -G (librdkafka balanced
consumer) in another group reads the topic from the beginning; the admin
client lists and describes both groups and deletes an empty one; after the
coordinator of kp-group restarts, a new consumer resumes at the commit.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

TOPIC = "kp-grp"
N = 120

cl = Cluster(["broker,controller"] * 3, extra=["offsets.topic.replication.factor=1", "offsets.topic.num.partitions=3",
                                               "group.initial.rebalance.delay.ms=0"])
cl.start()
node = cl  # check(..., node) prints every node's log tail
coord = cl.coordinator("kp-group")
bs = cl.not_coordinator("kp-group").bootstrap
kcat_bs = cl.not_coordinator("kcat-group").bootstrap
admin = KafkaAdminClient(bootstrap_servers=bs)
admin.create_topics([NewTopic(TOPIC, 2, 1)])
p = KafkaProducer(bootstrap_servers=bs)
for i in range(N):
    p.send(TOPIC, key=b"k%d" % i, value=b"v%d" % i, partition=i % 2)
p.flush(15)

def group_read(n):
    """A kp-group member that reads n records (or times out); returns (consumer, values)."""
    c = KafkaConsumer(TOPIC, bootstrap_servers=bs, group_id="kp-group", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=15000)
    got = []
    for m in c:
        got.append(m.value)
        if len(got) == n:
            break
    return c, got


c, got = group_read(N)
check(len(got) == N, "kafka-python group consumer read %d of %d" % (len(got), N), node)
c.commit()
tps = [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)]
check([c.committed(tp) for tp in tps] == [N // 2, N // 2],
      "committed %r" % [c.committed(tp) for tp in tps], node)
c.close()
fresh = KafkaConsumer(bootstrap_servers=bs, group_id="kp-group", enable_auto_commit=False)
check([fresh.committed(tp) for tp in tps] == [N // 2, N // 2], "fresh consumer sees other offsets", node)
fresh.close()

# kcat -G: balanced consumer group from the beginning, exits at the end (-e)
out = subprocess.run(["kcat", "-b", kcat_bs, "-G", "kcat-group", "-o", "beginning", "-e", "-q",
                      "-X", "session.timeout.ms=10000", "-f", "%s\\n", TOPIC],
                     capture_output=True, text=True, timeout=60)
lines = [line for line in out.stdout.splitlines() if line]
check(len(lines) == N and sorted(lines) == sorted("v%d" % i for i in range(N)),
      "kcat -G read %d lines rc=%d stderr=%s" % (len(lines), out.returncode, out.stderr[-500:]), node)

# the coordinator restarts; a new member resumes at the commit and reads only new records
coord.restart()
p = KafkaProducer(bootstrap_servers=bs)
for i in range(10):
    p.send(TOPIC, value=b"new%d" % i, partition=i % 2)
p.flush(15)
c, got = group_read(10)
check(sorted(got) == sorted(b"new%d" % i for i in range(10)), "resumed after restart: %r" % got[:5], node)
c.commit()
c.close()
check([KafkaConsumer(bootstrap_servers=bs, group_id="kp-group").committed(tp) for tp in tps]
      == [N // 2 + 5, N // 2 + 5], "commit after restart", node)

# kafka-python's admin client keeps its socket to the restarted node and fails
# the next call on it ("socket disconnected") instead of reconnecting: a new one
admin.close()
admin = KafkaAdminClient(bootstrap_servers=bs)
groups = {g[0] for g in admin.list_consumer_groups()}
check({"kp-group", "kcat-group"} <= groups, "list_consumer_groups %r" % groups, node)
desc = admin.describe_consumer_groups(["kp-group"])[0]
check(desc.state == "Empty" and desc.protocol_type == "consumer", "describe %r" % (desc,), node)
offs = admin.list_consumer_group_offsets("kp-group")
check({tp.partition: om.offset for tp, om in offs.items()} == {0: N // 2 + 5, 1: N // 2 + 5}, "offsets %r" % offs, node)
deadline = time.monotonic() + 20
res = None
while time.monotonic() < deadline:
    res = admin.delete_consumer_groups(["kp-group"])
    if all(getattr(err, "__name__", type(err).__name__) == "NoError" for _, err in res):
        break
    time.sleep(0.5)  # kafka-python returns per-group errors; retry a transient one
check(res and all(getattr(err, "__name__", type(err).__name__) == "NoError" for _, err in res), "delete %r" % (res,), node)
groups = {g[0] for g in admin.list_consumer_groups()}
check("kp-group" not in groups, "deleted group still listed %r" % groups, node)
print("groups_kafka_python_test: OK")
