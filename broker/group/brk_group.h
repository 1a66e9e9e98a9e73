/*
 * brk_group.h - the classic consumer-group coordinator (Kafka's
 * GroupCoordinator, not KIP-848): membership, rebalances, committed offsets.
 *
 * State machine of one group:
 *
 *              join (first member)            all members rejoined / deadline
 *   Empty ──────────────────────► Preparing ──────────────────────────► Completing
 *     ▲  ◄── deadline, no members ─ Rebalance ◄──── join/leave/expiry ──  Rebalance
 *     │                               ▲   ▲                                  │ leader's
 *     │                               │   └─── join (new member / changed    │ SyncGroup
 *     │                               │        protocols) / leave / expiry   │ stored
 *     │                               └──────────────────────────────────  Stable ◄┘
 *     │
 *     └─ DeleteGroups (Empty only) ──► Dead (a later join starts it afresh)
 *
 * I/O-free: time comes in as now_ms arguments (wall clock ms, Kafka's
 * timestamps), results leave through the ops callbacks given at create,
 * and __consumer_offsets writes go through ops->store (the broker appends
 * a batch to the group's partition; tests fake it).  A JoinGroup or
 * SyncGroup that must wait is "parked": its opaque waiter is kept on the
 * member and answered later (join_done / sync_done), possibly before the
 * call returns.  Answers borrow group memory valid only during the callback.
 *
 * Errors are Kafka's group error codes (enum brk_group_err): the
 * coordinator's outcomes are protocol-defined (UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, ...) and map 1:1, so a second internal code space
 * would only add a translation table.
 *
 * Invariants: a member has at most one parked join and one parked sync;
 * parked syncs exist only in CompletingRebalance; parked joins only in
 * PreparingRebalance; group structs live until brk_groups_destroy (Dead
 * ones are reused), so store completions never see freed groups.
 *
 * Offset expiry (offsets.retention.minutes, Kafka 2.1+ rules), checked by
 * brk_groups_tick every retention_check_interval_ms: an Empty group's
 * offsets expire retention after it became Empty (or after their commit
 * when that time is unknown); a standalone group's (commits without
 * membership) each retention after its commit; an explicit expire
 * timestamp (offset value v1) wins.  Expired offsets get tombstones through
 * ops->store, and an Empty group left without offsets becomes Dead with a
 * tombstone of its own.  Offsets of topics a Stable group no longer
 * subscribes to do not expire (Kafka's subscribed-topics rule is not here).
 *
 * Static membership (KIP-345, Kafka's GroupCoordinator rules): a member
 * with a group.instance.id joins without the KIP-394 member id round trip;
 * a later JoinGroup with that instance id and no member id replaces the old
 * member id (the old one's parked join/sync get FENCED_INSTANCE_ID, and so
 * does every later Heartbeat, SyncGroup, OffsetCommit and LeaveGroup that
 * names the instance id with the old member id).  In Stable, when the
 * protocol the group would select is unchanged, there is no rebalance: the
 * group metadata (with the new member id) is stored and the join is answered
 * with the current generation and the *previous* leader id, so a rejoining
 * leader does not assign (before JoinGroup v9; from v9 the leader is told
 * it leads, gets the members and skip_assignment, KIP-814); a change of the selected
 * protocol, or any replacement in CompletingRebalance, rebalances.  A static
 * member that did not rejoin a rebalance stays in the group (its session
 * timeout removes it); dynamic ones are dropped.  LeaveGroup may name a
 * member by instance id alone.
 *
 * Not here: transactional offsets, KIP-848, ACLs.
 */
#ifndef SAMSA_BRK_GROUP_H
#define SAMSA_BRK_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/group/brk_offsets_topic.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"

