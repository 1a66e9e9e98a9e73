/*
 * topics.c - `samsa topics`: create, list, describe, alter (add partitions)
 * and delete topics like Kafka 3.x's kafka-topics.sh, on librdkafka's admin
 * API (Metadata, CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs).
 *
 * Kafka compatibility, on purpose:
 *  - --topic is an include-list regex for everything but --create, so
 *    `--describe --topic a.b` also shows "a-b" (as kafka-topics does);
 *  - results are sorted by topic name, partitions by id;
 *  - "Error while executing topic command : ..." goes to stdout, usage
 *    errors to stderr, and every error exits 1;
 *  - --describe's "Configs:" lists the entries DescribeConfigs does not
 *    mark as default (topic overrides and broker-set synonyms), in the
 *    broker's order, as TopicCommand does;
 *  - --alter and --delete print nothing on success (Kafka 3.x neither).
 *
 * KIP-966 (Kafka 3.7+): each partition line ends in "Elr:" and
 * "LastKnownElr:" from DescribeTopicPartitions when the broker serves it.
 *
 * Not here: the TopicId field (librdkafka 2.0.2 speaks Metadata v4 and the
 * broker serves no topic ids, so it is omitted as Kafka does for a zero id),
 * --topic-id, and altering configs (that is `samsa configs`).
 */
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/log.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"

#define TOPICS_CONFIGS_MAX 64
#define TOPICS_CONFIG_TEXT_MAX 8192
#define TOPICS_ASSIGN_IDS_MAX 65536 /* partitions x replicas in one --replica-assignment */

enum topics_action {
    TOPICS_NONE,
    TOPICS_CREATE,
    TOPICS_LIST,
    TOPICS_DESCRIBE,
    TOPICS_ALTER,
    TOPICS_DELETE,
};

static const char *const topics_action_names[] = { "", "create", "list", "describe", "alter", "delete" };

struct topics_args {
    const char *bootstrap;
    const char *command_config;
    const char *topic;
    enum topics_action action;
    int action_count;
    int partitions;         /* -1: not given */
    int replication_factor; /* -1: not given */
    const char *replica_assignment; /* "b:b,b:b": one colon list per partition */
    const char *configs[TOPICS_CONFIGS_MAX];
    size_t config_count;
    bool if_not_exists;
    bool if_exists;
    bool exclude_internal;
    bool with_overrides;
    bool under_replicated;
    bool unavailable;
    bool under_min_isr;
    bool at_min_isr;
    int partition_limit;    /* --partition-size-limit-per-response; 2000 (Kafka's) if not given */
    bool help;
};

static void topics_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to create, delete, describe, or change a topic.\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--alter                                  Alter the number of partitions of the topic.\n"
            "--bootstrap-server <host:port>           REQUIRED: The Kafka server to connect to.\n"
            "--command-config <file>                  Property file with client settings (passed to\n"
            "                                           librdkafka; default.api.timeout.ms sets the\n"
            "                                           deadline of each call).\n"
            "--config <name=value>                    A topic configuration override for the topic\n"
            "                                           being created (repeatable).\n"
            "--create                                 Create a new topic.\n"
            "--delete                                 Delete a topic.\n"
            "--describe                               List details for the given topics.\n"
            "--exclude-internal                       Exclude internal topics when running list or\n"
            "                                           describe command.\n"
            "--help                                   Print usage information.\n"
            "--if-exists                              When altering, deleting or describing topics, only\n"
            "                                           act if the topic exists.\n"
            "--if-not-exists                          When creating a topic, only act if the topic does\n"
            "                                           not already exist.\n"
            "--list                                   List all available topics.\n"
            "--partition-size-limit-per-response <Integer: maximum number of partitions per response>\n"
            "                                         The maximum partition size to be included in one\n"
            "                                           DescribeTopicPartitions response.\n"
            "--partitions <Integer: # of partitions>  The number of partitions for the topic being\n"
            "                                           created or altered (the broker's\n"
            "                                           num.partitions if not given on create).\n"
            "--replica-assignment <broker_id_for_part1_replica1:broker_id_for_part1_replica2,\n"
            "                       broker_id_for_part2_replica1:broker_id_for_part2_replica2, ...>\n"
            "                                         A list of manual partition-to-broker assignments for\n"
            "                                           the topic being created or altered.\n"
            "--replication-factor <Integer>           The replication factor for each partition (the\n"
            "                                           broker's default.replication.factor if not given).\n"
            "--topic <String: topic>                  The topic to create, alter, describe or delete. Except\n"
            "                                           for --create it is a regular expression; ',' means '|'.\n"
            "--topics-with-overrides                  If set when describing topics, only show topics that\n"
            "                                           have overridden configs.\n"
            "--under-min-isr-partitions               If set when describing topics, only show partitions\n"
            "                                           whose isr count is less than the configured minimum.\n"
            "--at-min-isr-partitions                  If set when describing topics, only show partitions\n"
            "                                           whose isr count is equal to the configured minimum.\n"
            "--unavailable-partitions                 If set when describing topics, only show partitions\n"
            "                                           whose leader is not available.\n"
            "--under-replicated-partitions            If set when describing topics, only show under\n"
            "                                           replicated partitions.\n");
}

