/*
 * brk_plog_seg.c - segments and their sparse indexes: file paths, whole
 * preads/pwrites, a segment's in-memory .index/.timeindex (push, lookup,
 * encode), the batch-header scan that rebuilds them, loading and checking
 * the index files of a sealed segment, and deleting a segment's files.
 *
 * Part of the partition log (brk_plog.c; shared state in brk_plog_int.h).
 * No uring here: index writes at a roll are queued by brk_plog.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog_int.h"
#include "common/be.h"
#include "common/log.h"

int brk_plog_path(const struct brk_plog *pl, int64_t base, const char *ext, char *out,
                  size_t n)
{
    int w = snprintf(out, n, "%s/%020" PRId64 "%s", pl->dir, base, ext);
    if (w < 0 || (size_t)w >= n)
        return -ENAMETOOLONG;
    return 0;
}

int brk_plog_pread_all(int fd, void *p, size_t n, int64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + (int64_t)got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return ERR_CORRUPT; /* file shorter than the metadata says */
        got += (size_t)r;
    }
    return 0;
}

static int brk_plog_pwrite_all(int fd, const void *p, size_t n, int64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const uint8_t *)p + done, n - done, (off_t)(off + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)r;
    }
    return 0;
}

void brk_plog_seg_free(struct brk_plog_seg *seg)
{
    ASSERT(seg->io_pending == 0);
    ASSERT(seg->pl->tail.seg != seg);
    if (seg->fd >= 0)
        close(seg->fd);
    if (seg->wfd >= 0)
        close(seg->wfd);
    free(seg->idx);
    free(seg->tidx);
    free(seg->idx_disk);
    free(seg->tidx_disk);
    free(seg);
}

struct brk_plog_seg *brk_plog_seg_new(struct brk_plog *pl, int64_t base, int fd)
{
    struct brk_plog_seg *seg = calloc(1, sizeof *seg);
    if (seg == NULL)
        return NULL;
    seg->pl = pl;
    seg->base_offset = base;
    seg->next_offset = base;
    seg->fd = fd;
    seg->wfd = -1;
    seg->max_ts_ms = -1;
    seg->max_ts_offset = -1;
    seg->roll_base_ms = -1;
    seg->idx_fd = -1;
    seg->tidx_fd = -1;
    return seg;
}

static void brk_plog_idx_push(struct brk_plog *pl, struct brk_plog_seg *seg, uint32_t rel,
                              uint32_t pos)
{
    if (seg->idx_count >= brk_plog_idx_max(pl))
        return; /* full: the segment rolls before its next append */
    if (seg->idx_count == seg->idx_cap) {
        uint32_t cap = seg->idx_cap ? seg->idx_cap * 2 : 64;
        struct brk_plog_idx *n = realloc(seg->idx, (size_t)cap * sizeof *n);
        if (n == NULL)
            return; /* a sparser index is still correct, only slower */
        seg->idx = n;
        seg->idx_cap = cap;
    }
    seg->idx[seg->idx_count].rel = rel;
    seg->idx[seg->idx_count].pos = pos;
    seg->idx_count++;
}

void brk_plog_tidx_push(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t ts_ms,
                        uint32_t rel)
{
    if (seg->tidx_count > 0 && ts_ms <= seg->tidx[seg->tidx_count - 1].ts_ms)
        return;
    if (seg->tidx_count >= brk_plog_tidx_max(pl))
        return;
    if (seg->tidx_count == seg->tidx_cap) {
        uint32_t cap = seg->tidx_cap ? seg->tidx_cap * 2 : 64;
        struct brk_plog_tidx *n = realloc(seg->tidx, (size_t)cap * sizeof *n);
        if (n == NULL)
            return;
        seg->tidx = n;
        seg->tidx_cap = cap;
    }
    seg->tidx[seg->tidx_count].ts_ms = ts_ms;
    seg->tidx[seg->tidx_count].rel = rel;
    seg->tidx_count++;
}

