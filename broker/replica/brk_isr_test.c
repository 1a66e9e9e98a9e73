/*
 * brk_isr_test.c - the leader's ISR and high-watermark rules, scripted with
 * a fake clock: the HW waits for every ISR member, Kafka's caught-up rule,
 * shrink after the lag time, expand to the HW within the leader epoch, the
 * maximal ISR while a change is pending, fenced / shutting-down / stale
 * broker epochs never proposed, min.insync.replicas before and after
 * append, KIP-966's strict mode, applying committed partition states, and
 * samsa.acks.all.fsync's durable high watermark (with a re-injected bug
 * that counts a replica's log end as durable, which the check catches).
 * The randomized counterpart is the replication model in test/sim.
 */
#include <check.h>
#include <string.h>

#include "broker/replica/brk_isr.h"

#define MS 1000000LL
#define LAG (100 * MS)

static struct brk_isr isr;

static struct brk_isr_partition part3(int32_t isr_count)
{
    struct brk_isr_partition p = { .leader = 1, .leader_epoch = 5, .partition_epoch = 10, .replica_count = 3,
                                   .replicas = { 1, 2, 3 }, .isr_count = isr_count, .isr = { 1, 2, 3 } };
    return p;
}

static void start(int32_t isr_count, int32_t min_isr, bool strict, int64_t leo, int64_t hw)
{
    struct brk_isr_config cfg = { .local_id = 1, .lag_time_max_ns = LAG, .min_insync_replicas = min_isr,
                                  .strict_min_isr = strict };
    struct brk_isr_partition p = part3(isr_count);
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, leo, hw, 0), 0);
    for (int32_t id = 1; id <= 3; id++) {
        struct brk_isr_broker b = { .broker_epoch = 100 + id };
        brk_isr_broker_set(&isr, id, &b);
    }
}

static void fetch(int32_t id, int64_t offset, int64_t leo, int64_t now)
{
    ck_assert_int_eq(brk_isr_fetch(&isr, id, 100 + id, offset, leo, now, NULL), 0);
}

START_TEST(hw_waits_for_every_isr_member)
{
    start(3, 1, false, 10, 4);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 4);
    fetch(2, 10, 10, 1 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 4); /* 3 has not fetched in this epoch */
    fetch(3, 7, 10, 2 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 7);
    fetch(3, 6, 10, 3 * MS); /* a replica's offset going back (it lost a tail) never moves the HW back */
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 7);
    fetch(3, 10, 10, 4 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 10);
    ck_assert(!brk_isr_leader_advance(&isr, 12, 5 * MS)); /* followers have not fetched 10..11 */
    bool moved;
    ck_assert_int_eq(brk_isr_fetch(&isr, 2, 102, 12, 12, 6 * MS, &moved), 0);
    ck_assert(!moved);
    ck_assert_int_eq(brk_isr_fetch(&isr, 3, 103, 12, 12, 6 * MS, &moved), 0);
    ck_assert(moved);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 12);
}
END_TEST

START_TEST(isr_of_one_follows_the_leader)
{
    start(1, 1, false, 0, 0);
    ck_assert(brk_isr_leader_advance(&isr, 3, 1 * MS));
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 3);
}
END_TEST

START_TEST(fetch_errors_are_returned)
{
    start(3, 1, false, 10, 0);
    ck_assert_int_eq(brk_isr_fetch(&isr, 9, -1, 0, 10, 0, NULL), ERR_NOT_FOUND);
    ck_assert_int_eq(brk_isr_fetch(&isr, 2, 101, 0, 10, 0, NULL), ERR_STALE); /* an old incarnation */
    ck_assert_int_eq(brk_isr_fetch(&isr, 2, 102, 11, 10, 0, NULL), ERR_OFFSET_RANGE);
    ck_assert_int_eq(brk_isr_fetch(&isr, 2, -1, 10, 10, 0, NULL), 0); /* no broker epoch: old fetch version */
}
END_TEST

/* Kafka's caught-up rule: a follower that is behind now but reached what the
 * leader had at its previous fetch was caught up at that previous fetch. */
