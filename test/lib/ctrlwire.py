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
    import glob
    import os
    ids = {}
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
            if not entry or entry[0] != 0:       # type 0: a MetadataBatch
                continue
            for rec in parse(entry[1:]).get(1, []):
                r = parse(rec)
                if 1 in r:
                    t = parse(r[1][0])
                    ids[t[1][0].decode()] = t[2][0]
    return ids
