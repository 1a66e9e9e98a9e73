/*
 * delete_records.c - kafka-delete-records: read the offset JSON file and
 * delete every listed partition's records below its offset (-1: up to the
 * high watermark) with DeleteRecords (librdkafka's admin API).
 *
 * Output as Kafka's DeleteRecordsCommand: "Executing records delete
 * operation", "Records delete operation completed:", then per partition
 * "partition: t-0\tlow_watermark: 50" or "partition: t-0\terror:
 * org.apache.kafka.common.errors.<X>Exception: <message>" (file order here;
 * Kafka's comes from a hash map), exit 0.  A bad file, a duplicate
 * partition or a failed call print one line (Kafka's exception and
 * message) on stderr and exit 1.
 *
 * The JSON reader (tools/tool_json) is a small iterative scanner: no
 * recursion, unknown keys skipped with a depth counter.
 */
#include "tools/delete_records.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tools/tool_common.h"
#include "tools/tool_json.h"

#define DR_ENTRIES_MAX 4096
#define DR_FILE_BYTES_MAX (4u << 20)

static int json_parse(const char *text, size_t len, struct delete_records_entry *out, size_t max, size_t *count,
                      bool need_offset, char *err, size_t err_size)
{
    struct tool_json j = { text, text + len };
    *count = 0;
    bool have_partitions = false;
    int64_t version = 1;
    char key[64];
    if (!tool_json_eat(&j, '{'))
        goto bad_json;
    if (!tool_json_eat(&j, '}')) {
        do {
            if (tool_json_string_read(&j, key, sizeof key) == ERR_INVALID || !tool_json_eat(&j, ':'))
                goto bad_json;
            if (strcmp(key, "version") == 0) {
                if (tool_json_number(&j, &version) < 0)
                    goto bad_json;
            } else if (strcmp(key, "partitions") == 0) {
                have_partitions = true;
                if (!tool_json_eat(&j, '['))
                    goto bad_json;
                if (tool_json_eat(&j, ']'))
                    continue;
                do {
                    if (!tool_json_eat(&j, '{'))
                        goto bad_json;
                    if (*count >= max) {
                        snprintf(err, err_size, "more than %zu partitions in the offset JSON file", max);
                        return ERR_LIMIT;
                    }
                    struct delete_records_entry *e = &out[*count];
                    bool has_topic = false, has_partition = false, has_offset = false;
                    if (!tool_json_eat(&j, '}')) {
                        do {
                            if (tool_json_string_read(&j, key, sizeof key) == ERR_INVALID || !tool_json_eat(&j, ':'))
                                goto bad_json;
                            int64_t v;
                            if (strcmp(key, "topic") == 0) {
                                if (tool_json_string_read(&j, e->topic, sizeof e->topic) < 0)
                                    goto bad_json;
                                has_topic = true;
                            } else if (strcmp(key, "partition") == 0) {
                                if (tool_json_number(&j, &v) < 0 || v < 0 || v > INT32_MAX)
                                    goto bad_json;
                                e->partition = (int32_t)v;
                                has_partition = true;
                            } else if (strcmp(key, "offset") == 0) {
                                if (tool_json_number(&j, &v) < 0)
                                    goto bad_json;
                                e->offset = v;
                                has_offset = true;
                            } else if (tool_json_skip(&j) < 0) {
                                goto bad_json;
                            }
                        } while (tool_json_eat(&j, ','));
                        if (!tool_json_eat(&j, '}'))
                            goto bad_json;
                    }
                    if (!need_offset && !has_offset) {
                        e->offset = -1;
                        has_offset = true;
                    }
                    if (!has_topic || !has_partition || !has_offset) {
                        snprintf(err, err_size, "Missing field %s in a partition of the %sJSON file",
                                 !has_topic ? "topic" : !has_partition ? "partition" : "offset",
                                 need_offset ? "offset " : "");
                        return ERR_INVALID;
                    }
                    (*count)++;
                } while (tool_json_eat(&j, ','));
                if (!tool_json_eat(&j, ']'))
                    goto bad_json;
            } else if (tool_json_skip(&j) < 0) {
                goto bad_json;
            }
        } while (tool_json_eat(&j, ','));
        if (!tool_json_eat(&j, '}'))
            goto bad_json;
    }
    if (version != 1) {
        snprintf(err, err_size, "Not supported version field value %lld", (long long)version);
        return ERR_INVALID;
    }
    if (!have_partitions) {
        snprintf(err, err_size, "Missing partitions field");
        return ERR_INVALID;
    }
    return 0;
bad_json:
    snprintf(err, err_size, "The input string is not a valid JSON");
    return ERR_INVALID;
}

int delete_records_json_parse(const char *text, size_t len, struct delete_records_entry *out, size_t max,
                              size_t *count, char *err, size_t err_size)
{
    return json_parse(text, len, out, max, count, true, err, err_size);
}

int delete_records_json_parse_partitions(const char *text, size_t len, struct delete_records_entry *out, size_t max,
                                         size_t *count, char *err, size_t err_size)
{
    return json_parse(text, len, out, max, count, false, err, err_size);
}

enum dr_opt { DR_BOOTSTRAP, DR_OFFSET_JSON, DR_COMMAND_CONFIG, DR_HELP, DR_VERSION, DR_OPT_COUNT };

static const struct tool_optdef dr_opts[DR_OPT_COUNT] = {
    [DR_BOOTSTRAP] = { "bootstrap-server", true },
    [DR_OFFSET_JSON] = { "offset-json-file", true },
    [DR_COMMAND_CONFIG] = { "command-config", true },
    [DR_HELP] = { "help", false },
    [DR_VERSION] = { "version", false },
};

