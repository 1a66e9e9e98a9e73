/*
 * brk_pstore.h - the I/O shell around brk_pstate for one partition: its
 * snapshot files beside the segments and the replay of the log at open.
 *
 * Files: <partition dir>/<20-digit offset>.snapshot (Kafka's name; our own
 * bytes, documented in brk_pstate.h, with a CRC-32C), written through a
 * temp file and a rename, without fsync: a snapshot is an optimisation of
 * the replay, never the only copy of anything (the log is), so one that an
 * OS crash lost or tore is refused by its CRC and an older one or the log
 * serves instead.  That keeps a roll and a clean shutdown of many
 * partitions free of fsyncs.  A snapshot at offset X holds the state of
 * every batch below X.  Written when a segment rolls (X = the new base
 * offset) and at clean shutdown (X = the log end); the newest
 * BRK_PSTORE_SNAPSHOTS_KEPT are kept.
 *
 * Load at open: the newest snapshot whose offset is <= the recovered log
 * end (newer ones describe batches recovery cut: they are deleted), a
 * damaged one is skipped for the next older; then every batch from that
 * offset (or from the log start without one) is observed from its header.
 * So the state equals what observing the whole log in order would give,
 * the same on every replica.
 *
 * Blocks on file I/O (no fsync): open, roll and shutdown only.
 */
#ifndef SAMSA_BRK_PSTORE_H
#define SAMSA_BRK_PSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/log/brk_plog.h"
#include "broker/log/brk_pstate.h"
#include "common/err.h"

#define BRK_PSTORE_SNAPSHOTS_KEPT 2
#define BRK_PSTORE_SNAPSHOT_BYTES_MAX (256u << 20)

/* brk_pstore_load - fill ps (emptied first) for the opened log pl in dir.
 * Returns 0, or a read error of the log (-errno, ERR_CORRUPT): the
 * partition must not serve idempotent producers without its state.
 * Damaged snapshots are logged and skipped, never fatal. */
MUST_CHECK int brk_pstore_load(struct brk_pstate *ps, struct brk_plog *pl, const char *dir);

/* brk_pstore_write - snapshot ps as of offset into dir, then delete all but
 * the newest BRK_PSTORE_SNAPSHOTS_KEPT snapshots.  Returns 0 or -errno. */
MUST_CHECK int brk_pstore_write(const struct brk_pstate *ps, const char *dir, int64_t offset);

/* brk_pstore_observe_batches - observe every batch of `batches` (whole v2
 * batches with their assigned base offsets, as they are in the log): the
 * leader after its append, a follower after appending replicated bytes.
 * Returns 0, ERR_CORRUPT (not whole batches) or ERR_LIMIT (too many
 * producers: the ones past the limit are not tracked). */
MUST_CHECK int brk_pstore_observe_batches(struct brk_pstate *ps, const uint8_t *batches, size_t len);

#endif
