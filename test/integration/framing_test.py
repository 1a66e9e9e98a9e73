"""framing_test - the network threads frame requests correctly however the
bytes arrive (broker/brk_conn.c: small frames staged in 16 KiB and copied
out, larger ones read straight into a buffer that grows 1 MiB ahead of its
bytes, responses written at once).

Against one node (message.max.bytes 16 MiB, socket.request.max.bytes
100 MiB), with frames built by hand (test/lib/kwire_py.py) so every byte
boundary is ours:
  1. pipelining: 300 requests (ApiVersions v0 and Metadata v1, distinct
     correlation ids) in ONE sendall: 300 responses, in order, each equal
     to the answer the same request gets on its own;
  2. byte at a time: 20 requests sent one byte per send() (TCP_NODELAY, a
     few ms pause every 50 bytes): all answered, in order;
  3. frames straddling the 16 KiB stage: Produce v3 frames whose end falls
     just before, at and just after 16384 bytes of the connection's stream
     (the produce first, or after a small request), each followed by an
     ApiVersions; then all of them back to back in one sendall, and split
     at random points (seeded): every produce acked with error 0 and
     consecutive base offsets, every ApiVersions correct, and a consumer
     reads back every value byte for byte;
  4. large frames: a 3 MiB and a 9 MiB Produce (random values; topic with
     max.message.bytes 16 MiB) in random-sized chunks (1 B .. 200 KiB)
     with a small request pipelined behind each, then again in one
     sendall, then 9 + 3 MiB on 3 connections at once (busy network
     threads: the socket holds more than the frame's buffer has room for):
     all acked and answered in order, values read back intact;
  5. half of a 2 MiB frame then a hang-up (FIN, and RST): the node stays up,
     appends nothing and serves a new connection; 200 connections that
     announce 50 MiB frames and send 10 bytes (6, then 4), held open, then
     closed: the node's VmRSS grows by less than RSS_GROWTH_BOUND_KB
     throughout (buffers follow bytes received, not the announced size; a
     growth bound, so it also holds under ASan), and it still answers.
Each phase runs even if an earlier one failed; any failure fails the test
(with the server log).  A passing run takes about 6 s.
Env: SEED (default 7) for the random splits and values.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from samsanode import Node  # noqa: E402
from kwire_py import (Reader, connect, frame, kstr, parse_produce_v3, produce_v3, record_batch,  # noqa: E402
                      recv_frame)

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SEED = int(os.environ.get("SEED", "7"))
rng = random.Random(SEED)
STAGE_BYTES = 16384                 # BRK_CONN_STAGE_BYTES in broker/brk_conn.c
BIG_MAX_BYTES = 16 << 20            # message.max.bytes / max.message.bytes for the large frames
REQUEST_MAX_BYTES = 104857600       # socket.request.max.bytes
RSS_GROWTH_BOUND_KB = 64 * 1024  # 200 x 50 MiB announced = 10 GB if buffers followed the announcement
CLIENT_ID = "framing"
T_PIPE, T_STAGE, T_BIG = "pipe", "stage", "big"
T_BIG_CONCURRENT = ["big%d" % i for i in range(1, 4)]

_corr = [1000]


class PhaseFailed(Exception):
    pass


def check(cond, msg, node=None):
    """Fail the current phase (the others still run; the server log is
    printed at the end)."""
    if not cond:
        raise PhaseFailed(msg)


def next_corr():
    _corr[0] += 1
    return _corr[0]


def api_versions(corr):
    return frame(18, 0, corr, b"", CLIENT_ID)


def metadata(corr, topic=T_PIPE):
    return frame(3, 1, corr, struct.pack(">i", 1) + kstr(topic), CLIENT_ID)


def parse_api_versions(resp):
    r = Reader(resp, "ApiVersions v0")
    corr, err, n = r.take(">ihi")
    ranges = {}
    for _ in range(n):
        key, lo, hi = r.take(">hhh")
        ranges[key] = (lo, hi)
    r.done()
    return corr, err, ranges


def parse_metadata_v1(resp):
    r = Reader(resp, "Metadata v1")
    corr = r.take(">i")
    brokers = []
    for _ in range(r.take(">i")):
        node_id = r.take(">i")
        host = r.string()
        port = r.take(">i")
        r.string()  # rack
        brokers.append((node_id, host, port))
    r.take(">i")  # controller id
    topics = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        name = r.string()
        r.take(">b")  # is_internal
        parts = []
        for _ in range(r.take(">i")):
            perr, pid, leader = r.take(">hii")
            replicas = [r.take(">i") for _ in range(r.take(">i"))]
            isr = [r.take(">i") for _ in range(r.take(">i"))]
            parts.append((perr, pid, leader, replicas, isr))
        topics[name] = (err, parts)
    r.done()
    return corr, brokers, topics


_batches = {}


def batch_of(value):
    """record_batch([value]), computed once per value (CRC of MiBs)."""
    if id(value) not in _batches:
        _batches[id(value)] = (value, record_batch([value]))
    return _batches[id(value)][1]


def sized_produce(total_bytes, topic, corr):
    """A Produce v3 frame of exactly total_bytes (size prefix included),
    one record of random value bytes; returns (frame, value)."""
    vlen = max(0, total_bytes - len(produce_v3(topic, 0, record_batch([b""]), corr, client_id=CLIENT_ID)))
    for _ in range(8):
        value = rng.randbytes(vlen)
        f = produce_v3(topic, 0, record_batch([value]), corr, client_id=CLIENT_ID)
        if len(f) == total_bytes:
            return f, value
        vlen += total_bytes - len(f)
    raise AssertionError("cannot size a produce frame to %d bytes" % total_bytes)


class Checker:
    """What each pipelined request must get back, checked in order."""

    def __init__(self, node, ref_av, ref_meta):
        self.node, self.ref_av, self.ref_meta = node, ref_av, ref_meta
        self.expect = []      # (kind, corr, extra)
        self.produced = {}    # topic -> [values in offset order]
        self.next_offset = {}

    def av(self):
        c = next_corr()
        self.expect.append(("av", c, None))
        return api_versions(c)

    def meta(self):
        c = next_corr()
        self.expect.append(("meta", c, None))
        return metadata(c)

    def produce(self, topic, total_bytes=None, value=None):
        c = next_corr()
        if value is None:
            f, value = sized_produce(total_bytes, topic, c)
        else:
            f = produce_v3(topic, 0, batch_of(value), c, client_id=CLIENT_ID)
        self.expect.append(("produce", c, (topic, value)))
        return f

    def read_all(self, s, what):
        """Read one response per expected request, in order; check each."""
        node = self.node
        for i, (kind, corr, extra) in enumerate(self.expect):
            try:
                resp = recv_frame(s)
            except (OSError, ConnectionError) as e:
                check(False, "%s: response %d of %d (%s corr=%d): %s" % (what, i + 1, len(self.expect), kind, corr, e),
                      node)
            got_corr = struct.unpack_from(">i", resp, 0)[0] if len(resp) >= 4 else None
            check(got_corr == corr, "%s: response %d of %d: correlation id %r, want %d (%s)"
                  % (what, i + 1, len(self.expect), got_corr, corr, kind), node)
            if kind == "av":
                check(resp[4:] == self.ref_av[4:], "%s: ApiVersions corr=%d differs from the reference: %r"
                      % (what, corr, resp[:40]), node)
            elif kind == "meta":
                check(resp[4:] == self.ref_meta[4:], "%s: Metadata corr=%d differs from the reference: %r"
                      % (what, corr, resp[:60]), node)
            else:
                topic, value = extra
                _, parts = parse_produce_v3(resp)
                want_base = self.next_offset.get(topic, 0)
                check(len(parts) == 1 and parts[0][:3] == (topic, 0, 0) and parts[0][3] == want_base,
                      "%s: Produce corr=%d (%d-byte value): got %r, want [(%r, 0, error 0, base %d)]"
                      % (what, corr, len(value), parts, topic, want_base), node)
                self.next_offset[topic] = want_base + 1
                self.produced.setdefault(topic, []).append(value)
        n = len(self.expect)
        self.expect = []
        return n


def send_split(s, data, cuts, pause_s):
    """Send data cut at the given offsets, pausing between pieces so the
    server sees each piece on its own."""
    prev = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        s.sendall(data[prev:cut])
        prev = cut
        if pause_s:
            time.sleep(pause_s)  # let the server read this piece before the next


def nodelay(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def consume_all(node, topic, want_values):
    c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "framing", "enable.auto.commit": False,
                  "max.partition.fetch.bytes": BIG_MAX_BYTES + 1024, "fetch.max.bytes": 50 << 20,
                  "receive.message.max.bytes": 100 << 20})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 20
    while len(got) < len(want_values) and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        check(not m.error(), "consume %s: %s" % (topic, m.error()), node)
        check(m.offset() == len(got), "consume %s: offset %d, want %d" % (topic, m.offset(), len(got)), node)
        got.append(m.value())
    c.close()
    check(len(got) == len(want_values), "consume %s: %d of %d records" % (topic, len(got), len(want_values)), node)
    for i, (g, w) in enumerate(zip(got, want_values)):
        if g != w:
            first = next((j for j in range(min(len(g), len(w))) if g[j] != w[j]), min(len(g), len(w)))
            check(False, "consume %s: offset %d: %d bytes, want %d; first difference at byte %d"
                  % (topic, i, len(g), len(w), first), node)


def high_watermark(node, topic):
    c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "framing-wm"})
    _, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    return hi


def still_answers(node, what):
    check(node.alive(), "server died: %s" % what, node)
    s = connect(node)
    c = next_corr()
    s.sendall(api_versions(c))
    corr, err, _ = parse_api_versions(recv_frame(s))
    check(corr == c and err == 0, "%s: ApiVersions on a new connection: corr=%d err=%d" % (what, corr, err), node)
    s.close()



def setup(node):
    """Topics, and the reference answers (one request per connection)."""
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    new = [NewTopic(T_PIPE, 1, 1), NewTopic(T_STAGE, 1, 1),
           NewTopic(T_BIG, 1, 1, config={"max.message.bytes": str(BIG_MAX_BYTES)})]
    new += [NewTopic(t, 1, 1, config={"max.message.bytes": str(BIG_MAX_BYTES)}) for t in T_BIG_CONCURRENT]
    for f in admin.create_topics(new).values():
        f.result(timeout=10)
    del admin
    s = connect(node)
    s.sendall(api_versions(1))
    ref_av = recv_frame(s)
    corr, err, ranges = parse_api_versions(ref_av)
    check(corr == 1 and err == 0 and 0 in ranges and 3 in ranges and 18 in ranges,
          "reference ApiVersions: corr=%d err=%d keys=%r" % (corr, err, sorted(ranges)), node)
    deadline = time.monotonic() + 10
    while True:
        s.sendall(metadata(2))
        ref_meta = recv_frame(s)
        corr, brokers, topics = parse_metadata_v1(ref_meta)
        ok = (corr == 2 and T_PIPE in topics and topics[T_PIPE][0] == 0 and len(topics[T_PIPE][1]) == 1
              and topics[T_PIPE][1][0][:3] == (0, 0, 1))
        if ok or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # poll until the partition has its leader
    check(ok and (1, "127.0.0.1", node.port) in brokers, "reference Metadata: brokers=%r topics=%r"
          % (brokers, topics), node)
    s.close()
    return Checker(node, ref_av, ref_meta)


def phase_pipelined(node, ck):
    s = connect(node)
    stream = b"".join(ck.av() if rng.random() < 0.5 else ck.meta() for _ in range(300))
    s.sendall(stream)
    n = ck.read_all(s, "300 pipelined requests in one sendall (%d bytes)" % len(stream))
    s.close()
    return "%d pipelined requests (%d bytes, one sendall): all answered in order" % (n, len(stream))


def phase_byte_at_a_time(node, ck):
    s = nodelay(connect(node))
    stream = b"".join(ck.av() if i % 2 else ck.meta() for i in range(20))
    for i in range(len(stream)):
        s.send(stream[i:i + 1])
        if i % 50 == 49:
            time.sleep(0.003)  # let the server read what came so far
    n = ck.read_all(s, "byte at a time")
    s.close()
    return "%d requests sent one byte per send() (%d bytes): all answered in order" % (n, len(stream))


def phase_stage(node, ck):
    # frame ends at STAGE_BYTES + d of the stream: the stage holds the whole
    # frame plus 4, 3, 2, 1, 0 bytes of the next size prefix, or the frame is
    # 1, 2, 5, ... bytes short of whole (then read into its own buffer)
    ends = [STAGE_BYTES + d for d in (-100, -5, -4, -3, -2, -1, 0, 1, 2, 4, 5, 100)]
    ends += [2 * STAGE_BYTES - 1, 2 * STAGE_BYTES, 2 * STAGE_BYTES + 1]
    conns = 0
    for end in ends:
        # the produce first on a fresh connection: it ends at `end`
        s = connect(node)
        s.sendall(ck.produce(T_STAGE, end) + ck.av())
        ck.read_all(s, "produce ending at stream byte %d" % end)
        s.close()
        # after a small request: the produce starts mid-stage and ends at `end`
        s = connect(node)
        first = ck.av()
        s.sendall(first + ck.produce(T_STAGE, end - len(first)) + ck.av())
        ck.read_all(s, "ApiVersions then produce ending at stream byte %d" % end)
        s.close()
        conns += 2
    sizes = [STAGE_BYTES + d for d in (-4, -1, 0, 1, 5)]
    # all back to back, one sendall
    s = connect(node)
    stream = b"".join(ck.produce(T_STAGE, size) + ck.av() for size in sizes * 2)
    s.sendall(stream)
    ck.read_all(s, "stage-sized produces back to back in one sendall")
    s.close()
    # the same, split at random points (and at the stage size)
    for round_ in range(3):
        s = nodelay(connect(node))
        stream = b"".join(ck.produce(T_STAGE, size) + ck.av() for size in sizes * 2)
        cuts = [rng.randrange(1, len(stream)) for _ in range(40)]
        cuts += [STAGE_BYTES - 1, STAGE_BYTES, STAGE_BYTES + 1, 2 * STAGE_BYTES + round_]
        cuts += [rng.randrange(1, 9) for _ in range(3)]  # inside the first size prefix / header
        send_split(s, stream, cuts, 0.001)
        ck.read_all(s, "stage-sized produces split at random points (SEED=%d round %d)" % (SEED, round_))
        s.close()
    conns += 4
    want = ck.produced[T_STAGE]
    consume_all(node, T_STAGE, want)
    return ("%d connections of stage-straddling frames: %d produces acked with consecutive offsets, "
            "values read back intact" % (conns, len(want)))


def phase_large(node, ck):
    v3 = rng.randbytes(3 << 20)
    v9 = rng.randbytes(9 << 20)
    b3 = batch_of(v3)
    b9 = batch_of(v9)
    done = []
    for how in ("chunks", "one sendall"):
        s = nodelay(connect(node, timeout_s=15))
        parts = []
        for value, batch in ((v3, b3), (v9, b9)):
            c = next_corr()
            ck.expect.append(("produce", c, (T_BIG, value)))
            parts.append(produce_v3(T_BIG, 0, batch, c, client_id=CLIENT_ID))
            parts.append(ck.av() if value is v3 else ck.meta())
        stream = b"".join(parts)
        if how == "chunks":
            cuts, pos = [], 0
            while pos < len(stream):
                pos += rng.randrange(1, 65) if rng.random() < 0.2 else rng.randrange(1, 200 * 1024 + 1)
                cuts.append(pos)
            send_split(s, stream, cuts, 0.0005)
            what = "3 + 9 MiB produces in %d random chunks (SEED=%d)" % (len(cuts), SEED)
        else:
            s.sendall(stream)
            what = "3 + 9 MiB produces in one sendall"
        ck.read_all(s, what)
        s.close()
        done.append(what)
    consume_all(node, T_BIG, ck.produced[T_BIG])
    # the network threads busy with several large frames at once: the socket
    # holds more than a large frame's buffer has room for when it is read
    # (kernel autotuning grows the receive buffer to several MiB)
    errors = []

    def one(topic, sub):
        try:
            s = nodelay(connect(node, timeout_s=15))
            s.sendall(sub.produce(topic, value=v9) + sub.av() + sub.produce(topic, value=v3) + sub.meta())
            sub.read_all(s, "9 + 3 MiB produces in one sendall, %d connections at once (topic %s)"
                         % (len(T_BIG_CONCURRENT), topic))
            s.close()
        except PhaseFailed as e:
            errors.append(str(e))
        except OSError as e:
            errors.append("9 + 3 MiB produces in one sendall (topic %s): %s" % (topic, e))

    subs = [Checker(node, ck.ref_av, ck.ref_meta) for _ in T_BIG_CONCURRENT]
    threads = [threading.Thread(target=one, args=(t, sub)) for t, sub in zip(T_BIG_CONCURRENT, subs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    check(not errors, "; ".join(errors), node)
    for t, sub in zip(T_BIG_CONCURRENT, subs):
        consume_all(node, t, sub.produced[t])
    done.append("9 + 3 MiB produces in one sendall on %d connections at once" % len(T_BIG_CONCURRENT))
    return "%s; each followed by a small request: acked in order, values read back intact" % "; ".join(done)


def phase_truncated(node, ck):
    hi0 = high_watermark(node, T_BIG)
    half = produce_v3(T_BIG, 0, record_batch([rng.randbytes(2 << 20)]), next_corr(), client_id=CLIENT_ID)
    for rst in (False, True):
        s = connect(node)
        s.sendall(half[:len(half) // 2])
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        still_answers(node, "half of a %d-byte frame then %s" % (len(half), "RST" if rst else "FIN"))
    check(high_watermark(node, T_BIG) == hi0, "a half-sent produce was appended", node)
    return "half of a %d-byte frame then FIN / RST: nothing appended, node answers" % len(half)


def phase_announced(node, ck):
    """200 connections announce a 50 MiB frame and send 10 bytes of it (6,
    then 4 more once all are open: the second arrives while the frame is a
    partial request), held open, then closed."""
    rss = {"before": node.rss_kb()}

    def sample(key, settle_s=0.3):
        deadline = time.monotonic() + settle_s
        peak = node.rss_kb()
        while time.monotonic() < deadline:
            time.sleep(0.02)  # sample while the network threads take the bytes
            peak = max(peak, node.rss_kb())
        rss[key] = peak

    held = []
    announce = 50 << 20
    check(announce < REQUEST_MAX_BYTES, "50 MiB is under socket.request.max.bytes", None)
    head = produce_v3(T_BIG, 0, b"", next_corr(), client_id=CLIENT_ID)[4:14]  # 10 bytes of a real header
    try:
        for i in range(200):
            s = connect(node)
            s.sendall(struct.pack(">i", announce) + head[:6])
            held.append(s)
        still_answers(node, "200 connections holding 6 bytes of a 50 MiB frame")
        sample("6 bytes each")
        for s in held:
            s.sendall(head[6:])
        still_answers(node, "200 connections holding 10 bytes of a 50 MiB frame")
        sample("10 bytes each")
        for j, s in enumerate(held):  # the server keeps waiting: no byte, no close
            s.setblocking(False)
            try:
                data = s.recv(1)
                check(False, "held connection %d: server sent %r / closed" % (j, data), node)
            except BlockingIOError:
                pass
    finally:
        for s in held:
            s.close()
    still_answers(node, "after closing the 200 held connections")
    sample("after hang-up")
    desc = ", ".join("%s %d" % (k, v) for k, v in rss.items())
    growth = max(rss.values()) - rss["before"]
    check(growth < RSS_GROWTH_BOUND_KB, "VmRSS (kB) with 200 connections announcing %d-byte frames: %s; "
          "growth %d, bound %d" % (announce, desc, growth, RSS_GROWTH_BOUND_KB), node)
    return "200 connections announcing %d-byte frames, 10 bytes sent: VmRSS kB %s (growth bound %d)" % (
        announce, desc, RSS_GROWTH_BOUND_KB)


PHASES = [
    ("1. pipelining", phase_pipelined),
    ("2. byte at a time", phase_byte_at_a_time),
    ("3. frames straddling the 16 KiB stage", phase_stage),
    ("4. large frames", phase_large),
    ("5a. truncated frame, hang-up", phase_truncated),
    ("5b. announced 50 MiB frames", phase_announced),
]

t_start = time.monotonic()
failed = []
# socket.receive.buffer.bytes=-1: kernel autotuning (Samsa's default), so a
# socket can hold MiBs when a large frame is read
with Node(["message.max.bytes=%d" % BIG_MAX_BYTES, "socket.request.max.bytes=%d" % REQUEST_MAX_BYTES,
           "socket.receive.buffer.bytes=-1"]) as node:
    try:
        ck = setup(node)
    except PhaseFailed as e:
        node.fail("setup: %s" % e)
    for name, fn in PHASES:
        t0 = time.monotonic()
        try:
            print("ok   %s: %s (%.1fs)" % (name, fn(node, ck), time.monotonic() - t0))
        except PhaseFailed as e:
            print("FAIL %s: %s (%.1fs)" % (name, e, time.monotonic() - t0))
            failed.append(name)
            ck.expect = []  # the next phase starts on fresh connections
        sys.stdout.flush()
        if not node.alive():
            failed.append("server died")
            break
    if failed:
        node.fail("framing: %d failed: %s" % (len(failed), ", ".join(failed)))
print("framing: all checks passed (%.1fs)" % (time.monotonic() - t_start))
