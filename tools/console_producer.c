/*
 * console_producer.c - kafka-console-producer: each line of stdin becomes
 * one record of --topic, sent with librdkafka.
 *
 * Kafka compatibility (ConsoleProducer and its LineMessageReader, 3.x):
 *  - the same flags, including the deprecated --broker-list and any
 *    unambiguous abbreviation; --compression-codec alone means gzip;
 *  - settings: defaults, then --producer.config (or --command-config),
 *    then --producer-property k=v, then explicit flags (acks, linger.ms from
 *    --timeout, batch.size, retries, ...); --sync waits for each record;
 *  - --property parse.key / key.separator (tab) / parse.headers /
 *    headers.delimiter (tab) / headers.separator (,) / headers.key.separator
 *    (:) / null.marker / ignore.error, parsed as LineMessageReader does,
 *    with its "No key separator found on line number N: '...'" error;
 *  - keys are partitioned with murmur2 like the Java client (null keys at
 *    random); the prompt ">" is printed before each line when stdin is a
 *    terminal; Ctrl-C (SIGINT) or SIGTERM ends the input and delivers what
 *    was read before exiting 130/143, as Java's shutdown hook does.
 * Deliberate differences: an unknown topic (with auto-creation off) or an
 * unreachable bootstrap server ends the tool with one line and exit 1
 * instead of Java's endless retries; a record that could not be delivered
 * is reported like Java's ErrorLoggingCallback and also makes the exit
 * code 1, so a script learns that lines were lost.
 */
#include "tools/console_producer.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tools/tool_common.h"
#include "tools/tool_rk.h"

#define CP_HEADERS_MAX 64

enum cp_opt {
    CP_TOPIC, CP_BOOTSTRAP, CP_BROKER_LIST, CP_SYNC, CP_COMPRESSION, CP_BATCH_SIZE, CP_RETRIES, CP_RETRY_BACKOFF,
    CP_TIMEOUT, CP_ACKS, CP_REQUEST_TIMEOUT, CP_METADATA_EXPIRY, CP_MAX_BLOCK, CP_MAX_MEMORY, CP_MAX_PARTITION_MEMORY,
    CP_SOCKET_BUFFER, CP_PROPERTY, CP_READER_CONFIG, CP_PRODUCER_PROPERTY, CP_PRODUCER_CONFIG, CP_COMMAND_CONFIG,
    CP_LINE_READER, CP_HELP, CP_VERSION, CP_OPT_COUNT
};

static const struct tool_optdef cp_opts[CP_OPT_COUNT] = {
    [CP_TOPIC] = { "topic", true },
    [CP_BOOTSTRAP] = { "bootstrap-server", true },
    [CP_BROKER_LIST] = { "broker-list", true },
    [CP_SYNC] = { "sync", false },
    [CP_COMPRESSION] = { "compression-codec", true, .value_optional = true }, /* alone: gzip */
    [CP_BATCH_SIZE] = { "batch-size", true },
    [CP_RETRIES] = { "message-send-max-retries", true },
    [CP_RETRY_BACKOFF] = { "retry-backoff-ms", true },
    [CP_TIMEOUT] = { "timeout", true },
    [CP_ACKS] = { "request-required-acks", true },
    [CP_REQUEST_TIMEOUT] = { "request-timeout-ms", true },
    [CP_METADATA_EXPIRY] = { "metadata-expiry-ms", true },
    [CP_MAX_BLOCK] = { "max-block-ms", true },
    [CP_MAX_MEMORY] = { "max-memory-bytes", true },
    [CP_MAX_PARTITION_MEMORY] = { "max-partition-memory-bytes", true },
    [CP_SOCKET_BUFFER] = { "socket-buffer-size", true },
    [CP_PROPERTY] = { "property", true, .repeat = true },
    [CP_READER_CONFIG] = { "reader-config", true },
    [CP_PRODUCER_PROPERTY] = { "producer-property", true, .repeat = true },
    [CP_PRODUCER_CONFIG] = { "producer.config", true },
    [CP_COMMAND_CONFIG] = { "command-config", true },
    [CP_LINE_READER] = { "line-reader", true },
    [CP_HELP] = { "help", false },
    [CP_VERSION] = { "version", false },
};

