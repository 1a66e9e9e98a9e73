"""kafka_python_test - kafka-python (Debian python3-kafka) against one node.

Proves: KafkaAdminClient create/list/delete topics (and a duplicate create
fails with TopicAlreadyExists); KafkaProducer with gzip, keys and headers
gets acks=all acknowledgements at consecutive offsets; KafkaConsumer.assign +
seek_to_beginning reads every record back with exact key/value/headers;
offsets_for_times finds the first record at or after a timestamp, and a
future timestamp gives None (Kafka's "no such offset").
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node, check  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.errors import TopicAlreadyExistsError  # noqa: E402

N = 500

with Node() as node:
    bs = node.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bs, client_id="it-kpy", request_timeout_ms=10000)
    admin.create_topics([NewTopic("kpy-a", 3, 1), NewTopic("kpy-b", 1, 1, topic_configs={"retention.ms": "3600000"})])
    names = set(admin.list_topics())
    check({"kpy-a", "kpy-b"} <= names, "list_topics after create: %r" % names, node)
    try:
        admin.create_topics([NewTopic("kpy-a", 1, 1)])
        check(False, "duplicate create_topics did not fail", node)
    except TopicAlreadyExistsError:
        pass
    print("ok admin create/list + duplicate refused")

    prod = KafkaProducer(bootstrap_servers=bs, compression_type="gzip", acks="all", linger_ms=5)
    t0_ms = int(time.time() * 1000)
    futs = []
    for i in range(N):
        ts = t0_ms + i * 10  # explicit, increasing CreateTime timestamps
        futs.append(prod.send("kpy-b", key=b"k%d" % (i % 10), value=b"gzip value %d " % i + b"z" * (i % 97),
                              headers=[("seq", b"%d" % i), ("src", b"kafka-python")], partition=0,
                              timestamp_ms=ts))
    prod.flush()
    offs = [f.get(timeout=10).offset for f in futs]
    check(offs == list(range(N)), "acknowledged offsets not 0..N-1: %r" % offs[:10], node)
    prod.close()
    print("ok produced %d gzip records, acks at offsets 0..%d" % (N, N - 1))

    tp = TopicPartition("kpy-b", 0)
    cons = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                         consumer_timeout_ms=10000)
    cons.assign([tp])
    cons.seek_to_beginning(tp)
    got = []
    while len(got) < N:
        batch = cons.poll(timeout_ms=5000)
        if not batch:
            break
        for recs in batch.values():
            got.extend(recs)
    check(len(got) == N, "consumed %d records, want %d" % (len(got), N), node)
    for i, r in enumerate(got):
        want_v = b"gzip value %d " % i + b"z" * (i % 97)
        check(r.offset == i and r.key == b"k%d" % (i % 10) and r.value == want_v,
              "record %d mismatch: off=%d key=%r value=%r" % (i, r.offset, r.key, r.value[:40]), node)
        check(list(r.headers) == [("seq", b"%d" % i), ("src", b"kafka-python")],
              "record %d headers %r" % (i, r.headers), node)
        check(r.timestamp == t0_ms + i * 10, "record %d timestamp %d want %d" % (i, r.timestamp, t0_ms + i * 10), node)
    print("ok consumed %d records with assign/seek_to_beginning, exact" % N)

    end = cons.end_offsets([tp])[tp]
    beg = cons.beginning_offsets([tp])[tp]
    check(end == N and beg == 0, "beginning/end offsets %d/%d" % (beg, end), node)
    # Kafka's exact answer inside a multi-record gzip batch: the record itself
    # (list_offsets_time_test.py covers the other codecs)
    q = cons.offsets_for_times({tp: t0_ms + 250 * 10 - 5})
    check(q[tp] is not None and q[tp].offset == 250 and q[tp].timestamp == t0_ms + 250 * 10,
          "offsets_for_times mid (batched): %r" % q, node)
    q = cons.offsets_for_times({tp: t0_ms})
    check(q[tp] is not None and q[tp].offset == 0, "offsets_for_times first: %r" % q, node)
    q = cons.offsets_for_times({tp: t0_ms + N * 10 + 100000})
    check(q[tp] is None, "offsets_for_times future should be None: %r" % q, node)
    # one record per batch: the answer must be exact, as in Kafka
    tp1 = TopicPartition("kpy-a", 1)
    prod = KafkaProducer(bootstrap_servers=bs, acks="all", linger_ms=0)
    for i in range(20):
        prod.send("kpy-a", value=b"single %d" % i, partition=1, timestamp_ms=t0_ms + i * 1000)
        prod.flush()
    prod.close()
    for i in (0, 7, 19):
        q = cons.offsets_for_times({tp1: t0_ms + i * 1000 - 1})
        check(q[tp1] is not None and q[tp1].offset == i and q[tp1].timestamp == t0_ms + i * 1000,
              "offsets_for_times exact (one record per batch) i=%d: %r" % (i, q), node)
    cons.close()
    print("ok offsets_for_times / beginning / end offsets")

    admin.delete_topics(["kpy-a"])
    deadline = time.monotonic() + 10
    while "kpy-a" in admin.list_topics() and time.monotonic() < deadline:
        time.sleep(0.1)  # deletion is asynchronous in Kafka; poll with a deadline
    names = set(admin.list_topics())
    check("kpy-a" not in names and "kpy-b" in names, "after delete: %r" % names, node)
    admin.close()
    print("ok delete_topics")
    check(node.alive(), "server died", node)
print("kafka-python: all checks passed")
