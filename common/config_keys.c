/*
 * config_keys.c - the broker key table: every broker key (Kafka's
 * KafkaConfig names, types, defaults, ranges, valid values) and the ones
 * Kafka lets you change at run time.  The topic key table (Kafka's
 * LogConfig) is in controller/ctrl_topic_config.c.
 *
 * Immutable data only; config.c looks keys up, validates values against
 * these entries and derives struct config_node from them.  A new broker key
 * is one line here plus CONFIG_KEYS_BROKER_COUNT in config_int.h (a static
 * assertion keeps the two in step).
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_int.h"

#define INT_MAX_STR "2147483647"

#define K(n, t, d, doc_) { .name = n, .type = t, .default_value = d, .doc = doc_ }
#define KR(n, t, d, lo, hi, doc_) \
    { .name = n, .type = t, .default_value = d, .min = lo, .max = hi, .has_range = 1, .doc = doc_ }
#define KV(n, t, d, valid, doc_) { .name = n, .type = t, .default_value = d, .valid_values = valid, .doc = doc_ }
#define KF(n, t, d, f, doc_) { .name = n, .type = t, .default_value = d, .flags = f, .doc = doc_ }



/* Broker keys, with Apache Kafka's defaults (3.7). */
const struct config_key config_keys_broker[] = {
    KR("node.id", CONFIG_INT, "-1", -1, INT32_MAX, "The node id for this server (KRaft)."),
    KR("broker.id", CONFIG_INT, "-1", -1, INT32_MAX, "Old name of node.id; if both are set they must agree."),
    KV("process.roles", CONFIG_LIST, "", "broker,controller", "The roles this node plays: broker, controller or broker,controller."),
    K("listeners", CONFIG_STRING, "PLAINTEXT://:9092", "Comma list of NAME://host:port to listen on; empty host binds all interfaces."),
    K("advertised.listeners", CONFIG_STRING, NULL, "Listeners published to clients and other brokers; defaults to listeners."),
    K("listener.security.protocol.map", CONFIG_STRING, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", "Listener name to security protocol."),
    K("inter.broker.listener.name", CONFIG_STRING, NULL, "Listener brokers use to talk to each other; defaults from security.inter.broker.protocol."),
    KV("security.inter.broker.protocol", CONFIG_STRING, "PLAINTEXT", SP_VALID, "Security protocol between brokers; set only one of this and inter.broker.listener.name."),
    K("controller.listener.names", CONFIG_STRING, NULL, "Comma list of listener names used by the controller quorum."),
    K("controller.quorum.voters", CONFIG_LIST, "", "Static quorum: comma list of id@host:port."),
    K("controller.quorum.bootstrap.servers", CONFIG_LIST, "", "Dynamic quorum: comma list of host:port of controllers."),
    KR("controller.quorum.election.timeout.ms", CONFIG_INT, "1000", 1, INT32_MAX, "Maximum time without a leader before starting an election."),
    KR("controller.quorum.fetch.timeout.ms", CONFIG_INT, "2000", 1, INT32_MAX, "Maximum time without a successful fetch from the leader before becoming a candidate."),
    KR("controller.quorum.election.backoff.max.ms", CONFIG_INT, "1000", 1, INT32_MAX, "Maximum backoff before starting a new election."),
    KR("controller.quorum.request.timeout.ms", CONFIG_INT, "2000", 1, INT32_MAX, "Quorum request timeout: a controller connection whose sent bytes stay unacknowledged this long is closed and redialled (TCP_USER_TIMEOUT)."),
    KR("controller.quorum.retry.backoff.ms", CONFIG_INT, "20", 0, INT32_MAX, "Quorum retry backoff."),
    KR("broker.heartbeat.interval.ms", CONFIG_INT, "2000", 1, INT32_MAX, "Time between broker heartbeats to the controller."),
    KR("broker.session.timeout.ms", CONFIG_INT, "9000", 1, INT32_MAX, "Broker lease length without heartbeats."),
    K("controlled.shutdown.enable", CONFIG_BOOL, "true", "On SIGTERM, ask the controller to move this broker's leaderships away before stopping."),
    KR("controlled.shutdown.max.retries", CONFIG_INT, "3", 0, INT32_MAX, "Controlled shutdown: attempts of retry.backoff.ms each before stopping anyway."),
    KR("controlled.shutdown.retry.backoff.ms", CONFIG_LONG, "5000", 0, INT64_MAX, "Controlled shutdown: length of one attempt."),
    K("broker.rack", CONFIG_STRING, NULL, "Rack of this broker."),
    KR("num.network.threads", CONFIG_INT, "3", 1, 1024, "Threads receiving requests and sending responses."),
    KR("num.io.threads", CONFIG_INT, "8", 1, 1024, "Threads processing requests."),
    KR("num.replica.fetchers", CONFIG_INT, "1", 1, 1024, "Fetcher threads per source broker."),
    KR("num.recovery.threads.per.data.dir", CONFIG_INT, "1", 1, 1024, "Threads per log dir for recovery at start and flush at shutdown."),
    KR("queued.max.requests", CONFIG_INT, "500", 1, INT32_MAX, "Queued requests allowed before blocking the network threads."),
    /* Kafka's default is 102400, which fixes the buffers and turns off the
     * kernel's autotuning: 7% less 1 KiB produce throughput on loopback here,
     * and a window of about 200 KiB per round trip on a real link (see
     * test/bench/RESULTS.md).  -1 (autotuning) is Samsa's default; a value
     * set by the operator is applied. */
    KR("socket.send.buffer.bytes", CONFIG_INT, "-1", -1, INT32_MAX, "SO_SNDBUF of client connections; -1 (default) keeps the kernel's autotuning."),
    KR("socket.receive.buffer.bytes", CONFIG_INT, "-1", -1, INT32_MAX, "SO_RCVBUF of client connections; -1 (default) keeps the kernel's autotuning."),
    KR("socket.request.max.bytes", CONFIG_INT, "104857600", 1, INT32_MAX, "Largest request accepted."),
    KR("connections.max.idle.ms", CONFIG_LONG, "600000", -1, INT64_MAX, "Idle connections are closed after this long."),
    KR("max.connections", CONFIG_INT, INT_MAX_STR, 0, INT32_MAX, "Maximum connections on the broker."),
    KR("message.max.bytes", CONFIG_INT, "1048588", 0, INT32_MAX, "Largest record batch size allowed."),
    KR("replica.fetch.max.bytes", CONFIG_INT, "1048576", 0, INT32_MAX, "Bytes fetched per partition by replicas."),
    KR("replica.fetch.wait.max.ms", CONFIG_INT, "500", 0, INT32_MAX, "Replica fetch max wait."),
    KR("replica.high.watermark.checkpoint.interval.ms", CONFIG_LONG, "5000", 1, INT64_MAX, "How often each log dir's replication-offset-checkpoint is written."),
    KR("replica.fetch.min.bytes", CONFIG_INT, "1", 1, INT32_MAX, "Bytes a follower fetch waits for before the leader answers (up to replica.fetch.wait.max.ms)."),
    KR("replica.fetch.response.max.bytes", CONFIG_INT, "10485760", 0, INT32_MAX, "Bytes of records one follower fetch response may carry in all."),
    KR("max.incremental.fetch.session.cache.slots", CONFIG_INT, "1000", 0, INT32_MAX, "Incremental fetch sessions (KIP-227) a leader keeps; 0: every fetch is a full one."),
    KR("replica.fetch.backoff.ms", CONFIG_INT, "1000", 0, INT32_MAX, "Wait after a follower fetch failed (connection, leader error) before fetching again."),
    KR("replica.lag.time.max.ms", CONFIG_LONG, "30000", 1, INT64_MAX, "A follower that has not caught up for this long leaves the ISR."),
    KR("leader.replication.throttled.rate", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Bytes/s a leader sends to out-of-sync followers of its throttled replicas (leader.replication.throttled.replicas); Long.MaxValue: off."),
    KR("follower.replication.throttled.rate", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Bytes/s a follower fetches for its throttled replicas while they catch up (follower.replication.throttled.replicas); Long.MaxValue: off."),
    KR("replication.quota.window.num", CONFIG_INT, "11", 1, 64, "Samples in the window the replication throttles measure their rate over."),
    KR("replication.quota.window.size.seconds", CONFIG_INT, "1", 1, 3600, "Length of one replication throttle sample."),
    KR("replica.alter.log.dirs.io.max.bytes.per.second", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Bytes/s for moving replicas between log dirs (unused: replicas never move between dirs)."),
    KR("fetch.max.bytes", CONFIG_INT, "57671680", 1024, INT32_MAX, "Bytes returned for one fetch request."),
    K("log.dirs", CONFIG_STRING, NULL, "Comma list of data directories; overrides log.dir."),
    K("log.dir", CONFIG_STRING, "/tmp/kafka-logs", "Data directory used when log.dirs is unset."),
    K("metadata.log.dir", CONFIG_STRING, NULL, "Directory of the KRaft metadata log; defaults to the first log dir."),
    KR("metadata.log.max.record.bytes.between.snapshots", CONFIG_LONG, "20971520", 1, INT64_MAX, "Metadata log bytes appended after which the controller writes a new snapshot and cuts the log behind it."),
    KR("num.partitions", CONFIG_INT, "1", 1, INT32_MAX, "Default partition count of new topics."),
    KR("default.replication.factor", CONFIG_INT, "1", 1, INT16_MAX, "Default replication factor of new topics."),
    KR("min.insync.replicas", CONFIG_INT, "1", 1, INT32_MAX, "Replicas that must acknowledge an acks=all write."),
    KR("log.retention.hours", CONFIG_INT, "168", -1, INT32_MAX, "Retention in hours; lowest precedence of the three."),
    KR("log.retention.minutes", CONFIG_INT, NULL, -1, INT32_MAX, "Retention in minutes; overrides log.retention.hours."),
    KR("log.retention.ms", CONFIG_LONG, NULL, -1, INT64_MAX, "Retention in ms; overrides minutes and hours; -1 keeps forever."),
    K("log.retention.bytes", CONFIG_LONG, "-1", "Partition size after which old segments are deleted; -1 unlimited."),
    KR("log.retention.check.interval.ms", CONFIG_LONG, "300000", 1, INT64_MAX, "How often retention is checked."),
    KR("log.segment.bytes", CONFIG_INT, "1073741824", 14, INT32_MAX, "Segment file size."),
    KR("log.roll.ms", CONFIG_LONG, NULL, 1, INT64_MAX, "Time after which a new segment is rolled; overrides log.roll.hours."),
    KR("log.roll.hours", CONFIG_INT, "168", 1, INT32_MAX, "Time after which a new segment is rolled, in hours."),
    KR("log.roll.jitter.ms", CONFIG_LONG, NULL, 0, INT64_MAX, "Maximum jitter subtracted from the roll time."),
    KR("log.roll.jitter.hours", CONFIG_INT, "0", 0, INT32_MAX, "Roll jitter in hours."),
    KR("log.index.interval.bytes", CONFIG_INT, "4096", 0, INT32_MAX, "Bytes between offset index entries."),
    KR("log.index.size.max.bytes", CONFIG_INT, "10485760", 4, INT32_MAX, "Maximum offset index size."),
    KR("log.flush.interval.messages", CONFIG_LONG, CONFIG_LONG_MAX_STR, 1, INT64_MAX, "Messages accumulated before a forced fsync."),
    KR("log.flush.interval.ms", CONFIG_LONG, NULL, 0, INT64_MAX, "Time a message may stay unflushed; defaults to log.flush.scheduler.interval.ms."),
    K("log.flush.scheduler.interval.ms", CONFIG_LONG, CONFIG_LONG_MAX_STR, "How often the flusher checks for logs to flush."),
    KR("log.flush.offset.checkpoint.interval.ms", CONFIG_INT, "60000", 0, INT32_MAX, "How often the recovery point is checkpointed."),
    KR("log.segment.delete.delay.ms", CONFIG_LONG, "60000", 0, INT64_MAX, "Delay before a deleted segment's file is removed."),
    K("log.preallocate", CONFIG_BOOL, "false", "Preallocate segment files."),
    KV("log.cleanup.policy", CONFIG_LIST, "delete", CONFIG_CLEANUP_VALID, "Default cleanup policy: delete, compact or both."),
    KV("log.message.timestamp.type", CONFIG_STRING, "CreateTime", CONFIG_TS_TYPE_VALID, "Timestamp type of stored messages."),
    KR("log.message.timestamp.difference.max.ms", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Deprecated: allowed CreateTime skew."),
    KR("log.message.timestamp.before.max.ms", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Allowed CreateTime in the past."),
    KR("log.message.timestamp.after.max.ms", CONFIG_LONG, CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Allowed CreateTime in the future."),
    K("log.message.downconversion.enable", CONFIG_BOOL, "true", "Down-convert for old fetch versions."),
    KF("log.message.format.version", CONFIG_STRING, "3.0-IV1", CONFIG_F_UNUSED, "Deprecated; accepted and ignored as in Kafka 3.x (batches are always v2)."),
    K("log.cleaner.enable", CONFIG_BOOL, "true", "Run the log cleaner (needed for compacted topics)."),
    KR("log.cleaner.threads", CONFIG_INT, "1", 0, INT32_MAX, "Log cleaner threads."),
    KR("log.cleaner.delete.retention.ms", CONFIG_LONG, "86400000", 0, INT64_MAX, "How long delete tombstones are kept in compacted topics."),
    KR("log.cleaner.min.compaction.lag.ms", CONFIG_LONG, "0", 0, INT64_MAX, "Minimum age before a message may be compacted."),
    KR("log.cleaner.max.compaction.lag.ms", CONFIG_LONG, CONFIG_LONG_MAX_STR, 1, INT64_MAX, "Maximum age before a message must be compacted."),
    KR("log.cleaner.min.cleanable.ratio", CONFIG_DOUBLE, "0.5", 0, 1, "Dirty ratio that triggers cleaning."),
    KR("log.local.retention.ms", CONFIG_LONG, "-2", -2, INT64_MAX, "Tiered storage local retention (-2: use log.retention.ms)."),
    KR("log.local.retention.bytes", CONFIG_LONG, "-2", -2, INT64_MAX, "Tiered storage local retention bytes (-2: use log.retention.bytes)."),
    K("auto.create.topics.enable", CONFIG_BOOL, "true", "Create a topic on metadata request or produce when it is missing."),
    K("delete.topic.enable", CONFIG_BOOL, "true", "Allow deleting topics."),
    K("auto.leader.rebalance.enable", CONFIG_BOOL, "true", "Move leadership back to preferred replicas."),
    KR("leader.imbalance.check.interval.seconds", CONFIG_LONG, "300", 1, 86400 * 365, "How often the active controller checks leader balance."),
    KR("leader.imbalance.per.broker.percentage", CONFIG_INT, "10", 0, 100, "Share of a broker's preferred partitions led elsewhere that triggers a rebalance."),
    K("unclean.leader.election.enable", CONFIG_BOOL, "false", "Allow out-of-sync replicas to become leader (data loss)."),
    K("eligible.leader.replicas.enable", CONFIG_BOOL, "true", "KIP-966: keep replicas that left an ISR below min.insync.replicas electable (ELR), stop the HW below min.insync.replicas; Kafka's eligible.leader.replicas.version=1. Same value on every node."),
    KR("offsets.topic.replication.factor", CONFIG_INT, "3", 1, INT16_MAX, "Replication factor of __consumer_offsets."),
    KR("offsets.topic.num.partitions", CONFIG_INT, "50", 1, INT32_MAX, "Partitions of __consumer_offsets."),
    KR("offsets.retention.minutes", CONFIG_INT, "10080", 1, INT32_MAX, "Committed offsets of empty groups are kept this long."),
    KR("offsets.retention.check.interval.ms", CONFIG_LONG, "600000", 1, INT64_MAX, "How often committed offsets are checked for expiry."),
    KR("transaction.state.log.replication.factor", CONFIG_INT, "3", 1, INT16_MAX, "Replication factor of __transaction_state."),
    KR("transaction.state.log.min.isr", CONFIG_INT, "2", 1, INT32_MAX, "min.insync.replicas of __transaction_state."),
    KR("transaction.state.log.num.partitions", CONFIG_INT, "50", 1, INT32_MAX, "Partitions of __transaction_state."),
    KR("producer.id.expiration.ms", CONFIG_INT, "86400000", 1, INT32_MAX, "An idempotent producer idle this long is forgotten by each partition (its state expires)."),
    KR("transaction.max.timeout.ms", CONFIG_INT, "900000", 1, INT32_MAX, "Largest transaction timeout a producer may ask for."),
    KR("group.initial.rebalance.delay.ms", CONFIG_INT, "3000", 0, INT32_MAX, "Wait for more members before the first rebalance of a new group."),
    KR("group.min.session.timeout.ms", CONFIG_INT, "6000", 0, INT32_MAX, "Smallest session timeout a consumer may ask for."),
    KR("group.max.session.timeout.ms", CONFIG_INT, "1800000", 0, INT32_MAX, "Largest session timeout a consumer may ask for."),
    KR("group.max.size", CONFIG_INT, INT_MAX_STR, 1, INT32_MAX, "Maximum members of one group."),
    KV("compression.type", CONFIG_STRING, "producer", CONFIG_COMPRESSION_VALID, "Final compression of topic data; producer keeps the producer's."),
    K("sasl.enabled.mechanisms", CONFIG_LIST, "GSSAPI", "SASL mechanisms enabled."),
    KF("sasl.jaas.config", CONFIG_PASSWORD, NULL, CONFIG_F_SENSITIVE, "JAAS login context."),
    KV("ssl.client.auth", CONFIG_STRING, "none", "required,requested,none", "Client certificate authentication."),
    K("ssl.keystore.location", CONFIG_STRING, NULL, "Key store file."),
    KF("ssl.keystore.password", CONFIG_PASSWORD, NULL, CONFIG_F_SENSITIVE, "Key store password."),
    KF("ssl.key.password", CONFIG_PASSWORD, NULL, CONFIG_F_SENSITIVE, "Private key password."),
    K("ssl.truststore.location", CONFIG_STRING, NULL, "Trust store file."),
    KF("ssl.truststore.password", CONFIG_PASSWORD, NULL, CONFIG_F_SENSITIVE, "Trust store password."),
    K("authorizer.class.name", CONFIG_CLASS, "", "Authorizer class; accepted, Samsa has no authorizer yet."),
    KF("zookeeper.connect", CONFIG_STRING, NULL, CONFIG_F_UNUSED, "Accepted for compatibility; unused: Samsa runs in KRaft mode."),
    KV("samsa.log.level", CONFIG_STRING, "info", "trace,debug,info,warn,error", "Samsa: log level."),
    K("samsa.io.uring", CONFIG_BOOL, "true", "Samsa: use io_uring for log I/O when the kernel allows it."),
    K("samsa.acks.all.fsync", CONFIG_BOOL, "false",
      "Samsa: answer acks=all only once every ISR member has fdatasync'd the batch (survives power loss of the whole cluster); topic override of the same name."),
    K("samsa.log.direct.io", CONFIG_BOOL, "false",
      "Samsa: append with O_DIRECT from a per-partition tail buffer that also serves the newest reads; "
      "false: through the page cache, as Kafka."),
    KR("samsa.fetch.response.target.bytes", CONFIG_INT, "4194304", 0, INT32_MAX,
       "Samsa: size a consumer Fetch response aims at on a low-latency connection, growing with the round trip "
       "(RTT x 1 GB/s) up to fetch.max.bytes; 0: fill up to fetch.max.bytes, as Kafka."),
    KR("samsa.log.tail.buffer.bytes", CONFIG_LONG, "4194304", 65536, 1073741824,
       "Samsa: one partition's tail buffer (direct appends)."),
    KR("samsa.log.tail.buffers.max.bytes", CONFIG_LONG, "536870912", 0, INT64_MAX,
       "Samsa: all tail buffers of the node together; past it a partition gets a 64 KiB one."),
};
_Static_assert(sizeof config_keys_broker / sizeof config_keys_broker[0] == CONFIG_KEYS_BROKER_COUNT,
               "CONFIG_KEYS_BROKER_COUNT (config_int.h) must match the table");

/* Broker keys changeable at run time (kafka-configs --alter on brokers):
 * Kafka's DynamicLogConfig, DynamicThreadPool-free subset and the replica
 * fetcher keys; everything else is refused as read-only. */
const char *const config_keys_broker_dynamic[] = {
    "log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.retention.bytes",
    "log.segment.bytes", "log.roll.ms", "log.roll.hours", "log.roll.jitter.ms", "log.roll.jitter.hours",
    "log.index.interval.bytes", "log.index.size.max.bytes", "log.flush.interval.messages",
    "log.flush.interval.ms", "log.segment.delete.delay.ms", "log.preallocate", "log.cleanup.policy",
    "log.message.timestamp.type", "log.message.timestamp.difference.max.ms",
    "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms",
    "log.message.downconversion.enable", "log.cleaner.threads", "log.cleaner.delete.retention.ms",
    "log.cleaner.min.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", "log.cleaner.min.cleanable.ratio",
    "log.local.retention.ms", "log.local.retention.bytes", "compression.type", "message.max.bytes",
    "min.insync.replicas", "unclean.leader.election.enable", "num.replica.fetchers", "replica.fetch.max.bytes",
    "replica.fetch.wait.max.ms", "leader.replication.throttled.rate", "follower.replication.throttled.rate",
    "replica.alter.log.dirs.io.max.bytes.per.second",
};
const size_t config_keys_broker_dynamic_count = sizeof config_keys_broker_dynamic / sizeof config_keys_broker_dynamic[0];
