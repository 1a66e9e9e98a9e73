"""kafka_cli_test - the Kafka command-line tools under Kafka's names against a
3-node cluster (test/lib/samsacluster.py), run through build/bin on PATH the
way a user runs them.

Proves:
  - every kafka-* name (and .sh) dispatches to its tool and --help exits 0;
  - the tutorial's "Kafka Command Line Tool" commands run verbatim (only
    host:port changed): kafka-topics create/list/describe/alter,
    kafka-configs, kafka-console-producer (plain and parse.key with
    key.separator=:), kafka-console-consumer --from-beginning (ended with
    Ctrl-C: exit 130 and "Processed a total of N messages"), with
    print.key/key.separator/--group, kafka-consumer-groups, kafka-delete-records
    with the tutorial's own (malformed, as Kafka tolerates) JSON,
    kafka-run-class kafka.tools.GetOffsetShell --broker-list;
  - the round trip `seq 1 100000 | kafka-console-producer` then
    `kafka-console-consumer --from-beginning --max-messages 100000`, bootstrapped
    at a broker that does not lead the partition, prints every line once and in
    order per partition;
  - DefaultMessageFormatter's exact layout (CreateTime:, Partition:, Offset:,
    headers, null key, NO_HEADERS), the producer's parse.headers, --partition
    --offset, --timeout-ms;
  - kafka-get-offsets --time -1/-2/latest/earliest, --topic-partitions ranges;
  - --time -3 / max-timestamp (the tool and GetOffsetShell, bootstrapped at a
    follower) and a raw ListOffsets v7 request: the first record with the
    largest timestamp; ApiVersions advertises v7;
  - the tutorial's kafka-reassign-partitions commands (tmp.json --generate
    --broker-list "5,6", proposed.json --execute, --verify) with brokers 4-6,
    in Kafka 3's output format, until every partition has moved;
  - error cases: unknown topic, unreachable bootstrap server, bad flag: one
    line, non-zero exit.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import samsacluster  # noqa: E402

from confluent_kafka.admin import AdminClient  # noqa: E402

TOP = samsacluster.TOP
BIN = os.path.join(TOP, "build", "bin")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
TMP = tempfile.mkdtemp(prefix="samsa-kcli-")

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
            print("  " + detail.replace("\n", "\n  ")[:4000])
    return cond


def sh(cmd, stdin=None, timeout=120):
    """Run a shell command line with build/bin first on PATH."""
    p = subprocess.run(["bash", "-c", cmd], input=stdin, capture_output=True, text=True, env=ENV,
                       cwd=TMP, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect(cmd, rc=0, stdin=None, what=None, timeout=120):
    code, out, err = sh(cmd, stdin, timeout)
    ok(code == rc, "%s: exit %d, want %d" % (what or cmd, code, rc), "stdout:\n%s\nstderr:\n%s" % (out, err))
    return out, err


def one_line_error(cmd, what, must=None):
    code, out, err = sh(cmd, timeout=60)
    text = (out + err).strip()
    ok(code != 0, "%s: exit 0, want non-zero" % what, text)
    lines = [l for l in text.splitlines() if l.strip()]
    ok(len(lines) == 1, "%s: %d lines, want one" % (what, len(lines)), text)
    if must:
        ok(must in text, "%s: output lacks %r" % (what, must), text)


def leader_of(bootstrap, topic, partition):
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=20)
    return md.topics[topic].partitions[partition].leader


def wait_leaders(bootstrap, topic, count):
    deadline = time.time() + 30
    while time.time() < deadline:
        md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=20)
        t = md.topics.get(topic)
        if t and t.error is None and len(t.partitions) == count and all(p.leader >= 0 for p in t.partitions.values()):
            return
        time.sleep(0.1)
    raise RuntimeError("topic %s has no leaders" % topic)


def non_leader(cluster, topic, partition=0):
    lead = leader_of(cluster.bootstrap(), topic, partition)
    return next(n for n in cluster.brokers() if n.id != lead)


def java_hash(s):
    h = 0
    for ch in s.encode("utf-16-be").decode("utf-16-be"):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def coordinator_of(cluster, group):
    """The broker leading the group's __consumer_offsets partition (Kafka's rule)."""
    md = AdminClient({"bootstrap.servers": cluster.bootstrap()}).list_topics("__consumer_offsets", timeout=20)
    t = md.topics["__consumer_offsets"]
    p = (java_hash(group) & 0x7FFFFFFF) % len(t.partitions)  # Kafka's Utils.abs
    return next(n for n in cluster.brokers() if n.id == t.partitions[p].leader)


def not_coordinator_of(cluster, group):
    """A broker that is not the group's coordinator: the client must find it (FindCoordinator)."""
    coord = coordinator_of(cluster, group)
    return next(n for n in cluster.brokers() if n.id != coord.id)