START_TEST(shrink_after_lag_time_with_kafkas_caught_up_rule)
{
    start(3, 1, false, 10, 10);
    struct brk_isr_alter a;
    int64_t leo = 10;
    /* 2 keeps fetching what the leader had at its previous fetch; 3 stops */
    for (int64_t t = 10; t <= 300; t += 10) {
        fetch(2, leo, leo + 1, t * MS);
        leo++;
        ck_assert(!brk_isr_leader_advance(&isr, leo, t * MS)); /* 3 never fetched: the HW waits */
        if (t < 100)
            ck_assert(!brk_isr_alter_next(&isr, leo, t * MS, &a));
    }
    /* at 300 ms 3 has been behind for 300 ms > lag 100 ms: shrink it only */
    ck_assert(brk_isr_alter_next(&isr, leo, 300 * MS, &a));
    ck_assert_int_eq(a.isr_count, 2);
    ck_assert_int_eq(a.isr[0], 1);
    ck_assert_int_eq(a.isr[1], 2);
    ck_assert_int_eq(a.isr_broker_epochs[1], 102);
    ck_assert_int_eq(a.leader_epoch, 5);
    ck_assert_int_eq(a.partition_epoch, 10);
    ck_assert(brk_isr_pending(&isr));
    ck_assert(!brk_isr_alter_next(&isr, leo, 301 * MS, &a)); /* one in flight */
    /* while pending, 3 still holds the HW back (maximal ISR) */
    int64_t hw = brk_isr_high_watermark(&isr);
    fetch(2, leo, leo, 310 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), hw);
    /* the committed shrink lets it advance */
    struct brk_isr_partition p = part3(2);
    p.partition_epoch = 11;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, leo, 320 * MS), BRK_ISR_APPLIED);
    ck_assert(!brk_isr_pending(&isr));
    ck_assert_int_eq(brk_isr_high_watermark(&isr), leo);
}
END_TEST

START_TEST(expand_when_caught_up_to_hw_in_this_epoch)
{
    struct brk_isr_partition p = part3(2); /* ISR {1,2}; 3 is out */
    struct brk_isr_config cfg = { .local_id = 1, .lag_time_max_ns = LAG, .min_insync_replicas = 1 };
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 20, 15, 0), 0); /* this epoch starts at 20 */
    struct brk_isr_broker b3 = { .broker_epoch = 103 };
    brk_isr_broker_set(&isr, 3, &b3);
    struct brk_isr_alter a;
    fetch(2, 20, 20, 1 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 20);
    fetch(3, 18, 20, 2 * MS); /* below the HW */
    ck_assert(!brk_isr_alter_next(&isr, 20, 2 * MS, &a));
    ck_assert(!brk_isr_leader_advance(&isr, 22, 3 * MS));
    fetch(3, 20, 22, 4 * MS); /* reached what the leader had at its last fetch: caught up */
    fetch(2, 22, 22, 4 * MS);
    /* a caught-up eligible replica holds the HW back even before it joins */
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 20);
    ck_assert(brk_isr_alter_next(&isr, 22, 5 * MS, &a));
    ck_assert_int_eq(a.isr_count, 3);
    ck_assert_int_eq(a.isr[2], 3);
    ck_assert_int_eq(a.isr_broker_epochs[2], 103);
    /* refused as ineligible: nothing applied, back to committed, recomputed next time */
    brk_isr_alter_done(&isr, BRK_ISR_REFUSED_NOT_APPLIED);
    ck_assert(!brk_isr_pending(&isr));
    ck_assert(brk_isr_alter_next(&isr, 22, 6 * MS, &a));
    /* refused as stale (another copy may have been applied): the maximal ISR
     * (with 3) stays and no new proposal goes out until newer metadata */
    brk_isr_alter_done(&isr, BRK_ISR_REFUSED_STALE);
    ck_assert(brk_isr_pending(&isr));
    ck_assert(!brk_isr_awaiting_response(&isr));
    ck_assert(brk_isr_in_maximal_isr(&isr, 3));
    ck_assert(!brk_isr_alter_next(&isr, 22, 7 * MS, &a));
    struct brk_isr_partition q = part3(3); /* the other copy was applied */
    q.partition_epoch = 11;
    ck_assert_int_eq(brk_isr_apply(&isr, &q, 22, 8 * MS), BRK_ISR_APPLIED);
    ck_assert(!brk_isr_pending(&isr));
}
END_TEST

