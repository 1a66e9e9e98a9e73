#!/usr/bin/env python3
"""replication_restart_test - a partition leader killed with -9 and restarted
at once, well inside broker.session.timeout.ms (the controller has not
fenced it yet), on 3 broker+controller nodes; topic RF=3,
min.insync.replicas=2; a confluent-kafka acks=all producer runs throughout,
bootstrapped at another broker.

Proves (issue #9, "nothing acknowledged is lost"):
  a. the restarted broker never answers Produce as the leader of its old
     partition: from the moment its client port opens, raw Produce v3
     (acks=-1) probes get NOT_LEADER_OR_FOLLOWER - its replayed image still
     names it leader, but it takes partition roles only once its image shows
     its new registration, and the controller moved the old incarnation's
     leadership in the same batch (a new leader epoch on another broker; its
     log says it follows, never that it leads);
  b. every record the producer saw acknowledged is read back afterwards.

Run twice: eligible.leader.replicas.enable=false (Kafka 3.x rules; before
this fix the restarted broker led again in its old epoch and took the
probes: the test failed there) and true (the default).
Prints "replication_restart: N passed, N failed".
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsacluster  # noqa: E402
from kwire_py import Checks, parse_produce_v3, produce_v3, record_batch, recv_frame  # noqa: E402
from samsarepl import PROPS, Topic, leaders  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NOT_LEADER_OR_FOLLOWER = 6
T = Topic("restart-topic", 1)


class AckedProducer:
    """acks=all, idempotence off (so retries are Kafka's plain ones), every
    acknowledged value kept."""

    def __init__(self, bootstrap):
        self.prod = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                              "message.timeout.ms": 90000, "enable.idempotence": False,
                              "retry.backoff.ms": 50})
        self.acked, self.failed, self.sent = set(), [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def dr(self, err, msg):
        if err is None:
            self.acked.add(msg.value())
        else:
            self.failed.append(str(err))

    def run(self):
        while not self.stop.is_set():
            for _ in range(20):
                self.prod.produce(T.name, value=b"rec-%08d" % self.sent, partition=0, on_delivery=self.dr)
                self.sent += 1
            self.prod.poll(0.01)
        self.prod.flush(120)


def probe_produce(port, stop_at, results):
    """Raw Produce v3 acks=-1 to partition 0 on a fresh connection each time,
    from the moment the port opens until stop_at; results gets the error
    codes (None: no answer)."""
    corr = 0
    while time.time() < stop_at:
        corr += 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.002)
            continue
        try:
            s.settimeout(5)
            s.sendall(produce_v3(T.name, 0, record_batch([b"probe-%d" % corr]), corr, acks=-1))
            _, parts = parse_produce_v3(recv_frame(s))
            results.append(parts[0][2])
        except (OSError, ValueError, ConnectionError):
            results.append(None)
        finally:
            s.close()
        time.sleep(0.02)


def isr_of(node):
    """The partition's ISR as node's Metadata shows it ([] before it knows the topic)."""
    parts = samsacluster.metadata_once(node.client_port, [T.name])[2]
    return parts.get((T.name, 0), (0, -1, [], []))[3]


def leader_epoch_lines(node, since):
    return [ln for ln in node.read_log()[since:].splitlines()
            if "topic=%s " % T.name in ln and ("leading topic" in ln or "following topic" in ln)]


def run(ck, elr):
    cluster = samsacluster.Cluster(["broker,controller"] * 3,
                                   extra=PROPS + ["eligible.leader.replicas.enable=%s" % elr,
                                                  "broker.session.timeout.ms=9000"])
    cluster.start()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    admin.create_topics([NewTopic(T.name, num_partitions=1, replication_factor=3,
                                  config={"min.insync.replicas": "2"})])[T.name].result(30)
    deadline = time.time() + 30
    while True:
        lead, _ = leaders(T, admin)
        if lead[0] >= 0:
            break
        ck.check(time.time() < deadline, "elr=%s: a leader for %s" % (elr, T.name))
        time.sleep(0.2)
    old = cluster.node(lead[0])
    other = [n for n in cluster.brokers() if n.id != old.id][0]
    # the ISR holds all three before the kill
    cluster.wait_for("ISR of 3", lambda: len(isr_of(other)) == 3, timeout_s=30)
    p = AckedProducer(other.bootstrap)
    p.thread.start()
    time.sleep(2)
    ck.check(len(p.acked) > 0, "elr=%s: acks=all writes acknowledged before the kill (%d)" % (elr, len(p.acked)))

    old.kill9()
    log_mark = len(old.read_log())
    killed_at = time.time()
    old.start()
    probes = []
    prober = threading.Thread(target=probe_produce, args=(old.client_port, time.time() + 6, probes), daemon=True)
    prober.start()
    old.wait_ready()
    ready_s = time.time() - killed_at
    prober.join()
    ck.check(ready_s < 9.0, "elr=%s: restarted and listening %.1f s after the kill, inside "
             "broker.session.timeout.ms=9000" % (elr, ready_s))
    answered = [e for e in probes if e is not None]
    ck.check(len(answered) >= 5, "elr=%s: the restarted broker answered %d Produce probes" % (elr, len(answered)))
    ck.check(all(e == NOT_LEADER_OR_FOLLOWER for e in answered),
             "elr=%s: every Produce probe to the restarted old leader got NOT_LEADER_OR_FOLLOWER, got %s" %
             (elr, sorted(set(answered))))
    roles = leader_epoch_lines(old, log_mark)
    ck.check(roles and all("following topic" in ln for ln in roles),
             "elr=%s: the restarted broker only follows the partition: %s" % (elr, roles[:3]))
    ck.check("caught up to this broker's registration" in old.read_log()[log_mark:],
             "elr=%s: the restarted broker logs when it takes its roles" % elr)
    _, _, parts = samsacluster.metadata_once(other.client_port, [T.name])
    ck.check(parts[(T.name, 0)][1] not in (-1, old.id),
             "elr=%s: another broker leads after the restart: %s" % (elr, parts[(T.name, 0)]))

    # keep producing across the ISR growing back, then read everything
    cluster.wait_for("ISR of 3 again", lambda: len(isr_of(other)) == 3, timeout_s=60, fail=False)
    time.sleep(2)
    p.stop.set()
    p.thread.join(150)
    ck.check(not p.failed, "elr=%s: no acks=all write failed: %s" % (elr, p.failed[:3]))
    c = Consumer({"bootstrap.servers": other.bootstrap, "group.id": "restart-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    lo, hi = c.get_watermark_offsets(TopicPartition(T.name, 0), timeout=10)
    c.assign([TopicPartition(T.name, 0, lo)])
    seen = set()
    deadline = time.time() + 60
    pos = lo
    while pos < hi and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        seen.add(m.value())
        pos = m.offset() + 1
    c.close()
    lost = p.acked - seen
    probes_in_log = [v for v in seen if v.startswith(b"probe-")]
    ck.check(len(p.acked) > 100 and not lost,
             "elr=%s: all %d acknowledged records read back (%d lost, e.g. %s)" %
             (elr, len(p.acked), len(lost), sorted(lost)[:3]))
    ck.check(not probes_in_log, "elr=%s: no probe reached the log: %s" % (elr, probes_in_log[:3]))
    print("elr=%s: restart after %.1f s, %d probes answered, %d acknowledged records, end offset %d" %
          (elr, ready_s, len(answered), len(p.acked), hi))
    for n in cluster.nodes:
        n.stop()
    cluster.cleanup()


def main():
    ck = Checks("replication_restart")
    modes = sys.argv[1:] or ["false", "true"]
    for elr in modes:
        run(ck, elr)
    ck.exit()


if __name__ == "__main__":
    main()
