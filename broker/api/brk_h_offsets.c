/*
 * brk_h_offsets.c - ListOffsets (earliest, latest, by timestamp through the
 * time index, max timestamp: KIP-734, v7, served at v1+ as Kafka's broker
 * does; a timestamp answer at or past the high watermark is none, as
 * Kafka's Partition.fetchOffsetForTimestamp filters it), DeleteRecords (moves the log start offset; the new value
 * is checkpointed before the answer, so it survives a restart) and
 * OffsetForLeaderEpoch (the end of a leader epoch in this leader's log).
 */
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_replica.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define LIST_OFFSETS_LATEST (-1)
#define LIST_OFFSETS_EARLIEST (-2)
#define LIST_OFFSETS_MAX_TIMESTAMP (-3)

static struct brk_part *part_lookup(struct brk_ctx *srv, struct bytes topic, int32_t partition, int16_t *err)
{
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const struct ctrl_topic *t = topic.ptr ? ctrl_image_topic_find(img, (const char *)topic.ptr, topic.len) : NULL;
    if (!t || partition < 0 || partition >= t->partition_count) {
        *err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    struct brk_part *part = brk_parts_find(srv->parts, t->topic_id, partition);
    if (!part || !part->is_leader) {
        *err = KERR_NOT_LEADER_OR_FOLLOWER;
        return NULL;
    }
    *err = KERR_NONE;
    return part;
}

void brk_h_list_offsets(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_list_offsets_req m;
    int rc = kmsg_list_offsets_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_list_offsets_resp resp;
    kmsg_list_offsets_resp_init(&resp);
    int32_t nt = m.topics_count > 0 ? m.topics_count : 0;
    resp.topics = arena_alloc_array(&req->arena, (size_t)nt, sizeof *resp.topics);
    if (!resp.topics && nt) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.topics_count = nt;
    for (int32_t i = 0; i < nt; i++) {
        struct kmsg_list_offsets_resp_topic *rt = &resp.topics[i];
        kmsg_list_offsets_resp_topic_init(rt);
        rt->name = m.topics[i].name;
        int32_t np = m.topics[i].partitions_count > 0 ? m.topics[i].partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
        int64_t *olds = arena_alloc_array(&req->arena, (size_t)np, sizeof *olds);
        if ((!rt->partitions || !olds) && np) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->partitions_count = np;
        for (int32_t j = 0; j < np; j++) {
            const struct kmsg_list_offsets_req_partition *p = &m.topics[i].partitions[j];
            struct kmsg_list_offsets_resp_partition *rp = &rt->partitions[j];
            kmsg_list_offsets_resp_partition_init(rp);
            rp->partition_index = p->partition_index;
            rp->old_style_offsets = &olds[j];
            rp->old_style_offsets_count = 0;
            struct brk_part *part = part_lookup(srv, rt->name, p->partition_index, &rp->error_code);
            if (!part)
                continue;
            rp->leader_epoch = part->leader_epoch;
            int64_t offset = -1, ts = -1;
            if (p->timestamp == LIST_OFFSETS_LATEST) {
                offset = brk_part_high_watermark(part);
            } else if (p->timestamp == LIST_OFFSETS_EARLIEST) {
                offset = brk_plog_start_offset(part->plog);
            } else if (p->timestamp < 0 && p->timestamp != LIST_OFFSETS_MAX_TIMESTAMP) {
                rp->error_code = KERR_INVALID_REQUEST; /* -4, -5 (tiered storage) are not served */
                continue;
            } else {
                if (p->timestamp == LIST_OFFSETS_MAX_TIMESTAMP)
                    rc = brk_plog_offset_for_max_time(part->plog, &offset, &ts);
                else
                    rc = brk_plog_offset_for_time(part->plog, p->timestamp, &offset, &ts);
                if (rc == ERR_NOT_FOUND || (rc == 0 && offset >= brk_part_high_watermark(part))) {
                    offset = -1;
                    ts = -1;
                } else if (rc < 0) {
                    rp->error_code = brk_kerr_from_err(rc);
                    continue;
                }
            }
            rp->offset = offset;
            rp->timestamp = ts;
            if (offset >= 0 && p->max_num_offsets > 0) {
                olds[j] = offset;
                rp->old_style_offsets_count = 1;
            }
        }
    }
    BRK_RESPOND(req, list_offsets, &resp);
}

void brk_h_delete_records(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_delete_records_req m;
    int rc = kmsg_delete_records_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_delete_records_resp resp;
    kmsg_delete_records_resp_init(&resp);
    int32_t nt = m.topics_count > 0 ? m.topics_count : 0;
    resp.topics = arena_alloc_array(&req->arena, (size_t)nt, sizeof *resp.topics);
    if (!resp.topics && nt) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.topics_count = nt;
    bool changed = false;
    for (int32_t i = 0; i < nt; i++) {
        struct kmsg_delete_records_resp_topic *rt = &resp.topics[i];
        kmsg_delete_records_resp_topic_init(rt);
        rt->name = m.topics[i].name;
        int32_t np = m.topics[i].partitions_count > 0 ? m.topics[i].partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
        if (!rt->partitions && np) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->partitions_count = np;
        for (int32_t j = 0; j < np; j++) {
            const struct kmsg_delete_records_req_partition *p = &m.topics[i].partitions[j];
            struct kmsg_delete_records_resp_partition *rp = &rt->partitions[j];
            kmsg_delete_records_resp_partition_init(rp);
            rp->partition_index = p->partition_index;
            rp->low_watermark = -1;
            struct brk_part *part = part_lookup(srv, rt->name, p->partition_index, &rp->error_code);
            if (!part)
                continue;
            int64_t hw = brk_part_high_watermark(part);
            int64_t target = p->offset == -1 ? hw : p->offset; /* -1: up to the high watermark */
            if (target < 0 || target > hw) {
                rp->error_code = KERR_OFFSET_OUT_OF_RANGE;
                continue;
            }
            rc = brk_plog_delete_records(part->plog, target);
            if (rc < 0) {
                rp->error_code = brk_kerr_from_err(rc);
                continue;
            }
            changed = true;
            rp->low_watermark = brk_plog_start_offset(part->plog);
            log_info("offsets", "records deleted topic=%s partition=%d log_start_offset=%lld", part->topic,
                     part->partition, (long long)rp->low_watermark);
        }
    }
    if (changed) {
        rc = brk_parts_checkpoint(srv->parts);
        if (rc < 0)
            log_error("offsets", "log start offsets not checkpointed error=\"%s\"; a restart may expose deleted "
                      "records again", err_str(rc));
    }
    BRK_RESPOND(req, delete_records, &resp);
}

/* OffsetForLeaderEpoch (API 23): where leader epoch E ends in this leader's
 * log (brk_epoch_cache_end_offset_for).  Clients validate their position with
 * it after a leader change (KIP-320: librdkafka, the Java consumer); a
 * follower (replica_id >= 0, v3+) may ask too, as Kafka's pre-KIP-595
 * followers did.  Only the leader answers; current_leader_epoch (v2+) is
 * checked as Fetch checks it. */
void brk_h_offset_for_leader_epoch(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_offset_for_leader_epoch_req m;
    int rc = kmsg_offset_for_leader_epoch_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_offset_for_leader_epoch_resp resp;
    kmsg_offset_for_leader_epoch_resp_init(&resp);
    int32_t nt = m.topics_count > 0 ? m.topics_count : 0;
    resp.topics = arena_alloc_array(&req->arena, (size_t)nt, sizeof *resp.topics);
    if (!resp.topics && nt) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.topics_count = nt;
    for (int32_t i = 0; i < nt; i++) {
        struct kmsg_offset_for_leader_epoch_resp_topic *rt = &resp.topics[i];
        kmsg_offset_for_leader_epoch_resp_topic_init(rt);
        rt->topic = m.topics[i].topic;
        int32_t np = m.topics[i].partitions_count > 0 ? m.topics[i].partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
        if (!rt->partitions && np) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->partitions_count = np;
        for (int32_t j = 0; j < np; j++) {
            const struct kmsg_offset_for_leader_epoch_req_partition *p = &m.topics[i].partitions[j];
            struct kmsg_offset_for_leader_epoch_resp_epoch_end_offset *rp = &rt->partitions[j];
            kmsg_offset_for_leader_epoch_resp_epoch_end_offset_init(rp);
            rp->partition = p->partition;
            rp->leader_epoch = -1;
            rp->end_offset = -1;
            struct brk_part *part = part_lookup(srv, rt->topic, p->partition, &rp->error_code);
            if (!part)
                continue;
            if (!part->replica) {
                rp->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
                continue;
            }
            if ((rp->error_code = brk_replica_check_leader_epoch(part, p->current_leader_epoch)) != 0)
                continue;
            brk_replica_end_offset_for(part, p->leader_epoch, &rp->leader_epoch, &rp->end_offset);
        }
    }
    BRK_RESPOND(req, offset_for_leader_epoch, &resp);
}