/* Kafka's printUsageAndDie: the reason, then the options, on stderr. */
static int topics_usage_error(const char *msg)
{
    return tool_usage_error(msg, topics_usage);
}

/* A failure of the command itself (Kafka prints these on stdout). */
static int topics_fail(const char *msg)
{
    printf("Error while executing topic command : %s\n", msg);
    fflush(stdout);
    return 1;
}

static int topics_set_action(struct topics_args *a, enum topics_action act)
{
    a->action = act;
    a->action_count++;
    return 1;
}

/* Returns 0 to go on, or the exit code after printing why. */
static int topics_args_parse(int argc, char **argv, struct topics_args *a)
{
    memset(a, 0, sizeof *a);
    a->partitions = -1;
    a->replication_factor = -1;
    a->partition_limit = 2000;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *partitions = NULL;
        const char *rf = NULL;
        const char *limit = NULL;
        int m;
        if ((m = tool_opt(argc, argv, &i, "--bootstrap-server", true, &a->bootstrap)) ||
            (m = tool_opt(argc, argv, &i, "--command-config", true, &a->command_config)) ||
            (m = tool_opt(argc, argv, &i, "--topic", true, &a->topic)) ||
            (m = tool_opt(argc, argv, &i, "--replica-assignment", true, &a->replica_assignment)) ||
            (m = tool_opt(argc, argv, &i, "--partitions", true, &partitions)) ||
            (m = tool_opt(argc, argv, &i, "--replication-factor", true, &rf)) ||
            (m = tool_opt(argc, argv, &i, "--partition-size-limit-per-response", true, &limit))) {
            if (m < 0)
                return 1;
            if (limit && tool_int_parse(limit, -2147483647L - 1, 2147483647L, &a->partition_limit) < 0) {
                fprintf(stderr, "Cannot parse argument '%s' of option partition-size-limit-per-response\n", limit);
                return 1;
            }
            if (partitions && tool_int_parse(partitions, -2147483647L - 1, 2147483647L, &a->partitions) < 0) {
                fprintf(stderr, "Cannot parse argument '%s' of option partitions\n", partitions);
                return 1;
            }
            if (rf && tool_int_parse(rf, -2147483647L - 1, 2147483647L, &a->replication_factor) < 0) {
                fprintf(stderr, "Cannot parse argument '%s' of option replication-factor\n", rf);
                return 1;
            }
            if (partitions && a->partitions == -1)
                a->partitions = -2; /* "given as -1": invalid, not "absent" */
            if (rf && a->replication_factor == -1)
                a->replication_factor = -2;
            continue;
        }
        if ((m = tool_opt(argc, argv, &i, "--config", true, &v)) != 0) {
            if (m < 0)
                return 1;
            if (a->config_count == TOPICS_CONFIGS_MAX) {
                fprintf(stderr, "Too many --config options (at most %d)\n", TOPICS_CONFIGS_MAX);
                return 1;
            }
            a->configs[a->config_count++] = v;
            continue;
        }
        if (tool_opt(argc, argv, &i, "--create", false, NULL))
            topics_set_action(a, TOPICS_CREATE);
        else if (tool_opt(argc, argv, &i, "--list", false, NULL))
            topics_set_action(a, TOPICS_LIST);
        else if (tool_opt(argc, argv, &i, "--describe", false, NULL))
            topics_set_action(a, TOPICS_DESCRIBE);
        else if (tool_opt(argc, argv, &i, "--alter", false, NULL))
            topics_set_action(a, TOPICS_ALTER);
        else if (tool_opt(argc, argv, &i, "--delete", false, NULL))
            topics_set_action(a, TOPICS_DELETE);
        else if (tool_opt(argc, argv, &i, "--if-not-exists", false, NULL))
            a->if_not_exists = true;
        else if (tool_opt(argc, argv, &i, "--if-exists", false, NULL))
            a->if_exists = true;
        else if (tool_opt(argc, argv, &i, "--exclude-internal", false, NULL))
            a->exclude_internal = true;
        else if (tool_opt(argc, argv, &i, "--topics-with-overrides", false, NULL))
            a->with_overrides = true;
        else if (tool_opt(argc, argv, &i, "--under-replicated-partitions", false, NULL))
            a->under_replicated = true;
        else if (tool_opt(argc, argv, &i, "--unavailable-partitions", false, NULL))
            a->unavailable = true;
        else if (tool_opt(argc, argv, &i, "--under-min-isr-partitions", false, NULL))
            a->under_min_isr = true;
        else if (tool_opt(argc, argv, &i, "--at-min-isr-partitions", false, NULL))
            a->at_min_isr = true;
        else if (tool_opt(argc, argv, &i, "--help", false, NULL) || strcmp(argv[i], "-h") == 0)
            a->help = true;
        else {
            const char *name = argv[i];
            while (*name == '-')
                name++;
            fprintf(stderr, "%s is not a recognized option\n", name);
            return 1;
        }
    }
    return 0;
}

