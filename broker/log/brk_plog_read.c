/*
 * brk_plog_read.c - reads of a partition log: the offsets and sizes it
 * reports, whole batches from an offset (brk_plog_read: fetch), batch
 * headers from an offset (brk_plog_scan: producer-state replay), and
 * ListOffsets by timestamp (brk_plog_offset_for_time: time index, batch
 * headers, then the records of one batch, decompressed if needed; and
 * brk_plog_offset_for_max_time for MAX_TIMESTAMP).
 *
 * Part of the partition log (brk_plog.c; shared state in brk_plog_int.h).
 * Blocks on pread (or copies from the tail ring); never writes.
 */

#include <errno.h>
#include <inttypes.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog_int.h"
#include "broker/log/brk_records.h"
#include "common/log.h"

int64_t brk_plog_start_offset(const struct brk_plog *pl)
{
    return pl->start_offset;
}

int64_t brk_plog_end_offset(const struct brk_plog *pl)
{
    return pl->end_offset;
}

int64_t brk_plog_next_offset(const struct brk_plog *pl)
{
    return pl->next_offset;
}

int64_t brk_plog_size_bytes(const struct brk_plog *pl)
{
    int64_t total = 0;
    for (size_t k = 0; k < pl->seg_count; k++)
        total += pl->segs[k]->size_bytes;
    return total;
}

size_t brk_plog_segment_count(const struct brk_plog *pl)
{
    return pl->seg_count;
}

int brk_plog_offline_err(const struct brk_plog *pl)
{
    return pl->offline_err;
}

bool brk_plog_is_direct(const struct brk_plog *pl)
{
    return pl->direct;
}

