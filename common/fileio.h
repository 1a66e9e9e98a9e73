/*
 * fileio.h - whole-file replacement that survives a crash: the one
 * "temp file, fsync, rename, fsync the directory" in the tree.
 *
 * A reader (after a crash or power loss at any point) sees either the
 * complete old file or the complete new one, never a mix or a torn write:
 * the bytes go to PATH.tmp, which is fsync'd, renamed over PATH, and then the
 * directory is fsync'd so the rename itself is durable.  A failure before the
 * rename removes PATH.tmp and leaves PATH as it was.
 *
 * Used for meta.properties, quorum-state, metadata snapshots, the metadata
 * log's prefix cut and the recovery/start-offset checkpoints.  Every call
 * BLOCKS on disk I/O (two fsyncs): start-up, shutdown and rare state changes
 * only, never a per-request path.  Not here: appends (uring, brk_plog).
 *
 * Use fileio_write_atomic when the bytes are at hand; otherwise open a
 * fileio_tmp, write through tmp.fd, then commit (or abort).
 */
#ifndef SAMSA_FILEIO_H
#define SAMSA_FILEIO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* The temp file being written: fd is open O_RDWR until commit or abort. */
struct fileio_tmp {
    int fd;                 /* -1 once closed */
    bool renamed;           /* PATH now holds the new bytes (even if the dir sync failed) */
    char path[PATH_MAX];
    char tmp_path[PATH_MAX];
};

/* fileio_write_all - write all n bytes at the file position, retrying short
 * writes and EINTR.  Blocks.  Returns 0 or -errno. */
MUST_CHECK int fileio_write_all(int fd, const void *p, size_t n);

/* fileio_tmp_open - create (truncate) PATH.tmp, mode 0644, O_CLOEXEC.
 * Returns 0, -ENAMETOOLONG, or -errno; t is usable only on 0. */
MUST_CHECK int fileio_tmp_open(struct fileio_tmp *t, const char *path);

/* fileio_tmp_commit - fsync PATH.tmp, rename it over PATH, fsync PATH's
 * directory.  keep_open: t->fd stays open on the renamed file and the caller
 * owns it (it must close it, also when the directory sync failed); otherwise
 * it is closed (a close error counts).  Before the rename every failure
 * closes the fd and removes PATH.tmp (t->renamed false).  Blocks.  Returns 0
 * or -errno. */
MUST_CHECK int fileio_tmp_commit(struct fileio_tmp *t, bool keep_open);

/* fileio_tmp_abort - close the fd and remove PATH.tmp; PATH is untouched. */
void fileio_tmp_abort(struct fileio_tmp *t);

/* fileio_write_atomic - replace PATH with the concatenation of parts[0..count)
 * (borrowed; may be empty).  Blocks.  Returns 0 or -errno (PATH unchanged
 * when the failure came before the rename). */
MUST_CHECK int fileio_write_atomic(const char *path, const struct bytes *parts, size_t count);

#endif
