"""burrow_test - LinkedIn Burrow (Debian's `burrow` 1.2.1, sarama 1.22.1)
monitors consumer lag on a 3-node Samsa cluster, configured the way the
tutorial and Burrow's docs do it: a [cluster.X] and a [consumer.X] kafka
module bootstrapped at one broker (Burrow reads every __consumer_offsets and
topic partition, led by all three brokers, from the leaders Metadata names;
it never asks a group coordinator), its own ZooKeeper (ZooKeeperServerMain from Debian's ZooKeeper jar, started here as a
child on a free loopback port with its own data dir, so no system service need
run), and the HTTP server on a free port.

Three Burrows watch the same cluster at once, one per client profile:
kafka-version "2.1.0" (Metadata v5, Fetch v4, ListOffsets v0+v1; the version
the README documents), "0.10.0" (Debian's sample: Metadata v1, Fetch v2, so
Samsa down-converts to magic 1) and no kafka-version (sarama's default 0.8:
Metadata v0, Fetch v0, magic 0).  A real group member (confluent-kafka,
librdkafka) commits through the group protocol; Burrow reads the commits
from __consumer_offsets itself.

The "0.10.0" and default Burrows start on a cluster where no group has been
used yet: their Metadata v1/v0 for __consumer_offsets creates it, as Kafka's
AutoTopicCreationManager does (Burrow exits otherwise: "failed to get
partition count").  The "2.1.0" one starts after, bootstrapped at a broker
that is not the group's coordinator, like the clients.

Proves, for every profile:
  1. /v3/kafka lists the cluster, /topic the topic (3 partitions, RF 3),
     /consumer the group;
  2. /topic/<t> offsets equal the log end offsets ListOffsets gives a real
     client, and /consumer/<g>/lag's current_lag equals LEO - committed per
     partition after N more records are produced and not consumed;
  3. the evaluator reacts: OK while the consumer keeps up; WARN when it
     commits forward but falls behind; ERR with the partitions STALL when it
     commits the same offsets while producers go on; ERR with the partitions
     STOP once it stops committing;
  4. owner / client_id: Samsa writes GroupMetadataValue v3 as Kafka >= 2.3
     does, which Burrow 1.2.1 cannot decode (it knows v0/v1): it logs the
     decode failure and shows blank owners, while lag works.  Asserted as
     observed, so a change of the record format shows up here.

A missing burrow, ZooKeeper jar or java fails the test (deploy/install-deps.sh
installs them); it never skips.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import samsanode  # noqa: E402
from samsacluster import Cluster  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BURROW = "/usr/bin/Burrow"
ZK_JAR = "/usr/share/java/zookeeper.jar"
JAVA = "/usr/bin/java"
SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"
TOPIC = "burrow-topic"
OFFSETS = "__consumer_offsets"
GROUP = "burrow-app"
CLUSTER = "samsa"
PARTS = 3
OLD_PROFILES = [("0.10.0", "v0_10_0"), (None, "default")]  # kafka-version, name; + "2.1.0"
INTERVALS = 3  # storage window: the last 3 commits per partition
COMMIT_GAP_S = 3.0  # > storage min-distance (1 s): every commit gets its own slot;
# 2 gaps = how long WARN/STALL last before STOP (now - last > last - first)
PROPS = ["offsets.topic.num.partitions=10", "group.initial.rebalance.delay.ms=0"]

for path, pkg in ((BURROW, "burrow"), (ZK_JAR, "libzookeeper-java"), (JAVA, "default-jre-headless")):
    if not os.path.exists(path):
        print("FAIL: %s not found: install Debian's %s (deploy/install-deps.sh)" % (path, pkg))
        sys.exit(1)

t0 = time.monotonic()
work = tempfile.mkdtemp(prefix="samsa-burrow-")
children = []


def cleanup():
    for p in children:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    if not os.environ.get("KEEP"):
        shutil.rmtree(work, ignore_errors=True)


def fail(msg):
    for name in sorted(os.listdir(work)):
        log = os.path.join(work, name, "out.log")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                print("---- %s log tail:\n%s" % (name, "".join(f.readlines()[-15:])))
    cl.fail(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def spawn(name, argv, cwd):
    out = open(os.path.join(cwd, "out.log"), "w")
    p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                         preexec_fn=samsanode._die_with_parent)
    children.append(p)
    return p


def wait_for(what, fn, timeout_s=30):
    """fn() once true (polled by the cluster's wait_for), else fail with every log."""
    v = cl.wait_for(what, fn, timeout_s, fail=False)
    if not v:
        fail("timed out after %ss waiting for %s" % (timeout_s, what))
    return v


def start_zookeeper(port):
    """ZooKeeper standalone (ZooKeeperServerMain) from Debian's jar, as a child."""
    d = os.path.join(work, "zookeeper")
    os.makedirs(os.path.join(d, "data"))
    with open(os.path.join(d, "zoo.cfg"), "w") as f:
        f.write("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\n4lw.commands.whitelist=srvr\n" % (os.path.join(d, "data"), port))
    cp = ZK_JAR + (":" + SLF4J_SIMPLE if os.path.exists(SLF4J_SIMPLE) else "")  # its log, else none
    p = spawn("zookeeper", [JAVA, "-Xmx64m", "-Dzookeeper.admin.enableServer=false", "-cp", cp,
                            "org.apache.zookeeper.server.ZooKeeperServerMain", os.path.join(d, "zoo.cfg")], d)

    def serving():
        """srvr answers "Mode: standalone" once sessions are accepted (before
        that, "not currently serving requests", and sessions are dropped)."""
        if p.poll() is not None:
            fail("zookeeper exited rc=%s" % p.returncode)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.settimeout(2)
            s.sendall(b"srvr")
            ans = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                ans += chunk
            s.close()
            return b"Mode: standalone" in ans
        except OSError:
            return False
    wait_for("zookeeper serving on port %d" % port, serving, 60)
    return p


def burrow_config(version, name, http_port, zk_port, bootstrap):
    profile = 'kafka-version="%s"\n' % version if version else ""
    return """[general]
pidfile="{dir}/burrow.pid"

[logging]
level="info"

[zookeeper]
servers=["127.0.0.1:{zk}"]
timeout=6
root-path="/burrow-{name}"

[client-profile.samsa]
client-id="burrow-{name}"
{profile}
[cluster.{cluster}]
class-name="kafka"
servers=["{bs}"]
client-profile="samsa"
topic-refresh=2
offset-refresh=1

[consumer.{cluster}]
class-name="kafka"
cluster="{cluster}"
servers=["{bs}"]
client-profile="samsa"
group-blacklist="^(console-consumer-|python-kafka-consumer-|quick-).*$"
group-whitelist=""

[httpserver.default]
address="127.0.0.1:{http}"

[storage.default]
class-name="inmemory"
workers=4
intervals={intervals}
expire-group=604800
min-distance=1

[evaluator.default]
class-name="caching"
expire-cache=1
""".format(dir=os.path.join(work, name), zk=zk_port, name=name, profile=profile, cluster=CLUSTER,
           bs=bootstrap, http=http_port, intervals=INTERVALS)


class Burrow:
    def __init__(self, version, name, zk_port, bootstrap):
        self.version = version or "default (0.8)"
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.port = samsanode.free_ports(1)[0]
        with open(os.path.join(self.dir, "burrow.toml"), "w") as f:
            f.write(burrow_config(version, name, self.port, zk_port, bootstrap))
        self.proc = spawn(name, [BURROW, "-config-dir", self.dir], self.dir)

    def get(self, path):
        """The JSON answer to GET path, or None (not up yet, 404)."""
        if self.proc.poll() is not None:
            fail("burrow %s exited rc=%s" % (self.name, self.proc.returncode))
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def log(self):
        with open(os.path.join(self.dir, "out.log"), errors="replace") as f:
            return f.read()


def lag_status(b):
    r = b.get("/v3/kafka/%s/consumer/%s/lag" % (CLUSTER, GROUP))
    return r["status"] if r and not r.get("error") else None


def topic_offsets(b):
    r = b.get("/v3/kafka/%s/topic/%s" % (CLUSTER, TOPIC))
    return r.get("offsets") if r and not r.get("error") else None


def leo():
    lo_hi = [wm.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10) for p in range(PARTS)]
    return [hi for _, hi in lo_hi]


