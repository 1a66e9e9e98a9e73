/*
 * brk_h_dtp.c - DescribeTopicPartitions (API 75, v0, KIP-966): the image's
 * topics with each partition's leader, replicas, ISR, eligible leader
 * replicas and last known ELR, paged the way Kafka's
 * DescribeTopicPartitionsRequestHandler pages them.
 *
 * Kafka's rules, on purpose:
 *  - no topics asked = every topic (unknown or invalid names are then never
 *    reported); asked topics that do not exist answer
 *    UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION when the name
 *    breaks the topic-name rules;
 *  - the topics are answered sorted by name, from the cursor's topic on
 *    (names before it are left out) and, in the cursor's topic, from its
 *    partition;
 *  - at most max(min(2000, ResponsePartitionLimit), 1) partitions: the
 *    topic that hits the limit is cut and NextCursor names its next
 *    partition; a limit used up exactly at a topic's end points NextCursor
 *    at the next topic's partition 0; no more topics: NextCursor null;
 *  - a cursor whose topic is not among the asked topics, or whose partition
 *    is negative, fails the request: every asked topic with INVALID_REQUEST;
 *  - no leader (or a fenced one, or one without this listener) is leader -1
 *    with no partition error; offline replicas are the fenced or
 *    unregistered ones; TopicAuthorizedOperations is always Kafka's "not
 *    requested" INT32_MIN (there is no authorizer).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "controller/ctrl.h"

/* Kafka's max.request.partition.size.limit default: the broker's cap on a
 * response's partitions, whatever the request asks. */
#define BRK_DTP_PARTITIONS_MAX 2000

static int dtp_name_cmp(struct bytes x, struct bytes y)
{
    size_t n = x.len < y.len ? x.len : y.len;
    int c = n ? memcmp(x.ptr, y.ptr, n) : 0;
    if (c != 0)
        return c;
    return x.len < y.len ? -1 : x.len > y.len;
}

static int dtp_name_qsort_cmp(const void *a, const void *b)
{
    return dtp_name_cmp(*(const struct bytes *)a, *(const struct bytes *)b);
}

static bool dtp_is_internal_name(struct bytes name)
{
    return bytes_eq(name, bytes_cstr("__consumer_offsets")) || bytes_eq(name, bytes_cstr("__transaction_state"));
}

/* b serves this listener and is not fenced. */
static bool dtp_broker_live(const struct ctrl_image *img, int32_t id, const char *listener)
{
    const struct ctrl_broker *b = id >= 0 ? ctrl_image_broker_find(img, id) : NULL;
    return b && !b->fenced && brk_endpoint_for(b, listener) != NULL;
}

static int32_t *dtp_ids(struct arena *a, const int32_t *ids, int32_t n)
{
    int32_t *out = arena_alloc_array(a, (size_t)(n > 0 ? n : 1), sizeof *out);
    if (out && n > 0)
        memcpy(out, ids, (size_t)n * sizeof *out);
    return out;
}

static int dtp_fill_partition(struct arena *a, const struct ctrl_image *img, const char *listener,
                              const struct ctrl_partition *cp, struct kmsg_describe_topic_partitions_resp_partition *rp)
{
    kmsg_describe_topic_partitions_resp_partition_init(rp);
    rp->partition_index = cp->partition_id;
    rp->leader_id = dtp_broker_live(img, cp->leader, listener) ? cp->leader : -1;
    rp->leader_epoch = cp->leader_epoch;
    rp->replica_nodes = (int32_t *)cp->replicas;
    rp->replica_nodes_count = cp->replica_count;
    rp->isr_nodes = (int32_t *)cp->isr;
    rp->isr_nodes_count = cp->isr_count;
    /* never null from this broker: Kafka's tools print "Elr: N/A" only for null */
    rp->eligible_leader_replicas = dtp_ids(a, cp->elr, cp->elr_count);
    rp->eligible_leader_replicas_count = cp->elr_count;
    rp->last_known_elr = dtp_ids(a, cp->last_known_elr, cp->last_known_elr_count);
    rp->last_known_elr_count = cp->last_known_elr_count;
    rp->offline_replicas = arena_alloc_array(a, (size_t)(cp->replica_count > 0 ? cp->replica_count : 1),
                                             sizeof *rp->offline_replicas);
    if (!rp->eligible_leader_replicas || !rp->last_known_elr || !rp->offline_replicas)
        return ERR_LIMIT;
    rp->offline_replicas_count = 0;
    for (int32_t i = 0; i < cp->replica_count; i++) {
        const struct ctrl_broker *b = ctrl_image_broker_find(img, cp->replicas[i]);
        if (!b || b->fenced || !brk_endpoint_for(b, listener))
            rp->offline_replicas[rp->offline_replicas_count++] = cp->replicas[i];
    }
    return 0;
}

/* The request's failure (Kafka's getErrorResponse): every asked topic with error. */
static void dtp_respond_error(struct brk_req *req, const struct kmsg_describe_topic_partitions_req *m, int16_t error)
{
    struct kmsg_describe_topic_partitions_resp resp;
    kmsg_describe_topic_partitions_resp_init(&resp);
    int32_t n = m->topics_count > 0 ? m->topics_count : 0;
    resp.topics = arena_alloc_array(&req->arena, (size_t)(n ? n : 1), sizeof *resp.topics);
    if (!resp.topics) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        kmsg_describe_topic_partitions_resp_topic_init(&resp.topics[i]);
        resp.topics[i].name = m->topics[i].name;
        resp.topics[i].error_code = error;
    }
    resp.topics_count = n;
    BRK_RESPOND(req, describe_topic_partitions, &resp);
}

