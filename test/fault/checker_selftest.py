#!/usr/bin/python3
"""checker_selftest - the checker has teeth: synthetic histories, each with
one planted violation, must each be caught in its class, and a clean one
must pass.  Also reads a segment file written here (two batches, then
preallocated zeros) with replica_log, so the disk reader is tested without a
cluster.  Runs in well under a second; part of `make test` (and `make
fault-test`).

    /usr/bin/python3 test/fault/checker_selftest.py
"""
import copy
import io
import os
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import checker  # noqa: E402
import replica_log  # noqa: E402
from kwire_py import Checks, record_batch  # noqa: E402

T = "t"


def clean_history():
    """Two producers, one partition, 6 acked sends, 1 indeterminate that did land,
    3 identical replicas and a consumer poll, HW 7."""
    ops = [{"type": "info", "f": "start", "process": "p0", "value": {"idempotent": False, "ordered": False},
            "time": 0},
           {"type": "info", "f": "start", "process": "p1", "value": {"idempotent": True, "ordered": True},
            "time": 0}]
    tm = 10
    log = []
    for i in range(7):
        proc = "p%d" % (i % 2)
        v = "%s-%d" % (proc, i)
        ops.append({"type": "invoke", "f": "send", "process": proc, "topic": T, "partition": 0, "key": v,
                    "value": v, "time": tm})
        tm += 5
        if i == 6:
            ops.append({"type": "info", "f": "send", "process": proc, "topic": T, "partition": 0, "key": v,
                        "value": v, "error": "timed out", "time": tm})
        else:
            ops.append({"type": "ok", "f": "send", "process": proc, "topic": T, "partition": 0, "key": v,
                        "value": v, "offset": i, "time": tm})
        log.append([i, v, v])
        tm += 5
    ops.append({"type": "ok", "f": "hw", "process": "reader", "topic": T, "partition": 0, "value": 7, "time": tm})
    for node in (1, 2, 3):
        ops.append(replica_read(node, log, [[0, 2, 300, "a" * 64], [3, 6, 400, "b" * 64]], 7))
    ops.append({"type": "ok", "f": "poll", "process": "reader", "topic": T, "partition": 0,
                "records": copy.deepcopy(log), "time": tm + 1})
    return ops


def replica_read(node, log, batches, hw):
    return {"type": "ok", "f": "replica-read", "process": "reader-n%d" % node, "node": node, "topic": T,
            "partition": 0, "hw": hw, "records": copy.deepcopy(log), "batches": copy.deepcopy(batches),
            "time": 999}


def reads(ops, node=None):
    return [o for o in ops if o["f"] in ("replica-read", "poll") and (node is None or o.get("node") == node)]


def run(ops):
    out = io.StringIO()
    status = checker.run(ops, out=out)
    return status, out.getvalue()


