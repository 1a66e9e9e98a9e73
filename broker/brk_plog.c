/*
 * brk_plog.c - partition log: segments, sparse indexes, ordered async
 * appends through uring, recovery, retention.
 *
 * Append slots form a ring (slot_head..slot_tail, absolute uint32 indexes)
 * in append order.  A slot is finished when its bytes are written (and its
 * optional fdatasync has completed); finished slots are retired from the
 * head only, so visibility (end_offset, seg->visible_bytes) advances
 * strictly in append order whatever order the kernel completes in.  Every
 * uring op this log queues is counted in io_count, and a slot or a write
 * in flight holds its segment's io_pending; a segment is never freed while
 * its io_pending is non-zero, so buffers handed to uring stay valid.
 *
 * Direct appends (broker/README.md, "Direct appends") add the tail ring:
 *
 *   slot_head <= sync_next <= done_slot <= copy_slot <= slot_tail
 *
 * copy_slot is the first slot not wholly copied into the ring, done_slot
 * the first not wholly written, sync_next the first whose flush.messages
 * fdatasync is not yet queued.  In file positions of the ring's segment:
 *
 *   lo <= round_down(written, align) <= written <= copied <= size_bytes
 *
 * with at most one write in flight, [round_down(written), round_up(copied)).
 */
#include "brk_plog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/brk_batch.h"
#include "broker/brk_records.h"
#include "common/log.h"

#define BRK_PLOG_IDX_ENTRY_BYTES 8
#define BRK_PLOG_TIDX_ENTRY_BYTES 12
#define BRK_PLOG_NAME_DIGITS 20
/* Trailing zero bytes recovery accepts as direct-write slack (< the largest
 * alignment a file system may ask for). */
#define BRK_PLOG_SLACK_BYTES_MAX (64 << 10)

struct brk_plog_idx {
    uint32_t rel; /* last offset of the batch at pos, minus the segment base */
    uint32_t pos;
};

struct brk_plog_tidx {
    int64_t ts_ms;
    uint32_t rel;
};

struct brk_plog_seg {
    struct brk_plog *pl;
    int64_t base_offset;
    int64_t next_offset;   /* after the last assigned batch */
    int fd;                /* buffered: reads, syncs, truncation (and buffered appends) */
    int wfd;               /* O_DIRECT appends of the active segment; -1 otherwise */
    int64_t size_bytes;    /* assigned: written or queued */
    int64_t visible_bytes; /* completed, in order */
    int64_t max_ts_ms;
    int64_t max_ts_offset;
    int64_t roll_base_ms;  /* -1: set at the first append of this process */
    int64_t bytes_since_index;
    struct brk_plog_idx *idx;
    uint32_t idx_count, idx_cap;
    struct brk_plog_tidx *tidx;
    uint32_t tidx_count, tidx_cap;
    uint8_t *idx_disk;     /* encoded index files while their writes fly */
    uint8_t *tidx_disk;
    int idx_fd, tidx_fd;
    unsigned idx_writes;   /* index-file writes in flight (subset of io_pending) */
    unsigned io_pending;
    bool dirty;
};

struct brk_plog_slot {
    struct buf data;        /* the copy, for brk_plog_append */
    uint8_t *bytes;         /* what is written: data.ptr, or the caller's bytes (borrowed) */
    size_t len;
    struct brk_plog *pl;
    struct brk_plog_seg *seg;
    int64_t pos;
    int64_t next_offset;
    int pending;            /* its write and its sync, until each has completed */
    int rc;
    bool sync_failed;       /* the failure came from this append's fdatasync */
    bool want_sync;         /* direct: flush.messages asks for an fdatasync after the write */
    bool sync_queued;       /* direct: that fdatasync is in flight */
    brk_plog_append_cb cb;
    void *arg;
};

/* The O_DIRECT tail ring: file position p of seg lives at mem[p % cap_bytes]. */
struct brk_plog_tail {
    uint8_t *mem;             /* aligned to pl->align; NULL until the first append */
    size_t cap_bytes;         /* a multiple of pl->align */
    struct brk_plog_seg *seg; /* whose bytes the ring holds; NULL: not attached */
    int64_t lo;               /* first position held */
    int64_t copied;           /* end of the bytes copied in */
    int64_t written;          /* end of the bytes whose writes completed */
    int64_t inflight_end;     /* logical end of the write in flight; -1: none */
    uint32_t copy_slot;       /* first slot not wholly copied */
    size_t copy_off;          /* its bytes already copied */
    uint32_t done_slot;       /* first slot not wholly written */
    uint32_t sync_next;       /* first slot whose flush.messages sync is not queued */
    uint32_t sync_from, sync_to; /* the slots the sync in flight covers */
    bool sync_busy;
    bool retry;               /* the uring was full: pump again from the flush tick */
    int64_t last_append_ms;
};

struct brk_plog {
    struct uring *u;
    brk_plog_advance_cb advance_cb;   /* the visible end moved (brk_plog_on_advance) */
    void *advance_arg;
    struct brk_plog_shared *shared; /* NULL: buffered appends */
    bool direct;                    /* appends go through the tail ring */
    size_t align;                   /* O_DIRECT alignment (bytes, power of two) */
    struct brk_plog_tail tail;
    char dir[PATH_MAX - 32];
    struct brk_plog_config cfg;
    struct brk_plog_seg **segs;
    size_t seg_count, seg_cap;
    int64_t start_offset, end_offset, next_offset;
    int64_t messages_since_flush;
    int64_t last_flush_ms;
    int offline_err;
    bool offline_sticky;          /* EIO, a failed sync or an untrimmable tail: offline until reopened */
    bool nospace_outage;          /* appends failed for lack of space since the last good one */
    int64_t nospace_refused_count; /* appends refused during the current outage */
    unsigned io_count;
    uint32_t slot_head, slot_tail;
    struct brk_plog_slot **slots;   /* slot_cap pointers; a slot is allocated at its first use */
    uint32_t slot_cap;              /* power of two, <= BRK_PLOG_APPENDS_MAX */
    struct buf scratch;
    bool closing;                   /* brk_plog_close: appends refused, finishing when idle */
    brk_plog_close_cb close_cb;
    void *close_arg;
    unsigned callouts;              /* owner callbacks running now (a close inside one waits) */
};

#define BRK_PLOG_SLOTS_INITIAL 16u

/* ---- helpers ---------------------------------------------------------- */

void brk_plog_config_default(struct brk_plog_config *cfg)
{
    cfg->segment_bytes = 1073741824;
    cfg->roll_ms = 7LL * 24 * 3600 * 1000;
    cfg->retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->retention_bytes = -1;
    cfg->flush_interval_messages = INT64_MAX;
    cfg->flush_interval_ms = INT64_MAX;
    cfg->index_interval_bytes = 4096;
    cfg->segment_index_bytes = 10485760;
}

