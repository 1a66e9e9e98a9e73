/*
 * brk_replica.c - a local partition's replication role: lifecycle, role
 * changes, the leader half (follower fetches, acks, AlterPartition), the
 * high watermark and the epoch and HW checkpoints.  The follower half is in
 * brk_follower.c and brk_fetcher.c.  See brk_replica.h and broker/README.md,
 * "Replication".
 *
 * Time: brk_isr takes monotonic nanoseconds; they come from common/clock
 * here, the one place the shell reads the clock.
 */
#include "broker/replica/brk_replica.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/brk_ctx.h"
#include "broker/log/brk_ckpt.h"
#include "broker/log/brk_part.h"
#include <event2/event.h>
#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define REPLICA_HW_HINTS_MAX 200000
#define REPLICA_EPOCH_FILE_BYTES_MAX (4u << 20)

/* A partition whose HW moved and whose waiters have not heard it yet. */
struct hw_pending {
    uint8_t topic_id[16];
    int32_t partition;
};

/* Node-wide state: the HW checkpoint read at start (hints for attach), the
 * follower's fetch sessions (wired by the composition root), and the HW
 * notifications waiting for the loop (see brk_replica_set_high_watermark). */
struct brk_replicas {
    struct brk_ckpt_entry *hw_hints;
    size_t hw_hint_count;
    struct brk_replica_follower_ops follower;
    struct event *notify_ev;
    struct hw_pending *pending;
    size_t pending_count, pending_cap;
};

static struct brk_replica *rep_of(const struct brk_part *part)
{
    ASSERT(part->replica != NULL);
    return part->replica;
}

static int64_t now_ns(void) { return clock_mono_ns(); }

/* ---- module state ---- */

static void hw_notify_cb(evutil_socket_t fd, short what, void *arg);

int brk_replicas_create(struct brk_ctx *ctx)
{
    struct brk_replicas *rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    rs->hw_hints = calloc(REPLICA_HW_HINTS_MAX, sizeof *rs->hw_hints);
    if (!rs->hw_hints) {
        free(rs);
        return -ENOMEM;
    }
    const struct config_node *node = ctx->node;
    for (size_t d = 0; d < node->log_dir_count; d++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", node->log_dirs[d], BRK_REPLICA_HW_CKPT_FILE);
        size_t n = 0;
        int rc = brk_ckpt_read(path, rs->hw_hints + rs->hw_hint_count, REPLICA_HW_HINTS_MAX - rs->hw_hint_count, &n);
        if (rc == -ENOENT)
            continue;
        if (rc < 0) {
            log_warn("replica", "ignoring unreadable high watermark checkpoint path=%s error=\"%s\"; high watermarks "
                     "restart from the log start and follow the leaders again", path, err_str(rc));
            continue;
        }
        rs->hw_hint_count += n;
    }
    rs->notify_ev = event_new(ctx->base, -1, 0, hw_notify_cb, ctx);
    if (!rs->notify_ev) {
        free(rs->hw_hints);
        free(rs);
        return -ENOMEM;
    }
    ctx->replicas = rs;
    return 0;
}

void brk_replicas_set_follower(struct brk_ctx *ctx, const struct brk_replica_follower_ops *ops)
{
    ctx->replicas->follower = *ops;
}

void brk_replicas_destroy(struct brk_ctx *ctx)
{
    struct brk_replicas *rs = ctx->replicas;
    if (!rs)
        return;
    if (rs->notify_ev)
        event_free(rs->notify_ev);
    free(rs->pending);
    free(rs->hw_hints);
    free(rs);
    ctx->replicas = NULL;
}

static int64_t hw_hint(const struct brk_ctx *ctx, const struct brk_part *part)
{
    const struct brk_replicas *rs = ctx->replicas;
    for (size_t i = 0; rs && i < rs->hw_hint_count; i++)
        if (rs->hw_hints[i].partition == part->partition && strcmp(rs->hw_hints[i].topic, part->topic) == 0)
            return rs->hw_hints[i].offset;
    return -1;
}

/* ---- high watermark ---- */

