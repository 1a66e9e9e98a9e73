"""ctrlwire - controller-listener frames written and read by hand in tests.

A frame is `u32 length | u8 version (1) | ControllerFrame` (proto/quorum.proto);
the protobuf encoding here covers what the tests send: varints (negative
int32/int64 as 10-byte two's complement) and length-delimited fields.
"""
import struct


def varint(v):
    if v < 0:
        v += 1 << 64
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def f_int(field, v):
    """A varint field."""
    return varint(field << 3) + varint(v)


def f_bytes(field, data):
    """A length-delimited field (bytes, string or sub-message)."""
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def read_varint(data, i):
    shift = v = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def parse(data):
    """{field: [values]}: signed ints for varints, bytes for length-delimited."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(data, i)
            if v >= 1 << 63:
                v -= 1 << 64
        elif wt == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(field, []).append(v)
    return out


def frame(body, version=1):
    return struct.pack(">I", len(body) + 1) + bytes([version]) + body


def hello(node_id, cluster_id):
    """A whole Hello frame (ControllerFrame.hello = 1)."""
    return frame(f_bytes(1, f_int(1, node_id) + f_bytes(2, cluster_id)))


def metadata_log_topic_ids(log_dir):
    """{topic name: 16-byte id} from the TopicRecords of a node's metadata log
    (<log dir>/__cluster_metadata-0/*.log, controller/README.md "Formats")."""
    return metadata_log_state(log_dir)["topics"]


def ints(values):
    """A repeated int32/int64 field's values, packed (bytes) or not (ints)."""
    out = []
    for v in values:
        if isinstance(v, int):
            out.append(v)
            continue
        i = 0
        while i < len(v):
            x, i = read_varint(v, i)
            out.append(x - (1 << 64) if x >= 1 << 63 else x)
    return out


def _metadata_log_records(log_dir):
    import glob
    import os
    for path in sorted(glob.glob(os.path.join(log_dir, "__cluster_metadata-0", "*.log"))):
        with open(path, "rb") as f:
            data = f.read()
        i = 0
        while i + 4 <= len(data):
            n = struct.unpack(">I", data[i:i + 4])[0]
            if n < 17 or i + 4 + n > len(data):
                break
            entry = data[i + 4 + 16:i + 4 + n]   # after crc, offset, epoch
            i += 4 + n
            if entry and entry[0] == 0:          # type 0: a MetadataBatch
                for rec in parse(entry[1:]).get(1, []):
                    yield parse(rec)


def metadata_log_state(log_dir):
    """The image as far as these tests need it, folded from a node's metadata
    log the way ctrl_image_apply folds it: {"topics": {name: id},
    "brokers": {id: epoch}, "partitions": {(topic id, p): {"leader",
    "leader_epoch", "partition_epoch", "isr", "replicas", "elr", "last_known_elr"}}}
    (elr / last_known_elr: KIP-966's eligible leader replicas, empty in a log
    written without them)."""
    st = {"topics": {}, "brokers": {}, "partitions": {}}
    for r in _metadata_log_records(log_dir):
        if 1 in r:                                  # TopicRecord
            t = parse(r[1][0])
            st["topics"][t[1][0].decode()] = t[2][0]
        elif 3 in r:                                # PartitionRecord
            p = parse(r[3][0])
            st["partitions"][(p[1][0], p.get(2, [0])[0])] = {
                "replicas": ints(p.get(3, [])), "isr": ints(p.get(4, [])), "leader": p.get(5, [0])[0],
                "leader_epoch": p.get(6, [0])[0], "partition_epoch": p.get(7, [0])[0],
                "elr": ints(p.get(22, [])), "last_known_elr": ints(p.get(23, []))}
        elif 4 in r:                                # PartitionChangeRecord
            c = parse(r[4][0])
            cur = st["partitions"].get((c[1][0], c.get(2, [0])[0]))
            if cur is None:
                continue
            if c.get(3, [0])[0] and c.get(4, [0])[0] != cur["leader"]:
                cur["leader"] = c.get(4, [0])[0]
                cur["leader_epoch"] += 1
            if c.get(5, [0])[0]:
                cur["isr"] = ints(c.get(6, []))
            if c.get(23, [0])[0]:                   # has_elr
                cur["elr"] = ints(c.get(24, []))
            if c.get(25, [0])[0]:                   # has_last_known_elr
                cur["last_known_elr"] = ints(c.get(26, []))
            cur["partition_epoch"] += 1
        elif 6 in r:                                # RegisterBrokerRecord
            b = parse(r[6][0])
            st["brokers"][b.get(1, [0])[0]] = b.get(3, [0])[0]
    return st


def alter_partition_body(req_id, broker_id, epoch, topic_id, partition, leader_epoch, partition_epoch, isr,
                         version=1):
    """An AlterPartitionRequest (ControllerFrame field 13); members' broker
    epochs -1 (not checked)."""
    body = (f_int(1, version) + f_int(2, req_id) + f_int(3, broker_id) + f_int(4, epoch) + f_bytes(5, topic_id) +
            f_int(6, partition) + f_int(7, leader_epoch) + f_int(8, partition_epoch))
    for m in isr:
        body += f_int(9, m)
    for _ in isr:
        body += f_int(10, -1)
    return body
