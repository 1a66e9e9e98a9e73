/*
 * csim.c - the deterministic controller-driver simulator (see csim.h,
 * test/sim/README.md "The controller simulator").
 *
 * The REAL driver runs unmodified: controller/ctrl.c and ctrl_rpc.c over
 * raft/, ctrl_plan and ctrl_image, wired through ctrl_env (ctrl_env.h) to
 *   - a simulated disk per node: the metadata log as entries with a synced
 *     mark (a crash keeps only what was synced), the quorum state and one
 *     snapshot, both durable when written (atomic rename in production).
 *     In most seeds the log's sync is asynchronous (log_sync_submit, as
 *     production's io_uring one): it completes 0..sync_delay_max ticks
 *     later, in the middle of other traffic; a crash before that loses
 *     every entry it covered;
 *   - a simulated network: every frame is packed on send and unpacked on
 *     delivery (the wire format really round-trips), with drops, delays
 *     (so reordering), one-way and two-way partitions;
 *   - a tick clock: ctrl_tick is called once per simulated tick.
 * Crashes happen between steps or in the middle of one: a countdown on the
 * node's storage writes longjmps out of the driver before the Nth write
 * (the ready being persisted is lost from its unsynced part on; nothing
 * of it was sent, since the driver sends only after persisting).
 *
 * Each node runs a small broker agent: once its image is caught up it
 * registers (ctrl_register_broker), heartbeats every CS_HB_TICKS,
 * auto-creates topics from a small name pool (ctrl_create_topic) so that
 * retries after a leader change race the same names, and for partitions its
 * (possibly stale) image says it leads proposes ISR shrinks and expansions
 * (ctrl_alter_partition) with the epochs that image holds.
 * retries after a leader change race the same names, and asks for
 * producer-id blocks (ctrl_allocate_producer_ids).
 *
 * Properties:
 *   fenced_leader          no node's image has a fenced broker leading a partition (every tick)
 *   record_against_image   every committed TopicRecord names a new topic and every
 *                          RegisterBrokerRecord raises the broker's epoch (what a
 *                          leader planning on a stale image breaks)
 *   broker_epoch_reused    two acknowledged registrations of a broker never share an epoch
 *   lease_not_expired      a crashed broker is fenced by a healthy quorum within its session
 *   no_convergence         after healing, every node catches up, registers and is unfenced
 *   image_diverged         then every node's image equals the leader's (topics, partitions,
 *                          brokers with epochs and fenced flags)
 *   committed_lost         a topic whose creation was acknowledged exists on every node
 *   ack_not_durable        the current leader never counts a voter (itself included) past
 *                          the entries that voter has durably (what acknowledging a
 *                          written-but-unsynced entry breaks)
 *   isr_invalid            (every tick) an ISR is non-empty, distinct, within the replicas,
 *                          holds the leader, and holds a fenced broker only as its last member
 *   alter_answer           an accepted AlterPartition's answer names the caller as leader,
 *                          the ISR it asked for, and a partition epoch above the one it sent
 *   producer_ids_reused    two acknowledged producer-id blocks (ctrl_allocate_producer_ids)
 *                          never overlap, across crashes and leader changes
 *
 * Test code: it allocates freely and ends the seed at the first violation.
 */
#include "test/sim/csim.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/prng.h"
#include "controller/ctrl.h"
#include "controller/ctrl_image.h"
#include "quorum.pb-c.h"

#define CS_VOTERS 3
#define CS_NODES_MAX 5
#define CS_TICK_MS 20
#define CS_ELECTION_MS 400       /* 20 ticks */
#define CS_SESSION_MS 1600       /* 80 ticks */
#define CS_SESSION_TICKS (CS_SESSION_MS / CS_TICK_MS)
#define CS_HB_TICKS 10
#define CS_CHAOS_TICKS 1500
#define CS_FENCE_BOUND_TICKS (CS_SESSION_TICKS + 300)
#define CS_CONVERGE_BOUND_TICKS 1500
#define CS_TOPIC_NAMES 24
#define CS_BROKERS_TRACKED 8
#define CS_PID_BLOCKS_MAX 4096

struct cs_ent {
    int32_t epoch;
    uint8_t *data;
    size_t len;
};

struct cs_disk {
    struct cs_ent *ents;      /* offsets start .. start + count - 1 */
    int64_t start;
    uint32_t count, cap;
    uint32_t synced;          /* ents[0 .. synced) survive a crash */
    bool qs_set;
    struct ctrl_qstate qs;
    bool snap_set;
    uint64_t snap_index, snap_epoch;
    uint8_t *snap;
    size_t snap_len;
};

struct cs_broker {           /* the node's simulated broker */
    bool registered, registering, creating, caught_up;
    bool allocating;         /* a producer-id block asked for */
    int64_t epoch;
    uint64_t next_reg_tick, next_hb_tick;
    int32_t creating_name;
    int64_t seen_epoch[CS_BROKERS_TRACKED + 1];   /* per broker id, from this process's records */
    bool stopping;           /* controlled shutdown asked (want_shut_down) */
    bool stop_now;           /* the controller answered should_shut_down */
    uint64_t stop_deadline;  /* give up waiting and stop anyway */
    bool altering;           /* an AlterPartition of a partition it leads is out */
    int64_t prev_epoch;      /* KIP-966: the clean-shutdown file's epoch taken at start, -1 none */
    bool was_registered;     /* registered once in this process: re-registrations are clean */
};

/* KIP-966 ghost state of one partition (bits are broker ids): which
 * replicas hold every committed record, under the model's rules: the HW moves
 * only while the ISR holds min ISR (strict min ISR), then only ISR members
 * keep up; a member the leader adds holds what the leader holds; a crash is a
 * power loss (the unsynced tail is gone) until a clean stop says otherwise. */
#define CS_GHOST_PARTS 128
#define CS_MIN_ISR 2
struct cs_ghost {
    bool used;
    uint8_t topic_id[16];
    int32_t partition;
    int32_t leader;
    uint32_t isr, elr, all;   /* all: holds every committed record */
    uint32_t all_at_crash;    /* crashed brokers that held it all until then (their last acts count) */
};

struct cs_msg {
    uint32_t from, to;
    uint64_t due;
    uint8_t *data;
    size_t len;
};

struct csim;

struct cs_node {
    struct csim *cs;
    uint32_t id;
    bool up;
    uint64_t restart_at;
    struct ctrl *c;
    struct cs_disk disk;
    struct cs_broker brk;
    uint32_t incarnation;
    int64_t clean_epoch;      /* the clean-shutdown file (survives restarts): -1 after a crash */
    int32_t crash_countdown;  /* > 0: crash before that many more storage writes */
    bool sync_pending;        /* an asynchronous log sync in flight ... */
    uint64_t sync_due;        /* ... completing at this tick ... */
    int64_t sync_end;         /* ... covering offsets below this */
    void (*sync_cb)(void *arg, int rc);
    void *sync_arg;
};

struct csim {
    uint64_t seed;
    const char *bug;
    bool verbose;
    FILE *out;
    struct prng rng;
    uint64_t tick;
    uint32_t node_count;
    struct cs_node nodes[CS_NODES_MAX];
    bool link[CS_NODES_MAX + 1][CS_NODES_MAX + 1];   /* link[a][b]: a can reach b */
    uint32_t drop_per_million, delay_max, crash_per_million, part_per_million;
    int64_t snapshot_bytes;
    bool sync_async;          /* the disks' log sync is asynchronous this seed */
    uint32_t sync_delay_max;  /* ticks */
    bool calm;                /* healing: no new faults, no new topics */
    bool elr;                 /* eligible.leader.replicas.enable this seed (min ISR 2) */
    struct cs_ghost ghost[CS_GHOST_PARTS];   /* ELR seeds: who holds every committed record */
    int64_t ghost_offset;     /* the applied index the ghost last folded */
    uint32_t lost;            /* brokers (bits) that crashed and have not registered again */
    uint32_t lost_incarnation[CS_NODES_MAX + 1];   /* the incarnation that crashed */
    struct cs_msg *msgs;
    uint32_t msg_count, msg_cap;
    bool acked_topic[CS_TOPIC_NAMES];
    int64_t acked_pid_starts[CS_PID_BLOCKS_MAX];
    uint32_t acked_pid_count;
    int64_t acked_epochs[CS_BROKERS_TRACKED + 1][64];
    uint32_t acked_epoch_count[CS_BROKERS_TRACKED + 1];
    bool violated;
    jmp_buf crash_jmp;
    struct cs_node *in_node;  /* the node whose driver is running */
};

