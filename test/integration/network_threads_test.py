#!/usr/bin/env python3
"""network_threads_test - num.network.threads network threads own the client
sockets, and pipelined requests still answer correctly and in order.

A node with num.network.threads=4:
  - exactly 4 threads named samsa-net-<n> run in the server process;
  - 64 raw connections (frames built by hand, so order is checked byte for
    byte), driven by 4 client threads at once, each pipeline ROUNDS pairs of
    Produce v3 (one record to the connection's own partition) + Fetch v4 from
    offset 0 (max_wait 5 s: the first one parks until the append is on disk)
    without reading, then ROUNDS fetches of offset i; every response must
    come back in request order (correlation ids), produce i gets base offset
    i, and every fetch returns exactly the values produced, offset by offset;
  - a connection that closes with a parked Fetch and unread responses does
    not disturb the others, and the node still answers afterwards;
  - SIGTERM: the server exits 0 (network threads joined).
Prints "network_threads: N passed, N failed".
"""
import glob
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
import kwire_py as kw  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NET_THREADS = 4
os.environ.pop("KAFKA_NUM_NETWORK_THREADS", None)  # the suite may run with it set: this node wants 4
CONNS = 64
CLIENT_THREADS = 4
ROUNDS = 20          # produce+fetch pairs pipelined per connection (40 requests in flight)
TOPIC = "nt"
CLIENT_ID = "netthreads"
ck = kw.Checks("network_threads")
check = ck.check


def produce_v3(partition, value, corr):
    return kw.produce_v3(TOPIC, partition, kw.record_batch([value]), corr, client_id=CLIENT_ID)


def fetch_v4(partition, offset, corr, max_wait_ms=5000):
    return kw.fetch_v4(TOPIC, [(partition, offset)], corr, max_wait_ms=max_wait_ms, client_id=CLIENT_ID)


def produced(resp):
    """-> (corr, error, base offset) of a one-partition Produce v3 response."""
    corr, parts = kw.parse_produce_v3(resp)
    if len(parts) != 1:
        return corr, -1, -1
    return corr, parts[0][2], parts[0][3]


def fetched(resp):
    """-> (corr, error, [(base offset, first record's value) per batch])."""
    corr, parts = kw.parse_fetch_v4(resp)
    if len(parts) != 1 or parts[0][2] != 0:
        return corr, parts[0][2] if len(parts) == 1 else -1, []
    return corr, 0, [(base, values[0]) for base, _batch, values in kw.batches(parts[0][4])]


def value_of(conn_index, i):
    return b"c%d-r%d" % (conn_index, i)


def run_conn(port, conn_index, errors):
    """One connection: pipeline ROUNDS Produce + Fetch(offset 0) pairs (the
    fetch parks until the first append is visible), then ROUNDS fetches of
    each offset; check every response in order."""
    partition = conn_index
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.settimeout(30)
    try:
        out = bytearray()
        for i in range(ROUNDS):
            out += produce_v3(partition, value_of(conn_index, i), 2 * i)
            out += fetch_v4(partition, 0, 2 * i + 1)
        s.sendall(out)
        for i in range(ROUNDS):
            corr, err, base = produced(kw.recv_frame(s))
            if (corr, err, base) != (2 * i, 0, i):
                errors.append("conn %d produce %d: corr=%d err=%d base=%d" % (conn_index, i, corr, err, base))
                return
            corr, err, batches = fetched(kw.recv_frame(s))
            want = [(o, value_of(conn_index, o)) for o in range(len(batches))]
            if corr != 2 * i + 1 or err != 0 or not batches or batches != want:
                errors.append("conn %d fetch %d: corr=%d err=%d batches=%r" % (conn_index, i, corr, err,
                                                                               batches[:3]))
                return
        out = bytearray()
        for i in range(ROUNDS):
            out += fetch_v4(partition, i, 1000 + i)
        s.sendall(out)
        for i in range(ROUNDS):
            corr, err, batches = fetched(kw.recv_frame(s))
            if corr != 1000 + i or err != 0 or not batches or batches[0] != (i, value_of(conn_index, i)):
                errors.append("conn %d fetch offset %d: corr=%d err=%d batches=%r" % (conn_index, i, corr, err,
                                                                                      batches[:3]))
                return
    except (OSError, ValueError, struct.error, IndexError) as e:
        errors.append("conn %d: %s" % (conn_index, e))
    finally:
        s.close()


def net_threads(pid):
    names = []
    for comm in glob.glob("/proc/%d/task/*/comm" % pid):
        try:
            with open(comm) as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("samsa-net-"):
            names.append(name)
    return sorted(names)


with samsanode.Node(["num.network.threads=%d" % NET_THREADS, "num.partitions=1"]) as node:
    names = net_threads(node.pid)
    check(names == ["samsa-net-%d" % i for i in range(NET_THREADS)],
          "server runs %d network threads named samsa-net-N (saw %s)" % (NET_THREADS, names))
    check("network threads started num.network.threads=%d" % NET_THREADS in node.log_text(),
          "server logged num.network.threads=%d" % NET_THREADS)
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=CONNS + 1, replication_factor=1)])[TOPIC].result(15)

    # a client that leaves with a parked fetch and unread responses (on the
    # spare partition CONNS; the second fetch may still be parked at SIGTERM)
    s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    s.sendall(fetch_v4(CONNS, 1000, 7, max_wait_ms=1500) + produce_v3(CONNS, b"x", 8) + fetch_v4(CONNS, 1000, 9))
    s.close()

    errors = []
    t0 = time.monotonic()

    def client(first):
        conns = list(range(first, CONNS, CLIENT_THREADS))
        threads = [threading.Thread(target=run_conn, args=(node.port, c, errors)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    clients = [threading.Thread(target=client, args=(i,)) for i in range(CLIENT_THREADS)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    secs = time.monotonic() - t0
    check(not errors, "%d connections x %d pipelined produce+fetch pairs from %d client threads all answered "
          "in order (%.1f s)%s" % (CONNS, ROUNDS, CLIENT_THREADS, secs, "" if not errors else ": " + "; ".join(
              errors[:5])))
    check(node.alive(), "server still running after the load")
    check(net_threads(node.pid) == names, "still %d network threads after the load" % NET_THREADS)

    rc = node.stop()
    check(rc == 0, "SIGTERM: server exited 0 with the network threads joined (rc=%s)" % rc)
    log = node.log_text()
    check("ERROR" not in log and "assert" not in log, "no errors or assertions in the server log")

ck.exit()
