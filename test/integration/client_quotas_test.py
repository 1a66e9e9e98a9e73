"""client_quotas_test - kafka-configs --entity-type users|clients (client
quotas, KIP-546) against a 3-node cluster: AlterClientQuotas forwarded to the
active controller and committed as ClientQuotaRecords, DescribeClientQuotas
answered by every broker from its image.

Proves:
  * --alter --add-config / --delete-config on a user, a client id, the
    default user and a (user, client-id) pair, bootstrapped at a broker that
    is not the active controller, with Kafka's "Completed updating ..." lines;
  * --describe at another broker prints ConfigCommand's "Quota configs for
    user-principal 'alice' are k=v, ..." with values as Java prints doubles
    (1024.0, 12.5, 1.5E7); --entity-type users alone lists named users only
    (Kafka's strict filter, no default, no user+client pair);
  * the quotas survive a restart of every node with snapshots taken every KiB of
    metadata (ClientQuotaRecord in the snapshot and in the log);
  * errors, each one line and exit 1: an unknown key, a value that is not a
    number, a fractional byte rate (the controller's "must be a Long value"),
    --entity-type groups (not served: KIP-848 groups); a raw DescribeConfigs
    of a GROUP resource (type 32) is INVALID_REQUEST with the reason.
The quotas are stored and shown, not enforced (no throttling): nothing here
claims otherwise.
"""
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import samsacluster  # noqa: E402
from kwire_py import Checks  # noqa: E402

TOP = samsacluster.TOP
ENV = dict(os.environ, PATH=os.path.join(TOP, "build", "bin") + os.pathsep + os.environ.get("PATH", ""))
CHECKS = Checks("client_quotas_test")


def ok(cond, what, detail=""):
    if not CHECKS.check(cond, what):
        print("  " + str(detail).replace("\n", "\n  ")[:3000])


def sh(cmd):
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=ENV, timeout=60)
    return p.returncode, p.stdout, p.stderr


def configs(bs, args, rc=0):
    code, out, err = sh("kafka-configs --bootstrap-server %s %s" % (bs, args))
    ok(code == rc, "kafka-configs %s: exit %d, want %d" % (args, code, rc), out + err)
    return out, err


def one_line_error(bs, args, must):
    code, out, err = sh("kafka-configs --bootstrap-server %s %s" % (bs, args))
    text = (out + err).strip()
    ok(code == 1 and len(text.splitlines()) == 1 and must in text, "one-line error for %s" % args, text)


def describe_group_config_raw(port):
    """DescribeConfigs v0 for resource type GROUP (32, Kafka 3.8+): (error, message)."""
    body = struct.pack(">ib", 1, 32) + struct.pack(">h", 2) + b"g1" + struct.pack(">i", -1)
    r = samsacluster.roundtrip(port, struct.pack(">hhih", 32, 0, 9, 4) + b"test" + body)
    _corr, _throttle, n, err, mlen = struct.unpack(">iiihh", r[:16])
    assert n == 1, r
    return err, r[16:16 + mlen].decode() if mlen >= 0 else None


def describe_all(bs):
    a, _ = configs(bs, "--describe --entity-type users --entity-name alice")
    b, _ = configs(bs, "--describe --entity-type users --entity-default")
    c, _ = configs(bs, "--describe --entity-type clients --entity-name c1")
    d, _ = configs(bs, "--describe --entity-type users --entity-name alice --entity-type clients --entity-name c1")
    return a + b + c + d


