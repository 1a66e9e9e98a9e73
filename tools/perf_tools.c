/*
 * perf_tools.c - kafka-producer-perf-test and kafka-consumer-perf-test on
 * librdkafka, with Kafka's flags and summary lines.
 *
 * producer-perf-test (ProducerPerformance): --topic, --num-records,
 * --record-size N (random upper-case letters, as Kafka) or --payload-file F
 * [--payload-delimiter \n], --throughput N (records/s, -1 unthrottled),
 * --producer-props k=v... and/or --producer.config F (librdkafka names;
 * bootstrap.servers there, or --bootstrap-server).  Every 5 s:
 *   "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency."
 * and at the end:
 *   "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max
 *    latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
 * Latency is send to acknowledgement; percentiles over a sample of at most
 * 500000 records, taken every num-records/500000-th record as Kafka does.
 *
 * consumer-perf-test (ConsumerPerformance): --bootstrap-server (or
 * --broker-list), --topic, --messages, --group (default perf-consumer-N),
 * --from-latest, --timeout MS (10000: no record for that long ends the run
 * with Kafka's WARNING), --fetch-size, --socket-buffer-size,
 * --consumer.config, --hide-header, --date-format (Java's
 * yyyy-MM-dd HH:mm:ss:SSS only), --reporting-interval, --show-detailed-stats.
 * Prints Kafka's header and one row: start.time, end.time,
 * data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
 * rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
 *
 * Not here: --transactional-id, --print-metrics (librdkafka's statistics
 * differ from Java's metrics), --threads / --num-fetch-threads (ignored by
 * Kafka 3.x too).
 */
#include "tools/perf_tools.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "tools/tool_common.h"
#include "tools/tool_rk.h"

#define PERF_LATENCY_SAMPLES_MAX 500000
#define PERF_WINDOW_MS 5000
#define PERF_PAYLOADS_MAX 100000
#define PERF_FILE_BYTES_MAX (64u << 20)

/* ---------------------------------------------------------------- producer */

enum pp_opt {
    PP_TOPIC, PP_NUM_RECORDS, PP_RECORD_SIZE, PP_PAYLOAD_FILE, PP_PAYLOAD_DELIMITER, PP_THROUGHPUT,
    PP_PRODUCER_PROPS, PP_PRODUCER_CONFIG, PP_COMMAND_CONFIG, PP_BOOTSTRAP, PP_PRINT_METRICS, PP_TRANSACTIONAL_ID,
    PP_HELP, PP_VERSION, PP_OPT_COUNT
};

static const struct tool_optdef pp_opts[PP_OPT_COUNT] = {
    [PP_TOPIC] = { "topic", true },
    [PP_NUM_RECORDS] = { "num-records", true },
    [PP_RECORD_SIZE] = { "record-size", true },
    [PP_PAYLOAD_FILE] = { "payload-file", true },
    [PP_PAYLOAD_DELIMITER] = { "payload-delimiter", true },
    [PP_THROUGHPUT] = { "throughput", true },
    [PP_PRODUCER_PROPS] = { "producer-props", true, .multi = true },
    [PP_PRODUCER_CONFIG] = { "producer.config", true },
    [PP_COMMAND_CONFIG] = { "command-config", true },
    [PP_BOOTSTRAP] = { "bootstrap-server", true },
    [PP_PRINT_METRICS] = { "print-metrics", false },
    [PP_TRANSACTIONAL_ID] = { "transactional-id", true },
    [PP_HELP] = { "help", false },
    [PP_VERSION] = { "version", false },
};

