/*
 * reassign_partitions.c - `samsa reassign-partitions` =
 * kafka-reassign-partitions.sh (Kafka 3.x's ReassignPartitionsCommand with
 * --bootstrap-server): --generate, --execute, --verify, --cancel, --list.
 *
 * librdkafka 2.0.2 has no partition-reassignment API, so the tool speaks the
 * project's own codec (tools/kclient) to the bootstrap server: Metadata for
 * the current replicas and the brokers, AlterPartitionReassignments and
 * ListPartitionReassignments (forwarded by any broker to the active
 * controller), IncrementalAlterConfigs for --throttle.  Output is Kafka's:
 * the reassignment JSON ({"version":1,"partitions":[{"topic":...,
 * "partition":...,"replicas":[...],"log_dirs":["any",...]}]}, partitions
 * sorted by topic then partition), and its status lines.  Failures print
 * one line on stdout (Kafka's println of the exception message) and exit 1.
 *
 * --throttle N sets leader.replication.throttled.rate and
 * follower.replication.throttled.rate on the brokers of the moving
 * partitions and the topics' leader/follower.replication.throttled.replicas,
 * as Kafka does; --verify and --cancel remove them once nothing is moving
 * (unless --preserve-throttles).  The brokers enforce them
 * (broker/replica/brk_rthrottle).
 */
#include "tools/reassign_partitions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"
#include "tools/tool_json.h"

#define RP_PARTS_MAX 65536
#define RP_REPLICAS_MAX 16
#define RP_TOPICS_MAX 1024
#define RP_BROKERS_MAX 256
#define RP_FILE_BYTES_MAX (16u << 20)
#define RP_TIMEOUT_MS 30000
#define RP_RETRIES 50 /* NOT_CONTROLLER answers while the controller moves or fences: 50 x 200 ms */

enum {
    RP_BOOTSTRAP, RP_COMMAND_CONFIG, RP_REASSIGNMENT_JSON, RP_TOPICS_JSON, RP_BROKER_LIST, RP_GENERATE, RP_EXECUTE,
    RP_VERIFY, RP_CANCEL, RP_LIST, RP_THROTTLE, RP_LOG_DIR_THROTTLE, RP_ADDITIONAL, RP_PRESERVE_THROTTLES,
    RP_TIMEOUT, RP_DISABLE_RACK_AWARE, RP_HELP, RP_VERSION, RP_OPT_COUNT
};

static const struct tool_optdef rp_opts[RP_OPT_COUNT] = {
    [RP_BOOTSTRAP] = { "bootstrap-server", true, false, false, false },
    [RP_COMMAND_CONFIG] = { "command-config", true, false, false, false },
    [RP_REASSIGNMENT_JSON] = { "reassignment-json-file", true, false, false, false },
    [RP_TOPICS_JSON] = { "topics-to-move-json-file", true, false, false, false },
    [RP_BROKER_LIST] = { "broker-list", true, false, false, false },
    [RP_GENERATE] = { "generate", false, false, false, false },
    [RP_EXECUTE] = { "execute", false, false, false, false },
    [RP_VERIFY] = { "verify", false, false, false, false },
    [RP_CANCEL] = { "cancel", false, false, false, false },
    [RP_LIST] = { "list", false, false, false, false },
    [RP_THROTTLE] = { "throttle", true, false, false, false },
    [RP_LOG_DIR_THROTTLE] = { "replica-alter-log-dirs-throttle", true, false, false, false },
    [RP_ADDITIONAL] = { "additional", false, false, false, false },
    [RP_PRESERVE_THROTTLES] = { "preserve-throttles", false, false, false, false },
    [RP_TIMEOUT] = { "timeout", true, false, false, false },
    [RP_DISABLE_RACK_AWARE] = { "disable-rack-aware", false, false, false, false },
    [RP_HELP] = { "help", false, false, false, false },
    [RP_VERSION] = { "version", false, false, false, false },
};

static void rp_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to move topic partitions between replicas.\n"
            "Option                                  Description\n"
            "------                                  -----------\n"
            "--additional                            Execute this reassignment in addition\n"
            "                                          to any other ongoing ones.\n"
            "--bootstrap-server <String: Server(s)   REQUIRED: the server(s) to use for\n"
            "  to use for bootstrapping>               bootstrapping.\n"
            "--broker-list <String: brokerlist>      The list of brokers to which the\n"
            "                                          partitions need to be reassigned in\n"
            "                                          the form \"0,1,2\". Required with\n"
            "                                          --generate.\n"
            "--cancel                                Cancel an active reassignment.\n"
            "--command-config <String: Admin client  Property file containing configs to be\n"
            "  property file>                          passed to Admin Client.\n"
            "--disable-rack-aware                    Disable rack aware replica assignment\n"
            "--execute                               Kick off the reassignment as specified\n"
            "                                          by the --reassignment-json-file option.\n"
            "--generate                              Generate a candidate partition\n"
            "                                          reassignment configuration. Note that\n"
            "                                          this only generates a candidate\n"
            "                                          assignment, it does not execute it.\n"
            "--help                                  Print usage information.\n"
            "--list                                  List all active partition reassignments.\n"
            "--preserve-throttles                    Do not modify broker or topic throttles.\n"
            "--reassignment-json-file <String:       The JSON file with the partition\n"
            "  manual assignment json file path>       reassignment configuration. The format\n"
            "                                          to use is -\n"
            "                                        {\"partitions\":\n"
            "                                        \t[{\"topic\": \"foo\",\n"
            "                                        \t  \"partition\": 1,\n"
            "                                        \t  \"replicas\": [1,2,3],\n"
            "                                        \t  \"log_dirs\": [\"dir1\",\"dir2\",\"dir3\"]\n"
            "                                          }],\n"
            "                                        \"version\":1\n"
            "                                        }\n"
            "                                        Note that \"log_dirs\" is optional; only\n"
            "                                          \"any\" is supported.\n"
            "--replica-alter-log-dirs-throttle       Not supported (replicas never move\n"
            "  <Long: replicaAlterLogDirsThrottle>     between the log dirs of one broker).\n"
            "--throttle <Long: throttle>             The movement of partitions between\n"
            "                                          brokers will be throttled to this\n"
            "                                          value (bytes/sec). (default: -1)\n"
            "--timeout <Long: timeout>               The maximum time in ms to wait for log\n"
            "                                          directory replica assignment to begin.\n"
            "                                          (default: 10000)\n"
            "--topics-to-move-json-file <String:     Generate a reassignment configuration\n"
            "  topics to reassign json file path>      to move the partitions of the\n"
            "                                          specified topics to the list of\n"
            "                                          brokers specified by the --broker-list\n"
            "                                          option. The format to use is -\n"
            "                                        {\"topics\":\n"
            "                                        \t[{\"topic\": \"foo\"},{\"topic\": \"foo1\"}],\n"
            "                                        \"version\":1\n"
            "                                        }\n"
            "--verify                                Verify if the reassignment completed as\n"
            "                                          specified by the --reassignment-json-\n"
            "                                          file option. If there is a throttle\n"
            "                                          engaged for the replicas specified,\n"
            "                                          and the rebalance has completed, the\n"
            "                                          throttle will be removed\n"
            "--version                               Display Kafka version.\n");
}

