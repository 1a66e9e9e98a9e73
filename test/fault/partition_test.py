#!/usr/bin/python3
"""partition_test - network partitions and a process pause on a 3-node cluster
whose nodes each live in their own network namespace (issue 9, "What must be
shown").  Needs root (exit 77 = skipped otherwise).

Each node (combined broker+controller) runs in a namespace of netns.py and
listens and advertises on its namespace's address; the producers (faultlib:
p0 at-least-once, p1 idempotent or ordered, acks=all) run in the root
namespace, which reaches every node through the bridge.  Topic `parts`:
3 partitions, RF=3, min.insync.replicas=2; replica.lag.time.max.ms=2000,
broker.session.timeout.ms=4000.  The cases, in order, each healed and
followed by PART_SETTLE_S (5 s) of writing:

  A. isolate the leader of a partition (a node that is not the active
     controller when there is one) from the other two nodes for PART_CUT_S
     (12 s); clients still reach it.  Required: an acks=all Produce sent
     straight to the isolated leader is not acknowledged (the probe: its
     record lands in the old leader's log, unacknowledged, and must be
     truncated away after the heal); the majority's metadata names a new
     leader; writes to that partition are acknowledged after it.
  B. 2/1 split of the controller quorum: the active controller cut off from
     the other two for PART_CUT_S.  Required: another node becomes active
     controller; writes are acknowledged in the second half of the split.
  C. one-way cut: the leader of another partition drops every packet from the
     other two nodes (it can still send) for PART_CUT_S.  Required: writes to
     partitions it does not lead are acknowledged in the second half.
  D. SIGSTOP the leader of a partition for PART_PAUSE_S (6 s, longer than
     replica.lag.time.max.ms and the session timeout), then SIGCONT.
     Required: writes to partitions it does not lead are acknowledged in the
     last 2 s of the pause.

Then faultlib.finish: every acknowledged record at its offset on every
replica and in a consumer read-back, offsets increasing, nothing never sent,
replicas byte-identical below the high watermark (so the old leader of A
truncated its unacknowledged tail and caught up), and the line
`N acked, 0 lost, 0 duplicated, 0 reordered`.

On a Samsa without partition replication this test FAILS, by design (no
acks=all write is acknowledged with min.insync.replicas=2; followers stay
empty).  History in build/fault-logs/partition-history.jsonl.

    sudo /usr/bin/python3 test/fault/partition_test.py     (about 2-3 min)
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
import samsacluster  # noqa: E402
from kwire_py import parse_produce_v3, produce_v3, record_batch, recv_frame  # noqa: E402

TOPIC = "parts"
PARTS = 3
CUT_S = float(os.environ.get("PART_CUT_S", "12"))
PAUSE_S = float(os.environ.get("PART_PAUSE_S", "6"))
SETTLE_S = float(os.environ.get("PART_SETTLE_S", "5"))
RATE = int(os.environ.get("PART_RATE", "200"))
MIN_ISR = os.environ.get("FAULT_MIN_ISR", "2")
PROPS = ["min.insync.replicas=%s" % MIN_ISR, "default.replication.factor=3", "offsets.topic.replication.factor=3",
         "replica.lag.time.max.ms=2000", "broker.session.timeout.ms=4000", "broker.heartbeat.interval.ms=1000",
         "unclean.leader.election.enable=false"]


def log_time_now():
    """Now in the servers' log timestamp format (UTC, ISO 8601, ms), for ordering log lines."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def probe_produce(hist, node, partition, n):
    """One acks=all Produce (v3, timeout 3 s) straight to node; recorded in the history.
    Returns the Kafka error code, or None when no answer came within 6 s."""
    value = "probe-%d-to-node-%d" % (n, node.id)
    hist.add("invoke", "send", "probe", topic=TOPIC, partition=partition, key=None, value=value)
    err, base = None, -1
    try:
        s = socket.create_connection((node.host, node.client_port), timeout=6)
        s.settimeout(6)
        s.sendall(produce_v3(TOPIC, partition, record_batch([value.encode()]), 77, acks=-1, client_id="probe"))
        _corr, res = parse_produce_v3(recv_frame(s))
        s.close()
        err, base = res[0][2], res[0][3]
    except (OSError, ValueError, struct.error) as e:
        fl.say("probe to node %d: no answer (%s)" % (node.id, e))
    if err == 0:
        hist.add("ok", "send", "probe", topic=TOPIC, partition=partition, key=None, value=value, offset=base)
    else:
        hist.add("info", "send", "probe", topic=TOPIC, partition=partition, key=None, value=value,
                 error="no answer" if err is None else "error %d" % err)
    return err


