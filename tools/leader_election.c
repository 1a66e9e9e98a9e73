/*
 * leader_election.c - `samsa leader-election` = kafka-leader-election.sh
 * (LeaderElectionCommand): ElectLeaders (API 43) for the partitions named by
 * --topic/--partition, --path-to-json-file or --all-topic-partitions, with
 * --election-type PREFERRED or UNCLEAN, sent through tools/kclient (any
 * broker forwards it to the active controller).  Output as Kafka's:
 *
 *   Successfully completed leader election (PREFERRED) for partitions t-0, t-1
 *   Valid replica already elected for partitions t-2
 *   Error completing leader election (PREFERRED) for partition: t-3: <exception>: <message>
 *
 * Exit 0 when every partition was elected or needed no election, 1 otherwise.
 */
#include "tools/leader_election.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/arena.h"
#include "common/log.h"
#include "kmsg.h"
#include "tools/delete_records.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"

#define LE_ENTRIES_MAX 100000
#define LE_FILE_BYTES_MAX (16u << 20)
#define LE_KERR_ELECTION_NOT_NEEDED 84
#define LE_KERR_NOT_CONTROLLER 41

enum le_opt { LE_BOOTSTRAP, LE_ADMIN_CONFIG, LE_ELECTION_TYPE, LE_TOPIC, LE_PARTITION, LE_ALL, LE_JSON, LE_HELP,
              LE_VERSION, LE_OPT_COUNT };

static const struct tool_optdef le_opts[LE_OPT_COUNT] = {
    [LE_BOOTSTRAP] = { "bootstrap-server", true },
    [LE_ADMIN_CONFIG] = { "admin.config", true },
    [LE_ELECTION_TYPE] = { "election-type", true },
    [LE_TOPIC] = { "topic", true },
    [LE_PARTITION] = { "partition", true },
    [LE_ALL] = { "all-topic-partitions", false },
    [LE_JSON] = { "path-to-json-file", true },
    [LE_HELP] = { "help", false },
    [LE_VERSION] = { "version", false },
};

static void le_usage(FILE *out)
{
    fprintf(out,
            "This tool attempts to elect a new leader for a set of topic partitions. The type of elections "
            "supported are preferred replicas and unclean replicas.\n"
            "Option                                  Description\n"
            "------                                  -----------\n"
            "--admin.config <String: config file>    Configuration properties files to pass to the admin client\n"
            "--all-topic-partitions                  Perform election on all of the eligible topic partitions\n"
            "                                          based on the type of election (see the --election-type\n"
            "                                          flag). Not allowed if --topic or --path-to-json-file is\n"
            "                                          specified.\n"
            "--bootstrap-server <String: host:port>  A hostname and port for the broker to connect to, in the\n"
            "                                          form host:port. Multiple comma separated URLs can be\n"
            "                                          given. REQUIRED.\n"
            "--election-type <[PREFERRED,UNCLEAN]:   Type of election to attempt. Possible values are\n"
            "  election type>                          \"preferred\" for preferred leader election or \"unclean\"\n"
            "                                          for unclean leader election. REQUIRED.\n"
            "--help                                  Print usage information.\n"
            "--partition <Integer: partition id>     Partition id for which to perform an election. REQUIRED if\n"
            "                                          --topic is specified.\n"
            "--path-to-json-file <String: Path to    The JSON file with the list of partition for which leader\n"
            "  JSON file>                              elections should be performed. This is an example format.\n"
            "                                          {\"partitions\":\n"
            "                                          \t[{\"topic\": \"foo\", \"partition\": 1},\n"
            "                                          \t {\"topic\": \"foobar\", \"partition\": 2}]\n"
            "                                          }\n"
            "                                          Not allowed if --all-topic-partitions or --topic flags\n"
            "                                          are specified.\n"
            "--topic <String: topic name>            Name of topic for which to perform an election. Not\n"
            "                                          allowed if --path-to-json-file or --all-topic-partitions\n"
            "                                          is specified.\n"
            "--version                               Display Kafka version.\n");
}

/* Kafka's exception for a per-partition error code. */
static const char *le_exception(int16_t code)
{
    switch (code) {
    case 3: return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
    case 41: return "org.apache.kafka.common.errors.NotControllerException";
    case 42: return "org.apache.kafka.common.errors.InvalidRequestException";
    case 80: return "org.apache.kafka.common.errors.PreferredLeaderNotAvailableException";
    case 83: return "org.apache.kafka.common.errors.EligibleLeadersNotAvailableException";
    default: return "org.apache.kafka.common.KafkaException";
    }
}

