#!/usr/bin/env python3
"""controller_forged_test - the active controller validates what nodes ask.

Since typed controller RPCs (issue 8), brokers send requests, never
records: the active controller checks each against its own image and plans
the records itself.  On a 3-node cluster this test connects to the active
controller's listener as a node that is not a cluster member and sends
(protobuf frames written by hand, proto/quorum.proto):
  - a raw record proposal (a TopicRecord + PartitionRecord)   -> refused
  - a registration of broker 3 from node 7                   -> refused
  - a heartbeat for broker 2 from node 7                      -> refused
  - a registration of broker 7 from node 7 (legitimate)        -> epoch 1
  - a heartbeat of broker 7 with a wrong broker epoch         -> stale
  - a topic creation with a bad config / a future version      -> refused
  - AlterPartition (ISR changes): for another broker's id, with a wrong
    broker epoch, a future message version, for a partition broker 7 does
    not lead, with a stale partition epoch                     -> refused
  - AlterPartition from broker 7 leading a partition (legitimate) -> the
    new ISR committed and answered with partition epoch 1
and checks each answer, that the refusals are logged, and that the image
is unchanged: no forged topic, broker 3 keeps its endpoint.  A real client
then still creates and uses a topic.
Prints "controller_forged: N passed, N failed".
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsacluster  # noqa: E402
from ctrlwire import alter_partition_body, f_bytes, f_int, hello, metadata_log_topic_ids, parse  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

# common/err.h: ERR_FIRST = -100000, then one by one
ERR_INVALID = -99992
ERR_UNSUPPORTED = -99991
ERR_STALE = -99985
ERR_INVALID_CONFIG = -99979

passed = failed = 0


def check(cond, what):
    global passed, failed
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passed += 1
    else:
        failed += 1


class Conn:
    def __init__(self, port, node_id, cluster_id):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.s.sendall(hello(node_id, cluster_id))

    def send(self, frame_field, body):
        payload = f_bytes(frame_field, body)
        self.s.sendall(struct.pack(">I", len(payload) + 1) + b"\x01" + payload)

    def recv(self, want_field, timeout=10):
        """The next frame of kind want_field (others, e.g. Raft, skipped)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            while len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) < 4 + n:
                    break
                frame, self.buf = self.buf[5:4 + n], self.buf[4 + n:]
                f = parse(frame)
                if want_field in f:
                    return parse(f[want_field][0])
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            if not d:
                return None
            self.buf += d
        return None


def endpoint(name, host, port):
    return f_bytes(1, name) + f_bytes(2, host) + f_int(3, port) + f_int(4, 0)


def registration(req_id, broker_id, host, port):
    return (f_int(1, 1) + f_int(2, req_id) + f_int(3, broker_id) + f_bytes(4, os.urandom(16)) +
            f_bytes(5, endpoint("PLAINTEXT", host, port)))


def heartbeat(broker_id, epoch):
    return f_int(1, broker_id) + f_int(2, epoch) + f_int(3, 1)


def create_topic(req_id, name, configs=(), version=1):
    body = f_int(1, version) + f_int(2, req_id) + f_bytes(3, name) + f_int(4, 1) + f_int(5, 1)
    for k, v in configs:
        body += f_bytes(6, f_bytes(1, k) + f_bytes(2, v))
    return body


def alter_partition(req_id, broker_id, epoch, topic_id, leader_epoch, partition_epoch, isr, version=1):
    return alter_partition_body(req_id, broker_id, epoch, topic_id, 0, leader_epoch, partition_epoch, isr, version)


def one(f, field, default=0):
    return f.get(field, [default])[0]


cluster = samsacluster.Cluster(["broker,controller"] * 3, ["offsets.topic.replication.factor=1"])
cluster.start()
admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
deadline = time.time() + 20
while time.time() < deadline and len(admin.list_topics(timeout=5).brokers) < 3:
    time.sleep(0.2)
before = admin.list_topics(timeout=5)
check(len(before.brokers) == 3, "three brokers registered")
b3 = before.brokers[3]

active = cluster.active_controller()
with open(os.path.join(active.dir, "data", "meta.properties")) as f:
    cluster_id = [l.split("=", 1)[1].strip() for l in f if l.startswith("cluster.id=")][0]
conn = Conn(active.ctrl_port, 7, cluster_id)