/* kafka-topics' checkInvalidArgs: an option used with an action it does not apply to. */
static int topics_args_check(const struct topics_args *a)
{
    if (a->action_count != 1)
        return topics_usage_error("Command must include exactly one action: --list, --describe, --create, --alter "
                                  "or --delete");
    if (!a->bootstrap) {
        fprintf(stderr, "--bootstrap-server must be specified\n");
        return 1;
    }
    const struct {
        bool used;
        const char *name;
        unsigned allowed; /* bit per enum topics_action */
    } opts[] = {
        { a->config_count > 0, "config", 1u << TOPICS_CREATE },
        { a->partitions != -1, "partitions", 1u << TOPICS_CREATE | 1u << TOPICS_ALTER },
        { a->replication_factor != -1, "replication-factor", 1u << TOPICS_CREATE },
        { a->replica_assignment != NULL, "replica-assignment", 1u << TOPICS_CREATE | 1u << TOPICS_ALTER },
        { a->if_not_exists, "if-not-exists", 1u << TOPICS_CREATE },
        { a->if_exists, "if-exists", 1u << TOPICS_ALTER | 1u << TOPICS_DELETE | 1u << TOPICS_DESCRIBE },
        { a->exclude_internal, "exclude-internal", 1u << TOPICS_LIST | 1u << TOPICS_DESCRIBE },
        { a->with_overrides, "topics-with-overrides", 1u << TOPICS_DESCRIBE },
        { a->under_replicated, "under-replicated-partitions", 1u << TOPICS_DESCRIBE },
        { a->unavailable, "unavailable-partitions", 1u << TOPICS_DESCRIBE },
        { a->under_min_isr, "under-min-isr-partitions", 1u << TOPICS_DESCRIBE },
        { a->at_min_isr, "at-min-isr-partitions", 1u << TOPICS_DESCRIBE },
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (!opts[i].used || (opts[i].allowed & (1u << a->action)))
            continue;
        char msg[256];
        if (a->action == TOPICS_ALTER && strcmp(opts[i].name, "config") == 0)
            snprintf(msg, sizeof msg, "Option \"[config]\" can't be used with option \"[alter]\": to alter topic "
                                      "configs use `samsa configs` (kafka-configs.sh).");
        else
            snprintf(msg, sizeof msg, "Option \"[%s]\" can't be used with option \"[%s]\"", opts[i].name,
                     topics_action_names[a->action]);
        return topics_usage_error(msg);
    }
    if ((a->with_overrides + a->under_replicated + a->unavailable + a->under_min_isr + a->at_min_isr) > 1)
        return topics_usage_error("Only one of --topics-with-overrides, --under-replicated-partitions, "
                                  "--unavailable-partitions, --under-min-isr-partitions and "
                                  "--at-min-isr-partitions may be given");
    if (a->action == TOPICS_CREATE && a->replica_assignment && (a->partitions != -1 || a->replication_factor != -1))
        return topics_usage_error(a->partitions != -1
                                      ? "Option \"[replica-assignment]\" can't be used with option \"[partitions]\""
                                      : "Option \"[replica-assignment]\" can't be used with option "
                                        "\"[replication-factor]\"");
    if (!a->topic && (a->action == TOPICS_CREATE || a->action == TOPICS_ALTER || a->action == TOPICS_DELETE))
        return topics_usage_error("Missing required argument \"[topic]\"");
    if (a->action == TOPICS_ALTER && a->partitions == -1)
        return topics_usage_error("Missing required argument \"[partitions]\"");
    return 0;
}

static int topics_cmp_topic(const void *a, const void *b)
{
    const struct rd_kafka_metadata_topic *x = *(const struct rd_kafka_metadata_topic *const *)a;
    const struct rd_kafka_metadata_topic *y = *(const struct rd_kafka_metadata_topic *const *)b;
    return strcmp(x->topic, y->topic);
}

/* The metadata topics the filter selects, sorted by name; *out is malloc'd. */
static int topics_select(const struct rd_kafka_metadata *md, const struct tool_topic_filter *f,
                         const struct rd_kafka_metadata_topic ***out, int *count)
{
    const struct rd_kafka_metadata_topic **sel = calloc((size_t)md->topic_cnt + 1, sizeof *sel);
    if (!sel)
        return ERR_LIMIT;
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            continue;
        if (tool_topic_filter_match(f, t->topic))
            sel[n++] = t;
    }
    qsort(sel, (size_t)n, sizeof *sel, topics_cmp_topic);
    *out = sel;
    *count = n;
    return 0;
}

static int topics_cmp_partition(const void *a, const void *b)
{
    const struct rd_kafka_metadata_partition *x = *(const struct rd_kafka_metadata_partition *const *)a;
    const struct rd_kafka_metadata_partition *y = *(const struct rd_kafka_metadata_partition *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

static void topics_print_ids(const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int)ids[i]);
}

static bool topics_broker_live(const struct rd_kafka_metadata *md, int32_t id)
{
    for (int i = 0; i < md->broker_cnt; i++)
        if (md->brokers[i].id == id)
            return true;
    return false;
}

/*
 * The non-default configs of each selected topic as "k=v,k=v" strings
 * (texts[i] for sel[i], malloc'd, "" when none) and its
 * min.insync.replicas (min_isr[i], -1 if unknown), from one DescribeConfigs.
 */
