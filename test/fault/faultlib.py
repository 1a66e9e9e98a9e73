"""faultlib - what the fault tests share: the producers that write the
history, cluster queries (leaders, the active controller), and the end of a
run (high watermarks, a consumer read-back, replica convergence, a clean stop,
each replica's log read from disk, the checker).

A run:  hist = History(path); wl = Workload(hist, bootstrap, topic, parts)
        ... nemesis, recording hist.add("info", "kill", "nemesis", node=...)
        wl.stop(); status = finish(cluster, hist, topic, parts)

Producers (librdkafka through confluent_kafka, acks=all, uncompressed):
  p0  enable.idempotence=false, retries, 5 requests in flight: at-least-once,
      may reorder and duplicate across retries (duplicates are allowed)
  p1  enable.idempotence=true when the cluster serves InitProducerId (API 22):
      exactly-once and ordered per partition; otherwise (Samsa without it) retries
      with max.in.flight=1: at-least-once, and NOT ordered - librdkafka documents
      that retries may reorder unless idempotence is on, and the failover test
      saw it: a produce timed out while its first copy was in the log, a later
      record was appended, then the retry (the duplicate) was acknowledged after it
Each send is one record with a unique value "<process>-<n>-<padding>", sent to
an explicit partition (round robin), recorded as invoke, then ok with the
offset or info with the error (a delivery error after retries is an unknown
outcome: the record may be in the log).  Sends still pending at the end stay
invoke-only (also unknown).
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import checker  # noqa: E402
import replica_log  # noqa: E402
from history import History  # noqa: E402,F401  (re-exported for the tests)
from kwire_py import frame, recv_frame  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
LOG_DIR = os.path.join(TOP, "build", "fault-logs")


def say(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg))
    sys.stdout.flush()


_rdk_logger = None


def rdkafka_logger():
    """librdkafka's log lines (connection failures during kills are expected) go to
    build/fault-logs/rdkafka.log, not to the test's output."""
    global _rdk_logger
    if _rdk_logger is None:
        import logging
        os.makedirs(LOG_DIR, exist_ok=True)
        _rdk_logger = logging.getLogger("rdkafka")
        _rdk_logger.propagate = False
        h = logging.FileHandler(os.path.join(LOG_DIR, "rdkafka.log"), mode="w")
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        _rdk_logger.addHandler(h)
        _rdk_logger.setLevel(logging.DEBUG)
    return _rdk_logger


def wait_until(pred, timeout_s, what, poll_s=0.1):
    """pred() until truthy (returned) or the deadline (None, with a line saying what did not happen)."""
    deadline = time.time() + timeout_s
    while True:
        try:
            v = pred()
        except Exception as e:  # noqa: BLE001 - a failing probe is "not yet"
            v = None
            last = e
        else:
            last = None
        if v:
            return v
        if time.time() > deadline:
            say("not within %.0f s: %s%s" % (timeout_s, what, " (%s)" % last if last else ""))
            return None
        time.sleep(poll_s)


def api_keys(host, port):
    """The API keys a broker advertises (ApiVersions v0)."""
    s = socket.create_connection((host, port), timeout=5)
    try:
        s.sendall(frame(18, 0, 1, b"", "fault"))
        r = recv_frame(s)
    finally:
        s.close()
    _corr, err, n = struct.unpack_from(">ihi", r, 0)
    return {struct.unpack_from(">h", r, 10 + 6 * i)[0] for i in range(n)} if err == 0 else set()


def create_topic(bootstrap, topic, partitions, rf, config):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, rf, config=config)])[topic].result(timeout=20)


