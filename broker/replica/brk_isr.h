/*
 * brk_isr.h - the leader's replication state of one partition, pure: each
 * replica's fetch progress, the ISR, the high watermark, acks=all and
 * min.insync.replicas decisions, and the AlterPartition proposals that
 * shrink or expand the ISR (Kafka's Partition.scala / Replica.scala in
 * KRaft mode: KIP-497, KIP-841, KIP-903; KIP-966's strict min ISR as an
 * option).
 *
 * One struct brk_isr lives while this broker leads the partition in one
 * leader epoch; a new leader epoch is a new brk_isr (brk_isr_apply says
 * when).  Time comes in as now_ns (monotonic), the leader's log end as
 * leader_leo.
 *
 * Durable high watermark (samsa.acks.all.fsync, cfg.acks_fsync;
 * broker/replica/README.md): each follower's durable offset (what its
 * fetches report as fdatasync'd, counted only up to the log end that fetch
 * showed), the leader's own (brk_isr_leader_durable); the durable HW is the
 * minimum of those over the replicas the HW counts (the maximal ISR and the
 * leader, and a caught-up eligible replica about to join), never above the
 * HW, and only moves forward.  With acks_fsync, acks=all waits for it and
 * an expansion also needs the joiner's durable offset at the durable HW and
 * at this epoch's start offset (what earlier leaders acknowledged).
 *
 * ISR state (one AlterPartition in flight at most):
 *
 *               alter_next: a replica out of sync for lag_time_max,
 *               or one caught up to the HW (this epoch) and eligible
 *   COMMITTED ───────────────────────────────────────────────► PENDING
 *   isr       ◄─────────────────────────────────────────────── isr, proposed
 *      ▲      alter_done(NOT_APPLIED), or apply of any newer     │
 *      │      partition epoch (the committed result or someone   │ alter_done(STALE):
 *      │      else's change: the request is settled or stale)    │ a copy may have been
 *      │                                                         ▼ applied; wait
 *      └──────────── apply of any newer partition epoch ───── SETTLING
 *                                                              (still the maximal ISR,
 *                                                               no new proposal)
 *
 * While PENDING the high watermark and acks use the *maximal* ISR (the
 * committed ISR plus the proposed one, KIP-497): a shrink is not yet safe
 * to rely on, and an expanded replica must not fall behind the HW.
 *
 * High watermark: the minimum log end over the maximal ISR (the leader
 * included), also held back by a non-ISR replica that is caught up and
 * eligible (it is about to join); it only moves forward, never before
 * every maximal-ISR member has fetched in this leader epoch, and with
 * strict_min_isr not while the ISR is below min.insync.replicas.
 *
 * Invariants (asserted): the leader is in the committed ISR; the HW never
 * decreases; whenever the HW moves, it is <= the leader's log end and <=
 * the log end this leader has seen from every maximal-ISR member; a
 * proposal never drops the leader nor adds a fenced, shutting-down or
 * stale-epoch replica, and only adds replicas caught up to the HW whose
 * log end reaches this leader epoch's start.  Fetch offsets and metadata
 * are validated, never asserted (they come from the network and the
 * metadata log).
 *
 * Not here: the log, fetch responses, the epoch cache (brk_epoch_cache),
 * timers, the controller's validation of a proposal (it re-checks all of
 * it against the image: leader epoch, partition epoch, broker epochs).
 */
#ifndef SAMSA_BRK_ISR_H
#define SAMSA_BRK_ISR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define BRK_ISR_REPLICAS_MAX 16 /* = CTRL_REPLICAS_MAX */
#define BRK_ISR_OFFSET_UNKNOWN (-1)

/* The committed partition state, as the metadata image holds it. */
struct brk_isr_partition {
    int32_t leader;          /* -1: none */
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t replica_count;
    int32_t replicas[BRK_ISR_REPLICAS_MAX];
    int32_t isr_count;
    int32_t isr[BRK_ISR_REPLICAS_MAX];
};

/* What the metadata image says about one replica's broker. */
struct brk_isr_broker {
    int64_t broker_epoch;    /* registered epoch; -1 unknown */
    bool fenced;
    bool shutting_down;      /* in controlled shutdown */
};

struct brk_isr_config {
    int32_t local_id;             /* this broker: the leader */
    int64_t lag_time_max_ns;      /* replica.lag.time.max.ms */
    int32_t min_insync_replicas;  /* effective: topic, else broker */
    bool strict_min_isr;          /* KIP-966: the HW stops while |ISR| < min ISR */
    /* test-only: re-inject a known bug for the simulator's teeth check */
    bool bug_hw_from_fetchers;    /* HW over replicas that fetched lately, not the ISR */
    bool acks_fsync;              /* samsa.acks.all.fsync: acks=all waits for the durable HW */
    bool bug_durable_from_leo;    /* test-only: a replica's log end counted as durable */
};

/* One AlterPartition request (KIP-497 / KIP-903 shape): the ISR with each
 * member's broker epoch as this leader saw it in the member's fetches. */