static void brk_plog_config_clamp(struct brk_plog_config *cfg)
{
    if (cfg->segment_bytes < 1024)
        cfg->segment_bytes = 1024;
    if (cfg->segment_bytes > INT32_MAX)
        cfg->segment_bytes = INT32_MAX;
    if (cfg->index_interval_bytes < 0)
        cfg->index_interval_bytes = 0;
    if (cfg->segment_index_bytes < 4 * BRK_PLOG_TIDX_ENTRY_BYTES)
        cfg->segment_index_bytes = 4 * BRK_PLOG_TIDX_ENTRY_BYTES;
    if (cfg->segment_index_bytes > INT32_MAX)
        cfg->segment_index_bytes = INT32_MAX;
    if (cfg->flush_interval_messages < 1)
        cfg->flush_interval_messages = 1;
    if (cfg->roll_ms < 1)
        cfg->roll_ms = 1;
}

static uint32_t brk_plog_idx_max(const struct brk_plog *pl)
{
    return (uint32_t)(pl->cfg.segment_index_bytes / BRK_PLOG_IDX_ENTRY_BYTES);
}

static uint32_t brk_plog_tidx_max(const struct brk_plog *pl)
{
    return (uint32_t)(pl->cfg.segment_index_bytes / BRK_PLOG_TIDX_ENTRY_BYTES);
}

static bool brk_plog_flush_policy_on(const struct brk_plog *pl)
{
    return pl->cfg.flush_interval_messages != INT64_MAX || pl->cfg.flush_interval_ms != INT64_MAX;
}

static int brk_plog_path(const struct brk_plog *pl, int64_t base, const char *ext, char *out,
                         size_t n)
{
    int w = snprintf(out, n, "%s/%020" PRId64 "%s", pl->dir, base, ext);
    if (w < 0 || (size_t)w >= n)
        return -ENAMETOOLONG;
    return 0;
}

static struct brk_plog_seg *brk_plog_active(const struct brk_plog *pl)
{
    ASSERT(pl->seg_count > 0);
    return pl->segs[pl->seg_count - 1];
}

static struct brk_plog_slot *brk_plog_slot_at(const struct brk_plog *pl, uint32_t index)
{
    struct brk_plog_slot *s = pl->slots[index & (pl->slot_cap - 1)];
    ASSERT(s != NULL);
    return s;
}

/*
 * The slot for index slot_tail, growing the pointer ring (doubling, up to
 * BRK_PLOG_APPENDS_MAX) when every position is in flight.  Slots never
 * move: uring callbacks hold pointers to them.  Returns NULL with *rc_out
 * set to ERR_LIMIT or -ENOMEM.
 */
static struct brk_plog_slot *brk_plog_slot_next(struct brk_plog *pl, int *rc_out)
{
    uint32_t live = pl->slot_tail - pl->slot_head;
    if (live == pl->slot_cap) {
        if (pl->slot_cap >= BRK_PLOG_APPENDS_MAX) {
            *rc_out = ERR_LIMIT;
            return NULL;
        }
        uint32_t cap = pl->slot_cap * 2;
        struct brk_plog_slot **n = calloc(cap, sizeof *n);
        if (n == NULL) {
            *rc_out = -ENOMEM;
            return NULL;
        }
        /* every old position is live (live == old cap): each keeps its slot */
        for (uint32_t i = pl->slot_head; i != pl->slot_tail; i++)
            n[i & (cap - 1)] = pl->slots[i & (pl->slot_cap - 1)];
        free(pl->slots);
        pl->slots = n;
        pl->slot_cap = cap;
    }
    struct brk_plog_slot **at = &pl->slots[pl->slot_tail & (pl->slot_cap - 1)];
    if (*at == NULL) {
        *at = calloc(1, sizeof **at);
        if (*at == NULL) {
            *rc_out = -ENOMEM;
            return NULL;
        }
        buf_init(&(*at)->data, 0);
        (*at)->pl = pl;
    }
    return *at;
}

static int brk_plog_pread_all(int fd, void *p, size_t n, int64_t off)
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

/* ---- the tail ring's bytes --------------------------------------------- */

static int64_t brk_plog_down(int64_t v, int64_t a)
{
    return v - v % a;
}

static int64_t brk_plog_up(int64_t v, int64_t a)
{
    return brk_plog_down(v + a - 1, a);
}

/* Copy n bytes of file position pos in (put), out (get) or zero them. */
static void brk_plog_ring_put(struct brk_plog_tail *t, int64_t pos, const uint8_t *src, size_t n)
{
    while (n > 0) {
        size_t at = (size_t)(pos % (int64_t)t->cap_bytes);
        size_t k = t->cap_bytes - at < n ? t->cap_bytes - at : n;
        if (src != NULL) {
            memcpy(t->mem + at, src, k);
            src += k;
        } else {
            memset(t->mem + at, 0, k);
        }
        pos += (int64_t)k;
        n -= k;
    }
}

static void brk_plog_ring_get(const struct brk_plog_tail *t, int64_t pos, uint8_t *dst, size_t n)
{
    while (n > 0) {
        size_t at = (size_t)(pos % (int64_t)t->cap_bytes);
        size_t k = t->cap_bytes - at < n ? t->cap_bytes - at : n;
        memcpy(dst, t->mem + at, k);
        dst += k;
        pos += (int64_t)k;
        n -= k;
    }
}

/*
 * Read n bytes of seg at pos: what the tail ring holds from it, the rest
 * with pread.  Bytes below the ring's lo are never under a direct write
 * (writes start at round_down(written) >= lo), so the buffered read cannot
 * race one.  Callers read only visible bytes (<= written <= copied).
 */
static int brk_plog_seg_pread(const struct brk_plog_seg *seg, void *dst, size_t n, int64_t pos)
{
    const struct brk_plog_tail *t = &seg->pl->tail;
    int64_t end = pos + (int64_t)n;
    if (t->seg != seg || end <= t->lo)
        return brk_plog_pread_all(seg->fd, dst, n, pos);
    ASSERT(end <= t->copied);
    int64_t from = pos > t->lo ? pos : t->lo;
    if (from > pos) {
        int rc = brk_plog_pread_all(seg->fd, dst, (size_t)(from - pos), pos);
        if (rc < 0)
            return rc;
    }
    brk_plog_ring_get(t, from, (uint8_t *)dst + (from - pos), (size_t)(end - from));
    return 0;
}

/* ---- segments and indexes -------------------------------------------- */

static void brk_plog_seg_free(struct brk_plog_seg *seg)
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

static struct brk_plog_seg *brk_plog_seg_new(struct brk_plog *pl, int64_t base, int fd)
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

