"""groups_failover_test - consumer groups follow their __consumer_offsets
partition when its leadership moves, on a 3-node cluster with the default
offsets.topic.replication.factor (3, honoured: __consumer_offsets is created
with 3 replicas).  Clients (confluent-kafka) bootstrap at every broker.

Proves, today (the ISR is the leader alone, so leadership cannot move to
another broker; a fenced coordinator's partitions go leaderless):
  - kill -9 of the coordinator: once it is fenced (broker.session.timeout.ms)
    no other broker claims the group (FindCoordinator: COORDINATOR_NOT_
    AVAILABLE); restarted, it leads the partition again and loads the groups
    from the log when it regains leadership (not at start: it is fenced
    then), and the running consumer resumes: every record is consumed, its
    commits succeed again, and no acknowledged commit ever went backwards;
  - a new consumer in the group starts exactly at the committed offsets;
  - SIGTERM of the coordinator (controlled shutdown): it drops the group
    when the controller takes its partition away, before it exits.
With partition replication (landed): after the kill -9
another live broker becomes the coordinator, loads the group from its
replica of the partition, and the consumer finishes without the old
coordinator coming back, resuming from its commits.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, metadata_once  # noqa: E402
from samsanode import group_partition  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

REPLICATION = True  # partition replication has landed: its assertions always run
TOPIC = "gf-topic"
GROUP = "gf-group"
PARTS = 4
N = 400
OFFSETS_PARTS = 5
PROPS = ["offsets.topic.num.partitions=%d" % OFFSETS_PARTS, "group.initial.rebalance.delay.ms=0",
         "broker.session.timeout.ms=3000", "broker.heartbeat.interval.ms=500"]

cl = Cluster(["broker,controller"] * 3, extra=PROPS)
cl.start()


def check(cond, msg):
    if not cond:
        cl.fail(msg)


def produce(n, start):
    p = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all"})
    for i in range(start, start + n):
        p.produce(TOPIC, value=b"r%d" % i, partition=i % PARTS)
    check(p.flush(30) == 0, "records not acknowledged")


admin = AdminClient({"bootstrap.servers": cl.bootstrap()})
admin.create_topics([NewTopic(TOPIC, PARTS, 3)])[TOPIC].result(30)
produce(N, 0)

# ---- consumer A reads and commits in a thread, recording every acknowledged commit ----
consumed = set()
commits = []  # (time, {partition: offset}) of acknowledged commits, in order
commit_errors = []
stop = threading.Event()
consumer_a = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP, "client.id": "gf-a",
                       "auto.offset.reset": "earliest", "enable.auto.commit": False,
                       "session.timeout.ms": 30000, "partition.assignment.strategy": "range"})
consumer_a.subscribe([TOPIC])


def consume_loop():
    """Reads about 100 records a second (so the kill lands mid-stream) and
    commits the next offsets explicitly every 10 records, and when idle."""
    pending = 0
    position = {}
    while not stop.is_set():
        m = consumer_a.poll(0.2)
        if m is not None and not m.error():
            consumed.add((m.partition(), m.offset()))
            position[m.partition()] = m.offset() + 1
            pending += 1
            time.sleep(0.01)
        if pending >= 10 or (pending and m is None):
            try:
                done = consumer_a.commit(offsets=[TopicPartition(TOPIC, p, o) for p, o in position.items()],
                                         asynchronous=False)
                commits.append((time.time(), {tp.partition: tp.offset for tp in done if tp.error is None}))
                pending = 0
            except KafkaException as e:
                commit_errors.append((time.time(), str(e)))
                time.sleep(0.2)


reader = threading.Thread(target=consume_loop, daemon=True)
reader.start()
cl.wait_for("half the records consumed and committed", lambda: len(consumed) >= N // 2 and commits)

# the coordinator, asked at every broker; __consumer_offsets has 3 replicas (the key is honoured)
coord = cl.coordinator(GROUP)
_, _, parts = metadata_once(cl.nodes[0].client_port, ["__consumer_offsets"])
gp = group_partition(GROUP, OFFSETS_PARTS)
check(len(parts[("__consumer_offsets", gp)][2]) == 3,
      "__consumer_offsets-%d replicas %r (offsets.topic.replication.factor=3)" % (gp, parts[("__consumer_offsets", gp)][2]))
check(parts[("__consumer_offsets", gp)][1] == coord.id, "FindCoordinator and Metadata disagree")
others = [n for n in cl.nodes if n is not coord]
for n in others:
    err, nid, _, _ = cl.find_coordinator(n, GROUP)
    check(err == 0 and nid == coord.id, "FindCoordinator at node %d: error %d node %d" % (n.id, err, nid))
print("coordinator of %s is node %d (__consumer_offsets-%d); %d records consumed" % (GROUP, coord.id, gp, len(consumed)))


def check_not_backwards(who):
    """OffsetFetch at the coordinator now: no partition below the highest
    commit acknowledged before the kill."""
    acked = {}
    for t, offs in commits:
        if t < t_kill:
            for p, o in offs.items():
                acked[p] = max(acked.get(p, -1), o)
    now = {tp.partition: tp.offset for tp in consumer_a.committed([TopicPartition(TOPIC, p) for p in acked],
                                                                   timeout=15)}
    for p, o in acked.items():
        check(now[p] >= o, "%s: committed offset of partition %d is %d, %d was acknowledged before the kill" % (
            who, p, now[p], o))
    print("%s: committed %s, acknowledged before the kill %s" % (who, now, acked))


# ---- kill -9 the coordinator ----
coord.kill9()
t_kill = time.time()
if REPLICATION:
    def new_coord():
        err, nid, _, _ = cl.find_coordinator(others[0], GROUP, timeout_s=1)
        return nid if err == 0 and nid != coord.id else None
    nid = cl.wait_for("another broker to coordinate %s" % GROUP, new_coord)
    print("node %d coordinates %s %.1f s after the kill" % (nid, GROUP, time.time() - t_kill))
    check_not_backwards("new coordinator %d" % nid)
    cl.wait_for("every record consumed without the old coordinator", lambda: len(consumed) == N, 60)
    check("coordinator of __consumer_offsets-%d leader_epoch=" % gp in cl.node(nid).read_log(),
          "node %d did not log loading __consumer_offsets-%d" % (nid, gp))
else:
    # fenced after broker.session.timeout.ms; then nobody claims the group
    def unavailable():
        answers = [cl.find_coordinator(n, GROUP, timeout_s=0)[:2] for n in others]
        return all(a == (15, -1) for a in answers)
    cl.wait_for("COORDINATOR_NOT_AVAILABLE once node %d is fenced" % coord.id, unavailable, 20)
    print("node %d fenced after the kill: no broker claims %s" % (coord.id, GROUP))
    before = len(coord.read_log())
    coord.start()
    coord.wait_ready()
    cl.wait_for("node %d to coordinate %s again" % (coord.id, GROUP),
             lambda: cl.find_coordinator(others[0], GROUP, timeout_s=0)[:2] == (0, coord.id))
    log = coord.read_log()[before:]
    loaded = "coordinator of __consumer_offsets-%d leader_epoch=" % gp
    check(loaded in log, "restarted node %d did not load __consumer_offsets-%d when it led it again" % (coord.id, gp))
    check(log.index("samsa broker ready") < log.index(loaded),
          "the groups were loaded at start, not when leadership came back")
    check_not_backwards("restarted coordinator %d" % coord.id)
    cl.wait_for("every record consumed after the restart", lambda: len(consumed) == N, 60)

# commits resumed and no acknowledged commit went backwards
if not cl.wait_for("", lambda: commits and commits[-1][0] > t_kill + 0.5, 30, fail=False):
    cl.fail("no commit acknowledged after the failover; consumed %d, last commits %r, errors %r" % (
        len(consumed), commits[-3:], commit_errors[-5:]))
stop.set()
reader.join(30)
highest = {}
for t, offs in commits:
    for p, o in offs.items():
        check(o >= highest.get(p, -1), "partition %d: acknowledged commit %d after %d" % (p, o, highest.get(p, -1)))
        highest[p] = o
print("%d commits acknowledged (%d failed during the failover), highest %s" % (len(commits), len(commit_errors), highest))
check(sorted(consumed) == sorted((i % PARTS, i // PARTS) for i in range(N)), "not every record consumed once")
committed = consumer_a.committed([TopicPartition(TOPIC, p) for p in range(PARTS)], timeout=15)
check(all(tp.offset == N // PARTS for tp in committed), "committed after the failover %r" % committed)
consumer_a.close()

# ---- a new consumer starts at the committed offsets ----
produce(40, N)
b = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP, "client.id": "gf-b",
              "auto.offset.reset": "earliest", "enable.auto.commit": False})
b.subscribe([TOPIC])
got = []
deadline = time.time() + 30
while len(got) < 40 and time.time() < deadline:
    m = b.poll(0.5)
    if m is not None and not m.error():
        got.append((m.partition(), m.offset()))
check(sorted(got) == sorted((i % PARTS, i // PARTS) for i in range(N, N + 40)),
      "new consumer read %r, not the 40 records after the commits" % sorted(got)[:8])
b.commit(asynchronous=False)
print("a new consumer resumed at the committed offsets and read the 40 new records")

# ---- SIGTERM the coordinator: it drops the group before it exits ----
coord = cl.coordinator(GROUP)
coord.proc.send_signal(signal.SIGTERM)
rc = coord.proc.wait(20)
check(rc == 0, "coordinator exited rc=%d after SIGTERM" % rc)
drop = "no longer coordinator of __consumer_offsets-%d: dropped groups=1" % gp
log = coord.read_log()
check(drop in log, "node %d did not drop %s when its partition left it" % (coord.id, GROUP))
check(log.rindex(drop) < log.rindex("stopped"), "the group was dropped only at exit")
b.close()
print("PASS groups_failover_test%s" % (" (with replication assertions)" if REPLICATION else ""))
