/*
 * samsa_load.c - the load generator behind `make bench`: produce
 * throughput, produce latency and backlog consume throughput through
 * librdkafka, against a real broker or against librdkafka's in-process mock
 * cluster, so Samsa's numbers always sit next to a peer's measured the same
 * way on the same machine in the same run.
 *
 *   samsa_load (--bootstrap HOST:PORT [--broker-pid PID[,PID...]] | --mock)
 *              [--label NAME] [--reps N (5)] [--partitions N] [--consume-partitions N]
 *              [--backlog-bytes PER_PARTITION]
 *              [--small-count N] [--large-count N] [--phase-max-s S]
 *              [--lat-rate MSGS_PER_S] [--lat-seconds S] [--lat-size BYTES]
 *              [--acks 1|all (1)] [--replication-factor N (1)] [--produce-size 100|1024]
 *              [--topic-config KEY=VALUE (the topics it creates; e.g. samsa.acks.all.fsync=true)]
 *              [--e2e-mbps MB_PER_S (10)] [--e2e-seconds S (10)] [--e2e-size BYTES (1024)]
 *              [--e2e-fetch-wait-ms MS (100)]
 *              [--only produce|consume|latency|e2e]   (one phase; e2e runs only when asked)
 *
 * Each repetition runs, on fresh topics:
 *   produce  100 B records  (--small-count, default 5,000,000: about 2 s)
 *   produce  1 KiB records  (--large-count, default 1,000,000: about 1 s)
 *   consume  a backlog of each size from offset 0 with a fresh consumer (assign,
 *            no group joined): the backlog is produced untimed first, 4 MB of
 *            values (--backlog-bytes) in each of --consume-partitions (default
 *            32) partitions,
 *            because librdkafka's mock keeps only the newest 5 MiB of a
 *            partition (rdkafka_mock.c, max_size) and both targets get the
 *            same shape; the consumer fetches the topic's metadata before
 *            the clock starts (else assign() waits 500 ms in librdkafka)
 *   latency  --lat-rate msgs/s (default 1000) of --lat-size B (default 1024) for
 *            --lat-seconds (default 5), linger.ms=0, acks=1; per-message
 *            delivery-report latency, p50/p99/max
 *   e2e      (only with --only e2e) end-to-end latency: --e2e-mbps of
 *            --e2e-size records for --e2e-seconds, paced, linger.ms=1, with
 *            --acks; a consumer in the same process (assign from the start,
 *            fetch.wait.max.ms=--e2e-fetch-wait-ms: librdkafka's mock answers
 *            a fetch with no data only after that wait, never on an append, so
 *            its e2e latency is about uniform in [0, wait]) reads them; each
 *            record carries its send
 *            time, latency = receipt - send; the first second is warm-up and
 *            not counted; p50/p99/p99.9/max over the rest
 * and prints one machine-readable line per phase:
 *
 *   RESULT target=T rep=R phase=produce|consume size=B msgs=N bytes=N secs=S
 *          mbps=M msgps=M errors=N broker_cpu_s=C broker_cpu_s_per_gb=C client_cpu_s=C
 *          machine_idle_s=I
 *   RESULT target=T rep=R phase=latency size=B rate=R msgs=N errors=N p50_ms=.. p99_ms=.. max_ms=..
 *   RESULT target=T rep=R phase=e2e size=B mbps=M msgs=N errors=N p50_ms=.. p99_ms=.. p999_ms=.. max_ms=..
 *          broker_cpu_s=C fetch_wait_ms=W
 *
 * MB is 10^6 bytes; bytes count record values only.  Throughput phases are
 * capped by --phase-max-s of producing (default 10 s) so a slow broker
 * cannot blow the bench's time budget: the phase then reports what it did.
 *
 * Broker CPU is utime+stime from /proc/<pid>/stat around the phase, summed over
 * every --broker-pid (a cluster: all its nodes, leaders and followers).  For the
 * mock it is the sum over this process's threads named "rdk:mock*" (the
 * mock cluster's own threads), so both targets are charged comparably;
 * client_cpu_s is this process's CPU minus that.  machine_idle_s is the
 * idle + iowait time of all CPUs (/proc/stat) during the phase: close to 0
 * means the phase was CPU-bound and broker and load generator shared it.
 *
 * The producer is tuned to stay out of the broker's way: linger.ms=10,
 * batch.size=1000000, a 1 GiB queue, no compression, acks=1, payloads
 * passed without copying (acks and the topics' replication factor are
 * options: the cluster part of the bench uses acks=all and RF 3).  Each phase
 * first sends and flushes one warm-up
 * record so connection set-up and metadata are not timed.
 *
 * It does not test correctness beyond counting: every delivery report must
 * be a success and the consumer must read back exactly what was produced,
 * else errors= is non-zero and the exit status is 1.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define LOAD_PARTITIONS_MAX 64
#define LOAD_LAT_SAMPLES_MAX 1000000
#define LOAD_RECORD_BYTES_MAX (1024 * 1024)
#define LOAD_BACKLOG_PARTITION_BYTES_DEFAULT 4000000
#define LOAD_CONSUME_BATCH_MAX 4096
#define LOAD_BROKER_PIDS_MAX 8

enum { LOAD_PHASE_PRODUCE = 1, LOAD_PHASE_CONSUME = 2, LOAD_PHASE_LATENCY = 4, LOAD_PHASE_E2E = 8 };

struct load_opts {
    const char *bootstrap;
    const char *label;
    int mock;
    long broker_pids[LOAD_BROKER_PIDS_MAX];
    int broker_pid_count;
    const char *acks;
    int replication_factor;
    const char *topic_config; /* KEY=VALUE for the topics created, or NULL */
    int produce_size; /* 0: both sizes */
    double e2e_mbps;
    double e2e_seconds;
    int e2e_size;
    const char *e2e_fetch_wait_ms;
    int reps;
    int first_rep; /* the number printed for the first repetition (run-bench alternates targets per rep) */
    int partitions;
    int cons_partitions;
    long backlog_partition_bytes;
    long small_count;
    long large_count;
    double phase_max_s;
    double lat_rate;
    double lat_seconds;
    int lat_size;
    unsigned phase_mask; /* LOAD_PHASE_* to run */
};

