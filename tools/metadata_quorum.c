/*
 * metadata_quorum.c - `samsa metadata-quorum --bootstrap-server HOST:PORT
 * describe --status|--replication`, kafka-metadata-quorum.sh's output.
 *
 * Sends DescribeQuorum (forwarded by any broker to the active controller)
 * and DescribeCluster (for the cluster id) through the project's own codec.
 */
#include "tools/metadata_quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"

static void usage(FILE *out)
{
    fprintf(out, "USAGE: samsa metadata-quorum --bootstrap-server HOST:PORT [--command-config FILE] describe "
                 "(--status | --replication)\n"
                 "  --status        leader, epoch, high watermark, lag and the voter/observer sets\n"
                 "  --replication   each voter's and observer's log end offset, lag and fetch times\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int describe(struct kclient *kc, struct arena *a, struct kmsg_describe_quorum_resp *out)
{
    struct kmsg_describe_quorum_req req;
    kmsg_describe_quorum_req_init(&req);
    struct kmsg_describe_quorum_req_topic t;
    struct kmsg_describe_quorum_req_partition p;
    kmsg_describe_quorum_req_topic_init(&t);
    kmsg_describe_quorum_req_partition_init(&p);
    p.partition_index = 0;
    t.topic_name = bytes_cstr("__cluster_metadata");
    t.partitions = &p;
    t.partitions_count = 1;
    req.topics = &t;
    req.topics_count = 1;
    struct buf body;
    buf_init(&body, 1 << 20);
    int rc = kmsg_describe_quorum_req_encode(&body, 1, &req);
    struct bytes resp;
    if (rc == 0)
        rc = kclient_call(kc, KMSG_API_DESCRIBE_QUORUM, 1, buf_bytes(&body), &resp);
    buf_deinit(&body);
    if (rc < 0)
        return rc;
    struct kwire_reader r;
    kwire_reader_init(&r, resp);
    return kmsg_describe_quorum_resp_decode(&r, 1, a, out);
}

static void cluster_id(struct kclient *kc, struct arena *a, char *out, size_t size)
{
    snprintf(out, size, "?");
    struct kmsg_describe_cluster_req req;
    kmsg_describe_cluster_req_init(&req);
    struct buf body;
    buf_init(&body, 1 << 16);
    struct bytes resp;
    int rc = kmsg_describe_cluster_req_encode(&body, 0, &req);
    if (rc == 0)
        rc = kclient_call(kc, KMSG_API_DESCRIBE_CLUSTER, 0, buf_bytes(&body), &resp);
    buf_deinit(&body);
    if (rc < 0)
        return;
    struct kmsg_describe_cluster_resp m;
    struct kwire_reader r;
    kwire_reader_init(&r, resp);
    if (kmsg_describe_cluster_resp_decode(&r, 0, a, &m) == 0 && m.cluster_id.ptr)
        snprintf(out, size, "%.*s", (int)m.cluster_id.len, (const char *)m.cluster_id.ptr);
}

int tool_metadata_quorum_main(int argc, char **argv)
{
    const char *bootstrap = NULL;
    const char *command_config = NULL;
    bool status = false, replication = false, describe_cmd = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bootstrap-server") == 0 && i + 1 < argc)
            bootstrap = argv[++i];
        else if (strcmp(argv[i], "--bootstrap-controller") == 0 && i + 1 < argc)
            bootstrap = argv[++i];
        else if (strcmp(argv[i], "--command-config") == 0 && i + 1 < argc)
            command_config = argv[++i];
        else if (strcmp(argv[i], "describe") == 0)
            describe_cmd = true;
        else if (strcmp(argv[i], "--status") == 0)
            status = true;
        else if (strcmp(argv[i], "--replication") == 0)
            replication = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "metadata-quorum: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    if (!bootstrap || !describe_cmd || status == replication) {
        usage(stderr);
        return 1;
    }
    /* this tool speaks plain TCP (tools/kclient): a client file asking for
     * TLS or SASL cannot be honoured, so say so instead of ignoring it */
    if (command_config && tool_props_plaintext_only(command_config, "--command-config", "metadata-quorum"))
        return 1;
    struct kclient kc;
    int rc = kclient_connect(&kc, bootstrap, 10000);
    if (rc < 0) {
        fprintf(stderr, "Error: cannot connect to %s: %s\n", bootstrap, err_str(rc));
        return 1;
    }
    struct arena a;
    arena_init(&a, 16384, 64u << 20);
    struct kmsg_describe_quorum_resp m;
    rc = describe(&kc, &a, &m);
    if (rc < 0 || m.error_code != 0 || m.topics_count < 1 || m.topics[0].partitions_count < 1 ||
        m.topics[0].partitions[0].error_code != 0) {
        fprintf(stderr, "Error: DescribeQuorum failed via %s: %s\n", kc.server,
                rc < 0 ? err_str(rc) : "the metadata quorum has no active controller yet; retry");
        arena_deinit(&a);
        kclient_close(&kc);
        return 1;
    }
    const struct kmsg_describe_quorum_resp_partition *p = &m.topics[0].partitions[0];
    int64_t now = now_ms();
    if (status) {
        char cid[128];
        cluster_id(&kc, &a, cid, sizeof cid);
        int64_t max_lag = 0, max_lag_ms = 0;
        for (int32_t i = 0; i < p->current_voters_count; i++) {
            const struct kmsg_describe_quorum_resp_voter *v = &p->current_voters[i];
            int64_t lag = p->high_watermark - v->log_end_offset;
            if (lag > max_lag)
                max_lag = lag;
            if (v->last_caught_up_timestamp >= 0 && now - v->last_caught_up_timestamp > max_lag_ms)
                max_lag_ms = now - v->last_caught_up_timestamp;
        }
        printf("ClusterId:              %s\n", cid);
        printf("LeaderId:               %d\n", p->leader_id);
        printf("LeaderEpoch:            %d\n", p->leader_epoch);
        printf("HighWatermark:          %lld\n", (long long)p->high_watermark);
        printf("MaxFollowerLag:         %lld\n", (long long)max_lag);
        printf("MaxFollowerLagTimeMs:   %lld\n", (long long)max_lag_ms);
        printf("CurrentVoters:          [");
        for (int32_t i = 0; i < p->current_voters_count; i++)
            printf("%s%d", i ? "," : "", p->current_voters[i].replica_id);
        printf("]\nCurrentObservers:       [");
        for (int32_t i = 0; i < p->observers_count; i++)
            printf("%s%d", i ? "," : "", p->observers[i].replica_id);
        printf("]\n");
    } else {
        printf("NodeId\tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\n");
        for (int32_t i = 0; i < p->current_voters_count; i++) {
            const struct kmsg_describe_quorum_resp_voter *v = &p->current_voters[i];
            printf("%d\t%lld\t%lld\t%lld\t%lld\t%s\n", v->replica_id, (long long)v->log_end_offset,
                   (long long)(p->high_watermark - v->log_end_offset), (long long)v->last_fetch_timestamp,
                   (long long)v->last_caught_up_timestamp, v->replica_id == p->leader_id ? "Leader" : "Follower");
        }
        for (int32_t i = 0; i < p->observers_count; i++) {
            const struct kmsg_describe_quorum_resp_observer *o = &p->observers[i];
            printf("%d\t%lld\t%lld\t%lld\t%lld\tObserver\n", o->replica_id, (long long)o->log_end_offset,
                   (long long)(p->high_watermark - o->log_end_offset), (long long)o->last_fetch_timestamp,
                   (long long)o->last_caught_up_timestamp);
        }
    }
    arena_deinit(&a);
    kclient_close(&kc);
    return 0;
}
