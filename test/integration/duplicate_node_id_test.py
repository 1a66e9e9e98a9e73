"""duplicate_node_id_test - a second live process with a registered node.id
is refused (DUPLICATE_BROKER_REGISTRATION) until the first one's session
ends; a restart of the same node on its own disks is not slowed down.

Cluster: controller 1, brokers 2 and 3 (samsacluster), session 4 s,
heartbeat 500 ms.  Topic RF=2 on brokers 2 and 3.  Then:
  1. "broker 2 again" on its own log dir and listener port (same node.id,
     same cluster): the controller logs "refused a broker registration:
     DUPLICATE_BROKER_REGISTRATION broker=2", the new process logs
     "broker registration refused: DUPLICATE_BROKER_REGISTRATION" and keeps
     retrying (alive, not registered), and Metadata still shows broker 2 at
     the FIRST process's port (its registration was not taken over);
  2. the first broker 2 keeps serving: produce at broker 3's bootstrap,
     fetch everything back (confluent_kafka), and its metadata keeps
     following (a topic created meanwhile shows in its Metadata: the
     controller's answers to "node 2" are not all sent to the second
     process's newer connection);
  3. kill -9 of the first broker 2: the second registers once the old
     session ends (not before about the session timeout, and within it plus
     a few seconds), Metadata shows broker 2 at the second one's port, and
     it serves produce + fetch;
  4. kill -9 of that second process and an immediate restart on its own
     disks: registered at once (well inside the 4 s session), no refusal:
     its incarnation file named the registered incarnation.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsacluster  # noqa: E402
import samsanode  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SESSION_MS = 4000
TOPIC = "dup-node-t"

cl = samsacluster.Cluster(["controller", "broker", "broker"],
                          extra=["broker.heartbeat.interval.ms=500", "broker.session.timeout.ms=%d" % SESSION_MS,
                                 "offsets.topic.replication.factor=2", "default.replication.factor=2"])


def check(cond, msg):
    if not cond:
        for p in (dup,) if "dup" in globals() and dup is not None else ():
            print("---- second broker 2 log tail:\n%s" % p.tail(25))
        cl.fail(msg)


def broker_port(bs, node_id):
    md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=10)
    b = md.brokers.get(node_id)
    return b.port if b else None


def produce(bs, values):
    p = Producer({"bootstrap.servers": bs, "acks": "all", "message.timeout.ms": 60000})
    for v in values:
        p.produce(TOPIC, value=v, partition=0)
    check(p.flush(60) == 0, "produce of %d records at %s" % (len(values), bs))


def fetch_all(bs, want):
    c = Consumer({"bootstrap.servers": bs, "group.id": "dup-%f" % time.time(), "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got, deadline = [], time.time() + 30
    while len(got) < want and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value())
    c.close()
    return got


dup = None
cl.start()
n2, n3 = cl.node(2), cl.node(3)
bs3 = n3.bootstrap
admin = AdminClient({"bootstrap.servers": bs3})
admin.create_topics([NewTopic(TOPIC, 1, -1, replica_assignment=[[2, 3]])])[TOPIC].result(timeout=15)
produce(bs3, [b"one-%d" % i for i in range(10)])
check(fetch_all(bs3, 10) == [b"one-%d" % i for i in range(10)], "fetch before the duplicate")
check(broker_port(bs3, 2) == n2.client_port, "broker 2 not at its port before the duplicate")

# 1. a second broker 2: own dir and port, same node.id and cluster
dup = samsacluster.Node(cl, 92, "broker", samsanode.free_ports(1)[0], 0)  # its own dir n92 ...
dup.id = 2  # ... and node.id 2
dup.write_config()
cid = re.search(r"cluster.id=(\S+)", open(os.path.join(n2.dir, "data", "meta.properties")).read()).group(1)
subprocess.check_output([samsacluster.CLI, "storage", "format", "-t", cid, "-c", dup.conf], text=True)
dup.start()
ctrl_log = cl.node(1)
cl.wait_for("the controller's DUPLICATE_BROKER_REGISTRATION refusal",
            lambda: "refused a broker registration: DUPLICATE_BROKER_REGISTRATION broker=2" in ctrl_log.read_log(),
            timeout_s=30)
cl.wait_for("the second broker 2's refusal log",
            lambda: "broker registration refused: DUPLICATE_BROKER_REGISTRATION node.id=2" in dup.read_log(),
            timeout_s=30)
time.sleep(2)  # let it retry a few times: it must stay refused while broker 2 heartbeats
check(dup.alive(), "the second broker 2 exited instead of retrying:\n%s" % dup.tail())
check("broker registered node=2" not in dup.read_log(), "the second broker 2 registered while the first lives")
check(broker_port(bs3, 2) == n2.client_port, "Metadata moved broker 2 to the second process's port")
line = [ln for ln in dup.read_log().splitlines() if "DUPLICATE_BROKER_REGISTRATION" in ln][0]
print("ok second broker 2 refused: %s" % line[line.find("broker registration refused"):][:230])

# 2. the first broker 2 keeps serving
produce(bs3, [b"two-%d" % i for i in range(10)])
got = fetch_all(n2.bootstrap, 20)
check(got == [b"one-%d" % i for i in range(10)] + [b"two-%d" % i for i in range(10)],
      "fetch at the first broker 2 while the second retries: %r" % got[:25])
check(n2.alive() and dup.alive(), "a broker 2 died")
# its metadata keeps flowing: the controller's answers to "node 2" are not all
# sent to the second process's (newer) connection
admin.create_topics([NewTopic("dup-node-later", 1, 1)])["dup-node-later"].result(timeout=15)
cl.wait_for("the first broker 2 to see a topic created while the second retries",
            lambda: "dup-node-later" in AdminClient({"bootstrap.servers": n2.bootstrap}).list_topics(timeout=5).topics,
            timeout_s=15)
print("ok first broker 2 serves produce + fetch while the second is refused (20 records), and its metadata follows")

# 3. kill -9 the first: the second registers once the session ends
n2.kill9()
killed = time.time()
cl.wait_for("the second broker 2 to register", lambda: "broker registered node=2" in dup.read_log(),
            timeout_s=SESSION_MS / 1000 + 20)
took = time.time() - killed
check(took >= SESSION_MS / 1000 * 0.5, "registered %.1f s after the kill: before the old session could end" % took)
check(broker_port(bs3, 2) == dup.client_port, "Metadata does not show broker 2 at the second process's port")
check("accepted after" in dup.read_log(), "no 'accepted after N refusals' line")
produce(bs3, [b"three-%d" % i for i in range(10)])
want = [b"one-%d" % i for i in range(10)] + [b"two-%d" % i for i in range(10)] + [b"three-%d" % i for i in range(10)]
got = cl.wait_for("the second broker 2 to serve all 30 records",
                  lambda: fetch_all(dup.bootstrap, 30) == want, timeout_s=60, fail=False)
check(got, "fetch at the second broker 2 after it registered: %r" % fetch_all(dup.bootstrap, 30)[:35])
print("ok after kill -9 of the first, the second registered %.1f s later (session %d ms) and serves 30 records"
      % (took, SESSION_MS))

# 4. kill -9 and an immediate restart on the same disks: no refusal, no wait
dup.kill9()
before = dup.read_log().count("DUPLICATE_BROKER_REGISTRATION")
restarted = time.time()
dup.start()
cl.wait_for("the restarted broker 2 to register",
            lambda: dup.read_log().count("broker registered node=2") >= 2, timeout_s=30)
took = time.time() - restarted
check(took < SESSION_MS / 1000 * 0.75, "restart on the same disks took %.1f s to register (session %d ms)"
      % (took, SESSION_MS))
check(dup.read_log().count("DUPLICATE_BROKER_REGISTRATION") == before, "the same-disk restart was refused")
print("ok kill -9 + restart on the same disks registered after %.2f s, no refusal" % took)
cl.cleanup()
print("duplicate_node_id_test: OK")