def consume_until(cmd, want_lines, timeout=60):
    """Start a consumer that would run for ever, wait for want_lines lines of
    output, then Ctrl-C it (SIGINT); return (rc, stdout lines, stderr)."""
    p = subprocess.Popen(["bash", "-c", "exec " + cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ENV, cwd=TMP)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline and data.count(b"\n") < want_lines:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
    p.send_signal(signal.SIGINT)
    try:
        rest, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, err = p.communicate()
    return p.returncode, (data + rest).decode().splitlines(), err.decode()


def list_offsets_v7(port, topic, partition, timestamp):
    """One ListOffsets v7 request (flexible: header v2, compact strings and
    arrays, tagged fields) for one partition, to 127.0.0.1:port.  Returns
    (error, timestamp, offset, leader_epoch)."""
    name = topic.encode()
    hdr = struct.pack(">hhi", 2, 7, 77) + struct.pack(">h", 4) + b"kcli" + b"\x00"
    body = (struct.pack(">ib", -1, 0) + bytes([2, len(name) + 1]) + name + bytes([2]) +
            struct.pack(">iiq", partition, -1, timestamp) + b"\x00\x00\x00")
    r = samsacluster.roundtrip(port, hdr + body)
    corr, tags, _throttle, ntopics = struct.unpack(">ibiB", r[:10])
    assert corr == 77 and tags == 0 and ntopics == 2, r
    i = 10 + r[10]  # compact name: length + 1, then the bytes
    assert r[i] == 2, r  # one partition
    pidx, err, ts, off, epoch = struct.unpack(">ihqqi", r[i + 1:i + 27])
    assert pidx == partition and r[i + 27:] == b"\x00\x00\x00", r
    return err, ts, off, epoch


def api_versions_max(port, key):
    """The max version broker port advertises for API key (ApiVersions v0)."""
    r = samsacluster.roundtrip(port, struct.pack(">hhih", 18, 0, 5, 4) + b"kcli")
    err, n = struct.unpack(">hi", r[4:10])
    for k in range(n):
        api, lo, hi = struct.unpack(">hhh", r[10 + 6 * k:16 + 6 * k])
        if api == key:
            return hi
    return None


def main():
    # node ids 4, 5, 6: the tutorial's `kafka-reassign-partitions --broker-list "5,6"` runs verbatim
    cluster = samsacluster.Cluster(["broker,controller"] * 3, first_id=4, extra=[
        "auto.create.topics.enable=false", "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3", "group.initial.rebalance.delay.ms=0"])
    cluster.start()
    b = [n.bootstrap for n in cluster.brokers()]
    bs = b[0]

    # --- names and --help
    tools = ["topics", "configs", "consumer-groups", "metadata-quorum", "storage", "console-producer",
             "console-consumer", "get-offsets", "delete-records", "verifiable-producer", "verifiable-consumer",
             "broker-api-versions", "producer-perf-test", "consumer-perf-test", "dump-log", "server-start",
             "server-stop"]
    for t in tools:
        for name in ("kafka-%s" % t, "kafka-%s.sh" % t):
            code, out, err = sh("%s --help" % name)
            ok(code == 0 and out.strip(), "%s --help" % name, out + err)
    code, out, err = sh("samsa console-producer --help")
    ok(code == 0 and "--bootstrap-server" in out, "samsa console-producer --help", out + err)
    expect("kafka-run-class kafka.tools.NoSuchTool", rc=1)
    os.symlink(os.path.join(BIN, "samsa"), os.path.join(TMP, "kafka-nonesuch"))
    code, out, err = sh("./kafka-nonesuch --help")
    ok(code == 1 and "not a Kafka tool" in err, "unknown kafka-* name", err)
    for t in ["console-producer", "console-consumer", "get-offsets", "delete-records", "verifiable-producer",
              "verifiable-consumer", "broker-api-versions", "producer-perf-test", "consumer-perf-test"]:
        # Kafka's printUsageAndDie: the reason on the first line, then the options
        code, out, err = sh("kafka-%s --bootstrap-server %s --bogus-flag" % (t, bs))
        ok(code == 1 and out == "" and err.splitlines()[0] == "--bogus-flag is not a recognized option",
           "kafka-%s bad flag" % t, err)

    # --- metadata-quorum through its Kafka name, with a client properties file
    with open(os.path.join(TMP, "plain.properties"), "w") as f:
        f.write("security.protocol=PLAINTEXT\n")
    with open(os.path.join(TMP, "ssl.properties"), "w") as f:
        f.write("security.protocol=SSL\n")
    out, err = expect("kafka-metadata-quorum.sh --bootstrap-server %s --command-config plain.properties describe "
                      "--status" % b[1])
    ok(out.startswith("ClusterId:") and "LeaderId:" in out, "kafka-metadata-quorum --status", out + err)
    one_line_error("kafka-metadata-quorum --bootstrap-server %s --command-config ssl.properties describe --status" % bs,
                   "metadata-quorum with a TLS client file", "security.protocol=SSL")

    # --- broker-api-versions: every broker in Kafka's NodeApiVersions layout
    out, err = expect("kafka-broker-api-versions --bootstrap-server %s" % b[2])
    blocks = out.split("\n\n")
    ok(len(blocks) == 4 and blocks[3] == "", "three broker blocks, each followed by a blank line", out[:500])
    for n, block in zip(cluster.brokers(), blocks):
        lines = block.splitlines()
        ok(lines[0] == "%s (id: %d rack: null) -> (" % (n.bootstrap, n.id) and lines[-1] == ")" and
           re.fullmatch(r"\tProduce\(0\): \d+ to \d+ \[usable: \d+\],", lines[1]) is not None and
           "\tCreateAcls(30): UNSUPPORTED," in lines and "\tDescribeCluster(60): 0 [usable: 0]," in lines and
           all(l.endswith(",") for l in lines[1:-2]) and not lines[-2].endswith(","),
           "broker %d api versions layout" % n.id, block[:400])

    # --- the tutorial, verbatim but for host:port
    out, err = expect("kafka-topics --create --bootstrap-server %s --partitions 3 --replication-factor 1 "
                      "--config retention.ms=172800000 --topic hello.kafka" % bs)
    ok(out.splitlines()[-1] == "Created topic hello.kafka.", "tutorial create", out)
    wait_leaders(bs, "hello.kafka", 3)
    out, err = expect("kafka-topics --list --bootstrap-server %s" % bs)
    ok("hello.kafka" in out.split("\n"), "tutorial list", out)
    out, err = expect("kafka-topics --list --exclude-internal --bootstrap-server %s" % bs)
    ok("hello.kafka" in out.split("\n") and "__consumer_offsets" not in out, "list --exclude-internal", out)
    out, err = expect("kafka-topics --describe --bootstrap-server %s --topic hello.kafka" % bs)
    ok(re.match(r"Topic: hello\.kafka\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: .*retention\.ms=172800000",
                out), "tutorial describe", out)
    expect("kafka-topics --alter --bootstrap-server %s --topic hello.kafka --partitions 4" % bs)
    out, err = expect("kafka-configs --alter --add-config retention.ms=86400000 --bootstrap-server %s "
                      "--entity-type topics --entity-name hello.kafka" % bs)
    ok(out.strip() == "Completed updating config for topic hello.kafka.", "tutorial configs alter", out)
    out, err = expect("kafka-configs.sh --bootstrap-server %s --describe --entity-type brokers --all" % bs)
    ok(out.startswith("All configs for broker "), "tutorial configs describe", out[:200])
    wait_leaders(bs, "hello.kafka", 4)

    expect("kafka-console-producer --bootstrap-server %s --topic hello.kafka" % bs,
           stdin="hello\nworld\n1\nTrue\n[1,2,3]\n")
    expect("kafka-console-producer --bootstrap-server %s --topic hello.kafka --property \"parse.key=true\" "
           "--property \"key.separator=:\"" % bs, stdin="my_key:my_value\n")
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic hello.kafka --from-beginning "
                      "--max-messages 6 --property print.key=true --property key.separator=\"-\"" % bs)
    got = sorted(out.splitlines())
    ok(got == sorted(["null-hello", "null-world", "null-1", "null-True", "null-[1,2,3]", "my_key-my_value"]),
       "console producer/consumer keys and values", out + err)
    ok(err.strip().endswith("Processed a total of 6 messages"), "Processed a total", err)

    # kafka.test: the tutorial's consumer commands, each ended with Ctrl-C
    expect("kafka-topics --create --bootstrap-server %s --partitions 4 --replication-factor 1 --topic kafka.test" % bs)
    wait_leaders(bs, "kafka.test", 4)
    expect("kafka-console-producer --bootstrap-server %s --topic kafka.test --property parse.key=true "
           "--property key.separator=:" % bs, stdin="".join("k%d:v%d\n" % (i, i) for i in range(17)))
    rc, lines, err = consume_until("kafka-console-consumer --bootstrap-server %s --topic kafka.test --from-beginning"
                                   % bs, 17)
    ok(sorted(lines) == sorted("v%d" % i for i in range(17)), "tutorial --from-beginning", "\n".join(lines) + err)
    ok(rc == 130 and "Processed a total of 17 messages" in err, "Ctrl-C: exit 130 + count (rc %d)" % rc, err)
    # --group: bootstrapped at a broker that is not the group's coordinator
    coord = not_coordinator_of(cluster, "test-group")
    rc, lines, err = consume_until(
        "kafka-console-consumer --bootstrap-server %s --topic kafka.test --property print.key=true "
        "--property key.separator=\"-\" --group test-group --from-beginning" % coord.bootstrap, 17)
    ok(sorted(lines) == sorted("k%d-v%d" % (i, i) for i in range(17)), "tutorial --group print.key",
       "\n".join(lines) + err)
    ok(rc == 130, "group consumer Ctrl-C exit %d" % rc, err)
    out, err = expect("kafka-consumer-groups --list --bootstrap-server %s" % coord.bootstrap)
    ok("test-group" in out.split("\n"), "group listed after the console consumer", out + err)
    out, err = expect("kafka-consumer-groups --describe --bootstrap-server %s --group test-group" % coord.bootstrap)
    rows = [l.split() for l in out.splitlines() if l.startswith("test-group")]
    ok(len(rows) == 4 and all(r[3] == r[4] and r[5] == "0" for r in rows) and
       sum(int(r[3]) for r in rows) == 17, "committed offsets = log end after Ctrl-C", out + err)
    # the tutorial's table: Kafka's header, "-" for the member columns of a group without members
    ok([l.split() for l in out.splitlines() if l.startswith("GROUP")] ==
       [["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
         "CLIENT-ID"]] and all(r[6:] == ["-", "-", "-"] for r in rows), "tutorial describe table", out + err)
    # started again in the group, nothing is left to read
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic kafka.test --group test-group "
                      "--timeout-ms 3000" % coord.bootstrap)
    ok(out == "" and "Processed a total of 0 messages" in err and "TimeoutException" in err,
       "group resumes at its committed offsets", out + err)
    expect("kafka-consumer-groups --bootstrap-server %s --group test-group --topic kafka.test --reset-offsets "
           "--to-earliest --execute" % coord.bootstrap)
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic kafka.test --group test-group "
                      "--max-messages 17" % coord.bootstrap)
    ok(len(out.splitlines()) == 17, "reset to earliest then read again", out + err)

    # the tutorial's verifiable producer / consumer
    out, err = expect("kafka-verifiable-producer --bootstrap-server %s --max-message 10 --topic kafka.test" % bs)
    ev = [json.loads(l) for l in out.splitlines()]
    names = [e["name"] for e in ev]
    ok(names == ["startup_complete"] + ["producer_send_success"] * 10 + ["shutdown_complete", "tool_data"],
       "verifiable producer events", out + err)
    ok(sorted(e["value"] for e in ev if e["name"] == "producer_send_success") == [str(i) for i in range(10)] and
       all(e["key"] is None and e["topic"] == "kafka.test" and e["offset"] >= 0 for e in ev[1:11]),
       "verifiable producer values", out)
    ok(re.fullmatch(r'\{"timestamp":\d{13},"name":"producer_send_success","key":null,"value":"\d","partition":\d,'
                    r'"topic":"kafka\.test","offset":\d+\}', out.splitlines()[1]) is not None,
       "producer_send_success layout", out.splitlines()[1])
    td = ev[-1]
    ok(td["sent"] == 10 and td["acked"] == 10 and td["target_throughput"] == -1 and
       isinstance(td["avg_throughput"], float) and
       re.search(r'"target_throughput":-1,"avg_throughput":\d+\.\d+\}$', out.splitlines()[-1]),
       "tool_data", out.splitlines()[-1])
    # the group resumes after the 17 records it committed: exactly the 10 new ones
    p = subprocess.Popen(["bash", "-c", "exec kafka-verifiable-consumer --bootstrap-server %s --topic kafka.test "
                          "--group-id test-group" % coord.bootstrap], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ENV, cwd=TMP)
    events, deadline, buf = [], time.time() + 60, b""
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            events.extend(json.loads(l) for l in lines)
        consumed = sum(e["count"] for e in events if e["name"] == "records_consumed")
        committed = [e for e in events if e["name"] == "offsets_committed"]
        if consumed >= 10 and committed and sum(
                o["offset"] for o in committed[-1]["offsets"]) > 0 and len(committed) >= 1:
            break
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=30)
    events.extend(json.loads(l) for l in (buf + rest).splitlines())
    names = [e["name"] for e in events]
    ok(names[0] == "startup_complete" and names[1] == "partitions_assigned" and names[-1] == "shutdown_complete" and
       names[-2] == "partitions_revoked", "verifiable consumer event order", "\n".join(names) + err.decode())
    ok(sum(e["count"] for e in events if e["name"] == "records_consumed") == 10, "verifiable consumer: 10 new records",
       str(events))
    ok(all(e["success"] for e in events if e["name"] == "offsets_committed"), "offsets_committed success", str(events))
    assigned = [e for e in events if e["name"] == "partitions_assigned"][0]["partitions"]
    ok(sorted(p_["partition"] for p_ in assigned) == [0, 1, 2, 3] and assigned[0]["topic"] == "kafka.test",
       "partitions_assigned layout", str(assigned))
    ok(p.returncode == 130, "verifiable consumer Ctrl-C exit %d" % p.returncode)
    out, err = expect("kafka-consumer-groups --describe --bootstrap-server %s --group test-group" % coord.bootstrap,
                      what="describe after the verifiable consumer")
    rows = [l.split() for l in out.splitlines() if l.startswith("test-group")]
    ok(sum(int(r[3]) for r in rows) == 27 and all(r[5] == "0" for r in rows), "verifiable consumer committed", out)

    out, err = expect("kafka-consumer-groups --bootstrap-server %s --group test-group --topic kafka.test "
                      "--reset-offsets --to-earliest --dry-run" % coord.bootstrap)
    rows = [l.split() for l in out.splitlines() if l.startswith("test-group")]
    ok(out.splitlines()[1].split() == ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"] and len(rows) == 4 and
       all(r[3] == "0" for r in rows), "tutorial reset-offsets --dry-run", out)
    out, err = expect("kafka-consumer-groups --bootstrap-server %s --delete --group test-group" % coord.bootstrap)
    ok("Deletion of requested consumer groups ('test-group') was successful." in out, "tutorial group delete", out)

    # --- formats
    expect("kafka-topics --create --bootstrap-server %s --partitions 1 --replication-factor 1 --topic fmt" % bs)
    wait_leaders(bs, "fmt", 1)
    expect("kafka-console-producer --bootstrap-server %s --topic fmt --property parse.headers=true "
           "--property parse.key=true" % bs, stdin="h1:v1,h2:v2\tk1\tval1\n\tk2\tval2\n")
    expect("kafka-console-producer --bootstrap-server %s --topic fmt" % bs, stdin="plain\n")
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic fmt --partition 0 --offset 0 "
                      "--max-messages 3 --property print.timestamp=true --property print.partition=true "
                      "--property print.offset=true --property print.headers=true --property print.key=true" % bs)
    lines = out.splitlines()
    ok(len(lines) == 3 and re.fullmatch(r"CreateTime:\d{13}\tPartition:0\tOffset:0\th1:v1,h2:v2\tk1\tval1", lines[0])
       and re.fullmatch(r"CreateTime:\d{13}\tPartition:0\tOffset:1\tNO_HEADERS\tk2\tval2", lines[1])
       and re.fullmatch(r"CreateTime:\d{13}\tPartition:0\tOffset:2\tNO_HEADERS\tnull\tplain", lines[2]),
       "DefaultMessageFormatter layout", out)
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic fmt --partition 0 --offset 2 "
                      "--max-messages 1 --property print.value=false --property print.offset=true" % bs)
    ok(out == "Offset:2\n", "print.value=false ends the line after the last field", out)
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic fmt --partition 0 --offset latest "
                      "--timeout-ms 1500" % bs)
    ok(out == "" and "Processed a total of 0 messages" in err, "--offset latest --timeout-ms", out + err)
    code, out, err = sh("kafka-console-producer --bootstrap-server %s --topic fmt --property parse.key=true" % bs,
                        stdin="no separator here\n")
    ok(code == 1 and "No key separator found on line number 1: 'no separator here'" in err,
       "parse.key without a separator", err)

    # producer flags and the prompt; the consumer's --include (a throw-away group) and --isolation-level
    expect("kafka-topics --create --bootstrap-server %s --partitions 2 --replication-factor 1 --topic fm2" % bs)
    wait_leaders(bs, "fm2", 2)
    expect("kafka-console-producer --bootstrap-server %s --topic fm2 --compression-codec lz4 --sync "
           "--request-required-acks 1 --producer-property linger.ms=5 --batch-size 100 --timeout 10 "
           "--property parse.key=true --property key.separator=, --property null.marker=NULL" % bs,
           stdin="a,1\nb,2\nNULL,3\nc,NULL\n")
    # a regex subscription needs a group: the tool's throw-away console-consumer-N group, whose
    # coordinator the client finds from whichever broker it bootstraps at
    out, err = expect("kafka-console-consumer --bootstrap-server %s --include 'fm[0-9]' --from-beginning "
                      "--max-messages 4 --isolation-level read_committed --consumer-property fetch.wait.max.ms=50 "
                      "--property print.key=true --property key.separator=: --property null.literal=NIL"
                      % bs, timeout=90)
    ok(sorted(out.splitlines()) == ["NIL:3", "a:1", "b:2", "c:NIL"], "--include, null.marker, null.literal", out + err)
    code, out, err = sh("kafka-console-producer --bootstrap-server %s --topic fm2 --compression-codec nosuch" % bs)
    ok(code == 1 and "compression.codec" in err.splitlines()[0], "bad --compression-codec", err)
    code, out, err = sh("kafka-console-consumer --bootstrap-server %s --topic fm2 --isolation-level nosuch" % bs)
    ok(code == 1 and "isolation.level" in err.splitlines()[0], "bad --isolation-level", err)
    master, slave = pty.openpty()
    p = subprocess.Popen(["bash", "-c", "exec kafka-console-producer --bootstrap-server %s --topic fm2" % bs],
                         stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=TMP)
    os.close(slave)
    os.write(master, b"typed\n\x04")
    out_b, err_b = p.communicate(timeout=60)
    os.close(master)
    ok(p.returncode == 0 and out_b == b">>", "prompt '>' per line on a terminal", repr(out_b) + err_b.decode())

    # Ctrl-C while the producer waits for more input: the lines read so far are still delivered
    rfd, wfd = os.pipe()
    p = subprocess.Popen(["bash", "-c", "exec kafka-console-producer --bootstrap-server %s --topic fm2 --timeout 60000"
                          % bs], stdin=rfd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=TMP)
    os.write(wfd, b"before-ctrl-c\n")
    deadline = time.time() + 30  # wait until the tool has read the line (the pipe is drained)
    while time.time() < deadline and struct.unpack("i", fcntl.ioctl(rfd, termios.FIONREAD, b"\0\0\0\0"))[0]:
        select.select([], [], [], 0.02)
    os.close(rfd)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    os.close(wfd)
    ok(p.returncode == 130, "producer Ctrl-C exit %d" % p.returncode)
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic fm2 --from-beginning --timeout-ms 3000" % bs)
    ok("before-ctrl-c" in out.splitlines(), "line typed before Ctrl-C delivered", out + err)

    # --- dump-log: the fmt segment as Kafka's DumpLogSegments prints it
    lead = next(n for n in cluster.brokers() if n.id == leader_of(bs, "fmt", 0))
    seg = os.path.join(lead.dir, "data", "fmt-0", "00000000000000000000.log")
    out, err = expect("kafka-dump-log --files %s --print-data-log" % seg)
    lines = out.splitlines()
    ok(lines[0] == "Dumping " + seg and lines[1] == "Log starting offset: 0" and
       re.fullmatch(r"baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 "
                    r"producerEpoch: -1 partitionLeaderEpoch: \d+ isTransactional: false isControl: false "
                    r"deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: \d{13} size: \d+ magic: 2 "
                    r"compresscodec: none crc: \d+ isvalid: true", lines[2]) is not None and
       re.fullmatch(r"\| offset: 0 CreateTime: \d{13} keySize: 2 valueSize: 4 sequence: -1 headerKeys: \[h1,h2\] "
                    r"key: k1 payload: val1", lines[3]) is not None and
       re.fullmatch(r"\| offset: 1 CreateTime: \d{13} keySize: 2 valueSize: 4 sequence: -1 headerKeys: \[\] "
                    r"key: k2 payload: val2", lines[4]) is not None and
       re.fullmatch(r"\| offset: 2 CreateTime: \d{13} keySize: -1 valueSize: 5 sequence: -1 headerKeys: \[\] "
                    r"payload: plain", lines[6]) is not None,
       "dump-log --print-data-log layout", out)
    code, out, err = sh("kafka-dump-log --files /nonexistent/0.log")
    ok(code == 1 and err.strip().endswith("NoSuchFileException: /nonexistent/0.log (No such file or directory)"),
       "dump-log missing file", out + err)
    # a rolled segment has an offset index and a time index: every entry points at a batch
    expect("kafka-topics --create --bootstrap-server %s --partitions 1 --replication-factor 1 --topic segs "
           "--config segment.bytes=60000" % bs)
    wait_leaders(bs, "segs", 1)
    expect("kafka-producer-perf-test --topic segs --num-records 3000 --record-size 100 --throughput -1 "
           "--producer-props bootstrap.servers=%s batch.size=2000 linger.ms=0" % bs, timeout=120)
    lead = next(n for n in cluster.brokers() if n.id == leader_of(bs, "segs", 0))
    base = os.path.join(lead.dir, "data", "segs-0", "00000000000000000000")
    out, err = expect("kafka-dump-log --files %s.log,%s.index,%s.timeindex" % (base, base, base))
    batches = {int(m.group(3)): (int(m.group(1)), int(m.group(2)))
               for m in re.finditer(r"^baseOffset: (\d+) lastOffset: (\d+) .* position: (\d+) ", out, re.M)}
    index = [(int(a), int(b_)) for a, b_ in re.findall(r"^offset: (\d+) position: (\d+)$", out, re.M)]
    times = re.findall(r"^timestamp: \d{13} offset: (\d+)$", out, re.M)
    ok(len(batches) > 5 and len(index) > 0 and all(pos in batches and batches[pos][0] <= off <= batches[pos][1]
                                                   for off, pos in index) and len(times) > 0,
       "dump-log index entries point at batches", out[-2000:])

    # --- round trip, 100000 lines, bootstrapped at a broker that is not the leader
    for name, parts in (("rt1", 1), ("rt3", 3)):
        expect("kafka-topics --create --bootstrap-server %s --partitions %d --replication-factor 1 --topic %s"
               % (bs, parts, name))
        wait_leaders(bs, name, parts)
        other = non_leader(cluster, name, 0).bootstrap
        expect("seq 1 100000 | kafka-console-producer --bootstrap-server %s --topic %s" % (other, name), timeout=300)
        out, err = expect("kafka-console-consumer --bootstrap-server %s --topic %s --from-beginning "
                          "--max-messages 100000 --property print.partition=true" % (other, name), timeout=300)
        per = {}
        for line in out.splitlines():
            p, v = line.split("\t")
            per.setdefault(p, []).append(int(v))
        allv = sorted(v for vs in per.values() for v in vs)
        ok(allv == list(range(1, 100001)), "%s: every line once" % name, "%d lines" % len(allv))
        ok(all(vs == sorted(vs) for vs in per.values()), "%s: in order per partition" % name)
        ok(len(per) >= min(parts, 2), "%s: %d partitions used" % (name, len(per)), str(per.keys()))
        ok(err.strip().endswith("Processed a total of 100000 messages"), "%s count line" % name, err[-300:])
        out, err = expect("kafka-get-offsets --bootstrap-server %s --topic %s" % (other, name))
        ok(sum(int(l.split(":")[2]) for l in out.splitlines()) == 100000, "%s get-offsets total" % name, out)

    # --- perf tests: Kafka's summary lines
    expect("kafka-topics --create --bootstrap-server %s --partitions 3 --replication-factor 1 --topic perf" % bs)
    wait_leaders(bs, "perf", 3)
    out, err = expect("kafka-producer-perf-test --topic perf --num-records 20000 --record-size 100 --throughput -1 "
                      "--producer-props bootstrap.servers=%s acks=1" % non_leader(cluster, "perf").bootstrap,
                      timeout=120)
    last = out.splitlines()[-1]
    ok(re.fullmatch(r"20000 records sent, \d+\.\d{6} records/sec \(\d+\.\d\d MB/sec\), \d+\.\d\d ms avg latency, "
                    r"\d+\.\d\d ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.", last)
       is not None, "producer-perf-test summary", out + err)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic perf" % bs)
    ok(sum(int(l.split(":")[2]) for l in out.splitlines()) == 20000, "producer-perf-test wrote 20000", out)
    # a group, bootstrapped at a broker that is not its coordinator
    pcoord = not_coordinator_of(cluster, "perf-g").bootstrap
    out, err = expect("kafka-consumer-perf-test --bootstrap-server %s --topic perf --messages 20000 --group perf-g"
                      % pcoord, timeout=120)
    lines = out.splitlines()
    ok(lines[0] == "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                   "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec" and
       re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, 1\.9073, "
                    r"\d+\.\d{4}, 20000, \d+\.\d{4}, \d+, \d+, \d+\.\d{4}, \d+\.\d{4}", lines[1]) is not None,
       "consumer-perf-test header and row", out + err)
    out, err = expect("kafka-consumer-perf-test --bootstrap-server %s --topic perf --messages 30000 --timeout 1500 "
                      "--group perf-h --hide-header" % not_coordinator_of(cluster, "perf-h").bootstrap, timeout=120)
    lines = out.splitlines()
    ok(len(lines) == 2 and lines[0].startswith("WARNING: Exiting before consuming the expected number of messages: "
                                               "timeout (1500 ms) exceeded.") and ", 20000, " in lines[1],
       "consumer-perf-test --timeout", out + err)

    # --- GetOffsetShell / get-offsets
    out, err = expect("kafka-run-class kafka.tools.GetOffsetShell --broker-list %s,%s --topic hello.kafka"
                      % (b[1], b[2]))
    lines = out.splitlines()
    ok([l.rsplit(":", 1)[0] for l in lines] == ["hello.kafka:%d" % p for p in range(4)] and
       sum(int(l.rsplit(":", 1)[1]) for l in lines) == 6, "GetOffsetShell topic:partition:offset", out)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic-partitions 'rt3:1-,fmt' --time earliest" % bs)
    ok(out == "fmt:0:0\nrt3:1:0\nrt3:2:0\n", "get-offsets --topic-partitions ranges, sorted", out)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic fmt --time -1" % bs)
    ok(out == "fmt:0:3\n", "get-offsets --time -1", out)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic 'rt.' --partitions 0 --time latest" % bs)
    ok(out.startswith("rt1:0:100000\nrt3:0:"), "get-offsets regex + --partitions", out)

    # --- --time -3 / max-timestamp: ListOffsets v7 (KIP-734), the first record with the largest timestamp
    expect("kafka-topics --create --bootstrap-server %s --partitions 2 --replication-factor 2 --topic mts" % bs)
    wait_leaders(bs, "mts", 2)
    t0 = int(time.time() * 1000) - 3600 * 1000
    from confluent_kafka import Producer
    prod = Producer({"bootstrap.servers": non_leader(cluster, "mts").bootstrap, "acks": "all", "linger.ms": 0})
    for i, dt in enumerate([10, 50, 30, 50, 20]):  # two records share the max: the first one (offset 1) is the answer
        prod.produce("mts", value=b"m%d" % i, partition=0, timestamp=t0 + dt)
        prod.flush(10)
    prod.produce("mts", value=b"late", partition=1, timestamp=t0 + 5)
    prod.produce("mts", value=b"early", partition=1, timestamp=t0 + 1)
    ok(prod.flush(10) == 0, "mts records delivered")
    other = non_leader(cluster, "mts").bootstrap
    for t in ("-3", "max-timestamp"):
        out, err = expect("kafka-get-offsets --bootstrap-server %s --topic mts --time %s" % (other, t))
        ok(out == "mts:0:1\nmts:1:0\n", "get-offsets --time %s" % t, out + err)
    out, err = expect("kafka-run-class kafka.tools.GetOffsetShell --broker-list %s --topic mts --time -3" % other)
    ok(out == "mts:0:1\nmts:1:0\n", "GetOffsetShell --time -3", out + err)
    expect("kafka-topics --create --bootstrap-server %s --partitions 1 --replication-factor 1 --topic mts-empty" % bs)
    wait_leaders(bs, "mts-empty", 1)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic mts-empty --time -3" % bs)
    ok(out == "" and err == "", "get-offsets -3 on an empty partition lists nothing", out + err)
    lead = next(n for n in cluster.brokers() if n.id == leader_of(bs, "mts", 0))
    ok(api_versions_max(lead.client_port, 2) == 7, "ListOffsets v7 advertised", api_versions_max(lead.client_port, 2))
    err_, ts, off, _ = list_offsets_v7(lead.client_port, "mts", 0, -3)
    ok((err_, ts, off) == (0, t0 + 50, 1), "ListOffsets v7 -3: offset 1, timestamp t0+50", (err_, ts - t0, off))
    err_, ts, off, _ = list_offsets_v7(lead.client_port, "mts", 0, t0 + 25)
    ok((err_, ts, off) == (0, t0 + 50, 1), "ListOffsets v7 by time", (err_, ts - t0, off))
    err_, ts, off, _ = list_offsets_v7(lead.client_port, "mts", 0, -1)
    ok((err_, off) == (0, 5), "ListOffsets v7 latest", (err_, off))
    follower = non_leader(cluster, "mts", 0)
    err_, ts, off, _ = list_offsets_v7(follower.client_port, "mts", 0, -3)
    ok(err_ == 6, "ListOffsets -3 at a follower: NOT_LEADER_OR_FOLLOWER", err_)

    # --- the tutorial's kafka-reassign-partitions: tmp.json, --generate, proposed.json, --execute, --verify,
    # verbatim but for `--zookeeper localhost:2181` (gone since Kafka 3.0), which is --bootstrap-server H:P here
    for t in ("foo", "bar"):
        expect("kafka-topics --create --bootstrap-server %s --topic %s --replica-assignment 4:5,5:6,6:4" % (bs, t))
        wait_leaders(bs, t, 3)
        expect("seq 1 30 | kafka-console-producer --bootstrap-server %s --topic %s" % (bs, t))
    with open(os.path.join(TMP, "tmp.json"), "w") as f:
        f.write('{\n    "version":1,\n    "topics": [\n        {"topic":"foo"},\n        {"topic":"bar"}\n    ]\n}\n')
    out, err = expect('kafka-reassign-partitions.sh --bootstrap-server %s --topics-to-move-json-file tmp.json '
                      '--broker-list "5,6" --generate' % b[0])
    lines = out.splitlines()
    cur = ('{"version":1,"partitions":[' + ",".join(
        '{"topic":"%s","partition":%d,"replicas":[%s],"log_dirs":["any","any"]}' % (t, p_, r)
        for t in ("bar", "foo") for p_, r in enumerate(("4,5", "5,6", "6,4"))) + "]}")
    ok(len(lines) == 5 and lines[0] == "Current partition replica assignment" and lines[1] == cur and
       lines[2] == "" and lines[3] == "Proposed partition reassignment configuration", "tutorial --generate", out + err)
    prop = json.loads(lines[4]) if len(lines) == 5 else {}
    ok(prop.get("version") == 1 and
       sorted((x["topic"], x["partition"]) for x in prop.get("partitions", [])) ==
       [(t, p_) for t in ("bar", "foo") for p_ in range(3)] and
       all(sorted(x["replicas"]) == [5, 6] and x["log_dirs"] == ["any", "any"] for x in prop.get("partitions", [])),
       "tutorial --generate proposes brokers 5,6 for every partition", out)
    with open(os.path.join(TMP, "proposed.json"), "w") as f:
        f.write('{"version":1,\n'
                ' "partitions":[{"topic":"foo","partition":2,"replicas":[5,6]},\n'
                '               {"topic":"foo","partition":0,"replicas":[5,6]},\n'
                '               {"topic":"bar","partition":2,"replicas":[5,6]},\n'
                '               {"topic":"bar","partition":0,"replicas":[5,6]},\n'
                '               {"topic":"foo","partition":1,"replicas":[5,6]},\n'
                '               {"topic":"bar","partition":1,"replicas":[5,6]}]\n'
                '}\n')
    out, err = expect("kafka-reassign-partitions.sh --bootstrap-server %s --reassignment-json-file proposed.json "
                      "--execute" % b[0])
    ok(out.splitlines() == ["Current partition replica assignment", "", cur, "",
                            "Save this to use as the --reassignment-json-file option during rollback",
                            "Successfully started partition reassignments for bar-0,bar-1,bar-2,foo-0,foo-1,foo-2"],
       "tutorial --execute", out + err)
    verify = "kafka-reassign-partitions.sh --bootstrap-server %s --reassignment-json-file proposed.json --verify" % b[1]
    deadline = time.time() + 90
    while time.time() < deadline:
        code, out, err = sh(verify)
        if code == 0 and "in progress" not in out:
            break
        time.sleep(0.5)
    lines = out.splitlines()
    ok(code == 0 and lines[:7] == ["Status of partition reassignment:"] + [
        "Reassignment of partition %s-%d is completed." % (t, p_) for t in ("bar", "foo") for p_ in range(3)] and
       lines[7:9] == ["", "Clearing broker-level throttles on brokers 4,5,6"] and
       lines[9] in ("Clearing topic-level throttles on topics bar,foo", "Clearing topic-level throttles on topics foo,bar"),
       "tutorial --verify: every partition completed", out + err)
    md = AdminClient({"bootstrap.servers": b[2]}).list_topics(timeout=20)
    ok(all(sorted(md.topics[t].partitions[p_].replicas) == [5, 6] for t in ("foo", "bar") for p_ in range(3)),
       "foo and bar now live on brokers 5 and 6",
       {t: {p_: md.topics[t].partitions[p_].replicas for p_ in range(3)} for t in ("foo", "bar")})
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic foo --from-beginning --max-messages 30 "
                      "--timeout-ms 20000" % b[0])
    ok(sorted(int(v) for v in out.split()) == list(range(1, 31)), "foo's records read after the move", out + err)

    # --- delete-records with the tutorial's file, verbatim (its stray "}" included)
    expect("kafka-topics --create --bootstrap-server %s --partitions 1 --replication-factor 1 --topic test" % bs)
    wait_leaders(bs, "test", 1)
    expect("seq 1 100 | kafka-console-producer --bootstrap-server %s --topic test" % bs)
    with open(os.path.join(TMP, "delete-data.json"), "w") as f:
        f.write('{"partitions":[{"topic":"test", "partition": 0, "offset":50}]}, "version":1}\n')
    out, err = expect("kafka-delete-records --bootstrap-server %s --offset-json-file delete-data.json"
                      % non_leader(cluster, "test").bootstrap)
    ok(out == "Executing records delete operation\nRecords delete operation completed:\n"
              "partition: test-0\tlow_watermark: 50\n", "tutorial delete-records", out + err)
    out, err = expect("kafka-get-offsets --bootstrap-server %s --topic test --time -2" % bs)
    ok(out == "test:0:50\n", "log start after delete-records", out)
    out, err = expect("kafka-console-consumer --bootstrap-server %s --topic test --from-beginning --max-messages 1" % bs)
    ok(out == "51\n", "first record after delete-records", out)
    with open(os.path.join(TMP, "far.json"), "w") as f:
        json.dump({"partitions": [{"topic": "test", "partition": 0, "offset": 1000}], "version": 1}, f)
    out, err = expect("kafka-delete-records --bootstrap-server %s --offset-json-file far.json" % bs)
    ok(out.splitlines()[-1].startswith("partition: test-0\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException"),
       "delete-records past the end", out)
    with open(os.path.join(TMP, "bad.json"), "w") as f:
        f.write("{\"partitions\": [ {\"topic\": \"test\" ")
    one_line_error("kafka-delete-records --bootstrap-server %s --offset-json-file bad.json" % bs,
                   "delete-records bad JSON", "The input string is not a valid JSON")

    # --- errors: unknown topic, unreachable bootstrap server
    one_line_error("echo x | kafka-console-producer --bootstrap-server %s --topic nosuch" % bs,
                   "producer unknown topic", "Topic nosuch does not exist")
    one_line_error("kafka-console-consumer --bootstrap-server %s --topic nosuch --from-beginning" % bs,
                   "consumer unknown topic", "Topic nosuch does not exist")
    one_line_error("kafka-get-offsets --bootstrap-server %s --topic nosuch" % bs, "get-offsets unknown topic",
                   "Error occurred: Could not match any topic-partitions with the specified filters")
    one_line_error("kafka-verifiable-producer --bootstrap-server %s --topic nosuch --max-messages 1" % bs,
                   "verifiable producer unknown topic", "Topic nosuch does not exist")
    one_line_error("kafka-verifiable-consumer --bootstrap-server %s --topic nosuch --group-id g" % bs,
                   "verifiable consumer unknown topic", "Topic nosuch does not exist")
    dead = "127.0.0.1:%d" % samsacluster.samsanode.free_ports(1)[0]
    one_line_error("echo x | kafka-console-producer --bootstrap-server %s --topic t" % dead,
                   "producer unreachable", "Cannot connect to bootstrap server(s) %s" % dead)
    one_line_error("kafka-console-consumer --bootstrap-server %s --topic t" % dead,
                   "consumer unreachable", "Cannot connect to bootstrap server(s) %s" % dead)
    one_line_error("kafka-verifiable-producer --broker-list %s --topic t" % dead,
                   "verifiable producer unreachable", "Cannot connect to bootstrap server(s) %s" % dead)
    # as Kafka: the "Executing" line, then the exception; the deadline from --command-config
    with open(os.path.join(TMP, "admin.properties"), "w") as f:
        f.write("default.api.timeout.ms=2000\n")
    code, out, err = sh("kafka-delete-records --bootstrap-server %s --offset-json-file delete-data.json "
                        "--command-config admin.properties" % dead)
    ok(code == 1 and out == "Executing records delete operation\n" and len(err.splitlines()) == 1 and
       "TimeoutException: Timed out waiting for a node assignment." in err and "Connection refused" in err,
       "delete-records unreachable", out + err)
    one_line_error("kafka-broker-api-versions --bootstrap-server %s" % dead,
                   "broker-api-versions unreachable", "Cannot connect to bootstrap server(s) %s" % dead)
    one_line_error("kafka-get-offsets --broker-list %s --topic t" % dead,
                   "get-offsets unreachable", "Cannot connect to bootstrap server(s) %s" % dead)
    code, out, err = sh("kafka-console-consumer --bootstrap-server %s" % bs)
    ok(code == 1 and err.startswith("Exactly one of include/topic is required."), "consumer without topic", err)
    code, out, err = sh("kafka-console-consumer --bootstrap-server %s --topic fmt --offset 3" % bs)
    ok(code == 1 and err.startswith("The partition is required when offset is specified."), "offset w/o partition",
       err)
    code, out, err = sh("kafka-console-producer --bootstrap-server %s" % bs)
    ok(code == 1 and err.startswith("Missing required argument \"[topic]\""), "producer without topic", err)

    out, err = expect("kafka-topics --delete --bootstrap-server %s --topic fm2" % bs)
    out, err = expect("kafka-topics --list --bootstrap-server %s" % bs)
    ok("fm2" not in out.split("\n"), "tutorial topic delete", out)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