static void violation(struct csim *cs, const char *prop, const char *fmt, ...)
{
    if (cs->violated)
        return;
    cs->violated = true;
    fprintf(cs->out, "VIOLATION seed=%llu bug=%s tick=%llu property=%s ", (unsigned long long)cs->seed,
            cs->bug ? cs->bug : "none", (unsigned long long)cs->tick, prop);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(cs->out, fmt, ap);
    va_end(ap);
    fputc('\n', cs->out);
}

static void trace(struct csim *cs, const char *fmt, ...)
{
    if (!cs->verbose)
        return;
    fprintf(cs->out, "tick=%llu ", (unsigned long long)cs->tick);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(cs->out, fmt, ap);
    va_end(ap);
    fputc('\n', cs->out);
}

/* Planning's random bytes (topic ids, placement) come from the seed. */
static struct prng *plan_rng;

static void plan_random(void *out, size_t len)
{
    uint8_t *p = out;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)prng_next(plan_rng);
}

/* ---- simulated storage ---- */

/* A storage write: the crash countdown may end the node here. */
static void disk_write_point(struct cs_node *n)
{
    if (n->crash_countdown > 0 && --n->crash_countdown == 0) {
        ASSERT(n->cs->in_node == n);
        longjmp(n->cs->crash_jmp, 1);
    }
}

static int64_t sd_log_start_offset(void *ctx) { return ((struct cs_node *)ctx)->disk.start; }

static int64_t sd_log_end_offset(void *ctx)
{
    struct cs_node *n = ctx;
    return n->disk.start + n->disk.count;
}

static int sd_log_append(void *ctx, int64_t offset, int32_t epoch, struct bytes data)
{
    struct cs_node *n = ctx;
    struct cs_disk *d = &n->disk;
    disk_write_point(n);
    ASSERT(d->count == 0 || offset == d->start + d->count);
    if (d->count == 0)
        d->start = offset;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = realloc(d->ents, d->cap * sizeof *d->ents);
        ASSERT(d->ents != NULL);
    }
    struct cs_ent *e = &d->ents[d->count++];
    e->epoch = epoch;
    e->len = data.len;
    e->data = malloc(data.len ? data.len : 1);
    ASSERT(e->data != NULL);
    memcpy(e->data, data.ptr, data.len);
    return 0;
}

static int sd_log_sync(void *ctx)
{
    struct cs_node *n = ctx;
    disk_write_point(n);
    n->disk.synced = n->disk.count;
    return 0;
}

static int sd_log_read(void *ctx, int64_t offset, struct buf *out, int32_t *epoch_out)
{
    struct cs_disk *d = &((struct cs_node *)ctx)->disk;
    if (offset < d->start || offset >= d->start + d->count)
        return ERR_OFFSET_RANGE;
    const struct cs_ent *e = &d->ents[offset - d->start];
    buf_reset(out);
    int rc = buf_append(out, e->data, e->len);
    if (rc < 0)
        return rc;
    *epoch_out = e->epoch;
    return 0;
}

static void disk_drop_from(struct cs_disk *d, uint32_t keep)
{
    for (uint32_t i = keep; i < d->count; i++)
        free(d->ents[i].data);
    if (keep < d->count)
        d->count = keep;
    if (d->synced > d->count)
        d->synced = d->count;
}

/* durable at once, like ctrl_mlog_truncate (it syncs) */
static int sd_log_truncate(void *ctx, int64_t offset)
{
    struct cs_node *n = ctx;
    struct cs_disk *d = &n->disk;
    disk_write_point(n);
    if (offset >= d->start + d->count)
        return 0;
    if (offset < d->start)
        offset = d->start;
    disk_drop_from(d, (uint32_t)(offset - d->start));
    d->synced = d->count;
    if (n->sync_pending && n->sync_end > offset)
        n->sync_end = offset; /* what it covered is gone; re-appended entries are not covered */
    return 0;
}

/* atomic (copy, fsync, rename in production) */
static int sd_log_cut_prefix(void *ctx, int64_t offset)
{
    struct cs_node *n = ctx;
    struct cs_disk *d = &n->disk;
    disk_write_point(n);
    if (offset <= d->start || d->count == 0)
        return 0;
    if (offset >= d->start + d->count)
        return sd_log_truncate(ctx, d->start);
    ASSERT(!n->sync_pending); /* ctrl_env.h: never across a sync in flight (production's fd changes) */
    uint32_t cut = (uint32_t)(offset - d->start);
    ASSERT(cut <= d->synced); /* a snapshot covers only committed, so durable, entries */
    for (uint32_t i = 0; i < cut; i++)
        free(d->ents[i].data);
    memmove(d->ents, d->ents + cut, (d->count - cut) * sizeof *d->ents);
    d->count -= cut;
    d->synced -= cut;
    d->start = offset;
    return 0;
}

static int sd_qstate_read(void *ctx, struct ctrl_qstate *out)
{
    struct cs_disk *d = &((struct cs_node *)ctx)->disk;
    if (!d->qs_set)
        return -ENOENT;
    *out = d->qs;
    return 0;
}

static int sd_qstate_write(void *ctx, const struct ctrl_qstate *qs)
{
    struct cs_node *n = ctx;
    disk_write_point(n);
    n->disk.qs = *qs;
    n->disk.qs_set = true;
    return 0;
}

static int sd_snap_write(void *ctx, uint64_t index, uint64_t epoch, struct bytes payload)
{
    struct cs_node *n = ctx;
    disk_write_point(n);
    uint8_t *copy = malloc(payload.len ? payload.len : 1);
    ASSERT(copy != NULL);
    memcpy(copy, payload.ptr, payload.len);
    free(n->disk.snap);
    n->disk.snap = copy;
    n->disk.snap_len = payload.len;
    n->disk.snap_index = index;
    n->disk.snap_epoch = epoch;
    n->disk.snap_set = true;
    return 0;
}

static int sd_snap_latest(void *ctx, uint64_t *index, uint64_t *epoch)
{
    struct cs_disk *d = &((struct cs_node *)ctx)->disk;
    if (!d->snap_set)
        return ERR_NOT_FOUND;
    *index = d->snap_index;
    *epoch = d->snap_epoch;
    return 0;
}

static int sd_snap_read(void *ctx, uint64_t index, uint64_t epoch, struct buf *out)
{
    struct cs_disk *d = &((struct cs_node *)ctx)->disk;
    if (!d->snap_set || d->snap_index != index || d->snap_epoch != epoch)
        return ERR_NOT_FOUND;
    buf_reset(out);
    return buf_append(out, d->snap, d->snap_len);
}

/* asynchronous: completes 0..sync_delay_max ticks later (sd_sync_complete) */
static int sd_log_sync_submit(void *ctx, void (*done_cb)(void *arg, int rc), void *arg)
{
    struct cs_node *n = ctx;
    disk_write_point(n);
    ASSERT(!n->sync_pending);
    n->sync_pending = true;
    n->sync_end = n->disk.start + n->disk.count;
    n->sync_due = n->cs->tick + prng_range(&n->cs->rng, n->cs->sync_delay_max + 1);
    n->sync_cb = done_cb;
    n->sync_arg = arg;
    return 0;
}