struct load_ctx {
    struct load_opts o;
    rd_kafka_t *mock_rk;
    rd_kafka_mock_cluster_t *mcluster;
    char bootstrap[512];
    unsigned char *payload;
    long clk_tck;
    int failures;
};

/* Delivery-report tally for one producer; rd_kafka_opaque() points here. */
struct load_dr {
    long ok_count;
    long err_count;
    uint64_t bytes;
    rd_kafka_resp_err_t first_err;
    /* latency mode: send times in, latencies out, indexed by msg opaque */
    int64_t *sent_ns;
    int64_t *lat_ns;
};

static int64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* utime+stime in clock ticks of one /proc stat file, or -1. */
static long long load_stat_ticks(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[2048];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* comm may contain spaces and parentheses: fields restart after the last ')' */
    char *p = strrchr(line, ')');
    if (!p)
        return -1;
    p++;
    unsigned long long utime = 0, stime = 0;
    /* after ')': state(3) ... utime is field 14, stime 15 */
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            return (long long)(utime + stime);
        }
    }
    return -1;
}

/* CPU ticks of this process's mock-cluster threads (comm "rdk:mock..."). */
static long long load_mock_ticks(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    long long sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        char comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "rdk:mock", 8) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        long long t = load_stat_ticks(path);
        if (t > 0)
            sum += t;
    }
    closedir(d);
    return sum;
}

static long long load_broker_ticks(const struct load_ctx *c)
{
    if (c->o.mock)
        return load_mock_ticks();
    if (c->o.broker_pid_count == 0)
        return -1;
    long long sum = 0;
    for (int i = 0; i < c->o.broker_pid_count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/stat", c->o.broker_pids[i]);
        long long t = load_stat_ticks(path);
        if (t < 0)
            return -1;
        sum += t;
    }
    return sum;
}

static double load_self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static int load_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "samsa_load: config %s=%s: %s\n", k, v, err);
        return -EINVAL;
    }
    return 0;
}

static void load_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct load_dr *dr = opaque;
    if (m->err) {
        if (dr->err_count++ == 0)
            dr->first_err = m->err;
        return;
    }
    dr->ok_count++;
    dr->bytes += m->len;
    if (dr->lat_ns) {
        size_t i = (size_t)(uintptr_t)m->_private;
        dr->lat_ns[i] = load_now_ns() - dr->sent_ns[i];
    }
}

static rd_kafka_t *load_producer_create(const struct load_ctx *c, struct load_dr *dr, const char *linger_ms)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
    rc |= load_conf_set(conf, "bootstrap.servers", c->bootstrap);
    rc |= load_conf_set(conf, "acks", c->o.acks);
    rc |= load_conf_set(conf, "linger.ms", linger_ms);
    rc |= load_conf_set(conf, "batch.size", "1000000");
    rc |= load_conf_set(conf, "batch.num.messages", "1000000");
    rc |= load_conf_set(conf, "queue.buffering.max.kbytes", "1048576");
    rc |= load_conf_set(conf, "queue.buffering.max.messages", "10000000");
    rc |= load_conf_set(conf, "compression.codec", "none");
    rc |= load_conf_set(conf, "enable.idempotence", "false");
    rc |= load_conf_set(conf, "message.timeout.ms", "60000");
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, load_dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "samsa_load: producer: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Check one admin result list (CreateTopics or DeleteTopics); `ok` is an
 * error that counts as success (TOPIC_ALREADY_EXISTS on create). */
static int load_admin_topics_ok(const char *what, const char *topic, const rd_kafka_topic_result_t **tr, size_t cnt,
                                rd_kafka_resp_err_t ok)
{
    int rc = 0;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != ok) {
            fprintf(stderr, "samsa_load: %s %s: %s\n", what, topic, rd_kafka_err2str(e));
            rc = -EIO;
        }
    }
    return rc;
}

/* Create (partitions > 0) or delete (partitions == 0) a topic on a broker
 * through the AdminClient, and wait for the answer. */
