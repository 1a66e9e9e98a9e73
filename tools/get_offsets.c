/*
 * get_offsets.c - kafka-get-offsets / GetOffsetShell: one
 * `topic:partition:offset` line per matching partition, sorted by topic
 * then partition, for --time -1|latest (the log end), -2|earliest (the log
 * start), -3|max-timestamp or a timestamp in ms (the first offset at or
 * after it), through ListOffsets (librdkafka's offsets_for_times).
 *
 * Kafka compatibility (GetOffsetShell 3.x): --topic-partitions patterns
 * (`topic-regex:N`, `N-M` upper exclusive, `N-`, `-M`, or no partition part
 * for all), --topic (regex, whole name) with --partitions (ids),
 * --exclude-internal-topics, --broker-list as the old --bootstrap-server;
 * errors print "Error occurred: ..." and exit 1 (no partition matching the
 * filters, a malformed --time); a partition whose lookup fails is reported
 * as "Skip getting offsets for topic-partition t:p due to error: ..." on
 * stderr and a partition with no offset for the time is left out.
 * max-timestamp (-3): the offset of the first record with the largest
 * timestamp.  Kafka's tool asks with ListOffsets v7; librdkafka 2.0.2 sends
 * v2, which the broker answers for -3 as Kafka's broker does (it does not
 * check the version).
 */
#include "tools/get_offsets.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tool_common.h"
#include "tools/tool_rk.h"

#define GO_PATTERNS_MAX 64
#define GO_PARTITIONS_MAX 1024

enum go_opt {
    GO_BOOTSTRAP, GO_BROKER_LIST, GO_TOPIC_PARTITIONS, GO_TOPIC, GO_PARTITIONS, GO_TIME, GO_COMMAND_CONFIG,
    GO_EXCLUDE_INTERNAL, GO_OFFSETS, GO_MAX_WAIT, GO_HELP, GO_VERSION, GO_OPT_COUNT
};

static const struct tool_optdef go_opts[GO_OPT_COUNT] = {
    [GO_BOOTSTRAP] = { "bootstrap-server", true },
    [GO_BROKER_LIST] = { "broker-list", true },
    [GO_TOPIC_PARTITIONS] = { "topic-partitions", true },
    [GO_TOPIC] = { "topic", true },
    [GO_PARTITIONS] = { "partitions", true },
    [GO_TIME] = { "time", true },
    [GO_COMMAND_CONFIG] = { "command-config", true },
    [GO_EXCLUDE_INTERNAL] = { "exclude-internal-topics", false },
    [GO_OFFSETS] = { "offsets", true },     /* ignored since Kafka 2.x */
    [GO_MAX_WAIT] = { "max-wait-ms", true }, /* ignored since Kafka 2.x */
    [GO_HELP] = { "help", false },
    [GO_VERSION] = { "version", false },
};

static void go_usage(FILE *out)
{
    fprintf(out,
            "An interactive shell for getting topic-partition offsets.\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--bootstrap-server <String: HOST1:PORT1, REQUIRED. The server(s) to connect to in the form\n"
            "  ...>                                     HOST1:PORT1,HOST2:PORT2.\n"
            "--broker-list <String: HOST1:PORT1,...>  DEPRECATED, use --bootstrap-server instead.\n"
            "--command-config <String: config file>   Property file containing configs to be passed to Admin Client.\n"
            "--exclude-internal-topics                By default, internal topics are included. If specified,\n"
            "                                           internal topics are excluded.\n"
            "--partitions <String: partition ids>     Comma separated list of partition ids to get the offsets for.\n"
            "                                           If not specified, it will find offsets for all partitions.\n"
            "                                           Cannot be used with --topic-partitions.\n"
            "--time <String: <timestamp> / -1 or      Timestamp of the offsets before that. [Note: No offset is\n"
            "  latest / -2 or earliest / -3 or max-     returned, if the timestamp greater than recently committed\n"
            "  timestamp>                               record timestamp is given.] (default: latest)\n"
            "--topic <String: topic>                  The topic to get the offsets for. It also accepts a regular\n"
            "                                           expression. If not present, all authorized topics are queried.\n"
            "--topic-partitions <String: topic1:1,    Comma separated list of topic-partition patterns to get the\n"
            "  topic2:0-3,topic3,topic4:5-,topic5:-3>   offsets for, with the format of ([^:,]*)(?::(?:([0-9]*)|\n"
            "                                           (?:([0-9]*)-([0-9]*))))?. The first group is an optional\n"
            "                                           regex for the topic name; the part after ':' is a number, a\n"
            "                                           range N-M (upper exclusive), N- or -M, or omitted for all.\n"
            "--help                                   Print usage information.\n"
            "--version                                Display Kafka version.\n");
}

