/*
 * ctrl_net.h - the controller listener's transport: framed protobuf-c
 * messages between controllers (Raft) and from brokers (observers fetching
 * the metadata log, proposals forwarded to the active controller).
 *
 * Frame: u32 length (big-endian, bytes after it) | u8 version (1) |
 * ControllerFrame (proto/quorum.proto).  The first frame on a connection is
 * Hello{node id, cluster id}; a connection from another cluster, an unknown
 * version, an oversized or undecodable frame is closed and logged
 * (rate-limited).  Connections carry traffic both ways: a node answers an
 * observer on the connection the observer opened.
 *
 * Sending is best effort: Raft retries on its own timers, so a message to a
 * node with no live connection is dropped (and a connection is (re)opened
 * towards known peers with backoff).  Loop thread only.
 */
#ifndef SAMSA_CTRL_NET_H
#define SAMSA_CTRL_NET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "quorum.pb-c.h"

#define CTRL_NET_FRAME_BYTES_MAX (64u << 20)
#define CTRL_NET_PEERS_MAX 16
#define CTRL_NET_CONNS_MAX 1024
#define CTRL_NET_FRAME_VERSION 1

struct event_base;
struct ctrl_net;

/* A decoded frame from node `from` (0 before its Hello).  The frame is freed
 * after the call. */
typedef void (*ctrl_net_frame_cb)(void *arg, uint32_t from, const Samsa__ControllerFrame *f);

MUST_CHECK int ctrl_net_create(struct event_base *base, uint32_t self_id, const char *cluster_id,
                               ctrl_net_frame_cb cb, void *arg, struct ctrl_net **out);
void ctrl_net_destroy(struct ctrl_net *net);
/* ctrl_net_set_request_timeout - TCP_USER_TIMEOUT of the sockets opened
 * from now on (controller.quorum.request.timeout.ms; 0 = the kernel's). */
void ctrl_net_set_request_timeout(struct ctrl_net *net, int64_t ms);
/* ctrl_net_listen - accept connections on host:port (controller role). */
MUST_CHECK int ctrl_net_listen(struct ctrl_net *net, const char *host, uint16_t port);
/* ctrl_net_peer_add - a node to keep a connection open to (the voters). */
MUST_CHECK int ctrl_net_peer_add(struct ctrl_net *net, uint32_t id, const char *host, uint16_t port);
/* ctrl_net_send - queue f to node `to`; ERR_NOT_FOUND when no connection is up. */
MUST_CHECK int ctrl_net_send(struct ctrl_net *net, uint32_t to, const Samsa__ControllerFrame *f);
/* ctrl_net_unsent_bytes - bytes queued on every connection, not yet taken
 * by the kernel (a resigning leader waits for its notices to leave). */
size_t ctrl_net_unsent_bytes(const struct ctrl_net *net);

#endif
