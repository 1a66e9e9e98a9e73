#!/usr/bin/env python3
"""io_threads_test - num.io.threads bounds the threads that do the disk work.

Samsa writes and fsyncs partition logs through io_uring; the kernel runs the
blocking parts on io-wq worker threads of the server process (named
"iou-wrk-<pid>").  num.io.threads caps them.  With a flush after every
message (log.flush.interval.messages=1) and a producer spread over many
partitions, the worker count is sampled: above 0 (the disk work really runs
there) and never above num.io.threads (+1: io-wq's unbounded pool keeps one
worker for non-file work), for num.io.threads=1 and 4.
Skipped (exit 77) when the node runs the syscall fallback (no io_uring).
Prints "io_threads: N passed, N failed".
"""
import glob
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsanode  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

IO_THREADS = int(os.environ.get("IO_THREADS", "2"))
passed = failed = 0


def check(cond, what):
    global passed, failed
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passed += 1
    else:
        failed += 1


def workers(pid):
    n = 0
    for comm in glob.glob("/proc/%d/task/*/comm" % pid):
        try:
            with open(comm) as f:
                if f.read().startswith("iou-wrk"):
                    n += 1
        except OSError:
            pass
    return n


def peak_workers(io_threads):
    """Run a flush-per-message produce load against a node with
    num.io.threads=io_threads; return the peak io-wq worker count."""
    with samsanode.Node(["num.io.threads=%d" % io_threads, "log.flush.interval.messages=1",
                         "offsets.topic.replication.factor=1"]) as node:
        log = open(node.log).read()
        if "io=syscalls" in log:
            print("SKIP io_uring unavailable here: the fallback does I/O on the loop thread")
            sys.exit(77)
        check("disk I/O workers num.io.threads=%d" % io_threads in log,
              "server applied num.io.threads=%d" % io_threads)
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        admin.create_topics([NewTopic("io", num_partitions=16, replication_factor=1)])["io"].result(10)
        stop = threading.Event()
        seen = []
        pid = node.pid if isinstance(node.pid, int) else node.pid()

        def sample():
            while not stop.is_set():
                seen.append(workers(pid))
                time.sleep(0.01)

        t = threading.Thread(target=sample)
        t.start()
        p = Producer({"bootstrap.servers": node.bootstrap, "linger.ms": 0, "acks": "all"})
        t0 = time.time()
        n = 0
        while time.time() - t0 < 3:
            try:
                p.produce("io", value=b"x" * 200, partition=n % 16)
            except BufferError:
                p.poll(0.05)
                continue
            n += 1
            if n % 100 == 0:
                p.poll(0)
        p.flush(30)
        stop.set()
        t.join()
        peak = max(seen) if seen else 0
        print("     num.io.threads=%d: produced %d records, io-wq workers peak %d (%d samples)"
              % (io_threads, n, peak, len(seen)))
        return peak


low = peak_workers(1)
high = peak_workers(4)
# the file-I/O pool is capped at num.io.threads; io-wq keeps one more worker
# in its unbounded pool for non-file work
check(low >= 1, "the disk work runs on io_uring worker threads")
check(low <= 1 + 1, "num.io.threads=1 caps the disk workers (peak %d <= 1 + 1 unbounded)" % low)
check(high <= 4 + 1, "num.io.threads=4 caps the disk workers (peak %d <= 4 + 1)" % high)

print("io_threads: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
