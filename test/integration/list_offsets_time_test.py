"""list_offsets_time_test - ListOffsets by timestamp gives Kafka's exact,
record-level answer inside multi-record and compressed batches.

Proves, against one node:
  * kafka-python, gzip, 500 records with timestamps t0 + 10*i in ONE batch
    (the integration engineer's repro): offsets_for_times(t0 + 2495) is
    offset 250 with timestamp t0 + 2500 (it used to be the batch's first
    offset and max timestamp);
  * confluent-kafka (librdkafka batches many records per batch) with lz4,
    zstd, snappy and no compression: for targets exactly on and just below
    records across the whole range, the answer is that record's offset and
    timestamp; the first record for t0 and below;
  * a timestamp past the last record gives offset -1 (None in kafka-python,
    -1 in librdkafka);
  * the batches really hold many records (read from the segment file), so
    a batch-granularity answer could not pass.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node, check  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka import TopicPartition as CkTopicPartition  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

N_KPY = 500
N_CK = 2000
CK_CODECS = ["lz4", "zstd", "snappy", "none"]


def segment_batches(node, topic):
    """(records_count, attributes) of every batch in partition 0's first segment."""
    path = os.path.join(node.root, "data", "%s-0" % topic, "%020d.log" % 0)
    out = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 61 <= len(data):
        length = struct.unpack_from(">i", data, pos + 8)[0]
        attrs = struct.unpack_from(">h", data, pos + 21)[0]
        count = struct.unpack_from(">i", data, pos + 57)[0]
        out.append((count, attrs))
        pos += 12 + length
    return out


def expect(cons, tp, target, want_off, want_ts, node, what):
    q = cons.offsets_for_times({tp: target})[tp]
    if want_off is None:
        check(q is None, "%s: target %d want None, got %r" % (what, target, q), node)
        return
    check(q is not None and q.offset == want_off and q.timestamp == want_ts,
          "%s: target %d want offset %d ts %d, got %r" % (what, target, want_off, want_ts, q), node)


with Node() as node:
    bs = node.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bs, client_id="it-lot", request_timeout_ms=10000)
    admin.create_topics([NewTopic("lot-kpy-gzip", 1, 1)] +
                        [NewTopic("lot-ck-%s" % c, 1, 1) for c in CK_CODECS])
    t0 = int(time.time() * 1000) - 3600 * 1000  # an hour ago: clear of "now"

    # ---- kafka-python, gzip, one batch -------------------------------------
    prod = KafkaProducer(bootstrap_servers=bs, compression_type="gzip", acks="all",
                         linger_ms=2000, batch_size=1 << 20)
    futs = [prod.send("lot-kpy-gzip", value=b"v%d" % i, partition=0, timestamp_ms=t0 + 10 * i)
            for i in range(N_KPY)]
    prod.flush()
    offs = [f.get(timeout=10).offset for f in futs]
    check(offs == list(range(N_KPY)), "kafka-python acked offsets %r" % offs[:5], node)
    prod.close()
    batches = segment_batches(node, "lot-kpy-gzip")
    check(batches and max(c for c, _ in batches) > 1 and all(a & 7 == 1 for _, a in batches),
          "kafka-python gzip: expected multi-record gzip batches, got %r" % batches[:5], node)
    print("ok kafka-python gzip: %d records in %d batch(es)" % (N_KPY, len(batches)))

    cons = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False)
    tp = TopicPartition("lot-kpy-gzip", 0)
    expect(cons, tp, t0 + 2495, 250, t0 + 2500, node, "kpy gzip repro")
    expect(cons, tp, t0 + 2500, 250, t0 + 2500, node, "kpy gzip on a record")
    expect(cons, tp, t0, 0, t0, node, "kpy gzip first")
    expect(cons, tp, t0 - 100000, 0, t0, node, "kpy gzip before first")
    expect(cons, tp, t0 + 10 * (N_KPY - 1), N_KPY - 1, t0 + 10 * (N_KPY - 1), node, "kpy gzip last")
    expect(cons, tp, t0 + 10 * (N_KPY - 1) + 1, None, None, node, "kpy gzip past last")
    print("ok kafka-python gzip: offsets_for_times exact (250 for t0+2495), past the end None")

    # ---- confluent-kafka: lz4, zstd, snappy, none ---------------------------
    for codec in CK_CODECS:
        topic = "lot-ck-%s" % codec
        errors = []
        p = Producer({"bootstrap.servers": bs, "compression.type": codec, "acks": "all",
                      "linger.ms": 200, "batch.num.messages": 300, "enable.idempotence": False})
        for i in range(N_CK):
            p.produce(topic, value=("%s value %d" % (codec, i)).encode(), partition=0,
                      timestamp=t0 + 10 * i,
                      on_delivery=lambda err, msg: err is not None and errors.append(err))
        left = p.flush(20)
        check(left == 0 and not errors, "%s: undelivered %d errors %r" % (codec, left, errors[:3]), node)
        batches = segment_batches(node, topic)
        want_codec = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec]
        check(sum(c for c, _ in batches) == N_CK, "%s: batches hold %d records" %
              (codec, sum(c for c, _ in batches)), node)
        # librdkafka sends a batch uncompressed when compression would not
        # shrink it (a lone small record): require multi-record batches in
        # the codec, not that every batch uses it
        check(len(batches) > 1 and any(c >= 10 and a & 7 == want_codec for c, a in batches),
              "%s: expected multi-record %s batches, got %r" % (codec, codec, batches[:5]), node)
        tp = TopicPartition(topic, 0)
        for i in (0, 1, 7, 250, 999, 1234, 1500, N_CK - 2, N_CK - 1):
            expect(cons, tp, t0 + 10 * i, i, t0 + 10 * i, node, "%s on record" % codec)
            expect(cons, tp, t0 + 10 * i - 5, i, t0 + 10 * i, node, "%s below record" % codec)
        expect(cons, tp, t0 + 10 * (N_CK - 1) + 1, None, None, node, "%s past last" % codec)
        # librdkafka's own ListOffsets: -1 past the end, exact offset inside a batch
        c = Consumer({"bootstrap.servers": bs, "group.id": "unused-no-group"})
        got = c.offsets_for_times([CkTopicPartition(topic, 0, t0 + 10 * 1234 - 3),
                                   ], timeout=10)
        check(got[0].error is None and got[0].offset == 1234,
              "%s: librdkafka offsets_for_times mid %r" % (codec, got), node)
        got = c.offsets_for_times([CkTopicPartition(topic, 0, t0 + 10 * N_CK + 100000)], timeout=10)
        check(got[0].error is None and got[0].offset == -1,
              "%s: librdkafka offsets_for_times past the end %r" % (codec, got), node)
        c.close()
        print("ok confluent-kafka %s: %d records in %d batches (largest %d), offsets_for_times exact,"
              " past the end -1" % (codec, N_CK, len(batches), max(cc for cc, _ in batches)))
    cons.close()
    admin.close()
print("list_offsets_time_test: all ok")
