#!/usr/bin/env python3
"""describe_topic_partitions_test - DescribeTopicPartitions (API 75 v0,
KIP-966) in raw protocol on a cluster of one controller-only node (1) and
three brokers (2, 3, 4), always asked at a broker that leads none of what
it is asked about when one exists.

  1. ApiVersions advertises API 75 v0-0.
  2. Paging by ResponsePartitionLimit and Cursor over topics pa (3
     partitions), pb (2), pc (1) and an unknown topic, asked unsorted:
     topics come back sorted; "nosuch" answers UNKNOWN_TOPIC_OR_PARTITION
     without using the limit; a cut topic names its next partition in
     NextCursor; a limit used up exactly at a topic's end points at the next
     topic's partition 0; the last page has a null NextCursor; an illegal
     name answers INVALID_TOPIC_EXCEPTION; a cursor topic not among the asked
     ones fails the request (INVALID_REQUEST for each asked topic); no topics
     = every topic, unknown names never reported; TopicAuthorizedOperations
     is INT32_MIN; the topic id is the one the metadata log has.
  3. ELR (elr_test's steps 1-2): topic elr, RF=3, min.insync.replicas=2;
     kill -9 follower F1, then SIGTERM follower F2: ISR [L] and
     EligibleLeaderReplicas [F2] in the answer, both followers offline;
     `samsa topics --describe` (bootstrapped at the leader) prints
     "Isr: L\tElr: F2\tLastKnownElr: " as Kafka 3.7+'s kafka-topics does.

Prints "describe_topic_partitions_test: N passed, N failed".
"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kwire_py as kw  # noqa: E402
import samsacluster  # noqa: E402
from ctrlwire import metadata_log_state  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

checks = kw.Checks("describe_topic_partitions_test")
PROPS = ["offsets.topic.replication.factor=1", "auto.leader.rebalance.enable=false",
         "broker.heartbeat.interval.ms=500", "broker.session.timeout.ms=3000",
         "replica.fetch.backoff.ms=200", "replica.fetch.wait.max.ms=200", "replica.lag.time.max.ms=3000"]
cluster = samsacluster.Cluster(["controller"] + ["broker"] * 3, PROPS)
corr = 0


# ---- the flexible wire, by hand ------------------------------------------------------

def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def cstr(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


def dtp_request(topics, limit=2000, cursor=None):
    """Request header v2 + DescribeTopicPartitions v0 body."""
    global corr
    corr += 1
    body = uvarint(len(topics) + 1) + b"".join(cstr(t) + b"\0" for t in topics)
    body += struct.pack(">i", limit)
    body += b"\xff" if cursor is None else b"\x01" + cstr(cursor[0]) + struct.pack(">i", cursor[1]) + b"\0"
    body += b"\0"
    return struct.pack(">hhi", 75, 0, corr) + kw.kstr("dtp-test") + b"\0" + body


class R:
    def __init__(self, d):
        self.d, self.i = d, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.i)
        self.i += struct.calcsize(fmt)
        return v[0]

    def uv(self):
        n = shift = 0
        while True:
            b = self.d[self.i]
            self.i += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n
            shift += 7

    def cstr(self):
        n = self.uv() - 1
        if n < 0:
            return None
        s = self.d[self.i:self.i + n].decode()
        self.i += n
        return s

    def ints(self):
        n = self.uv() - 1
        return None if n < 0 else [self.take(">i") for _ in range(n)]

    def tags(self):
        for _ in range(self.uv()):
            self.uv()
            self.i += self.uv()


def dtp(node, topics, limit=2000, cursor=None):
    """One request to node: {"topics": [...], "cursor": (name, index) or None}."""
    r = R(samsacluster.roundtrip(node.client_port, dtp_request(topics, limit, cursor)))
    got_corr = r.take(">i")
    r.tags()  # response header v1
    assert got_corr == corr, (got_corr, corr)
    r.take(">i")  # throttle
    out = {"topics": []}
    for _ in range(r.uv() - 1):
        t = {"error": r.take(">h"), "name": r.cstr(), "id": bytes(r.d[r.i:r.i + 16])}
        r.i += 16
        t["internal"] = r.take(">b") != 0
        t["partitions"] = []
        for _ in range(r.uv() - 1):
            p = {"error": r.take(">h"), "index": r.take(">i"), "leader": r.take(">i"), "epoch": r.take(">i"),
                 "replicas": r.ints(), "isr": r.ints(), "elr": r.ints(), "last_known_elr": r.ints(),
                 "offline": r.ints()}
            r.tags()
            t["partitions"].append(p)
        t["ops"] = r.take(">i")
        r.tags()
        out["topics"].append(t)
    out["cursor"] = None
    if r.take(">b") >= 0:
        out["cursor"] = (r.cstr(), r.take(">i"))
        r.tags()
    r.tags()
    assert r.i == len(r.d), "trailing bytes"
    return out


def shape(resp):
    """[(name, error, [partition indexes])], cursor."""
    return [(t["name"], t["error"], [p["index"] for p in t["partitions"]]) for t in resp["topics"]], resp["cursor"]


def api_versions_75(node):
    global corr
    corr += 1
    r = samsacluster.roundtrip(node.client_port, struct.pack(">hhi", 18, 0, corr) + kw.kstr("dtp-test"))
    err, n = struct.unpack_from(">hi", r, 4)
    for i in range(n):
        key, lo, hi = struct.unpack_from(">hhh", r, 10 + 6 * i)
        if key == 75:
            return lo, hi
    return None


def state(topic):
    st = metadata_log_state(os.path.join(cluster.node(1).dir, "data"))
    tid = st["topics"].get(topic)
    return st["partitions"].get((tid, 0)) if tid else None


def wait_for(pred, timeout_s=30):
    """pred's first true value within timeout_s, else None (a check reports it)."""
    return cluster.wait_for("", pred, timeout_s, fail=False)


