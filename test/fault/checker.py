#!/usr/bin/python3
"""checker - check a produce history against the final logs of every replica.

    checker.py HISTORY.jsonl [--allow-empty] [--max-details N]

Reads a history (history.py: sends with their outcomes, the final high
watermark of each partition, one replica-read per replica and optionally a
consumer poll through the cluster) and checks, per partition:

  lost        an acknowledged send (ok) is not at the offset it was
              acknowledged with, with its exact value, in every read; or it
              was acknowledged at or above the high watermark
  duplicated  a value appears at more than one offset in a read, for a
              process that promises exactly-once (idempotent); for the others
              (at-least-once with retries) duplicates are counted as allowed
              redeliveries, not violations
  reordered   offsets in a read do not strictly increase; or a record whose
              send was invoked after another send to the partition was
              acknowledged sits at a lower (or equal) offset than that one
              (the Redpanda `writes` rule: real-time order); or an ordered
              process's acknowledged offsets are not in its invoke order
  unsent      a read holds a record no send ever invoked, or one whose send
              definitely failed (type fail)
  divergent   the replicas' logs are not byte-identical below the high
              watermark (batch by batch: base offset, length, SHA-256), or a
              replica does not reach the high watermark

It prints the violations with details, then

    N acked, L lost, D duplicated, R reordered
    U unsent, V divergent; A allowed redeliveries; I indeterminate sends (J in the log)

and exits 1 on any violation, or when nothing was acknowledged (a run that
acknowledged nothing proves nothing; --allow-empty accepts it), 2 on a
malformed history.  The same sends and reads could feed a queue or
linearizability checker (history.py explains the format).
"""
import collections
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import history  # noqa: E402


class Report:
    CLASSES = ("lost", "duplicated", "reordered", "unsent", "divergent")

    def __init__(self, max_details):
        self.items = {c: collections.OrderedDict() for c in self.CLASSES}
        self.max_details = max_details

    def add(self, cls, key, text):
        """One violation of class cls; key dedups (one record lost on 3 replicas counts once)."""
        bucket = self.items[cls]
        if key in bucket:
            if len(bucket[key]) < 400:
                bucket[key] += "; " + text
            return
        bucket[key] = text

    def n(self, cls):
        return len(self.items[cls])

    def violations(self):
        return sum(self.n(c) for c in self.CLASSES)


def part_of(op):
    return (op.get("topic", ""), op.get("partition"))


def short(v):
    """A value as the details print it: its key part (values are "<key>-<padding>")."""
    return repr(v if v is None or len(v) <= 24 else v[:21] + "...")


def pname(p):
    return "%s-%s" % p


