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
 * bufferevent) belongs to its network thread.  A request, while it is "at"
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
 * Limits: BRK_CONN_INFLIGHT_MAX requests per connection,
 * BRK_CONN_OUTPUT_BYTES_MAX unsent bytes per connection, and
 * BRK_CONN_STATE_QUEUE_MAX requests waiting for the state thread per network
 * thread; past any of them the connection stops reading.
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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "broker/brk_int.h"
#include "broker/brk_net.h"
#include "common/log.h"

#define BRK_FRAME_MIN_BYTES 8 /* api key, version, correlation id */
#define BRK_CONN_NET_THREADS_MAX 64      /* num.network.threads above this is capped */
#define BRK_CONN_STATE_QUEUE_MAX 4096    /* requests waiting for the state thread, per network thread */
#define BRK_CONN_RESP_REF_BYTES_MIN 16384 /* responses this large are sent without a copy */

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
    struct brk_server *srv;
    struct conn_net *net;        /* NULL: a forwarded (virtual) request */
    struct bufferevent *bev;
    int fd;                      /* until the network thread wraps it in bev */
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
    struct brk_server *srv;
    int index;
    struct brk_net_thread thread;
    struct brk_net_queue inbox;   /* state -> this thread: new connections, finished requests */
    struct brk_net_queue outbox;  /* this thread -> state thread: framed requests */
    struct brk_conn *conns;       /* live and draining connections (this thread only) */
    int64_t conn_count;
    int64_t last_warn_ns;
    bool state_full;              /* outbox reached BRK_CONN_STATE_QUEUE_MAX: stop reading */
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
    int64_t now = brk_now_ns();
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

static struct brk_req *req_create(struct brk_conn *conn, size_t frame_bytes)
{
    struct conn_req *cr = calloc(1, sizeof *cr);
    if (!cr)
        return NULL;
    struct brk_req *req = &cr->req;
    req->conn = conn;
    req->received_ns = brk_now_ns();
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

/* conn_kill - close the socket now; the struct lives until conn_flush sees
 * no request in flight.  Callers call conn_flush afterwards (or, inside the
 * read callback, leave that to it).  Runs on the connection's own thread. */
static void conn_kill(struct brk_conn *conn)
{
    if (conn_is_dead(conn))
        return;
    atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
    if (conn->bev)
        bufferevent_free(conn->bev);
    conn->bev = NULL;
}

static void conn_read_cb(struct bufferevent *bev, void *arg);

static void conn_update_read(struct brk_conn *conn)
{
    if (conn_is_dead(conn) || !conn->bev)
        return;
    size_t out = evbuffer_get_length(bufferevent_get_output(conn->bev));
    bool pause = conn->inflight >= BRK_CONN_INFLIGHT_MAX || out > BRK_CONN_OUTPUT_BYTES_MAX ||
                 conn->net->state_full;
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
        struct evbuffer *out = bufferevent_get_output(conn->bev);
        if (evbuffer_add_reference(out, req->resp.ptr, req->resp.len, conn_resp_sent_cb, NULL) == 0) {
            req->resp.ptr = NULL; /* ownership moved to the evbuffer */
            req->resp.len = req->resp.cap = 0;
            return;
        }
    }
    if (bufferevent_write(conn->bev, req->resp.ptr, req->resp.len) < 0)
        log_error("conn", "cannot queue response peer=%s bytes=%zu", conn->peer, req->resp.len);
}

/* Send every finished request at the head of the list; free the connection
 * once it is dead and empty.  Network thread (state thread for virtual). */
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
            atomic_store_explicit(&conn->dead, true, memory_order_relaxed);
        } else if (!conn_is_dead(conn) && !req->no_response && req->resp.len > 0) {
            conn_write_resp(conn, req);
        }
        conn->inflight--;
        req_free(req);
    }
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
    if (rc < 0) {
        log_error("conn", "cannot encode response api_key=%d api_version=%d correlation_id=%d error=\"%s\"; "
                  "closing connection (this is a bug)", req->hdr.api_key, req->hdr.api_version,
                  req->hdr.correlation_id, err_str(rc));
        req->no_response = true;
        req_hand_back(req, true);
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
    req_hand_back(req, false);
}

