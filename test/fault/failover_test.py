#!/usr/bin/python3
"""failover_test - acknowledged writes survive kill -9 of a partition leader,
a follower and the active controller (issue 9, "What must be shown").

A 3-node cluster (combined broker+controller, loopback), topic `failover`
with FAILOVER_PARTITIONS (3) partitions, replication factor 3,
min.insync.replicas=2.  Two librdkafka producers (faultlib: p0 at-least-once
with retries, p1 idempotent or ordered) write acks=all continuously.  While
they write, in order, each followed by a restart of the same node on its dir:

  1. kill -9 the leader of partition 0  (the others must elect a new one from
     the ISR and keep acknowledging; the old leader returns as a follower)
  2. kill -9 a follower of partition 0  (acks=all continues with 2 of 3 in
     the ISR; the follower catches up)
  3. kill -9 the active controller      (the quorum elects another; leadership
     and ISR changes continue)

Each kill waits FAILOVER_DOWN_S (6 s; the session timeout is 3 s) before the restart, then the node must
serve again, then FAILOVER_SETTLE_S (4 s) of writing.  Afterwards faultlib
.finish reads back every partition through a consumer and from every
replica's files, and the checker requires: every acknowledged record at its
acknowledged offset in every replica and in the read-back, offsets strictly
increasing, no record never sent, replicas byte-identical below the high
watermark; it prints `N acked, 0 lost, 0 duplicated, 0 reordered`.  The test
also requires acknowledgements on partition 0 while its old leader was down
(a new leader took over).

On a Samsa without partition replication this test FAILS, by design: acks=all
with min.insync.replicas=2 is refused (the ISR is the leader alone), the
followers' logs stay empty, and the checker reports every acknowledged record
lost on the followers.  History in build/fault-logs/failover-history.jsonl.

    /usr/bin/python3 test/fault/failover_test.py      (about 60-90 s)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
import samsacluster  # noqa: E402

TOPIC = "failover"
PARTS = int(os.environ.get("FAILOVER_PARTITIONS", "3"))
DOWN_S = float(os.environ.get("FAILOVER_DOWN_S", "6"))
SETTLE_S = float(os.environ.get("FAILOVER_SETTLE_S", "4"))
RATE = int(os.environ.get("FAILOVER_RATE", "200"))
MIN_ISR = os.environ.get("FAULT_MIN_ISR", "2")   # 1 shows the checker's losses on a Samsa without replication
PROPS = ["min.insync.replicas=%s" % MIN_ISR, "default.replication.factor=3", "offsets.topic.replication.factor=3",
         "replica.lag.time.max.ms=5000", "unclean.leader.election.enable=false",
         # a dead broker is fenced (and its leaderships moved) after 3 s, within the downtime
         "broker.session.timeout.ms=3000", "broker.heartbeat.interval.ms=500"]


def main():
    t_start = time.time()
    cluster = samsacluster.Cluster(["broker,controller"] * 3, extra=PROPS)
    cluster.start()
    fl.say("cluster up: %s (dir %s)" % (cluster.bootstrap(), cluster.dir))
    fl.create_topic(cluster.bootstrap(), TOPIC, PARTS, 3, {"min.insync.replicas": MIN_ISR})
    info = fl.wait_until(lambda: all(v[0] >= 0 for v in fl.partition_info(cluster.bootstrap(), TOPIC).values())
                         and fl.partition_info(cluster.bootstrap(), TOPIC), 20, "leaders for every partition")
    fl.say("partitions (leader, replicas, isr): %s" % info)
    hist = fl.History(fl.history_path("failover"))
    wl = fl.Workload(hist, cluster.bootstrap(), TOPIC, PARTS, RATE)
    time.sleep(SETTLE_S)
    problems = []

    def bounce(node, why):
        hist.add("info", "kill", "nemesis", node=node.id, value=why)
        fl.say("kill -9 node %d (%s)" % (node.id, why))
        t_kill = hist.now()
        node.kill9()
        time.sleep(DOWN_S)
        t_down_end = hist.now()
        node.start()
        node.wait_ready()
        hist.add("info", "restart", "nemesis", node=node.id)
        fl.say("node %d restarted" % node.id)
        time.sleep(SETTLE_S)
        return t_kill, t_down_end

    # 1. the leader of partition 0
    leader = fl.leader_of(cluster.bootstrap(), TOPIC, 0)
    t0, t1 = bounce(cluster.node(leader), "leader of %s-0" % TOPIC)
    during = fl.acks_between(hist.path, TOPIC, 0, t0 + int(DOWN_S * 0.5e9), t1)
    fl.say("acks on %s-0 in the second half of its leader's downtime: %d" % (TOPIC, during))
    if during == 0:
        problems.append("no acks=all write to %s-0 was acknowledged while its leader (node %d) was down: "
                        "no new leader took over" % (TOPIC, leader))

    # 2. a follower of partition 0
    info = fl.partition_info(cluster.bootstrap(), TOPIC)
    lead0, replicas0, _isr0 = info[0]
    follower = [r for r in replicas0 if r != lead0][0]
    bounce(cluster.node(follower), "follower of %s-0 (leader %d)" % (TOPIC, lead0))

    # 3. the active controller
    ctrl = cluster.active_controller()
    bounce(ctrl, "active controller")

    sent = wl.stop()
    fl.say("producers stopped after %d sends" % sent)
    status = fl.finish(cluster, hist, TOPIC, PARTS)
    for p in problems:
        print("FAIL: " + p)
    if status or problems:
        fl.show_logs(cluster)
    fl.say("failover_test: %s in %.0f s" % ("FAIL" if status or problems else "PASS", time.time() - t_start))
    return 1 if status or problems else 0


if __name__ == "__main__":
    sys.exit(main())
