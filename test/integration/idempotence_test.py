"""idempotence_test - the idempotent producer (KIP-98/360) on a 3-node cluster.

Proves, with hand-built requests (raw frames, kwire_py) sent to the
partition's leader after InitProducerId asked at another broker:
  - InitProducerId v0 gives ids from controller-allocated blocks (two brokers
    hand out different ids) with epoch 0; v3 with a known (id, epoch) bumps
    the epoch (KIP-360); a transactional id is refused (UNSUPPORTED_VERSION);
  - a duplicate batch (same producer id, epoch, sequences) gets its original
    base offset and is not appended again;
  - a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER (45), an older epoch
    INVALID_PRODUCER_EPOCH (47), a new epoch not starting at 0 OUT_OF_ORDER;
  - batches without a producer id are unaffected;
  - producer state survives restarts: after kill -9 (state rebuilt from the
    log) and after a clean stop (from the <offset>.snapshot written at
    shutdown, checked on disk) a retried batch is still a duplicate;
  - ids never repeat after the controllers restart (ProducerIdsRecord).
Then confluent-kafka with enable.idempotence=true produces numbered records
while the test kill -9s and restarts the partition's leader node (KILLS
times, each followed by a SIGSTOP/SIGCONT stall long enough for the client to
time out and retry requests the stopped node still holds): every
acknowledged record is in the log exactly once, the log holds no duplicate
at all, and records are in production order.
"""
import glob
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check, produce_until  # noqa: E402
from kwire_py import frame, kstr, produce_v3, parse_produce_v3, record_batch, recv_frame  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

KILLS = int(os.environ.get("KILLS", "3"))
SEED = int(os.environ.get("SEED", str(int(time.time()))))
rng = random.Random(SEED)
print("seed=%d kills=%d" % (SEED, KILLS))

cl = Cluster(["broker,controller"] * 3, extra=["log.segment.bytes=65536"])
cl.start()
admin = AdminClient({"bootstrap.servers": cl.bootstrap()})
for t in ("idem-raw", "idem-ck"):
    admin.create_topics([NewTopic(t, 1, 1)])[t].result(timeout=20)


