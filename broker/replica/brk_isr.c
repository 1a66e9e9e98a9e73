/*
 * brk_isr.c - the leader's replication state of one partition (see
 * brk_isr.h for the state diagram, the high watermark rule and the
 * invariants).  Replica sets are tiny (<= BRK_ISR_REPLICAS_MAX), so every
 * lookup is a linear scan.
 */
#include "broker/replica/brk_isr.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"

#define BRK_ISR_NEVER INT64_MIN

static bool brk_isr_list_has(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static bool brk_isr_in_committed(const struct brk_isr *isr, int32_t id)
{
    return brk_isr_list_has(isr->part.isr, isr->part.isr_count, id);
}

bool brk_isr_in_maximal_isr(const struct brk_isr *isr, int32_t id)
{
    return brk_isr_in_committed(isr, id) ||
           (isr->pending && brk_isr_list_has(isr->alter.isr, isr->alter.isr_count, id));
}

static int32_t brk_isr_maximal_count(const struct brk_isr *isr)
{
    int32_t n = isr->part.isr_count;
    if (isr->pending)
        for (int32_t i = 0; i < isr->alter.isr_count; i++)
            if (!brk_isr_in_committed(isr, isr->alter.isr[i]))
                n++;
    return n;
}

static struct brk_isr_replica *brk_isr_replica_get(struct brk_isr *isr, int32_t id)
{
    for (int32_t i = 0; i < isr->replica_count; i++)
        if (isr->replicas[i].id == id)
            return &isr->replicas[i];
    return NULL;
}

const struct brk_isr_replica *brk_isr_replica_find(const struct brk_isr *isr, int32_t id)
{
    return brk_isr_replica_get((struct brk_isr *)isr, id);
}

/* Replica.isCaughtUp: at the leader's end, or caught up within the lag time. */
static bool brk_isr_caught_up(const struct brk_isr *isr, const struct brk_isr_replica *r, int64_t leader_leo,
                              int64_t now_ns)
{
    if (r->log_end_offset == leader_leo)
        return true;
    return r->last_caught_up_ns != BRK_ISR_NEVER && now_ns - r->last_caught_up_ns <= isr->cfg.lag_time_max_ns;
}

/* KRaft's isReplicaIsrEligible: not fenced, not shutting down, and its
 * fetches carry the broker epoch the image has (KIP-903). */
static bool brk_isr_eligible(const struct brk_isr_replica *r)
{
    if (r->broker.fenced || r->broker.shutting_down)
        return false;
    return r->fetch_broker_epoch == -1 || r->broker.broker_epoch == -1 ||
           r->fetch_broker_epoch == r->broker.broker_epoch;
}

static void brk_isr_check(const struct brk_isr *isr)
{
    ASSERT(isr->part.leader == isr->cfg.local_id);
    ASSERT(brk_isr_in_committed(isr, isr->cfg.local_id));
    ASSERT(!isr->pending || brk_isr_list_has(isr->alter.isr, isr->alter.isr_count, isr->cfg.local_id));
    ASSERT(!isr->settling || isr->pending);
    ASSERT(isr->high_watermark >= 0);
    ASSERT(isr->durable_high_watermark <= isr->high_watermark);
}

/* Does follower r hold the HW (and the durable HW) back? */
static bool brk_isr_counts(const struct brk_isr *isr, const struct brk_isr_replica *r, int64_t leader_leo,
                           int64_t now_ns)
{
    if (isr->cfg.bug_hw_from_fetchers)
        return r->last_fetch_ns != BRK_ISR_NEVER && now_ns - r->last_fetch_ns <= isr->cfg.lag_time_max_ns;
    return brk_isr_in_maximal_isr(isr, r->id) || (brk_isr_caught_up(isr, r, leader_leo, now_ns) && brk_isr_eligible(r));
}

/* What of r's log is durable as far as this leader knows: its report, up
 * to the log end its fetch showed (the prefix this leader validated). */
static int64_t brk_isr_replica_durable(const struct brk_isr *isr, const struct brk_isr_replica *r)
{
    if (isr->cfg.bug_durable_from_leo)
        return r->log_end_offset;
    return r->durable_offset < r->log_end_offset ? r->durable_offset : r->log_end_offset;
}

/* The durable HW (acks_fsync only).  Returns true if it moved. */
static bool brk_isr_advance_durable(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns)
{
    if (!isr->cfg.acks_fsync)
        return false;
    int64_t d = isr->high_watermark;
    if (isr->leader_durable_offset < d)
        d = isr->leader_durable_offset;
    for (int32_t i = 0; i < isr->replica_count; i++) {
        const struct brk_isr_replica *r = &isr->replicas[i];
        int64_t rd = brk_isr_replica_durable(isr, r);
        if (brk_isr_counts(isr, r, leader_leo, now_ns) && rd < d)
            d = rd;
    }
    if (d <= isr->durable_high_watermark)
        return false;
    isr->durable_high_watermark = d;
    ASSERT(isr->durable_high_watermark <= isr->high_watermark);
    ASSERT(isr->durable_high_watermark <= isr->leader_durable_offset);
    if (!isr->cfg.bug_durable_from_leo) /* the re-injected bug must reach the test's checks */
        for (int32_t i = 0; i < isr->replica_count; i++)
            if (brk_isr_in_maximal_isr(isr, isr->replicas[i].id))
                ASSERT(brk_isr_replica_durable(isr, &isr->replicas[i]) >= isr->durable_high_watermark);
    return true;
}

/* maybeIncrementLeaderHW.  Returns true if the HW moved (the durable HW
 * follows; brk_isr_durable_high_watermark tells whether it did). */
static bool brk_isr_advance_hw(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns)
{
    /* at most the replication factor, as the controller's ELR (ctrl_plan_min_isr) */
    if (isr->cfg.strict_min_isr && isr->part.isr_count < isr->cfg.min_insync_replicas &&
        isr->part.isr_count < isr->part.replica_count)
        return false;
    int64_t hw = leader_leo;
    for (int32_t i = 0; i < isr->replica_count; i++) {
        const struct brk_isr_replica *r = &isr->replicas[i];
        if (brk_isr_counts(isr, r, leader_leo, now_ns) && r->log_end_offset < hw)
            hw = r->log_end_offset;
    }
    (void)brk_isr_advance_durable(isr, leader_leo, now_ns); /* an ISR change may move it */
    if (hw <= isr->high_watermark)
        return false;
    int64_t old = isr->high_watermark;
    isr->high_watermark = hw;
    ASSERT(isr->high_watermark > old);
    ASSERT(isr->high_watermark <= leader_leo);
    if (!isr->cfg.bug_hw_from_fetchers) /* the re-injected bug must reach the simulator's checks */
        for (int32_t i = 0; i < isr->replica_count; i++)
            if (brk_isr_in_maximal_isr(isr, isr->replicas[i].id))
                ASSERT(isr->replicas[i].log_end_offset >= isr->high_watermark);
    (void)brk_isr_advance_durable(isr, leader_leo, now_ns);
    return true;
}

static void brk_isr_replica_reset(struct brk_isr_replica *r, int32_t id, bool in_isr, int64_t now_ns)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->log_end_offset = BRK_ISR_OFFSET_UNKNOWN;
    r->last_fetch_ns = BRK_ISR_NEVER;
    r->last_fetch_leader_leo = BRK_ISR_OFFSET_UNKNOWN;
    r->last_caught_up_ns = in_isr ? now_ns : BRK_ISR_NEVER; /* resetReplicaState */
    r->fetch_broker_epoch = -1;
    r->durable_offset = BRK_ISR_OFFSET_UNKNOWN;
    r->broker.broker_epoch = -1;
}