static void pp_usage(FILE *out)
{
    fprintf(out,
            "usage: producer-performance [-h] --topic TOPIC --num-records NUM-RECORDS\n"
            "       (--record-size RECORD-SIZE | --payload-file PAYLOAD-FILE) [--payload-delimiter DELIM]\n"
            "       --throughput THROUGHPUT [--producer-props PROP-NAME=PROP-VALUE [...]]\n"
            "       [--producer.config CONFIG-FILE] [--bootstrap-server HOST:PORT]\n\n"
            "This tool is used to verify the producer performance.\n\n"
            "  --topic TOPIC            produce messages to this topic\n"
            "  --num-records N          number of messages to produce\n"
            "  --record-size N          message size in bytes (random upper-case letters)\n"
            "  --payload-file F         file to read the message payloads from, split by --payload-delimiter\n"
            "  --payload-delimiter D    delimiter between payloads in --payload-file (default: \\n)\n"
            "  --throughput N           throttle maximum message throughput to *approximately* N messages/sec;\n"
            "                           -1 for no throttling\n"
            "  --producer-props k=v...  producer config properties (librdkafka names), e.g.\n"
            "                           bootstrap.servers=127.0.0.1:9092 acks=all\n"
            "  --producer.config F      producer config properties file\n"
            "  --bootstrap-server H:P   the server(s) to connect to (or bootstrap.servers in the props)\n");
}

struct pp_stats {
    int64_t start_ms, window_start_ms;
    long count, window_count;
    int64_t bytes, window_bytes;
    int64_t total_latency_ms, window_total_latency_ms;
    int max_latency_ms, window_max_latency_ms;
    int *latencies;
    long latency_count, sampling;
    long errors;
    char first_error[TOOL_ERRSTR_MAX];
};

static void pp_window_print(struct pp_stats *st, int64_t now_ms)
{
    int64_t elapsed_ms = now_ms - st->window_start_ms;
    if (elapsed_ms <= 0)
        elapsed_ms = 1;
    printf("%ld records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
           st->window_count, 1000.0 * (double)st->window_count / (double)elapsed_ms,
           1000.0 * (double)st->window_bytes / (double)elapsed_ms / (1024.0 * 1024.0),
           st->window_count ? (double)st->window_total_latency_ms / (double)st->window_count : 0.0,
           (double)st->window_max_latency_ms);
    fflush(stdout);
    st->window_start_ms = now_ms;
    st->window_count = 0;
    st->window_bytes = 0;
    st->window_total_latency_ms = 0;
    st->window_max_latency_ms = 0;
}