def check(ops, max_details=20):
    """Check ops; returns (Report, stats dict)."""
    rep = Report(max_details)
    attrs = {}                                   # process -> start attributes
    invokes = {}                                 # value -> invoke op
    outcome = {}                                 # value -> completion op
    hw = {}
    reads = collections.defaultdict(list)        # partition -> [read op]
    for op in ops:
        f, t = op.get("f"), op.get("type")
        if f == "start":
            attrs[op["process"]] = op.get("value") or {}
        elif f == "send":
            v = op["value"]
            if t == "invoke":
                if v in invokes:
                    raise ValueError("value %s invoked twice: values must be unique per send" % v)
                invokes[v] = op
            elif t in ("ok", "fail", "info"):
                if v not in invokes:
                    raise ValueError("%s of value %s without an invoke" % (t, v))
                if v in outcome and outcome[v]["type"] != "info":
                    raise ValueError("value %s completed twice" % v)
                outcome[v] = op
        elif f == "hw" and t == "ok":
            hw[part_of(op)] = int(op["value"])
        elif f in ("replica-read", "poll") and t == "ok":
            reads[part_of(op)].append(op)

    acked = {v: o for v, o in outcome.items() if o["type"] == "ok"}
    by_part = collections.defaultdict(list)
    for v, o in acked.items():
        by_part[part_of(o)].append(o)
    parts = set(by_part) | set(reads)

    stats = collections.Counter(acked=len(acked))
    stats["indeterminate"] = sum(1 for o in outcome.values() if o["type"] == "info") + \
        sum(1 for v in invokes if v not in outcome)
    seen_indeterminate = set()

    for p in sorted(parts, key=lambda x: (str(x[0]), x[1] if x[1] is not None else -1)):
        # an ack without an offset is implied: librdkafka's idempotent producer
        # reports a batch whose own answer was lost (a request timeout) as
        # delivered once a later batch of the same producer is acknowledged
        # (the broker keeps sequences in order), with offset -1.  It must be
        # in the log; where cannot be checked.
        oks = [o for o in by_part.get(p, []) if o.get("offset") is not None]
        implied = [o for o in by_part.get(p, []) if o.get("offset") is None]
        stats["implied"] += len(implied)
        h = hw.get(p)
        prs = reads.get(p, [])
        if (oks or implied) and not prs:
            rep.add("lost", ("noread", p), "%s: %d acknowledged sends but no read of the partition"
                    % (pname(p), len(oks) + len(implied)))

        # acknowledged at an offset the high watermark never covered
        if h is not None:
            for o in oks:
                if o["offset"] >= h:
                    rep.add("lost", (p, o["value"]), "%s: %s acknowledged at offset %d but the high "
                            "watermark is %d" % (pname(p), short(o["value"]), o["offset"], h))

        # real-time order: the highest acknowledged offset completed before each invoke
        events = sorted([(o["time"], 1, o["offset"]) for o in oks] +
                        [(invokes[v]["time"], 0, v) for v in invokes if part_of(invokes[v]) == p])
        floor = {}
        best = -1
        for _tm, kind, x in events:
            if kind == 1:
                best = max(best, x)
            else:
                floor[x] = best                  # invoked after an ack of offset `best`

        # ordered processes: acknowledged offsets follow invoke order
        per_proc = collections.defaultdict(list)
        for o in oks:
            per_proc[o["process"]].append((invokes[o["value"]]["time"], o["offset"], o["value"]))
        for proc, lst in per_proc.items():
            if not attrs.get(proc, {}).get("ordered"):
                continue
            lst.sort()
            for (_a, off_a, va), (_b, off_b, vb) in zip(lst, lst[1:]):
                if off_b <= off_a:
                    rep.add("reordered", (p, vb), "%s: %s sent %s before %s but they were acknowledged "
                            "at offsets %d and %d" % (pname(p), proc, short(va), short(vb), off_a, off_b))

        redeliveries = 0                         # the most any one read of p shows
        for r in prs:
            who = "node %s" % r.get("node") if r.get("f") == "replica-read" else "the consumer read-back"
            limit = h if h is not None else r.get("hw")
            at = {}
            where = collections.defaultdict(list)
            prev = None
            for off, _key, val in r.get("records", []):
                if prev is not None and off <= prev:
                    rep.add("reordered", (p, who, off), "%s: %s offsets do not increase: %d after %d"
                            % (pname(p), who, off, prev))
                prev = off
                at[off] = val
                where[val].append(off)
                inv = invokes.get(val)
                if inv is None:
                    rep.add("unsent", (p, val), "%s: %s holds %s at offset %d, which no send invoked"
                            % (pname(p), who, short(val), off))
                    continue
                oc = outcome.get(val)
                if oc is not None and oc["type"] == "fail":
                    rep.add("unsent", (p, val), "%s: %s holds %s at offset %d, whose send failed "
                            "definitely (%s)" % (pname(p), who, short(val), off, oc.get("error")))
                if oc is None or oc["type"] == "info":
                    seen_indeterminate.add(val)
                if part_of(inv) != p:
                    rep.add("unsent", (p, val), "%s: %s holds %s at offset %d, sent to %s"
                            % (pname(p), who, short(val), off, pname(part_of(inv))))
                if off <= floor.get(val, -1):
                    rep.add("reordered", (p, val), "%s: %s holds %s at offset %d, but its send was "
                            "invoked after offset %d was acknowledged" % (pname(p), who, short(val), off, floor[val]))
            extra = 0
            for val, offs in where.items():
                if len(offs) < 2 or val not in invokes:
                    continue
                proc = invokes[val]["process"]
                if attrs.get(proc, {}).get("idempotent"):
                    rep.add("duplicated", (p, val), "%s: %s holds %s (idempotent %s) at offsets %s"
                            % (pname(p), who, short(val), proc, offs))
                else:
                    extra += len(offs) - 1
            redeliveries = max(redeliveries, extra)
            for o in implied:
                if not where.get(o["value"]):
                    rep.add("lost", (p, o["value"]), "%s: %s acknowledged (implied, no offset); %s does "
                            "not hold it" % (pname(p), short(o["value"]), who))
            for o in oks:
                if limit is not None and o["offset"] >= limit:
                    continue                     # reported above against the high watermark
                got = at.get(o["offset"])
                if got != o["value"]:
                    rep.add("lost", (p, o["value"]), "%s: %s acknowledged at offset %d; %s has %s there%s"
                            % (pname(p), short(o["value"]), o["offset"], who,
                               "nothing" if got is None else short(got),
                               "" if not where.get(o["value"]) else
                               " (it is at offset(s) %s)" % where[o["value"]]))

        stats["redeliveries"] += redeliveries

        # replicas byte-identical below the high watermark
        rrs = [r for r in prs if r.get("f") == "replica-read"]
        if h is not None and rrs:
            below = {}
            for r in rrs:
                bl = [tuple(b) for b in r.get("batches", []) if b[0] < h]
                covered = bl[-1][1] + 1 if bl else 0
                if covered < h:
                    rep.add("divergent", (p, "short", r.get("node")), "%s: replica on node %s ends at "
                            "offset %d, below the high watermark %d" % (pname(p), r.get("node"), covered, h))
                below[r.get("node")] = bl
            start = max((bl[0][0] for bl in below.values() if bl), default=0)
            nodes = list(below)
            ref = {b[0]: b for b in below[nodes[0]] if b[0] >= start}
            for node in nodes[1:]:
                mine = {b[0]: b for b in below[node] if b[0] >= start}
                for base in sorted(set(ref) | set(mine)):
                    a, b = ref.get(base), mine.get(base)
                    if a is None or b is None:
                        if min(len(ref), len(mine)) == 0:
                            continue             # an empty replica is reported as short above
                        rep.add("divergent", (p, "bound", node), "%s: node %s %s a batch at offset %d, "
                                "node %s %s" % (pname(p), nodes[0], "has" if a else "has no", base, node,
                                                "has" if b else "has not"))
                    elif a != b:
                        rep.add("divergent", (p, "bytes", node, base), "%s: the batch at offset %d differs: "
                                "node %s %d bytes sha256 %s..., node %s %d bytes sha256 %s..."
                                % (pname(p), base, nodes[0], a[2], a[3][:12], node, b[2], b[3][:12]))
                    else:
                        continue
                    break                        # the first divergence of a pair is enough
    stats["indeterminate_present"] = len(seen_indeterminate)
    stats["errors"] = collections.Counter(o.get("error", "?") for o in outcome.values() if o["type"] != "ok")
    return rep, stats


