"""opview_test - the operator's view of a 3-node cluster (test/lib/samsacluster.py)
through Kafka's tools under their own names: kafka-log-dirs,
kafka-reassign-partitions and kafka-topics --describe's partition filters.
Every tool is bootstrapped at a broker other than the one it needs.

Proves:
  - kafka-log-dirs --describe prints Kafka's two status lines and one JSON
    line (key order as Kafka 3.x prints it) with every broker's absolute log
    dir, the partitions that live there, sizes that grow as records are
    produced, --topic-list and --broker-list filtering, and Kafka's ERROR
    line for a broker that does not exist; DescribeLogDirs v0 and v4 read
    by hand from Kafka's schema (v4's total/usable bytes = statvfs);
  - kafka-topics --describe during a move: Kafka's Adding/Removing Replicas and
    the target's replication factor;
  - kafka-reassign-partitions --generate / --execute (with --throttle) /
    --list / --verify / --cancel with Kafka's output; a move of an RF=1
    topic from broker 1 to 2 puts the partition in reassignment (replicas
    2,1, ISR 1, broker 2 opens an empty log, the throttles are stored),
    --execute again without --additional is refused, bad plans are
    refused with Kafka's messages, and a cancel restores replicas and ISR
    and clears the throttles;
  - the move completes end to end (follower fetching, AlterPartition, the
    controller's final step): --verify reports it completed and clears the
    throttles, broker 2 leads with every record and the leader's bytes,
    broker 1 no longer holds the partition;
  - a move whose new replica cannot catch up (its broker SIGSTOPped) stays
    in its first step (replicas target+current, ISR unchanged; --list,
    --verify, kafka-topics' Adding/Removing Replicas), --execute again needs
    --additional, and --cancel restores the replicas and clears the throttles;
  - after a broker is killed: --unavailable-partitions, --under-replicated-
    partitions, --under-min-isr-partitions, --at-min-isr-partitions and
    --exclude-internal print exactly Kafka's partition lines.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import samsacluster  # noqa: E402
from ctrlwire import read_varint  # noqa: E402  (unsigned: compact lengths)
from kwire_py import frame, kstr, recv_frame  # noqa: E402

from confluent_kafka.admin import AdminClient  # noqa: E402

TOP = samsacluster.TOP
BIN = os.path.join(TOP, "build", "bin")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
TMP = tempfile.mkdtemp(prefix="samsa-opview-")

passed = 0
failed = 0


def ok(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what)
        if detail:
            print("  " + str(detail).replace("\n", "\n  ")[:4000])
    return cond


def sh(cmd, stdin=None, timeout=120):
    p = subprocess.run(["bash", "-c", cmd], input=stdin, capture_output=True, text=True, env=ENV, cwd=TMP,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect(cmd, rc=0, what=None, stdin=None):
    code, out, err = sh(cmd, stdin)
    ok(code == rc, "%s: exit %d, want %d" % (what or cmd, code, rc), "stdout:\n%s\nstderr:\n%s" % (out, err))
    return out


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def partition_md(bootstrap, topic, partition=0):
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=20)
    return md.topics[topic].partitions[partition]


def log_dirs(bs, extra=""):
    """kafka-log-dirs --describe: (status lines, parsed JSON, raw JSON line)."""
    out = expect("kafka-log-dirs --bootstrap-server %s --describe %s" % (bs, extra), what="log-dirs " + extra)
    lines = out.splitlines()
    if not ok(len(lines) == 3, "log-dirs %s: 3 lines" % extra, out):
        return lines, {"brokers": []}, ""
    return lines[:2], json.loads(lines[2]), lines[2]


def sizes(doc, partition):
    """{broker: size} of partition in a log-dirs document."""
    got = {}
    for b in doc["brokers"]:
        for d in b["logDirs"]:
            for p in d["partitions"]:
                if p["partition"] == partition:
                    got[b["broker"]] = p["size"]
    return got


def wait_for(pred, timeout=30, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Reader:
    """Kafka wire fields, classic or compact (flexible versions)."""

    def __init__(self, data, flexible):
        self.d, self.p, self.flex = data, 0, flexible

    def take(self, fmt):
        v = struct.unpack_from(">" + fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def count(self):
        if self.flex:
            n, self.p = read_varint(self.d, self.p)
            return n - 1
        return self.take("i")

    def string(self):
        n = self.count() if self.flex else self.take("h")
        v = self.d[self.p:self.p + n].decode()
        self.p += n
        return v

    def tags(self):
        if self.flex:
            n, self.p = read_varint(self.d, self.p)
            assert n == 0, "unexpected tagged fields"


def describe_log_dirs_raw(port, version):
    """DescribeLogDirs (all topics) at version, parsed by hand from Kafka's
    schema: [(error, dir, {partition: (size, lag, future)}, total, usable)]."""
    flex = version >= 2
    if flex:  # request header v2: client id stays a classic string, then tags; body: null topics, tags
        payload = struct.pack(">hhi", 35, version, 7) + kstr("opview") + b"\x00" + b"\x00\x00"
        req = struct.pack(">i", len(payload)) + payload
    else:
        req = frame(35, version, 7, struct.pack(">i", -1), client_id="opview")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req)
        r = Reader(recv_frame(s), flex)
    assert r.take("i") == 7
    r.tags()  # response header v1 in flexible versions
    r.take("i")  # throttle
    if version >= 3:
        assert r.take("h") == 0
    out = []
    for _ in range(r.count()):
        err, d, parts = r.take("h"), r.string(), {}
        for _ in range(r.count()):
            name = r.string()
            for _ in range(r.count()):
                idx, size, lag, fut = r.take("i"), r.take("q"), r.take("q"), r.take("?")
                r.tags()
                parts["%s-%d" % (name, idx)] = (size, lag, fut)
            r.tags()
        total = usable = None
        if version >= 4:
            total, usable = r.take("q"), r.take("q")
        r.tags()
        out.append((err, d, parts, total, usable))
    r.tags()
    ok(r.p == len(r.d), "DescribeLogDirs v%d: the whole response was read" % version, (r.p, len(r.d)))
    return out


def test_log_dirs(cluster, b):
    expect("kafka-topics --bootstrap-server %s --create --topic ld --replica-assignment 1" % b[1])
    status, doc, raw = log_dirs(b[2], "--topic-list ld")
    ok(status == ["Querying brokers for log directories information",
                  "Received log directory information from brokers 1,2,3"], "log-dirs status lines", status)
    ok(doc.get("version") == 1 and [x["broker"] for x in doc["brokers"]] == [1, 2, 3], "log-dirs brokers", raw)
    # Kafka 3.x key order: brokers before version, partitions/error/logDir, partition/size/offsetLag/isFuture
    ok(re.fullmatch(r'\{"brokers":\[\{"broker":1,"logDirs":\[\{"partitions":\[\{"partition":"ld-0","size":0,'
                    r'"offsetLag":0,"isFuture":false\}\],"error":null,"logDir":"[^"]+"\}\]\},'
                    r'\{"broker":2,"logDirs":\[\{"partitions":\[\],"error":null,"logDir":"[^"]+"\}\]\},'
                    r'\{"broker":3,"logDirs":\[\{"partitions":\[\],"error":null,"logDir":"[^"]+"\}\]\}\],'
                    r'"version":1\}', raw) is not None, "log-dirs JSON layout", raw)
    for x in doc["brokers"]:
        want = os.path.realpath(os.path.join(cluster.node(x["broker"]).dir, "data"))
        ok([d["logDir"] for d in x["logDirs"]] == [want], "broker %d logDir is its absolute log.dirs" % x["broker"],
           x["logDirs"])
    expect("seq 1 200 | kafka-console-producer --bootstrap-server %s --topic ld" % b[2])
    first = sizes(log_dirs(b[0], "--topic-list ld")[1], "ld-0")
    ok(list(first) == [1] and first[1] > 200 * 3, "ld-0 grew on broker 1 after 200 records", first)
    expect("seq 1 2000 | kafka-console-producer --bootstrap-server %s --topic ld" % b[2])
    second = sizes(log_dirs(b[0], "--topic-list ld")[1], "ld-0")
    ok(second.get(1, 0) > first.get(1, 0) + 2000 * 3, "ld-0 grew again after 2000 more", (first, second))
    # without --topic-list every local partition is listed (ld-0 among them)
    ok("ld-0" in json.dumps(log_dirs(b[2])[1]), "log-dirs without --topic-list lists ld-0")
    status, doc, _ = log_dirs(b[0], "--broker-list 2 --topic-list ld")
    ok(status[1] == "Received log directory information from brokers 2" and
       [x["broker"] for x in doc["brokers"]] == [2], "--broker-list 2", (status, doc))
    code, out, err = sh("kafka-log-dirs --bootstrap-server %s --describe --broker-list 2,9" % b[0])
    ok(code == 1 and out == "ERROR: The given brokers do not exist from --broker-list: 9. Current existent "
       "brokers: 1,2,3\n", "--broker-list with an unknown broker", (code, out, err))
    # the wire, read by hand from Kafka's schema: v0 (classic) and v4 (flexible, volume sizes)
    node1 = cluster.node(1)
    v0 = describe_log_dirs_raw(node1.client_port, 0)
    v4 = describe_log_dirs_raw(node1.client_port, 4)
    want_dir = os.path.realpath(os.path.join(node1.dir, "data"))
    ok(len(v0) == 1 and v0[0][0] == 0 and v0[0][1] == want_dir and v0[0][2].get("ld-0", (0,))[0] > 0 and
       v0[0][2]["ld-0"][1:] == (0, False), "DescribeLogDirs v0 at broker 1", v0)
    st = os.statvfs(want_dir)
    ok(len(v4) == 1 and v4[0][3] == st.f_blocks * st.f_frsize and 0 < v4[0][4] <= v4[0][3] and
       v4[0][2].get("ld-0") is not None, "DescribeLogDirs v4: the volume's total and usable bytes", (v4, st))
    # Kafka's other names for the tool
    out = expect("kafka-run-class kafka.admin.LogDirsCommand --bootstrap-server %s --describe --broker-list 3" % b[1])
    ok(out.splitlines()[1:2] == ["Received log directory information from brokers 3"], "kafka-run-class LogDirsCommand",
       out)
    for name in ("kafka-log-dirs.sh", "kafka-reassign-partitions.sh", "samsa reassign-partitions"):
        code, out, err = sh("%s --help" % name)
        ok(code == 0 and "--bootstrap-server" in out, "%s --help" % name, (code, out[:200], err))
    code, out, err = sh("kafka-log-dirs --bootstrap-server %s" % b[0])
    ok(code == 1 and "Command must include --describe" in err, "log-dirs without --describe", (code, out, err))


def reassign(bs, args, rc=0, what=None):
    return expect("kafka-reassign-partitions --bootstrap-server %s %s" % (bs, args), rc=rc, what=what or args)


def plan(topic, replicas, partition=0):
    return json.dumps({"version": 1, "partitions": [{"topic": topic, "partition": partition, "replicas": replicas}]})


def topic_configs(bs, topic):
    out = expect("kafka-configs --bootstrap-server %s --describe --entity-type topics --entity-name %s" % (bs, topic))
    return out


def consume_all(bs, topic, count):
    out = expect("kafka-console-consumer --bootstrap-server %s --topic %s --from-beginning --max-messages %d "
                 "--timeout-ms 20000" % (bs, topic, count), what="consume %s" % topic)
    return out.splitlines()


def test_reassign(cluster, b):
    expect("kafka-topics --bootstrap-server %s --create --topic mv --replica-assignment 1" % b[2])
    expect("seq 1 100 | kafka-console-producer --bootstrap-server %s --topic mv" % b[2])
    size_before = sizes(log_dirs(b[0], "--topic-list mv")[1], "mv-0")

    topics = write("move.json", '{"topics": [{"topic": "mv"}], "version": 1}')
    out = reassign(b[2], "--topics-to-move-json-file %s --broker-list 2,3 --generate" % topics)
    lines = out.splitlines()
    ok(len(lines) == 5 and lines[0] == "Current partition replica assignment" and
       lines[1] == '{"version":1,"partitions":[{"topic":"mv","partition":0,"replicas":[1],"log_dirs":["any"]}]}' and
       lines[2] == "" and lines[3] == "Proposed partition reassignment configuration" and
       re.fullmatch(r'\{"version":1,"partitions":\[\{"topic":"mv","partition":0,"replicas":\[[23]\],'
                    r'"log_dirs":\["any"\]\}\]\}', lines[4]) is not None, "--generate output", out)

    # refused plans, before anything moves
    bad = [(plan("mv", [2, 2]), "Error: Partition replica lists may not contain duplicate entries: mv-0 contains "
                                "multiple entries for 2"),
           (plan("mv", [9]), "Error: org.apache.kafka.common.errors.InvalidBrokerIdException: Unknown broker id 9"),
           (plan("mv", [2], 5), "Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to "
                                "find partition: mv-5"),
           ('{"version":1,"partitions":[]}', "Error: Partition reassignment list cannot be empty")]
    for i, (text, want) in enumerate(bad):
        code, out, err = sh("kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --execute"
                            % (b[0], write("bad%d.json" % i, text)))
        ok(code == 1 and want in out.splitlines(), "refused plan %s" % text, (code, out, err))

    target = write("to2.json", plan("mv", [2]))
    out = reassign(b[2], "--reassignment-json-file %s --execute --throttle 1000" % target)
    ok(out.splitlines() == [
        "Current partition replica assignment", "",
        '{"version":1,"partitions":[{"topic":"mv","partition":0,"replicas":[1],"log_dirs":["any"]}]}', "",
        "Save this to use as the --reassignment-json-file option during rollback",
        "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle "
        "is removed.",
        "The inter-broker throttle limit was set to 1000 B/s",
        "Successfully started partition reassignment for mv-0"], "--execute output", out)
    cfg = topic_configs(b[0], "mv")
    ok("  follower.replication.throttled.replicas=0:2 " in cfg and "  leader.replication.throttled.replicas=0:1 "
       in cfg, "--throttle set the topic's throttled replicas", cfg)
    for broker in (1, 2):
        cfg = expect("kafka-configs --bootstrap-server %s --describe --entity-type brokers --entity-name %d"
                     % (b[2], broker))
        ok(cfg.splitlines() == [
            "Dynamic configs for broker %d are:" % broker,
            "  follower.replication.throttled.rate=1000 sensitive=false "
            "synonyms={DYNAMIC_BROKER_CONFIG:follower.replication.throttled.rate=1000, "
            "DEFAULT_CONFIG:follower.replication.throttled.rate=9223372036854775807}",
            "  leader.replication.throttled.rate=1000 sensitive=false "
            "synonyms={DYNAMIC_BROKER_CONFIG:leader.replication.throttled.rate=1000, "
            "DEFAULT_CONFIG:leader.replication.throttled.rate=9223372036854775807}"],
           "--throttle set broker %d's rates" % broker, cfg)

    # ---- the move completes: broker 2 fetches, joins the ISR, the controller finishes the move ----
    done = wait_for(lambda: "is completed." in sh("kafka-reassign-partitions --bootstrap-server %s "
                                                   "--reassignment-json-file %s --verify --preserve-throttles"
                                                   % (b[0], target))[1], timeout=60, step=0.5)
    ok(done, "--verify reports the move completed within 60 s")
    out = reassign(b[1], "--reassignment-json-file %s --verify" % target)
    ok(out.splitlines() == ["Status of partition reassignment:", "Reassignment of partition mv-0 is completed.", "",
                            "Clearing broker-level throttles on brokers 1,2,3",
                            "Clearing topic-level throttles on topic mv"], "--verify completed", out)
    p = partition_md(b[0], "mv")
    ok(p.replicas == [2] and p.isrs == [2] and p.leader == 2, "replicas 2, ISR 2, leader 2",
       (p.replicas, p.isrs, p.leader))
    got = consume_all(b[0], "mv", 100)
    ok(got == [str(i) for i in range(1, 101)], "every record read from the new leader", got[:5])
    final = wait_for(lambda: list(sizes(log_dirs(b[2], "--topic-list mv")[1], "mv-0")) == [2])
    ok(final, "only broker 2 holds mv-0 now", log_dirs(b[2], "--topic-list mv")[2])
    after = sizes(log_dirs(b[2], "--topic-list mv")[1], "mv-0")
    ok(after.get(2) == size_before.get(1), "the copy has the leader's bytes", (size_before, after))
    ok("throttled" not in topic_configs(b[0], "mv"), "--verify cleared the throttles")


def test_stuck_move(cluster, b):
    """A move whose new replica cannot catch up (its broker is stopped with
    SIGSTOP) stays in its first step: --list, --verify, kafka-topics, and a
    cancel restores the replicas and clears the throttles."""
    x = next(n for n in cluster.brokers() if n.id != 1 and n is not cluster.active_controller())
    bs = [n.bootstrap for n in cluster.brokers() if n is not x]
    expect("kafka-topics --bootstrap-server %s --create --topic stuck --replica-assignment 1" % bs[0])
    expect("seq 1 10 | kafka-console-producer --bootstrap-server %s --topic stuck" % bs[1])
    target = write("stuck.json", plan("stuck", [x.id]))
    x.proc.send_signal(signal.SIGSTOP)
    try:
        out = reassign(bs[0], "--reassignment-json-file %s --execute --throttle 1000" % target)
        ok(out.splitlines()[-1] == "Successfully started partition reassignment for stuck-0", "stuck: --execute", out)
        p = partition_md(bs[1], "stuck")
        ok(p.replicas == [x.id, 1] and p.isrs == [1] and p.leader == 1, "stuck: replicas %d,1, ISR 1, leader 1" % x.id,
           (p.replicas, p.isrs, p.leader))
        out = reassign(bs[0], "--list")
        ok(out == "Current partition reassignments:\nstuck-0: replicas: %d,1. adding: %d. removing: 1.\n" % (x.id, x.id),
           "--list", out)
        lines = expect("kafka-topics --bootstrap-server %s --describe --topic stuck" % bs[1]).splitlines()
        ok(len(lines) == 2 and lines[0].startswith("Topic: stuck\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ")
           and lines[1] == "\tTopic: stuck\tPartition: 0\tLeader: 1\tReplicas: %d,1\tIsr: 1\tAdding Replicas: %d"
           "\tRemoving Replicas: 1\tElr: \tLastKnownElr: " % (x.id, x.id),
           "kafka-topics --describe shows the reassignment as Kafka does", lines)
        out = reassign(bs[1], "--reassignment-json-file %s --verify" % target)
        ok(out == "Status of partition reassignment:\nReassignment of partition stuck-0 is still in progress.\n\n",
           "--verify in progress (and the throttles stay)", out)
        code, out, _ = sh("kafka-reassign-partitions --bootstrap-server %s --reassignment-json-file %s --execute"
                          % (bs[0], target))
        ok(code == 1 and out.startswith("Cannot execute because there is an existing partition assignment.  Use "
                                        "--additional"), "--execute during a reassignment needs --additional", out)
        # with --additional the same plan is accepted again (nothing changes)
        out = reassign(bs[1], "--reassignment-json-file %s --execute --additional" % target)
        ok(out.splitlines()[-1] == "Successfully started partition reassignment for stuck-0", "--execute --additional",
           out)
        p = partition_md(bs[1], "stuck")
        ok(p.replicas == [x.id, 1] and p.isrs == [1], "--additional of the same plan changes nothing", p.replicas)
        cfg = topic_configs(bs[0], "stuck")
        ok("  follower.replication.throttled.replicas=0:%d " % x.id in cfg, "stuck: the follower throttle", cfg)
        out = reassign(bs[1], "--reassignment-json-file %s --cancel" % target)
        ok(out.splitlines() == ["Successfully cancelled partition reassignment for: stuck-0",
                                "None of the specified partition moves are active.",
                                "Clearing broker-level throttles on brokers 1,2,3",
                                "Clearing topic-level throttles on topic stuck"], "--cancel output", out)
        p = partition_md(bs[1], "stuck")
        ok(p.replicas == [1] and p.isrs == [1] and p.leader == 1, "cancel restored replicas 1, ISR 1",
           (p.replicas, p.isrs, p.leader))
        ok(reassign(bs[0], "--list") == "No partition reassignments found.\n", "--list after cancel")
        cfg = topic_configs(bs[0], "stuck")
        ok("throttled" not in cfg, "cancel cleared the throttles", cfg)
        cfg = expect("kafka-configs --bootstrap-server %s --describe --entity-type brokers --entity-name 1" % bs[1])
        ok(cfg == "Dynamic configs for broker 1 are:\n", "cancel cleared the broker rates", cfg)
        out = reassign(bs[1], "--reassignment-json-file %s --cancel --preserve-throttles" % target)
        ok(out == "None of the specified partition reassignments are active.\nNone of the specified partition moves "
           "are active.\n", "cancel with nothing active", out)
        ok(len(consume_all(bs[0], "stuck", 10)) == 10, "every record still readable after the cancel")
    finally:
        x.proc.send_signal(signal.SIGCONT)
    ok(wait_for(lambda: x.id not in sizes(log_dirs(bs[0], "--topic-list stuck")[1], "stuck-0"), timeout=40),
       "broker %d holds no copy of stuck-0 once it runs again" % x.id)


def describe_lines(bs, flag):
    """kafka-topics --describe's lines; each partition line must end in KIP-966's
    "\tElr: ...\tLastKnownElr: ..." (the broker serves DescribeTopicPartitions),
    which is cut off here for the comparisons below."""
    out = expect("kafka-topics --bootstrap-server %s --describe %s" % (bs, flag), what="describe " + flag)
    lines = []
    for l in out.splitlines():
        m = re.search(r"\tElr: [\d,]*\tLastKnownElr: [\d,]*$", l) if l.startswith("\tTopic: ") else None
        if l.startswith("\tTopic: ") and not m:
            ok(False, "a partition line ends in Elr and LastKnownElr", l)
        lines.append(l[:m.start()] if m else l)
    return lines


def line(topic, p, leader, replicas, isr):
    return "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s" % (
        topic, p, leader, ",".join(map(str, replicas)), ",".join(map(str, isr)))


def test_describe_filters(cluster, b):
    bs = b[0]
    expect("kafka-topics --bootstrap-server %s --create --topic on3 --replica-assignment 3" % bs)
    expect("kafka-topics --bootstrap-server %s --create --topic single --replica-assignment 1" % bs)
    expect("kafka-topics --bootstrap-server %s --create --topic rf3 --replica-assignment 1:2:3,2:3:1,3:1:2 "
           "--config min.insync.replicas=3" % bs)
    # a consumer group makes __consumer_offsets (an internal topic)
    expect("seq 1 5 | kafka-console-producer --bootstrap-server %s --topic single" % bs)
    expect("kafka-console-consumer --bootstrap-server %s --topic single --from-beginning --group g1 "
           "--max-messages 5 --timeout-ms 20000" % b[1])
    ok(any(l.startswith("Topic: __consumer_offsets\t") for l in describe_lines(bs, "")),
       "describe without --exclude-internal shows __consumer_offsets")
    lines = describe_lines(bs, "--exclude-internal")
    ok(lines and not any("__consumer_offsets" in l for l in lines), "--exclude-internal hides it", lines[:3])

    cluster.node(3).kill9()
    live = [b[0], b[1]]

    def unavailable():
        got = describe_lines(live[0], "--unavailable-partitions --exclude-internal")
        return got if line("on3", 0, "none", [3], [3]) in got else None
    got = wait_for(unavailable, timeout=40, step=0.5) or []
    ok(line("on3", 0, "none", [3], [3]) in got, "--unavailable-partitions: on3-0 (its only replica is dead)", got)
    ok(all(re.search(r"\tLeader: (none|3)\t", l) for l in got), "--unavailable-partitions: only leaderless or "
       "dead-led partitions", got)
    ok(not any("\tTopic: single\t" in l or "\tTopic: ld\t" in l for l in got), "live-led partitions not listed", got)
    ok(not any(l.startswith("Topic:") for l in got), "partition filters drop the topic lines", got)

    def under_replicated():
        got = describe_lines(live[1], "--under-replicated-partitions --exclude-internal")
        return got if sum("\tTopic: rf3\t" in l for l in got) == 3 else None
    got = wait_for(under_replicated, timeout=60, step=0.5) or []
    ok(sum("\tTopic: rf3\t" in l for l in got) == 3, "--under-replicated-partitions: every rf3 partition", got)
    ok(not any("\tTopic: on3\t" in l or "\tTopic: single\t" in l for l in got),
       "--under-replicated-partitions: RF=1 topics are never under-replicated", got)
    for l in got:
        m = re.fullmatch(r"\tTopic: \S+\tPartition: \d+\tLeader: (none|\d+)\tReplicas: ([\d,]+)\tIsr: ([\d,]*)", l)
        ok(m and len(m.group(3).split(",")) < len(m.group(2).split(",")), "under-replicated line: ISR < replicas", l)

    got = describe_lines(live[0], "--under-min-isr-partitions --exclude-internal")
    ok(sum("\tTopic: rf3\t" in l for l in got) == 3, "--under-min-isr-partitions: rf3 (min.insync.replicas=3)", got)
    ok(line("on3", 0, "none", [3], [3]) in got, "--under-min-isr-partitions: a leaderless partition", got)
    ok(not any("\tTopic: single\t" in l for l in got), "single (ISR 1 = min 1) is not under min ISR", got)

    got = describe_lines(live[1], "--at-min-isr-partitions --exclude-internal --topic single")
    ok(got == [line("single", 0, 1, [1], [1])], "--at-min-isr-partitions: single (ISR 1 = min 1)", got)
    got = describe_lines(live[1], "--at-min-isr-partitions --topic rf3")
    ok(got == [], "--at-min-isr-partitions: rf3 is below its min, not at it", got)


def main():
    # the describe filters are checked on Kafka 3.x's partition states: with eligible leader
    # replicas (KIP-966, the default) a dead RF=1 replica leaves its ISR (Isr empty, listed as
    # under-replicated, as Kafka 4 shows it) and stays eligible instead
    cluster = samsacluster.Cluster(["broker,controller"] * 3,
                                   extra=["replica.lag.time.max.ms=3000", "eligible.leader.replicas.enable=false"])
    cluster.start()
    b = [n.bootstrap for n in cluster.brokers()]
    try:
        test_log_dirs(cluster, b)
        test_reassign(cluster, b)
        test_stuck_move(cluster, b)
        test_describe_filters(cluster, b)
    except Exception as e:  # a crash of the test is a failure, with the logs
        ok(False, "test raised %r" % e)
        import traceback
        traceback.print_exc()
    if failed:
        for n in cluster.nodes:
            print("---- node %d log tail:\n%s" % (n.id, n.tail(20)))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