static void pp_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct pp_stats *st = ((struct tool_rk *)rd_kafka_opaque(rk))->user;
    if (m->err) {
        if (st->errors++ == 0)
            snprintf(st->first_error, sizeof st->first_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    int64_t now_ms = tool_now_ms();
    int latency_ms = (int)(now_ms - (int64_t)(intptr_t)m->_private);
    if (st->count % st->sampling == 0 && st->latency_count < PERF_LATENCY_SAMPLES_MAX)
        st->latencies[st->latency_count++] = latency_ms;
    st->count++;
    st->bytes += (int64_t)m->len;
    st->total_latency_ms += latency_ms;
    if (latency_ms > st->max_latency_ms)
        st->max_latency_ms = latency_ms;
    st->window_count++;
    st->window_bytes += (int64_t)m->len;
    st->window_total_latency_ms += latency_ms;
    if (latency_ms > st->window_max_latency_ms)
        st->window_max_latency_ms = latency_ms;
    if (now_ms - st->window_start_ms >= PERF_WINDOW_MS)
        pp_window_print(st, now_ms);
}

static int pp_int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static volatile sig_atomic_t perf_stop;

static void perf_on_signal(int sig)
{
    perf_stop = sig;
}

/* Splits a payload file on delim into owned slices of buf. */
static int pp_payloads_load(const char *path, const char *delim, char **buf_out, char ***items, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char *buf = malloc(PERF_FILE_BYTES_MAX + 1);
    char **list = calloc(PERF_PAYLOADS_MAX, sizeof *list);
    ASSERT(buf && list);
    size_t len = fread(buf, 1, PERF_FILE_BYTES_MAX, f);
    fclose(f);
    buf[len] = '\0';
    size_t n = 0;
    size_t dlen = strlen(delim);
    char *p = buf;
    while (*p && n < PERF_PAYLOADS_MAX) {
        char *end = dlen ? strstr(p, delim) : NULL;
        if (end)
            *end = '\0';
        if (*p)
            list[n++] = p;
        if (!end)
            break;
        p = end + dlen;
    }
    *buf_out = buf;
    *items = list;
    *count = n;
    return 0;
}

int tool_producer_perf_test_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, pp_opts, PP_OPT_COUNT, &o, pp_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    if (!val[PP_TOPIC])
        return tool_usage_error("argument --topic is required", pp_usage);
    if (!val[PP_NUM_RECORDS] || !val[PP_THROUGHPUT])
        return tool_usage_error("argument --num-records and --throughput are required", pp_usage);
    if ((val[PP_RECORD_SIZE] != NULL) == (val[PP_PAYLOAD_FILE] != NULL))
        return tool_usage_error("Either --record-size or --payload-file must be specified but not both.", pp_usage);
    if (val[PP_TRANSACTIONAL_ID])
        return tool_usage_error("--transactional-id: transactions are not supported by Samsa yet", pp_usage);
    long num_records = 0, throughput = 0, record_size = 0;
    char *end = NULL;
    num_records = strtol(val[PP_NUM_RECORDS], &end, 10);
    if (*end || num_records <= 0)
        return tool_usage_error("argument --num-records: a positive number is expected", pp_usage);
    throughput = strtol(val[PP_THROUGHPUT], &end, 10);
    if (*end || throughput == 0 || throughput < -1)
        return tool_usage_error("argument --throughput: -1 or a positive number is expected", pp_usage);
    if (val[PP_RECORD_SIZE]) {
        record_size = strtol(val[PP_RECORD_SIZE], &end, 10);
        if (*end || record_size <= 0 || record_size > (64L << 20))
            return tool_usage_error("argument --record-size: 1..67108864 is expected", pp_usage);
    }

    /* bootstrap: --bootstrap-server, else bootstrap.servers in the props or the file */
    const char *bootstrap = val[PP_BOOTSTRAP];
    for (size_t i = 0; !bootstrap && i < o.list_count; i++)
        if (strncmp(o.list_val[i], "bootstrap.servers=", 18) == 0)
            bootstrap = o.list_val[i] + 18;
    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap ? bootstrap : "", err, sizeof err);
    int rc = conf ? 0 : ERR_INVALID;
    const char *file = val[PP_PRODUCER_CONFIG] ? val[PP_PRODUCER_CONFIG] : val[PP_COMMAND_CONFIG];
    if (rc == 0)
        rc = tool_rk_set(conf, "client.id", "perf-producer-client", err, sizeof err);
    if (rc == 0)
        rc = tool_rk_set(conf, "partitioner", "murmur2_random", err, sizeof err);
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--producer.config", NULL, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < o.list_count; i++)
        rc = tool_conf_kv_set(conf, o.list_val[i], "--producer-props", "--producer-props", err, sizeof err);
    char bs[1024] = "";
    size_t bs_size = sizeof bs;
    if (rc == 0 && (rd_kafka_conf_get(conf, "bootstrap.servers", bs, &bs_size) != RD_KAFKA_CONF_OK || !bs[0])) {
        snprintf(err, sizeof err, "Missing bootstrap.servers: give --bootstrap-server or --producer-props "
                                  "bootstrap.servers=HOST:PORT");
        rc = ERR_INVALID;
    }
    if (rc < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, pp_usage);
    }
    if (!bootstrap)
        t.bootstrap = "the --producer.config bootstrap.servers";
    struct pp_stats st = { 0 };
    st.sampling = num_records / (num_records < PERF_LATENCY_SAMPLES_MAX ? num_records : PERF_LATENCY_SAMPLES_MAX);
    st.latencies = calloc(PERF_LATENCY_SAMPLES_MAX, sizeof *st.latencies);
    ASSERT(st.latencies != NULL);
    t.user = &st;
    rd_kafka_conf_set_dr_msg_cb(conf, pp_dr_cb);
    if (tool_rk_open(&t, RD_KAFKA_PRODUCER, conf, val[PP_TOPIC], 60000, NULL) < 0) {
        free(st.latencies);
        return 1;
    }

    char *payload = NULL, *file_buf = NULL, **payloads = NULL;
    size_t payload_count = 0;
    if (val[PP_PAYLOAD_FILE]) {
        const char *delim = val[PP_PAYLOAD_DELIMITER] ? val[PP_PAYLOAD_DELIMITER] : "\n";
        rc = pp_payloads_load(val[PP_PAYLOAD_FILE], strcmp(delim, "\\n") == 0 ? "\n" : delim, &file_buf, &payloads,
                              &payload_count);
        if (rc < 0 || payload_count == 0) {
            fprintf(stderr, "ERROR File %s has no payloads%s%s\n", val[PP_PAYLOAD_FILE], rc < 0 ? ": " : "",
                    rc < 0 ? strerror(-rc) : "");
            tool_rk_destroy(&t);
            free(st.latencies);
            free(file_buf);
            free(payloads);
            return 1;
        }
        printf("Reading payloads from: %s\nNumber of messages read: %zu\n", val[PP_PAYLOAD_FILE], payload_count);
    } else {
        payload = malloc((size_t)record_size);
        ASSERT(payload != NULL);
        unsigned seed = (unsigned)time(NULL);
        for (long i = 0; i < record_size; i++)
            payload[i] = (char)('A' + rand_r(&seed) % 26);
    }
    tool_signals_catch(perf_on_signal);
    unsigned pick_seed = (unsigned)time(NULL);
    st.start_ms = st.window_start_ms = tool_now_ms();
    for (long i = 0; i < num_records && !perf_stop; i++) {
        if (throughput > 0) {
            for (;;) {
                int64_t wait_ms = st.start_ms + (int64_t)(i * 1000 / throughput) - tool_now_ms();
                if (wait_ms <= 0 || perf_stop)
                    break;
                rd_kafka_poll(t.rk, (int)(wait_ms < 100 ? wait_ms : 100));
            }
        }
        const char *value = payload;
        size_t len = (size_t)record_size;
        if (payloads) {
            value = payloads[(size_t)rand_r(&pick_seed) % payload_count];
            len = strlen(value);
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(t.rk, RD_KAFKA_V_TOPIC(val[PP_TOPIC]),
                                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                      RD_KAFKA_V_VALUE((void *)value, len),
                                                      RD_KAFKA_V_OPAQUE((void *)(intptr_t)tool_now_ms()),
                                                      RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !perf_stop) {
                rd_kafka_poll(t.rk, 10);
                continue;
            }
            if (e && st.errors++ == 0)
                snprintf(st.first_error, sizeof st.first_error, "%s", rd_kafka_err2str(e));
            break;
        }
        rd_kafka_poll(t.rk, 0);
    }
    while (rd_kafka_outq_len(t.rk) > 0)
        (void)rd_kafka_flush(t.rk, 1000);
    rd_kafka_poll(t.rk, 0);
    int64_t elapsed_ms = tool_now_ms() - st.start_ms;
    if (elapsed_ms <= 0)
        elapsed_ms = 1;
    qsort(st.latencies, (size_t)st.latency_count, sizeof st.latencies[0], pp_int_cmp);
    int perc[4] = { 0 };
    static const double ps[4] = { 0.5, 0.95, 0.99, 0.999 };
    for (int k = 0; k < 4 && st.latency_count > 0; k++)
        perc[k] = st.latencies[(long)(ps[k] * (double)st.latency_count)];
    printf("%ld records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, "
           "%d ms 95th, %d ms 99th, %d ms 99.9th.\n",
           st.count, 1000.0 * (double)st.count / (double)elapsed_ms,
           1000.0 * (double)st.bytes / (double)elapsed_ms / (1024.0 * 1024.0),
           st.count ? (double)st.total_latency_ms / (double)st.count : 0.0, (double)st.max_latency_ms, perc[0],
           perc[1], perc[2], perc[3]);
    if (st.errors > 0)
        fprintf(stderr, "ERROR %ld record(s) failed, the first with: %s\n", st.errors, st.first_error);
    tool_rk_destroy(&t);
    free(st.latencies);
    free(payload);
    free(file_buf);
    free(payloads);
    if (perf_stop)
        return 128 + perf_stop;
    return st.errors > 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- consumer */