static int load_topic_admin(struct load_ctx *c, const char *topic, int partitions)
{
    const char *what = partitions > 0 ? "CreateTopics" : "DeleteTopics";
    struct load_dr dr = {0};
    rd_kafka_t *rk = load_producer_create(c, &dr, "0");
    if (!rk)
        return -EIO;
    char err[256];
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(
        rk, partitions > 0 ? RD_KAFKA_ADMIN_OP_CREATETOPICS : RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 10000, err, sizeof err);
    rd_kafka_NewTopic_t *nt = NULL;
    rd_kafka_DeleteTopic_t *dt = NULL;
    if (partitions > 0) {
        nt = rd_kafka_NewTopic_new(topic, partitions, c->o.replication_factor, err, sizeof err);
        if (nt && c->o.topic_config) {
            char kv[256];
            snprintf(kv, sizeof kv, "%s", c->o.topic_config);
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                if (rd_kafka_NewTopic_set_config(nt, kv, eq + 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
                    fprintf(stderr, "samsa_load: topic config %s not set\n", c->o.topic_config);
            }
        }
        rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    } else {
        dt = rd_kafka_DeleteTopic_new(topic);
        rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
    }
    int rc = -ETIMEDOUT;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev && rd_kafka_event_error(ev)) {
        fprintf(stderr, "samsa_load: %s %s: %s\n", what, topic, rd_kafka_event_error_string(ev));
        rc = -EIO;
    } else if (ev) {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr;
        if (partitions > 0)
            tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        else
            tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        rc = load_admin_topics_ok(what, topic, tr, cnt,
                                  partitions > 0 ? RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS : RD_KAFKA_RESP_ERR_NO_ERROR);
    } else {
        fprintf(stderr, "samsa_load: %s %s: timed out\n", what, topic);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    if (dt)
        rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* Create a topic: directly in the mock, through CreateTopics on a broker. */
static int load_topic_create(struct load_ctx *c, const char *topic, int partitions)
{
    if (c->o.mock) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(c->mcluster, topic, partitions, 1);
        if (e) {
            fprintf(stderr, "samsa_load: mock topic %s: %s\n", topic, rd_kafka_err2str(e));
            return -EIO;
        }
        return 0;
    }
    return load_topic_admin(c, topic, partitions);
}

/* A phase's topic is done with: a broker deletes it (its files, and so its
 * page-cache pages, go away), so every repetition starts from the same
 * state instead of writing into ever more memory.  The mock keeps only the
 * newest 5 MiB per partition, so it needs nothing. */
static int load_topic_done(struct load_ctx *c, const char *topic)
{
    return c->o.mock ? 0 : load_topic_admin(c, topic, 0);
}

/* Produce one record per partition and wait for it: connections and metadata warm. */
static int load_warm_up(rd_kafka_t *rk, struct load_dr *dr, const char *topic, int partitions)
{
    for (int p = 0; p < partitions; p++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
                                                  RD_KAFKA_V_VALUE("warm", 4), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "samsa_load: warm-up produce: %s\n", rd_kafka_err2str(e));
            return -EIO;
        }
    }
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || dr->err_count != 0) {
        fprintf(stderr, "samsa_load: warm-up to %s failed: %s\n", topic,
                dr->err_count ? rd_kafka_err2str(dr->first_err) : "flush timed out");
        return -EIO;
    }
    *dr = (struct load_dr){.sent_ns = dr->sent_ns, .lat_ns = dr->lat_ns};
    return 0;
}

struct load_cpu {
    long long broker_ticks0;
    double self_s0;
    long long idle_ticks0;
};

/* Idle + iowait ticks of the whole machine (/proc/stat), -1 if unreadable.  Idle time during a
 * phase means the phase was not CPU-bound: something waited (the network, the disk, a timer). */
static long long load_machine_idle_ticks(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    long long user, nice, sys, idle, iowait;
    int n = fscanf(f, "cpu %lld %lld %lld %lld %lld", &user, &nice, &sys, &idle, &iowait);
    fclose(f);
    return n == 5 ? idle + iowait : -1;
}

static void load_cpu_begin(const struct load_ctx *c, struct load_cpu *cpu)
{
    cpu->broker_ticks0 = load_broker_ticks(c);
    cpu->self_s0 = load_self_cpu_s();
    cpu->idle_ticks0 = load_machine_idle_ticks();
}

static void load_cpu_end(const struct load_ctx *c, const struct load_cpu *cpu, double *broker_s, double *client_s,
                         double *idle_s)
{
    long long t1 = load_broker_ticks(c);
    long long idle1 = load_machine_idle_ticks();
    *idle_s = cpu->idle_ticks0 >= 0 && idle1 >= 0 ? (double)(idle1 - cpu->idle_ticks0) / (double)c->clk_tck : -1;
    double self_s = load_self_cpu_s() - cpu->self_s0;
    *broker_s = -1;
    if (cpu->broker_ticks0 >= 0 && t1 >= 0)
        *broker_s = (double)(t1 - cpu->broker_ticks0) / (double)c->clk_tck;
    *client_s = self_s - (c->o.mock && *broker_s > 0 ? *broker_s : 0);
}

