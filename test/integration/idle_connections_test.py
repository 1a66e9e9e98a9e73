#!/usr/bin/env python3
"""idle_connections_test - connections.max.idle.ms closes idle client
connections, as Kafka's socket server does, and nothing else.

A node with connections.max.idle.ms=600:
  - a connection that sends nothing is closed within a few sweeps, and so
    is one that stops in the middle of a frame;
  - a connection that sends a request every 200 ms stays open and answered;
  - a connection with a Fetch parked longer than the idle time (max_wait
    1500 ms) is not closed under it: the fetch is answered, then the
    connection idles out;
  - a confluent-kafka producer that idles past the limit produces again
    (librdkafka reconnects on its own).
A node with the default (600000 ms) keeps an idle connection open.
Prints "idle_connections: N passed, N failed".
"""
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

IDLE_MS = 600
ck = kw.Checks("idle_connections")
check = ck.check
os.environ.pop("KAFKA_CONNECTIONS_MAX_IDLE_MS", None)


def api_versions(corr):
    return kw.frame(18, 0, corr, b"")


def closed_within(s, seconds):
    """True if the server closes s (EOF or reset) within seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([s], [], [], deadline - time.monotonic())[0]:
            try:
                return s.recv(4096) == b""
            except ConnectionResetError:
                return True
    return False


node = samsanode.Node(["connections.max.idle.ms=%d" % IDLE_MS]).start()
admin = AdminClient({"bootstrap.servers": node.bootstrap})
for f in admin.create_topics([NewTopic("idle", 1, 1)]).values():
    f.result(15)

silent = kw.connect(node)
t0 = time.monotonic()
check(closed_within(silent, 5), "a silent connection is closed (after %.2f s, idle limit %d ms)"
      % (time.monotonic() - t0, IDLE_MS))

half = kw.connect(node)
half.sendall(struct.pack(">i", 1 << 20) + b"\x00\x00\x00")  # announces 1 MiB, sends 3 bytes, stops
check(closed_within(half, 5), "a connection silent in the middle of a frame is closed too")

busy = kw.connect(node)
answered = 0
for i in range(12):  # 2.4 s, four times the idle limit
    busy.sendall(api_versions(100 + i))
    corr, err = struct.unpack_from(">ih", kw.recv_frame(busy), 0)
    answered += corr == 100 + i and err == 0
    time.sleep(0.2)
check(answered == 12, "a connection with a request every 200 ms stays open: %d of 12 answered" % answered)
busy.close()

parked = kw.connect(node)
t0 = time.monotonic()
parked.sendall(kw.fetch_v4("idle", [(0, 0)], 7, max_wait_ms=1500))
got = select.select([parked], [], [], 5)[0]
waited = time.monotonic() - t0
resp = kw.recv_frame(parked) if got else b""
ok = bool(resp) and kw.parse_fetch_v4(resp)[0] == 7
check(ok and waited >= 1.3, "a fetch parked 1.5 s (> idle limit) is answered, not cut off (%.2f s)" % waited)
check(closed_within(parked, 5), "and the connection idles out afterwards")

p = Producer({"bootstrap.servers": node.bootstrap, "acks": "1"})
acks = []
p.produce("idle", b"before", on_delivery=lambda e, m: acks.append(e))
p.flush(10)
time.sleep(2 * IDLE_MS / 1000 + 1)
p.produce("idle", b"after", on_delivery=lambda e, m: acks.append(e))
p.flush(15)
check(acks == [None, None], "a producer idle past the limit produces again: %r" % acks)
check(node.alive(), "node still running")
check(node.stop() == 0, "SIGTERM: exit 0")

default = samsanode.Node().start()
s = kw.connect(default)
check(not closed_within(s, 2.0), "with the default (600000 ms) an idle connection stays open")
s.sendall(api_versions(1))
check(struct.unpack_from(">ih", kw.recv_frame(s), 0) == (1, 0), "and is still served")
s.close()
default.stop()
ck.exit()
