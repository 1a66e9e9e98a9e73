/*
 * brk_pstate.h - one partition's producer state (KIP-98 idempotence, with
 * KIP-360's rules as Kafka 3.x applies them): per producer id its epoch and
 * the last BRK_PSTATE_BATCHES_MAX batches' sequence ranges and offsets.
 *
 * A pure module: no I/O, no clock (times come in as arguments), no Kafka
 * error codes (ERR_* out; brk_kerr maps them).  The I/O shell is
 * brk_pstore (snapshot files, replay of the log at open); the produce
 * handler checks a batch here before appending it.
 *
 * Two entry points, one per kind of caller:
 *   - brk_pstate_check: the leader, before an append.  Read only.  Answers
 *     APPEND, DUPLICATE (one of the cached batches: answer its original
 *     offsets, append nothing) or an error: ERR_PRODUCER_EPOCH (an epoch
 *     below the producer's: Kafka's INVALID_PRODUCER_EPOCH) or
 *     ERR_OUT_OF_SEQUENCE (a gap, or a new epoch not starting at 0:
 *     OUT_OF_ORDER_SEQUENCE_NUMBER).
 *   - brk_pstate_observe: every batch that IS in the log, in log order: the
 *     leader's appends (right after the offsets are assigned), recovery
 *     replaying the log after a snapshot, a follower's replicated batches.
 *     It never refuses (the log is the truth); the same batches in the same
 *     order give the same state on every replica.
 *
 * Kafka 3.x (KIP-360): an unknown producer id is accepted with any
 * sequence (its state may have expired or been removed with the log's
 * head); UNKNOWN_PRODUCER_ID is no longer answered to Produce.  A higher
 * epoch must start at sequence 0 unless the producer is unknown; it resets
 * the cached batches.  Sequences wrap from INT32_MAX to 0.
 *
 *   per producer:   (unknown) --observe--> epoch E, batches[<=5]
 *                   epoch E --observe(epoch E' > E)--> epoch E', batches = [that one]
 *                   any --expire(idle >= producer.id.expiration.ms)--> (unknown)
 *
 * Transactional fields (coordinator epoch, the first offset of the open
 * transaction) are kept and snapshotted now; nothing sets them yet (the
 * transaction coordinator comes later).
 *
 * Not thread-safe (the state thread owns partitions).  Memory: one entry per
 * producer, at most BRK_PSTATE_PRODUCERS_MAX (ERR_LIMIT past it).
 */
#ifndef SAMSA_BRK_PSTATE_H
#define SAMSA_BRK_PSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/log/brk_batch.h"
#include "common/buf.h"
#include "common/err.h"

#define BRK_PSTATE_BATCHES_MAX 5          /* Kafka's NUM_BATCHES_TO_RETAIN */
#define BRK_PSTATE_PRODUCERS_MAX (1 << 20) /* per partition */
#define BRK_PSTATE_NO_PRODUCER_ID (-1)
#define BRK_PSTATE_SNAPSHOT_VERSION 1

/* What the state needs of one batch (from its header). */
struct brk_pstate_batch {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t first_seq;
    int32_t last_seq;
    int64_t first_offset;
    int64_t last_offset;
    int64_t max_timestamp_ms;
    bool transactional;
    bool control;
};

/* A batch the state remembers. */
struct brk_pstate_meta {
    int32_t first_seq;
    int32_t last_seq;
    int64_t first_offset;
    int64_t last_offset;
    int64_t timestamp_ms;
};

/* One producer's entry.  batches[0..batch_count) oldest first. */
struct brk_pstate_entry {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t coordinator_epoch;        /* transactions (later); -1 */
    int64_t txn_first_offset;         /* the open transaction's first offset; -1 */
    int64_t last_timestamp_ms;        /* the newest batch's max timestamp (expiry) */
    int32_t batch_count;
    struct brk_pstate_meta batches[BRK_PSTATE_BATCHES_MAX];
};

