/*
 * raft_log.h - the Raft core's view of its log: the driver's stable store
 * (read through the struct raft_storage vtable) plus an in-memory unstable
 * tail of entries not yet handed to the driver, plus a pending truncation.
 *
 *   [snapshot.index] [stable: first .. min(stable last, trunc_limit)] [unstable ...]
 *
 * Invariants: unstable entries are contiguous and follow the (possibly
 * truncated) stable log; unstable payloads live in one preallocated byte
 * buffer that only grows until raft_log_stable() empties it, so pointers to
 * them stay valid until then.  Allocation happens only in raft_log_init.
 * Not here: deciding what to truncate (raft.c), writing anything to disk.
 */
#ifndef SAMSA_RAFT_LOG_H
#define SAMSA_RAFT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "raft/raft_msg.h"
#include "raft/raft_types.h"

struct raft_log {
    struct raft_storage st;
    uint64_t trunc_limit;      /* stable entries above this are gone (UINT64_MAX: none) */
    struct raft_entry *unstable;
    uint32_t unstable_count;
    uint32_t unstable_max;
    uint64_t unstable_first;   /* index of unstable[0] when unstable_count > 0 */
    uint8_t *bytes;
    uint32_t bytes_used;
    uint32_t bytes_max;
};

MUST_CHECK int raft_log_init(struct raft_log *log, const struct raft_storage *st,
                             uint32_t entries_max, uint32_t bytes_max);
void raft_log_deinit(struct raft_log *log);

void raft_log_snapshot_get(const struct raft_log *log, struct raft_snapshot_id *out);
/* raft_log_last_index - last index in the view (snapshot index if empty). */
uint64_t raft_log_last_index(const struct raft_log *log);
/* raft_log_epoch_at - epoch of the entry at index; index 0 -> 0; the snapshot
 * index -> its epoch; ERR_NOT_FOUND if compacted or past the end. */
MUST_CHECK int raft_log_epoch_at(const struct raft_log *log, uint64_t index, uint64_t *epoch);
uint64_t raft_log_last_epoch(const struct raft_log *log);
/* raft_log_entries - up to count_max entries [lo, hi] (data borrowed). */
MUST_CHECK int raft_log_entries(const struct raft_log *log, uint64_t lo, uint64_t hi,
                                struct raft_entry *out, uint32_t count_max, uint32_t *count);
/* raft_log_append - copy one entry onto the unstable tail at last+1.
 * ERR_LIMIT when the tail is full, ERR_TOO_LARGE never (caller checks). */
MUST_CHECK int raft_log_append(struct raft_log *log, uint64_t epoch, uint32_t type,
                               struct bytes data, uint64_t *index_out);
/* raft_log_truncate - drop every entry with index > after. */
void raft_log_truncate(struct raft_log *log, uint64_t after);
/* raft_log_trunc_pending - a stable truncation the driver has not done yet. */
bool raft_log_trunc_pending(const struct raft_log *log, uint64_t *after);
/* raft_log_stable - the driver persisted the whole tail (and the truncation). */
void raft_log_stable(struct raft_log *log);
/* raft_log_reset - drop the tail and truncation (a snapshot replaces the log). */
void raft_log_reset(struct raft_log *log);

#endif
