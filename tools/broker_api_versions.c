/*
 * broker_api_versions.c - kafka-broker-api-versions: every broker's
 * ApiVersions answer in Kafka's layout (NodeApiVersions.toString):
 *
 *   127.0.0.1:9092 (id: 1 rack: null) -> (
 *   	Produce(0): 0 to 9 [usable: 9],
 *   	...
 *   	CreateAcls(30): UNSUPPORTED,
 *   	...
 *   )
 *
 * one line per API the broker lists or the Java client knows (ascending
 * key), "[usable: N]" being the highest version both sides speak, and a
 * blank line after each broker.  The client side is Kafka's own API table
 * (names and newest versions from Kafka's message schemas, the APIs whose
 * listeners include a broker), kept below as data.  Brokers come from
 * Metadata (librdkafka); each is asked with ApiVersions v0 over the
 * project's own codec (tools/kclient), sorted by node id.
 */
#include "tools/broker_api_versions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/kwire.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"
#include "tools/tool_rk.h"

struct bav_api {
    int16_t key;
    const char *name;
    int16_t min_version, max_version;
    bool client; /* in ApiKeys.clientApis(): a broker listens for it */
};

/* Kafka's ApiKeys: name, version range and listeners from its message schemas */
static const struct bav_api bav_apis[] = {
    { 0, "Produce", 0, 11, true },
    { 1, "Fetch", 0, 17, true },
    { 2, "ListOffsets", 0, 10, true },
    { 3, "Metadata", 0, 12, true },
    { 4, "LeaderAndIsr", 0, 7, true },
    { 5, "StopReplica", 0, 4, true },
    { 6, "UpdateMetadata", 0, 8, true },
    { 7, "ControlledShutdown", 0, 3, true },
    { 8, "OffsetCommit", 0, 9, true },
    { 9, "OffsetFetch", 0, 9, true },
    { 10, "FindCoordinator", 0, 6, true },
    { 11, "JoinGroup", 0, 9, true },
    { 12, "Heartbeat", 0, 4, true },
    { 13, "LeaveGroup", 0, 5, true },
    { 14, "SyncGroup", 0, 5, true },
    { 15, "DescribeGroups", 0, 5, true },
    { 16, "ListGroups", 0, 5, true },
    { 17, "SaslHandshake", 0, 1, true },
    { 18, "ApiVersions", 0, 4, true },
    { 19, "CreateTopics", 0, 7, true },
    { 20, "DeleteTopics", 0, 6, true },
    { 21, "DeleteRecords", 0, 2, true },
    { 22, "InitProducerId", 0, 5, true },
    { 23, "OffsetForLeaderEpoch", 0, 4, true },
    { 24, "AddPartitionsToTxn", 0, 5, true },
    { 25, "AddOffsetsToTxn", 0, 4, true },
    { 26, "EndTxn", 0, 5, true },
    { 27, "WriteTxnMarkers", 0, 1, true },
    { 28, "TxnOffsetCommit", 0, 4, true },
    { 29, "DescribeAcls", 0, 3, true },
    { 30, "CreateAcls", 0, 3, true },
    { 31, "DeleteAcls", 0, 3, true },
    { 32, "DescribeConfigs", 0, 4, true },
    { 33, "AlterConfigs", 0, 2, true },
    { 34, "AlterReplicaLogDirs", 0, 2, true },
    { 35, "DescribeLogDirs", 0, 4, true },
    { 36, "SaslAuthenticate", 0, 2, true },
    { 37, "CreatePartitions", 0, 3, true },
    { 38, "CreateDelegationToken", 0, 3, true },
    { 39, "RenewDelegationToken", 0, 2, true },
    { 40, "ExpireDelegationToken", 0, 2, true },
    { 41, "DescribeDelegationToken", 0, 3, true },
    { 42, "DeleteGroups", 0, 2, true },
    { 43, "ElectLeaders", 0, 2, true },
    { 44, "IncrementalAlterConfigs", 0, 1, true },
    { 45, "AlterPartitionReassignments", 0, 0, true },
    { 46, "ListPartitionReassignments", 0, 0, true },
    { 47, "OffsetDelete", 0, 0, true },
    { 48, "DescribeClientQuotas", 0, 1, true },
    { 49, "AlterClientQuotas", 0, 1, true },
    { 50, "DescribeUserScramCredentials", 0, 0, true },
    { 51, "AlterUserScramCredentials", 0, 0, true },
    { 52, "Vote", 0, 1, false },
    { 53, "BeginQuorumEpoch", 0, 1, false },
    { 54, "EndQuorumEpoch", 0, 1, false },
    { 55, "DescribeQuorum", 0, 2, true },
    { 56, "AlterPartition", 0, 3, true },
    { 57, "UpdateFeatures", 0, 2, true },
    { 58, "Envelope", 0, 0, true },
    { 59, "FetchSnapshot", 0, 1, false },
    { 60, "DescribeCluster", 0, 1, true },
    { 61, "DescribeProducers", 0, 0, true },
    { 62, "BrokerRegistration", 0, 4, false },
    { 63, "BrokerHeartbeat", 0, 1, false },
    { 64, "UnregisterBroker", 0, 0, true },
    { 65, "DescribeTransactions", 0, 0, true },
    { 66, "ListTransactions", 0, 1, true },
    { 67, "AllocateProducerIds", 0, 0, true },
    { 68, "ConsumerGroupHeartbeat", 0, 1, true },
    { 69, "ConsumerGroupDescribe", 0, 0, true },
    { 70, "ControllerRegistration", 0, 0, false },
    { 71, "GetTelemetrySubscriptions", 0, 0, true },
    { 72, "PushTelemetry", 0, 0, true },
    { 73, "AssignReplicasToDirs", 0, 0, false },
    { 74, "ListClientMetricsResources", 0, 0, true },
    { 75, "DescribeTopicPartitions", 0, 0, true },
    { 76, "ShareGroupHeartbeat", 0, 0, true },
    { 77, "ShareGroupDescribe", 0, 0, true },
    { 78, "ShareFetch", 0, 0, true },
    { 79, "ShareAcknowledge", 0, 0, true },
    { 80, "AddRaftVoter", 0, 0, true },
    { 81, "RemoveRaftVoter", 0, 0, true },
    { 82, "UpdateRaftVoter", 0, 0, false },
    { 83, "InitializeShareGroupState", 0, 0, true },
    { 84, "ReadShareGroupState", 0, 0, true },
    { 85, "WriteShareGroupState", 0, 0, true },
    { 86, "DeleteShareGroupState", 0, 0, true },
    { 87, "ReadShareGroupStateSummary", 0, 0, true },
};

