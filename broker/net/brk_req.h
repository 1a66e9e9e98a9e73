/*
 * brk_req.h - the request layer: one Kafka request's life on the state
 * thread, from dispatch to its response (never included from outside
 * broker/).
 *
 * The connection layer (brk_conn) reads a request whole (size-prefixed
 * frame) on its connection's network thread, creates the brk_req with its
 * connection operations and hands it to the state thread, where brk_dispatch
 * decodes the header into the request's arena and runs its handler.  A
 * handler answers with brk_req_finish (or BRK_RESPOND), now or later
 * (parked fetches, appends, commits); brk_req_finish hands the request back
 * through conn_ops, and the network thread sends responses strictly in
 * request order even when handlers finish out of order (pipelining).  After
 * brk_req_finish a handler must not touch the request: another thread
 * frees it.
 *
 * Dependencies point one way: brk_conn -> brk_dispatch -> handlers ->
 * brk_req; this module reaches the connection only through conn_ops.
 */
#ifndef SAMSA_BRK_REQ_H
#define SAMSA_BRK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/kwire.h"
#include "kmsg.h"

#define BRK_REQ_ARENA_CHUNK_BYTES 16384
#define BRK_REQ_ARENA_BYTES_MAX (256u << 20)
#define BRK_RESP_BYTES_MAX (512u << 20)

struct brk_ctx;
struct brk_conn;
struct brk_req;
struct event;

typedef void (*brk_handler_fn)(struct brk_req *req);

/* What a request needs from the connection that carried it. */
struct brk_req_conn_ops {
    /* give a finished request back (state thread); close_conn drops the connection */
    void (*hand_back)(struct brk_req *req, bool close_conn);
    /* false once the client went away */
    bool (*alive)(const struct brk_req *req);
    /* a rate-limited warning about this connection (what, and an ERR_* code) */
    void (*warn)(struct brk_req *req, const char *what, int rc);
};

struct brk_req {
    struct brk_ctx *srv;        /* the server it runs on */
    const struct brk_req_conn_ops *conn_ops;
    struct brk_conn *conn;         /* the connection layer's, opaque here */
    int listener_index;            /* which configured listener it came in on */
    const char *peer;              /* "host:port"; NULL for a forwarded request (no socket) */
    struct brk_req *next;          /* connection's in-order list */
    struct kmsg_req_header hdr;
    struct buf frame;              /* the request bytes, owned */
    struct kwire_reader body;      /* positioned after the header */
    struct arena arena;            /* everything decoded or built for this request */
    struct buf resp;               /* the whole response frame */
    bool done;
    bool no_response;              /* Produce acks=0 */
    int64_t received_ns;
    int64_t rtt_us;                /* Fetch: the client's smoothed TCP round trip on arrival; -1 unknown */
    /* handler state for asynchronous completion */
    void *hstate;
    int pending;
    struct brk_req *wait_prev, *wait_next; /* parked fetches */
    struct event *timer;
};

/* brk_req_begin_response - write the frame size placeholder and the response
 * header for req into req->resp. */
MUST_CHECK int brk_req_begin_response(struct brk_req *req);
/* brk_req_finish - patch the frame size and queue the response.  rc < 0
 * (an encode failure) closes the connection: a half-built response is never
 * sent.  After this the handler must not touch req. */
void brk_req_finish(struct brk_req *req, int rc);
/* brk_req_malformed - the body did not decode: close the connection. */
void brk_req_malformed(struct brk_req *req, int rc);
/* brk_req_ctx - the server that owns req's connection. */
struct brk_ctx *brk_req_ctx(const struct brk_req *req);
/* brk_req_listener_index - which configured listener the client came in on. */
int brk_req_listener_index(const struct brk_req *req);
/* brk_req_conn_alive - false once the client went away (skip the work). */
bool brk_req_conn_alive(const struct brk_req *req);
/* brk_req_client_host - the client's address as Kafka reports it in group
 * membership ("/127.0.0.1", "/::1"), in req's arena; "" for a forwarded
 * request (no socket) or when the arena is full. */
struct bytes brk_req_client_host(struct brk_req *req);

#define BRK_RESPOND(req, api, msgp)                                                   \
    do {                                                                              \
        int brk_rc_ = brk_req_begin_response(req);                                    \
        if (brk_rc_ == 0)                                                             \
            brk_rc_ = kmsg_##api##_resp_encode(&(req)->resp, (req)->hdr.api_version, (msgp)); \
        brk_req_finish((req), brk_rc_);                                               \
    } while (0)

#endif
