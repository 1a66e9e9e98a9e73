/*
 * log_dirs.c - `samsa log-dirs` = kafka-log-dirs.sh: --describe each
 * broker's log directories and the partitions in them, as Kafka's
 * LogDirsCommand prints them (two status lines, then one JSON line).
 *
 * librdkafka 2.0.2 has no DescribeLogDirs, so the tool speaks the project's
 * own codec (tools/kclient): Metadata at the bootstrap server for the
 * brokers, then DescribeLogDirs v4 at each broker (it answers for itself).
 */
#include "tools/log_dirs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"

#define LD_BROKERS_MAX 256
#define LD_TOPICS_MAX 1024
#define LD_TIMEOUT_MS 30000

enum { LD_BOOTSTRAP, LD_DESCRIBE, LD_BROKER_LIST, LD_TOPIC_LIST, LD_COMMAND_CONFIG, LD_HELP, LD_VERSION, LD_OPT_COUNT };

static const struct tool_optdef ld_opts[LD_OPT_COUNT] = {
    [LD_BOOTSTRAP] = { "bootstrap-server", true, false, false, false },
    [LD_DESCRIBE] = { "describe", false, false, false, false },
    [LD_BROKER_LIST] = { "broker-list", true, false, false, false },
    [LD_TOPIC_LIST] = { "topic-list", true, false, false, false },
    [LD_COMMAND_CONFIG] = { "command-config", true, false, false, false },
    [LD_HELP] = { "help", false, false, false, false },
    [LD_VERSION] = { "version", false, false, false, false },
};

static void ld_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to query log directory usage on the specified brokers.\n"
            "Option                                  Description\n"
            "------                                  -----------\n"
            "--bootstrap-server <String: The server  REQUIRED: the server(s) to use for\n"
            "  (s) to use for bootstrapping>           bootstrapping\n"
            "--broker-list <String: Broker list>     The list of brokers to be queried in\n"
            "                                          the form \"0,1,2\". All brokers in the\n"
            "                                          cluster will be queried if no broker\n"
            "                                          list is specified\n"
            "--command-config <String: Admin client  Property file containing configs to be\n"
            "  property file>                          passed to Admin Client.\n"
            "--describe                              Describe the specified log directories\n"
            "                                          on the specified brokers.\n"
            "--help                                  Print usage information.\n"
            "--topic-list <String: Topic list>       The list of topics to be queried in\n"
            "                                          the form \"topic1,topic2,topic3\". All\n"
            "                                          topics will be queried if no topic\n"
            "                                          list is specified (default: )\n"
            "--version                               Display Kafka version.\n");
}

struct ld_broker {
    int32_t id;
    char host[256];
    int32_t port;
    struct kmsg_describe_log_dirs_resp resp;
};

