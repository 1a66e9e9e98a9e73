"""replica_log - read one replica's partition log straight from its files.

Followers do not serve consumers, so the fault tests read every replica's
partition dir (<log.dir>/<topic>-<partition>/<base offset, 20 digits>.log,
Kafka's layout) after the nodes are stopped: the record batches of every
segment in base-offset order, each batch's bytes hashed, each record's
offset, key and value decoded (magic 2, uncompressed; producers in the fault
tests send uncompressed).  The result is a history "replica-read" operation
(history.py).

Comparing replicas batch by batch (not file by file) keeps the comparison
independent of where each replica rolled its segments.  A segment ends at
its last whole batch: a zero length (preallocated space) or a torn tail ends
it, as log recovery would.  Also reads Kafka's checkpoint files
(replication-offset-checkpoint, leader-epoch-checkpoint) when present.
"""
import hashlib
import os
import re
import struct


def _varint(buf, pos):
    """Zig-zag varint at pos -> (value, next pos)."""
    shift = 0
    raw = 0
    while True:
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
    return (raw >> 1) ^ -(raw & 1), pos


def _text(b):
    return None if b is None else b.decode("latin-1")


def parse_batches(data, where):
    """Whole magic-2 batches in data -> [(base, last, batch bytes, [(offset, key, value)])]."""
    out = []
    pos = 0
    while pos + 61 <= len(data):
        base, blen = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + blen
        if blen < 49 or end > len(data):
            break                              # preallocated zeros or a torn tail
        magic = data[pos + 16]
        attrs, last_delta = struct.unpack_from(">hi", data, pos + 21)
        count, = struct.unpack_from(">i", data, pos + 57)
        if magic != 2:
            raise ValueError("%s: batch at offset %d has magic %d (only v2 is read)" % (where, base, magic))
        records = []
        if attrs & 0x20:
            pass                               # control batch (transaction marker): no data records
        elif attrs & 0x07:
            raise ValueError("%s: batch at offset %d is compressed (codec %d); the fault tests produce "
                             "uncompressed" % (where, base, attrs & 0x07))
        else:
            rec = pos + 61
            for _ in range(count):
                rlen, rec = _varint(data, rec)
                nxt = rec + rlen
                rec += 1                       # record attributes
                _ts, rec = _varint(data, rec)
                odelta, rec = _varint(data, rec)
                klen, rec = _varint(data, rec)
                key = None if klen < 0 else bytes(data[rec:rec + klen])
                rec += max(klen, 0)
                vlen, rec = _varint(data, rec)
                value = None if vlen < 0 else bytes(data[rec:rec + vlen])
                if nxt > end:
                    raise ValueError("%s: batch at offset %d: a record runs past the batch" % (where, base))
                records.append((base + odelta, _text(key), _text(value)))
                rec = nxt
        out.append((base, base + last_delta, bytes(data[pos:end]), records))
        pos = end
    return out


def read_checkpoint(path):
    """Kafka's text checkpoint (version, count, entries) -> list of entry token lists, or None."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    return [ln.split() for ln in lines[2:] if ln.strip()]


def read_partition_dir(pdir):
    """A partition dir -> dict(records, batches, end, ckpt_epochs).  Missing dir: empty log."""
    batches = []
    if os.path.isdir(pdir):
        segs = sorted(n for n in os.listdir(pdir) if re.fullmatch(r"\d{20}\.log", n))
        for name in segs:
            with open(os.path.join(pdir, name), "rb") as f:
                data = f.read()
            for b in parse_batches(data, os.path.join(pdir, name)):
                # a batch a later segment repeats (never expected) would show as a non-increasing offset
                batches.append(b)
    records = [list(r) for b in batches for r in b[3]]
    return {
        "records": records,
        "batches": [[b[0], b[1], len(b[2]), hashlib.sha256(b[2]).hexdigest()] for b in batches],
        "end": batches[-1][1] + 1 if batches else 0,
        "epochs": read_checkpoint(os.path.join(pdir, "leader-epoch-checkpoint")),
    }


def replication_hw(log_dir, topic, partition):
    """The high watermark in <log_dir>/replication-offset-checkpoint, or None."""
    for e in read_checkpoint(os.path.join(log_dir, "replication-offset-checkpoint")) or []:
        if len(e) == 3 and e[0] == topic and e[1] == str(partition):
            return int(e[2])
    return None
