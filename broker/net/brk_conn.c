/*
 * brk_conn.c - client connections on the network threads: read frames, hand
 * requests to the state thread, write responses in request order.
 *
 *   network thread N (own event_base)          state thread (srv->base)
 *   ─────────────────────────────────          ────────────────────────
 *   inbox ◄── new fd (round-robin accept) ──── evconnlistener accept
 *   read + frame (size checks, TLS hello)
 *   in-order list += req ──── outbox ────────► brk_dispatch ─► handler
 *                                                   │ (maybe later: disk, long poll)
 *   inbox ◄────────────────────────────────── brk_req_finish
 *   done = true; flush every finished request
 *   at the head of the list; backpressure
 *
 * Accept stays on the state thread, which hands each fd round-robin to a
 * network thread: it costs one syscall per connection (not per request),
 * keeps listener binding and its operator messages in one place, and
 * spreads connections evenly (SO_REUSEPORT hashes the 4-tuple, so a handful
 * of clients can land on one thread, and a closing listener drops its
 * backlog).
 *
 * Ownership: a socket connection (and its in-order list, inflight count,
 * socket, events and buffers) belongs to its network thread.  A request, while it is "at"
 * the state thread (between the outbox push and brk_req_finish's inbox
 * push), is touched only there: header, body, arena, response, handler
 * state; the network thread touches only req->next (list link) and, once the
 * request is back, done.  Shared fields: conn->dead (atomic; the state
 * thread reads it through brk_req_conn_alive) and the immutable srv,
 * listener_index, id, peer.
 *
 * A connection that errors or hits EOF is marked dead and its socket freed
 * at once on its network thread; the struct lives until its last in-flight
 * request came back from the state thread, so handlers never see freed
 * memory.  A parked Fetch of a dead connection is not cancelled from here
 * (that is state-thread data): it finishes at its timeout.
 *
 * Forwarded requests (brk_conn_virtual_dispatch) have no socket and no
 * network thread: they run and answer entirely on the state thread.
 *
 * Reading is ours, not libevent's bufferevent (which reads at most 4 KiB per
 * readv plus an ioctl each time: three syscalls per 4 KiB of produce): small
 * frames are staged in a 16 KiB buffer and copied out; a frame larger than
 * what is staged gets its own buffer and the socket is read straight into
 * it, with one readv that also stages whatever follows.  Responses go out
 * through an evbuffer written directly (evbuffer_write: one writev per
 * flush, large responses by reference), at once when they are ready, and
 * through a write event only when the socket is full.
 *
 * Limits: BRK_CONN_INFLIGHT_MAX requests per connection,
 * BRK_CONN_OUTPUT_BYTES_MAX unsent bytes per connection, and
 * BRK_CONN_STATE_QUEUE_MAX requests waiting for the state thread per network
 * thread; past any of them the connection stops reading.
 */
#include "broker/net/brk_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "broker/net/brk_dispatch.h"
#include "broker/net/brk_req.h"
#include "broker/net/brk_net.h"
#include "common/be.h"
#include "common/clock.h"
#include "common/log.h"

#define BRK_FRAME_MIN_BYTES 8 /* api key, version, correlation id */
#define BRK_CONN_NET_THREADS_MAX 64      /* num.network.threads above this is capped */
#define BRK_CONN_STATE_QUEUE_MAX 4096    /* requests waiting for the state thread, per network thread */
#define BRK_CONN_RESP_REF_BYTES_MIN 16384 /* responses this large are sent without a copy */
#define BRK_CONN_STAGE_BYTES 16384       /* per-connection read buffer for headers and small frames */
#define BRK_CONN_FRAME_GROW_BYTES (1u << 20) /* a large frame's buffer grows this far ahead of its bytes */
#define BRK_CONN_READS_PER_EVENT 8       /* then let other connections run (level-triggered: we come back) */

enum conn_node_kind { CONN_NODE_CONN = 1, CONN_NODE_REQ = 2 };

/* A request plus what only the hand-off needs (struct brk_req is shared
 * with the handlers and stays as it was). */
struct conn_req {
    struct brk_req req;
    struct brk_net_node qn;
    bool close_conn;   /* set by the state thread: the connection must close */
};

struct conn_net;