/* One partition and a replica list (a target, or the current replicas). */
struct rp_part {
    char topic[256];
    int32_t partition;
    int32_t replica_count;
    int32_t replicas[RP_REPLICAS_MAX];
};

static int rp_part_cmp(const void *x, const void *y)
{
    const struct rp_part *a = x, *b = y;
    int c = strcmp(a->topic, b->topic);
    return c ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

struct rp {
    struct kclient kc;
    struct arena a;
    struct kmsg_metadata_resp md;
    bool have_md;
};

/* ---- input files ---- */

static char *rp_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("Error: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(RP_FILE_BYTES_MAX + 1);
    size_t n = text ? fread(text, 1, RP_FILE_BYTES_MAX, f) : 0;
    fclose(f);
    if (!text)
        return NULL;
    text[n] = '\0';
    *len = n;
    return text;
}

/* rp_ids_read - a JSON array of ints into ids (at most max). */
static int rp_ids_read(struct tool_json *j, int32_t *ids, int32_t max, int32_t *count)
{
    struct tool_json_iter it;
    int rc = tool_json_array_begin(j, &it);
    *count = 0;
    while (rc == 0 && (rc = tool_json_element_next(j, &it)) > 0) {
        int64_t v;
        if (tool_json_number(j, &v) < 0 || v < 0 || v > INT32_MAX)
            return ERR_INVALID;
        if (*count == max)
            return ERR_LIMIT;
        ids[(*count)++] = (int32_t)v;
        rc = 0;
    }
    return rc;
}

/* rp_log_dirs_read - "log_dirs": counted, and whether every entry is "any"
 * (replicas never move between one broker's dirs here). */
static int rp_log_dirs_read(struct tool_json *j, int32_t *count, bool *all_any)
{
    struct tool_json_iter it;
    int rc = tool_json_array_begin(j, &it);
    *count = 0;
    *all_any = true;
    while (rc == 0 && (rc = tool_json_element_next(j, &it)) > 0) {
        char dir[4096];
        if (tool_json_string_read(j, dir, sizeof dir) < 0)
            return ERR_INVALID;
        *all_any &= strcmp(dir, "any") == 0;
        (*count)++;
        rc = 0;
    }
    return rc;
}

/* rp_partition_read - one {"topic":..,"partition":..,"replicas":[..],"log_dirs":[..]}. */
static int rp_partition_read(struct tool_json *j, struct rp_part *p, char *err, size_t err_size)
{
    struct tool_json_iter it;
    char key[256];
    bool has_topic = false, has_partition = false, has_replicas = false, all_any = true;
    int32_t dirs = -1;
    memset(p, 0, sizeof *p);
    int rc = tool_json_object_begin(j, &it);
    while (rc == 0 && (rc = tool_json_member_next(j, &it, key, sizeof key)) > 0) {
        int64_t v;
        rc = 0;
        if (strcmp(key, "topic") == 0) {
            rc = tool_json_string_read(j, p->topic, sizeof p->topic) < 0 ? ERR_INVALID : 0;
            has_topic = true;
        } else if (strcmp(key, "partition") == 0) {
            rc = tool_json_number(j, &v) < 0 || v < 0 || v > INT32_MAX ? ERR_INVALID : 0;
            p->partition = (int32_t)v;
            has_partition = true;
        } else if (strcmp(key, "replicas") == 0) {
            rc = rp_ids_read(j, p->replicas, RP_REPLICAS_MAX, &p->replica_count);
            if (rc == ERR_LIMIT) {
                snprintf(err, err_size, "A partition may have at most %d replicas", RP_REPLICAS_MAX);
                return rc;
            }
            has_replicas = true;
        } else if (strcmp(key, "log_dirs") == 0) {
            rc = rp_log_dirs_read(j, &dirs, &all_any);
        } else {
            rc = tool_json_skip(j);
        }
    }
    if (rc < 0)
        return rc;
    if (!has_topic || !has_partition || !has_replicas) {
        snprintf(err, err_size, "Missing field %s in a partition of the reassignment JSON file",
                 !has_topic ? "topic" : !has_partition ? "partition" : "replicas");
        return ERR_NOT_FOUND;
    }
    if (dirs >= 0 && dirs != p->replica_count) {
        snprintf(err, err_size, "Size of replicas list %d is different from size of log dirs list %d for partition "
                 "%s-%d", p->replica_count, dirs, p->topic, p->partition);
        return ERR_NOT_FOUND;
    }
    if (!all_any) {
        snprintf(err, err_size, "Moving replicas between log directories is not supported: use \"any\" in log_dirs "
                 "(partition %s-%d)", p->topic, p->partition);
        return ERR_NOT_FOUND;
    }
    return 0;
}

/* rp_parse_reassignment - Kafka's reassignment JSON into parts; checks as
 * parsePartitionReassignmentData and parseExecuteAssignmentArgs do. */
static int rp_parse_reassignment(const char *text, size_t len, struct rp_part *parts, int32_t *count, char *err,
                                 size_t err_size)
{
    struct tool_json j = { text, text + len };
    struct tool_json_iter obj, arr;
    char key[256];
    int64_t version = 1;
    *count = 0;
    err[0] = '\0';
    int rc = tool_json_object_begin(&j, &obj);
    while (rc == 0 && (rc = tool_json_member_next(&j, &obj, key, sizeof key)) > 0) {
        rc = 0;
        if (strcmp(key, "version") == 0) {
            rc = tool_json_number(&j, &version) < 0 ? ERR_INVALID : 0;
            continue;
        }
        if (strcmp(key, "partitions") != 0) {
            rc = tool_json_skip(&j);
            continue;
        }
        rc = tool_json_array_begin(&j, &arr);
        while (rc == 0 && (rc = tool_json_element_next(&j, &arr)) > 0) {
            if (*count == RP_PARTS_MAX) {
                snprintf(err, err_size, "more than %d partitions in the reassignment JSON file", RP_PARTS_MAX);
                return ERR_LIMIT;
            }
            rc = rp_partition_read(&j, &parts[*count], err, err_size);
            if (rc == 0)
                (*count)++;
        }
    }
    if (rc < 0) {
        if (!err[0])
            snprintf(err, err_size, "The input string is not a valid JSON");
        return ERR_INVALID;
    }
    if (version != 1) {
        snprintf(err, err_size, "Not supported version field value %lld", (long long)version);
        return ERR_INVALID;
    }
    if (*count == 0) {
        snprintf(err, err_size, "Partition reassignment list cannot be empty");
        return ERR_INVALID;
    }
    qsort(parts, (size_t)*count, sizeof *parts, rp_part_cmp);
    for (int32_t i = 0; i < *count; i++) {
        if (i > 0 && rp_part_cmp(&parts[i - 1], &parts[i]) == 0) {
            snprintf(err, err_size, "Duplicate reassignment for partition %s-%d", parts[i].topic, parts[i].partition);
            return ERR_INVALID;
        }
        if (parts[i].replica_count == 0) {
            snprintf(err, err_size, "Partition replica list cannot be empty");
            return ERR_INVALID;
        }
        for (int32_t k = 0; k < parts[i].replica_count; k++)
            for (int32_t m = 0; m < k; m++)
                if (parts[i].replicas[k] == parts[i].replicas[m]) {
                    snprintf(err, err_size, "Partition replica lists may not contain duplicate entries: %s-%d "
                             "contains multiple entries for %d", parts[i].topic, parts[i].partition,
                             parts[i].replicas[k]);
                    return ERR_INVALID;
                }
    }
    return 0;
}

/* rp_parse_topics - {"topics":[{"topic":"foo"},...],"version":1}. */
static int rp_parse_topics(const char *text, size_t len, char (*topics)[256], int *count, char *err, size_t err_size)
{
    struct tool_json j = { text, text + len };
    struct tool_json_iter obj, arr, item;
    char key[256];
    *count = 0;
    int rc = tool_json_object_begin(&j, &obj);
    while (rc == 0 && (rc = tool_json_member_next(&j, &obj, key, sizeof key)) > 0) {
        if (strcmp(key, "topics") != 0) {
            rc = tool_json_skip(&j);
            continue;
        }
        rc = tool_json_array_begin(&j, &arr);
        while (rc == 0 && (rc = tool_json_element_next(&j, &arr)) > 0) {
            bool has = false;
            if (*count == RP_TOPICS_MAX) {
                snprintf(err, err_size, "more than %d topics to move", RP_TOPICS_MAX);
                return ERR_LIMIT;
            }
            rc = tool_json_object_begin(&j, &item);
            while (rc == 0 && (rc = tool_json_member_next(&j, &item, key, sizeof key)) > 0) {
                if (strcmp(key, "topic") == 0) {
                    rc = tool_json_string_read(&j, topics[*count], 256) < 0 ? ERR_INVALID : 0;
                    has = true;
                } else {
                    rc = tool_json_skip(&j);
                }
            }
            if (rc == 0 && !has) {
                snprintf(err, err_size, "Missing field topic in the topics to move JSON file");
                return ERR_INVALID;
            }
            for (int i = 0; rc == 0 && i < *count; i++)
                if (strcmp(topics[i], topics[*count]) == 0) {
                    snprintf(err, err_size, "List of topics to reassign contains duplicate entries: %.200s",
                             topics[i]);
                    return ERR_INVALID;
                }
            if (rc == 0)
                (*count)++;
        }
    }
    if (rc < 0) {
        snprintf(err, err_size, "The input string is not a valid JSON");
        return ERR_INVALID;
    }
    return 0;
}

/* ---- output ---- */

static void rp_print_json(const struct rp_part *parts, int32_t n)
{
    printf("{\"version\":1,\"partitions\":[");
    for (int32_t i = 0; i < n; i++) {
        printf("%s{\"topic\":", i ? "," : "");
        tool_json_string(stdout, parts[i].topic, strlen(parts[i].topic));
        printf(",\"partition\":%d,\"replicas\":[", parts[i].partition);
        for (int32_t k = 0; k < parts[i].replica_count; k++)
            printf("%s%d", k ? "," : "", parts[i].replicas[k]);
        printf("],\"log_dirs\":[");
        for (int32_t k = 0; k < parts[i].replica_count; k++)
            printf("%s\"any\"", k ? "," : "");
        printf("]}");
    }
    printf("]}\n");
}

static void rp_print_ids(const int32_t *ids, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", ids[i]);
}

/* ---- cluster calls ---- */

static void rp_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* rp_metadata - every topic and broker (refreshed on each call). */
static int rp_metadata(struct rp *r)
{
    struct kmsg_metadata_req req;
    kmsg_metadata_req_init(&req);
    req.topics_count = -1; /* null: every topic */
    req.allow_auto_topic_creation = false;
    int rc;
    KCLIENT_CALL(rc, &r->kc, metadata, KMSG_API_METADATA, 4, &req, &r->a, &r->md);
    r->have_md = rc == 0;
    return rc;
}

static const struct kmsg_metadata_resp_partition *rp_md_partition(const struct rp *r, const char *topic,
                                                                   int32_t partition)
{
    for (int32_t i = 0; i < r->md.topics_count; i++) {
        const struct kmsg_metadata_resp_topic *t = &r->md.topics[i];
        if (t->error_code != 0 || t->name.len != strlen(topic) || memcmp(t->name.ptr, topic, t->name.len) != 0)
            continue;
        for (int32_t p = 0; p < t->partitions_count; p++)
            if (t->partitions[p].partition_index == partition)
                return &t->partitions[p];
    }
    return NULL;
}

static bool rp_broker_known(const struct rp *r, int32_t id)
{
    for (int32_t i = 0; i < r->md.brokers_count; i++)
        if (r->md.brokers[i].node_id == id)
            return true;
    return false;
}

/* rp_current - the current replicas of targets[0..n) into cur; prints
 * Kafka's error for a missing partition. */
static int rp_current(const struct rp *r, const struct rp_part *targets, int32_t n, struct rp_part *cur)
{
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_metadata_resp_partition *mp = rp_md_partition(r, targets[i].topic, targets[i].partition);
        if (!mp) {
            printf("Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to find partition: "
                   "%s-%d\n", targets[i].topic, targets[i].partition);
            return ERR_NOT_FOUND;
        }
        cur[i] = targets[i];
        cur[i].replica_count = mp->replica_nodes_count < RP_REPLICAS_MAX ? mp->replica_nodes_count : RP_REPLICAS_MAX;
        memcpy(cur[i].replicas, mp->replica_nodes, (size_t)cur[i].replica_count * sizeof *cur[i].replicas);
    }
    return 0;
}