/* The loop's turn: tell the waiters of every partition whose HW moved. */
static void hw_notify_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *ctx = arg;
    struct brk_replicas *rs = ctx->replicas;
    /* a wake function may move another HW: those queue for the next turn */
    size_t n = rs->pending_count;
    struct hw_pending *batch = rs->pending;
    rs->pending = NULL;
    rs->pending_count = rs->pending_cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct brk_part *p = brk_parts_find(ctx->parts, batch[i].topic_id, batch[i].partition);
        if (p && p->replica) {
            p->replica->hw_notify_queued = false;
            brk_part_notify(p, BRK_PART_HW);
        }
    }
    free(batch);
}

static void replica_wake_queue(struct brk_part *part);

/* The waiters hear an HW move from the loop, never from inside the call
 * that moved it: the mover may be a handler in the middle of its own work
 * (a follower's fetch moves the HW while its response is being built in
 * the shared fetch buffer, and a woken consumer fetch would build its own
 * response in the same buffer - the fault suite caught one partition's
 * records served as another's). */
void brk_replica_set_high_watermark(struct brk_part *part, int64_t hw)
{
    int64_t end = brk_plog_end_offset(part->plog);
    if (hw > end)
        hw = end;
    if (hw <= part->high_watermark)
        return;
    part->high_watermark = hw;
    replica_wake_queue(part);
}

/* The waiters hear BRK_PART_HW from the loop's next turn (once per turn). */
static void replica_wake_queue(struct brk_part *part)
{
    struct brk_replica *r = part->replica;
    if (!r || r->hw_notify_queued)
        return;
    struct brk_replicas *rs = r->ctx->replicas;
    if (!rs) {
        brk_part_notify(part, BRK_PART_HW); /* no loop (unit tests): at once */
        return;
    }
    if (rs->pending_count == rs->pending_cap) {
        size_t cap = rs->pending_cap ? rs->pending_cap * 2 : 64;
        struct hw_pending *np = realloc(rs->pending, cap * sizeof *np);
        if (!np) {
            brk_part_notify(part, BRK_PART_HW); /* no memory: tell them now, as before */
            return;
        }
        rs->pending = np;
        rs->pending_cap = cap;
    }
    struct hw_pending *e = &rs->pending[rs->pending_count++];
    memcpy(e->topic_id, part->topic_id, 16);
    e->partition = part->partition;
    r->hw_notify_queued = true;
    if (rs->pending_count == 1)
        event_active(rs->notify_ev, EV_TIMEOUT, 0);
}

/* ---- leader-epoch-checkpoint ---- */

static void epoch_path(const struct brk_part *part, char *path, size_t size)
{
    int n = snprintf(path, size, "%s/%s", part->dir, BRK_EPOCH_CACHE_FILE);
    ASSERT(n > 0 && (size_t)n < size); /* partition dirs leave room for a file name */
}

void brk_replica_epochs_changed(struct brk_part *part)
{
    struct brk_replica *r = rep_of(part);
    struct buf b;
    buf_init(&b, REPLICA_EPOCH_FILE_BYTES_MAX);
    char path[PATH_MAX];
    epoch_path(part, path, sizeof path);
    int rc = brk_epoch_cache_encode(&r->epochs, &b);
    if (rc == 0) {
        struct bytes parts[1] = { bytes_make(b.ptr, b.len) };
        rc = fileio_write_atomic(path, parts, 1);
    }
    buf_deinit(&b);
    if (rc < 0)
        log_error("replica", "cannot write the leader epoch checkpoint path=%s error=\"%s\"; it is written again at "
                  "the next leader change; check the disk", path, err_str(rc));
}

/* Load leader-epoch-checkpoint; a missing file is an empty cache, a bad one
 * is logged and dropped (the cache then starts at the next leader epoch). */