# 1. a raw record proposal: TopicRecord "forged" + its PartitionRecord
tid = os.urandom(16)
recs = (f_bytes(1, f_bytes(1, f_bytes(1, "forged") + f_bytes(2, tid))) +
        f_bytes(1, f_bytes(3, f_bytes(1, tid) + f_int(2, 0) + f_int(3, 1) + f_int(4, 1) + f_int(5, 1))))
conn.send(3, f_int(1, 41) + f_bytes(2, recs))
r = conn.recv(4)
check(r is not None and one(r, 1) == 41 and one(r, 2) == ERR_UNSUPPORTED,
      "raw record proposal answered ERR_UNSUPPORTED (%s)" % r)

# 2. registration of another node's broker id
conn.send(8, registration(42, 3, "evil.example", 6666))
r = conn.recv(9)
check(r is not None and one(r, 1) == 42 and one(r, 2) == ERR_INVALID,
      "registration of broker 3 from node 7 refused with ERR_INVALID (%s)" % r)

# 3. heartbeat for another node's broker id
conn.send(7, heartbeat(2, 1))
r = conn.recv(10)
check(r is not None and one(r, 3) == ERR_INVALID, "heartbeat for broker 2 from node 7 refused (%s)" % r)

# 4. a legitimate registration of broker 7 gets its epoch from the controller
conn.send(8, registration(43, 7, "127.0.0.1", 1))
r = conn.recv(9)
epoch7 = one(r, 3, -1) if r else -1
check(r is not None and one(r, 1) == 43 and one(r, 2) == 0 and epoch7 == 1,
      "registration of broker 7 from node 7 committed with broker_epoch=1 (%s)" % r)
conn.send(7, heartbeat(7, epoch7))
r = conn.recv(10)
check(r is not None and one(r, 3) == 0, "heartbeat of broker 7 with its epoch accepted (%s)" % r)

# 5. a heartbeat with a wrong broker epoch
conn.send(7, heartbeat(7, epoch7 + 5))
r = conn.recv(10)
check(r is not None and one(r, 3) == ERR_STALE, "heartbeat with a wrong broker epoch answered ERR_STALE (%s)" % r)

# 6. topic creation: a bad config value, a future message version
conn.send(11, create_topic(44, "forged2", [("retention.ms", "not-a-number")]))
r = conn.recv(12)
check(r is not None and one(r, 1) == 44 and one(r, 2) == ERR_INVALID_CONFIG,
      "topic creation with retention.ms=not-a-number refused (%s)" % r)
conn.send(11, create_topic(45, "forged3", version=99))
r = conn.recv(12)
check(r is not None and one(r, 1) == 45 and one(r, 2) == ERR_UNSUPPORTED,
      "topic creation with message version 99 refused (%s)" % r)

# 7. AlterPartition.  "ap1" is led by a real broker, "ap7" by broker 7
# (broker 7's endpoint is not real, which the controller does not mind).
real = [n for n in cluster.nodes if n is not active][0]
admin.create_topics([NewTopic("ap1", 1, replica_assignment=[[real.id, 7]]),
                     NewTopic("ap7", 1, replica_assignment=[[7, real.id]])])["ap7"].result(10)
time.sleep(0.5)
tids = metadata_log_topic_ids(os.path.join(active.dir, "data"))
check("ap1" in tids and "ap7" in tids, "topic ids of ap1 and ap7 read from the metadata log")
ap1, ap7 = tids.get("ap1", b"\0" * 16), tids.get("ap7", b"\0" * 16)
conn.send(7, heartbeat(7, epoch7))    # keep broker 7 unfenced
conn.recv(10)
KERR_NOT_LEADER_OR_FOLLOWER, KERR_STALE_BROKER_EPOCH, KERR_INVALID_UPDATE_VERSION = 6, 77, 108
conn.send(13, alter_partition(50, real.id, 1, ap1, 0, 0, [real.id, 7]))
r = conn.recv(14)
check(r is not None and one(r, 1) == 50 and one(r, 2) == ERR_INVALID,
      "AlterPartition for broker %d from node 7 refused with ERR_INVALID (%s)" % (real.id, r))
