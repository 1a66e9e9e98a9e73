"""full_disk_test - a full log dir gives clients a clear error, loses nothing, never crashes the node.

A 24 MiB tmpfs is mounted as log.dirs (metadata.log.dir stays on a normal
temp dir so the controller keeps working); two 3 MiB ballast files are placed
on it so space can be freed on purpose later.  Segments are 1 MiB, so rolls
happen while it fills.  We run as root (CI too): if the mount fails the test
FAILS, it is never skipped.

  1. acks=all, retries=0: produce values with a recognisable pattern until the
     broker refuses.  Every acknowledged (offset -> value) is recorded.  The
     refusal must be KAFKA_STORAGE_ERROR (what Kafka answers for a partition
     on a failed log dir), the process must stay alive, the server log must
     carry ONE operator line for the partition (path, error, fix), and it
     stays one while clients keep retrying (rate-limited); ApiVersions (raw
     frame) and Metadata still answer; every acknowledged record reads back
     byte for byte.
  2. rm the first ballast: produce works again WITHOUT a restart (a write
     that failed with ENOSPC puts the partition back online once its tail is
     trimmed; Kafka would need a restart here, see broker/README.md), and the
     server log says the partition is writable again.
  3. acks=1: fill again until refused; same checks.
  4. kill -9 while full, rm the second ballast, append a torn half batch to
     the active segment (what a short write at ENOSPC leaves if the process
     dies before trimming), restart: the node starts, the torn tail is cut,
     every acknowledged record is still there, and produce works.

Unmounts in a finally block.
"""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import Node, check  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "fulldisk"
VALUE_BYTES = 4000
BALLAST_BYTES = 3 << 20
OFFLINE_RE = re.compile(r"partition log cannot write dir=(\S+) err=\"([^\"]+)\".*fix=\"([^\"]+)\"")


def value_for(run, i, size=VALUE_BYTES):
    head = b"%s-%08d-" % (run, i)
    pat = bytes((i * 7 + k) & 0xFF for k in range(256))
    body = (pat * (size // 256 + 1))[:size - len(head)]
    return head + body


def api_versions_ok(port):
    """Raw ApiVersions v0: correlation id echoed and error_code 0."""
    cid = b"full-disk-test"
    body = struct.pack(">hhih", 18, 0, 4242, len(cid)) + cid
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        hdr = b""
        while len(hdr) < 4:
            chunk = s.recv(4 - len(hdr))
            if not chunk:
                return False
            hdr += chunk
        (n,) = struct.unpack(">i", hdr)
        resp = b""
        while len(resp) < n:
            chunk = s.recv(n - len(resp))
            if not chunk:
                return False
            resp += chunk
    corr, err = struct.unpack(">ih", resp[:6])
    return corr == 4242 and err == 0


def produce_until_refused(node, acks, run, acked, max_records=20000):
    """Produce one record at a time (pipelined, retries=0) until a delivery
    fails.  Returns (errors, n_sent).  acked gets offset -> value."""
    errs = []
    p = Producer({"bootstrap.servers": node.bootstrap, "acks": str(acks), "linger.ms": 2,
                  "batch.size": 65536, "retries": 0, "enable.idempotence": False,
                  "message.timeout.ms": 10000, "log_level": 0})

    def on_delivery(err, msg):
        if err is not None:
            errs.append(err)
        else:
            check(msg.offset() not in acked, "offset %d acknowledged twice" % msg.offset(), node)
            acked[msg.offset()] = msg.value()

    sent = 0
    deadline = time.monotonic() + 20
    while not errs and sent < max_records and time.monotonic() < deadline:
        v = value_for(run, sent)
        try:
            p.produce(TOPIC, value=v, partition=0, on_delivery=on_delivery)
            sent += 1
        except BufferError:
            p.poll(0.01)
        p.poll(0)
    left = p.flush(15)
    check(left == 0, "%d records undelivered after flush" % left, node)
    return errs, sent


def produce_one(node, acks, value):
    """One record, retries=0: returns (err, offset)."""
    res = []
    p = Producer({"bootstrap.servers": node.bootstrap, "acks": str(acks), "retries": 0,
                  "enable.idempotence": False, "message.timeout.ms": 10000, "log_level": 0})
    p.produce(TOPIC, value=value, partition=0, on_delivery=lambda e, m: res.append((e, m.offset())))
    p.flush(15)
    check(len(res) == 1, "no delivery report", node)
    return res[0]


def read_all(node):
    c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "fulldisk-reader",
                  "enable.auto.commit": False, "fetch.message.max.bytes": 1 << 20, "log_level": 0})
    lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
    c.assign([TopicPartition(TOPIC, 0, lo)])
    got = {}
    deadline = time.monotonic() + 20
    while len(got) < hi - lo and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got[m.offset()] = m.value()
    c.close()
    return lo, hi, got


