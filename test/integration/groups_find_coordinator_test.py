"""groups_find_coordinator_test - FindCoordinator on every broker of a 3-node cluster.

Proves: every broker, asked with every version we advertise (v0-v4; v3 is
flexible, v4 batches keys, KIP-699), names the same coordinator for a group,
and it is the leader (per Metadata) of __consumer_offsets partition
Utils.abs(group.hashCode()) % offsets.topic.num.partitions, with that
broker's host and port; a transaction key is COORDINATOR_NOT_AVAILABLE (no
transaction coordinator yet); an unknown key type is INVALID_REQUEST; an
OffsetFetch sent to a broker that is not the coordinator is NOT_COORDINATOR,
as in Kafka.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from samsacluster import Cluster, find_coordinator_once  # noqa: E402
from samsanode import check, group_partition  # noqa: E402
from kwire_py import frame, kstr, recv_frame  # noqa: E402

from confluent_kafka.admin import AdminClient  # noqa: E402

PARTS = 6
GROUPS = ["cl-group", "my-group", "grp-one", "polygenelubricants", "g\u00e9-\U0001F600"]

cl = Cluster(["broker,controller"] * 3, extra=["offsets.topic.replication.factor=1",
                                               "offsets.topic.num.partitions=%d" % PARTS])
cl.start()
# the first lookup creates __consumer_offsets (COORDINATOR_NOT_AVAILABLE until then)
cl.coordinator(GROUPS[0])
admin = AdminClient({"bootstrap.servers": cl.bootstrap()})
md = admin.list_topics("__consumer_offsets", timeout=10)
leaders = {p.id: p.leader for p in md.topics["__consumer_offsets"].partitions.values()}
check(len(leaders) == PARTS and all(v > 0 for v in leaders.values()), "offsets partitions %r" % leaders, cl)
check(len(set(leaders.values())) > 1, "every offsets partition on one broker %r" % leaders, cl)
checked = 0
for g in GROUPS:
    want = cl.node(leaders[group_partition(g, PARTS)])
    for b in cl.brokers():
        for v in range(5):
            err, nid, host, port = cl.find_coordinator(b, g, version=v)
            check((err, nid, host, port) == (0, want.id, "127.0.0.1", want.client_port),
                  "group %r asked at node %d v%d: %r, want node %d port %d"
                  % (g, b.id, v, (err, nid, host, port), want.id, want.client_port), cl)
            checked += 1
for b in cl.brokers():
    for v in (1, 3, 4):
        err, nid, _, _ = find_coordinator_once(b.client_port, "txn-1", version=v, key_type=1)
        check(err == 15 and nid == -1, "transaction key at node %d v%d: error %d node %d" % (b.id, v, err, nid), cl)
        err, _, _, _ = find_coordinator_once(b.client_port, "x", version=v, key_type=9)
        check(err == 42, "key type 9 at node %d v%d: error %d, want INVALID_REQUEST" % (b.id, v, err), cl)

# group APIs on a broker that is not the coordinator: NOT_COORDINATOR (16)
g = GROUPS[0]
other = cl.not_coordinator(g)
body = kstr(g) + struct.pack(">i", 1) + kstr("t") + struct.pack(">ii", 1, 0)  # OffsetFetch v1
import socket  # noqa: E402
s = socket.create_connection(("127.0.0.1", other.client_port), timeout=10)
s.sendall(frame(9, 1, 3, body))
r = recv_frame(s)
s.close()
# corr, [topics: name, [partitions: index, offset, metadata, error]]
i = 4 + 4 + 2 + 1 + 4 + 4 + 8
mlen, = struct.unpack(">h", r[i:i + 2])
err, = struct.unpack(">h", r[i + 2 + max(mlen, 0):i + 4 + max(mlen, 0)])
check(err == 16, "OffsetFetch at non-coordinator node %d: error %d, want NOT_COORDINATOR" % (other.id, err), cl)
print("groups_find_coordinator_test: OK (%d lookups agree with Metadata + Utils.abs placement)" % checked)