struct brk_conn {
    struct brk_ctx *srv;
    struct conn_net *net;        /* NULL: a forwarded (virtual) request */
    int fd;                      /* the socket; -1 once closed */
    struct event *rev, *wev;     /* readable / writable, on the network thread's base */
    struct evbuffer *out;        /* responses not yet written */
    uint8_t *stage;              /* BRK_CONN_STAGE_BYTES: bytes read but not yet framed */
    size_t stage_start, stage_end;
    struct brk_req *partial;     /* a frame larger than what was staged, filled by direct reads */
    size_t partial_size;         /* its size from the prefix */
    bool write_armed;            /* wev is added: output is waiting for the socket */
    int64_t last_active_ns;      /* last byte read or written (connections.max.idle.ms) */
    int listener_index;
    uint64_t id;
    char peer[64];
    struct brk_req *head, *tail;
    int inflight;
    atomic_bool dead;
    bool read_paused;
    bool in_read;      /* inside conn_read_cb: freeing is deferred to its end */
    brk_virtual_done_cb virt_cb; /* a forwarded request: no socket, the response goes here */
    void *virt_arg;
    struct brk_conn *prev, *next; /* the network thread's connections */
    struct brk_net_node qn;       /* hand-off from the accepting state thread */
};

/* One network thread and everything it owns. */
struct conn_net {
    struct brk_ctx *srv;
    int index;
    struct brk_net_thread thread;
    struct brk_net_queue inbox;   /* state -> this thread: new connections, finished requests */
    struct brk_net_queue outbox;  /* this thread -> state thread: framed requests */
    struct brk_conn *conns;       /* live and draining connections (this thread only) */
    int64_t conn_count;
    int64_t last_warn_ns;
    bool state_full;              /* outbox reached BRK_CONN_STATE_QUEUE_MAX: stop reading */
    struct event *idle_ev;        /* connections.max.idle.ms sweep (NULL when disabled) */
    atomic_bool stopping;
};

/* srv->conns: the network threads, seen from the state thread. */
struct brk_conns {
    struct conn_net *nets;
    int net_count;
    unsigned next_net;            /* round-robin accept */
    int64_t last_warn_ns;         /* rate limit for warnings logged on the state thread */
};

static bool conn_is_dead(const struct brk_conn *conn)
{
    return atomic_load_explicit(&conn->dead, memory_order_relaxed);
}

static void conn_warn(int64_t *last_warn_ns, const struct brk_conn *conn, const char *what, long long value)
{
    /* peers can cause these at will: at most one line per second per thread */
    int64_t now = clock_mono_ns();
    if (now - *last_warn_ns < 1000000000LL)
        return;
    *last_warn_ns = now;
    log_warn("conn", "closing connection peer=%s conn=%llu reason=\"%s\" value=%lld", conn->peer,
             (unsigned long long)conn->id, what, value);
}

static void conn_free(struct brk_conn *conn)
{
    ASSERT(conn_is_dead(conn));
    ASSERT(conn->inflight == 0);
    ASSERT(conn->head == NULL);
    struct conn_net *net = conn->net;
    if (net) {
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            net->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        net->conn_count--;
    } else {
        conn->srv->conn_count--;
    }
    free(conn);
}

static struct conn_req *conn_req_of(struct brk_req *req)
{
    return (struct conn_req *)((char *)req - offsetof(struct conn_req, req));
}

static const struct brk_req_conn_ops conn_req_ops;

static struct brk_req *req_create(struct brk_conn *conn, size_t frame_bytes)
{
    struct conn_req *cr = calloc(1, sizeof *cr);
    if (!cr)
        return NULL;
    struct brk_req *req = &cr->req;
    req->conn = conn;
    req->srv = conn->srv;
    req->conn_ops = &conn_req_ops;
    req->listener_index = conn->listener_index;
    req->peer = conn->net ? conn->peer : NULL;
    req->received_ns = clock_mono_ns();
    req->rtt_us = -1;
    buf_init(&req->frame, frame_bytes);
    buf_init(&req->resp, BRK_RESP_BYTES_MAX);
    arena_init(&req->arena, BRK_REQ_ARENA_CHUNK_BYTES, BRK_REQ_ARENA_BYTES_MAX);
    return req;
}

static void req_free(struct brk_req *req)
{
    if (req->timer)
        event_free(req->timer); /* only at shutdown, every thread joined */
    buf_deinit(&req->frame);
    buf_deinit(&req->resp);
    arena_deinit(&req->arena);
    free(conn_req_of(req));
}

/* Free the socket and everything reading or writing it (not the requests
 * on the in-order list).  Network thread, or any thread after the joins. */
static void conn_close_socket(struct brk_conn *conn)
{
    if (conn->rev)
        event_free(conn->rev);
    if (conn->wev)
        event_free(conn->wev);
    conn->rev = conn->wev = NULL;
    conn->write_armed = false;
    if (conn->out)
        evbuffer_free(conn->out); /* runs conn_resp_sent_cb for responses held by reference */
    conn->out = NULL;
    free(conn->stage);
    conn->stage = NULL;
    conn->stage_start = conn->stage_end = 0;
    if (conn->partial)
        req_free(conn->partial);
    conn->partial = NULL;
    if (conn->fd >= 0)
        evutil_closesocket(conn->fd);
    conn->fd = -1;
}

