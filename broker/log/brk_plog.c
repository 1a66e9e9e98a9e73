/*
 * brk_plog.c - the partition log's life and its appends: config, ordered
 * async appends through uring (slots retired in append order), completions,
 * failure handling and repair, rolls, the flush tick, close/destroy, and
 * deletion (delete_records, retention, truncate_to).
 *
 * The rest of the log lives beside it, sharing brk_plog_int.h (the structs
 * and their invariants): brk_plog_seg.c (segments and indexes),
 * brk_plog_recover.c (open and recovery), brk_plog_tail.c (the O_DIRECT
 * tail ring), brk_plog_read.c (reads and offset lookups).  brk_plog.h is
 * the public interface of all five.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog_int.h"
#include "common/be.h"
#include "common/log.h"


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

void brk_plog_config_clamp(struct brk_plog_config *cfg)
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

uint32_t brk_plog_idx_max(const struct brk_plog *pl)
{
    return (uint32_t)(pl->cfg.segment_index_bytes / BRK_PLOG_IDX_ENTRY_BYTES);
}

uint32_t brk_plog_tidx_max(const struct brk_plog *pl)
{
    return (uint32_t)(pl->cfg.segment_index_bytes / BRK_PLOG_TIDX_ENTRY_BYTES);
}

bool brk_plog_flush_policy_on(const struct brk_plog *pl)
{
    return pl->cfg.flush_interval_messages != INT64_MAX || pl->cfg.flush_interval_ms != INT64_MAX;
}

struct brk_plog_seg *brk_plog_active(const struct brk_plog *pl)
{
    ASSERT(pl->seg_count > 0);
    return pl->segs[pl->seg_count - 1];
}

struct brk_plog_slot *brk_plog_slot_at(const struct brk_plog *pl, uint32_t index)
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

void brk_plog_free_all(struct brk_plog *pl)
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

/* ---- destroy ----------------------------------------------------------- */

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
    brk_plog_sync_fail_all(pl, ERR_NOT_LEADER);
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

int brk_plog_err_map(int res)
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
void brk_plog_fail(struct brk_plog *pl, int err, bool write_failed)
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

/* ---- completions and close --------------------------------------------- */

void brk_plog_on_roll(struct brk_plog *pl, brk_plog_roll_cb fn, void *arg)
{
    pl->roll_cb = fn;
    pl->roll_arg = arg;
}

void brk_plog_on_advance(struct brk_plog *pl, brk_plog_advance_cb fn, void *arg)
{
    pl->advance_cb = fn;
    pl->advance_arg = arg;
}

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

void brk_plog_queue_sync(struct brk_plog *pl, struct brk_plog_seg *seg)
{
    int rc = uring_fdatasync(pl->u, seg->fd, brk_plog_seg_sync_cb, seg);
    ASSERT(rc == 0); /* capacity was checked by the caller */
    seg->io_pending++;
    pl->io_count++;
    seg->dirty = false;
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
void brk_plog_completed(struct brk_plog *pl)
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
    brk_plog_sync_fail_all(pl, ERR_NOT_LEADER); /* a sync in flight still completes, answering nobody */
    (void)brk_plog_close_try(pl);
}

/* ---- append ------------------------------------------------------------ */

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
    if (pl->roll_cb)
        pl->roll_cb(pl->roll_arg, pl->next_offset);
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

/*
 * Check a leader's batches for a replica append (brk_plog_append_replica):
 * framing, CRC-32C, the first base offset at next_offset, offsets strictly
 * increasing.  *records_out counts the offsets they span (gaps included).
 */
static int brk_plog_replica_check(const struct brk_plog *pl, struct bytes batches, int64_t *records_out)
{
    int64_t expect = pl->next_offset;
    for (size_t pos = 0; pos < batches.len;) {
        struct brk_batch_hdr h;
        int rc = brk_batch_parse(batches.ptr + pos, batches.len - pos, &h);
        if (rc <= 0 || h.size_bytes > batches.len - pos || h.last_offset_delta < 0)
            return ERR_CORRUPT;
        if (!brk_batch_crc_ok(batches.ptr + pos, &h))
            return ERR_CORRUPT;
        if (pos == 0 ? h.base_offset != expect : h.base_offset < expect)
            return ERR_INVALID;
        if (h.base_offset > INT64_MAX - 1 - h.last_offset_delta)
            return ERR_CORRUPT;
        expect = h.base_offset + h.last_offset_delta + 1;
        pos += h.size_bytes;
    }
    *records_out = expect - pl->next_offset;
    return 0;
}

static int brk_plog_append_impl(struct brk_plog *pl, struct bytes batches, uint8_t *borrowed, bool replica,
                                int32_t leader_epoch, int64_t now_ms, int64_t *base_offset_out,
                                brk_plog_append_cb cb, void *arg)
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
    int64_t records = 0;
    if (replica) {
        rc = brk_plog_replica_check(pl, batches, &records);
        if (rc < 0)
            return rc;
    }
    /* structure check (the caller validated; a bug must not corrupt the log) */
    for (size_t pos = 0; !replica && pos < batches.len;) {
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
        if (replica) {
            ASSERT(h.base_offset >= off); /* checked above: the leader's offsets, kept */
            off = h.base_offset;
        } else {
            brk_batch_patch(b, off, leader_epoch);
        }
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
    return brk_plog_append_impl(pl, batches, NULL, false, leader_epoch, now_ms, base_offset_out, cb, arg);
}

