"""controlled_shutdown_test - SIGTERM runs a controlled shutdown (Kafka KRaft's:
BrokerHeartbeat want_shut_down until the controller answers should_shut_down),
on a 3-node cluster of combined nodes and on a single node.

Proves, 3 nodes, topic RF=3 with a librdkafka producer (acks=all) writing:
  - SIGTERM to the leader of a partition (not the active controller): while
    the process still runs, Metadata from another broker already shows the
    victim fenced (absent from the broker list) and leading nothing; it
    exits 0 well within the bound (controlled.shutdown.max.retries x
    controlled.shutdown.retry.backoff.ms), and its log says the controller
    confirmed.  Today the ISR is the leader alone, so its partitions go
    leaderless (LEADER_NOT_AVAILABLE) until it returns; restarted, it leads
    them again and takes writes.  With partition replication (it has landed;
    replication landed) another ISR member leads them before the exit and
    the producer's writes to them keep succeeding while the victim is down.
  - SIGTERM to the active controller: the same, a successor controller, and
    the successor keeps it fenced (it does not heartbeat any more).
  - A second SIGTERM while the controlled shutdown waits (no quorum) stops
    at once; with no second signal the wait ends at the bound, exit 0.
Single node: SIGTERM stops in < 2 s (no other broker to move leadership to).
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, metadata_once  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

REPLICATION = True  # partition replication has landed: its assertions always run
TOPIC = "cs-topic"
PARTS = 3
BOUND_S = 3.0  # controlled.shutdown.max.retries=2 x controlled.shutdown.retry.backoff.ms=1500
PROPS = ["offsets.topic.replication.factor=1", "controlled.shutdown.max.retries=2",
         "controlled.shutdown.retry.backoff.ms=1500"]

cl = Cluster(["broker,controller"] * 3, extra=PROPS)
cl.start()


def check(cond, msg):
    if not cond:
        cl.fail(msg)


def metadata(via):
    return metadata_once(via.client_port, [TOPIC])


def sigterm_and_watch(victim):
    """SIGTERM victim; poll Metadata at another live broker until it exits.
    Returns (seconds to exit, the first Metadata that showed it fenced and
    leading nothing while it still ran, or None)."""
    other = [n for n in cl.nodes if n is not victim and n.alive()][0]
    t0 = time.time()
    victim.proc.send_signal(signal.SIGTERM)
    moved = None
    while True:
        brokers, _, parts = metadata(other)
        running = victim.proc.poll() is None  # after the answer: it ran when the answer was made
        led = [k for k, v in parts.items() if v[1] == victim.id]
        if moved is None and running and victim.id not in brokers and not led:
            moved = (brokers, parts)
        if not running:
            break
        check(time.time() - t0 < BOUND_S + 5, "node %d still running %.1f s after SIGTERM" % (victim.id, BOUND_S + 5))
        time.sleep(0.005)
    rc = victim.proc.wait()
    took = time.time() - t0
    check(rc == 0, "node %d exited rc=%d after SIGTERM (0 expected)" % (victim.id, rc))
    return took, moved


# ---- a topic at RF=3, a producer writing all along ----
admin = AdminClient({"bootstrap.servers": cl.bootstrap()})
admin.create_topics([NewTopic(TOPIC, PARTS, 3)])[TOPIC].result(30)
cl.wait_for("leaders of %s" % TOPIC,
         lambda: all(metadata(cl.nodes[0])[2].get((TOPIC, p), (1, -1))[1] >= 0 for p in range(PARTS)))

acked = {p: 0 for p in range(PARTS)}
failed = {p: 0 for p in range(PARTS)}
stop = threading.Event()


def produce_loop():
    prod = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all", "linger.ms": 5,
                     "message.timeout.ms": 30000, "topic.metadata.refresh.interval.ms": 500})

    def done(err, msg):
        (failed if err else acked)[msg.partition()] += 1

    i = 0
    while not stop.is_set():
        prod.produce(TOPIC, value=b"v%d" % i, partition=i % PARTS, on_delivery=done)
        prod.poll(0.01)
        i += 1
    prod.flush(35)


producer = threading.Thread(target=produce_loop, daemon=True)
producer.start()
cl.wait_for("first acknowledged writes", lambda: all(acked[p] > 0 for p in range(PARTS)))

# ---- 1. SIGTERM the leader of partition 0 (not the active controller) ----
ctrl = cl.active_controller()
_, _, parts = metadata(cl.nodes[0])
victim = [cl.node(v[1]) for (t, p), v in sorted(parts.items()) if v[1] != ctrl.id][0]
led_before = sorted(p for (t, p), v in parts.items() if v[1] == victim.id)
print("SIGTERM node %d (leads partitions %s; active controller is %d)" % (victim.id, led_before, ctrl.id))
took, moved = sigterm_and_watch(victim)
print("node %d exited 0 after %.2f s" % (victim.id, took))
check(moved is not None, "no Metadata from another broker showed node %d fenced and leading nothing before it "
      "exited" % victim.id)
check(took < BOUND_S, "controlled shutdown took %.2f s, bound %.1f s" % (took, BOUND_S))
check("controlled shutdown done" in victim.read_log(), "node %d did not log the controller's confirmation" % victim.id)
brokers, parts = moved
for p in led_before:
    err, leader, replicas, isr = parts[(TOPIC, p)]
    if REPLICATION:
        check(leader in brokers and leader != victim.id,
              "partition %d: leader %d after the controlled shutdown (another live ISR member expected)" % (p, leader))
    else:
        # ISR = the leader alone: nobody else may lead; LEADER_NOT_AVAILABLE (5)
        check(leader == -1 and err == 5, "partition %d: leader %d error %d (-1, 5 expected)" % (p, leader, err))
print("before the exit, Metadata at another broker: brokers %s, partitions %s" % (sorted(brokers), {
    p: parts[(TOPIC, p)][1] for p in led_before}))

if REPLICATION:
    before = {p: acked[p] for p in led_before}
    cl.wait_for("writes to the moved partitions while node %d is down" % victim.id,
             lambda: all(acked[p] > before[p] + 20 for p in led_before))

victim.start()
victim.wait_ready()
if not REPLICATION:
    cl.wait_for("node %d to lead its partitions again" % victim.id,
             lambda: all(metadata(victim)[2][(TOPIC, p)][1] == victim.id for p in led_before))
    before = {p: acked[p] for p in led_before}
    cl.wait_for("writes to partitions %s after the restart" % led_before,
             lambda: all(acked[p] > before[p] + 20 for p in led_before))

# ---- 2. SIGTERM the active controller ----
ctrl = cl.active_controller()
took, moved = sigterm_and_watch(ctrl)
print("active controller %d exited 0 after %.2f s" % (ctrl.id, took))
check(moved is not None, "no Metadata showed the active controller %d fenced before it exited" % ctrl.id)
check(took < BOUND_S, "controller's stop took %.2f s, bound %.1f s" % (took, BOUND_S))
succ = cl.wait_for("a successor controller", lambda: cl.active_controller())
check(succ is not ctrl, "no successor controller")
# the successor must not unfence it: a new controller's fresh leases are no
# sign of life (only a heartbeat is)
t_end = time.time() + 1.5
while time.time() < t_end:
    check(ctrl.id not in metadata(succ)[0], "the stopped controller %d is back in Metadata (unfenced by the "
          "successor %d without a heartbeat)" % (ctrl.id, succ.id))
    time.sleep(0.05)
ctrl.start()
ctrl.wait_ready()

stop.set()
producer.join(40)
print("acknowledged per partition %s, failed %s" % (acked, failed))
if REPLICATION:
    check(sum(failed.values()) == 0, "writes failed across controlled shutdowns: %s" % failed)

# ---- 3. no quorum: a second SIGTERM stops at once; without it, the bound ----
a, b, c = cl.nodes
a.kill9()
b.kill9()
time.sleep(0.3)
c.proc.send_signal(signal.SIGTERM)
time.sleep(0.8)
check(c.alive(), "node %d stopped without the controller's answer (no quorum) and before the bound" % c.id)
t0 = time.time()
c.proc.send_signal(signal.SIGTERM)
rc = c.proc.wait(10)
check(rc == 0 and time.time() - t0 < 1.0, "second SIGTERM: rc=%d after %.2f s (0 at once expected)" %
      (rc, time.time() - t0))
check("second signal received" in c.read_log(), "no log line for the second signal")

c.start()
a.start()
c.wait_ready()
a.wait_ready()
cl.wait_for("node %d registered again" % c.id, lambda: c.id in metadata(a)[0])
a.kill9()
time.sleep(0.3)
t0 = time.time()
c.proc.send_signal(signal.SIGTERM)
rc = c.proc.wait(BOUND_S + 10)
took = time.time() - t0
print("no quorum: node %d exited rc=%d after %.2f s (bound %.1f s)" % (c.id, rc, took, BOUND_S))
check(rc == 0, "rc=%d at the bound (0 expected)" % rc)
check(BOUND_S - 0.3 < took < BOUND_S + 3, "stopped after %.2f s, the bound is %.1f s" % (took, BOUND_S))
check("not confirmed by the controller within" in c.read_log(), "no log line for the bound")

# ---- single node: no other broker, stops at once ----
one = Cluster(["broker,controller"], extra=["offsets.topic.replication.factor=1"])
one.start()
n = one.nodes[0]
one_admin = AdminClient({"bootstrap.servers": n.bootstrap})
one_admin.create_topics([NewTopic("one", 2, 1)])["one"].result(30)
t0 = time.time()
n.proc.send_signal(signal.SIGTERM)
rc = n.proc.wait(10)
took = time.time() - t0
print("single node: exited rc=%d after %.2f s" % (rc, took))
if rc != 0 or took >= 2.0:
    one.fail("single node: rc=%d after %.2f s (0 in < 2 s expected)" % (rc, took))
if "no other live broker" not in n.read_log():
    one.fail("single node: no log line saying why the controlled shutdown was skipped")
print("PASS controlled_shutdown_test%s" % (" (with replication assertions)" if REPLICATION else ""))
