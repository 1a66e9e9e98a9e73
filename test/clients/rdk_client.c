/*
 * rdk_client.c - a librdkafka C program that drives one Samsa node through
 * the admin and data APIs a C application uses, and checks every answer.
 *
 *   rdk_client BOOTSTRAP
 *
 * Steps (each prints "ok ..." or "FAIL ..." and a failure exits 1):
 *   1. CreateTopics validate-only (nothing created), then for real with
 *      configs; a duplicate create fails with TOPIC_ALREADY_EXISTS;
 *   2. produce N records per codec (none gzip snappy lz4 zstd) with acks=all,
 *      keys, headers and explicit timestamps; every delivery report is
 *      checked (no error, consecutive offsets);
 *   3. consume every partition with assign() and compare key/value/headers/
 *      timestamp with what was sent;
 *   4. rd_kafka_offsets_for_times on a one-record-per-batch partition (exact
 *      answers), and a future timestamp (end offset / -1);
 *   5. DeleteRecords: the low watermark moves to the requested offset,
 *      consuming from the beginning starts there, and fetching below it
 *      fails with OFFSET_OUT_OF_RANGE;
 *   6. DescribeConfigs / AlterConfigs on a topic (the new value and its
 *      source are visible, configs not named revert to defaults);
 *   7. CreatePartitions grows a topic; a shrink is refused;
 *   8. DeleteTopics removes a topic from Metadata.
 *
 * Invariant: no global mutable state; the delivery report callback writes
 * into a struct passed as the message opaque.
 * Not here: consumer groups (not implemented yet), transactions, SASL/TLS.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define RECORDS_PER_CODEC 300
#define CODEC_COUNT 5
#define SINGLE_COUNT 10
#define TIMEOUT_MS 15000

static const char *const codecs[CODEC_COUNT] = { "none", "gzip", "snappy", "lz4", "zstd" };

struct dr_state {
    int delivered_count;
    int error_count;
    int64_t offsets[RECORDS_PER_CODEC];
    char first_error[256];
};

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        fail("conf %s=%s: %s", k, v, errstr);
}

static rd_kafka_t *client_new(rd_kafka_type_t type, const char *bootstrap, const char *const *kv)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    conf_set(conf, "log_level", "3");
    for (int i = 0; kv && kv[i]; i += 2)
        conf_set(conf, kv[i], kv[i + 1]);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        fail("rd_kafka_new: %s", errstr);
    return rk;
}

/* admin_wait - the next event of type want from q (other events dropped). */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t want)
{
    for (;;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS);
        if (!ev)
            fail("admin request timed out (event type %d)", (int)want);
        if (rd_kafka_event_type(ev) == want) {
            if (rd_kafka_event_error(ev))
                fail("admin request failed: %s", rd_kafka_event_error_string(ev));
            return ev;
        }
        rd_kafka_event_destroy(ev);
    }
}

static rd_kafka_AdminOptions_t *admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op, int validate_only)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    if (rd_kafka_AdminOptions_set_request_timeout(o, TIMEOUT_MS, errstr, sizeof errstr))
        fail("admin options: %s", errstr);
    int has_op_timeout = op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
                         op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS;
    if (has_op_timeout && rd_kafka_AdminOptions_set_operation_timeout(o, TIMEOUT_MS, errstr, sizeof errstr))
        fail("admin options: %s", errstr);
    if (validate_only && rd_kafka_AdminOptions_set_validate_only(o, 1, errstr, sizeof errstr))
        fail("validate_only: %s", errstr);
    return o;
}

/* create_topic - CreateTopics for one topic; returns the topic's error code. */
static rd_kafka_resp_err_t create_topic(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name, int partition_count,
                                        const char *const *configs, int validate_only)
{
    char errstr[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partition_count, 1, errstr, sizeof errstr);
    if (!nt)
        fail("NewTopic %s: %s", name, errstr);
    for (int i = 0; configs && configs[i]; i += 2)
        if (rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]))
            fail("NewTopic_set_config %s", configs[i]);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only);
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n = 0;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || strcmp(rd_kafka_topic_result_name(res[0]), name) != 0)
        fail("CreateTopics %s: %zu results", name, n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    return err;
}