static void load_report(struct load_ctx *c, int rep, const char *phase, int size, long msgs, uint64_t bytes,
                        double secs, long errors, double broker_s, double client_s, double idle_s)
{
    double gb = (double)bytes / 1e9;
    printf("RESULT target=%s rep=%d phase=%s size=%d msgs=%ld bytes=%" PRIu64
           " secs=%.3f mbps=%.2f msgps=%.0f errors=%ld broker_cpu_s=%.2f broker_cpu_s_per_gb=%.2f"
           " client_cpu_s=%.2f machine_idle_s=%.2f\n",
           c->o.label, rep, phase, size, msgs, bytes, secs, secs > 0 ? (double)bytes / 1e6 / secs : 0,
           secs > 0 ? (double)msgs / secs : 0, errors, broker_s, broker_s >= 0 && gb > 0 ? broker_s / gb : -1,
           client_s, idle_s);
    fflush(stdout);
    if (errors)
        c->failures++;
}

/* Produce up to count records of size bytes (or until phase_max_s); *produced gets the count acked. */
static int load_produce_phase(struct load_ctx *c, int rep, const char *topic, int partitions, int size,
                              long count, int report, long *acked)
{
    struct load_dr dr = {0};
    *acked = 0;
    rd_kafka_t *rk = load_producer_create(c, &dr, "10");
    if (!rk)
        return -EIO;
    if (load_warm_up(rk, &dr, topic, partitions) < 0) {
        rd_kafka_destroy(rk);
        return -EIO;
    }
    struct load_cpu cpu;
    load_cpu_begin(c, &cpu);
    int64_t t0_ns = load_now_ns();
    int64_t stop_ns = t0_ns + (int64_t)(c->o.phase_max_s * 1e9);
    long sent = 0;
    long local_errors = 0;
    for (long i = 0; i < count; i++) {
        int32_t part = (int32_t)(i % partitions);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                                      RD_KAFKA_V_VALUE(c->payload, (size_t)size), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "samsa_load: produce: %s\n", rd_kafka_err2str(e));
                local_errors++;
                break;
            }
            rd_kafka_poll(rk, 1);
        }
        sent++;
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
            if (load_now_ns() > stop_ns)
                break;
        }
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "samsa_load: flush timed out with %d in queue\n", rd_kafka_outq_len(rk));
        local_errors++;
    }
    int64_t t1_ns = load_now_ns();
    double broker_s, client_s, idle_s;
    load_cpu_end(c, &cpu, &broker_s, &client_s, &idle_s);
    if (dr.err_count)
        fprintf(stderr, "samsa_load: %ld delivery errors, first: %s\n", dr.err_count,
                rd_kafka_err2str(dr.first_err));
    long errors = dr.err_count + local_errors + (sent - dr.ok_count - dr.err_count);
    if (report)
        load_report(c, rep, "produce", size, dr.ok_count, dr.bytes, (double)(t1_ns - t0_ns) / 1e9, errors, broker_s,
                    client_s, idle_s);
    else if (errors)
        c->failures++;
    *acked = dr.ok_count;
    rd_kafka_destroy(rk);
    return 0;
}

/* A fresh, group-less consumer (assign only) that already knows topic's
 * metadata: an assign() made before librdkafka knows the partitions' leader
 * waits a fixed 500 ms before its first offset lookup (rdkafka_partition.c),
 * for either target, so the metadata is fetched first, untimed.  tag makes
 * the group id unique (nothing is joined or committed); NULL on failure. */
static rd_kafka_t *load_consumer_open(struct load_ctx *c, const char *topic, const char *tag, const char *fetch_wait_ms)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
    rc |= load_conf_set(conf, "bootstrap.servers", c->bootstrap);
    /* librdkafka's assign() wants a group.id even though no group is joined */
    char group[96];
    snprintf(group, sizeof group, "samsa-bench-%ld-%s", (long)getpid(), tag);
    rc |= load_conf_set(conf, "group.id", group);
    rc |= load_conf_set(conf, "enable.partition.eof", "true");
    rc |= load_conf_set(conf, "enable.auto.commit", "false");
    rc |= load_conf_set(conf, "fetch.wait.max.ms", fetch_wait_ms);
    rc |= load_conf_set(conf, "fetch.max.bytes", "52428800");
    rc |= load_conf_set(conf, "max.partition.fetch.bytes", "4194304");
    rc |= load_conf_set(conf, "queued.max.messages.kbytes", "1048576");
    rc |= load_conf_set(conf, "queued.min.messages", "1000000");
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "samsa_load: consumer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t me = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, 10000) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (me) {
        fprintf(stderr, "samsa_load: consumer metadata for %s: %s\n", topic, rd_kafka_err2str(me));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* assign() every partition of topic from offset 0. */