struct go_filter {
    regex_t re;
    bool any_topic;
    int lo, hi; /* partition range [lo, hi) */
    const int *ids;
    size_t ids_count;
};

static int go_error(const char *msg)
{
    printf("Error occurred: %s\n", msg);
    return 1;
}

static int go_regex(regex_t *re, const char *pattern, size_t len)
{
    char buf[512];
    snprintf(buf, sizeof buf, "^(%.*s)$", (int)len, pattern);
    return regcomp(re, buf, REG_EXTENDED | REG_NOSUB) == 0 ? 0 : ERR_INVALID;
}

static int go_parse_time(const char *s, int64_t *out)
{
    if (strcmp(s, "latest") == 0) {
        *out = -1;
        return 0;
    }
    if (strcmp(s, "earliest") == 0) {
        *out = -2;
        return 0;
    }
    if (strcmp(s, "max-timestamp") == 0) {
        *out = -3;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return ERR_INVALID;
    *out = v;
    return 0;
}

/* one --topic-partitions item: topic-regex[:N|N-M|N-|-M] */
static int go_filter_parse(struct go_filter *f, const char *item, size_t len)
{
    memset(f, 0, sizeof *f);
    f->lo = 0;
    f->hi = INT32_MAX;
    const char *colon = memchr(item, ':', len);
    size_t tlen = colon ? (size_t)(colon - item) : len;
    f->any_topic = tlen == 0;
    if (!f->any_topic && go_regex(&f->re, item, tlen) < 0)
        return ERR_INVALID;
    if (!colon)
        return 0;
    char part[64];
    size_t plen = len - tlen - 1;
    if (plen >= sizeof part)
        return ERR_INVALID;
    memcpy(part, colon + 1, plen);
    part[plen] = '\0';
    char *dash = strchr(part, '-');
    char *end = NULL;
    if (!dash) {
        if (part[0] == '\0')
            return 0;
        long v = strtol(part, &end, 10);
        if (*end != '\0' || v < 0)
            return ERR_INVALID;
        f->lo = (int)v;
        f->hi = (int)v + 1;
        return 0;
    }
    *dash = '\0';
    if (part[0]) {
        long v = strtol(part, &end, 10);
        if (*end != '\0' || v < 0)
            return ERR_INVALID;
        f->lo = (int)v;
    }
    if (dash[1]) {
        long v = strtol(dash + 1, &end, 10);
        if (*end != '\0' || v < 0)
            return ERR_INVALID;
        f->hi = (int)v;
    }
    return 0;
}

static bool go_filter_match(const struct go_filter *f, const char *topic, int partition)
{
    if (!f->any_topic && regexec(&f->re, topic, 0, NULL, 0) != 0)
        return false;
    if (f->ids_count > 0) {
        for (size_t i = 0; i < f->ids_count; i++)
            if (f->ids[i] == partition)
                return true;
        return false;
    }
    return partition >= f->lo && partition < f->hi;
}

static int go_tp_cmp(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

int tool_get_offsets_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, go_opts, GO_OPT_COUNT, &o, go_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const bool *given = o.given;
    const char *bootstrap = val[GO_BOOTSTRAP] ? val[GO_BOOTSTRAP] : val[GO_BROKER_LIST];
    if (!bootstrap)
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", go_usage);
    if (given[GO_TOPIC_PARTITIONS] && (given[GO_TOPIC] || given[GO_PARTITIONS]))
        return go_error("--topic-partitions cannot be used with --topic or --partitions");
    int64_t when = -1;
    if (given[GO_TIME] && go_parse_time(val[GO_TIME], &when) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "Malformed time argument %s. Please use -1 or latest / -2 or earliest / -3 or max-timestamp, or a "
                 "specified long format timestamp",
                 val[GO_TIME]);
        return go_error(msg);
    }

    struct go_filter filters[GO_PATTERNS_MAX];
    size_t filter_count = 0;
    int ids[GO_PARTITIONS_MAX];
    size_t ids_count = 0;
    char msg[2 * TOOL_ERRSTR_MAX];
    if (given[GO_PARTITIONS]) {
        const char *s = val[GO_PARTITIONS];
        while (*s) {
            char *end = NULL;
            long v = strtol(s, &end, 10);
            if (end == s || v < 0 || (*end != ',' && *end != '\0') || ids_count >= GO_PARTITIONS_MAX) {
                snprintf(msg, sizeof msg, "--partitions expects a comma separated list of numeric partition ids, but "
                                          "received: %s", val[GO_PARTITIONS]);
                return go_error(msg);
            }
            ids[ids_count++] = (int)v;
            s = *end ? end + 1 : end;
        }
    }
    if (given[GO_TOPIC_PARTITIONS]) {
        const char *s = val[GO_TOPIC_PARTITIONS];
        while (*s) {
            size_t len = strcspn(s, ",");
            if (filter_count >= GO_PATTERNS_MAX || go_filter_parse(&filters[filter_count], s, len) < 0) {
                snprintf(msg, sizeof msg, "Invalid topic-partition pattern: %.*s", (int)len, s);
                for (size_t i = 0; i < filter_count; i++)
                    if (!filters[i].any_topic)
                        regfree(&filters[i].re);
                return go_error(msg);
            }
            filter_count++;
            s += len;
            if (*s == ',')
                s++;
        }
    } else {
        struct go_filter *f = &filters[filter_count++];
        memset(f, 0, sizeof *f);
        f->hi = INT32_MAX;
        f->any_topic = !val[GO_TOPIC];
        if (!f->any_topic && go_regex(&f->re, val[GO_TOPIC], strlen(val[GO_TOPIC])) < 0) {
            snprintf(msg, sizeof msg, "%s is an invalid regex.", val[GO_TOPIC]);
            return go_error(msg);
        }
        f->ids = ids;
        f->ids_count = ids_count;
    }

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap, err, sizeof err);
    int timeout_ms = TOOL_TIMEOUT_MS_DEFAULT;
    int rc = conf ? 0 : ERR_INVALID;
    if (rc == 0 && val[GO_COMMAND_CONFIG])
        rc = tool_conf_file_apply(conf, val[GO_COMMAND_CONFIG], "--command-config", &timeout_ms, err, sizeof err);
    if (rc < 0 && conf)
        rd_kafka_conf_destroy(conf);
    if (rc == 0)
        rc = tool_rk_create(&t, RD_KAFKA_PRODUCER, conf, err, sizeof err);
    const struct rd_kafka_metadata *md = NULL;
    if (rc == 0)
        rc = tool_rk_metadata(&t, NULL, timeout_ms, &md, err, sizeof err);
    if (rc < 0) {
        go_error(err);
        goto out;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(64);
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[i];
        if (given[GO_EXCLUDE_INTERNAL] && tool_topic_is_internal(mt->topic))
            continue;
        for (int p = 0; p < mt->partition_cnt; p++) {
            int id = mt->partitions[p].id;
            for (size_t k = 0; k < filter_count; k++) {
                if (go_filter_match(&filters[k], mt->topic, id)) {
                    rd_kafka_topic_partition_list_add(list, mt->topic, id)->offset = when;
                    break;
                }
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    if (list->cnt == 0) {
        go_error("Could not match any topic-partitions with the specified filters");
        rd_kafka_topic_partition_list_destroy(list);
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(t.rk, list, timeout_ms);
    if (e) {
        snprintf(msg, sizeof msg, "%s%s%s", rd_kafka_err2str(e), t.last_error[0] ? ": " : "", t.last_error);
        go_error(msg);
        rd_kafka_topic_partition_list_destroy(list);
        goto out;
    }
    qsort(list->elems, (size_t)list->cnt, sizeof list->elems[0], go_tp_cmp);
    for (int i = 0; i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (tp->err)
            fprintf(stderr, "Skip getting offsets for topic-partition %s:%d due to error: %s\n", tp->topic,
                    (int)tp->partition, rd_kafka_err2str(tp->err));
        else if (tp->offset >= 0)
            printf("%s:%d:%lld\n", tp->topic, (int)tp->partition, (long long)tp->offset);
    }
    rd_kafka_topic_partition_list_destroy(list);
    exit_code = 0;
out:
    for (size_t i = 0; i < filter_count; i++)
        if (!filters[i].any_topic)
            regfree(&filters[i].re);
    tool_rk_destroy(&t);
    return exit_code;
}