/* topic_partition_count - partitions in Metadata, -1 if the topic is absent. */
static int topic_partition_count(rd_kafka_t *rk, const char *name)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, TIMEOUT_MS);
    if (err)
        fail("metadata: %s", rd_kafka_err2str(err));
    int count = -1;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0 && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            count = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return count;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct dr_state *st = m->_private;
    if (m->err) {
        if (st->error_count++ == 0)
            snprintf(st->first_error, sizeof st->first_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    if (st->delivered_count < RECORDS_PER_CODEC)
        st->offsets[st->delivered_count] = m->offset;
    st->delivered_count++;
}

static void record_fmt(int codec_index, int i, char *key, size_t key_size, char *val, size_t val_size)
{
    snprintf(key, key_size, "k-%s-%d", codecs[codec_index], i % 17);
    int n = snprintf(val, val_size, "value %d of codec %s:", i, codecs[codec_index]);
    for (int j = 0; j < i % 64 && n + 1 < (int)val_size; j++)
        val[n++] = (char)('a' + (i + j) % 26);
    val[n] = '\0';
}

static void produce_codecs(const char *bootstrap, const char *topic, int64_t t0_ms)
{
    for (int c = 0; c < CODEC_COUNT; c++) {
        const char *kv[] = { "acks", "all", "compression.codec", codecs[c], "linger.ms", "5", NULL };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        conf_set(conf, "bootstrap.servers", bootstrap);
        for (int i = 0; kv[i]; i += 2)
            conf_set(conf, kv[i], kv[i + 1]);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        char errstr[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk)
            fail("producer: %s", errstr);
        struct dr_state *st = calloc(1, sizeof *st);
        if (!st)
            fail("calloc");
        for (int i = 0; i < RECORDS_PER_CODEC; i++) {
            char key[64], val[160], hv[32];
            record_fmt(c, i, key, sizeof key, val, sizeof val);
            snprintf(hv, sizeof hv, "%d", i);
            rd_kafka_resp_err_t err;
            do {
                err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(c),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE(val, strlen(val)), RD_KAFKA_V_HEADER("seq", hv, -1),
                                        RD_KAFKA_V_HEADER("codec", codecs[c], -1),
                                        RD_KAFKA_V_TIMESTAMP(t0_ms + i), RD_KAFKA_V_OPAQUE(st), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    rd_kafka_poll(rk, 10);
            } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
            if (err)
                fail("producev %s: %s", codecs[c], rd_kafka_err2str(err));
            rd_kafka_poll(rk, 0);
        }
        if (rd_kafka_flush(rk, TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail("flush %s timed out", codecs[c]);
        if (st->error_count)
            fail("%s: %d delivery errors, first: %s", codecs[c], st->error_count, st->first_error);
        if (st->delivered_count != RECORDS_PER_CODEC)
            fail("%s: %d delivered, want %d", codecs[c], st->delivered_count, RECORDS_PER_CODEC);
        for (int i = 0; i < RECORDS_PER_CODEC; i++)
            if (st->offsets[i] != i)
                fail("%s: record %d acked at offset %" PRId64, codecs[c], i, st->offsets[i]);
        printf("ok produced %d records codec=%s acks=all offsets 0..%d\n", RECORDS_PER_CODEC, codecs[c],
               RECORDS_PER_CODEC - 1);
        free(st);
        rd_kafka_destroy(rk);
    }
}

static rd_kafka_t *consumer_new(const char *bootstrap, const char *reset)
{
    const char *kv[] = { "group.id",       "rdk-client-no-group", "enable.auto.commit", "false",
                         "auto.offset.reset", reset,           "enable.partition.eof", "true",
                         NULL };
    return client_new(RD_KAFKA_CONSUMER, bootstrap, kv);
}

static void assign_one(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
    if (err)
        fail("assign: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

static const char *header_get(rd_kafka_message_t *m, const char *name, char *out, size_t out_size)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t len = 0;
    if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, &len))
        return NULL;
    if (len >= out_size)
        return NULL;
    memcpy(out, v, len);
    out[len] = '\0';
    return out;
}

static void consume_codecs(const char *bootstrap, const char *topic, int64_t t0_ms)
{
    rd_kafka_t *rk = consumer_new(bootstrap, "earliest");
    for (int c = 0; c < CODEC_COUNT; c++) {
        assign_one(rk, topic, c, RD_KAFKA_OFFSET_BEGINNING);
        int got = 0;
        int64_t deadline_ms = now_ms() + TIMEOUT_MS;
        while (got < RECORDS_PER_CODEC) {
            if (now_ms() > deadline_ms)
                fail("consume %s: only %d of %d records", codecs[c], got, RECORDS_PER_CODEC);
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
            if (!m)
                continue;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fail("consume %s: %s", codecs[c], rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            char key[64], val[160], hbuf[32], want_h[32];
            record_fmt(c, got, key, sizeof key, val, sizeof val);
            snprintf(want_h, sizeof want_h, "%d", got);
            rd_kafka_timestamp_type_t tstype;
            int64_t ts = rd_kafka_message_timestamp(m, &tstype);
            if (m->partition != c || m->offset != got)
                fail("consume %s: got p%d@%" PRId64 ", want p%d@%d", codecs[c], (int)m->partition, m->offset, c,
                     got);
            if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) != 0)
                fail("consume %s offset %d: key mismatch", codecs[c], got);
            if (m->len != strlen(val) || memcmp(m->payload, val, m->len) != 0)
                fail("consume %s offset %d: value mismatch", codecs[c], got);
            const char *h = header_get(m, "seq", hbuf, sizeof hbuf);
            if (!h || strcmp(h, want_h) != 0)
                fail("consume %s offset %d: header seq=%s", codecs[c], got, h ? h : "(none)");
            if (!header_get(m, "codec", hbuf, sizeof hbuf) || strcmp(hbuf, codecs[c]) != 0)
                fail("consume %s offset %d: header codec", codecs[c], got);
            if (ts != t0_ms + got || tstype != RD_KAFKA_TIMESTAMP_CREATE_TIME)
                fail("consume %s offset %d: timestamp %" PRId64 " type %d", codecs[c], got, ts, (int)tstype);
            rd_kafka_message_destroy(m);
            got++;
        }
        printf("ok consumed %d records codec=%s with assign(), exact\n", got, codecs[c]);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* produce_singles - one record per request (one batch each) to partition. */
static void produce_singles(const char *bootstrap, const char *topic, int32_t partition, int64_t t0_ms)
{
    const char *kv[] = { "acks", "all", "linger.ms", "0", NULL };
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, bootstrap, kv);
    for (int i = 0; i < SINGLE_COUNT; i++) {
        char val[32];
        snprintf(val, sizeof val, "single-%d", i);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(val, strlen(val)), RD_KAFKA_V_TIMESTAMP(t0_ms + (int64_t)i * 1000), RD_KAFKA_V_END);
        if (err)
            fail("producev single: %s", rd_kafka_err2str(err));
        if (rd_kafka_flush(rk, TIMEOUT_MS))
            fail("flush single %d", i);
    }
    rd_kafka_destroy(rk);
}

static int64_t offset_for_time(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t ts_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = ts_ms;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, TIMEOUT_MS);
    if (err)
        fail("offsets_for_times: %s", rd_kafka_err2str(err));
    if (l->elems[0].err)
        fail("offsets_for_times partition: %s", rd_kafka_err2str(l->elems[0].err));
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

static void watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *lo, int64_t *hi)
{
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, partition, lo, hi, TIMEOUT_MS);
    if (err)
        fail("query_watermark_offsets: %s", rd_kafka_err2str(err));
}

