/*
 * brk_plog.h - one partition's log, in Kafka's on-disk layout.
 *
 * A directory <log.dir>/<topic>-<partition> holds segments named by their
 * 20-digit base offset:
 *
 *   00000000000000000000.log        concatenated v2 record batches with
 *                                   absolute baseOffset, exactly as Kafka
 *   00000000000000000000.index      8-byte entries: relative offset u32,
 *                                   position u32 (big-endian), one every
 *                                   index_interval_bytes; the offset is the
 *                                   LAST offset of the batch at position
 *   00000000000000000000.timeindex  12-byte entries: timestamp i64,
 *                                   relative offset u32 (big-endian)
 *
 * Offsets:   start_offset <= end_offset <= next_offset
 *   - start_offset: log start (moved by delete_records / retention);
 *   - end_offset:   the log end offset readers see; advances only when an
 *                   append's write (and sync, if the flush policy asks for
 *                   one) has completed, in append order;
 *   - next_offset:  where the next append's offsets are assigned.
 *
 * State machine:
 *
 *   open --(recovery)--> ONLINE --(write/sync error)--> OFFLINE (read-only)
 *                          ^                            |
 *                          |   in-flight appends all fail, tail trimmed back
 *                          |   to the last visible batch once nothing of ours
 *                          |   is in flight; then:
 *                          +-- a write refused for space (ENOSPC, EDQUOT):
 *                              online again, the next append retries the disk
 *                              (one log line per outage)
 *                              any other error (EIO, a failed fdatasync):
 *                              offline until the log is reopened
 *
 *   ONLINE or OFFLINE --(brk_plog_close)--> CLOSING --(nothing of its own in
 *   flight)--> freed, done_cb.  CLOSING refuses appends (ERR_NOT_LEADER); the
 *   ones accepted before complete (and fail, and repair) as above.
 *   brk_plog_destroy instead drains the whole uring and frees at once.
 *
 * Appends patch baseOffset and partitionLeaderEpoch and queue the batches
 * as a slot; the callback runs from uring_reap once they are written (and
 * fdatasync'ed when flush_interval_messages is reached), in append order.
 * Nothing here submits: the event loop calls uring_submit once per
 * iteration.  Two ways to the file (broker/README.md, "Direct appends"):
 *   - buffered (the default, as Kafka): one uring write per append
 *     straight from the caller's bytes into the page cache;
 *   - direct (samsa.log.direct.io=true, on a file system with O_DIRECT):
 *     the bytes are copied into the partition's tail ring and written with
 *     O_DIRECT, one write in flight per partition covering everything
 *     copied since; the ring also serves reads of the newest bytes.
 *
 * Recovery at open validates the last segment batch by batch (length
 * bounds, CRC-32C, offsets increasing), cuts a torn tail with ftruncate and
 * logs what it dropped, and always rebuilds the last segment's indexes in
 * memory.  Older segments are trusted when their index files are sane
 * (sizes, monotonic entries, positions inside the log); otherwise their
 * indexes are rebuilt from the log and rewritten.  A sealed segment's index
 * files are written (via uring) when it is rolled.
 *
 * Blocking: open, destroy (which drains the shared uring), retention,
 * delete_records and truncate_to do file-system calls
 * (open/unlink/ftruncate) on the calling thread; close does not wait; read
 * and offset_for_time copy from the tail ring or pread the file.  Append
 * never blocks, except a roll creating a file and the first append after
 * the ring was released (one pread of the partial last block).
 *
 * Not here: replication, compaction, transactions/producer state, leader
 * epoch checkpoint, checkpoint persistence (see brk_ckpt; the caller saves
 * the log start offset after delete_records/retention).  Indexes of all
 * segments are kept in memory (bounded by segment_index_bytes per segment).
 * offset_for_time is the one reader that looks inside batches: it answers
 * per record, as Kafka does (decompressing the one batch it must read).
 */
#ifndef SAMSA_BRK_PLOG_H
#define SAMSA_BRK_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/uring.h"

/* Appends in flight per partition (the slot ring starts at 16 and doubles
 * up to this); past it brk_plog_append returns ERR_LIMIT. */
#define BRK_PLOG_APPENDS_MAX 4096u
/* Smallest tail ring: what a partition gets once the node's ring budget
 * (samsa.log.tail.buffers.max.bytes) is spent. */
