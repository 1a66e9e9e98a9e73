"""groups_kafkajs_test - kafkajs consumer groups (test/js/groups_kafkajs.js)
on a 3-node cluster, bootstrapped at a broker that is not the group's
coordinator; between its two runs the coordinator restarts (the script asks
with "RESTART" on stdout and waits for a line on stdin), so the second run
resumes from the offsets the coordinator reloaded from __consumer_offsets.
Skipped (77) when kafkajs is not installed in test/js/node_modules.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, TOP  # noqa: E402
from samsanode import check  # noqa: E402

if not os.path.isdir(os.path.join(TOP, "test/js/node_modules/kafkajs")) or not shutil.which("node"):
    print("SKIP (kafkajs not installed: cd test/js && npm ci)")
    sys.exit(77)

GROUP = "js-group-1"
cl = Cluster(["broker,controller"] * 3, extra=["offsets.topic.replication.factor=1",
                                               "group.initial.rebalance.delay.ms=0"])
cl.start()
coord = cl.coordinator(GROUP)
entry = cl.not_coordinator(GROUP)
print("group %s: coordinator node %d, kafkajs bootstraps at node %d" % (GROUP, coord.id, entry.id))
env = dict(os.environ, SAMSA_BOOTSTRAP=entry.bootstrap, SAMSA_RESTART_HANDSHAKE="1")
js = subprocess.Popen(["node", os.path.join(TOP, "test/js/groups_kafkajs.js")], env=env, text=True,
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = []
restarted = False
for line in js.stdout:
    out.append(line)
    print(line, end="")
    if line.strip() == "RESTART":
        coord.restart()
        restarted = True
        js.stdin.write("go\n")
        js.stdin.flush()
rc = js.wait(120)
check(rc == 0 and restarted, "kafkajs groups script rc=%d restarted=%s" % (rc, restarted), cl)
check(all(n.alive() for n in cl.nodes), "a node died during the kafkajs groups test", cl)
print("groups_kafkajs_test: OK")