static void delete_records(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, int32_t partition, int64_t before)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = before;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS, 0);
    rd_kafka_DeleteRecords(rk, &dr, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETERECORDS_RESULT);
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (!res || res->cnt != 1)
        fail("DeleteRecords: bad result");
    if (res->elems[0].err)
        fail("DeleteRecords: %s", rd_kafka_err2str(res->elems[0].err));
    if (res->elems[0].offset != before)
        fail("DeleteRecords: low watermark %" PRId64 ", want %" PRId64, res->elems[0].offset, before);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteRecords_destroy(dr);
}

/* first_consumed_offset - offset of the first message from offset, or the
 * error it got (as a negative number below -1000). */
static int64_t first_consumed_offset(const char *bootstrap, const char *topic, int32_t partition, int64_t offset,
                                     const char *reset)
{
    rd_kafka_t *rk = consumer_new(bootstrap, reset);
    assign_one(rk, topic, partition, offset);
    int64_t result = INT64_MIN;
    int64_t deadline_ms = now_ms() + TIMEOUT_MS;
    while (result == INT64_MIN && now_ms() < deadline_ms) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (!m->err)
            result = m->offset;
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            result = -1000 - (int64_t)(m->err < 0 ? -m->err : m->err);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (result == INT64_MIN)
        fail("no message or error consuming %s[%d] from %" PRId64, topic, (int)partition, offset);
    return result;
}

