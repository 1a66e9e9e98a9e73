/*
 * brk_dispatch.c - request header decoding, the API table, ApiVersions.
 *
 * The broker advertises exactly the APIs it has a handler for, from the
 * codec's min version (proto/kafka/NAME.api) to the highest version the
 * handler serves (brk_apis below), which may be lower than the codec's max:
 * versions described for work in progress are never advertised.  An unknown
 * API key or version is answered the Kafka way: ApiVersions gets
 * UNSUPPORTED_VERSION in v0 layout (clients then retry with v0); anything
 * else - including a described but unserved API or version - closes the
 * connection.
 */
#include <event2/event.h>
#include <string.h>

#include "broker/net/brk_dispatch.h"
#include "broker/api/brk_h.h"
#include "broker/net/brk_dispatch.h"
#include "broker/api/brk_kerr.h"
#include "broker/brk_ctx.h"
#include "controller/ctrl.h"
#include "common/clock.h"
#include "common/log.h"

struct brk_api {
    int16_t api_key;
    brk_handler_fn fn;
    bool controller;     /* runs on the active controller: forwarded from other nodes */
    int16_t max_version; /* highest version the handler serves, or BRK_SERVED_ALL */
};

/* Every version the codec describes is served.  An API whose description
 * runs ahead of its handler (work in progress) names its served max instead,
 * and brk_dispatch_test pins the advertised ranges. */
#define BRK_SERVED_ALL INT16_MAX

static void h_api_versions(struct brk_req *req);

static const struct brk_api brk_apis[] = {
    { KMSG_API_PRODUCE, brk_h_produce, false, BRK_SERVED_ALL },
    { KMSG_API_FETCH, brk_h_fetch, false, 15 },
    { KMSG_API_LIST_OFFSETS, brk_h_list_offsets, false, BRK_SERVED_ALL },
    { KMSG_API_OFFSET_FOR_LEADER_EPOCH, brk_h_offset_for_leader_epoch, false, BRK_SERVED_ALL },
    { KMSG_API_METADATA, brk_h_metadata, false, BRK_SERVED_ALL },
    { KMSG_API_API_VERSIONS, h_api_versions, false, BRK_SERVED_ALL },
    { KMSG_API_CREATE_TOPICS, brk_h_create_topics, true, BRK_SERVED_ALL },
    { KMSG_API_DELETE_TOPICS, brk_h_delete_topics, true, BRK_SERVED_ALL },
    { KMSG_API_DELETE_RECORDS, brk_h_delete_records, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_CONFIGS, brk_h_describe_configs, false, BRK_SERVED_ALL },
    { KMSG_API_ALTER_CONFIGS, brk_h_alter_configs, true, BRK_SERVED_ALL },
    { KMSG_API_CREATE_PARTITIONS, brk_h_create_partitions, true, BRK_SERVED_ALL },
    { KMSG_API_INCREMENTAL_ALTER_CONFIGS, brk_h_incremental_alter_configs, true, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_CLUSTER, brk_h_describe_cluster, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_TOPIC_PARTITIONS, brk_h_describe_topic_partitions, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_QUORUM, brk_h_describe_quorum, true, BRK_SERVED_ALL },
    { KMSG_API_FIND_COORDINATOR, brk_h_find_coordinator, false, BRK_SERVED_ALL },
    { KMSG_API_JOIN_GROUP, brk_h_join_group, false, BRK_SERVED_ALL },
    { KMSG_API_SYNC_GROUP, brk_h_sync_group, false, BRK_SERVED_ALL },
    { KMSG_API_HEARTBEAT, brk_h_heartbeat, false, BRK_SERVED_ALL },
    { KMSG_API_LEAVE_GROUP, brk_h_leave_group, false, BRK_SERVED_ALL },
    { KMSG_API_OFFSET_COMMIT, brk_h_offset_commit, false, BRK_SERVED_ALL },
    { KMSG_API_OFFSET_FETCH, brk_h_offset_fetch, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_GROUPS, brk_h_describe_groups, false, BRK_SERVED_ALL },
    { KMSG_API_LIST_GROUPS, brk_h_list_groups, false, BRK_SERVED_ALL },
    { KMSG_API_DELETE_GROUPS, brk_h_delete_groups, false, BRK_SERVED_ALL },
    { KMSG_API_OFFSET_DELETE, brk_h_offset_delete, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_LOG_DIRS, brk_h_describe_log_dirs, false, BRK_SERVED_ALL },
    { KMSG_API_DESCRIBE_CLIENT_QUOTAS, brk_h_describe_client_quotas, false, BRK_SERVED_ALL },
    { KMSG_API_ALTER_CLIENT_QUOTAS, brk_h_alter_client_quotas, true, BRK_SERVED_ALL },
    { KMSG_API_ALTER_PARTITION_REASSIGNMENTS, brk_h_alter_partition_reassignments, true, BRK_SERVED_ALL },
    { KMSG_API_LIST_PARTITION_REASSIGNMENTS, brk_h_list_partition_reassignments, true, BRK_SERVED_ALL },
    { KMSG_API_ELECT_LEADERS, brk_h_elect_leaders, true, BRK_SERVED_ALL },
    { KMSG_API_INIT_PRODUCER_ID, brk_h_init_producer_id, false, BRK_SERVED_ALL },
};
#define BRK_API_COUNT ((int)(sizeof brk_apis / sizeof brk_apis[0]))