#define BRK_PLOG_TAIL_MIN_BYTES (64u << 10)
/* A tail ring without appends for this long is released (flush tick). */
#define BRK_PLOG_TAIL_IDLE_MS 30000
/* Segments per partition; a roll past it fails with ERR_LIMIT. */
#define BRK_PLOG_SEGMENTS_MAX 100000u
/* Largest batch recovery will read into memory to check its CRC. */
#define BRK_PLOG_BATCH_BYTES_MAX (256u << 20)
/* Largest inflated records section offset_for_time decompresses. */
#define BRK_PLOG_INFLATED_BYTES_MAX (128u << 20)

struct brk_plog_config {
    int64_t segment_bytes;           /* segment.bytes; clamped to [1 KiB, INT32_MAX] */
    int64_t roll_ms;                 /* segment.ms */
    int64_t retention_ms;            /* retention.ms; < 0 = keep forever */
    int64_t retention_bytes;         /* retention.bytes; < 0 = no size limit */
    int64_t flush_interval_messages; /* flush.messages; INT64_MAX = never force */
    int64_t flush_interval_ms;       /* flush.ms; INT64_MAX = never force */
    int64_t index_interval_bytes;    /* index.interval.bytes */
    int64_t segment_index_bytes;     /* segment.index.bytes: max index file size */
};

struct brk_plog;

typedef void (*brk_plog_append_cb)(void *arg, int rc);

/*
 * brk_plog_shared - node-wide storage settings and the tail-ring budget,
 * shared by every log of one node (state thread only).  NULL where a log
 * takes one means buffered appends.
 */
struct brk_plog_shared {
    bool direct_io;                  /* samsa.log.direct.io */
    int64_t tail_buffer_bytes;       /* samsa.log.tail.buffer.bytes: one partition's ring */
    int64_t tail_buffers_max_bytes;  /* samsa.log.tail.buffers.max.bytes: all rings */
    int64_t tail_buffers_bytes;      /* rings allocated now */
    bool direct_refused_logged;      /* the O_DIRECT fallback was logged once */
    /* TEST ONLY (brk_plog_test_fault_from_env): group-commit sync faults */
    int64_t test_sync_delay_ms;      /* 0: none */
    bool test_sync_fail;
};

void brk_plog_shared_init(struct brk_plog_shared *sh, bool direct_io, int64_t tail_buffer_bytes,
                          int64_t tail_buffers_max_bytes);

/* brk_plog_config_default - Kafka's topic-level defaults. */
void brk_plog_config_default(struct brk_plog_config *cfg);

/*
 * brk_plog_open - open (creating if needed) the partition directory `dir`
 * and run recovery.  log_start_offset_hint is the value from the
 * log-start-offset checkpoint (or 0).  u and sh (NULL: buffered appends)
 * are borrowed and must outlive the log.  Returns 0, -errno, ERR_LIMIT
 * (too many segments) or ERR_CONFIG.  Blocks (file-system calls, reads the
 * last segment).
 */
MUST_CHECK int brk_plog_open(struct uring *u, struct brk_plog_shared *sh, const char *dir,
                             const struct brk_plog_config *cfg, int64_t log_start_offset_hint,
                             struct brk_plog **out);

/* brk_plog_on_advance - fn(arg, end_offset) runs whenever appends complete
 * and the visible end moves forward, after their append callbacks (the
 * partition tells its waiters from here). */
typedef void (*brk_plog_advance_cb)(void *arg, int64_t end_offset);
void brk_plog_on_advance(struct brk_plog *pl, brk_plog_advance_cb fn, void *arg);

/* brk_plog_on_roll - fn(arg, base_offset) runs when an append rolls to a
 * new segment, after the file is created and before the append's batches
 * get their offsets: everything below base_offset was appended before
 * (the partition snapshots its producer state there). */
typedef void (*brk_plog_roll_cb)(void *arg, int64_t base_offset);
void brk_plog_on_roll(struct brk_plog *pl, brk_plog_roll_cb fn, void *arg);

/* brk_plog_scan - call fn(arg, hdr) for the header of every visible batch
 * whose last offset is >= from_offset, in log order (hdr->base_offset as
 * stored).  Reads headers only (61 bytes each, through the index to find
 * the first).  Returns 0, the first non-zero fn result, or a read error
 * (-errno, ERR_CORRUPT).  Blocks on pread: for open/recovery. */
