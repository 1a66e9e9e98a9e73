#!/usr/bin/env python3
"""elr_test - eligible leader replicas (KIP-966) on a real cluster: 3
controller-only nodes (the quorum outlives every broker death here) and 3
broker-only nodes; topic elr with replication factor 3 and
min.insync.replicas=2, written with acks=all by confluent-kafka.

  A. eligible.leader.replicas.enable=true (the default).
     1. acks=all writes; kill -9 one follower F1: the ISR shrinks to
        [L, F2] (at min ISR: no ELR).  More acks=all writes.
     2. SIGTERM the other follower F2 (controlled shutdown, a clean stop):
        the ISR shrinks to [L] and F2 becomes an eligible leader replica
        (the metadata log says so: ELR [F2]).
     3. kill -9 the leader L: its fence empties the ISR (KIP-966) and L joins
        the ELR; no leader.
     4. restart F2: its clean-shutdown file matches its broker epoch, so it
        registers clean, stays eligible and is elected leader from the ELR
        (unclean.leader.election.enable stays false); L stays in the ELR.
     5. restart F1 (registers unclean: it was in neither list): it catches up
        from F2, the ISR grows back to min ISR, the ELR is cleared, and every
        acknowledged record is read back from F2 - none lost.
     6. restart L (killed: no clean-shutdown file): it registers unclean, so
        the controller logs it leaving ISR and ELR, and it rejoins as a
        follower.
  B. the same steps 1-4 with eligible.leader.replicas.enable=false on every
     node (Kafka 3.x): the fenced last member L stays the ISR, F2 is not
     eligible, and after F2's restart the partition has no leader.

State is read from the active controller's metadata log
(ctrlwire.metadata_log_state: leader, ISR, ELR) and from Metadata.
Prints "elr: N passed, N failed".
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsacluster  # noqa: E402
import samsarepl  # noqa: E402
from ctrlwire import metadata_log_state  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

passed = failed = 0
T = samsarepl.Topic("elr", 1)
PROPS = ["offsets.topic.replication.factor=1", "auto.leader.rebalance.enable=false",
         "broker.heartbeat.interval.ms=500", "broker.session.timeout.ms=3000",
         "replica.fetch.backoff.ms=200", "replica.fetch.wait.max.ms=200", "replica.lag.time.max.ms=3000"]


def check(cond, what):
    global passed, failed
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if cond:
        passed += 1
    else:
        failed += 1
    return cond


def wait_for(pred, timeout_s=30, step=0.2):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def state(cl):
    """The partition's committed state on the active controller."""
    st = metadata_log_state(os.path.join(cl.active_controller().dir, "data"))
    tid = st["topics"].get(T.name)
    return st["partitions"].get((tid, 0)) if tid else None


def scenario(elr_on):
    """Steps 1-4; returns (cluster, L, F1, F2)."""
    extra = PROPS + ([] if elr_on else ["eligible.leader.replicas.enable=false"])
    cl = samsacluster.Cluster(["controller"] * 3 + ["broker"] * 3, extra)
    cl.start()
    tag = "ELR on" if elr_on else "ELR off"
    admin = AdminClient({"bootstrap.servers": cl.bootstrap()})
    admin.create_topics([NewTopic(T.name, num_partitions=1, replication_factor=3,
                                  config={"min.insync.replicas": "2"})])[T.name].result(30)
    st = wait_for(lambda: (s := state(cl)) and s["leader"] >= 0 and len(s["isr"]) == 3 and s)
    check(bool(st), "%s: topic elr with a leader and the ISR of all three replicas" % tag)
    leader = st["leader"]
    f1, f2 = [r for r in st["replicas"] if r != leader]
    samsarepl.produce(T, cl.bootstrap(), 0, 300)

    # 1. a follower dies: the ISR shrinks to min ISR
    cl.node(f1).kill9()
    st = wait_for(lambda: (s := state(cl)) and sorted(s["isr"]) == sorted([leader, f2]) and s)
    check(bool(st) and st["elr"] == [], "%s: kill -9 of follower %d: ISR %s, ELR %s" % (
        tag, f1, st and st["isr"], st and st["elr"]))
    samsarepl.produce(T, cl.bootstrap(), 300, 200)

    # 2. the other follower stops cleanly: below min ISR it becomes eligible
    cl.node(f2).stop()
    check(cl.node(f2).proc.returncode == 0, "%s: SIGTERM of follower %d: controlled shutdown, exit 0" % (tag, f2))
    want_elr = [f2] if elr_on else []
    st = wait_for(lambda: (s := state(cl)) and s["isr"] == [leader] and s)
    check(bool(st) and st["elr"] == want_elr and st["leader"] == leader,
          "%s: ISR [%d], ELR %s (got leader %s ISR %s ELR %s)" % (
              tag, leader, want_elr, st and st["leader"], st and st["isr"], st and st["elr"]))

    # 3. the leader dies
    cl.node(leader).kill9()
    if elr_on:
        want = sorted([leader, f2])
        st = wait_for(lambda: (s := state(cl)) and s["leader"] == -1 and s)
        check(bool(st) and st["isr"] == [] and sorted(st["elr"]) == want,
              "%s: kill -9 of leader %d: no leader, ISR [], ELR %s (got ISR %s ELR %s)" % (
                  tag, leader, want, st and st["isr"], st and st["elr"]))
    else:
        st = wait_for(lambda: (s := state(cl)) and s["leader"] == -1 and s)
        check(bool(st) and st["isr"] == [leader] and st["elr"] == [],
              "%s: kill -9 of leader %d: no leader, the ISR keeps its last member [%d] (got ISR %s ELR %s)" % (
                  tag, leader, leader, st and st["isr"], st and st["elr"]))

    # 4. the cleanly stopped follower returns
    cl.node(f2).start()
    cl.node(f2).wait_ready()
    return cl, leader, f1, f2


