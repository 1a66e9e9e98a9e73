/*
 * brk_replica.h - one local partition's replication role: the I/O shell
 * around the pure brk_isr (leader) and brk_epoch_cache (both roles).
 * Design: broker/README.md, "Replication".
 *
 * Every local partition (struct brk_part) has one struct brk_replica from
 * open to close (part->replica).  The composition root (brk_server) hands
 * the partition table's events to it: brk_replica_attach at open,
 * brk_replica_on_state for every committed change of the partition's
 * state (leader, leader epoch, partition epoch, ISR, replicas),
 * brk_replica_on_advance when the local log end moves, brk_replica_detach
 * when the partition closes here.
 *
 * Roles, from the committed metadata (leader id, leader epoch):
 *
 *                       leader == self, new leader epoch
 *      FOLLOWER ─────────────────────────────────────────────► LEADER
 *      (in a brk_fetcher session         ◄──────────────────── (a brk_isr for this
 *       of the leader's broker)          leader != self         leader epoch; produce
 *         │  ▲                                                  appends; follower
 *         │  │ leader elected                                   fetches feed brk_isr)
 *         ▼  │
 *      NO_LEADER (leader -1: nothing fetched, nothing served)
 *
 * Leader side (brk_replica.c): becoming leader assigns (leader epoch, log
 * end) in the epoch cache, starts a brk_isr from the HW it had as a
 * follower, and sends its AlterPartition proposals through the controller;
 * follower fetches (brk_h_fetch) call brk_replica_leader_fetch; acks=all
 * produces park on the partition until brk_replica_acked says so.
 *
 * Follower side (brk_follower.c, brk_fetcher.c): the partition is in
 * exactly one fetch session of its leader's broker; fetched batches are
 * appended byte for byte (brk_replica_follower_append), the HW follows the
 * leader's (brk_replica_follower_hw), and a diverging epoch truncates the
 * log (brk_replica_follower_truncate).
 *
 * The high watermark lives in part->high_watermark (brk_part_high_watermark)
 * and is set only through brk_replica_set_high_watermark: it never moves
 * backwards, never passes the log end, and wakes the partition's waiters.
 *
 * Files per partition dir: leader-epoch-checkpoint (rewritten atomically on
 * every change of the cache).  Per log dir: replication-offset-checkpoint
 * (every partition's HW; written by brk_replica_checkpoint_hw every
 * replica.high.watermark.checkpoint.interval.ms and at shutdown, read at
 * start: the HW restarts at min(checkpoint, log end)).
 *
 * State thread only.
 */
#ifndef SAMSA_BRK_REPLICA_H
#define SAMSA_BRK_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/log/brk_plog.h"
#include "broker/replica/brk_epoch_cache.h"
#include "broker/replica/brk_isr.h"
#include "common/buf.h"
#include "common/err.h"

struct brk_ctx;
struct brk_part;
struct ctrl_partition;
struct brk_fetcher;

#define BRK_REPLICA_HW_CKPT_FILE "replication-offset-checkpoint"

/* Kafka's error codes this module answers with (protocol-defined, as in
 * brk_isr: replica/ sits below broker/api and does not include brk_kerr). */
enum {
    BRK_REPLICA_KERR_OFFSET_OUT_OF_RANGE = 1,
    BRK_REPLICA_KERR_NOT_LEADER_OR_FOLLOWER = 6,
    BRK_REPLICA_KERR_NOT_ENOUGH_REPLICAS = 19,
    BRK_REPLICA_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    BRK_REPLICA_KERR_KAFKA_STORAGE_ERROR = 56,
    BRK_REPLICA_KERR_FENCED_LEADER_EPOCH = 74,
    BRK_REPLICA_KERR_UNKNOWN_LEADER_EPOCH = 75,
};

enum brk_replica_role {
    BRK_REPLICA_NO_LEADER = 0,
    BRK_REPLICA_LEADER,
    BRK_REPLICA_FOLLOWER,
};

struct brk_replica {
    struct brk_ctx *ctx;
    struct brk_part *part;
    enum brk_replica_role role;
    int32_t leader_id;              /* committed leader (-1 none) */
    int32_t leader_epoch;           /* committed leader epoch */
    int32_t partition_epoch;
    struct brk_epoch_cache epochs;  /* loaded from leader-epoch-checkpoint at attach */
    /* leader */
    struct brk_isr *isr;            /* non-NULL while LEADER */
    bool alter_in_flight;           /* an AlterPartition copy is at the controller */
    struct brk_plog_sync_req dsync; /* samsa.acks.all.fsync: the leader's group-commit request */
    int64_t durable_hw_told;        /* the durable HW the waiters last heard */
    /* follower (brk_follower.c / brk_fetcher.c own these) */
    struct brk_fetcher_part *fetch; /* the fetch session's entry, NULL when not fetching */
    bool truncating;                /* waiting for in-flight appends before a truncation */
    bool hw_notify_queued;          /* an HW move waits for the loop to tell the waiters */
    int64_t leader_hw_seen;         /* the leader's HW in the last fetch response (-1: none yet) */
};