START_TEST(expand_needs_this_epochs_start)
{
    struct brk_isr_partition p = part3(2);
    struct brk_isr_config cfg = { .local_id = 1, .lag_time_max_ns = LAG, .min_insync_replicas = 1 };
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 20, 10, 0), 0);
    struct brk_isr_alter a;
    fetch(3, 12, 20, 1 * MS); /* >= HW 10 but below the epoch start 20 */
    ck_assert(!brk_isr_alter_next(&isr, 20, 1 * MS, &a));
    fetch(3, 20, 20, 2 * MS);
    ck_assert(brk_isr_alter_next(&isr, 20, 2 * MS, &a));
}
END_TEST

START_TEST(never_propose_fenced_shutting_down_or_stale)
{
    struct brk_isr_partition p = part3(2);
    struct brk_isr_config cfg = { .local_id = 1, .lag_time_max_ns = LAG, .min_insync_replicas = 1 };
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 10, 10, 0), 0);
    struct brk_isr_alter a;
    struct brk_isr_broker b = { .broker_epoch = 103, .fenced = true };
    brk_isr_broker_set(&isr, 3, &b);
    fetch(2, 10, 10, 1 * MS);
    fetch(3, 10, 10, 1 * MS);
    ck_assert(!brk_isr_alter_next(&isr, 10, 1 * MS, &a));
    b.fenced = false;
    b.shutting_down = true;
    brk_isr_broker_set(&isr, 3, &b);
    ck_assert(!brk_isr_alter_next(&isr, 10, 2 * MS, &a));
    /* a new incarnation registered (epoch 104): fetches still carry 103 */
    b.shutting_down = false;
    b.broker_epoch = 104;
    brk_isr_broker_set(&isr, 3, &b);
    ck_assert(!brk_isr_alter_next(&isr, 10, 3 * MS, &a));
    ck_assert_int_eq(brk_isr_fetch(&isr, 3, 104, 10, 10, 4 * MS, NULL), 0);
    ck_assert(brk_isr_alter_next(&isr, 10, 4 * MS, &a));
    ck_assert_int_eq(a.isr_broker_epochs[2], 104);
}
END_TEST

START_TEST(min_isr_before_and_after_append)
{
    start(3, 2, false, 10, 10);
    ck_assert_int_eq(brk_isr_produce_check(&isr, -1), BRK_ISR_OK);
    enum brk_isr_err err;
    fetch(2, 10, 10, 1 * MS);
    fetch(3, 10, 10, 1 * MS);
    brk_isr_leader_advance(&isr, 11, 2 * MS); /* an acks=all batch [10, 11) */
    ck_assert(!brk_isr_acked(&isr, 11, &err));
    /* ISR shrinks to {1} while it waits: 2 and 3 stop fetching */
    struct brk_isr_alter a;
    ck_assert(brk_isr_alter_next(&isr, 11, 500 * MS, &a));
    ck_assert_int_eq(a.isr_count, 1);
    struct brk_isr_partition p = part3(1);
    p.partition_epoch = 11;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 11, 501 * MS), BRK_ISR_APPLIED);
    ck_assert(brk_isr_acked(&isr, 11, &err));
    ck_assert_int_eq(err, BRK_ISR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    ck_assert_int_eq(brk_isr_produce_check(&isr, -1), BRK_ISR_NOT_ENOUGH_REPLICAS);
    ck_assert_int_eq(brk_isr_produce_check(&isr, 1), BRK_ISR_OK); /* acks=1 still appends */
}
END_TEST

START_TEST(strict_min_isr_stops_the_hw)
{
    start(1, 2, true, 10, 10);
    ck_assert(!brk_isr_leader_advance(&isr, 12, 1 * MS));
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 10);
}
END_TEST

