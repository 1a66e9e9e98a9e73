"""dirlock_test - two processes never share a log dir (Kafka's `.lock`).

Proves, on a real single node (test/lib/samsanode.py):
  1. a second samsa-server started with the SAME server.properties while the
     first runs exits non-zero within a few seconds, before it binds or
     touches the dirs, with "Failed to acquire lock on file .lock in <dir>"
     naming the dir and the first one's pid;
  2. the first node still serves produce and fetch afterwards (confluent_kafka),
     and the `.lock` file is no partition: kafka-log-dirs --describe lists
     only the real partitions and the topic list has no stray entries;
  3. kill -9 of the first and an immediate restart: it starts (the kernel
     dropped the dead process's lock) and every record is still there;
  4. `samsa storage format --ignore-formatted` on a running node's config
     writes nothing into its (formatted, locked) dirs and says so; format of
     a new dir another process holds is refused naming that pid, and works
     once the lock is released.
"""
import fcntl
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsanode import CLI, SERVER, TOP, Node, check  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

TOPIC = "dirlock-t"


def produce(node, values):
    p = Producer({"bootstrap.servers": node.bootstrap, "acks": "all"})
    for v in values:
        p.produce(TOPIC, value=v)
    check(p.flush(30) == 0, "produce of %d records" % len(values), node)


def fetch_all(node, want):
    c = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "dirlock-%f" % time.time(),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < want and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value())
    c.close()
    return got


node = Node()
node.start()
data = os.path.join(node.root, "data")
produce(node, [b"before-%d" % i for i in range(10)])
check(fetch_all(node, 10) == [b"before-%d" % i for i in range(10)], "fetch before the second process", node)
check(os.path.isfile(os.path.join(data, ".lock")), "no %s/.lock while the node runs" % data, node)

# 1. the same config again: refused at once, exit != 0, the dir and pid named
t0 = time.monotonic()
try:
    second = subprocess.run([SERVER, node.props], capture_output=True, text=True, timeout=10,
                            stdin=subprocess.DEVNULL)
except subprocess.TimeoutExpired:
    node.fail("the second samsa-server on the same dirs still ran after 10 s")
took = time.monotonic() - t0
out = second.stdout + second.stderr
check(second.returncode != 0, "second process exited %d:\n%s" % (second.returncode, out), node)
check(took < 5, "second process took %.1f s to give up" % took, node)
check("Failed to acquire lock on file .lock in %s" % data in out, "message does not name %s:\n%s" % (data, out),
      node)
check("pid %d" % node.pid in out, "message does not name the holder pid %d:\n%s" % (node.pid, out), node)
check("bound" not in out and "listening" not in out.lower(), "second process got as far as binding:\n%s" % out,
      node)
print("ok second process on the same dirs: exit %d after %.2f s: %s" %
      (second.returncode, took, out[out.find("Failed"):][:200]))

# 2. the first keeps serving; .lock is not a partition
check(node.alive(), "the first node died", node)
produce(node, [b"after-%d" % i for i in range(10)])
got = fetch_all(node, 20)
check(got == [b"before-%d" % i for i in range(10)] + [b"after-%d" % i for i in range(10)],
      "fetch after the second process: %r" % got[:25], node)
env = dict(os.environ, PATH=os.path.join(TOP, "build", "bin") + ":" + os.environ.get("PATH", ""))
ld = subprocess.run(["kafka-log-dirs", "--bootstrap-server", node.bootstrap, "--describe", "--broker-list", "1"],
                    capture_output=True, text=True, env=env, timeout=30)
check(ld.returncode == 0, "kafka-log-dirs: %s %s" % (ld.stdout, ld.stderr), node)
dirs = json.loads(ld.stdout.splitlines()[-1])["brokers"][0]["logDirs"]
parts = sorted(p["partition"] for d in dirs for p in d["partitions"])
check(len(dirs) == 1 and dirs[0]["error"] is None and TOPIC + "-0" in parts and
      all(not p.startswith(".") for p in parts), "kafka-log-dirs: %r" % dirs, node)
print("ok first node still serves produce + fetch (20 records); kafka-log-dirs lists %r" % parts)

# 4. format on the running node's config: its dirs are formatted and skipped
fmt = subprocess.run([CLI, "storage", "format", "-t", node.cluster_id, "-c", node.props, "--ignore-formatted"],
                     capture_output=True, text=True, timeout=30)
check(fmt.returncode == 0 and "already formatted" in fmt.stdout, "format -g: %s %s" % (fmt.stdout, fmt.stderr),
      node)

# 4b. format of a new dir that another process holds (here this test, with
# fcntl like the server): refused naming the holder; written once released
newdir = os.path.join(node.root, "data-new")
os.makedirs(newdir)
newprops = os.path.join(node.root, "new.properties")
with open(node.props) as f, open(newprops, "w") as g:
    g.write(f.read().replace("log.dirs=%s" % data, "log.dirs=%s" % newdir))
holder = open(os.path.join(newdir, ".lock"), "w")
fcntl.lockf(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
fmt = subprocess.run([CLI, "storage", "format", "-t", node.cluster_id, "-c", newprops], capture_output=True,
                     text=True, timeout=30)
check(fmt.returncode == 1 and "Failed to acquire lock on file .lock in %s" % newdir in fmt.stderr and
      "pid %d" % os.getpid() in fmt.stderr and not os.path.exists(os.path.join(newdir, "meta.properties")),
      "format of a locked dir: exit %d %s %s" % (fmt.returncode, fmt.stdout, fmt.stderr), node)
holder.close()
fmt = subprocess.run([CLI, "storage", "format", "-t", node.cluster_id, "-c", newprops], capture_output=True,
                     text=True, timeout=30)
check(fmt.returncode == 0 and os.path.exists(os.path.join(newdir, "meta.properties")),
      "format once released: %s %s" % (fmt.stdout, fmt.stderr), node)
print("ok storage format refuses a dir another process holds (pid named), formats it once released")

# 3. kill -9, restart at once: the lock died with the process
old_pid = node.pid
node.kill()
t0 = time.monotonic()
node.start()
check(node.pid != old_pid, "same pid after restart", node)
got = fetch_all(node, 20)
check(len(got) == 20, "after kill -9 + restart: %d of 20 records" % len(got), node)
produce(node, [b"restarted"])
check(fetch_all(node, 21)[-1] == b"restarted", "produce after restart", node)
print("ok kill -9 and an immediate restart: serving again after %.2f s, 21 records" % (time.monotonic() - t0))
node.kill()
print("dirlock_test: OK")
