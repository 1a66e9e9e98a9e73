/*
 * brk_conn.h - accepted client connections: framing, dispatch, in-order
 * responses.
 *
 * Frames are int32 size + request.  A size below the header minimum or above
 * socket.request.max.bytes closes the connection (logged, rate-limited) —
 * never an allocation sized by the peer beyond that ceiling.  Up to
 * BRK_CONN_INFLIGHT_MAX requests per connection are in flight; reading
 * pauses past that or when unsent output passes BRK_CONN_OUTPUT_BYTES_MAX.
 *
 * Threads: num.network.threads network threads own the client sockets
 * (read, frame, write); handlers run on the state thread (srv->base).  The
 * listener's accept callback runs on the state thread and hands each new
 * socket to a network thread, round-robin.  See brk_conn.c for the diagram.
 */
#ifndef SAMSA_BRK_CONN_H
#define SAMSA_BRK_CONN_H

#include <sys/socket.h>

#include "broker/brk_ctx.h"
#include "common/buf.h"

#define BRK_CONN_INFLIGHT_MAX 64              /* pipelined requests per connection */
#define BRK_CONN_OUTPUT_BYTES_MAX (64u << 20) /* stop reading past this much unsent */

/* brk_conns_start - create srv->conns and start num.network.threads network
 * threads (capped at 64), named samsa-net-<index>.  State thread, after
 * srv->base exists and before any listener accepts.  On failure the caller
 * still calls brk_conns_destroy. */
MUST_CHECK int brk_conns_start(struct brk_ctx *srv);
/* brk_conns_stop - stop and join the network threads (they stop reading
 * and writing).  Requests still at the state thread may finish afterwards:
 * their hand-back is queued and freed by brk_conns_destroy.  Blocks briefly. */
void brk_conns_stop(struct brk_ctx *srv);
/* brk_conns_destroy - stop the threads if needed, then free every
 * connection and every request (parked ones included, with their timers:
 * call before event_base_free(srv->base), after every state-thread user of
 * requests is gone).  Safe when brk_conns_start failed or never ran. */
void brk_conns_destroy(struct brk_ctx *srv);

/* brk_conn_accept_cb - evconnlistener callback; arg is a struct brk_listener. */
void brk_conn_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *addr, int socklen, void *arg);
void brk_conn_accept_error_cb(struct evconnlistener *l, void *arg);

/* brk_conn_virtual_dispatch - run a Kafka request frame (without its size
 * prefix) that another broker forwarded; cb gets the whole response frame
 * (empty if the request closed the connection) once the handler finishes. */
typedef void (*brk_virtual_done_cb)(void *arg, struct bytes resp);
MUST_CHECK int brk_conn_virtual_dispatch(struct brk_ctx *srv, struct bytes frame, brk_virtual_done_cb cb, void *arg);

#endif