static void epochs_load(struct brk_part *part, struct brk_replica *r)
{
    char path[PATH_MAX];
    epoch_path(part, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            log_warn("replica", "cannot read the leader epoch checkpoint path=%s error=\"%s\"", path, strerror(errno));
        return;
    }
    uint8_t *data = malloc(REPLICA_EPOCH_FILE_BYTES_MAX);
    ssize_t n = data ? read(fd, data, REPLICA_EPOCH_FILE_BYTES_MAX) : -1;
    close(fd);
    if (n < 0 || (size_t)n >= REPLICA_EPOCH_FILE_BYTES_MAX) {
        log_warn("replica", "cannot read the leader epoch checkpoint path=%s; starting without it", path);
        free(data);
        return;
    }
    int line = 0;
    int rc = brk_epoch_cache_decode(&r->epochs, bytes_make(data, (size_t)n), &line);
    free(data);
    if (rc < 0) {
        log_warn("replica", "ignoring a malformed leader epoch checkpoint path=%s line=%d error=\"%s\"; it is "
                 "rewritten at the next leader change", path, line, err_str(rc));
        return;
    }
    /* Kafka's recovery: the cache never names offsets outside the log */
    bool changed = false, c2 = false;
    brk_epoch_cache_truncate_from_end(&r->epochs, brk_plog_end_offset(part->plog), &changed);
    brk_epoch_cache_truncate_from_start(&r->epochs, brk_plog_start_offset(part->plog), &c2);
    if (changed || c2)
        brk_replica_epochs_changed(part);
}

/* ---- leader: the HW and, with samsa.acks.all.fsync, the durable HW ---- */

/* After any brk_isr call: publish the HW; wake the acks=all waiters when
 * the durable HW moved (it never moves without acks_fsync). */
static void leader_hw_sync(struct brk_replica *r)
{
    brk_replica_set_high_watermark(r->part, brk_isr_high_watermark(r->isr));
    int64_t d = brk_isr_durable_high_watermark(r->isr);
    if (d > r->durable_hw_told) {
        r->durable_hw_told = d;
        replica_wake_queue(r->part);
    }
}

static void leader_sync_request(struct brk_replica *r);

/* The leader's own log is durable up to durable_offset (or its sync failed:
 * the log is offline, and the waiters hear it to answer at once). */
static void leader_sync_cb(void *arg, int rc, int64_t durable_offset)
{
    struct brk_replica *r = arg;
    if (r->role != BRK_REPLICA_LEADER)
        return;
    if (rc < 0) {
        replica_wake_queue(r->part);
        return;
    }
    int64_t leo = brk_plog_end_offset(r->part->plog);
    if (brk_isr_leader_durable(r->isr, durable_offset, leo, now_ns()))
        leader_hw_sync(r);
    if (leo > durable_offset)
        leader_sync_request(r); /* appends that came meanwhile: the next group commit */
}

static void leader_sync_request(struct brk_replica *r)
{
    if (!r->part->acks_all_fsync || r->role != BRK_REPLICA_LEADER || r->dsync.queued)
        return;
    int rc = brk_plog_sync(r->part->plog, &r->dsync, leader_sync_cb, r);
    if (rc == 1) /* durable already: the end, so the callback asks for nothing more */
        leader_sync_cb(r, 0, brk_plog_durable_offset(r->part->plog));
    else if (rc < 0)
        replica_wake_queue(r->part); /* offline: parked acks=all answer now */
}

void brk_replica_leader_fetch_durable(struct brk_part *part, int32_t replica_id, int64_t durable_offset)
{
    struct brk_replica *r = part->replica;
    if (!r || r->role != BRK_REPLICA_LEADER || !part->acks_all_fsync)
        return;
    if (brk_isr_durable(r->isr, replica_id, durable_offset, brk_plog_end_offset(part->plog), now_ns()))
        leader_hw_sync(r);
}

/* ---- roles ---- */

static void isr_part_from(const struct ctrl_partition *cp, struct brk_isr_partition *out)
{
    memset(out, 0, sizeof *out);
    out->leader = cp->leader;
    out->leader_epoch = cp->leader_epoch;
    out->partition_epoch = cp->partition_epoch;
    out->replica_count = cp->replica_count;
    memcpy(out->replicas, cp->replicas, sizeof out->replicas);
    out->isr_count = cp->isr_count;
    memcpy(out->isr, cp->isr, sizeof out->isr);
}

