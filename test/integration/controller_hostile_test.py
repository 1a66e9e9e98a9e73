#!/usr/bin/env python3
"""controller_hostile_test - bad input on the controller listener.

The controller listener (controller.listener.names) speaks length-prefixed
protobuf frames (proto/quorum.proto).  Garbage, a size over the frame
maximum, a zero size, an unknown frame version, bytes that do not decode, a
frame before Hello and a Hello from another cluster must each get the
connection closed, never a crash; afterwards the node still commits metadata
(a topic is created and produced to) and its log names what was refused.
Prints "controller_hostile: N passed, N failed".
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
from ctrlwire import f_bytes as pb_bytes, frame, hello  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passed += 1
    else:
        failed += 1


def closed_after(port, payload):
    """Send payload; True if the server closes the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(payload)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                d = s.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not d:
                return True
        return False
    finally:
        s.close()


with samsanode.Node(["offsets.topic.replication.factor=1"]) as node:
    cport = node.cport
    cases = [
        ("garbage bytes", b"\x13\x37" * 64),
        ("frame size over the maximum", struct.pack(">I", 0x7FFFFFF0) + b"x" * 16),
        ("zero frame size", struct.pack(">I", 0)),
        ("unknown frame version", frame(b"\x0a\x00", version=9)),
        ("bytes that do not decode", frame(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")),
        ("raft frame before Hello", frame(pb_bytes(2, b""))),
        ("Hello from another cluster", hello(7, "AAAAAAAAAAAAAAAAAAAAAA")),
    ]
    for what, payload in cases:
        check(closed_after(cport, payload), "closed: %s" % what)
    check(node.alive(), "node still running after every bad frame")
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic("after-hostile", num_partitions=1, replication_factor=1)])["after-hostile"].result(10)
    p = Producer({"bootstrap.servers": node.bootstrap})
    p.produce("after-hostile", b"still-here")
    check(p.flush(10) == 0, "metadata still commits and produce still works")
    log = open(node.log).read()
    check("another cluster" in log, "the log names the foreign cluster id")

print("controller_hostile: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
