"""groups_static_test - static membership (KIP-345) with confluent-kafka
(librdkafka) on a 3-node cluster, every client bootstrapped at a broker that
is NOT the group's coordinator.

Three consumers with group.instance.id i1, i2, i3 run as subprocesses (this
file with argument "consumer"), each printing its on_assign/on_revoke
callbacks as JSON lines.  Proves:
- a member killed with SIGKILL and restarted within session.timeout.ms
  (first a follower, then whichever member leads) gets its partitions back
  with no rebalance: the other two see no new on_assign/on_revoke, the
  generation (probed with raw Heartbeats) is unchanged, and DescribeGroups
  v4 shows the instance under a new member id;
- the old member id is fenced: a raw Heartbeat v3 naming it with its
  instance id gets FENCED_INSTANCE_ID (82), and without one
  UNKNOWN_MEMBER_ID (25), as in Kafka;
- each replacement is stored: the newest GroupMetadataValue (v3, decoded
  from Kafka's schema by test/lib/offsets_records.py) lists every instance
  with its current member id in the unchanged generation; a coordinator
  restart reloads it (no rebalance, the old id still fenced);
- the restarted member consumes from its partitions;
- `kafka-consumer-groups --describe --members` shows a GROUP-INSTANCE-ID
  column with the instance ids;
- a static member that stays gone is removed by its session timeout (the
  others rebalance and share its partitions);
- LeaveGroup v3 takes a member batch: a member named by instance id alone
  leaves, an old (fenced) member id gets FENCED_INSTANCE_ID, an unknown
  instance UNKNOWN_MEMBER_ID, each in its own entry.
"""
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

TOPIC = "static-topic"
GROUP = "static-group"
PARTS = 6
SESSION_MS = 15000


def consumer_main(bs, instance):
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bs, "group.id": GROUP, "group.instance.id": instance,
                  "client.id": "c-" + instance, "auto.offset.reset": "earliest",
                  "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500,
                  "partition.assignment.strategy": "range"})

    def say(ev, **kw):
        kw["ev"] = ev
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()

    c.subscribe([TOPIC], on_assign=lambda _c, ps: say("assign", parts=sorted(p.partition for p in ps)),
                on_revoke=lambda _c, ps: say("revoke", parts=sorted(p.partition for p in ps)))
    while True:
        m = c.poll(0.2)
        if m is not None and not m.error():
            say("msg", p=m.partition(), v=m.value().decode())


if len(sys.argv) > 1 and sys.argv[1] == "consumer":
    consumer_main(sys.argv[2], sys.argv[3])
    sys.exit(0)

from samsacluster import Cluster  # noqa: E402
from samsanode import CLI, check, group_partition  # noqa: E402
from offsets_records import decode  # noqa: E402
from kwire_py import Reader, kstr, recv_frame  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