def partition_info(bootstrap, topic, timeout_s=5):
    """{partition: (leader, replicas, isr)} as Metadata from bootstrap says."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 3000})
    md = admin.list_topics(topic, timeout=timeout_s)
    t = md.topics[topic]
    if t.error is not None:
        raise KafkaException(t.error)
    return {p: (pm.leader, list(pm.replicas), list(pm.isrs)) for p, pm in t.partitions.items()}


def leader_of(bootstrap, topic, partition):
    return partition_info(bootstrap, topic)[partition][0]


class ProducerThread(threading.Thread):
    def __init__(self, hist, name, bootstrap, topic, partitions, conf, attrs, rate, value_bytes=100):
        super().__init__(daemon=True, name=name)
        self.hist, self.pname, self.topic, self.partitions = hist, name, topic, partitions
        self.rate, self.pad = rate, "x" * value_bytes
        base = {"bootstrap.servers": bootstrap, "acks": "all", "compression.type": "none",
                "linger.ms": 5, "message.timeout.ms": 20000, "request.timeout.ms": 5000,
                "retry.backoff.ms": 100, "topic.metadata.refresh.interval.ms": 1000,
                "reconnect.backoff.max.ms": 1000, "socket.timeout.ms": 5000}
        base.update(conf)
        self.p = Producer(base, logger=rdkafka_logger())
        self.stop_ev = threading.Event()
        self.sent = 0
        hist.add("info", "start", name, value=attrs, conf={k: str(v) for k, v in conf.items()})

    def _cb(self, err, msg):
        v = msg.value().decode("latin-1")
        k = msg.key().decode("latin-1")
        if err is None:
            # offset None (or < 0): an implied ack (librdkafka's idempotent
            # producer, after a request timeout, when a later batch is acked)
            off = msg.offset()
            self.hist.add("ok", "send", self.pname, topic=self.topic, partition=msg.partition(), key=k,
                          value=v, offset=off if off is not None and off >= 0 else None)
        else:
            self.hist.add("info", "send", self.pname, topic=self.topic, partition=msg.partition(), key=k,
                          value=v, error=str(err))

    def run(self):
        gap = 1.0 / self.rate
        nxt = time.time()
        while not self.stop_ev.is_set():
            part = self.sent % self.partitions
            key = "%s-%d" % (self.pname, self.sent)
            value = "%s-%s" % (key, self.pad)
            self.hist.add("invoke", "send", self.pname, topic=self.topic, partition=part, key=key, value=value)
            while True:
                try:
                    self.p.produce(self.topic, value.encode("latin-1"), key.encode("latin-1"), partition=part,
                                   on_delivery=self._cb)
                    break
                except BufferError:
                    self.p.poll(0.1)
            self.sent += 1
            self.p.poll(0)
            nxt += gap
            delay = nxt - time.time()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.time()
        self.p.flush(30)


class Workload:
    """The two producers of the module doc, writing until stop()."""

    def __init__(self, hist, bootstrap, topic, partitions, rate_per_producer=200, idempotent=None):
        host, port = bootstrap.split(",")[0].rsplit(":", 1)
        if idempotent is None:
            idempotent = 22 in api_keys(host, int(port))
        self.threads = [
            ProducerThread(hist, "p0", bootstrap, topic, partitions,
                           {"enable.idempotence": False, "retries": 1000000,
                            "max.in.flight.requests.per.connection": 5},
                           {"idempotent": False, "ordered": False}, rate_per_producer),
            ProducerThread(hist, "p1", bootstrap, topic, partitions,
                           {"enable.idempotence": True} if idempotent else
                           {"enable.idempotence": False, "retries": 1000000,
                            "max.in.flight.requests.per.connection": 1},
                           {"idempotent": idempotent, "ordered": idempotent}, rate_per_producer),
        ]
        say("producers: p0 at-least-once (5 in flight), p1 %s, %d msgs/s each"
            % ("idempotent" if idempotent else "at-least-once, 1 in flight (InitProducerId not served)",
               rate_per_producer))
        for t in self.threads:
            t.start()

    def stop(self):
        for t in self.threads:
            t.stop_ev.set()
        for t in self.threads:
            t.join(60)
        return sum(t.sent for t in self.threads)


def acks_between(hist_path, topic, partition, t0_ns, t1_ns):
    """How many sends to (topic, partition) were acknowledged between two history times."""
    import history
    return sum(1 for o in history.load(hist_path)
               if o["f"] == "send" and o["type"] == "ok" and o.get("topic") == topic
               and o.get("partition") == partition and t0_ns <= o["time"] <= t1_ns)


def finish(cluster, hist, topic, partitions, converge_s=20):
    """End of a run: HW per partition, a consumer read-back, wait for the replicas to
    reach the HW, stop every node cleanly, read each replica's log from disk, check.
    Returns the checker's exit status."""
    for n in cluster.nodes:
        if not n.alive():
            n.start()
            n.wait_ready()
    boot = cluster.bootstrap()
    c = Consumer({"bootstrap.servers": boot, "group.id": "fault-reader", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": True, "fetch.wait.max.ms": 100},
                 logger=rdkafka_logger())
    hws = {}
    for p in range(partitions):
        hw = wait_until(lambda: c.get_watermark_offsets(TopicPartition(topic, p), timeout=3)[1] + 1,
                        30, "the high watermark of %s-%d" % (topic, p))
        hws[p] = hw - 1 if hw else None
        if hws[p] is not None:
            hist.add("ok", "hw", "reader", topic=topic, partition=p, value=hws[p])
    say("high watermarks: %s" % hws)

    # what a client reads through the cluster (from each partition's leader)
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = {p: [] for p in range(partitions)}
    todo = {p for p in range(partitions) if hws.get(p)}
    deadline = time.time() + 60
    while todo and time.time() < deadline:
        for m in c.consume(1000, 1.0):
            if m.error():
                if m.error().code() == -191:        # _PARTITION_EOF
                    if m.offset() >= (hws.get(m.partition()) or 0):
                        todo.discard(m.partition())
                continue
            got[m.partition()].append([m.offset(), (m.key() or b"").decode("latin-1"),
                                       (m.value() or b"").decode("latin-1")])
            if m.offset() + 1 >= (hws.get(m.partition()) or 0):
                todo.discard(m.partition())
    c.close()
    if todo:
        say("the read-back did not reach the high watermark of partitions %s within 60 s" % sorted(todo))
    for p in range(partitions):
        hist.add("ok", "poll", "reader", topic=topic, partition=p, records=got[p])

    def converged():
        for n in cluster.nodes:
            for p in range(partitions):
                d = os.path.join(n.dir, "data", "%s-%d" % (topic, p))
                if hws.get(p) and replica_log.read_partition_dir(d)["end"] < hws[p]:
                    return False
        return True
    if not wait_until(converged, converge_s, "every replica reaching the high watermark", poll_s=0.5):
        for n in cluster.nodes:
            ends = [replica_log.read_partition_dir(os.path.join(n.dir, "data", "%s-%d" % (topic, p)))["end"]
                    for p in range(partitions)]
            say("  node %d log ends %s" % (n.id, ends))
    for n in cluster.nodes:
        n.stop()
    name = os.path.basename(hist.path).replace("-history.jsonl", "")
    for n in cluster.nodes:                      # the servers' logs beside the history, for a post-mortem
        shutil.copyfile(n.log, os.path.join(os.path.dirname(hist.path), "%s-node%d.log" % (name, n.id)))
    for n in cluster.nodes:
        for p in range(partitions):
            d = os.path.join(n.dir, "data", "%s-%d" % (topic, p))
            r = replica_log.read_partition_dir(d)
            hist.add("ok", "replica-read", "reader-n%d" % n.id, node=n.id, topic=topic, partition=p,
                     hw=replica_log.replication_hw(os.path.join(n.dir, "data"), topic, p),
                     records=r["records"], batches=r["batches"], epochs=r["epochs"])
    hist.close()
    import history
    status = checker.run(history.load(hist.path))
    say("history: %s (re-check: /usr/bin/python3 test/fault/checker.py %s)" % (hist.path, hist.path))
    return status


def history_path(name):
    os.makedirs(LOG_DIR, exist_ok=True)
    return os.path.join(LOG_DIR, "%s-history.jsonl" % name)


def show_logs(cluster, lines=15):
    for n in cluster.nodes:
        print("---- node %d log tail (%s):\n%s" % (n.id, n.log, n.tail(lines)))
    sys.stdout.flush()


def run_cmd(args, check=True):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stdout.strip()))
    return r.stdout
