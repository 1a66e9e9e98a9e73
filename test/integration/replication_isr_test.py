#!/usr/bin/env python3
"""replication_isr_test - partition replication on a 3-node cluster, seen from
outside: what a user and an operator can check.

  1. RF=3 topics: acks=all writes land on all three replicas, and the
     replicas' segment files and leader-epoch-checkpoints are byte-identical.
  2. A follower paused (SIGSTOP) past replica.lag.time.max.ms leaves the ISR
     (the leader's AlterPartition, committed by the controller: Metadata shows
     it from any broker); acks=all keeps working with min.insync.replicas=2
     and is refused NOT_ENOUGH_REPLICAS on a topic with min.insync.replicas=3.
  3. Resumed (SIGCONT), it catches up and rejoins the ISR; logs identical again.
  4. The leader killed -9: a new leader from the ISR takes writes in a new
     leader epoch; OffsetForLeaderEpoch on it answers where the old epoch ended;
     the old leader restarts as a follower and converges byte for byte.
  5. A forged replica fetch (a client claiming to be broker 2 with Fetch v4)
     is refused with CLUSTER_AUTHORIZATION_FAILED and moves nothing.

Clients are bootstrapped at a broker that is not the partition's leader.
"""
import glob
import os
import signal
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kwire_py as kw  # noqa: E402
import samsacluster  # noqa: E402
from confluent_kafka import KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

LAG_MS = 2000
checks = kw.Checks("replication_isr_test")
cluster = samsacluster.Cluster(["broker,controller"] * 3,
                               extra=["replica.lag.time.max.ms=%d" % LAG_MS, "broker.session.timeout.ms=3000",
                                      "broker.heartbeat.interval.ms=500"])
cluster.start()


ADMINS = {}


def admin(node):
    # kept alive: a destroyed AdminClient fails its pending futures
    if node.id not in ADMINS:
        ADMINS[node.id] = AdminClient({"bootstrap.servers": node.bootstrap})
    return ADMINS[node.id]


def state(topic, via):
    """(leader, replicas, isr) of partition 0 as broker `via` itself answers.
    One Metadata request to that broker: a librdkafka client may route its
    metadata call to any broker it knows, including the one this test has
    paused or killed."""
    for attempt in range(3):
        try:
            _, _, parts = samsacluster.metadata_once(via.client_port, [topic])
            err, leader, replicas, isr = parts[(topic, 0)]
            return leader, sorted(replicas), sorted(isr)
        except (OSError, KeyError):
            if attempt == 2:
                raise
            time.sleep(0.5)