static void isr_brokers_from_image(struct brk_replica *r)
{
    const struct ctrl_image *img = ctrl_metadata(r->ctx->ctrl);
    for (int32_t i = 0; i < r->isr->replica_count; i++) {
        int32_t id = r->isr->replicas[i].id;
        const struct ctrl_broker *b = ctrl_image_broker_find(img, id);
        struct brk_isr_broker v = { .broker_epoch = b ? b->broker_epoch : -1, .fenced = !b || b->fenced,
                                    .shutting_down = false };
        brk_isr_broker_set(r->isr, id, &v);
    }
}

static void leave_role(struct brk_replica *r)
{
    if (r->role == BRK_REPLICA_LEADER) {
        brk_plog_sync_cancel(r->part->plog, &r->dsync);
        free(r->isr);
        r->isr = NULL;
        r->alter_in_flight = false;
    } else if (r->role == BRK_REPLICA_FOLLOWER && r->ctx->replicas->follower.unfollow) {
        r->ctx->replicas->follower.unfollow(r->ctx->replicas->follower.arg, r->part);
    }
    r->role = BRK_REPLICA_NO_LEADER;
    r->leader_hw_seen = -1;
}

static void become_leader(struct brk_replica *r, const struct ctrl_partition *cp)
{
    struct brk_part *part = r->part;
    const struct brk_ctx *ctx = r->ctx;
    int64_t leo = brk_plog_end_offset(part->plog);
    bool changed = false;
    int rc = brk_epoch_cache_assign(&r->epochs, cp->leader_epoch, leo, &changed);
    if (rc < 0)
        log_error("replica", "leader epoch not recorded topic=%s partition=%d epoch=%d error=\"%s\"", part->topic,
                  part->partition, cp->leader_epoch, err_str(rc));
    else if (changed)
        brk_replica_epochs_changed(part);
    struct brk_isr_config cfg = {
        .local_id = ctx->node->node_id,
        .lag_time_max_ns = ctx->node->replica_lag_time_max_ms * 1000000,
        .min_insync_replicas = part->min_insync_replicas,
        /* KIP-966: the controller's ELR is sound only if the HW stops below min ISR */
        .strict_min_isr = ctx->node->eligible_leader_replicas_enable != 0,
        .acks_fsync = part->acks_all_fsync,
    };
    struct brk_isr_partition ip;
    isr_part_from(cp, &ip);
    r->isr = calloc(1, sizeof *r->isr);
    if (!r->isr) {
        log_error("replica", "out of memory taking leadership topic=%s partition=%d", part->topic, part->partition);
        return;
    }
    int64_t hw = part->high_watermark < leo ? part->high_watermark : leo;
    rc = brk_isr_init(r->isr, &cfg, &ip, leo, hw, now_ns());
    if (rc < 0) {
        log_error("replica", "not taking leadership: the committed state is inconsistent topic=%s partition=%d "
                  "leader=%d leader_epoch=%d isr_count=%d error=\"%s\"", part->topic, part->partition, cp->leader,
                  cp->leader_epoch, cp->isr_count, err_str(rc));
        free(r->isr);
        r->isr = NULL;
        return;
    }
    isr_brokers_from_image(r);
    r->role = BRK_REPLICA_LEADER;
    log_info("replica", "leading topic=%s partition=%d leader_epoch=%d log_end=%lld high_watermark=%lld isr_count=%d",
             part->topic, part->partition, cp->leader_epoch, (long long)leo, (long long)hw, cp->isr_count);
    /* init may move the HW already (an ISR of one commits at once) */
    r->durable_hw_told = brk_isr_durable_high_watermark(r->isr);
    leader_hw_sync(r);
    leader_sync_request(r); /* acks_fsync: what this log holds becomes durable, then counts */
}

