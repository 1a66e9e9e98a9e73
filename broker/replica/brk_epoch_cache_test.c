/*
 * brk_epoch_cache_test.c - the leader-epoch cache against Kafka's
 * LeaderEpochFileCache semantics (assign, endOffsetFor with its UNDEFINED
 * cases, truncation from both ends), the leader's diverging-epoch check,
 * the follower's truncation decision in the KIP-101 / KIP-279 scenarios,
 * and the leader-epoch-checkpoint text.
 */
#include <check.h>
#include <string.h>

#include "broker/replica/brk_epoch_cache.h"

static struct brk_epoch_cache c;

static void setup(void)
{
    brk_epoch_cache_init(&c);
}

static void teardown(void)
{
    brk_epoch_cache_deinit(&c);
}

static void put(int32_t epoch, int64_t start)
{
    ck_assert_int_eq(brk_epoch_cache_assign(&c, epoch, start, NULL), 0);
}

static void end_for(int32_t req, int64_t leo, int32_t want_epoch, int64_t want_end)
{
    int32_t e;
    int64_t o;
    brk_epoch_cache_end_offset_for(&c, req, leo, &e, &o);
    ck_assert_int_eq(e, want_epoch);
    ck_assert_int_eq(o, want_end);
}

START_TEST(assign_is_monotonic)
{
    bool changed;
    ck_assert_int_eq(brk_epoch_cache_assign(&c, 2, 6, &changed), 0);
    ck_assert(changed);
    ck_assert_int_eq(brk_epoch_cache_assign(&c, 2, 7, &changed), 0); /* same epoch, later: no change */
    ck_assert(!changed);
    put(3, 8);
    put(4, 11);
    ck_assert_int_eq(c.count, 3);
    /* an older epoch at a later offset cuts everything >= that epoch */
    ck_assert_int_eq(brk_epoch_cache_assign(&c, 3, 12, &changed), 0);
    ck_assert(changed);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.entries[1].epoch, 3);
    ck_assert_int_eq(c.entries[1].start_offset, 12);
    /* a newer epoch at an earlier offset cuts entries starting at or after it */
    put(5, 7);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.entries[0].epoch, 2);
    ck_assert_int_eq(c.entries[1].epoch, 5);
    ck_assert_int_eq(c.entries[1].start_offset, 7);
    ck_assert_int_eq(brk_epoch_cache_assign(&c, -1, 3, NULL), ERR_INVALID);
    ck_assert_int_eq(brk_epoch_cache_assign(&c, 3, -1, NULL), ERR_INVALID);
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&c), 5);
    ck_assert_int_eq(brk_epoch_cache_epoch_for_offset(&c, 6), 2);
    ck_assert_int_eq(brk_epoch_cache_epoch_for_offset(&c, 7), 5);
    ck_assert_int_eq(brk_epoch_cache_epoch_for_offset(&c, 5), BRK_EPOCH_UNDEFINED);
}
END_TEST

/* The cases of Kafka's LeaderEpochFileCacheTest for endOffsetFor. */
START_TEST(end_offset_for_matches_kafka)
{
    end_for(0, 0, BRK_EPOCH_UNDEFINED, BRK_EPOCH_OFFSET_UNDEFINED); /* empty cache */
    put(2, 6);
    put(4, 11);
    put(6, 20);
    end_for(BRK_EPOCH_UNDEFINED, 30, BRK_EPOCH_UNDEFINED, BRK_EPOCH_OFFSET_UNDEFINED);
    end_for(6, 30, 6, 30);  /* latest epoch: the log end */
    end_for(4, 30, 4, 20);  /* a known epoch: the next one's start */
    end_for(5, 30, 4, 20);  /* unknown, between: the largest smaller epoch and the next start */
    end_for(3, 30, 2, 11);
    end_for(1, 30, 1, 6);   /* smaller than every epoch: first start, the requested epoch */
    end_for(7, 30, BRK_EPOCH_UNDEFINED, BRK_EPOCH_OFFSET_UNDEFINED); /* larger than every epoch */
}
END_TEST

