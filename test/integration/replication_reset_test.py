"""replication_reset_test - a follower whose log ends before its leader's
log start (records deleted while it was down) starts afresh at the leader's
log start (Kafka's truncateFullyAndStartAt), on a 3-node cluster with
confluent-kafka clients and Kafka's kafka-delete-records tool.

Proves: the leader answers the returning follower's fetch with
OFFSET_OUT_OF_RANGE and its log start; the follower empties its log, starts
it there (moving back to the base of the batch holding that offset, as
Kafka does, then to the leader's start), fetches the rest, and holds the
leader's bytes byte for byte from that batch on; the log start survives a
restart of the follower.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import CLI, Cluster  # noqa: E402
from samsanode import check  # noqa: E402
from samsarepl import Topic, high_watermarks, leaders, log_bytes, produce, wait_identical  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PROPS = ["offsets.topic.replication.factor=1", "replica.fetch.backoff.ms=200", "replica.fetch.wait.max.ms=200",
         "replica.lag.time.max.ms=3000", "log.segment.bytes=16384"]
T = Topic("reset-topic", 1)
N1, N2 = 1000, 2000


def batches(blob):
    """[(base offset, last offset, position)] of the v2 batches in blob."""
    out, i = [], 0
    while i + 61 <= len(blob):
        base = int.from_bytes(blob[i:i + 8], "big")
        length = int.from_bytes(blob[i + 8:i + 12], "big")
        delta = int.from_bytes(blob[i + 23:i + 27], "big")
        out.append((base, base + delta, i))
        i += 12 + length
    return out


def delete_records(bootstrap, offset):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"partitions": [{"topic": T.name, "partition": 0, "offset": offset}], "version": 1}, f)
    out = subprocess.run([os.path.join(os.path.dirname(CLI), "kafka-delete-records"),
                          "--bootstrap-server", bootstrap, "--offset-json-file", f.name],
                         capture_output=True, text=True, timeout=60)
    os.unlink(f.name)
    check(out.returncode == 0, "kafka-delete-records failed: %s %s" % (out.stdout, out.stderr))


def main():
    cluster = Cluster(["broker,controller"] * 3, extra=PROPS)
    cluster.start()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    admin.create_topics([NewTopic(T.name, num_partitions=1, replication_factor=3)])[T.name].result(30)
    deadline = time.time() + 30
    while True:
        lead, replicas = leaders(T, admin)
        if lead[0] >= 0:
            break
        check(time.time() < deadline, "no leader for %s" % T.name)
        time.sleep(0.2)
    leader = cluster.node(lead[0])
    victim = [cluster.node(n) for n in replicas[0] if n != leader.id][0]
    produce(T, leader.bootstrap, 0, N1)
    wait_identical(T, cluster, replicas, high_watermarks(T, leader.bootstrap, N1), "before the follower died")

    victim.kill9()
    produce(T, leader.bootstrap, N1, N2, acks="1")
    high_watermarks(T, leader.bootstrap, N1 + N2)
    cut = N1 + N2 // 2 + 1  # inside a batch, most likely
    delete_records(leader.bootstrap, cut)
    victim.start()
    victim.wait_ready()

    # the victim's log: from the batch holding `cut` to the leader's end, the leader's bytes
    deadline = time.time() + 60
    while True:
        _, vblob = log_bytes(T, victim, 0)
        _, lblob = log_bytes(T, leader, 0)
        vb, lb = batches(vblob), batches(lblob)
        ok = vb and lb and vb[-1][1] == lb[-1][1] and vb[0][0] <= cut <= vb[0][1]
        if ok:
            pos = [p for (b, _, p) in lb if b == vb[0][0]]
            ok = pos and lblob[pos[0]:] == vblob
        if ok:
            break
        if time.time() > deadline:
            cluster.fail("follower %d did not restart at the leader's log start %d: its batches %s..%s, "
                         "the leader's end %s" % (victim.id, cut, vb[:1], vb[-1:], lb[-1:]))
        time.sleep(0.2)
    check("emptied and restarted" in victim.read_log(), "follower %d did not say it reset its log" % victim.id)
    print("ok: follower %d restarted its log at the leader's start %d (batch %d..%d), byte-identical since" % (
        victim.id, cut, vb[0][0], vb[0][1]))
    # the log start (moved to the leader's) survives a restart
    victim.stop()
    victim.start()
    victim.wait_ready()
    _, vblob2 = log_bytes(T, victim, 0)
    check(vblob2 == vblob, "follower %d's log changed across a restart" % victim.id)
    print("PASS replication_reset_test")


if __name__ == "__main__":
    main()
