"""metadata_slow_sync_test - a slow metadata fsync no longer stalls client requests.

The metadata log's fdatasync runs on the controller's own io_uring, off the
loop thread (controller/README.md "Writing off the loop thread").  The fault
hook SAMSA_FAULT_MLOG_SYNC_DELAY_MS makes every metadata sync start that much
later in the kernel (a linked io_uring timeout): a slow disk.

Proves, on 3 nodes with a 1.5 s metadata sync (election timeout 5 s):
  - a CreateTopics really waits for the slow syncs (>= the delay), so syncs
    are pending while we measure;
  - meanwhile Metadata requests to every broker and Produce requests to an
    existing partition's leader are each answered in well under the delay;
  - control: with samsa.io.uring=false (the plain-syscall fallback, where
    the sync runs on the loop thread) the same measurement sees requests held
    for about the delay, so this test would catch a blocking sync.
"""
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402
import kwire_py  # noqa: E402

from confluent_kafka import KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

DELAY_MS = 1500


def rtt(sock, req):
    t0 = time.monotonic()
    sock.sendall(req)
    kwire_py.recv_frame(sock)
    return time.monotonic() - t0


def create_topic(admin, topic):
    """CreateTopics, retried on NOT_CONTROLLER: the active controller refuses
    proposals briefly while a broker's fence/unfence commits (slow here)."""
    deadline = time.time() + 90
    while True:
        try:
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=90)
            return
        except KafkaException as e:
            if e.args[0].code() != KafkaError.NOT_CONTROLLER or time.time() > deadline:
                raise
            time.sleep(0.1)


def measure(cl, name):
    """Create topic `name` while timing Metadata and Produce round trips.
    Returns (creation seconds, samples, worst round trip seconds)."""
    admin = AdminClient({"bootstrap.servers": cl.nodes[1].bootstrap})
    create_topic(admin, "steady-" + name)
    leader = None
    deadline = time.time() + 30
    while leader is None and time.time() < deadline:
        md = admin.list_topics(timeout=10)
        t = md.topics.get("steady-" + name)
        if t is not None and not t.error and 0 in t.partitions and t.partitions[0].leader >= 0:
            leader = t.partitions[0].leader
    check(leader is not None, "no leader for steady-%s" % name, cl)
    lnode = cl.node(leader)
    socks = []
    for n in cl.nodes:
        s = kwire_py.socket.create_connection(("127.0.0.1", n.client_port), timeout=30)
        s.settimeout(30)
        socks.append(s)
    psock = kwire_py.socket.create_connection(("127.0.0.1", lnode.client_port), timeout=30)
    psock.settimeout(30)
    meta = kwire_py.frame(3, 0, 1, struct.pack(">i", 0))
    batch = kwire_py.record_batch([b"while the metadata sync is pending"])
    prod = kwire_py.produce_v3("steady-" + name, 0, batch, 2, acks=1)
    for s in socks:  # warm: connections and the partition are open
        rtt(s, meta)
    rtt(psock, prod)

    done = {}

    def create():
        t0 = time.monotonic()
        create_topic(admin, "slow-" + name)
        done["s"] = time.monotonic() - t0

    th = threading.Thread(target=create)
    th.start()
    worst, samples = 0.0, 0
    while th.is_alive():
        for s in socks:
            worst = max(worst, rtt(s, meta))
            samples += 1
        worst = max(worst, rtt(psock, prod))
        samples += 1
        time.sleep(0.02)
    th.join()
    for s in socks + [psock]:
        s.close()
    check("s" in done, "CreateTopics slow-%s failed" % name, cl)
    return done["s"], samples, worst


os.environ["SAMSA_FAULT_MLOG_SYNC_DELAY_MS"] = str(DELAY_MS)

# A follower acknowledges entries only once synced, so its next fetch waits for
# the sync: a sync slower than the election timeout would look like a dead
# follower to check-quorum (Kafka's followers flush before fetching too).
BASE = ["offsets.topic.replication.factor=1", "controller.quorum.election.timeout.ms=5000"]

cl = Cluster(["broker,controller"] * 3, extra=BASE)
cl.start()
for n in cl.nodes:
    check("every metadata log sync starts %d ms late" % DELAY_MS in n.read_log(), "fault hook not active", cl)
create_s, samples, worst = measure(cl, "uring")
check(create_s >= DELAY_MS / 1000.0, "CreateTopics took %.2f s: the syncs were not slow" % create_s, cl)
check(samples >= 20, "only %d samples while the creation was pending" % samples, cl)
check(worst < 0.5, "a request waited %.2f s while a metadata sync was pending" % worst, cl)
check(all(n.alive() for n in cl.nodes), "a node died", cl)
print("ok io_uring: CreateTopics %.2f s (metadata syncs %d ms), %d Metadata/Produce round trips meanwhile, worst %.3f s"
      % (create_s, DELAY_MS, samples, worst))
cl.cleanup()

# control: the fallback runs the sync on the loop thread, and requests wait
cl = Cluster(["broker,controller"] * 3, extra=BASE + ["samsa.io.uring=false"])
cl.start()
create_s, samples, worst = measure(cl, "fallback")
check(worst >= 0.7 * DELAY_MS / 1000.0, "fallback: worst round trip %.2f s: the measurement cannot see a stall" % worst,
      cl)
print("ok control (samsa.io.uring=false, sync on the loop thread): worst round trip %.2f s" % worst)
cl.cleanup()