/* Group entries by topic into the request's topic_partitions. */
static int le_request(struct arena *a, const struct delete_records_entry *e, size_t n, struct kmsg_elect_leaders_req *m)
{
    m->topic_partitions = arena_alloc_array(a, n > 0 ? n : 1, sizeof *m->topic_partitions);
    if (!m->topic_partitions)
        return ERR_LIMIT;
    m->topic_partitions_count = 0;
    for (size_t i = 0; i < n; i++) {
        struct kmsg_elect_leaders_req_topic_partitions *tp = NULL;
        for (int32_t k = 0; k < m->topic_partitions_count && !tp; k++)
            if (m->topic_partitions[k].topic.len == strlen(e[i].topic) &&
                memcmp(m->topic_partitions[k].topic.ptr, e[i].topic, strlen(e[i].topic)) == 0)
                tp = &m->topic_partitions[k];
        if (!tp) {
            tp = &m->topic_partitions[m->topic_partitions_count++];
            kmsg_elect_leaders_req_topic_partitions_init(tp);
            tp->topic = bytes_cstr(e[i].topic);
            tp->partitions = arena_alloc_array(a, n, sizeof *tp->partitions);
            if (!tp->partitions)
                return ERR_LIMIT;
        }
        tp->partitions[tp->partitions_count++] = e[i].partition;
    }
    return 0;
}

/* One ElectLeaders call; answers that say NOT_CONTROLLER (the controller
 * was busy or moving) are retried for a few seconds, as Kafka's admin
 * client retries them. */
static int le_call(struct kclient *kc, struct arena *a, const struct kmsg_elect_leaders_req *m,
                   struct kmsg_elect_leaders_resp *out)
{
    for (int attempt = 0;; attempt++) {
        struct buf body;
        buf_init(&body, 1 << 20);
        int rc = kmsg_elect_leaders_req_encode(&body, 2, m);
        struct bytes resp;
        if (rc == 0)
            rc = kclient_call(kc, KMSG_API_ELECT_LEADERS, 2, buf_bytes(&body), &resp);
        buf_deinit(&body);
        if (rc < 0)
            return rc;
        struct kwire_reader r;
        kwire_reader_init(&r, resp);
        if ((rc = kmsg_elect_leaders_resp_decode(&r, 2, a, out)) < 0)
            return rc;
        bool retry = out->error_code == LE_KERR_NOT_CONTROLLER;
        for (int32_t i = 0; i < out->replica_election_results_count; i++)
            for (int32_t k = 0; k < out->replica_election_results[i].partition_result_count; k++)
                retry |= out->replica_election_results[i].partition_result[k].error_code == LE_KERR_NOT_CONTROLLER;
        if (!retry || attempt >= 50)
            return 0;
        struct timespec ts = { 0, 100 * 1000000 };
        nanosleep(&ts, NULL);
    }
}

static void le_print_list(const char *prefix, const struct kmsg_elect_leaders_resp *m, bool want_ok)
{
    bool any = false;
    for (int32_t i = 0; i < m->replica_election_results_count; i++) {
        const struct kmsg_elect_leaders_resp_replica_election_result *t = &m->replica_election_results[i];
        for (int32_t k = 0; k < t->partition_result_count; k++) {
            int16_t ec = t->partition_result[k].error_code;
            if (want_ok ? ec != 0 : ec != LE_KERR_ELECTION_NOT_NEEDED)
                continue;
            printf("%s%.*s-%d", any ? ", " : prefix, (int)t->topic.len, (const char *)t->topic.ptr,
                   t->partition_result[k].partition_id);
            any = true;
        }
    }
    if (any)
        printf("\n");
}