struct brk_batch_hdr;
typedef int (*brk_plog_scan_fn)(void *arg, const struct brk_batch_hdr *hdr);
MUST_CHECK int brk_plog_scan(struct brk_plog *pl, int64_t from_offset, brk_plog_scan_fn fn, void *arg);

/* brk_plog_is_direct - true when appends go through the O_DIRECT tail ring. */
bool brk_plog_is_direct(const struct brk_plog *pl);

/*
 * brk_plog_destroy - wait for this log's in-flight I/O (uring_drain: this
 * waits for every user of the uring and runs their callbacks too), then
 * close and free.  For server shutdown (after the network threads stop)
 * and tests; a running node closes a log with brk_plog_close.  Must not be
 * called from a uring callback nor on a closing log.
 */
void brk_plog_destroy(struct brk_plog *pl);

/*
 * brk_plog_close - close and free the log without waiting for anybody
 * else's I/O.  From now on appends fail with ERR_NOT_LEADER (this node no
 * longer serves the partition) and the advance hook is dropped; appends
 * already accepted complete through their callbacks as usual (written ones
 * with 0; direct ones the full uring kept from the disk with
 * ERR_NOT_LEADER).  Once nothing of this log is queued or in flight the
 * log detaches its tail, closes its files, frees itself and calls
 * done_cb(arg), exactly once: at once when it is idle, else from the
 * uring completion that leaves it idle (uring callbacks run in queue
 * order, so that waits for ops queued before this log's last one, never
 * for later ones).  Called from an append callback of this log, it
 * finishes when that completion returns.  After the call only the log's
 * own append callbacks may still read it; it is gone when done_cb runs.
 * Never blocks on I/O (one ftruncate of the direct tail's slack at most).
 */
typedef void (*brk_plog_close_cb)(void *arg);
void brk_plog_close(struct brk_plog *pl, brk_plog_close_cb done_cb, void *arg);

/*
 * brk_plog_append - append already-validated batches (brk_batch_validate_produce).
 * Copies them, assigns offsets from next_offset (written to *base_offset_out),
 * patches baseOffset/leader epoch, rolls first when segment_bytes, roll_ms or
 * index capacity says so, and queues the write.  cb(arg, 0) once durable per
 * the flush policy and visible to readers; cb(arg, err) on a write error,
 * after which the log is offline (for ERR_NO_SPACE from a write only until
 * the failed tail is trimmed: see the state machine).  On a non-zero return nothing was queued
 * and cb will not run.  Errors: the offline error (ERR_NO_SPACE or -EIO),
 * ERR_LIMIT (too many appends in flight), ERR_CORRUPT (malformed batches),
 * ERR_INVALID (empty).  Never blocks, except a roll creating a file.
 */
MUST_CHECK int brk_plog_append(struct brk_plog *pl, struct bytes batches, int32_t leader_epoch,
                               int64_t now_ms, int64_t *base_offset_out, brk_plog_append_cb cb,
                               void *arg);
/*
 * brk_plog_append_borrowed - the same without the copy: the batches are
 * patched (baseOffset, leader epoch) IN PLACE and written from the caller's
 * memory, which must stay valid and unchanged until cb has run.  Produce uses
 * it with the request frame, which lives until its response is built.
 */
MUST_CHECK int brk_plog_append_borrowed(struct brk_plog *pl, uint8_t *batches, size_t len, int32_t leader_epoch,
                                        int64_t now_ms, int64_t *base_offset_out, brk_plog_append_cb cb, void *arg);

/*
 * brk_plog_append_replica - a follower's append of its leader's batches,
 * byte for byte: baseOffset, partitionLeaderEpoch and CRCs are kept (the
 * bytes are copied; the caller's may go once this returns).  Each batch is
 * checked first (framing, lengths, CRC-32C: ERR_CORRUPT); the first base
 * offset must equal brk_plog_next_offset and the offsets must increase
 * strictly (gaps, as compaction leaves them, are kept): ERR_INVALID.  Then
 * as brk_plog_append: the same rolls, slots, buffered or direct writes,
 * flush policy and callback; the log's next offset becomes the last
 * batch's last offset + 1.  Never blocks, except a roll creating a file.
 */
MUST_CHECK int brk_plog_append_replica(struct brk_plog *pl, struct bytes batches, int64_t now_ms,
                                       brk_plog_append_cb cb, void *arg);
