/*
 * brk_h_meta.c - Metadata and DescribeCluster: the cluster as the image sees
 * it, with each broker's address for the listener the client came in on
 * (the LISTENER_BOB / LISTENER_FRED rule of advertised.listeners).
 */
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/group/brk_offsets_topic.h"
#include "broker/log/brk_part.h"
#include "common/log.h"
#include "controller/ctrl.h"

const struct ctrl_endpoint *brk_endpoint_for(const struct ctrl_broker *b, const char *listener_name)
{
    for (int32_t i = 0; i < b->endpoint_count; i++)
        if (strcmp(b->endpoints[i].name, listener_name) == 0)
            return &b->endpoints[i];
    return NULL;
}

char *brk_arena_cstr(struct arena *a, struct bytes s)
{
    char *p = arena_alloc(a, s.len + 1);
    if (p && s.len)
        memcpy(p, s.ptr, s.len);
    return p;
}

static const char *req_listener_name(const struct brk_req *req)
{
    const struct brk_ctx *srv = brk_req_ctx(req);
    return srv->node->listeners[brk_req_listener_index(req)].name;
}

/* The controller id clients see: the active controller when it is also a
 * live broker, else this broker, which forwards admin requests (Kafka's
 * KRaft brokers do the same). */
static int32_t visible_controller_id(const struct brk_ctx *srv)
{
    int32_t active = ctrl_active_id(srv->ctrl);
    const struct ctrl_broker *b = active >= 0 ? ctrl_image_broker_find(ctrl_metadata(srv->ctrl), active) : NULL;
    if (b && !b->fenced)
        return active;
    return srv->node->node_id;
}

static int fill_brokers(struct brk_req *req, struct kmsg_metadata_resp *resp)
{
    const struct ctrl_image *img = ctrl_metadata(brk_req_ctx(req)->ctrl);
    const char *lname = req_listener_name(req);
    int32_t n = ctrl_image_broker_count(img);
    resp->brokers = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->brokers);
    if (!resp->brokers)
        return ERR_LIMIT;
    resp->brokers_count = 0;
    for (int32_t i = 0; i < n; i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        const struct ctrl_endpoint *ep = brk_endpoint_for(b, lname);
        if (!ep || b->fenced)
            continue;
        struct kmsg_metadata_resp_broker *rb = &resp->brokers[resp->brokers_count++];
        kmsg_metadata_resp_broker_init(rb);
        rb->node_id = b->broker_id;
        rb->host = bytes_cstr(ep->host);
        rb->port = ep->port;
        rb->rack = b->rack[0] ? bytes_cstr(b->rack) : (struct bytes){ NULL, 0 };
    }
    return 0;
}

/* meta_auto_create - Kafka's AutoTopicCreationManager: with
 * auto.create.topics.enable, a missing topic a Metadata request names is
 * created, __consumer_offsets as the group coordinator creates it
 * (offsets.topic.*).  Burrow (sarama) asks for it before any group exists,
 * and exits if it is missing.  0 if it exists or is being created. */
static int meta_auto_create(struct brk_ctx *srv, struct arena *a, struct bytes name)
{
    if (!bytes_eq_cstr(name, BRK_OFFSETS_TOPIC_NAME))
        return brk_auto_create_topic(srv, a, name);
    if (!srv->node->auto_create_topics_enable)
        return ERR_NOT_FOUND;
    (void)brk_h_group_offsets_topic_ensure(srv);
    return srv->groups_topic_creating ? 0 : ERR_NOT_FOUND;
}

static int fill_topic(struct brk_req *req, struct kmsg_metadata_resp_topic *rt, const struct ctrl_topic *t)
{
    rt->name = bytes_cstr(t->name);
    rt->is_internal = t->internal;
    rt->error_code = KERR_NONE;
    rt->partitions = arena_alloc_array(&req->arena, (size_t)t->partition_count, sizeof *rt->partitions);
    if (!rt->partitions)
        return ERR_LIMIT;
    rt->partitions_count = t->partition_count;
    for (int32_t p = 0; p < t->partition_count; p++) {
        const struct ctrl_partition *cp = &t->partitions[p];
        struct kmsg_metadata_resp_partition *rp = &rt->partitions[p];
        kmsg_metadata_resp_partition_init(rp);
        rp->partition_index = cp->partition_id;
        rp->leader_id = cp->leader;
        rp->leader_epoch = cp->leader_epoch;
        rp->error_code = cp->leader < 0 ? KERR_LEADER_NOT_AVAILABLE : KERR_NONE;
        rp->replica_nodes = (int32_t *)cp->replicas;
        rp->replica_nodes_count = cp->replica_count;
        rp->isr_nodes = (int32_t *)cp->isr;
        rp->isr_nodes_count = cp->isr_count;
        rp->offline_replicas_count = 0;
    }
    return 0;
}