struct brk_isr_alter {
    int32_t leader;
    int32_t leader_epoch;
    int32_t partition_epoch;      /* compare-and-set at the controller */
    int32_t isr_count;
    int32_t isr[BRK_ISR_REPLICAS_MAX];
    int64_t isr_broker_epochs[BRK_ISR_REPLICAS_MAX]; /* -1 for the leader itself */
};

/* Answers at the protocol edge, Kafka's codes (as brk_group does: the
 * outcomes are protocol-defined and map 1:1). */
enum brk_isr_err {
    BRK_ISR_OK = 0,
    BRK_ISR_NOT_LEADER_OR_FOLLOWER = 6,
    BRK_ISR_NOT_ENOUGH_REPLICAS = 19,
    BRK_ISR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
};

struct brk_isr_replica {
    int32_t id;
    int64_t log_end_offset;        /* last fetch offset; BRK_ISR_OFFSET_UNKNOWN until it fetches */
    int64_t last_fetch_ns;
    int64_t last_fetch_leader_leo; /* the leader's end at that fetch */
    int64_t last_caught_up_ns;
    int64_t fetch_broker_epoch;    /* broker epoch its fetches carry (KIP-903); -1 none */
    int64_t durable_offset;        /* its last reported durable offset; BRK_ISR_OFFSET_UNKNOWN none */
    struct brk_isr_broker broker;  /* the image's view */
};

struct brk_isr {
    struct brk_isr_config cfg;
    struct brk_isr_partition part;  /* committed */
    int64_t high_watermark;
    int64_t durable_high_watermark; /* acks_fsync: <= high_watermark, only forward */
    int64_t leader_durable_offset;  /* the leader's own log, fdatasync'd */
    int64_t epoch_start_offset;     /* leader log end when this epoch began */
    bool pending;
    bool settling;                  /* pending, refused as stale: only metadata settles it */
    struct brk_isr_alter alter;     /* valid while pending */
    int32_t replica_count;
    struct brk_isr_replica replicas[BRK_ISR_REPLICAS_MAX]; /* followers only */
};

/*
 * brk_isr_init - this broker became leader of part (part->leader ==
 * cfg->local_id, in part's ISR).  leader_leo is the log end now (= this
 * epoch's start offset, which the caller also assigns in the epoch cache),
 * high_watermark the one it had as a follower.  ISR followers count as
 * caught up now (Kafka's resetReplicaState); others never were.  ERR_INVALID
 * if part is not led by us, lacks us in the ISR, or has bad counts, or if
 * high_watermark > leader_leo (clamp a checkpointed HW to the log end first,
 * as Kafka's log recovery does).
 */
MUST_CHECK int brk_isr_init(struct brk_isr *isr, const struct brk_isr_config *cfg,
                            const struct brk_isr_partition *part, int64_t leader_leo, int64_t high_watermark,
                            int64_t now_ns);

/* brk_isr_broker_set - the image's view of broker id changed (registration,
 * fence, controlled shutdown).  Unknown ids are ignored. */
void brk_isr_broker_set(struct brk_isr *isr, int32_t id, const struct brk_isr_broker *b);

/*
 * brk_isr_fetch - follower replica_id fetched at fetch_offset (its log end)
 * with broker_epoch (-1: an old fetch version without it), after the
 * diverging-epoch check passed.  Updates its progress and last caught-up
 * time (caught up: it reached the leader's end now, or the leader's end at
 * its previous fetch), then the HW.  *hw_changed (nullable) says whether
 * parked acks/fetches should be woken.  ERR_NOT_FOUND: not a replica;
 * ERR_STALE: broker_epoch older than the image's (a previous incarnation,
 * answer NOT_LEADER_OR_FOLLOWER); ERR_OFFSET_RANGE: beyond leader_leo.
 */
MUST_CHECK int brk_isr_fetch(struct brk_isr *isr, int32_t replica_id, int64_t broker_epoch, int64_t fetch_offset,
                             int64_t leader_leo, int64_t now_ns, bool *hw_changed);

/* brk_isr_leader_advance - the leader's own log end moved (an append
 * completed; or, in the fsync-ack mode, a sync did).  Returns true if the
 * HW moved (an ISR of one). */
bool brk_isr_leader_advance(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns);

/*
 * brk_isr_alter_next - is an ISR change due?  Not while one is pending.
 * Shrinks followers not caught up within lag_time_max (never the leader),
 * expands eligible followers (not fenced, not shutting down, fetch broker
 * epoch == image's) whose log end reached the HW and this epoch's start.
 * On true, *out is the request to send and the state is PENDING (the HW
 * now uses the maximal ISR).  Re-send *out until alter_done or an apply
 * (a re-sent copy may be applied after another copy was refused: hence
 * the two kinds of refusal below).
 */
bool brk_isr_alter_next(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns, struct brk_isr_alter *out);

