/*
 * ctrl_int.h - the controller's private state, shared by its modules:
 * ctrl.c (the Raft driver: tick, step, persist before send, apply, advance),
 * ctrl_rpc.c (typed controller RPCs, broker leases, Kafka request
 * forwarding) and ctrl_plan.c (records planned against an image).  Nothing
 * outside controller/ includes this.
 */
#ifndef SAMSA_CTRL_INT_H
#define SAMSA_CTRL_INT_H

#include "controller/ctrl.h"
#include "controller/ctrl_env.h"
#include "controller/ctrl_qstate.h"
#include "quorum.pb-c.h"
#include "raft/raft.h"

#define CTRL_FWD_TIMEOUT_MS 5000
#define CTRL_DUP_LOG_MS 10000    /* a refused duplicate registration is logged at most this often */
#define CTRL_REMOTE_MAX 1024

struct ctrl_pending {   /* a local ctrl_propose waiting for commit */
    uint64_t index;
    ctrl_commit_cb cb;
    void *arg;
};

enum ctrl_rpc_kind {
    CTRL_RPC_REGISTER = 1,   /* BrokerRegistrationRequest */
    CTRL_RPC_CREATE_TOPIC,   /* CreateTopicRequest */
    CTRL_RPC_FORWARD,        /* ForwardRequest (a Kafka request frame) */
    CTRL_RPC_ALTER_PARTITION, /* AlterPartitionRequest */
    CTRL_RPC_ALLOC_PIDS,     /* AllocateProducerIdsRequest */
};

/* A typed request the active controller accepted and proposed, waiting for
 * its records to commit.  From another node (answered with a response
 * frame) or from this node (answered through the callback). */
struct ctrl_rpc_wait {
    uint64_t index;
    enum ctrl_rpc_kind kind;
    bool local;
    uint32_t from;            /* remote: the caller's node id */
    uint64_t request_id;      /* remote */
    ctrl_commit_cb commit_cb; /* local CREATE_TOPIC */
    ctrl_register_cb reg_cb;  /* local REGISTER */
    void *arg;
    int32_t broker_id;        /* REGISTER */
    int64_t broker_epoch;     /* REGISTER: the epoch the controller assigned */
    uint8_t topic_id[16];     /* CREATE_TOPIC: checked against the image at commit; ALTER_PARTITION */
    char topic[CTRL_TOPIC_NAME_BYTES_MAX + 1];
    int32_t partition_id;     /* ALTER_PARTITION */
    ctrl_alter_partition_cb ap_cb;             /* local ALTER_PARTITION */
    struct ctrl_alter_partition_reply ap_reply; /* ALTER_PARTITION: the state to answer */
    ctrl_producer_ids_cb pids_cb; /* local ALLOC_PIDS */
    int64_t pid_start;        /* ALLOC_PIDS: the block proposed */
};

/* Our typed request or forwarded Kafka request to the active controller,
 * waiting for its answer. */
struct ctrl_fwd {
    uint64_t request_id;
    uint32_t to;                   /* the leader it went to */
    enum ctrl_rpc_kind kind;
    ctrl_commit_cb commit_cb;      /* CREATE_TOPIC */
    ctrl_register_cb reg_cb;       /* REGISTER */
    ctrl_forward_done_cb fwd_cb;   /* FORWARD */
    ctrl_alter_partition_cb ap_cb; /* ALTER_PARTITION */
    ctrl_producer_ids_cb pids_cb;  /* ALLOC_PIDS */
    void *arg;
    int64_t deadline_ticks;
};

struct ctrl_lease {
    int32_t broker_id;
    int64_t last_ticks;      /* last heartbeat (or leadership start) */
    bool heard;              /* a heartbeat or registration reached this leader: only then may it unfence */
    bool change_in_flight;   /* a fence/unfence proposal not committed yet */
    bool registering;        /* a registration proposal not committed yet */
    bool want_fence;         /* the last heartbeat asked to be fenced */
    bool shutting_down;      /* controlled shutdown asked (want_shut_down) ... */
    int64_t shutdown_epoch;  /* ... by this broker epoch (an incarnation's own) */
    int64_t dup_log_ticks;   /* last DUPLICATE_BROKER_REGISTRATION log line (rate limit) */
};