static int ld_broker_cmp(const void *x, const void *y)
{
    const struct ld_broker *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

/* ld_brokers - the cluster's brokers from Metadata (no topics), by id. */
static int ld_brokers(const char *bootstrap, struct arena *a, struct ld_broker *out, int *count)
{
    struct kclient kc;
    int rc = kclient_connect(&kc, bootstrap, LD_TIMEOUT_MS);
    if (rc < 0)
        return rc;
    struct kmsg_metadata_req req;
    kmsg_metadata_req_init(&req);
    req.topics_count = 0; /* v1+: no topics (null would be all) */
    req.allow_auto_topic_creation = false;
    struct kmsg_metadata_resp md;
    KCLIENT_CALL(rc, &kc, metadata, KMSG_API_METADATA, 4, &req, a, &md);
    kclient_close(&kc);
    if (rc < 0)
        return rc;
    int n = 0;
    for (int32_t i = 0; i < md.brokers_count && n < LD_BROKERS_MAX; i++, n++) {
        out[n].id = md.brokers[i].node_id;
        snprintf(out[n].host, sizeof out[n].host, "%.*s", (int)md.brokers[i].host.len,
                 (const char *)md.brokers[i].host.ptr);
        out[n].port = md.brokers[i].port;
    }
    qsort(out, (size_t)n, sizeof *out, ld_broker_cmp);
    *count = n;
    return 0;
}

static int ld_describe(struct ld_broker *b, struct arena *a)
{
    char hp[300];
    snprintf(hp, sizeof hp, "%s:%d", b->host, b->port);
    struct kclient kc;
    int rc = kclient_connect(&kc, hp, LD_TIMEOUT_MS);
    if (rc < 0)
        return rc;
    struct kmsg_describe_log_dirs_req req;
    kmsg_describe_log_dirs_req_init(&req); /* topics null: everything */
    KCLIENT_CALL(rc, &kc, describe_log_dirs, KMSG_API_DESCRIBE_LOG_DIRS, 4, &req, a, &b->resp);
    kclient_close(&kc);
    return rc;
}

static bool ld_topic_wanted(char **topics, int n, struct bytes name)
{
    if (n == 0)
        return true;
    for (int i = 0; i < n; i++)
        if (strlen(topics[i]) == name.len && memcmp(topics[i], name.ptr, name.len) == 0)
            return true;
    return false;
}

/* Kafka's error field: the exception class of a dir's error, else null. */
static const char *ld_error_class(int16_t code)
{
    switch (code) {
    case 0: return NULL;
    case 56: return "org.apache.kafka.common.errors.KafkaStorageException";
    default: return "org.apache.kafka.common.errors.UnknownServerException";
    }
}

/* LogDirsCommand.formatAsJson: {"brokers":[{"broker":N,"logDirs":[{"partitions":[...],"error":null,"logDir":"..."}]}],"version":1}
 * in the key order Kafka 3.x prints (Jackson over Scala maps). */
static void ld_print_json(const struct ld_broker *brokers, int n, char **topics, int topic_count)
{
    printf("{\"brokers\":[");
    for (int i = 0; i < n; i++) {
        const struct kmsg_describe_log_dirs_resp *r = &brokers[i].resp;
        printf("%s{\"broker\":%d,\"logDirs\":[", i ? "," : "", brokers[i].id);
        for (int32_t d = 0; d < r->results_count; d++) {
            const struct kmsg_describe_log_dirs_resp_result *dir = &r->results[d];
            printf("%s{\"partitions\":[", d ? "," : "");
            bool first = true;
            for (int32_t t = 0; t < dir->topics_count; t++) {
                const struct kmsg_describe_log_dirs_resp_topic *tp = &dir->topics[t];
                if (!ld_topic_wanted(topics, topic_count, tp->name))
                    continue;
                for (int32_t p = 0; p < tp->partitions_count; p++) {
                    const struct kmsg_describe_log_dirs_resp_partition *pp = &tp->partitions[p];
                    char name[512];
                    snprintf(name, sizeof name, "%.*s-%d", (int)tp->name.len, (const char *)tp->name.ptr,
                             pp->partition_index);
                    printf("%s{\"partition\":", first ? "" : ",");
                    tool_json_string(stdout, name, strlen(name));
                    printf(",\"size\":%lld,\"offsetLag\":%lld,\"isFuture\":%s}", (long long)pp->partition_size,
                           (long long)pp->offset_lag, pp->is_future_key ? "true" : "false");
                    first = false;
                }
            }
            const char *error = ld_error_class(dir->error_code);
            printf("],\"error\":");
            if (error)
                tool_json_string(stdout, error, strlen(error));
            else
                printf("null");
            printf(",\"logDir\":");
            tool_json_string(stdout, dir->log_dir.ptr, dir->log_dir.len);
            printf("}");
        }
        printf("]}");
    }
    printf("],\"version\":1}\n");
}

/* ld_split - a comma list into up to max owned words (empty ones skipped). */
static int ld_split(const char *text, char **out, int max)
{
    int n = 0;
    char *copy = strdup(text ? text : "");
    if (!copy)
        return ERR_LIMIT;
    for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (n == max) {
            free(copy);
            return ERR_LIMIT;
        }
        out[n] = strdup(w);
        if (!out[n]) {
            free(copy);
            return ERR_LIMIT;
        }
        n++;
    }
    free(copy);
    return n;
}