static bool brk_isr_partition_valid(const struct brk_isr_partition *p)
{
    if (p->replica_count < 1 || p->replica_count > BRK_ISR_REPLICAS_MAX || p->isr_count < 1 ||
        p->isr_count > p->replica_count)
        return false;
    for (int32_t i = 0; i < p->isr_count; i++)
        if (!brk_isr_list_has(p->replicas, p->replica_count, p->isr[i]))
            return false;
    return brk_isr_list_has(p->isr, p->isr_count, p->leader);
}

/* Rebuild the follower table for part, keeping the progress of replicas that stay. */
static void brk_isr_replicas_load(struct brk_isr *isr, const struct brk_isr_partition *part, int64_t now_ns)
{
    struct brk_isr_replica old[BRK_ISR_REPLICAS_MAX];
    int32_t old_count = isr->replica_count;
    memcpy(old, isr->replicas, sizeof old);
    isr->replica_count = 0;
    for (int32_t i = 0; i < part->replica_count; i++) {
        int32_t id = part->replicas[i];
        if (id == isr->cfg.local_id)
            continue;
        struct brk_isr_replica *r = &isr->replicas[isr->replica_count++];
        bool kept = false;
        for (int32_t k = 0; k < old_count && !kept; k++)
            if (old[k].id == id) {
                *r = old[k];
                kept = true;
            }
        if (!kept)
            brk_isr_replica_reset(r, id, brk_isr_list_has(part->isr, part->isr_count, id), now_ns);
    }
}

