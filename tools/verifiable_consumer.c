/*
 * verifiable_consumer.c - kafka-verifiable-consumer: a group member that
 * consumes --topic and prints one JSON event per line, as Kafka's
 * VerifiableConsumer does; fault tests read them to check what a group
 * consumed and committed.
 *
 * Events: startup_complete; partitions_assigned / partitions_revoked
 * ({"partitions":[{"topic":"t","partition":0}]}); per poll batch (up to
 * max.poll.records = 500) records_consumed ({"count":N,"partitions":[{"topic",
 * "partition","count","minOffset","maxOffset"}]}), with --verbose a
 * record_data line per record before it; then, without
 * --enable-autocommit, a synchronous commit of the batch and
 * offsets_committed ({"offsets":[{"topic","partition","offset"}],
 * "success":true} or "error":"...","success":false); shutdown_complete
 * after --max-messages or SIGINT/SIGTERM (the consumer leaves its group
 * first, which prints partitions_revoked).  Like Kafka, the last batch is
 * cut at --max-messages: the top-level count is the batch's, the partition
 * counts and the commit only cover what was taken.
 *
 * Flags as Kafka's: --topic, --group-id, --group-instance-id,
 * --bootstrap-server (or --broker-list), --max-messages (-1), --session-timeout
 * (30000), --verbose, --enable-autocommit, --reset-policy (earliest),
 * --assignment-strategy (Kafka's class names: RangeAssignor,
 * RoundRobinAssignor, CooperativeStickyAssignor; StickyAssignor is not in
 * librdkafka and is refused), --consumer.config (or --command-config).
 */
#include "tools/verifiable_consumer.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tool_common.h"
#include "tools/tool_rk.h"

#define VC_BATCH_MAX 500
#define VC_POLL_MS 100

enum vc_opt {
    VC_TOPIC, VC_GROUP_ID, VC_GROUP_INSTANCE_ID, VC_BOOTSTRAP, VC_BROKER_LIST, VC_MAX_MESSAGES, VC_SESSION_TIMEOUT,
    VC_VERBOSE, VC_AUTOCOMMIT, VC_RESET_POLICY, VC_ASSIGNMENT, VC_CONSUMER_CONFIG, VC_COMMAND_CONFIG, VC_HELP,
    VC_VERSION, VC_OPT_COUNT
};

static const struct tool_optdef vc_opts[VC_OPT_COUNT] = {
    [VC_TOPIC] = { "topic", true },
    [VC_GROUP_ID] = { "group-id", true },
    [VC_GROUP_INSTANCE_ID] = { "group-instance-id", true },
    [VC_BOOTSTRAP] = { "bootstrap-server", true },
    [VC_BROKER_LIST] = { "broker-list", true },
    [VC_MAX_MESSAGES] = { "max-messages", true },
    [VC_SESSION_TIMEOUT] = { "session-timeout", true },
    [VC_VERBOSE] = { "verbose", false },
    [VC_AUTOCOMMIT] = { "enable-autocommit", false },
    [VC_RESET_POLICY] = { "reset-policy", true },
    [VC_ASSIGNMENT] = { "assignment-strategy", true },
    [VC_CONSUMER_CONFIG] = { "consumer.config", true },
    [VC_COMMAND_CONFIG] = { "command-config", true },
    [VC_HELP] = { "help", false },
    [VC_VERSION] = { "version", false },
};

static void vc_usage(FILE *out)
{
    fprintf(out,
            "usage: verifiable-consumer [-h] --topic TOPIC --group-id GROUP_ID [--group-instance-id ID]\n"
            "       (--bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]] | --broker-list HOST1:PORT1[,...])\n"
            "       [--max-messages MAX-MESSAGES] [--session-timeout TIMEOUT_MS] [--verbose]\n"
            "       [--enable-autocommit] [--reset-policy RESETPOLICY] [--assignment-strategY ASSIGNMENTSTRATEGY]\n"
            "       [--consumer.config CONFIG_FILE]\n\n"
            "This tool consumes messages from a specific topic and emits consumer events (e.g. group\n"
            "rebalances, received messages, and offsets committed) as JSON objects to STDOUT.\n\n"
            "  --topic TOPIC              Consumes messages from this topic.\n"
            "  --group-id GROUP_ID        The groupId shared among members of the consumer group.\n"
            "  --group-instance-id ID     A unique identifier of the consumer instance (static membership).\n"
            "  --bootstrap-server         REQUIRED: The server(s) to connect to.\n"
            "  --broker-list              DEPRECATED, use --bootstrap-server instead.\n"
            "  --max-messages N           Consume this many messages. If -1 (the default), the consumer will\n"
            "                             consume until the process is killed externally.\n"
            "  --session-timeout MS       Set the consumer's session timeout. (default: 30000)\n"
            "  --verbose                  Enable to log individual consumed records.\n"
            "  --enable-autocommit        Enable offset auto-commit on consumer.\n"
            "  --reset-policy POLICY      Set reset policy (must be either 'earliest', 'latest', or 'none').\n"
            "                             (default: earliest)\n"
            "  --assignment-strategy C    Set assignment strategy (e.g. org.apache.kafka.clients.consumer.\n"
            "                             RoundRobinAssignor). (default: RangeAssignor)\n"
            "  --consumer.config FILE     Consumer config properties file (also --command-config).\n");
}

