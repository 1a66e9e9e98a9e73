"""history - the fault suite's operation history: one JSON object a line.

The format follows Jepsen's (jepsen.history): every operation is recorded
when it is invoked and again when it completes, so a checker can reason about
real-time order and about operations whose outcome is unknown.

    {"type": "invoke", "f": "send", "process": "p0", "topic": "t",
     "partition": 2, "key": "p0-17", "value": "p0-17-xxxx", "time": 1234}
    {"type": "ok",     "f": "send", ... same ..., "offset": 88, "time": 1300}
                       "offset": null: an implied ack (librdkafka's idempotent
                       producer reports a timed-out batch delivered once a later
                       batch of it is acked; it has no offset to give)
    {"type": "fail",   "f": "send", ..., "error": "..."}   definitely not written
    {"type": "info",   "f": "send", ..., "error": "..."}   outcome unknown

  type     invoke | ok | fail | info (Jepsen's :type)
  f        what the operation does:
             send          one produce of one record (value unique per invoke)
             start         a process's attributes: value={"idempotent": bool,
                           "ordered": bool} (ordered: its sends to one
                           partition get offsets in invoke order)
             hw            the partition's high watermark at the end (value)
             replica-read  one replica's log read from its partition dir
                           (node, hw, records, batches: see below)
             poll          records a consumer read through the cluster
             kill, restart, stop, cont, cut, heal, ...   nemesis operations
                           (process "nemesis"; informational)
  process  who did it: a producer ("p0"), "nemesis", "reader-n2", ...
  time     nanoseconds since the history started (monotonic clock)
  topic, partition, key, value, offset, error, node: where they apply

A read (replica-read, poll) carries
    "records": [[offset, key, value], ...]          in log order
    "batches": [[base_offset, last_offset, bytes, sha256_hex], ...]
                                                     (replica-read only)
Keys and values are text (the producers write ASCII; bytes read from disk are
decoded as latin-1 so any byte survives the round trip).

The checker (checker.py) reads this format; a queue or linearizability
checker can read the same sends and polls later (a send is an enqueue, a
poll's records are dequeues), which is why sends and reads are recorded as
separate operations with their own times rather than as a summary.

Invariants: lines are appended whole under a lock (threads share one
History); time never goes backwards within one History.
"""
import json
import threading
import time


class History:
    def __init__(self, path):
        self.path = path
        self._f = open(path, "w")
        self._lock = threading.Lock()
        self._t0 = time.monotonic_ns()

    def now(self):
        return time.monotonic_ns() - self._t0

    def add(self, type_, f, process, **fields):
        op = {"type": type_, "f": f, "process": process}
        op.update(fields)
        with self._lock:
            op["time"] = self.now()
            self._f.write(json.dumps(op, separators=(",", ":")) + "\n")
            self._f.flush()
        return op

    def close(self):
        with self._lock:
            self._f.close()


def load(path):
    """The operations of a history file, in file order."""
    ops = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                ops.append(json.loads(line))
            except ValueError as e:
                raise ValueError("%s:%d: not a JSON object (%s): %.80s" % (path, n, e, line))
    return ops