int brk_isr_init(struct brk_isr *isr, const struct brk_isr_config *cfg, const struct brk_isr_partition *part,
                 int64_t leader_leo, int64_t high_watermark, int64_t now_ns)
{
    if (part->leader != cfg->local_id || !brk_isr_partition_valid(part) || high_watermark < 0 ||
        high_watermark > leader_leo || cfg->min_insync_replicas < 1 || cfg->lag_time_max_ns <= 0)
        return ERR_INVALID;
    memset(isr, 0, sizeof *isr);
    isr->cfg = *cfg;
    isr->part = *part;
    isr->high_watermark = high_watermark;
    isr->durable_high_watermark = 0; /* only this leader epoch's reports count */
    isr->leader_durable_offset = BRK_ISR_OFFSET_UNKNOWN;
    isr->epoch_start_offset = leader_leo;
    brk_isr_replicas_load(isr, part, now_ns);
    brk_isr_advance_hw(isr, leader_leo, now_ns);
    brk_isr_check(isr);
    return 0;
}

void brk_isr_broker_set(struct brk_isr *isr, int32_t id, const struct brk_isr_broker *b)
{
    struct brk_isr_replica *r = brk_isr_replica_get(isr, id);
    if (r)
        r->broker = *b;
}

int brk_isr_fetch(struct brk_isr *isr, int32_t replica_id, int64_t broker_epoch, int64_t fetch_offset,
                  int64_t leader_leo, int64_t now_ns, bool *hw_changed)
{
    if (hw_changed)
        *hw_changed = false;
    struct brk_isr_replica *r = brk_isr_replica_get(isr, replica_id);
    if (r == NULL)
        return ERR_NOT_FOUND;
    if (broker_epoch != -1 && r->broker.broker_epoch != -1 && broker_epoch < r->broker.broker_epoch)
        return ERR_STALE;
    if (fetch_offset < 0 || fetch_offset > leader_leo)
        return ERR_OFFSET_RANGE;
    /* Replica.updateFetchState */
    if (fetch_offset >= leader_leo) {
        if (r->last_caught_up_ns == BRK_ISR_NEVER || now_ns > r->last_caught_up_ns)
            r->last_caught_up_ns = now_ns;
    } else if (r->last_fetch_ns != BRK_ISR_NEVER && fetch_offset >= r->last_fetch_leader_leo) {
        if (r->last_caught_up_ns == BRK_ISR_NEVER || r->last_fetch_ns > r->last_caught_up_ns)
            r->last_caught_up_ns = r->last_fetch_ns;
    }
    r->log_end_offset = fetch_offset;
    r->last_fetch_leader_leo = leader_leo;
    r->last_fetch_ns = now_ns;
    if (broker_epoch != -1)
        r->fetch_broker_epoch = broker_epoch;
    bool moved = brk_isr_advance_hw(isr, leader_leo, now_ns);
    if (hw_changed)
        *hw_changed = moved;
    brk_isr_check(isr);
    return 0;
}