static volatile sig_atomic_t vc_stop;

static void vc_on_signal(int sig)
{
    vc_stop = sig;
}

static void vc_event_head(const char *name)
{
    printf("{\"timestamp\":%lld,\"name\":\"%s\"", (long long)tool_wall_ms(), name);
}

static void vc_partitions_event(const char *name, const rd_kafka_topic_partition_list_t *parts)
{
    vc_event_head(name);
    fputs(",\"partitions\":[", stdout);
    for (int i = 0; parts && i < parts->cnt; i++) {
        printf("%s{\"topic\":", i ? "," : "");
        tool_json_string(stdout, parts->elems[i].topic, strlen(parts->elems[i].topic));
        printf(",\"partition\":%d}", (int)parts->elems[i].partition);
    }
    fputs("]}\n", stdout);
}

static void vc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                            void *opaque)
{
    (void)opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        vc_partitions_event("partitions_assigned", parts);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            (void)rd_kafka_assign(rk, parts);
        }
    } else {
        vc_partitions_event("partitions_revoked", parts);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            (void)rd_kafka_assign(rk, NULL);
        }
    }
}

/* Kafka's assignor class names -> librdkafka's partition.assignment.strategy */
static const char *vc_strategy(const char *cls)
{
    const char *dot = strrchr(cls, '.');
    const char *name = dot ? dot + 1 : cls;
    if (strcmp(name, "RangeAssignor") == 0 || strcmp(name, "range") == 0)
        return "range";
    if (strcmp(name, "RoundRobinAssignor") == 0 || strcmp(name, "roundrobin") == 0)
        return "roundrobin";
    if (strcmp(name, "CooperativeStickyAssignor") == 0 || strcmp(name, "cooperative-sticky") == 0)
        return "cooperative-sticky";
    return NULL;
}

struct vc_part {
    const char *topic;
    int32_t partition;
    long count;
    int64_t min_offset, max_offset;
};

/* One poll batch: events, and the synchronous commit without auto-commit. */
static void vc_batch(rd_kafka_t *rk, rd_kafka_message_t **msgs, size_t n, long take, bool verbose, bool autocommit)
{
    struct vc_part parts[VC_BATCH_MAX];
    size_t part_count = 0;
    for (size_t i = 0; i < n && (long)i < take; i++) {
        rd_kafka_message_t *m = msgs[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        if (verbose) {
            vc_event_head("record_data");
            fputs(",\"key\":", stdout);
            tool_json_string(stdout, m->key, m->key_len);
            fputs(",\"value\":", stdout);
            tool_json_string(stdout, m->payload, m->len);
            fputs(",\"topic\":", stdout);
            tool_json_string(stdout, topic, strlen(topic));
            printf(",\"partition\":%d,\"offset\":%lld}\n", (int)m->partition, (long long)m->offset);
        }
        size_t k = 0;
        while (k < part_count && !(parts[k].partition == m->partition && strcmp(parts[k].topic, topic) == 0))
            k++;
        if (k == part_count) {
            parts[part_count++] = (struct vc_part){ topic, m->partition, 0, m->offset, m->offset };
        }
        parts[k].count++;
        if (m->offset < parts[k].min_offset)
            parts[k].min_offset = m->offset;
        if (m->offset > parts[k].max_offset)
            parts[k].max_offset = m->offset;
    }
    vc_event_head("records_consumed");
    printf(",\"count\":%zu,\"partitions\":[", n);
    for (size_t k = 0; k < part_count; k++) {
        printf("%s{\"topic\":", k ? "," : "");
        tool_json_string(stdout, parts[k].topic, strlen(parts[k].topic));
        printf(",\"partition\":%d,\"count\":%ld,\"minOffset\":%lld,\"maxOffset\":%lld}", (int)parts[k].partition,
               parts[k].count, (long long)parts[k].min_offset, (long long)parts[k].max_offset);
    }
    fputs("]}\n", stdout);
    if (autocommit || part_count == 0)
        return;
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)part_count);
    for (size_t k = 0; k < part_count; k++)
        rd_kafka_topic_partition_list_add(offsets, parts[k].topic, parts[k].partition)->offset =
            parts[k].max_offset + 1;
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, offsets, 0);
    vc_event_head("offsets_committed");
    fputs(",\"offsets\":[", stdout);
    for (int k = 0; k < offsets->cnt; k++) {
        printf("%s{\"topic\":", k ? "," : "");
        tool_json_string(stdout, offsets->elems[k].topic, strlen(offsets->elems[k].topic));
        printf(",\"partition\":%d,\"offset\":%lld}", (int)offsets->elems[k].partition,
               (long long)offsets->elems[k].offset);
    }
    if (e) {
        const char *why = rd_kafka_err2str(e);
        fputs("],\"error\":", stdout);
        tool_json_string(stdout, why, strlen(why));
        fputs(",\"success\":false}\n", stdout);
    } else {
        fputs("],\"success\":true}\n", stdout);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
}

