/*
 * brk_conn.h - accepted client connections: framing, dispatch, in-order
 * responses.
 *
 * Frames are int32 size + request.  A size below the header minimum or above
 * socket.request.max.bytes closes the connection (logged, rate-limited) —
 * never an allocation sized by the peer beyond that ceiling.  Up to
 * BRK_CONN_INFLIGHT_MAX requests per connection are in flight; reading
 * pauses past that or when unsent output passes BRK_CONN_OUTPUT_BYTES_MAX.
 */
#ifndef SAMSA_BRK_CONN_H
#define SAMSA_BRK_CONN_H

#include <sys/socket.h>

#include "broker/brk_server.h"
#include "common/buf.h"

/* brk_conn_accept_cb - evconnlistener callback; arg is a struct brk_listener. */
void brk_conn_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *addr, int socklen, void *arg);
void brk_conn_accept_error_cb(struct evconnlistener *l, void *arg);

/* brk_conn_virtual_dispatch - run a Kafka request frame (without its size
 * prefix) that another broker forwarded; cb gets the whole response frame
 * (empty if the request closed the connection) once the handler finishes. */
typedef void (*brk_virtual_done_cb)(void *arg, struct bytes resp);
MUST_CHECK int brk_conn_virtual_dispatch(struct brk_server *srv, struct bytes frame, brk_virtual_done_cb cb, void *arg);

#endif