bool brk_isr_leader_advance(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns)
{
    ASSERT(leader_leo >= isr->high_watermark);
    return brk_isr_advance_hw(isr, leader_leo, now_ns);
}

bool brk_isr_alter_next(struct brk_isr *isr, int64_t leader_leo, int64_t now_ns, struct brk_isr_alter *out)
{
    if (isr->pending)
        return false;
    struct brk_isr_alter a = { .leader = isr->cfg.local_id,
                               .leader_epoch = isr->part.leader_epoch,
                               .partition_epoch = isr->part.partition_epoch };
    bool change = false;
    for (int32_t i = 0; i < isr->part.isr_count; i++) {
        int32_t id = isr->part.isr[i];
        const struct brk_isr_replica *r = brk_isr_replica_get(isr, id);
        if (id != isr->cfg.local_id && (r == NULL || !brk_isr_caught_up(isr, r, leader_leo, now_ns))) {
            change = true; /* shrink: out of sync for lag_time_max */
            continue;
        }
        a.isr_broker_epochs[a.isr_count] = r ? r->fetch_broker_epoch : -1;
        a.isr[a.isr_count++] = id;
    }
    for (int32_t i = 0; i < isr->replica_count; i++) {
        const struct brk_isr_replica *r = &isr->replicas[i];
        if (brk_isr_in_committed(isr, r->id) || !brk_isr_eligible(r) || r->log_end_offset == BRK_ISR_OFFSET_UNKNOWN)
            continue;
        /* it must not join while missing acknowledged records on its disk:
         * this epoch's (below the durable HW) and earlier epochs' (below the
         * epoch start offset - this leader's durable HW starts at 0, so the
         * durable HW alone let a joiner in without them: isr sim --fsync
         * seed 18490) */
        int64_t durable_need = isr->durable_high_watermark > isr->epoch_start_offset ? isr->durable_high_watermark
                                                                                     : isr->epoch_start_offset;
        if (isr->cfg.acks_fsync && brk_isr_replica_durable(isr, r) < durable_need)
            continue;
        if (r->log_end_offset >= isr->high_watermark && r->log_end_offset >= isr->epoch_start_offset) {
            change = true; /* expand: caught up to the HW within this leader epoch */
            a.isr_broker_epochs[a.isr_count] = r->fetch_broker_epoch;
            a.isr[a.isr_count++] = r->id;
        }
    }
    if (!change)
        return false;
    ASSERT(brk_isr_list_has(a.isr, a.isr_count, isr->cfg.local_id));
    ASSERT(a.isr_count <= BRK_ISR_REPLICAS_MAX);
    isr->alter = a;
    isr->pending = true;
    *out = a;
    brk_isr_check(isr);
    return true;
}

void brk_isr_alter_done(struct brk_isr *isr, enum brk_isr_refusal why)
{
    if (!isr->pending)
        return;
    if (why == BRK_ISR_REFUSED_STALE) {
        isr->settling = true;
    } else {
        isr->pending = false;
        isr->settling = false;
    }
    brk_isr_check(isr);
}