static void cp_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to read data from standard input and publish it to Kafka.\n"
            "Option                                   Description\n"
            "------                                   -----------\n"
            "--batch-size <Integer: size>             Number of messages to send in a single batch if they are\n"
            "                                           not being sent synchronously. (default: 16384)\n"
            "--bootstrap-server <String: server to    REQUIRED unless --broker-list (deprecated) is specified.\n"
            "  connect to>                              The server(s) to connect to.\n"
            "--broker-list <String: broker-list>      DEPRECATED, use --bootstrap-server instead.\n"
            "--command-config <String: config file>   Same as --producer.config (client properties).\n"
            "--compression-codec [String: codec]      none, gzip, snappy, lz4, or zstd. Without a value: gzip.\n"
            "--help                                   Print usage information.\n"
            "--line-reader <String: reader_class>     Only the default, kafka.tools.ConsoleProducer$LineMessageReader.\n"
            "--max-block-ms <Long: max block>         Max time to wait for metadata / buffer space. (default: 60000)\n"
            "--max-memory-bytes <Long: total memory>  Total memory used to buffer records. (default: 33554432)\n"
            "--max-partition-memory-bytes <Long>      Batch size in bytes per partition. (default: 16384)\n"
            "--message-send-max-retries <Integer>     Retries before a record is dropped. (default: 3)\n"
            "--metadata-expiry-ms <Long>              Metadata refresh interval. (default: 300000)\n"
            "--producer-property <String: k=v>        A producer property (librdkafka names; Java-only keys warn).\n"
            "--producer.config <String: config file>  Producer config properties file.\n"
            "--property <String: prop>                Reader properties: parse.key, key.separator (tab),\n"
            "                                           ignore.error, parse.headers, headers.delimiter (tab),\n"
            "                                           headers.separator (,), headers.key.separator (:), null.marker\n"
            "--reader-config <String: config file>    Reader properties file.\n"
            "--request-required-acks <String>         The required acks of the producer requests. (default: -1)\n"
            "--request-timeout-ms <Integer>           The ack timeout of the producer requests. (default: 1500)\n"
            "--retry-backoff-ms <Long>                Wait before a retry. (default: 100)\n"
            "--socket-buffer-size <Integer: size>     The size of the tcp send buffer. (default: 102400)\n"
            "--sync                                   Send each record synchronously.\n"
            "--timeout <Long: timeout_ms>             linger.ms: how long a record may wait for a batch. (default: 1000)\n"
            "--topic <String: topic>                  REQUIRED: the topic id to produce messages to.\n"
            "--version                                Display Kafka version.\n");
}

struct cp_reader {
    bool parse_key, parse_headers, ignore_error;
    char key_sep[64], headers_delim[64], headers_sep[64], headers_key_sep[64], null_marker[256];
    bool has_null_marker;
};

static int cp_reader_set(struct cp_reader *r, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) {
        fprintf(stderr, "Invalid --property '%s': expected key=value\n", kv);
        return ERR_INVALID;
    }
    size_t klen = (size_t)(eq - kv);
    const char *v = eq + 1;
#define CP_KEY(name) (klen == strlen(name) && strncmp(kv, name, klen) == 0)
    if (CP_KEY("parse.key"))
        r->parse_key = strcasecmp(v, "true") == 0;
    else if (CP_KEY("parse.headers"))
        r->parse_headers = strcasecmp(v, "true") == 0;
    else if (CP_KEY("ignore.error"))
        r->ignore_error = strcasecmp(v, "true") == 0;
    else if (CP_KEY("key.separator"))
        snprintf(r->key_sep, sizeof r->key_sep, "%s", v);
    else if (CP_KEY("headers.delimiter"))
        snprintf(r->headers_delim, sizeof r->headers_delim, "%s", v);
    else if (CP_KEY("headers.separator"))
        snprintf(r->headers_sep, sizeof r->headers_sep, "%s", v);
    else if (CP_KEY("headers.key.separator"))
        snprintf(r->headers_key_sep, sizeof r->headers_key_sep, "%s", v);
    else if (CP_KEY("null.marker")) {
        snprintf(r->null_marker, sizeof r->null_marker, "%s", v);
        r->has_null_marker = true;
    }
    /* other keys are ignored, as LineMessageReader ignores them */
#undef CP_KEY
    return 0;
}

static int cp_reader_set_cb(void *ctx, const char *kv, int line_number)
{
    (void)line_number;
    return cp_reader_set(ctx, kv);
}

struct cp_state {
    long failed;
    const char *topic;
};

