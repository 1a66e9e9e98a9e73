"""idempotence_kafkajs_test - kafkajs's idempotent producer
(test/js/idempotent_kafkajs.js) on a 3-node cluster, bootstrapped at the
brokers that do not lead its partition, while the test kill -9s and
restarts the leader (when the script prints "KILL", without stopping it),
then stalls it (SIGSTOP for 2.5 s, past kafkajs's 1 s request timeout, at
"STALL"), so a send the stopped node still holds is retried and arrives
twice.

Proves: kafkajs gets a producer id (InitProducerId v1), every batch it saw
acknowledged is in the log exactly at its acknowledged offsets, and the log
holds every value once, in order (retries across the restart were
recognised, not appended twice).  Skipped (77) when kafkajs is not
installed in test/js/node_modules.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, TOP  # noqa: E402
from samsanode import check  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

if not os.path.isdir(os.path.join(TOP, "test/js/node_modules/kafkajs")) or not shutil.which("node"):
    print("SKIP (kafkajs not installed: cd test/js && npm ci)")
    sys.exit(77)

cl = Cluster(["broker,controller"] * 3)
cl.start()
env = dict(os.environ, SAMSA_BOOTSTRAP=cl.bootstrap())
js = subprocess.Popen(["node", os.path.join(TOP, "test/js/idempotent_kafkajs.js")], env=env, text=True,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
leader = None
acked = None
killed = False
stalled = False
for line in js.stdout:
    print(line, end="")
    if line.startswith("LEADER "):
        leader = cl.node(int(line.split()[1]))
    elif line.strip() == "KILL":
        check(leader is not None, "KILL before LEADER", cl)
        leader.kill9()
        time.sleep(0.5)
        leader.start()
        leader.wait_ready()
        killed = True
    elif line.strip() == "STALL":
        os.kill(leader.proc.pid, signal.SIGSTOP)
        time.sleep(2.5)
        os.kill(leader.proc.pid, signal.SIGCONT)
        stalled = True
    elif line.startswith("ACKED "):
        acked = json.loads(line[6:])
rc = js.wait(180)
check(rc == 0 and killed and stalled and acked, "kafkajs idempotent script rc=%d killed=%s stalled=%s" %
      (rc, killed, stalled), cl)

c = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": "js-idem-check", "enable.auto.commit": False})
c.assign([TopicPartition("js-idem", 0, 0)])
want = sum(n for _, _, n in acked)
log = []
deadline = time.time() + 60
while time.time() < deadline and len(log) < want + 1:
    m = c.poll(0.5)
    if m is None:
        if len(log) >= want:
            break
        continue
    if m.error():
        continue
    log.append((m.offset(), int(m.value())))
c.close()
values = [v for _, v in log]
check(values == list(range(want)), "log holds %d records (want 0..%d once each, in order); first extra/missing "
      "near %r" % (len(values), want - 1, [v for i, v in enumerate(values) if v != i][:3]), cl)
at = dict(log)
for base, first, n in acked:
    for k in range(n):
        check(at.get(base + k) == first + k, "acknowledged value %d not at offset %d (%r)" %
              (first + k, base + k, at.get(base + k)), cl)
print("idempotence_kafkajs_test: %d batches acknowledged, %d records once each, leader node %d killed, "
      "restarted and stalled: OK" % (len(acked), want, leader.id))