static const struct ctrl_storage_ops sim_disk_ops = {
    sd_log_start_offset, sd_log_end_offset, sd_log_append, sd_log_sync, sd_log_read, sd_log_truncate,
    sd_log_cut_prefix, sd_qstate_read, sd_qstate_write, sd_snap_write, sd_snap_latest, sd_snap_read,
    NULL,
};

static const struct ctrl_storage_ops sim_disk_async_ops = {
    sd_log_start_offset, sd_log_end_offset, sd_log_append, sd_log_sync, sd_log_read, sd_log_truncate,
    sd_log_cut_prefix, sd_qstate_read, sd_qstate_write, sd_snap_write, sd_snap_latest, sd_snap_read,
    sd_log_sync_submit,
};

/* ---- simulated network ---- */

static int sn_send(void *ctx, uint32_t to, const Samsa__ControllerFrame *f)
{
    struct cs_node *n = ctx;
    struct csim *cs = n->cs;
    if (to == 0 || to > cs->node_count)
        return ERR_NOT_FOUND;
    if (!cs->link[n->id][to])
        return 0; /* lost on a cut link (a dead connection looks the same to Raft) */
    if (prng_chance(&cs->rng, cs->drop_per_million))
        return 0;
    if (cs->msg_count == cs->msg_cap) {
        cs->msg_cap = cs->msg_cap ? cs->msg_cap * 2 : 256;
        cs->msgs = realloc(cs->msgs, cs->msg_cap * sizeof *cs->msgs);
        ASSERT(cs->msgs != NULL);
    }
    struct cs_msg *m = &cs->msgs[cs->msg_count++];
    m->from = n->id;
    m->to = to;
    m->due = cs->tick + 1 + prng_range(&cs->rng, cs->delay_max);
    m->len = samsa__controller_frame__get_packed_size(f);
    m->data = malloc(m->len ? m->len : 1);
    ASSERT(m->data != NULL);
    size_t packed = samsa__controller_frame__pack(f, m->data);
    ASSERT(packed == m->len);
    return 0;
}

static size_t sn_unsent_bytes(void *ctx)
{
    (void)ctx;
    return 0;
}

static const struct ctrl_transport_ops sim_net_ops = { sn_send, sn_unsent_bytes };

static int64_t sim_wall_ms(void *ctx)
{
    struct cs_node *n = ctx;
    return (int64_t)n->cs->tick * CS_TICK_MS;
}

/* ---- broker agent and listener checks ---- */

static void brk_seen_from_image(struct cs_node *n)
{
    const struct ctrl_image *img = ctrl_metadata(n->c);
    for (int32_t b = 0; b <= CS_BROKERS_TRACKED; b++) {
        const struct ctrl_broker *br = ctrl_image_broker_find(img, b);
        n->brk.seen_epoch[b] = br ? br->broker_epoch : 0;
    }
}

static uint32_t ids_bits(const int32_t *ids, int32_t n)
{
    uint32_t b = 0;
    for (int32_t i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < 32)
            b |= 1u << ids[i];
    return b;
}

static struct cs_ghost *ghost_find(struct csim *cs, const uint8_t *topic_id, int32_t partition, bool create)
{
    for (int i = 0; i < CS_GHOST_PARTS; i++)
        if (cs->ghost[i].used && cs->ghost[i].partition == partition &&
            memcmp(cs->ghost[i].topic_id, topic_id, 16) == 0)
            return &cs->ghost[i];
    for (int i = 0; create && i < CS_GHOST_PARTS; i++)
        if (!cs->ghost[i].used) {
            memset(&cs->ghost[i], 0, sizeof cs->ghost[i]);
            cs->ghost[i].used = true;
            memcpy(cs->ghost[i].topic_id, topic_id, 16);
            cs->ghost[i].partition = partition;
            return &cs->ghost[i];
        }
    return NULL;
}

/* ghost_partition - one partition's committed change, from the ghost's last
 * view to cp. */
static void ghost_partition(struct csim *cs, const struct ctrl_topic *t, const struct ctrl_partition *cp)
{
    struct cs_ghost *g = ghost_find(cs, t->topic_id, cp->partition_id, false);
    uint32_t isr = ids_bits(cp->isr, cp->isr_count), elr = ids_bits(cp->elr, cp->elr_count);
    if (!g) {
        if (!(g = ghost_find(cs, t->topic_id, cp->partition_id, true)))
            return;
        g->all = ids_bits(cp->replicas, cp->replica_count); /* nothing committed yet: all hold it */
        g->leader = -1;
    } else if (cp->leader >= 0 && cp->leader != g->leader && !(g->isr & (1u << cp->leader))) {
        uint32_t bit = 1u << cp->leader;
        if (g->elr & bit) {
            if (!(g->all & bit) && !(cs->lost & bit))
                violation(cs, "elr_leader_lacks_commits",
                          "%s-%d: broker %d elected from the ELR may lack committed records (ghost holders 0x%x)",
                          t->name, cp->partition_id, cp->leader, g->all);
        } else {
            g->all = bit; /* a lossy election (last known ELR, unclean): a new history */
        }
    }
    /* added members caught up with the leader (which may have crashed since it asked) */
    if (cp->leader >= 0 && ((g->all | g->all_at_crash) & (1u << cp->leader)))
        g->all |= isr & ~g->isr & ~cs->lost;
    int32_t min_isr = cp->replica_count < CS_MIN_ISR ? cp->replica_count : CS_MIN_ISR;
    if (cp->isr_count >= min_isr)
        g->all &= isr; /* the HW moves: members outside the ISR fall behind */
    if (g->leader != cp->leader || g->isr != isr || g->elr != elr)
        trace(cs, "ghost %s-%d leader=%d isr=0x%x elr=0x%x holders=0x%x lost=0x%x", t->name, cp->partition_id,
              cp->leader, isr, elr, g->all, cs->lost);
    g->leader = cp->leader;
    g->isr = isr;
    g->elr = elr;
}

/* ghost_track - fold the newest committed state into the ghost (ELR seeds),
 * every tick, from the up node that applied the most: registrations of a new
 * process first (they end a crash), then every partition's change. */
static void ghost_track(struct csim *cs)
{
    struct cs_node *best = NULL;
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (n->up && n->brk.caught_up && (!best || ctrl_applied_index(n->c) > ctrl_applied_index(best->c)))
            best = n;
    }
    if (!best || (int64_t)ctrl_applied_index(best->c) <= cs->ghost_offset)
        return;
    cs->ghost_offset = (int64_t)ctrl_applied_index(best->c);
    const struct ctrl_image *img = ctrl_metadata(best->c);
    for (int32_t i = 0; i < ctrl_image_broker_count(img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        int32_t id = b->broker_id;
        uint32_t incarnation = 0;
        memcpy(&incarnation, b->incarnation_id, sizeof incarnation);
        if (id < 1 || id > CS_NODES_MAX || !(cs->lost & (1u << id)) || incarnation <= cs->lost_incarnation[id])
            continue; /* no new process registered since the crash */
        uint32_t bit = 1u << id;
        /* the last eligible replica may lead on (Kafka's last known leader): that loss is accepted */
        for (int k = 0; k < CS_GHOST_PARTS; k++) {
            if (cs->ghost[k].used && (cs->ghost[k].isr | cs->ghost[k].elr) == bit)
                cs->ghost[k].all |= bit;
            cs->ghost[k].all_at_crash &= ~bit;
        }
        cs->lost &= ~bit;
        trace(cs, "ghost broker=%d registered incarnation=%u", id, incarnation);
    }
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++)
            ghost_partition(cs, t, &t->partitions[p]);
    }
}