int tool_log_dirs_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, ld_opts, LD_OPT_COUNT, &o, ld_usage, &exit_code))
        return exit_code;
    if (!o.given[LD_DESCRIBE])
        return tool_usage_error("Command must include --describe", ld_usage);
    if (!o.val[LD_BOOTSTRAP])
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", ld_usage);
    if (o.val[LD_COMMAND_CONFIG] && tool_props_plaintext_only(o.val[LD_COMMAND_CONFIG], "--command-config", "log-dirs"))
        return 1;
    static char *topics[LD_TOPICS_MAX];
    int topic_count = ld_split(o.val[LD_TOPIC_LIST], topics, LD_TOPICS_MAX);
    if (topic_count < 0) {
        fprintf(stderr, "Error: --topic-list has more than %d topics\n", LD_TOPICS_MAX);
        return 1;
    }
    struct arena a;
    arena_init(&a, 1 << 16, 1u << 30);
    static struct ld_broker cluster[LD_BROKERS_MAX], chosen[LD_BROKERS_MAX];
    int cluster_count = 0, chosen_count = 0;
    int rc = ld_brokers(o.val[LD_BOOTSTRAP], &a, cluster, &cluster_count);
    if (rc < 0) {
        fprintf(stderr, "Error: cannot get the brokers from %s: %s\n", o.val[LD_BOOTSTRAP], err_str(rc));
        goto out;
    }
    if (o.val[LD_BROKER_LIST]) {
        static char *words[LD_BROKERS_MAX];
        int nw = ld_split(o.val[LD_BROKER_LIST], words, LD_BROKERS_MAX);
        char missing[1024] = "";
        size_t ml = 0;
        for (int i = 0; i < nw; i++) {
            int id;
            if (tool_int_parse(words[i], 0, INT32_MAX, &id) < 0) {
                fprintf(stderr, "Error: --broker-list must be broker ids like 0,1,2; got \"%s\"\n", words[i]);
                goto out;
            }
            bool found = false, dup = false;
            for (int j = 0; j < chosen_count; j++)
                dup |= chosen[j].id == id;
            for (int j = 0; j < cluster_count && !found; j++) {
                if (cluster[j].id == id) {
                    found = true;
                    if (!dup)
                        chosen[chosen_count++] = cluster[j];
                }
            }
            if (!found)
                ml += (size_t)snprintf(missing + ml, ml < sizeof missing ? sizeof missing - ml : 0, "%s%d",
                                       ml ? "," : "", id);
        }
        for (int i = 0; i < nw; i++)
            free(words[i]);
        if (missing[0]) {
            printf("ERROR: The given brokers do not exist from --broker-list: %s. Current existent brokers: ", missing);
            for (int j = 0; j < cluster_count; j++)
                printf("%s%d", j ? "," : "", cluster[j].id);
            printf("\n");
            goto out;
        }
        qsort(chosen, (size_t)chosen_count, sizeof *chosen, ld_broker_cmp);
    } else {
        memcpy(chosen, cluster, (size_t)cluster_count * sizeof *chosen);
        chosen_count = cluster_count;
    }
    printf("Querying brokers for log directories information\n");
    for (int i = 0; i < chosen_count; i++) {
        rc = ld_describe(&chosen[i], &a);
        if (rc == 0 && chosen[i].resp.error_code != 0)
            rc = ERR_INVALID;
        if (rc < 0) {
            fflush(stdout);
            fprintf(stderr, "Error: DescribeLogDirs failed at broker %d (%s:%d): %s\n", chosen[i].id,
                    chosen[i].host, chosen[i].port, err_str(rc));
            goto out;
        }
    }
    printf("Received log directory information from brokers ");
    for (int i = 0; i < chosen_count; i++)
        printf("%s%d", i ? "," : "", chosen[i].id);
    printf("\n");
    ld_print_json(chosen, chosen_count, topics, topic_count);
    exit_code = 0;
out:
    for (int i = 0; i < topic_count; i++)
        free(topics[i]);
    arena_deinit(&a);
    return exit_code;
}