static int load_assign_all(rd_kafka_t *rk, const char *topic, int partitions)
{
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(tp, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    if (e) {
        fprintf(stderr, "samsa_load: assign: %s\n", rd_kafka_err2str(e));
        return -EIO;
    }
    return 0;
}

/* Read expected records (+ one warm-up per partition) from offset 0 with a fresh, group-less consumer. */
static int load_consume_phase(struct load_ctx *c, int rep, const char *topic, int partitions, int size,
                              long expected)
{
    char tag[32];
    snprintf(tag, sizeof tag, "%d-%d", rep, size);
    rd_kafka_t *rk = load_consumer_open(c, topic, tag, "100");
    if (!rk)
        return -EIO;
    struct load_cpu cpu;
    load_cpu_begin(c, &cpu);
    int64_t t0_ns = load_now_ns();
    if (load_assign_all(rk, topic, partitions) < 0) {
        rd_kafka_destroy(rk);
        return -EIO;
    }
    long want = expected + partitions; /* each partition holds one warm-up record */
    long got = 0, errors = 0;
    uint64_t bytes = 0;
    int64_t deadline_ns = t0_ns + (int64_t)(c->o.phase_max_s * 3 * 1e9);
    /* batch dequeue keeps the client's per-record cost well below the broker's */
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *ms[LOAD_CONSUME_BATCH_MAX];
    while (q && got < want && load_now_ns() < deadline_ns) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, ms, LOAD_CONSUME_BATCH_MAX);
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = ms[i];
            /* a partition caught up (EOF): the count, not EOF, ends the phase */
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (errors++ == 0)
                    fprintf(stderr, "samsa_load: consume: %s\n", rd_kafka_message_errstr(m));
            } else if (!m->err) {
                got++;
                bytes += m->len;
            }
            rd_kafka_message_destroy(m);
        }
    }
    if (q)
        rd_kafka_queue_destroy(q);
    int64_t t1_ns = load_now_ns();
    double broker_s, client_s, idle_s;
    load_cpu_end(c, &cpu, &broker_s, &client_s, &idle_s);
    if (got != want)
        fprintf(stderr, "samsa_load: consumed %ld of %ld records from %s\n", got, want, topic);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    long warm = got < partitions ? got : partitions;
    load_report(c, rep, "consume", size, got - warm, bytes - (uint64_t)warm * 4, (double)(t1_ns - t0_ns) / 1e9,
                errors + (got != want), broker_s, client_s, idle_s);
    return 0;
}

static int load_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Fixed-rate produce; per-message delivery-report latency percentiles. */
static int load_latency_phase(struct load_ctx *c, int rep, const char *topic)
{
    long n = (long)(c->o.lat_rate * c->o.lat_seconds);
    if (n < 1 || n > LOAD_LAT_SAMPLES_MAX) {
        fprintf(stderr, "samsa_load: latency sample count %ld out of range\n", n);
        return -EINVAL;
    }
    struct load_dr dr = {0};
    dr.sent_ns = calloc((size_t)n, sizeof *dr.sent_ns);
    dr.lat_ns = calloc((size_t)n, sizeof *dr.lat_ns);
    rd_kafka_t *rk = dr.sent_ns && dr.lat_ns ? load_producer_create(c, &dr, "0") : NULL;
    if (!rk || load_warm_up(rk, &dr, topic, c->o.partitions) < 0) {
        if (rk)
            rd_kafka_destroy(rk);
        free(dr.sent_ns);
        free(dr.lat_ns);
        return -EIO;
    }
    int64_t period_ns = (int64_t)(1e9 / c->o.lat_rate);
    int64_t t0_ns = load_now_ns();
    long local_errors = 0;
    for (long i = 0; i < n; i++) {
        int64_t due_ns = t0_ns + i * period_ns;
        /* serve delivery reports while waiting for the next send slot */
        for (;;) {
            int64_t now_ns = load_now_ns();
            if (now_ns >= due_ns)
                break;
            int wait_ms = (int)((due_ns - now_ns) / 1000000);
            if (wait_ms > 0)
                rd_kafka_poll(rk, wait_ms);
            else {
                rd_kafka_poll(rk, 0);
                struct timespec ts = {0, (long)(due_ns - now_ns)};
                nanosleep(&ts, NULL);
            }
        }
        dr.sent_ns[i] = load_now_ns();
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(i % c->o.partitions)),
            RD_KAFKA_V_VALUE(c->payload, (size_t)c->o.lat_size), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i),
            RD_KAFKA_V_END);
        if (e) {
            if (local_errors++ == 0)
                fprintf(stderr, "samsa_load: latency produce: %s\n", rd_kafka_err2str(e));
            dr.sent_ns[i] = 0;
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        local_errors++;
    rd_kafka_destroy(rk);
    long m = 0;
    for (long i = 0; i < n; i++)
        if (dr.sent_ns[i] && dr.lat_ns[i] > 0)
            dr.lat_ns[m++] = dr.lat_ns[i];
    qsort(dr.lat_ns, (size_t)m, sizeof *dr.lat_ns, load_cmp_i64);
    double p50 = m ? (double)dr.lat_ns[(m - 1) * 50 / 100] / 1e6 : -1;
    double p99 = m ? (double)dr.lat_ns[(m - 1) * 99 / 100] / 1e6 : -1;
    double mx = m ? (double)dr.lat_ns[m - 1] / 1e6 : -1;
    long errors = local_errors + dr.err_count + (n - m - dr.err_count);
    printf("RESULT target=%s rep=%d phase=latency size=%d rate=%.0f msgs=%ld errors=%ld p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f\n",
           c->o.label, rep, c->o.lat_size, c->o.lat_rate, m, errors, p50, p99, mx);
    fflush(stdout);
    if (errors)
        c->failures++;
    free(dr.sent_ns);
    free(dr.lat_ns);
    return 0;
}

/* Percentile q (0..1) of n sorted samples, in ms; -1 without samples. */
static double load_pct_ms(const int64_t *sorted, long n, double q)
{
    return n > 0 ? (double)sorted[(long)((double)(n - 1) * q)] / 1e6 : -1;
}