#define BRK_GROUPS_MAX 100000
#define BRK_GROUP_MEMBERS_MAX 10000
#define BRK_GROUP_OFFSETS_MAX (1 << 20)
#define BRK_GROUP_PROTOCOLS_MAX 64
#define BRK_GROUP_SESSION_TIMEOUT_MS_MIN 6000    /* group.min.session.timeout.ms */
#define BRK_GROUP_SESSION_TIMEOUT_MS_MAX 1800000 /* group.max.session.timeout.ms */
#define BRK_GROUP_METADATA_BYTES_MAX 4096        /* offset.metadata.max.bytes */

enum brk_group_err {
    BRK_GROUP_OK = 0,
    BRK_GROUP_UNKNOWN = -1,                  /* UNKNOWN_SERVER_ERROR */
    BRK_GROUP_OFFSET_METADATA_TOO_LARGE = 12,
    BRK_GROUP_COORDINATOR_LOAD_IN_PROGRESS = 14,
    BRK_GROUP_COORDINATOR_NOT_AVAILABLE = 15,
    BRK_GROUP_NOT_COORDINATOR = 16,
    BRK_GROUP_ILLEGAL_GENERATION = 22,
    BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL = 23,
    BRK_GROUP_INVALID_GROUP_ID = 24,
    BRK_GROUP_UNKNOWN_MEMBER_ID = 25,
    BRK_GROUP_INVALID_SESSION_TIMEOUT = 26,
    BRK_GROUP_REBALANCE_IN_PROGRESS = 27,
    BRK_GROUP_NON_EMPTY_GROUP = 68,
    BRK_GROUP_GROUP_ID_NOT_FOUND = 69,
    BRK_GROUP_GROUP_MAX_SIZE_REACHED = 81,
    BRK_GROUP_MEMBER_ID_REQUIRED = 79,
    BRK_GROUP_FENCED_INSTANCE_ID = 82,
    BRK_GROUP_GROUP_SUBSCRIBED_TO_TOPIC = 86,
};

enum brk_group_state {
    BRK_GROUP_EMPTY,
    BRK_GROUP_PREPARING_REBALANCE,
    BRK_GROUP_COMPLETING_REBALANCE,
    BRK_GROUP_STABLE,
    BRK_GROUP_DEAD,
};

/* brk_group_state_name - Kafka's names: "Empty", "PreparingRebalance", ... */
const char *brk_group_state_name(enum brk_group_state s);

struct brk_group_join_member {
    struct bytes member_id;
    struct bytes group_instance_id;
    struct bytes metadata;
};

struct brk_group_join_result {
    int16_t error_code;
    int32_t generation_id;
    struct bytes protocol_type; /* NULL ptr when none (errors) */
    struct bytes protocol_name; /* NULL ptr when none */
    struct bytes leader;
    bool skip_assignment;       /* KIP-814 (v9+): the leader must not assign */
    struct bytes member_id;
    int32_t member_count;       /* the leader gets every member, others none */
    const struct brk_group_join_member *members;
};

struct brk_group_sync_result {
    int16_t error_code;
    struct bytes protocol_type; /* the group's; NULL ptr on errors */
    struct bytes protocol_name;
    struct bytes assignment;
};

typedef void (*brk_groups_store_done_cb)(void *arg, int rc);

struct brk_groups_ops {
    void *ctx;
    /* answer a parked JoinGroup; r borrows group memory */
    void (*join_done)(void *ctx, void *waiter, const struct brk_group_join_result *r);
    /* answer a parked SyncGroup; r borrows group memory */
    void (*sync_done)(void *ctx, void *waiter, const struct brk_group_sync_result *r);
    /* append recs to group_id's __consumer_offsets partition; call
     * done(arg, rc) once durable (never before returning 0).  A non-zero
     * return means nothing was queued and done will not run. */
    int (*store)(void *ctx, struct bytes group_id, const struct brk_offsets_topic_record *recs, int32_t n,
                 void *arg, brk_groups_store_done_cb done);
};

struct brk_groups_config {
    int64_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int64_t offsets_retention_ms;       /* offsets.retention.minutes; <= 0: offsets never expire */
    int64_t retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    uint64_t seed;                      /* member id randomness */
};