/*
 * brk_plog_append_replica_borrowed - the same without the copy: the batches
 * are written from the caller's memory (never modified), which must stay
 * valid and unchanged until cb has run.  The fetcher uses it with the fetch
 * response that carried them, held until the append's callback.
 */
MUST_CHECK int brk_plog_append_replica_borrowed(struct brk_plog *pl, uint8_t *batches, size_t len, int64_t now_ms,
                                                brk_plog_append_cb cb, void *arg);

/*
 * brk_plog_read - append to out the whole batches starting with the one
 * holding `offset` (it may start before offset), stopping before
 * max_bytes would be exceeded, before any batch whose last offset reaches
 * max_offset (exclusive; e.g. the high watermark) and at the visible end.
 * If min_one_batch and nothing fit, the first batch is returned anyway
 * (KIP-74).  *next_offset_out is the offset after the last batch returned
 * (offset itself if none).  offset outside [start, end] -> ERR_OFFSET_RANGE.
 * out is grown within its cap_max (ERR_LIMIT).  Blocks on pread.
 */
MUST_CHECK int brk_plog_read(struct brk_plog *pl, int64_t offset, int64_t max_offset,
                             size_t max_bytes, bool min_one_batch, struct buf *out,
                             int64_t *next_offset_out);

int64_t brk_plog_start_offset(const struct brk_plog *pl);
int64_t brk_plog_end_offset(const struct brk_plog *pl);
/* brk_plog_next_offset - offset the next append gets (>= end offset). */
int64_t brk_plog_next_offset(const struct brk_plog *pl);
/* brk_plog_size_bytes - bytes in all segments (including queued writes). */
int64_t brk_plog_size_bytes(const struct brk_plog *pl);
size_t brk_plog_segment_count(const struct brk_plog *pl);
/* brk_plog_offline_err - 0 when online, else the error appends fail with. */
int brk_plog_offline_err(const struct brk_plog *pl);

/*
 * brk_plog_offset_for_time - Kafka's ListOffsets-by-timestamp answer: the
 * offset and timestamp of the first visible record (offset >= start)
 * whose timestamp >= ts_ms (LogSegment.findOffsetByTimestamp).  The time
 * index picks where to start; batches are scanned by header from there;
 * the first batch whose max timestamp >= ts_ms is read whole, decompressed
 * if needed (inflated size bounded by BRK_PLOG_INFLATED_BYTES_MAX), and
 * its records iterated (brk_records); if none qualifies the scan goes on.
 * In a LogAppendTime batch every record carries the batch's max timestamp.
 * A batch whose records cannot be read (corrupt, over a limit: produce
 * does not parse records) is answered at batch granularity - its first
 * offset >= start and its max timestamp - and logged.  Returns 0,
 * ERR_NOT_FOUND if no record qualifies (ListOffsets answers -1), -errno
 * on a read failure, ERR_CORRUPT on a bad batch header.  Blocks on pread;
 * allocates (and frees) one batch and its inflated records per call.
 */
MUST_CHECK int brk_plog_offset_for_time(struct brk_plog *pl, int64_t ts_ms, int64_t *offset_out,
                                        int64_t *ts_out);

/*
 * brk_plog_offset_for_max_time - ListOffsets MAX_TIMESTAMP (-3, KIP-734):
 * the offset and timestamp of the first visible record carrying the
 * largest timestamp in the log (Kafka: the segment with the largest
 * maxTimestampSoFar, then the first record of the first batch reaching
 * it).  The segments' max timestamps (from the time index for sealed ones)
 * give the value; brk_plog_offset_for_time finds the record.  Returns as
 * brk_plog_offset_for_time; ERR_NOT_FOUND for a log without timestamps.
 */
MUST_CHECK int brk_plog_offset_for_max_time(struct brk_plog *pl, int64_t *offset_out, int64_t *ts_out);

/*
 * brk_plog_delete_records - move the log start offset to `offset` (no-op if
 * not beyond it; ERR_OFFSET_RANGE past the end offset) and delete sealed
 * segments entirely below it.  The caller persists the checkpoint.
 */
MUST_CHECK int brk_plog_delete_records(struct brk_plog *pl, int64_t offset);

/*
 * brk_plog_retention - delete sealed segments, oldest first, whose max
 * timestamp is older than retention_ms, and while the log exceeds
 * retention_bytes without them.  Never the active segment; advances the
 * log start offset.  Segments with I/O in flight wait for the next call.
 */
