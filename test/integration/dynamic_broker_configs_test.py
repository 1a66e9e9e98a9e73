"""dynamic_broker_configs_test - dynamic broker configs (KIP-226) on 3 nodes.

Proves, with kafka-configs (build/bin, Kafka's name) and confluent_kafka's
AdminClient, each bootstrapped at a broker that is not the active controller:
  - `kafka-configs --entity-type brokers --entity-default --alter --add-config
    log.retention.ms=1000` makes retention delete old segments of a topic
    without a restart (the earliest offset moves from 0), where nothing was
    deleted before the change, and every broker logs the new effective value;
  - `--entity-name 2 --alter` sets one broker's value; DescribeConfigs reports
    Kafka's sources: DYNAMIC_BROKER_CONFIG on broker 2,
    DYNAMIC_DEFAULT_BROKER_CONFIG on broker 1, STATIC_BROKER_CONFIG for a
    server.properties key, DEFAULT_CONFIG otherwise; synonyms in Kafka's
    order (log.retention.ms, .minutes, .hours); broker.id equals node.id;
    `--describe --all` prints them; the topic's retention.ms follows;
  - message.max.bytes lowered as a cluster default refuses a larger record
    at once (MSG_SIZE_TOO_LARGE), and deleting the default restores it;
  - a read-only key is refused with Kafka's "Cannot update these configs
    dynamically: Set(log.dirs)", an invalid value with INVALID_CONFIG.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster  # noqa: E402
from samsanode import check  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(TOP, "build", "bin")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))

cl = Cluster(["broker,controller"] * 3,
             extra=["offsets.topic.replication.factor=1", "log.retention.check.interval.ms=500",
                    "log.retention.hours=240"])
cl.start()
ctrl = cl.active_controller()
other = [n for n in cl.nodes if n.id != ctrl.id][0]
bs = other.bootstrap


def configs(args, rc=0):
    p = subprocess.run("kafka-configs --bootstrap-server %s %s" % (bs, args), shell=True, env=ENV,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == rc, "kafka-configs %s: exit %d\n%s%s" % (args, p.returncode, p.stdout, p.stderr), cl)
    return p.stdout + p.stderr


def describe(admin, broker_id):
    res = ConfigResource("broker", str(broker_id))
    return admin.describe_configs([res])[res].result(timeout=30)


def wait_for(what, fn, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    check(False, "timed out: %s" % what, cl)


admin = AdminClient({"bootstrap.servers": bs})

# --- a topic with several segments, nothing old enough to delete yet
topic = "dyn-retention"
admin.create_topics([NewTopic(topic, 1, 1, config={"segment.bytes": "16384"})])[topic].result(timeout=30)
p = Producer({"bootstrap.servers": bs, "linger.ms": 0, "batch.size": 4000})
for i in range(200):
    p.produce(topic, value=b"x" * 1000)
    if i % 20 == 0:
        p.flush(10)
check(p.flush(15) == 0, "produce", cl)
c = Consumer({"bootstrap.servers": bs, "group.id": "dyn-probe"})


def earliest():
    low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    return low, high


time.sleep(3)  # several retention checks at the static 240 h: nothing goes
low, high = earliest()
check(low == 0 and high == 200, "before the change: offsets [%d, %d), want [0, 200)" % (low, high), cl)

# --- cluster default through the tool: retention deletes without a restart
out = configs("--entity-type brokers --entity-default --alter --add-config log.retention.ms=1000")
check("Completed updating default config for brokers in the cluster." in out, out, cl)
low = wait_for("retention deleting old segments after log.retention.ms=1000",
               lambda: earliest()[0] > 0 and earliest()[0])
print("ok cluster default log.retention.ms=1000 (kafka-configs --entity-default): earliest offset 0 -> %d, "
      "no restart" % low)
for n in cl.nodes:
    check("dynamic broker configs applied node=%d log.retention.ms(effective)=1000" % n.id in n.read_log(),
          "node %d did not apply the cluster default" % n.id, cl)

# --- one broker, sources, synonyms, broker.id
out = configs("--entity-type brokers --entity-name 2 --alter --add-config log.retention.ms=86400000")
check("Completed updating config for broker 2." in out, out, cl)
d2 = wait_for("broker 2's own value", lambda: (lambda d: d if d["log.retention.ms"].value == "86400000" else None)(
    describe(admin, 2)))
e = d2["log.retention.ms"]
check(e.source == 2, "broker 2 log.retention.ms source %d, want DYNAMIC_BROKER_CONFIG (2)" % e.source, cl)
check(not e.is_read_only, "log.retention.ms read-only", cl)
# confluent_kafka keeps synonyms in a dict by name (the last of each name); the
# full ordered list is checked through kafka-configs --describe --all below
syn = sorted(e.synonyms.keys())
check(syn == ["log.retention.hours", "log.retention.ms"], "broker 2 synonym names %r" % syn, cl)
d1 = describe(admin, 1)
check(d1["log.retention.ms"].value == "1000" and d1["log.retention.ms"].source == 3,
      "broker 1 log.retention.ms %r source %d, want 1000 / DYNAMIC_DEFAULT_BROKER_CONFIG (3)"
      % (d1["log.retention.ms"].value, d1["log.retention.ms"].source), cl)
check(d1["log.retention.check.interval.ms"].source == 4, "static key source %d, want STATIC_BROKER_CONFIG (4)"
      % d1["log.retention.check.interval.ms"].source, cl)
check(d1["queued.max.requests"].source == 5 and d1["queued.max.requests"].is_read_only,
      "queued.max.requests source %d read_only %s" % (d1["queued.max.requests"].source,
                                                       d1["queued.max.requests"].is_read_only), cl)
for n in cl.nodes:
    d = describe(admin, n.id)
    check(d["broker.id"].value == str(n.id), "broker %d broker.id=%s" % (n.id, d["broker.id"].value), cl)
tres = ConfigResource("topic", topic)
tcfg = admin.describe_configs([tres])[tres].result(timeout=30)
# a topic's defaults are those of the broker that answers (Kafka's too): broker
# 2's own value, or the cluster default on the others
tr = (tcfg["retention.ms"].value, tcfg["retention.ms"].source)
check(tr in (("86400000", 2), ("1000", 3)), "topic retention.ms %r source %d, want the answering broker's "
      "(86400000 / DYNAMIC_BROKER_CONFIG or 1000 / DYNAMIC_DEFAULT_BROKER_CONFIG)" % tr, cl)
out = configs("--entity-type brokers --entity-name 2 --describe --all")
want = ("log.retention.ms=86400000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=86400000, "
        "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=1000, STATIC_BROKER_CONFIG:log.retention.hours=240, "
        "DEFAULT_CONFIG:log.retention.hours=168}")
check("All configs for broker 2 are:" in out and want in out, "describe --all lacks %r:\n%s" % (want, out), cl)
out = configs("--entity-type brokers --entity-name 2 --describe")
check("Dynamic configs for broker 2 are:" in out and "log.retention.ms=86400000" in out, out, cl)
out = configs("--entity-type brokers --entity-default --describe")
check("Default configs for brokers in the cluster are:" in out and "log.retention.ms=1000" in out, out, cl)
print("ok broker 2 override (DYNAMIC_BROKER_CONFIG), broker 1 default (DYNAMIC_DEFAULT_BROKER_CONFIG), static/"
      "default sources, synonyms in Kafka's order, broker.id = node.id, describe --all")

# --- message.max.bytes lowered cluster-wide applies to the next produce
configs("--entity-type brokers --entity-default --alter --add-config message.max.bytes=2000")
small = "dyn-msgsize"
admin.create_topics([NewTopic(small, 1, 1)])[small].result(timeout=30)
errs = []


def dr(err, msg):
    errs.append(err)


def produce_big():
    """The delivery report's error code of one 5000-byte record: 0 when stored."""
    del errs[:]
    pp = Producer({"bootstrap.servers": bs, "message.max.bytes": 100000, "retries": 0})
    pp.produce(small, value=b"y" * 5000, on_delivery=dr)
    pp.flush(15)
    if not errs:
        return -1
    return 0 if errs[0] is None else errs[0].code()


