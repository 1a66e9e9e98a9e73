/*
 * ctrl_mlog.h - the metadata log on disk.
 *
 * An append-only sequence of entries (offset, epoch, data) in
 * <dir>/__cluster_metadata-0/00000000000000000000.log.  Offsets start at 0
 * and are contiguous.  The log is the stable store under the metadata quorum:
 * with a single voter an entry is committed once ctrl_mlog_sync() returns;
 * with Raft the driver persists leader entries here and truncates a diverged
 * suffix with ctrl_mlog_truncate().
 *
 * Invariants: every entry in memory's index table is fully on disk (written)
 * and passed its CRC at open; end_offset == number of entries + start offset.
 * Not thread-safe; blocking I/O (metadata writes are rare).
 */
#ifndef SAMSA_CTRL_MLOG_H
#define SAMSA_CTRL_MLOG_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define CTRL_MLOG_ENTRY_BYTES_MAX (8 * 1024 * 1024)
#define CTRL_MLOG_ENTRIES_MAX (64 * 1024 * 1024)

struct ctrl_mlog;

/* ctrl_mlog_open - open (creating if needed) the log under dir and recover a torn
 * tail.  Blocks.  Returns 0 and *out, or -errno / ERR_* with a logged reason. */
MUST_CHECK int ctrl_mlog_open(const char *dir, struct ctrl_mlog **out);
void ctrl_mlog_destroy(struct ctrl_mlog *m);

int64_t ctrl_mlog_start_offset(const struct ctrl_mlog *m);
int64_t ctrl_mlog_end_offset(const struct ctrl_mlog *m);
/* ctrl_mlog_last_epoch - epoch of the last entry, 0 when empty. */
int32_t ctrl_mlog_last_epoch(const struct ctrl_mlog *m);
/* ctrl_mlog_epoch_find - epoch of the entry at offset; ERR_OFFSET_RANGE if absent. */
MUST_CHECK int ctrl_mlog_epoch_find(const struct ctrl_mlog *m, int64_t offset, int32_t *epoch_out);

/* ctrl_mlog_append - write one entry at offset == end_offset (not yet synced). */
MUST_CHECK int ctrl_mlog_append(struct ctrl_mlog *m, int64_t offset, int32_t epoch, struct bytes data);
/* ctrl_mlog_fd - the log file's descriptor, for an asynchronous fdatasync
 * (ctrl_wire's ring).  Changes at ctrl_mlog_cut_prefix: no sync may be in
 * flight across one. */
int ctrl_mlog_fd(const struct ctrl_mlog *m);
/* ctrl_mlog_sync - fdatasync everything appended so far. */
MUST_CHECK int ctrl_mlog_sync(struct ctrl_mlog *m);
/* ctrl_mlog_read - copy the entry at offset into out (replacing its contents). */
MUST_CHECK int ctrl_mlog_read(struct ctrl_mlog *m, int64_t offset, struct buf *out, int32_t *epoch_out);
/* ctrl_mlog_truncate - drop every entry at or after offset (Raft divergence). */
MUST_CHECK int ctrl_mlog_truncate(struct ctrl_mlog *m, int64_t offset);

/* ctrl_mlog_cut_prefix - drop every entry before offset (a snapshot covers
 * them): the kept tail is copied to a new file, fsynced and renamed over the
 * old one.  Blocks. */
MUST_CHECK int ctrl_mlog_cut_prefix(struct ctrl_mlog *m, int64_t offset);

#endif