static void brk_plog_tidx_push(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t ts_ms,
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
static void brk_plog_seg_note_batch(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
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
static int64_t brk_plog_seg_lookup(const struct brk_plog_seg *seg, int64_t offset)
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
static int brk_plog_hdr_at(const struct brk_plog_seg *seg, int64_t pos, int64_t limit,
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

static void brk_plog_idx_encode(const struct brk_plog_seg *seg, uint8_t *idx_out,
                                uint8_t *tidx_out)
{
    for (uint32_t k = 0; k < seg->idx_count; k++) {
        brk_batch_put32(idx_out + (size_t)k * 8, seg->idx[k].rel);
        brk_batch_put32(idx_out + (size_t)k * 8 + 4, seg->idx[k].pos);
    }
    for (uint32_t k = 0; k < seg->tidx_count; k++) {
        brk_batch_put64(tidx_out + (size_t)k * 12, (uint64_t)seg->tidx[k].ts_ms);
        brk_batch_put32(tidx_out + (size_t)k * 12 + 8, seg->tidx[k].rel);
    }
}

/* Synchronously (re)write a segment's index files (open/recovery only). */
static int brk_plog_seg_write_indexes_sync(struct brk_plog *pl, struct brk_plog_seg *seg)
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
static int brk_plog_seg_scan(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
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
static bool brk_plog_seg_load_indexes(struct brk_plog *pl, struct brk_plog_seg *seg)
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
                uint32_t rel = brk_batch_be32(p), pos = brk_batch_be32(p + 4);
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
                int64_t ts = (int64_t)brk_batch_be64(p);
                uint32_t rel = brk_batch_be32(p + 8);
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

/* ---- recovery / open --------------------------------------------------- */

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
static int brk_plog_seg_open_direct(struct brk_plog *pl, struct brk_plog_seg *seg)
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

static int brk_plog_seg_create(struct brk_plog *pl, int64_t base)
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

static void brk_plog_tail_free(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    ASSERT(t->seg == NULL);
    if (t->mem == NULL)
        return;
    free(t->mem);
    pl->shared->tail_buffers_bytes -= (int64_t)t->cap_bytes;
    ASSERT(pl->shared->tail_buffers_bytes >= 0);
    t->mem = NULL;
    t->cap_bytes = 0;
}

static void brk_plog_free_all(struct brk_plog *pl)
{
    pl->tail.seg = NULL;
    brk_plog_tail_free(pl);
    for (size_t k = 0; k < pl->seg_count; k++)
        brk_plog_seg_free(pl->segs[k]);
    free(pl->segs);
    for (uint32_t k = 0; k < pl->slot_cap; k++) {
        if (pl->slots[k] != NULL)
            buf_deinit(&pl->slots[k]->data);
        free(pl->slots[k]);
    }
    free(pl->slots);
    buf_deinit(&pl->scratch);
    free(pl);
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
    log_info("plog", "opened partition log dir=%s segments=%zu start_offset=%" PRId64
             " end_offset=%" PRId64 " appends=%s", dir, pl->seg_count, pl->start_offset, pl->end_offset,
             pl->direct ? "direct" : "buffered");
    *out = pl;
    return 0;
}

static void brk_plog_tail_pump(struct brk_plog *pl);
static void brk_plog_tail_detach(struct brk_plog *pl);

/* Free a log with nothing of its own queued or in flight. */
static void brk_plog_finish(struct brk_plog *pl)
{
    ASSERT(pl->io_count == 0);
    ASSERT(pl->slot_head == pl->slot_tail);
    if (pl->tail.seg != NULL && pl->tail.written == pl->tail.copied)
        brk_plog_tail_detach(pl); /* leaves the file at its exact size */
    brk_plog_free_all(pl);
}

void brk_plog_destroy(struct brk_plog *pl)
{
    if (pl == NULL)
        return;
    ASSERT(!pl->closing); /* its completions free it: brk_plog_close's caller drains the uring instead */
    while (pl->io_count > 0 || pl->slot_head != pl->slot_tail) {
        if (pl->tail.retry)
            brk_plog_tail_pump(pl); /* a write the full uring refused: the drain made room */
        int rc = uring_drain(pl->u);
        if (rc < 0) {
            log_error("plog", "drain failed at close dir=%s err=\"%s\"", pl->dir, err_str(rc));
            ASSERT(pl->io_count == 0); /* freeing buffers the kernel still uses would be worse */
        }
        ASSERT(pl->io_count > 0 || pl->slot_head == pl->slot_tail || pl->tail.retry);
    }
    brk_plog_finish(pl);
}

/* ---- failure handling ------------------------------------------------- */

static int brk_plog_err_map(int res)
{
    return res == -ENOSPC || res == -EDQUOT ? ERR_NO_SPACE : res;
}

/* The operator line for a full file system: once per outage (an outage ends
 * with the next append that is written), however often clients retry. */
static void brk_plog_nospace_note(struct brk_plog *pl, int err)
{
    if (pl->nospace_outage)
        return;
    pl->nospace_outage = true;
    log_error("plog",
              "partition log cannot write dir=%s err=\"%s\" end_offset=%" PRId64
              " fix=\"free space on the file system holding this log dir (delete data or topics, lower "
              "retention.bytes/retention.ms, or grow the volume); appends resume by themselves once there is "
              "room, no restart needed; every acknowledged batch (below end_offset) is intact; this is logged "
              "once per outage\"",
              pl->dir, err_str(err), pl->end_offset);
}

/*
 * Take the log offline after a failed write or sync.  A write refused for
 * lack of space (ENOSPC, EDQUOT) is transient: whatever a short write put
 * down lies past the visible end, so once that tail is trimmed
 * (brk_plog_repair) the log is writable again.  Anything else - EIO, or a failed fdatasync, after
 * which the page cache may have dropped data it had accepted (Linux marks
 * such pages clean) - is sticky until the broker reopens the log.
 */
static void brk_plog_fail(struct brk_plog *pl, int err, bool write_failed)
{
    int mapped = brk_plog_err_map(err);
    if (write_failed && mapped == ERR_NO_SPACE && !pl->offline_sticky) {
        if (pl->offline_err == 0) {
            pl->offline_err = mapped;
            brk_plog_nospace_note(pl, err);
        }
        return;
    }
    if (pl->offline_sticky)
        return;
    pl->offline_sticky = true;
    pl->offline_err = mapped;
    log_error("plog",
              "partition log offline after write failure dir=%s err=\"%s\" end_offset=%" PRId64
              " fix=\"free space or replace the disk under this log dir, then restart the broker; "
              "every acknowledged batch (below end_offset) is intact\"",
              pl->dir, err_str(err), pl->end_offset);
}

static void brk_plog_seg_delete_files(struct brk_plog *pl, struct brk_plog_seg *seg)
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

/* Forget the ring's contents (it keeps its memory): the next append
 * attaches it again from the file.  Nothing may be in flight or queued. */
static void brk_plog_tail_reset(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    ASSERT(t->inflight_end < 0 && !t->sync_busy);
    ASSERT(pl->slot_head == pl->slot_tail);
    t->seg = NULL;
    t->lo = t->copied = t->written = 0;
    t->copy_slot = t->done_slot = t->sync_next = pl->slot_tail;
    t->copy_off = 0;
    t->retry = false;
}

/* After a failure, once nothing of ours flies, cut everything not visible. */
static void brk_plog_repair(struct brk_plog *pl)
{
    if (pl->offline_err == 0 || pl->io_count != 0)
        return;
    if (pl->direct) {
        if (pl->slot_head != pl->slot_tail)
            return; /* the pump fails them first */
        brk_plog_tail_reset(pl);
    }
    while (pl->seg_count > 1 && brk_plog_active(pl)->base_offset > pl->end_offset) {
        struct brk_plog_seg *seg = brk_plog_active(pl);
        brk_plog_seg_delete_files(pl, seg);
        brk_plog_seg_free(seg);
        pl->seg_count--;
    }
    struct brk_plog_seg *seg = brk_plog_active(pl);
    if (seg->size_bytes != seg->visible_bytes || pl->direct) { /* direct: the slack too */
        if (ftruncate(seg->fd, seg->visible_bytes) < 0) {
            int err = -errno;
            log_warn("plog", "could not trim failed tail dir=%s err=\"%s\" (recovery will)", pl->dir,
                     err_str(err));
            brk_plog_fail(pl, err, false);
        }
        seg->size_bytes = seg->visible_bytes;
        while (seg->idx_count > 0 && seg->idx[seg->idx_count - 1].pos >= seg->visible_bytes)
            seg->idx_count--;
        while (seg->tidx_count > 0 &&
               seg->base_offset + seg->tidx[seg->tidx_count - 1].rel >= pl->end_offset)
            seg->tidx_count--;
    }
    seg->next_offset = pl->end_offset;
    pl->next_offset = pl->end_offset;
    if (!pl->offline_sticky)
        pl->offline_err = 0; /* out of space only: the next append tries the disk again */
}

/* ---- append ------------------------------------------------------------ */

void brk_plog_on_advance(struct brk_plog *pl, brk_plog_advance_cb fn, void *arg)
{
    pl->advance_cb = fn;
    pl->advance_arg = arg;
}

static void brk_plog_completed(struct brk_plog *pl);

static void brk_plog_slots_retire(struct brk_plog *pl)
{
    int64_t end_before = pl->end_offset;
    while (pl->slot_head != pl->slot_tail) {
        struct brk_plog_slot *s = brk_plog_slot_at(pl, pl->slot_head);
        if (s->pending > 0)
            break;
        pl->slot_head++;
        s->seg->io_pending--;
        int rc = s->rc;
        if (rc == 0 && pl->offline_err == 0) {
            ASSERT(s->next_offset > pl->end_offset);
            pl->end_offset = s->next_offset;
            s->seg->visible_bytes = s->pos + (int64_t)s->len;
            if (pl->nospace_outage) {
                log_warn("plog", "partition log writable again dir=%s end_offset=%" PRId64
                         " appends_refused=%" PRId64, pl->dir, pl->end_offset, pl->nospace_refused_count);
                pl->nospace_outage = false;
                pl->nospace_refused_count = 0;
            }
        } else {
            if (rc != 0)
                brk_plog_fail(pl, rc, !s->sync_failed);
            rc = pl->offline_err;
            if (pl->nospace_outage && rc == ERR_NO_SPACE)
                pl->nospace_refused_count++;
        }
        s->sync_failed = false;
        s->want_sync = false;
        s->sync_queued = false;
        s->seg = NULL;
        pl->callouts++;
        s->cb(s->arg, rc);
        pl->callouts--;
    }
    brk_plog_repair(pl);
    if (pl->end_offset > end_before && pl->advance_cb) {
        pl->callouts++;
        pl->advance_cb(pl->advance_arg, pl->end_offset);
        pl->callouts--;
    }
}

static void brk_plog_slot_cb(void *arg, int res)
{
    struct brk_plog_slot *s = arg;
    struct brk_plog *pl = s->pl;
    ASSERT(s->pending > 0);
    s->pending--;
    pl->io_count--;
    if (res < 0 && s->rc == 0)
        s->rc = brk_plog_err_map(res);
    brk_plog_completed(pl);
}

/* The fdatasync of a flush.messages append: its failure is never transient. */
static void brk_plog_slot_sync_cb(void *arg, int res)
{
    struct brk_plog_slot *s = arg;
    if (res < 0)
        s->sync_failed = true;
    brk_plog_slot_cb(arg, res);
}

/* Generic completion for syncs queued outside an append (roll, flush tick). */
static void brk_plog_seg_sync_cb(void *arg, int res)
{
    struct brk_plog_seg *seg = arg;
    struct brk_plog *pl = seg->pl;
    seg->io_pending--;
    pl->io_count--;
    if (res < 0)
        brk_plog_fail(pl, res, false);
    brk_plog_completed(pl);
}

/* Close the index fds of a sealed segment whose index writes are done. */
static void brk_plog_seg_idx_close(struct brk_plog_seg *seg)
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

static void brk_plog_idx_write_cb(void *arg, int res)
{
    struct brk_plog_seg *seg = arg;
    struct brk_plog *pl = seg->pl;
    seg->io_pending--;
    seg->idx_writes--;
    pl->io_count--;
    if (res < 0)
        log_warn("plog", "index write failed dir=%s base_offset=%" PRId64
                 " err=\"%s\" (rebuilt at next open)", pl->dir, seg->base_offset, err_str(res));
    brk_plog_seg_idx_close(seg);
    brk_plog_completed(pl);
}

static void brk_plog_queue_sync(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    int rc = uring_fdatasync(pl->u, seg->fd, brk_plog_seg_sync_cb, seg);
    ASSERT(rc == 0); /* capacity was checked by the caller */
    seg->io_pending++;
    pl->io_count++;
    seg->dirty = false;
}

/* ---- direct appends: the tail ring ------------------------------------------ */

/* The ring's memory, within the node's budget (past it: the minimum size). */
static int brk_plog_tail_alloc(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    struct brk_plog_shared *sh = pl->shared;
    int64_t a = (int64_t)pl->align;
    int64_t small = brk_plog_up(BRK_PLOG_TAIL_MIN_BYTES > 2 * a ? BRK_PLOG_TAIL_MIN_BYTES : 2 * a, a);
    int64_t want = brk_plog_up(sh->tail_buffer_bytes, a);
    if (want < small || sh->tail_buffers_bytes + want > sh->tail_buffers_max_bytes)
        want = small;
    void *mem = NULL;
    int rc = posix_memalign(&mem, pl->align, (size_t)want);
    if (rc != 0)
        return -rc;
    t->mem = mem;
    t->cap_bytes = (size_t)want;
    sh->tail_buffers_bytes += want;
    return 0;
}

/*
 * Point the ring at seg, whose next byte goes to position pos: the partial
 * block before pos is read back, since the next write rewrites that block.
 * Cannot fail for a new segment (pos 0) once the ring has memory and the
 * segment its O_DIRECT descriptor.
 */
static int brk_plog_tail_attach(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos)
{
    struct brk_plog_tail *t = &pl->tail;
    ASSERT(t->seg == NULL);
    int rc = t->mem == NULL ? brk_plog_tail_alloc(pl) : 0;
    if (rc == 0)
        rc = brk_plog_seg_open_direct(pl, seg);
    int64_t lo = brk_plog_down(pos, (int64_t)pl->align);
    if (rc == 0 && pos > lo)
        rc = brk_plog_pread_all(seg->fd, t->mem + lo % (int64_t)t->cap_bytes, (size_t)(pos - lo), lo);
    if (rc < 0) {
        log_error("plog", "cannot start direct appends dir=%s base_offset=%" PRId64 " err=\"%s\"", pl->dir,
                  seg->base_offset, err_str(rc));
        return rc;
    }
    t->seg = seg;
    t->lo = lo;
    t->copied = t->written = pos;
    t->inflight_end = -1;
    return 0;
}

/* Let go of the ring's segment once all its bytes are written: cut the
 * zero slack so the file ends at its last batch, as Kafka's does. */
static void brk_plog_tail_detach(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    struct brk_plog_seg *seg = t->seg;
    if (seg == NULL)
        return;
    ASSERT(t->inflight_end < 0);
    /* copied > written only after a failed write: the repair trims the file */
    if (t->written == t->copied && t->written % (int64_t)pl->align != 0 && ftruncate(seg->fd, t->written) < 0)
        log_warn("plog", "could not cut the zero slack after the last batch dir=%s base_offset=%" PRId64
                 " size=%" PRId64 " err=\"%s\" (recovery cuts it)", pl->dir, seg->base_offset, t->written,
                 strerror(errno));
    t->seg = NULL;
}

/* The rolled segment is all written: seal it (exact size, no O_DIRECT
 * descriptor, the roll's fdatasync when a flush policy asks for one). */
static void brk_plog_tail_seal(struct brk_plog *pl)
{
    struct brk_plog_seg *old = pl->tail.seg;
    brk_plog_tail_detach(pl);
    if (old->wfd >= 0) {
        close(old->wfd);
        old->wfd = -1;
    }
    if (old->dirty && brk_plog_flush_policy_on(pl)) {
        if (uring_pending_count(pl->u) < URING_OPS_MAX)
            brk_plog_queue_sync(pl, old);
        /* else the flush tick syncs it: it stays dirty */
    }
}

/*
 * Fail every slot whose bytes are not written, and the flush.messages
 * syncs not yet queued (the log is offline: nothing more reaches the
 * disk).  No write may be in flight.
 */
static void brk_plog_tail_fail(struct brk_plog *pl, int err)
{
    struct brk_plog_tail *t = &pl->tail;
    ASSERT(t->inflight_end < 0);
    bool bytes_written = true; /* until done_slot */
    for (uint32_t i = t->sync_next; i != pl->slot_tail; i++) {
        struct brk_plog_slot *s = brk_plog_slot_at(pl, i);
        if (i == t->done_slot)
            bytes_written = false;
        /* its write, and its sync when it will never be queued */
        int parts = !bytes_written + (s->want_sync && !s->sync_queued);
        s->pending -= parts;
        if (parts > 0 && s->rc == 0)
            s->rc = err;
        ASSERT(s->pending >= 0);
    }
    t->sync_next = t->done_slot = t->copy_slot = pl->slot_tail;
    t->copy_off = 0;
}

static void brk_plog_tail_write_cb(void *arg, int res);
static void brk_plog_tail_sync_cb(void *arg, int res);

/* Queue one fdatasync for the written slots whose flush.messages asks for
 * one (those of one segment; the next group waits for it). */
static void brk_plog_tail_sync_queue(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    if (t->sync_busy || pl->offline_err != 0)
        return;
    while (t->sync_next != t->done_slot && !brk_plog_slot_at(pl, t->sync_next)->want_sync)
        t->sync_next++;
    if (t->sync_next == t->done_slot)
        return;
    struct brk_plog_seg *seg = brk_plog_slot_at(pl, t->sync_next)->seg;
    uint32_t to = t->sync_next;
    while (to != t->done_slot && brk_plog_slot_at(pl, to)->seg == seg)
        to++;
    if (uring_fdatasync(pl->u, seg->fd, brk_plog_tail_sync_cb, pl) < 0) {
        t->retry = true;
        return;
    }
    pl->io_count++;
    for (uint32_t i = t->sync_next; i != to; i++)
        brk_plog_slot_at(pl, i)->sync_queued = brk_plog_slot_at(pl, i)->want_sync;
    t->sync_busy = true;
    t->sync_from = t->sync_next;
    t->sync_to = to;
    t->sync_next = to;
}

/*
 * Move bytes along: copy waiting slots into the ring as space allows and,
 * when no write is in flight, write everything copied and not written.
 * Offline: fail what is left instead, once the write in flight is back.
 */
static void brk_plog_tail_pump(struct brk_plog *pl)
{
    struct brk_plog_tail *t = &pl->tail;
    t->retry = false;
    if (pl->offline_err != 0) {
        if (t->inflight_end < 0)
            brk_plog_tail_fail(pl, pl->offline_err);
        return;
    }
    brk_plog_tail_sync_queue(pl);
    int64_t a = (int64_t)pl->align, cap = (int64_t)t->cap_bytes;
    while (t->copy_slot != pl->slot_tail) {
        struct brk_plog_slot *s = brk_plog_slot_at(pl, t->copy_slot);
        if (t->seg != s->seg) {
            /* a rolled segment: its last write first, then the ring moves on */
            ASSERT(t->seg != NULL);
            if (t->inflight_end >= 0 || t->written != t->copied)
                break;
            brk_plog_tail_seal(pl);
            ASSERT(s->pos == 0 && t->copy_off == 0);
            int rc = brk_plog_tail_attach(pl, s->seg, 0);
            ASSERT(rc == 0); /* a new file: memory and descriptor are there, no read */
        }
        ASSERT(t->copied == s->pos + (int64_t)t->copy_off);
        if (t->inflight_end >= 0 && t->copied < brk_plog_up(t->inflight_end, a))
            break; /* those cells are the zero slack the write in flight reads */
        int64_t room = brk_plog_down(t->written, a) + cap - t->copied;
        if (room <= 0)
            break;
        size_t n = s->len - t->copy_off;
        if ((int64_t)n > room)
            n = (size_t)room;
        brk_plog_ring_put(t, t->copied, s->bytes + t->copy_off, n);
        t->copied += (int64_t)n;
        if (t->copied - t->lo > cap)
            t->lo = t->copied - cap;
        t->copy_off += n;
        if (t->copy_off < s->len)
            break; /* the ring is full */
        t->copy_slot++;
        t->copy_off = 0;
    }
    if (t->seg == NULL || t->inflight_end >= 0 || t->copied == t->written)
        return;
    int64_t ws = brk_plog_down(t->written, a), we = brk_plog_up(t->copied, a);
    int64_t wrap = brk_plog_down(ws, cap) + cap, end = t->copied;
    if (we > wrap) {
        we = end = wrap; /* the rest goes in the next write */
    } else if (we > t->copied) {
        brk_plog_ring_put(t, t->copied, NULL, (size_t)(we - t->copied)); /* the slack */
        if (we - cap > t->lo)
            t->lo = we - cap;
    }
    if (uring_write(pl->u, t->seg->wfd, t->mem + ws % cap, (size_t)(we - ws), ws, brk_plog_tail_write_cb, pl) < 0) {
        t->retry = true;
        return;
    }
    t->inflight_end = end;
    t->seg->io_pending++;
    pl->io_count++;
}

/* Move bytes along, then finish slots in order. */
static void brk_plog_settle(struct brk_plog *pl)
{
    if (pl->direct)
        brk_plog_tail_pump(pl);
    brk_plog_slots_retire(pl);
}

/*
 * A closing log finishes once nothing of its own is queued or in flight,
 * never from inside an owner callback (the code around that call still
 * uses pl).  Direct appends the full uring refused have no completion of
 * ours left to pump them: try once more, else fail them as refused.
 * Returns true when pl was freed (the caller must not touch it).
 */
static bool brk_plog_close_try(struct brk_plog *pl)
{
    if (!pl->closing || pl->callouts > 0)
        return false;
    if (pl->io_count == 0 && pl->slot_head != pl->slot_tail) {
        ASSERT(pl->direct); /* buffered appends are all in flight; direct ones wait for a retry */
        brk_plog_settle(pl);
        if (pl->io_count == 0 && pl->slot_head != pl->slot_tail) {
            if (pl->offline_err == 0)
                pl->offline_err = ERR_NOT_LEADER; /* the pump fails what is left; the repair trims it */
            brk_plog_settle(pl);
        }
    }
    if (pl->io_count > 0 || pl->slot_head != pl->slot_tail)
        return false;
    brk_plog_close_cb cb = pl->close_cb;
    void *arg = pl->close_arg;
    brk_plog_finish(pl);
    cb(arg);
    return true;
}

/* Every completion ends here; pl may be gone after it. */
static void brk_plog_completed(struct brk_plog *pl)
{
    brk_plog_settle(pl);
    (void)brk_plog_close_try(pl);
}

void brk_plog_close(struct brk_plog *pl, brk_plog_close_cb done_cb, void *arg)
{
    ASSERT(done_cb != NULL);
    ASSERT(!pl->closing);
    pl->closing = true;
    pl->close_cb = done_cb;
    pl->close_arg = arg;
    pl->advance_cb = NULL; /* the owner hears nothing more but done_cb */
    pl->advance_arg = NULL;
    (void)brk_plog_close_try(pl);
}

static void brk_plog_tail_write_cb(void *arg, int res)
{
    struct brk_plog *pl = arg;
    struct brk_plog_tail *t = &pl->tail;
    struct brk_plog_seg *seg = t->seg;
    ASSERT(seg != NULL && t->inflight_end >= 0);
    seg->io_pending--;
    pl->io_count--;
    int64_t end = t->inflight_end;
    t->inflight_end = -1;
    if (res < 0) {
        brk_plog_fail(pl, res, true);
        brk_plog_tail_fail(pl, brk_plog_err_map(res));
    } else {
        t->written = end;
        seg->dirty = true;
        while (t->done_slot != t->copy_slot) {
            struct brk_plog_slot *s = brk_plog_slot_at(pl, t->done_slot);
            ASSERT(s->seg == seg);
            if (s->pos + (int64_t)s->len > t->written)
                break;
            s->pending--; /* its write is back from the device */
            t->done_slot++;
        }
    }
    brk_plog_completed(pl);
}

static void brk_plog_tail_sync_cb(void *arg, int res)
{
    struct brk_plog *pl = arg;
    struct brk_plog_tail *t = &pl->tail;
    ASSERT(t->sync_busy);
    pl->io_count--;
    t->sync_busy = false;
    for (uint32_t i = t->sync_from; i != t->sync_to; i++) {
        struct brk_plog_slot *s = brk_plog_slot_at(pl, i);
        if (!s->sync_queued)
            continue;
        if (res < 0 && s->rc == 0) {
            s->rc = brk_plog_err_map(res);
            s->sync_failed = true;
        }
        s->pending--;
    }
    if (res < 0)
        brk_plog_fail(pl, res, false);
    brk_plog_completed(pl);
}

/* Seal the active segment (write its indexes via uring) and start a new one. */
static int brk_plog_roll(struct brk_plog *pl, int64_t now_ms)
{
    struct brk_plog_seg *old = brk_plog_active(pl);
    int rc = brk_plog_seg_create(pl, pl->next_offset);
    if (rc < 0 && brk_plog_err_map(rc) == ERR_NO_SPACE) {
        pl->nospace_refused_count++;
        brk_plog_nospace_note(pl, rc); /* nothing queued: the log stays online */
        return ERR_NO_SPACE;
    }
    if (rc < 0) {
        log_error("plog", "segment roll failed dir=%s base_offset=%" PRId64 " err=\"%s\"", pl->dir,
                  pl->next_offset, err_str(rc));
        return rc;
    }
    brk_plog_active(pl)->roll_base_ms = now_ms;
    if (old->max_ts_ms >= 0)
        brk_plog_tidx_push(pl, old, old->max_ts_ms, (uint32_t)(old->max_ts_offset - old->base_offset));
    brk_plog_seg_idx_close(old);
    size_t ib = (size_t)old->idx_count * 8, tb = (size_t)old->tidx_count * 12;
    old->idx_disk = malloc(ib + 1);
    old->tidx_disk = malloc(tb + 1);
    char path[PATH_MAX];
    if (old->idx_disk != NULL && old->tidx_disk != NULL &&
        brk_plog_path(pl, old->base_offset, ".index", path, sizeof path) == 0)
        old->idx_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (old->idx_fd >= 0 && brk_plog_path(pl, old->base_offset, ".timeindex", path, sizeof path) == 0)
        old->tidx_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (old->idx_fd >= 0 && old->tidx_fd >= 0) {
        brk_plog_idx_encode(old, old->idx_disk, old->tidx_disk);
        if (ib > 0) {
            rc = uring_write(pl->u, old->idx_fd, old->idx_disk, ib, 0, brk_plog_idx_write_cb, old);
            ASSERT(rc == 0);
            old->io_pending++;
            old->idx_writes++;
            pl->io_count++;
        }
        if (tb > 0) {
            rc = uring_write(pl->u, old->tidx_fd, old->tidx_disk, tb, 0, brk_plog_idx_write_cb, old);
            ASSERT(rc == 0);
            old->io_pending++;
            old->idx_writes++;
            pl->io_count++;
        }
        brk_plog_seg_idx_close(old); /* nothing queued if both are empty */
    } else {
        brk_plog_seg_idx_close(old);
        log_warn("plog", "could not write sealed segment indexes dir=%s base_offset=%" PRId64
                 " (rebuilt at next open)", pl->dir, old->base_offset);
    }
    bool sealed_here = !pl->direct || pl->tail.seg != old; /* direct: the ring seals it, if it is on it */
    if (pl->direct && sealed_here && old->wfd >= 0) {
        close(old->wfd); /* the ring was released or reset: nothing else would close it */
        old->wfd = -1;
    }
    if (old->dirty && brk_plog_flush_policy_on(pl) && sealed_here)
        brk_plog_queue_sync(pl, old);
    log_info("plog", "rolled segment dir=%s new_base_offset=%" PRId64 " old_bytes=%" PRId64,
             pl->dir, pl->next_offset, old->size_bytes);
    return 0;
}

static int brk_plog_append_impl(struct brk_plog *pl, struct bytes batches, uint8_t *borrowed, int32_t leader_epoch,
                                int64_t now_ms, int64_t *base_offset_out, brk_plog_append_cb cb, void *arg)
{
    ASSERT(cb != NULL);
    ASSERT(base_offset_out != NULL);
    if (pl->closing)
        return ERR_NOT_LEADER;
    if (pl->offline_err != 0) {
        if (pl->nospace_outage && pl->offline_err == ERR_NO_SPACE)
            pl->nospace_refused_count++;
        return pl->offline_err;
    }
    if (batches.ptr == NULL || batches.len == 0)
        return ERR_INVALID;
    if (batches.len > INT32_MAX)
        return ERR_TOO_LARGE;
    /* a roll may queue 3 ops, the append 2 */
    if (URING_OPS_MAX - uring_pending_count(pl->u) < 5)
        return ERR_LIMIT;
    int rc = 0;
    struct brk_plog_slot *s = brk_plog_slot_next(pl, &rc);
    if (s == NULL)
        return rc;
    ASSERT(s->seg == NULL);
    /* structure check (the caller validated; a bug must not corrupt the log) */
    int64_t records = 0;
    for (size_t pos = 0; pos < batches.len;) {
        struct brk_batch_hdr h;
        if (brk_batch_parse(batches.ptr + pos, batches.len - pos, &h) <= 0 || h.size_bytes > batches.len - pos ||
            h.last_offset_delta < 0)
            return ERR_CORRUPT;
        records += (int64_t)h.last_offset_delta + 1;
        pos += h.size_bytes;
    }
    struct brk_plog_seg *seg = brk_plog_active(pl);
    if (seg->size_bytes > 0 &&
        (seg->size_bytes + (int64_t)batches.len > pl->cfg.segment_bytes ||
         (seg->roll_base_ms >= 0 && now_ms - seg->roll_base_ms >= pl->cfg.roll_ms) ||
         seg->idx_count >= brk_plog_idx_max(pl) || seg->tidx_count + 1 >= brk_plog_tidx_max(pl) ||
         pl->next_offset - seg->base_offset + records > UINT32_MAX)) {
        rc = brk_plog_roll(pl, now_ms);
        if (rc < 0)
            return rc;
        seg = brk_plog_active(pl);
    }
    if (pl->direct && pl->tail.seg == NULL) {
        /* first append since open, a release or a repair: nothing is queued */
        ASSERT(pl->slot_head == pl->slot_tail);
        rc = brk_plog_tail_attach(pl, seg, seg->size_bytes);
        if (rc < 0)
            return rc;
    }
    if (borrowed) {
        s->bytes = borrowed;
    } else {
        buf_reset(&s->data);
        rc = buf_append(&s->data, batches.ptr, batches.len);
        if (rc < 0)
            return rc;
        s->bytes = s->data.ptr;
    }
    s->len = batches.len;
    int64_t base = pl->next_offset;
    int64_t off = base;
    int64_t pos = seg->size_bytes;
    for (size_t p = 0; p < s->len;) {
        struct brk_batch_hdr h;
        uint8_t *b = s->bytes + p;
        rc = brk_batch_parse(b, s->len - p, &h);
        ASSERT(rc > 0); /* same bytes as checked above */
        brk_batch_patch(b, off, leader_epoch);
        brk_plog_seg_note_batch(pl, seg, pos, off, &h);
        off += (int64_t)h.last_offset_delta + 1;
        pos += (int64_t)h.size_bytes;
        p += h.size_bytes;
    }
    if (seg->roll_base_ms < 0)
        seg->roll_base_ms = now_ms;
    s->seg = seg;
    s->pos = seg->size_bytes;
    s->next_offset = off;
    s->rc = 0;
    s->cb = cb;
    s->arg = arg;
    s->pending = 1;
    s->want_sync = false;
    s->sync_queued = false;
    bool sync = false;
    pl->messages_since_flush += records;
    if (pl->messages_since_flush >= pl->cfg.flush_interval_messages) {
        sync = true;
        pl->messages_since_flush = 0;
        pl->last_flush_ms = now_ms;
    }
    if (pl->last_flush_ms < 0)
        pl->last_flush_ms = now_ms;
    seg->io_pending++;
    seg->size_bytes += (int64_t)s->len;
    seg->next_offset = off;
    pl->next_offset = off;
    pl->slot_tail++;
    *base_offset_out = base;
    if (pl->direct) {
        /* into the ring; written, and synced when asked, by the pump */
        s->want_sync = sync;
        s->pending += sync;
        pl->tail.last_append_ms = now_ms;
        brk_plog_tail_pump(pl);
        return 0;
    }
    rc = uring_write(pl->u, seg->fd, s->bytes, s->len, s->pos, brk_plog_slot_cb, s);
    ASSERT(rc == 0);
    if (sync) {
        rc = uring_fdatasync(pl->u, seg->fd, brk_plog_slot_sync_cb, s);
        ASSERT(rc == 0);
        s->pending++;
    } else {
        seg->dirty = true;
    }
    pl->io_count += (unsigned)s->pending;
    return 0;
}

int brk_plog_append(struct brk_plog *pl, struct bytes batches, int32_t leader_epoch, int64_t now_ms,
                    int64_t *base_offset_out, brk_plog_append_cb cb, void *arg)
{
    return brk_plog_append_impl(pl, batches, NULL, leader_epoch, now_ms, base_offset_out, cb, arg);
}

int brk_plog_append_borrowed(struct brk_plog *pl, uint8_t *batches, size_t len, int32_t leader_epoch, int64_t now_ms,
                             int64_t *base_offset_out, brk_plog_append_cb cb, void *arg)
{
    ASSERT(batches != NULL);
    return brk_plog_append_impl(pl, bytes_make(batches, len), batches, leader_epoch, now_ms, base_offset_out, cb,
                                arg);
}

/* Release a ring idle for BRK_PLOG_TAIL_IDLE_MS: its memory goes back to
 * the node's budget; reads go to the file and the next append attaches a
 * ring again. */
static void brk_plog_tail_idle(struct brk_plog *pl, int64_t now_ms)
{
    struct brk_plog_tail *t = &pl->tail;
    if (t->mem == NULL || pl->slot_head != pl->slot_tail || t->inflight_end >= 0 || t->sync_busy ||
        now_ms - t->last_append_ms < BRK_PLOG_TAIL_IDLE_MS)
        return;
    if (t->seg != NULL && t->seg != brk_plog_active(pl))
        brk_plog_tail_seal(pl); /* a roll whose append failed: the old segment is all written */
    else
        brk_plog_tail_detach(pl);
    brk_plog_tail_reset(pl);
    brk_plog_tail_free(pl);
}

int brk_plog_flush_tick(struct brk_plog *pl, int64_t now_ms)
{
    ASSERT(!pl->closing); /* a closing log belongs to its completions */
    if (pl->direct) {
        if (pl->tail.retry)
            brk_plog_settle(pl);
        if (pl->closing) {
            (void)brk_plog_close_try(pl); /* closed from an append callback the retry ran */
            return 0;
        }
        brk_plog_tail_idle(pl, now_ms);
    }
    if (pl->offline_err != 0)
        return 0; /* nothing more reaches the disk; the failure was logged once, not every tick */
    if (pl->cfg.flush_interval_ms == INT64_MAX || pl->last_flush_ms < 0 ||
        now_ms - pl->last_flush_ms < pl->cfg.flush_interval_ms)
        return 0;
    for (size_t k = 0; k < pl->seg_count; k++) {
        struct brk_plog_seg *seg = pl->segs[k];
        if (!seg->dirty)
            continue;
        if (uring_pending_count(pl->u) >= URING_OPS_MAX)
            return ERR_LIMIT;
        brk_plog_queue_sync(pl, seg);
    }
    pl->last_flush_ms = now_ms;
    pl->messages_since_flush = 0;
    return 0;
}

/* ---- reads ------------------------------------------------------------- */

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

/* ---- deletion ------------------------------------------------------------ */

static void brk_plog_drop_front(struct brk_plog *pl, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct brk_plog_seg *seg = pl->segs[k];
        if (pl->tail.seg == seg) /* sealed, nothing in flight: a roll whose append then failed */
            brk_plog_tail_detach(pl);
        log_info("plog", "deleting segment dir=%s base_offset=%" PRId64 " bytes=%" PRId64, pl->dir,
                 seg->base_offset, seg->size_bytes);
        brk_plog_seg_delete_files(pl, seg);
        brk_plog_seg_free(seg);
    }
    memmove(pl->segs, pl->segs + n, (pl->seg_count - n) * sizeof *pl->segs);
    pl->seg_count -= n;
    if (pl->segs[0]->base_offset > pl->start_offset)
        pl->start_offset = pl->segs[0]->base_offset;
}

int brk_plog_delete_records(struct brk_plog *pl, int64_t offset)
{
    if (offset > pl->end_offset || offset < 0)
        return ERR_OFFSET_RANGE;
    if (offset <= pl->start_offset)
        return 0;
    pl->start_offset = offset;
    size_t n = 0;
    while (n + 1 < pl->seg_count && pl->segs[n]->next_offset <= offset &&
           pl->segs[n]->io_pending == 0)
        n++;
    if (n > 0)
        brk_plog_drop_front(pl, n);
    return 0;
}

static int64_t brk_plog_seg_age_ts(const struct brk_plog_seg *seg)
{
    if (seg->max_ts_ms >= 0)
        return seg->max_ts_ms;
    struct stat st;
    if (fstat(seg->fd, &st) < 0)
        return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int brk_plog_retention(struct brk_plog *pl, int64_t now_ms, int *segments_deleted_out)
{
    size_t n = 0;
    int64_t total = brk_plog_size_bytes(pl);
    while (n + 1 < pl->seg_count) {
        struct brk_plog_seg *seg = pl->segs[n];
        if (seg->io_pending != 0 || pl->segs[n + 1]->base_offset > pl->end_offset)
            break; /* not all visible: a failed append's repair may cut the log back into it */
        bool by_time = false, by_size = false;
        if (pl->cfg.retention_ms >= 0) {
            int64_t ts = brk_plog_seg_age_ts(seg);
            by_time = ts >= 0 && now_ms - ts > pl->cfg.retention_ms;
        }
        if (pl->cfg.retention_bytes >= 0)
            by_size = total - seg->size_bytes >= pl->cfg.retention_bytes;
        if (!by_time && !by_size)
            break;
        total -= seg->size_bytes;
        n++;
    }
    if (n > 0)
        brk_plog_drop_front(pl, n);
    if (pl->start_offset > pl->end_offset)
        pl->start_offset = pl->end_offset;
    if (segments_deleted_out != NULL)
        *segments_deleted_out = (int)n;
    return 0;
}

int brk_plog_truncate_to(struct brk_plog *pl, int64_t offset)
{
    if (pl->slot_head != pl->slot_tail || pl->io_count != 0)
        return ERR_INVALID;
    if (offset < pl->start_offset)
        return ERR_OFFSET_RANGE;
    if (offset >= pl->end_offset)
        return 0;
    if (pl->direct) { /* reads below go to the file; the next append attaches again */
        brk_plog_tail_detach(pl);
        brk_plog_tail_reset(pl);
    }
    while (pl->seg_count > 1 && brk_plog_active(pl)->base_offset >= offset) {
        struct brk_plog_seg *seg = brk_plog_active(pl);
        brk_plog_seg_delete_files(pl, seg);
        brk_plog_seg_free(seg);
        pl->seg_count--;
    }
    struct brk_plog_seg *seg = brk_plog_active(pl);
    /* find the first batch whose last offset >= offset; cut there (rare: scan) */
    int64_t pos = 0;
    int64_t new_end = seg->base_offset;
    while (pos < seg->size_bytes) {
        struct brk_batch_hdr h;
        int rc = brk_plog_hdr_at(seg, pos, seg->size_bytes, &h);
        if (rc < 0)
            return rc;
        if (h.base_offset + h.last_offset_delta >= offset)
            break;
        new_end = h.base_offset + h.last_offset_delta + 1;
        pos += (int64_t)h.size_bytes;
    }
    if (ftruncate(seg->fd, pos) < 0)
        return -errno;
    /* rebuild this segment's in-memory indexes from what is left */
    seg->size_bytes = seg->visible_bytes = pos;
    seg->idx_count = seg->tidx_count = 0;
    seg->bytes_since_index = 0;
    seg->next_offset = seg->base_offset;
    seg->max_ts_ms = seg->max_ts_offset = -1;
    int64_t valid_end;
    const char *why;
    int rc = brk_plog_seg_scan(pl, seg, 0, pos, false, true, &valid_end, &why);
    if (rc < 0)
        return rc;
    if (seg->next_offset < new_end)
        seg->next_offset = new_end;
    pl->end_offset = pl->next_offset = seg->next_offset;
    if (pl->start_offset > pl->end_offset)
        pl->start_offset = pl->end_offset;
    char path[PATH_MAX];
    if (brk_plog_path(pl, seg->base_offset, ".index", path, sizeof path) == 0)
        unlink(path);
    if (brk_plog_path(pl, seg->base_offset, ".timeindex", path, sizeof path) == 0)
        unlink(path);
    log_info("plog", "truncated log dir=%s end_offset=%" PRId64, pl->dir, pl->end_offset);
    return 0;
}

void brk_plog_set_config(struct brk_plog *pl, const struct brk_plog_config *cfg)
{
    pl->cfg = *cfg;
    brk_plog_config_clamp(&pl->cfg);
}
