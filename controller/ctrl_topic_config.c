/*
 * ctrl_topic_config.c - the topic key table (Kafka's LogConfig names,
 * types, defaults, ranges, valid values, broker synonyms) and topic config
 * validation.  Immutable data and pure functions; the value checks
 * themselves are common/config's (config_value_check), so a topic value
 * and its broker synonym are judged by the same rules.
 */
#include "ctrl_topic_config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

#define T(n, t, syn, d, doc_) { .name = n, .type = t, .synonym = syn, .default_value = d, .doc = doc_ }
#define TR(n, t, syn, d, lo, hi, doc_) \
    { .name = n, .type = t, .synonym = syn, .default_value = d, .min = lo, .max = hi, .has_range = 1, .doc = doc_ }
#define TV(n, t, syn, d, valid, doc_) \
    { .name = n, .type = t, .synonym = syn, .default_value = d, .valid_values = valid, .doc = doc_ }

/* Topic keys (Kafka LogConfig), each with its broker-level synonym. */
static const struct config_key topic_keys[] = {
    TV("cleanup.policy", CONFIG_LIST, "log.cleanup.policy", "delete", CONFIG_CLEANUP_VALID, "delete, compact, or both."),
    TV("compression.type", CONFIG_STRING, "compression.type", "producer", CONFIG_COMPRESSION_VALID, "Final compression type."),
    TR("delete.retention.ms", CONFIG_LONG, "log.cleaner.delete.retention.ms", "86400000", 0, INT64_MAX, "Tombstone retention for compacted topics."),
    TR("file.delete.delay.ms", CONFIG_LONG, "log.segment.delete.delay.ms", "60000", 0, INT64_MAX, "Delay before deleting a file."),
    TR("flush.messages", CONFIG_LONG, "log.flush.interval.messages", CONFIG_LONG_MAX_STR, 1, INT64_MAX, "Messages between forced fsyncs."),
    TR("flush.ms", CONFIG_LONG, "log.flush.interval.ms", CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Time between forced fsyncs."),
    T("follower.replication.throttled.replicas", CONFIG_LIST, NULL, "", "Throttled follower replicas."),
    TR("index.interval.bytes", CONFIG_INT, "log.index.interval.bytes", "4096", 0, INT32_MAX, "Bytes between index entries."),
    T("leader.replication.throttled.replicas", CONFIG_LIST, NULL, "", "Throttled leader replicas."),
    TR("local.retention.bytes", CONFIG_LONG, "log.local.retention.bytes", "-2", -2, INT64_MAX, "Tiered storage local retention bytes."),
    TR("local.retention.ms", CONFIG_LONG, "log.local.retention.ms", "-2", -2, INT64_MAX, "Tiered storage local retention."),
    TR("max.compaction.lag.ms", CONFIG_LONG, "log.cleaner.max.compaction.lag.ms", CONFIG_LONG_MAX_STR, 1, INT64_MAX, "Maximum time a message stays uncompacted."),
    TR("max.message.bytes", CONFIG_INT, "message.max.bytes", "1048588", 0, INT32_MAX, "Largest record batch size."),
    T("message.downconversion.enable", CONFIG_BOOL, "log.message.downconversion.enable", "true", "Down-convert for old consumers."),
    T("message.format.version", CONFIG_STRING, "log.message.format.version", "3.0-IV1", "Deprecated; accepted and ignored as in Kafka 3.x (batches are always v2)."),
    TR("message.timestamp.after.max.ms", CONFIG_LONG, "log.message.timestamp.after.max.ms", CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Allowed CreateTime in the future."),
    TR("message.timestamp.before.max.ms", CONFIG_LONG, "log.message.timestamp.before.max.ms", CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Allowed CreateTime in the past."),
    TR("message.timestamp.difference.max.ms", CONFIG_LONG, "log.message.timestamp.difference.max.ms", CONFIG_LONG_MAX_STR, 0, INT64_MAX, "Deprecated: allowed CreateTime skew."),
    TV("message.timestamp.type", CONFIG_STRING, "log.message.timestamp.type", "CreateTime", CONFIG_TS_TYPE_VALID, "CreateTime or LogAppendTime."),
    TR("min.cleanable.dirty.ratio", CONFIG_DOUBLE, "log.cleaner.min.cleanable.ratio", "0.5", 0, 1, "Dirty ratio that triggers cleaning."),
    TR("min.compaction.lag.ms", CONFIG_LONG, "log.cleaner.min.compaction.lag.ms", "0", 0, INT64_MAX, "Minimum age before compaction."),
    TR("min.insync.replicas", CONFIG_INT, "min.insync.replicas", "1", 1, INT32_MAX, "Replicas that must acknowledge acks=all."),
    T("preallocate", CONFIG_BOOL, "log.preallocate", "false", "Preallocate segment files."),
    T("remote.storage.enable", CONFIG_BOOL, NULL, "false", "Tiered storage (unsupported; must stay false)."),
    T("retention.bytes", CONFIG_LONG, "log.retention.bytes", "-1", "Partition size limit; -1 unlimited."),
    TR("retention.ms", CONFIG_LONG, "log.retention.ms", "604800000", -1, INT64_MAX, "Retention time; -1 unlimited."),
    TR("segment.bytes", CONFIG_INT, "log.segment.bytes", "1073741824", 14, INT32_MAX, "Segment file size."),
    TR("segment.index.bytes", CONFIG_INT, "log.index.size.max.bytes", "10485760", 4, INT32_MAX, "Offset index size."),
    TR("segment.jitter.ms", CONFIG_LONG, "log.roll.jitter.ms", "0", 0, INT64_MAX, "Maximum roll jitter."),
    TR("segment.ms", CONFIG_LONG, "log.roll.ms", "604800000", 1, INT64_MAX, "Time after which a segment is rolled."),
    T("samsa.acks.all.fsync", CONFIG_BOOL, "samsa.acks.all.fsync", "false", "Samsa: acks=all waits for every ISR member's fdatasync."),
    T("unclean.leader.election.enable", CONFIG_BOOL, "unclean.leader.election.enable", "false", "Allow unclean leader election."),
};
static const size_t topic_key_count = sizeof topic_keys / sizeof topic_keys[0];

size_t ctrl_topic_config_key_count(void) { return topic_key_count; }

const struct config_key *ctrl_topic_config_key_at(size_t index)
{
    ASSERT(index < topic_key_count);
    return &topic_keys[index];
}

const struct config_key *ctrl_topic_config_key_find(const char *name)
{
    for (size_t i = 0; i < topic_key_count; i++)
        if (strcmp(topic_keys[i].name, name) == 0)
            return &topic_keys[i];
    return NULL;
}

/* kafka_version_valid - a Kafka release or metadata version as
 * message.format.version takes them: "0.10.2", "2.8", "3.0-IV1", "0.11.0-IV2". */
static bool kafka_version_valid(const char *v)
{
    size_t i = 0, dots = 0;
    if (!isdigit((unsigned char)v[0]))
        return false;
    for (; v[i] && v[i] != '-'; i++) {
        if (v[i] == '.' && isdigit((unsigned char)v[i + 1]))
            dots++;
        else if (!isdigit((unsigned char)v[i]))
            return false;
    }
    if (dots < 1 || dots > 2)
        return false;
    if (!v[i])
        return true;
    if (strncmp(v + i, "-IV", 3) != 0 || !v[i + 3])
        return false;
    for (i += 3; v[i]; i++)
        if (!isdigit((unsigned char)v[i]))
            return false;
    return true;
}

int ctrl_topic_config_validate(const char *key, const char *value, char *msg, size_t msg_size)
{
    const struct config_key *k = ctrl_topic_config_key_find(key);
    if (!k) {
        snprintf(msg, msg_size, "Unknown topic config name: %s", key);
        return ERR_INVALID;
    }
    if (!value) {
        snprintf(msg, msg_size, "Null value not supported for topic config %s", key);
        return ERR_INVALID;
    }
    char why[256];
    if (config_value_check(k, value, why, sizeof why) < 0) {
        snprintf(msg, msg_size, "Invalid value %s for configuration %s: %s", value, key, why);
        return ERR_INVALID;
    }
    if (strcmp(key, "message.format.version") == 0) {
        if (!kafka_version_valid(value)) {
            snprintf(msg, msg_size, "Invalid value %s for configuration %s: Version `%s` is not a valid version",
                     value, key, value);
            return ERR_INVALID;
        }
        log_warn("config", "topic config message.format.version=%s is deprecated and ignored (as in Kafka 3.x: "
                 "record batches are always written in format v2); it can be removed", value);
    }
    if (strcmp(key, "remote.storage.enable") == 0 && strcasecmp(value, "true") == 0) {
        snprintf(msg, msg_size, "Invalid value %s for configuration %s: tiered storage is not "
                 "supported; use false", value, key);
        return ERR_INVALID;
    }
    return 0;
}