def produce(per_partition):
    for p in range(PARTS):
        for i in range(per_partition):
            prod.produce(TOPIC, value=b"r%d" % i, partition=p)
    check(prod.flush(15) == 0, "produce did not finish")


def all_burrows_see_leo(want):
    return all(topic_offsets(b) == want for b in burrows)


last_commit = [0.0]


def commit(offsets):
    """The group member commits offsets[p] for each partition (OffsetCommit
    through the group protocol), at least COMMIT_GAP_S after the last commit."""
    time.sleep(max(0.0, last_commit[0] + COMMIT_GAP_S - time.monotonic()))
    cons.commit(offsets=[TopicPartition(TOPIC, p, o) for p, o in enumerate(offsets)], asynchronous=False)
    last_commit[0] = time.monotonic()
    got = [tp.offset for tp in cons.committed([TopicPartition(TOPIC, p) for p in range(PARTS)], timeout=10)]
    check(got == offsets, "committed %r, wanted %r" % (got, offsets))


def wait_status(what, pred, timeout_s=20):
    """Poll every Burrow's /lag until pred(status) holds for all of them."""
    def all_hold():
        sts = [lag_status(b) for b in burrows]
        return sts if all(s is not None and pred(s) for s in sts) else None
    sts = cl.wait_for(what, all_hold, timeout_s, fail=False)
    if not sts:
        for b in burrows:
            print("%s: %s" % (b.name, json.dumps(lag_status(b))))
        fail("timed out after %ss waiting for Burrow to report %s" % (timeout_s, what))
    return sts


