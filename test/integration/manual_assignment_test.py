"""manual_assignment_test - CreateTopics and CreatePartitions with manual
replica assignments on a 3-node cluster, through Kafka's tool names and the
confluent-kafka AdminClient (librdkafka), bootstrapped at node 2.

Proves: `kafka-topics --create --replica-assignment 1:2,2:3` places each
partition on exactly the listed brokers, led by the first; `--alter
--partitions 4 --replica-assignment` (a list covering every partition, as
Kafka's tool takes it) adds partitions on the listed brokers, and records
produced to them are read back; the broker refuses what Kafka refuses with
INVALID_REPLICA_ASSIGNMENT (39) and Kafka's KRaft messages: an unregistered
broker, a broker twice, lists of different lengths, a list whose length is
not the topic's replication factor, fewer lists than new partitions, only
fenced brokers (node 3 killed, then fenced by its lease); and INVALID_REQUEST
(42) for an assignment together with a replication factor.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import TOP, check  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # noqa: E402

TOPICS = os.path.join(TOP, "build", "bin", "kafka-topics")

cl = Cluster(["broker,controller"] * 3, extra=["broker.session.timeout.ms=3000"])
cl.start()
bs = cl.node(2).bootstrap
admin = AdminClient({"bootstrap.servers": bs})


def tool(*args):
    r = subprocess.run([TOPICS, "--bootstrap-server", bs] + list(args), capture_output=True, text=True, timeout=60)
    print("$ kafka-topics %s\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def layout(topic, want_parts, timeout_s=15):
    """{partition: (replicas, leader)} once the topic has want_parts partitions with leaders."""
    deadline = time.monotonic() + timeout_s
    got = {}
    while time.monotonic() < deadline:
        md = admin.list_topics(topic=topic, timeout=10).topics.get(topic)
        if md is not None and md.error is None:
            got = {p.id: (list(p.replicas), p.leader) for p in md.partitions.values()}
            if len(got) == want_parts and all(leader >= 0 for _, leader in got.values()):
                return got
        time.sleep(0.2)
    check(False, "%s layout %r, want %d partitions" % (topic, got, want_parts), cl)


r = tool("--create", "--topic", "ma", "--replica-assignment", "1:2,2:3")
check(r.returncode == 0 and "Created topic ma." in r.stdout, "create with --replica-assignment failed", cl)
got = layout("ma", 2)
check(got == {0: ([1, 2], 1), 1: ([2, 3], 2)}, "create layout %r" % got, cl)
r = tool("--describe", "--topic", "ma")
check("Replicas: 1,2" in r.stdout and "Replicas: 2,3" in r.stdout, "describe does not show the assignment", cl)

r = tool("--alter", "--topic", "ma", "--partitions", "4", "--replica-assignment", "1:2,2:3,3:1,1:3")
check(r.returncode == 0, "alter with --replica-assignment failed", cl)
got = layout("ma", 4)
check(got == {0: ([1, 2], 1), 1: ([2, 3], 2), 2: ([3, 1], 3), 3: ([1, 3], 1)}, "alter layout %r" % got, cl)

# the new partitions work on the brokers they were put on
p = Producer({"bootstrap.servers": bs})
for part in (2, 3):
    p.produce("ma", value=b"on-%d" % part, partition=part)
check(p.flush(15) == 0, "produce to the new partitions did not finish", cl)
c = Consumer({"bootstrap.servers": bs, "group.id": "ma-reader", "enable.auto.commit": False})
c.assign([TopicPartition("ma", 2, 0), TopicPartition("ma", 3, 0)])
seen = {}
deadline = time.monotonic() + 20
while time.monotonic() < deadline and len(seen) < 2:
    m = c.poll(0.5)
    if m is not None and not m.error():
        seen[m.partition()] = m.value()
c.close()
check(seen == {2: b"on-2", 3: b"on-3"}, "read back %r" % seen, cl)


def refused(fut, code, text):
    try:
        fut.result(timeout=30)
    except KafkaException as e:
        err = e.args[0]
        check(err.code() == code and text in err.str(), "got %d %r, want %d %r" % (err.code(), err.str(), code, text),
              cl)
        print("refused as Kafka does: %s" % err.str())
        return
    check(False, "accepted; want error %d %r" % (code, text), cl)


def create(name, assignment):
    return admin.create_topics([NewTopic(name, len(assignment), replica_assignment=assignment)])[name]


def grow(name, count, assignment):
    return admin.create_partitions([NewPartitions(name, count, replica_assignment=assignment)])[name]


INVALID_ASSIGNMENT, INVALID_REQUEST = 39, 42
refused(create("bad1", [[1, 9]]), INVALID_ASSIGNMENT,
        "The manual partition assignment includes broker 9, but no such broker is registered.")
refused(create("bad2", [[2, 2]]), INVALID_ASSIGNMENT,
        "The manual partition assignment includes the broker 2 more than once.")
refused(create("bad3", [[1, 2], [3]]), INVALID_ASSIGNMENT,
        "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with "
        "previous partitions, which have 2 replica(s).")
refused(grow("ma", 6, [[1, 2]]), INVALID_ASSIGNMENT,
        "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.")
refused(grow("ma", 5, [[3]]), INVALID_ASSIGNMENT,
        "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with "
        "previous partitions, which have 2 replica(s).")
refused(grow("ma", 5, [[3, 7]]), INVALID_ASSIGNMENT,
        "The manual partition assignment includes broker 7, but no such broker is registered.")
# the tool also passes the broker's refusal on
r = tool("--alter", "--topic", "ma", "--partitions", "5", "--replica-assignment", "1:2,2:3,3:1,1:3,2:9")
check(r.returncode != 0 and "includes broker 9, but no such broker is registered" in r.stdout + r.stderr,
      "tool: unregistered broker accepted or message lost", cl)
check(len(layout("ma", 4)) == 4, "a refused alter changed the topic", cl)

# an assignment with a replication factor is a malformed request (raw: the
# clients never send both)
import socket  # noqa: E402
import struct  # noqa: E402
from kwire_py import kstr, recv_frame  # noqa: E402

body = struct.pack(">i", 1) + kstr("bad4") + struct.pack(">ih", -1, 2)
body += struct.pack(">i", 1) + struct.pack(">ii", 0, 2) + struct.pack(">ii", 1, 2)  # assignment p0: [1, 2]
body += struct.pack(">i", 0) + struct.pack(">i", 10000)  # no configs; timeout
payload = struct.pack(">hhi", 19, 1, 5) + kstr("manual-test") + body + b"\x00"  # v1: validate_only=false
s = socket.create_connection(("127.0.0.1", cl.node(2).client_port), timeout=10)
s.sendall(struct.pack(">i", len(payload)) + payload)
resp = recv_frame(s)
s.close()
i = 4 + 4  # correlation id, topic count
nlen = struct.unpack(">h", resp[i:i + 2])[0]
code = struct.unpack(">h", resp[i + 2 + nlen:i + 4 + nlen])[0]
check(code == INVALID_REQUEST, "assignment with replication factor: error %d, want %d" % (code, INVALID_REQUEST), cl)

# a partition whose every broker is fenced is refused; one live broker suffices
cl.node(3).kill9()
deadline = time.monotonic() + 30
while True:
    fut = create("fenced", [[3]])
    try:
        fut.result(timeout=30)
        check(time.monotonic() < deadline, "broker 3 never fenced: a topic on it alone was accepted", cl)
        admin.delete_topics(["fenced"])["fenced"].result(timeout=30)
        time.sleep(0.5)
    except KafkaException as e:
        err = e.args[0]
        check(err.code() == INVALID_ASSIGNMENT and "All brokers specified in the manual partition assignment for "
              "partition 0 are fenced or in controlled shutdown." in err.str(), "fenced: %r" % err.str(), cl)
        break
create("half", [[3, 1]]).result(timeout=30)
got = layout("half", 1)
check(got == {0: ([3, 1], 1)}, "on a fenced and a live broker: %r (the live one leads)" % got, cl)
print("manual_assignment_test: OK")