static int topics_configs_fetch(struct tool_client *c, const struct rd_kafka_metadata_topic **sel, int n,
                                char **texts, int *min_isr, char *err, size_t err_size)
{
    rd_kafka_ConfigResource_t **res = calloc((size_t)n + 1, sizeof *res);
    if (!res)
        return ERR_LIMIT;
    for (int i = 0; i < n; i++)
        res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, sel[i]->topic);
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(c->rk, res, (size_t)n, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy_array(res, (size_t)n);
    free(res);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, err, err_size);
    if (!ev)
        return ERR_TIMEOUT;
    size_t rn = 0;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &rn);
    for (int i = 0; i < n; i++) {
        min_isr[i] = -1;
        texts[i] = calloc(1, TOPICS_CONFIG_TEXT_MAX);
        if (!texts[i]) {
            rd_kafka_event_destroy(ev);
            return ERR_LIMIT;
        }
        for (size_t r = 0; r < rn; r++) {
            if (strcmp(rd_kafka_ConfigResource_name(rr[r]), sel[i]->topic) != 0 ||
                rd_kafka_ConfigResource_error(rr[r]))
                continue;
            size_t en = 0;
            const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(rr[r], &en);
            size_t len = 0;
            for (size_t k = 0; k < en; k++) {
                const char *value = rd_kafka_ConfigEntry_value(e[k]);
                if (value && strcmp(rd_kafka_ConfigEntry_name(e[k]), "min.insync.replicas") == 0 &&
                    tool_int_parse(value, 1, 32767, &min_isr[i]) < 0)
                    min_isr[i] = -1;
                if (rd_kafka_ConfigEntry_is_default(e[k]))
                    continue;
                int w = snprintf(texts[i] + len, TOPICS_CONFIG_TEXT_MAX - len, "%s%s=%s", len ? "," : "",
                                 rd_kafka_ConfigEntry_name(e[k]), value ? value : "null");
                if (w < 0 || (size_t)w >= TOPICS_CONFIG_TEXT_MAX - len)
                    break;
                len += (size_t)w;
            }
            break;
        }
    }
    rd_kafka_event_destroy(ev);
    return 0;
}

/* The reassignments in progress, which TopicCommand shows (Adding/Removing
 * Replicas, and a replication factor without the removing ones):
 * ListPartitionReassignments through tools/kclient, as librdkafka 2.0.2
 * lacks it.  Best effort like Kafka's (which skips it on an old broker):
 * on any failure nothing is shown. */
struct topics_reassigns {
    struct arena a;
    struct kmsg_list_partition_reassignments_resp resp;
    bool ok;
};

static void topics_reassigns_get(const char *bootstrap, struct topics_reassigns *r)
{
    arena_init(&r->a, 1 << 14, 1u << 28);
    r->ok = false;
    struct kclient kc;
    if (kclient_connect(&kc, bootstrap, 5000) < 0)
        return;
    struct kmsg_list_partition_reassignments_req req;
    kmsg_list_partition_reassignments_req_init(&req); /* topics null: all */
    int rc;
    KCLIENT_CALL(rc, &kc, list_partition_reassignments, KMSG_API_LIST_PARTITION_REASSIGNMENTS, 0, &req, &r->a,
                 &r->resp);
    kclient_close(&kc);
    r->ok = rc == 0 && r->resp.error_code == 0;
}

/* topics_reassign_find - t-p's reassignment, when one is in progress (its
 * adding or removing replicas are still among the partition's replicas,
 * TopicCommand's isReassignmentInProgress). */
static const struct kmsg_list_partition_reassignments_resp_partition *
topics_reassign_find(const struct topics_reassigns *r, const char *topic, const struct rd_kafka_metadata_partition *pm)
{
    if (!r->ok)
        return NULL;
    for (int32_t i = 0; i < r->resp.topics_count; i++) {
        const struct kmsg_list_partition_reassignments_resp_topic *t = &r->resp.topics[i];
        if (t->name.len != strlen(topic) || memcmp(t->name.ptr, topic, t->name.len) != 0)
            continue;
        for (int32_t p = 0; p < t->partitions_count; p++) {
            const struct kmsg_list_partition_reassignments_resp_partition *rp = &t->partitions[p];
            if (rp->partition_index != pm->id)
                continue;
            for (int k = 0; k < pm->replica_cnt; k++) {
                for (int32_t j = 0; j < rp->adding_replicas_count; j++)
                    if (rp->adding_replicas[j] == pm->replicas[k])
                        return rp;
                for (int32_t j = 0; j < rp->removing_replicas_count; j++)
                    if (rp->removing_replicas[j] == pm->replicas[k])
                        return rp;
            }
        }
    }
    return NULL;
}

/* KIP-966, as Kafka 3.7+'s TopicCommand: with a broker that serves
 * DescribeTopicPartitions (API 75), each partition line ends in its
 * eligible leader replicas and last known ELR, asked page by page
 * (--partition-size-limit-per-response, the cursor); a broker without it
 * gives "N/A", as TopicCommand prints for the Metadata path's null. */