def part_statuses(st):
    return sorted((p["partition"], p["status"]) for p in st["partitions"])


try:
    cl = Cluster(["broker,controller"] * 3, extra=PROPS)
    cl.start()
    first = cl.brokers()[0]
    admin = AdminClient({"bootstrap.servers": first.bootstrap})
    admin.create_topics([NewTopic(TOPIC, PARTS, 3)])[TOPIC].result(timeout=15)

    def topic_led():
        t = admin.list_topics(TOPIC, timeout=10).topics.get(TOPIC)
        ok = t and len(t.partitions) == PARTS and all(p.leader >= 0 for p in t.partitions.values())
        return sorted(p.leader for p in t.partitions.values()) if ok else None
    print("topic %s: leaders %r" % (TOPIC, wait_for("%s led" % TOPIC, topic_led)))
    prod = Producer({"bootstrap.servers": first.bootstrap, "linger.ms": 5})
    produce(20)
    check(OFFSETS not in admin.list_topics(timeout=10).topics, "%s exists before any group" % OFFSETS)

    zk_port = samsanode.free_ports(1)[0]
    start_zookeeper(zk_port)
    print("zookeeper up on 127.0.0.1:%d (%.1fs)" % (zk_port, time.monotonic() - t0))
    # a cluster where no group has been used yet: sarama's Metadata v1/v0 for
    # __consumer_offsets creates it, as Kafka does (else Burrow exits: "failed
    # to get partition count")
    burrows = [Burrow(v, n, zk_port, first.bootstrap) for v, n in OLD_PROFILES]
    for b in burrows:
        wait_for("%s: /topic lists %s" % (b.name, TOPIC),
                 lambda: TOPIC in ((b.get("/v3/kafka/%s/topic" % CLUSTER) or {}).get("topics") or []))
    # created by their Metadata requests; the broker asked may apply it a moment
    # after Burrow's listing (the ASan CI run checked too early once)
    wait_for("%s created by Burrow's Metadata" % OFFSETS,
             lambda: OFFSETS in admin.list_topics(timeout=10).topics)
    coord = cl.coordinator(GROUP)
    entry = cl.not_coordinator(GROUP)
    bs = entry.bootstrap
    print("%s created through Burrow's Metadata; Burrows %s bootstrapped at node %d"
          % (OFFSETS, ", ".join(b.name for b in burrows), first.id))
    # now that the group's coordinator is known, the "2.1.0" Burrow and the
    # clients bootstrap at a broker that is not it
    burrows.insert(0, Burrow("2.1.0", "v2_1_0", zk_port, bs))
    print("group %s: coordinator node %d; the v2_1_0 Burrow and clients bootstrap at node %d"
          % (GROUP, coord.id, entry.id))
    wm = Consumer({"bootstrap.servers": bs, "group.id": "burrow-watermarks"})

    # 1. the cluster and the topic; topic offsets = the log end offsets
    want = leo()
    check(want == [20] * PARTS, "log end offsets %r" % want)
    for b in burrows:
        wait_for("%s: /v3/kafka lists %s" % (b.name, CLUSTER),
                 lambda: (b.get("/v3/kafka") or {}).get("clusters") == [CLUSTER])
        wait_for("%s: /topic lists %s" % (b.name, TOPIC),
                 lambda: TOPIC in ((b.get("/v3/kafka/%s/topic" % CLUSTER) or {}).get("topics") or []))
        wait_for("%s: topic offsets %r" % (b.name, want), lambda: topic_offsets(b) == want)
        print("burrow %s (kafka-version %s): cluster, topic, offsets %r" % (b.name, b.version, want))
    # from here on the cluster is settled: Burrow may warn only about what it
    # cannot decode (before, a broker that has not yet applied the new
    # __consumer_offsets answers ListOffsets UNKNOWN_TOPIC_OR_PARTITION, as
    # Kafka's would; Burrow retries at the next offset-refresh)
    settled_at = {b.name: len(b.log()) for b in burrows}

    # a real group member reads everything and commits: lag 0, status OK
    cons = Consumer({"bootstrap.servers": bs, "group.id": GROUP, "client.id": "burrow-lag-app",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 30000, "heartbeat.interval.ms": 1000})
    cons.subscribe([TOPIC])
    n = 0
    deadline = time.monotonic() + 30
    while n < 20 * PARTS and time.monotonic() < deadline:
        m = cons.poll(0.2)
        if m is not None and not m.error():
            n += 1
    check(n == 20 * PARTS, "consumer read %d of %d" % (n, 20 * PARTS))
    committed = [20] * PARTS
    commit(committed)
    for b in burrows:
        wait_for("%s: /consumer lists %s" % (b.name, GROUP),
                 lambda: GROUP in ((b.get("/v3/kafka/%s/consumer" % CLUSTER) or {}).get("consumers") or []))
    sts = wait_status("OK, lag 0", lambda s: s["status"] == "OK" and s["totallag"] == 0
                      and s["partition_count"] == PARTS)
    print("consumer kept up: status %s, totallag %d" % (sts[0]["status"], sts[0]["totallag"]))

    # 2. N more records, not consumed: lag = LEO - committed per partition
    produce(15)
    want = leo()
    check(want == [35] * PARTS, "log end offsets %r" % want)
    wait_for("every Burrow's topic offsets = %r" % want, lambda: all_burrows_see_leo(want))

    def lag_matches(s):
        got = sorted((p["partition"], p["current_lag"], p["end"]["offset"]) for p in s["partitions"])
        return got == [(p, want[p] - committed[p], committed[p]) for p in range(PARTS)] \
            and s["totallag"] == sum(want) - sum(committed)
    sts = wait_status("current_lag = LEO - committed", lag_matches)
    check(all(s["status"] == "OK" for s in sts), "status with a lag-0 commit in the window: %r" % sts)
    print("lag per partition = LEO - committed = %r, status still OK (a lag-0 commit in the window)"
          % [want[p] - committed[p] for p in range(PARTS)])

    # 4. owners and client ids, as Burrow 1.2.1 shows them
    st = sts[0]
    owners = sorted(set((p["owner"], p.get("client_id")) for p in st["partitions"]))
    print("owner/client_id Burrow shows: %r" % owners)
    check(owners == [("", "")], "expected blank owners (GroupMetadataValue v3, Burrow 1.2.1 decodes v0/v1): %r"
          % owners)
    for b in burrows:
        check('"message_type":"metadata","group":"%s","reason":"value version","version":3' % GROUP in b.log(),
              "%s: Burrow logged no GroupMetadataValue v3 decode failure for %s" % (b.name, GROUP))

    # 3. the evaluator: falling behind (commits advance, lag grows) -> WARN
    for _ in range(INTERVALS):
        produce(10)
        want = leo()
        wait_for("every Burrow's topic offsets = %r" % want, lambda: all_burrows_see_leo(want))
        committed = [c + 2 for c in committed]
        commit(committed)
    sts = wait_status("WARN (consumer falling behind)",
                      lambda s: s["status"] == "WARN" and all(p["status"] == "WARN" and p["end"]["offset"]
                                                              == committed[p["partition"]] for p in s["partitions"]), 10)
    print("consumer falling behind: status %s, partitions %r" % (sts[0]["status"], part_statuses(sts[0])))

    # stuck: the member keeps committing the same offsets, producers go on -> STALL (group ERR)
    for _ in range(INTERVALS):
        produce(10)
        want = leo()
        wait_for("every Burrow's topic offsets = %r" % want, lambda: all_burrows_see_leo(want))
        commit(committed)
    sts = wait_status("ERR with STALL partitions",
                      lambda s: s["status"] == "ERR" and all(p["status"] == "STALL" for p in s["partitions"]), 10)
    print("consumer stuck: status %s, partitions %r" % (sts[0]["status"], part_statuses(sts[0])))

    # stopped: no more commits while producers go on -> STOP (group ERR)
    produce(10)
    stop_t = time.monotonic()
    sts = wait_status("ERR with STOP partitions",
                      lambda s: s["status"] == "ERR" and all(p["status"] == "STOP" for p in s["partitions"]), 30)
    print("consumer stopped: status %s after %.1fs, partitions %r"
          % (sts[0]["status"], time.monotonic() - stop_t, part_statuses(sts[0])))
    cons.close()
    # Burrow met nothing else it could not read or ask: its only warnings since
    # the cluster settled are the GroupMetadataValue v3 decode failures above
    for b in burrows:
        bad = [ln for ln in b.log()[settled_at[b.name]:].splitlines()
               if ('"level":"warn"' in ln or '"level":"error"' in ln)
               and '"reason":"value version","version":3' not in ln]
        check(not bad, "%s: Burrow warned:\n%s" % (b.name, "\n".join(bad[:10])))
    print("PASS (%.1fs)" % (time.monotonic() - t0))
finally:
    cleanup()