def check_acked(node, acked, what):
    lo, hi, got = read_all(node)
    check(lo == 0, "%s: log start moved to %d" % (what, lo), node)
    missing = [o for o in acked if got.get(o) != acked[o]]
    check(not missing, "%s: %d acknowledged records missing or different, first offset %s (hi=%d)"
          % (what, len(missing), sorted(missing)[:1], hi), node)
    check(max(acked) < hi, "%s: acknowledged offset %d >= high watermark %d" % (what, max(acked), hi), node)
    print("ok %s: all %d acknowledged records read back byte for byte (log end %d)" % (what, len(acked), hi))
    return hi


def check_refused(node, errs, what):
    check(errs, "%s: the broker never refused" % what, node)
    codes = {e.code() for e in errs}
    check(codes == {KafkaError.KAFKA_STORAGE_ERROR}, "%s: refusals were %r, want KAFKA_STORAGE_ERROR only"
          % (what, [str(e) for e in errs[:3]]), node)
    check(node.alive(), "%s: node died" % what, node)
    check(api_versions_ok(node.port), "%s: ApiVersions did not answer" % what, node)
    md = AdminClient({"bootstrap.servers": node.bootstrap}).list_topics(timeout=10)
    check(TOPIC in md.topics and md.topics[TOPIC].error is None and 0 in md.topics[TOPIC].partitions,
          "%s: Metadata did not answer for %s" % (what, TOPIC), node)
    print("ok %s: refused with %s, node alive, ApiVersions and Metadata answer" % (what, errs[0].name()))


def offline_lines(node):
    return [m for m in OFFLINE_RE.finditer(node.log_text()) if m.group(1).endswith("/%s-0" % TOPIC)]


def writable_again_count(node):
    return len(re.findall(r"partition log writable again dir=\S*/%s-0 " % TOPIC, node.log_text()))


def check_one_line_per_outage(node, what):
    """While the disk is full: one 'cannot write' line per outage.  An outage
    ends when an append fits again (a pipelined smaller batch may squeeze
    into the last free page), which logs 'writable again'."""
    n, w = len(offline_lines(node)), writable_again_count(node)
    check(n == w + 1, "%s: %d 'cannot write' lines for %d 'writable again' lines: want exactly one per outage"
          % (what, n, w), node)
    return n


