"""confluent_kafka_test - confluent-kafka-python (librdkafka) against one node.

Proves: AdminClient.create_topics with configs (and validate_only creates
nothing; message.format.version accepted and ignored with a warning),
describe_configs returns the configured values with the
DYNAMIC_TOPIC_CONFIG source and defaults for the rest; Producer with lz4,
snappy and zstd (acks=all) gets every delivery report without error at
consecutive offsets; Consumer.assign (no group, no auto-commit) reads every
record back exactly, per codec partition.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node, check  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

N = 2000
CODECS = ["lz4", "snappy", "zstd"]

with Node() as node:
    bs = node.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})

    # validate_only: accepted, nothing created
    fs = admin.create_topics([NewTopic("ck-dry", 2, 1)], validate_only=True)
    fs["ck-dry"].result(timeout=10)
    md = admin.list_topics(timeout=10)
    check("ck-dry" not in md.topics, "validate_only created the topic", node)

    cfg = {"retention.ms": "7200000", "cleanup.policy": "delete", "max.message.bytes": "2000000"}
    fs = admin.create_topics([NewTopic("ck-main", 3, 1, config=cfg)])
    fs["ck-main"].result(timeout=10)
    md = admin.list_topics(timeout=10)
    check("ck-main" in md.topics and len(md.topics["ck-main"].partitions) == 3,
          "ck-main metadata: %r" % md.topics.get("ck-main"), node)
    # a bad config value is refused
    fs = admin.create_topics([NewTopic("ck-bad", 1, 1, config={"retention.ms": "not-a-number"})])
    try:
        fs["ck-bad"].result(timeout=10)
        check(False, "create with retention.ms=not-a-number succeeded", node)
    except KafkaException as e:
        print("ok bad config refused: %s" % e.args[0].name())
    # message.format.version (deprecated): accepted and ignored with a warning, as Kafka 3.x
    fs = admin.create_topics([NewTopic("ck-oldfmt", 1, 1, config={"message.format.version": "0.10.2"})])
    fs["ck-oldfmt"].result(timeout=10)
    check("message.format.version=0.10.2 is deprecated and ignored" in node.log_text(),
          "no warning for message.format.version", node)
    p = Producer({"bootstrap.servers": bs})
    p.produce("ck-oldfmt", value=b"v2 anyway")
    check(p.flush(10) == 0, "produce to a topic with message.format.version", node)
    print("ok create_topics (validate_only, configs)")

    res = ConfigResource(ConfigResource.Type.TOPIC, "ck-main")
    entries = admin.describe_configs([res])[res].result(timeout=10)
    for k, v in cfg.items():
        check(k in entries and entries[k].value == v, "describe_configs %s = %r" % (k, entries.get(k)), node)
        check(entries[k].source == 1, "describe_configs %s source %r, want DYNAMIC_TOPIC_CONFIG(1)"
              % (k, entries[k].source), node)
    check("segment.bytes" in entries and entries["segment.bytes"].is_default,
          "segment.bytes should be a default: %r" % entries.get("segment.bytes"), node)
    print("ok describe_configs (%d entries)" % len(entries))

    errors = []
    acked = {}

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked.setdefault(msg.partition(), []).append(msg.offset())

    sent = {}
    for part, codec in enumerate(CODECS):
        p = Producer({"bootstrap.servers": bs, "compression.type": codec, "acks": "all",
                      "linger.ms": 5, "enable.idempotence": False})
        recs = []
        for i in range(N):
            k = ("%s-key-%d" % (codec, i % 13)).encode()
            v = ("%s value %d " % (codec, i)).encode() + bytes(range(i % 256))
            h = [("i", str(i).encode()), ("codec", codec.encode())]
            recs.append((k, v, h))
            p.produce("ck-main", key=k, value=v, headers=h, partition=part, on_delivery=on_delivery)
            if i % 500 == 0:
                p.poll(0)
        left = p.flush(20)
        check(left == 0, "%s: %d messages not delivered" % (codec, left), node)
        sent[part] = recs
    check(not errors, "delivery errors: %r" % errors[:5], node)
    for part in range(len(CODECS)):
        check(acked.get(part) == list(range(N)), "partition %d acked offsets not 0..%d" % (part, N - 1), node)
    print("ok produced %d records each with %s" % (N, ",".join(CODECS)))

    c = Consumer({"bootstrap.servers": bs, "group.id": "unused-no-group", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition("ck-main", p, OFFSET_BEGINNING) for p in range(len(CODECS))])
    got = {p: [] for p in range(len(CODECS))}
    eof = set()
    misses = 0
    while len(eof) < len(CODECS) and misses < 50:
        m = c.poll(1.0)
        if m is None:
            misses += 1
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                if len(got[m.partition()]) >= N:
                    eof.add(m.partition())
                continue
            check(False, "consume error %s" % m.error(), node)
        got[m.partition()].append(m)
    c.close()
    for part, codec in enumerate(CODECS):
        msgs = got[part]
        check(len(msgs) == N, "%s: consumed %d want %d" % (codec, len(msgs), N), node)
        for i, m in enumerate(msgs):
            k, v, h = sent[part][i]
            check(m.offset() == i and m.key() == k and m.value() == v and m.headers() == h,
                  "%s record %d mismatch (offset %d)" % (codec, i, m.offset()), node)
    print("ok consumed every record exactly with assign()")
    check(node.alive(), "server died", node)
print("confluent-kafka: all checks passed")
