#!/usr/bin/env python3
"""fetch_sendfile_test - Fetch records sent from their segment files
(sendfile, broker/api/brk_h_fetch.c "Records by sendfile"), against a real
node: the bytes a client receives, and the descriptors it costs.

Single node on purpose: the checks count the node's own file descriptors
(/proc/<pid>/fd), which a cluster would blur.  The node runs with
RLIMIT_NOFILE 1024 (prlimit), so its budget of descriptors held by queued
responses is 256 (min(4096, RLIMIT_NOFILE / 4)).

Topic "sf": partition 0 holds 24 batches of one ~20 KB record each, in
24 segments (segment.bytes=25000), so every batch a fetch returns is sent
from its own file; partition 1 holds small batches (copied, under the
16 KiB threshold).  Raw Fetch v4 (test/lib/kwire_py.py), every byte seen:

  1. a fetch of both partitions returns every batch whole, CRC-valid, with
     the produced values, and nothing after the last partition (the frame
     length counts the bytes sent from files);
  2. one client pipelines 64 Fetch requests naming partition 0 at 24
     offsets each (24 segment files per response) and never reads: the
     node holds at most its budget of extra descriptors, and meanwhile a
     second client still fetches every batch correctly (copied once the
     budget is spent) and produces;
  3. when that client goes away, the node's descriptors return to where
     they were.
Prints "fetch_sendfile: N passed, N failed".
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

T = "sf"
BIG_BATCHES = 24
BIG_VALUE = 20000
SMALL_BATCHES = 30
NOFILE = 1024
BUDGET = NOFILE // 4
ck = kw.Checks("fetch_sendfile")
check = ck.check
_corr = [0]


def next_corr():
    _corr[0] += 1
    return _corr[0]


def value(partition, i):
    head = b"sf%d-%04d-" % (partition, i)
    return head + bytes([65 + (i + k) % 26 for k in range(BIG_VALUE if partition == 0 else 500)])


def fds(node):
    return len(os.listdir("/proc/%d/fd" % node.pid))


def fetch_all(s, parts, what):
    """Fetch parts [(partition, offset)] until every batch of both partitions
    was read once; -> list of problems."""
    want = {0: BIG_BATCHES, 1: SMALL_BATCHES}
    got = {0: [], 1: []}
    offsets = dict(parts)
    bad = []
    for _ in range(200):
        if all(offsets[p] >= want[p] for p in offsets):
            break
        corr = next_corr()
        s.sendall(kw.fetch_v4(T, sorted(offsets.items()), corr, max_wait_ms=100, max_bytes=50 << 20,
                              partition_max_bytes=1 << 20, client_id="sendfile"))
        got_corr, rparts = kw.parse_fetch_v4(kw.recv_frame(s))  # parse_fetch_v4 refuses trailing bytes
        if got_corr != corr:
            return ["%s: correlation id %d, want %d" % (what, got_corr, corr)]
        for _t, p, err, _hw, records in rparts:
            if err != 0:
                bad.append("%s: partition %d error %d" % (what, p, err))
                continue
            total = 0
            for base, b, values in kw.batches(records):
                total += len(b)
                if kw.crc32c(b[21:]) != int.from_bytes(b[17:21], "big"):
                    bad.append("%s: partition %d batch at %d fails its CRC" % (what, p, base))
                got[p].append((base, values))
                offsets[p] = base + len(values)
            if total != len(records):
                bad.append("%s: partition %d ends in a partial batch" % (what, p))
    for p in (0, 1):
        w = [(i, [value(p, i)]) for i in range(want[p])]
        if got[p] != w:
            bad.append("%s: partition %d read offsets %r, not 0..%d once each with the produced values"
                       % (what, p, [b for b, _ in got[p]][:30], want[p] - 1))
    return bad


with samsanode.Node(extra_props=["auto.create.topics.enable=false"]) as node:
    subprocess.run(["prlimit", "--pid", str(node.pid), "--nofile=%d:%d" % (NOFILE, NOFILE)], check=True)
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(T, 2, 1, config={"segment.bytes": "25000"})])[T].result(timeout=10)
    del admin
    s = kw.connect(node)
    for p, n in ((0, BIG_BATCHES), (1, SMALL_BATCHES)):
        for i in range(n):
            corr = next_corr()
            s.sendall(kw.produce_v3(T, p, kw.record_batch([value(p, i)]), corr, client_id="sendfile"))
            _c, rp = kw.parse_produce_v3(kw.recv_frame(s))
            assert rp[0][2] == 0 and rp[0][3] == i, "produce %d/%d: %r" % (p, i, rp)
    segs = len([f for f in os.listdir(os.path.join(node.root, "data", T + "-0")) if f.endswith(".log")])
    check(segs >= BIG_BATCHES, "partition 0 spans %d segment files (one per ~20 KB batch)" % segs)

    # 1. the bytes
    bad = fetch_all(s, [(0, 0), (1, 0)], "plain fetch")
    check(not bad, "Fetch v4 of both partitions: %d + %d batches whole, CRC-valid, the produced values, "
          "nothing trailing%s" % (BIG_BATCHES, SMALL_BATCHES, "" if not bad else ": " + "; ".join(bad[:3])))

    # 2. a client that asks and never reads
    time.sleep(0.5)  # segment indexes and the first fetch's descriptors settle
    base = fds(node)
    hog = kw.connect(node)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    parts = [(0, i) for i in range(BIG_BATCHES)]
    for _ in range(64):
        hog.sendall(kw.fetch_v4(T, parts, next_corr(), max_wait_ms=0, max_bytes=50 << 20,
                                partition_max_bytes=1 << 20, client_id="sendfile-hog"))
    peak = base
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        peak = max(peak, fds(node))
        time.sleep(0.05)
    check(peak - base <= BUDGET + 16, "64 unread fetches of 24 segment files each: the node held %d more descriptors "
          "(budget %d; 1536 without one)" % (peak - base, BUDGET))
    check(peak - base >= BUDGET // 2, "the unread fetches do hold descriptors while queued (%d), so the budget was "
          "reached" % (peak - base))
    s2 = kw.connect(node)
    bad = fetch_all(s2, [(0, 0), (1, 0)], "fetch beside the hog")
    check(not bad, "with the budget spent, another client still reads every batch correctly%s"
          % ("" if not bad else ": " + "; ".join(bad[:3])))
    corr = next_corr()
    s2.sendall(kw.produce_v3(T, 1, kw.record_batch([b"after"]), corr, client_id="sendfile"))
    _c, rp = kw.parse_produce_v3(kw.recv_frame(s2))
    check(rp[0][2] == 0 and rp[0][3] == SMALL_BATCHES, "and produces (%r)" % (rp,))

    # 3. the client goes away
    hog.close()
    deadline = time.monotonic() + 10
    now = fds(node)
    while now > base + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = fds(node)
    check(now <= base + 2, "after the client closed, the node's descriptors went back from %d to %d (before: %d)"
          % (peak, now, base))
    s.close()
    s2.close()
    check(node.alive(), "the node is still running")
ck.exit()
