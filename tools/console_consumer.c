/*
 * console_consumer.c - kafka-console-consumer: print a topic's records on
 * stdout with Kafka's DefaultMessageFormatter, on a librdkafka consumer.
 *
 * Kafka compatibility (ConsoleConsumer 3.x):
 *  - the same flags (any unambiguous abbreviation, --whitelist as the old
 *    name of --include), the same argument checks and messages;
 *  - settings: --consumer.config (or --command-config), then
 *    --consumer-property, then --group / --isolation-level /
 *    --from-beginning (auto.offset.reset=earliest, else latest);
 *  - DefaultMessageFormatter's layout: print.timestamp (`CreateTime:123`,
 *    `LogAppendTime:123`, `NO_TIMESTAMP`), print.partition (`Partition:0`),
 *    print.offset (`Offset:5`), print.headers (`k:v` joined by
 *    headers.separator, `NO_HEADERS`), print.key, print.value, each followed
 *    by key.separator (tab) and the last by line.separator (newline); a null
 *    key/value/header value prints null.literal ("null");
 *  - "Processed a total of N messages" on stderr at the end; --timeout-ms
 *    ends with Kafka's "Error processing message, terminating consumer
 *    process" and TimeoutException lines, exit 0; SIGINT / SIGTERM close the
 *    consumer (leaving the group, committing with auto-commit) and exit
 *    130 / 143 as the JVM does.
 * Deliberate differences: without --group, a --topic is read by assigning
 *  all of its partitions (Kafka joins a throw-away group console-consumer-N
 *  that never commits; the records printed are the same, and no group
 *  appears in kafka-consumer-groups --list; the group id is still set,
 *  as librdkafka wants one); --include without --group subscribes with
 *  such a group.  An unknown --topic or an unreachable bootstrap
 *  server ends the tool with one line and exit 1 instead of Java's endless
 *  retries.
 */
#include "tools/console_consumer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tools/tool_common.h"
#include "tools/tool_rk.h"

#define CC_POLL_MS 100

enum cc_opt {
    CC_TOPIC, CC_INCLUDE, CC_WHITELIST, CC_PARTITION, CC_OFFSET, CC_CONSUMER_PROPERTY, CC_CONSUMER_CONFIG,
    CC_COMMAND_CONFIG, CC_FORMATTER, CC_FORMATTER_CONFIG, CC_PROPERTY, CC_FROM_BEGINNING, CC_MAX_MESSAGES,
    CC_TIMEOUT_MS, CC_SKIP_ON_ERROR, CC_BOOTSTRAP, CC_KEY_DESER, CC_VALUE_DESER, CC_SYSTEST, CC_ISOLATION,
    CC_GROUP, CC_HELP, CC_VERSION, CC_OPT_COUNT
};

static const struct tool_optdef cc_opts[CC_OPT_COUNT] = {
    [CC_TOPIC] = { "topic", true },
    [CC_INCLUDE] = { "include", true },
    [CC_WHITELIST] = { "whitelist", true },
    [CC_PARTITION] = { "partition", true },
    [CC_OFFSET] = { "offset", true },
    [CC_CONSUMER_PROPERTY] = { "consumer-property", true, .repeat = true },
    [CC_CONSUMER_CONFIG] = { "consumer.config", true },
    [CC_COMMAND_CONFIG] = { "command-config", true },
    [CC_FORMATTER] = { "formatter", true },
    [CC_FORMATTER_CONFIG] = { "formatter-config", true },
    [CC_PROPERTY] = { "property", true, .repeat = true },
    [CC_FROM_BEGINNING] = { "from-beginning", false },
    [CC_MAX_MESSAGES] = { "max-messages", true },
    [CC_TIMEOUT_MS] = { "timeout-ms", true },
    [CC_SKIP_ON_ERROR] = { "skip-message-on-error", false },
    [CC_BOOTSTRAP] = { "bootstrap-server", true },
    [CC_KEY_DESER] = { "key-deserializer", true },
    [CC_VALUE_DESER] = { "value-deserializer", true },
    [CC_SYSTEST] = { "enable-systest-events", false },
    [CC_ISOLATION] = { "isolation-level", true },
    [CC_GROUP] = { "group", true },
    [CC_HELP] = { "help", false },
    [CC_VERSION] = { "version", false },
};

