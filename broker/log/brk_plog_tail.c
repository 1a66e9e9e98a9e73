/*
 * brk_plog_tail.c - direct appends: the O_DIRECT tail ring of one
 * partition (broker/README.md, "Direct appends").  Appends are copied into
 * the ring and written block-aligned, at most one write in flight,
 * everything copied since in one write; flush.messages syncs are grouped
 * per segment; the ring serves reads of its newest bytes
 * (brk_plog_seg_pread), is sealed at a roll, failed wholesale after a
 * write error, and released when idle.  The invariants on copy_slot,
 * done_slot, sync_next and the ring's positions are in brk_plog_int.h.
 *
 * Part of the partition log (brk_plog.c; shared state in brk_plog_int.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/brk_plog_int.h"
#include "common/log.h"

static void brk_plog_tail_write_cb(void *arg, int res);
static void brk_plog_tail_sync_cb(void *arg, int res);

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
int brk_plog_seg_pread(const struct brk_plog_seg *seg, void *dst, size_t n, int64_t pos)
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

void brk_plog_tail_free(struct brk_plog *pl)
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

/* Forget the ring's contents (it keeps its memory): the next append
 * attaches it again from the file.  Nothing may be in flight or queued. */
void brk_plog_tail_reset(struct brk_plog *pl)
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
int brk_plog_tail_attach(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos)
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
void brk_plog_tail_detach(struct brk_plog *pl)
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
void brk_plog_tail_pump(struct brk_plog *pl)
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

/* Release a ring idle for BRK_PLOG_TAIL_IDLE_MS: its memory goes back to
 * the node's budget; reads go to the file and the next append attaches a
 * ring again. */
void brk_plog_tail_idle(struct brk_plog *pl, int64_t now_ms)
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