static void cp_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct cp_state *s = m->_private; /* the per-record opaque */
    if (!m->err)
        return;
    s->failed++;
    char key[32];
    if (m->key)
        snprintf(key, sizeof key, "%zu bytes", m->key_len);
    else
        snprintf(key, sizeof key, "null");
    fprintf(stderr,
            "ERROR Error when sending message to topic %s with key: %s, value: %zu bytes with error: %s "
            "(org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)\n",
            s->topic, key, m->len, rd_kafka_err2str(m->err));
}

static volatile sig_atomic_t cp_signal;

static void cp_on_signal(int sig)
{
    cp_signal = sig;
}

static int cp_fail(const char *msg)
{
    fprintf(stderr, "ERROR %s\n", msg);
    return 1;
}

/* Java's String.indexOf(sep, from); -1 when absent. */
static long cp_index(const char *line, size_t len, size_t from, const char *sep)
{
    size_t n = strlen(sep);
    if (n == 0)
        return (long)from;
    for (size_t i = from; i + n <= len; i++)
        if (memcmp(line + i, sep, n) == 0)
            return (long)i;
    return -1;
}

static bool cp_is_null(const struct cp_reader *r, const char *p, size_t n)
{
    return r->has_null_marker && strlen(r->null_marker) == n && memcmp(p, r->null_marker, n) == 0;
}

/* One line -> key, value, headers (LineMessageReader.readMessage).  Returns
 * 0, or ERR_INVALID after printing Kafka's KafkaException line. */
static int cp_parse_line(const struct cp_reader *r, char *line, size_t len, long line_number,
                         rd_kafka_headers_t **hdrs_out, const char **key, size_t *key_len, const char **value,
                         size_t *value_len)
{
    size_t header_off = 0, key_off = 0;
    *hdrs_out = NULL;
    *key = NULL;
    *key_len = 0;
    if (r->parse_headers) {
        long at = cp_index(line, len, 0, r->headers_delim);
        if (at < 0 && !r->ignore_error) {
            fprintf(stderr, "org.apache.kafka.common.KafkaException: No headers delimiter found on line number %ld: '%.*s'\n",
                    line_number, (int)len, line);
            return ERR_INVALID;
        }
        if (at >= 0) {
            header_off = (size_t)at + strlen(r->headers_delim);
            if (!cp_is_null(r, line, (size_t)at)) {
                rd_kafka_headers_t *h = rd_kafka_headers_new(8);
                size_t start = 0;
                size_t hs_len = strlen(r->headers_sep);
                while (start <= (size_t)at) {
                    long sep = hs_len ? cp_index(line, (size_t)at, start, r->headers_sep) : -1;
                    size_t end = sep < 0 ? (size_t)at : (size_t)sep;
                    const char *pair = line + start;
                    size_t pair_len = end - start;
                    long ks = cp_index(pair, pair_len, 0, r->headers_key_sep);
                    if (pair_len > 0 || sep >= 0) {
                        if (ks < 0 && !r->ignore_error) {
                            fprintf(stderr,
                                    "org.apache.kafka.common.KafkaException: No header key separator found in pair "
                                    "'%.*s' on line number %ld\n",
                                    (int)pair_len, pair, line_number);
                            rd_kafka_headers_destroy(h);
                            return ERR_INVALID;
                        }
                        if (ks < 0) {
                            rd_kafka_header_add(h, pair, (ssize_t)pair_len, NULL, 0);
                        } else {
                            if (cp_is_null(r, pair, (size_t)ks)) {
                                fprintf(stderr,
                                        "org.apache.kafka.common.KafkaException: Header keys should not be equal to "
                                        "the null marker '%s' as they can't be null\n",
                                        r->null_marker);
                                rd_kafka_headers_destroy(h);
                                return ERR_INVALID;
                            }
                            const char *hv = pair + ks + strlen(r->headers_key_sep);
                            size_t hv_len = pair_len - (size_t)ks - strlen(r->headers_key_sep);
                            if (cp_is_null(r, hv, hv_len))
                                rd_kafka_header_add(h, pair, ks, NULL, 0);
                            else
                                rd_kafka_header_add(h, pair, ks, hv, (ssize_t)hv_len);
                        }
                    }
                    if (sep < 0)
                        break;
                    start = (size_t)sep + hs_len;
                }
                *hdrs_out = h;
            }
        }
    }
    if (r->parse_key) {
        long at = cp_index(line, len, header_off, r->key_sep);
        if (at < 0 && !r->ignore_error) {
            fprintf(stderr, "org.apache.kafka.common.KafkaException: No key separator found on line number %ld: '%.*s'\n",
                    line_number, (int)len, line);
            if (*hdrs_out)
                rd_kafka_headers_destroy(*hdrs_out);
            *hdrs_out = NULL;
            return ERR_INVALID;
        }
        if (at >= 0) {
            key_off = (size_t)at - header_off + strlen(r->key_sep);
            if (!cp_is_null(r, line + header_off, (size_t)at - header_off)) {
                *key = line + header_off;
                *key_len = (size_t)at - header_off;
            }
        }
    }
    *value = line + header_off + key_off;
    *value_len = len - header_off - key_off;
    if (cp_is_null(r, *value, *value_len)) {
        *value = NULL;
        *value_len = 0;
    }
    return 0;
}

