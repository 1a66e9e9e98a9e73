/*
 * verifiable_producer.c - kafka-verifiable-producer: sends the values
 * 0, 1, 2, ... (or "<prefix>.<n>" with --value-prefix) to --topic and
 * prints one JSON event per line on stdout, as Kafka's VerifiableProducer
 * does; fault tests read these events to know exactly what was acked.
 *
 * Events, in Kafka's order: {"timestamp":T,"name":"startup_complete"};
 * per record {"timestamp":T,"name":"producer_send_success","key":null,
 * "value":"0","partition":0,"topic":"t","offset":4} or
 * {"timestamp":T,"name":"producer_send_error","key":...,"value":...,
 * "topic":"t","exception":"class org.apache.kafka.common.errors.X",
 * "message":"..."}; at the end (after --max-messages, EOF of the run, or
 * SIGINT/SIGTERM) {"name":"shutdown_complete"} then {"name":"tool_data",
 * "sent":N,"acked":N,"target_throughput":N,"avg_throughput":D}.
 *
 * Flags as Kafka's: --topic, --bootstrap-server (or --broker-list),
 * --max-messages (-1: until stopped), --throughput (records/s, -1: no
 * limit), --acks (-1), --producer.config (or --command-config),
 * --message-create-time (ms, -1: now), --value-prefix N, --repeating-keys
 * N (keys "0".."N-1" in turn); any unambiguous prefix (--max-message).
 * Like Kafka, retries are off, so a failed send is reported, not hidden.
 * Each line is flushed as it is written.
 */
#include "tools/verifiable_producer.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/tool_common.h"
#include "tools/tool_rk.h"

enum vp_opt {
    VP_TOPIC, VP_BOOTSTRAP, VP_BROKER_LIST, VP_MAX_MESSAGES, VP_THROUGHPUT, VP_ACKS, VP_PRODUCER_CONFIG,
    VP_COMMAND_CONFIG, VP_CREATE_TIME, VP_VALUE_PREFIX, VP_REPEATING_KEYS, VP_HELP, VP_VERSION, VP_OPT_COUNT
};

static const struct tool_optdef vp_opts[VP_OPT_COUNT] = {
    [VP_TOPIC] = { "topic", true },
    [VP_BOOTSTRAP] = { "bootstrap-server", true },
    [VP_BROKER_LIST] = { "broker-list", true },
    [VP_MAX_MESSAGES] = { "max-messages", true },
    [VP_THROUGHPUT] = { "throughput", true },
    [VP_ACKS] = { "acks", true },
    [VP_PRODUCER_CONFIG] = { "producer.config", true },
    [VP_COMMAND_CONFIG] = { "command-config", true },
    [VP_CREATE_TIME] = { "message-create-time", true },
    [VP_VALUE_PREFIX] = { "value-prefix", true },
    [VP_REPEATING_KEYS] = { "repeating-keys", true },
    [VP_HELP] = { "help", false },
    [VP_VERSION] = { "version", false },
};

static void vp_usage(FILE *out)
{
    fprintf(out,
            "usage: verifiable-producer [-h] --topic TOPIC (--bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]] |\n"
            "       --broker-list HOST1:PORT1[,HOST2:PORT2[...]]) [--max-messages MAX-MESSAGES]\n"
            "       [--throughput THROUGHPUT] [--acks ACKS] [--producer.config CONFIG_FILE]\n"
            "       [--message-create-time CREATETIME] [--value-prefix VALUE-PREFIX]\n"
            "       [--repeating-keys REPEATING-KEYS]\n\n"
            "This tool produces increasing integers to the specified topic and prints JSON metadata to stdout on\n"
            "each \"send\" request, making externally visible which messages have been acked and which have not.\n\n"
            "  --topic TOPIC          Produce messages to this topic.\n"
            "  --bootstrap-server     REQUIRED: The server(s) to connect to.\n"
            "  --broker-list          DEPRECATED, use --bootstrap-server instead.\n"
            "  --max-messages N       Produce this many messages. If -1, produce messages until the process is\n"
            "                         killed externally. (default: -1)\n"
            "  --throughput N         If set >= 0, throttle maximum message throughput to *approximately*\n"
            "                         THROUGHPUT messages/sec. (default: -1)\n"
            "  --acks ACKS            Acks required on each produced message. (default: -1)\n"
            "  --producer.config F    Producer config properties file (also --command-config).\n"
            "  --message-create-time  Send messages with creation time starting at this value (ms). (default: -1)\n"
            "  --value-prefix N       If specified, each produced value will have this prefix with a dot\n"
            "                         separator.\n"
            "  --repeating-keys N     If specified, each produced record will have a key starting at 0\n"
            "                         increment by 1 up to the number specified (exclusive), then the key is\n"
            "                         set to 0 again.\n");
}