static void dr_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to delete records of the given partitions down to the specified offset.\n"
            "Option                                 Description\n"
            "------                                 -----------\n"
            "--bootstrap-server <String: server(s)  REQUIRED: The server to connect to.\n"
            "  to use for bootstrapping>\n"
            "--command-config <String: command      A property file containing configs to be passed to Admin\n"
            "  config property file path>             Client.\n"
            "--help                                 Print usage information.\n"
            "--offset-json-file <String: Offset     REQUIRED: The JSON file with offset per partition. The\n"
            "  json file path>                        format to use is:\n"
            "                                       {\"partitions\":\n"
            "                                         [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}],\n"
            "                                        \"version\":1\n"
            "                                       }\n"
            "--version                              Display Kafka version.\n");
}

static const char *dr_exception(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        return "org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested offset is not within the "
               "range of offsets maintained by the server.";
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this "
               "topic-partition.";
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        return "org.apache.kafka.common.errors.NotLeaderOrFollowerException: For requests intended only for the "
               "leader, this error indicates that the broker is not the current leader.";
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        return "org.apache.kafka.common.errors.LeaderNotAvailableException: There is no leader for this "
               "topic-partition as we are in the middle of a leadership election.";
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        return "org.apache.kafka.common.errors.PolicyViolationException: Request parameters do not satisfy the "
               "configured policy.";
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
        return "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment.";
    default:
        return NULL;
    }
}

int tool_delete_records_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, dr_opts, DR_OPT_COUNT, &o, dr_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    if (!val[DR_BOOTSTRAP])
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", dr_usage);
    if (!val[DR_OFFSET_JSON])
        return tool_usage_error("Missing required argument \"[offset-json-file]\"", dr_usage);

    FILE *f = fopen(val[DR_OFFSET_JSON], "r");
    if (!f) {
        fprintf(stderr, "Exception in thread \"main\" java.nio.file.NoSuchFileException: %s (%s)\n",
                val[DR_OFFSET_JSON], strerror(errno));
        return 1;
    }
    char *text = malloc(DR_FILE_BYTES_MAX);
    struct delete_records_entry *entries = calloc(DR_ENTRIES_MAX, sizeof *entries);
    ASSERT(text && entries);
    size_t len = fread(text, 1, DR_FILE_BYTES_MAX, f);
    fclose(f);
    size_t count = 0;
    char err[TOOL_ERRSTR_MAX];
    struct tool_client c = { 0 };
    if (delete_records_json_parse(text, len, entries, DR_ENTRIES_MAX, &count, err, sizeof err) < 0) {
        fprintf(stderr, "Exception in thread \"main\" org.apache.kafka.server.common.AdminOperationException: %s\n",
                err);
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < i; k++) {
            if (entries[k].partition == entries[i].partition && strcmp(entries[k].topic, entries[i].topic) == 0) {
                fprintf(stderr,
                        "Exception in thread \"main\" kafka.common.AdminCommandFailedException: Offset json file "
                        "contains duplicate topic partitions: %s-%d\n",
                        entries[i].topic, (int)entries[i].partition);
                goto out;
            }
        }
    }
    if (tool_client_create(&c, val[DR_BOOTSTRAP], val[DR_COMMAND_CONFIG], err, sizeof err) < 0) {
        fprintf(stderr, "Exception in thread \"main\" org.apache.kafka.common.KafkaException: %s\n", err);
        goto out;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)count);
    for (size_t i = 0; i < count; i++)
        rd_kafka_topic_partition_list_add(list, entries[i].topic, entries[i].partition)->offset = entries[i].offset;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(list);
    rd_kafka_topic_partition_list_destroy(list);
    printf("Executing records delete operation\n");
    fflush(stdout);
    rd_kafka_AdminOptions_t *ao = tool_admin_options(&c, RD_KAFKA_ADMIN_OP_DELETERECORDS);
    rd_kafka_DeleteRecords(c.rk, &dr, 1, ao, c.queue);
    if (ao)
        rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_event_t *ev = tool_client_wait(&c, RD_KAFKA_EVENT_DELETERECORDS_RESULT, err, sizeof err);
    if (!ev) {
        fprintf(stderr, "Exception in thread \"main\" java.util.concurrent.ExecutionException: "
                        "org.apache.kafka.common.errors.TimeoutException: %s\n", err);
        goto out;
    }
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    printf("Records delete operation completed:\n");
    for (size_t i = 0; i < count; i++) {
        const rd_kafka_topic_partition_t *tp =
            res ? rd_kafka_topic_partition_list_find(res, entries[i].topic, entries[i].partition) : NULL;
        if (!tp) {
            printf("partition: %s-%d\terror: org.apache.kafka.common.KafkaException: no result from the broker\n",
                   entries[i].topic, (int)entries[i].partition);
        } else if (tp->err) {
            const char *ex = dr_exception(tp->err);
            if (ex)
                printf("partition: %s-%d\terror: %s\n", tp->topic, (int)tp->partition, ex);
            else
                printf("partition: %s-%d\terror: org.apache.kafka.common.KafkaException: %s\n", tp->topic,
                       (int)tp->partition, rd_kafka_err2str(tp->err));
        } else {
            printf("partition: %s-%d\tlow_watermark: %lld\n", tp->topic, (int)tp->partition, (long long)tp->offset);
        }
    }
    rd_kafka_event_destroy(ev);
    exit_code = 0;
out:
    tool_client_destroy(&c);
    free(text);
    free(entries);
    return exit_code;
}