void brk_req_malformed(struct brk_req *req, int rc)
{
    conn_warn(&req->conn->srv->conns->last_warn_ns, req->conn, "malformed request body", rc);
    req->no_response = true;
    req_hand_back(req, true);
}

struct brk_server *brk_req_server(const struct brk_req *req) { return req->conn->srv; }
int brk_req_listener_index(const struct brk_req *req) { return req->conn->listener_index; }
bool brk_req_conn_alive(const struct brk_req *req) { return !conn_is_dead(req->conn); }

/* Read every whole frame buffered and hand each to the state thread;
 * returns false if the connection died.  Network thread. */
static bool conn_read_frames(struct brk_conn *conn)
{
    struct conn_net *net = conn->net;
    struct evbuffer *in = bufferevent_get_input(conn->bev);
    int64_t max_bytes = conn->srv->node->socket_request_max_bytes;
    while (!conn_is_dead(conn) && conn->inflight < BRK_CONN_INFLIGHT_MAX && !net->state_full) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 4)
            return true;
        uint8_t hdr[4];
        evbuffer_copyout(in, hdr, 4);
        int32_t size = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3]);
        if (size < BRK_FRAME_MIN_BYTES || size > max_bytes) {
            /* 0x16030x... is a TLS ClientHello on a plaintext port */
            conn_warn(&net->last_warn_ns, conn,
                      hdr[0] == 0x16 && hdr[1] == 0x03 ? "TLS handshake on a PLAINTEXT listener"
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
        struct brk_req *req = req_create(conn, (size_t)size);
        if (!req) {
            conn_kill(conn);
            return false;
        }
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
        struct conn_req *cr = conn_req_of(req);
        cr->qn.kind = CONN_NODE_REQ;
        if (brk_net_queue_push(&net->outbox, &cr->qn) >= BRK_CONN_STATE_QUEUE_MAX)
            net->state_full = true; /* the state thread wakes us when it took them */
    }
    return !conn_is_dead(conn);
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

/* Network thread: a connection handed over by the accepting state thread. */
static void conn_attach(struct conn_net *net, struct brk_conn *conn)
{
    conn->bev = bufferevent_socket_new(net->thread.base, conn->fd, BEV_OPT_CLOSE_ON_FREE);
    if (!conn->bev) {
        log_error("conn", "cannot set up connection peer=%s; closing it", conn->peer);
        evutil_closesocket(conn->fd);
        free(conn);
        return;
    }
    conn->next = net->conns;
    if (net->conns)
        net->conns->prev = conn;
    net->conns = conn;
    net->conn_count++;
    bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
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

int brk_conns_start(struct brk_server *srv)
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

void brk_conns_stop(struct brk_server *srv)
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

void brk_conns_destroy(struct brk_server *srv)
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
            if (conn->bev)
                bufferevent_free(conn->bev);
            conn->bev = NULL;
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
        brk_net_queue_deinit(&net->inbox);
        brk_net_queue_deinit(&net->outbox);
        brk_net_thread_deinit(&net->thread);
    }
    free(cs->nets);
    free(cs);
    srv->conns = NULL;
}

void brk_conn_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *addr, int socklen, void *arg)
{
    (void)l;
    (void)socklen;
    struct brk_listener *bl = arg;
    struct brk_server *srv = bl->srv;
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

int brk_conn_virtual_dispatch(struct brk_server *srv, struct bytes frame, brk_virtual_done_cb cb, void *arg)
{
    if (frame.len < BRK_FRAME_MIN_BYTES || (int64_t)frame.len > srv->node->socket_request_max_bytes)
        return ERR_DECODE;
    struct brk_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return -ENOMEM;
    struct brk_req *req = req_create(conn, frame.len);
    if (!req) {
        free(conn);
        return -ENOMEM;
    }
    conn->srv = srv;
    conn->fd = -1;
    conn->id = ++srv->next_conn_id;
    snprintf(conn->peer, sizeof conn->peer, "forwarded");
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
    evconnlistener_enable(bl->evl);
}

void brk_conn_accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct brk_listener *bl = arg;
    int err = EVUTIL_SOCKET_ERROR();
    int64_t now = brk_now_ns();
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
        if (bl->resume_ev && event_add(bl->resume_ev, &tv) == 0)
            evconnlistener_disable(l);
    }
}