def main():
    mnt = tempfile.mkdtemp(prefix="samsa-fulldisk.")
    meta = tempfile.mkdtemp(prefix="samsa-fulldisk-meta.")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: cannot mount a tmpfs at %s (this test needs root, as CI has): %s" % (mnt, r.stderr.strip()))
        sys.exit(1)
    node = None
    try:
        ballast = [os.path.join(mnt, "ballast-%d" % k) for k in range(2)]
        for b in ballast:
            with open(b, "wb") as f:
                f.write(b"\xa5" * BALLAST_BYTES)
        data = os.path.join(mnt, "data")
        node = Node(["log.dirs=%s" % data, "metadata.log.dir=%s" % meta, "log.segment.bytes=1048576",
                     "offsets.topic.num.partitions=1", "samsa.log.level=info"])
        node.start()
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(timeout=10)
        acked = {}

        # 1. acks=all until refused
        errs, sent = produce_until_refused(node, -1, b"all", acked)
        print("acks=all: sent %d, acknowledged %d, refused %d" % (sent, len(acked), len(errs)))
        check(len(acked) > 1000, "acks=all: only %d acknowledged before the disk filled" % len(acked), node)
        check_refused(node, errs, "acks=all")
        # clients keep retrying, with records larger than any space left
        # (each write is short, then ENOSPC): every attempt refused; the
        # first may open a new outage if a last small batch squeezed in
        n_lines = 0
        for k in range(30):
            e, _ = produce_one(node, -1, value_for(b"retry", k, 200000))
            check(e is not None and e.code() == KafkaError.KAFKA_STORAGE_ERROR,
                  "retry %d on a full disk: %s" % (k, e), node)
            if k == 0:
                n_lines = check_one_line_per_outage(node, "acks=all")
        check(len(offline_lines(node)) == n_lines, "operator line not rate-limited: %d lines after 29 refused "
              "produces, %d before" % (len(offline_lines(node)), n_lines), node)
        check(node.alive(), "node died during retries", node)
        print("ok 30 more refused produces (200 kB records, short writes), no new operator line")
        lines = offline_lines(node)
        path, err, fix = lines[-1].groups()
        check(path == os.path.join(data, "%s-0" % TOPIC), "operator line names %s, want the partition dir" % path, node)
        check("No space left on device" in err or "no space" in err.lower(), "operator line error %r" % err, node)
        check("free space" in fix, "operator line fix %r does not say what to do" % fix, node)
        print("ok operator line: path=%s err=%r fix=%r" % (path, err, fix))
        check_acked(node, acked, "full after acks=all")

        # 2. free space: produce works again without a restart
        os.unlink(ballast[0])
        e, off = produce_one(node, -1, value_for(b"back", 0))
        check(e is None, "produce after freeing space (no restart): %s" % e, node)
        acked[off] = value_for(b"back", 0)
        check(re.search(r"partition log writable again dir=\S*/%s-0" % TOPIC, node.log_text()) is not None,
              "no 'writable again' line after recovery", node)
        print("ok produce works again after freeing space, without a restart (offset %d)" % off)

        # 3. acks=1 until refused again
        n_before = len(acked)
        errs, sent = produce_until_refused(node, 1, b"one", acked)
        print("acks=1: sent %d, acknowledged %d, refused %d" % (sent, len(acked) - n_before, len(errs)))
        check(len(acked) - n_before > 200, "acks=1: only %d acknowledged" % (len(acked) - n_before), node)
        check_refused(node, errs, "acks=1")
        e, _ = produce_one(node, 1, value_for(b"big", 0, 200000))
        check(e is not None and e.code() == KafkaError.KAFKA_STORAGE_ERROR, "acks=1 200 kB on a full disk: %s" % e,
              node)
        check_one_line_per_outage(node, "acks=1")
        check_acked(node, acked, "full after acks=1")

        # 4. kill -9 while full, free space, torn tail, restart
        node.kill()
        os.unlink(ballast[1])
        pdir = os.path.join(data, "%s-0" % TOPIC)
        logs = sorted(f for f in os.listdir(pdir) if f.endswith(".log"))
        active = os.path.join(pdir, logs[-1])
        with open(active, "rb") as f:
            first = f.read(61 + 500)
        if len(first) < 561:  # empty active segment: take the first batch of the previous one
            with open(os.path.join(pdir, logs[-2]), "rb") as f:
                first = f.read(561)
        with open(active, "ab") as f:
            f.write(first)  # a valid batch header and half its records: a torn write
        log_len = len(node.log_text())
        node.start()
        after = node.log_text()[log_len:]
        check(re.search(r"truncating torn or corrupt log tail path=\S*/%s-0/" % TOPIC, after) is not None,
              "restart: torn tail not cut", node)
        check_acked(node, acked, "after kill -9 and restart")
        e, off = produce_one(node, -1, value_for(b"after", 0))
        check(e is None, "produce after restart: %s" % e, node)
        acked[off] = value_for(b"after", 0)
        check_acked(node, acked, "final")
        node.kill()
    finally:
        if node is not None:
            node.kill(quiet=True)
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
        subprocess.run(["rm", "-rf", meta])
    print("full_disk: all checks passed")


main()