/* An ongoing reassignment, as ListPartitionReassignments reports it. */
struct rp_ongoing {
    struct rp_part replicas;
    int32_t adding_count, removing_count;
    int32_t adding[RP_REPLICAS_MAX], removing[RP_REPLICAS_MAX];
};

/* rp_list - the ongoing reassignments (of parts only, when given). */
static int rp_list(struct rp *r, const struct rp_part *parts, int32_t n, struct rp_ongoing **out, int32_t *count)
{
    struct kmsg_list_partition_reassignments_req req;
    kmsg_list_partition_reassignments_req_init(&req);
    if (parts) {
        req.topics = arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *req.topics);
        if (!req.topics)
            return ERR_LIMIT;
        req.topics_count = 0;
        for (int32_t i = 0; i < n; i++) {
            struct kmsg_list_partition_reassignments_req_topic *t = &req.topics[req.topics_count++];
            kmsg_list_partition_reassignments_req_topic_init(t);
            t->name = bytes_cstr(parts[i].topic);
            t->partition_indexes = (int32_t *)&parts[i].partition;
            t->partition_indexes_count = 1;
        }
    }
    struct kmsg_list_partition_reassignments_resp resp;
    int rc = 0;
    for (int attempt = 0; attempt < RP_RETRIES; attempt++) {
        KCLIENT_CALL(rc, &r->kc, list_partition_reassignments, KMSG_API_LIST_PARTITION_REASSIGNMENTS, 0, &req, &r->a,
                     &resp);
        if (rc < 0 || resp.error_code != 41 /* NOT_CONTROLLER */)
            break;
        rp_sleep_ms(200);
    }
    if (rc < 0)
        return rc;
    if (resp.error_code != 0) {
        printf("Error: ListPartitionReassignments failed: %.*s (error code %d)\n", (int)resp.error_message.len,
               resp.error_message.ptr ? (const char *)resp.error_message.ptr : "", resp.error_code);
        return ERR_INVALID;
    }
    int32_t total = 0;
    for (int32_t i = 0; i < resp.topics_count; i++)
        total += resp.topics[i].partitions_count;
    *out = arena_alloc_array(&r->a, (size_t)(total ? total : 1), sizeof **out);
    if (!*out)
        return ERR_LIMIT;
    *count = 0;
    for (int32_t i = 0; i < resp.topics_count; i++) {
        const struct kmsg_list_partition_reassignments_resp_topic *t = &resp.topics[i];
        for (int32_t p = 0; p < t->partitions_count; p++) {
            const struct kmsg_list_partition_reassignments_resp_partition *rp = &t->partitions[p];
            struct rp_ongoing *o = &(*out)[(*count)++];
            memset(o, 0, sizeof *o);
            snprintf(o->replicas.topic, sizeof o->replicas.topic, "%.*s", (int)t->name.len, (const char *)t->name.ptr);
            o->replicas.partition = rp->partition_index;
            o->replicas.replica_count = rp->replicas_count < RP_REPLICAS_MAX ? rp->replicas_count : RP_REPLICAS_MAX;
            memcpy(o->replicas.replicas, rp->replicas, (size_t)o->replicas.replica_count * sizeof(int32_t));
            o->adding_count = rp->adding_replicas_count < RP_REPLICAS_MAX ? rp->adding_replicas_count : RP_REPLICAS_MAX;
            memcpy(o->adding, rp->adding_replicas, (size_t)o->adding_count * sizeof(int32_t));
            o->removing_count =
                rp->removing_replicas_count < RP_REPLICAS_MAX ? rp->removing_replicas_count : RP_REPLICAS_MAX;
            memcpy(o->removing, rp->removing_replicas, (size_t)o->removing_count * sizeof(int32_t));
        }
    }
    qsort(*out, (size_t)*count, sizeof **out, rp_part_cmp); /* replicas is the first member */
    return 0;
}