static void cc_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to read data from Kafka topics and outputs it to standard output.\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--bootstrap-server <String: server to    REQUIRED: The server(s) to connect to.\n"
            "  connect to>\n"
            "--command-config <String: config file>   Same as --consumer.config (client properties).\n"
            "--consumer-property <String: k=v>        A consumer property (librdkafka names; Java-only keys warn).\n"
            "--consumer.config <String: config file>  Consumer config properties file.\n"
            "--formatter <String: class>              Only kafka.tools.DefaultMessageFormatter. (default)\n"
            "--formatter-config <String: config file> Formatter properties file.\n"
            "--from-beginning                         Start with the earliest message present in the log\n"
            "                                           rather than the latest message.\n"
            "--group <String: consumer group id>      The consumer group id of the consumer.\n"
            "--help                                   Print usage information.\n"
            "--include <String: Java regex (String)>  Regular expression specifying list of topics to include.\n"
            "--isolation-level <String>               read_committed or read_uncommitted. (default: read_uncommitted)\n"
            "--max-messages <Integer: num_messages>   The maximum number of messages to consume before exiting.\n"
            "--offset <String: consume offset>        earliest, latest, or a non-negative offset (needs --partition).\n"
            "                                           (default: latest)\n"
            "--partition <Integer: partition>         The partition to consume from.\n"
            "--property <String: prop>                Formatter properties: print.timestamp, print.key,\n"
            "                                           print.offset, print.partition, print.headers, print.value,\n"
            "                                           key.separator, line.separator, headers.separator, null.literal\n"
            "--skip-message-on-error                  Skip a message that cannot be printed instead of halting.\n"
            "--timeout-ms <Integer: timeout_ms>       Exit if no message is available for this long.\n"
            "--topic <String: topic>                  The topic to consume on.\n"
            "--version                                Display Kafka version.\n"
            "--whitelist <String: Java regex>         DEPRECATED, use --include instead.\n");
}

struct cc_format {
    bool print_timestamp, print_key, print_value, print_partition, print_offset, print_headers;
    char key_sep[64], line_sep[64], headers_sep[64], null_literal[64];
};

static int cc_format_set(struct cc_format *f, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) {
        fprintf(stderr, "Invalid --property '%s': expected key=value\n", kv);
        return ERR_INVALID;
    }
    size_t klen = (size_t)(eq - kv);
    const char *v = eq + 1;
    bool on = strcasecmp(v, "true") == 0;
#define CC_KEY(name) (klen == strlen(name) && strncmp(kv, name, klen) == 0)
    if (CC_KEY("print.timestamp"))
        f->print_timestamp = on;
    else if (CC_KEY("print.key"))
        f->print_key = on;
    else if (CC_KEY("print.value"))
        f->print_value = on;
    else if (CC_KEY("print.partition"))
        f->print_partition = on;
    else if (CC_KEY("print.offset"))
        f->print_offset = on;
    else if (CC_KEY("print.headers"))
        f->print_headers = on;
    else if (CC_KEY("key.separator"))
        snprintf(f->key_sep, sizeof f->key_sep, "%s", v);
    else if (CC_KEY("line.separator"))
        snprintf(f->line_sep, sizeof f->line_sep, "%s", v);
    else if (CC_KEY("headers.separator"))
        snprintf(f->headers_sep, sizeof f->headers_sep, "%s", v);
    else if (CC_KEY("null.literal"))
        snprintf(f->null_literal, sizeof f->null_literal, "%s", v);
#undef CC_KEY
    return 0;
}

static int cc_format_set_cb(void *ctx, const char *kv, int line_number)
{
    (void)line_number;
    return cc_format_set(ctx, kv);
}

static void cc_bytes(const struct cc_format *f, const void *p, size_t n, FILE *out)
{
    if (!p)
        fputs(f->null_literal, out);
    else
        fwrite(p, 1, n, out);
}