/* Account one batch (already placed at pos) in the segment's indexes. */
void brk_plog_seg_note_batch(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
                             int64_t base_offset, const struct brk_batch_hdr *h)
{
    int64_t last = base_offset + h->last_offset_delta;
    if (h->max_timestamp_ms > seg->max_ts_ms) {
        seg->max_ts_ms = h->max_timestamp_ms;
        seg->max_ts_offset = last;
    }
    if (seg->bytes_since_index > pl->cfg.index_interval_bytes) {
        brk_plog_idx_push(pl, seg, (uint32_t)(last - seg->base_offset), (uint32_t)pos);
        if (seg->max_ts_ms >= 0)
            brk_plog_tidx_push(pl, seg, seg->max_ts_ms,
                               (uint32_t)(seg->max_ts_offset - seg->base_offset));
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += (int64_t)h->size_bytes;
    seg->next_offset = last + 1;
}

/* Position to start scanning for the batch holding offset (index lookup). */
int64_t brk_plog_seg_lookup(const struct brk_plog_seg *seg, int64_t offset)
{
    if (offset <= seg->base_offset || seg->idx_count == 0)
        return 0;
    int64_t rel = offset - seg->base_offset;
    uint32_t lo = 0, hi = seg->idx_count; /* find last entry with rel <= target */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((int64_t)seg->idx[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : seg->idx[lo - 1].pos;
}

/* Read and parse the batch header at pos (untrusted disk bytes). */
int brk_plog_hdr_at(const struct brk_plog_seg *seg, int64_t pos, int64_t limit,
                    struct brk_batch_hdr *h)
{
    uint8_t b[BRK_BATCH_HDR_BYTES];
    if (limit - pos < BRK_BATCH_HDR_BYTES)
        return ERR_CORRUPT;
    int rc = brk_plog_seg_pread(seg, b, sizeof b, pos);
    if (rc < 0)
        return rc;
    rc = brk_batch_parse(b, sizeof b, h);
    if (rc <= 0)
        return rc < 0 ? rc : ERR_CORRUPT;
    if ((int64_t)h->size_bytes > limit - pos)
        return ERR_CORRUPT;
    if (h->last_offset_delta < 0)
        return ERR_CORRUPT;
    return 0;
}

void brk_plog_idx_encode(const struct brk_plog_seg *seg, uint8_t *idx_out,
                         uint8_t *tidx_out)
{
    for (uint32_t k = 0; k < seg->idx_count; k++) {
        be_put32(idx_out + (size_t)k * 8, seg->idx[k].rel);
        be_put32(idx_out + (size_t)k * 8 + 4, seg->idx[k].pos);
    }
    for (uint32_t k = 0; k < seg->tidx_count; k++) {
        be_put64(tidx_out + (size_t)k * 12, (uint64_t)seg->tidx[k].ts_ms);
        be_put32(tidx_out + (size_t)k * 12 + 8, seg->tidx[k].rel);
    }
}

/* Synchronously (re)write a segment's index files (open/recovery only). */
int brk_plog_seg_write_indexes_sync(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    char path[PATH_MAX];
    size_t ib = (size_t)seg->idx_count * 8, tb = (size_t)seg->tidx_count * 12;
    uint8_t *ibuf = malloc(ib + tb + 1);
    if (ibuf == NULL)
        return -ENOMEM;
    brk_plog_idx_encode(seg, ibuf, ibuf + ib);
    int rc = 0;
    const char *exts[2] = { ".index", ".timeindex" };
    for (int k = 0; k < 2 && rc == 0; k++) {
        rc = brk_plog_path(pl, seg->base_offset, exts[k], path, sizeof path);
        if (rc < 0)
            break;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            break;
        }
        rc = k == 0 ? brk_plog_pwrite_all(fd, ibuf, ib, 0) : brk_plog_pwrite_all(fd, ibuf + ib, tb, 0);
        close(fd);
    }
    free(ibuf);
    return rc;
}

/*
 * Scan batches of seg from pos up to limit: check headers (and CRCs when
 * verify), offsets increasing, and (when build) add index entries.
 * Stops at the first invalid batch; *valid_end_out is where it stopped.
 */
int brk_plog_seg_scan(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
                      int64_t limit, bool verify, bool build, int64_t *valid_end_out,
                      const char **why_out)
{
    *why_out = NULL;
    int64_t expect = pos == 0 ? seg->base_offset : seg->next_offset;
    while (pos < limit) {
        struct brk_batch_hdr h;
        int rc = brk_plog_hdr_at(seg, pos, limit, &h);
        if (rc < 0 && rc > ERR_FIRST && rc != ERR_CORRUPT && rc != ERR_UNSUPPORTED)
            return rc; /* an OS error, not a torn batch */
        if (rc < 0) {
            *why_out = limit - pos < BRK_BATCH_HDR_BYTES ? "partial header" : "bad header or length";
            break;
        }
        if (h.base_offset < expect) {
            *why_out = "offsets not increasing";
            break;
        }
        if (verify) {
            if (h.size_bytes > BRK_PLOG_BATCH_BYTES_MAX) {
                *why_out = "batch too large";
                break;
            }
            buf_reset(&pl->scratch);
            rc = buf_reserve(&pl->scratch, h.size_bytes);
            if (rc < 0)
                return rc;
            rc = brk_plog_seg_pread(seg, pl->scratch.ptr, h.size_bytes, pos);
            if (rc < 0)
                return rc;
            if (!brk_batch_crc_ok(pl->scratch.ptr, &h)) {
                *why_out = "crc mismatch";
                break;
            }
        }
        if (build) {
            brk_plog_seg_note_batch(pl, seg, pos, h.base_offset, &h);
        } else {
            if (h.max_timestamp_ms > seg->max_ts_ms) {
                seg->max_ts_ms = h.max_timestamp_ms;
                seg->max_ts_offset = h.base_offset + h.last_offset_delta;
            }
            seg->next_offset = h.base_offset + h.last_offset_delta + 1;
        }
        expect = seg->next_offset;
        pos += (int64_t)h.size_bytes;
    }
    *valid_end_out = pos;
    return 0;
}

/* Load a sealed segment's index files; false if missing or not sane. */
bool brk_plog_seg_load_indexes(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    char path[PATH_MAX];
    uint8_t *raw = NULL;
    bool ok = false;
    int fd = -1;
    for (int k = 0; k < 2; k++) {
        if (brk_plog_path(pl, seg->base_offset, k == 0 ? ".index" : ".timeindex", path,
                          sizeof path) < 0)
            goto out;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            goto out;
        struct stat st;
        if (fstat(fd, &st) < 0)
            goto out;
        size_t esz = k == 0 ? BRK_PLOG_IDX_ENTRY_BYTES : BRK_PLOG_TIDX_ENTRY_BYTES;
        if (st.st_size % (off_t)esz != 0 || st.st_size > pl->cfg.segment_index_bytes)
            goto out;
        size_t n = (size_t)st.st_size / esz;
        if (k == 0 && n == 0 && seg->size_bytes > 2 * pl->cfg.index_interval_bytes + 4096)
            goto out; /* an empty index for a big segment: likely lost, rebuild */
        raw = malloc((size_t)st.st_size + 1);
        if (raw == NULL || brk_plog_pread_all(fd, raw, (size_t)st.st_size, 0) < 0)
            goto out;
        for (size_t e = 0; e < n; e++) {
            const uint8_t *p = raw + e * esz;
            if (k == 0) {
                uint32_t rel = be_get32(p), pos = be_get32(p + 4);
                if ((int64_t)pos >= seg->size_bytes)
                    goto out;
                if (seg->idx_count > 0 && (rel <= seg->idx[seg->idx_count - 1].rel ||
                                           pos <= seg->idx[seg->idx_count - 1].pos))
                    goto out;
                uint32_t before = seg->idx_count;
                brk_plog_idx_push(pl, seg, rel, pos);
                if (seg->idx_count == before)
                    goto out;
            } else {
                int64_t ts = (int64_t)be_get64(p);
                uint32_t rel = be_get32(p + 8);
                if (seg->tidx_count > 0 && (ts <= seg->tidx[seg->tidx_count - 1].ts_ms ||
                                            rel < seg->tidx[seg->tidx_count - 1].rel))
                    goto out;
                uint32_t before = seg->tidx_count;
                brk_plog_tidx_push(pl, seg, ts, rel);
                if (seg->tidx_count == before)
                    goto out;
            }
        }
        free(raw);
        raw = NULL;
        close(fd);
        fd = -1;
    }
    ok = true;
out:
    free(raw);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        seg->idx_count = 0;
        seg->tidx_count = 0;
    }
    return ok;
}

void brk_plog_seg_delete_files(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    if (pl->closing)
        return; /* its directory may be renamed already (deletion): the path could name another log's file */
    char path[PATH_MAX];
    const char *exts[3] = { ".log", ".index", ".timeindex" };
    for (int k = 0; k < 3; k++)
        if (brk_plog_path(pl, seg->base_offset, exts[k], path, sizeof path) == 0 &&
            unlink(path) < 0 && errno != ENOENT)
            log_warn("plog", "unlink failed path=%s err=\"%s\"", path, strerror(errno));
}

/* Close the index fds of a sealed segment whose index writes are done. */
void brk_plog_seg_idx_close(struct brk_plog_seg *seg)
{
    if (seg->idx_writes != 0)
        return;
    if (seg->idx_fd >= 0) {
        close(seg->idx_fd);
        seg->idx_fd = -1;
    }
    if (seg->tidx_fd >= 0) {
        close(seg->tidx_fd);
        seg->tidx_fd = -1;
    }
    free(seg->idx_disk);
    free(seg->tidx_disk);
    seg->idx_disk = seg->tidx_disk = NULL;
}
