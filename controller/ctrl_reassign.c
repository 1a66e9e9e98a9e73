/*
 * ctrl_reassign.c - the active controller finishes partition reassignments.
 *
 * A reassignment (KIP-455, planned by ctrl_plan_reassign) waits until every
 * adding replica has joined the ISR; the ISR grows through AlterPartition
 * from the partition's leader, a PartitionChangeRecord like any other.  The
 * active controller looks at the image's reassigning partitions on a timer
 * (every 10 ticks, while any is in progress) and proposes, in one batch,
 * the final change of each one that is ready (ctrl_plan_reassign_complete).
 * As with fences (ctrl_leases_check) it plans only on an image that holds
 * every proposal of this leader, and one batch at a time, so an ISR change
 * in flight is never overwritten by a plan made without it.
 */
#include "common/log.h"
#include "controller/ctrl_int.h"

/* at most this many partitions finish per batch; the next check takes the rest */
#define CTRL_REASSIGN_BATCH_MAX 1000

static void reassign_done(void *arg, int rc)
{
    struct ctrl *c = arg;
    c->reassign_in_flight = false;
    if (rc < 0)
        log_info("ctrl", "finishing partition reassignments not committed error=\"%s\"; the next check retries",
                 err_str(rc));
}

void ctrl_reassign_check(struct ctrl *c)
{
    if (c->reassign_in_flight || ctrl_image_reassigning_count(c->img) == 0)
        return;
    if (raft_role_get(c->raft) != RAFT_LEADER || !c->caught_up || c->applied_epoch != raft_epoch_get(c->raft))
        return;
    if (ctrl_lease_change_in_flight(c) || c->applied_index < raft_last_index_get(c->raft))
        return;
    arena_reset(&c->plan_arena);
    struct ctrl_records recs = { 0 };
    for (int32_t i = 0; i < ctrl_image_topic_count(c->img) && recs.count < CTRL_REASSIGN_BATCH_MAX; i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(c->img, i);
        for (int32_t p = 0; p < t->partition_count && recs.count < CTRL_REASSIGN_BATCH_MAX; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            int rc = ctrl_plan_reassign_complete(c->img, t, cp, &c->plan_arena, &recs);
            if (rc < 0) {
                log_warn("ctrl", "cannot plan the end of the reassignment of %s-%d error=\"%s\"; retried later",
                         t->name, cp->partition_id, err_str(rc));
                return;
            }
            if (rc > 0)
                log_info("ctrl", "reassignment of %s-%d complete: its adding replicas are in the ISR", t->name,
                         cp->partition_id);
        }
    }
    if (recs.count == 0)
        return;
    c->reassign_in_flight = true;
    if (ctrl_propose_cb(c, recs.recs, recs.count, reassign_done, c) < 0)
        c->reassign_in_flight = false;
}
