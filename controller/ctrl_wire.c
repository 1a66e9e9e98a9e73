/*
 * ctrl_wire.c - the production world under the controller driver:
 * ctrl_create wires ctrl_env (ctrl_env.h) to files and libevent.
 *
 *   storage   = ctrl_mlog (the metadata log), ctrl_qstate (quorum-state),
 *               ctrl_snap (checkpoints) under cfg->metadata_dir; the log's
 *               fdatasync runs on the controller's own io_uring (common/uring,
 *               its eventfd on the loop), so the loop thread never waits for
 *               it.  Its own ring, not the broker's: a ring runs callbacks in
 *               queue order, so partition-log completions would otherwise wait
 *               behind a metadata sync.  Fault hook for tests:
 *               SAMSA_FAULT_MLOG_SYNC_DELAY_MS=<ms> starts every metadata sync
 *               that much later (uring_fault.sync_delay_ns): a slow disk.
 *   transport = ctrl_net (the controller listener and connections to the
 *               voters), whose frames go to ctrl_on_frame
 *   clock     = a libevent timer every tick_ms that calls ctrl_tick, and
 *               clock_wall_ms for operator status
 *   jitter    = getrandom
 *
 * The driver itself (ctrl.c, ctrl_rpc.c) includes none of these; the
 * simulator (test/sim/csim.c) wires in-memory ones instead.  Owned by the
 * driver once created: ctrl_destroy calls wire_release first.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/uring.h"
#include "controller/ctrl.h"
#include "controller/ctrl_mlog.h"
#include "controller/ctrl_net.h"
#include "controller/ctrl_qstate.h"
#include "controller/ctrl_snap.h"

struct ctrl_wire {
    char dir[1024];
    struct ctrl_mlog *mlog;
    struct ctrl_net *net;
    struct event *tick_ev;
    struct uring *ring;          /* metadata log syncs only */
    struct event *ring_ev;       /* its eventfd; or, in fallback, made active after a submit */
    void (*sync_done_cb)(void *arg, int rc);  /* the driver's, for the sync in flight */
    void *sync_done_arg;
    bool released;
};

/* ---- storage: files ---- */

static int64_t fs_log_start_offset(void *ctx) { return ctrl_mlog_start_offset(((struct ctrl_wire *)ctx)->mlog); }
static int64_t fs_log_end_offset(void *ctx) { return ctrl_mlog_end_offset(((struct ctrl_wire *)ctx)->mlog); }

static int fs_log_append(void *ctx, int64_t offset, int32_t epoch, struct bytes data)
{
    return ctrl_mlog_append(((struct ctrl_wire *)ctx)->mlog, offset, epoch, data);
}

static int fs_log_sync(void *ctx) { return ctrl_mlog_sync(((struct ctrl_wire *)ctx)->mlog); }

static int fs_log_read(void *ctx, int64_t offset, struct buf *out, int32_t *epoch_out)
{
    return ctrl_mlog_read(((struct ctrl_wire *)ctx)->mlog, offset, out, epoch_out);
}

static int fs_log_truncate(void *ctx, int64_t offset) { return ctrl_mlog_truncate(((struct ctrl_wire *)ctx)->mlog, offset); }

static int fs_log_cut_prefix(void *ctx, int64_t offset)
{
    return ctrl_mlog_cut_prefix(((struct ctrl_wire *)ctx)->mlog, offset);
}

static int fs_qstate_read(void *ctx, struct ctrl_qstate *out) { return ctrl_qstate_read(((struct ctrl_wire *)ctx)->dir, out); }

static int fs_qstate_write(void *ctx, const struct ctrl_qstate *qs)
{
    return ctrl_qstate_write(((struct ctrl_wire *)ctx)->dir, qs);
}

static int fs_snap_write(void *ctx, uint64_t index, uint64_t epoch, struct bytes payload)
{
    return ctrl_snap_write(((struct ctrl_wire *)ctx)->dir, index, epoch, payload);
}

static int fs_snap_latest(void *ctx, uint64_t *index, uint64_t *epoch)
{
    return ctrl_snap_latest(((struct ctrl_wire *)ctx)->dir, index, epoch);
}

static int fs_snap_read(void *ctx, uint64_t index, uint64_t epoch, struct buf *out)
{
    return ctrl_snap_read(((struct ctrl_wire *)ctx)->dir, index, epoch, out);
}

static void wire_sync_cb(void *arg, int res)
{
    struct ctrl_wire *w = arg;
    void (*cb)(void *, int) = w->sync_done_cb;
    w->sync_done_cb = NULL;
    if (w->released || !cb)
        return; /* the driver is going away */
    cb(w->sync_done_arg, res);
}

static int fs_log_sync_submit(void *ctx, void (*done_cb)(void *arg, int rc), void *arg)
{
    struct ctrl_wire *w = ctx;
    ASSERT(w->sync_done_cb == NULL); /* one in flight (ctrl_env.h) */
    w->sync_done_cb = done_cb;
    w->sync_done_arg = arg;
    int rc = uring_fdatasync(w->ring, ctrl_mlog_fd(w->mlog), wire_sync_cb, w);
    if (rc == 0 && (rc = uring_submit(w->ring)) > 0)
        rc = 0;
    if (rc < 0) {
        w->sync_done_cb = NULL;
        return rc;
    }
    if (uring_is_fallback(w->ring))
        event_active(w->ring_ev, EV_READ, 0); /* the sync runs in the next loop round */
    return 0;
}

static const struct ctrl_storage_ops files_ops = {
    fs_log_start_offset, fs_log_end_offset, fs_log_append, fs_log_sync, fs_log_read, fs_log_truncate,
    fs_log_cut_prefix, fs_qstate_read, fs_qstate_write, fs_snap_write, fs_snap_latest, fs_snap_read,
    fs_log_sync_submit,
};

