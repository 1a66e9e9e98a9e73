/*
 * brk_plog_recover.c - opening a partition log: listing the segments,
 * validating the last one batch by batch (header bounds, CRC-32C,
 * increasing offsets), cutting a torn tail or the direct-write zero slack,
 * deleting segments after a hole, trusting or rebuilding indexes, creating
 * segment files, and choosing direct appends when the file system takes
 * O_DIRECT.
 *
 * Part of the partition log (brk_plog.c; shared state in brk_plog_int.h).
 * Blocks: everything here is file-system calls on the opening thread.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/brk_plog_int.h"
#include "common/log.h"

static int brk_plog_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int brk_plog_seg_push(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    if (pl->seg_count >= BRK_PLOG_SEGMENTS_MAX)
        return ERR_LIMIT;
    if (pl->seg_count == pl->seg_cap) {
        size_t cap = pl->seg_cap ? pl->seg_cap * 2 : 16;
        struct brk_plog_seg **n = realloc(pl->segs, cap * sizeof *n);
        if (n == NULL)
            return -ENOMEM;
        pl->segs = n;
        pl->seg_cap = cap;
    }
    pl->segs[pl->seg_count++] = seg;
    return 0;
}

/*
 * The O_DIRECT alignment for fd's file system (at least 4 KiB), or 0 when
 * it has none (statx says so).  Kernels before 6.1 do not report it: 4 KiB.
 */
static size_t brk_plog_dio_align(int fd)
{
    size_t a = 4096;
#ifdef STATX_DIOALIGN
    struct statx st;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) == 0 && (st.stx_mask & STATX_DIOALIGN)) {
        if (st.stx_dio_offset_align == 0)
            return 0;
        if (st.stx_dio_offset_align > a)
            a = st.stx_dio_offset_align;
        if (st.stx_dio_mem_align > a)
            a = st.stx_dio_mem_align;
    }
#endif
    if ((a & (a - 1)) != 0 || a > BRK_PLOG_SLACK_BYTES_MAX)
        return 0; /* recovery could not tell its slack from a torn tail: buffered appends */
    return a;
}

/* Open seg's O_DIRECT append descriptor.  -EINVAL: the file system has no
 * direct I/O. */
int brk_plog_seg_open_direct(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    if (seg->wfd >= 0)
        return 0;
    char path[PATH_MAX];
    int rc = brk_plog_path(pl, seg->base_offset, ".log", path, sizeof path);
    if (rc < 0)
        return rc;
    seg->wfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    return seg->wfd < 0 ? -errno : 0;
}

int brk_plog_seg_create(struct brk_plog *pl, int64_t base)
{
    char path[PATH_MAX];
    int rc = brk_plog_path(pl, base, ".log", path, sizeof path);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    struct brk_plog_seg *seg = brk_plog_seg_new(pl, base, fd);
    if (seg == NULL) {
        close(fd);
        unlink(path);
        return -ENOMEM;
    }
    rc = pl->direct ? brk_plog_seg_open_direct(pl, seg) : 0;
    if (rc == 0)
        rc = brk_plog_seg_push(pl, seg);
    if (rc < 0) {
        brk_plog_seg_free(seg);
        unlink(path);
        return rc;
    }
    /* stale index files from an earlier life of this base offset */
    if (brk_plog_path(pl, base, ".index", path, sizeof path) == 0)
        unlink(path);
    if (brk_plog_path(pl, base, ".timeindex", path, sizeof path) == 0)
        unlink(path);
    return 0;
}

/* List <20 digits>.log base offsets; remove orphan index files. */
static int brk_plog_list(struct brk_plog *pl, int64_t **bases_out, size_t *count_out)
{
    DIR *d = opendir(pl->dir);
    if (d == NULL)
        return -errno;
    int64_t *bases = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        if (len != BRK_PLOG_NAME_DIGITS + 4 || strcmp(name + BRK_PLOG_NAME_DIGITS, ".log") != 0)
            continue;
        int64_t v = 0;
        bool digits = true;
        for (int k = 0; k < BRK_PLOG_NAME_DIGITS; k++) {
            if (name[k] < '0' || name[k] > '9' || v > (INT64_MAX - 9) / 10) {
                digits = false;
                break;
            }
            v = v * 10 + (name[k] - '0');
        }
        if (!digits)
            continue;
        if (n >= BRK_PLOG_SEGMENTS_MAX) {
            rc = ERR_LIMIT;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nb = realloc(bases, cap * sizeof *nb);
            if (nb == NULL) {
                rc = -ENOMEM;
                break;
            }
            bases = nb;
        }
        bases[n++] = v;
    }
    closedir(d);
    if (rc < 0) {
        free(bases);
        return rc;
    }
    if (n > 0)
        qsort(bases, n, sizeof *bases, brk_plog_cmp_i64);
    *bases_out = bases;
    *count_out = n;
    return 0;
}

/*
 * The zero slack a direct write leaves after the last batch (at most one
 * alignment unit, and the file ends on a 4 KiB boundary because direct
 * writes end aligned): not a torn tail, nothing was lost.
 */
