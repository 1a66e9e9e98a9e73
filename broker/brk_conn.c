/*
 * brk_conn.c - one client connection: read frames, keep requests in order,
 * write responses.
 *
 *   accept ──► reading ──(frame)──► dispatch ──► handler ──► brk_req_finish
 *                 ▲                                              │
 *                 └──── flush: send every finished request ◄─────┘
 *                        at the head of the in-order list
 *
 * A connection that errors or hits EOF is marked dead and its socket freed
 * at once; the struct itself lives until its last in-flight request (a
 * produce waiting on the disk, say) finishes, so handlers never see freed
 * memory.
 */
#include "broker/brk_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "broker/brk_int.h"
#include "common/log.h"

#define BRK_FRAME_MIN_BYTES 8 /* api key, version, correlation id */

struct brk_conn {
    struct brk_server *srv;
    struct bufferevent *bev;
    int listener_index;
    uint64_t id;
    char peer[64];
    struct brk_req *head, *tail;
    int inflight;
    bool dead;
    bool read_paused;
    bool in_read;      /* inside conn_read_cb: freeing is deferred to its end */
    brk_virtual_done_cb virt_cb; /* a forwarded request: no socket, the response goes here */
    void *virt_arg;
};

static int64_t conn_last_warn_ns;

static void conn_warn(const struct brk_conn *conn, const char *what, long long value)
{
    /* peers can cause these at will: at most one line per second */
    int64_t now = brk_now_ns();
    if (now - conn_last_warn_ns < 1000000000LL)
        return;
    conn_last_warn_ns = now;
    log_warn("conn", "closing connection peer=%s conn=%llu reason=\"%s\" value=%lld", conn->peer,
             (unsigned long long)conn->id, what, value);
}

static void conn_free(struct brk_conn *conn)
{
    ASSERT(conn->dead);
    ASSERT(conn->inflight == 0);
    ASSERT(conn->head == NULL);
    conn->srv->conn_count--;
    free(conn);
}

static void req_free(struct brk_req *req)
{
    if (req->timer)
        event_free(req->timer);
    buf_deinit(&req->frame);
    buf_deinit(&req->resp);
    arena_deinit(&req->arena);
    free(req);
}

/* conn_kill - close the socket now; the struct lives until conn_flush sees
 * no request in flight.  Callers call conn_flush afterwards (or, inside the
 * read callback, leave that to it). */
static void conn_kill(struct brk_conn *conn)
{
    if (conn->dead)
        return;
    conn->dead = true;
    if (conn->bev)
        bufferevent_free(conn->bev);
    conn->bev = NULL;
    /* parked fetches would otherwise wait for their timeout */
    for (struct brk_req *r = conn->head; r; r = r->next)
        if (!r->done && r->timer)
            brk_fetch_cancel(r);
}

static void conn_read_cb(struct bufferevent *bev, void *arg);

static void conn_update_read(struct brk_conn *conn)
{
    if (conn->dead || !conn->bev)
        return;
    size_t out = evbuffer_get_length(bufferevent_get_output(conn->bev));
    bool pause = conn->inflight >= BRK_CONN_INFLIGHT_MAX || out > BRK_CONN_OUTPUT_BYTES_MAX;
    if (pause && !conn->read_paused) {
        bufferevent_disable(conn->bev, EV_READ);
        conn->read_paused = true;
    } else if (!pause && conn->read_paused) {
        conn->read_paused = false;
        bufferevent_enable(conn->bev, EV_READ);
        /* frames may already be buffered: no new read event would come */
        conn_read_cb(conn->bev, conn);
    }
}