/* A committed topic config change reaches the ISR state in the same epoch. */
START_TEST(reconfigure_applies_in_the_epoch)
{
    start(2, 1, true, 10, 10);
    enum brk_isr_err err;
    ck_assert(!brk_isr_leader_advance(&isr, 12, 1 * MS));
    fetch(2, 12, 12, 2 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 12);
    ck_assert(!brk_isr_reconfigure(&isr, 3, false, 12, 3 * MS));
    ck_assert_int_eq(brk_isr_produce_check(&isr, -1), BRK_ISR_NOT_ENOUGH_REPLICAS);
    brk_isr_leader_advance(&isr, 14, 4 * MS);
    fetch(2, 14, 14, 5 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 12); /* strict: |ISR| 2 < 3 */
    ck_assert(brk_isr_reconfigure(&isr, 2, false, 14, 6 * MS)); /* lowered: the HW catches up */
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 14);
    ck_assert_int_eq(brk_isr_produce_check(&isr, -1), BRK_ISR_OK);
    ck_assert(brk_isr_acked(&isr, 14, &err));
    /* fsync acks switched on: only syncs reported from now on count */
    ck_assert(!brk_isr_durable(&isr, 2, 14, 14, 7 * MS)); /* off: ignored */
    ck_assert(!brk_isr_reconfigure(&isr, 2, true, 14, 8 * MS));
    ck_assert(!brk_isr_acked(&isr, 14, &err));
    ck_assert(!brk_isr_leader_durable(&isr, 14, 14, 9 * MS));
    ck_assert(brk_isr_durable(&isr, 2, 14, 14, 9 * MS));
    ck_assert(brk_isr_acked(&isr, 14, &err));
    ck_assert_int_eq(err, BRK_ISR_OK);
}
END_TEST

START_TEST(apply_rules)
{
    start(3, 1, false, 10, 10);
    struct brk_isr_partition p = part3(2);
    p.partition_epoch = 9; /* stale: ignored */
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 10, 0), BRK_ISR_APPLIED);
    ck_assert_int_eq(isr.part.isr_count, 3);
    p.partition_epoch = 12;
    p.isr[0] = 2; /* leader missing from its ISR: a controller bug, step down */
    p.isr[1] = 3;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 10, 0), BRK_ISR_NOT_LEADER);
    p = part3(3);
    p.leader_epoch = 6; /* a new leader epoch: discard this state */
    p.partition_epoch = 12;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 10, 0), BRK_ISR_NOT_LEADER);
    /* a pending change is settled by any newer partition epoch */
    struct brk_isr_alter a;
    ck_assert(brk_isr_alter_next(&isr, 10, 500 * MS, &a));
    p = part3(3);
    p.partition_epoch = 11;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 10, 501 * MS), BRK_ISR_APPLIED);
    ck_assert(!brk_isr_pending(&isr));
}
END_TEST

START_TEST(init_validates)
{
    struct brk_isr_config cfg = { .local_id = 2, .lag_time_max_ns = LAG, .min_insync_replicas = 1 };
    struct brk_isr_partition p = part3(3);
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 10, 0, 0), ERR_INVALID); /* not the leader */
    cfg.local_id = 1;
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 10, 11, 0), ERR_INVALID); /* HW above the log end */
    p.isr[0] = 3;
    p.isr_count = 1;
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, 10, 0, 0), ERR_INVALID); /* leader not in ISR */
}
END_TEST

/* ---- samsa.acks.all.fsync: the durable high watermark ---- */

static void start_fsync(int32_t isr_count, int64_t leo, int64_t hw, bool bug)
{
    struct brk_isr_config cfg = { .local_id = 1, .lag_time_max_ns = LAG, .min_insync_replicas = 1,
                                  .acks_fsync = true, .bug_durable_from_leo = bug };
    struct brk_isr_partition p = part3(isr_count);
    ck_assert_int_eq(brk_isr_init(&isr, &cfg, &p, leo, hw, 0), 0);
    for (int32_t id = 1; id <= 3; id++) {
        struct brk_isr_broker b = { .broker_epoch = 100 + id };
        brk_isr_broker_set(&isr, id, &b);
    }
}