def main():
    c = Checks("checker-selftest")

    status, text = run(clean_history())
    c.check(status == 0 and "6 acked, 0 lost, 0 duplicated, 0 reordered" in text,
            "a clean history passes with '6 acked, 0 lost, 0 duplicated, 0 reordered'")
    c.check("1 indeterminate sends (1 in the log)" in text, "the indeterminate send that landed is counted")

    def planted(name, mutate, want):
        ops = clean_history()
        mutate(ops)
        status, text = run(ops)
        ok = status == 1 and all(w in text for w in want)
        c.check(ok, "%s is caught (%s)" % (name, ", ".join(want)))
        if not ok:
            print(text)

    # lost: one replica misses an acked record (the follower that never got it)
    def lose(ops):
        r = reads(ops, 2)[0]
        r["records"] = [x for x in r["records"] if x[0] != 3]
    planted("a record lost on one replica", lose, ["LOST:", "'p1-3' acknowledged at offset 3; node 2 has nothing there", "1 lost"])

    # lost: an acked record overwritten by another value (truncation + new write)
    def overwrite(ops):
        for r in reads(ops):
            r["records"][4][2] = "p0-6"
            r["records"][6][2] = "p0-4x"
    planted("an acked record overwritten at its offset", overwrite, ["LOST:", "'p0-4' acknowledged at offset 4"])

    # lost: acknowledged above the high watermark
    def above_hw(ops):
        [o for o in ops if o["f"] == "hw"][0]["value"] = 5
    planted("an ack above the high watermark", above_hw, ["but the high watermark is 5"])

    # duplicated: an idempotent producer's record appears twice
    def dup(ops):
        for r in reads(ops):
            r["records"].append([7, "p1-5", "p1-5"])
    planted("a duplicated idempotent record", dup, ["DUPLICATED:", "'p1-5'", "1 duplicated"])

    # a non-idempotent producer's duplicate is an allowed redelivery, not a violation
    ops = clean_history()
    for r in reads(ops):
        r["records"].append([7, "p0-4", "p0-4"])
    status, text = run(ops)
    c.check(status == 0 and "1 allowed redeliveries" in text,
            "an at-least-once producer's duplicate is counted as an allowed redelivery")

    # reordered: real-time order broken (p0-4 acked at 5 before p1-5 was invoked; p1-5 acked at 4)
    def reorder(ops):
        for o in ops:
            if o["f"] == "send" and o["type"] == "ok" and o["value"] in ("p0-4", "p1-5"):
                o["offset"] = 9 - o["offset"]
        for r in reads(ops):
            r["records"][4][1:], r["records"][5][1:] = ["p1-5", "p1-5"], ["p0-4", "p0-4"]
    planted("a reordered pair", reorder, ["REORDERED:", "'p1-5' at offset 4, but its send was invoked after "
                                          "offset 5 was acknowledged", "1 reordered"])

    # reordered: offsets in a read that do not increase
    def nonmono(ops):
        r = reads(ops, 3)[0]
        r["records"][2], r["records"][3] = r["records"][3], r["records"][2]
    planted("offsets that do not increase", nonmono, ["REORDERED:", "offsets do not increase"])

    # unsent: a record nobody sent
    def phantom(ops):
        reads(ops, 1)[0]["records"].append([7, "ghost", "ghost"])
    planted("a record never sent", phantom, ["UNSENT:", "'ghost'", "which no send invoked"])

    # unsent: another partition's record in this partition's log (a follower that appended the
    # wrong partition's batch: seen once in partition_test, a batch of t-1 at the same offset in t-2)
    def crossed(ops):
        ops.insert(3, {"type": "invoke", "f": "send", "process": "p0", "topic": T, "partition": 1, "key": "p0-x",
                       "value": "p0-x", "time": 11})
        reads(ops, 3)[0]["records"].append([7, "p0-x", "p0-x"])
    planted("another partition's record", crossed, ["UNSENT:", "node 3 holds 'p0-x' at offset 7, sent to t-1"])

    # divergent: a replica's batch bytes differ below the HW
    def diverge(ops):
        reads(ops, 3)[0]["batches"][1][3] = "c" * 64
    planted("replica bytes that differ", diverge, ["DIVERGENT:", "the batch at offset 3 differs"])

    # divergent: a replica short of the high watermark
    def short(ops):
        r = reads(ops, 2)[0]
        r["batches"] = r["batches"][:1]
    planted("a replica below the high watermark", short, ["DIVERGENT:", "node 2 ends at offset 3"])

    # an implied ack (offset None: librdkafka's idempotent producer after a
    # request timeout) passes when the record is in the log ...
    def implied(ops):
        for o in ops:
            if o["f"] == "send" and o["type"] == "ok" and o["value"] == "p1-3":
                o["offset"] = None
    ops = clean_history()
    implied(ops)
    status, text = run(ops)
    c.check(status == 0 and "1 acks implied without an offset" in text,
            "an ack without an offset (implied) passes when the record is in every read")

    # ... and is lost when a replica does not hold it
    def implied_lost(ops):
        implied(ops)
        r = reads(ops, 2)[0]
        r["records"] = [x for x in r["records"] if x[2] != "p1-3"]
    planted("an implied ack missing from a replica", implied_lost,
            ["LOST:", "'p1-3' acknowledged (implied, no offset); node 2 does not hold it"])

    # nothing acknowledged: a run that tested nothing fails
    ops = [o for o in clean_history() if not (o["f"] == "send" and o["type"] == "ok")]
    status, text = run(ops)
    c.check(status == 1 and "no send was acknowledged" in text, "a history with no ack fails")

    # replica_log reads batches from a segment file, stopping at preallocated zeros
    with tempfile.TemporaryDirectory() as d:
        pdir = os.path.join(d, "t-0")
        os.makedirs(pdir)
        b1 = bytearray(record_batch([b"a", b"bb", b"ccc"]))
        b2 = bytearray(record_batch([b"dddd"]))
        struct.pack_into(">q", b2, 0, 3)
        with open(os.path.join(pdir, "%020d.log" % 0), "wb") as f:
            f.write(bytes(b1) + bytes(b2) + bytes(4096))
        got = replica_log.read_partition_dir(pdir)
        c.check([r[0] for r in got["records"]] == [0, 1, 2, 3] and got["records"][3][2] == "dddd"
                and got["end"] == 4 and len(got["batches"]) == 2 and got["batches"][1][:3] == [3, 3, len(b2)],
                "replica_log reads two batches and stops at the zeros (%s)" % got["batches"])
    c.exit()


if __name__ == "__main__":
    main()
