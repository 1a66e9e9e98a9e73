#!/usr/bin/env python3
"""leader_election_test - elections, controlled shutdown and ElectLeaders on
a real cluster: 3 combined nodes (the voters) and 2 broker-only nodes.

  A. Controlled shutdown.  Topic cs on [X, Y, Z] (X not the active
     controller), ISR all three.  SIGTERM X: it asks the controller to move
     its leadership, stops once told to, and `samsa topics --describe` shows
     Y leading with X out of the ISR.  X restarts and rejoins the ISR;
     kafka-leader-election --election-type PREFERRED moves leadership back to
     X ("Successfully completed ..."), a second run says "Valid replica
     already elected ...", an unknown partition fails with Kafka's exception
     line, and a raw ElectLeaders v1 through a broker that is not the active
     controller answers ELECTION_NOT_NEEDED.
  B. Unclean election.  Topics uc (unclean.leader.election.enable=true) and
     cl (default false) on [4, 5].  Kill 5, then 4 (the last ISR member):
     both lose their leader (cl's ISR empties, 4 is its eligible leader
     replica: KIP-966).  Restart 5: uc elects it (ISR [5]) and a
     producer writes to it; cl stays leaderless until kafka-leader-election
     --election-type UNCLEAN elects 5; PREFERRED for cl then fails
     (PreferredLeaderNotAvailable: 4 is down).
  C. Auto leader rebalance (a second, 3-node cluster with
     leader.imbalance.check.interval.seconds=1): after a controlled shutdown
     and return of the preferred replica, leadership goes back to it once it
     is in the ISR again.

ISR expansions are the brokers' own: followers fetch, the leader proposes
AlterPartition, the controller commits it.
Prints "leader_election: N passed, N failed".
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import samsacluster  # noqa: E402
from ctrlwire import metadata_log_state  # noqa: E402
from kwire_py import kstr, recv_frame  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if cond:
        passed += 1
    else:
        failed += 1


def wait_for(pred, timeout_s=20, step=0.1):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


cluster = samsacluster.Cluster(["broker,controller"] * 3 + ["broker"] * 2,
                               ["offsets.topic.replication.factor=1", "auto.leader.rebalance.enable=false",
                                "broker.heartbeat.interval.ms=500", "broker.session.timeout.ms=3000"])
cluster.start()
CLI = samsacluster.CLI
admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
check(wait_for(lambda: len(admin.list_topics(timeout=5).brokers) == 5), "five brokers registered")


def state(cl=None):
    cl = cl or cluster
    return metadata_log_state(os.path.join(cl.active_controller().dir, "data"))


def part(topic, p=0, cl=None):
    """(leader, isr) as a client sees them, through a live broker."""
    cl = cl or cluster
    md = AdminClient({"bootstrap.servers": cl.bootstrap()}).list_topics(timeout=5)
    if topic not in md.topics or p not in md.topics[topic].partitions:
        return None, []   # not in this broker's metadata yet
    pm = md.topics[topic].partitions[p]
    return pm.leader, sorted(pm.isrs)


def describe(topic, via):
    out = subprocess.run([CLI, "topics", "--describe", "--topic", topic, "--bootstrap-server", via.bootstrap],
                         capture_output=True, text=True, timeout=30).stdout
    return [l for l in out.splitlines() if "Partition: 0" in l]


def expand_isr(topic, isr, cl=None):
    """Wait until the leader's own ISR expansion (follower fetching, then
    AlterPartition) has every member of isr in."""
    check(wait_for(lambda: set(isr) <= set(part(topic, cl=cl)[1]), timeout_s=30),
          "%s: the leader expanded its ISR to %s (%s)" % (topic, sorted(isr), part(topic, cl=cl)))


def tool(*args):
    r = subprocess.run([CLI, "leader-election"] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


# ---- A. controlled shutdown, preferred election ----
active = cluster.active_controller()
voters = [n for n in cluster.nodes[:3]]
X = [n for n in voters if n is not active][0]
Y, Z = [n for n in voters if n is not X]
admin.create_topics([NewTopic("cs", 1, replica_assignment=[[X.id, Y.id, Z.id]])])["cs"].result(10)
check(wait_for(lambda: "cs" in state()["topics"]), "topic cs in the metadata log")
expand_isr("cs", [X.id, Y.id, Z.id])
check(wait_for(lambda: part("cs") == (X.id, sorted([X.id, Y.id, Z.id]))),
      "cs: leader %d, ISR all three (%s)" % (X.id, part("cs")))
t0 = time.time()
X.stop()
check(X.proc.returncode == 0, "node %d stopped cleanly after SIGTERM (rc=%s, %.1fs)" % (X.id, X.proc.returncode,
                                                                                         time.time() - t0))
xlog = X.read_log()
check("controlled shutdown done" in xlog,
      "node %d waited for the controller's should_shut_down" % X.id)
lines = describe("cs", Y)
isr_field = lines[0].split("\tIsr: ")[-1].split("\t")[0] if len(lines) == 1 else ""
check(len(lines) == 1 and "Leader: %d\t" % Y.id in lines[0] and sorted(isr_field.split(",")) == sorted([str(Y.id), str(Z.id)]),
      "samsa topics --describe: leader %d, ISR without %d (%s)" % (Y.id, X.id, lines))
clog = cluster.active_controller().read_log()
check("controlled shutdown of broker=%d" % X.id in clog, "the controller logged the controlled shutdown")

X.start()
X.wait_ready()
check(wait_for(lambda: len(admin.list_topics(timeout=5).brokers) == 5), "node %d back" % X.id)
expand_isr("cs", [Y.id, Z.id, X.id])
check(wait_for(lambda: X.id in part("cs")[1]), "node %d back in cs's ISR (%s)" % (X.id, part("cs")))
rc, out = tool("--bootstrap-server", Z.bootstrap, "--election-type", "PREFERRED", "--topic", "cs", "--partition", "0")
check(rc == 0 and "Successfully completed leader election (PREFERRED) for partitions cs-0" in out,
      "kafka-leader-election PREFERRED cs-0 succeeded (rc=%d: %s)" % (rc, out.strip()))
check(wait_for(lambda: part("cs")[0] == X.id), "cs led by its preferred replica %d again (%s)" % (X.id, part("cs")))
rc, out = tool("--bootstrap-server", Y.bootstrap, "--election-type", "preferred", "--topic", "cs", "--partition", "0")
check(rc == 0 and "Valid replica already elected for partitions cs-0" in out,
      "a second PREFERRED election: valid replica already elected (%s)" % out.strip())
rc, out = tool("--bootstrap-server", Y.bootstrap, "--election-type", "PREFERRED", "--all-topic-partitions")
check(rc == 0 and "Error" not in out, "PREFERRED for all partitions: nothing to do, no error (%s)" % out.strip())
rc, out = tool("--bootstrap-server", Y.bootstrap, "--election-type", "PREFERRED", "--topic", "nope", "--partition", "0")
check(rc == 1 and "Error completing leader election (PREFERRED) for partition: nope-0: "
      "org.apache.kafka.common.errors.UnknownTopicOrPartitionException" in out,
      "an unknown partition fails with Kafka's exception (%s)" % out.strip())
rc, out = tool("--bootstrap-server", Y.bootstrap, "--election-type", "PREFERRED")
check(rc == 1 and "One and only one" in out, "no partitions named: usage error")

# a raw ElectLeaders v1 (non-flexible) through a broker-only node: forwarded
b4 = cluster.node(4)
s = socket.create_connection(("127.0.0.1", b4.client_port), timeout=10)
body = struct.pack(">b", 0) + struct.pack(">i", 1) + kstr("cs") + struct.pack(">ii", 1, 0) + struct.pack(">i", 60000)
payload = struct.pack(">hhi", 43, 1, 77) + kstr("raw") + body
s.sendall(struct.pack(">i", len(payload)) + payload)
resp = recv_frame(s)
s.close()
corr, throttle, top_err, ntopics = struct.unpack(">iihi", resp[:14])
tlen = struct.unpack(">h", resp[14:16])[0]
topic = resp[16:16 + tlen].decode()
i = 16 + tlen
nparts, pid, perr = struct.unpack(">iih", resp[i:i + 10])
check(corr == 77 and top_err == 0 and ntopics == 1 and topic == "cs" and nparts == 1 and pid == 0 and perr == 84,
      "raw ElectLeaders v1 via broker 4: cs-0 ELECTION_NOT_NEEDED (err=%d topic=%s partition_err=%d)" %
      (top_err, topic, perr))

# ---- B. unclean election ----
n4, n5 = cluster.node(4), cluster.node(5)
admin.create_topics([NewTopic("uc", 1, replica_assignment=[[4, 5]], config={"unclean.leader.election.enable": "true"}),
                     NewTopic("cl", 1, replica_assignment=[[4, 5]])])["cl"].result(10)
check(wait_for(lambda: part("uc")[0] == 4 and part("cl")[0] == 4), "uc and cl led by 4")


def fenced(node_id):
    return "fencing broker=%d " % node_id in cluster.active_controller().read_log()


n5.kill9()
check(wait_for(lambda: fenced(5)), "broker 5 fenced after kill -9")
check(wait_for(lambda: part("uc") == (4, [4]) and part("cl") == (4, [4])), "5 out of the ISRs, 4 leads")
n4.kill9()
check(wait_for(lambda: fenced(4)), "broker 4 fenced after kill -9")
check(wait_for(lambda: part("uc")[0] == -1 and part("cl")[0] == -1),
      "no live ISR member and nobody else alive: no leader (uc %s, cl %s)" % (part("uc"), part("cl")))
n5.start()
n5.wait_ready()
check(wait_for(lambda: part("uc") == (5, [5])), "uc (unclean allowed): 5 elected, ISR [5] (%s)" % (part("uc"),))
time.sleep(1)
# KIP-966 (eligible.leader.replicas.enable, the default): the last member's
# fence empties the ISR and keeps 4 as an eligible leader replica
st = state()
cl_part = st["partitions"].get((st["topics"]["cl"], 0), {})
check(part("cl") == (-1, []) and cl_part.get("elr") == [4],
      "cl (unclean not allowed): still no leader, ISR [], 4 eligible (ELR) (%s, ELR %s)" % (
          part("cl"), cl_part.get("elr")))
p = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all"})
acked = []
p.produce("uc", b"after-unclean", on_delivery=lambda e, m: acked.append(e is None))
p.flush(15)
check(acked == [True], "a producer writes to uc on its new leader")
rc, out = tool("--bootstrap-server", Y.bootstrap, "--election-type", "UNCLEAN", "--topic", "uc", "--partition", "0")
check(rc == 0 and "Valid replica already elected for partitions uc-0" in out, "UNCLEAN for uc: not needed (%s)" %
      out.strip())
rc, out = tool("--bootstrap-server", n5.bootstrap, "--election-type", "UNCLEAN", "--topic", "cl", "--partition", "0")
check(rc == 0 and "Successfully completed leader election (UNCLEAN) for partitions cl-0" in out,
      "kafka-leader-election UNCLEAN cl-0 succeeded (%s)" % out.strip())
check(wait_for(lambda: part("cl") == (5, [5])), "cl: 5 elected, ISR [5] (%s)" % (part("cl"),))
rc, out = tool("--bootstrap-server", n5.bootstrap, "--election-type", "PREFERRED", "--topic", "cl", "--partition", "0")
check(rc == 1 and "org.apache.kafka.common.errors.PreferredLeaderNotAvailableException" in out,
      "PREFERRED for cl while 4 is down: PreferredLeaderNotAvailable (%s)" % out.strip())
for n in cluster.nodes:
    if n not in (n4,):
        check(n.alive(), "node %d runs" % n.id)
for n in cluster.nodes:
    n.kill9()

# ---- C. auto leader rebalance ----
c2 = samsacluster.Cluster(["broker,controller"] * 3,
                          ["offsets.topic.replication.factor=1", "leader.imbalance.check.interval.seconds=1",
                           "leader.imbalance.per.broker.percentage=0"])
c2.start()
a2 = AdminClient({"bootstrap.servers": c2.bootstrap()})
check(wait_for(lambda: len(a2.list_topics(timeout=5).brokers) == 3), "second cluster: three brokers")
act = c2.active_controller()
P = [n for n in c2.nodes if n is not act][0]
Q, R = [n for n in c2.nodes if n is not P]
a2.create_topics([NewTopic("rb", 1, replica_assignment=[[P.id, Q.id, R.id]])])["rb"].result(10)
check(wait_for(lambda: "rb" in state(c2)["topics"]), "topic rb in the metadata log")
expand_isr("rb", [P.id, Q.id, R.id], c2)
check(wait_for(lambda: part("rb", cl=c2) == (P.id, sorted([P.id, Q.id, R.id]))), "rb: leader %d, full ISR" % P.id)
P.stop()
check(wait_for(lambda: part("rb", cl=c2)[0] == Q.id), "rb led by %d after %d's controlled shutdown" % (Q.id, P.id))
P.start()
P.wait_ready()
expand_isr("rb", [Q.id, R.id, P.id], c2)
check(wait_for(lambda: part("rb", cl=c2)[0] == P.id, timeout_s=15),
      "auto.leader.rebalance moved rb back to its preferred replica %d (%s)" % (P.id, part("rb", cl=c2)))
check("auto leader rebalance: moving leadership of 1 partitions" in c2.active_controller().read_log(),
      "the controller logged the rebalance")

print("leader_election: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