/* conn_kill - close the socket now; the struct lives until conn_flush sees
 * no request in flight.  Callers call conn_flush afterwards (or, inside the
 * read callback, leave that to it).  Runs on the connection's own thread. */
static void conn_kill(struct brk_conn *conn)
{
    if (conn_is_dead(conn))
        return;
    atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
    conn_close_socket(conn);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static bool conn_frame_staged(struct brk_conn *conn);
static void conn_flush(struct brk_conn *conn);

/* Arming or disarming one of the connection's events failed (libevent out of
 * memory, or epoll_ctl): it could no longer be served, so close it. */
static void conn_event_failed(struct brk_conn *conn, const char *call)
{
    log_error("conn", "closing connection peer=%s conn=%llu reason=\"%s failed\"", conn->peer,
              (unsigned long long)conn->id, call);
    conn_kill(conn);
}

static size_t conn_out_bytes(const struct brk_conn *conn)
{
    return conn->out ? evbuffer_get_length(conn->out) : 0;
}

/* Pause or resume reading for backpressure.  On resume, frames already
 * staged are framed now: no read event would announce them.  Network
 * thread. */
static bool conn_should_pause(const struct brk_conn *conn)
{
    return conn->inflight >= BRK_CONN_INFLIGHT_MAX || conn_out_bytes(conn) > BRK_CONN_OUTPUT_BYTES_MAX ||
           conn->net->state_full;
}

static void conn_update_read(struct brk_conn *conn)
{
    if (conn_is_dead(conn) || !conn->rev)
        return;
    bool pause = conn_should_pause(conn);
    if (pause && !conn->read_paused) {
        conn->read_paused = true;
        if (event_del(conn->rev) < 0) {
            conn_event_failed(conn, "event_del(read)");
            conn_flush(conn); /* frees it once nothing is in flight */
        }
    } else if (!pause && conn->read_paused) {
        conn->read_paused = false;
        if (!conn->in_read) { /* inside conn_on_read, its loop frames what is staged */
            conn->in_read = true;
            bool alive = conn_frame_staged(conn);
            conn->in_read = false;
            if (!alive) {
                conn_flush(conn); /* frees it once nothing is in flight */
                return;
            }
            if (conn_should_pause(conn)) {
                conn->read_paused = true; /* framed up to a limit again: the event stays off */
                return;
            }
        }
        if (event_add(conn->rev, NULL) < 0) {
            conn_event_failed(conn, "event_add(read)");
            conn_flush(conn);
        }
    }
}

/* Write what the socket takes now; arm the write event for the rest.  A
 * write error closes the connection (the caller's conn_flush frees it).
 * Network thread. */
static void conn_try_write(struct brk_conn *conn)
{
    while (!conn_is_dead(conn) && conn_out_bytes(conn) > 0) {
        int n = evbuffer_write(conn->out, conn->fd);
        if (n > 0) {
            conn->last_active_ns = clock_mono_ns();
            continue;
        }
        int err = EVUTIL_SOCKET_ERROR();
        if (n < 0 && err == EINTR)
            continue;
        if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
            if (!conn->write_armed && event_add(conn->wev, NULL) < 0)
                conn_event_failed(conn, "event_add(write)"); /* the caller's conn_flush frees it */
            else
                conn->write_armed = true;
            return;
        }
        log_debug("conn", "write failed peer=%s conn=%llu error=\"%s\"", conn->peer, (unsigned long long)conn->id,
                  n < 0 ? strerror(err) : "wrote nothing");
        conn_kill(conn);
        return;
    }
    if (conn->write_armed && conn->wev) {
        conn->write_armed = false;
        if (event_del(conn->wev) < 0)
            conn_event_failed(conn, "event_del(write)");
    }
}

static void conn_resp_sent_cb(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data); /* the response buffer, given to the evbuffer by conn_write_resp */
}

/* Queue req's response.  A large one (a fetch) is handed to the evbuffer by
 * reference, freed once sent: copying it would cost a memmove plus fresh
 * pages for every response on the network thread.  Network thread. */
static void conn_write_resp(struct brk_conn *conn, struct brk_req *req)
{
    if (req->resp.len >= BRK_CONN_RESP_REF_BYTES_MIN) {
        if (evbuffer_add_reference(conn->out, req->resp.ptr, req->resp.len, conn_resp_sent_cb, NULL) == 0) {
            req->resp.ptr = NULL; /* ownership moved to the evbuffer */
            req->resp.len = req->resp.cap = 0;
            return;
        }
    }
    if (evbuffer_add(conn->out, req->resp.ptr, req->resp.len) < 0) {
        /* a response missing from the stream would shift every later one */
        log_error("conn", "cannot queue response peer=%s bytes=%zu; closing the connection (out of memory)",
                  conn->peer, req->resp.len);
        conn_kill(conn);
    }
}