enum brk_pstate_verdict {
    BRK_PSTATE_APPEND = 0,
    BRK_PSTATE_DUPLICATE = 1,
};

struct brk_pstate;

MUST_CHECK int brk_pstate_create(struct brk_pstate **out);
void brk_pstate_destroy(struct brk_pstate *ps);

/* brk_pstate_batch_from_hdr - the batch a (validated) header describes.
 * hdr->base_offset must be the assigned one. */
void brk_pstate_batch_from_hdr(const struct brk_batch_hdr *hdr, struct brk_pstate_batch *out);

/* brk_pstate_seq_add - Kafka's sequence arithmetic: seq + delta, wrapping
 * past INT32_MAX to 0; -1 when either is negative (no sequence). */
int32_t brk_pstate_seq_add(int32_t seq, int32_t delta);

/* brk_pstate_check - may the leader append b (producer_id >= 0, not a
 * control batch)?  b->first_offset/last_offset are ignored.  Returns
 * BRK_PSTATE_APPEND, BRK_PSTATE_DUPLICATE (with *dup set to the cached
 * batch), ERR_PRODUCER_EPOCH or ERR_OUT_OF_SEQUENCE.  Does not change ps. */
MUST_CHECK int brk_pstate_check(const struct brk_pstate *ps, const struct brk_pstate_batch *b,
                                struct brk_pstate_meta *dup);

/* brk_pstate_observe - b is in the log (offsets assigned): remember it.
 * Batches without a producer id and control batches are ignored (0).
 * ERR_LIMIT when a new producer would pass BRK_PSTATE_PRODUCERS_MAX
 * (logged by the caller; the state misses that producer). */
MUST_CHECK int brk_pstate_observe(struct brk_pstate *ps, const struct brk_pstate_batch *b);

/* brk_pstate_forget - the append of the batch starting at first_offset
 * failed (the log trims it): drop it and any later batch of producer_id. */
void brk_pstate_forget(struct brk_pstate *ps, int64_t producer_id, int64_t first_offset);

/* brk_pstate_expire - remove producers whose newest batch is
 * expiration_ms or more older than now_ms (producer.id.expiration.ms).
 * Returns how many were removed. */
int32_t brk_pstate_expire(struct brk_pstate *ps, int64_t now_ms, int64_t expiration_ms);

int32_t brk_pstate_count(const struct brk_pstate *ps);
/* brk_pstate_find - the entry of producer_id, or NULL; valid until the next
 * change to ps. */
const struct brk_pstate_entry *brk_pstate_find(const struct brk_pstate *ps, int64_t producer_id);
/* brk_pstate_clear - forget every producer. */
void brk_pstate_clear(struct brk_pstate *ps);

/*
 * Snapshot bytes (brk_pstore writes them as <20-digit offset>.snapshot),
 * big-endian:
 *
 *   u16 version (1) | u32 crc32c(everything after it) | i32 entry_count |
 *   entry_count x { i64 producer_id | i16 epoch | i32 coordinator_epoch |
 *                   i64 txn_first_offset | i64 last_timestamp_ms |
 *                   i32 batch_count (0..5) |
 *                   batch_count x { i32 first_seq | i32 last_seq |
 *                                   i64 first_offset | i64 last_offset |
 *                                   i64 timestamp_ms } }
 *
 * Unlike Kafka's (the last batch only), all cached batches are kept, so a
 * retry of any of the last five is still a duplicate after a restart.
 */
/* brk_pstate_encode - replace out's contents with the snapshot bytes. */
MUST_CHECK int brk_pstate_encode(const struct brk_pstate *ps, struct buf *out);
/* brk_pstate_decode - replace ps's contents with a snapshot (untrusted
 * bytes).  ERR_CORRUPT (CRC, structure), ERR_UNSUPPORTED (version),
 * ERR_LIMIT; ps is empty after a failure. */
MUST_CHECK int brk_pstate_decode(struct brk_pstate *ps, struct bytes in);

#endif