/* ghost_crash - an unclean stop (ELR seeds): its unsynced tail is gone. */
static void ghost_crash(struct csim *cs, uint32_t id, uint32_t incarnation)
{
    cs->lost |= 1u << id;
    cs->lost_incarnation[id] = incarnation;
    for (int i = 0; i < CS_GHOST_PARTS; i++) {
        if (cs->ghost[i].all & (1u << id))
            cs->ghost[i].all_at_crash |= 1u << id;
        cs->ghost[i].all &= ~(1u << id);
    }
}

/* committed_missing (ELR seeds): every live member of an ISR or ELR, and the
 * leader, holds every committed record (a crashed broker counts once its
 * registration is committed: that registration must have taken it out). */
static void ghost_check(struct csim *cs)
{
    for (int i = 0; i < CS_GHOST_PARTS && !cs->violated; i++) {
        const struct cs_ghost *g = &cs->ghost[i];
        if (!g->used)
            continue;
        uint32_t members = g->isr | g->elr | (g->leader >= 0 ? 1u << g->leader : 0);
        uint32_t bad = members & ~g->all & ~cs->lost;
        if (bad)
            violation(cs, "committed_missing",
                      "partition=%d: brokers 0x%x in leader/ISR/ELR (leader %d isr 0x%x elr 0x%x) may lack committed "
                      "records (ghost holders 0x%x)", g->partition, bad, g->leader, g->isr, g->elr, g->all);
    }
}

static void apply_cb(void *arg, const struct ctrl_image *img, const Samsa__MetadataRecord *rec, int64_t offset)
{
    struct cs_node *n = arg;
    struct csim *cs = n->cs;
    if (!rec) { /* a snapshot replaced the image */
        brk_seen_from_image(n);
        return;
    }
    if (rec->record_case == SAMSA__METADATA_RECORD__RECORD_TOPIC) {
        const struct ctrl_topic *t = ctrl_image_topic_find(img, rec->topic->name, strlen(rec->topic->name));
        if (!t || rec->topic->topic_id.len != 16 || memcmp(t->topic_id, rec->topic->topic_id.data, 16) != 0)
            violation(cs, "record_against_image",
                      "node=%u offset=%lld: a committed TopicRecord for existing topic %s (planned on a stale image)",
                      n->id, (long long)offset, rec->topic->name);
    } else if (rec->record_case == SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER) {
        int32_t b = rec->register_broker->broker_id;
        int64_t e = rec->register_broker->broker_epoch;
        if (b >= 0 && b <= CS_BROKERS_TRACKED) {
            if (e <= n->brk.seen_epoch[b])
                violation(cs, "record_against_image",
                          "node=%u offset=%lld: RegisterBrokerRecord broker=%d epoch=%lld not above %lld", n->id,
                          (long long)offset, b, (long long)e, (long long)n->brk.seen_epoch[b]);
            n->brk.seen_epoch[b] = e;
        }
    }
}

static void caught_up_cb(void *arg)
{
    struct cs_node *n = arg;
    n->brk.caught_up = true;
    brk_seen_from_image(n);
    trace(n->cs, "node=%u caught up", n->id);
}

static void reg_cb(void *arg, int rc, int64_t epoch)
{
    struct cs_node *n = arg;
    struct csim *cs = n->cs;
    n->brk.registering = false;
    trace(cs, "node=%u registration rc=%d epoch=%lld", n->id, rc, (long long)epoch);
    if (rc < 0) {
        n->brk.next_reg_tick = cs->tick + 5;
        return;
    }
    for (uint32_t i = 0; i < cs->acked_epoch_count[n->id]; i++)
        if (cs->acked_epochs[n->id][i] == epoch)
            violation(cs, "broker_epoch_reused", "broker=%u was given epoch %lld twice", n->id, (long long)epoch);
    if (cs->acked_epoch_count[n->id] < 64)
        cs->acked_epochs[n->id][cs->acked_epoch_count[n->id]++] = epoch;
    n->brk.registered = true;
    n->brk.was_registered = true;
    n->brk.epoch = epoch;
    n->brk.next_hb_tick = cs->tick;
}

static void hb_cb(void *arg, const struct ctrl_heartbeat_reply *r)
{
    struct cs_node *n = arg;
    if (r->broker_epoch != n->brk.epoch) /* another registration's (as the broker's heartbeat_reply_cb) */
        return;
    if (r->rc == 0 && r->should_shut_down && n->brk.stopping)
        n->brk.stop_now = true;
    if (r->rc == ERR_STALE || r->rc == ERR_NOT_FOUND) {
        trace(n->cs, "node=%u heartbeat rc=%d: registers again", n->id, r->rc);
        n->brk.registered = false;
    }
}

static void create_cb(void *arg, int rc)
{
    struct cs_node *n = arg;
    struct csim *cs = n->cs;
    trace(cs, "node=%u create t%d rc=%d", n->id, n->brk.creating_name, rc);
    n->brk.creating = false;
    if (rc == 0)
        cs->acked_topic[n->brk.creating_name] = true;
}

struct cs_alter {
    struct cs_node *n;
    struct ctrl_alter_partition req;
};

static void alter_cb(void *arg, const struct ctrl_alter_partition_reply *r)
{
    struct cs_alter *al = arg;
    struct cs_node *n = al->n;
    struct csim *cs = n->cs;
    n->brk.altering = false;
    trace(cs, "node=%u AlterPartition rc=%d error_code=%d partition_epoch=%d", n->id, r->rc, r->error_code,
          r->partition_epoch);
    if (r->rc == 0 && r->error_code == 0) {
        bool same = r->isr_count == al->req.isr_count;
        for (int32_t i = 0; same && i < r->isr_count; i++)
            same = r->isr[i] == al->req.isr[i];
        /* "no change" answers the current state, where the epoch may be the one sent */
        if (r->leader != al->req.broker_id || !same || r->partition_epoch < al->req.partition_epoch)
            violation(cs, "alter_answer", "node=%u got leader=%d isr_count=%d partition_epoch=%d for a request "
                      "from %d with isr_count=%d partition_epoch=%d", n->id, r->leader, r->isr_count,
                      r->partition_epoch, al->req.broker_id, al->req.isr_count, al->req.partition_epoch);
    }
    free(al);
}

/* A leader's ISR change, from this node's image: drop a random follower, or
 * add a random unfenced replica. */
static void alter_step(struct csim *cs, struct cs_node *n)
{
    const struct ctrl_image *img = ctrl_metadata(n->c);
    int32_t tc = ctrl_image_topic_count(img);
    if (tc == 0)
        return;
    const struct ctrl_topic *t = ctrl_image_topic_at(img, (int32_t)prng_range(&cs->rng, (uint64_t)tc));
    if (t->partition_count == 0)
        return;
    const struct ctrl_partition *cp = &t->partitions[prng_range(&cs->rng, (uint64_t)t->partition_count)];
    int32_t pick = cp->replicas[prng_range(&cs->rng, (uint64_t)cp->replica_count)];
    if (cp->leader != (int32_t)n->id || pick == cp->leader)
        return;
    struct cs_alter *al = calloc(1, sizeof *al);
    ASSERT(al);
    al->n = n;
    struct ctrl_alter_partition *req = &al->req;
    req->broker_id = (int32_t)n->id;
    req->broker_epoch = n->brk.epoch;
    memcpy(req->topic_id, t->topic_id, 16);
    req->partition_id = cp->partition_id;
    req->leader_epoch = cp->leader_epoch;
    req->partition_epoch = cp->partition_epoch;
    for (int32_t i = 0; i < cp->isr_count; i++)
        if (cp->isr[i] != pick)
            req->isr[req->isr_count++] = cp->isr[i];
    if (req->isr_count == cp->isr_count && req->isr_count < CTRL_REPLICAS_MAX)
        req->isr[req->isr_count++] = pick; /* not a member: expand */
    for (int32_t i = 0; i < req->isr_count; i++) {
        const struct ctrl_broker *b = ctrl_image_broker_find(img, req->isr[i]);
        req->isr_broker_epochs[i] = b ? b->broker_epoch : -1;
    }
    n->brk.altering = true;
    if (ctrl_alter_partition(n->c, req, alter_cb, al) < 0) {
        n->brk.altering = false;
        free(al);
    }
}