/* End-to-end latency at a fixed byte rate: each record carries its send time
 * (monotonic ns, first 8 bytes), a consumer in this process receives it. */
static int load_e2e_phase(struct load_ctx *c, int rep, const char *topic)
{
    int size = c->o.e2e_size;
    double rate = c->o.e2e_mbps * 1e6 / size;
    long n = (long)(rate * c->o.e2e_seconds);
    long warm_n = (long)rate; /* the first second warms connections and fetch sessions */
    if (n <= warm_n || n > LOAD_LAT_SAMPLES_MAX || size < 8) {
        fprintf(stderr, "samsa_load: e2e sample count %ld (size %d) out of range\n", n, size);
        return -EINVAL;
    }
    struct load_dr dr = {0};
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    char tag[32];
    snprintf(tag, sizeof tag, "%d-e2e", rep);
    rd_kafka_t *prk = lat ? load_producer_create(c, &dr, "1") : NULL;
    rd_kafka_t *crk = prk ? load_consumer_open(c, topic, tag, c->o.e2e_fetch_wait_ms) : NULL;
    rd_kafka_queue_t *q = crk ? rd_kafka_queue_get_consumer(crk) : NULL;
    int rc = -EIO;
    if (!q || load_warm_up(prk, &dr, topic, c->o.partitions) < 0 || load_assign_all(crk, topic, c->o.partitions) < 0)
        goto out;
    struct load_cpu cpu;
    load_cpu_begin(c, &cpu);
    unsigned char *buf = c->payload;
    int64_t period_ns = (int64_t)(1e9 / rate);
    int64_t t0_ns = load_now_ns();
    int64_t end_ns = t0_ns + (int64_t)((c->o.e2e_seconds + 10) * 1e9); /* + time to drain */
    long sent = 0, got = 0, errors = 0;
    rd_kafka_message_t *ms[LOAD_CONSUME_BATCH_MAX];
    while (got < n && load_now_ns() < end_ns) {
        int busy = 0;
        int64_t now_ns = load_now_ns();
        while (sent < n && t0_ns + sent * period_ns <= now_ns) {
            /* the record's index and send time ride in its first 16 bytes */
            int64_t hdr[2] = {sent, load_now_ns()};
            memcpy(buf, hdr, sizeof hdr);
            rd_kafka_resp_err_t e = rd_kafka_producev(prk, RD_KAFKA_V_TOPIC(topic),
                                                      RD_KAFKA_V_PARTITION((int32_t)(sent % c->o.partitions)),
                                                      RD_KAFKA_V_VALUE(buf, (size_t)size),
                                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            if (e && errors++ == 0)
                fprintf(stderr, "samsa_load: e2e produce: %s\n", rd_kafka_err2str(e));
            sent++;
            busy = 1;
        }
        rd_kafka_poll(prk, 0);
        ssize_t k = rd_kafka_consume_batch_queue(q, 0, ms, LOAD_CONSUME_BATCH_MAX);
        int64_t recv_ns = load_now_ns();
        for (ssize_t i = 0; i < k; i++) {
            rd_kafka_message_t *m = ms[i];
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (errors++ == 0)
                    fprintf(stderr, "samsa_load: e2e consume: %s\n", rd_kafka_message_errstr(m));
            } else if (!m->err && m->len == (size_t)size) {
                int64_t h[2];
                memcpy(h, m->payload, sizeof h);
                if (h[0] >= 0 && h[0] < n && lat[h[0]] == 0) {
                    lat[h[0]] = recv_ns - h[1];
                    got++;
                }
            }
            rd_kafka_message_destroy(m);
            busy = 1;
        }
        if (!busy) {
            struct timespec ts = {0, 100000}; /* 0.1 ms: the pacing and receipt resolution */
            nanosleep(&ts, NULL);
        }
    }
    double broker_s, client_s, idle_s;
    load_cpu_end(c, &cpu, &broker_s, &client_s, &idle_s);
    if (got < n)
        fprintf(stderr, "samsa_load: e2e received %ld of %ld records\n", got, n);
    long m = 0;
    for (long i = warm_n; i < n; i++)
        if (lat[i] > 0)
            lat[m++] = lat[i];
    qsort(lat, (size_t)m, sizeof *lat, load_cmp_i64);
    printf("RESULT target=%s rep=%d phase=e2e size=%d mbps=%.2f msgs=%ld errors=%ld p50_ms=%.3f p99_ms=%.3f "
           "p999_ms=%.3f max_ms=%.3f broker_cpu_s=%.2f fetch_wait_ms=%s\n",
           c->o.label, rep, size, c->o.e2e_mbps, m, errors + dr.err_count + (n - got), load_pct_ms(lat, m, 0.5),
           load_pct_ms(lat, m, 0.99), load_pct_ms(lat, m, 0.999), load_pct_ms(lat, m, 1.0), broker_s,
           c->o.e2e_fetch_wait_ms);
    fflush(stdout);
    if (errors + dr.err_count + (n - got))
        c->failures++;
    rc = 0;
out:
    if (q)
        rd_kafka_queue_destroy(q);
    if (crk) {
        rd_kafka_consumer_close(crk);
        rd_kafka_destroy(crk);
    }
    if (prk) {
        rd_kafka_flush(prk, 10000);
        rd_kafka_destroy(prk);
    }
    free(lat);
    return rc;
}