enum brk_isr_apply_result brk_isr_apply(struct brk_isr *isr, const struct brk_isr_partition *part,
                                        int64_t leader_leo, int64_t now_ns)
{
    if (part->leader != isr->cfg.local_id || part->leader_epoch != isr->part.leader_epoch)
        return BRK_ISR_NOT_LEADER;
    if (part->partition_epoch <= isr->part.partition_epoch)
        return BRK_ISR_APPLIED; /* stale or already known */
    if (!brk_isr_partition_valid(part)) {
        log_error("isr",
                  "committed partition state names this broker leader but is invalid leader=%" PRId32
                  " leader_epoch=%" PRId32 " partition_epoch=%" PRId32 " isr_count=%" PRId32
                  " fix=\"a controller bug: report it; this broker stops leading the partition\"",
                  part->leader, part->leader_epoch, part->partition_epoch, part->isr_count);
        return BRK_ISR_NOT_LEADER;
    }
    isr->part = *part;
    isr->pending = false; /* settled, or stale at the controller (compare-and-set) */
    isr->settling = false;
    brk_isr_replicas_load(isr, part, now_ns);
    brk_isr_advance_hw(isr, leader_leo, now_ns);
    brk_isr_check(isr);
    return BRK_ISR_APPLIED;
}

enum brk_isr_err brk_isr_produce_check(const struct brk_isr *isr, int16_t acks)
{
    if (acks == -1 && isr->part.isr_count < isr->cfg.min_insync_replicas)
        return BRK_ISR_NOT_ENOUGH_REPLICAS;
    return BRK_ISR_OK;
}

bool brk_isr_acked(const struct brk_isr *isr, int64_t required_offset, enum brk_isr_err *err)
{
    *err = BRK_ISR_OK;
    if (isr->high_watermark < required_offset)
        return false;
    if (isr->cfg.acks_fsync && isr->durable_high_watermark < required_offset)
        return false;
    if (brk_isr_maximal_count(isr) < isr->cfg.min_insync_replicas)
        *err = BRK_ISR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
    return true;
}

bool brk_isr_reconfigure(struct brk_isr *isr, int32_t min_insync_replicas, bool acks_fsync, int64_t leader_leo,
                         int64_t now_ns)
{
    ASSERT(leader_leo >= isr->high_watermark);
    isr->cfg.min_insync_replicas = min_insync_replicas < 1 ? 1 : min_insync_replicas;
    if (acks_fsync && !isr->cfg.acks_fsync) {
        /* reports made while it was off are stale: start over as brk_isr_init does */
        isr->durable_high_watermark = 0;
        isr->leader_durable_offset = BRK_ISR_OFFSET_UNKNOWN;
        for (int32_t i = 0; i < isr->replica_count; i++)
            isr->replicas[i].durable_offset = BRK_ISR_OFFSET_UNKNOWN;
    }
    isr->cfg.acks_fsync = acks_fsync;
    bool moved = brk_isr_advance_hw(isr, leader_leo, now_ns);
    brk_isr_check(isr);
    return moved;
}

int64_t brk_isr_high_watermark(const struct brk_isr *isr)
{
    return isr->high_watermark;
}

int64_t brk_isr_durable_high_watermark(const struct brk_isr *isr)
{
    return isr->durable_high_watermark;
}

bool brk_isr_durable(struct brk_isr *isr, int32_t replica_id, int64_t durable_offset, int64_t leader_leo,
                     int64_t now_ns)
{
    struct brk_isr_replica *r = brk_isr_replica_get(isr, replica_id);
    if (r == NULL)
        return false;
    r->durable_offset = durable_offset < 0 ? BRK_ISR_OFFSET_UNKNOWN : durable_offset;
    bool moved = brk_isr_advance_durable(isr, leader_leo, now_ns);
    brk_isr_check(isr);
    return moved;
}

bool brk_isr_leader_durable(struct brk_isr *isr, int64_t durable_offset, int64_t leader_leo, int64_t now_ns)
{
    if (durable_offset > isr->leader_durable_offset)
        isr->leader_durable_offset = durable_offset;
    bool moved = brk_isr_advance_durable(isr, leader_leo, now_ns);
    brk_isr_check(isr);
    return moved;
}

bool brk_isr_pending(const struct brk_isr *isr)
{
    return isr->pending;
}

bool brk_isr_awaiting_response(const struct brk_isr *isr)
{
    return isr->pending && !isr->settling;
}