/* Send every finished request at the head of the list; free the connection
 * once it is dead and empty.  Network thread (state thread for virtual). */
static void conn_flush(struct brk_conn *conn)
{
    bool wrote = false;
    while (conn->head && conn->head->done) {
        struct brk_req *req = conn->head;
        conn->head = req->next;
        if (!conn->head)
            conn->tail = NULL;
        if (conn->virt_cb) {
            conn->virt_cb(conn->virt_arg, req->no_response ? (struct bytes){ NULL, 0 } : buf_bytes(&req->resp));
            conn->virt_cb = NULL;
            atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
        } else if (!conn_is_dead(conn) && !req->no_response && req->resp.len > 0) {
            conn_write_resp(conn, req);
            wrote = true;
        }
        conn->inflight--;
        req_free(req);
    }
    if (wrote && !conn->write_armed)
        conn_try_write(conn); /* armed: the write event is already waiting for room */
    if (conn_is_dead(conn)) {
        if (conn->inflight == 0 && !conn->in_read)
            conn_free(conn);
        return;
    }
    conn_update_read(conn);
}

/* State thread: give a finished request back to its connection's thread.
 * After this the state thread must not touch req. */
static void req_hand_back(struct brk_req *req, bool close_conn)
{
    struct brk_conn *conn = req->conn;
    if (req->timer) {
        /* handlers free their timer before finishing; an event of srv->base
         * must never be freed on a network thread */
        event_free(req->timer);
        req->timer = NULL;
    }
    if (!conn->net) {
        /* forwarded request: everything stays on the state thread */
        req->done = true;
        if (close_conn)
            atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
        conn_flush(conn);
        return;
    }
    struct conn_req *cr = conn_req_of(req);
    cr->close_conn = close_conn;
    cr->qn.kind = CONN_NODE_REQ;
    brk_net_queue_push(&conn->net->inbox, &cr->qn);
}

static bool req_conn_alive(const struct brk_req *req) { return !conn_is_dead(req->conn); }

static void req_conn_warn(struct brk_req *req, const char *what, int rc)
{
    conn_warn(&req->srv->conns->last_warn_ns, req->conn, what, rc);
}

/* The request layer reaches the connection only through these. */
static const struct brk_req_conn_ops conn_req_ops = { req_hand_back, req_conn_alive, req_conn_warn };

/* The in-order list gets req; the state thread gets it next.  Network thread. */
static void conn_submit(struct brk_conn *conn, struct brk_req *req)
{
    struct conn_net *net = conn->net;
    /* a Fetch (api key 1) learns the connection's round trip: its response
     * is sized by it (brk_h_fetch.c); the socket is this thread's to ask */
    if (req->frame.len >= 2 && req->frame.ptr[0] == 0 && req->frame.ptr[1] == 1 && conn->fd >= 0) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        if (getsockopt(conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
            len >= offsetof(struct tcp_info, tcpi_rtt) + sizeof ti.tcpi_rtt)
            req->rtt_us = ti.tcpi_rtt;
    }
    if (conn->tail)
        conn->tail->next = req;
    else
        conn->head = req;
    conn->tail = req;
    conn->inflight++;
    struct conn_req *cr = conn_req_of(req);
    cr->qn.kind = CONN_NODE_REQ;
    if (brk_net_queue_push(&net->outbox, &cr->qn) >= BRK_CONN_STATE_QUEUE_MAX)
        net->state_full = true; /* the state thread wakes us when it took them */
}

/* Frame what is staged: each whole frame is copied into its own request and
 * submitted; a frame that is not all here becomes conn->partial (its staged
 * bytes copied in), to be read into directly.  Stops at the backpressure
 * limits with the rest staged.  Returns false if the connection died.
 * Network thread. */