int brk_plog_append_replica(struct brk_plog *pl, struct bytes batches, int64_t now_ms, brk_plog_append_cb cb,
                            void *arg)
{
    int64_t base = -1;
    int rc = brk_plog_append_impl(pl, batches, NULL, true, 0, now_ms, &base, cb, arg);
    ASSERT(rc < 0 || base == (int64_t)be_get64(batches.ptr + BRK_BATCH_OFF_BASE_OFFSET));
    return rc;
}

int brk_plog_append_replica_borrowed(struct brk_plog *pl, uint8_t *batches, size_t len, int64_t now_ms,
                                     brk_plog_append_cb cb, void *arg)
{
    ASSERT(batches != NULL);
    int64_t base = -1;
    int rc = brk_plog_append_impl(pl, bytes_make(batches, len), batches, true, 0, now_ms, &base, cb, arg);
    ASSERT(rc < 0 || base == (int64_t)be_get64(batches + BRK_BATCH_OFF_BASE_OFFSET));
    return rc;
}

int brk_plog_append_borrowed(struct brk_plog *pl, uint8_t *batches, size_t len, int32_t leader_epoch, int64_t now_ms,
                             int64_t *base_offset_out, brk_plog_append_cb cb, void *arg)
{
    ASSERT(batches != NULL);
    return brk_plog_append_impl(pl, bytes_make(batches, len), batches, false, leader_epoch, now_ms, base_offset_out,
                                cb, arg);
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
    brk_plog_sync_tick(pl, now_ms);
    if (pl->closing) {
        (void)brk_plog_close_try(pl); /* closed from a sync callback */
        return 0;
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
    brk_plog_sync_clamp(pl);
    log_info("plog", "truncated log dir=%s end_offset=%" PRId64, pl->dir, pl->end_offset);
    return 0;
}

int brk_plog_reset_to(struct brk_plog *pl, int64_t start_offset)
{
    if (pl->slot_head != pl->slot_tail || pl->io_count != 0 || pl->closing)
        return ERR_INVALID;
    if (start_offset < 0)
        return ERR_OFFSET_RANGE;
    if (pl->direct) { /* the ring forgets the old tail; the next append attaches to the new segment */
        brk_plog_tail_detach(pl);
        brk_plog_tail_reset(pl);
    }
    /* The new segment first: a failure leaves the old log as it was.  A
     * segment already at start_offset is reused (emptied) instead. */
    struct brk_plog_seg *keep = NULL;
    for (size_t k = 0; k < pl->seg_count; k++)
        if (pl->segs[k]->base_offset == start_offset)
            keep = pl->segs[k];
    if (keep == NULL) {
        int rc = brk_plog_seg_create(pl, start_offset);
        if (rc < 0) {
            log_error("plog", "cannot start the log afresh dir=%s start_offset=%" PRId64 " err=\"%s\"", pl->dir,
                      start_offset, err_str(rc));
            return rc;
        }
        keep = brk_plog_active(pl);
    } else if (ftruncate(keep->fd, 0) < 0) {
        int rc = -errno;
        log_error("plog", "cannot empty segment dir=%s base_offset=%" PRId64 " err=\"%s\"", pl->dir, start_offset,
                  err_str(rc));
        return rc;
    }
    int64_t dropped_bytes = 0;
    for (size_t k = 0; k < pl->seg_count; k++) {
        struct brk_plog_seg *seg = pl->segs[k];
        if (seg == keep)
            continue;
        dropped_bytes += seg->size_bytes;
        brk_plog_seg_delete_files(pl, seg);
        brk_plog_seg_free(seg);
    }
    pl->segs[0] = keep;
    pl->seg_count = 1;
    dropped_bytes += keep->size_bytes;
    keep->size_bytes = keep->visible_bytes = 0;
    keep->idx_count = keep->tidx_count = 0;
    keep->bytes_since_index = 0;
    keep->next_offset = start_offset;
    keep->max_ts_ms = keep->max_ts_offset = -1;
    keep->roll_base_ms = -1;
    keep->dirty = false;
    char path[PATH_MAX];
    if (brk_plog_path(pl, start_offset, ".index", path, sizeof path) == 0)
        unlink(path);
    if (brk_plog_path(pl, start_offset, ".timeindex", path, sizeof path) == 0)
        unlink(path);
    pl->start_offset = pl->end_offset = pl->next_offset = start_offset;
    brk_plog_sync_clamp(pl);
    ASSERT(brk_plog_active(pl) == keep);
    ASSERT(keep->io_pending == 0);
    log_info("plog", "log started afresh dir=%s start_offset=%" PRId64 " dropped_bytes=%" PRId64, pl->dir,
             start_offset, dropped_bytes);
    return 0;
}

void brk_plog_set_config(struct brk_plog *pl, const struct brk_plog_config *cfg)
{
    pl->cfg = *cfg;
    brk_plog_config_clamp(&pl->cfg);
}