void brk_h_metadata(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_metadata_req m;
    int rc = kmsg_metadata_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_metadata_resp resp;
    kmsg_metadata_resp_init(&resp);
    rc = fill_brokers(req, &resp);
    if (rc < 0)
        goto out;
    resp.cluster_id = bytes_cstr(srv->cluster_id);
    resp.controller_id = visible_controller_id(srv);
    /* v0 sends an empty array for "all topics"; v1+ sends null */
    bool all = m.topics_count < 0 || (req->hdr.api_version == 0 && m.topics_count == 0);
    if (all) {
        const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
        int32_t n = ctrl_image_topic_count(img);
        resp.topics = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.topics);
        if (!resp.topics) {
            rc = ERR_LIMIT;
            goto out;
        }
        resp.topics_count = n;
        for (int32_t i = 0; i < n && rc == 0; i++) {
            kmsg_metadata_resp_topic_init(&resp.topics[i]);
            rc = fill_topic(req, &resp.topics[i], ctrl_image_topic_at(img, i));
        }
    } else {
        resp.topics = arena_alloc_array(&req->arena, (size_t)m.topics_count, sizeof *resp.topics);
        if (!resp.topics) {
            rc = ERR_LIMIT;
            goto out;
        }
        resp.topics_count = m.topics_count;
        for (int32_t i = 0; i < m.topics_count && rc == 0; i++) {
            struct kmsg_metadata_resp_topic *rt = &resp.topics[i];
            kmsg_metadata_resp_topic_init(rt);
            struct bytes name = m.topics[i].name;
            rt->name = name;
            if (!name.ptr || ctrl_topic_name_check((const char *)name.ptr, name.len) < 0) {
                rt->error_code = KERR_INVALID_TOPIC_EXCEPTION;
                continue;
            }
            const struct ctrl_topic *t =
                ctrl_image_topic_find(ctrl_metadata(srv->ctrl), (const char *)name.ptr, name.len);
            bool creating = false;
            if (!t && m.allow_auto_topic_creation && meta_auto_create(srv, &req->arena, name) == 0) {
                t = ctrl_image_topic_find(ctrl_metadata(srv->ctrl), (const char *)name.ptr, name.len);
                creating = true;
            }
            if (!t) {
                /* Kafka's answer while an auto-created topic is on its way */
                rt->error_code = creating ? KERR_LEADER_NOT_AVAILABLE : KERR_UNKNOWN_TOPIC_OR_PARTITION;
                rt->is_internal = bytes_eq_cstr(name, BRK_OFFSETS_TOPIC_NAME); /* Kafka's Topic.isInternal */
                continue;
            }
            rc = fill_topic(req, rt, t);
        }
    }
out:
    if (rc < 0) {
        brk_req_finish(req, rc);
        return;
    }
    BRK_RESPOND(req, metadata, &resp);
}

void brk_h_describe_cluster(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_cluster_req m;
    int rc = kmsg_describe_cluster_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_describe_cluster_resp resp;
    kmsg_describe_cluster_resp_init(&resp);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const char *lname = req_listener_name(req);
    int32_t n = ctrl_image_broker_count(img);
    resp.brokers = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.brokers);
    if (!resp.brokers) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        const struct ctrl_endpoint *ep = brk_endpoint_for(b, lname);
        if (!ep || b->fenced)
            continue;
        struct kmsg_describe_cluster_resp_broker *rb = &resp.brokers[resp.brokers_count++];
        kmsg_describe_cluster_resp_broker_init(rb);
        rb->broker_id = b->broker_id;
        rb->host = bytes_cstr(ep->host);
        rb->port = ep->port;
        rb->rack = b->rack[0] ? bytes_cstr(b->rack) : (struct bytes){ NULL, 0 };
    }
    resp.cluster_id = bytes_cstr(srv->cluster_id);
    resp.controller_id = visible_controller_id(srv);
    BRK_RESPOND(req, describe_cluster, &resp);
}