START_TEST(truncate_both_ends)
{
    put(2, 6);
    put(3, 8);
    put(4, 11);
    bool changed;
    brk_epoch_cache_truncate_from_end(&c, 12, &changed); /* nothing starts at or after 12 */
    ck_assert(!changed);
    brk_epoch_cache_truncate_from_end(&c, 11, &changed);
    ck_assert(changed);
    ck_assert_int_eq(c.count, 2);
    brk_epoch_cache_truncate_from_end(&c, -1, &changed);
    ck_assert(!changed);
    put(4, 11);
    brk_epoch_cache_truncate_from_start(&c, 9, &changed); /* exclusive: epoch 3 now starts at 9 */
    ck_assert(changed);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.entries[0].epoch, 3);
    ck_assert_int_eq(c.entries[0].start_offset, 9);
    brk_epoch_cache_truncate_from_start(&c, 11, &changed); /* retains an entry at 11 */
    ck_assert_int_eq(c.count, 1);
    ck_assert_int_eq(c.entries[0].epoch, 4);
    ck_assert_int_eq(c.entries[0].start_offset, 11);
    brk_epoch_cache_truncate_from_start(&c, 5, &changed);
    ck_assert(!changed);
}
END_TEST

START_TEST(leader_diverging_check)
{
    put(1, 0);
    put(3, 10);
    put(5, 15);
    int32_t e;
    int64_t o;
    /* follower at 15 with last epoch 3: matches (epoch 3 ends at 15) */
    ck_assert(!brk_epoch_cache_diverging(&c, 20, 15, 3, &e, &o));
    /* follower at 18 with last epoch 3: epoch 3 ended at 15 here */
    ck_assert(brk_epoch_cache_diverging(&c, 20, 18, 3, &e, &o));
    ck_assert_int_eq(e, 3);
    ck_assert_int_eq(o, 15);
    /* follower wrote in epoch 2, which we never had */
    ck_assert(brk_epoch_cache_diverging(&c, 20, 12, 2, &e, &o));
    ck_assert_int_eq(e, 1);
    ck_assert_int_eq(o, 10);
    /* follower ahead of us in our own epoch */
    ck_assert(brk_epoch_cache_diverging(&c, 20, 25, 5, &e, &o));
    ck_assert_int_eq(e, 5);
    ck_assert_int_eq(o, 20);
    ck_assert(!brk_epoch_cache_diverging(&c, 20, 20, 5, &e, &o));
    ck_assert(!brk_epoch_cache_diverging(&c, 20, 3, BRK_EPOCH_UNDEFINED, &e, &o));
}
END_TEST

/*
 * KIP-101 scenario 1 (HW-based truncation lost an acked write): A leads
 * epoch 0 with m0 m1, B has both but its HW is 1.  B restarts, A dies, B
 * leads epoch 1.  With HW truncation B would cut m1.  Epoch-based: B, as
 * leader, keeps m1; when A returns it asks about epoch 0 and B answers
 * (0, 2): nothing to cut.
 */
START_TEST(kip101_scenario_1_keeps_acked)
{
    /* A's cache as a follower of B (epoch 1): A has m0 m1 of epoch 0 */
    put(0, 0);
    struct brk_epoch_truncation t;
    brk_epoch_cache_truncation(&c, 2, 2, 0, 2, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 2);
    ck_assert(!t.below_hw);
}
END_TEST

/*
 * KIP-101 scenario 2 (divergence): A (epoch 0) has m0 m1, B has m0 (HW 1).
 * Both crash; B comes back first, leads epoch 1, writes m2 at offset 1.  A
 * returns as follower: leader B answers epoch 0 ends at 1, so A cuts m1
 * and fetches m2 - the logs agree again.
 */
START_TEST(kip101_scenario_2_truncates_at_divergence)
{
    put(0, 0);
    struct brk_epoch_truncation t;
    brk_epoch_cache_truncation(&c, 2, 1, 0, 1, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 1);
    ck_assert(!t.below_hw);
}
END_TEST

/*
 * KIP-279: the follower has epochs the leader never saw.  Follower: epoch 1
 * at 0, epoch 2 at 5 (written as a short-lived leader), epoch 4 at 8.
 * Leader: epoch 1 at 0, epoch 3 at 6.  The follower asks for 4; the leader
 * answers (3, 12) - the follower has no epoch 3: cut to the end of its
 * epoch 2 (8) and ask again with 2; the leader answers (1, 6); the follower
 * knows epoch 1, which it ends at 5: cut to 5, done.
 */