def run_on():
    cl, leader, f1, f2 = scenario(True)
    try:
        st = wait_for(lambda: (s := state(cl)) and s["leader"] == f2 and s)
        check(bool(st) and st["isr"] == [f2] and st["elr"] == [leader],
              "ELR on: restarted %d (clean) elected from the ELR: leader %s ISR %s ELR %s" % (
                  f2, st and st["leader"], st and st["isr"], st and st["elr"]))
        log = cl.active_controller().read_log()
        check("electing broker=%d from the eligible leader replicas" % f2 in log,
              "ELR on: the active controller logs the election from the ELR")
        check("unclean leader election" not in log, "ELR on: no unclean election")
        admin = AdminClient({"bootstrap.servers": cl.node(f2).bootstrap})
        md = wait_for(lambda: admin.list_topics(T.name, timeout=5).topics[T.name].partitions[0].leader == f2)
        check(bool(md), "ELR on: Metadata names %d the leader" % f2)

        # 5. the ISR grows back: ELR cleared, every acknowledged record readable
        cl.node(f1).start()
        cl.node(f1).wait_ready()
        st = wait_for(lambda: (s := state(cl)) and len(s["isr"]) >= 2 and s, timeout_s=60)
        check(bool(st) and st["elr"] == [] and st["last_known_elr"] == [],
              "ELR on: %d rejoins, ISR %s at min ISR, ELR cleared (got ELR %s)" % (
                  f1, st and st["isr"], st and st["elr"]))
        try:
            samsarepl.consume_all(T, cl.node(f2).bootstrap, 500)
            check(True, "ELR on: all 500 acknowledged records read back from the new leader %d" % f2)
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            check(False, "ELR on: acknowledged records read back: %s" % e)

        # 6. the killed leader returns: an unclean registration
        cl.node(leader).start()
        cl.node(leader).wait_ready()
        log_ok = wait_for(lambda: "broker=%d registers after an unclean shutdown" % leader
                          in cl.active_controller().read_log())
        check(bool(log_ok), "ELR on: killed leader %d registers as after an unclean shutdown" % leader)
        st = wait_for(lambda: (s := state(cl)) and len(s["isr"]) == 3 and s, timeout_s=60)
        check(bool(st) and st["leader"] == f2 and leader not in st["elr"],
              "ELR on: %d rejoins as a follower (leader %s ISR %s ELR %s)" % (
                  leader, st and st["leader"], st and st["isr"], st and st["elr"]))
        check("no clean-shutdown file" in cl.node(leader).read_log() and
              "clean shutdown in broker_epoch=" in cl.node(f2).read_log(),
              "ELR on: the brokers' logs name the clean and the unclean stop")
    finally:
        cl.cleanup()


def run_off():
    cl, leader, f1, f2 = scenario(False)
    try:
        time.sleep(3)  # time for an election that must not happen
        st = state(cl)
        check(st["leader"] == -1 and st["isr"] == [leader] and st["elr"] == [],
              "ELR off: after %d's restart the partition stays leaderless (leader %s ISR %s)" % (
                  f2, st["leader"], st["isr"]))
        admin = AdminClient({"bootstrap.servers": cl.node(f2).bootstrap})
        p = admin.list_topics(T.name, timeout=10).topics[T.name].partitions
        check(0 not in p or p[0].leader == -1, "ELR off: Metadata shows no leader")
    finally:
        cl.cleanup()


try:
    run_on()
    run_off()
except Exception as e:  # noqa: BLE001 - any failure ends the test as failed
    check(False, "unexpected error: %r" % e)
print("elr: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
