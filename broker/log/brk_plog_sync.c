/*
 * brk_plog_sync.c - group commit for samsa.acks.all.fsync (brk_plog.h,
 * "Group commit"; design in broker/replica/README.md).
 *
 * A wave syncs every segment holding offsets in [durable_offset,
 * end_offset) as the wave starts (dsync_target): one uring fdatasync per
 * segment fd, all in flight together.  Requests made meanwhile queue; when
 * the wave's last fdatasync completes, the durable offset moves to the
 * target (never on a failure), the requests it covers are answered in
 * order, and a new wave starts if any request is left.  So a burst of
 * appends and requests costs one fdatasync per segment in flight, however
 * many callers wait.  A wave the full uring cut short counts up to the
 * first segment it could not queue; the flush tick restarts one.
 *
 * Invariants: durable_offset <= end_offset (truncation clamps it); it
 * never moves on a failed wave; a request is answered exactly once (by a
 * wave, a failure, the close) unless cancelled.
 *
 * TEST ONLY: test_sync_delay_ms holds a completed wave until the flush
 * tick at or past completion + delay; test_sync_fail turns each of the
 * wave's fdatasync results into -EIO (SAMSA_TEST_ONLY_FSYNC_FAULT).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_plog_int.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/uring.h"

void brk_plog_sync_init(struct brk_plog *pl)
{
    pl->durable_offset = pl->start_offset;
    pl->dsync_release_ms = -1;
}

int64_t brk_plog_durable_offset(const struct brk_plog *pl)
{
    return pl->durable_offset;
}

uint64_t brk_plog_sync_count(const struct brk_plog *pl)
{
    return pl->dsync_count;
}

static void brk_plog_dsync_cb(void *arg, int res);
static void brk_plog_sync_answer(struct brk_plog *pl);

/* Queue the next wave (nothing when one flies or nobody waits). */
static void brk_plog_dsync_start(struct brk_plog *pl)
{
    if (pl->dsync_wave || pl->sync_head == NULL || pl->offline_err != 0 || pl->closing)
        return;
    int64_t target = pl->end_offset;
    if (target <= pl->durable_offset)
        return; /* only after a truncation clamped a request: brk_plog_sync_answer answers it */
    for (size_t k = 0; k < pl->seg_count; k++) {
        struct brk_plog_seg *seg = pl->segs[k];
        if (k + 1 < pl->seg_count && pl->segs[k + 1]->base_offset <= pl->durable_offset)
            continue; /* wholly below the durable offset */
        if (seg->base_offset >= target)
            break;
        if (uring_pending_count(pl->u) >= URING_OPS_MAX ||
            uring_fdatasync(pl->u, seg->fd, brk_plog_dsync_cb, seg) < 0) {
            target = seg->base_offset; /* the rest waits for the next wave (flush tick) */
            break;
        }
        seg->io_pending++;
        pl->io_count++;
        pl->dsync_inflight++;
        pl->dsync_count++;
    }
    if (pl->dsync_inflight == 0)
        return; /* the uring is full: the flush tick tries again */
    pl->dsync_wave = true;
    pl->dsync_target = target;
    pl->dsync_err = 0;
}

static void brk_plog_sync_unlink_head(struct brk_plog *pl)
{
    struct brk_plog_sync_req *req = pl->sync_head;
    pl->sync_head = req->next;
    if (pl->sync_head == NULL)
        pl->sync_tail = NULL;
    req->next = NULL;
    req->queued = false;
}

/* Answer every request with err (a failed wave, a close). */
void brk_plog_sync_fail_all(struct brk_plog *pl, int err)
{
    while (pl->sync_head != NULL) {
        struct brk_plog_sync_req *req = pl->sync_head;
        brk_plog_sync_unlink_head(pl);
        pl->callouts++;
        req->cb(req->arg, err, pl->durable_offset);
        pl->callouts--;
    }
}

/* The wave is complete (and released, under the test delay). */
static void brk_plog_dsync_finish(struct brk_plog *pl)
{
    pl->dsync_wave = false;
    pl->dsync_release_ms = -1;
    if (pl->dsync_err != 0) {
        brk_plog_fail(pl, pl->dsync_err, false);
        brk_plog_sync_fail_all(pl, pl->offline_err != 0 ? pl->offline_err : brk_plog_err_map(pl->dsync_err));
        return;
    }
    if (pl->dsync_target > pl->durable_offset)
        pl->durable_offset = pl->dsync_target < pl->end_offset ? pl->dsync_target : pl->end_offset;
    brk_plog_sync_answer(pl);
}

