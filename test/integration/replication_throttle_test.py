"""replication_throttle_test - replication throttles (KIP-73) on a 3-node
cluster (test/lib/samsacluster.py), driven by Kafka's tools under their own
names, each bootstrapped at a broker other than the one it needs.

Two topics of one partition on brokers 1,2 get the same ~6 MB of
incompressible records (confluent_kafka, acks=all), then each is reassigned
to add broker 3:
  - the control move, without --throttle, copies the 6 MB to broker 3 in
    well under the time the throttle would take;
  - the throttled move, `kafka-reassign-partitions --execute --throttle
    1000000` (1 MB/s on the leader and the follower), takes about as long
    as the rate implies: at least 4 s (6 MB at 1 MB/s, less the one-sample
    burst) and not orders of magnitude longer;
  - meanwhile acks=all produces to the throttled topic are not held back
    (the ISR member broker 2 is never throttled), and kafka-log-dirs
    --describe at broker 3 reports a non-zero offsetLag for the catching-up
    replica (its leader's high watermark minus its log end), then 0 once it
    is caught up (offsetLag is 0 on the leader throughout);
  - --verify reports the move completed and removes the throttle configs:
    kafka-configs --describe shows them gone from the topic and brokers;
  - two more moves at 200 KB/s copy little in their first 2 s, and finish
    at once when kafka-configs --alter raises the brokers' rates, or
    deletes the topic's throttled-replicas lists (no restart).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import samsacluster  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

TOP = samsacluster.TOP
BIN = os.path.join(TOP, "build", "bin")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
TMP = tempfile.mkdtemp(prefix="samsa-throttle-")
RECORDS = 6000
RECORD_BYTES = 1000
RATE = 1000000  # bytes/s
SLOW_RATE = 200000  # bytes/s: the dynamic change's move would take 15 s

passed = 0
failed = 0


def ok(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok: %s" % what)
    else:
        failed += 1
        print("FAIL: %s" % what)
        if detail:
            print("  " + str(detail).replace("\n", "\n  ")[:4000])
    sys.stdout.flush()
    return cond


def sh(cmd, timeout=120):
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=ENV, cwd=TMP, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect(cmd, what=None):
    code, out, err = sh(cmd)
    ok(code == 0, "%s: exit 0" % (what or cmd), "exit %d\nstdout:\n%s\nstderr:\n%s" % (code, out, err))
    return out


def produce(bs, topic, count, seed):
    """count incompressible records of RECORD_BYTES, acks=all; returns the seconds it took."""
    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "compression.type": "none"})
    errors = []
    start = time.time()
    for i in range(count):
        value = os.urandom(RECORD_BYTES)
        while True:
            try:
                p.produce(topic, value=value, key=b"%d-%d" % (seed, i),
                          on_delivery=lambda err, msg: errors.append(err) if err else None)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    took = time.time() - start
    ok(left == 0 and not errors, "%d records produced to %s" % (count, topic), (left, errors[:3]))
    return took


def log_dir_partition(bs, broker, topic):
    """kafka-log-dirs --describe at bs for broker: (size, offsetLag) of topic-0, or None."""
    code, out, _ = sh("kafka-log-dirs --bootstrap-server %s --describe --broker-list %d --topic-list %s"
                      % (bs, broker, topic), timeout=30)
    if code != 0 or len(out.splitlines()) != 3:
        return None
    for b in json.loads(out.splitlines()[2])["brokers"]:
        for d in b["logDirs"]:
            for p in d["partitions"]:
                if p["partition"] == topic + "-0":
                    return p["size"], p["offsetLag"]
    return None


def plan(topic, replicas):
    path = os.path.join(TMP, topic + ".json")
    with open(path, "w") as f:
        json.dump({"version": 1, "partitions": [{"topic": topic, "partition": 0, "replicas": replicas}]}, f)
    return path


def catch_up(bs, topic, leader_size, timeout_s=120):
    """Poll broker 3's copy of topic-0 until it has the leader's bytes.
    Returns (seconds since the call, [offsetLag seen while catching up])."""
    start = time.time()
    lags = []
    while time.time() - start < timeout_s:
        got = log_dir_partition(bs, 3, topic)
        if got is not None:
            lags.append(got[1])
            if got[0] == leader_size:
                return time.time() - start, lags
        time.sleep(0.2)
    return None, lags


def slow_move(cluster, b, topic, size, change, what):
    """Move topic-0 to add broker 3 at SLOW_RATE; after 2 s little has arrived;
    then run the change (kafka-configs --alter) and the rest arrives at once."""
    start = time.time()
    expect("kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --execute "
           "--throttle %d" % (b[2], plan(topic, [1, 2, 3]), SLOW_RATE))
    time.sleep(2)
    early = log_dir_partition(b[1], 3, topic)
    # one fetch (replica.fetch.max.bytes, 1 MiB) goes before the quota holds, then SLOW_RATE
    most = 1048576 + 3 * SLOW_RATE
    ok(early is not None and early[0] <= most and early[1] > 0,
       "%s at %d B/s: broker 3 has copied at most %d bytes of %d after %.1f s" % (topic, SLOW_RATE, most, size,
                                                                                time.time() - start), early)
    expect(change)
    start = time.time()
    took, _ = catch_up(b[1], topic, size)
    ok(took is not None and took < 3, "%s %s the rest (%d bytes, %.0f s at the rate) arrives in %.2f s"
       % (topic, what, size - (early or (0,))[0], size / SLOW_RATE, took or -1))


def main():
    cluster = samsacluster.Cluster(["broker,controller"] * 3)
    cluster.start()
    b = {n.id: n.bootstrap for n in cluster.brokers()}
    try:
        for topic, n in (("ctl", RECORDS), ("thr", RECORDS), ("dyn", RECORDS // 2), ("dyn2", RECORDS // 2)):
            expect("kafka-topics --bootstrap-server %s --create --topic %s --replica-assignment 1:2" % (b[3], topic))
            produce(b[3], topic, n, 0)
        sizes = {}
        for topic in ("ctl", "thr", "dyn", "dyn2"):
            got = cluster.wait_for("broker 2 holds %s-0" % topic,
                                   lambda: log_dir_partition(b[1], 2, topic) == log_dir_partition(b[1], 1, topic)
                                   and log_dir_partition(b[1], 1, topic))
            sizes[topic] = got[0]
        ok(sizes["thr"] >= RECORDS * RECORD_BYTES, "thr-0 holds about 6 MB on brokers 1 and 2", sizes)

        # ---- control: no throttle ----
        start = time.time()
        expect("kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --execute"
               % (b[2], plan("ctl", [1, 2, 3])))
        took, _ = catch_up(b[1], "ctl", sizes["ctl"])
        control_s = time.time() - start if took is not None else None
        ok(control_s is not None, "the unthrottled move copies ctl-0 to broker 3", control_s)
        print("control: 6 MB copied to broker 3 in %.2f s" % (control_s or -1))
        # the tool refuses --execute while any move is in progress: let the controller finish this one
        ok(cluster.wait_for("ctl's move completes", lambda: "is completed." in sh(
            "kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --verify"
            % (b[3], plan("ctl", [1, 2, 3])))[1], timeout_s=60, fail=False), "the control move completes")

        # ---- throttled: 1 MB/s ----
        start = time.time()
        out = expect("kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --execute "
                     "--throttle %d" % (b[2], plan("thr", [1, 2, 3]), RATE))
        ok("The inter-broker throttle limit was set to %d B/s" % RATE in out, "--throttle set the rate", out)
        cfg = expect("kafka-configs --bootstrap-server %s --describe --entity-type topics --entity-name thr" % b[3])
        ok("  leader.replication.throttled.replicas=0:1,0:2 " in cfg and
           "  follower.replication.throttled.replicas=0:3 " in cfg, "the topic's throttled replicas are set", cfg)
        # in-sync replication is never throttled: acks=all waits for broker 2 and is not held back
        ack_s = produce(b[2], "thr", 500, 1)
        ok(ack_s < 5, "500 acks=all records during the throttled move took %.2f s (the ISR is not throttled)"
           % ack_s, ack_s)
        leader_size = log_dir_partition(b[2], 1, "thr")[0]
        took, lags = catch_up(b[1], "thr", leader_size)
        throttled_s = time.time() - start if took is not None else None
        ok(throttled_s is not None, "the throttled move copies thr-0 to broker 3", lags[-5:])
        print("throttled: %d bytes copied to broker 3 in %.2f s at %d B/s (control %.2f s)"
              % (leader_size, throttled_s or -1, RATE, control_s or -1))
        implied = leader_size / RATE
        ok(throttled_s is not None and throttled_s >= 4.0,
           "the throttled catch-up takes at least 4 s (%.1f s implied by the rate): %.2f s" % (implied, throttled_s or -1))
        ok(throttled_s is not None and throttled_s <= 10 * implied,
           "and not orders of magnitude longer than the rate implies: %.2f s" % (throttled_s or -1))
        ok(control_s is not None and throttled_s is not None and control_s * 2 < throttled_s,
           "the unthrottled move is much faster (%.2f s vs %.2f s)" % (control_s or -1, throttled_s or -1))
        ok(any(x > 0 for x in lags), "kafka-log-dirs showed a non-zero offsetLag on broker 3 while it caught up",
           lags)
        settled = cluster.wait_for("offsetLag 0 on broker 3", lambda: log_dir_partition(b[1], 3, "thr") ==
                                   (leader_size, 0), timeout_s=30, fail=False)
        ok(settled, "offsetLag is 0 on broker 3 once caught up", log_dir_partition(b[1], 3, "thr"))
        ok(log_dir_partition(b[3], 1, "thr") == (leader_size, 0), "offsetLag is 0 on the leader",
           log_dir_partition(b[3], 1, "thr"))

        # ---- --verify: completed, throttles removed ----
        target = plan("thr", [1, 2, 3])
        verify = "kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --verify" % (b[3], target)
        done = cluster.wait_for("--verify reports completion", lambda: "is completed." in sh(
            verify + " --preserve-throttles")[1], timeout_s=60, fail=False)
        ok(done, "--verify reports the move completed")
        out = expect(verify)
        ok(out.splitlines() == ["Status of partition reassignment:", "Reassignment of partition thr-0 is completed.",
                                "", "Clearing broker-level throttles on brokers 1,2,3",
                                "Clearing topic-level throttles on topic thr"], "--verify output", out)
        cfg = expect("kafka-configs --bootstrap-server %s --describe --entity-type topics --entity-name thr" % b[1])
        ok("throttled" not in cfg, "the topic's throttle configs are gone", cfg)
        for broker in (1, 2, 3):
            cfg = expect("kafka-configs --bootstrap-server %s --describe --entity-type brokers --entity-name %d"
                         % (b[broker % 3 + 1], broker))
            ok("throttled" not in cfg, "broker %d's throttle rates are gone" % broker, cfg)

        # ---- dynamic changes apply to a running move: broker rates raised, a topic's lists deleted ----
        slow_move(cluster, b, "dyn", sizes["dyn"], " ".join(
            "&& kafka-configs --bootstrap-server %s --alter --entity-type brokers --entity-name %d --add-config "
            "leader.replication.throttled.rate=100000000,follower.replication.throttled.rate=100000000"
            % (b[x % 3 + 1], x) for x in (1, 2, 3))[3:], "with the brokers' rates raised to 100 MB/s")
        ok(cluster.wait_for("dyn's move completes", lambda: "is completed." in sh(
            "kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --verify"
            % (b[3], plan("dyn", [1, 2, 3])))[1], timeout_s=60, fail=False), "the dyn move completes")
        slow_move(cluster, b, "dyn2", sizes["dyn2"],
                  "kafka-configs --bootstrap-server %s --alter --entity-type topics --entity-name dyn2 --delete-config "
                  "leader.replication.throttled.replicas,follower.replication.throttled.replicas" % b[3],
                  "without the topic's throttled replicas")
    except Exception as e:  # a crash of the test is a failure, with the logs
        ok(False, "test raised %r" % e)
        import traceback
        traceback.print_exc()
    if failed:
        for n in cluster.nodes:
            print("---- node %d log tail:\n%s" % (n.id, n.tail(30)))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