START_TEST(durable_hw_waits_for_every_sync)
{
    start_fsync(3, 10, 10, false);
    enum brk_isr_err err;
    brk_isr_leader_advance(&isr, 12, 1 * MS); /* an acks=all batch [10, 12) */
    fetch(2, 12, 12, 2 * MS);
    fetch(3, 12, 12, 2 * MS);
    ck_assert_int_eq(brk_isr_high_watermark(&isr), 12); /* consumers may read it */
    ck_assert(!brk_isr_acked(&isr, 12, &err));           /* nobody has synced it */
    ck_assert(!brk_isr_leader_durable(&isr, 12, 12, 3 * MS));
    ck_assert(!brk_isr_durable(&isr, 2, 12, 12, 3 * MS));
    ck_assert(!brk_isr_acked(&isr, 12, &err)); /* 3 has not */
    ck_assert(brk_isr_durable(&isr, 3, 11, 12, 4 * MS));
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 11);
    ck_assert(!brk_isr_acked(&isr, 12, &err));
    ck_assert(brk_isr_acked(&isr, 11, &err));
    ck_assert(brk_isr_durable(&isr, 3, 12, 12, 5 * MS));
    ck_assert(brk_isr_acked(&isr, 12, &err));
    ck_assert_int_eq(err, BRK_ISR_OK);
    /* never back; a report past the fetched log end counts only to it */
    ck_assert(!brk_isr_durable(&isr, 3, 5, 12, 6 * MS));
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 12);
    brk_isr_leader_advance(&isr, 14, 7 * MS);
    ck_assert(!brk_isr_leader_durable(&isr, 14, 14, 7 * MS));
    ck_assert(!brk_isr_durable(&isr, 2, 14, 14, 7 * MS)); /* its fetch showed 12 only */
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 12);
    /* a shrink that drops the unsynced member lets it move */
    fetch(2, 14, 14, 8 * MS);
    ck_assert(!brk_isr_durable(&isr, 2, 14, 14, 8 * MS)); /* 3 has not fetched 14 */
    struct brk_isr_partition p = part3(2);
    p.partition_epoch = 11;
    ck_assert_int_eq(brk_isr_apply(&isr, &p, 14, 500 * MS), BRK_ISR_APPLIED);
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 14);
}
END_TEST

START_TEST(durable_off_acks_on_the_hw)
{
    start(3, 1, false, 10, 10);
    enum brk_isr_err err;
    brk_isr_leader_advance(&isr, 12, 1 * MS);
    fetch(2, 12, 12, 2 * MS);
    fetch(3, 12, 12, 2 * MS);
    ck_assert(brk_isr_acked(&isr, 12, &err)); /* Kafka's rule: page cache everywhere */
    ck_assert(!brk_isr_durable(&isr, 2, 12, 12, 3 * MS));
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 0);
}
END_TEST

/* Replica 3, caught up at leo, does not join at t; once it has synced all of
 * it, it does. */
static void joins_only_once_synced(int64_t leo, int64_t t)
{
    struct brk_isr_alter a;
    struct brk_isr copy = isr;
    ck_assert(!brk_isr_alter_next(&copy, leo, t, &a));
    brk_isr_durable(&isr, 3, leo, leo, t + MS);
    ck_assert(brk_isr_alter_next(&isr, leo, t + MS, &a));
    ck_assert_int_eq(a.isr_count, 3);
}

START_TEST(durable_expand_needs_the_joiners_sync)
{
    /* with the durable HW at 12 and 3 synced only to 11, it may not join */
    start_fsync(2, 10, 10, false);
    brk_isr_leader_advance(&isr, 12, 1 * MS);
    brk_isr_leader_durable(&isr, 12, 12, 1 * MS);
    fetch(2, 12, 12, 2 * MS);
    brk_isr_durable(&isr, 2, 12, 12, 2 * MS);
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 12);
    fetch(3, 12, 12, 3 * MS);
    brk_isr_durable(&isr, 3, 11, 12, 3 * MS);
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 12); /* never back */
    joins_only_once_synced(12, 4 * MS);
}
END_TEST

