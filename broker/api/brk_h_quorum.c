/*
 * brk_h_quorum.c - DescribeQuorum (kafka-metadata-quorum.sh describe).
 *
 * Only the active controller knows every voter's and observer's progress, so
 * other nodes forward the request there (the dispatch table marks it a
 * controller API).  The metadata log is reported as the Kafka topic
 * partition __cluster_metadata-0, like KRaft.
 */
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "controller/ctrl.h"

static void fill_replicas(struct arena *a, const struct ctrl_replica_status *src, uint32_t n,
                          struct kmsg_describe_quorum_resp_voter **out_voters,
                          struct kmsg_describe_quorum_resp_observer **out_observers, int32_t *count)
{
    *count = 0;
    if (out_voters) {
        struct kmsg_describe_quorum_resp_voter *v = arena_alloc_array(a, n ? n : 1, sizeof *v);
        if (!v)
            return;
        for (uint32_t i = 0; i < n; i++) {
            kmsg_describe_quorum_resp_voter_init(&v[i]);
            v[i].replica_id = src[i].id;
            v[i].log_end_offset = src[i].log_end_offset;
            v[i].last_fetch_timestamp = src[i].last_fetch_ms;
            v[i].last_caught_up_timestamp = src[i].last_caught_up_ms;
        }
        *out_voters = v;
    } else {
        struct kmsg_describe_quorum_resp_observer *o = arena_alloc_array(a, n ? n : 1, sizeof *o);
        if (!o)
            return;
        for (uint32_t i = 0; i < n; i++) {
            kmsg_describe_quorum_resp_observer_init(&o[i]);
            o[i].replica_id = src[i].id;
            o[i].log_end_offset = src[i].log_end_offset;
            o[i].last_fetch_timestamp = src[i].last_fetch_ms;
            o[i].last_caught_up_timestamp = src[i].last_caught_up_ms;
        }
        *out_observers = o;
    }
    *count = (int32_t)n;
}

void brk_h_describe_quorum(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_quorum_req m;
    int rc = kmsg_describe_quorum_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_describe_quorum_resp resp;
    kmsg_describe_quorum_resp_init(&resp);
    struct kmsg_describe_quorum_resp_topic *t = arena_alloc(&req->arena, sizeof *t);
    struct kmsg_describe_quorum_resp_partition *p = arena_alloc(&req->arena, sizeof *p);
    struct ctrl_quorum_status *qs = arena_alloc(&req->arena, sizeof *qs);
    if (!t || !p || !qs) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_describe_quorum_resp_topic_init(t);
    kmsg_describe_quorum_resp_partition_init(p);
    t->topic_name = bytes_cstr("__cluster_metadata");
    t->partitions = p;
    t->partitions_count = 1;
    resp.topics = t;
    resp.topics_count = 1;
    p->partition_index = 0;
    if (!ctrl_is_active(srv->ctrl)) {
        p->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
        p->leader_id = ctrl_active_id(srv->ctrl);
        BRK_RESPOND(req, describe_quorum, &resp);
        return;
    }
    ctrl_quorum_status_get(srv->ctrl, qs);
    p->leader_id = qs->leader_id;
    p->leader_epoch = (int32_t)qs->epoch;
    p->high_watermark = (int64_t)qs->high_watermark;
    fill_replicas(&req->arena, qs->voters, qs->voter_count, &p->current_voters, NULL, &p->current_voters_count);
    fill_replicas(&req->arena, qs->observers, qs->observer_count, NULL, &p->observers, &p->observers_count);
    BRK_RESPOND(req, describe_quorum, &resp);
}