/* The ring's eventfd fired (or, in fallback, a submit asked for a round):
 * run finished syncs' callbacks (the driver's ctrl_log_synced path). */
static void wire_ring_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ctrl_wire *w = arg;
    int rc = uring_reap(w->ring);
    if (rc < 0)
        log_error("ctrl", "metadata io_uring reap failed error=\"%s\"", err_str(rc));
}

/* The controller's ring: a few slots (one sync in flight) and the test
 * fault hook. */
static int wire_ring_create(struct ctrl_wire *w, const struct ctrl_config *cfg)
{
    int rc = uring_create(8, !cfg->uring_disabled, &w->ring);
    if (rc < 0)
        return rc;
    const char *delay = getenv("SAMSA_FAULT_MLOG_SYNC_DELAY_MS");
    if (delay && atoll(delay) > 0) {
        uring_fault_set(w->ring, &(struct uring_fault){ .nth = 1, .count = UINT32_MAX,
                                                        .sync_delay_ns = atoll(delay) * 1000000LL });
        log_warn("ctrl", "fault injection: every metadata log sync starts %lld ms late "
                 "(SAMSA_FAULT_MLOG_SYNC_DELAY_MS; tests only)", atoll(delay));
    }
    int efd = uring_event_fd(w->ring);
    w->ring_ev = efd >= 0 ? event_new(cfg->base, efd, EV_READ | EV_PERSIST, wire_ring_cb, w)
                          : event_new(cfg->base, -1, 0, wire_ring_cb, w);
    if (!w->ring_ev)
        return -ENOMEM;
    if (efd >= 0 && event_add(w->ring_ev, NULL) < 0) {
        log_error("ctrl", "cannot watch the metadata io_uring eventfd fd=%d", efd);
        return -ENOMEM;
    }
    return 0;
}

/* ---- transport: ctrl_net ---- */

static int net_send(void *ctx, uint32_t to, const Samsa__ControllerFrame *f)
{
    struct ctrl_wire *w = ctx;
    return w->net ? ctrl_net_send(w->net, to, f) : ERR_NOT_FOUND;
}

static size_t net_unsent_bytes(void *ctx)
{
    struct ctrl_wire *w = ctx;
    return w->net ? ctrl_net_unsent_bytes(w->net) : 0;
}

static const struct ctrl_transport_ops net_ops = { net_send, net_unsent_bytes };

/* ---- clock ---- */

static int64_t wire_wall_ms(void *ctx)
{
    (void)ctx;
    return clock_wall_ms();
}

static void wire_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ctrl_tick(arg);
}

static void wire_release(void *ctx)
{
    struct ctrl_wire *w = ctx;
    w->released = true; /* a sync completing in the drain below calls nobody */
    if (w->tick_ev)
        event_free(w->tick_ev);
    if (w->ring_ev)
        event_free(w->ring_ev);
    uring_destroy(w->ring); /* waits for a sync in flight: it uses the log's fd */
    ctrl_net_destroy(w->net);
    ctrl_mlog_destroy(w->mlog);
    free(w);
}

int ctrl_create(const struct ctrl_config *cfg, ctrl_apply_cb listener, ctrl_caught_up_cb caught_up, void *arg,
                struct ctrl **out)
{
    struct ctrl_wire *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    snprintf(w->dir, sizeof w->dir, "%s", cfg->metadata_dir);
    int rc = ctrl_mlog_open(w->dir, &w->mlog);
    if (rc == 0)
        rc = wire_ring_create(w, cfg);
    if (rc < 0) {
        wire_release(w);
        return rc;
    }
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) /* still new at every process start */
        seed = (uint64_t)cfg->node_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)clock_wall_ms() ^
               (uint64_t)clock_mono_ns() << 20 ^ (uint64_t)getpid() << 40;
    struct ctrl_env env = {
        .storage = &files_ops, .storage_ctx = w, .transport = &net_ops, .transport_ctx = w,
        .wall_ms = wire_wall_ms, .prng_seed = seed, .release = wire_release, .release_ctx = w,
    };
    struct ctrl *c;
    rc = ctrl_create_env(cfg, &env, listener, caught_up, arg, &c);
    if (rc < 0)
        return rc; /* w was released */
    rc = ctrl_net_create(cfg->base, (uint32_t)cfg->node_id, cfg->cluster_id ? cfg->cluster_id : "", ctrl_on_frame,
                         c, &w->net);
    if (rc == 0)
        ctrl_net_set_request_timeout(w->net, cfg->request_timeout_ms);
    if (rc == 0 && cfg->listen)
        rc = ctrl_net_listen(w->net, cfg->listen_host, cfg->listen_port);
    for (uint32_t i = 0; rc == 0 && i < cfg->voter_count; i++)
        if (cfg->voters[i].id != (uint32_t)cfg->node_id)
            rc = ctrl_net_peer_add(w->net, cfg->voters[i].id, cfg->voters[i].host, cfg->voters[i].port);
    if (rc == 0 && !(w->tick_ev = event_new(cfg->base, -1, EV_PERSIST, wire_tick_cb, c)))
        rc = -ENOMEM;
    if (rc == 0) {
        int64_t tick_ms = cfg->tick_ms > 0 ? cfg->tick_ms : 5; /* ctrl_create_env's default */
        struct timeval tv = { (time_t)(tick_ms / 1000), (suseconds_t)((tick_ms % 1000) * 1000) };
        if (event_add(w->tick_ev, &tv) < 0) {
            log_error("ctrl", "cannot arm the controller tick timer node=%d", cfg->node_id);
            rc = -ENOMEM;
        }
    }
    if (rc < 0) {
        ctrl_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}