int tool_verifiable_consumer_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, vc_opts, VC_OPT_COUNT, &o, vc_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const bool *given = o.given;
    const char *bootstrap = val[VC_BOOTSTRAP] ? val[VC_BOOTSTRAP] : val[VC_BROKER_LIST];
    if (!val[VC_TOPIC])
        return tool_usage_error("argument --topic is required", vc_usage);
    if (!val[VC_GROUP_ID])
        return tool_usage_error("argument --group-id is required", vc_usage);
    if (!bootstrap)
        return tool_usage_error("one of the arguments --bootstrap-server --broker-list is required", vc_usage);
    long max_messages = -1;
    if (val[VC_MAX_MESSAGES]) {
        char *end = NULL;
        max_messages = strtol(val[VC_MAX_MESSAGES], &end, 10);
        if (*end != '\0' || max_messages < -1)
            return tool_usage_error("argument --max-messages: a number >= -1 is expected", vc_usage);
    }
    const char *strategy = "range";
    if (val[VC_ASSIGNMENT] && !(strategy = vc_strategy(val[VC_ASSIGNMENT]))) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "argument --assignment-strategy: %s is not available (RangeAssignor, RoundRobinAssignor, "
                 "CooperativeStickyAssignor)",
                 val[VC_ASSIGNMENT]);
        return tool_usage_error(msg, vc_usage);
    }

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap, err, sizeof err);
    int rc = conf ? 0 : ERR_INVALID;
    const char *file = val[VC_CONSUMER_CONFIG] ? val[VC_CONSUMER_CONFIG] : val[VC_COMMAND_CONFIG];
    if (rc == 0)
        rc = tool_rk_set(conf, "client.id", "verifiable-consumer", err, sizeof err);
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--consumer.config", NULL, err, sizeof err);
    const char *const settings[][2] = {
        { "group.id", val[VC_GROUP_ID] },
        { "enable.auto.commit", given[VC_AUTOCOMMIT] ? "true" : "false" },
        { "auto.offset.reset", val[VC_RESET_POLICY] ? val[VC_RESET_POLICY] : "earliest" },
        { "session.timeout.ms", val[VC_SESSION_TIMEOUT] ? val[VC_SESSION_TIMEOUT] : "30000" },
        { "partition.assignment.strategy", strategy },
        { "group.instance.id", val[VC_GROUP_INSTANCE_ID] },
    };
    for (size_t i = 0; rc == 0 && i < sizeof settings / sizeof settings[0]; i++)
        if (settings[i][1])
            rc = tool_rk_set(conf, settings[i][0], settings[i][1], err, sizeof err);
    if (rc < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, vc_usage);
    }
    rd_kafka_conf_set_rebalance_cb(conf, vc_rebalance_cb);
    if (tool_rk_open(&t, RD_KAFKA_CONSUMER, conf, val[VC_TOPIC], 60000, NULL) < 0)
        return 1;
    rd_kafka_poll_set_consumer(t.rk);

    setvbuf(stdout, NULL, _IOLBF, 0);
    tool_signals_catch(vc_on_signal);

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, val[VC_TOPIC], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(t.rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "ERROR cannot subscribe to %s: %s\n", val[VC_TOPIC], rd_kafka_err2str(e));
        tool_rk_destroy(&t);
        return 1;
    }
    printf("{\"timestamp\":%lld,\"name\":\"startup_complete\"}\n", (long long)tool_wall_ms());
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(t.rk);
    long consumed = 0;
    rd_kafka_message_t *msgs[VC_BATCH_MAX];
    while (!vc_stop && (max_messages < 0 || consumed < max_messages)) {
        ssize_t n = rd_kafka_consume_batch_queue(q, VC_POLL_MS, msgs, VC_BATCH_MAX);
        if (n <= 0)
            continue;
        /* errors (e.g. a broker going away) are retried by librdkafka, as the
         * Java consumer's poll hides them; keep the records only */
        size_t kept = 0;
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err)
                rd_kafka_message_destroy(msgs[i]);
            else
                msgs[kept++] = msgs[i];
        }
        if (kept > 0) {
            long take = max_messages < 0 ? (long)kept : max_messages - consumed;
            vc_batch(t.rk, msgs, kept, take, given[VC_VERBOSE], given[VC_AUTOCOMMIT]);
            consumed += take < (long)kept ? take : (long)kept;
        }
        for (size_t i = 0; i < kept; i++)
            rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_queue_destroy(q);
    (void)rd_kafka_consumer_close(t.rk); /* leaves the group: partitions_revoked */
    printf("{\"timestamp\":%lld,\"name\":\"shutdown_complete\"}\n", (long long)tool_wall_ms());
    tool_rk_destroy(&t);
    return vc_stop ? 128 + vc_stop : 0; /* the JVM's exit code after a signal */
}