static void take_state(struct brk_replica *r, const struct ctrl_partition *cp)
{
    int32_t self = r->ctx->node->node_id;
    bool same_term = cp->leader == r->leader_id && cp->leader_epoch == r->leader_epoch;
    r->partition_epoch = cp->partition_epoch;
    if (same_term && r->role == BRK_REPLICA_LEADER) {
        struct brk_isr_partition ip;
        isr_part_from(cp, &ip);
        int64_t leo = brk_plog_end_offset(r->part->plog);
        if (brk_isr_apply(r->isr, &ip, leo, now_ns()) == BRK_ISR_APPLIED) {
            isr_brokers_from_image(r);
            leader_hw_sync(r);
            return;
        }
        log_warn("replica", "leaving leadership on a committed state without us topic=%s partition=%d",
                 r->part->topic, r->part->partition);
    } else if (same_term && r->role != BRK_REPLICA_NO_LEADER) {
        return; /* a follower: ISR changes are the leader's business */
    }
    leave_role(r);
    r->leader_id = cp->leader;
    r->leader_epoch = cp->leader_epoch;
    if (cp->leader == self) {
        become_leader(r, cp);
    } else if (cp->leader >= 0) {
        r->role = BRK_REPLICA_FOLLOWER;
        brk_replica_follower_sync(r->part);
        if (r->ctx->replicas->follower.follow)
            r->ctx->replicas->follower.follow(r->ctx->replicas->follower.arg, r->part);
        log_info("replica", "following topic=%s partition=%d leader=%d leader_epoch=%d", r->part->topic,
                 r->part->partition, cp->leader, cp->leader_epoch);
    }
}

int brk_replica_attach(struct brk_ctx *ctx, struct brk_part *part, const struct ctrl_partition *cp, int64_t hint)
{
    ASSERT(part->replica == NULL);
    struct brk_replica *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->ctx = ctx;
    r->part = part;
    r->leader_id = -1;
    r->leader_epoch = -1;
    r->leader_hw_seen = -1;
    brk_epoch_cache_init(&r->epochs);
    part->replica = r;
    epochs_load(part, r);
    int64_t start = brk_plog_start_offset(part->plog);
    int64_t end = brk_plog_end_offset(part->plog);
    int64_t hw = hint < start ? start : hint > end ? end : hint;
    part->high_watermark = hw;
    if (cp) /* NULL: the start-up gate holds the role (brk_parts_roles_hold) */
        take_state(r, cp);
    return 0;
}

void brk_replica_on_state(struct brk_part *part, const struct ctrl_partition *cp)
{
    take_state(rep_of(part), cp);
}

void brk_replica_on_broker(struct brk_ctx *ctx, int32_t broker_id)
{
    const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(ctx->ctrl), broker_id);
    struct brk_isr_broker v = { .broker_epoch = b ? b->broker_epoch : -1, .fenced = !b || b->fenced,
                                .shutting_down = false };
    for (int32_t i = 0; i < brk_parts_count(ctx->parts); i++) {
        struct brk_part *p = brk_parts_at(ctx->parts, i);
        if (p->replica && p->replica->role == BRK_REPLICA_LEADER)
            brk_isr_broker_set(p->replica->isr, broker_id, &v);
    }
}

void brk_replica_on_advance(struct brk_part *part, int64_t end_offset)
{
    struct brk_replica *r = part->replica;
    if (!r || r->role != BRK_REPLICA_LEADER)
        return;
    if (brk_isr_leader_advance(r->isr, end_offset, now_ns()))
        leader_hw_sync(r);
    leader_sync_request(r);
}

void brk_replica_reconfigure(struct brk_part *part)
{
    struct brk_replica *r = part->replica;
    if (!r)
        return;
    if (r->role == BRK_REPLICA_FOLLOWER) {
        brk_replica_follower_sync(part); /* nothing when fsync acks are off */
        return;
    }
    if (r->role != BRK_REPLICA_LEADER)
        return;
    const struct brk_isr_config *cfg = &r->isr->cfg;
    if (cfg->min_insync_replicas == part->min_insync_replicas && cfg->acks_fsync == part->acks_all_fsync)
        return;
    log_info("replica", "replication config applied topic=%s partition=%d min_insync_replicas=%d -> %d "
             "acks_all_fsync=%s -> %s", part->topic, part->partition, cfg->min_insync_replicas,
             part->min_insync_replicas, cfg->acks_fsync ? "true" : "false", part->acks_all_fsync ? "true" : "false");
    (void)brk_isr_reconfigure(r->isr, part->min_insync_replicas, part->acks_all_fsync,
                              brk_plog_end_offset(part->plog), now_ns());
    r->durable_hw_told = brk_isr_durable_high_watermark(r->isr); /* may have started afresh */
    leader_hw_sync(r);
    replica_wake_queue(part); /* parked acks=all produces answer by the new rule */
    leader_sync_request(r);   /* fsync acks on: the leader's own log first */
}