static bool conn_frame_staged(struct brk_conn *conn)
{
    struct conn_net *net = conn->net;
    int64_t max_bytes = conn->srv->node->socket_request_max_bytes;
    while (!conn_is_dead(conn) && !conn->partial && conn->inflight < BRK_CONN_INFLIGHT_MAX && !net->state_full) {
        size_t avail = conn->stage_end - conn->stage_start;
        if (avail < 4)
            break;
        const uint8_t *hdr = conn->stage + conn->stage_start;
        int32_t size = (int32_t)be_get32(hdr);
        if (size < BRK_FRAME_MIN_BYTES || size > max_bytes) {
            /* 0x16030x... is a TLS ClientHello on a plaintext port */
            conn_warn(&net->last_warn_ns, conn,
                      hdr[0] == 0x16 && hdr[1] == 0x03 ? "TLS handshake on a PLAINTEXT listener"
                                                       : "request size outside [8, socket.request.max.bytes]",
                      (long long)size);
            conn_kill(conn);
            return false;
        }
        size_t have = avail - 4 < (size_t)size ? avail - 4 : (size_t)size;
        struct brk_req *req = req_create(conn, (size_t)size);
        /* a partial frame's buffer grows as its bytes arrive: a peer that
         * announces socket.request.max.bytes and stops costs no more than
         * it sent */
        size_t first = have == (size_t)size ? (size_t)size
                       : (size_t)size < BRK_CONN_FRAME_GROW_BYTES ? (size_t)size : BRK_CONN_FRAME_GROW_BYTES;
        if (!req || buf_reserve(&req->frame, first) < 0) {
            log_error("conn", "cannot allocate a request of %d bytes peer=%s; closing the connection (out of memory)",
                      size, conn->peer);
            if (req)
                req_free(req);
            conn_kill(conn);
            return false;
        }
        memcpy(req->frame.ptr, hdr + 4, have);
        req->frame.len = have;
        conn->stage_start += 4 + have;
        if (have < (size_t)size) {
            conn->partial = req;
            conn->partial_size = (size_t)size;
        } else {
            conn_submit(conn, req);
        }
    }
    if (conn->stage_start == conn->stage_end)
        conn->stage_start = conn->stage_end = 0;
    return !conn_is_dead(conn);
}

/* One readv: the rest of the partial frame (if any) plus the free end of
 * the stage.  Returns bytes read, 0 when the socket has nothing now (or the
 * stage is full until framing resumes), -1 once the connection died. */
static ssize_t conn_read_once(struct brk_conn *conn, size_t *asked)
{
    struct iovec iov[2];
    int n = 0;
    struct brk_req *p = conn->partial;
    if (p) {
        size_t want = conn->partial_size - p->frame.len;
        if (want > BRK_CONN_FRAME_GROW_BYTES)
            want = BRK_CONN_FRAME_GROW_BYTES;
        /* grow only once the room is used: memory follows the bytes that
         * arrived, not the size the peer announced */
        if (p->frame.cap == p->frame.len && buf_reserve(&p->frame, want) < 0) {
            log_error("conn", "cannot grow a request to %zu bytes peer=%s; closing the connection (out of memory)",
                      conn->partial_size, conn->peer);
            conn_kill(conn);
            return -1;
        }
        want = p->frame.cap - p->frame.len;
        if (want > conn->partial_size - p->frame.len)
            want = conn->partial_size - p->frame.len;
        iov[n++] = (struct iovec){ p->frame.ptr + p->frame.len, want };
    } else if (conn->stage_start > 0) {
        /* move the staged tail to the front (less than one frame header or
         * one small frame: cheap) */
        memmove(conn->stage, conn->stage + conn->stage_start, conn->stage_end - conn->stage_start);
        conn->stage_end -= conn->stage_start;
        conn->stage_start = 0;
    }
    /* bytes past the frame may go to the stage only when iov[0] takes all
     * the frame still needs (else the frame's middle would land there) */
    bool frame_covered = !p || iov[0].iov_len == conn->partial_size - p->frame.len;
    if (frame_covered && conn->stage_end < BRK_CONN_STAGE_BYTES)
        iov[n++] = (struct iovec){ conn->stage + conn->stage_end, BRK_CONN_STAGE_BYTES - conn->stage_end };
    *asked = 0;
    for (int i = 0; i < n; i++)
        *asked += iov[i].iov_len;
    if (n == 0)
        return 0;
    ssize_t got;
    do
        got = readv(conn->fd, iov, n);
    while (got < 0 && errno == EINTR);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (got <= 0) {
        log_debug("conn", "connection closed peer=%s conn=%llu eof=%d error=\"%s\"", conn->peer,
                  (unsigned long long)conn->id, got == 0, got == 0 ? "" : strerror(errno));
        conn_kill(conn);
        return -1;
    }
    conn->last_active_ns = clock_mono_ns();
    size_t left = (size_t)got;
    if (p) {
        size_t take = left < iov[0].iov_len ? left : iov[0].iov_len;
        p->frame.len += take;
        left -= take;
        if (p->frame.len == conn->partial_size) {
            conn->partial = NULL;
            conn_submit(conn, p);
        }
    }
    conn->stage_end += left;
    return got;
}