struct ctrl {
    struct ctrl_config cfg;
    char metadata_dir[1024];
    char cluster_id[64];
    struct ctrl_voter voters[CTRL_VOTERS_MAX];
    struct ctrl_env env;        /* storage, transport, clock (ctrl_env.h) */
    struct ctrl_image *img;
    struct raft *raft;
    ctrl_apply_cb listener;
    ctrl_caught_up_cb caught_up_cb;
    void *arg;
    struct ctrl_qstate qs;
    bool caught_up;
    bool in_ready;
    int64_t ticks;
    struct arena entry_arena;   /* entry bytes lent to the core until raft_advance */
    struct arena msg_arena;     /* wire conversion scratch */
    struct buf scratch;
    struct ctrl_pending pending[CTRL_PENDING_MAX];
    uint32_t pending_head, pending_count;
    struct ctrl_rpc_wait waits[CTRL_REMOTE_MAX];
    uint32_t wait_count;
    struct ctrl_fwd fwd[CTRL_REMOTE_MAX];
    uint32_t fwd_count;
    uint64_t next_request_id;
    enum raft_role last_role;
    ctrl_forward_handler_fn fwd_handler;
    void *fwd_handler_arg;
    ctrl_heartbeat_cb hb_handler;
    void *hb_handler_arg;
    struct raft_snapshot_id snap;   /* latest durable snapshot; the log starts after it */
    uint64_t applied_index;
    uint64_t applied_epoch;
    int64_t bytes_since_snap;
    struct buf snap_buf;
    struct ctrl_replica_status observers[CTRL_OBSERVERS_MAX];
    uint32_t observer_count;
    struct ctrl_lease leases[CTRL_BROKERS_MAX];
    int32_t lease_count;
    bool lease_drain;        /* a lease change waits for this leader's proposals to apply */
    int64_t session_ticks;
    struct arena plan_arena;
    uint64_t elect_index;    /* the last leader election (ElectLeaders, rebalance) proposed: in flight
                              * while not applied */
    int64_t rebalance_ticks; /* the next auto.leader.rebalance check */
    /* Asynchronous metadata log sync (storage has log_sync_submit): entries
     * ..durable_last are known durable, ..written_last are written; one sync
     * is in flight at most, covering ..sync_in_flight_last (lowered when a
     * truncation drops what it covered).  A follower's or observer's fetch
     * acknowledges its log end, so a FETCH_REQ past durable_last waits in
     * fetch_held (the newest replaces an older one) until a sync covers it. */
    bool sync_async;
    bool sync_in_flight;
    uint64_t sync_in_flight_last;
    uint64_t written_last;
    uint64_t durable_last;
    bool fetch_held;
    struct raft_msg fetch_held_msg;
    bool reassign_in_flight;  /* a batch finishing reassignments is proposed, not applied */
};

/* The storage and transport of env, spelled short for the driver. */
#define CTRL_ST(c, op, ...) ((c)->env.storage->op((c)->env.storage_ctx, __VA_ARGS__))
#define CTRL_ST0(c, op) ((c)->env.storage->op((c)->env.storage_ctx))

/* ctrl.c */
void ctrl_send_frame(struct ctrl *c, uint32_t to, Samsa__ControllerFrame *f);
/* ctrl_propose_batch - propose a planned batch as one entry (leader only);
 * *index_out is its Raft index.  No callback: the caller tracks it. */
MUST_CHECK int ctrl_propose_batch(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n,
                                  uint64_t *index_out);
void ctrl_process_ready(struct ctrl *c);
/* ctrl_propose_cb - ctrl_propose without the lease-change check (the lease
 * check's own proposals). */
MUST_CHECK int ctrl_propose_cb(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb,
                               void *arg);

/* ctrl_rpc.c */
/* ctrl_rpc_ready_to_plan - the leader's image holds everything committed
 * before its term (it applied an entry of its own epoch): planning is safe. */
bool ctrl_rpc_ready_to_plan(const struct ctrl *c);
struct ctrl_lease *ctrl_lease_get(struct ctrl *c, int32_t broker_id);
void ctrl_leases_check(struct ctrl *c);
/* ctrl_lease_change_in_flight - a fence or unfence proposed, not applied yet. */
bool ctrl_lease_change_in_flight(const struct ctrl *c);
void ctrl_leases_reset(struct ctrl *c);
/* ctrl_rpc_on_frame - every frame but Raft messages; false if not ours. */
bool ctrl_rpc_on_frame(struct ctrl *c, uint32_t from, const Samsa__ControllerFrame *f);
/* ctrl_rpc_complete - answer the waits committed up to index. */
void ctrl_rpc_complete(struct ctrl *c, uint64_t index);
/* ctrl_rebalance_check - auto.leader.rebalance, from the tick. */
void ctrl_rebalance_check(struct ctrl *c);
/* ctrl_shutting_down_list - the brokers in controlled shutdown into ids
 * (CTRL_BROKERS_MAX); returns the count. */
int32_t ctrl_shutting_down_list(const struct ctrl *c, int32_t *ids);
/* ctrl_rpc_fail - leadership lost: every wait fails with ERR_NOT_CONTROLLER. */
void ctrl_rpc_fail(struct ctrl *c);
/* ctrl_rpc_tick - time out our requests to a leader that did not answer. */
void ctrl_rpc_tick(struct ctrl *c);
/* ctrl_pids_answer - answer an ALLOC_PIDS wait with rc (0: committed). */
void ctrl_pids_answer(struct ctrl *c, const struct ctrl_rpc_wait *w, int rc);
/* ctrl_pids_on_frame - the AllocateProducerIds frames; false if not one. */
bool ctrl_pids_on_frame(struct ctrl *c, uint32_t from, const Samsa__ControllerFrame *f);

/* ctrl_reassign.c */
/* ctrl_reassign_check - leader only: propose the final step of every
 * reassignment whose adding replicas are all in the ISR. */
void ctrl_reassign_check(struct ctrl *c);

#endif