static void conn_flush(struct brk_conn *conn)
{
    while (conn->head && conn->head->done) {
        struct brk_req *req = conn->head;
        conn->head = req->next;
        if (!conn->head)
            conn->tail = NULL;
        if (conn->virt_cb) {
            conn->virt_cb(conn->virt_arg, req->no_response ? (struct bytes){ NULL, 0 } : buf_bytes(&req->resp));
            conn->virt_cb = NULL;
            conn->dead = true;
        } else if (!conn->dead && !req->no_response && req->resp.len > 0) {
            if (bufferevent_write(conn->bev, req->resp.ptr, req->resp.len) < 0) {
                log_error("conn", "cannot queue response peer=%s bytes=%zu", conn->peer, req->resp.len);
            }
        }
        conn->inflight--;
        req_free(req);
    }
    if (conn->dead) {
        if (conn->inflight == 0 && !conn->in_read)
            conn_free(conn);
        return;
    }
    conn_update_read(conn);
}

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
    struct brk_conn *conn = req->conn;
    ASSERT(!req->done);
    if (rc < 0) {
        log_error("conn", "cannot encode response api_key=%d api_version=%d correlation_id=%d error=\"%s\"; "
                  "closing connection (this is a bug)", req->hdr.api_key, req->hdr.api_version,
                  req->hdr.correlation_id, err_str(rc));
        req->no_response = true;
        req->done = true;
        conn_kill(conn);
        conn_flush(conn);
        return;
    }
    if (!req->no_response) {
        ASSERT(req->resp.len >= 8);
        uint32_t size = (uint32_t)(req->resp.len - 4);
        req->resp.ptr[0] = (uint8_t)(size >> 24);
        req->resp.ptr[1] = (uint8_t)(size >> 16);
        req->resp.ptr[2] = (uint8_t)(size >> 8);
        req->resp.ptr[3] = (uint8_t)size;
    }
    req->done = true;
    conn_flush(conn);
}

void brk_req_malformed(struct brk_req *req, int rc)
{
    struct brk_conn *conn = req->conn;
    conn_warn(conn, "malformed request body", rc);
    req->no_response = true;
    req->done = true;
    conn_kill(conn);
    conn_flush(conn);
}

struct brk_server *brk_req_server(const struct brk_req *req) { return req->conn->srv; }
int brk_req_listener_index(const struct brk_req *req) { return req->conn->listener_index; }
bool brk_req_conn_alive(const struct brk_req *req) { return !req->conn->dead; }

/* Read every whole frame buffered; returns false if the connection died. */
static bool conn_read_frames(struct brk_conn *conn)
{
    struct evbuffer *in = bufferevent_get_input(conn->bev);
    int64_t max_bytes = conn->srv->node->socket_request_max_bytes;
    while (!conn->dead && conn->inflight < BRK_CONN_INFLIGHT_MAX) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 4)
            return true;
        uint8_t hdr[4];
        evbuffer_copyout(in, hdr, 4);
        int32_t size = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3]);
        if (size < BRK_FRAME_MIN_BYTES || size > max_bytes) {
            /* 0x16030x... is a TLS ClientHello on a plaintext port */
            conn_warn(conn, hdr[0] == 0x16 && hdr[1] == 0x03 ? "TLS handshake on a PLAINTEXT listener"
                                                              : "request size outside [8, socket.request.max.bytes]",
                      (long long)size);
            conn_kill(conn);
            return false;
        }
        if (avail < 4 + (size_t)size) {
            /* wait for the rest; ask libevent not to call us before it is here */
            bufferevent_setwatermark(conn->bev, EV_READ, 4 + (size_t)size, 0);
            return true;
        }
        bufferevent_setwatermark(conn->bev, EV_READ, 0, 0);
        struct brk_req *req = calloc(1, sizeof *req);
        if (!req) {
            conn_kill(conn);
            return false;
        }
        req->conn = conn;
        req->received_ns = brk_now_ns();
        buf_init(&req->frame, (size_t)size);
        buf_init(&req->resp, BRK_RESP_BYTES_MAX);
        arena_init(&req->arena, BRK_REQ_ARENA_CHUNK_BYTES, BRK_REQ_ARENA_BYTES_MAX);
        if (buf_reserve(&req->frame, (size_t)size) < 0) {
            req_free(req);
            conn_kill(conn);
            return false;
        }
        evbuffer_drain(in, 4);
        evbuffer_remove(in, req->frame.ptr, (size_t)size);
        req->frame.len = (size_t)size;
        if (conn->tail)
            conn->tail->next = req;
        else
            conn->head = req;
        conn->tail = req;
        conn->inflight++;
        int rc = brk_dispatch(req);
        if (rc < 0) {
            conn_warn(conn, "malformed request", rc);
            if (!req->done) {
                req->no_response = true;
                req->done = true;
            }
            conn_kill(conn);
            return false;
        }
    }
    return !conn->dead;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct brk_conn *conn = arg;
    if (conn->in_read)
        return; /* re-entered from conn_update_read: the outer call keeps reading */
    conn->in_read = true;
    bool alive = conn_read_frames(conn);
    conn->in_read = false;
    if (!alive) {
        conn_flush(conn); /* frees a dead connection with nothing in flight */
        return;
    }
    conn_update_read(conn);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_update_read(arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct brk_conn *conn = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        log_debug("conn", "connection closed peer=%s conn=%llu eof=%d", conn->peer, (unsigned long long)conn->id,
                  (what & BEV_EVENT_EOF) != 0);
        conn_kill(conn);
        conn_flush(conn);
    }
}