void brk_replica_detach(struct brk_part *part)
{
    struct brk_replica *r = part->replica;
    if (!r)
        return;
    leave_role(r);
    brk_epoch_cache_deinit(&r->epochs);
    free(r);
    part->replica = NULL;
}

/* ---- the table's hooks (wired by brk_server) ---- */

static void hook_opened(void *arg, struct brk_part *p, const struct ctrl_partition *cp)
{
    struct brk_ctx *ctx = arg;
    int rc = brk_replica_attach(ctx, p, cp, hw_hint(ctx, p));
    if (rc < 0)
        log_error("replica", "partition has no replication role topic=%s partition=%d error=\"%s\"", p->topic,
                  p->partition, err_str(rc));
}

static void hook_state(void *arg, struct brk_part *p, const struct ctrl_partition *cp)
{
    (void)arg;
    if (p->replica)
        brk_replica_on_state(p, cp);
}

static void hook_advanced(void *arg, struct brk_part *p, int64_t end_offset)
{
    (void)arg;
    brk_replica_on_advance(p, end_offset);
}

static void hook_closing(void *arg, struct brk_part *p)
{
    (void)arg;
    brk_replica_detach(p);
}

static void hook_reconfigured(void *arg, struct brk_part *p)
{
    (void)arg;
    brk_replica_reconfigure(p);
}

void brk_replica_hooks(struct brk_ctx *ctx, struct brk_parts_hooks *out)
{
    memset(out, 0, sizeof *out);
    out->opened = hook_opened;
    out->state = hook_state;
    out->advanced = hook_advanced;
    out->closing = hook_closing;
    out->reconfigured = hook_reconfigured;
    out->arg = ctx;
}

/* ---- AlterPartition ---- */

/* A copy in flight names its partition by id: the partition may close or
 * change leadership before the answer. */
struct alter_call {
    struct brk_ctx *ctx;
    uint8_t topic_id[16];
    int32_t partition;
    int32_t leader_epoch;
};

static void alter_done_cb(void *arg, const struct ctrl_alter_partition_reply *rep)
{
    struct alter_call *call = arg;
    struct brk_part *part = brk_parts_find(call->ctx->parts, call->topic_id, call->partition);
    struct brk_replica *r = part ? part->replica : NULL;
    if (!r || r->role != BRK_REPLICA_LEADER || r->leader_epoch != call->leader_epoch) {
        free(call);
        return; /* settled by the metadata */
    }
    r->alter_in_flight = false;
    free(call);
    if (rep->rc != 0) {
        log_debug("replica", "ISR change not answered topic=%s partition=%d error=\"%s\"; sending it again",
                  part->topic, part->partition, err_str(rep->rc));
        return; /* the tick re-sends the same request */
    }
    if (rep->error_code == 0) {
        struct brk_isr_partition ip = { .leader = rep->leader, .leader_epoch = rep->leader_epoch,
                                        .partition_epoch = rep->partition_epoch, .isr_count = rep->isr_count };
        ip.replica_count = r->isr->part.replica_count;
        memcpy(ip.replicas, r->isr->part.replicas, sizeof ip.replicas);
        memcpy(ip.isr, rep->isr, sizeof ip.isr);
        int64_t leo = brk_plog_end_offset(part->plog);
        if (brk_isr_apply(r->isr, &ip, leo, now_ns()) == BRK_ISR_APPLIED)
            leader_hw_sync(r);
        return;
    }
    /* INELIGIBLE_REPLICA, INVALID_REQUEST, OPERATION_NOT_ATTEMPTED: nothing applied */
    bool not_applied = rep->error_code == 107 || rep->error_code == 42 || rep->error_code == 55;
    log_info("replica", "ISR change refused by the controller topic=%s partition=%d error_code=%d (%s)", part->topic,
             part->partition, rep->error_code, not_applied ? "recomputed" : "waiting for the metadata");
    brk_isr_alter_done(r->isr, not_applied ? BRK_ISR_REFUSED_NOT_APPLIED : BRK_ISR_REFUSED_STALE);
}

