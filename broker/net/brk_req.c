/*
 * brk_req.c - the request layer: building a response frame and handing a
 * finished request back to its connection (brk_req.h).
 */
#include "broker/net/brk_req.h"

#include <string.h>

#include "common/be.h"
#include "common/log.h"

int brk_req_begin_response(struct brk_req *req)
{
    buf_reset(&req->resp);
    int rc = kwire_write_i32(&req->resp, 0);
    if (rc == 0)
        rc = kmsg_resp_header_encode(&req->resp, req->hdr.api_key, req->hdr.api_version, req->hdr.correlation_id);
    return rc;
}

void brk_req_finish(struct brk_req *req, int rc)
{
    ASSERT(!req->done);
    ASSERT(req->conn_ops != NULL);
    if (rc < 0) {
        log_error("req", "cannot encode response api_key=%d api_version=%d correlation_id=%d error=\"%s\"; "
                  "closing connection (this is a bug)", req->hdr.api_key, req->hdr.api_version,
                  req->hdr.correlation_id, err_str(rc));
        req->no_response = true;
        req->conn_ops->hand_back(req, true);
        return;
    }
    if (!req->no_response) {
        ASSERT(req->resp.len >= 8);
        be_put32(req->resp.ptr, (uint32_t)(req->resp.len - 4));
    }
    req->conn_ops->hand_back(req, false);
}

void brk_req_malformed(struct brk_req *req, int rc)
{
    req->conn_ops->warn(req, "malformed request body", rc);
    req->no_response = true;
    req->conn_ops->hand_back(req, true);
}

struct brk_ctx *brk_req_ctx(const struct brk_req *req) { return req->srv; }
int brk_req_listener_index(const struct brk_req *req) { return req->listener_index; }
bool brk_req_conn_alive(const struct brk_req *req) { return req->conn_ops->alive(req); }

struct bytes brk_req_client_host(struct brk_req *req)
{
    const char *colon = req->peer ? strrchr(req->peer, ':') : NULL; /* "host:port" (IPv6 hosts hold colons too) */
    if (!colon)
        return bytes_make("", 0);
    size_t n = (size_t)(colon - req->peer);
    char *out = arena_alloc(&req->arena, n + 1);
    if (!out)
        return bytes_make("", 0);
    out[0] = '/'; /* Java's InetAddress.toString() for an address without a host name */
    memcpy(out + 1, req->peer, n);
    return bytes_make(out, n + 1);
}