static void pids_cb(void *arg, int rc, int64_t start, int32_t len)
{
    struct cs_node *n = arg;
    struct csim *cs = n->cs;
    n->brk.allocating = false;
    trace(cs, "node=%u producer ids rc=%d start=%lld", n->id, rc, (long long)start);
    if (rc < 0)
        return;
    if (len != CTRL_PRODUCER_ID_BLOCK_LEN || start < 0)
        violation(cs, "producer_ids_reused", "node=%u got block start=%lld len=%d", n->id, (long long)start, len);
    for (uint32_t i = 0; i < cs->acked_pid_count; i++)
        if (start < cs->acked_pid_starts[i] + CTRL_PRODUCER_ID_BLOCK_LEN &&
            cs->acked_pid_starts[i] < start + CTRL_PRODUCER_ID_BLOCK_LEN)
            violation(cs, "producer_ids_reused", "node=%u got block start=%lld overlapping start=%lld", n->id,
                      (long long)start, (long long)cs->acked_pid_starts[i]);
    if (cs->acked_pid_count < CS_PID_BLOCKS_MAX)
        cs->acked_pid_starts[cs->acked_pid_count++] = start;
}

static void node_crash(struct csim *cs, struct cs_node *n, const char *how);

static void broker_step(struct csim *cs, struct cs_node *n)
{
    struct cs_broker *b = &n->brk;
    if (b->stopping && (b->stop_now || cs->tick >= b->stop_deadline)) {
        /* graceful stop: the active controller resigns first (as on SIGTERM) */
        if (ctrl_resign(n->c))
            trace(cs, "node=%u resigned", n->id);
        /* a stop in order: the broker leaves its clean-shutdown file (brk_cleanmark) */
        n->clean_epoch = b->was_registered ? b->epoch : -1;
        node_crash(cs, n, b->stop_now ? "controlled shutdown done" : "controlled shutdown timed out");
        return;
    }
    if (!b->caught_up)
        return;
    if (!cs->calm && b->registered && !b->stopping && prng_chance(&cs->rng, 1000)) {
        b->stopping = true;
        b->stop_deadline = cs->tick + 200;
        trace(cs, "node=%u asks for a controlled shutdown", n->id);
    }
    if (!b->registered && !b->registering && cs->tick >= b->next_reg_tick) {
        uint8_t inc[16] = { 0 };
        memcpy(inc, &n->incarnation, sizeof n->incarnation);
        inc[15] = (uint8_t)n->id;
        struct ctrl_endpoint ep = { .port = 9092 };
        snprintf(ep.name, sizeof ep.name, "PLAINTEXT");
        snprintf(ep.host, sizeof ep.host, "node%u", n->id);
        struct ctrl_registration reg = { .broker_id = (int32_t)n->id, .endpoints = &ep, .endpoint_count = 1,
                                         .previous_broker_epoch = b->was_registered ? b->epoch : b->prev_epoch };
        memcpy(reg.incarnation_id, inc, 16);
        if (n->incarnation > 1) { /* the broker's .samsa_incarnation: the last process on this disk */
            uint32_t before = n->incarnation - 1;
            memcpy(reg.previous_incarnation_id, &before, sizeof before);
            reg.previous_incarnation_id[15] = (uint8_t)n->id;
            reg.previous_incarnation_len = 16;
        }
        b->registering = true;
        if (ctrl_register_broker(n->c, &reg, reg_cb, n) < 0) {
            b->registering = false;
            b->next_reg_tick = cs->tick + 5;
        }
    }
    if (b->registered && cs->tick >= b->next_hb_tick) {
        struct ctrl_heartbeat hb = { .broker_id = (int32_t)n->id, .broker_epoch = b->epoch,
                                     .metadata_offset = (int64_t)ctrl_applied_index(n->c) - 1,
                                     .want_shut_down = b->stopping };
        ctrl_broker_heartbeat(n->c, &hb);
        b->next_hb_tick = cs->tick + CS_HB_TICKS;
    }
    if (!cs->calm && b->registered && !b->altering && !b->stopping && prng_chance(&cs->rng, 50000))
        alter_step(cs, n);
    if (!cs->calm && b->registered && !b->creating && !b->stopping && prng_chance(&cs->rng, 20000)) {
        char name[16];
        int32_t k = (int32_t)prng_range(&cs->rng, CS_TOPIC_NAMES);
        snprintf(name, sizeof name, "t%d", k);
        struct ctrl_topic_spec spec = { .name = name, .name_len = strlen(name),
                                        .partition_count = 1 + (int32_t)prng_range(&cs->rng, 3),
                                        .replication_factor = (int16_t)(1 + prng_range(&cs->rng, 3)) };
        b->creating = true;
        b->creating_name = k;
        if (ctrl_create_topic(n->c, &spec, create_cb, n) < 0)
            b->creating = false;
    }
    if (!cs->calm && b->registered && !b->allocating && !b->stopping && prng_chance(&cs->rng, 10000)) {
        b->allocating = true;
        if (ctrl_allocate_producer_ids(n->c, (int32_t)n->id, b->epoch, pids_cb, n) < 0)
            b->allocating = false;
    }
}

/* ---- nodes: start, crash, calls into the driver ---- */

static void node_start(struct csim *cs, struct cs_node *n)
{
    struct ctrl_config cfg = { 0 };
    cfg.node_id = (int32_t)n->id;
    cfg.metadata_dir = "sim";
    cfg.cluster_id = "sim";
    cfg.voter_count = CS_VOTERS;
    for (uint32_t i = 0; i < CS_VOTERS; i++)
        cfg.voters[i].id = i + 1;
    cfg.election_timeout_ms = CS_ELECTION_MS;
    cfg.session_timeout_ms = CS_SESSION_MS;
    cfg.snapshot_bytes = cs->snapshot_bytes;
    cfg.tick_ms = CS_TICK_MS;
    cfg.elr_enable = cs->elr;
    cfg.min_insync_replicas = CS_MIN_ISR;
    n->incarnation++;
    struct ctrl_env env = {
        .storage = cs->sync_async ? &sim_disk_async_ops : &sim_disk_ops, .storage_ctx = n, .transport = &sim_net_ops, .transport_ctx = n,
        .wall_ms = sim_wall_ms, .clock_ctx = n, .prng_seed = prng_next(&cs->rng),
        .bug_plan_before_caught_up = cs->bug && strcmp(cs->bug, "plan_before_caught_up") == 0,
        .bug_plan_on_proposals_in_flight = cs->bug && strcmp(cs->bug, "plan_on_proposals_in_flight") == 0,
        .bug_ack_before_sync = cs->bug && strcmp(cs->bug, "ack_before_sync") == 0,
        .bug_ignore_unclean_shutdown = cs->bug && strcmp(cs->bug, "ignore_unclean_shutdown") == 0,
    };
    memset(&n->brk, 0, sizeof n->brk);
    n->brk.prev_epoch = n->clean_epoch; /* the broker takes its clean-shutdown file */
    n->clean_epoch = -1;
    n->crash_countdown = 0;
    int rc = ctrl_create_env(&cfg, &env, apply_cb, caught_up_cb, n, &n->c);
    ASSERT(rc == 0);
    ctrl_heartbeat_handler_set(n->c, hb_cb, n);
    n->up = true;
    trace(cs, "node=%u started incarnation=%u log=[%lld,%lld) synced=%u", n->id, n->incarnation,
          (long long)n->disk.start, (long long)(n->disk.start + n->disk.count), n->disk.synced);
}