/* Answer the requests the durable offset covers, in order (each took the
 * end when it came), then start a wave for the rest. */
static void brk_plog_sync_answer(struct brk_plog *pl)
{
    while (pl->sync_head != NULL && pl->sync_head->offset <= pl->durable_offset) {
        struct brk_plog_sync_req *req = pl->sync_head;
        brk_plog_sync_unlink_head(pl);
        pl->callouts++;
        req->cb(req->arg, 0, pl->durable_offset);
        pl->callouts--;
    }
    brk_plog_dsync_start(pl);
}

static void brk_plog_dsync_cb(void *arg, int res)
{
    struct brk_plog_seg *seg = arg;
    struct brk_plog *pl = seg->pl;
    ASSERT(pl->dsync_inflight > 0);
    seg->io_pending--;
    pl->io_count--;
    pl->dsync_inflight--;
    if (pl->shared && pl->shared->test_sync_fail && res >= 0)
        res = -EIO;
    if (res < 0 && pl->dsync_err == 0)
        pl->dsync_err = res;
    if (pl->dsync_inflight == 0) {
        if (pl->shared && pl->shared->test_sync_delay_ms > 0 && pl->dsync_err == 0 && !pl->closing)
            pl->dsync_release_ms = clock_wall_ms() + pl->shared->test_sync_delay_ms; /* held: the tick releases it */
        else
            brk_plog_dsync_finish(pl);
    }
    brk_plog_completed(pl);
}

int brk_plog_sync(struct brk_plog *pl, struct brk_plog_sync_req *req, brk_plog_sync_cb cb, void *arg)
{
    ASSERT(!req->queued);
    ASSERT(cb != NULL);
    if (pl->closing)
        return ERR_NOT_LEADER;
    if (pl->offline_err != 0)
        return pl->offline_err;
    if (pl->end_offset <= pl->durable_offset)
        return 1;
    req->offset = pl->end_offset;
    req->cb = cb;
    req->arg = arg;
    req->next = NULL;
    req->queued = true;
    if (pl->sync_tail)
        pl->sync_tail->next = req;
    else
        pl->sync_head = req;
    pl->sync_tail = req;
    brk_plog_dsync_start(pl);
    return 0;
}

void brk_plog_sync_cancel(struct brk_plog *pl, struct brk_plog_sync_req *req)
{
    if (!req->queued)
        return;
    struct brk_plog_sync_req **pp = &pl->sync_head, *prev = NULL;
    while (*pp != NULL && *pp != req) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    ASSERT(*pp == req);
    *pp = req->next;
    if (pl->sync_tail == req)
        pl->sync_tail = prev;
    req->next = NULL;
    req->queued = false;
}

/* Truncation or a reset moved the end back: nothing past it is durable. */
void brk_plog_sync_clamp(struct brk_plog *pl)
{
    if (pl->durable_offset > pl->end_offset)
        pl->durable_offset = pl->end_offset;
    if (pl->dsync_wave && pl->dsync_target > pl->end_offset)
        pl->dsync_target = pl->end_offset;
    if (pl->durable_offset < pl->start_offset && pl->end_offset == pl->start_offset)
        pl->durable_offset = pl->start_offset; /* an empty log (reset): nothing to sync */
    for (struct brk_plog_sync_req *req = pl->sync_head; req != NULL; req = req->next)
        if (req->offset > pl->end_offset)
            req->offset = pl->end_offset;
    if (!pl->dsync_wave)
        brk_plog_sync_answer(pl);
}

/* From the flush tick: release a held wave (test delay), or restart one
 * the full uring cut short. */
void brk_plog_sync_tick(struct brk_plog *pl, int64_t now_ms)
{
    if (pl->dsync_wave && pl->dsync_inflight == 0 && pl->dsync_release_ms >= 0 && now_ms >= pl->dsync_release_ms)
        brk_plog_dsync_finish(pl);
    else
        brk_plog_dsync_start(pl);
}

int brk_plog_test_fault_from_env(struct brk_plog_shared *sh)
{
    const char *v = getenv("SAMSA_TEST_ONLY_FSYNC_FAULT");
    if (v == NULL || v[0] == '\0')
        return 0;
    if (strcmp(v, "fail") == 0) {
        sh->test_sync_fail = true;
        return 1;
    }
    if (strncmp(v, "delay_ms:", 9) == 0) {
        char *end;
        errno = 0;
        long long ms = strtoll(v + 9, &end, 10);
        if (errno == 0 && *end == '\0' && ms > 0) {
            sh->test_sync_delay_ms = ms;
            return 1;
        }
    }
    return ERR_CONFIG;
}