def wait_for(what, fn, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    cluster.fail("timed out waiting for " + what)


def produce(topic, via, n, prefix):
    """n acks=all records through broker `via`; returns (acked, errors)."""
    p = Producer({"bootstrap.servers": via.bootstrap, "acks": "all", "linger.ms": 2,
                  "message.timeout.ms": 15000, "retries": 0})
    acked, errors = [], []

    def cb(err, msg):
        if err:
            errors.append(err)
        else:
            acked.append(msg.offset())
    for i in range(n):
        p.produce(topic, b"%s-%06d" % (prefix, i), on_delivery=cb)
    p.flush(30)
    return acked, errors


def replica_files(node, topic):
    d = os.path.join(node.dir, "data", "%s-0" % topic)
    out = {}
    for f in sorted(glob.glob(d + "/*.log")) + [d + "/leader-epoch-checkpoint"]:
        with open(f, "rb") as fh:
            out[os.path.basename(f)] = fh.read()
    return out


def identical(topic, nodes):
    ref = replica_files(nodes[0], topic)
    return all(replica_files(n, topic) == ref for n in nodes[1:]) and ref


def not_leader(leader):
    return next(n for n in cluster.nodes if n.id != leader and n.alive())


for t, mi in (("rep", 2), ("rep3", 3)):
    admin(cluster.nodes[0]).create_topics([NewTopic(t, 1, 3, config={"min.insync.replicas": str(mi)})])[t].result()
leader, reps, isr = wait_for("leaders", lambda: state("rep", cluster.nodes[0])[0] >= 0 and state("rep", cluster.nodes[0]))
checks.check(reps == [1, 2, 3] and isr == [1, 2, 3], "a new RF=3 partition starts with every replica in the ISR: %s" % isr)

# 1. acks=all lands everywhere, byte for byte
acked, errors = produce("rep", not_leader(leader), 500, b"a")
checks.check(len(acked) == 500 and not errors, "500 acks=all records acknowledged (errors %s)" % errors[:3])
files = wait_for("replicas byte-identical", lambda: identical("rep", cluster.nodes), 15)
checks.check(len(files[next(k for k in files if k.endswith(".log"))]) > 0,
          "the three replicas' segments and leader-epoch-checkpoints are byte-identical")

# 2. a paused follower leaves the ISR; min.insync.replicas decides acks=all
follower = next(n for n in cluster.nodes if n.id != leader)
rest = [n for n in cluster.nodes if n is not follower]
os.kill(follower.proc.pid, signal.SIGSTOP)
try:
    for t in ("rep", "rep3"):
        l3 = state(t, rest[0])[0]
        wait_for("%s ISR to drop node %d" % (t, follower.id),
                 lambda t=t: follower.id not in state(t, rest[0])[2], 20)
    checks.check(True, "the paused follower (node %d) left both ISRs after replica.lag.time.max.ms" % follower.id)
    acked, errors = produce("rep", rest[0], 100, b"b")
    checks.check(len(acked) == 100 and not errors,
              "acks=all with ISR 2 >= min.insync.replicas 2: 100 acknowledged (errors %s)" % errors[:3])
    acked, errors = produce("rep3", rest[0], 5, b"c")
    codes = {e.code() for e in errors}
    checks.check(not acked and codes == {KafkaError.NOT_ENOUGH_REPLICAS},
              "acks=all with ISR 2 < min.insync.replicas 3: NOT_ENOUGH_REPLICAS (%s)" % codes)
finally:
    os.kill(follower.proc.pid, signal.SIGCONT)

# 3. it catches up and rejoins
wait_for("node %d back in the ISR" % follower.id, lambda: state("rep", rest[0])[2] == [1, 2, 3], 30)
checks.check(True, "the resumed follower caught up and rejoined the ISR")
wait_for("replicas identical after the rejoin", lambda: identical("rep", cluster.nodes), 15)
checks.check(True, "replicas byte-identical after the rejoin")

# 4. the leader dies: a new leader, a new epoch; the old one converges
old = cluster.node(leader)
old.kill9()
survivors = [n for n in cluster.nodes if n is not old]
new_leader = wait_for("a new leader", lambda: (lambda s: s[0] not in (-1, old.id) and s[0])(state("rep", survivors[0])),
                      30)
acked, errors = produce("rep", survivors[0], 200, b"d")
checks.check(len(acked) == 200 and not errors, "the new leader (node %d) takes acks=all writes" % new_leader)


def offset_for_leader_epoch(node, topic, epoch):
    """OffsetForLeaderEpoch v2 for partition 0: (error, leader_epoch, end_offset)."""
    body = struct.pack(">i", 1) + kw.kstr(topic) + struct.pack(">iiii", 1, 0, -1, epoch)
    s = socket.create_connection(("127.0.0.1", node.client_port), timeout=10)
    s.sendall(kw.frame(23, 2, 7, body))
    r = kw.Reader(kw.recv_frame(s), "response")
    s.close()
    r.take('>i')  # correlation id
    r.take('>i')  # throttle
    r.take('>i')  # topics
    r.string()
    r.take('>i')  # partitions
    err = r.take('>h')
    r.take('>i')
    ep = r.take('>i')
    return err, ep, r.take('>q')


nl = cluster.node(new_leader)
err, ep, end = offset_for_leader_epoch(nl, "rep", 0)
checks.check(err == 0 and ep == 0 and end >= 600,
          "OffsetForLeaderEpoch(0) on the new leader: epoch 0 ends at %d (error %d, epoch %d)" % (end, err, ep))
err, _, _ = offset_for_leader_epoch(old if old.alive() else survivors[1 if survivors[0] is nl else 0], "rep", 0)
checks.check(err == 6, "a follower answers OffsetForLeaderEpoch NOT_LEADER_OR_FOLLOWER (%d)" % err)
old.start()
old.wait_ready()
wait_for("the old leader back in the ISR", lambda: state("rep", survivors[0])[2] == [1, 2, 3], 40)
wait_for("all replicas identical after the failover", lambda: identical("rep", cluster.nodes), 20)
with open(os.path.join(nl.dir, "data", "rep-0", "leader-epoch-checkpoint")) as f:
    entries = f.read().split("\n")[2:-1]
checks.check(len(entries) >= 2, "the leader-epoch-checkpoint records the new epoch: %s" % entries)

# 5. a forged replica fetch is refused
lid = state("rep", survivors[0])[0]
ln = cluster.node(lid)
s = socket.create_connection(("127.0.0.1", ln.client_port), timeout=10)
body = struct.pack(">iiiib", 2 if lid != 2 else 3, 100, 1, 1 << 20, 0)
body += struct.pack(">i", 1) + kw.kstr("rep") + struct.pack(">i", 1) + struct.pack(">iqi", 0, 1 << 40, 1 << 20)
s.sendall(kw.frame(1, 4, 9, body))
r = kw.Reader(kw.recv_frame(s), "response")
s.close()
r.take('>i')
r.take('>i')  # throttle
r.take('>i')
r.string()
r.take('>i')
r.take('>i')
code = r.take('>h')
checks.check(code == 31, "a client's Fetch v4 claiming a replica id is refused CLUSTER_AUTHORIZATION_FAILED (%d)" % code)
checks.check("replica fetch refused" in ln.read_log(), "and the leader logs why")

cluster.cleanup()
checks.exit()