static void node_crash(struct csim *cs, struct cs_node *n, const char *how)
{
    ASSERT(n->up);
    if (cs->elr && n->clean_epoch < 0)
        ghost_crash(cs, n->id, n->incarnation);
    ctrl_destroy(n->c);
    n->c = NULL;
    n->up = false;
    uint32_t lost = n->disk.count - n->disk.synced;
    disk_drop_from(&n->disk, n->disk.synced); /* unsynced writes are lost, a sync in flight with them */
    n->sync_pending = false;
    /* mostly short; sometimes long enough to fall behind the leader's log start */
    n->restart_at = cs->tick + 5 + prng_range(&cs->rng, prng_chance(&cs->rng, 200000) ? 400 : 60);
    trace(cs, "node=%u crashed (%s) lost_unsynced=%u", n->id, how, lost);
}

enum cs_call { CALL_TICK, CALL_FRAME, CALL_BROKER, CALL_SYNC_DONE };

/* The sync in flight completes: what it covered survives a crash from now on. */
static void sd_sync_complete(struct cs_node *n)
{
    struct cs_disk *d = &n->disk;
    n->sync_pending = false;
    if (n->sync_end > d->start) {
        uint32_t upto = (uint32_t)(n->sync_end - d->start);
        if (upto > d->count)
            upto = d->count;
        if (upto > d->synced)
            d->synced = upto;
    }
    n->sync_cb(n->sync_arg, 0);
}

/* Run one step of node n's driver; a crash countdown reaching zero inside
 * it lands in the setjmp branch, and the node dies right there. */
static void node_call(struct csim *cs, struct cs_node *n, enum cs_call what, uint32_t from,
                      const Samsa__ControllerFrame *f)
{
    if (!n->up)
        return;
    cs->in_node = n;
    if (setjmp(cs->crash_jmp) == 0) {
        switch (what) {
        case CALL_TICK: ctrl_tick(n->c); break;
        case CALL_FRAME: ctrl_on_frame(n->c, from, f); break;
        case CALL_BROKER: broker_step(cs, n); break;
        case CALL_SYNC_DONE: sd_sync_complete(n); break;
        }
    } else {
        node_crash(cs, n, "in the middle of a write");
    }
    cs->in_node = NULL;
}

/* ---- checks ---- */

static const char *image_no_fenced_leader(const struct ctrl_image *img, char *why, size_t size)
{
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            int32_t l = t->partitions[p].leader;
            if (l < 0)
                continue;
            const struct ctrl_broker *b = ctrl_image_broker_find(img, l);
            if (!b || b->fenced) {
                snprintf(why, size, "%s-%d is led by broker %d, which is %s", t->name, p, l,
                         b ? "fenced" : "not registered");
                return why;
            }
        }
    }
    return NULL;
}

/* image_diff - NULL when equal, else what differs. */
static const char *image_diff(const struct ctrl_image *a, const struct ctrl_image *b, char *why, size_t size)
{
    if (ctrl_image_next_producer_id(a) != ctrl_image_next_producer_id(b)) {
        snprintf(why, size, "next producer id %lld/%lld", (long long)ctrl_image_next_producer_id(a),
                 (long long)ctrl_image_next_producer_id(b));
        return why;
    }
    if (ctrl_image_topic_count(a) != ctrl_image_topic_count(b) ||
        ctrl_image_broker_count(a) != ctrl_image_broker_count(b)) {
        snprintf(why, size, "topics %d/%d brokers %d/%d", ctrl_image_topic_count(a), ctrl_image_topic_count(b),
                 ctrl_image_broker_count(a), ctrl_image_broker_count(b));
        return why;
    }
    for (int32_t i = 0; i < ctrl_image_topic_count(a); i++) {
        const struct ctrl_topic *ta = ctrl_image_topic_at(a, i);
        const struct ctrl_topic *tb = ctrl_image_topic_find(b, ta->name, strlen(ta->name));
        if (!tb || memcmp(ta->topic_id, tb->topic_id, 16) != 0 || ta->partition_count != tb->partition_count) {
            snprintf(why, size, "topic %s", ta->name);
            return why;
        }
        for (int32_t p = 0; p < ta->partition_count; p++) {
            const struct ctrl_partition *x = &ta->partitions[p], *y = &tb->partitions[p];
            if (x->leader != y->leader || x->leader_epoch != y->leader_epoch ||
                x->partition_epoch != y->partition_epoch || x->replica_count != y->replica_count ||
                x->isr_count != y->isr_count ||
                memcmp(x->replicas, y->replicas, (size_t)x->replica_count * sizeof *x->replicas) != 0 ||
                memcmp(x->isr, y->isr, (size_t)x->isr_count * sizeof *x->isr) != 0 ||
                x->elr_count != y->elr_count || x->last_known_elr_count != y->last_known_elr_count ||
                memcmp(x->elr, y->elr, (size_t)x->elr_count * sizeof *x->elr) != 0 ||
                memcmp(x->last_known_elr, y->last_known_elr,
                       (size_t)x->last_known_elr_count * sizeof *x->last_known_elr) != 0) {
                snprintf(why, size, "partition %s-%d leader %d/%d epoch %d/%d", ta->name, p, x->leader, y->leader,
                         x->leader_epoch, y->leader_epoch);
                return why;
            }
        }
    }
    for (int32_t i = 0; i < ctrl_image_broker_count(a); i++) {
        const struct ctrl_broker *x = ctrl_image_broker_at(a, i);
        const struct ctrl_broker *y = ctrl_image_broker_find(b, x->broker_id);
        if (!y || x->broker_epoch != y->broker_epoch || x->fenced != y->fenced ||
            memcmp(x->incarnation_id, y->incarnation_id, 16) != 0) {
            snprintf(why, size, "broker %d epoch %lld/%lld fenced %d/%d", x->broker_id, (long long)x->broker_epoch,
                     y ? (long long)y->broker_epoch : -1LL, x->fenced, y ? y->fenced : -1);
            return why;
        }
    }
    return NULL;
}

/* The last Raft index node n holds durably: its synced entries, or its snapshot. */
static uint64_t disk_durable_index(const struct cs_node *n)
{
    const struct cs_disk *d = &n->disk;
    uint64_t last = (uint64_t)(d->start + d->synced); /* offset start+synced-1 is index start+synced */
    if (d->count == 0 && d->start == 0)
        last = 0;
    return d->snap_set && d->snap_index > last ? d->snap_index : last;
}

/* A leader in the highest epoch any disk knows counts each voter (itself
 * too) only up to what that voter has durably.  An older leader's view may
 * be stale: a voter following a newer leader truncates what it never had
 * committed. */
static void check_acks_durable(struct csim *cs)
{
    uint64_t epoch_max = 0;
    for (uint32_t i = 0; i < cs->node_count; i++)
        if (cs->nodes[i].disk.qs_set && cs->nodes[i].disk.qs.epoch > epoch_max)
            epoch_max = cs->nodes[i].disk.qs.epoch;
    for (uint32_t i = 0; i < cs->node_count && !cs->violated; i++) {
        struct cs_node *l = &cs->nodes[i];
        if (!l->up || !ctrl_is_active(l->c))
            continue;
        struct ctrl_quorum_status qs;
        ctrl_quorum_status_get(l->c, &qs);
        if (qs.epoch < epoch_max)
            continue;
        for (uint32_t v = 0; v < qs.voter_count; v++) {
            const struct cs_node *n = &cs->nodes[qs.voters[v].id - 1];
            uint64_t durable = disk_durable_index(n);
            if ((uint64_t)qs.voters[v].log_end_offset > durable) {
                violation(cs, "ack_not_durable", "leader=%u epoch=%llu counts voter=%d up to index %lld; it has only %llu durably",
                          l->id, (unsigned long long)qs.epoch, qs.voters[v].id, (long long)qs.voters[v].log_end_offset,
                          (unsigned long long)durable);
                return;
            }
        }
    }
}

