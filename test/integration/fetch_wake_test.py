#!/usr/bin/env python3
"""fetch_wake_test - parked (long-poll) Fetch requests wake on the right
events, against a real node with raw Fetch v4 requests.

A Fetch at the log end parks until data or max_wait_ms.  Samsa indexes
parked fetches by partition (broker/brk_part.h brk_part_waiter): an append
wakes only the fetches parked on that partition, and a metadata change that
removes their partition answers them at once.  Checked:
  - a fetch parked on t/0 stays parked while t/1 receives appends, and is
    answered promptly (well before max_wait) with the record once t/0 does;
  - 200 fetches (20 connections x 10 pipelined) parked on t/1 all answer,
    in order per connection, after one append to t/1;
  - a fetch listing the same partition twice is answered once, correctly;
  - a fetch parked on a topic that is deleted answers promptly with an
    error, not at max_wait_ms;
  - connections that close with a parked fetch leave the node serving: an
    append to that partition afterwards is acknowledged and fetchable.
Prints "fetch_wake: N passed, N failed".
"""
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARK_MS = 10000   # max_wait of parked fetches: an answer well before it came from a wake-up
PROMPT_S = 3.0    # "promptly"
ck = kw.Checks("fetch_wake")
check = ck.check
_corr = [1000]


def corr():
    _corr[0] += 1
    return _corr[0]


def produce(s, topic, partition, val):
    c = corr()
    s.sendall(kw.produce_v3(topic, partition, kw.record_batch([val]), c))
    got, parts = kw.parse_produce_v3(kw.recv_frame(s))
    return got == c and len(parts) == 1 and parts[0][2] == 0, parts


def send_fetch(s, topic, parts, max_wait_ms=PARK_MS):
    c = corr()
    s.sendall(kw.fetch_v4(topic, parts, c, max_wait_ms=max_wait_ms))
    return c


def readable(s, wait_s):
    return bool(select.select([s], [], [], wait_s)[0])


def values_of(records):
    return [v for _, _, vs in kw.batches(records) for v in vs]


node = samsanode.Node().start()
admin = AdminClient({"bootstrap.servers": node.bootstrap})
for f in admin.create_topics([NewTopic("t", 2, 1), NewTopic("gone", 1, 1)]).values():
    f.result(15)
ctl = kw.connect(node)

# 1. a wake-up on another partition does not answer; one on ours does
s = kw.connect(node)
c = send_fetch(s, "t", [(0, 0)])
time.sleep(0.3)  # let it park
for i in range(5):
    ok, parts = produce(ctl, "t", 1, b"other-%d" % i)
    check(ok, "append %d to t/1 acknowledged %r" % (i, parts))
check(not readable(s, 0.5), "fetch parked on t/0 not answered by appends to t/1")
t0 = time.monotonic()
ok, _ = produce(ctl, "t", 0, b"hello")
check(ok, "append to t/0 acknowledged")
check(readable(s, PROMPT_S), "fetch on t/0 answered after the append to t/0")
got, rparts = kw.parse_fetch_v4(kw.recv_frame(s))
waited = time.monotonic() - t0
check(got == c and len(rparts) == 1 and rparts[0][2] == 0 and values_of(rparts[0][4]) == [b"hello"],
      "it returns the record: %r" % ([(p[1], p[2], values_of(p[4])) for p in rparts],))
check(waited < PROMPT_S, "answered %.2f s after the append (max_wait %d ms)" % (waited, PARK_MS))
s.close()

# 2. 200 parked fetches on t/1 (20 connections x 10 pipelined) wake together
end1 = 5
conns = []
for k in range(20):
    sk = kw.connect(node)
    cs = [send_fetch(sk, "t", [(1, end1)]) for _ in range(10)]
    conns.append((sk, cs))
time.sleep(0.5)
check(not any(readable(sk, 0) for sk, _ in conns), "200 fetches parked at the end of t/1")
t0 = time.monotonic()
ok, _ = produce(ctl, "t", 1, b"wake-all")
check(ok, "append to t/1 acknowledged")
answered, in_order, right = 0, True, True
for sk, cs in conns:
    for c in cs:
        if not readable(sk, PROMPT_S):
            break
        got, rparts = kw.parse_fetch_v4(kw.recv_frame(sk))
        answered += 1
        in_order = in_order and got == c
        right = right and len(rparts) == 1 and values_of(rparts[0][4]) == [b"wake-all"]
    sk.close()
check(answered == 200, "%d of 200 parked fetches answered within %.0f s (took %.2f s)"
      % (answered, PROMPT_S, time.monotonic() - t0))
check(in_order and right, "each in request order with the new record")

# 3. the same partition twice in one fetch: answered once, both entries right
s = kw.connect(node)
c = send_fetch(s, "t", [(0, 1), (0, 1)])
time.sleep(0.3)
ok, _ = produce(ctl, "t", 0, b"twice")
check(readable(s, PROMPT_S), "fetch listing t/0 twice answered after one append")
got, rparts = kw.parse_fetch_v4(kw.recv_frame(s))
check(got == c and len(rparts) == 2 and all(values_of(p[4]) == [b"twice"] for p in rparts),
      "both entries carry the record: %r" % ([(p[1], values_of(p[4])) for p in rparts],))
check(not readable(s, 0.5), "and no second response")
s.close()

# 4. a fetch parked on a topic that is deleted answers now, with an error
s = kw.connect(node)
c = send_fetch(s, "gone", [(0, 0)])
time.sleep(0.3)
t0 = time.monotonic()
for f in admin.delete_topics(["gone"]).values():
    f.result(15)
check(readable(s, PROMPT_S), "fetch on a deleted topic answered promptly (%.2f s after the delete)"
      % (time.monotonic() - t0))
if readable(s, 0):
    got, rparts = kw.parse_fetch_v4(kw.recv_frame(s))
    check(got == c and len(rparts) == 1 and rparts[0][2] != 0,
          "with an error code: %r" % ([(p[1], p[2]) for p in rparts],))
s.close()

# 5. connections closing with parked fetches; then an append to that partition
for _ in range(20):
    sk = kw.connect(node)
    send_fetch(sk, "t", [(0, 2)])  # t/0 holds offsets 0-1: parks at the end
    sk.close()
time.sleep(0.3)
ok, parts = produce(ctl, "t", 0, b"after-close")
check(ok, "append after 20 connections closed with parked fetches: %r" % (parts,))
s = kw.connect(node)
send_fetch(s, "t", [(0, 2)], max_wait_ms=0)
got, rparts = kw.parse_fetch_v4(kw.recv_frame(s))
check(values_of(rparts[0][4]) == [b"after-close"], "and it is fetchable: %r" % (values_of(rparts[0][4]),))
check(node.alive(), "node still running")
s.close()
ctl.close()
check(node.stop() == 0, "SIGTERM: exit 0")
ck.exit()