MUST_CHECK int brk_plog_retention(struct brk_plog *pl, int64_t now_ms, int *segments_deleted_out);

/* brk_plog_flush_tick - queue fdatasyncs when flush_interval_ms has passed
 * (nothing, and 0, while offline: the failure was logged once); retry a
 * direct write the full uring refused; release a tail ring idle for
 * BRK_PLOG_TAIL_IDLE_MS.  The server calls it at least once a second. */
MUST_CHECK int brk_plog_flush_tick(struct brk_plog *pl, int64_t now_ms);

/*
 * brk_plog_truncate_to - cut the log so that it ends at the start of the
 * batch holding `offset` (replication: the follower drops a divergent
 * suffix).  Requires no append in flight (ERR_INVALID otherwise);
 * ERR_OFFSET_RANGE if offset < start.  No-op if offset >= end.
 */
MUST_CHECK int brk_plog_truncate_to(struct brk_plog *pl, int64_t offset);

/*
 * brk_plog_reset_to - drop every segment and start an empty log at
 * start_offset (Kafka's truncateFullyAndStartAt: a follower whose log is
 * outside its leader's).  start = end = next = start_offset afterwards.
 * Requires no append or other I/O in flight (ERR_INVALID otherwise);
 * ERR_OFFSET_RANGE for a negative offset; -errno if the new segment cannot
 * be created (the log is unchanged then).  Blocks (open/unlink/ftruncate).
 */
MUST_CHECK int brk_plog_reset_to(struct brk_plog *pl, int64_t start_offset);

/*
 * Group commit (samsa.acks.all.fsync; broker/replica/README.md): the log's
 * durable offset is the end covered by a completed fdatasync (offsets below
 * it survive power loss; at open it is the log start: nothing is assumed
 * synced).  brk_plog_sync(req) asks for everything visible now (the end
 * offset) to become durable.  Requests made while a sync flies wait for the
 * next one, so any number of them cost one fdatasync per segment fd in
 * flight (the segments holding offsets past the durable offset: one,
 * or two after a roll).  Once it completes, every request it covers hears
 * cb(arg, 0, durable_offset), in request order; a failed fdatasync fails
 * every waiting request with the error (the log goes offline, sticky, as
 * for any failed sync) and never moves the durable offset.  Returns 1 when
 * the end is durable already (cb will not run), 0 when queued, or the
 * offline error (cb will not run).  req is the caller's, unchanged until cb
 * runs or brk_plog_sync_cancel; one request per req at a time.  Closing or
 * destroying the log fails queued requests with ERR_NOT_LEADER.
 */
typedef void (*brk_plog_sync_cb)(void *arg, int rc, int64_t durable_offset);
struct brk_plog_sync_req {
    struct brk_plog_sync_req *next; /* the log's queue */
    int64_t offset;                 /* durable when the durable offset reaches this */
    bool queued;
    brk_plog_sync_cb cb;
    void *arg;
};
MUST_CHECK int brk_plog_sync(struct brk_plog *pl, struct brk_plog_sync_req *req, brk_plog_sync_cb cb, void *arg);
/* brk_plog_sync_cancel - take req out of the queue (no callback). */
void brk_plog_sync_cancel(struct brk_plog *pl, struct brk_plog_sync_req *req);
/* brk_plog_durable_offset - offsets below it are fdatasync'd (<= end offset). */
int64_t brk_plog_durable_offset(const struct brk_plog *pl);
/* brk_plog_sync_count - group-commit fdatasyncs queued so far (tests, benches). */
uint64_t brk_plog_sync_count(const struct brk_plog *pl);

/*
 * TEST ONLY: brk_plog_test_fault_from_env - read SAMSA_TEST_ONLY_FSYNC_FAULT
 * ("delay_ms:N": a completed group-commit sync counts only N ms later, at
 * the first flush tick past it; "fail": it fails as EIO) into sh.  Only the
 * environment variable enables it; nothing else in the log's I/O changes.
 * Returns 0 (unset), 1 (set: the caller logs a warning) or ERR_CONFIG.
 */
MUST_CHECK int brk_plog_test_fault_from_env(struct brk_plog_shared *sh);

/* brk_plog_set_config - topic config change; applies to later appends/rolls. */
void brk_plog_set_config(struct brk_plog *pl, const struct brk_plog_config *cfg);

#endif