/* A new leader epoch starts its durable HW at 0: a joiner must still have
 * synced what earlier leaders acknowledged, i.e. up to the epoch's start
 * offset (isr sim --fsync seed 18490: 3 joined with 179 of 191 acknowledged
 * records on its disk and kept 179 through a whole-cluster power loss). */
START_TEST(durable_expand_needs_earlier_epochs_acks)
{
    start_fsync(2, 20, 20, false); /* new leader: log end 20, acknowledged up to 20 before */
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 0);
    fetch(3, 20, 20, 1 * MS); /* 3 holds all of it, but synced only 15 */
    brk_isr_durable(&isr, 3, 15, 20, 1 * MS);
    brk_isr_leader_durable(&isr, 20, 20, 2 * MS);
    fetch(2, 20, 20, 2 * MS);
    brk_isr_durable(&isr, 2, 20, 20, 2 * MS);
    /* caught up, 3 counts in this epoch's durable HW and holds it at its own 15 */
    ck_assert_int_eq(brk_isr_durable_high_watermark(&isr), 15);
    joins_only_once_synced(20, 3 * MS);
}
END_TEST

/*
 * The rule's check, as a small model: each replica has a log end and, apart
 * from it, what an fdatasync made durable (the truth; power loss keeps only
 * that).  Followers append at once and sync later; the leader hears the
 * durable offsets they report.  Returns true when an acknowledged offset
 * was not durable on every ISR member at the moment of the ack: a
 * whole-cluster power loss would lose it.
 */
static bool durable_model_loses_acked(bool bug)
{
    start_fsync(3, 0, 0, bug);
    int64_t synced[4] = { 0, 0, 0, 0 };
    int64_t leo = 0;
    bool lost = false;
    for (int64_t step = 1; step <= 60; step++) {
        int64_t t = step * MS;
        leo += 1 + step % 3;
        brk_isr_leader_advance(&isr, leo, t);
        if (step % 2 == 0) {
            synced[1] = leo;
            brk_isr_leader_durable(&isr, synced[1], leo, t);
        }
        for (int32_t id = 2; id <= 3; id++) {
            fetch(id, leo, leo, t); /* appended at once */
            if ((step + id) % 4 == 0)
                synced[id] = leo; /* its sync completes now and then */
            brk_isr_durable(&isr, id, synced[id], leo, t);
        }
        for (int64_t off = leo; off > 0; off--) {
            enum brk_isr_err err;
            if (!brk_isr_acked(&isr, off, &err))
                continue;
            for (int32_t id = 1; id <= 3; id++)
                if (synced[id] < off)
                    lost = true;
            break;
        }
    }
    return lost;
}

START_TEST(durable_rule_checked_and_bug_caught)
{
    ck_assert(!durable_model_loses_acked(false));
    ck_assert(durable_model_loses_acked(true)); /* counting a log end as durable is caught */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_isr");
    TCase *t = tcase_create("core");
    tcase_add_test(t, hw_waits_for_every_isr_member);
    tcase_add_test(t, isr_of_one_follows_the_leader);
    tcase_add_test(t, fetch_errors_are_returned);
    tcase_add_test(t, shrink_after_lag_time_with_kafkas_caught_up_rule);
    tcase_add_test(t, expand_when_caught_up_to_hw_in_this_epoch);
    tcase_add_test(t, expand_needs_this_epochs_start);
    tcase_add_test(t, never_propose_fenced_shutting_down_or_stale);
    tcase_add_test(t, min_isr_before_and_after_append);
    tcase_add_test(t, strict_min_isr_stops_the_hw);
    tcase_add_test(t, reconfigure_applies_in_the_epoch);
    tcase_add_test(t, apply_rules);
    tcase_add_test(t, init_validates);
    tcase_add_test(t, durable_hw_waits_for_every_sync);
    tcase_add_test(t, durable_off_acks_on_the_hw);
    tcase_add_test(t, durable_expand_needs_the_joiners_sync);
    tcase_add_test(t, durable_expand_needs_earlier_epochs_acks);
    tcase_add_test(t, durable_rule_checked_and_bug_caught);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