int tool_leader_election_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, le_opts, LE_OPT_COUNT, &o, le_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    if (!val[LE_BOOTSTRAP])
        return tool_usage_error("Missing required option(s) [bootstrap-server]", le_usage);
    if (!val[LE_ELECTION_TYPE])
        return tool_usage_error("Missing required option(s) [election-type]", le_usage);
    int8_t type;
    const char *type_name;
    if (strcasecmp(val[LE_ELECTION_TYPE], "preferred") == 0) {
        type = 0;
        type_name = "PREFERRED";
    } else if (strcasecmp(val[LE_ELECTION_TYPE], "unclean") == 0) {
        type = 1;
        type_name = "UNCLEAN";
    } else {
        fprintf(stderr, "Cannot convert argument '%s' of option ['election-type']. Possible values: PREFERRED, "
                        "UNCLEAN\n", val[LE_ELECTION_TYPE]);
        return 1;
    }
    int sources = (val[LE_TOPIC] != NULL) + o.given[LE_ALL] + (val[LE_JSON] != NULL);
    if (sources != 1)
        return tool_usage_error("One and only one of the following options is required: all-topic-partitions, "
                                "topic, path-to-json-file", le_usage);
    if (val[LE_TOPIC] && !val[LE_PARTITION])
        return tool_usage_error("Missing required option(s) [partition]", le_usage);
    if (val[LE_PARTITION] && !val[LE_TOPIC])
        return tool_usage_error("Option partition is only allowed if topic is used", le_usage);
    if (val[LE_ADMIN_CONFIG] && tool_props_plaintext_only(val[LE_ADMIN_CONFIG], "--admin.config", "leader-election"))
        return 1;

    struct delete_records_entry *entries = NULL;
    size_t count = 0;
    char *text = NULL;
    struct arena a;
    arena_init(&a, 16384, 256u << 20);
    struct kclient kc = { .fd = -1 };
    struct kmsg_elect_leaders_req m;
    kmsg_elect_leaders_req_init(&m);
    m.election_type = type;
    if (val[LE_TOPIC]) {
        char *end = NULL;
        errno = 0;
        long p = strtol(val[LE_PARTITION], &end, 10);
        if (errno || !end || *end || p < 0 || p > INT32_MAX) {
            fprintf(stderr, "Cannot parse argument '%s' of option ['partition']\n", val[LE_PARTITION]);
            goto out;
        }
        entries = calloc(1, sizeof *entries);
        ASSERT(entries);
        snprintf(entries[0].topic, sizeof entries[0].topic, "%s", val[LE_TOPIC]);
        entries[0].partition = (int32_t)p;
        count = 1;
    } else if (val[LE_JSON]) {
        FILE *f = fopen(val[LE_JSON], "r");
        if (!f) {
            fprintf(stderr, "Exception in thread \"main\" java.nio.file.NoSuchFileException: %s (%s)\n", val[LE_JSON],
                    strerror(errno));
            goto out;
        }
        text = malloc(LE_FILE_BYTES_MAX);
        entries = calloc(LE_ENTRIES_MAX, sizeof *entries);
        ASSERT(text && entries);
        size_t len = fread(text, 1, LE_FILE_BYTES_MAX, f);
        fclose(f);
        char err[TOOL_ERRSTR_MAX];
        if (delete_records_json_parse_partitions(text, len, entries, LE_ENTRIES_MAX, &count, err, sizeof err) < 0) {
            fprintf(stderr, "Exception in thread \"main\" org.apache.kafka.server.common.AdminOperationException: "
                            "%s\n", err);
            goto out;
        }
        for (size_t i = 0; i < count; i++)
            for (size_t k = 0; k < i; k++)
                if (entries[k].partition == entries[i].partition && strcmp(entries[k].topic, entries[i].topic) == 0) {
                    fprintf(stderr, "Exception in thread \"main\" kafka.common.AdminCommandFailedException: "
                                    "Replica election data contains duplicate partitions: %s-%d\n",
                            entries[i].topic, (int)entries[i].partition);
                    goto out;
                }
    }
    if (o.given[LE_ALL]) {
        m.topic_partitions = NULL;
        m.topic_partitions_count = -1; /* null: every partition */
    } else if (le_request(&a, entries, count, &m) < 0) {
        fprintf(stderr, "Error: too many partitions\n");
        goto out;
    }
    int rc = kclient_connect(&kc, val[LE_BOOTSTRAP], 30000);
    if (rc < 0) {
        fprintf(stderr, "Error: cannot connect to %s: %s\n", val[LE_BOOTSTRAP], err_str(rc));
        goto out;
    }
    struct kmsg_elect_leaders_resp resp;
    rc = le_call(&kc, &a, &m, &resp);
    if (rc < 0) {
        fprintf(stderr, "Error: ElectLeaders failed via %s: %s\n", kc.server, err_str(rc));
        goto out;
    }
    if (resp.error_code != 0) {
        fprintf(stderr, "Error completing leader election (%s): %s\n", type_name, le_exception(resp.error_code));
        goto out;
    }
    char prefix[96];
    snprintf(prefix, sizeof prefix, "Successfully completed leader election (%s) for partitions ", type_name);
    le_print_list(prefix, &resp, true);
    le_print_list("Valid replica already elected for partitions ", &resp, false);
    int failed = 0;
    for (int32_t i = 0; i < resp.replica_election_results_count; i++) {
        const struct kmsg_elect_leaders_resp_replica_election_result *t = &resp.replica_election_results[i];
        for (int32_t k = 0; k < t->partition_result_count; k++) {
            const struct kmsg_elect_leaders_resp_partition_result *p = &t->partition_result[k];
            if (p->error_code == 0 || p->error_code == LE_KERR_ELECTION_NOT_NEEDED)
                continue;
            failed++;
            printf("Error completing leader election (%s) for partition: %.*s-%d: %s", type_name, (int)t->topic.len,
                   (const char *)t->topic.ptr, p->partition_id, le_exception(p->error_code));
            if (p->error_message.ptr)
                printf(": %.*s", (int)p->error_message.len, (const char *)p->error_message.ptr);
            printf("\n");
        }
    }
    if (failed) {
        fprintf(stderr, "Error: %d replica(s) could not be elected\n", failed);
        goto out;
    }
    exit_code = 0;
out:
    if (kc.fd >= 0)
        kclient_close(&kc);
    arena_deinit(&a);
    free(text);
    free(entries);
    return exit_code;
}