/* DefaultMessageFormatter.writeTo */
static void cc_format_write(const struct cc_format *f, rd_kafka_message_t *m, FILE *out)
{
    if (f->print_timestamp) {
        rd_kafka_timestamp_type_t type;
        int64_t ts = rd_kafka_message_timestamp(m, &type);
        if (type == RD_KAFKA_TIMESTAMP_CREATE_TIME)
            fprintf(out, "CreateTime:%lld", (long long)ts);
        else if (type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
            fprintf(out, "LogAppendTime:%lld", (long long)ts);
        else
            fputs("NO_TIMESTAMP", out);
        bool more = f->print_partition || f->print_offset || f->print_headers || f->print_key || f->print_value;
        fputs(more ? f->key_sep : f->line_sep, out);
    }
    if (f->print_partition) {
        fprintf(out, "Partition:%d", (int)m->partition);
        bool more = f->print_offset || f->print_headers || f->print_key || f->print_value;
        fputs(more ? f->key_sep : f->line_sep, out);
    }
    if (f->print_offset) {
        fprintf(out, "Offset:%lld", (long long)m->offset);
        bool more = f->print_headers || f->print_key || f->print_value;
        fputs(more ? f->key_sep : f->line_sep, out);
    }
    if (f->print_headers) {
        rd_kafka_headers_t *h = NULL;
        size_t count = 0;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
            count = rd_kafka_header_cnt(h);
        if (count == 0)
            fputs("NO_HEADERS", out);
        for (size_t i = 0; i < count; i++) {
            const char *name;
            const void *value;
            size_t size;
            if (rd_kafka_header_get_all(h, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            fprintf(out, "%s:", name);
            cc_bytes(f, value, size, out);
            if (i + 1 < count)
                fputs(f->headers_sep, out);
        }
        fputs(f->print_key || f->print_value ? f->key_sep : f->line_sep, out);
    }
    if (f->print_key) {
        cc_bytes(f, m->key, m->key_len, out);
        fputs(f->print_value ? f->key_sep : f->line_sep, out);
    }
    if (f->print_value) {
        cc_bytes(f, m->payload, m->len, out);
        fputs(f->line_sep, out);
    }
}

static volatile sig_atomic_t cc_signal;

static void cc_on_signal(int sig)
{
    cc_signal = sig;
}

/* log4j's layout of the tools' ERROR lines: "[2024-01-01 10:00:00,123] ERROR ..." */
static void cc_log_error(const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "[%s,%03ld] ERROR %s (kafka.tools.ConsoleConsumer$)\n", when, ts.tv_nsec / 1000000, msg);
}

static int cc_fail(const char *msg)
{
    fprintf(stderr, "ERROR %s\n", msg);
    return 1;
}

int tool_console_consumer_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 0;
    if (tool_optv_parse(argc, argv, cc_opts, CC_OPT_COUNT, &o, cc_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const bool *given = o.given;
    const char *include = val[CC_INCLUDE] ? val[CC_INCLUDE] : val[CC_WHITELIST];
    if (!val[CC_BOOTSTRAP])
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", cc_usage);
    if ((val[CC_TOPIC] != NULL) == (include != NULL))
        return tool_usage_error("Exactly one of include/topic is required.", cc_usage);
    int partition = -1;
    if (given[CC_PARTITION]) {
        if (!val[CC_TOPIC])
            return tool_usage_error("The topic is required when partition is specified.", cc_usage);
        if (tool_int_parse(val[CC_PARTITION], 0, INT32_MAX, &partition) < 0)
            return tool_usage_error("Option partition: the value must be a non-negative integer", cc_usage);
    }
    int64_t start_offset = RD_KAFKA_OFFSET_END;
    if (given[CC_OFFSET]) {
        if (!given[CC_PARTITION])
            return tool_usage_error("The partition is required when offset is specified.", cc_usage);
        if (given[CC_FROM_BEGINNING])
            return tool_usage_error("Options from-beginning and offset cannot be specified together.", cc_usage);
        const char *ov = val[CC_OFFSET];
        char *end = NULL;
        errno = 0;
        long long n = strtoll(ov, &end, 10);
        if (strcasecmp(ov, "earliest") == 0)
            start_offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (strcasecmp(ov, "latest") == 0)
            start_offset = RD_KAFKA_OFFSET_END;
        else if (errno == 0 && end != ov && *end == '\0' && n >= 0)
            start_offset = n;
        else
            return tool_usage_error("The provided offset value is incorrect. Valid values are 'earliest', 'latest', "
                                    "or a non-negative long.",
                                    cc_usage);
    } else if (given[CC_FROM_BEGINNING]) {
        start_offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    long max_messages = -1;
    if (given[CC_MAX_MESSAGES]) {
        int n;
        if (tool_int_parse(val[CC_MAX_MESSAGES], 0, INT32_MAX, &n) < 0)
            return tool_usage_error("Option max-messages: the value must be a non-negative integer", cc_usage);
        max_messages = n;
    }
    int timeout_ms = -1;
    if (given[CC_TIMEOUT_MS] && tool_int_parse(val[CC_TIMEOUT_MS], 0, INT32_MAX, &timeout_ms) < 0)
        return tool_usage_error("Option timeout-ms: the value must be a non-negative integer", cc_usage);
    if (given[CC_FORMATTER] && strcmp(val[CC_FORMATTER], "kafka.tools.DefaultMessageFormatter") != 0 &&
        strcmp(val[CC_FORMATTER], "org.apache.kafka.tools.consumer.DefaultMessageFormatter") != 0)
        return tool_usage_error("Only the default --formatter (kafka.tools.DefaultMessageFormatter) is available",
                                cc_usage);

    struct cc_format fmt = { .print_value = true, .key_sep = "\t", .line_sep = "\n", .headers_sep = ",",
                             .null_literal = "null" };
    if (given[CC_FORMATTER_CONFIG]) {
        int rc = tool_props_each(val[CC_FORMATTER_CONFIG], cc_format_set_cb, &fmt);
        if (rc < 0) {
            if (rc != ERR_INVALID)
                fprintf(stderr, "ERROR cannot read --formatter-config file %s: %s\n", val[CC_FORMATTER_CONFIG],
                        strerror(-rc));
            return 1;
        }
    }
    for (size_t i = 0; i < o.list_count; i++)
        if (o.list_opt[i] == CC_PROPERTY && cc_format_set(&fmt, o.list_val[i]) < 0)
            return 1;

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, val[CC_BOOTSTRAP], err, sizeof err);
    if (!conf)
        return cc_fail(err);
    int rc = tool_rk_set(conf, "client.id", "console-consumer", err, sizeof err);
    const char *file = val[CC_CONSUMER_CONFIG] ? val[CC_CONSUMER_CONFIG] : val[CC_COMMAND_CONFIG];
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--consumer.config", NULL, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < o.list_count; i++)
        if (o.list_opt[i] == CC_CONSUMER_PROPERTY)
            rc = tool_conf_kv_set(conf, o.list_val[i], "--consumer-property", "--consumer-property", err, sizeof err);
    char group[256] = "";
    size_t gsize = sizeof group;
    if (rd_kafka_conf_get(conf, "group.id", group, &gsize) != RD_KAFKA_CONF_OK)
        group[0] = '\0';
    if (rc == 0 && given[CC_GROUP]) {
        if (group[0] && strcmp(group, val[CC_GROUP]) != 0) {
            char msg[TOOL_ERRSTR_MAX];
            snprintf(msg, sizeof msg,
                     "The group ids provided in different places (directly using '--group', via "
                     "'--consumer-property', or via '--consumer.config') do not match. Detected group ids: '%s', '%s'",
                     val[CC_GROUP], group);
            rd_kafka_conf_destroy(conf);
            return tool_usage_error(msg, cc_usage);
        }
        snprintf(group, sizeof group, "%s", val[CC_GROUP]);
        rc = tool_rk_set(conf, "group.id", group, err, sizeof err);
    }
    char reset[32] = "";
    size_t rsize = sizeof reset;
    if (rd_kafka_conf_get(conf, "auto.offset.reset", reset, &rsize) != RD_KAFKA_CONF_OK)
        reset[0] = '\0';
    bool reset_set = false;
    for (size_t i = 0; i < o.list_count; i++)
        reset_set |= o.list_opt[i] == CC_CONSUMER_PROPERTY && strncmp(o.list_val[i], "auto.offset.reset=", 18) == 0;
    if (rc == 0 && given[CC_FROM_BEGINNING] && reset_set && strcmp(reset, "latest") == 0) {
        rd_kafka_conf_destroy(conf);
        return tool_usage_error("Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest'",
                                cc_usage);
    }
    if (rc == 0 && !reset_set)
        rc = tool_rk_set(conf, "auto.offset.reset", given[CC_FROM_BEGINNING] ? "earliest" : "latest", err,
                         sizeof err);
    if (rc == 0 && given[CC_ISOLATION])
        rc = tool_rk_set(conf, "isolation.level", val[CC_ISOLATION], err, sizeof err);
    bool subscribe = group[0] != '\0' || include != NULL;
    if (rc == 0 && !group[0]) {
        /* Kafka's throw-away group; librdkafka also needs a group.id for
         * assign(), which never joins it */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(group, sizeof group, "console-consumer-%ld", (long)((ts.tv_nsec / 1000 + getpid()) % 100000));
        rc = tool_rk_set(conf, "group.id", group, err, sizeof err);
        if (rc == 0)
            rc = tool_rk_set(conf, "enable.auto.commit", "false", err, sizeof err);
    }
    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, cc_usage);
    }
    const struct rd_kafka_metadata *md = NULL;
    if (tool_rk_open(&t, RD_KAFKA_CONSUMER, conf, val[CC_TOPIC], 60000, &md) < 0)
        return 1;
    rd_kafka_poll_set_consumer(t.rk);
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (partition >= 0 || !subscribe) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[0];
        if (partition >= mt->partition_cnt) {
            snprintf(err, sizeof err, "Topic %s has no partition %d (it has %d)", val[CC_TOPIC], partition,
                     mt->partition_cnt);
            rd_kafka_metadata_destroy(md);
            tool_rk_destroy(&t);
            return cc_fail(err);
        }
        list = rd_kafka_topic_partition_list_new(mt->partition_cnt);
        for (int p = 0; p < mt->partition_cnt; p++)
            if (partition < 0 || p == partition)
                rd_kafka_topic_partition_list_add(list, val[CC_TOPIC], p)->offset = start_offset;
        e = rd_kafka_assign(t.rk, list);
    } else {
        list = rd_kafka_topic_partition_list_new(1);
        char pattern[1024];
        if (include)
            snprintf(pattern, sizeof pattern, "^(%s)$", include);
        else
            snprintf(pattern, sizeof pattern, "%s", val[CC_TOPIC]);
        rd_kafka_topic_partition_list_add(list, pattern, RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(t.rk, list);
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_metadata_destroy(md);
    if (e) {
        snprintf(err, sizeof err, "cannot %s: %s", subscribe ? "subscribe" : "assign", rd_kafka_err2str(e));
        tool_rk_destroy(&t);
        return cc_fail(err);
    }

    tool_signals_catch(cc_on_signal);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout shows as ferror(), as Kafka's checkErr */
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

    long count = 0;
    int64_t last_ms = tool_now_ms();
    while (!cc_signal && (max_messages < 0 || count < max_messages)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(t.rk, CC_POLL_MS);
        if (!m) {
            fflush(stdout);
            if (timeout_ms >= 0 && tool_now_ms() - last_ms >= timeout_ms) {
                cc_log_error("Error processing message, terminating consumer process: ");
                fprintf(stderr, "org.apache.kafka.common.errors.TimeoutException\n");
                break;
            }
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t me = m->err;
            char why[TOOL_ERRSTR_MAX];
            snprintf(why, sizeof why, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (me == RD_KAFKA_RESP_ERR__PARTITION_EOF || me == RD_KAFKA_RESP_ERR__TRANSPORT ||
                me == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                continue; /* librdkafka reconnects, as the Java client does */
            char msg[TOOL_ERRSTR_MAX + 64];
            snprintf(msg, sizeof msg, "Error processing message, terminating consumer process: %s", why);
            cc_log_error(msg);
            exit_code = 1;
            break;
        }
        last_ms = tool_now_ms();
        count++;
        cc_format_write(&fmt, m, stdout);
        rd_kafka_message_destroy(m);
        if (ferror(stdout)) /* Kafka's checkErr: stop when the reader went away */
            break;
    }
    fflush(stdout);
    (void)rd_kafka_consumer_close(t.rk); /* leaves the group; commits when auto-commit is on */
    tool_rk_destroy(&t);
    fprintf(stderr, "Processed a total of %ld messages\n", count);
    if (cc_signal)
        return 128 + cc_signal;
    return exit_code;
}