int tool_console_producer_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 0;
    if (tool_optv_parse(argc, argv, cp_opts, CP_OPT_COUNT, &o, cp_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const bool *given = o.given;
    const char *compression = given[CP_COMPRESSION] ? (val[CP_COMPRESSION] ? val[CP_COMPRESSION] : "gzip") : NULL;
    if (!given[CP_TOPIC])
        return tool_usage_error("Missing required argument \"[topic]\"", cp_usage);
    const char *bootstrap = val[CP_BOOTSTRAP] ? val[CP_BOOTSTRAP] : val[CP_BROKER_LIST];
    if (!bootstrap)
        return tool_usage_error("Missing required argument \"[bootstrap-server]\"", cp_usage);
    if (given[CP_LINE_READER] && strcmp(val[CP_LINE_READER], "kafka.tools.ConsoleProducer$LineMessageReader") != 0 &&
        strcmp(val[CP_LINE_READER], "org.apache.kafka.tools.LineMessageReader") != 0)
        return tool_usage_error("Only the default --line-reader (LineMessageReader) is available", cp_usage);

    struct cp_reader reader = { .key_sep = "\t", .headers_delim = "\t", .headers_sep = ",", .headers_key_sep = ":" };
    if (given[CP_READER_CONFIG]) {
        int rc = tool_props_each(val[CP_READER_CONFIG], cp_reader_set_cb, &reader);
        if (rc < 0) {
            if (rc != ERR_INVALID)
                fprintf(stderr, "ERROR cannot read --reader-config file %s: %s\n", val[CP_READER_CONFIG],
                        strerror(-rc));
            return 1;
        }
    }
    for (size_t i = 0; i < o.list_count; i++)
        if (o.list_opt[i] == CP_PROPERTY && cp_reader_set(&reader, o.list_val[i]) < 0)
            return 1;

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap, err, sizeof err);
    if (!conf)
        return cp_fail(err);
    /* defaults of ConsoleProducer, then the file, then -producer-property, then flags */
    static const char *const defaults[][2] = {
        { "client.id", "console-producer" }, { "acks", "-1" },          { "linger.ms", "1000" },
        { "batch.size", "16384" },           { "message.send.max.retries", "3" },
        { "retry.backoff.ms", "100" },       { "request.timeout.ms", "1500" },
        { "topic.metadata.refresh.interval.ms", "300000" },
        { "queue.buffering.max.kbytes", "32768" },
        { "socket.send.buffer.bytes", "102400" }, { "partitioner", "murmur2_random" },
        { "message.timeout.ms", "120000" }, /* Java's delivery.timeout.ms */
        /* librdkafka sticks null-key records to one partition for 2 x
         * linger.ms (2 s here); Java moves on after each batch, so a piped
         * file spreads over the partitions: switch every 10 ms instead */
        { "sticky.partitioning.linger.ms", "10" },
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
        rc = tool_rk_set(conf, defaults[i][0], defaults[i][1], err, sizeof err);
    const char *file = val[CP_PRODUCER_CONFIG] ? val[CP_PRODUCER_CONFIG] : val[CP_COMMAND_CONFIG];
    int max_block_ms = 60000;
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--producer.config", NULL, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < o.list_count; i++)
        if (o.list_opt[i] == CP_PRODUCER_PROPERTY)
            rc = tool_conf_kv_set(conf, o.list_val[i], "--producer-property", "--producer-property", err, sizeof err);
    static const struct { enum cp_opt opt; const char *key; } flag_keys[] = {
        { CP_ACKS, "acks" },
        { CP_TIMEOUT, "linger.ms" },
        { CP_BATCH_SIZE, "batch.size" },
        { CP_MAX_PARTITION_MEMORY, "batch.size" },
        { CP_RETRIES, "message.send.max.retries" },
        { CP_RETRY_BACKOFF, "retry.backoff.ms" },
        { CP_REQUEST_TIMEOUT, "request.timeout.ms" },
        { CP_METADATA_EXPIRY, "topic.metadata.refresh.interval.ms" },
        { CP_SOCKET_BUFFER, "socket.send.buffer.bytes" },
    };
    for (size_t i = 0; rc == 0 && i < sizeof flag_keys / sizeof flag_keys[0]; i++)
        if (given[flag_keys[i].opt])
            rc = tool_rk_set(conf, flag_keys[i].key, val[flag_keys[i].opt], err, sizeof err);
    if (rc == 0 && given[CP_MAX_MEMORY]) {
        long long bytes = atoll(val[CP_MAX_MEMORY]);
        char kb[32];
        snprintf(kb, sizeof kb, "%lld", bytes / 1024 > 0 ? bytes / 1024 : 1);
        rc = tool_rk_set(conf, "queue.buffering.max.kbytes", kb, err, sizeof err);
    }
    if (rc == 0 && compression)
        rc = tool_rk_set(conf, "compression.codec", compression, err, sizeof err);
    if (rc == 0 && given[CP_MAX_BLOCK] && tool_int_parse(val[CP_MAX_BLOCK], 0, 3600000, &max_block_ms) < 0) {
        snprintf(err, sizeof err, "invalid --max-block-ms '%s'", val[CP_MAX_BLOCK]);
        rc = ERR_INVALID;
    }
    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, cp_usage);
    }
    struct cp_state state = { .topic = val[CP_TOPIC] };
    rd_kafka_conf_set_dr_msg_cb(conf, cp_dr_cb);
    if (tool_rk_open(&t, RD_KAFKA_PRODUCER, conf, val[CP_TOPIC], max_block_ms, NULL) < 0)
        return 1;

    /* Ctrl-C / SIGTERM end the input like EOF (getline is interrupted, no
     * SA_RESTART) and what was read is still delivered, as Java's shutdown
     * hook closes (flushes) the producer */
    tool_signals_catch(cp_on_signal);
    bool prompt = isatty(0);
    char *line = NULL;
    size_t cap = 0;
    long line_number = 0;
    for (;;) {
        if (prompt) {
            fputs(">", stdout);
            fflush(stdout);
        }
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0)
            break; /* EOF, or interrupted by a signal */
        line_number++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        rd_kafka_headers_t *hdrs = NULL;
        const char *key, *value;
        size_t key_len, value_len;
        if (cp_parse_line(&reader, line, len, line_number, &hdrs, &key, &key_len, &value, &value_len) < 0) {
            exit_code = 1;
            break;
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                t.rk, RD_KAFKA_V_TOPIC(val[CP_TOPIC]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&state), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(t.rk, 100); /* the Java producer blocks here too */
                continue;
            }
            if (e) {
                if (hdrs)
                    rd_kafka_headers_destroy(hdrs);
                fprintf(stderr, "ERROR Error when sending message to topic %s: %s\n", val[CP_TOPIC],
                        rd_kafka_err2str(e));
                exit_code = 1;
            }
            break;
        }
        if (exit_code)
            break;
        if (given[CP_SYNC])
            (void)rd_kafka_flush(t.rk, max_block_ms > 0 ? max_block_ms : 60000);
        else
            rd_kafka_poll(t.rk, 0);
        if (cp_signal) /* the line read before the signal is sent; stop here */
            break;
    }
    free(line);
    /* Java's close(): wait for everything in flight */
    while (rd_kafka_outq_len(t.rk) > 0)
        (void)rd_kafka_flush(t.rk, 1000); /* ends: message.timeout.ms fails what cannot be sent */
    rd_kafka_poll(t.rk, 0);
    if (state.failed > 0) {
        fprintf(stderr, "ERROR %ld record(s) could not be delivered to topic %s\n", state.failed, val[CP_TOPIC]);
        exit_code = 1;
    }
    tool_rk_destroy(&t);
    if (cp_signal)
        return 128 + cp_signal; /* the JVM's exit code after a signal */
    return exit_code;
}