def summary(rep, stats):
    return ["%d acked, %d lost, %d duplicated, %d reordered"
            % (stats["acked"], rep.n("lost"), rep.n("duplicated"), rep.n("reordered")),
            "%d unsent, %d divergent; %d allowed redeliveries (at-least-once producers); "
            "%d indeterminate sends (%d in the log); %d acks implied without an offset"
            % (rep.n("unsent"), rep.n("divergent"), stats["redeliveries"], stats["indeterminate"],
               stats["indeterminate_present"], stats["implied"])]


def run(ops, allow_empty=False, max_details=10, out=sys.stdout):
    """Check, print details and the summary; returns the exit status."""
    rep, stats = check(ops, max_details)
    for c in Report.CLASSES:
        items = list(rep.items[c].values())
        for text in items[:max_details]:
            print("%s: %s" % (c.upper(), text), file=out)
        if len(items) > max_details:
            print("%s: ... and %d more" % (c.upper(), len(items) - max_details), file=out)
    for err, n in stats["errors"].most_common(5):
        print("send errors: %d x %s" % (n, err), file=out)
    for line in summary(rep, stats):
        print(line, file=out)
    if rep.violations():
        print("checker: FAIL (%d violations)" % rep.violations(), file=out)
        return 1
    if stats["acked"] == 0 and not allow_empty:
        print("checker: FAIL (no send was acknowledged: the run tested nothing)", file=out)
        return 1
    print("checker: OK", file=out)
    return 0


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    max_details = 10
    for a in argv[1:]:
        if a.startswith("--max-details="):
            max_details = int(a.split("=", 1)[1])
    try:
        ops = history.load(args[0])
        return run(ops, allow_empty="--allow-empty" in argv, max_details=max_details)
    except (OSError, ValueError, KeyError) as e:
        print("checker: cannot check %s: %s" % (args[0], e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
