/*
 * brk_ctx.h - the broker's context: the state its modules share (the
 * partition table, the controller it follows, groups, connections, the
 * listeners, the node's configuration).  brk_server (the composition root)
 * creates and wires it; the modules see this header and never brk_server.h.
 *
 * Threading: one state thread owns all state (Redis-style): handlers,
 * partitions, the controller, groups, io_uring.  Its loop runs libevent for
 * the listeners, the controller's sockets and timers, then submits every
 * io_uring operation the iteration queued in one syscall and reaps
 * completions, so one flush covers many requests.  num.network.threads
 * network threads (brk_conn.c) own the client sockets: they frame requests
 * and write responses, and talk to the state thread only through queues.
 */
#ifndef SAMSA_BRK_CTX_H
#define SAMSA_BRK_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/brk_lifecycle.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/dirlock.h"
#include "common/err.h"

struct event_base;
struct event;
struct evconnlistener;
struct brk_ctx;
struct brk_conns;
struct brk_fetcher;
struct brk_replicas;
struct brk_rthrottle;
struct brk_fsession_cache;
struct brk_pids;

struct brk_listener {
    struct brk_ctx *srv;
    int index;                 /* into config_node.listeners */
    struct evconnlistener *evl;
    struct event *resume_ev;   /* re-enables accepting after EMFILE/ENFILE */
    int64_t accept_warn_ns;    /* rate limit for accept errors */
};

#define BRK_RESIGN_GRACE_MS 2000 /* longest a resigning controller waits for a successor */

/* A graceful stop (SIGTERM/SIGINT) goes through these phases in order,
 * skipping those that do not apply (brk_server.c, "Stopping"). */
enum brk_stop_phase {
    BRK_STOP_NONE = 0,
    BRK_STOP_CONTROLLED,   /* heartbeats with want_shut_down until should_shut_down */
    BRK_STOP_DRAIN,        /* listeners closed; parked requests get their answers */
    BRK_STOP_RESIGN,       /* the active controller hands over */
};

struct brk_ctx {
    struct event_base *base;
    const struct config *cfg;
    const struct config_node *node;
    struct config *cfg_dynamic;       /* cfg itself: only brk_configs_refresh writes its dynamic layers */
    struct ctrl *ctrl;
    struct uring *uring;
    struct brk_parts *parts;
    struct brk_fetcher *fetcher;      /* follower fetch sessions (broker/replica/brk_fetcher) */
    struct brk_replicas *replicas;    /* replication's node-wide state (broker/replica/brk_replica) */
    struct brk_rthrottle *rthrottle;  /* replication throttles (broker/replica/brk_rthrottle) */
    struct event *replica_ev;         /* brk_replica_tick and the HW checkpoint */
    int64_t hw_checkpoint_ns;         /* last replication-offset-checkpoint write */
    struct event *uring_ev;
    struct event *retention_ev;
    struct event *flush_ev;
    struct event *heartbeat_ev;
    struct event *signal_evs[2];
    struct event *stop_ev;           /* graceful stop: polls the current phase */
    enum brk_stop_phase stop_phase;
    int64_t stop_phase_ns;           /* when the current phase began */
    int64_t stop_heartbeat_ns;       /* last want_shut_down heartbeat sent */
    bool shut_down_asked;            /* the controlled shutdown began: heartbeats say want_shut_down */
    struct brk_listener listeners[CONFIG_LISTENERS_MAX];
    int listener_count;
    struct brk_req *fetch_waiters;   /* parked Fetch requests (long poll) */
    struct buf fetch_scratch;        /* record bytes of the fetch being answered (reused) */
    bool fetch_building;             /* a fetch response is being built in fetch_scratch */
    struct brk_fsession_cache *fsessions; /* incremental fetch sessions (KIP-227, brk_fsession.h) */
    struct brk_conns *conns;         /* network threads + their connections (brk_conn.c) */
    int64_t conn_count;              /* forwarded (virtual) connections alive */
    uint64_t next_conn_id;
    struct event *register_ev;       /* broker registration retry */
    int64_t broker_epoch;            /* assigned by the active controller at registration */
    int64_t clean_epoch;             /* broker epoch of the last clean stop (brk_cleanmark), -1 none */
    uint8_t incarnation_id[16];      /* new at every start (Kafka's incarnation id) */
    struct dirlock_set dirlocks;     /* .lock of every log dir and the metadata dir, held until exit */
    uint8_t prev_incarnation_id[16]; /* the last process on these disks (brk_incarnation) ... */
    uint32_t prev_incarnation_len;   /* ... 16, or 0 when unknown */
    int64_t register_backoff_ms;     /* registration retry delay after a DUPLICATE_BROKER refusal */
    int64_t register_dup_log_ns;     /* last refusal logged (rate limit); 0 none yet */
    int64_t register_dup_count;      /* refusals since */
    bool registering;                /* a registration is in flight */
    bool registered;                 /* client listeners open once registration committed */
    struct brk_lifecycle lifecycle;  /* partition roles wait for the registration in the image (brk_lifecycle.h) */
    struct brk_groups *groups;       /* group coordinator (brk_h_group.c); NULL until caught up */
    struct event *groups_ev;         /* its session / rebalance timer */
    bool groups_topic_creating;      /* __consumer_offsets creation in flight */
    int32_t *groups_loaded_epochs;   /* per __consumer_offsets partition: the leader epoch its groups were
                                      * loaded at; -1: not coordinated here (brk_h_group_follow) */
    int32_t groups_partition_count;  /* entries in groups_loaded_epochs */
    struct event *groups_load_ev;    /* loads the partitions this node just came to lead, one a pass */
    struct brk_pids *pids;           /* this broker's producer-id blocks (brk_h_producer.c); NULL until used */
    char cluster_id[64];             /* from meta.properties (checked against CLUSTER_ID) */
    const char *config_path;
    bool stopping;
    int stop_rc;                     /* < 0: stopped by a start-up failure (brk_server_run returns it) */
};

#endif