static const struct rp_ongoing *rp_ongoing_find(const struct rp_ongoing *o, int32_t n, const struct rp_part *p)
{
    for (int32_t i = 0; i < n; i++)
        if (rp_part_cmp(&o[i].replicas, p) == 0)
            return &o[i];
    return NULL;
}

/* rp_alter - AlterPartitionReassignments for parts (cancel: replicas null);
 * per-partition errors are printed in Kafka's "t-0: message" lines after
 * header.  Retries partitions answered NOT_CONTROLLER. */
static int rp_alter(struct rp *r, const struct rp_part *parts, int32_t n, bool cancel, const char *header)
{
    int16_t *errs = arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *errs);
    char **msgs = arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *msgs);
    bool *todo = arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *todo);
    if (!errs || !msgs || !todo)
        return ERR_LIMIT;
    for (int32_t i = 0; i < n; i++)
        todo[i] = true;
    for (int attempt = 0; attempt < RP_RETRIES; attempt++) {
        struct kmsg_alter_partition_reassignments_req req;
        kmsg_alter_partition_reassignments_req_init(&req);
        req.topics = arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *req.topics);
        struct kmsg_alter_partition_reassignments_req_partition *ps =
            arena_alloc_array(&r->a, (size_t)(n ? n : 1), sizeof *ps);
        if (!req.topics || !ps)
            return ERR_LIMIT;
        req.topics_count = 0;
        for (int32_t i = 0; i < n; i++) {
            if (!todo[i])
                continue;
            struct kmsg_alter_partition_reassignments_req_topic *t = &req.topics[req.topics_count++];
            kmsg_alter_partition_reassignments_req_topic_init(t);
            kmsg_alter_partition_reassignments_req_partition_init(&ps[i]);
            t->name = bytes_cstr(parts[i].topic);
            ps[i].partition_index = parts[i].partition;
            ps[i].replicas = cancel ? NULL : (int32_t *)parts[i].replicas;
            ps[i].replicas_count = cancel ? -1 : parts[i].replica_count;
            t->partitions = &ps[i];
            t->partitions_count = 1;
        }
        if (req.topics_count == 0)
            break;
        struct kmsg_alter_partition_reassignments_resp resp;
        int rc;
        KCLIENT_CALL(rc, &r->kc, alter_partition_reassignments, KMSG_API_ALTER_PARTITION_REASSIGNMENTS, 0, &req,
                     &r->a, &resp);
        if (rc < 0)
            return rc;
        bool retry = false;
        for (int32_t i = 0; i < resp.responses_count; i++) {
            const struct kmsg_alter_partition_reassignments_resp_topic *t = &resp.responses[i];
            for (int32_t p = 0; p < t->partitions_count; p++) {
                const struct kmsg_alter_partition_reassignments_resp_partition *rp = &t->partitions[p];
                for (int32_t k = 0; k < n; k++) {
                    if (!todo[k] || parts[k].partition != rp->partition_index || t->name.len != strlen(parts[k].topic) ||
                        memcmp(t->name.ptr, parts[k].topic, t->name.len) != 0)
                        continue;
                    int16_t code = resp.error_code ? resp.error_code : rp->error_code;
                    struct bytes m = resp.error_code ? resp.error_message : rp->error_message;
                    if (code == 41 /* NOT_CONTROLLER: the controller is busy or moving */) {
                        retry = true;
                        continue;
                    }
                    todo[k] = false;
                    errs[k] = code;
                    msgs[k] = m.ptr ? arena_alloc(&r->a, m.len + 1) : NULL;
                    if (msgs[k]) {
                        memcpy(msgs[k], m.ptr, m.len);
                        msgs[k][m.len] = '\0';
                    }
                }
            }
        }
        if (!retry)
            break;
        rp_sleep_ms(200);
    }
    int failed = 0;
    for (int32_t i = 0; i < n; i++)
        if (todo[i] || errs[i] != 0) {
            if (failed++ == 0)
                printf("%s\n", header);
            printf("%s-%d: %s\n", parts[i].topic, parts[i].partition,
                   todo[i] ? "The controller did not answer; retry." : msgs[i] ? msgs[i] : "error");
        }
    return failed ? ERR_INVALID : 0;
}

