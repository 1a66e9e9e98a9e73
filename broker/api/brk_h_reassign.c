/*
 * brk_h_reassign.c - AlterPartitionReassignments and
 * ListPartitionReassignments (KIP-455; kafka-reassign-partitions.sh).
 *
 * Both are controller APIs: other nodes forward them to the active
 * controller (brk_dispatch), which plans each partition's change against its
 * image (ctrl_plan_reassign) and commits it as its own proposal through
 * brk_admin_commit; the answer goes out once every change has committed.
 * The reassignment then finishes on its own: the controller's timer
 * (controller/ctrl_reassign.c) commits the final step once the adding
 * replicas are in the ISR.  List answers from the image's adding/removing
 * sets.
 */
#include <stdio.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "common/log.h"
#include "controller/ctrl.h"

static void alter_reassign_respond(struct brk_req *req)
{
    BRK_RESPOND(req, alter_partition_reassignments, (struct kmsg_alter_partition_reassignments_resp *)req->hstate);
}

/* reassign_error_text - Kafka's sentences for the per-partition errors. */
static const char *reassign_error_text(int rc)
{
    switch (rc) {
    case ERR_NOT_FOUND: return "The partition does not exist.";
    case ERR_NO_REASSIGNMENT: return "No reassignment is in progress for this partition.";
    case ERR_INVALID_REPLICA_ASSIGNMENT:
        return "The manual partition assignment must list distinct, registered brokers (at most 16, and at most 16 "
               "with the current replicas).";
    default: return ctrl_plan_error_text(rc);
    }
}

static void alter_one(struct brk_req *req, struct bytes topic, const struct kmsg_alter_partition_reassignments_req_partition *p,
                      struct kmsg_alter_partition_reassignments_resp_partition *rp)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct ctrl_records recs = { 0 };
    int rc;
    if (!ctrl_is_active(srv->ctrl))
        rc = ERR_NOT_CONTROLLER;
    else if (!topic.ptr)
        rc = ERR_NOT_FOUND;
    else
        rc = ctrl_plan_reassign(ctrl_metadata(srv->ctrl), (const char *)topic.ptr, topic.len, p->partition_index,
                                p->replicas, p->replicas_count, &req->arena, &recs);
    if (rc == 0 && recs.count > 0)
        rc = brk_admin_commit(req, &recs, &rp->error_code, &rp->error_message, NULL, alter_reassign_respond);
    if (rc < 0) {
        rp->error_code = brk_kerr_from_err(rc);
        rp->error_message = bytes_cstr(reassign_error_text(rc));
        return;
    }
    if (p->replicas_count < 0)
        log_info("admin", "cancelling reassignment of %.*s-%d", (int)topic.len, (const char *)topic.ptr,
                 p->partition_index);
    else
        log_info("admin", "reassigning %.*s-%d to %d replicas", (int)topic.len, (const char *)topic.ptr,
                 p->partition_index, p->replicas_count);
}

void brk_h_alter_partition_reassignments(struct brk_req *req)
{
    struct kmsg_alter_partition_reassignments_req m;
    int rc = kmsg_alter_partition_reassignments_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_alter_partition_reassignments_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    int32_t n = m.topics_count > 0 ? m.topics_count : 0;
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_alter_partition_reassignments_resp_init(resp);
    resp->responses = arena_alloc_array(&req->arena, (size_t)(n ? n : 1), sizeof *resp->responses);
    if (!resp->responses) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->responses_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_alter_partition_reassignments_req_topic *t = &m.topics[i];
        struct kmsg_alter_partition_reassignments_resp_topic *rt = &resp->responses[i];
        kmsg_alter_partition_reassignments_resp_topic_init(rt);
        rt->name = t->name;
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)(np ? np : 1), sizeof *rt->partitions);
        if (!rt->partitions)
            continue;
        rt->partitions_count = np;
        for (int32_t j = 0; j < np; j++) {
            kmsg_alter_partition_reassignments_resp_partition_init(&rt->partitions[j]);
            rt->partitions[j].partition_index = t->partitions[j].partition_index;
            alter_one(req, t->name, &t->partitions[j], &rt->partitions[j]);
        }
    }
    brk_admin_release(req, alter_reassign_respond);
}