struct brk_groups;

MUST_CHECK int brk_groups_create(const struct brk_groups_config *cfg, const struct brk_groups_ops *ops,
                                 struct brk_groups **out);
/* brk_groups_destroy - frees everything; parked requests are not answered
 * (their connections are going away too). */
void brk_groups_destroy(struct brk_groups *gs);

struct brk_group_protocol_in {
    struct bytes name;
    struct bytes metadata;
};

struct brk_group_join_req {
    struct bytes group_id;
    struct bytes member_id;         /* "" for a new member */
    struct bytes group_instance_id; /* nullable: NULL ptr for a dynamic member */
    struct bytes client_id;
    struct bytes client_host;
    struct bytes protocol_type;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;   /* -1 (v0): the session timeout */
    bool require_known_member_id;   /* JoinGroup v4+ */
    bool support_skip_assignment;   /* JoinGroup v9+ (KIP-814) */
    int32_t protocol_count;
    const struct brk_group_protocol_in *protocols;
};

/* brk_groups_join - JoinGroup.  Always answers through ops->join_done with
 * waiter, now or when the rebalance completes. */
void brk_groups_join(struct brk_groups *gs, const struct brk_group_join_req *jr, int64_t now_ms, void *waiter);

struct brk_group_assignment_in {
    struct bytes member_id;
    struct bytes assignment;
};

struct brk_group_sync_req {
    struct bytes group_id;
    struct bytes member_id;
    struct bytes group_instance_id; /* nullable (SyncGroup v3+) */
    struct bytes protocol_type;     /* nullable (v5+): must match the group's */
    struct bytes protocol_name;     /* nullable (v5+): must match the group's */
    int32_t generation_id;
    int32_t assignment_count;
    const struct brk_group_assignment_in *assignments;
};

/* brk_groups_sync - SyncGroup.  Always answers through ops->sync_done. */
void brk_groups_sync(struct brk_groups *gs, const struct brk_group_sync_req *sr, int64_t now_ms, void *waiter);

/* brk_groups_heartbeat - Heartbeat; the error code to answer.  instance_id
 * is nullable (NULL ptr before v3): when given it must map to member_id
 * (else FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID for an unknown instance). */
int16_t brk_groups_heartbeat(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                             struct bytes instance_id, int32_t generation_id, int64_t now_ms);

/* brk_groups_leave - LeaveGroup for one member (v3+: one of the batch); the
 * member's error code.  An empty member_id with an instance_id removes the
 * static member of that instance (administrative removal, KIP-345).
 * *group_found tells v3 callers whether the group existed. */
int16_t brk_groups_leave(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                         struct bytes instance_id, int64_t now_ms, bool *group_found);

/* brk_groups_tick - expire sessions, pending members and rebalance deadlines. */
void brk_groups_tick(struct brk_groups *gs, int64_t now_ms);

/* brk_groups_commit_check - may this OffsetCommit go ahead?  Creates an
 * Empty group for a group-less commit (generation < 0) like Kafka. */
int16_t brk_groups_commit_check(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                                struct bytes instance_id, int32_t generation_id, int64_t now_ms);

struct brk_group_offset {
    struct bytes topic;         /* owned by the group */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    struct bytes metadata;      /* owned by the group */
    int64_t commit_timestamp_ms;
    int64_t expire_timestamp_ms;
};

/* brk_groups_offset_put - a commit is durable: cache it (creates the group
 * if needed).  ERR_LIMIT past BRK_GROUPS_MAX / BRK_GROUP_OFFSETS_MAX, -ENOMEM. */
MUST_CHECK int brk_groups_offset_put(struct brk_groups *gs, struct bytes group_id,
                                     const struct brk_group_offset *o);
/* brk_groups_offset_find - the committed offset, or NULL. */
const struct brk_group_offset *brk_groups_offset_find(const struct brk_groups *gs, struct bytes group_id,
                                                       struct bytes topic, int32_t partition);