/* The socket is readable.  Network thread. */
static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_conn *conn = arg;
    if (conn->in_read)
        return;
    conn->in_read = true;
    for (int round = 0; round < BRK_CONN_READS_PER_EVENT; round++) {
        if (conn_is_dead(conn) || conn->read_paused)
            break;
        size_t asked = 0;
        ssize_t got = conn_read_once(conn, &asked);
        if (got < 0 || !conn_frame_staged(conn))
            break;
        conn_update_read(conn);
        if (got == 0 || (size_t)got < asked)
            break; /* drained: level-triggered epoll tells us about the next bytes */
    }
    conn->in_read = false;
    if (conn_is_dead(conn)) {
        conn_flush(conn); /* frees a dead connection with nothing in flight */
        return;
    }
    conn_update_read(conn);
}

/* The socket has room again for the output.  Network thread. */
static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_conn *conn = arg;
    conn_try_write(conn);
    if (conn_is_dead(conn)) {
        conn_flush(conn);
        return;
    }
    conn_update_read(conn);
}

/* Network thread: a connection handed over by the accepting state thread. */
static void conn_attach(struct conn_net *net, struct brk_conn *conn)
{
    conn->stage = malloc(BRK_CONN_STAGE_BYTES);
    conn->out = evbuffer_new();
    conn->rev = event_new(net->thread.base, conn->fd, EV_READ | EV_PERSIST, conn_on_read, conn);
    conn->wev = event_new(net->thread.base, conn->fd, EV_WRITE | EV_PERSIST, conn_on_write, conn);
    if (!conn->stage || !conn->out || !conn->rev || !conn->wev || event_add(conn->rev, NULL) < 0) {
        log_error("conn", "cannot set up connection peer=%s; closing it (out of memory)", conn->peer);
        conn_close_socket(conn);
        free(conn);
        return;
    }
    conn->next = net->conns;
    if (net->conns)
        net->conns->prev = conn;
    net->conns = conn;
    net->conn_count++;
    conn->last_active_ns = clock_mono_ns();
}

/* connections.max.idle.ms, as Kafka's socket server applies it: a
 * connection with nothing read or written for that long, and no request in
 * flight (a parked Fetch is not idle), is closed, half-sent frame or not.  Clients reconnect on
 * their own.  Network thread, from a sweep timer of a quarter of the idle
 * time (at most 1 s). */
static void net_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn_net *net = arg;
    int64_t idle_ns = net->srv->node->connections_max_idle_ms * 1000000LL;
    int64_t now = clock_mono_ns();
    for (struct brk_conn *conn = net->conns, *next; conn; conn = next) {
        next = conn->next;
        if (conn_is_dead(conn) || conn->inflight > 0 || now - conn->last_active_ns < idle_ns)
            continue;
        log_debug("conn", "closing idle connection peer=%s conn=%llu idle_ms=%lld", conn->peer,
                  (unsigned long long)conn->id, (long long)((now - conn->last_active_ns) / 1000000));
        conn_kill(conn);
        conn_flush(conn); /* nothing in flight: frees it */
    }
}

/* Network thread: new connections and finished requests from the state
 * thread, or a wake-up (outbox drained, or stop). */
static void net_inbox_cb(struct brk_net_node *list, void *arg)
{
    struct conn_net *net = arg;
    while (list) {
        struct brk_net_node *n = list;
        list = n->next;
        if (n->kind == CONN_NODE_CONN) {
            conn_attach(net, (struct brk_conn *)((char *)n - offsetof(struct brk_conn, qn)));
            continue;
        }
        ASSERT(n->kind == CONN_NODE_REQ);
        struct conn_req *cr = (struct conn_req *)((char *)n - offsetof(struct conn_req, qn));
        struct brk_conn *conn = cr->req.conn;
        ASSERT(conn->net == net);
        ASSERT(!cr->req.done);
        cr->req.done = true;
        if (cr->close_conn)
            conn_kill(conn); /* the state thread logged why */
        conn_flush(conn);
    }
    if (net->state_full && brk_net_queue_count(&net->outbox) < BRK_CONN_STATE_QUEUE_MAX) {
        net->state_full = false;
        for (struct brk_conn *conn = net->conns, *next; conn; conn = next) {
            next = conn->next;
            conn_update_read(conn);
        }
    }
    if (atomic_load_explicit(&net->stopping, memory_order_relaxed))
        brk_net_thread_break(&net->thread);
}

/* State thread: framed requests from one network thread. */
static void net_outbox_cb(struct brk_net_node *list, void *arg)
{
    struct conn_net *net = arg;
    int64_t taken = 0;
    while (list) {
        struct brk_net_node *n = list;
        list = n->next;
        taken++;
        struct conn_req *cr = (struct conn_req *)((char *)n - offsetof(struct conn_req, qn));
        struct brk_req *req = &cr->req;
        int rc = brk_dispatch(req);
        if (rc < 0) {
            /* nothing answered it (brk_dispatch fails only before a handler
             * runs): close the connection without a response */
            conn_warn(&net->srv->conns->last_warn_ns, req->conn, "malformed request", rc);
            req->no_response = true;
            req_hand_back(req, true);
        }
        /* req may be freed by now: do not touch it */
    }
    if (taken >= BRK_CONN_STATE_QUEUE_MAX)
        brk_net_queue_wake(&net->inbox); /* it stopped reading: tell it there is room */
}