class Member:
    """One consumer subprocess and the events it printed."""

    def __init__(self, bs, instance):
        self.instance = instance
        self.events = []
        self.q = queue.Queue()
        self.proc = subprocess.Popen([sys.executable, __file__, "consumer", bs, instance],
                                     stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                pass

    def pump(self):
        while True:
            try:
                self.events.append(self.q.get_nowait())
            except queue.Empty:
                return

    def assigns(self):
        return [e for e in self.events if e["ev"] in ("assign", "revoke")]

    def last_assignment(self):
        a = [e for e in self.events if e["ev"] == "assign"]
        return a[-1]["parts"] if a else None

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def raw(port, api_key, version, body, flexible=False):
    """One request -> the response body.  flexible: request header v2 and
    response header v1 (their tagged-field bytes)."""
    payload = struct.pack(">hhi", api_key, version, 9) + kstr("static-test") + (b"\x00" if flexible else b"") + body
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(struct.pack(">i", len(payload)) + payload)
        return recv_frame(s)[5 if flexible else 4:]  # past the correlation id (and header tags)
    finally:
        s.close()


def heartbeat(port, member_id, generation, instance):
    """Heartbeat v3 -> error code."""
    r = raw(port, 12, 3, kstr(GROUP) + struct.pack(">i", generation) + kstr(member_id) + kstr(instance))
    return struct.unpack(">h", r[4:6])[0]


def cstr(v):
    """A compact (flexible-version) nullable string."""
    if v is None:
        return b"\x00"
    b = v.encode()
    return bytes([len(b) + 1]) + b


def heartbeat_v4(port, member_id, generation, instance):
    """Heartbeat v4 (flexible: request header v2, compact strings, tags) -> error code."""
    body = cstr(GROUP) + struct.pack(">i", generation) + cstr(member_id) + cstr(instance) + b"\x00"
    r = raw(port, 12, 4, body, flexible=True)
    check(len(r) == 4 + 2 + 1, "Heartbeat v4 response %r" % r)  # throttle, error, tags
    return struct.unpack(">h", r[4:6])[0]


def describe(port):
    """DescribeGroups v4 -> (error, state, {instance: member_id})."""
    r = Reader(raw(port, 15, 4, struct.pack(">i", 1) + kstr(GROUP) + b"\x00"), "DescribeGroups v4")
    r.take(">i")  # throttle
    check(r.take(">i") == 1, "DescribeGroups: not one group")
    err, _gid, state, _ptype, _pdata = r.take(">h"), r.string(), r.string(), r.string(), r.string()
    members = {}
    for _ in range(r.take(">i")):
        mid, inst, _cid, _host = r.string(), r.string(), r.string(), r.string()
        r.raw(r.take(">i"))  # metadata
        r.raw(r.take(">i"))  # assignment
        members[inst] = mid
    r.take(">i")  # authorized operations
    r.done()
    return err, state, members


def generation(port, member_id, instance):
    """The group's generation: the one a member's Heartbeat accepts."""
    for g in range(1, 50):
        e = heartbeat(port, member_id, g, instance)
        if e == 0:
            return g
        check(e == 22, "probe heartbeat gen %d: error %d" % (g, e), cl)
    check(False, "no generation accepted member %s" % member_id, cl)


def wait_for(cond, timeout_s, what, members):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for m in members:
            m.pump()
        if cond():
            return
        time.sleep(0.1)
    check(False, "timed out: %s; events %r" % (what, {m.instance: m.assigns() for m in members}), cl)


def stable_with(members, port):
    err, state, ids = describe(port)
    parts = sorted(p for m in members for p in (m.last_assignment() or []))
    return (err == 0 and state == "Stable" and sorted(ids) == sorted(m.instance for m in members)
            and parts == list(range(PARTS)) and all(m.last_assignment() for m in members))


PROPS = ["offsets.topic.replication.factor=1", "offsets.topic.num.partitions=5",
         "group.initial.rebalance.delay.ms=3000"]
cl = Cluster(["broker,controller"] * 3, extra=PROPS)
cl.start()
coord = cl.coordinator(GROUP)
entry = cl.not_coordinator(GROUP)
bs = entry.bootstrap
cport = coord.client_port
print("group %s: coordinator node %d, clients bootstrap at node %d" % (GROUP, coord.id, entry.id))
admin = AdminClient({"bootstrap.servers": bs})
admin.create_topics([NewTopic(TOPIC, PARTS, 1)])[TOPIC].result(timeout=10)

ms = {i: Member(bs, i) for i in ("i1", "i2", "i3")}
wait_for(lambda: stable_with(list(ms.values()), cport), 60, "three static members Stable", list(ms.values()))
time.sleep(2)  # let any trailing rebalance show up before the counts are taken
for m in ms.values():
    m.pump()
check(stable_with(list(ms.values()), cport), "group not stable after settling", cl)
_, _, ids = describe(cport)
gen = generation(cport, ids["i1"], "i1")
print("stable: generation %d, %r" % (gen, {i: m.last_assignment() for i, m in ms.items()}))


def restart_without_rebalance(instance, gen):
    """Kill instance's consumer with SIGKILL, start it again at once: the
    group must not rebalance.  Returns the new Member."""
    others = [m for i, m in ms.items() if i != instance]
    before = {m.instance: len(m.assigns()) for m in others}
    _, _, old_ids = describe(cport)
    old_parts = ms[instance].last_assignment()
    ms[instance].kill()
    t0 = time.monotonic()
    ms[instance] = new = Member(bs, instance)
    wait_for(lambda: new.last_assignment() is not None, 30, "restarted %s assigned" % instance, [new] + others)
    check(time.monotonic() - t0 < SESSION_MS / 1000.0, "restart took longer than the session timeout", cl)
    check(new.last_assignment() == old_parts, "%s got %r, had %r" % (instance, new.last_assignment(), old_parts), cl)
    time.sleep(3)  # six heartbeat intervals: a rebalance would have reached the others
    for m in others + [new]:
        m.pump()
    for m in others:
        check(len(m.assigns()) == before[m.instance],
              "%s saw a rebalance: %r" % (m.instance, m.assigns()[before[m.instance]:]), cl)
    check(len(new.assigns()) == 1, "restarted %s: %r" % (instance, new.assigns()), cl)
    err, state, new_ids = describe(cport)
    check(err == 0 and state == "Stable", "after restart: error %d state %s" % (err, state), cl)
    check(new_ids[instance] != old_ids[instance], "%s kept member id %s" % (instance, old_ids[instance]), cl)
    for i in ms:
        if i != instance:
            check(new_ids[i] == old_ids[i], "%s's member id changed" % i, cl)
            check(heartbeat(cport, new_ids[i], gen, i) == 0, "%s: generation moved from %d" % (i, gen), cl)
    check(heartbeat(cport, new_ids[instance], gen, instance) == 0, "new %s not in generation %d" % (instance, gen), cl)
    # the old incarnation is fenced
    e = heartbeat(cport, old_ids[instance], gen, instance)
    check(e == 82, "old member id of %s: heartbeat error %d, want FENCED_INSTANCE_ID (82)" % (instance, e), cl)
    e = heartbeat(cport, old_ids[instance], gen, None)
    check(e == 25, "old member id without instance: error %d, want UNKNOWN_MEMBER_ID (25)" % e, cl)
    e = heartbeat_v4(cport, old_ids[instance], gen, instance)
    check(e == 82, "old member id, Heartbeat v4 (flexible): error %d, want 82" % e, cl)
    check(heartbeat_v4(cport, new_ids[instance], gen, instance) == 0, "new %s: Heartbeat v4 refused" % instance, cl)
    print("%s restarted: member %s -> %s, no rebalance, generation %d, old id fenced"
          % (instance, old_ids[instance], new_ids[instance], gen))
    return new


old_i2 = describe(cport)[2]["i2"]
restart_without_rebalance("i2", gen)
# whichever member leads (one of these): its restart must not rebalance either
restart_without_rebalance("i1", gen)
restart_without_rebalance("i3", gen)


def last_group_record():
    """The newest GroupMetadataValue of GROUP in __consumer_offsets, decoded
    by the test's own decoder (Kafka's schema, v3)."""
    tp = TopicPartition("__consumer_offsets", group_partition(GROUP, 5))
    raw_c = Consumer({"bootstrap.servers": bs, "group.id": "static-raw-reader", "enable.auto.commit": False})
    _lo, hi = raw_c.get_watermark_offsets(tp, timeout=10)
    raw_c.assign([TopicPartition(tp.topic, tp.partition, 0)])
    last, n = None, 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and n < hi:
        m = raw_c.poll(0.5)
        if m is not None and not m.error():
            n += 1
            rec = decode(m.key(), m.value())
            if rec["kv"] == 2 and rec["group"] == GROUP and rec.get("members") is not None:
                last = rec
    raw_c.close()
    check(n == hi and last is not None, "read %d of %d __consumer_offsets records, group record %r" % (n, hi, last), cl)
    return last


# the replacements were stored: the group record names each instance with its new member id
_, _, ids = describe(cport)
rec = last_group_record()
stored = {m["instance"]: m["member_id"] for m in rec["members"]}
check(rec["generation"] == gen and stored == ids, "stored generation %d members %r; DescribeGroups %r (gen %d)"
      % (rec["generation"], stored, ids, gen), cl)

# ... so a coordinator restart reloads them: the members carry on, no rebalance
before = {i: len(m.assigns()) for i, m in ms.items()}
coord.restart()
check(cl.coordinator(GROUP) is coord, "coordinator moved after restart", cl)
time.sleep(3)
for m in ms.values():
    m.pump()
err, state, after = describe(cport)
check(err == 0 and state == "Stable" and after == ids, "after coordinator restart: %d %s %r" % (err, state, after), cl)
check({i: len(m.assigns()) for i, m in ms.items()} == before,
      "a rebalance after the coordinator restart: %r" % {i: m.assigns() for i, m in ms.items()}, cl)
for i in ms:
    check(heartbeat(cport, ids[i], gen, i) == 0, "%s not in generation %d after the restart" % (i, gen), cl)
e = heartbeat(cport, old_i2, gen, "i2")
check(e == 82, "old i2 id after the coordinator restart: error %d, want FENCED_INSTANCE_ID (82)" % e, cl)
print("coordinator restarted: group reloaded with the replaced member ids, no rebalance, old id still fenced")

# every member, restarted ones included, consumes its own partitions
p = Producer({"bootstrap.servers": bs})
for part in range(PARTS):
    p.produce(TOPIC, value=b"after-%d" % part, partition=part)
check(p.flush(15) == 0, "produce did not finish", cl)


def got_all():
    for m in ms.values():
        want = {"after-%d" % q for q in m.last_assignment()}
        have = {e["v"] for e in m.events if e["ev"] == "msg"}
        if not want <= have:
            return False
    return True


wait_for(got_all, 30, "each member reads its partitions", list(ms.values()))

# the tool shows the instance ids as Kafka does
out = subprocess.run([CLI, "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", GROUP,
                      "--members"], capture_output=True, text=True, timeout=30)
print(out.stdout)
check(out.returncode == 0, "consumer-groups --members rc %d: %s" % (out.returncode, out.stderr), cl)
lines = [ln.split() for ln in out.stdout.splitlines() if ln.strip()]
check(lines and lines[0][:3] == ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID"],
      "header %r" % (lines[0] if lines else None), cl)
_, _, ids = describe(cport)
rows = {row[2]: row[1] for row in lines[1:]}
check(rows == {i: ids[i] for i in ("i1", "i2", "i3")}, "members table %r, DescribeGroups %r" % (rows, ids), cl)

# a static member that stays gone is removed when its session times out
before = {i: len(ms[i].assigns()) for i in ("i1", "i2")}
ms["i3"].kill()
t0 = time.monotonic()
wait_for(lambda: sorted(describe(cport)[2]) == ["i1", "i2"] and describe(cport)[1] == "Stable"
         and sorted(ms["i1"].last_assignment() + ms["i2"].last_assignment()) == list(range(PARTS)),
         SESSION_MS / 1000.0 + 30, "i3 removed after its session timeout", [ms["i1"], ms["i2"]])
waited = time.monotonic() - t0
check(waited >= SESSION_MS / 1000.0 - 1, "i3 removed after %.1f s, before its session timeout" % waited, cl)
check(all(len(ms[i].assigns()) > before[i] for i in ("i1", "i2")), "i1/i2 did not rebalance", cl)

# LeaveGroup v3 with a member batch: by instance id alone, a fenced old id,
# an unknown instance; one error per member, in order
_, _, ids = describe(cport)
body = kstr(GROUP) + struct.pack(">i", 3)
for mid, inst in (("", "i1"), (old_i2, "i2"), ("", "i9")):
    body += kstr(mid) + kstr(inst)
r = Reader(raw(cport, 13, 3, body), "LeaveGroup v3")
r.take(">i")  # throttle
top = r.take(">h")
errs = []
for _ in range(r.take(">i")):
    errs.append((r.string(), r.string(), r.take(">h")))
r.done()
check(top == 0 and errs == [("", "i1", 0), (old_i2, "i2", 82), ("", "i9", 25)], "LeaveGroup v3: %d %r" % (top, errs),
      cl)
check("static member removed by instance id" in coord.read_log(), "i1 not removed by instance id", cl)
for m in ms.values():
    if m.proc.poll() is None:
        m.kill()
print("groups_static_test: OK (i3 removed %.1f s after it died)" % waited)
