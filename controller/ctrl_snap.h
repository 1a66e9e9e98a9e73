/*
 * ctrl_snap.h - snapshots of the metadata image.
 *
 * A snapshot is the image at a committed Raft index I (epoch E) written as
 * the records that rebuild it (one MetadataBatch), in
 * <metadata dir>/__cluster_metadata-0/<20-digit I>-<10-digit E>.checkpoint,
 * framed as: "SSNP" | u32 version (1) | u32 crc32c(payload) | u32 length |
 * payload.  Written to a temp file, fsynced, renamed, directory fsynced.
 * Once one is durable the log before it may be cut; a follower whose fetch
 * offset is below the leader's log start installs the leader's snapshot.
 * Older snapshot files are deleted after a newer one is durable.
 */
#ifndef SAMSA_CTRL_SNAP_H
#define SAMSA_CTRL_SNAP_H

#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "controller/ctrl_image.h"

#define CTRL_SNAP_BYTES_MAX (64u << 20)

/* ctrl_snap_encode - the image as one packed MetadataBatch into out. */
MUST_CHECK int ctrl_snap_encode(const struct ctrl_image *img, struct arena *a, struct buf *out);
/* ctrl_snap_write - durably store payload as snapshot (index, epoch); removes older ones. */
MUST_CHECK int ctrl_snap_write(const char *dir, uint64_t index, uint64_t epoch, struct bytes payload);
/* ctrl_snap_latest - the newest snapshot id; ERR_NOT_FOUND if none. */
MUST_CHECK int ctrl_snap_latest(const char *dir, uint64_t *index, uint64_t *epoch);
/* ctrl_snap_read - the payload of snapshot (index, epoch), CRC-checked. */
MUST_CHECK int ctrl_snap_read(const char *dir, uint64_t index, uint64_t epoch, struct buf *out);
/* ctrl_snap_load - apply a payload's records to img (a fresh image) at offset. */
MUST_CHECK int ctrl_snap_load(struct ctrl_image *img, struct bytes payload, int64_t offset);

#endif