enum pc_opt {
    PC_BOOTSTRAP, PC_BROKER_LIST, PC_TOPIC, PC_GROUP, PC_MESSAGES, PC_FROM_LATEST, PC_TIMEOUT, PC_FETCH_SIZE,
    PC_SOCKET_BUFFER, PC_CONSUMER_CONFIG, PC_COMMAND_CONFIG, PC_HIDE_HEADER, PC_DATE_FORMAT, PC_REPORTING_INTERVAL,
    PC_DETAILED, PC_PRINT_METRICS, PC_THREADS, PC_FETCH_THREADS, PC_HELP, PC_VERSION, PC_OPT_COUNT
};

static const struct tool_optdef pc_opts[PC_OPT_COUNT] = {
    [PC_BOOTSTRAP] = { "bootstrap-server", true },
    [PC_BROKER_LIST] = { "broker-list", true },
    [PC_TOPIC] = { "topic", true },
    [PC_GROUP] = { "group", true },
    [PC_MESSAGES] = { "messages", true },
    [PC_FROM_LATEST] = { "from-latest", false },
    [PC_TIMEOUT] = { "timeout", true },
    [PC_FETCH_SIZE] = { "fetch-size", true },
    [PC_SOCKET_BUFFER] = { "socket-buffer-size", true },
    [PC_CONSUMER_CONFIG] = { "consumer.config", true },
    [PC_COMMAND_CONFIG] = { "command-config", true },
    [PC_HIDE_HEADER] = { "hide-header", false },
    [PC_DATE_FORMAT] = { "date-format", true },
    [PC_REPORTING_INTERVAL] = { "reporting-interval", true },
    [PC_DETAILED] = { "show-detailed-stats", false },
    [PC_PRINT_METRICS] = { "print-metrics", false },
    [PC_THREADS] = { "threads", true },
    [PC_FETCH_THREADS] = { "num-fetch-threads", true },
    [PC_HELP] = { "help", false },
    [PC_VERSION] = { "version", false },
};