#define TOPICS_DTP_PAGES_MAX 100000
struct topics_elr {
    struct arena a;
    bool ok;
    int32_t page_count;
    struct kmsg_describe_topic_partitions_resp *pages;
};

static bool topics_broker_serves(struct kclient *kc, struct arena *a, int16_t api_key)
{
    struct kmsg_api_versions_req req;
    kmsg_api_versions_req_init(&req);
    struct kmsg_api_versions_resp resp;
    int rc;
    KCLIENT_CALL(rc, kc, api_versions, KMSG_API_API_VERSIONS, 0, &req, a, &resp);
    if (rc < 0 || resp.error_code != 0)
        return false;
    for (int32_t i = 0; i < resp.api_keys_count; i++)
        if (resp.api_keys[i].api_key == api_key)
            return resp.api_keys[i].min_version <= 0 && resp.api_keys[i].max_version >= 0;
    return false;
}

static void topics_elr_get(const char *bootstrap, int limit, const struct rd_kafka_metadata_topic **sel, int n,
                           struct topics_elr *e)
{
    arena_init(&e->a, 1 << 14, 1u << 30);
    e->ok = false;
    e->page_count = 0;
    e->pages = NULL;
    struct kclient kc;
    if (n == 0 || kclient_connect(&kc, bootstrap, 5000) < 0)
        return;
    struct kmsg_describe_topic_partitions_req req;
    kmsg_describe_topic_partitions_req_init(&req);
    req.response_partition_limit = limit;
    req.topics = arena_alloc_array(&e->a, (size_t)n, sizeof *req.topics);
    int rc = req.topics && topics_broker_serves(&kc, &e->a, KMSG_API_DESCRIBE_TOPIC_PARTITIONS) ? 0 : ERR_UNSUPPORTED;
    for (int i = 0; rc == 0 && i < n; i++) {
        kmsg_describe_topic_partitions_req_topic_request_init(&req.topics[i]);
        req.topics[i].name = bytes_cstr(sel[i]->topic);
    }
    req.topics_count = n;
    while (rc == 0) {
        if (e->page_count % 16 == 0) {
            struct kmsg_describe_topic_partitions_resp *np =
                arena_alloc_array(&e->a, (size_t)e->page_count + 16, sizeof *np);
            if (!np || e->page_count + 16 > TOPICS_DTP_PAGES_MAX) {
                rc = ERR_LIMIT;
                break;
            }
            if (e->page_count)
                memcpy(np, e->pages, (size_t)e->page_count * sizeof *np);
            e->pages = np;
        }
        struct kmsg_describe_topic_partitions_resp *page = &e->pages[e->page_count];
        KCLIENT_CALL(rc, &kc, describe_topic_partitions, KMSG_API_DESCRIBE_TOPIC_PARTITIONS, 0, &req, &e->a, page);
        if (rc < 0)
            break;
        e->page_count++;
        if (page->next_cursor_is_null) {
            e->ok = true;
            break;
        }
        if (!req.cursor_is_null && bytes_eq(req.cursor.topic_name, page->next_cursor.topic_name) &&
            req.cursor.partition_index >= page->next_cursor.partition_index)
            break; /* the cursor did not move: a broker bug; show what we have as N/A */
        req.cursor_is_null = false;
        req.cursor.topic_name = page->next_cursor.topic_name;
        req.cursor.partition_index = page->next_cursor.partition_index;
    }
    kclient_close(&kc);
}

static const struct kmsg_describe_topic_partitions_resp_partition *
topics_elr_find(const struct topics_elr *e, const char *topic, int32_t partition)
{
    if (!e->ok)
        return NULL;
    struct bytes name = bytes_cstr(topic);
    for (int32_t g = 0; g < e->page_count; g++)
        for (int32_t i = 0; i < e->pages[g].topics_count; i++) {
            const struct kmsg_describe_topic_partitions_resp_topic *t = &e->pages[g].topics[i];
            if (t->error_code != 0 || !bytes_eq(t->name, name))
                continue;
            for (int32_t p = 0; p < t->partitions_count; p++)
                if (t->partitions[p].partition_index == partition)
                    return &t->partitions[p];
        }
    return NULL;
}

static void topics_print_elr(const struct kmsg_describe_topic_partitions_resp_partition *rp)
{
    printf("\tElr: ");
    if (rp && rp->eligible_leader_replicas_count >= 0)
        topics_print_ids(rp->eligible_leader_replicas, rp->eligible_leader_replicas_count);
    else
        printf("N/A");
    printf("\tLastKnownElr: ");
    if (rp && rp->last_known_elr_count >= 0)
        topics_print_ids(rp->last_known_elr, rp->last_known_elr_count);
    else
        printf("N/A");
}