static void alter_send(struct brk_replica *r, const struct brk_isr_alter *a)
{
    struct brk_part *part = r->part;
    struct ctrl_alter_partition req;
    memset(&req, 0, sizeof req);
    req.broker_id = r->ctx->node->node_id;
    req.broker_epoch = r->ctx->broker_epoch;
    memcpy(req.topic_id, part->topic_id, 16);
    req.partition_id = part->partition;
    req.leader_epoch = a->leader_epoch;
    req.partition_epoch = a->partition_epoch;
    req.isr_count = a->isr_count;
    STATIC_ASSERT(BRK_ISR_REPLICAS_MAX == CTRL_REPLICAS_MAX, "one replica bound");
    memcpy(req.isr, a->isr, sizeof req.isr);
    memcpy(req.isr_broker_epochs, a->isr_broker_epochs, sizeof req.isr_broker_epochs);
    struct alter_call *call = malloc(sizeof *call);
    if (!call)
        return;
    call->ctx = r->ctx;
    memcpy(call->topic_id, part->topic_id, 16);
    call->partition = part->partition;
    call->leader_epoch = r->leader_epoch;
    int rc = ctrl_alter_partition(r->ctx->ctrl, &req, alter_done_cb, call);
    if (rc < 0) {
        free(call);
        log_debug("replica", "ISR change not sent topic=%s partition=%d error=\"%s\"", part->topic, part->partition,
                  err_str(rc));
        return;
    }
    r->alter_in_flight = true;
}

void brk_replica_tick(struct brk_ctx *ctx)
{
    if (!ctx->registered)
        return;
    int64_t t = now_ns();
    for (int32_t i = 0; i < brk_parts_count(ctx->parts); i++) {
        struct brk_part *p = brk_parts_at(ctx->parts, i);
        struct brk_replica *r = p->replica;
        if (!r || r->role != BRK_REPLICA_LEADER || r->alter_in_flight)
            continue;
        int64_t leo = brk_plog_end_offset(p->plog);
        struct brk_isr_alter a;
        if (brk_isr_awaiting_response(r->isr)) {
            alter_send(r, &r->isr->alter); /* the earlier copy got no answer */
        } else if (brk_isr_alter_next(r->isr, leo, t, &a)) {
            log_info("replica", "proposing ISR change topic=%s partition=%d isr_count=%d -> %d", p->topic,
                     p->partition, r->isr->part.isr_count, a.isr_count);
            alter_send(r, &a);
        }
    }
}

/* ---- leader side ---- */

int16_t brk_replica_check_leader_epoch(const struct brk_part *part, int32_t current_leader_epoch)
{
    if (current_leader_epoch < 0)
        return 0;
    if (current_leader_epoch < part->leader_epoch)
        return BRK_REPLICA_KERR_FENCED_LEADER_EPOCH;
    if (current_leader_epoch > part->leader_epoch)
        return BRK_REPLICA_KERR_UNKNOWN_LEADER_EPOCH;
    return 0;
}

