/*
 * ctrl.c - the Raft driver for the metadata log, and planning of admin
 * operations into records.
 *
 * Driver loop (raft/README.md, "persist before send"):
 *   ctrl_tick ─► raft_tick ─┐
 *   ctrl_on_frame ─► step ──┼─► while raft_has_ready:
 *   propose ────────────────┘      truncate / append to the storage's log,
 *                                  quorum-state, log sync   <- durable first
 *                                  send messages (transport)
 *                                  apply committed entries to the image, run the
 *                                  callbacks of proposals they commit
 *                                  raft_advance
 *
 * Storage, transport and clock are the ctrl_env interfaces (ctrl_env.h):
 * files and libevent in production (ctrl_wire.c), simulated ones in
 * test/sim/csim.c.  This file includes neither.
 *
 * Entries in ctrl_mlog are [type byte | payload]; DATA payloads are packed
 * MetadataBatch messages.  Raft indexes count from 1, metadata log offsets
 * from 0: offset = index - 1.  Every start replays the log through the
 * committed stream, so a live node and a restarted node apply the same
 * records in the same order.  Planning never mutates the image.
 */
#include "controller/ctrl_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/prng.h"
#include "controller/ctrl_mlog.h"
#include "controller/ctrl_snap.h"

/* ---- the core's read-only storage vtable over the metadata log ---- */

static uint64_t st_last_index(void *ctx)
{
    struct ctrl *c = ctx;
    uint64_t end = (uint64_t)CTRL_ST0(c, log_end_offset);
    return end > c->snap.index ? end : c->snap.index;
}