/* The candidate names, sorted and distinct, from the cursor's topic on;
 * *count 0 or more.  ERR_INVALID: the cursor's topic is not asked for. */
static int dtp_names(struct brk_req *req, const struct ctrl_image *img, const struct kmsg_describe_topic_partitions_req *m,
                     bool all, struct bytes **out, int32_t *count)
{
    struct bytes from = m->cursor_is_null ? bytes_make("", 0) : m->cursor.topic_name;
    int32_t n = all ? ctrl_image_topic_count(img) : m->topics_count;
    struct bytes *names = arena_alloc_array(&req->arena, (size_t)(n > 0 ? n : 1), sizeof *names);
    if (!names)
        return ERR_LIMIT;
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        struct bytes name = all ? bytes_cstr(ctrl_image_topic_at(img, i)->name) : m->topics[i].name;
        if (name.ptr && dtp_name_cmp(name, from) >= 0)
            names[k++] = name;
    }
    qsort(names, (size_t)k, sizeof *names, dtp_name_qsort_cmp);
    int32_t d = 0;
    for (int32_t i = 0; i < k; i++)
        if (d == 0 || dtp_name_cmp(names[d - 1], names[i]) != 0)
            names[d++] = names[i];
    if (!all && !m->cursor_is_null) {
        bool found = false;
        for (int32_t i = 0; i < d && !found; i++)
            found = dtp_name_cmp(names[i], from) == 0;
        if (!found)
            return ERR_INVALID;
    }
    *out = names;
    *count = d;
    return 0;
}

void brk_h_describe_topic_partitions(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_topic_partitions_req m;
    int rc = kmsg_describe_topic_partitions_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const char *listener = srv->node->listeners[brk_req_listener_index(req)].name;
    bool all = m.topics_count <= 0;
    struct bytes *names = NULL;
    int32_t name_count = 0;
    rc = dtp_names(req, img, &m, all, &names, &name_count);
    if (rc == ERR_INVALID || (!m.cursor_is_null && m.cursor.partition_index < 0)) {
        dtp_respond_error(req, &m, KERR_INVALID_REQUEST);
        return;
    }
    if (rc < 0) {
        brk_req_finish(req, rc);
        return;
    }
    int32_t remaining = m.response_partition_limit < BRK_DTP_PARTITIONS_MAX ? m.response_partition_limit
                                                                             : BRK_DTP_PARTITIONS_MAX;
    if (remaining < 1)
        remaining = 1;
    struct kmsg_describe_topic_partitions_resp resp;
    kmsg_describe_topic_partitions_resp_init(&resp);
    resp.topics = arena_alloc_array(&req->arena, (size_t)(name_count ? name_count : 1), sizeof *resp.topics);
    if (!resp.topics) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < name_count && rc == 0; i++) {
        struct bytes name = names[i];
        if (remaining == 0) { /* the limit ended exactly at the previous topic's end */
            resp.next_cursor_is_null = false;
            resp.next_cursor.topic_name = name;
            resp.next_cursor.partition_index = 0;
            break;
        }
        const struct ctrl_topic *t = ctrl_image_topic_find(img, (const char *)name.ptr, name.len);
        if (!t) {
            if (all)
                continue;
            struct kmsg_describe_topic_partitions_resp_topic *rt = &resp.topics[resp.topics_count++];
            kmsg_describe_topic_partitions_resp_topic_init(rt);
            rt->name = name;
            rt->is_internal = dtp_is_internal_name(name);
            rt->error_code = ctrl_topic_name_check((const char *)name.ptr, name.len) < 0
                                 ? KERR_INVALID_TOPIC_EXCEPTION
                                 : KERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        int64_t start = !m.cursor_is_null && dtp_name_cmp(name, m.cursor.topic_name) == 0 ? m.cursor.partition_index : 0;
        int64_t upper = start + remaining < t->partition_count ? start + remaining : t->partition_count;
        int32_t take = upper > start ? (int32_t)(upper - start) : 0;
        struct kmsg_describe_topic_partitions_resp_topic *rt = &resp.topics[resp.topics_count++];
        kmsg_describe_topic_partitions_resp_topic_init(rt);
        rt->name = name;
        memcpy(rt->topic_id, t->topic_id, 16);
        rt->is_internal = t->internal;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)(take ? take : 1), sizeof *rt->partitions);
        if (!rt->partitions) {
            rc = ERR_LIMIT;
            break;
        }
        for (int32_t p = 0; p < take && rc == 0; p++)
            rc = dtp_fill_partition(&req->arena, img, listener, &t->partitions[start + p], &rt->partitions[p]);
        rt->partitions_count = take;
        if (upper < t->partition_count) { /* cut by the limit */
            resp.next_cursor_is_null = false;
            resp.next_cursor.topic_name = name;
            resp.next_cursor.partition_index = (int32_t)upper;
            break;
        }
        remaining -= take;
    }
    if (rc < 0) {
        brk_req_finish(req, rc);
        return;
    }
    BRK_RESPOND(req, describe_topic_partitions, &resp);
}
