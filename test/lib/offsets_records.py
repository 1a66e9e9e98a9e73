"""offsets_records - Kafka's __consumer_offsets records (group-coordinator
schemas: OffsetCommitKey/Value, GroupMetadataKey/Value), decoded by hand from
Kafka's JSON schemas, independently of the broker's generated codec, so tests
can check the broker writes them byte for byte.

decode(key, value) -> dict: kv (key version), group, and for offsets topic,
partition, vv (value version), offset, leader_epoch (v3), metadata,
commit_ts, expire_ts (v1); for groups (key v2) protocol_type, generation,
protocol, leader, state_ts and members (member_id, instance, client_id, host,
rebalance_timeout, session_timeout, subscription, assignment).  A tombstone
(value None) decodes to the key fields only.  Fails the test (samsanode.check)
on a short, trailing or unexpected record; group values must be v3.
"""
import struct

from samsanode import check


class Rd:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        check(self.i + n <= len(self.b), "short record: %r" % self.b)
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def s(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def by(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def end(self):
        check(self.i == len(self.b), "trailing bytes in %r" % self.b)


def decode(key, value):
    """Kafka's group-coordinator record schemas, by hand."""
    k = Rd(key)
    kv = k.i16()
    if kv in (0, 1):
        out = {"kv": kv, "group": k.s(), "topic": k.s(), "partition": k.i32()}
        k.end()
        if value is None:
            return out
        v = Rd(value)
        out["vv"] = vv = v.i16()
        out["offset"] = v.i64()
        if vv >= 3:
            out["leader_epoch"] = v.i32()
        out["metadata"] = v.s()
        out["commit_ts"] = v.i64()
        if vv == 1:
            out["expire_ts"] = v.i64()
        v.end()
        return out
    check(kv == 2, "unexpected key version %d" % kv)
    out = {"kv": 2, "group": k.s()}
    k.end()
    if value is None:
        return out
    v = Rd(value)
    out["vv"] = vv = v.i16()
    check(vv == 3, "group value version %d, want 3" % vv)
    out["protocol_type"] = v.s()
    out["generation"] = v.i32()
    out["protocol"] = v.s()
    out["leader"] = v.s()
    out["state_ts"] = v.i64()
    members = []
    for _ in range(v.i32()):
        members.append({"member_id": v.s(), "instance": v.s(), "client_id": v.s(), "host": v.s(),
                        "rebalance_timeout": v.i32(), "session_timeout": v.i32(),
                        "subscription": v.by(), "assignment": v.by()})
    out["members"] = members
    v.end()
    return out