static int topics_describe(struct tool_client *c, const struct topics_args *a,
                           const struct rd_kafka_metadata *md, const struct rd_kafka_metadata_topic **sel, int n)
{
    /* as TopicCommand: a partition filter drops the topic lines */
    bool describe_configs = !a->under_replicated && !a->unavailable && !a->under_min_isr && !a->at_min_isr;
    bool describe_partitions = !a->with_overrides;
    bool need_configs = describe_configs || a->under_min_isr || a->at_min_isr;
    char **texts = calloc((size_t)n + 1, sizeof *texts);
    int *min_isr = calloc((size_t)n + 1, sizeof *min_isr);
    if (!texts || !min_isr) {
        free(texts);
        free(min_isr);
        return topics_fail("out of memory");
    }
    char err[TOOL_ERRSTR_MAX];
    if (need_configs && n > 0 && topics_configs_fetch(c, sel, n, texts, min_isr, err, sizeof err) < 0) {
        for (int i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
        free(min_isr);
        return topics_fail(err);
    }
    struct topics_reassigns ra;
    topics_reassigns_get(a->bootstrap, &ra);
    struct topics_elr elr;
    topics_elr_get(a->bootstrap, a->partition_limit, sel, describe_partitions ? n : 0, &elr);
    for (int i = 0; i < n; i++) {
        const struct rd_kafka_metadata_topic *t = sel[i];
        const char *configs = texts[i] ? texts[i] : "";
        if (describe_configs && (!a->with_overrides || configs[0])) {
            int rf = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
            const struct kmsg_list_partition_reassignments_resp_partition *rp =
                t->partition_cnt > 0 ? topics_reassign_find(&ra, t->topic, &t->partitions[0]) : NULL;
            if (rp) /* TopicCommand: the target's size */
                rf = rp->replicas_count - rp->removing_replicas_count;
            printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", t->topic,
                   t->partition_cnt, rf, configs);
        }
        if (!describe_partitions)
            continue;
        const struct rd_kafka_metadata_partition **parts = calloc((size_t)t->partition_cnt + 1, sizeof *parts);
        if (!parts)
            continue;
        for (int p = 0; p < t->partition_cnt; p++)
            parts[p] = &t->partitions[p];
        qsort(parts, (size_t)t->partition_cnt, sizeof *parts, topics_cmp_partition);
        for (int p = 0; p < t->partition_cnt; p++) {
            const struct rd_kafka_metadata_partition *pm = parts[p];
            bool has_leader = pm->leader >= 0;
            if (a->under_replicated && !(pm->isr_cnt < pm->replica_cnt))
                continue;
            if (a->unavailable && has_leader && topics_broker_live(md, pm->leader))
                continue;
            /* Kafka: under min ISR = no leader or isr < min; at min ISR = isr == min */
            if (a->under_min_isr && has_leader && !(min_isr[i] >= 0 && pm->isr_cnt < min_isr[i]))
                continue;
            if (a->at_min_isr && !(min_isr[i] >= 0 && pm->isr_cnt == min_isr[i]))
                continue;
            printf("\tTopic: %s\tPartition: %d\tLeader: ", t->topic, (int)pm->id);
            if (has_leader)
                printf("%d", (int)pm->leader);
            else
                printf("none");
            printf("\tReplicas: ");
            topics_print_ids(pm->replicas, pm->replica_cnt);
            printf("\tIsr: ");
            topics_print_ids(pm->isrs, pm->isr_cnt);
            const struct kmsg_list_partition_reassignments_resp_partition *rp =
                topics_reassign_find(&ra, t->topic, pm);
            if (rp) {
                printf("\tAdding Replicas: ");
                topics_print_ids(rp->adding_replicas, rp->adding_replicas_count);
                printf("\tRemoving Replicas: ");
                topics_print_ids(rp->removing_replicas, rp->removing_replicas_count);
            }
            topics_print_elr(topics_elr_find(&elr, t->topic, pm->id));
            printf("\n");
        }
        free(parts);
    }
    arena_deinit(&ra.a);
    arena_deinit(&elr.a);
    for (int i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(min_isr);
    return 0;
}

/* The first per-topic error of a CreateTopics/DeleteTopics/CreatePartitions result. */
static int topics_result_check(const rd_kafka_topic_result_t **tr, size_t n, bool exists_ok, char *err,
                               size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (!e)
            continue;
        const char *name = rd_kafka_topic_result_name(tr[i]);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            if (exists_ok)
                continue;
            snprintf(err, err_size, "Topic '%s' already exists.", name);
        } else {
            const char *msg = rd_kafka_topic_result_error_string(tr[i]);
            snprintf(err, err_size, "%s", msg && msg[0] ? msg : rd_kafka_err2str(e));
        }
        return ERR_INVALID;
    }
    return 0;
}

/* Kafka's "key=val" rule: exactly one '=' (spaces around it dropped), both sides non-empty. */
static int topics_config_split(const char *kv, char *key, size_t key_size, const char **value)
{
    const char *eq = strchr(kv, '=');
    if (!eq || strchr(eq + 1, '=') || eq == kv)
        return ERR_INVALID;
    size_t klen = (size_t)(eq - kv);
    while (klen > 0 && (kv[klen - 1] == ' ' || kv[klen - 1] == '\t'))
        klen--;
    const char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (klen == 0 || klen >= key_size || *v == '\0')
        return ERR_INVALID;
    memcpy(key, kv, klen);
    key[klen] = '\0';
    *value = v;
    return 0;
}

/* A parsed --replica-assignment: ids[p * rf + r] is partition p's r-th replica. */
struct topics_assignment {
    int32_t *ids;
    int partition_count;
    int rf;
};

