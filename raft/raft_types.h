/*
 * raft_types.h - the types raft.h and raft_log.h share: the hard state and the
 * read-only storage vtable the driver hands the core.  Split out of raft.h so
 * raft_log.h need not include raft.h (which includes raft_log's users): the
 * include graph inside raft/ stays acyclic (make check-deps).  Types only; the
 * entry and snapshot-id structs the vtable points at are in raft_msg.h.
 */
#ifndef SAMSA_RAFT_TYPES_H
#define SAMSA_RAFT_TYPES_H

#include <stdbool.h>
#include <stdint.h>

struct raft_entry;
struct raft_snapshot_id;

/* What must be durable before any message of the same ready is sent. */
struct raft_hard_state {
    uint64_t epoch;
    uint32_t voted_for;  /* RAFT_ID_NONE = none */
    bool catching_up;    /* restarted on a lost disk, not yet caught up: may not vote */
};

/*
 * The stable log, read-only for the core.  The driver owns it and changes it
 * only while processing a ready (truncate, append, install snapshot) or after
 * raft_snapshot_taken (cut the prefix).  Entry data returned is borrowed and
 * must stay valid until the next raft_advance.
 */
struct raft_storage {
    void *ctx;
    /* last_index - the last stored index (the snapshot index if no entries). */
    uint64_t (*last_index)(void *ctx);
    /* entries - copy up to count_max entries with index in [lo, hi] into out;
     * returns 0 and *count, or ERR_NOT_FOUND if lo is not stored. */
    int (*entries)(void *ctx, uint64_t lo, uint64_t hi, struct raft_entry *out,
                   uint32_t count_max, uint32_t *count);
    /* snapshot - the latest snapshot id ({0,0} if none); entries start after it. */
    void (*snapshot)(void *ctx, struct raft_snapshot_id *out);
    /* hard_state - the persisted hard state ({0, RAFT_ID_NONE, false} on a fresh disk). */
    void (*hard_state)(void *ctx, struct raft_hard_state *out);
};

#endif