struct vp_state {
    const char *topic;
    long acked;
};

static volatile sig_atomic_t vp_stop;

static void vp_on_signal(int sig)
{
    vp_stop = sig;
}

static const char *vp_exception(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: return "class org.apache.kafka.common.errors.TimeoutException";
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        return "class org.apache.kafka.common.errors.NotEnoughReplicasException";
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        return "class org.apache.kafka.common.errors.NotLeaderOrFollowerException";
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return "class org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: return "class org.apache.kafka.common.errors.RecordTooLargeException";
    default: return "class org.apache.kafka.common.KafkaException";
    }
}

static void vp_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct vp_state *s = m->_private;
    printf("{\"timestamp\":%lld,\"name\":\"%s\",\"key\":", (long long)tool_wall_ms(),
           m->err ? "producer_send_error" : "producer_send_success");
    tool_json_string(stdout, m->key, m->key_len);
    fputs(",\"value\":", stdout);
    tool_json_string(stdout, m->payload, m->len);
    if (!m->err) {
        s->acked++;
        printf(",\"partition\":%d,\"topic\":", (int)m->partition);
        tool_json_string(stdout, s->topic, strlen(s->topic));
        printf(",\"offset\":%lld}\n", (long long)m->offset);
    } else {
        fputs(",\"topic\":", stdout);
        tool_json_string(stdout, s->topic, strlen(s->topic));
        printf(",\"exception\":\"%s\",\"message\":", vp_exception(m->err));
        const char *why = rd_kafka_err2str(m->err);
        tool_json_string(stdout, why, strlen(why));
        fputs("}\n", stdout);
    }
}

static int vp_long(const char *s, long min, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < min)
        return ERR_INVALID;
    *out = v;
    return 0;
}