void brk_conn_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *addr, int socklen, void *arg)
{
    (void)l;
    (void)socklen;
    struct brk_listener *bl = arg;
    struct brk_server *srv = bl->srv;
    struct brk_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        evutil_closesocket(fd);
        return;
    }
    conn->srv = srv;
    conn->listener_index = bl->index;
    conn->id = ++srv->next_conn_id;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (addr->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(conn->peer, sizeof conn->peer, "%s:%d", host, port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!conn->bev) {
        evutil_closesocket(fd);
        free(conn);
        return;
    }
    srv->conn_count++;
    bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
    log_debug("conn", "accepted peer=%s conn=%llu listener=%s", conn->peer, (unsigned long long)conn->id,
              srv->node->listeners[bl->index].name);
}

int brk_conn_virtual_dispatch(struct brk_server *srv, struct bytes frame, brk_virtual_done_cb cb, void *arg)
{
    if (frame.len < BRK_FRAME_MIN_BYTES || (int64_t)frame.len > srv->node->socket_request_max_bytes)
        return ERR_DECODE;
    struct brk_conn *conn = calloc(1, sizeof *conn);
    struct brk_req *req = calloc(1, sizeof *req);
    if (!conn || !req) {
        free(conn);
        free(req);
        return -ENOMEM;
    }
    conn->srv = srv;
    conn->id = ++srv->next_conn_id;
    snprintf(conn->peer, sizeof conn->peer, "forwarded");
    conn->virt_cb = cb;
    conn->virt_arg = arg;
    srv->conn_count++;
    req->conn = conn;
    req->received_ns = brk_now_ns();
    buf_init(&req->frame, frame.len);
    buf_init(&req->resp, BRK_RESP_BYTES_MAX);
    arena_init(&req->arena, BRK_REQ_ARENA_CHUNK_BYTES, BRK_REQ_ARENA_BYTES_MAX);
    if (buf_append(&req->frame, frame.ptr, frame.len) < 0) {
        req_free(req);
        conn->dead = true;
        conn_free(conn);
        return -ENOMEM;
    }
    conn->head = conn->tail = req;
    conn->inflight = 1;
    conn->in_read = true;
    int rc = brk_dispatch(req);
    conn->in_read = false;
    if (rc < 0 && !req->done) {
        req->no_response = true;
        req->done = true;
    }
    conn_flush(conn); /* answers and frees at once if the handler finished */
    return 0;
}

void brk_conn_accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct brk_listener *bl = arg;
    int err = EVUTIL_SOCKET_ERROR();
    static int64_t last_ns;
    int64_t now = brk_now_ns();
    if (now - last_ns > 1000000000LL) {
        last_ns = now;
        log_error("conn", "accept failed listener=%s error=\"%s\"%s", bl->srv->node->listeners[bl->index].name,
                  strerror(err), err == EMFILE || err == ENFILE ? "; raise the open-files limit (ulimit -n)" : "");
    }
    (void)l;
}