/* The follower's fetch sessions (brk_fetcher), as this module calls them:
 * wired by the composition root, so that replica and fetcher do not include
 * each other (the fetcher uses the follower functions below). */
struct brk_replica_follower_ops {
    void (*follow)(void *arg, struct brk_part *part);
    void (*unfollow)(void *arg, struct brk_part *part);
    void *arg;
};

/* ---- Lifecycle and role (brk_replica.c) ---- */

struct brk_parts_hooks;
/* brk_replicas_create - the node-wide part (ctx->replicas): reads every log
 * dir's replication-offset-checkpoint for the partitions about to open.
 * Before the partition table opens anything. */
MUST_CHECK int brk_replicas_create(struct brk_ctx *ctx);
void brk_replicas_destroy(struct brk_ctx *ctx);
/* brk_replicas_set_follower - how roles start and stop fetching. */
void brk_replicas_set_follower(struct brk_ctx *ctx, const struct brk_replica_follower_ops *ops);
/* brk_replica_hooks - the partition table's hooks that drive this module
 * (brk_parts_set_hooks; the composition root wires them). */
void brk_replica_hooks(struct brk_ctx *ctx, struct brk_parts_hooks *out);

/* brk_replica_attach - the partition was opened here: load its
 * leader-epoch-checkpoint (a bad file is logged and rebuilt from the log's
 * batches), restore the HW from the log dir's checkpoint hint (clamped to
 * the log end), then take the role cp says (cp NULL: no role yet, the
 * start-up gate holds it; brk_replica_on_state gives it).  -ENOMEM, or ERR_CORRUPT
 * propagated only for I/O failures, never for a bad checkpoint. */
MUST_CHECK int brk_replica_attach(struct brk_ctx *ctx, struct brk_part *part, const struct ctrl_partition *cp,
                                  int64_t hw_hint);
/* brk_replica_on_state - a committed state of the partition (any field may
 * have changed).  Changes role when the leader or leader epoch changed;
 * while leader with the same epoch, applies ISR/replica changes to brk_isr. */
void brk_replica_on_state(struct brk_part *part, const struct ctrl_partition *cp);
/* brk_replica_on_broker - a broker's registration changed (epoch, fenced,
 * shutting down): every led partition's brk_isr hears it. */
void brk_replica_on_broker(struct brk_ctx *ctx, int32_t broker_id);
/* brk_replica_on_advance - the local log end moved to end_offset (leader:
 * brk_isr_leader_advance; follower: HW = min(leader HW, log end)). */
void brk_replica_on_advance(struct brk_part *part, int64_t end_offset);
/* brk_replica_reconfigure - part's config was recomputed (a committed topic
 * or broker config): a leader applies min.insync.replicas and
 * samsa.acks.all.fsync to its ISR state now and wakes its parked acks=all
 * produces; a follower syncs what it holds once fsync acks are on. */
void brk_replica_reconfigure(struct brk_part *part);
/* brk_replica_detach - the partition closes here: leave any fetch session,
 * drop the leader state, free. */
void brk_replica_detach(struct brk_part *part);
/* brk_replica_tick - timers: ISR shrink/expand proposals (lag time),
 * AlterPartition re-sends.  Called every 100 ms or so. */
void brk_replica_tick(struct brk_ctx *ctx);

/* brk_replica_set_high_watermark - move the HW forward (never back, never
 * past the log end); when it moved, the partition's waiters hear
 * BRK_PART_HW from the loop (right after the current callback), never from
 * inside this call. */
void brk_replica_set_high_watermark(struct brk_part *part, int64_t hw);
/* brk_replica_epochs_changed - the epoch cache changed: rewrite
 * leader-epoch-checkpoint (atomically; a failure is logged and retried at
 * the next change, the cache is rebuilt from the log on a bad file). */
void brk_replica_epochs_changed(struct brk_part *part);
/* brk_replica_checkpoint_hw - write replication-offset-checkpoint in every log dir. */
MUST_CHECK int brk_replica_checkpoint_hw(struct brk_ctx *ctx);

/* ---- Leader side (brk_replica.c) ---- */

struct brk_replica_fetch_result {
    int16_t error_code;            /* Kafka's: NONE, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH,
                                    * NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE */
    bool diverging;                /* the response carries diverging_epoch, no records */
    int32_t diverging_epoch;
    int64_t diverging_end_offset;
};

/* brk_replica_leader_fetch - a follower's fetch of this partition, before
 * reading: the leader epoch check, the diverging-epoch check, then
 * brk_isr_fetch (progress, HW).  The caller reads from fetch_offset to the
 * log end when error_code is NONE and !diverging. */
void brk_replica_leader_fetch(struct brk_part *part, int32_t replica_id, int64_t replica_epoch,
                              int32_t current_leader_epoch, int64_t fetch_offset, int32_t last_fetched_epoch,
                              struct brk_replica_fetch_result *out);