/* rp_configs - one IncrementalAlterConfigs resource: set (value != NULL) or
 * delete each of names. */
static int rp_configs(struct rp *r, int8_t type, const char *name, const char *const *keys, const char *const *values,
                      int nkeys)
{
    struct kmsg_incremental_alter_configs_req req;
    kmsg_incremental_alter_configs_req_init(&req);
    struct kmsg_incremental_alter_configs_req_resource res;
    struct kmsg_incremental_alter_configs_req_config cfg[4];
    kmsg_incremental_alter_configs_req_resource_init(&res);
    res.resource_type = type;
    res.resource_name = bytes_cstr(name);
    for (int i = 0; i < nkeys; i++) {
        kmsg_incremental_alter_configs_req_config_init(&cfg[i]);
        cfg[i].name = bytes_cstr(keys[i]);
        cfg[i].config_operation = values[i] ? 0 : 1; /* SET : DELETE */
        cfg[i].value = values[i] ? bytes_cstr(values[i]) : (struct bytes){ NULL, 0 };
    }
    res.configs = cfg;
    res.configs_count = nkeys;
    req.resources = &res;
    req.resources_count = 1;
    struct kmsg_incremental_alter_configs_resp resp;
    int rc = 0;
    for (int attempt = 0; attempt < RP_RETRIES; attempt++) {
        KCLIENT_CALL(rc, &r->kc, incremental_alter_configs, KMSG_API_INCREMENTAL_ALTER_CONFIGS, 0, &req, &r->a,
                     &resp);
        if (rc < 0 || resp.responses_count < 1 || resp.responses[0].error_code != 41)
            break;
        rp_sleep_ms(200);
    }
    if (rc == 0 && resp.responses_count > 0 && resp.responses[0].error_code != 0) {
        printf("Error: setting %s configs of %s failed: %.*s\n", type == 2 ? "topic" : "broker", name,
               (int)resp.responses[0].error_message.len,
               resp.responses[0].error_message.ptr ? (const char *)resp.responses[0].error_message.ptr : "");
        return ERR_INVALID;
    }
    return rc;
}

static const char *const rp_broker_throttles[] = { "leader.replication.throttled.rate",
                                                   "follower.replication.throttled.rate",
                                                   "replica.alter.log.dirs.io.max.bytes.per.second" };
static const char *const rp_topic_throttles[] = { "leader.replication.throttled.replicas",
                                                  "follower.replication.throttled.replicas" };