static int load_rep(struct load_ctx *c, int rep)
{
    static const int sizes[2] = {100, 1024};
    long counts[2] = {c->o.small_count, c->o.large_count};
    long acked = 0;
    char topic[128];
    int64_t id = (int64_t)getpid() * 1000 + rep;
    for (int s = 0; s < 2 && (c->o.phase_mask & LOAD_PHASE_PRODUCE); s++) {
        if (c->o.produce_size && c->o.produce_size != sizes[s])
            continue;
        snprintf(topic, sizeof topic, "bench-%" PRId64 "-p%d", id, sizes[s]);
        if (load_topic_create(c, topic, c->o.partitions) < 0 ||
            load_produce_phase(c, rep, topic, c->o.partitions, sizes[s], counts[s], 1, &acked) < 0 ||
            load_topic_done(c, topic) < 0)
            return -EIO;
    }
    /* The backlog keeps under --backlog-bytes (4 MB) per partition: the
     * mock keeps only the newest 5 MiB of each partition, and the same shape
     * is used against every target so the numbers compare. */
    for (int s = 0; s < 2 && (c->o.phase_mask & LOAD_PHASE_CONSUME); s++) {
        long count = (long)c->o.cons_partitions * (c->o.backlog_partition_bytes / sizes[s]);
        snprintf(topic, sizeof topic, "bench-%" PRId64 "-c%d", id, sizes[s]);
        if (load_topic_create(c, topic, c->o.cons_partitions) < 0 ||
            load_produce_phase(c, rep, topic, c->o.cons_partitions, sizes[s], count, 0, &acked) < 0 ||
            load_consume_phase(c, rep, topic, c->o.cons_partitions, sizes[s], acked) < 0 ||
            load_topic_done(c, topic) < 0)
            return -EIO;
    }
    if (c->o.phase_mask & LOAD_PHASE_E2E) {
        snprintf(topic, sizeof topic, "bench-%" PRId64 "-e2e", id);
        if (load_topic_create(c, topic, c->o.partitions) < 0 || load_e2e_phase(c, rep, topic) < 0 ||
            load_topic_done(c, topic) < 0)
            return -EIO;
    }
    if (!(c->o.phase_mask & LOAD_PHASE_LATENCY))
        return 0;
    snprintf(topic, sizeof topic, "bench-%" PRId64 "-lat", id);
    if (load_topic_create(c, topic, c->o.partitions) < 0)
        return -EIO;
    if (load_latency_phase(c, rep, topic) < 0)
        return -EIO;
    return load_topic_done(c, topic);
}

static void load_usage(FILE *f)
{
    fprintf(f, "usage: samsa_load (--bootstrap HOST:PORT [--broker-pid PID[,PID...]] | --mock) [--label NAME]\n"
               "       [--reps N] [--first-rep N] [--partitions N] [--consume-partitions N] [--backlog-bytes N] [--small-count N] [--large-count N] [--phase-max-s S]\n"
               "       [--lat-rate MSGS_PER_S] [--lat-seconds S] [--lat-size BYTES] [--acks 1|all] [--replication-factor N]\n"
               "       [--topic-config KEY=VALUE]\n"
               "       [--produce-size 100|1024] [--e2e-mbps MB_PER_S] [--e2e-seconds S] [--e2e-size BYTES] [--e2e-fetch-wait-ms MS]\n"
               "       [--only produce|consume|latency|e2e]\n");
}