static bool id_listed(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static const char *image_isr_invalid(const struct ctrl_image *img, bool elr, char *why, size_t size)
{
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            /* KIP-966 lets the ISR empty (no leader then) */
            const char *bad = cp->isr_count < 1 && (!elr || cp->leader >= 0) ? "an empty ISR"
                              : cp->leader >= 0 && !id_listed(cp->isr, cp->isr_count, cp->leader)
                                  ? "a leader outside the ISR"
                              : !elr && (cp->elr_count > 0 || cp->last_known_elr_count > 0) ? "an ELR with ELR off"
                              : cp->last_known_elr_count > 0 && (cp->isr_count > 0 || cp->elr_count > 0)
                                  ? "a last known ELR beside an ISR or ELR"
                                  : NULL;
            for (int32_t k = 0; !bad && k < cp->elr_count; k++)
                if (!id_listed(cp->replicas, cp->replica_count, cp->elr[k]) || id_listed(cp->isr, cp->isr_count, cp->elr[k]) ||
                    id_listed(cp->elr, k, cp->elr[k]))
                    bad = "an ELR member twice, in the ISR or outside the replicas";
            for (int32_t k = 0; !bad && k < cp->isr_count; k++) {
                const struct ctrl_broker *b = ctrl_image_broker_find(img, cp->isr[k]);
                if (!id_listed(cp->replicas, cp->replica_count, cp->isr[k]) || id_listed(cp->isr, k, cp->isr[k]))
                    bad = "an ISR member twice or outside the replicas";
                else if (cp->isr_count > 1 && b && b->fenced)
                    bad = "a fenced broker in an ISR of several";
            }
            if (bad) {
                snprintf(why, size, "%s-%d has %s (leader %d, isr_count %d, partition_epoch %d)", t->name, p, bad,
                         cp->leader, cp->isr_count, cp->partition_epoch);
                return why;
            }
        }
    }
    return NULL;
}

static void check_step(struct csim *cs)
{
    char why[256];
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (n->up && image_no_fenced_leader(ctrl_metadata(n->c), why, sizeof why))
            violation(cs, "fenced_leader", "node=%u %s", n->id, why);
        if (n->up && image_isr_invalid(ctrl_metadata(n->c), cs->elr, why, sizeof why))
            violation(cs, "isr_invalid", "node=%u %s", n->id, why);
    }
    check_acks_durable(cs);
    if (cs->elr) {
        ghost_track(cs);
        ghost_check(cs);
    }
}

static struct cs_node *leader_find(struct csim *cs)
{
    for (uint32_t i = 0; i < cs->node_count; i++)
        if (cs->nodes[i].up && ctrl_is_active(cs->nodes[i].c))
            return &cs->nodes[i];
    return NULL;
}

/* ---- the schedule ---- */

static void deliver_due(struct csim *cs)
{
    /* deliver in send order; frames sent now are due later */
    uint32_t count = cs->msg_count, keep = 0;
    for (uint32_t i = 0; i < count && !cs->violated; i++) {
        struct cs_msg m = cs->msgs[i];
        if (m.due > cs->tick) {
            cs->msgs[keep++] = m;
            continue;
        }
        struct cs_node *to = &cs->nodes[m.to - 1];
        if (to->up && cs->link[m.from][m.to]) {
            Samsa__ControllerFrame *f = samsa__controller_frame__unpack(NULL, m.len, m.data);
            ASSERT(f != NULL);
            node_call(cs, to, CALL_FRAME, m.from, f);
            samsa__controller_frame__free_unpacked(f, NULL);
        }
        free(m.data);
    }
    /* frames queued during delivery were appended after `count` */
    if (cs->msg_count > count)
        memmove(cs->msgs + keep, cs->msgs + count, (cs->msg_count - count) * sizeof *cs->msgs);
    cs->msg_count = keep + (cs->msg_count - count);
}

static void links_all(struct csim *cs, bool up)
{
    for (uint32_t a = 0; a <= CS_NODES_MAX; a++)
        for (uint32_t b = 0; b <= CS_NODES_MAX; b++)
            cs->link[a][b] = up;
}

static void faults(struct csim *cs)
{
    if (cs->calm)
        return;
    if (prng_chance(&cs->rng, cs->part_per_million)) {
        uint32_t kind = (uint32_t)prng_range(&cs->rng, 4);
        uint32_t x = 1 + (uint32_t)prng_range(&cs->rng, cs->node_count);
        uint32_t y = 1 + (uint32_t)prng_range(&cs->rng, cs->node_count);
        if (kind == 0) { /* heal */
            links_all(cs, true);
            trace(cs, "heal");
        } else if (kind == 1) { /* isolate x */
            for (uint32_t k = 1; k <= cs->node_count; k++)
                cs->link[x][k] = cs->link[k][x] = k == x;
            trace(cs, "isolate node=%u", x);
        } else if (kind == 2 && x != y) { /* one-way cut */
            cs->link[x][y] = false;
            trace(cs, "cut %u->%u", x, y);
        } else { /* isolate the leader on purpose: fencing, leases, lost proposals */
            struct cs_node *l = leader_find(cs);
            if (l) {
                for (uint32_t k = 1; k <= cs->node_count; k++)
                    cs->link[l->id][k] = cs->link[k][l->id] = k == l->id;
                trace(cs, "isolate leader node=%u", l->id);
            }
        }
    }
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (n->up && n->crash_countdown == 0 && prng_chance(&cs->rng, cs->crash_per_million)) {
            if (prng_chance(&cs->rng, 500000)) {
                n->crash_countdown = 1 + (int32_t)prng_range(&cs->rng, 4); /* during a later write */
                trace(cs, "node=%u will crash before its storage write #%d", n->id, n->crash_countdown);
            } else {
                node_crash(cs, n, "between steps");
            }
        }
    }
}

static void trace_status(struct csim *cs)
{
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (!n->up) {
            trace(cs, "status node=%u down", n->id);
            continue;
        }
        struct ctrl_quorum_status qs;
        ctrl_quorum_status_get(n->c, &qs);
        trace(cs, "status node=%u role=%s leader=%d epoch=%llu hw=%llu last=%llu applied=%llu registered=%d epoch=%lld",
              n->id, qs.role, qs.leader_id, (unsigned long long)qs.epoch, (unsigned long long)qs.high_watermark,
              (unsigned long long)qs.last_index, (unsigned long long)ctrl_applied_index(n->c), n->brk.registered,
              (long long)n->brk.epoch);
    }
}

static void run_tick(struct csim *cs)
{
    if (cs->verbose && cs->tick % (getenv("CSIM_STATUS_TICKS") ? (uint64_t)atoi(getenv("CSIM_STATUS_TICKS")) : 100) == 0)
        trace_status(cs);
    cs->tick++;
    faults(cs);
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (!n->up && n->restart_at != 0 && cs->tick >= n->restart_at) {
            n->restart_at = 0;
            node_start(cs, n);
        }
    }
    for (uint32_t i = 0; i < cs->node_count && !cs->violated; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (n->up && n->sync_pending && n->sync_due <= cs->tick)
            node_call(cs, n, CALL_SYNC_DONE, 0, NULL);
    }
    deliver_due(cs);
    for (uint32_t i = 0; i < cs->node_count && !cs->violated; i++) {
        node_call(cs, &cs->nodes[i], CALL_TICK, 0, NULL);
        node_call(cs, &cs->nodes[i], CALL_BROKER, 0, NULL);
    }
    if (!cs->violated)
        check_step(cs);
}

