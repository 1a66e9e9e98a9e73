"""old_formats_test - magic 0/1 message sets as Kafka 3.x treats them, one node.

Proves: kafka-python with api_version=(0, 10) produces magic 1 (Produce v2;
plain and gzip wrappers), the records are stored as v2 batches and read back
by confluent_kafka (a current client: keys, values, CreateTime timestamps);
kafka-python with api_version=(0, 10) consumes them (Fetch v3 -> magic 1
message sets) with the same keys/values/timestamps; a hand-built Produce v0
of a gzip wrapper around magic 0 messages is stored as one v2 batch
(timestamp -1, keys/values kept) and a Fetch v0 returns it as magic 0
messages; a legacy message with a bad CRC-32 is CORRUPT_MESSAGE (2); magic 0
to a LogAppendTime topic gets the broker's time; lz4-compressed v2 batches from
librdkafka reach kafka-python 0.10 down-converted within a 4 KiB partition limit.
"""
import gzip
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node  # noqa: E402
from kwire_py import (Checks, connect, frame, kstr, recv_frame, fetch_v4, parse_fetch_v4,  # noqa: E402
                      read_varint)

from confluent_kafka import Consumer, TopicPartition as CTP  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

C = Checks("old_formats_test")
N = 40


def kbytes(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def legacy_msg(magic, key, value, ts=None, attrs=0, offset=0, bad_crc=False):
    body = struct.pack(">bb", magic, attrs)
    if magic == 1:
        body += struct.pack(">q", ts)
    body += kbytes(key) + kbytes(value)
    crc = zlib.crc32(body) & 0xffffffff
    if bad_crc:
        crc ^= 1
    msg = struct.pack(">I", crc) + body
    return struct.pack(">qi", offset, len(msg)) + msg


def produce_legacy(s, version, topic, msgset, corr):
    body = struct.pack(">hi", 1, 10000) + struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">ii", 0, len(msgset)) + msgset
    s.sendall(frame(0, version, corr, body))
    r = recv_frame(s)
    rc, = struct.unpack_from(">i", r, 0)
    pos = 4 + 4
    (nl,) = struct.unpack_from(">h", r, pos)
    pos += 2 + nl + 4
    part, err, base = struct.unpack_from(">ihq", r, pos)
    return err, base


def parse_legacy(records):
    """[(offset, magic, attrs, ts, key, value)] of a magic 0/1 message set; checks each CRC."""
    out, pos = [], 0
    while pos + 12 <= len(records):
        off, size = struct.unpack_from(">qi", records, pos)
        if pos + 12 + size > len(records):
            break
        m = records[pos + 12:pos + 12 + size]
        crc, magic, attrs = struct.unpack_from(">Ibb", m, 0)
        if zlib.crc32(m[4:]) & 0xffffffff != crc:
            raise ValueError("bad crc at offset %d" % off)
        p = 6
        ts = None
        if magic == 1:
            (ts,) = struct.unpack_from(">q", m, p)
            p += 8
        (kl,) = struct.unpack_from(">i", m, p)
        p += 4
        key = None if kl < 0 else bytes(m[p:p + kl])
        p += max(kl, 0)
        (vl,) = struct.unpack_from(">i", m, p)
        p += 4
        val = None if vl < 0 else bytes(m[p:p + vl])
        out.append((off, magic, attrs, ts, key, val))
        pos += 12 + size
    return out