/* brk_groups_offsets - every committed offset of a group (NULL/0 if none);
 * valid until the next call that changes the group. */
const struct brk_group_offset *brk_groups_offsets(const struct brk_groups *gs, struct bytes group_id,
                                                  int32_t *count);

struct brk_group_member_desc {
    struct bytes member_id, group_instance_id, client_id, client_host, metadata, assignment;
};

struct brk_group_desc {
    bool found;
    enum brk_group_state state;
    struct bytes protocol_type;
    struct bytes protocol;       /* "" unless Stable */
    int32_t member_count;
    struct brk_group_member_desc *members;
};

/* brk_groups_describe - copy a group's summary into a (Kafka: metadata and
 * assignments only when Stable).  Unknown groups come back Dead, !found. */
MUST_CHECK int brk_groups_describe(const struct brk_groups *gs, struct bytes group_id, struct arena *a,
                                   struct brk_group_desc *out);

struct brk_group_listing {
    struct bytes group_id;
    struct bytes protocol_type;
    enum brk_group_state state;
};

/* brk_groups_list - every live (not Dead) group, copied into a. */
MUST_CHECK int brk_groups_list(const struct brk_groups *gs, struct arena *a, struct brk_group_listing **out,
                               int32_t *count);

/* brk_groups_delete - DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or
 * OK after marking the group Dead and copying the offsets it had into a
 * (the caller writes their tombstones and the group's). */
int16_t brk_groups_delete(struct brk_groups *gs, struct bytes group_id, struct arena *a,
                          struct brk_group_offset **offsets, int32_t *count);

struct brk_group_tp {
    struct bytes topic;
    int32_t partition;
    int16_t error_code; /* out */
};

/*
 * brk_groups_offset_delete - OffsetDelete (KIP-496), Kafka's rules: the
 * group-level error is GROUP_ID_NOT_FOUND (unknown or Dead), NON_EMPTY_GROUP
 * (a group with members whose protocol type is not "consumer"), or OK.  Then
 * each tps[i].error_code is GROUP_SUBSCRIBED_TO_TOPIC for a topic a member
 * of a non-Empty consumer group subscribes to (a subscription that does not
 * parse counts as subscribed to everything), else OK; the error codes the
 * caller already set (non-zero) are kept and those tps skipped.  The OK ones
 * get tombstones in one ops->store(arg, done) and leave the cache; an Empty
 * group left without offsets gets its group tombstone and becomes Dead (as
 * with expiry).  *stored: done will run (the answer waits for it).  A store
 * that fails to queue sets the OK tps to COORDINATOR_NOT_AVAILABLE (the
 * cache is unchanged).
 */
int16_t brk_groups_offset_delete(struct brk_groups *gs, struct bytes group_id, struct brk_group_tp *tps, int32_t n,
                                 void *arg, brk_groups_store_done_cb done, bool *stored);

/* brk_groups_load_record - replay one __consumer_offsets record (start-up).
 * Unknown key versions are skipped; malformed values are ERR_DECODE. */
MUST_CHECK int brk_groups_load_record(struct brk_groups *gs, const struct brk_offsets_topic_record *rec,
                                      int64_t now_ms);

/* brk_groups_unload - this node no longer coordinates __consumer_offsets
 * partition `partition` (of partition_count): every group placed there is
 * forgotten (Dead: no members, offsets or generation; a reload starts from
 * the log).  Parked joins and syncs are answered NOT_COORDINATOR, so their
 * members look the coordinator up again.  Returns the live groups dropped. */
int32_t brk_groups_unload(struct brk_groups *gs, int32_t partition, int32_t partition_count);

/* brk_groups_state - a group's state (DEAD if unknown); for tests and logs. */
enum brk_group_state brk_groups_state(const struct brk_groups *gs, struct bytes group_id);
int32_t brk_groups_generation(const struct brk_groups *gs, struct bytes group_id);

#endif