static bool rp_id_in(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void rp_id_add(int32_t *ids, int32_t *n, int32_t max, int32_t id)
{
    if (!rp_id_in(ids, *n, id) && *n < max)
        ids[(*n)++] = id;
}

static int rp_int_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* rp_throttle_set - Kafka's modifyReassignmentThrottle: the topics' leader
 * throttle on the current replicas and follower throttle on the adding
 * ones of every moving partition, the rate on every broker involved. */
static int rp_throttle_set(struct rp *r, const struct rp_part *target, const struct rp_part *cur, int32_t n,
                           long long rate)
{
    int32_t brokers[RP_BROKERS_MAX];
    int32_t nb = 0;
    for (int32_t i = 0; i < n;) {
        int32_t j = i;
        char leader[8192] = "", follower[8192] = "";
        size_t ll = 0, fl = 0;
        for (; j < n && strcmp(target[j].topic, target[i].topic) == 0; j++) {
            bool moving = cur[j].replica_count != target[j].replica_count ||
                          memcmp(cur[j].replicas, target[j].replicas, (size_t)cur[j].replica_count * sizeof(int32_t));
            if (!moving)
                continue;
            for (int32_t k = 0; k < cur[j].replica_count; k++) {
                ll += (size_t)snprintf(leader + ll, ll < sizeof leader ? sizeof leader - ll : 0, "%s%d:%d",
                                       ll ? "," : "", target[j].partition, cur[j].replicas[k]);
                rp_id_add(brokers, &nb, RP_BROKERS_MAX, cur[j].replicas[k]);
            }
            for (int32_t k = 0; k < target[j].replica_count; k++) {
                rp_id_add(brokers, &nb, RP_BROKERS_MAX, target[j].replicas[k]);
                if (rp_id_in(cur[j].replicas, cur[j].replica_count, target[j].replicas[k]))
                    continue;
                fl += (size_t)snprintf(follower + fl, fl < sizeof follower ? sizeof follower - fl : 0, "%s%d:%d",
                                       fl ? "," : "", target[j].partition, target[j].replicas[k]);
            }
        }
        if (ll >= sizeof leader || fl >= sizeof follower) {
            printf("Error: too many moving replicas of topic %s for its throttled-replicas configs\n", target[i].topic);
            return ERR_LIMIT;
        }
        if (ll > 0) {
            const char *values[2] = { leader, fl ? follower : NULL };
            int rc = rp_configs(r, 2, target[i].topic, rp_topic_throttles, values, fl ? 2 : 1);
            if (rc < 0)
                return rc;
        }
        i = j;
    }
    qsort(brokers, (size_t)nb, sizeof *brokers, rp_int_cmp);
    char value[32];
    snprintf(value, sizeof value, "%lld", rate);
    const char *values[2] = { value, value };
    for (int32_t i = 0; i < nb; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", brokers[i]);
        int rc = rp_configs(r, 4, id, rp_broker_throttles, values, 2);
        if (rc < 0)
            return rc;
    }
    printf("The inter-broker throttle limit was set to %lld B/s\n", rate);
    return 0;
}

/* rp_throttles_clear - Kafka's clearAllThrottles: every live broker plus
 * the targets' brokers, and the targets' topics. */
static int rp_throttles_clear(struct rp *r, const struct rp_part *target, int32_t n)
{
    int32_t brokers[RP_BROKERS_MAX];
    int32_t nb = 0;
    for (int32_t i = 0; i < r->md.brokers_count; i++)
        rp_id_add(brokers, &nb, RP_BROKERS_MAX, r->md.brokers[i].node_id);
    for (int32_t i = 0; i < n; i++)
        for (int32_t k = 0; k < target[i].replica_count; k++)
            rp_id_add(brokers, &nb, RP_BROKERS_MAX, target[i].replicas[k]);
    qsort(brokers, (size_t)nb, sizeof *brokers, rp_int_cmp);
    printf("Clearing broker-level throttles on broker%s ", nb == 1 ? "" : "s");
    rp_print_ids(brokers, nb);
    printf("\n");
    const char *none[3] = { NULL, NULL, NULL };
    for (int32_t i = 0; i < nb; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", brokers[i]);
        int rc = rp_configs(r, 4, id, rp_broker_throttles, none, 3);
        if (rc < 0)
            return rc;
    }
    int topics = 0;
    for (int32_t i = 0; i < n; i++)
        topics += i == 0 || strcmp(target[i].topic, target[i - 1].topic) != 0;
    printf("Clearing topic-level throttles on topic%s ", topics == 1 ? "" : "s");
    for (int32_t i = 0, k = 0; i < n; i++)
        if (i == 0 || strcmp(target[i].topic, target[i - 1].topic) != 0)
            printf("%s%s", k++ ? "," : "", target[i].topic);
    printf("\n");
    for (int32_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(target[i].topic, target[i - 1].topic) == 0)
            continue;
        int rc = rp_configs(r, 2, target[i].topic, rp_topic_throttles, none, 2);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- actions ---- */

static int rp_execute(struct rp *r, const struct rp_part *target, int32_t n, bool additional, long long throttle)
{
    struct rp_ongoing *ongoing = NULL;
    int32_t ongoing_count = 0;
    int rc = rp_list(r, NULL, 0, &ongoing, &ongoing_count);
    if (rc < 0)
        return rc;
    if (!additional && ongoing_count > 0) {
        printf("Cannot execute because there is an existing partition assignment.  Use --additional to override "
               "this and create a new partition assignment in addition to the existing one. The --additional flag "
               "can also be used to change the throttle by resubmitting the current reassignment.\n");
        return ERR_INVALID;
    }
    for (int32_t i = 0; i < n; i++)
        for (int32_t k = 0; k < target[i].replica_count; k++)
            if (!rp_broker_known(r, target[i].replicas[k])) {
                printf("Error: org.apache.kafka.common.errors.InvalidBrokerIdException: Unknown broker id %d\n",
                       target[i].replicas[k]);
                return ERR_INVALID;
            }
    struct rp_part *cur = calloc((size_t)(n ? n : 1), sizeof *cur);
    if (!cur)
        return ERR_LIMIT;
    rc = rp_current(r, target, n, cur);
    if (rc == 0) {
        printf("Current partition replica assignment\n\n");
        rp_print_json(cur, n);
        printf("\nSave this to use as the --reassignment-json-file option during rollback\n");
        if (throttle >= 0) {
            printf("Warning: You must run --verify periodically, until the reassignment completes, to ensure the "
                   "throttle is removed.\n");
            rc = rp_throttle_set(r, target, cur, n, throttle);
        }
    }
    free(cur);
    if (rc == 0)
        rc = rp_alter(r, target, n, false, "Error reassigning partition(s):");
    if (rc < 0)
        return rc;
    printf("Successfully started partition reassignment%s for ", n == 1 ? "" : "s");
    for (int32_t i = 0; i < n; i++)
        printf("%s%s-%d", i ? "," : "", target[i].topic, target[i].partition);
    printf("\n");
    return 0;
}

static int rp_verify(struct rp *r, const struct rp_part *target, int32_t n, bool preserve_throttles)
{
    struct rp_ongoing *ongoing = NULL;
    int32_t ongoing_count = 0;
    int rc = rp_list(r, NULL, 0, &ongoing, &ongoing_count);
    if (rc < 0)
        return rc;
    struct rp_part *cur = calloc((size_t)(n ? n : 1), sizeof *cur);
    if (!cur)
        return ERR_LIMIT;
    rc = rp_current(r, target, n, cur);
    if (rc < 0) {
        free(cur);
        return rc;
    }
    /* as Kafka: the throttles stay while any reassignment in the cluster is
     * in progress (it cannot tell which brokers those use) */
    bool moving = ongoing_count > 0;
    printf("Status of partition reassignment:\n");
    for (int32_t i = 0; i < n; i++) {
        if (rp_ongoing_find(ongoing, ongoing_count, &target[i])) {
            printf("Reassignment of partition %s-%d is still in progress.\n", target[i].topic, target[i].partition);
        } else if (cur[i].replica_count == target[i].replica_count &&
                   memcmp(cur[i].replicas, target[i].replicas, (size_t)cur[i].replica_count * sizeof(int32_t)) == 0) {
            printf("Reassignment of partition %s-%d is completed.\n", target[i].topic, target[i].partition);
        } else {
            printf("There is no active reassignment of partition %s-%d, but replica set is ", target[i].topic,
                   target[i].partition);
            rp_print_ids(cur[i].replicas, cur[i].replica_count);
            printf(" rather than ");
            rp_print_ids(target[i].replicas, target[i].replica_count);
            printf(".\n");
        }
    }
    free(cur);
    printf("\n"); /* Kafka's (empty) list of replica moves between log dirs */
    if (!moving && !preserve_throttles)
        rc = rp_throttles_clear(r, target, n);
    return rc;
}

static int rp_cancel(struct rp *r, const struct rp_part *target, int32_t n, bool preserve_throttles)
{
    struct rp_ongoing *ongoing = NULL;
    int32_t ongoing_count = 0;
    int rc = rp_list(r, target, n, &ongoing, &ongoing_count);
    if (rc < 0)
        return rc;
    struct rp_part *active = calloc((size_t)(n ? n : 1), sizeof *active);
    if (!active)
        return ERR_LIMIT;
    int32_t na = 0;
    for (int32_t i = 0; i < n; i++) {
        const struct rp_ongoing *o = rp_ongoing_find(ongoing, ongoing_count, &target[i]);
        if (o && (o->adding_count > 0 || o->removing_count > 0))
            active[na++] = target[i];
    }
    if (na > 0) {
        rc = rp_alter(r, active, na, true, na == 1 ? "Error cancelling partition reassignment for:"
                                                   : "Error cancelling partition reassignments for:");
        if (rc == 0) {
            printf("Successfully cancelled partition reassignment%s for: ", na == 1 ? "" : "s");
            for (int32_t i = 0; i < na; i++)
                printf("%s%s-%d", i ? "," : "", active[i].topic, active[i].partition);
            printf("\n");
        }
    } else {
        printf("None of the specified partition reassignments are active.\n");
    }
    if (rc == 0) /* replicas never move between one broker's log dirs here */
        printf("None of the specified partition moves are active.\n");
    free(active);
    if (rc == 0 && !preserve_throttles)
        rc = rp_throttles_clear(r, target, n);
    return rc;
}

static int rp_list_action(struct rp *r)
{
    struct rp_ongoing *ongoing = NULL;
    int32_t n = 0;
    int rc = rp_list(r, NULL, 0, &ongoing, &n);
    if (rc < 0)
        return rc;
    if (n == 0) {
        printf("No partition reassignments found.\n");
        return 0;
    }
    printf("Current partition reassignments:\n");
    for (int32_t i = 0; i < n; i++) {
        printf("%s-%d: replicas: ", ongoing[i].replicas.topic, ongoing[i].replicas.partition);
        rp_print_ids(ongoing[i].replicas.replicas, ongoing[i].replicas.replica_count);
        printf(".");
        if (ongoing[i].adding_count) {
            printf(" adding: ");
            rp_print_ids(ongoing[i].adding, ongoing[i].adding_count);
            printf(".");
        }
        if (ongoing[i].removing_count) {
            printf(" removing: ");
            rp_print_ids(ongoing[i].removing, ongoing[i].removing_count);
            printf(".");
        }
        printf("\n");
    }
    return 0;
}

/* rp_assign - Kafka's rack-unaware replica placement
 * (AdminUtils.assignReplicasToBrokersRackUnaware) with its random start. */
static void rp_assign(const int32_t *brokers, int32_t nb, int32_t partitions, int32_t rf, uint32_t start,
                      uint32_t shift0, struct rp_part *out)
{
    uint32_t shift = shift0;
    for (int32_t p = 0; p < partitions; p++) {
        if (p > 0 && p % nb == 0)
            shift++;
        uint32_t first = ((uint32_t)p + start) % (uint32_t)nb;
        out[p].partition = p;
        out[p].replica_count = rf;
        out[p].replicas[0] = brokers[first];
        for (int32_t j = 0; j < rf - 1; j++) {
            uint32_t s = 1 + (shift + (uint32_t)j) % (uint32_t)(nb - 1);
            out[p].replicas[j + 1] = brokers[(first + s) % (uint32_t)nb];
        }
    }
}

static int rp_generate(struct rp *r, const char *topics_file, const char *broker_list)
{
    size_t len = 0;
    char *text = rp_file_read(topics_file, &len);
    if (!text)
        return ERR_INVALID;
    static char topics[RP_TOPICS_MAX][256];
    int nt = 0;
    char err[512];
    int rc = rp_parse_topics(text, len, topics, &nt, err, sizeof err);
    free(text);
    if (rc < 0) {
        printf("Error: %s\n", err);
        return rc;
    }
    int32_t brokers[RP_BROKERS_MAX];
    int32_t nb = 0;
    char list[4096];
    snprintf(list, sizeof list, "%s", broker_list);
    for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int id;
        if (tool_int_parse(w, 0, INT32_MAX, &id) < 0) {
            printf("Error: --broker-list must be broker ids like 0,1,2; got \"%s\"\n", w);
            return ERR_INVALID;
        }
        if (rp_id_in(brokers, nb, id)) {
            printf("Error: Duplicate broker ID in --broker-list: %d\n", id);
            return ERR_INVALID;
        }
        if (!rp_broker_known(r, id)) {
            printf("Error: org.apache.kafka.common.errors.InvalidBrokerIdException: Unknown broker id %d\n", id);
            return ERR_INVALID;
        }
        if (nb < RP_BROKERS_MAX)
            brokers[nb++] = id;
    }
    if (nb == 0) {
        printf("Error: --broker-list is empty\n");
        return ERR_INVALID;
    }
    qsort(brokers, (size_t)nb, sizeof *brokers, rp_int_cmp);
    struct rp_part *cur = calloc(RP_PARTS_MAX, sizeof *cur), *proposed = calloc(RP_PARTS_MAX, sizeof *proposed);
    int32_t n = 0;
    rc = cur && proposed ? 0 : ERR_LIMIT;
    uint32_t start = (uint32_t)rand(), shift = (uint32_t)rand();
    for (int i = 0; i < nt && rc == 0; i++) {
        const struct kmsg_metadata_resp_topic *t = NULL;
        for (int32_t k = 0; k < r->md.topics_count && !t; k++)
            if (r->md.topics[k].error_code == 0 && r->md.topics[k].name.len == strlen(topics[i]) &&
                memcmp(r->md.topics[k].name.ptr, topics[i], r->md.topics[k].name.len) == 0)
                t = &r->md.topics[k];
        if (!t) {
            printf("Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic %s not found\n",
                   topics[i]);
            rc = ERR_NOT_FOUND;
            break;
        }
        int32_t parts = t->partitions_count;
        int32_t rf = parts > 0 ? t->partitions[0].replica_nodes_count : 0;
        if (n + parts > RP_PARTS_MAX || rf > RP_REPLICAS_MAX) {
            rc = ERR_LIMIT;
            break;
        }
        if (rf > nb) {
            printf("Error: org.apache.kafka.common.errors.InvalidReplicationFactorException: Replication factor: %d "
                   "larger than available brokers: %d.\n", rf, nb);
            rc = ERR_INVALID;
            break;
        }
        for (int32_t p = 0; p < parts; p++) {
            const struct kmsg_metadata_resp_partition *mp = &t->partitions[p];
            struct rp_part *c = &cur[n + p];
            snprintf(c->topic, sizeof c->topic, "%s", topics[i]);
            c->partition = mp->partition_index;
            c->replica_count = mp->replica_nodes_count < RP_REPLICAS_MAX ? mp->replica_nodes_count : RP_REPLICAS_MAX;
            memcpy(c->replicas, mp->replica_nodes, (size_t)c->replica_count * sizeof(int32_t));
        }
        rp_assign(brokers, nb, parts, rf, start % (uint32_t)nb, shift % (uint32_t)nb, &proposed[n]);
        for (int32_t p = 0; p < parts; p++)
            snprintf(proposed[n + p].topic, sizeof proposed[n + p].topic, "%s", topics[i]);
        n += parts;
    }
    if (rc == 0) {
        qsort(cur, (size_t)n, sizeof *cur, rp_part_cmp);
        qsort(proposed, (size_t)n, sizeof *proposed, rp_part_cmp);
        printf("Current partition replica assignment\n");
        rp_print_json(cur, n);
        printf("\nProposed partition reassignment configuration\n");
        rp_print_json(proposed, n);
    }
    free(cur);
    free(proposed);
    return rc;
}

int tool_reassign_partitions_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, rp_opts, RP_OPT_COUNT, &o, rp_usage, &exit_code))
        return exit_code;
    int actions = o.given[RP_GENERATE] + o.given[RP_EXECUTE] + o.given[RP_VERIFY] + o.given[RP_CANCEL] +
                  o.given[RP_LIST];
    if (actions != 1)
        return tool_usage_error("Command must include exactly one action: --generate, --execute, --verify, "
                                "--cancel, or --list", rp_usage);
    if (!o.val[RP_BOOTSTRAP])
        return tool_usage_error("Please specify --bootstrap-server", rp_usage);
    bool needs_file = o.given[RP_EXECUTE] || o.given[RP_VERIFY] || o.given[RP_CANCEL];
    if (needs_file && !o.val[RP_REASSIGNMENT_JSON])
        return tool_usage_error("Missing required argument \"[reassignment-json-file]\"", rp_usage);
    if (o.given[RP_GENERATE] && (!o.val[RP_TOPICS_JSON] || !o.val[RP_BROKER_LIST]))
        return tool_usage_error(!o.val[RP_TOPICS_JSON] ? "Missing required argument \"[topics-to-move-json-file]\""
                                                       : "Missing required argument \"[broker-list]\"",
                                rp_usage);
    long long throttle = -1;
    if (o.val[RP_THROTTLE]) {
        char *end = NULL;
        errno = 0;
        throttle = strtoll(o.val[RP_THROTTLE], &end, 10);
        if (errno || !end || *end || end == o.val[RP_THROTTLE])
            return tool_usage_error("Option throttle: the value must be a whole number of bytes per second",
                                    rp_usage);
        if (!o.given[RP_EXECUTE])
            return tool_usage_error("Option \"[throttle]\" can't be used with this action", rp_usage);
    }
    if (o.val[RP_LOG_DIR_THROTTLE]) {
        printf("Error: --replica-alter-log-dirs-throttle is not supported: replicas never move between the log dirs "
               "of one broker\n");
        return 1;
    }
    if (o.val[RP_COMMAND_CONFIG] && tool_props_plaintext_only(o.val[RP_COMMAND_CONFIG], "--command-config", "reassign-partitions"))
        return 1;
    struct rp_part *target = NULL;
    int32_t n = 0;
    if (needs_file) {
        size_t len = 0;
        char *text = rp_file_read(o.val[RP_REASSIGNMENT_JSON], &len);
        if (!text)
            return 1;
        target = calloc(RP_PARTS_MAX, sizeof *target);
        char err[512];
        int rc = target ? rp_parse_reassignment(text, len, target, &n, err, sizeof err) : ERR_LIMIT;
        free(text);
        if (rc < 0) {
            printf("Error: %s\n", target ? err : "out of memory");
            free(target);
            return 1;
        }
    }
    struct rp r = { 0 };
    int rc = kclient_connect(&r.kc, o.val[RP_BOOTSTRAP], RP_TIMEOUT_MS);
    if (rc < 0) {
        printf("Error: cannot connect to %s: %s\n", o.val[RP_BOOTSTRAP], err_str(rc));
        free(target);
        return 1;
    }
    arena_init(&r.a, 1 << 16, 1u << 30);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    rc = rp_metadata(&r);
    if (rc < 0)
        printf("Error: Metadata from %s failed: %s\n", r.kc.server, err_str(rc));
    else if (o.given[RP_GENERATE])
        rc = rp_generate(&r, o.val[RP_TOPICS_JSON], o.val[RP_BROKER_LIST]);
    else if (o.given[RP_EXECUTE])
        rc = rp_execute(&r, target, n, o.given[RP_ADDITIONAL], throttle);
    else if (o.given[RP_VERIFY])
        rc = rp_verify(&r, target, n, o.given[RP_PRESERVE_THROTTLES]);
    else if (o.given[RP_CANCEL])
        rc = rp_cancel(&r, target, n, o.given[RP_PRESERVE_THROTTLES]);
    else
        rc = rp_list_action(&r);
    if (rc < 0 && rc != ERR_INVALID && rc != ERR_NOT_FOUND)
        printf("Error: %s (via %s)\n", err_str(rc), r.kc.server);
    arena_deinit(&r.a);
    kclient_close(&r.kc);
    free(target);
    return rc < 0 ? 1 : 0;
}