int tool_verifiable_producer_main(int argc, char **argv)
{
    struct tool_optv o;
    int exit_code = 1;
    if (tool_optv_parse(argc, argv, vp_opts, VP_OPT_COUNT, &o, vp_usage, &exit_code))
        return exit_code;
    const char *const *val = o.val;
    const char *bootstrap = val[VP_BOOTSTRAP] ? val[VP_BOOTSTRAP] : val[VP_BROKER_LIST];
    if (!val[VP_TOPIC])
        return tool_usage_error("argument --topic is required", vp_usage);
    if (!bootstrap)
        return tool_usage_error("one of the arguments --bootstrap-server --broker-list is required", vp_usage);
    long max_messages = -1, throughput = -1, create_time = -1, repeating_keys = 0, value_prefix = -1;
    if ((val[VP_MAX_MESSAGES] && vp_long(val[VP_MAX_MESSAGES], -1, &max_messages) < 0) ||
        (val[VP_THROUGHPUT] && vp_long(val[VP_THROUGHPUT], -1, &throughput) < 0) ||
        (val[VP_CREATE_TIME] && vp_long(val[VP_CREATE_TIME], -1, &create_time) < 0) ||
        (val[VP_REPEATING_KEYS] && vp_long(val[VP_REPEATING_KEYS], 1, &repeating_keys) < 0) ||
        (val[VP_VALUE_PREFIX] && vp_long(val[VP_VALUE_PREFIX], 0, &value_prefix) < 0))
        return tool_usage_error("argument: a number is expected (--max-messages, --throughput, "
                                "--message-create-time >= -1; --repeating-keys >= 1; --value-prefix >= 0)",
                                vp_usage);

    char err[TOOL_ERRSTR_MAX] = "";
    struct tool_rk t;
    rd_kafka_conf_t *conf = tool_rk_conf_create(&t, bootstrap, err, sizeof err);
    int rc = conf ? 0 : ERR_INVALID;
    static const char *const defaults[][2] = {
        { "client.id", "verifiable-producer" }, { "partitioner", "murmur2_random" },
        { "message.send.max.retries", "0" },     { "linger.ms", "0" },
        { "message.timeout.ms", "120000" },
    };
    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
        rc = tool_rk_set(conf, defaults[i][0], defaults[i][1], err, sizeof err);
    const char *file = val[VP_PRODUCER_CONFIG] ? val[VP_PRODUCER_CONFIG] : val[VP_COMMAND_CONFIG];
    if (rc == 0 && file)
        rc = tool_conf_file_apply(conf, file, "--producer.config", NULL, err, sizeof err);
    if (rc == 0)
        rc = tool_rk_set(conf, "acks", val[VP_ACKS] ? val[VP_ACKS] : "-1", err, sizeof err);
    if (rc < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return tool_usage_error(err, vp_usage);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, vp_dr_cb);
    if (tool_rk_open(&t, RD_KAFKA_PRODUCER, conf, val[VP_TOPIC], 60000, NULL) < 0)
        return 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    tool_signals_catch(vp_on_signal);

    struct vp_state state = { .topic = val[VP_TOPIC] };
    printf("{\"timestamp\":%lld,\"name\":\"startup_complete\"}\n", (long long)tool_wall_ms());
    int64_t start_ms = tool_now_ms();
    long sent = 0;
    long key_counter = 0;
    for (long i = 0; !vp_stop && (max_messages < 0 || i < max_messages); i++) {
        if (throughput > 0) { /* Kafka's ThroughputThrottler: never ahead of N/s */
            for (;;) {
                int64_t due_ms = start_ms + (int64_t)(i * 1000 / throughput);
                int64_t wait_ms = due_ms - tool_now_ms();
                if (wait_ms <= 0 || vp_stop)
                    break;
                rd_kafka_poll(t.rk, (int)(wait_ms < 100 ? wait_ms : 100));
            }
            if (vp_stop)
                break;
        }
        char value[64], key[32];
        if (value_prefix >= 0)
            snprintf(value, sizeof value, "%ld.%ld", value_prefix, i);
        else
            snprintf(value, sizeof value, "%ld", i);
        const char *k = NULL;
        if (repeating_keys > 0) {
            snprintf(key, sizeof key, "%ld", key_counter);
            k = key;
            key_counter = (key_counter + 1) % repeating_keys;
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                t.rk, RD_KAFKA_V_TOPIC(val[VP_TOPIC]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(k, k ? strlen(k) : 0), RD_KAFKA_V_VALUE(value, strlen(value)),
                RD_KAFKA_V_TIMESTAMP(create_time >= 0 ? create_time + i : 0), RD_KAFKA_V_OPAQUE(&state),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !vp_stop) {
                rd_kafka_poll(t.rk, 100);
                continue;
            }
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                sent++;
            break;
        }
        rd_kafka_poll(t.rk, 0);
    }
    while (rd_kafka_outq_len(t.rk) > 0)
        (void)rd_kafka_flush(t.rk, 1000);
    rd_kafka_poll(t.rk, 0);
    printf("{\"timestamp\":%lld,\"name\":\"shutdown_complete\"}\n", (long long)tool_wall_ms());
    int64_t elapsed_ms = tool_now_ms() - start_ms;
    printf("{\"timestamp\":%lld,\"name\":\"tool_data\",\"sent\":%ld,\"acked\":%ld,\"target_throughput\":%ld,"
           "\"avg_throughput\":",
           (long long)tool_wall_ms(), sent, state.acked, throughput);
    tool_json_double(stdout, elapsed_ms > 0 ? 1000.0 * (double)state.acked / (double)elapsed_ms : 0.0);
    fputs("}\n", stdout);
    tool_rk_destroy(&t);
    return vp_stop ? 128 + vp_stop : 0; /* the JVM's exit code after a signal */
}