static void pc_usage(FILE *out)
{
    fprintf(out,
            "This tool helps in performance test for the full zookeeper consumer\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--bootstrap-server <String: server>      REQUIRED unless --broker-list(deprecated) is specified.\n"
            "--broker-list <String: broker-list>      DEPRECATED, use --bootstrap-server instead.\n"
            "--consumer.config <String: config file>  Consumer config properties file.\n"
            "--date-format <String: date format>      The date format to use for formatting the time field.\n"
            "                                           (default: yyyy-MM-dd HH:mm:ss:SSS)\n"
            "--fetch-size <Integer: size>             The amount of data to fetch in a single request.\n"
            "                                           (default: 1048576)\n"
            "--from-latest                            Start from the latest offset instead of the earliest.\n"
            "--group <String: gid>                    The group id to consume on. (default: perf-consumer-N)\n"
            "--help                                   Print usage information.\n"
            "--hide-header                            Skip printing the header for the stats.\n"
            "--messages <Long: count>                 REQUIRED: The number of messages to send or consume.\n"
            "--reporting-interval <Integer: ms>       Interval in milliseconds at which to print progress\n"
            "                                           info. (default: 5000)\n"
            "--show-detailed-stats                    Report stats at every --reporting-interval.\n"
            "--socket-buffer-size <Integer: size>     The size of the tcp RECV size. (default: 2097152)\n"
            "--timeout <Long: milliseconds>           The maximum allowed time in milliseconds between returned\n"
            "                                           records. (default: 10000)\n"
            "--topic <String: topic>                  REQUIRED: The topic to consume from.\n"
            "--version                                Display Kafka version.\n");
}