def main():
    cluster = samsacluster.Cluster(["broker,controller"] * 3,
                                   extra=["metadata.log.max.record.bytes.between.snapshots=1024"])
    cluster.start()
    active = cluster.active_controller()
    others = [n for n in cluster.brokers() if n is not active]
    bs, bs2 = others[0].bootstrap, others[1].bootstrap

    out, _ = configs(bs, "--alter --entity-type users --entity-name alice "
                         "--add-config producer_byte_rate=1024,consumer_byte_rate=2048")
    ok(out == "Completed updating config for user alice.\n", "alter user", out)
    out, _ = configs(bs2, "--describe --entity-type users --entity-name alice")
    ok(out == "Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0, producer_byte_rate=1024.0\n",
       "describe user at another broker", out)
    out, _ = configs(bs, "--alter --entity-type users --entity-default --add-config request_percentage=12.5")
    ok(out == "Completed updating default config for users in the cluster.\n", "alter default user", out)
    out, _ = configs(bs, "--alter --entity-type clients --entity-name c1 --add-config producer_byte_rate=15000000,"
                         "controller_mutation_rate=0.5")
    ok(out == "Completed updating config for client c1.\n", "alter client", out)
    out, _ = configs(bs2, "--alter --entity-type users --entity-name alice --entity-type clients --entity-name c1 "
                          "--add-config consumer_byte_rate=100")
    ok(out == "Completed updating config for user alice.\n", "alter user+client", out)

    for n in cluster.brokers():  # every broker answers from its own image
        out, _ = configs(n.bootstrap, "--describe --entity-type clients --entity-name c1")
        ok(out == "Quota configs for client-id 'c1' are controller_mutation_rate=0.5, producer_byte_rate=1.5E7\n",
           "describe client at broker %d" % n.id, out)
    out, _ = configs(bs, "--describe --entity-type users --entity-default")
    ok(out == "Quota configs for the default user-principal are request_percentage=12.5\n", "describe default", out)
    out, _ = configs(bs, "--describe --entity-type users --entity-name alice --entity-type clients --entity-name c1")
    ok(out == "Quota configs for user-principal 'alice', client-id 'c1' are consumer_byte_rate=100.0\n",
       "describe user+client", out)
    configs(bs, "--alter --entity-type users --entity-name bob --add-config producer_byte_rate=1")
    out, _ = configs(bs2, "--describe --entity-type users")
    ok(out == "Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0, producer_byte_rate=1024.0\n"
              "Quota configs for user-principal 'bob' are producer_byte_rate=1.0\n",
       "--entity-type users: named users only", out)

    out, _ = configs(bs, "--alter --entity-type users --entity-name alice --delete-config producer_byte_rate")
    ok(out == "Completed updating config for user alice.\n", "delete-config", out)
    out, _ = configs(bs2, "--describe --entity-type users --entity-name alice")
    ok(out == "Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0\n", "after delete-config", out)
    configs(bs, "--alter --entity-type users --entity-name bob --delete-config producer_byte_rate")
    out, _ = configs(bs, "--describe --entity-type users --entity-name bob")
    ok(out == "", "an entity without keys is gone", out)

    # errors: one line, exit 1
    one_line_error(bs, "--alter --entity-type users --entity-name alice --add-config bogus=1",
                   "Only quota configs can be added for 'users' using --bootstrap-server. Unexpected config names: "
                   "bogus")
    one_line_error(bs, "--alter --entity-type clients --entity-name c1 --add-config producer_byte_rate=abc",
                   "Cannot parse quota configuration value for producer_byte_rate: abc")
    one_line_error(bs, "--describe --entity-type groups --entity-name g1",
                   "Invalid entity-type groups, --entity-type must be one of topics,clients,users,brokers")
    one_line_error(bs, "--alter --entity-type users --add-config producer_byte_rate=1",
                   "--entity-name or --entity-default must be specified with each --entity-type for --alter")
    err_, msg = describe_group_config_raw(others[0].client_port)
    ok(err_ == 42 and msg.startswith("Unsupported resource type: GROUP. Group configs are for KIP-848"),
       "DescribeConfigs of a GROUP resource: INVALID_REQUEST with the reason", (err_, msg))
    code, out, err = sh("kafka-configs --bootstrap-server %s --alter --entity-type users --entity-name alice "
                        "--add-config producer_byte_rate=1.5" % bs)
    ok(code == 1 and out == "" and err.splitlines()[-1] ==
       "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: "
       "Configuration producer_byte_rate must be a Long value", "fractional byte rate refused", out + err)

    # every node restarted: the quotas come back from the snapshots and the log
    for i in range(12):  # more metadata, so the controllers snapshot and cut their logs
        configs(bs, "--alter --entity-type clients --entity-name filler-%02d --add-config request_percentage=%d"
                % (i, i + 1))
    before = describe_all(bs)
    out, _ = configs(bs2, "--describe --entity-type clients")
    ok(out.count("Quota configs for client-id 'filler-") == 12 and "'c1' are" in out, "every client listed", out)
    before += out
    ok(all("metadata snapshot taken" in n.read_log() for n in cluster.nodes), "every node took a snapshot")
    for n in cluster.nodes:
        n.stop()
    for n in cluster.nodes:
        n.start()
    for n in cluster.nodes:
        n.wait_ready()
    deadline = time.time() + 30
    after = ""
    while time.time() < deadline:
        after = describe_all(cluster.brokers()[2].bootstrap)
        after += configs(cluster.brokers()[2].bootstrap, "--describe --entity-type clients")[0]
        if after == before:
            break
        time.sleep(0.5)
    ok(after == before and "consumer_byte_rate=2048.0" in after, "quotas after a full restart", (before, after))

    CHECKS.exit()


if __name__ == "__main__":
    main()