static const struct brk_api *api_find(int16_t key)
{
    for (int i = 0; i < BRK_API_COUNT; i++)
        if (brk_apis[i].api_key == key)
            return &brk_apis[i];
    return NULL;
}

/* served_max - api's highest served version: its own cap within the codec's range. */
static int16_t served_max(const struct brk_api *api)
{
    const struct kmsg_api_info *info = kmsg_api_find(api->api_key);
    ASSERT(info != NULL); /* the table only holds described APIs */
    ASSERT(api->max_version >= info->min_version);
    return api->max_version < info->max_version ? api->max_version : info->max_version;
}

int16_t brk_dispatch_served_max(int16_t api_key)
{
    const struct brk_api *api = api_find(api_key);
    return api ? served_max(api) : -1;
}

int brk_dispatch_api_keys_count(void)
{
    return BRK_API_COUNT;
}

void brk_dispatch_api_keys_fill(struct kmsg_api_versions_resp_api_key *keys)
{
    for (int i = 0; i < BRK_API_COUNT; i++) {
        const struct kmsg_api_info *info = kmsg_api_find(brk_apis[i].api_key);
        kmsg_api_versions_resp_api_key_init(&keys[i]);
        keys[i].api_key = brk_apis[i].api_key;
        keys[i].min_version = info->min_version;
        keys[i].max_version = served_max(&brk_apis[i]);
    }
}

static int api_versions_encode(struct brk_req *req, int16_t version, int16_t error_code)
{
    struct kmsg_api_versions_resp resp;
    kmsg_api_versions_resp_init(&resp);
    resp.error_code = error_code;
    struct kmsg_api_versions_resp_api_key *keys = arena_alloc_array(&req->arena, BRK_API_COUNT, sizeof *keys);
    if (!keys)
        return ERR_LIMIT;
    brk_dispatch_api_keys_fill(keys);
    resp.api_keys = keys;
    resp.api_keys_count = BRK_API_COUNT;
    int rc = kwire_write_i32(&req->resp, 0);
    if (rc == 0) /* ApiVersions responses always use header v0 */
        rc = kwire_write_i32(&req->resp, req->hdr.correlation_id);
    if (rc == 0)
        rc = kmsg_api_versions_resp_encode(&req->resp, version, &resp);
    return rc;
}

static void h_api_versions(struct brk_req *req)
{
    struct kmsg_api_versions_req m;
    int rc = kmsg_api_versions_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    int16_t err = rc < 0 ? KERR_INVALID_REQUEST : KERR_NONE;
    buf_reset(&req->resp);
    brk_req_finish(req, api_versions_encode(req, req->hdr.api_version, err));
}

