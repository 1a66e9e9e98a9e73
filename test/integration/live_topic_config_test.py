#!/usr/bin/env python3
"""live_topic_config_test - a topic's replication configs apply at once on
every broker, not at the partition's next leadership change: 3 nodes
(broker,controller), topic "live" with replicas [1, 2, 3] (node 1 leads)
and min.insync.replicas=2.

  1. kill -9 follower 3: the ISR shrinks to [1, 2]; an acks=all Produce
     (raw protocol, sent to the leader) succeeds.
  2. `samsa configs --alter --add-config min.insync.replicas=3`
     (IncrementalAlterConfigs, bootstrapped at node 2): the next acks=all
     Produce fails with NOT_ENOUGH_REPLICAS (19) while acks=1 still appends;
     leader and leader epoch are what they were (no leadership change), and
     the leader logs the change it applied.
  3. min.insync.replicas=2 again: acks=all succeeds again, same leader epoch.
  4. samsa.acks.all.fsync=true set the same way: the leader logs it applied
     live, and acks=all still succeeds (leader and follower 2 report their
     syncs).

Prints "live_topic_config_test: N passed, N failed".
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kwire_py as kw  # noqa: E402
import samsacluster  # noqa: E402
from ctrlwire import metadata_log_state  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "live"
checks = kw.Checks("live_topic_config_test")
cluster = samsacluster.Cluster(["broker,controller"] * 3,
                               extra=["replica.lag.time.max.ms=3000", "broker.heartbeat.interval.ms=500",
                                      "broker.session.timeout.ms=3000", "auto.leader.rebalance.enable=false",
                                      "offsets.topic.replication.factor=1"])
cluster.start()
n1, n2, n3 = cluster.nodes
corr = 100


def produce(acks):
    """One record to TOPIC-0 at the leader (node 1); its error code."""
    global corr
    corr += 1
    req = kw.produce_v3(TOPIC, 0, kw.record_batch([b"v%d" % corr]), corr, acks=acks, client_id="live")
    resp = samsacluster.roundtrip(n1.client_port, req[4:], timeout_s=15)
    _, parts = kw.parse_produce_v3(resp)
    return parts[0][2]


def part_state():
    """(leader, leader epoch, ISR) as the metadata log on node 2 has it."""
    st = metadata_log_state(os.path.join(n2.dir, "data"))
    tid = st["topics"].get(TOPIC)
    p = st["partitions"].get((tid, 0)) if tid else None
    return (p["leader"], p["leader_epoch"], sorted(p["isr"])) if p else None


def configs(kv):
    out = subprocess.run([samsacluster.CLI, "configs", "--bootstrap-server", n2.bootstrap, "--entity-type",
                          "topics", "--entity-name", TOPIC, "--alter", "--add-config", kv],
                         capture_output=True, text=True, timeout=30)
    return out.returncode == 0 and "Completed updating config for topic %s." % TOPIC in out.stdout


def wait_error(acks, want, timeout_s=15):
    """Produce until the error code is want (the brokers apply the committed
    config a moment after the tool returns); the last code."""
    deadline = time.time() + timeout_s
    err = None
    while time.time() < deadline:
        err = produce(acks)
        if err == want:
            return err
        time.sleep(0.2)
    return err


try:
    admin = AdminClient({"bootstrap.servers": n2.bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, -1, replica_assignment=[[1, 2, 3]],
                                  config={"min.insync.replicas": "2"})])[TOPIC].result(30)
    cluster.wait_for("live led by node 1 with ISR [1, 2, 3]",
                     lambda: (s := part_state()) and s[0] == 1 and s[2] == [1, 2, 3], 30)
    checks.check(produce(-1) == 0, "acks=all with the full ISR succeeds")

    # 1. one follower gone: ISR at min ISR
    n3.kill9()
    st = cluster.wait_for("the ISR shrinks to [1, 2]", lambda: (s := part_state()) and s[2] == [1, 2] and s, 30)
    leader, epoch = st[0], st[1]
    checks.check(leader == 1, "kill -9 of follower 3: ISR %s, leader %d, leader epoch %d" % (st[2], leader, epoch))
    checks.check(wait_error(-1, 0) == 0, "acks=all with ISR [1, 2] at min.insync.replicas=2 succeeds")

    # 2. min ISR raised above the ISR: refused at once, no leadership change
    checks.check(configs("min.insync.replicas=3"), "samsa configs sets min.insync.replicas=3")
    err = wait_error(-1, 19)
    checks.check(err == 19, "acks=all now fails with NOT_ENOUGH_REPLICAS (got error %s)" % err)
    checks.check(produce(1) == 0, "acks=1 still appends")
    st = part_state()
    checks.check(st is not None and st[0] == leader and st[1] == epoch,
                 "no leadership change: leader %s epoch %s (was %d, %d)" % (st and st[0], st and st[1], leader, epoch))
    checks.check("replication config applied topic=live partition=0 min_insync_replicas=2 -> 3" in n1.read_log(),
                 "the leader logged the live change of min.insync.replicas")

    # 3. lowered again: acks=all succeeds in the same epoch
    checks.check(configs("min.insync.replicas=2"), "samsa configs sets min.insync.replicas=2")
    err = wait_error(-1, 0)
    checks.check(err == 0, "acks=all succeeds again (got error %s)" % err)
    st = part_state()
    checks.check(st is not None and st[0] == leader and st[1] == epoch,
                 "still no leadership change: leader %s epoch %s" % (st and st[0], st and st[1]))

    # 4. samsa.acks.all.fsync switched on live
    checks.check(configs("samsa.acks.all.fsync=true"), "samsa configs sets samsa.acks.all.fsync=true")
    ok = cluster.wait_for("the leader applies samsa.acks.all.fsync",
                          lambda: "acks_all_fsync=false -> true" in n1.read_log(), 15, fail=False)
    checks.check(bool(ok), "the leader applied samsa.acks.all.fsync=true without a leadership change")
    err = wait_error(-1, 0)
    checks.check(err == 0, "acks=all with fsync acks on succeeds (both ISR members sync): error %s" % err)
    st = part_state()
    checks.check(st is not None and st[1] == epoch, "leader epoch still %d (got %s)" % (epoch, st and st[1]))
except Exception as e:  # noqa: BLE001 - any failure ends the test as failed
    checks.check(False, "unexpected error: %r" % e)
    for n in cluster.nodes:
        print("--- node %d\n%s" % (n.id, n.tail(20)))
finally:
    cluster.cleanup()
checks.exit()