/* Kafka's parseReplicaAssignment: ',' between partitions, ':' between
 * replicas, no duplicate broker in a partition, one replication factor. */
static int topics_assignment_parse(const char *text, struct topics_assignment *as, char *err, size_t err_size)
{
    memset(as, 0, sizeof *as);
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',' || *p == ':';
    if (cap > TOPICS_ASSIGN_IDS_MAX) {
        snprintf(err, err_size, "The replica assignment has more than %d entries", TOPICS_ASSIGN_IDS_MAX);
        return ERR_LIMIT;
    }
    as->ids = calloc(cap, sizeof *as->ids);
    if (!as->ids) {
        snprintf(err, err_size, "out of memory");
        return ERR_LIMIT;
    }
    size_t n = 0;
    int in_partition = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",:");
        char item[32];
        const char *b = p, *e = p + len;
        while (b < e && *b == ' ')
            b++;
        while (e > b && e[-1] == ' ')
            e--;
        int id = 0;
        if ((size_t)(e - b) >= sizeof item) {
            snprintf(err, err_size, "For input string: \"%.*s\"", (int)len, p);
            return ERR_INVALID;
        }
        memcpy(item, b, (size_t)(e - b));
        item[e - b] = '\0';
        if (tool_int_parse(item, -2147483647L - 1, 2147483647L, &id) < 0) {
            snprintf(err, err_size, "For input string: \"%s\"", item);
            return ERR_INVALID;
        }
        for (int r = 0; r < in_partition; r++) {
            if (as->ids[n - (size_t)in_partition + (size_t)r] == id) {
                snprintf(err, err_size, "Partition replica lists may not contain duplicate entries: %d", id);
                return ERR_INVALID;
            }
        }
        as->ids[n++] = id;
        in_partition++;
        p += len;
        if (*p == ':') {
            p++;
            continue;
        }
        /* end of one partition's list */
        if (as->partition_count == 0)
            as->rf = in_partition;
        else if (in_partition != as->rf) {
            char list[256];
            size_t l = 0;
            list[0] = '\0';
            for (int r = 0; r < in_partition; r++) {
                int w = snprintf(list + l, sizeof list - l, "%s%d", r ? ":" : "",
                                 (int)as->ids[n - (size_t)in_partition + (size_t)r]);
                if (w < 0 || (size_t)w >= sizeof list - l)
                    break;
                l += (size_t)w;
            }
            snprintf(err, err_size, "Partition %d has different replication factor: %s", as->partition_count, list);
            return ERR_INVALID;
        }
        as->partition_count++;
        in_partition = 0;
        if (*p == '\0')
            break;
        p++; /* ',' */
    }
    return 0;
}

static int topics_create(struct tool_client *c, const struct topics_args *a, const struct rd_kafka_metadata *md)
{
    if (a->partitions != -1 && a->partitions < 1)
        return topics_fail("The partitions must be greater than 0");
    if (a->replication_factor != -1 && (a->replication_factor < 1 || a->replication_factor > 32767))
        return topics_fail(a->replication_factor < 1
                               ? "The replication factor must be greater than 0"
                               : "The replication factor's maximum value must be less than or equal to 32767");
    if (a->if_not_exists) {
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, a->topic) == 0 && md->topics[i].err == 0)
                return 0;
    }
    if (strchr(a->topic, '.') || strchr(a->topic, '_'))
        printf("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') "
               "could collide. To avoid issues it is best to use either, but not both.\n");
    char err[TOOL_ERRSTR_MAX];
    struct topics_assignment as = { 0 };
    if (a->replica_assignment && topics_assignment_parse(a->replica_assignment, &as, err, sizeof err) < 0) {
        free(as.ids);
        return topics_fail(err);
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(a->topic, as.ids ? as.partition_count : a->partitions,
                                                    a->replication_factor, err, sizeof err);
    for (int p = 0; nt && p < as.partition_count; p++) {
        if (rd_kafka_NewTopic_set_replica_assignment(nt, p, &as.ids[p * as.rf], (size_t)as.rf, err, sizeof err)) {
            rd_kafka_NewTopic_destroy(nt);
            nt = NULL;
        }
    }
    free(as.ids);
    if (!nt)
        return topics_fail(err);
    for (size_t i = 0; i < a->config_count; i++) {
        char key[256];
        const char *value = NULL;
        if (topics_config_split(a->configs[i], key, sizeof key, &value) < 0) {
            rd_kafka_NewTopic_destroy(nt);
            return topics_fail("requirement failed: Invalid topic config: all configs to be added must be in the "
                               "format \"key=val\".");
        }
        if (rd_kafka_NewTopic_set_config(nt, key, value)) {
            rd_kafka_NewTopic_destroy(nt);
            return topics_fail("out of memory");
        }
    }
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(c->rk, &nt, 1, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_CREATETOPICS_RESULT, err, sizeof err);
    if (!ev)
        return topics_fail(err);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    int rc = topics_result_check(tr, n, a->if_not_exists, err, sizeof err);
    rd_kafka_event_destroy(ev);
    if (rc < 0)
        return topics_fail(err);
    printf("Created topic %s.\n", a->topic);
    return 0;
}

