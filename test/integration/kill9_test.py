"""kill9_test - acknowledged records survive kill -9 of the node.

A confluent-kafka producer (acks=all, retries on, idempotence off: the
at-least-once check; idempotence_test shows exactly once) writes numbered
records and keeps every ACKNOWLEDGED (offset, value).  The node is killed with SIGKILL at random
moments (KILLS times, SEED selects them), restarted on the same dir each
time, and at the end:
  - every acknowledged record is present exactly at its acknowledged offset
    with its exact value (unacknowledged ones may be present or not, and a
    retried record may appear twice: that is at-least-once without
    idempotence);
  - offsets are dense (0..end-1 each readable once, none missing);
  - each restart's server log shows recovery: the metadata log replayed the
    topic and the partition log reopened with end_offset >= the acked high
    mark at the time of the kill;
  - the node restarts cleanly: a final SIGTERM exits 0 and a restart after
    that serves the same data.

KILL9_APPENDS=direct (kill9_direct_test.sh) runs the same with direct
appends (samsa.log.direct.io=true) through the smallest tail buffer (64 KiB)
and 256 KiB segments, with every 50th record 20-120 KB so that appends
stream through the ring and segments roll often, and a consumer following
the tail (reads served from the ring) checks each record it sees against
the value the producer sent for that position, and after the last kill
follows the tail to the log end (how soon it gets going under load is
timing; that it reaches the end across the restarts is not).
"""
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node, check, produce_until  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

KILLS = int(os.environ.get("KILLS", "5"))
SEED = int(os.environ.get("SEED", str(int(time.time()))))
DIRECT = os.environ.get("KILL9_APPENDS", "buffered") == "direct"
TOPIC = "kill9"
rng = random.Random(SEED)
print("seed=%d kills=%d appends=%s" % (SEED, KILLS, "direct" if DIRECT else "buffered"))
PROPS = ["samsa.log.direct.io=true", "samsa.log.tail.buffer.bytes=65536", "log.segment.bytes=262144"] if DIRECT \
    else []


def value_of(i):
    """Record i's value: mostly small, every 50th 20-120 KB (direct: streams through the ring)."""
    big = DIRECT and i % 50 == 25
    return b"rec-%08d-%s" % (i, b"v" * ((20000 + (i * 7919) % 100000) if big else i % 200))