conn.send(13, alter_partition(51, 7, epoch7 + 3, ap7, 0, 0, [7, real.id]))
r = conn.recv(14)
check(r is not None and one(r, 1) == 51 and one(r, 2) == 0 and one(r, 3) == KERR_STALE_BROKER_EPOCH,
      "AlterPartition with a wrong broker epoch answered STALE_BROKER_EPOCH (%s)" % r)
conn.send(13, alter_partition(52, 7, epoch7, ap7, 0, 0, [7, real.id], version=99))
r = conn.recv(14)
check(r is not None and one(r, 1) == 52 and one(r, 2) == ERR_UNSUPPORTED,
      "AlterPartition with message version 99 refused (%s)" % r)
conn.send(13, alter_partition(53, 7, epoch7, ap1, 0, 0, [real.id, 7]))
r = conn.recv(14)
check(r is not None and one(r, 1) == 53 and one(r, 3) == KERR_NOT_LEADER_OR_FOLLOWER,
      "AlterPartition from broker 7 for ap1 (led by %d) answered NOT_LEADER_OR_FOLLOWER (%s)" % (real.id, r))
conn.send(13, alter_partition(54, 7, epoch7, ap7, 0, 4, [7, real.id]))
r = conn.recv(14)
check(r is not None and one(r, 1) == 54 and one(r, 3) == KERR_INVALID_UPDATE_VERSION,
      "AlterPartition with a stale partition epoch answered INVALID_UPDATE_VERSION (%s)" % r)
md = admin.list_topics(timeout=5)
check(md.topics["ap1"].partitions[0].isrs == [real.id] and md.topics["ap7"].partitions[0].isrs == [7],
      "the refused ISR changes left the ISRs as they were (%s, %s)" %
      (md.topics["ap1"].partitions[0].isrs, md.topics["ap7"].partitions[0].isrs))
conn.send(13, alter_partition(55, 7, epoch7, ap7, 0, 0, [7, real.id]))
r = conn.recv(14)
check(r is not None and one(r, 1) == 55 and one(r, 2) == 0 and one(r, 3) == 0 and one(r, 4) == 7 and
      one(r, 6) == 1, "AlterPartition from the leader committed: partition epoch 1 (%s)" % r)
deadline = time.time() + 5
while time.time() < deadline and sorted(admin.list_topics(timeout=5).topics["ap7"].partitions[0].isrs) != sorted([7, real.id]):
    time.sleep(0.1)
check(sorted(admin.list_topics(timeout=5).topics["ap7"].partitions[0].isrs) == sorted([7, real.id]),
      "metadata shows ap7's new ISR")

# the image is unchanged by the refusals
time.sleep(0.5)
md = admin.list_topics(timeout=5)
for name in ("forged", "forged2", "forged3"):
    check(name not in md.topics, "no topic %s in metadata" % name)
check(md.brokers[3].host == b3.host and md.brokers[3].port == b3.port,
      "broker 3 keeps its endpoint %s:%d" % (b3.host, b3.port))
log = active.read_log()
check("refused a record proposal from node=7" in log, "the proposal refusal is logged")
check("refused a broker registration from node=7" in log, "the forged registration is logged")
check("refused a broker heartbeat from node=7" in log, "the forged heartbeat is logged")
check("refused a topic creation from node=7" in log, "the topic creation refusals are logged")
for what in ("broker_id=%d is not the caller" % real.id, "STALE_BROKER_EPOCH", "message version 99",
             "NOT_LEADER_OR_FOLLOWER", "INVALID_UPDATE_VERSION"):
    check("refused an AlterPartition from node=7 reason=\"" in log and what in log,
          "the AlterPartition refusal %s is logged" % what)
for n in cluster.nodes:
    check(n.alive(), "node %d still runs" % n.id)

# a real client still creates and uses a topic through a non-active broker
other = [n for n in cluster.nodes if n is not active][0]
a2 = AdminClient({"bootstrap.servers": other.bootstrap})
# placed on a real broker: broker 7 above is registered with a port-1 endpoint and
# random placement would put the partition there one time in four
a2.create_topics([NewTopic("after-forged", 1, replica_assignment=[[other.id]])])["after-forged"].result(10)
p = Producer({"bootstrap.servers": other.bootstrap, "acks": "all"})
acked = []
p.produce("after-forged", b"v", on_delivery=lambda e, m: acked.append(e is None))
p.flush(10)
check(acked == [True], "a topic created and produced to after the refusals")

print("controller_forged: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