static int topics_delete(struct tool_client *c, const struct rd_kafka_metadata_topic **sel, int n)
{
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)n + 1, sizeof *dt);
    if (!dt)
        return topics_fail("out of memory");
    for (int i = 0; i < n; i++)
        dt[i] = rd_kafka_DeleteTopic_new(sel[i]->topic);
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(c->rk, dt, (size_t)n, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n);
    free(dt);
    char err[TOOL_ERRSTR_MAX];
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_DELETETOPICS_RESULT, err, sizeof err);
    if (!ev)
        return topics_fail(err);
    size_t rn = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &rn);
    int rc = topics_result_check(tr, rn, false, err, sizeof err);
    rd_kafka_event_destroy(ev);
    return rc < 0 ? topics_fail(err) : 0;
}

static int topics_alter(struct tool_client *c, const struct topics_args *a,
                        const struct rd_kafka_metadata_topic **sel, int n)
{
    char err[TOOL_ERRSTR_MAX];
    if (a->partitions < 1)
        return topics_fail("The partitions must be greater than 0");
    struct topics_assignment as = { 0 };
    if (a->replica_assignment && topics_assignment_parse(a->replica_assignment, &as, err, sizeof err) < 0) {
        free(as.ids);
        return topics_fail(err);
    }
    rd_kafka_NewPartitions_t **np = calloc((size_t)n + 1, sizeof *np);
    if (!np) {
        free(as.ids);
        return topics_fail("out of memory");
    }
    for (int i = 0; i < n; i++) {
        np[i] = rd_kafka_NewPartitions_new(sel[i]->topic, (size_t)a->partitions, err, sizeof err);
        /* Kafka: the list covers every partition; only the new ones are sent */
        for (int p = sel[i]->partition_cnt; np[i] && p < as.partition_count; p++) {
            if (rd_kafka_NewPartitions_set_replica_assignment(np[i], p - sel[i]->partition_cnt, &as.ids[p * as.rf],
                                                              (size_t)as.rf, err, sizeof err)) {
                rd_kafka_NewPartitions_destroy(np[i]);
                np[i] = NULL;
            }
        }
        if (!np[i]) {
            rd_kafka_NewPartitions_destroy_array(np, (size_t)i);
            free(np);
            free(as.ids);
            return topics_fail(err);
        }
    }
    free(as.ids);
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(c->rk, np, (size_t)n, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy_array(np, (size_t)n);
    free(np);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, err, sizeof err);
    if (!ev)
        return topics_fail(err);
    size_t rn = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &rn);
    int rc = topics_result_check(tr, rn, false, err, sizeof err);
    rd_kafka_event_destroy(ev);
    return rc < 0 ? topics_fail(err) : 0;
}

static int topics_run(struct tool_client *c, const struct topics_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    const struct rd_kafka_metadata *md = NULL;
    if (tool_metadata_get(c, &md, err, sizeof err) < 0)
        return topics_fail(err);
    if (a->action == TOPICS_CREATE) {
        int rc = topics_create(c, a, md);
        rd_kafka_metadata_destroy(md);
        return rc;
    }
    struct tool_topic_filter f;
    if (tool_topic_filter_init(&f, a->topic, a->exclude_internal, err, sizeof err) < 0) {
        rd_kafka_metadata_destroy(md);
        return topics_fail(err);
    }
    const struct rd_kafka_metadata_topic **sel = NULL;
    int n = 0;
    int rc = 0;
    if (topics_select(md, &f, &sel, &n) < 0) {
        rc = topics_fail("out of memory");
    } else if (a->action == TOPICS_LIST) {
        for (int i = 0; i < n; i++)
            printf("%s\n", sel[i]->topic);
    } else if (n == 0 && a->topic && !a->if_exists) {
        snprintf(err, sizeof err, "Topic '%s' does not exist as expected", a->topic);
        rc = topics_fail(err);
    } else if (n == 0) {
        rc = 0;
    } else if (a->action == TOPICS_DESCRIBE) {
        rc = topics_describe(c, a, md, sel, n);
    } else if (a->action == TOPICS_DELETE) {
        rc = topics_delete(c, sel, n);
    } else {
        ASSERT(a->action == TOPICS_ALTER);
        rc = topics_alter(c, a, sel, n);
    }
    free(sel);
    tool_topic_filter_deinit(&f);
    rd_kafka_metadata_destroy(md);
    return rc;
}

int tool_topics_main(int argc, char **argv)
{
    struct topics_args a;
    if (argc < 2)
        return topics_usage_error("Create, delete, describe, or change a topic.");
    int rc = topics_args_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.help) {
        topics_usage(stdout);
        return 0;
    }
    rc = topics_args_check(&a);
    if (rc != 0)
        return rc;
    struct tool_client c;
    char err[TOOL_ERRSTR_MAX];
    if (tool_client_create(&c, a.bootstrap, a.command_config, err, sizeof err) < 0)
        return topics_fail(err);
    rc = topics_run(&c, &a);
    fflush(stdout);
    tool_client_destroy(&c);
    return rc;
}
