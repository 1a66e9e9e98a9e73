/*
 * ctrl.c - the Raft driver for the metadata log, and planning of admin
 * operations into records.
 *
 * Driver loop (raft/README.md, "persist before send"):
 *   timer ─► raft_tick ─┐
 *   frame ─► raft_step ─┼─► while raft_has_ready:
 *   propose ────────────┘      truncate / append to ctrl_mlog, quorum-state
 *                              fdatasync                  <- durable first
 *                              send messages (ctrl_net)
 *                              apply committed entries to the image, run the
 *                              callbacks of proposals they commit
 *                              raft_advance
 *
 * Entries in ctrl_mlog are [type byte | payload]; DATA payloads are packed
 * MetadataBatch messages.  Raft indexes count from 1, metadata log offsets
 * from 0: offset = index - 1.  Every start replays the log through the
 * committed stream, so a live node and a restarted node apply the same
 * records in the same order.  Planning never mutates the image.
 */
#include "controller/ctrl.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "controller/ctrl_mlog.h"
#include "controller/ctrl_net.h"
#include "controller/ctrl_qstate.h"
#include "controller/ctrl_snap.h"
#include "raft/raft.h"

#define CTRL_FWD_TIMEOUT_MS 5000
#define CTRL_REMOTE_MAX 1024

struct ctrl_pending {
    uint64_t index;
    ctrl_commit_cb cb;
    void *arg;
};

struct ctrl_remote {   /* a ProposeRequest from another node, waiting for commit */
    uint64_t index;
    uint32_t from;
    uint64_t request_id;
};

struct ctrl_fwd {      /* our Propose/ForwardRequest to the leader, waiting for its answer */
    uint64_t request_id;
    uint32_t to;                   /* the leader it went to */
    ctrl_commit_cb cb;             /* ProposeRequest */
    ctrl_forward_done_cb fwd_cb;   /* ForwardRequest */
    void *arg;
    int64_t deadline_ticks;
};

struct ctrl_lease {
    int32_t broker_id;
    int64_t last_ticks;      /* last heartbeat (or leadership start) */
    bool change_in_flight;   /* a fence/unfence proposal not committed yet */
};

struct ctrl {
    struct ctrl_config cfg;
    char metadata_dir[1024];
    char cluster_id[64];
    struct ctrl_voter voters[CTRL_VOTERS_MAX];
    struct ctrl_mlog *mlog;
    struct ctrl_image *img;
    struct raft *raft;
    struct ctrl_net *net;
    struct event *tick_ev;
    ctrl_apply_cb listener;
    ctrl_caught_up_cb caught_up_cb;
    void *arg;
    struct ctrl_qstate qs;
    bool caught_up;
    bool in_ready;
    int64_t ticks;
    struct arena entry_arena;   /* entry bytes lent to the core until raft_advance */
    struct arena msg_arena;     /* wire conversion scratch */
    struct buf scratch;
    struct ctrl_pending pending[CTRL_PENDING_MAX];
    uint32_t pending_head, pending_count;
    struct ctrl_remote remote[CTRL_REMOTE_MAX];
    uint32_t remote_count;
    struct ctrl_fwd fwd[CTRL_REMOTE_MAX];
    uint32_t fwd_count;
    uint64_t next_request_id;
    enum raft_role last_role;
    ctrl_forward_handler_fn fwd_handler;
    void *fwd_handler_arg;
    struct raft_snapshot_id snap;   /* latest durable snapshot; the log starts after it */
    uint64_t applied_index;
    uint64_t applied_epoch;
    int64_t bytes_since_snap;
    struct buf snap_buf;
    struct ctrl_replica_status observers[CTRL_OBSERVERS_MAX];
    uint32_t observer_count;
    struct ctrl_lease leases[CTRL_BROKERS_MAX];
    int32_t lease_count;
    int64_t session_ticks;
    struct arena plan_arena;
};

static struct ctrl_lease *lease_get(struct ctrl *c, int32_t broker_id)
{
    for (int32_t i = 0; i < c->lease_count; i++)
        if (c->leases[i].broker_id == broker_id)
            return &c->leases[i];
    if (c->lease_count >= CTRL_BROKERS_MAX)
        return NULL;
    struct ctrl_lease *l = &c->leases[c->lease_count++];
    *l = (struct ctrl_lease){ broker_id, c->ticks, false };
    return l;
}

static void lease_change_done(void *arg, int rc)
{
    struct ctrl_lease *l = arg;
    l->change_in_flight = false;
    (void)rc; /* a failed change is retried by the next check */
}

/* A partition without a leader that broker_id (in its ISR) could lead. */
static bool leaderless_for(const struct ctrl_image *img, int32_t broker_id)
{
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            if (cp->leader >= 0)
                continue;
            for (int32_t k = 0; k < cp->isr_count; k++)
                if (cp->isr[k] == broker_id)
                    return true;
        }
    }
    return false;
}

/* Leader only: fence brokers whose lease expired, unfence renewed ones (and
 * give leaderless partitions back to a live ISR member). */