def leader_of(topic, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        md = AdminClient({"bootstrap.servers": cl.bootstrap()}).list_topics(topic, timeout=10)
        p = md.topics[topic].partitions.get(0)
        if p is not None and p.leader > 0:
            return cl.node(p.leader)
        time.sleep(0.1)
    cl.fail("no leader for %s" % topic)


def rpc(node, req):
    s = socket.create_connection(("127.0.0.1", node.client_port), timeout=15)
    try:
        s.sendall(req)
        return recv_frame(s)
    finally:
        s.close()


def init_pid(node, version=0, txn_id=None, pid=-1, epoch=-1):
    body = kstr(txn_id) + struct.pack(">i", 60000)
    if version >= 3:
        body += struct.pack(">qh", pid, epoch)
    if version >= 2:  # flexible: compact string, tagged fields
        t = b"\x00" if txn_id is None else bytes([len(txn_id) + 1]) + txn_id.encode()
        body = t + struct.pack(">i", 60000) + (struct.pack(">qh", pid, epoch) if version >= 3 else b"") + b"\x00"
        payload = struct.pack(">hhi", 22, version, 7) + kstr("idem") + b"\x00" + body
        r = rpc(node, struct.pack(">i", len(payload)) + payload)
        corr, = struct.unpack_from(">i", r)
        _throttle, err, rpid, repoch = struct.unpack_from(">ihqh", r, 5)  # header v1: corr + tags
        return err, rpid, repoch
    r = rpc(node, frame(22, version, 7, body))
    _corr, _throttle, err, rpid, repoch = struct.unpack(">iihqh", r)
    return err, rpid, repoch


def init_pid_retry(node, **kw):
    deadline = time.time() + 30
    while True:
        err, pid, epoch = init_pid(node, **kw)
        if err != 14 or time.time() > deadline:  # COORDINATOR_LOAD_IN_PROGRESS: the block is on its way
            return err, pid, epoch
        time.sleep(0.1)


def produce(node, topic, values, pid=-1, epoch=-1, seq=-1, timeout_s=30):
    """(error, base offset); retried while the partition is not led yet (6) or the node starts."""
    batch = record_batch(values, producer_id=pid, producer_epoch=epoch, base_sequence=seq)
    deadline = time.time() + timeout_s
    while True:
        try:
            _corr, parts = parse_produce_v3(rpc(node, produce_v3(topic, 0, batch, 1)))
            err, base = parts[0][2], parts[0][3]
        except OSError:
            err, base = -2, -1
        if err not in (6, 3, -2) or time.time() > deadline:
            return err, base
        time.sleep(0.1)


# ---- raw requests ----
leader = leader_of("idem-raw")
others = [n for n in cl.brokers() if n is not leader]
err, pid, epoch = init_pid_retry(others[0])
check(err == 0 and pid >= 0 and epoch == 0, "InitProducerId v0: %r" % ((err, pid, epoch),), cl)
err2, pid2, _ = init_pid_retry(others[1], version=4)
check(err2 == 0 and pid2 >= 0 and pid2 != pid, "second broker's id %d vs %d (err %d)" % (pid2, pid, err2), cl)
err, _, _ = init_pid(others[0], txn_id="txn-1")
check(err == 35, "transactional InitProducerId: error %d, want UNSUPPORTED_VERSION" % err, cl)

err, b0 = produce(leader, "idem-raw", [b"a0", b"a1", b"a2"], pid, 0, 0)
check(err == 0 and b0 == 0, "first batch: %r" % ((err, b0),), cl)
err, b1 = produce(leader, "idem-raw", [b"plain"])
check(err == 0 and b1 == 3, "plain batch: %r" % ((err, b1),), cl)
err, d = produce(leader, "idem-raw", [b"a0", b"a1", b"a2"], pid, 0, 0)
check(err == 0 and d == 0, "duplicate batch answered %r, want its original offset 0" % ((err, d),), cl)
err, b2 = produce(leader, "idem-raw", [b"a3"], pid, 0, 3)
check(err == 0 and b2 == 4, "next batch after the duplicate at %r, want 4 (nothing appended twice)" % ((err, b2),),
      cl)
err, _ = produce(leader, "idem-raw", [b"gap"], pid, 0, 9)
check(err == 45, "sequence gap: error %d, want OUT_OF_ORDER_SEQUENCE_NUMBER" % err, cl)
# KIP-360: re-init with the known (id, epoch) bumps the epoch
err, rpid, repoch = init_pid(others[1], version=3, pid=pid, epoch=0)
check((err, rpid, repoch) == (0, pid, 1), "InitProducerId v3 re-init: %r" % ((err, rpid, repoch),), cl)
err, _ = produce(leader, "idem-raw", [b"new-epoch-late"], pid, 1, 5)
check(err == 45, "a new epoch not starting at 0: error %d, want 45" % err, cl)
err, b3 = produce(leader, "idem-raw", [b"e1-0", b"e1-1"], pid, 1, 0)
check(err == 0 and b3 == 5, "new epoch batch: %r" % ((err, b3),), cl)
err, _ = produce(leader, "idem-raw", [b"a4"], pid, 0, 4)
check(err == 47, "stale epoch: error %d, want INVALID_PRODUCER_EPOCH" % err, cl)

# state survives kill -9 (replayed from the log) and a clean stop (snapshot)
for how in ("kill9", "stop"):
    if how == "kill9":
        leader.kill9()
    else:
        leader.stop()
        snaps = glob.glob(os.path.join(leader.dir, "data", "idem-raw-0", "*.snapshot"))
        check(any(os.path.basename(p) == "%020d.snapshot" % 7 for p in snaps),
              "no producer snapshot at the log end (7) after a clean stop: %r" % snaps, cl)
    leader.start()
    leader.wait_ready()
    err, d = produce(leader, "idem-raw", [b"e1-0", b"e1-1"], pid, 1, 0)
    check(err == 0 and d == 5, "after %s: retried batch answered %r, want duplicate at 5" % (how, (err, d)), cl)
    err, _ = produce(leader, "idem-raw", [b"gap"], pid, 1, 7)
    check(err == 45, "after %s: gap error %d" % (how, err), cl)
err, b4 = produce(leader, "idem-raw", [b"e1-2"], pid, 1, 2)
check(err == 0 and b4 == 7, "in sequence after restarts: %r" % ((err, b4),), cl)
print("raw checks passed: pid=%d" % pid)

# ids never repeat after every controller restarts
seen = {pid, pid2}
for n in cl.nodes:
    n.restart()
for n in cl.brokers():
    err, p, _ = init_pid_retry(n)
    check(err == 0 and p not in seen, "id %d after controller restarts repeats one of %r (err %d)" % (p, seen, err),
          cl)
    seen.add(p)

# ---- confluent-kafka, idempotent, leader kill -9 ----
TOPIC = "idem-ck"
leader = leader_of(TOPIC)
boot = [n for n in cl.brokers() if n is not leader]
acked = []
errors = []
lock = threading.Lock()
stop = threading.Event()


def on_delivery(err, msg):
    with lock:
        if err is not None:
            errors.append(str(err))
        else:
            acked.append((msg.offset(), int(msg.value())))


def produce_loop():
    p = Producer({"bootstrap.servers": ",".join(n.bootstrap for n in boot), "enable.idempotence": True,
                  "linger.ms": 5, "message.timeout.ms": 120000, "retry.backoff.ms": 50,
                  "request.timeout.ms": 1000, "socket.timeout.ms": 1000,
                  "topic.metadata.refresh.interval.ms": 500})
    produce_loop.sent = produce_until(p, TOPIC, stop, lambda i: b"%d" % i, on_delivery, errors, lock)


th = threading.Thread(target=produce_loop)
th.start()
for k in range(KILLS):
    time.sleep(rng.uniform(0.5, 2.0))
    with lock:
        before = len(acked)
    leader.kill9()
    time.sleep(rng.uniform(0.1, 1.0))
    leader.start()
    leader.wait_ready()
    print("kill %d: acked before=%d" % (k + 1, before))
    # a stall: requests time out at the client (request.timeout.ms) and are
    # retried while the stopped node still holds them; resumed, it appends
    # them, so the retries arrive as duplicates (kill -9 alone rarely leaves
    # a written but unanswered batch)
    time.sleep(rng.uniform(0.5, 1.5))
    os.kill(leader.proc.pid, signal.SIGSTOP)
    time.sleep(2.5)
    os.kill(leader.proc.pid, signal.SIGCONT)
    print("stall %d done" % (k + 1))
time.sleep(1.5)
stop.set()
th.join(180)
check(not th.is_alive(), "producer did not finish", cl)
check(not errors, "delivery errors: %r" % errors[:5], cl)
check(len(acked) > 100, "only %d acknowledged" % len(acked), cl)

c = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": "idem-check", "enable.auto.commit": False})
c.assign([TopicPartition(TOPIC, 0, 0)])
log = []
end = max(o for o, _ in acked) + 1
deadline = time.time() + 60
while time.time() < deadline and (not log or log[-1][0] < end - 1):
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    log.append((m.offset(), int(m.value())))
c.close()
values = [v for _, v in log]
check(len(values) == len(set(values)), "duplicates in the log: %d records, %d distinct" % (len(values),
                                                                                        len(set(values))), cl)
check(values == sorted(values), "records out of order", cl)
at = dict(log)
missing = [(o, v) for o, v in acked if at.get(o) != v]
check(not missing, "acknowledged records missing or moved: %r" % missing[:5], cl)
print("confluent-kafka: sent=%d acked=%d log=%d kills=%d; exactly once, in order" %
      (produce_loop.sent, len(acked), len(values), KILLS))
print("PASS")