enum brk_isr_refusal {
    /* INELIGIBLE_REPLICA, INVALID_REQUEST, OPERATION_NOT_ATTEMPTED: the
     * controller applied nothing at this partition epoch; back to COMMITTED
     * and the next alter_next recomputes */
    BRK_ISR_REFUSED_NOT_APPLIED,
    /* INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH, STALE_BROKER_EPOCH: the
     * state moved on - possibly by another copy of this very request - so the
     * maximal ISR stays until the metadata shows a newer partition epoch
     * (Kafka's rule; resetting here could let the HW pass a replica the
     * controller did add) */
    BRK_ISR_REFUSED_STALE,
};

/* brk_isr_alter_done - the controller refused the pending request (see
 * enum brk_isr_refusal).  A success is applied through brk_isr_apply with
 * the committed state it returns instead.  No-op when nothing is pending.
 * The caller's contract: pass only the refusal of the LATEST copy sent, and
 * send a copy only once every earlier copy has reached the controller or
 * is lost (a new connection after the old one failed).  Otherwise an
 * INELIGIBLE_REPLICA for an old copy resets the ISR while a newer copy can
 * still be applied (the replication model found this with re-sends faster
 * than the network delay: the controller's ISR then held a replica the HW
 * no longer waited for). */
void brk_isr_alter_done(struct brk_isr *isr, enum brk_isr_refusal why);

enum brk_isr_apply_result {
    BRK_ISR_APPLIED,      /* same leader epoch: ISR/replicas updated (or stale: ignored) */
    BRK_ISR_NOT_LEADER,   /* a new leader epoch or another leader: discard this brk_isr */
};

/*
 * brk_isr_apply - a committed partition state from the metadata log (or an
 * AlterPartition response carrying it).  Older or equal partition epochs
 * are ignored.  A newer one with our leader epoch replaces the ISR and the
 * replica set and settles any pending change, then the HW may move (a
 * committed shrink).  A state naming us leader without us in its ISR, or
 * with bad counts, is a controller bug: logged, answered NOT_LEADER.
 */
enum brk_isr_apply_result brk_isr_apply(struct brk_isr *isr, const struct brk_isr_partition *part,
                                        int64_t leader_leo, int64_t now_ns);

/* brk_isr_produce_check - before appending with acks (-1 = all):
 * NOT_ENOUGH_REPLICAS when acks=all and the committed ISR is below min ISR. */
enum brk_isr_err brk_isr_produce_check(const struct brk_isr *isr, int16_t acks);

/*
 * brk_isr_acked - may an acks=all produce whose batch ends before
 * required_offset (last offset + 1) be answered?  False: keep waiting.
 * True with *err OK, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the maximal
 * ISR is now below min ISR (Kafka's checkEnoughReplicasReachOffset).
 * With cfg.acks_fsync the durable HW must pass it too.
 */
bool brk_isr_acked(const struct brk_isr *isr, int64_t required_offset, enum brk_isr_err *err);

/*
 * brk_isr_durable - follower replica_id reported durable_offset (-1: none)
 * in the fetch brk_isr_fetch just accepted; it counts up to that fetch's
 * offset.  brk_isr_leader_durable - the leader's own log is fdatasync'd up
 * to durable_offset.  Both return true when the durable HW moved (wake the
 * parked acks=all produces).  Unknown ids are ignored.
 */
bool brk_isr_durable(struct brk_isr *isr, int32_t replica_id, int64_t durable_offset, int64_t leader_leo,
                     int64_t now_ns);
bool brk_isr_leader_durable(struct brk_isr *isr, int64_t durable_offset, int64_t leader_leo, int64_t now_ns);

/*
 * brk_isr_reconfigure - the topic's min.insync.replicas or
 * samsa.acks.all.fsync changed while this broker leads (a committed
 * ConfigRecord): later produce checks, acks and the HW use the new values
 * in this same leader epoch.  A lower min ISR may let the HW move at once
 * (strict_min_isr); switching acks_fsync on starts the durable HW afresh
 * (only reports from now on count, as at a new epoch).  Returns true when
 * the HW moved.  min_insync_replicas < 1 counts as 1.
 */
bool brk_isr_reconfigure(struct brk_isr *isr, int32_t min_insync_replicas, bool acks_fsync, int64_t leader_leo,
                         int64_t now_ns);

/* Accessors. */
int64_t brk_isr_high_watermark(const struct brk_isr *isr);
int64_t brk_isr_durable_high_watermark(const struct brk_isr *isr);
/* brk_isr_pending - a proposal is in flight or settling (the HW uses the maximal ISR). */
bool brk_isr_pending(const struct brk_isr *isr);
/* brk_isr_awaiting_response - a proposal is in flight and not yet refused:
 * its responses matter, and re-sending it is allowed. */
bool brk_isr_awaiting_response(const struct brk_isr *isr);
/* brk_isr_in_maximal_isr - id is in the committed or the proposed ISR. */
bool brk_isr_in_maximal_isr(const struct brk_isr *isr, int32_t id);
/* brk_isr_replica_find - a follower's progress, or NULL. */
const struct brk_isr_replica *brk_isr_replica_find(const struct brk_isr *isr, int32_t id);

#endif