/* Index of the last segment with base_offset <= offset (0 if none). */
static size_t brk_plog_seg_find(const struct brk_plog *pl, int64_t offset)
{
    size_t lo = 0, hi = pl->seg_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pl->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

int brk_plog_scan(struct brk_plog *pl, int64_t from_offset, brk_plog_scan_fn fn, void *arg)
{
    ASSERT(fn != NULL);
    if (from_offset < pl->start_offset)
        from_offset = pl->start_offset;
    for (size_t si = brk_plog_seg_find(pl, from_offset); si < pl->seg_count; si++) {
        const struct brk_plog_seg *seg = pl->segs[si];
        int64_t pos = brk_plog_seg_lookup(seg, from_offset);
        while (pos < seg->visible_bytes) {
            struct brk_batch_hdr h;
            int rc = brk_plog_hdr_at(seg, pos, seg->visible_bytes, &h);
            if (rc < 0)
                return rc;
            if (h.base_offset + h.last_offset_delta >= from_offset && (rc = fn(arg, &h)) != 0)
                return rc;
            pos += (int64_t)h.size_bytes;
        }
    }
    return 0;
}

int brk_plog_read(struct brk_plog *pl, int64_t offset, int64_t max_offset, size_t max_bytes,
                  bool min_one_batch, struct buf *out, int64_t *next_offset_out)
{
    ASSERT(out != NULL);
    ASSERT(next_offset_out != NULL);
    if (offset < pl->start_offset || offset > pl->end_offset)
        return ERR_OFFSET_RANGE;
    *next_offset_out = offset;
    if (max_offset > pl->end_offset)
        max_offset = pl->end_offset;
    if (offset >= max_offset)
        return 0;
    for (size_t si = brk_plog_seg_find(pl, offset); si < pl->seg_count; si++) {
        struct brk_plog_seg *seg = pl->segs[si];
        int64_t limit = seg->visible_bytes;
        int64_t pos = brk_plog_seg_lookup(seg, offset);
        struct brk_batch_hdr h;
        int rc;
        /* skip to the batch holding offset */
        for (;;) {
            if (pos >= limit)
                break;
            rc = brk_plog_hdr_at(seg, pos, limit, &h);
            if (rc < 0)
                goto err_disk;
            if (h.base_offset + h.last_offset_delta >= offset)
                break;
            pos += (int64_t)h.size_bytes;
        }
        if (pos >= limit)
            continue; /* offset lies past this segment's visible data */
        int64_t start = pos, end = pos, next = offset;
        for (;;) {
            if (pos >= limit)
                break;
            rc = brk_plog_hdr_at(seg, pos, limit, &h);
            if (rc < 0)
                goto err_disk;
            int64_t last = h.base_offset + h.last_offset_delta;
            if (last >= max_offset)
                break;
            if ((uint64_t)(end - start) + h.size_bytes > max_bytes) {
                if (end == start && min_one_batch) {
                    end += (int64_t)h.size_bytes;
                    next = last + 1;
                }
                break;
            }
            end += (int64_t)h.size_bytes;
            next = last + 1;
            pos += (int64_t)h.size_bytes;
        }
        if (end == start)
            return 0;
        size_t n = (size_t)(end - start);
        rc = buf_reserve(out, n);
        if (rc < 0)
            return rc;
        rc = brk_plog_seg_pread(seg, out->ptr + out->len, n, start);
        if (rc < 0)
            goto err_disk;
        out->len += n;
        *next_offset_out = next;
        return 0;
    err_disk:
        log_error("plog", "read failed dir=%s base_offset=%" PRId64 " pos=%" PRId64 " err=\"%s\"",
                  pl->dir, seg->base_offset, pos, err_str(rc));
        return rc;
    }
    return 0;
}

/*
 * brk_plog_batch_find_time - Kafka's per-record answer inside the batch at
 * pos (FileRecords.searchForTimestamp): the first record whose timestamp
 * >= ts_ms and whose offset >= the log start.  Returns 1 (found), 0 (no
 * record of this batch qualifies), -errno (the read failed) or the
 * brk_records error when the records cannot be read.
 */
static int brk_plog_batch_find_time(const struct brk_plog *pl, const struct brk_plog_seg *seg,
                                    int64_t pos, const struct brk_batch_hdr *h, int64_t ts_ms,
                                    struct buf *batch, struct buf *scratch, int64_t *offset_out,
                                    int64_t *ts_out)
{
    if (h->size_bytes > BRK_PLOG_BATCH_BYTES_MAX)
        return ERR_LIMIT;
    buf_reset(batch);
    int rc = buf_reserve(batch, h->size_bytes);
    if (rc < 0)
        return rc;
    rc = brk_plog_seg_pread(seg, batch->ptr, h->size_bytes, pos);
    if (rc < 0)
        return rc; /* -errno, or ERR_CORRUPT for a short file */
    batch->len = h->size_bytes;
    struct brk_records_iter it;
    rc = brk_records_iter_init(&it, buf_bytes(batch), scratch);
    if (rc < 0)
        return rc;
    struct brk_record r;
    while ((rc = brk_records_next(&it, &r)) == 1) {
        if (r.timestamp_ms >= ts_ms && r.offset >= pl->start_offset) {
            *offset_out = r.offset;
            *ts_out = r.timestamp_ms;
            return 1;
        }
    }
    return rc;
}

int brk_plog_offset_for_time(struct brk_plog *pl, int64_t ts_ms, int64_t *offset_out,
                             int64_t *ts_out)
{
    ASSERT(offset_out != NULL);
    ASSERT(ts_out != NULL);
    struct buf batch, scratch;
    buf_init(&batch, BRK_PLOG_BATCH_BYTES_MAX);
    buf_init(&scratch, BRK_PLOG_INFLATED_BYTES_MAX);
    int rc = ERR_NOT_FOUND;
    for (size_t si = 0; si < pl->seg_count && rc == ERR_NOT_FOUND; si++) {
        struct brk_plog_seg *seg = pl->segs[si];
        if (seg->max_ts_ms < ts_ms || seg->next_offset <= pl->start_offset)
            continue;
        /* last time-index entry strictly below ts: everything up to it is older */
        int64_t from_offset = seg->base_offset;
        uint32_t lo = 0, hi = seg->tidx_count;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (seg->tidx[mid].ts_ms < ts_ms)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0)
            from_offset = seg->base_offset + seg->tidx[lo - 1].rel;
        int64_t pos = brk_plog_seg_lookup(seg, from_offset);
        int64_t limit = seg->visible_bytes;
        while (pos < limit) {
            struct brk_batch_hdr h;
            int hrc = brk_plog_hdr_at(seg, pos, limit, &h);
            if (hrc < 0) {
                rc = hrc;
                break;
            }
            int64_t last = h.base_offset + h.last_offset_delta;
            if (h.max_timestamp_ms >= ts_ms && last >= pl->start_offset) {
                int frc = brk_plog_batch_find_time(pl, seg, pos, &h, ts_ms, &batch, &scratch,
                                                   offset_out, ts_out);
                if (frc == 1) {
                    rc = 0;
                    break;
                }
                if (frc < 0 && frc > ERR_LAST) { /* -errno (pread, ENOMEM): fail the request */
                    rc = frc;
                    break;
                }
                if (frc < 0) {
                    /* records unreadable (produce does not parse them): answer
                     * at batch granularity rather than fail the partition */
                    log_warn("plog", "offset_for_time reads batch as a whole dir=%s "
                             "base_offset=%" PRId64 " err=\"%s\"",
                             pl->dir, h.base_offset, err_str(frc));
                    *offset_out = h.base_offset > pl->start_offset ? h.base_offset
                                                                    : pl->start_offset;
                    *ts_out = h.max_timestamp_ms;
                    rc = 0;
                    break;
                }
                /* no record qualifies (all below the log start): keep scanning */
            }
            pos += (int64_t)h.size_bytes;
        }
    }
    buf_deinit(&batch);
    buf_deinit(&scratch);
    return rc;
}

int brk_plog_offset_for_max_time(struct brk_plog *pl, int64_t *offset_out, int64_t *ts_out)
{
    int64_t max_ts_ms = -1;
    for (size_t si = 0; si < pl->seg_count; si++) {
        const struct brk_plog_seg *seg = pl->segs[si];
        if (seg->next_offset > pl->start_offset && seg->max_ts_ms > max_ts_ms)
            max_ts_ms = seg->max_ts_ms;
    }
    if (max_ts_ms < 0)
        return ERR_NOT_FOUND;
    return brk_plog_offset_for_time(pl, max_ts_ms, offset_out, ts_out);
}
