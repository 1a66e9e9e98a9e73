/*
 * brk_req.c - the request layer: building a response frame and handing a
 * finished request back to its connection (brk_req.h).
 */
#include "broker/net/brk_req.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
        size_t frame = req->resp.len - 4;
        for (int32_t i = 0; i < req->files_count; i++) {
            ASSERT(req->files[i].at <= req->resp.len);
            ASSERT(i == 0 || req->files[i].at >= req->files[i - 1].at);
            ASSERT(req->files[i].fd_index >= 0 && req->files[i].fd_index < req->fds_count);
            frame += req->files[i].len;
        }
        if (frame > BRK_RESP_BYTES_MAX) {
            log_error("req", "response too large api_key=%d correlation_id=%d bytes=%zu max=%u; closing "
                      "connection (this is a bug: handlers keep responses under the maximum)", req->hdr.api_key,
                      req->hdr.correlation_id, frame, BRK_RESP_BYTES_MAX);
            req->no_response = true;
            req->conn_ops->hand_back(req, true);
            return;
        }
        be_put32(req->resp.ptr, (uint32_t)frame);
    }
    req->conn_ops->hand_back(req, false);
}

/* Descriptors held by queued responses, process-wide (every server of the
 * process shares the descriptor table). */
static atomic_int brk_req_sendfile_fds;
static atomic_int brk_req_sendfile_fds_max; /* 0: not computed yet */

int brk_req_sendfile_fd_take(int fd)
{
    int max = atomic_load_explicit(&brk_req_sendfile_fds_max, memory_order_relaxed);
    if (max == 0) {
        struct rlimit rl;
        rlim_t lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur / 4 : 256;
        max = lim > 4096 || lim == RLIM_INFINITY ? 4096 : (int)lim;
        atomic_store_explicit(&brk_req_sendfile_fds_max, max, memory_order_relaxed);
    }
    if (fd < 0 || atomic_fetch_add_explicit(&brk_req_sendfile_fds, 1, memory_order_relaxed) >= max) {
        if (fd >= 0)
            atomic_fetch_sub_explicit(&brk_req_sendfile_fds, 1, memory_order_relaxed);
        return -1;
    }
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0)
        atomic_fetch_sub_explicit(&brk_req_sendfile_fds, 1, memory_order_relaxed);
    return d;
}

void brk_req_sendfile_fd_close(int fd)
{
    ASSERT(fd >= 0);
    close(fd);
    int was = atomic_fetch_sub_explicit(&brk_req_sendfile_fds, 1, memory_order_relaxed);
    ASSERT(was > 0);
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