#define BAV_API_COUNT (sizeof bav_apis / sizeof bav_apis[0])
#define BAV_BROKERS_MAX 256
#define BAV_KEYS_MAX 1024 /* api keys shown; Kafka's go up to ~90 */

static const struct bav_api *bav_api_find(int16_t key)
{
    for (size_t i = 0; i < BAV_API_COUNT; i++)
        if (bav_apis[i].key == key)
            return &bav_apis[i];
    return NULL;
}

enum bav_opt { BAV_BOOTSTRAP, BAV_COMMAND_CONFIG, BAV_HELP, BAV_VERSION, BAV_OPT_COUNT };

static const struct tool_optdef bav_opts[BAV_OPT_COUNT] = {
    [BAV_BOOTSTRAP] = { "bootstrap-server", true },
    [BAV_COMMAND_CONFIG] = { "command-config", true },
    [BAV_HELP] = { "help", false },
    [BAV_VERSION] = { "version", false },
};

static void bav_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to retrieve broker version information.\n"
            "Option                                 Description\n"
            "------                                 -----------\n"
            "--bootstrap-server <String: server(s)  REQUIRED: The server to connect to.\n"
            "  to use for bootstrapping>\n"
            "--command-config <String: command      A property file containing configs to be passed to Admin\n"
            "  config property file path>             Client.\n"
            "--help                                 Print usage information.\n"
            "--version                              Display Kafka version.\n");
}