static int st_entries(void *ctx, uint64_t lo, uint64_t hi, struct raft_entry *out, uint32_t count_max,
                      uint32_t *count)
{
    struct ctrl *c = ctx;
    uint64_t last = st_last_index(ctx);
    if (lo == 0 || lo <= c->snap.index || lo > last || (int64_t)(lo - 1) < CTRL_ST0(c, log_start_offset))
        return ERR_NOT_FOUND;
    uint32_t n = 0;
    for (uint64_t i = lo; i <= hi && i <= last && n < count_max; i++) {
        int32_t epoch;
        int rc = CTRL_ST(c, log_read, (int64_t)i - 1, &c->scratch, &epoch);
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

void ctrl_send_frame(struct ctrl *c, uint32_t to, Samsa__ControllerFrame *f)
{
    int rc = c->env.transport->send(c->env.transport_ctx, to, f);
    if (rc < 0 && rc != ERR_NOT_FOUND)
        log_warn("ctrl", "send failed to=%u error=\"%s\"", to, err_str(rc));
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
            /* a new incarnation: a full session, and nothing it did not ask
             * for itself (a past incarnation's controlled shutdown, noted by
             * whichever node led then, must not fence or stop this one) */
            struct ctrl_lease *l = ctrl_lease_get(c, batch->records[i]->register_broker->broker_id);
            if (l) {
                l->last_ticks = c->ticks;
                l->heard = true;
                l->shutting_down = false;
                l->want_fence = false;
            }
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
    ctrl_rpc_complete(c, index);
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
    ctrl_rpc_fail(c);
}

/* A follower or observer below the leader's log start received a snapshot:
 * store it, discard the log, rebuild the image from it.  Zero bytes is a
 * valid snapshot: an image with no records (a leader that snapshots before
 * any broker registered) encodes to nothing, and the leader ships the bytes
 * of its own CRC-checked file (simulator seed 18932 aborted here). */
static int install_snapshot(struct ctrl *c, const struct raft_ready *rd)
{
    static const uint8_t empty[1];
    struct bytes data = rd->snapshot_data;
    if (!data.ptr) {
        ASSERT(data.len == 0);
        data = bytes_make(empty, 0); /* storage never sees a NULL pointer */
    }
    int rc = CTRL_ST(c, snap_write, rd->snapshot.index, rd->snapshot.epoch, data);
    if (rc < 0)
        return rc;
    rc = CTRL_ST(c, log_truncate, CTRL_ST0(c, log_start_offset));
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

/*
 * A snapshot install that a crash interrupted (the snapshot written, the
 * log it replaces not yet truncated) leaves entries behind the snapshot
 * that are older than it: a log whose last epoch is below the snapshot's
 * cannot continue it.  Kafka's rule (truncateToLatestSnapshot): drop that
 * log, the leader sends what follows.  Left in place, the stale entry made
 * every fetch diverge below this node's HW, which it refuses, so it never
 * caught up (simulator seed 26300: a quorum of two that could not fence).
 */
static int log_drop_older_than_snapshot(struct ctrl *c, uint64_t snap_epoch)
{
    int64_t start = CTRL_ST0(c, log_start_offset), end = CTRL_ST0(c, log_end_offset);
    if (end <= start)
        return 0;
    int32_t last_epoch = 0;
    int rc = CTRL_ST(c, log_read, end - 1, &c->scratch, &last_epoch);
    if (rc < 0)
        return rc;
    if (last_epoch < 0 || (uint64_t)last_epoch >= snap_epoch)
        return 0;
    log_warn("ctrl", "metadata log offsets [%lld,%lld) end in epoch %d, older than the snapshot's epoch %llu (an "
             "install cut short by a stop); dropping them, the leader sends what follows",
             (long long)start, (long long)end, last_epoch, (unsigned long long)snap_epoch);
    return CTRL_ST(c, log_truncate, start);
}

/* Encode one Raft message and send it (a FETCH_SNAPSHOT_RESP gets the
 * snapshot's bytes from its file). */
static void send_msg(struct ctrl *c, const struct raft_msg *m)
{
    Samsa__RaftMessageWire w;
    if (msg_to_wire(c, m, &w) < 0)
        return;
    if (m->type == RAFT_MSG_FETCH_SNAPSHOT_RESP) {
        /* the core names the snapshot; the bytes come from its file */
        if (CTRL_ST(c, snap_read, m->snapshot_id.index, m->snapshot_id.epoch, &c->snap_buf) < 0)
            return;
        w.snapshot_data.data = c->snap_buf.ptr;
        w.snapshot_data.len = c->snap_buf.len;
        log_info("ctrl", "sending metadata snapshot to=%u index=%llu bytes=%zu", m->to,
                 (unsigned long long)m->snapshot_id.index, c->snap_buf.len);
    }
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_RAFT;
    f.raft = &w;
    ctrl_send_frame(c, m->to, &f);
}

/* ---- asynchronous log sync (README "Writing off the loop thread") ----
 *
 * Entries are written at once and made durable by one sync in flight at a
 * time; the core hears of durability only through raft_persisted (the
 * leader counts itself toward the commit, and anyone applies, only up to
 * it).  The one message that acknowledges log entries is a follower's or
 * observer's FETCH_REQ (its fetch offset is its log end): it waits until a
 * sync covers what it acknowledges.  Votes and epochs are in the quorum
 * state, written synchronously before the ready's messages go out. */

static bool fetch_must_wait(const struct ctrl *c, const struct raft_msg *m)
{
    if (!c->sync_async || m->type != RAFT_MSG_FETCH_REQ || c->env.bug_ack_before_sync)
        return false;
    return m->fetch_offset > 0 && m->fetch_offset - 1 > c->durable_last;
}

/* The log below `after` is all that is left of what was written: a sync in
 * flight covers no more, and a held fetch acknowledges entries that are
 * gone (Raft fetches again on its own timer). */
static void log_clamp(struct ctrl *c, uint64_t after)
{
    if (c->written_last > after)
        c->written_last = after;
    if (c->durable_last > after)
        c->durable_last = after;
    if (c->sync_in_flight_last > after)
        c->sync_in_flight_last = after;
    c->fetch_held = false;
}

static void log_synced_cb(void *arg, int rc);

static void log_sync_maybe_submit(struct ctrl *c)
{
    if (!c->sync_async || c->sync_in_flight || c->written_last <= c->durable_last)
        return;
    c->sync_in_flight = true;
    c->sync_in_flight_last = c->written_last;
    int rc = c->env.storage->log_sync_submit(c->env.storage_ctx, log_synced_cb, c);
    if (rc < 0) {
        log_error("ctrl", "metadata log sync could not start dir=%s error=\"%s\"; stopping this node: fix the disk "
                  "and restart", c->metadata_dir, err_str(rc));
        abort();
    }
}

static void log_synced_cb(void *arg, int rc)
{
    struct ctrl *c = arg;
    ASSERT(c->sync_in_flight && !c->in_ready);
    if (rc < 0) {
        /* nothing that depends on these entries was said: stop before it is */
        log_error("ctrl", "metadata log fsync failed dir=%s error=\"%s\"; stopping this node: fix the disk and restart",
                  c->metadata_dir, err_str(rc));
        abort();
    }
    c->sync_in_flight = false;
    uint64_t last = c->sync_in_flight_last;
    ASSERT(last <= c->written_last);
    if (last > c->durable_last)
        c->durable_last = last;
    raft_persisted(c->raft, last);
    if (c->fetch_held && !fetch_must_wait(c, &c->fetch_held_msg)) {
        c->fetch_held = false;
        send_msg(c, &c->fetch_held_msg);
        arena_reset(&c->msg_arena);
    }
    ctrl_process_ready(c); /* commits the leader can count now; the next sync */
}

/* Enough log since the last snapshot: snapshot the image at the applied
 * index and cut the log behind it (outside ready processing). */
static void maybe_snapshot(struct ctrl *c)
{
    log_debug("ctrl", "snapshot check bytes_since=%lld threshold=%lld applied=%llu snap=%llu caught_up=%d",
              (long long)c->bytes_since_snap, (long long)c->cfg.snapshot_bytes, (unsigned long long)c->applied_index,
              (unsigned long long)c->snap.index, c->caught_up);
    if (c->bytes_since_snap < c->cfg.snapshot_bytes || c->applied_index <= c->snap.index || !c->caught_up ||
        c->sync_in_flight) /* the cut replaces the file the sync in flight works on */
        return;
    arena_reset(&c->plan_arena);
    uint64_t index = c->applied_index, epoch = c->applied_epoch;
    int rc = ctrl_snap_encode(c->img, &c->plan_arena, &c->snap_buf);
    if (rc == 0)
        rc = CTRL_ST(c, snap_write, index, epoch, buf_bytes(&c->snap_buf));
    if (rc == 0)
        rc = raft_snapshot_taken(c->raft, index);
    if (rc == 0) {
        c->snap = (struct raft_snapshot_id){ index, epoch };
        rc = CTRL_ST(c, log_cut_prefix, (int64_t)index);
    }
    c->bytes_since_snap = 0;
    if (rc < 0) {
        log_error("ctrl", "metadata snapshot failed index=%llu error=\"%s\"; the log keeps growing until one succeeds",
                  (unsigned long long)index, err_str(rc));
        return;
    }
    log_info("ctrl", "metadata snapshot taken node=%d index=%llu epoch=%llu bytes=%zu; log now starts at offset %lld",
             c->cfg.node_id, (unsigned long long)index, (unsigned long long)epoch, c->snap_buf.len,
             (long long)CTRL_ST0(c, log_start_offset));
}

void ctrl_process_ready(struct ctrl *c)
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
            log_clamp(c, rd.snapshot.index);
            c->written_last = c->durable_last = rd.snapshot.index; /* the snapshot file is durable */
        }
        if (rd.truncate) {
            rc = CTRL_ST(c, log_truncate, (int64_t)rd.truncate_after);
            if (rc < 0)
                goto fatal;
            log_clamp(c, rd.truncate_after);
        }
        for (uint32_t i = 0; i < rd.entry_count; i++) {
            const struct raft_entry *e = &rd.entries[i];
            buf_reset(&c->scratch);
            uint8_t type = (uint8_t)e->type;
            if ((rc = buf_append(&c->scratch, &type, 1)) < 0 ||
                (rc = buf_append(&c->scratch, e->data.ptr, e->data.len)) < 0)
                goto fatal;
            rc = CTRL_ST(c, log_append, (int64_t)e->index - 1, (int32_t)e->epoch, buf_bytes(&c->scratch));
            if (rc < 0)
                goto fatal;
            c->bytes_since_snap += (int64_t)c->scratch.len;
            c->written_last = e->index;
        }
        if (!c->sync_async && (rd.entry_count > 0 || rd.truncate)) {
            rc = CTRL_ST0(c, log_sync);
            if (rc < 0)
                goto fatal;
        }
        if (rd.hard_state_changed) {
            c->qs.epoch = rd.hard_state.epoch;
            c->qs.voted_for = rd.hard_state.voted_for;
            c->qs.catching_up = rd.hard_state.catching_up;
            rc = CTRL_ST(c, qstate_write, &c->qs);
            if (rc < 0)
                goto fatal;
        }
        for (uint32_t i = 0; i < rd.msg_count; i++) {
            if (fetch_must_wait(c, &rd.msgs[i])) {
                c->fetch_held = true; /* a newer fetch replaces an older one */
                c->fetch_held_msg = rd.msgs[i];
                continue;
            }
            send_msg(c, &rd.msgs[i]);
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
            ctrl_leases_reset(c); /* a new leader gives everyone a full session */
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
        /* caught up: applied the leader's HW - by applying entries now, or,
         * for a follower that restarted on a snapshot already covering it
         * (nothing left to apply; an idle quorum commits nothing new), by
         * having heard the HW from the leader (ctrl sim seed 59017) */
        bool synced = raft_holds_leader_hw(c->raft) && c->applied_index >= rd.high_watermark;
        if (!c->caught_up && rd.leader_id != RAFT_ID_NONE && rd.high_watermark > 0 &&
            (last_applied >= rd.high_watermark || synced)) {
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
    log_sync_maybe_submit(c); /* one sync for every ready above (group commit) */
    return;
fatal:
    /* the metadata log cannot be written: this node must not say anything
     * that depends on it; stopping is the only safe answer */
    log_error("ctrl", "metadata log write failed dir=%s error=\"%s\"; stopping this node: fix the disk and restart",
              c->metadata_dir, err_str(rc));
    abort();
}

void ctrl_tick(struct ctrl *c)
{
    c->ticks++;
    raft_tick(c->raft);
    if (c->ticks % 10 == 0) {
        ctrl_leases_check(c);
        ctrl_reassign_check(c);
        ctrl_rebalance_check(c);
    }
    ctrl_rpc_tick(c);
    ctrl_process_ready(c);
}

static int propose_bytes(struct ctrl *c, struct bytes data, uint64_t *index_out)
{
    if (raft_role_get(c->raft) != RAFT_LEADER)
        return ERR_NOT_CONTROLLER;
    if (c->pending_count >= CTRL_PENDING_MAX)
        return ERR_LIMIT;
    return raft_propose(c->raft, data.ptr, (uint32_t)data.len, index_out);
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
    int64_t now = c->env.wall_ms(c->env.clock_ctx);
    o->log_end_offset = fetch_offset > 0 ? (int64_t)fetch_offset - 1 : 0;
    o->last_fetch_ms = now;
    if ((uint64_t)o->log_end_offset >= raft_high_watermark_get(c->raft))
        o->last_caught_up_ms = now;
}

void ctrl_on_frame(void *arg, uint32_t from, const Samsa__ControllerFrame *f)
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
    default:
        if (!ctrl_rpc_on_frame(c, from, f))
            log_warn("ctrl", "dropping a controller frame of unknown kind from=%u case=%d", from, f->frame_case);
        break;
    }
    ctrl_process_ready(c);
}

int ctrl_create_env(const struct ctrl_config *cfg, const struct ctrl_env *env, ctrl_apply_cb listener,
                    ctrl_caught_up_cb caught_up, void *arg, struct ctrl **out)
{
    ASSERT(env->storage != NULL && env->transport != NULL && env->wall_ms != NULL);
    struct ctrl *c = NULL;
    if (cfg->voter_count == 0 || cfg->voter_count > CTRL_VOTERS_MAX || cfg->node_id < 0 ||
        !(c = calloc(1, sizeof *c))) {
        if (env->release)
            env->release(env->release_ctx);
        return c ? ERR_CONFIG : -ENOMEM;
    }
    c->env = *env;
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
    /* Controller RPC answers are matched by request id alone and go to "node
     * X", whichever process runs X now, so ids must not repeat across a
     * node's processes: an answer to a dead incarnation's registration
     * matched the next incarnation's request 1, which then took the old
     * process's (clean) registration for its own (ctrl simulator seed 37816).
     * Each process starts at a random point of the 64-bit space. */
    struct prng ids;
    prng_init(&ids, env->prng_seed ^ 0x7270632d69647321ULL); /* "rpc-ids!": not the Raft core's stream */
    c->next_request_id = prng_next(&ids);
    arena_init(&c->entry_arena, 64 * 1024, 256u << 20);
    arena_init(&c->msg_arena, 16 * 1024, 256u << 20);
    arena_init(&c->plan_arena, 16 * 1024, 256u << 20);
    buf_init(&c->scratch, CTRL_MLOG_ENTRY_BYTES_MAX + 1);
    int rc = ctrl_image_create(&c->img);
    if (rc < 0)
        goto fail;
    buf_init(&c->snap_buf, CTRL_SNAP_BYTES_MAX);
    c->cfg.snapshot_bytes = cfg->snapshot_bytes > 0 ? cfg->snapshot_bytes : 20971520;
    uint64_t si, se;
    if (CTRL_ST(c, snap_latest, &si, &se) == 0) {
        rc = CTRL_ST(c, snap_read, si, se, &c->snap_buf);
        if (rc == 0)
            rc = ctrl_snap_load(c->img, buf_bytes(&c->snap_buf), (int64_t)si - 1);
        if (rc < 0)
            goto fail;
        c->snap = (struct raft_snapshot_id){ si, se };
        c->applied_index = si;
        c->applied_epoch = se;
        if (CTRL_ST0(c, log_start_offset) < (int64_t)si && CTRL_ST0(c, log_end_offset) > 0 &&
            (rc = CTRL_ST(c, log_cut_prefix, (int64_t)si)) < 0)
            goto fail;
        if ((rc = log_drop_older_than_snapshot(c, se)) < 0)
            goto fail;
        log_info("ctrl", "loaded metadata snapshot index=%llu epoch=%llu topics=%d", (unsigned long long)si,
                 (unsigned long long)se, ctrl_image_topic_count(c->img));
    }
    rc = CTRL_ST(c, qstate_read, &c->qs);
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
    /* 5 ms ticks: followers and observers fetch every tick while there is
     * something to fetch, which bounds commit latency.  A voter whose fetches
     * bring nothing backs off to one per heartbeat interval (100 ms by
     * default; the idle quorum cost ~0.09 CPU-s per second with one per tick,
     * test/bench/RESULTS.md) and the leader wakes it (BeginQuorumEpoch) when
     * it appends: Kafka's long-polled fetch, in ticks */
    int64_t tick_ms = cfg->tick_ms > 0 ? cfg->tick_ms : 5;
    c->cfg.tick_ms = tick_ms;
    int64_t et = cfg->election_timeout_ms > 0 ? cfg->election_timeout_ms : 1000;
    c->session_ticks = (cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : 9000) / tick_ms;
    rc_cfg.election_ticks = (uint32_t)(et / tick_ms > 4 ? et / tick_ms : 4);
    rc_cfg.heartbeat_ticks = rc_cfg.election_ticks / 10 > 1 ? rc_cfg.election_ticks / 10 : 1;
    rc_cfg.fetch_ticks = 1;
    rc_cfg.fetch_idle_ticks_max = rc_cfg.heartbeat_ticks; /* < 2 * heartbeat_ticks: no extra heartbeats */
    rc_cfg.check_quorum = true;
    rc_cfg.pre_vote = true;
    rc_cfg.prng_seed = env->prng_seed;
    rc_cfg.storage = (struct raft_storage){ c, st_last_index, st_entries, st_snapshot, st_hard_state };
    rc_cfg.entry_bytes_max = CTRL_MLOG_ENTRY_BYTES_MAX;
    rc_cfg.snapshot_bytes_max = CTRL_SNAP_BYTES_MAX;
    rc_cfg.log_cb = raft_log_cb;
    c->sync_async = env->storage->log_sync_submit != NULL;
    rc_cfg.persist_async = c->sync_async;
    c->written_last = c->durable_last = st_last_index(c); /* what the core takes as persisted at start */
    rc_cfg.log_ctx = c;
    rc = raft_create(&rc_cfg, &c->raft);
    if (rc < 0) {
        log_error("ctrl", "cannot start the metadata quorum node=%d error=\"%s\"", cfg->node_id, err_str(rc));
        goto fail;
    }
    log_info("ctrl", "metadata quorum started node=%d voters=%u log_end_offset=%lld epoch=%llu", cfg->node_id,
             cfg->voter_count, (long long)CTRL_ST0(c, log_end_offset), (unsigned long long)c->qs.epoch);
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
    if (c->env.release)
        c->env.release(c->env.release_ctx); /* nothing calls into the driver any more */
    raft_destroy(c->raft);
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
    ctrl_process_ready(c); /* the EndQuorumEpoch messages go out through ctrl_net */
    return true;
}

size_t ctrl_unsent_bytes(const struct ctrl *c)
{
    return c ? c->env.transport->unsent_bytes(c->env.transport_ctx) : 0;
}

uint64_t ctrl_applied_index(const struct ctrl *c) { return c->applied_index; }

uint64_t ctrl_request_id_last(const struct ctrl *c) { return c->next_request_id; }

int32_t ctrl_active_id(const struct ctrl *c)
{
    uint32_t l = raft_leader_get(c->raft);
    return l != RAFT_ID_NONE ? (int32_t)l : -1;
}

bool ctrl_is_active(const struct ctrl *c) { return raft_role_get(c->raft) == RAFT_LEADER; }
bool ctrl_ready_to_plan(const struct ctrl *c) { return ctrl_rpc_ready_to_plan(c) && !ctrl_lease_change_in_flight(c); }
bool ctrl_caught_up(const struct ctrl *c) { return c->caught_up; }

void ctrl_quorum_status_get(const struct ctrl *c, struct ctrl_quorum_status *out)
{
    out->leader_id = ctrl_active_id(c);
    out->epoch = raft_epoch_get(c->raft);
    out->high_watermark = raft_high_watermark_get(c->raft);
    out->last_index = raft_last_index_get(c->raft);
    out->role = raft_role_name(raft_role_get(c->raft));
    int64_t now = c->env.wall_ms(c->env.clock_ctx);
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
    /* the caller planned on the image: not before it holds everything
     * committed before this leader's term (a new leader would plan a topic
     * its predecessor's committed entry already creates), and not while a
     * fence that is not in it yet is in flight (a topic could be placed on
     * the broker being fenced) */
    if (!ctrl_rpc_ready_to_plan(c) || ctrl_lease_change_in_flight(c))
        return ERR_NOT_CONTROLLER;
    return ctrl_propose_cb(c, recs, n, cb, arg);
}

int ctrl_propose_cb(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb, void *arg)
{
    uint64_t index = 0;
    int rc = ctrl_propose_batch(c, recs, n, &index);
    if (rc < 0)
        return rc;
    uint32_t slot = (c->pending_head + c->pending_count) % CTRL_PENDING_MAX;
    c->pending[slot] = (struct ctrl_pending){ index, cb, arg };
    c->pending_count++;
    ctrl_process_ready(c);
    return 0;
}

int ctrl_propose_batch(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, uint64_t *index_out)
{
    int rc = pack_batch(c, recs, n);
    if (rc < 0)
        return rc;
    return propose_bytes(c, buf_bytes(&c->scratch), index_out);
}
