#!/usr/bin/env python3
"""fetch_limits_test - the size limits of a consumer Fetch, as Kafka applies
them, against a real node with the broker's fetch.max.bytes=4096 (KIP-541).

Raw Fetch v4 requests (test/lib/kwire_py.py), so every byte is seen.
Kafka's rules (FetchRequest.json: "See KIP-74 for cases where this limit may
not be honored"; KafkaApis / ReplicaManager.readFromLocalLog):
  - a consumer's response limit is min(request max_bytes, fetch.max.bytes);
    partitions are filled in request order (v3+), each up to
    min(partition_max_bytes, what is left of the response limit);
  - the first batch of the first partition that has data is returned whole
    even past both limits (KIP-74), so a consumer never stalls on a batch
    larger than its limits; after a partition returned data, no later one
    gets more than its limits allow;
  - min_bytes is capped by the response limit (fetchMinBytes =
    min(minBytes, fetchMaxBytes)): a fetch that asks for more than it may
    be given answers as soon as the response is full, not after max_wait.
Kafka may end a partition's records with a partial batch (a byte slice of
the log); Samsa returns whole batches only, which the test asserts (clients
accept both).

Checks: 20 + 20 batches of ~1 KiB in two partitions, fetched with
max_bytes=50 MB: every response holds <= 4096 record bytes (more only as one
single first batch), whole batches, is full (the next batch would not fit),
and fetching on from the next offsets continues without gaps or repeats to
the end; a 10 KiB batch first in line comes back whole (also under a client
max_bytes / partition_max_bytes of 100) and never as an empty response, but
not when an earlier partition already returned data; a client max_bytes
below the cap wins; partition_max_bytes is honoured per partition (the
first non-empty partition gets a batch); min_bytes above the cap answers at
once, while one above what the partitions' limits allow waits out max_wait.
Prints "fetch_limits: N passed, N failed".
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

CAP = 4096                      # the node's fetch.max.bytes
BIG_CLIENT = 50 * 1000 * 1000   # a client max_bytes far above the cap
BATCHES = 20                    # per partition
VALUE_BYTES = 1000              # one record a batch: a batch is 1070 bytes
T, T_BIG = "fl", "flbig"
CLIENT_ID = "fetchlimits"
os.environ.pop("KAFKA_FETCH_MAX_BYTES", None)  # this node wants its own cap

ck = kw.Checks("fetch_limits")
check = ck.check
_corr = [0]


def rpc(s, req_of_corr):
    _corr[0] += 1
    s.sendall(req_of_corr(_corr[0]))
    return _corr[0], kw.recv_frame(s)


def value(partition, i, n=VALUE_BYTES):
    head = b"p%d-%04d-" % (partition, i)
    return head + b"x" * (n - len(head))


def produce(s, topic, partition, val, want_base):
    corr, resp = rpc(s, lambda c: kw.produce_v3(topic, partition, kw.record_batch([val]), c, client_id=CLIENT_ID))
    got_corr, parts = kw.parse_produce_v3(resp)
    ok = got_corr == corr and len(parts) == 1 and parts[0][2] == 0 and parts[0][3] == want_base
    if not ok:
        check(False, "produce %s/%d offset %d: %r" % (topic, partition, want_base, parts))
    return ok


def fetch(s, topic, parts, max_bytes=BIG_CLIENT, partition_max_bytes=BIG_CLIENT, min_bytes=1, max_wait_ms=500):
    """-> ({partition: (error, hw, [(base, batch bytes, values)], whole)},
    [partitions in response order], record bytes, seconds)."""
    t0 = time.monotonic()
    corr, resp = rpc(s, lambda c: kw.fetch_v4(topic, parts, c, max_wait_ms=max_wait_ms, min_bytes=min_bytes,
                                              max_bytes=max_bytes, partition_max_bytes=partition_max_bytes,
                                              client_id=CLIENT_ID))
    secs = time.monotonic() - t0
    got_corr, rparts = kw.parse_fetch_v4(resp)
    assert got_corr == corr, "fetch correlation id %d, want %d" % (got_corr, corr)
    out, order, total = {}, [], 0
    for _topic, p, err, hw, records in rparts:
        bs = list(kw.batches(records))
        out[p] = (err, hw, bs, sum(len(b) for _, b, _ in bs) == len(records))
        order.append(p)
        total += len(records)
    return out, order, total, secs


def summary(out):
    return ", ".join("p%d: err %d, %d batches %d B" % (p, e, len(bs), sum(len(b) for _, b, _ in bs))
                     for p, (e, _hw, bs, _w) in sorted(out.items()))


def phase_broker_cap(s, batch_bytes):
    """Two partitions from 0 with max_bytes=50 MB until both are drained."""
    offsets = {0: 0, 1: 0}
    got = {0: [], 1: []}
    responses, bad = 0, []
    while offsets != {0: BATCHES, 1: BATCHES} and responses < 4 * BATCHES:
        out, order, total, _ = fetch(s, T, [(0, offsets[0]), (1, offsets[1])])
        responses += 1
        what = "response %d from %r (%s)" % (responses, offsets, summary(out))
        n_batches = sum(len(bs) for _, _, bs, _ in out.values())
        if order != [0, 1] or any(e != 0 or hw != BATCHES for e, hw, _, _ in out.values()):
            bad.append("%s: order %r / errors / high watermarks" % (what, order))
            break
        if n_batches == 0:
            bad.append("%s: empty while data remains" % what)
            break
        if total > CAP and n_batches != 1:
            bad.append("%s: %d record bytes > fetch.max.bytes %d in %d batches" % (what, total, CAP, n_batches))
        if not all(w for _, _, _, w in out.values()):
            bad.append("%s: a partial batch" % what)
        remaining = sum(BATCHES - offsets[p] for p in (0, 1)) - n_batches
        if remaining > 0 and total + batch_bytes <= CAP:
            bad.append("%s: not full (%d B, and a %d B batch would have fit)" % (what, total, batch_bytes))
        for p in (0, 1):
            for base, _b, values in out[p][2]:
                got[p].append((base, values))
            offsets[p] += len(out[p][2])
    for p in (0, 1):
        want = [(i, [value(p, i)]) for i in range(BATCHES)]
        if got[p] != want:
            bad.append("partition %d: offsets %r, not 0..%d once each with the produced values"
                       % (p, [b for b, _ in got[p]], BATCHES - 1))
    check(not bad, "fetch.max.bytes=%d with client max_bytes=50 MB: %d responses, each <= %d record bytes of whole "
          "batches and full, 2 x %d batches read without gaps or repeats%s"
          % (CAP, responses, CAP, BATCHES, "" if not bad else ": " + "; ".join(bad[:4])))


def phase_big_first(s):
    """flbig: p0 = [10 KiB batch, 1 KiB batch], p1 = [1 KiB batch]."""
    for mb, pmb in ((BIG_CLIENT, BIG_CLIENT), (100, 100)):
        out, _, total, _ = fetch(s, T_BIG, [(0, 0), (1, 0)], max_bytes=mb, partition_max_bytes=pmb)
        bs0 = out[0][2]
        check(len(bs0) == 1 and bs0[0][0] == 0 and bs0[0][2] == [value(0, 0, 10240)] and out[0][3]
              and not out[1][2],
              "a 10 KiB batch over fetch.max.bytes, first in line (max_bytes %d, partition_max_bytes %d): returned "
              "whole and alone (KIP-74), nothing after it (%s)" % (mb, pmb, summary(out)))
    out, _, _, _ = fetch(s, T_BIG, [(0, 1)])
    check([b for b, _, _ in out[0][2]] == [1], "the batch after the 10 KiB one follows at offset 1 (%s)" % summary(out))
    out, order, _, _ = fetch(s, T_BIG, [(1, 0), (0, 0)])
    check(order == [1, 0] and len(out[1][2]) == 1 and not out[0][2] and out[0][0] == 0,
          "after p1 returned a batch, p0's 10 KiB batch (over what is left of the cap) is not returned (%s)"
          % summary(out))


def phase_client_limits(s, batch_bytes):
    out, _, total, _ = fetch(s, T, [(0, 0), (1, 0)], max_bytes=2500)
    check(len(out[0][2]) == 2 and not out[1][2] and total == 2 * batch_bytes,
          "client max_bytes=2500 below the cap wins: 2 whole batches (%s)" % summary(out))
    out, _, total, _ = fetch(s, T, [(0, 0), (1, 0)], max_bytes=100)
    check(len(out[0][2]) == 1 and not out[1][2],
          "client max_bytes=100: still the first batch whole, nothing more (%s)" % summary(out))
    out, _, total, _ = fetch(s, T, [(0, 0), (1, 0)], partition_max_bytes=1500)
    check(len(out[0][2]) == 1 and len(out[1][2]) == 1 and all(w for _, _, _, w in out.values()),
          "partition_max_bytes=1500: one whole batch from each partition (%s)" % summary(out))
    out, _, total, _ = fetch(s, T, [(0, 0), (1, 0)], partition_max_bytes=2 * batch_bytes + 10)
    check(len(out[0][2]) == 2 and len(out[1][2]) == 1,
          "partition_max_bytes=2 batches: 2 from p0, then 1 from p1 (what is left of the 4096 cap) (%s)"
          % summary(out))
    out, _, total, _ = fetch(s, T, [(0, 0), (1, 0)], partition_max_bytes=100)
    check(len(out[0][2]) == 1 and not out[1][2],
          "partition_max_bytes=100: the first non-empty partition gets one whole batch, the next none (%s)"
          % summary(out))
    out, _, total, _ = fetch(s, T, [(0, BATCHES), (1, 0)], partition_max_bytes=100)
    check(not out[0][2] and out[0][0] == 0 and len(out[1][2]) == 1,
          "partition_max_bytes=100, p0 at its end: p1 is the first non-empty partition and gets one batch (%s)"
          % summary(out))


def phase_min_bytes(s, batch_bytes):
    for mb, minb in ((BIG_CLIENT, 1 << 20), (2500, 100000)):
        out, _, total, secs = fetch(s, T, [(0, 0), (1, 0)], max_bytes=mb, min_bytes=minb, max_wait_ms=3000)
        check(secs < 1.5 and total > 0,
              "min_bytes=%d over the response limit min(max_bytes %d, fetch.max.bytes %d): answered at once as in "
              "Kafka (min_bytes is capped by it), in %.2f s with %d B" % (minb, mb, CAP, secs, total))
    out, _, total, secs = fetch(s, T, [(0, 0), (1, 0)], partition_max_bytes=1500, min_bytes=4000, max_wait_ms=1000)
    check(secs >= 0.9 and total == 2 * batch_bytes,
          "min_bytes=4000 above what 2 x partition_max_bytes=1500 may return: waits out max_wait_ms=1000 as in "
          "Kafka, then answers (%.2f s, %s)" % (secs, summary(out)))


with samsanode.Node(["fetch.max.bytes=%d" % CAP, "num.partitions=1"]) as node:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    for f in admin.create_topics([NewTopic(T, 2, 1), NewTopic(T_BIG, 2, 1)]).values():
        f.result(timeout=15)
    s = kw.connect(node)
    ok = all(produce(s, T, p, value(p, i), i) for i in range(BATCHES) for p in (0, 1))
    ok = ok and produce(s, T_BIG, 0, value(0, 0, 10240), 0) and produce(s, T_BIG, 0, value(0, 1), 1)
    ok = ok and produce(s, T_BIG, 1, value(1, 0), 0)
    check(ok, "produced 2 x %d batches of one %d B record to %s, and a 10 KiB batch + 2 small ones to %s"
          % (BATCHES, VALUE_BYTES, T, T_BIG))
    batch_bytes = len(kw.record_batch([value(0, 0)]))
    if ok:
        phase_broker_cap(s, batch_bytes)
        phase_big_first(s)
        phase_client_limits(s, batch_bytes)
        phase_min_bytes(s, batch_bytes)
    s.close()
    check(node.alive(), "server still running")
    if ck.failed:
        node.print_log(40)
ck.exit()