/* One broker's ApiVersions (v0) into keys; returns the count or < 0. */
static int bav_ask(const char *host, int port, struct arena *a, struct kmsg_api_versions_resp *resp)
{
    char hp[512];
    snprintf(hp, sizeof hp, "%s:%d", host, port);
    struct kclient kc;
    int rc = kclient_connect(&kc, hp, 10000);
    if (rc < 0)
        return rc;
    struct kmsg_api_versions_req req;
    kmsg_api_versions_req_init(&req);
    struct buf body;
    buf_init(&body, 1 << 12);
    struct bytes out;
    rc = kmsg_api_versions_req_encode(&body, 0, &req);
    if (rc == 0)
        rc = kclient_call(&kc, KMSG_API_API_VERSIONS, 0, buf_bytes(&body), &out);
    buf_deinit(&body);
    if (rc == 0) {
        struct kwire_reader r;
        kwire_reader_init(&r, out);
        rc = kmsg_api_versions_resp_decode(&r, 0, a, resp);
        if (rc == 0 && resp->error_code != 0)
            rc = ERR_INVALID;
    }
    kclient_close(&kc);
    return rc;
}

static void bav_print(const struct rd_kafka_metadata_broker *b, const struct kmsg_api_versions_resp *resp)
{
    printf("%s:%d (id: %d rack: null) -> (\n", b->host, b->port, (int)b->id);
    bool first = true;
    for (int key = 0; key < BAV_KEYS_MAX; key++) {
        const struct kmsg_api_versions_resp_api_key *got = NULL;
        for (int i = 0; i < resp->api_keys_count; i++)
            if (resp->api_keys[i].api_key == key)
                got = &resp->api_keys[i];
        const struct bav_api *api = bav_api_find((int16_t)key);
        if (!got && !(api && api->client))
            continue;
        printf("%s\t", first ? "" : ",\n");
        first = false;
        if (!got) {
            printf("%s(%d): UNSUPPORTED", api->name, key);
            continue;
        }
        if (api)
            printf("%s(%d): ", api->name, key);
        else
            printf("UNKNOWN(%d): ", key);
        if (got->min_version == got->max_version)
            printf("%d", got->min_version);
        else
            printf("%d to %d", got->min_version, got->max_version);
        if (!api)
            continue;
        if (api->max_version < got->min_version)
            printf(" [unusable: node too new]");
        else if (got->max_version < api->min_version)
            printf(" [unusable: node too old]");
        else
            printf(" [usable: %d]", got->max_version < api->max_version ? got->max_version : api->max_version);
    }
    printf("\n)\n\n");
}

static int bav_broker_cmp(const void *x, const void *y)
{
    const struct rd_kafka_metadata_broker *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

int tool_broker_api_versions_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, bav_opts, BAV_OPT_COUNT, &o, bav_usage, &exit_code))
        return exit_code;
    if (!o.val[BAV_BOOTSTRAP])
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", bav_usage);
    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    int timeout_ms = TOOL_TIMEOUT_MS_DEFAULT;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, o.val[BAV_BOOTSTRAP], err, sizeof err);
    int rc = conf ? 0 : ERR_INVALID;
    if (rc == 0 && o.val[BAV_COMMAND_CONFIG])
        rc = tool_conf_file_apply(conf, o.val[BAV_COMMAND_CONFIG], "--command-config", &timeout_ms, err, sizeof err);
    if (rc < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        fprintf(stderr, "ERROR %s\n", err);
        return 1;
    }
    const struct rd_kafka_metadata *md = NULL;
    if (tool_rk_open(&t, RD_KAFKA_PRODUCER, conf, NULL, timeout_ms, &md) < 0)
        return 1;
    int count = md->broker_cnt < BAV_BROKERS_MAX ? md->broker_cnt : BAV_BROKERS_MAX;
    struct rd_kafka_metadata_broker brokers[BAV_BROKERS_MAX];
    memcpy(brokers, md->brokers, (size_t)count * sizeof brokers[0]);
    qsort(brokers, (size_t)count, sizeof brokers[0], bav_broker_cmp);
    exit_code = 0;
    for (int i = 0; i < count; i++) {
        struct arena a;
        arena_init(&a, 16384, 1u << 20);
        struct kmsg_api_versions_resp resp;
        rc = bav_ask(brokers[i].host, brokers[i].port, &a, &resp);
        if (rc < 0) {
            printf("%s:%d (id: %d rack: null) -> ERROR: %s\n\n", brokers[i].host, brokers[i].port,
                   (int)brokers[i].id, err_str(rc));
            exit_code = 1;
        } else {
            bav_print(&brokers[i], &resp);
        }
        arena_deinit(&a);
    }
    rd_kafka_metadata_destroy(md);
    tool_rk_destroy(&t);
    return exit_code;
}