def main():
    if os.geteuid() != 0:
        print("partition_test needs root (network namespaces, iptables)")
        return 77
    import netns
    t_start = time.time()
    net = netns.Net(3)
    cluster = samsacluster.Cluster(["broker,controller"] * 3, extra=PROPS, hosts=net.hosts, wraps=net.wraps)
    cluster.start()
    fl.say("cluster up in namespaces %s: %s" % (net.ns, cluster.bootstrap()))
    fl.create_topic(cluster.bootstrap(), TOPIC, PARTS, 3, {"min.insync.replicas": MIN_ISR})
    info = fl.wait_until(lambda: all(v[0] >= 0 for v in fl.partition_info(cluster.bootstrap(), TOPIC).values())
                         and fl.partition_info(cluster.bootstrap(), TOPIC), 20, "leaders for every partition")
    fl.say("partitions (leader, replicas, isr): %s" % info)
    hist = fl.History(fl.history_path("partition"))
    hist.add("info", "start", "probe", value={"idempotent": False, "ordered": False})
    wl = fl.Workload(hist, cluster.bootstrap(), TOPIC, PARTS, RATE)
    time.sleep(SETTLE_S)
    problems = []
    ids = [n.id for n in cluster.nodes]

    def others(i):
        return [j for j in ids if j != i]

    def require(cond, what):
        fl.say(("ok   " if cond else "FAIL ") + what)
        if not cond:
            problems.append(what)

    def acks(parts, t0, t1):
        return sum(fl.acks_between(hist.path, TOPIC, p, t0, t1) for p in parts)

    def heal():
        net.heal()
        hist.add("info", "heal", "nemesis")
        fl.say("healed")
        time.sleep(SETTLE_S)

    # A. isolate the leader of a partition
    info = fl.partition_info(cluster.bootstrap(), TOPIC)
    ctrl = cluster.active_controller()
    pa = next((p for p, v in sorted(info.items()) if ctrl is None or v[0] != ctrl.id), 0)
    old = info[pa][0]
    majority = cluster.node(others(old)[0])
    fl.say("A: isolate node %d, leader of %s-%d (active controller: %s)"
           % (old, TOPIC, pa, ctrl.id if ctrl else "?"))
    hist.add("info", "isolate", "nemesis", node=old, value=others(old))
    t_cut = hist.now()
    net.isolate(old, others(old))
    time.sleep(1)
    err = probe_produce(hist, cluster.node(old), pa, 1)
    require(err != 0, "A: the isolated leader (node %d) does not acknowledge an acks=all write (answer: %s)"
            % (old, "none" if err is None else "error %d" % err))
    newl = fl.wait_until(lambda: [v for v in [fl.leader_of(majority.bootstrap, TOPIC, pa)] if v not in (old, -1)],
                         max(1.0, CUT_S - (hist.now() - t_cut) / 1e9 - 3), "a new leader of %s-%d" % (TOPIC, pa))
    t_new = hist.now()
    require(bool(newl), "A: the majority elected a new leader of %s-%d (%s)" % (TOPIC, pa, newl[0] if newl else "none"))
    time.sleep(max(0.0, CUT_S - (hist.now() - t_cut) / 1e9))
    n_after = acks([pa], t_new, hist.now()) if newl else 0
    require(n_after > 0, "A: writes to %s-%d acknowledged after the new leader took over: %d" % (TOPIC, pa, n_after))
    heal()

    # B. 2/1 split of the controller quorum: the active controller alone
    ctrl = cluster.active_controller()
    fl.say("B: split the controller quorum: node %d (active) | %s" % (ctrl.id, others(ctrl.id)))
    hist.add("info", "isolate", "nemesis", node=ctrl.id, value=others(ctrl.id))
    cut_log = log_time_now()
    t_cut = hist.now()
    net.isolate(ctrl.id, others(ctrl.id))
    time.sleep(CUT_S)
    t_end = hist.now()
    new_ctrl = [n.id for n in cluster.nodes if n.id != ctrl.id and any(
        ln[:24] > cut_log and "[ctrl] active controller node=%d " % n.id in ln for ln in n.read_log().splitlines())]
    require(bool(new_ctrl), "B: the majority side elected an active controller (%s)" % (new_ctrl or "none"))
    n_half = acks(range(PARTS), t_cut + (t_end - t_cut) // 2, t_end)
    require(n_half > 0, "B: writes acknowledged in the second half of the split: %d" % n_half)
    heal()

    # C. one-way cut: the leader of another partition hears nothing from the others
    info = fl.partition_info(cluster.bootstrap(), TOPIC)
    pc = (pa + 1) % PARTS
    x = info[pc][0]
    led = [p for p, v in info.items() if v[0] == x]
    fl.say("C: one-way cut: node %d (leader of %s) drops packets from %s" % (x, led, others(x)))
    hist.add("info", "drop-from", "nemesis", node=x, value=others(x))
    t_cut = hist.now()
    net.drop_from(x, others(x))
    time.sleep(CUT_S)
    t_end = hist.now()
    rest = [p for p in range(PARTS) if p not in led]
    n_half = acks(rest, t_cut + (t_end - t_cut) // 2, t_end)
    require(n_half > 0 or not rest, "C: writes to partitions %s (not led by node %d) acknowledged in the second "
            "half of the cut: %d" % (rest, x, n_half))
    heal()

    # D. pause the leader of a partition longer than replica.lag.time.max.ms
    info = fl.partition_info(cluster.bootstrap(), TOPIC)
    pd = (pa + 2) % PARTS
    y = info[pd][0]
    led = [p for p, v in info.items() if v[0] == y]
    node_y = cluster.node(y)
    fl.say("D: SIGSTOP node %d (leader of %s) for %.0f s" % (y, led, PAUSE_S))
    hist.add("info", "stop", "nemesis", node=y)
    node_y.proc.send_signal(19)               # SIGSTOP
    time.sleep(PAUSE_S)
    t_end = hist.now()
    node_y.proc.send_signal(18)               # SIGCONT
    hist.add("info", "cont", "nemesis", node=y)
    rest = [p for p in range(PARTS) if p not in led]
    n_last = acks(rest, t_end - int(2e9), t_end)
    require(n_last > 0 or not rest, "D: writes to partitions %s (not led by node %d) acknowledged in the last 2 s "
            "of the pause: %d" % (rest, y, n_last))
    time.sleep(SETTLE_S)

    sent = wl.stop()
    fl.say("producers stopped after %d sends" % sent)
    status = fl.finish(cluster, hist, TOPIC, PARTS)
    for p in problems:
        print("FAIL: " + p)
    if status or problems:
        fl.show_logs(cluster)
    fl.say("partition_test: %s in %.0f s" % ("FAIL" if status or problems else "PASS", time.time() - t_start))
    return 1 if status or problems else 0


if __name__ == "__main__":
    sys.exit(main())