wait_for("message.max.bytes=2000 refusing a 5000-byte record",
         lambda: produce_big() == KafkaError.MSG_SIZE_TOO_LARGE)
configs("--entity-type brokers --entity-default --alter --delete-config message.max.bytes")
wait_for("message.max.bytes default restored", lambda: produce_big() == 0)
print("ok cluster default message.max.bytes=2000 refuses a 5000-byte record (MSG_SIZE_TOO_LARGE); deleting it "
      "restores the default")

# --- refusals
res = ConfigResource("broker", "1", set_config={"log.dirs": "/tmp/elsewhere"})
try:
    admin.alter_configs([res])[res].result(timeout=30)
    check(False, "log.dirs accepted dynamically", cl)
except Exception as ex:  # KafkaException
    err = ex.args[0]
    check("Cannot update these configs dynamically: Set(log.dirs)" in err.str(), "read-only refusal: %s" % err, cl)
res = ConfigResource("broker", "1", set_config={"log.retention.ms": "soon"})
try:
    admin.alter_configs([res])[res].result(timeout=30)
    check(False, "log.retention.ms=soon accepted", cl)
except Exception as ex:
    err = ex.args[0]
    check(err.code() == KafkaError.INVALID_CONFIG, "invalid value refusal: %s" % err, cl)
print("ok read-only key refused with Kafka's message; invalid value refused with INVALID_CONFIG")
check(all(n.alive() for n in cl.nodes), "a node died", cl)
c.close()
cl.cleanup()
