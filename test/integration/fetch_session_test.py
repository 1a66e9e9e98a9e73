#!/usr/bin/env python3
"""fetch_session_test - the leader's incremental fetch sessions (KIP-227)
against a real node, with raw Fetch v13 requests (a consumer: replica id -1;
partitions by topic id).

Checked:
  - a full request with epoch 0 opens a session: a non-zero session_id and
    both partitions in the answer;
  - an incremental request naming nothing (epoch 1) is answered after
    max_wait with no partitions (nothing new), and one after an append to
    t/1 carries t/1 only, with the record - the leader fetched t/1 from the
    offset the session kept;
  - an incremental request moving t/0's offset and forgetting t/1: an append
    to t/1 no longer answers it, one to t/0 does;
  - a wrong epoch is INVALID_FETCH_SESSION_EPOCH (71), an unknown id
    FETCH_SESSION_ID_NOT_FOUND (70), both as top-level errors;
  - epoch -1 closes the session: a sessionless answer (session_id 0) with
    every partition, and the id is unknown afterwards.
Prints "fetch_session: N passed, N failed".
"""
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from ctrlwire import metadata_log_topic_ids  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

ck = kw.Checks("fetch_session")
check = ck.check
_corr = [100]


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def fetch_v13(session_id, epoch, topics, forgotten=(), max_wait_ms=300):
    """topics: [(topic_id, [(partition, offset)])]; forgotten: [(topic_id, [partition])]."""
    _corr[0] += 1
    body = struct.pack(">iiiibii", -1, max_wait_ms, 1, 1 << 20, 0, session_id, epoch)
    body += uvarint(len(topics) + 1)
    for tid, parts in topics:
        body += tid + uvarint(len(parts) + 1)
        for p, off in parts:
            body += struct.pack(">iiqiqi", p, -1, off, -1, -1, 1 << 20) + b"\x00"
        body += b"\x00"
    body += uvarint(len(forgotten) + 1)
    for tid, parts in forgotten:
        body += tid + uvarint(len(parts) + 1) + b"".join(struct.pack(">i", p) for p in parts) + b"\x00"
    body += uvarint(1) + b"\x00"  # rack_id "", tags
    hdr = struct.pack(">hhi", 1, 13, _corr[0]) + struct.pack(">h", 7) + b"session" + b"\x00"
    return _corr[0], struct.pack(">i", len(hdr) + len(body)) + hdr + body


class R:
    def __init__(self, d):
        self.d, self.p = d, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def uv(self):
        n, shift = 0, 0
        while True:
            b = self.d[self.p]
            self.p += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n
            shift += 7

    def tags(self):
        for _ in range(self.uv()):
            self.uv()
            self.p += self.uv()

    def raw(self, n):
        v = self.d[self.p:self.p + n]
        self.p += n
        return v


def parse(frame):
    """(corr, error_code, session_id, {(topic_id, partition): (error, hw, records)})"""
    r = R(frame)
    corr = r.take(">i")
    r.tags()
    _, err, sid = r.take(">ihi")
    parts = {}
    for _ in range(r.uv() - 1):
        tid = r.raw(16)
        for _ in range(r.uv() - 1):
            p, perr, hw, _, _ = r.take(">ihqqq")
            n = r.uv() - 1  # aborted transactions (nullable)
            for _ in range(max(n, 0)):
                r.take(">qq")
                r.tags()
            r.take(">i")
            n = r.uv() - 1
            recs = r.raw(n) if n > 0 else b""
            r.tags()
            parts[(tid, p)] = (perr, hw, recs)
        r.tags()
    r.tags()
    return corr, err, sid, parts


def call(s, req, wait_s=5):
    c, data = req
    s.sendall(data)
    got = parse(kw.recv_frame(s))
    check(got[0] == c, "correlation id %d answered" % c)
    return got


def values_of(records):
    return [v for _, _, vs in kw.batches(records) for v in vs]


def produce(s, partition, val):
    _corr[0] += 1
    s.sendall(kw.produce_v3("t", partition, kw.record_batch([val]), _corr[0]))
    got, parts = kw.parse_produce_v3(kw.recv_frame(s))
    return got == _corr[0] and len(parts) == 1 and parts[0][2] == 0