/* Controller APIs on a node that is not the active controller are forwarded
 * there.  While no controller is known (an election), or this node has just
 * become it and has not applied an entry of its own term yet, the request
 * waits and retries, like Kafka's forwarding manager, for up to
 * BRK_FORWARD_WAIT_MS; only then is it run here, which answers
 * NOT_CONTROLLER per item (librdkafka's admin client does not retry it). */
#define BRK_FORWARD_WAIT_MS 5000
#define BRK_FORWARD_RETRY_MS 50

static void forward_try(struct brk_req *req);

static void forward_run_here(struct brk_req *req)
{
    if (req->timer) {
        event_free(req->timer);
        req->timer = NULL;
    }
    api_find(req->hdr.api_key)->fn(req);
}

static void forward_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    forward_try(arg);
}

static void forward_done_cb(void *arg, int rc, struct bytes resp)
{
    struct brk_req *req = arg;
    if (rc == 0 && resp.len >= 8) {
        buf_reset(&req->resp);
        if (buf_append(&req->resp, resp.ptr, resp.len) == 0) {
            brk_req_finish(req, 0);
            return;
        }
    }
    log_debug("dispatch", "forwarding failed api_key=%d error=\"%s\"", req->hdr.api_key, err_str(rc));
    if (rc == ERR_NOT_CONTROLLER || rc == ERR_TIMEOUT)
        forward_try(req); /* the leader moved on: find the new one */
    else
        forward_run_here(req);
}

static void forward_try(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    if (ctrl_ready_to_plan(srv->ctrl)) {
        forward_run_here(req);
        return;
    }
    if (!ctrl_is_active(srv->ctrl) &&
        ctrl_forward_request(srv->ctrl, buf_bytes(&req->frame), forward_done_cb, req) == 0) {
        if (req->timer) {
            event_free(req->timer);
            req->timer = NULL;
        }
        return;
    }
    if (clock_mono_ns() - req->received_ns < (int64_t)BRK_FORWARD_WAIT_MS * 1000000) {
        if (!req->timer)
            req->timer = event_new(srv->base, -1, 0, forward_retry_cb, req);
        struct timeval tv = { 0, BRK_FORWARD_RETRY_MS * 1000 };
        if (req->timer && event_add(req->timer, &tv) == 0)
            return;
    }
    forward_run_here(req);
}

int brk_dispatch(struct brk_req *req)
{
    kwire_reader_init(&req->body, buf_bytes(&req->frame));
    int rc = kmsg_req_header_decode(&req->body, &req->hdr);
    if (rc == ERR_UNSUPPORTED && req->hdr.api_key == KMSG_API_API_VERSIONS) {
        log_debug("dispatch", "ApiVersions version=%d unsupported; answering v0 error 35", req->hdr.api_version);
        buf_reset(&req->resp);
        brk_req_finish(req, api_versions_encode(req, 0, KERR_UNSUPPORTED_VERSION));
        return 0;
    }
    if (rc < 0) {
        log_debug("dispatch", "bad request header api_key=%d api_version=%d error=\"%s\"", req->hdr.api_key,
                  req->hdr.api_version, err_str(rc));
        return rc;
    }
    const struct brk_api *api = api_find(req->hdr.api_key);
    if (!api) {
        log_debug("dispatch", "api not served api_key=%d; closing", req->hdr.api_key);
        return ERR_UNSUPPORTED;
    }
    if (req->hdr.api_version > served_max(api)) { /* described by the codec, not served (or advertised) */
        log_debug("dispatch", "version not served api_key=%d api_version=%d max_served=%d; closing", req->hdr.api_key,
                  req->hdr.api_version, served_max(api));
        return ERR_UNSUPPORTED;
    }
    log_trace("dispatch", "request api_key=%d api_version=%d correlation_id=%d", req->hdr.api_key,
              req->hdr.api_version, req->hdr.correlation_id);
    struct brk_ctx *srv = brk_req_ctx(req);
    if (api->controller && !ctrl_ready_to_plan(srv->ctrl)) {
        forward_try(req); /* answered from the active controller's response, or here once ready */
        return 0;
    }
    api->fn(req);
    return 0;
}