void brk_replica_leader_fetch(struct brk_part *part, int32_t replica_id, int64_t replica_epoch,
                              int32_t current_leader_epoch, int64_t fetch_offset, int32_t last_fetched_epoch,
                              struct brk_replica_fetch_result *out)
{
    memset(out, 0, sizeof *out);
    out->diverging_epoch = BRK_EPOCH_UNDEFINED;
    out->diverging_end_offset = BRK_EPOCH_OFFSET_UNDEFINED;
    struct brk_replica *r = part->replica;
    if (!r || r->role != BRK_REPLICA_LEADER) {
        out->error_code = BRK_REPLICA_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    if ((out->error_code = brk_replica_check_leader_epoch(part, current_leader_epoch)) != 0)
        return;
    int64_t leo = brk_plog_end_offset(part->plog);
    if (brk_epoch_cache_diverging(&r->epochs, leo, fetch_offset, last_fetched_epoch, &out->diverging_epoch,
                                  &out->diverging_end_offset)) {
        out->diverging = true;
        return;
    }
    if (fetch_offset < brk_plog_start_offset(part->plog)) {
        out->error_code = BRK_REPLICA_KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    bool hw_changed = false;
    int rc = brk_isr_fetch(r->isr, replica_id, replica_epoch, fetch_offset, leo, now_ns(), &hw_changed);
    if (rc == ERR_OFFSET_RANGE) {
        out->error_code = BRK_REPLICA_KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    if (rc < 0) {
        /* not a replica, or a previous incarnation of one */
        log_debug("replica", "replica fetch refused topic=%s partition=%d replica=%d replica_epoch=%lld error=\"%s\"",
                  part->topic, part->partition, replica_id, (long long)replica_epoch, err_str(rc));
        out->error_code = BRK_REPLICA_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    (void)hw_changed; /* the durable HW may move without it (an ISR change) */
    leader_hw_sync(r);
}

int16_t brk_replica_produce_check(const struct brk_part *part, int16_t acks)
{
    const struct brk_replica *r = part->replica;
    if (!r || r->role != BRK_REPLICA_LEADER)
        return BRK_REPLICA_KERR_NOT_LEADER_OR_FOLLOWER;
    return brk_isr_produce_check(r->isr, acks) == BRK_ISR_NOT_ENOUGH_REPLICAS ? BRK_REPLICA_KERR_NOT_ENOUGH_REPLICAS
                                                                              : 0;
}

bool brk_replica_acked(const struct brk_part *part, int32_t leader_epoch, int64_t required_offset,
                       int16_t *error_code)
{
    const struct brk_replica *r = part->replica;
    if (!r || r->role != BRK_REPLICA_LEADER || r->leader_epoch != leader_epoch) {
        *error_code = BRK_REPLICA_KERR_NOT_LEADER_OR_FOLLOWER;
        return true;
    }
    enum brk_isr_err e = BRK_ISR_OK;
    if (!brk_isr_acked(r->isr, required_offset, &e)) {
        if (part->acks_all_fsync && brk_plog_offline_err(part->plog) != 0) {
            *error_code = BRK_REPLICA_KERR_KAFKA_STORAGE_ERROR; /* our own sync failed: never durable here */
            return true;
        }
        return false;
    }
    *error_code = (int16_t)e;
    return true;
}

void brk_replica_end_offset_for(const struct brk_part *part, int32_t requested_epoch, int32_t *epoch_out,
                                int64_t *end_offset_out)
{
    const struct brk_replica *r = rep_of(part);
    brk_epoch_cache_end_offset_for(&r->epochs, requested_epoch, brk_plog_end_offset(part->plog), epoch_out,
                                   end_offset_out);
}

/* ---- replication-offset-checkpoint ---- */

int brk_replica_checkpoint_hw(struct brk_ctx *ctx)
{
    const struct config_node *node = ctx->node;
    struct brk_replicas *rs = ctx->replicas;
    if (!rs || !ctx->parts)
        return 0;
    int result = 0;
    for (size_t d = 0; d < node->log_dir_count; d++) {
        size_t n = 0;
        for (int32_t i = 0; i < brk_parts_count(ctx->parts) && n < REPLICA_HW_HINTS_MAX; i++) {
            const struct brk_part *p = brk_parts_at(ctx->parts, i);
            if (p->log_dir_index != (int)d || !p->replica)
                continue;
            struct brk_ckpt_entry *e = &rs->hw_hints[n++];
            snprintf(e->topic, sizeof e->topic, "%s", p->topic);
            e->partition = p->partition;
            e->offset = p->high_watermark;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", node->log_dirs[d], BRK_REPLICA_HW_CKPT_FILE);
        int rc = brk_ckpt_write(path, rs->hw_hints, n);
        if (rc < 0) {
            log_error("replica", "cannot write the high watermark checkpoint path=%s error=\"%s\"; check the disk",
                      path, err_str(rc));
            result = rc;
        }
    }
    rs->hw_hint_count = 0; /* the hints buffer was reused: attach after start finds none */
    return result;
}