/* Every node up, caught up, registered, unfenced in the leader's image,
 * and applied exactly as far as the leader's log reaches. */
static bool converged(struct csim *cs, struct cs_node **leader_out)
{
    struct cs_node *l = leader_find(cs);
    if (!l)
        return false;
    struct ctrl_quorum_status qs;
    ctrl_quorum_status_get(l->c, &qs);
    const struct ctrl_image *limg = ctrl_metadata(l->c);
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (!n->up || !n->brk.registered || n->brk.registering || n->brk.creating ||
            ctrl_applied_index(n->c) != qs.last_index)
            return false;
        const struct ctrl_broker *b = ctrl_image_broker_find(limg, (int32_t)n->id);
        if (!b || b->fenced || b->broker_epoch != n->brk.epoch)
            return false;
    }
    *leader_out = l;
    return true;
}

static void final_checks(struct csim *cs, struct cs_node *l)
{
    char why[256];
    const struct ctrl_image *limg = ctrl_metadata(l->c);
    for (uint32_t i = 0; i < cs->node_count && !cs->violated; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (image_diff(limg, ctrl_metadata(n->c), why, sizeof why))
            violation(cs, "image_diverged", "node=%u differs from leader=%u: %s", n->id, l->id, why);
        for (int32_t k = 0; k < CS_TOPIC_NAMES && !cs->violated; k++) {
            char name[16];
            snprintf(name, sizeof name, "t%d", k);
            if (cs->acked_topic[k] && !ctrl_image_topic_find(ctrl_metadata(n->c), name, strlen(name)))
                violation(cs, "committed_lost", "node=%u lacks topic %s whose creation was acknowledged", n->id,
                          name);
        }
    }
}

static void run(struct csim *cs)
{
    struct prng shape;
    prng_init(&shape, cs->seed);
    cs->node_count = CS_VOTERS + (uint32_t)prng_range(&shape, 3);
    cs->drop_per_million = (uint32_t)prng_range(&shape, 150000);
    cs->delay_max = 1 + (uint32_t)prng_range(&shape, 5);
    cs->crash_per_million = (uint32_t)prng_range(&shape, 3000);
    cs->part_per_million = (uint32_t)prng_range(&shape, 20000);
    cs->snapshot_bytes = 200 + (int64_t)prng_range(&shape, 4000);
    prng_init(&cs->rng, prng_next(&shape));
    cs->sync_async = prng_range(&shape, 4) != 0; /* 3 seeds in 4: production's asynchronous sync */
    cs->sync_delay_max = (uint32_t)prng_range(&shape, 8);
    cs->elr = prng_range(&shape, 2) == 0 || (cs->bug && strcmp(cs->bug, "ignore_unclean_shutdown") == 0);
    cs->ghost_offset = -1;
    trace(cs, "shape nodes=%u drop=%u delay_max=%u crash=%u part=%u snapshot_bytes=%lld sync=%s sync_delay_max=%u",
          cs->node_count, cs->drop_per_million, cs->delay_max, cs->crash_per_million, cs->part_per_million,
          (long long)cs->snapshot_bytes, cs->sync_async ? "async" : "sync", cs->sync_delay_max);
    trace(cs, "shape elr=%d", cs->elr);
    links_all(cs, true);
    for (uint32_t i = 0; i < cs->node_count; i++) {
        cs->nodes[i].cs = cs;
        cs->nodes[i].id = i + 1;
        cs->nodes[i].clean_epoch = -1;
        node_start(cs, &cs->nodes[i]);
    }
    /* 1. chaos */
    while (cs->tick < CS_CHAOS_TICKS && !cs->violated)
        run_tick(cs);
    /* 2. heal, but keep one victim down: a healthy quorum must fence it */
    cs->calm = true;
    cs->drop_per_million = 0;
    cs->delay_max = 2;
    links_all(cs, true);
    for (uint32_t i = 0; i < cs->node_count; i++) {
        cs->nodes[i].crash_countdown = 0;
        if (cs->nodes[i].up && cs->nodes[i].brk.stopping) { /* shutdowns in progress finish now, in order */
            cs->nodes[i].clean_epoch = cs->nodes[i].brk.was_registered ? cs->nodes[i].brk.epoch : -1;
            node_crash(cs, &cs->nodes[i], "stopped at the heal");
        }
    }
    struct cs_node *victim = &cs->nodes[prng_range(&cs->rng, cs->node_count)];
    if (victim->up)
        node_crash(cs, victim, "victim of the fencing check");
    for (uint32_t i = 0; i < cs->node_count; i++)
        if (!cs->nodes[i].up && &cs->nodes[i] != victim)
            cs->nodes[i].restart_at = cs->tick + 1;
    victim->restart_at = 0;
    trace(cs, "heal; victim node=%u stays down", victim->id);
    uint64_t until = cs->tick + CS_FENCE_BOUND_TICKS;
    bool fenced = false;
    while (cs->tick < until && !cs->violated && !fenced) {
        run_tick(cs);
        struct cs_node *l = leader_find(cs);
        if (l) {
            const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(l->c), (int32_t)victim->id);
            fenced = !b || b->fenced;
        }
    }
    if (!fenced)
        violation(cs, "lease_not_expired", "broker=%u down since the heal is not fenced after %d ticks", victim->id,
                  CS_FENCE_BOUND_TICKS);
    /* 3. the victim comes back: everything converges */
    if (!cs->violated)
        node_start(cs, victim);
    until = cs->tick + CS_CONVERGE_BOUND_TICKS;
    struct cs_node *l = NULL;
    bool done = false;
    while (cs->tick < until && !cs->violated && !(done = converged(cs, &l)))
        run_tick(cs);
    if (!cs->violated && !done)
        violation(cs, "no_convergence", "no converged state within %d ticks of the victim's restart",
                  CS_CONVERGE_BOUND_TICKS);
    if (!cs->violated)
        final_checks(cs, l);
    int acked = 0;
    for (int32_t k = 0; k < CS_TOPIC_NAMES; k++)
        acked += cs->acked_topic[k];
    trace(cs, "end topics_acked=%d", acked);
}

static const char *const csim_bugs[] = { "plan_before_caught_up", "plan_on_proposals_in_flight", "ack_before_sync",
                                         "ignore_unclean_shutdown" };

bool csim_bug_known(const char *name)
{
    if (!name || strcmp(name, "none") == 0)
        return true;
    for (size_t i = 0; i < sizeof csim_bugs / sizeof csim_bugs[0]; i++)
        if (strcmp(name, csim_bugs[i]) == 0)
            return true;
    return false;
}

const char *csim_bug_names(void)
{
    return "plan_before_caught_up plan_on_proposals_in_flight ack_before_sync ignore_unclean_shutdown";
}

int csim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out)
{
    struct csim *cs = calloc(1, sizeof *cs);
    ASSERT(cs != NULL);
    cs->seed = seed;
    cs->bug = bug && strcmp(bug, "none") != 0 ? bug : NULL;
    cs->verbose = verbose;
    cs->out = out;
    enum log_level saved = log_level_min;
    log_set_level(verbose ? LOG_INFO : LOG_OFF);
    plan_rng = &cs->rng;
    ctrl_plan_random_hook = plan_random;
    run(cs);
    ctrl_plan_random_hook = NULL;
    plan_rng = NULL;
    log_set_level(saved);
    int violated = cs->violated;
    for (uint32_t i = 0; i < cs->node_count; i++) {
        struct cs_node *n = &cs->nodes[i];
        if (n->up)
            ctrl_destroy(n->c);
        disk_drop_from(&n->disk, 0);
        free(n->disk.ents);
        free(n->disk.snap);
    }
    for (uint32_t i = 0; i < cs->msg_count; i++)
        free(cs->msgs[i].data);
    free(cs->msgs);
    free(cs);
    return violated;
}
