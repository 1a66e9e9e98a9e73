#!/usr/bin/env python3
"""socket_buffers_test - socket.send.buffer.bytes / socket.receive.buffer.bytes.

Samsa's default for both is -1 (the kernel's autotuning; Kafka's 102400 pins
the window, see common/config_keys.c).  A value the operator
sets is applied to every accepted client socket, as Kafka does.  Checked
from outside with `ss -tmn`: the server side of a connection shows the
kernel's doubled value (rb/tb) when the keys are set, and the autotuned
defaults (not those values) when they are not.
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
from kwire_py import Checks  # noqa: E402

ck = Checks("socket_buffers")
check = ck.check


def server_side_buffers(node, client):
    """(rb, tb) of the server's end of `client`, from ss -tmn."""
    cport = client.getsockname()[1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-tmnH", "src", "127.0.0.1:%d" % node.port, "dst", "127.0.0.1:%d" % cport],
                             capture_output=True, text=True).stdout
        m = re.search(r"rb(\d+),t(\d+),tb(\d+)", out)
        if m:
            return int(m.group(1)), int(m.group(3))
        time.sleep(0.05)  # the network thread attaches the socket asynchronously
    return None


def run(props, want_rb, want_tb, label):
    node = samsanode.Node(props).start()
    c = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    # one request, so the socket has surely been handed to a network thread
    c.sendall(bytes.fromhex("0000000e" "0012" "0000" "00000001" "0004" "74657374"))
    c.recv(4096)
    got = server_side_buffers(node, c)
    check(got is not None, "%s: ss shows the server side of the connection" % label)
    if got:
        rb, tb = got
        if want_rb:
            check(rb == want_rb and tb == want_tb, "%s: rb=%d tb=%d (want %d, %d)" % (label, rb, tb, want_rb, want_tb))
        else:
            check(rb != 100000 and tb != 60000, "%s: autotuned rb=%d tb=%d" % (label, rb, tb))
    c.close()
    node.stop()


run(["socket.receive.buffer.bytes=50000", "socket.send.buffer.bytes=30000"], 100000, 60000, "set")
run([], None, None, "default -1")
ck.exit()