int brk_conns_start(struct brk_ctx *srv)
{
    ASSERT(srv->conns == NULL);
    int64_t want = srv->node->num_network_threads;
    int count = want < 1 ? 1 : want > BRK_CONN_NET_THREADS_MAX ? BRK_CONN_NET_THREADS_MAX : (int)want;
    if (count != want)
        log_warn("conn", "num.network.threads=%lld capped to %d", (long long)want, count);
    struct brk_conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -ENOMEM;
    cs->nets = calloc((size_t)count, sizeof *cs->nets);
    if (!cs->nets) {
        free(cs);
        return -ENOMEM;
    }
    srv->conns = cs;
    for (int i = 0; i < count; i++) {
        struct conn_net *net = &cs->nets[i];
        cs->net_count = i + 1; /* brk_conns_stop cleans up this far */
        net->srv = srv;
        net->index = i;
        net->inbox.efd = net->outbox.efd = -1; /* deinit-safe before their init */
        char name[32]; /* "samsa-net-63" fits BRK_NET_THREAD_NAME_BYTES; gcc cannot see i < 64 */
        snprintf(name, sizeof name, "samsa-net-%d", i);
        int rc = brk_net_thread_init(&net->thread, name);
        if (rc == 0)
            rc = brk_net_queue_init(&net->inbox, net->thread.base, net_inbox_cb, net);
        int64_t idle_ms = srv->node->connections_max_idle_ms;
        if (rc == 0 && idle_ms > 0) {
            int64_t sweep_ms = idle_ms / 4 < 1 ? 1 : idle_ms / 4 > 1000 ? 1000 : idle_ms / 4;
            struct timeval tv = { (time_t)(sweep_ms / 1000), (suseconds_t)(sweep_ms % 1000) * 1000 };
            net->idle_ev = event_new(net->thread.base, -1, EV_PERSIST, net_idle_cb, net);
            rc = net->idle_ev && event_add(net->idle_ev, &tv) == 0 ? 0 : -ENOMEM;
        }
        if (rc == 0)
            rc = brk_net_queue_init(&net->outbox, srv->base, net_outbox_cb, net);
        if (rc == 0)
            rc = brk_net_thread_start(&net->thread);
        if (rc < 0) {
            log_error("conn", "cannot start network thread index=%d error=\"%s\"", i, err_str(rc));
            return rc;
        }
    }
    log_info("conn", "network threads started num.network.threads=%d", count);
    return 0;
}

void brk_conns_stop(struct brk_ctx *srv)
{
    struct brk_conns *cs = srv->conns;
    if (!cs)
        return;
    for (int i = 0; i < cs->net_count; i++) {
        struct conn_net *net = &cs->nets[i];
        if (!net->thread.started)
            continue;
        atomic_store_explicit(&net->stopping, true, memory_order_relaxed);
        brk_net_queue_wake(&net->inbox);
    }
    for (int i = 0; i < cs->net_count; i++)
        brk_net_thread_join(&cs->nets[i].thread);
}

void brk_conns_destroy(struct brk_ctx *srv)
{
    struct brk_conns *cs = srv->conns;
    if (!cs)
        return;
    brk_conns_stop(srv);
    for (int i = 0; i < cs->net_count; i++) {
        struct conn_net *net = &cs->nets[i];
        /* Every request is on its connection's in-order list, wherever it
         * was (outbox, state thread, inbox); every connection is on the
         * list once attached.  Connections never attached sit in the inbox. */
        if (net->inbox.mu_init) {
            for (struct brk_net_node *n = brk_net_queue_take(&net->inbox); n;) {
                struct brk_net_node *next = n->next;
                if (n->kind == CONN_NODE_CONN) {
                    struct brk_conn *conn = (struct brk_conn *)((char *)n - offsetof(struct brk_conn, qn));
                    evutil_closesocket(conn->fd);
                    free(conn);
                }
                n = next;
            }
        }
        if (net->outbox.mu_init)
            (void)brk_net_queue_take(&net->outbox);
        while (net->conns) {
            struct brk_conn *conn = net->conns;
            conn_close_socket(conn);
            atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
            while (conn->head) {
                struct brk_req *req = conn->head;
                conn->head = req->next;
                req_free(req);
            }
            conn->tail = NULL;
            conn->inflight = 0;
            conn_free(conn);
        }
        if (net->idle_ev)
            event_free(net->idle_ev); /* the thread is joined: its base is ours */
        brk_net_queue_deinit(&net->inbox);
        brk_net_queue_deinit(&net->outbox);
        brk_net_thread_deinit(&net->thread);
    }
    free(cs->nets);
    free(cs);
    srv->conns = NULL;
}