node = samsanode.Node().start()
admin = AdminClient({"bootstrap.servers": node.bootstrap})
for f in admin.create_topics([NewTopic("t", 2, 1)]).values():
    f.result(15)
ctl = kw.connect(node)
check(produce(ctl, 0, b"a0") and produce(ctl, 1, b"b0"), "one record in t/0 and t/1")
tid = None
deadline = time.monotonic() + 10
while tid is None and time.monotonic() < deadline:
    tid = metadata_log_topic_ids(os.path.join(node.root, "data")).get("t")
    time.sleep(0.1)
check(tid is not None and len(tid) == 16, "topic id of t from the metadata log")

s = kw.connect(node)
# 1. a full request opens a session
_, err, sid, parts = call(s, fetch_v13(0, 0, [(tid, [(0, 0), (1, 1)])]))
check(err == 0 and sid != 0, "full request with epoch 0: session_id %d" % sid)
check(sorted(p for _, p in parts) == [0, 1] and values_of(parts[(tid, 0)][2]) == [b"a0"],
      "both partitions answered (t/1 at its end), t/0 with its record")

# 2. incremental: t/0 moved to 1, t/1 kept at 1 by the session
t0 = time.monotonic()
_, err, sid2, parts = call(s, fetch_v13(sid, 1, [(tid, [(0, 1)])], max_wait_ms=400))
waited = time.monotonic() - t0
check(err == 0 and sid2 == sid and parts == {}, "epoch 1, nothing new: no partitions (%r)" % (parts,))
check(waited >= 0.3, "it waited for data (%.2f s, max_wait 400 ms)" % waited)
c, data = fetch_v13(sid, 2, [], max_wait_ms=10000)
s.sendall(data)
time.sleep(0.3)
check(produce(ctl, 1, b"b1"), "append to t/1")
check(bool(select.select([s], [], [], 3)[0]), "the parked incremental fetch answers after the append")
got, err, _, parts = parse(kw.recv_frame(s))
check(got == c and err == 0 and list(parts) == [(tid, 1)] and values_of(parts[(tid, 1)][2]) == [b"b1"],
      "only t/1, with the new record from the session's offset: %r" % ([(k[1], v[0]) for k, v in parts.items()],))

# 3. move t/0 on, forget t/1
c, data = fetch_v13(sid, 3, [(tid, [(0, 1)])], forgotten=[(tid, [1])], max_wait_ms=10000)
s.sendall(data)
time.sleep(0.3)
check(produce(ctl, 1, b"b2"), "append to the forgotten t/1")
check(not select.select([s], [], [], 0.7)[0], "an append to a forgotten partition does not answer")
check(produce(ctl, 0, b"a1"), "append to t/0")
check(bool(select.select([s], [], [], 3)[0]), "an append to t/0 answers")
got, err, _, parts = parse(kw.recv_frame(s))
check(got == c and list(parts) == [(tid, 0)] and values_of(parts[(tid, 0)][2]) == [b"a1"],
      "t/0 from offset 1 only: %r" % ([(k[1], v[0]) for k, v in parts.items()],))

# 4. errors
_, err, _, parts = call(s, fetch_v13(sid, 7, []))
check(err == 71 and parts == {}, "a wrong epoch: INVALID_FETCH_SESSION_EPOCH (%d)" % err)
_, err, _, _ = call(s, fetch_v13(sid ^ 0x5A5A, 1, []))
check(err == 70, "an unknown id: FETCH_SESSION_ID_NOT_FOUND (%d)" % err)

# 5. epoch -1 closes: sessionless, every partition, the id gone
_, err, sid3, parts = call(s, fetch_v13(sid, -1, [(tid, [(0, 2), (1, 3)])]))
check(err == 0 and sid3 == 0 and sorted(p for _, p in parts) == [0, 1], "epoch -1: sessionless answer of both")
_, err, _, _ = call(s, fetch_v13(sid, 4, []))
check(err == 70, "the closed session's id is unknown (%d)" % err)
s.close()
ctl.close()
node.stop()
ck.exit()