/* brk_replica_leader_fetch_durable - samsa.acks.all.fsync: the durable
 * offset (-1: none) a follower reported in the fetch that
 * brk_replica_leader_fetch just accepted (NONE, not diverging); wakes the
 * parked acks=all produces when the durable HW moves. */
void brk_replica_leader_fetch_durable(struct brk_part *part, int32_t replica_id, int64_t durable_offset);
/* brk_replica_check_leader_epoch - a client request's current_leader_epoch
 * (-1: not sent) against ours: 0 (KERR_NONE), FENCED_LEADER_EPOCH or
 * UNKNOWN_LEADER_EPOCH. */
int16_t brk_replica_check_leader_epoch(const struct brk_part *part, int32_t current_leader_epoch);
/* brk_replica_produce_check - before an append: Kafka's error code
 * (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS) or 0. */
int16_t brk_replica_produce_check(const struct brk_part *part, int16_t acks);
/* brk_replica_acked - may an acks=all produce ending before
 * required_offset be answered?  false: keep waiting (park on the
 * partition); true with *error_code NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * or NOT_LEADER_OR_FOLLOWER (leadership lost meanwhile). */
bool brk_replica_acked(const struct brk_part *part, int32_t leader_epoch, int64_t required_offset,
                       int16_t *error_code);
/* brk_replica_end_offset_for - OffsetForLeaderEpoch's answer
 * (brk_epoch_cache_end_offset_for over this log). */
void brk_replica_end_offset_for(const struct brk_part *part, int32_t requested_epoch, int32_t *epoch_out,
                                int64_t *end_offset_out);

/* ---- Follower side (brk_follower.c) ---- */

/* brk_replica_fetch_position - what the next fetch asks for: the log end
 * (every append completed) and the latest epoch in the cache. */
void brk_replica_fetch_position(const struct brk_part *part, int64_t *fetch_offset, int32_t *last_fetched_epoch);
/* brk_replica_durable_offset - what the next fetch reports as durable
 * (samsa_durable_offset): the log's group-commit durable offset, or -1
 * when samsa.acks.all.fsync is off for the partition. */
int64_t brk_replica_durable_offset(const struct brk_part *part);
/* brk_replica_durable_pending - samsa.acks.all.fsync: part of the log is not
 * yet durable (a sync is pending or due) and the log is online: the fetch
 * session then polls (BRK_REPLICA_SYNC_POLL_MS) instead of long-polling, so
 * the sync's completion is reported promptly. */
bool brk_replica_durable_pending(const struct brk_part *part);
#define BRK_REPLICA_SYNC_POLL_MS 10
/* brk_replica_follower_sync - samsa.acks.all.fsync: make what the log holds
 * durable now (on becoming a follower: a restarted replica reports its
 * whole log, not only what it appends from now on). */
void brk_replica_follower_sync(struct brk_part *part);
/* brk_replica_follower_append - append the leader's batches as they are
 * (offsets, epochs, CRCs kept; the first base offset must equal the log's
 * next offset), assign each new epoch in the cache, and call cb(arg, rc)
 * once written (with samsa.acks.all.fsync, the group commit starts then:
 * a later fetch reports them durable).  ERR_CORRUPT for a batch that fails validation (logged;
 * the fetch is retried), ERR_INVALID for an offset gap. */
typedef void (*brk_replica_append_cb)(void *arg, int rc);
MUST_CHECK int brk_replica_follower_append(struct brk_part *part, struct bytes batches, brk_replica_append_cb cb,
                                           void *arg);
/* brk_replica_follower_append_borrowed - the same without copying the
 * batches: they are written from the caller's memory, which must stay valid
 * and unchanged until cb has run (the fetcher holds the response). */
MUST_CHECK int brk_replica_follower_append_borrowed(struct brk_part *part, uint8_t *batches, size_t len,
                                                    brk_replica_append_cb cb, void *arg);
/* brk_replica_follower_hw - the leader's HW from a fetch response. */
void brk_replica_follower_hw(struct brk_part *part, int64_t leader_hw);
/* brk_replica_follower_lag - how far this follower is behind as it knows
 * it: the leader's HW from its last fetch response minus its log end, at
 * least 0; -1 before the first response; 0 when not a follower
 * (DescribeLogDirs' OffsetLag, the follower throttle's "caught up"). */
int64_t brk_replica_follower_lag(const struct brk_part *part);
/* brk_replica_follower_truncate - the leader says our log diverges:
 * (leader_epoch, leader_end_offset) is its answer for our last fetched
 * epoch.  Truncates the log and the cache (brk_epoch_cache_truncation);
 * *done false means fetch again first (KIP-279).  Requires no append in
 * flight. */
MUST_CHECK int brk_replica_follower_truncate(struct brk_part *part, int32_t leader_epoch, int64_t leader_end_offset,
                                             bool *done);
/* brk_replica_follower_reset - our fetch offset is outside the leader's log
 * (OFFSET_OUT_OF_RANGE below its start): empty the log and start it at
 * leader_log_start (Kafka's truncateFullyAndStartAt). */
MUST_CHECK int brk_replica_follower_reset(struct brk_part *part, int64_t leader_log_start);

#endif