static bool brk_plog_is_slack(int fd, int64_t from, int64_t size)
{
    if (size % 4096 != 0 || size - from <= 0 || size - from >= BRK_PLOG_SLACK_BYTES_MAX)
        return false;
    uint8_t b[4096];
    for (int64_t pos = from; pos < size;) {
        size_t n = size - pos < (int64_t)sizeof b ? (size_t)(size - pos) : sizeof b;
        if (brk_plog_pread_all(fd, b, n, pos) < 0)
            return false;
        for (size_t k = 0; k < n; k++)
            if (b[k] != 0)
                return false;
        pos += (int64_t)n;
    }
    return true;
}

/* Recover one segment.  *cut_out is set when the segment lost bytes (torn
 * or corrupt tail) or does not start where the previous one ended: every
 * later segment then follows a hole and must go (Kafka truncates the log at
 * the first invalid batch the same way).  Acknowledged data is never behind
 * such a hole: appends become visible, and are acknowledged, strictly in
 * order. */
static int brk_plog_recover_seg(struct brk_plog *pl, int64_t base, bool last, bool *cut_out)
{
    char path[PATH_MAX];
    int rc = brk_plog_path(pl, base, ".log", path, sizeof path);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    struct brk_plog_seg *seg = brk_plog_seg_new(pl, base, fd);
    if (seg == NULL) {
        close(fd);
        return -ENOMEM;
    }
    seg->size_bytes = st.st_size;
    int64_t valid_end = 0;
    const char *why = NULL;
    bool rebuilt = false;
    if (!last && brk_plog_seg_load_indexes(pl, seg)) {
        /* trusted sealed segment: find its end from the last index entry */
        int64_t from = seg->idx_count ? seg->idx[seg->idx_count - 1].pos : 0;
        if (seg->tidx_count) {
            seg->max_ts_ms = seg->tidx[seg->tidx_count - 1].ts_ms;
            seg->max_ts_offset = seg->base_offset + seg->tidx[seg->tidx_count - 1].rel;
        }
        rc = brk_plog_seg_scan(pl, seg, from, seg->size_bytes, false, false, &valid_end, &why);
        if (rc == 0 && why != NULL) {
            /* the index and log disagree, or the segment ends in direct-write
             * slack (killed before its seal): its index was written at the
             * roll, before its last writes landed, and the unchecked scan
             * cannot tell slack after a whole batch from a batch cut short.
             * Distrust both, rebuild with CRCs; the slack is cut below. */
            seg->idx_count = seg->tidx_count = 0;
            seg->next_offset = base;
            seg->max_ts_ms = seg->max_ts_offset = -1;
            rc = brk_plog_seg_scan(pl, seg, 0, seg->size_bytes, true, true, &valid_end, &why);
            rebuilt = true;
        }
    } else {
        rc = brk_plog_seg_scan(pl, seg, 0, seg->size_bytes, true, true, &valid_end, &why);
        rebuilt = !last;
    }
    if (rc < 0) {
        brk_plog_seg_free(seg);
        return rc;
    }
    if (valid_end < seg->size_bytes && brk_plog_is_slack(fd, valid_end, seg->size_bytes)) {
        log_info("plog", "cutting the zero slack of direct writes path=%s valid_bytes=%" PRId64
                 " slack_bytes=%" PRId64, path, valid_end, seg->size_bytes - valid_end);
        if (ftruncate(fd, valid_end) < 0) {
            rc = -errno;
            brk_plog_seg_free(seg);
            return rc;
        }
        seg->size_bytes = valid_end;
    } else if (valid_end < seg->size_bytes) {
        *cut_out = true;
        log_warn("plog",
                 "truncating torn or corrupt log tail path=%s reason=\"%s\" valid_bytes=%" PRId64
                 " dropped_bytes=%" PRId64,
                 path, why ? why : "?", valid_end, seg->size_bytes - valid_end);
        if (ftruncate(fd, valid_end) < 0) {
            rc = -errno;
            brk_plog_seg_free(seg);
            return rc;
        }
        seg->size_bytes = valid_end;
        /* entries past the cut cannot exist: scan stopped there */
    }
    seg->visible_bytes = seg->size_bytes;
    if (rebuilt) {
        log_info("plog", "rebuilt segment indexes path=%s entries=%u", path, seg->idx_count);
        rc = brk_plog_seg_write_indexes_sync(pl, seg);
        if (rc < 0)
            log_warn("plog", "could not write rebuilt indexes path=%s err=\"%s\"", path,
                     err_str(rc));
    }
    if (pl->seg_count > 0 && seg->base_offset > pl->segs[pl->seg_count - 1]->next_offset) {
        /* a hole before this segment: the previous one lost its tail */
        log_warn("plog", "segment does not continue the log path=%s base_offset=%" PRId64
                 " prev_next_offset=%" PRId64 "; dropping it and every later segment",
                 path, seg->base_offset, pl->segs[pl->seg_count - 1]->next_offset);
        *cut_out = true;
        brk_plog_seg_free(seg);
        return 1;
    }
    if (pl->seg_count > 0 && seg->base_offset < pl->segs[pl->seg_count - 1]->next_offset) {
        log_error("plog", "overlapping segments path=%s prev_next_offset=%" PRId64, path,
                  pl->segs[pl->seg_count - 1]->next_offset);
        brk_plog_seg_free(seg);
        return ERR_CORRUPT;
    }
    rc = brk_plog_seg_push(pl, seg);
    if (rc < 0)
        brk_plog_seg_free(seg);
    return rc;
}

