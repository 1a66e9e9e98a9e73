"""kwire_py - the Kafka wire, built by hand, for integration tests that must
control every byte a socket sees (framing, malformed input, pipelining).

Provides: crc32c, varint (zigzag), kstr (nullable int16 string), record_batch
(one magic-2 batch, uncompressed, no producer id), frame (size-prefixed
request with a v1 header), produce_v3, and blocking socket helpers connect,
recv_exact, recv_frame.

Invariants: every builder returns bytes exactly as they go on the wire
(big-endian, sizes counted as Kafka counts them); nothing here keeps state
between calls.

Does not: parse responses beyond the frame size (each test parses what it
checks), compress, use flexible (tagged-field) versions, or start servers
(see samsanode).
"""
import socket
import struct
import time


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli), as record batches carry it (~15 MB/s)."""
    t = CRC_TABLE
    c = 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    """A zigzag varint, as records encode their lengths and deltas."""
    z = (n << 1) ^ (n >> 63)  # zigzag
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def kstr(s):
    """An int16-length string; None is Kafka's null (-1)."""
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def record_batch(values, corrupt_crc=False):
    """A magic-2 batch, uncompressed, no producer id; values are bytes."""
    ts = int(time.time() * 1000)
    recs = bytearray()
    for i, v in enumerate(values):
        body = bytes([0]) + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, -1, -1, -1, len(values)) + bytes(recs)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    # batchLength counts from partitionLeaderEpoch to the end
    body = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def frame(api_key, api_version, corr, body, client_id="hostile"):
    """A request: int32 size, then header v1 (key, version, correlation id,
    client id) and body."""
    payload = struct.pack(">hhi", api_key, api_version, corr) + kstr(client_id) + body
    return struct.pack(">i", len(payload)) + payload


def produce_v3(topic, partition, batch, corr, acks=1, client_id="hostile"):
    """Produce v3 of one batch to one partition (no transactional id)."""
    body = kstr(None) + struct.pack(">hi", acks, 10000)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">ii", partition, len(batch)) + batch
    return frame(0, 3, corr, body, client_id)


def connect(node, timeout_s=10):
    """A blocking socket to node's PLAINTEXT port, with a timeout."""
    s = socket.create_connection(("127.0.0.1", node.port), timeout=timeout_s)
    s.settimeout(timeout_s)
    return s


def recv_exact(s, n):
    """Exactly n bytes, or ConnectionError if the peer closes first."""
    out = bytearray(n)
    view = memoryview(out)
    got = 0
    while got < n:
        k = s.recv_into(view[got:], n - got)
        if not k:
            raise ConnectionError("closed after %d of %d bytes" % (got, n))
        got += k
    return bytes(out)


def recv_frame(s):
    """One response frame, without its size prefix."""
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    return recv_exact(s, size)
