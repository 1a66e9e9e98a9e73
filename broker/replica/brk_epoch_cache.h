/*
 * brk_epoch_cache.h - a partition's leader-epoch cache (Kafka's
 * LeaderEpochFileCache and its `leader-epoch-checkpoint` file; KIP-101,
 * KIP-279, KIP-320), pure: no file, no clock.
 *
 * The cache maps each leader epoch that wrote to the log to the offset of
 * its first batch: (epoch, start_offset) entries, strictly increasing in
 * both.  A leader adds (its epoch, its log end) when elected; a follower
 * adds (batch epoch, batch base offset) whenever it appends a batch of a
 * new epoch.  From it the leader answers "where does epoch E end in your
 * log?" (OffsetForLeaderEpoch, a fetch's diverging epoch) and a follower
 * decides where its log diverges from the leader's and truncates there.
 *
 * Invariants (asserted after every change): entries strictly increasing in
 * epoch and in start offset; epochs and offsets >= 0; count <= cap.
 *
 * Checkpoint text (Kafka's LeaderEpochCheckpointFile, version 0):
 *
 *     0\n            version
 *     2\n            entry count
 *     0 0\n          epoch SP start offset
 *     3 1200\n
 *
 * Encode/decode are pure; the caller writes the bytes atomically (as
 * brk_ckpt_write does) after each change that reports changed = true, and
 * reads them at partition open.  Decoding is strict like brk_ckpt.
 *
 * Not here: the file I/O, the log itself, deciding when to truncate.
 */
#ifndef SAMSA_BRK_EPOCH_CACHE_H
#define SAMSA_BRK_EPOCH_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define BRK_EPOCH_CACHE_ENTRIES_MAX 65536 /* leader changes kept per partition */
#define BRK_EPOCH_CACHE_FILE "leader-epoch-checkpoint"
#define BRK_EPOCH_UNDEFINED (-1)          /* Kafka's UNDEFINED_EPOCH */
#define BRK_EPOCH_OFFSET_UNDEFINED (-1)   /* Kafka's UNDEFINED_EPOCH_OFFSET */

struct brk_epoch_entry {
    int32_t epoch;
    int64_t start_offset;
};

struct brk_epoch_cache {
    struct brk_epoch_entry *entries; /* ascending; owned */
    int32_t count;
    int32_t cap;
};

void brk_epoch_cache_init(struct brk_epoch_cache *c);
void brk_epoch_cache_deinit(struct brk_epoch_cache *c);

/*
 * brk_epoch_cache_assign - Kafka's assign(epoch, startOffset): record that
 * epoch starts at start_offset.  No change if epoch is already the latest
 * and start_offset is not below its start.  Otherwise every entry whose
 * epoch >= epoch or whose start >= start_offset is removed first (a
 * non-monotonic history is cut), then the entry is added.  *changed
 * (nullable) says whether the checkpoint must be rewritten.  ERR_INVALID
 * for a negative epoch or offset, ERR_LIMIT past BRK_EPOCH_CACHE_ENTRIES_MAX,
 * -ENOMEM.  Allocates only when the array grows (a leader change).
 */
MUST_CHECK int brk_epoch_cache_assign(struct brk_epoch_cache *c, int32_t epoch, int64_t start_offset,
                                      bool *changed);

/* brk_epoch_cache_latest_epoch - the latest epoch, BRK_EPOCH_UNDEFINED if empty
 * (the fetch's last fetched epoch). */
int32_t brk_epoch_cache_latest_epoch(const struct brk_epoch_cache *c);

/* brk_epoch_cache_epoch_for_offset - the epoch of the batch holding offset:
 * the last entry starting at or below it; BRK_EPOCH_UNDEFINED if before the first. */
int32_t brk_epoch_cache_epoch_for_offset(const struct brk_epoch_cache *c, int64_t offset);

/*
 * brk_epoch_cache_end_offset_for - exactly LeaderEpochFileCache.endOffsetFor:
 *  - requested UNDEFINED, or larger than every epoch: (UNDEFINED, UNDEFINED);
 *  - requested == latest epoch: (requested, log_end_offset);
 *  - smaller than every epoch: (requested, start of the first epoch);
 *  - else: (the largest epoch <= requested, start of the next epoch).
 */