static bool partition_listed(const struct kmsg_list_partition_reassignments_req_topic *t, int32_t partition)
{
    for (int32_t i = 0; i < t->partition_indexes_count; i++)
        if (t->partition_indexes[i] == partition)
            return true;
    return false;
}

/* list_topic - rt gets t's partitions in reassignment (only the listed ones
 * when want is given). */
static int list_topic(struct arena *a, const struct ctrl_topic *t,
                      const struct kmsg_list_partition_reassignments_req_topic *want,
                      struct kmsg_list_partition_reassignments_resp_topic *rt)
{
    kmsg_list_partition_reassignments_resp_topic_init(rt);
    rt->name = bytes_cstr(t->name);
    int32_t n = 0;
    for (int32_t p = 0; p < t->partition_count; p++) {
        const struct ctrl_partition *cp = &t->partitions[p];
        if ((cp->adding_count || cp->removing_count) && (!want || partition_listed(want, p)))
            n++;
    }
    rt->partitions = arena_alloc_array(a, (size_t)(n ? n : 1), sizeof *rt->partitions);
    if (!rt->partitions)
        return ERR_LIMIT;
    for (int32_t p = 0; p < t->partition_count; p++) {
        const struct ctrl_partition *cp = &t->partitions[p];
        if (!(cp->adding_count || cp->removing_count) || (want && !partition_listed(want, p)))
            continue;
        struct kmsg_list_partition_reassignments_resp_partition *rp = &rt->partitions[rt->partitions_count++];
        kmsg_list_partition_reassignments_resp_partition_init(rp);
        rp->partition_index = cp->partition_id;
        rp->replicas = (int32_t *)cp->replicas;
        rp->replicas_count = cp->replica_count;
        rp->adding_replicas = (int32_t *)cp->adding;
        rp->adding_replicas_count = cp->adding_count;
        rp->removing_replicas = (int32_t *)cp->removing;
        rp->removing_replicas_count = cp->removing_count;
    }
    return 0;
}

void brk_h_list_partition_reassignments(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_list_partition_reassignments_req m;
    int rc = kmsg_list_partition_reassignments_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_list_partition_reassignments_resp resp;
    kmsg_list_partition_reassignments_resp_init(&resp);
    if (!ctrl_is_active(srv->ctrl)) {
        resp.error_code = KERR_NOT_CONTROLLER;
        resp.error_message = bytes_cstr("This node is not the active controller.");
        BRK_RESPOND(req, list_partition_reassignments, &resp);
        return;
    }
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    int32_t n = m.topics_count >= 0 ? m.topics_count : ctrl_image_topic_count(img);
    resp.topics = arena_alloc_array(&req->arena, (size_t)(n ? n : 1), sizeof *resp.topics);
    if (!resp.topics) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_list_partition_reassignments_req_topic *want = m.topics_count >= 0 ? &m.topics[i] : NULL;
        const struct ctrl_topic *t =
            want ? (want->name.ptr ? ctrl_image_topic_find(img, (const char *)want->name.ptr, want->name.len) : NULL)
                 : ctrl_image_topic_at(img, i);
        if (!t) { /* Kafka: an unknown topic fails the whole request */
            resp.topics_count = 0;
            resp.error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            resp.error_message = bytes_cstr("This server does not host this topic-partition.");
            break;
        }
        if (list_topic(&req->arena, t, want, &resp.topics[resp.topics_count]) < 0) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        if (resp.topics[resp.topics_count].partitions_count > 0)
            resp.topics_count++;
    }
    BRK_RESPOND(req, list_partition_reassignments, &resp);
}
