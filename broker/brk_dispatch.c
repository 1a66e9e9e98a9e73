/*
 * brk_dispatch.c - request header decoding, the API table, ApiVersions.
 *
 * The broker advertises exactly the APIs it has a handler for, with the
 * version range the codec describes (proto/kafka/NAME.api), and only those.
 * An unknown API key or version is answered the Kafka way: ApiVersions gets
 * UNSUPPORTED_VERSION in v0 layout (clients then retry with v0); anything
 * else closes the connection.
 */
#include <string.h>

#include "broker/brk_h.h"
#include "broker/brk_int.h"
#include "broker/brk_kerr.h"
#include "common/log.h"

struct brk_api {
    int16_t api_key;
    brk_handler_fn fn;
};

static void h_api_versions(struct brk_req *req);

static const struct brk_api brk_apis[] = {
    { KMSG_API_PRODUCE, brk_h_produce },
    { KMSG_API_FETCH, brk_h_fetch },
    { KMSG_API_LIST_OFFSETS, brk_h_list_offsets },
    { KMSG_API_METADATA, brk_h_metadata },
    { KMSG_API_API_VERSIONS, h_api_versions },
    { KMSG_API_CREATE_TOPICS, brk_h_create_topics },
    { KMSG_API_DELETE_TOPICS, brk_h_delete_topics },
    { KMSG_API_DELETE_RECORDS, brk_h_delete_records },
    { KMSG_API_DESCRIBE_CONFIGS, brk_h_describe_configs },
    { KMSG_API_ALTER_CONFIGS, brk_h_alter_configs },
    { KMSG_API_CREATE_PARTITIONS, brk_h_create_partitions },
    { KMSG_API_INCREMENTAL_ALTER_CONFIGS, brk_h_incremental_alter_configs },
    { KMSG_API_DESCRIBE_CLUSTER, brk_h_describe_cluster },
};
#define BRK_API_COUNT ((int)(sizeof brk_apis / sizeof brk_apis[0]))

static const struct brk_api *api_find(int16_t key)
{
    for (int i = 0; i < BRK_API_COUNT; i++)
        if (brk_apis[i].api_key == key)
            return &brk_apis[i];
    return NULL;
}

static int api_versions_encode(struct brk_req *req, int16_t version, int16_t error_code)
{
    struct kmsg_api_versions_resp resp;
    kmsg_api_versions_resp_init(&resp);
    resp.error_code = error_code;
    struct kmsg_api_versions_resp_api_key *keys = arena_alloc_array(&req->arena, BRK_API_COUNT, sizeof *keys);
    if (!keys)
        return ERR_LIMIT;
    for (int i = 0; i < BRK_API_COUNT; i++) {
        const struct kmsg_api_info *info = kmsg_api_find(brk_apis[i].api_key);
        ASSERT(info != NULL);
        kmsg_api_versions_resp_api_key_init(&keys[i]);
        keys[i].api_key = info->api_key;
        keys[i].min_version = info->min_version;
        keys[i].max_version = info->max_version;
    }
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
    log_trace("dispatch", "request api_key=%d api_version=%d correlation_id=%d", req->hdr.api_key,
              req->hdr.api_version, req->hdr.correlation_id);
    api->fn(req);
    return 0;
}