void brk_plog_shared_init(struct brk_plog_shared *sh, bool direct_io, int64_t tail_buffer_bytes,
                          int64_t tail_buffers_max_bytes)
{
    memset(sh, 0, sizeof *sh);
    sh->direct_io = direct_io;
    sh->tail_buffer_bytes = tail_buffer_bytes;
    sh->tail_buffers_max_bytes = tail_buffers_max_bytes;
}

/* At open: direct appends when asked for and the file system takes them. */
static int brk_plog_direct_setup(struct brk_plog *pl)
{
    if (pl->shared == NULL || !pl->shared->direct_io)
        return 0;
    struct brk_plog_seg *seg = brk_plog_active(pl);
    size_t align = brk_plog_dio_align(seg->fd);
    int rc = align == 0 ? -EINVAL : brk_plog_seg_open_direct(pl, seg);
    if (rc == -EINVAL) {
        if (!pl->shared->direct_refused_logged)
            log_warn("plog", "file system refuses O_DIRECT, appends go through the page cache dir=%s "
                     "fix=\"none needed (Kafka writes this way); put log.dirs on ext4 or xfs for direct "
                     "appends, or set samsa.log.direct.io=false to silence this\"", pl->dir);
        pl->shared->direct_refused_logged = true;
        return 0;
    }
    if (rc < 0)
        return rc;
    pl->direct = true;
    pl->align = align;
    return 0;
}

int brk_plog_open(struct uring *u, struct brk_plog_shared *sh, const char *dir,
                  const struct brk_plog_config *cfg, int64_t log_start_offset_hint, struct brk_plog **out)
{
    ASSERT(u != NULL);
    ASSERT(out != NULL);
    struct brk_plog *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return -ENOMEM;
    size_t dl = strlen(dir);
    if (dl == 0 || dl >= sizeof pl->dir) {
        free(pl);
        return -ENAMETOOLONG;
    }
    memcpy(pl->dir, dir, dl + 1);
    pl->u = u;
    pl->shared = sh;
    pl->cfg = *cfg;
    brk_plog_config_clamp(&pl->cfg);
    buf_init(&pl->scratch, BRK_PLOG_BATCH_BYTES_MAX);
    pl->slots = calloc(BRK_PLOG_SLOTS_INITIAL, sizeof *pl->slots);
    if (pl->slots == NULL) {
        free(pl);
        return -ENOMEM;
    }
    pl->slot_cap = BRK_PLOG_SLOTS_INITIAL;
    pl->tail.inflight_end = -1;
    pl->last_flush_ms = -1;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        int rc = -errno;
        brk_plog_free_all(pl);
        return rc;
    }
    int64_t *bases = NULL;
    size_t n = 0;
    int rc = brk_plog_list(pl, &bases, &n);
    bool cut = false;
    size_t k = 0;
    for (; rc == 0 && k < n && !cut; k++)
        rc = brk_plog_recover_seg(pl, bases[k], k + 1 == n, &cut);
    if (rc == 1) {
        rc = 0;
        k--; /* that segment was not kept: delete it too */
    }
    for (; rc == 0 && cut && k < n; k++) {
        static const char *const exts[] = { ".log", ".index", ".timeindex" };
        for (int e = 0; e < 3; e++) {
            char path[PATH_MAX];
            if (brk_plog_path(pl, bases[k], exts[e], path, sizeof path) == 0 && unlink(path) < 0 &&
                errno != ENOENT)
                rc = -errno;
        }
        log_warn("plog", "deleted segment after a hole dir=%s base_offset=%" PRId64, dir, bases[k]);
    }
    free(bases);
    if (rc == 0 && pl->seg_count == 0)
        rc = brk_plog_seg_create(pl, log_start_offset_hint > 0 ? log_start_offset_hint : 0);
    if (rc == 0)
        rc = brk_plog_direct_setup(pl);
    if (rc < 0) {
        log_error("plog", "cannot open partition log dir=%s err=\"%s\"", dir, err_str(rc));
        brk_plog_free_all(pl);
        return rc;
    }
    struct brk_plog_seg *act = brk_plog_active(pl);
    pl->end_offset = pl->next_offset = act->next_offset;
    pl->start_offset = pl->segs[0]->base_offset;
    if (log_start_offset_hint > pl->start_offset)
        pl->start_offset = log_start_offset_hint < pl->end_offset ? log_start_offset_hint
                                                                  : pl->end_offset;
    brk_plog_sync_init(pl);
    log_info("plog", "opened partition log dir=%s segments=%zu start_offset=%" PRId64
             " end_offset=%" PRId64 " appends=%s", dir, pl->seg_count, pl->start_offset, pl->end_offset,
             pl->direct ? "direct" : "buffered");
    *out = pl;
    return 0;
}