static void leases_check(struct ctrl *c)
{
    if (raft_role_get(c->raft) != RAFT_LEADER || !c->caught_up)
        return;
    for (int32_t i = 0; i < ctrl_image_broker_count(c->img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(c->img, i);
        struct ctrl_lease *l = lease_get(c, b->broker_id);
        if (!l || l->change_in_flight)
            continue;
        bool expired = c->ticks - l->last_ticks > c->session_ticks;
        if (expired == b->fenced && (expired || !leaderless_for(c->img, b->broker_id)))
            continue;
        arena_reset(&c->plan_arena);
        struct ctrl_records recs = { 0 };
        if (ctrl_plan_fence(c->img, b->broker_id, expired, &c->plan_arena, &recs) < 0)
            continue;
        log_info("ctrl", "%s broker=%d broker_epoch=%lld reason=\"%s\"", expired ? "fencing" : "unfencing",
                 b->broker_id, (long long)b->broker_epoch,
                 expired ? "no heartbeat within broker.session.timeout.ms" : "heartbeats resumed");
        l->change_in_flight = true;
        if (ctrl_propose(c, recs.recs, recs.count, lease_change_done, l) < 0)
            l->change_in_flight = false;
    }
}

/* ---- storage vtable over ctrl_mlog ---- */

static uint64_t st_last_index(void *ctx)
{
    struct ctrl *c = ctx;
    uint64_t end = (uint64_t)ctrl_mlog_end_offset(c->mlog);
    return end > c->snap.index ? end : c->snap.index;
}

static int st_entries(void *ctx, uint64_t lo, uint64_t hi, struct raft_entry *out, uint32_t count_max,
                      uint32_t *count)
{
    struct ctrl *c = ctx;
    uint64_t last = st_last_index(ctx);
    if (lo == 0 || lo <= c->snap.index || lo > last || (int64_t)(lo - 1) < ctrl_mlog_start_offset(c->mlog))
        return ERR_NOT_FOUND;
    uint32_t n = 0;
    for (uint64_t i = lo; i <= hi && i <= last && n < count_max; i++) {
        int32_t epoch;
        int rc = ctrl_mlog_read(c->mlog, (int64_t)i - 1, &c->scratch, &epoch);
        if (rc < 0)
            return rc;
        if (c->scratch.len < 1)
            return ERR_CORRUPT;
        uint8_t *copy = arena_alloc(&c->entry_arena, c->scratch.len);
        if (!copy)
            break; /* hand out what fits; the core asks again */
        memcpy(copy, c->scratch.ptr, c->scratch.len);
        out[n].index = i;
        out[n].epoch = (uint64_t)epoch;
        out[n].type = copy[0];
        out[n].data = bytes_make(copy + 1, c->scratch.len - 1);
        n++;
    }
    *count = n;
    return 0;
}

static void st_snapshot(void *ctx, struct raft_snapshot_id *out)
{
    struct ctrl *c = ctx;
    *out = c->snap;
}

static void st_hard_state(void *ctx, struct raft_hard_state *out)
{
    struct ctrl *c = ctx;
    out->epoch = c->qs.epoch;
    out->voted_for = c->qs.voted_for;
    out->catching_up = c->qs.catching_up;
}

static void raft_log_cb(void *ctx, const char *line)
{
    struct ctrl *c = ctx;
    log_info("raft", "node=%d %s", c->cfg.node_id, line);
}

/* ---- wire conversion ---- */

static int msg_to_wire(struct ctrl *c, const struct raft_msg *m, Samsa__RaftMessageWire *w)
{
    samsa__raft_message_wire__init(w);
    w->type = m->type;
    w->from = m->from;
    w->to = m->to;
    w->epoch = m->epoch;
    w->leader_id = m->leader_id;
    w->pre_vote = m->pre_vote;
    w->granted = m->granted;
    w->last_index = m->last_index;
    w->last_epoch = m->last_epoch;
    w->fetch_offset = m->fetch_offset;
    w->last_fetched_epoch = m->last_fetched_epoch;
    w->status = m->status;
    w->high_watermark = m->high_watermark;
    w->diverging_epoch = m->diverging_epoch;
    w->diverging_end_offset = m->diverging_end_offset;
    w->snapshot_index = m->snapshot_id.index;
    w->snapshot_epoch = m->snapshot_id.epoch;
    if (m->entry_count > 0) {
        w->entries = arena_alloc_array(&c->msg_arena, m->entry_count, sizeof *w->entries);
        Samsa__RaftEntryWire *ew = arena_alloc_array(&c->msg_arena, m->entry_count, sizeof *ew);
        if (!w->entries || !ew)
            return ERR_LIMIT;
        for (uint32_t i = 0; i < m->entry_count; i++) {
            samsa__raft_entry_wire__init(&ew[i]);
            ew[i].index = m->entries[i].index;
            ew[i].epoch = m->entries[i].epoch;
            ew[i].type = m->entries[i].type;
            ew[i].data.data = (uint8_t *)m->entries[i].data.ptr;
            ew[i].data.len = m->entries[i].data.len;
            w->entries[i] = &ew[i];
        }
        w->n_entries = m->entry_count;
    }
    return 0;
}

static int wire_to_msg(struct ctrl *c, const Samsa__RaftMessageWire *w, struct raft_msg *m)
{
    memset(m, 0, sizeof *m);
    if (w->type == 0 || w->type >= RAFT_MSG_TYPE_COUNT)
        return ERR_DECODE;
    m->type = (enum raft_msg_type)w->type;
    m->from = w->from;
    m->to = w->to;
    m->epoch = w->epoch;
    m->leader_id = w->leader_id;
    m->pre_vote = w->pre_vote;
    m->granted = w->granted;
    m->last_index = w->last_index;
    m->last_epoch = w->last_epoch;
    m->fetch_offset = w->fetch_offset;
    m->last_fetched_epoch = w->last_fetched_epoch;
    m->status = (enum raft_fetch_status)w->status;
    m->high_watermark = w->high_watermark;
    m->diverging_epoch = w->diverging_epoch;
    m->diverging_end_offset = w->diverging_end_offset;
    m->snapshot_id.index = w->snapshot_index;
    m->snapshot_id.epoch = w->snapshot_epoch;
    if (w->snapshot_data.len > 0)
        m->snapshot_data = bytes_make(w->snapshot_data.data, w->snapshot_data.len);
    if (w->n_entries > 0) {
        if (w->n_entries > 100000)
            return ERR_LIMIT;
        struct raft_entry *e = arena_alloc_array(&c->msg_arena, w->n_entries, sizeof *e);
        if (!e)
            return ERR_LIMIT;
        for (size_t i = 0; i < w->n_entries; i++) {
            e[i].index = w->entries[i]->index;
            e[i].epoch = w->entries[i]->epoch;
            e[i].type = w->entries[i]->type;
            e[i].data = bytes_make(w->entries[i]->data.data, w->entries[i]->data.len);
        }
        m->entries = e;
        m->entry_count = (uint32_t)w->n_entries;
    }
    return 0;
}

static void send_frame(struct ctrl *c, uint32_t to, Samsa__ControllerFrame *f)
{
    int rc = ctrl_net_send(c->net, to, f);
    if (rc < 0 && rc != ERR_NOT_FOUND)
        log_warn("ctrl", "send failed to=%u error=\"%s\"", to, err_str(rc));
}

static void send_propose_response(struct ctrl *c, uint32_t to, uint64_t request_id, int err)
{
    Samsa__ProposeResponse pr = SAMSA__PROPOSE_RESPONSE__INIT;
    pr.request_id = request_id;
    pr.error = err;
    uint32_t leader = raft_leader_get(c->raft);
    pr.leader_id = leader;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE_RESPONSE;
    f.propose_response = &pr;
    send_frame(c, to, &f);
}

/* ---- applying and completing ---- */

static void apply_entry(struct ctrl *c, const struct raft_entry *e)
{
    int64_t offset = (int64_t)e->index - 1;
    if (e->type != RAFT_ENTRY_DATA)
        return;
    Samsa__MetadataBatch *batch = samsa__metadata_batch__unpack(NULL, e->data.len, e->data.ptr);
    if (!batch) {
        log_error("ctrl", "metadata entry does not decode offset=%lld bytes=%zu; skipped", (long long)offset,
                  e->data.len);
        return;
    }
    for (size_t i = 0; i < batch->n_records; i++) {
        if (batch->records[i]->record_case == SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER) {
            struct ctrl_lease *l = lease_get(c, batch->records[i]->register_broker->broker_id);
            if (l)
                l->last_ticks = c->ticks;
        }
        ctrl_image_apply(c->img, batch->records[i], offset);
        if (c->listener && c->caught_up)
            c->listener(c->arg, c->img, batch->records[i], offset);
    }
    samsa__metadata_batch__free_unpacked(batch, NULL);
}

static void complete_upto(struct ctrl *c, uint64_t index)
{
    while (c->pending_count > 0) {
        struct ctrl_pending *p = &c->pending[c->pending_head];
        if (p->index > index)
            break;
        c->pending_head = (c->pending_head + 1) % CTRL_PENDING_MAX;
        c->pending_count--;
        if (p->cb)
            p->cb(p->arg, 0);
    }
    for (uint32_t i = 0; i < c->remote_count;) {
        if (c->remote[i].index <= index) {
            send_propose_response(c, c->remote[i].from, c->remote[i].request_id, 0);
            c->remote[i] = c->remote[--c->remote_count];
        } else {
            i++;
        }
    }
}

static void fail_pending(struct ctrl *c, int rc)
{
    while (c->pending_count > 0) {
        struct ctrl_pending *p = &c->pending[c->pending_head];
        c->pending_head = (c->pending_head + 1) % CTRL_PENDING_MAX;
        c->pending_count--;
        if (p->cb)
            p->cb(p->arg, rc);
    }
    for (uint32_t i = 0; i < c->remote_count; i++)
        send_propose_response(c, c->remote[i].from, c->remote[i].request_id, ERR_NOT_CONTROLLER);
    c->remote_count = 0;
}

/* A follower or observer below the leader's log start received a snapshot:
 * store it, discard the log, rebuild the image from it. */
static int install_snapshot(struct ctrl *c, const struct raft_ready *rd)
{
    struct bytes data = rd->snapshot_data;
    if (!data.ptr || data.len == 0) {
        log_error("ctrl", "snapshot install without data index=%llu", (unsigned long long)rd->snapshot.index);
        return ERR_CORRUPT;
    }
    int rc = ctrl_snap_write(c->metadata_dir, rd->snapshot.index, rd->snapshot.epoch, data);
    if (rc < 0)
        return rc;
    rc = ctrl_mlog_truncate(c->mlog, ctrl_mlog_start_offset(c->mlog));
    if (rc < 0)
        return rc;
    struct ctrl_image *img;
    if ((rc = ctrl_image_create(&img)) < 0)
        return rc;
    if ((rc = ctrl_snap_load(img, data, (int64_t)rd->snapshot.index - 1)) < 0) {
        ctrl_image_destroy(img);
        return rc;
    }
    ctrl_image_destroy(c->img);
    c->img = img;
    c->snap = rd->snapshot;
    c->applied_index = rd->snapshot.index;
    c->applied_epoch = rd->snapshot.epoch;
    c->bytes_since_snap = 0;
    log_info("ctrl", "installed metadata snapshot node=%d index=%llu epoch=%llu bytes=%zu topics=%d", c->cfg.node_id,
             (unsigned long long)rd->snapshot.index, (unsigned long long)rd->snapshot.epoch, data.len,
             ctrl_image_topic_count(img));
    if (c->listener && c->caught_up)
        c->listener(c->arg, c->img, NULL, (int64_t)rd->snapshot.index - 1);
    return 0;
}

/* Enough log since the last snapshot: snapshot the image at the applied
 * index and cut the log behind it (outside ready processing). */
static void maybe_snapshot(struct ctrl *c)
{
    log_debug("ctrl", "snapshot check bytes_since=%lld threshold=%lld applied=%llu snap=%llu caught_up=%d",
              (long long)c->bytes_since_snap, (long long)c->cfg.snapshot_bytes, (unsigned long long)c->applied_index,
              (unsigned long long)c->snap.index, c->caught_up);
    if (c->bytes_since_snap < c->cfg.snapshot_bytes || c->applied_index <= c->snap.index || !c->caught_up)
        return;
    arena_reset(&c->plan_arena);
    uint64_t index = c->applied_index, epoch = c->applied_epoch;
    int rc = ctrl_snap_encode(c->img, &c->plan_arena, &c->snap_buf);
    if (rc == 0)
        rc = ctrl_snap_write(c->metadata_dir, index, epoch, buf_bytes(&c->snap_buf));
    if (rc == 0)
        rc = raft_snapshot_taken(c->raft, index);
    if (rc == 0) {
        c->snap = (struct raft_snapshot_id){ index, epoch };
        rc = ctrl_mlog_cut_prefix(c->mlog, (int64_t)index);
    }
    c->bytes_since_snap = 0;
    if (rc < 0) {
        log_error("ctrl", "metadata snapshot failed index=%llu error=\"%s\"; the log keeps growing until one succeeds",
                  (unsigned long long)index, err_str(rc));
        return;
    }
    log_info("ctrl", "metadata snapshot taken node=%d index=%llu epoch=%llu bytes=%zu; log now starts at offset %lld",
             c->cfg.node_id, (unsigned long long)index, (unsigned long long)epoch, c->snap_buf.len,
             (long long)ctrl_mlog_start_offset(c->mlog));
}

static void process_ready(struct ctrl *c)
{
    if (c->in_ready)
        return; /* a callback proposed: the outer loop picks it up */
    c->in_ready = true;
    int rc = 0;
    while (raft_has_ready(c->raft)) {
        struct raft_ready rd;
        raft_ready(c->raft, &rd);
        if (rd.snapshot_install) {
            rc = install_snapshot(c, &rd);
            if (rc < 0)
                goto fatal;
        }
        if (rd.truncate) {
            rc = ctrl_mlog_truncate(c->mlog, (int64_t)rd.truncate_after);
            if (rc < 0)
                goto fatal;
        }
        for (uint32_t i = 0; i < rd.entry_count; i++) {
            const struct raft_entry *e = &rd.entries[i];
            buf_reset(&c->scratch);
            uint8_t type = (uint8_t)e->type;
            if ((rc = buf_append(&c->scratch, &type, 1)) < 0 ||
                (rc = buf_append(&c->scratch, e->data.ptr, e->data.len)) < 0)
                goto fatal;
            rc = ctrl_mlog_append(c->mlog, (int64_t)e->index - 1, (int32_t)e->epoch, buf_bytes(&c->scratch));
            if (rc < 0)
                goto fatal;
            c->bytes_since_snap += (int64_t)c->scratch.len;
        }
        if (rd.entry_count > 0 || rd.truncate) {
            rc = ctrl_mlog_sync(c->mlog);
            if (rc < 0)
                goto fatal;
        }
        if (rd.hard_state_changed) {
            c->qs.epoch = rd.hard_state.epoch;
            c->qs.voted_for = rd.hard_state.voted_for;
            c->qs.catching_up = rd.hard_state.catching_up;
            rc = ctrl_qstate_write(c->metadata_dir, &c->qs);
            if (rc < 0)
                goto fatal;
        }
        for (uint32_t i = 0; i < rd.msg_count; i++) {
            Samsa__RaftMessageWire w;
            if (msg_to_wire(c, &rd.msgs[i], &w) < 0)
                continue;
            if (rd.msgs[i].type == RAFT_MSG_FETCH_SNAPSHOT_RESP) {
                /* the core names the snapshot; the bytes come from its file */
                if (ctrl_snap_read(c->metadata_dir, rd.msgs[i].snapshot_id.index, rd.msgs[i].snapshot_id.epoch,
                                   &c->snap_buf) < 0)
                    continue;
                w.snapshot_data.data = c->snap_buf.ptr;
                w.snapshot_data.len = c->snap_buf.len;
                log_info("ctrl", "sending metadata snapshot to=%u index=%llu bytes=%zu", rd.msgs[i].to,
                         (unsigned long long)rd.msgs[i].snapshot_id.index, c->snap_buf.len);
            }
            Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
            f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_RAFT;
            f.raft = &w;
            send_frame(c, rd.msgs[i].to, &f);
        }
        uint64_t last_applied = 0;
        for (uint32_t i = 0; i < rd.committed_count; i++) {
            apply_entry(c, &rd.committed[i]);
            last_applied = rd.committed[i].index;
            c->applied_index = rd.committed[i].index;
            c->applied_epoch = rd.committed[i].epoch;
        }
        bool lost_leadership = rd.role != RAFT_LEADER && c->last_role == RAFT_LEADER;
        if (rd.role == RAFT_LEADER && c->last_role != RAFT_LEADER) {
            log_info("ctrl", "active controller node=%d epoch=%llu", c->cfg.node_id, (unsigned long long)rd.epoch);
            for (int32_t i = 0; i < c->lease_count; i++) /* a new leader gives everyone a full session */
                c->leases[i] = (struct ctrl_lease){ c->leases[i].broker_id, c->ticks, false };
        }
        c->last_role = rd.role;
        raft_advance(c->raft, &rd);
        arena_reset(&c->entry_arena);
        arena_reset(&c->msg_arena);
        /* callbacks run after advance: they may propose again */
        if (last_applied)
            complete_upto(c, last_applied);
        if (lost_leadership) {
            log_info("ctrl", "no longer the active controller node=%d epoch=%llu", c->cfg.node_id,
                     (unsigned long long)rd.epoch);
            fail_pending(c, ERR_NOT_CONTROLLER);
        }
        if (!c->caught_up && rd.leader_id != RAFT_ID_NONE && rd.high_watermark > 0 &&
            last_applied >= rd.high_watermark) {
            c->caught_up = true;
            log_info("ctrl", "metadata caught up node=%d applied_offset=%lld topics=%d brokers=%d", c->cfg.node_id,
                     (long long)ctrl_image_applied_offset(c->img), ctrl_image_topic_count(c->img),
                     ctrl_image_broker_count(c->img));
            if (c->caught_up_cb)
                c->caught_up_cb(c->arg);
        }
    }
    c->in_ready = false;
    maybe_snapshot(c);
    return;
fatal:
    /* the metadata log cannot be written: this node must not say anything
     * that depends on it; stopping is the only safe answer */
    log_error("ctrl", "metadata log write failed dir=%s error=\"%s\"; stopping this node: fix the disk and restart",
              c->metadata_dir, err_str(rc));
    abort();
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ctrl *c = arg;
    c->ticks++;
    raft_tick(c->raft);
    if (c->ticks % 10 == 0)
        leases_check(c);
    uint32_t leader = raft_leader_get(c->raft);
    for (uint32_t i = 0; i < c->fwd_count;) {
        /* a timeout, or the leader it went to is no longer the leader (it may
         * have died with the request): fail it now so the caller retries */
        if (c->fwd[i].deadline_ticks <= c->ticks || c->fwd[i].to != leader) {
            struct ctrl_fwd f = c->fwd[i];
            c->fwd[i] = c->fwd[--c->fwd_count];
            if (f.cb)
                f.cb(f.arg, ERR_TIMEOUT);
            if (f.fwd_cb)
                f.fwd_cb(f.arg, ERR_TIMEOUT, (struct bytes){ NULL, 0 });
        } else {
            i++;
        }
    }
    process_ready(c);
}

static int propose_bytes(struct ctrl *c, struct bytes data, uint64_t *index_out)
{
    if (raft_role_get(c->raft) != RAFT_LEADER)
        return ERR_NOT_CONTROLLER;
    if (c->pending_count >= CTRL_PENDING_MAX)
        return ERR_LIMIT;
    return raft_propose(c->raft, data.ptr, (uint32_t)data.len, index_out);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Observers (brokers) are not tracked by the core: note their fetches here. */
static void observer_note(struct ctrl *c, uint32_t from, uint64_t fetch_offset)
{
    for (uint32_t i = 0; i < c->cfg.voter_count; i++)
        if (c->voters[i].id == from)
            return;
    struct ctrl_replica_status *o = NULL;
    for (uint32_t i = 0; i < c->observer_count && !o; i++)
        if (c->observers[i].id == (int32_t)from)
            o = &c->observers[i];
    if (!o) {
        if (c->observer_count >= CTRL_OBSERVERS_MAX)
            return;
        o = &c->observers[c->observer_count++];
        o->id = (int32_t)from;
        o->last_caught_up_ms = -1;
    }
    int64_t now = wall_ms();
    o->log_end_offset = fetch_offset > 0 ? (int64_t)fetch_offset - 1 : 0;
    o->last_fetch_ms = now;
    if ((uint64_t)o->log_end_offset >= raft_high_watermark_get(c->raft))
        o->last_caught_up_ms = now;
}

static void on_frame(void *arg, uint32_t from, const Samsa__ControllerFrame *f)
{
    struct ctrl *c = arg;
    switch (f->frame_case) {
    case SAMSA__CONTROLLER_FRAME__FRAME_RAFT: {
        struct raft_msg m;
        if (wire_to_msg(c, f->raft, &m) < 0 || m.from != from) {
            log_warn("ctrl", "dropping malformed raft message from=%u", from);
            break;
        }
        if (m.type == RAFT_MSG_FETCH_REQ)
            observer_note(c, from, m.fetch_offset);
        if (raft_step(c->raft, &m) < 0)
            log_debug("ctrl", "raft dropped message from=%u type=%s", from, raft_msg_type_name(m.type));
        break;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE: {
        const Samsa__ProposeRequest *pr = f->propose;
        if (!pr->batch) {
            send_propose_response(c, from, pr->request_id, ERR_INVALID);
            break;
        }
        size_t size = samsa__metadata_batch__get_packed_size(pr->batch);
        buf_reset(&c->scratch);
        if (size > CTRL_MLOG_ENTRY_BYTES_MAX || buf_reserve(&c->scratch, size + 1) < 0) {
            send_propose_response(c, from, pr->request_id, ERR_TOO_LARGE);
            break;
        }
        c->scratch.len = samsa__metadata_batch__pack(pr->batch, c->scratch.ptr);
        uint64_t index = 0;
        int rc = c->remote_count >= CTRL_REMOTE_MAX ? ERR_LIMIT : propose_bytes(c, buf_bytes(&c->scratch), &index);
        if (rc < 0) {
            send_propose_response(c, from, pr->request_id, rc);
            break;
        }
        c->remote[c->remote_count++] = (struct ctrl_remote){ index, from, pr->request_id };
        break;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE_RESPONSE: {
        const Samsa__ProposeResponse *pr = f->propose_response;
        for (uint32_t i = 0; i < c->fwd_count; i++) {
            if (c->fwd[i].request_id != pr->request_id)
                continue;
            struct ctrl_fwd fw = c->fwd[i];
            c->fwd[i] = c->fwd[--c->fwd_count];
            if (fw.cb)
                fw.cb(fw.arg, pr->error);
            break;
        }
        break;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT:
        ctrl_broker_heartbeat(c, f->heartbeat->broker_id, f->heartbeat->broker_epoch);
        break;
    case SAMSA__CONTROLLER_FRAME__FRAME_FORWARD:
        if (!ctrl_is_active(c) || !c->fwd_handler)
            ctrl_forward_reply(c, from, f->forward->request_id, ERR_NOT_CONTROLLER, (struct bytes){ NULL, 0 });
        else
            c->fwd_handler(c->fwd_handler_arg, from, f->forward->request_id,
                           bytes_make(f->forward->kafka_request.data, f->forward->kafka_request.len));
        break;
    case SAMSA__CONTROLLER_FRAME__FRAME_FORWARD_RESPONSE: {
        const Samsa__ForwardResponse *fr = f->forward_response;
        for (uint32_t i = 0; i < c->fwd_count; i++) {
            if (c->fwd[i].request_id != fr->request_id || !c->fwd[i].fwd_cb)
                continue;
            struct ctrl_fwd fw = c->fwd[i];
            c->fwd[i] = c->fwd[--c->fwd_count];
            fw.fwd_cb(fw.arg, fr->error, bytes_make(fr->kafka_response.data, fr->kafka_response.len));
            break;
        }
        break;
    }
    default:
        break;
    }
    process_ready(c);
}

void ctrl_broker_heartbeat(struct ctrl *c, int32_t broker_id, int64_t broker_epoch)
{
    if (raft_role_get(c->raft) == RAFT_LEADER) {
        const struct ctrl_broker *b = ctrl_image_broker_find(c->img, broker_id);
        if (!b || b->broker_epoch != broker_epoch)
            return; /* a stale incarnation: it must register again */
        struct ctrl_lease *l = lease_get(c, broker_id);
        if (l)
            l->last_ticks = c->ticks;
        return;
    }
    uint32_t leader = raft_leader_get(c->raft);
    if (leader == RAFT_ID_NONE)
        return;
    Samsa__BrokerHeartbeat hb = SAMSA__BROKER_HEARTBEAT__INIT;
    hb.broker_id = broker_id;
    hb.broker_epoch = broker_epoch;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT;
    f.heartbeat = &hb;
    send_frame(c, leader, &f);
}

void ctrl_forward_handler_set(struct ctrl *c, ctrl_forward_handler_fn fn, void *arg)
{
    c->fwd_handler = fn;
    c->fwd_handler_arg = arg;
}

int ctrl_forward_request(struct ctrl *c, struct bytes kafka_request, ctrl_forward_done_cb cb, void *arg)
{
    uint32_t leader = raft_leader_get(c->raft);
    if (leader == RAFT_ID_NONE || leader == (uint32_t)c->cfg.node_id)
        return ERR_NOT_CONTROLLER;
    if (c->fwd_count >= CTRL_REMOTE_MAX)
        return ERR_LIMIT;
    Samsa__ForwardRequest fr = SAMSA__FORWARD_REQUEST__INIT;
    fr.request_id = ++c->next_request_id;
    fr.kafka_request.data = (uint8_t *)kafka_request.ptr;
    fr.kafka_request.len = kafka_request.len;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_FORWARD;
    f.forward = &fr;
    int rc = ctrl_net_send(c->net, leader, &f);
    if (rc < 0)
        return rc == ERR_NOT_FOUND ? ERR_NOT_CONTROLLER : rc;
    c->fwd[c->fwd_count++] = (struct ctrl_fwd){ fr.request_id, leader, NULL, cb, arg,
                                                c->ticks + CTRL_FWD_TIMEOUT_MS / c->cfg.tick_ms };
    return 0;
}

void ctrl_forward_reply(struct ctrl *c, uint32_t to, uint64_t request_id, int err, struct bytes kafka_response)
{
    Samsa__ForwardResponse fr = SAMSA__FORWARD_RESPONSE__INIT;
    fr.request_id = request_id;
    fr.error = err;
    fr.kafka_response.data = (uint8_t *)kafka_response.ptr;
    fr.kafka_response.len = kafka_response.len;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_FORWARD_RESPONSE;
    f.forward_response = &fr;
    send_frame(c, to, &f);
}

int ctrl_create(const struct ctrl_config *cfg, ctrl_apply_cb listener, ctrl_caught_up_cb caught_up, void *arg,
                struct ctrl **out)
{
    if (cfg->voter_count == 0 || cfg->voter_count > CTRL_VOTERS_MAX || cfg->node_id < 0)
        return ERR_CONFIG;
    struct ctrl *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cfg = *cfg;
    snprintf(c->metadata_dir, sizeof c->metadata_dir, "%s", cfg->metadata_dir);
    snprintf(c->cluster_id, sizeof c->cluster_id, "%s", cfg->cluster_id ? cfg->cluster_id : "");
    memcpy(c->voters, cfg->voters, sizeof c->voters);
    c->cfg.metadata_dir = c->metadata_dir;
    c->cfg.cluster_id = c->cluster_id;
    c->listener = listener;
    c->caught_up_cb = caught_up;
    c->arg = arg;
    c->last_role = RAFT_FOLLOWER;
    arena_init(&c->entry_arena, 64 * 1024, 256u << 20);
    arena_init(&c->msg_arena, 16 * 1024, 256u << 20);
    arena_init(&c->plan_arena, 16 * 1024, 256u << 20);
    buf_init(&c->scratch, CTRL_MLOG_ENTRY_BYTES_MAX + 1);
    int rc = ctrl_image_create(&c->img);
    if (rc < 0)
        goto fail;
    rc = ctrl_mlog_open(c->metadata_dir, &c->mlog);
    if (rc < 0)
        goto fail;
    buf_init(&c->snap_buf, CTRL_SNAP_BYTES_MAX);
    c->cfg.snapshot_bytes = cfg->snapshot_bytes > 0 ? cfg->snapshot_bytes : 20971520;
    uint64_t si, se;
    if (ctrl_snap_latest(c->metadata_dir, &si, &se) == 0) {
        rc = ctrl_snap_read(c->metadata_dir, si, se, &c->snap_buf);
        if (rc == 0)
            rc = ctrl_snap_load(c->img, buf_bytes(&c->snap_buf), (int64_t)si - 1);
        if (rc < 0)
            goto fail;
        c->snap = (struct raft_snapshot_id){ si, se };
        c->applied_index = si;
        c->applied_epoch = se;
        if (ctrl_mlog_start_offset(c->mlog) < (int64_t)si && ctrl_mlog_end_offset(c->mlog) > 0 &&
            (rc = ctrl_mlog_cut_prefix(c->mlog, (int64_t)si)) < 0)
            goto fail;
        log_info("ctrl", "loaded metadata snapshot index=%llu epoch=%llu topics=%d", (unsigned long long)si,
                 (unsigned long long)se, ctrl_image_topic_count(c->img));
    }
    rc = ctrl_qstate_read(c->metadata_dir, &c->qs);
    if (rc == -ENOENT) {
        memset(&c->qs, 0, sizeof c->qs);
        c->qs.voted_for = RAFT_ID_NONE; /* a fresh quorum: no vote (node 0 is a node) */
        rc = 0;
    }
    if (rc < 0)
        goto fail;
    struct raft_config rc_cfg;
    raft_config_defaults(&rc_cfg);
    rc_cfg.id = (uint32_t)cfg->node_id;
    rc_cfg.voter_count = cfg->voter_count;
    for (uint32_t i = 0; i < cfg->voter_count; i++)
        rc_cfg.voters[i] = cfg->voters[i].id;
    /* 5 ms ticks: idle followers and observers fetch every tick, which is
     * what bounds commit latency until the leader long-polls fetches */
    int64_t tick_ms = cfg->tick_ms > 0 ? cfg->tick_ms : 5;
    c->cfg.tick_ms = tick_ms;
    int64_t et = cfg->election_timeout_ms > 0 ? cfg->election_timeout_ms : 1000;
    c->session_ticks = (cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : 9000) / tick_ms;
    rc_cfg.election_ticks = (uint32_t)(et / tick_ms > 4 ? et / tick_ms : 4);
    rc_cfg.heartbeat_ticks = rc_cfg.election_ticks / 10 > 1 ? rc_cfg.election_ticks / 10 : 1;
    rc_cfg.fetch_ticks = 1;
    rc_cfg.check_quorum = true;
    rc_cfg.pre_vote = true;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)cfg->node_id * 0x9e3779b97f4a7c15ULL;
    rc_cfg.prng_seed = seed;
    rc_cfg.storage = (struct raft_storage){ c, st_last_index, st_entries, st_snapshot, st_hard_state };
    rc_cfg.entry_bytes_max = CTRL_MLOG_ENTRY_BYTES_MAX;
    rc_cfg.snapshot_bytes_max = CTRL_SNAP_BYTES_MAX;
    rc_cfg.log_cb = raft_log_cb;
    rc_cfg.log_ctx = c;
    rc = raft_create(&rc_cfg, &c->raft);
    if (rc < 0) {
        log_error("ctrl", "cannot start the metadata quorum node=%d error=\"%s\"", cfg->node_id, err_str(rc));
        goto fail;
    }
    rc = ctrl_net_create(cfg->base, (uint32_t)cfg->node_id, c->cluster_id, on_frame, c, &c->net);
    if (rc < 0)
        goto fail;
    if (cfg->listen) {
        rc = ctrl_net_listen(c->net, cfg->listen_host, cfg->listen_port);
        if (rc < 0)
            goto fail;
    }
    for (uint32_t i = 0; i < cfg->voter_count; i++) {
        if (cfg->voters[i].id == (uint32_t)cfg->node_id)
            continue;
        rc = ctrl_net_peer_add(c->net, cfg->voters[i].id, c->voters[i].host, cfg->voters[i].port);
        if (rc < 0)
            goto fail;
    }
    c->tick_ev = event_new(cfg->base, -1, EV_PERSIST, tick_cb, c);
    if (!c->tick_ev) {
        rc = -ENOMEM;
        goto fail;
    }
    struct timeval tv = { (time_t)(tick_ms / 1000), (suseconds_t)((tick_ms % 1000) * 1000) };
    event_add(c->tick_ev, &tv);
    log_info("ctrl", "metadata quorum started node=%d voters=%u log_end_offset=%lld epoch=%llu", cfg->node_id,
             cfg->voter_count, (long long)ctrl_mlog_end_offset(c->mlog), (unsigned long long)c->qs.epoch);
    *out = c;
    return 0;
fail:
    ctrl_destroy(c);
    return rc;
}

void ctrl_destroy(struct ctrl *c)
{
    if (!c)
        return;
    if (c->tick_ev)
        event_free(c->tick_ev);
    ctrl_net_destroy(c->net);
    raft_destroy(c->raft);
    ctrl_mlog_destroy(c->mlog);
    ctrl_image_destroy(c->img);
    arena_deinit(&c->entry_arena);
    arena_deinit(&c->msg_arena);
    arena_deinit(&c->plan_arena);
    buf_deinit(&c->snap_buf);
    buf_deinit(&c->scratch);
    free(c);
}

const struct ctrl_image *ctrl_metadata(const struct ctrl *c) { return c->img; }

bool ctrl_resign(struct ctrl *c)
{
    if (!c || raft_role_get(c->raft) != RAFT_LEADER || c->cfg.voter_count <= 1)
        return false;
    if (raft_resign(c->raft) < 0)
        return false;
    process_ready(c); /* the EndQuorumEpoch messages go out through ctrl_net */
    return true;
}

size_t ctrl_unsent_bytes(const struct ctrl *c) { return c ? ctrl_net_unsent_bytes(c->net) : 0; }

int32_t ctrl_active_id(const struct ctrl *c)
{
    uint32_t l = raft_leader_get(c->raft);
    return l != RAFT_ID_NONE ? (int32_t)l : -1;
}

bool ctrl_is_active(const struct ctrl *c) { return raft_role_get(c->raft) == RAFT_LEADER; }
bool ctrl_caught_up(const struct ctrl *c) { return c->caught_up; }

void ctrl_quorum_status_get(const struct ctrl *c, struct ctrl_quorum_status *out)
{
    out->leader_id = ctrl_active_id(c);
    out->epoch = raft_epoch_get(c->raft);
    out->high_watermark = raft_high_watermark_get(c->raft);
    out->last_index = raft_last_index_get(c->raft);
    out->role = raft_role_name(raft_role_get(c->raft));
    int64_t now = wall_ms();
    out->voter_count = 0;
    uint32_t id, idle;
    uint64_t match;
    for (uint32_t i = 0; raft_voter_progress(c->raft, i, &id, &match, &idle) && i < CTRL_VOTERS_MAX; i++) {
        struct ctrl_replica_status *v = &out->voters[out->voter_count++];
        v->id = (int32_t)id;
        v->log_end_offset = (int64_t)match;
        v->last_fetch_ms = now - (int64_t)idle * c->cfg.tick_ms;
        v->last_caught_up_ms = match >= out->high_watermark ? v->last_fetch_ms : -1;
    }
    out->observer_count = c->observer_count;
    memcpy(out->observers, c->observers, c->observer_count * sizeof *out->observers);
}

static int pack_batch(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n)
{
    if (n == 0 || n > CTRL_BATCH_RECORDS_MAX)
        return ERR_LIMIT;
    Samsa__MetadataBatch batch = SAMSA__METADATA_BATCH__INIT;
    batch.n_records = n;
    batch.records = (Samsa__MetadataRecord **)recs;
    size_t size = samsa__metadata_batch__get_packed_size(&batch);
    if (size + 1 > CTRL_MLOG_ENTRY_BYTES_MAX)
        return ERR_TOO_LARGE;
    buf_reset(&c->scratch);
    int rc = buf_reserve(&c->scratch, size ? size : 1);
    if (rc < 0)
        return rc;
    c->scratch.len = samsa__metadata_batch__pack(&batch, c->scratch.ptr);
    ASSERT(c->scratch.len == size);
    return 0;
}

int ctrl_propose(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb, void *arg)
{
    int rc = pack_batch(c, recs, n);
    if (rc < 0)
        return rc;
    uint64_t index = 0;
    rc = propose_bytes(c, buf_bytes(&c->scratch), &index);
    if (rc < 0)
        return rc;
    uint32_t slot = (c->pending_head + c->pending_count) % CTRL_PENDING_MAX;
    c->pending[slot] = (struct ctrl_pending){ index, cb, arg };
    c->pending_count++;
    process_ready(c);
    return 0;
}

int ctrl_forward(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb, void *arg)
{
    if (ctrl_is_active(c))
        return ctrl_propose(c, recs, n, cb, arg);
    uint32_t leader = raft_leader_get(c->raft);
    if (leader == RAFT_ID_NONE)
        return ERR_NOT_CONTROLLER;
    if (c->fwd_count >= CTRL_REMOTE_MAX)
        return ERR_LIMIT;
    Samsa__MetadataBatch batch = SAMSA__METADATA_BATCH__INIT;
    batch.n_records = n;
    batch.records = (Samsa__MetadataRecord **)recs;
    Samsa__ProposeRequest pr = SAMSA__PROPOSE_REQUEST__INIT;
    pr.request_id = ++c->next_request_id;
    pr.batch = &batch;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE;
    f.propose = &pr;
    int rc = ctrl_net_send(c->net, leader, &f);
    if (rc < 0)
        return rc == ERR_NOT_FOUND ? ERR_NOT_CONTROLLER : rc;
    c->fwd[c->fwd_count++] = (struct ctrl_fwd){ pr.request_id, leader, cb, NULL, arg,
                                                c->ticks + CTRL_FWD_TIMEOUT_MS / c->cfg.tick_ms };
    return 0;
}

/* ---- planning ---- */

static int recs_push(struct ctrl_records *out, struct arena *a, Samsa__MetadataRecord *r)
{
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        if (cap > CTRL_BATCH_RECORDS_MAX)
            return ERR_LIMIT;
        Samsa__MetadataRecord **n = arena_alloc_array(a, cap, sizeof *n);
        if (!n)
            return ERR_LIMIT;
        if (out->count)
            memcpy(n, out->recs, out->count * sizeof *n);
        out->recs = n;
        out->cap = cap;
    }
    out->recs[out->count++] = r;
    return 0;
}

static Samsa__MetadataRecord *rec_new(struct arena *a)
{
    Samsa__MetadataRecord *r = arena_alloc(a, sizeof *r);
    if (r)
        samsa__metadata_record__init(r);
    return r;
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

int ctrl_topic_name_check(const char *name, size_t len)
{
    if (len == 0 || len > CTRL_TOPIC_NAME_BYTES_MAX)
        return ERR_INVALID_TOPIC;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return ERR_INVALID_TOPIC;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return ERR_INVALID_TOPIC;
    }
    return 0;
}

/* The unfenced brokers, sorted by id: the placement candidates. */
static int32_t live_brokers(const struct ctrl_image *img, int32_t *ids)
{
    int32_t n = 0;
    for (int32_t i = 0; i < ctrl_image_broker_count(img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        if (b->fenced)
            continue;
        int32_t j = n++;
        while (j > 0 && ids[j - 1] > b->broker_id) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = b->broker_id;
    }
    return n;
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = 0;
    return v;
}

static Samsa__MetadataRecord *partition_rec(struct arena *a, const uint8_t *topic_id, int32_t pid,
                                            const int32_t *replicas, int32_t rf)
{
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__PartitionRecord *p = arena_alloc(a, sizeof *p);
    int32_t *reps = arena_alloc_array(a, (size_t)rf, sizeof *reps);
    if (!r || !p || !reps)
        return NULL;
    samsa__partition_record__init(p);
    memcpy(reps, replicas, (size_t)rf * sizeof *reps);
    p->topic_id.data = (uint8_t *)topic_id;
    p->topic_id.len = 16;
    p->partition_id = pid;
    p->n_replicas = (size_t)rf;
    p->replicas = reps;
    /* Only the leader is in sync until partition replication exists (a later
     * issue): followers hold no copy yet, so acks=all must not count them.
     * Metadata then shows the partition under-replicated, which it is. */
    p->n_isr = 1;
    p->isr = reps;
    p->leader = reps[0];
    p->leader_epoch = 0;
    p->partition_epoch = 0;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION;
    r->partition = p;
    return r;
}

/* Kafka-style placement: partition p's first replica is broker
 * (start + p) % n, followers follow it in id order, so leaders spread evenly. */
static void place_replicas(const int32_t *ids, int32_t n, uint32_t start, int32_t pid, int32_t rf, int32_t *out)
{
    for (int32_t j = 0; j < rf; j++)
        out[j] = ids[(start + (uint32_t)pid + (uint32_t)j) % (uint32_t)n];
}

int ctrl_plan_create_topic(const struct ctrl_image *img, const struct ctrl_topic_spec *spec,
                           int32_t default_partitions, int16_t default_replication_factor, struct arena *a,
                           struct ctrl_records *out, int32_t *effective_partitions,
                           int16_t *effective_replication_factor)
{
    int rc = ctrl_topic_name_check(spec->name, spec->name_len);
    if (rc < 0)
        return rc;
    if (ctrl_image_topic_find(img, spec->name, spec->name_len))
        return ERR_EXISTS;
    int32_t ids[CTRL_BROKERS_MAX];
    int32_t n = live_brokers(img, ids);
    int32_t parts = spec->partition_count;
    int32_t rf = spec->replication_factor;
    if (spec->assignment_count > 0) {
        if ((parts != -1 && parts != spec->assignment_count) || (rf != -1))
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        parts = spec->assignment_count;
        rf = (int16_t)spec->assignment_lens[0];
    }
    if (parts == -1)
        parts = default_partitions;
    if (rf == -1)
        rf = default_replication_factor;
    if (parts <= 0 || parts > CTRL_PARTITIONS_PER_TOPIC_MAX)
        return ERR_INVALID_PARTITIONS;
    if (rf <= 0 || rf > CTRL_REPLICAS_MAX || rf > n)
        return ERR_INVALID_REPLICATION_FACTOR;
    if (spec->config_count > CTRL_TOPIC_CONFIGS_MAX)
        return ERR_LIMIT;
    for (int32_t p = 0; p < spec->assignment_count; p++) {
        if (spec->assignment_lens[p] != rf)
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        for (int32_t j = 0; j < rf; j++) {
            const struct ctrl_broker *b = ctrl_image_broker_find(img, spec->assignments[p][j]);
            if (!b)
                return ERR_INVALID_REPLICA_ASSIGNMENT;
            for (int32_t k = 0; k < j; k++)
                if (spec->assignments[p][k] == spec->assignments[p][j])
                    return ERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    uint8_t *topic_id = arena_alloc(a, 16);
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__TopicRecord *t = arena_alloc(a, sizeof *t);
    char *name = arena_strndup(a, spec->name, spec->name_len);
    if (!topic_id || !r || !t || !name)
        return ERR_LIMIT;
    do {
        if (getrandom(topic_id, 16, 0) != 16)
            return -EIO;
        topic_id[6] = (uint8_t)((topic_id[6] & 0x0f) | 0x40); /* version-4 uuid like Kafka's Uuid.randomUuid */
        topic_id[8] = (uint8_t)((topic_id[8] & 0x3f) | 0x80);
    } while (ctrl_image_topic_find_id(img, topic_id));
    samsa__topic_record__init(t);
    t->name = name;
    t->topic_id.data = topic_id;
    t->topic_id.len = 16;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_TOPIC;
    r->topic = t;
    if ((rc = recs_push(out, a, r)) < 0)
        return rc;
    for (int32_t i = 0; i < spec->config_count; i++) {
        rc = ctrl_plan_config(NULL, SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC, name, spec->configs[i].name,
                              spec->configs[i].value, a, out);
        if (rc < 0)
            return rc;
    }
    uint32_t start = n ? random_u32() % (uint32_t)n : 0;
    int32_t replicas[CTRL_REPLICAS_MAX];
    for (int32_t p = 0; p < parts; p++) {
        if (spec->assignment_count > 0)
            memcpy(replicas, spec->assignments[p], (size_t)rf * sizeof *replicas);
        else
            place_replicas(ids, n, start, p, rf, replicas);
        Samsa__MetadataRecord *pr = partition_rec(a, topic_id, p, replicas, rf);
        if (!pr)
            return ERR_LIMIT;
        if ((rc = recs_push(out, a, pr)) < 0)
            return rc;
    }
    *effective_partitions = parts;
    *effective_replication_factor = (int16_t)rf;
    return 0;
}

int ctrl_plan_delete_topic(const struct ctrl_image *img, const char *name, size_t len, struct arena *a,
                           struct ctrl_records *out)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, len);
    if (!t)
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__RemoveTopicRecord *rt = arena_alloc(a, sizeof *rt);
    uint8_t *id = arena_alloc(a, 16);
    if (!r || !rt || !id)
        return ERR_LIMIT;
    samsa__remove_topic_record__init(rt);
    memcpy(id, t->topic_id, 16);
    rt->topic_id.data = id;
    rt->topic_id.len = 16;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_REMOVE_TOPIC;
    r->remove_topic = rt;
    return recs_push(out, a, r);
}

int ctrl_plan_create_partitions(const struct ctrl_image *img, const char *name, size_t len, int32_t new_count,
                                struct arena *a, struct ctrl_records *out)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, len);
    if (!t)
        return ERR_NOT_FOUND;
    if (new_count <= t->partition_count || new_count > CTRL_PARTITIONS_PER_TOPIC_MAX)
        return ERR_INVALID_PARTITIONS;
    int32_t ids[CTRL_BROKERS_MAX];
    int32_t n = live_brokers(img, ids);
    int32_t rf = t->partition_count > 0 ? t->partitions[0].replica_count : 1;
    if (rf > n)
        return ERR_INVALID_REPLICATION_FACTOR;
    uint8_t *id = arena_alloc(a, 16);
    if (!id)
        return ERR_LIMIT;
    memcpy(id, t->topic_id, 16);
    uint32_t start = random_u32() % (uint32_t)n;
    int32_t replicas[CTRL_REPLICAS_MAX];
    for (int32_t p = t->partition_count; p < new_count; p++) {
        place_replicas(ids, n, start, p, rf, replicas);
        Samsa__MetadataRecord *pr = partition_rec(a, id, p, replicas, rf);
        if (!pr)
            return ERR_LIMIT;
        int rc = recs_push(out, a, pr);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int ctrl_plan_config(const struct ctrl_image *img, int resource_type, const char *resource_name, const char *name,
                     const char *value, struct arena *a, struct ctrl_records *out)
{
    if (img && resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC &&
        !ctrl_image_topic_find(img, resource_name, strlen(resource_name)))
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__ConfigRecord *cr = arena_alloc(a, sizeof *cr);
    char *rn = arena_strndup(a, resource_name, strlen(resource_name));
    char *n = arena_strndup(a, name, strlen(name));
    char *v = arena_strndup(a, value ? value : "", value ? strlen(value) : 0);
    if (!r || !cr || !rn || !n || !v)
        return ERR_LIMIT;
    samsa__config_record__init(cr);
    cr->resource_type = (Samsa__ConfigResourceType)resource_type;
    cr->resource_name = rn;
    cr->name = n;
    cr->value = v;
    cr->deleted = value == NULL;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_CONFIG;
    r->config = cr;
    return recs_push(out, a, r);
}

static bool id_in(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

int ctrl_plan_fence(const struct ctrl_image *img, int32_t broker_id, bool fenced, struct arena *a,
                    struct ctrl_records *out)
{
    const struct ctrl_broker *b = ctrl_image_broker_find(img, broker_id);
    if (!b)
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__BrokerRegistrationChangeRecord *bc = arena_alloc(a, sizeof *bc);
    if (!r || !bc)
        return ERR_LIMIT;
    samsa__broker_registration_change_record__init(bc);
    bc->broker_id = broker_id;
    bc->broker_epoch = b->broker_epoch;
    bc->has_fenced = true;
    bc->fenced = fenced;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_BROKER_CHANGE;
    r->broker_change = bc;
    int rc = recs_push(out, a, r);
    if (rc < 0)
        return rc;
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            int32_t leader = cp->leader;
            if (fenced && cp->leader == broker_id) {
                leader = -1; /* elect another live ISR member, if any */
                for (int32_t k = 0; k < cp->isr_count && leader < 0; k++) {
                    const struct ctrl_broker *o = ctrl_image_broker_find(img, cp->isr[k]);
                    if (cp->isr[k] != broker_id && o && !o->fenced)
                        leader = cp->isr[k];
                }
            } else if (!fenced && cp->leader < 0 && id_in(cp->isr, cp->isr_count, broker_id)) {
                leader = broker_id;
            }
            if (leader == cp->leader)
                continue;
            Samsa__MetadataRecord *pr = rec_new(a);
            Samsa__PartitionChangeRecord *pc = arena_alloc(a, sizeof *pc);
            uint8_t *id = arena_alloc(a, 16);
            if (!pr || !pc || !id)
                return ERR_LIMIT;
            samsa__partition_change_record__init(pc);
            memcpy(id, t->topic_id, 16);
            pc->topic_id.data = id;
            pc->topic_id.len = 16;
            pc->partition_id = cp->partition_id;
            pc->has_leader = true;
            pc->leader = leader;
            pr->record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE;
            pr->partition_change = pc;
            if ((rc = recs_push(out, a, pr)) < 0)
                return rc;
        }
    }
    return 0;
}

int ctrl_plan_register_broker(int32_t broker_id, int64_t broker_epoch, const struct ctrl_endpoint *eps,
                              int32_t ep_count, struct arena *a, struct ctrl_records *out)
{
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__RegisterBrokerRecord *rb = arena_alloc(a, sizeof *rb);
    Samsa__BrokerEndpoint **list = arena_alloc_array(a, (size_t)ep_count, sizeof *list);
    uint8_t *inc = arena_alloc(a, 16);
    if (!r || !rb || !list || !inc)
        return ERR_LIMIT;
    samsa__register_broker_record__init(rb);
    if (getrandom(inc, 16, 0) != 16)
        return -EIO;
    for (int32_t i = 0; i < ep_count; i++) {
        Samsa__BrokerEndpoint *e = arena_alloc(a, sizeof *e);
        if (!e)
            return ERR_LIMIT;
        samsa__broker_endpoint__init(e);
        e->name = (char *)eps[i].name;
        e->host = (char *)eps[i].host;
        e->port = eps[i].port;
        e->security_protocol = eps[i].security_protocol;
        list[i] = e;
    }
    rb->broker_id = broker_id;
    rb->incarnation_id.data = inc;
    rb->incarnation_id.len = 16;
    rb->broker_epoch = broker_epoch;
    rb->n_endpoints = (size_t)ep_count;
    rb->endpoints = list;
    rb->rack = (char *)"";
    rb->fenced = false;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER;
    r->register_broker = rb;
    return recs_push(out, a, r);
}