static int load_opts_parse(int argc, char **argv, struct load_opts *o)
{
    *o = (struct load_opts){.reps = 5, .first_rep = 1, .partitions = 1, .cons_partitions = 32,
                            .backlog_partition_bytes = LOAD_BACKLOG_PARTITION_BYTES_DEFAULT,
                            .small_count = 5000000, .large_count = 1000000,
                            .phase_max_s = 10, .lat_rate = 1000, .lat_seconds = 5, .lat_size = 1024,
                            .acks = "1", .replication_factor = 1, .e2e_mbps = 10, .e2e_seconds = 10, .e2e_size = 1024,
                            .e2e_fetch_wait_ms = "100",
                            .phase_mask = LOAD_PHASE_PRODUCE | LOAD_PHASE_CONSUME | LOAD_PHASE_LATENCY};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--mock") == 0) {
            o->mock = 1;
            continue;
        }
        if (!v)
            return -EINVAL;
        i++;
        if (strcmp(a, "--bootstrap") == 0)
            o->bootstrap = v;
        else if (strcmp(a, "--label") == 0)
            o->label = v;
        else if (strcmp(a, "--broker-pid") == 0) {
            for (char *end = (char *)v; *end && o->broker_pid_count < LOAD_BROKER_PIDS_MAX; end += *end == ',') {
                o->broker_pids[o->broker_pid_count] = strtol(end, &end, 10);
                if (o->broker_pids[o->broker_pid_count++] <= 0 || (*end && *end != ','))
                    return -EINVAL;
            }
        } else if (strcmp(a, "--acks") == 0)
            o->acks = v;
        else if (strcmp(a, "--replication-factor") == 0)
            o->replication_factor = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--topic-config") == 0) {
            if (strchr(v, '=') == NULL)
                return -EINVAL;
            o->topic_config = v;
        }
        else if (strcmp(a, "--produce-size") == 0)
            o->produce_size = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--e2e-mbps") == 0)
            o->e2e_mbps = strtod(v, NULL);
        else if (strcmp(a, "--e2e-seconds") == 0)
            o->e2e_seconds = strtod(v, NULL);
        else if (strcmp(a, "--e2e-size") == 0)
            o->e2e_size = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--e2e-fetch-wait-ms") == 0)
            o->e2e_fetch_wait_ms = v;
        else if (strcmp(a, "--reps") == 0)
            o->reps = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--first-rep") == 0)
            o->first_rep = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--partitions") == 0)
            o->partitions = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--only") == 0)
            o->phase_mask = strcmp(v, "produce") == 0   ? LOAD_PHASE_PRODUCE
                            : strcmp(v, "consume") == 0 ? LOAD_PHASE_CONSUME
                            : strcmp(v, "latency") == 0 ? LOAD_PHASE_LATENCY
                            : strcmp(v, "e2e") == 0     ? LOAD_PHASE_E2E
                                                        : 0;
        else if (strcmp(a, "--backlog-bytes") == 0)
            o->backlog_partition_bytes = strtol(v, NULL, 10);
        else if (strcmp(a, "--consume-partitions") == 0)
            o->cons_partitions = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--small-count") == 0)
            o->small_count = strtol(v, NULL, 10);
        else if (strcmp(a, "--large-count") == 0)
            o->large_count = strtol(v, NULL, 10);
        else if (strcmp(a, "--phase-max-s") == 0)
            o->phase_max_s = strtod(v, NULL);
        else if (strcmp(a, "--lat-rate") == 0)
            o->lat_rate = strtod(v, NULL);
        else if (strcmp(a, "--lat-seconds") == 0)
            o->lat_seconds = strtod(v, NULL);
        else if (strcmp(a, "--lat-size") == 0)
            o->lat_size = (int)strtol(v, NULL, 10);
        else
            return -EINVAL;
    }
    if (o->mock == (o->bootstrap != NULL))
        return -EINVAL;
    if (!o->label)
        o->label = o->mock ? "mock" : "samsa";
    if (o->reps < 1 || o->reps > 100 || o->first_rep < 1 || o->partitions < 1 || o->partitions > LOAD_PARTITIONS_MAX ||
        o->phase_mask == 0 || o->cons_partitions < 1 || o->backlog_partition_bytes < 1024 || o->cons_partitions > LOAD_PARTITIONS_MAX ||
        o->small_count < 1 || o->large_count < 1 || o->phase_max_s <= 0 || o->lat_rate <= 0 ||
        o->lat_rate > 1e6 || o->lat_seconds <= 0 || o->lat_size < 1 || o->lat_size > LOAD_RECORD_BYTES_MAX ||
        o->replication_factor < 1 || (strcmp(o->acks, "1") != 0 && strcmp(o->acks, "all") != 0) ||
        (o->produce_size != 0 && o->produce_size != 100 && o->produce_size != 1024) || o->e2e_mbps <= 0 ||
        o->e2e_seconds <= 1 || o->e2e_size < 16 || o->e2e_size > LOAD_RECORD_BYTES_MAX)
        return -EINVAL;
    return 0;
}

int main(int argc, char **argv)
{
    struct load_ctx c = {0};
    if (load_opts_parse(argc, argv, &c.o) < 0) {
        load_usage(stderr);
        return 2;
    }
    c.clk_tck = sysconf(_SC_CLK_TCK);
    c.payload = malloc(LOAD_RECORD_BYTES_MAX);
    if (!c.payload) {
        fprintf(stderr, "samsa_load: out of memory\n");
        return 1;
    }
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < LOAD_RECORD_BYTES_MAX; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        c.payload[i] = (unsigned char)x;
    }
    if (c.o.mock) {
        char err[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* this handle only hosts the mock: hush its "no bootstrap.servers" notice */
        if (load_conf_set(conf, "log_level", "4") < 0) {
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        c.mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!c.mock_rk) {
            fprintf(stderr, "samsa_load: mock handle: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        c.mcluster = rd_kafka_mock_cluster_new(c.mock_rk, 1);
        if (!c.mcluster) {
            fprintf(stderr, "samsa_load: rd_kafka_mock_cluster_new failed\n");
            return 1;
        }
        snprintf(c.bootstrap, sizeof c.bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(c.mcluster));
    } else {
        snprintf(c.bootstrap, sizeof c.bootstrap, "%s", c.o.bootstrap);
    }
    fprintf(stderr, "samsa_load: target=%s bootstrap=%s reps=%d partitions=%d\n", c.o.label, c.bootstrap, c.o.reps,
            c.o.partitions);
    int rc = 0;
    /* a failed repetition (broker gone, records lost) ends the run: later ones would only time out */
    for (int rep = c.o.first_rep; rep < c.o.first_rep + c.o.reps && rc == 0 && c.failures == 0; rep++)
        rc = load_rep(&c, rep);
    if (c.mcluster)
        rd_kafka_mock_cluster_destroy(c.mcluster);
    if (c.mock_rk)
        rd_kafka_destroy(c.mock_rk);
    free(c.payload);
    return rc != 0 || c.failures ? 1 : 0;
}