/* Java's SimpleDateFormat("yyyy-MM-dd HH:mm:ss:SSS") in local time */
static void pc_date(int64_t wall_ms, char *out, size_t size)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, size, "%s:%03d", when, (int)(wall_ms % 1000));
}

struct pc_join {
    int64_t join_started_ms;
    int64_t join_total_ms;
};

static void pc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                            void *opaque)
{
    (void)opaque;
    struct pc_join *j = ((struct tool_rk *)rd_kafka_opaque(rk))->user;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        j->join_total_ms += tool_now_ms() - j->join_started_ms;
        (void)rd_kafka_assign(rk, parts);
    } else {
        j->join_started_ms = tool_now_ms();
        (void)rd_kafka_assign(rk, NULL);
    }
}

static void pc_row(const char *a, const char *b, double mb, double secs, long msgs, int64_t join_ms, int64_t fetch_ms)
{
    double fetch_secs = (double)fetch_ms / 1000.0;
    printf("%s, %s, %.4f, %.4f, %ld, %.4f, %lld, %lld, %.4f, %.4f\n", a, b, mb, mb / secs, msgs, (double)msgs / secs,
           (long long)join_ms, (long long)fetch_ms, mb / fetch_secs, (double)msgs / fetch_secs);
}

int tool_consumer_perf_test_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, pc_opts, PC_OPT_COUNT, &o, pc_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const bool *given = o.given;
    const char *bootstrap = val[PC_BOOTSTRAP] ? val[PC_BOOTSTRAP] : val[PC_BROKER_LIST];
    if (!bootstrap)
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", pc_usage);
    if (!val[PC_TOPIC])
        return tool_usage_error("Missing required argument \"[topic]\"", pc_usage);
    if (!val[PC_MESSAGES])
        return tool_usage_error("Missing required argument \"[messages]\"", pc_usage);
    if (val[PC_DATE_FORMAT] && strcmp(val[PC_DATE_FORMAT], "yyyy-MM-dd HH:mm:ss:SSS") != 0)
        return tool_usage_error("--date-format: only the default yyyy-MM-dd HH:mm:ss:SSS is available", pc_usage);
    char *end = NULL;
    long messages = strtol(val[PC_MESSAGES], &end, 10);
    if (*end || messages <= 0)
        return tool_usage_error("Option messages: a positive number is expected", pc_usage);
    long timeout_ms = 10000, interval_ms = 5000;
    if (val[PC_TIMEOUT] && ((timeout_ms = strtol(val[PC_TIMEOUT], &end, 10)) <= 0 || *end))
        return tool_usage_error("Option timeout: a positive number is expected", pc_usage);
    if (val[PC_REPORTING_INTERVAL] && ((interval_ms = strtol(val[PC_REPORTING_INTERVAL], &end, 10)) <= 0 || *end))
        return tool_usage_error("Option reporting-interval: a positive number is expected", pc_usage);

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap, err, sizeof err);
    int rc = conf ? 0 : ERR_INVALID;
    const char *file = val[PC_CONSUMER_CONFIG] ? val[PC_CONSUMER_CONFIG] : val[PC_COMMAND_CONFIG];
    char group[64];
    snprintf(group, sizeof group, "perf-consumer-%ld", (long)(tool_wall_ms() % 100000));
    const char *const settings[][2] = {
        { "client.id", "perf-consumer-client" },
        { "group.id", val[PC_GROUP] ? val[PC_GROUP] : group },
        { "auto.offset.reset", given[PC_FROM_LATEST] ? "latest" : "earliest" },
        { "enable.auto.commit", "false" },
        { "fetch.max.bytes", val[PC_FETCH_SIZE] },
        { "socket.receive.buffer.bytes", val[PC_SOCKET_BUFFER] ? val[PC_SOCKET_BUFFER] : "2097152" },
    };
    for (size_t i = 0; rc == 0 && i < sizeof settings / sizeof settings[0]; i++)
        if (settings[i][1])
            rc = tool_rk_set(conf, settings[i][0], settings[i][1], err, sizeof err);
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--consumer.config", NULL, err, sizeof err);
    if (rc < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, pc_usage);
    }
    struct pc_join join = { 0 };
    t.user = &join;
    rd_kafka_conf_set_rebalance_cb(conf, pc_rebalance_cb);
    if (tool_rk_open(&t, RD_KAFKA_CONSUMER, conf, val[PC_TOPIC], 60000, NULL) < 0)
        return 1;
    rd_kafka_poll_set_consumer(t.rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, val[PC_TOPIC], RD_KAFKA_PARTITION_UA);
    join.join_started_ms = tool_now_ms();
    rd_kafka_resp_err_t e = rd_kafka_subscribe(t.rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "ERROR cannot subscribe to %s: %s\n", val[PC_TOPIC], rd_kafka_err2str(e));
        tool_rk_destroy(&t);
        return 1;
    }
    tool_signals_catch(perf_on_signal);
    if (!given[PC_HIDE_HEADER])
        printf("%s, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, "
               "fetch.MB.sec, fetch.nMsg.sec\n",
               given[PC_DETAILED] ? "time, threadId" : "start.time, end.time");
    int64_t start_wall_ms = tool_wall_ms();
    int64_t start_ms = tool_now_ms();
    int64_t last_record_ms = start_ms, report_ms = start_ms;
    long count = 0, report_count = 0;
    int64_t bytes = 0, report_bytes = 0;
    bool timed_out = false;
    while (count < messages && !perf_stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(t.rk, 100);
        int64_t now_ms = tool_now_ms();
        if (m && !m->err) {
            count++;
            bytes += (int64_t)m->len + (int64_t)m->key_len;
            last_record_ms = now_ms;
        }
        if (m)
            rd_kafka_message_destroy(m);
        if (now_ms - last_record_ms > timeout_ms) {
            timed_out = true;
            break;
        }
        if (given[PC_DETAILED] && now_ms - report_ms >= interval_ms) {
            char when[48];
            pc_date(tool_wall_ms(), when, sizeof when);
            double mb = (double)(bytes - report_bytes) / (1024.0 * 1024.0);
            double secs = (double)(now_ms - report_ms) / 1000.0;
            pc_row(when, "0", mb, secs, count - report_count, join.join_total_ms, now_ms - report_ms);
            fflush(stdout);
            report_ms = now_ms;
            report_count = count;
            report_bytes = bytes;
        }
    }
    if (timed_out)
        printf("WARNING: Exiting before consuming the expected number of messages: timeout (%ld ms) exceeded. You "
               "can use the --timeout option to increase the timeout.\n",
               timeout_ms);
    int64_t end_ms = tool_now_ms();
    int64_t end_wall_ms = tool_wall_ms();
    (void)rd_kafka_consumer_close(t.rk);
    tool_rk_destroy(&t);
    if (!given[PC_DETAILED]) {
        char a[48], b[48];
        pc_date(start_wall_ms, a, sizeof a);
        pc_date(end_wall_ms, b, sizeof b);
        double secs = (double)(end_ms - start_ms) / 1000.0;
        int64_t fetch_ms = end_ms - start_ms - join.join_total_ms;
        pc_row(a, b, (double)bytes / (1024.0 * 1024.0), secs > 0 ? secs : 0.001, count, join.join_total_ms,
               fetch_ms > 0 ? fetch_ms : 1);
    }
    return perf_stop ? 128 + perf_stop : 0;
}