static void conn_set_buffer(int fd, int opt, int64_t bytes)
{
    if (bytes <= 0)
        return;
    int v = bytes > INT32_MAX ? INT32_MAX : (int)bytes;
    (void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v); /* best effort, as in Kafka */
}

void brk_conn_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *addr, int socklen, void *arg)
{
    (void)l;
    (void)socklen;
    struct brk_listener *bl = arg;
    struct brk_ctx *srv = bl->srv;
    struct brk_conns *cs = srv->conns;
    ASSERT(cs != NULL && cs->net_count > 0);
    struct brk_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        evutil_closesocket(fd);
        return;
    }
    conn->srv = srv;
    conn->fd = fd;
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
    /* socket.{send,receive}.buffer.bytes: -1 (Samsa's default, see
     * common/config.c) keeps the kernel's autotuning; a value fixes the
     * buffer, as in Kafka (the kernel doubles it) */
    conn_set_buffer(fd, SO_SNDBUF, srv->node->socket_send_buffer_bytes);
    conn_set_buffer(fd, SO_RCVBUF, srv->node->socket_receive_buffer_bytes);
    if (evutil_make_socket_nonblocking(fd) < 0) {
        evutil_closesocket(fd);
        free(conn);
        return;
    }
    struct conn_net *net = &cs->nets[cs->next_net++ % (unsigned)cs->net_count];
    conn->net = net;
    log_debug("conn", "accepted peer=%s conn=%llu listener=%s thread=%d", conn->peer, (unsigned long long)conn->id,
              srv->node->listeners[bl->index].name, net->index);
    conn->qn.kind = CONN_NODE_CONN;
    brk_net_queue_push(&net->inbox, &conn->qn); /* conn belongs to the network thread from here */
}

int brk_conn_virtual_dispatch(struct brk_ctx *srv, struct bytes frame, brk_virtual_done_cb cb, void *arg)
{
    if (frame.len < BRK_FRAME_MIN_BYTES || (int64_t)frame.len > srv->node->socket_request_max_bytes)
        return ERR_DECODE;
    struct brk_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return -ENOMEM;
    conn->srv = srv;
    conn->fd = -1;
    conn->id = ++srv->next_conn_id;
    snprintf(conn->peer, sizeof conn->peer, "forwarded");
    struct brk_req *req = req_create(conn, frame.len);
    if (!req) {
        free(conn);
        return -ENOMEM;
    }
    conn->virt_cb = cb;
    conn->virt_arg = arg;
    srv->conn_count++;
    if (buf_append(&req->frame, frame.ptr, frame.len) < 0) {
        req_free(req);
        atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
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

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_listener *bl = arg;
    if (evconnlistener_enable(bl->evl) < 0) {
        struct timeval tv = { 0, 100000 };
        log_error("conn", "listener=%s not resumed: evconnlistener_enable failed; retrying in 100 ms",
                  bl->srv->node->listeners[bl->index].name);
        if (event_add(bl->resume_ev, &tv) < 0)
            log_error("conn", "listener=%s stays paused: its resume timer failed too; restart the node",
                      bl->srv->node->listeners[bl->index].name);
    }
}

void brk_conn_accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct brk_listener *bl = arg;
    int err = EVUTIL_SOCKET_ERROR();
    int64_t now = clock_mono_ns();
    if (now - bl->accept_warn_ns > 1000000000LL) {
        bl->accept_warn_ns = now;
        log_error("conn", "accept failed listener=%s error=\"%s\"%s", bl->srv->node->listeners[bl->index].name,
                  strerror(err), err == EMFILE || err == ENFILE ? "; raise the open-files limit (ulimit -n)" : "");
    }
    if (err == EMFILE || err == ENFILE) {
        /* the pending connection stays in the backlog: without a pause the
         * listener would fire again at once, forever */
        if (!bl->resume_ev)
            bl->resume_ev = event_new(bl->srv->base, -1, 0, accept_resume_cb, bl);
        struct timeval tv = { 0, 100000 };
        if (bl->resume_ev && event_add(bl->resume_ev, &tv) == 0 && evconnlistener_disable(l) < 0)
            log_error("conn", "listener=%s not paused: evconnlistener_disable failed",
                      bl->srv->node->listeners[bl->index].name);
    }
}