with Node(extra_props=PROPS) as node:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(timeout=10)
    del admin

    lock = threading.Lock()
    acked = {}          # offset -> value
    errors = []
    stop = threading.Event()

    def on_delivery(err, msg):
        with lock:
            if err is not None:
                errors.append(str(err))
            else:
                check(msg.offset() not in acked, "offset %d acknowledged twice" % msg.offset(), node)
                acked[msg.offset()] = msg.value()

    def producer_loop():
        p = Producer({"bootstrap.servers": node.bootstrap, "acks": "all", "linger.ms": 1,
                      "enable.idempotence": False, "message.timeout.ms": 120000,
                      "retry.backoff.ms": 50, "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
                      "queue.buffering.max.messages": 20000, "log_level": 0})
        produce_until(p, TOPIC, stop, value_of, on_delivery, errors, lock)

    t0 = time.monotonic()
    th = threading.Thread(target=producer_loop, daemon=True)
    th.start()

    tail_seen = [0]
    tail_next = [0]     # the offset after the last record the tail consumer read
    tail_errors = []    # what the tail consumer saw instead of records (reported if it falls behind)
    tail_stop = threading.Event()

    def tail_loop():
        """Follow the tail across restarts: every record read must be a value the producer sent."""
        c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "tail", "enable.auto.commit": False,
                      "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200, "log_level": 0})
        c.assign([TopicPartition(TOPIC, 0, 0)])
        while not tail_stop.is_set():
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                tail_errors.append("%.1fs %s" % (time.monotonic() - t0, m.error()))
                continue
            v = m.value()
            i = int(v[4:12])
            if v != value_of(i):
                with lock:
                    errors.append("tail read offset %d: not a value the producer sent" % m.offset())
            tail_seen[0] += 1
            tail_next[0] = m.offset() + 1
        c.close()

    tail = threading.Thread(target=tail_loop, daemon=True)
    if DIRECT:
        tail.start()

    def acked_count():
        with lock:
            return len(acked)

    def wait_acked(n, what):
        deadline = time.monotonic() + 60
        while acked_count() < n and time.monotonic() < deadline:
            time.sleep(0.02)  # poll the counter the producer thread advances
        check(acked_count() >= n, "%s: only %d acked, want %d" % (what, acked_count(), n), node)

    wait_acked(200, "before the first kill")
    for k in range(KILLS):
        # random moment: wait for a random number of further acks (or time)
        target = acked_count() + rng.randrange(50, 2000)
        deadline = time.monotonic() + rng.uniform(0.05, 1.5)
        while acked_count() < target and time.monotonic() < deadline:
            time.sleep(0.005)
        with lock:
            high = max(acked) + 1 if acked else 0
        node.kill()
        log_len = len(node.log_text())
        node.start()
        after = node.log_text()[log_len:]
        m = re.search(r"opened partition log dir=\S*/%s-0 segments=\d+ start_offset=\d+ end_offset=(\d+) appends=(\w+)"
                      % TOPIC, after)
        check(m is not None, "restart %d: partition log not reopened" % (k + 1), node)
        check(m.group(2) == ("direct" if DIRECT else "buffered"), "restart %d: appends=%s" % (k + 1, m.group(2)), node)
        check(int(m.group(1)) >= high, "restart %d: recovered end_offset %s < acknowledged high mark %d"
              % (k + 1, m.group(1), high), node)
        m2 = re.search(r"metadata log open path=\S+ entries=(\d+)", after)
        check(m2 is not None and int(m2.group(1)) > 0, "restart %d: metadata log not reopened with its entries"
              % (k + 1), node)
        check(re.search(r"(replayed_entries=[1-9]\d* topics=[1-9]|caught up .*topics=[1-9])", after) is not None,
              "restart %d: the topic was not replayed from the metadata log" % (k + 1), node)
        print("kill %d at %.1fs: acked high mark %d, recovered end_offset %s, tail consumer has read %d"
              % (k + 1, time.monotonic() - t0, high, m.group(1), tail_seen[0]))
        wait_acked(acked_count() + 100, "after restart %d" % (k + 1))

    seen_during_kills = tail_seen[0]
    stop.set()
    th.join(150)
    check(not th.is_alive(), "producer did not finish", node)
    if DIRECT:
        # The tail consumer catches up with the log end: how early it got going under
        # load is timing, that it follows the tail to the end across the restarts is not.
        wm = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
        _, end = wm.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        wm.close()
        deadline = time.monotonic() + 60
        while tail_next[0] < end and time.monotonic() < deadline:
            time.sleep(0.05)  # poll the offset the tail thread advances
        tail_stop.set()
        tail.join(30)
        check(tail_next[0] >= end, "the tail consumer stopped at offset %d of %d (read %d records); it saw %d errors: %r"
              % (tail_next[0], end, tail_seen[0], len(tail_errors), tail_errors[:5]), node)
        print("tail consumer read %d records (%d during the kills) up to the log end %d, each one the producer's"
              % (tail_seen[0], seen_during_kills, end))
    check(not errors, "producer delivery errors: %r" % errors[:3], node)

    def read_all():
        c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                      "enable.partition.eof": True})
        lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        c.assign([TopicPartition(TOPIC, 0, 0)])
        log = {}
        deadline = time.monotonic() + 60
        while len(log) < hi and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            check(m.offset() not in log, "offset %d delivered twice by fetch" % m.offset(), node)
            log[m.offset()] = m.value()
        c.close()
        return lo, hi, log

    lo, hi, log = read_all()
    check(lo == 0, "log start moved to %d" % lo, node)
    check(sorted(log) == list(range(hi)), "offsets not dense 0..%d (have %d)" % (hi - 1, len(log)), node)
    with lock:
        check(len(acked) > 0, "nothing acknowledged", node)
        for off, val in acked.items():
            check(log.get(off) == val, "acked offset %d: want %r, got %r" % (off, val[:20], (log.get(off) or b"")[:20]),
                  node)
        n_acked = len(acked)
    print("ok %d acknowledged records all present at their offsets (log end %d, %d unacked/dup extra)"
          % (n_acked, hi, hi - n_acked))

    rc = node.stop()
    check(rc == 0, "SIGTERM exit status %d, want 0" % rc, node)
    node.start()
    lo2, hi2, log2 = read_all()
    check((lo2, hi2) == (lo, hi) and log2 == log, "data changed across a clean restart", node)
    print("ok clean stop (exit 0) and restart serve the same %d records" % hi2)
print("kill9: all checks passed")