/* describe_config - value of name in topic's config (out empty if absent);
 * *source_out gets the entry's source. */
static void describe_config(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char *name, char *out,
                            size_t out_size, int *source_out, int *entry_count_out)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0);
    rd_kafka_DescribeConfigs(rk, &cr, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0]))
        fail("DescribeConfigs %s: %s", topic, n ? rd_kafka_ConfigResource_error_string(res[0]) : "no result");
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &cnt);
    out[0] = '\0';
    *source_out = -1;
    for (size_t i = 0; i < cnt; i++) {
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) == 0) {
            const char *v = rd_kafka_ConfigEntry_value(entries[i]);
            snprintf(out, out_size, "%s", v ? v : "(null)");
            *source_out = (int)rd_kafka_ConfigEntry_source(entries[i]);
        }
    }
    *entry_count_out = (int)cnt;
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
}

static void alter_config(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char *name, const char *value)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    if (rd_kafka_ConfigResource_set_config(cr, name, value))
        fail("ConfigResource_set_config");
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, 0);
    rd_kafka_AlterConfigs(rk, &cr, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0]))
        fail("AlterConfigs %s: %s", topic, n ? rd_kafka_ConfigResource_error_string(res[0]) : "no result");
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
}

static rd_kafka_resp_err_t create_partitions(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, int total)
{
    char errstr[256];
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(topic, (size_t)total, errstr, sizeof errstr);
    if (!np)
        fail("NewPartitions: %s", errstr);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, 0);
    rd_kafka_CreatePartitions(rk, &np, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    if (n != 1)
        fail("CreatePartitions: %zu results", n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(np);
    return err;
}

static rd_kafka_resp_err_t delete_topic(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, 0);
    rd_kafka_DeleteTopics(rk, &dt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t n = 0;
    const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n != 1)
        fail("DeleteTopics: %zu results", n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy(dt);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rdk_client BOOTSTRAP\n");
        return 2;
    }
    const char *bs = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("librdkafka %s\n", rd_kafka_version_str());
    rd_kafka_t *admin = client_new(RD_KAFKA_PRODUCER, bs, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin);
    const char *const data = "rdk-data";
    const char *const cfgt = "rdk-configs";

    /* 1. CreateTopics */
    const char *cfg[] = { "retention.ms", "86400000", "segment.bytes", "1048576", NULL };
    rd_kafka_resp_err_t err = create_topic(admin, q, "rdk-dry-run", 4, cfg, 1);
    if (err)
        fail("validate-only create: %s", rd_kafka_err2str(err));
    if (topic_partition_count(admin, "rdk-dry-run") != -1)
        fail("validate-only create made the topic");
    if ((err = create_topic(admin, q, data, CODEC_COUNT + 1, cfg, 0)))
        fail("create %s: %s", data, rd_kafka_err2str(err));
    if ((err = create_topic(admin, q, cfgt, 2, cfg, 0)))
        fail("create %s: %s", cfgt, rd_kafka_err2str(err));
    if (topic_partition_count(admin, data) != CODEC_COUNT + 1)
        fail("%s has %d partitions", data, topic_partition_count(admin, data));
    err = create_topic(admin, q, data, 1, NULL, 0);
    if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        fail("duplicate create: %s, want TOPIC_ALREADY_EXISTS", rd_kafka_err2name(err));
    const char *badcfg[] = { "no.such.config", "1", NULL };
    err = create_topic(admin, q, "rdk-badcfg", 1, badcfg, 0);
    if (err != RD_KAFKA_RESP_ERR_INVALID_CONFIG)
        fail("create with unknown config: %s, want INVALID_CONFIG", rd_kafka_err2name(err));
    printf("ok CreateTopics (validate-only, configs, duplicate, unknown config)\n");

    /* 2-3. produce and consume every codec */
    int64_t t0_ms = now_ms() - 3600 * 1000;
    produce_codecs(bs, data, t0_ms);
    consume_codecs(bs, data, t0_ms);

    /* 4. offsets_for_times on one-record batches */
    int32_t sp = CODEC_COUNT;
    produce_singles(bs, data, sp, t0_ms);
    for (int i = 0; i < SINGLE_COUNT; i += 3) {
        int64_t off = offset_for_time(admin, data, sp, t0_ms + (int64_t)i * 1000 - 500);
        if (off != i)
            fail("offsets_for_times(t0+%d.5s) = %" PRId64 ", want %d", i - 1, off, i);
    }
    if (offset_for_time(admin, data, sp, t0_ms) != 0)
        fail("offsets_for_times(t0) != 0");
    int64_t fut = offset_for_time(admin, data, sp, now_ms() + 3600 * 1000);
    if (fut != -1 && fut != SINGLE_COUNT)
        fail("offsets_for_times(future) = %" PRId64 ", want -1 or end", fut);
    printf("ok offsets_for_times exact on single-record batches, future -> %" PRId64 "\n", fut);

    /* 5. DeleteRecords on the uncompressed partition (0) */
    int64_t lo, hi;
    watermarks(admin, data, 0, &lo, &hi);
    if (lo != 0 || hi != RECORDS_PER_CODEC)
        fail("watermarks before delete %" PRId64 "/%" PRId64, lo, hi);
    delete_records(admin, q, data, 0, 120);
    watermarks(admin, data, 0, &lo, &hi);
    if (lo != 120 || hi != RECORDS_PER_CODEC)
        fail("watermarks after delete %" PRId64 "/%" PRId64 ", want 120/%d", lo, hi, RECORDS_PER_CODEC);
    int64_t first = first_consumed_offset(bs, data, 0, RD_KAFKA_OFFSET_BEGINNING, "earliest");
    if (first != 120)
        fail("first offset from beginning after DeleteRecords: %" PRId64 ", want 120", first);
    int64_t below = first_consumed_offset(bs, data, 0, 50, "error");
    if (below >= 0)
        fail("fetch at offset 50 (below low watermark) returned offset %" PRId64, below);
    printf("ok DeleteRecords: low watermark 0 -> 120, beginning = 120, fetch below fails (%" PRId64 ")\n", below);

    /* 6. DescribeConfigs / AlterConfigs */
    char v[128];
    int src, cnt;
    describe_config(admin, q, cfgt, "retention.ms", v, sizeof v, &src, &cnt);
    if (strcmp(v, "86400000") != 0 || src != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
        fail("describe retention.ms = %s source %d", v, src);
    describe_config(admin, q, cfgt, "cleanup.policy", v, sizeof v, &src, &cnt);
    if (strcmp(v, "delete") != 0 || src != RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG)
        fail("describe cleanup.policy = %s source %d, want delete/default", v, src);
    alter_config(admin, q, cfgt, "retention.ms", "1234567");
    describe_config(admin, q, cfgt, "retention.ms", v, sizeof v, &src, &cnt);
    if (strcmp(v, "1234567") != 0 || src != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
        fail("after AlterConfigs retention.ms = %s source %d", v, src);
    /* AlterConfigs replaces the whole set: segment.bytes falls back to its default */
    describe_config(admin, q, cfgt, "segment.bytes", v, sizeof v, &src, &cnt);
    if (src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
        fail("segment.bytes still dynamic (%s) after a non-incremental AlterConfigs", v);
    printf("ok DescribeConfigs/AlterConfigs (%d entries)\n", cnt);

    /* 7. CreatePartitions */
    if ((err = create_partitions(admin, q, cfgt, 5)))
        fail("CreatePartitions 2->5: %s", rd_kafka_err2str(err));
    if (topic_partition_count(admin, cfgt) != 5)
        fail("after CreatePartitions: %d partitions", topic_partition_count(admin, cfgt));
    err = create_partitions(admin, q, cfgt, 3);
    if (err != RD_KAFKA_RESP_ERR_INVALID_PARTITIONS)
        fail("shrink to 3: %s, want INVALID_PARTITIONS", rd_kafka_err2name(err));
    printf("ok CreatePartitions 2 -> 5, shrink refused\n");

    /* 8. DeleteTopics */
    if ((err = delete_topic(admin, q, cfgt)))
        fail("DeleteTopics: %s", rd_kafka_err2str(err));
    int64_t deadline_ms = now_ms() + TIMEOUT_MS;
    while (topic_partition_count(admin, cfgt) != -1 && now_ms() < deadline_ms)
        rd_kafka_poll(admin, 50); /* deletion propagates to Metadata asynchronously in Kafka */
    if (topic_partition_count(admin, cfgt) != -1)
        fail("%s still in Metadata after DeleteTopics", cfgt);
    if ((err = delete_topic(admin, q, cfgt)) != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        fail("second delete: %s, want UNKNOWN_TOPIC_OR_PART", rd_kafka_err2name(err));
    printf("ok DeleteTopics\n");

    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(admin);
    printf("rdk_client: all checks passed\n");
    return 0;
}