try:
    cluster.start()
    b2, b3, b4 = cluster.node(2), cluster.node(3), cluster.node(4)
    admin = AdminClient({"bootstrap.servers": b3.bootstrap})
    # everything led by broker 2, asked at broker 3
    futs = admin.create_topics([NewTopic("pa", 3, -1, replica_assignment=[[2]] * 3),
                                NewTopic("pb", 2, -1, replica_assignment=[[2]] * 2),
                                NewTopic("pc", 1, -1, replica_assignment=[[2]])])
    for f in futs.values():
        f.result(30)
    wait_for(lambda: len(dtp(b3, ["pa", "pb", "pc"])["topics"][2]["partitions"]) == 1 and
             all(p["leader"] == 2 for t in dtp(b3, ["pa", "pb", "pc"])["topics"] for p in t["partitions"]))

    # 1. advertised
    checks.check(api_versions_75(b3) == (0, 0), "ApiVersions advertises DescribeTopicPartitions v0")

    # 2. paging
    asked = ["pc", "nosuch", "pb", "pa"]
    got = shape(dtp(b3, asked, limit=2))
    checks.check(got == ([("nosuch", 3, []), ("pa", 0, [0, 1])], ("pa", 2)),
                 "limit 2: nosuch UNKNOWN_TOPIC_OR_PARTITION, pa [0, 1], cursor (pa, 2): %s" % (got,))
    got = shape(dtp(b3, asked, limit=2, cursor=("pa", 2)))
    checks.check(got == ([("pa", 0, [2]), ("pb", 0, [0])], ("pb", 1)),
                 "cursor (pa, 2), limit 2: pa [2], pb [0], cursor (pb, 1): %s" % (got,))
    got = shape(dtp(b3, asked, limit=2, cursor=("pb", 1)))
    checks.check(got == ([("pb", 0, [1]), ("pc", 0, [0])], None),
                 "cursor (pb, 1), limit 2: pb [1], pc [0], no cursor (the end): %s" % (got,))
    got = shape(dtp(b3, asked, limit=3, cursor=("pa", 0)))
    checks.check(got == ([("pa", 0, [0, 1, 2])], ("pb", 0)),
                 "limit 3 used up at pa's end: cursor (pb, 0): %s" % (got,))
    got = shape(dtp(b3, ["pa", "bad/name"]))
    checks.check(got == ([("bad/name", 17, []), ("pa", 0, [0, 1, 2])], None),
                 "an illegal name: INVALID_TOPIC_EXCEPTION: %s" % (got,))
    got = shape(dtp(b3, ["pa", "pc"], cursor=("pb", 0)))
    checks.check(got == ([("pa", 42, []), ("pc", 42, [])], None),
                 "cursor topic not asked for: INVALID_REQUEST for each asked topic: %s" % (got,))
    got = shape(dtp(b3, ["pa"], cursor=("pa", -1)))
    checks.check(got == ([("pa", 42, [])], None), "negative cursor partition: INVALID_REQUEST: %s" % (got,))
    full = dtp(b3, [])
    got = shape(full)
    checks.check(got == ([("pa", 0, [0, 1, 2]), ("pb", 0, [0, 1]), ("pc", 0, [0])], None),
                 "no topics: every topic, sorted: %s" % (got,))
    got = shape(dtp(b3, [], limit=4, cursor=("pb", 1)))
    checks.check(got == ([("pb", 0, [1]), ("pc", 0, [0])], None),
                 "every topic from cursor (pb, 1): %s" % (got,))
    t = full["topics"][0]
    st = metadata_log_state(os.path.join(cluster.node(1).dir, "data"))
    checks.check(t["ops"] == -2147483648 and not t["internal"] and t["id"] == bytes(st["topics"]["pa"]),
                 "pa: TopicAuthorizedOperations INT32_MIN, not internal, its topic id %s" % t["id"].hex())
    p = full["topics"][0]["partitions"][0]
    checks.check(p["leader"] == 2 and p["replicas"] == [2] and p["isr"] == [2] and p["elr"] == [] and
                 p["last_known_elr"] == [] and p["offline"] == [] and p["error"] == 0,
                 "pa-0: leader 2, replicas [2], ISR [2], ELR [] and last known ELR [] (not null), no offline: %s" % p)
    got = shape(dtp(b3, [], limit=0))
    checks.check(got == ([("pa", 0, [0])], ("pa", 1)), "limit 0 counts as 1: %s" % (got,))

    # 3. ELR
    admin.create_topics([NewTopic("elr", 1, 3, config={"min.insync.replicas": "2"})])["elr"].result(30)
    st = wait_for(lambda: (s := state("elr")) and s["leader"] >= 0 and len(s["isr"]) == 3 and s)
    leader = st["leader"]
    f1, f2 = [r for r in st["replicas"] if r != leader]
    cluster.node(f1).kill9()
    wait_for(lambda: (s := state("elr")) and sorted(s["isr"]) == sorted([leader, f2]))
    cluster.node(f2).stop()
    st = wait_for(lambda: (s := state("elr")) and s["isr"] == [leader] and s["elr"] == [f2] and s)
    checks.check(bool(st), "kill -9 of follower %d, SIGTERM of follower %d: ISR [%d], ELR [%d] in the metadata log"
                 % (f1, f2, leader, f2))

    def partition():
        t = dtp(cluster.node(leader), ["elr"])["topics"][0]
        return t["partitions"][0] if t["error"] == 0 and t["partitions"] else None
    p = wait_for(lambda: (q := partition()) and q["isr"] == [leader] and q["elr"] == [f2] and
                 sorted(q["offline"]) == sorted([f1, f2]) and q)
    checks.check(bool(p), "DescribeTopicPartitions: leader %d, ISR [%d], EligibleLeaderReplicas [%d], "
                 "LastKnownElr [], offline [%d, %d]: %s" % (leader, leader, f2, f1, f2, p or partition()))
    out = subprocess.run([samsacluster.CLI, "topics", "--bootstrap-server", cluster.node(leader).bootstrap,
                          "--describe", "--topic", "elr"], capture_output=True, text=True, timeout=60)
    lines = out.stdout.splitlines()
    want = "\tTopic: elr\tPartition: 0\tLeader: %d\tReplicas: %s\tIsr: %d\tElr: %d\tLastKnownElr: " % (
        leader, ",".join(str(r) for r in st["replicas"]), leader, f2)
    checks.check(out.returncode == 0 and len(lines) == 2 and lines[1] == want,
                 "samsa topics --describe prints Kafka 3.7's line %r (got %r)" % (want, lines[1:]))
except Exception as e:  # noqa: BLE001 - any failure ends the test as failed
    checks.check(False, "unexpected error: %r" % e)
    for n in cluster.nodes:
        print("--- node %d\n%s" % (n.id, n.tail(15)))
finally:
    cluster.cleanup()
checks.exit()
