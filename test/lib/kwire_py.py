"""kwire_py - the Kafka wire, built by hand, for integration tests that must
control every byte a socket sees (framing, malformed input, pipelining).

Provides: crc32c, varint / read_varint (zigzag), kstr (nullable int16
string), record_batch (one magic-2 batch, uncompressed, no producer id),
frame (size-prefixed request with a v1 header), produce_v3, fetch_v4, the
response parsers parse_produce_v3 / parse_fetch_v4 and the record-batch
iterator batches (over a Reader, bounds-checked big-endian reads), blocking
socket helpers connect, recv_exact, recv_frame, and Checks (counting
ok/FAIL checks that end in "<name>: N passed, N failed").

Invariants: every builder returns bytes exactly as they go on the wire
(big-endian, sizes counted as Kafka counts them); parsers raise ValueError
on a short or malformed response, never read past it; nothing here keeps
state between calls except a Checks' own counters.

Does not: compress or decompress (batches raises ValueError on a compressed
batch), verify batch CRCs, use flexible (tagged-field) versions, or start
servers (see samsanode).
"""
import socket
import struct
import sys
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


def read_varint(buf, pos):
    """A zigzag varint at buf[pos] -> (value, position after it)."""
    shift = z = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("varint cut short or too long at %d" % pos)
        b = buf[pos]
        pos += 1
        z |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (z >> 1) ^ -(z & 1), pos


def kstr(s):
    """An int16-length string; None is Kafka's null (-1)."""
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def record_batch(values, corrupt_crc=False, producer_id=-1, producer_epoch=-1, base_sequence=-1):
    """A magic-2 batch, uncompressed; values are bytes.  No producer id by
    default; an idempotent producer's batch with producer_id/epoch/sequence."""
    ts = int(time.time() * 1000)
    recs = bytearray()
    for i, v in enumerate(values):
        body = bytes([0]) + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, producer_id, producer_epoch, base_sequence,
                            len(values)) + bytes(recs)
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


def fetch_v4(topic, parts, corr, max_wait_ms=5000, min_bytes=1, max_bytes=1 << 20,
             partition_max_bytes=1 << 20, isolation_level=0, client_id="hostile"):
    """Fetch v4 (a consumer: replica id -1) of one topic; parts is a list of
    (partition, fetch offset), asked in that order (from v3 on the broker
    fills partitions in request order)."""
    body = struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, isolation_level)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", len(parts))
    for partition, offset in parts:
        body += struct.pack(">iqi", partition, offset, partition_max_bytes)
    return frame(1, 4, corr, body, client_id)


class Reader:
    """Bounds-checked big-endian reads over one response (ValueError when
    short)."""

    def __init__(self, data, what):
        self.d, self.pos, self.what = data, 0, what

    def take(self, fmt):
        n = struct.calcsize(fmt)
        if self.pos + n > len(self.d):
            raise ValueError("%s: short at %d (+%d of %d)" % (self.what, self.pos, n, len(self.d)))
        v = struct.unpack_from(fmt, self.d, self.pos)
        self.pos += n
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.d[self.pos:self.pos + n]
        if len(s) != n:
            raise ValueError("%s: string cut short" % self.what)
        self.pos += n
        return s.decode()

    def raw(self, n):
        """n bytes (None for Kafka's null, n < 0)."""
        if n < 0:
            return None
        if self.pos + n > len(self.d):
            raise ValueError("%s: %d bytes cut short at %d" % (self.what, n, self.pos))
        self.pos += n
        return bytes(self.d[self.pos - n:self.pos])

    def done(self):
        if self.pos != len(self.d):
            raise ValueError("%s: %d trailing bytes" % (self.what, len(self.d) - self.pos))


def parse_produce_v3(resp):
    """A Produce v3 response -> (corr, [(topic, partition, error, base offset)])."""
    r = Reader(resp, "Produce v3")
    corr = r.take(">i")
    out = []
    for _ in range(r.take(">i")):
        name = r.string()
        for _ in range(r.take(">i")):
            index, err, base, _log_append = r.take(">ihqq")
            out.append((name, index, err, base))
    r.take(">i")  # throttle
    r.done()
    return corr, out


def parse_fetch_v4(resp):
    """A Fetch v4 response -> (corr, [(topic, partition, error, high
    watermark, records bytes)]) in response order; records is b"" when the
    partition returned none (null or empty)."""
    r = Reader(resp, "Fetch v4")
    corr, _throttle = r.take(">ii")
    out = []
    for _ in range(r.take(">i")):
        name = r.string()
        for _ in range(r.take(">i")):
            part, err, hw, _lso = r.take(">ihqq")
            n_aborted = r.take(">i")
            for _ in range(max(n_aborted, 0)):
                r.take(">qq")  # producer id, first offset
            records = r.raw(r.take(">i"))
            out.append((name, part, err, hw, records or b""))
    r.done()
    return corr, out


def batches(records):
    """Iterate the whole magic-2 batches in a partition's records ->
    (base offset, the batch's bytes, [record values]).  A partial batch at
    the end (Kafka may cut the last one) ends the iteration, as clients
    treat it; callers that need whole batches only compare the lengths."""
    pos = 0
    while pos + 12 <= len(records):
        base, blen = struct.unpack_from(">qi", records, pos)
        end = pos + 12 + blen
        if blen < 49 or end > len(records):
            return
        magic = records[pos + 16]
        attrs, _lod, _t0, _t1, _pid, _pe, _seq, count = struct.unpack_from(">hiqqqhii", records, pos + 21)
        if magic != 2 or attrs & 0x07:
            raise ValueError("batch at %d: magic %d attributes 0x%x (only uncompressed v2)" % (base, magic, attrs))
        values = []
        rec = pos + 61
        for _ in range(count):
            rlen, rec = read_varint(records, rec)
            nxt = rec + rlen
            rec += 1                                  # attributes
            _ts, rec = read_varint(records, rec)
            _od, rec = read_varint(records, rec)
            klen, rec = read_varint(records, rec)
            rec += max(klen, 0)
            vlen, rec = read_varint(records, rec)
            values.append(None if vlen < 0 else bytes(records[rec:rec + vlen]))
            if nxt > end:
                raise ValueError("batch at %d: record runs past the batch" % base)
            rec = nxt
        yield base, bytes(records[pos:end]), values
        pos = end


class Checks:
    """Counted checks: check() prints "ok   what" or "FAIL what" and goes
    on; exit() prints "<name>: N passed, N failed" and exits 1 on any
    failure, else 0."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        sys.stdout.flush()
        if cond:
            self.passed += 1
        else:
            self.failed += 1
        return bool(cond)

    def exit(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


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