with Node() as node:
    bs = node.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=10000)
    admin.create_topics([NewTopic("old-a", 1, 1), NewTopic("old-b", 1, 1)])
    admin.close()

    # 1. kafka-python speaking 0.10: Produce v2, magic 1 (plain, then gzip wrappers)
    t0 = int(time.time() * 1000) - 100000
    want = []
    for codec in (None, "gzip"):
        prod = KafkaProducer(bootstrap_servers=bs, api_version=(0, 10), compression_type=codec, linger_ms=20)
        futs = []
        for i in range(N):
            k = None if i % 7 == 0 else b"k%d" % i
            v = b"%s value %d " % (str(codec).encode(), i) + b"x" * (i % 13)
            ts = t0 + len(want) * 10
            want.append((k, v, ts))
            futs.append(prod.send("old-a", key=k, value=v, partition=0, timestamp_ms=ts))
        prod.flush()
        offs = [f.get(timeout=10).offset for f in futs]
        C.check(offs == list(range(len(want) - N, len(want))),
                "kafka-python 0.10 (%s) acknowledged offsets %r.." % (codec, offs[:3]))
        prod.close()

    # 2. a current client (librdkafka, Fetch v4+: v2 batches) reads them back
    c = Consumer({"bootstrap.servers": bs, "group.id": "old-fmt", "enable.auto.commit": False})
    c.assign([CTP("old-a", 0, 0)])
    got = []
    deadline = time.time() + 20
    while len(got) < len(want) and time.time() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            continue
        got.append((m.key(), m.value(), m.timestamp()[1], m.timestamp()[0]))
    c.close()
    C.check([(k, v, ts) for k, v, ts, _ in got] == want,
            "confluent_kafka reads %d of %d records with keys/values/timestamps" % (len(got), len(want)))
    C.check(all(tt == 1 for *_, tt in got), "timestamps are CreateTime")

    # the stored form: v2 batches (a raw Fetch v4)
    s = connect(node)
    s.sendall(fetch_v4("old-a", [(0, 0)], 7))
    _, parts = parse_fetch_v4(recv_frame(s))
    recs = parts[0][4]
    C.check(len(recs) > 61 and recs[16] == 2, "Fetch v4 returns magic 2 batches (magic %r)" % (recs[16:17],))

    # 3. kafka-python speaking 0.10 consumes: Fetch v2/v3 -> magic 1 message sets
    kc = KafkaConsumer(bootstrap_servers=bs, api_version=(0, 10), group_id=None, enable_auto_commit=False,
                       consumer_timeout_ms=10000)
    tp = TopicPartition("old-a", 0)
    kc.assign([tp])
    kc.seek_to_beginning(tp)
    kgot = []
    while len(kgot) < len(want):
        batch = kc.poll(timeout_ms=5000)
        if not batch:
            break
        for rs in batch.values():
            kgot.extend((r.key, r.value, r.timestamp) for r in rs)
    kc.close()
    C.check(kgot == want, "kafka-python 0.10 consumes %d of %d records, same keys/values/timestamps"
            % (len(kgot), len(want)))

    # 4. raw Produce v0: a gzip wrapper around magic 0 messages
    inner = b"".join(legacy_msg(0, b"g%d" % i, b"gz-%d" % i, offset=i) for i in range(5))
    wrapper = legacy_msg(0, None, gzip.compress(inner), attrs=1)
    err, base = produce_legacy(s, 0, "old-b", wrapper, 11)
    C.check(err == 0 and base == 0, "Produce v0 gzip wrapper: error %d base offset %d" % (err, base))
    err, base = produce_legacy(s, 2, "old-b", legacy_msg(1, b"p", b"plain", ts=t0), 12)
    C.check(err == 0 and base == 5, "Produce v2 plain magic 1: error %d base offset %d" % (err, base))
    err, _ = produce_legacy(s, 2, "old-b", legacy_msg(1, b"p", b"bad", ts=t0, bad_crc=True), 13)
    C.check(err == 2, "Produce v2 with a bad CRC-32: error %d (CORRUPT_MESSAGE is 2)" % err)

    s.sendall(fetch_v4("old-b", [(0, 0)], 14))
    _, parts = parse_fetch_v4(recv_frame(s))
    recs = parts[0][4]
    blen, = struct.unpack_from(">i", recs, 8)
    attrs, lod, bts, mts, pid, pe, seq, count = struct.unpack_from(">hiqqqhii", recs, 21)
    C.check(recs[16] == 2 and attrs == 0 and count == 5 and lod == 4 and bts == -1 and mts == -1 and pid == -1,
            "stored: one uncompressed v2 batch of 5, timestamps -1 (magic %d attrs %d count %d ts %d/%d)"
            % (recs[16], attrs, count, bts, mts))
    pos, vals = 61, []
    for _ in range(count):
        rlen, pos = read_varint(recs, pos)
        nxt = pos + rlen
        pos += 1
        _, pos = read_varint(recs, pos)
        _, pos = read_varint(recs, pos)
        kl, pos = read_varint(recs, pos)
        k = recs[pos:pos + kl]
        pos += kl
        vl, pos = read_varint(recs, pos)
        vals.append((k, recs[pos:pos + vl]))
        pos = nxt
    C.check(vals == [(b"g%d" % i, b"gz-%d" % i) for i in range(5)], "stored keys/values: %r" % vals[:2])

    # 5. Fetch v0: magic 0 messages, offsets 0..5
    body = struct.pack(">iii", -1, 1000, 1) + struct.pack(">i", 1) + kstr("old-b") + struct.pack(">i", 1)
    body += struct.pack(">iqi", 0, 0, 1 << 20)
    s.sendall(frame(1, 0, 15, body))
    r = recv_frame(s)
    pos = 4 + 4
    (nl,) = struct.unpack_from(">h", r, pos)
    pos += 2 + nl + 4
    part, err, hw, size = struct.unpack_from(">ihqi", r, pos)
    msgs = parse_legacy(r[pos + 18:pos + 18 + size])
    C.check(err == 0 and hw == 6, "Fetch v0: error %d high watermark %d" % (err, hw))
    C.check([(o, mg, k, v) for o, mg, _, _, k, v in msgs] ==
            [(i, 0, b"g%d" % i, b"gz-%d" % i) for i in range(5)] + [(5, 0, b"p", b"plain")],
            "Fetch v0 returns 6 magic 0 messages: %r" % msgs[:2])

    # 6. LogAppendTime topic: a magic 0 message gets the broker's time
    admin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=10000)
    admin.create_topics([NewTopic("old-lat", 1, 1, topic_configs={"message.timestamp.type": "LogAppendTime"})])
    admin.close()
    before = int(time.time() * 1000)
    err, base = produce_legacy(s, 1, "old-lat", legacy_msg(0, b"l", b"lat"), 16)
    C.check(err == 0 and base == 0, "Produce v1 magic 0 to a LogAppendTime topic: error %d" % err)
    s.sendall(fetch_v4("old-lat", [(0, 0)], 17))
    _, parts = parse_fetch_v4(recv_frame(s))
    recs = parts[0][4]
    attrs, = struct.unpack_from(">h", recs, 21)
    mts, = struct.unpack_from(">q", recs, 35)
    C.check(attrs & 0x08 and before <= mts <= int(time.time() * 1000) + 1000,
            "stored with LogAppendTime (attributes 0x%x, max timestamp %d, produced after %d)" % (attrs, mts, before))
    s.close()

    # 7. compressed v2 batches (librdkafka, lz4) down-converted for kafka-python 0.10
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bs, "compression.type": "lz4", "linger.ms": 50})
    for i in range(200):
        p.produce("old-c", key=b"c%d" % i, value=b"lz4 %d " % i + b"q" * 50, partition=0, timestamp=t0 + i)
    C.check(p.flush(10) == 0, "confluent_kafka produced 200 lz4 records")
    kc = KafkaConsumer(bootstrap_servers=bs, api_version=(0, 10), group_id=None, enable_auto_commit=False,
                       consumer_timeout_ms=10000, max_partition_fetch_bytes=4096)
    tp = TopicPartition("old-c", 0)
    kc.assign([tp])
    kc.seek_to_beginning(tp)
    kgot = []
    while len(kgot) < 200:
        batch = kc.poll(timeout_ms=5000)
        if not batch:
            break
        for rs in batch.values():
            kgot.extend((r.offset, r.key, r.value, r.timestamp) for r in rs)
    kc.close()
    C.check(kgot == [(i, b"c%d" % i, b"lz4 %d " % i + b"q" * 50, t0 + i) for i in range(200)],
            "kafka-python 0.10 reads 200 lz4-stored records as magic 1 in 4 KiB partition fetches (%d)" % len(kgot))
C.exit()