void brk_epoch_cache_end_offset_for(const struct brk_epoch_cache *c, int32_t requested_epoch,
                                    int64_t log_end_offset, int32_t *epoch_out, int64_t *end_offset_out);

/* brk_epoch_cache_truncate_from_end - the log was cut to end_offset: drop
 * every entry starting at or after it (no-op for end_offset < 0).  *changed nullable. */
void brk_epoch_cache_truncate_from_end(struct brk_epoch_cache *c, int64_t end_offset, bool *changed);

/* brk_epoch_cache_truncate_from_start - the log now starts at start_offset
 * (retention, DeleteRecords): entries starting at or before it collapse into
 * one (the latest of them) that starts at start_offset.  *changed nullable. */
void brk_epoch_cache_truncate_from_start(struct brk_epoch_cache *c, int64_t start_offset, bool *changed);

/*
 * brk_epoch_cache_diverging - the LEADER's check of a follower fetch
 * (Kafka's Partition.fetchRecords with lastFetchedEpoch, KIP-320/595): the
 * fetcher claims its log ends at fetch_offset with a batch of
 * last_fetched_epoch.  Returns true with the diverging (epoch, end offset)
 * to put in the response when the leader's log does not contain that
 * prefix (endOffsetFor(last_fetched_epoch) gives an older epoch or ends
 * before fetch_offset).  last_fetched_epoch < 0 means "not sent": false.
 */
bool brk_epoch_cache_diverging(const struct brk_epoch_cache *c, int64_t log_end_offset, int64_t fetch_offset,
                               int32_t last_fetched_epoch, int32_t *epoch_out, int64_t *end_offset_out);

struct brk_epoch_truncation {
    int64_t offset;   /* truncate the log to end here (keep [0, offset)) */
    bool done;        /* false: truncate, then fetch again with the new latest epoch (KIP-279) */
    bool below_hw;    /* offset < the local high watermark: only after an unclean election */
};

/*
 * brk_epoch_cache_truncation - the FOLLOWER's decision given the leader's
 * answer (leader_epoch, leader_end_offset) for our last fetched epoch
 * (a fetch's DivergingEpoch or OffsetForLeaderEpoch): Kafka's
 * AbstractFetcherThread.getOffsetTruncationState.
 *  - leader end UNDEFINED: keep up to the local high watermark;
 *  - leader epoch UNDEFINED: min(leader end, our end);
 *  - we know no end for leader_epoch: min(leader end, our end);
 *  - our largest epoch <= leader_epoch differs from it: truncate to its end
 *    and ask again (done = false; KIP-279's rounds);
 *  - else min(our end for it, leader end, our log end), done.
 * The cache itself is not changed: truncate the log, then call
 * brk_epoch_cache_truncate_from_end(offset).  below_hw is reported, not
 * prevented: Kafka truncates and warns, and the caller logs it (it can only
 * happen after an unclean election; with clean elections the leader holds
 * everything committed, so the divergence is never below it).
 */
void brk_epoch_cache_truncation(const struct brk_epoch_cache *c, int64_t log_end_offset, int64_t high_watermark,
                                int32_t leader_epoch, int64_t leader_end_offset, struct brk_epoch_truncation *out);

/* brk_epoch_cache_encode - append the checkpoint text to out (ERR_LIMIT/-ENOMEM from buf). */
MUST_CHECK int brk_epoch_cache_encode(const struct brk_epoch_cache *c, struct buf *out);

/* brk_epoch_cache_decode - replace c's entries with the checkpoint text in
 * in.  ERR_CORRUPT on any deviation (version, count, spacing, non-increasing
 * entries, trailing bytes), ERR_LIMIT past BRK_EPOCH_CACHE_ENTRIES_MAX,
 * -ENOMEM; c is unchanged on failure.  *line_out (nullable) names the bad line. */
MUST_CHECK int brk_epoch_cache_decode(struct brk_epoch_cache *c, struct bytes in, int *line_out);

#endif