START_TEST(kip279_rounds)
{
    put(1, 0);
    put(2, 5);
    put(4, 8);
    struct brk_epoch_truncation t;
    brk_epoch_cache_truncation(&c, 10, 3, 3, 12, &t);
    ck_assert(!t.done);
    ck_assert_int_eq(t.offset, 8);
    brk_epoch_cache_truncate_from_end(&c, t.offset, NULL);
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&c), 2);

    struct brk_epoch_cache leader;
    brk_epoch_cache_init(&leader);
    ck_assert_int_eq(brk_epoch_cache_assign(&leader, 1, 0, NULL), 0);
    ck_assert_int_eq(brk_epoch_cache_assign(&leader, 3, 6, NULL), 0);
    int32_t e;
    int64_t o;
    ck_assert(brk_epoch_cache_diverging(&leader, 12, 8, 2, &e, &o));
    ck_assert_int_eq(e, 1);
    ck_assert_int_eq(o, 6);
    brk_epoch_cache_deinit(&leader);

    brk_epoch_cache_truncation(&c, 8, 3, e, o, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 5);
    ck_assert(!t.below_hw);
}
END_TEST

START_TEST(truncation_undefined_cases)
{
    put(2, 4);
    struct brk_epoch_truncation t;
    /* leader knows no end: keep up to our high watermark */
    brk_epoch_cache_truncation(&c, 9, 6, BRK_EPOCH_UNDEFINED, BRK_EPOCH_OFFSET_UNDEFINED, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 6);
    /* leader gives no epoch: min(leader end, our end) */
    brk_epoch_cache_truncation(&c, 9, 6, BRK_EPOCH_UNDEFINED, 7, &t);
    ck_assert_int_eq(t.offset, 7);
    /* an answer below our HW (only after an unclean election) is reported */
    brk_epoch_cache_truncation(&c, 9, 6, 2, 5, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 5);
    ck_assert(t.below_hw);
    /* an epoch older than all of ours: its end, as the leader said */
    brk_epoch_cache_truncation(&c, 9, 0, 1, 3, &t);
    ck_assert(t.done);
    ck_assert_int_eq(t.offset, 3);
}
END_TEST

START_TEST(checkpoint_round_trip)
{
    put(0, 0);
    put(3, 1200);
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(brk_epoch_cache_encode(&c, &b), 0);
    ck_assert_uint_eq(b.len, strlen("0\n2\n0 0\n3 1200\n"));
    ck_assert(memcmp(b.ptr, "0\n2\n0 0\n3 1200\n", b.len) == 0);
    struct brk_epoch_cache d;
    brk_epoch_cache_init(&d);
    ck_assert_int_eq(brk_epoch_cache_decode(&d, buf_bytes(&b), NULL), 0);
    ck_assert_int_eq(d.count, 2);
    ck_assert_int_eq(d.entries[1].epoch, 3);
    ck_assert_int_eq(d.entries[1].start_offset, 1200);
    brk_epoch_cache_deinit(&d);
    buf_deinit(&b);
    /* empty */
    brk_epoch_cache_init(&d);
    ck_assert_int_eq(brk_epoch_cache_decode(&d, bytes_cstr("0\n0\n"), NULL), 0);
    ck_assert_int_eq(d.count, 0);
    brk_epoch_cache_deinit(&d);
}
END_TEST

START_TEST(checkpoint_strict)
{
    static const struct {
        const char *text;
        int line;
    } bad[] = {
        { "1\n0\n", 1 },          { "0\n1\n", 3 },        { "0\n1\n0 0", 3 },       { "0\n1\n0  0\n", 3 },
        { "0\n1\n-1 0\n", 3 },    { "0\n1\n0 -5\n", 3 },  { "0\n2\n3 9\n2 10\n", 4 }, { "0\n2\n2 9\n3 9\n", 4 },
        { "0\n1\n0 0\nx\n", 4 }, { "0\n1\n0 0x1\n", 3 }, { "", 1 },
    };
    put(7, 70);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int line = 0;
        ck_assert_int_eq(brk_epoch_cache_decode(&c, bytes_cstr(bad[i].text), &line), ERR_CORRUPT);
        ck_assert_int_eq(line, bad[i].line);
        ck_assert_int_eq(c.count, 1); /* unchanged */
    }
    ck_assert_int_eq(brk_epoch_cache_decode(&c, bytes_cstr("0\n99999999\n"), NULL), ERR_LIMIT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_epoch_cache");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, assign_is_monotonic);
    tcase_add_test(t, end_offset_for_matches_kafka);
    tcase_add_test(t, truncate_both_ends);
    tcase_add_test(t, leader_diverging_check);
    tcase_add_test(t, kip101_scenario_1_keeps_acked);
    tcase_add_test(t, kip101_scenario_2_truncates_at_divergence);
    tcase_add_test(t, kip279_rounds);
    tcase_add_test(t, truncation_undefined_cases);
    tcase_add_test(t, checkpoint_round_trip);
    tcase_add_test(t, checkpoint_strict);
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
