/*
 * brk_pstate_test.c - producer state rules (KIP-98/360 as Kafka 3.x applies
 * them): in-sequence appends, duplicates of each of the last five batches
 * answered with their original offsets, gaps, stale and new epochs,
 * unknown producers, sequence wrap, forgetting a failed append, expiry,
 * and snapshot bytes round-tripping (and refused when damaged).
 */
#include <check.h>
#include <string.h>

#include "broker/log/brk_pstate.h"

static struct brk_pstate *ps;
static int64_t next_offset;

static void setup(void)
{
    ck_assert_int_eq(brk_pstate_create(&ps), 0);
    next_offset = 0;
}

static void teardown(void)
{
    brk_pstate_destroy(ps);
}

static struct brk_pstate_batch batch(int64_t pid, int16_t epoch, int32_t seq, int32_t count)
{
    return (struct brk_pstate_batch){ .producer_id = pid, .producer_epoch = epoch, .first_seq = seq,
                                      .last_seq = brk_pstate_seq_add(seq, count - 1), .first_offset = -1,
                                      .last_offset = -1, .max_timestamp_ms = 1000 };
}

/* The leader's path: check, then (on APPEND) assign offsets and observe. */
static int produce(int64_t pid, int16_t epoch, int32_t seq, int32_t count, struct brk_pstate_meta *dup)
{
    struct brk_pstate_batch b = batch(pid, epoch, seq, count);
    int rc = brk_pstate_check(ps, &b, dup);
    if (rc != BRK_PSTATE_APPEND)
        return rc;
    b.first_offset = next_offset;
    b.last_offset = next_offset + count - 1;
    next_offset += count;
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    return rc;
}

START_TEST(in_sequence_then_duplicates_get_original_offsets)
{
    struct brk_pstate_meta dup;
    for (int32_t i = 0; i < 7; i++)
        ck_assert_int_eq(produce(7, 0, i * 10, 10, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(next_offset, 70);
    /* the last five (seq 20..69) are duplicates with their offsets */
    for (int32_t i = 2; i < 7; i++) {
        ck_assert_int_eq(produce(7, 0, i * 10, 10, &dup), BRK_PSTATE_DUPLICATE);
        ck_assert_int_eq(dup.first_offset, i * 10);
        ck_assert_int_eq(dup.last_offset, i * 10 + 9);
    }
    ck_assert_int_eq(next_offset, 70); /* nothing appended */
    /* older than the five cached: out of sequence, as in Kafka */
    ck_assert_int_eq(produce(7, 0, 10, 10, &dup), ERR_OUT_OF_SEQUENCE);
    /* same first sequence, different length: not a duplicate */
    ck_assert_int_eq(produce(7, 0, 60, 5, &dup), ERR_OUT_OF_SEQUENCE);
}
END_TEST

START_TEST(gap_is_out_of_order)
{
    struct brk_pstate_meta dup;
    ck_assert_int_eq(produce(1, 0, 0, 5, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(1, 0, 6, 1, &dup), ERR_OUT_OF_SEQUENCE);
    ck_assert_int_eq(produce(1, 0, 5, 1, &dup), BRK_PSTATE_APPEND);
    /* another producer is independent */
    ck_assert_int_eq(produce(2, 0, 0, 1, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(brk_pstate_count(ps), 2);
}
END_TEST

START_TEST(epochs)
{
    struct brk_pstate_meta dup;
    ck_assert_int_eq(produce(1, 3, 0, 5, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(1, 2, 5, 1, &dup), ERR_PRODUCER_EPOCH);
    /* a new epoch must start at 0 (the producer is known) */
    ck_assert_int_eq(produce(1, 4, 5, 1, &dup), ERR_OUT_OF_SEQUENCE);
    ck_assert_int_eq(produce(1, 4, 0, 2, &dup), BRK_PSTATE_APPEND);
    /* the bump reset the cached batches: the old epoch's are gone */
    const struct brk_pstate_entry *e = brk_pstate_find(ps, 1);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->producer_epoch, 4);
    ck_assert_int_eq(e->batch_count, 1);
    ck_assert_int_eq(produce(1, 3, 0, 5, &dup), ERR_PRODUCER_EPOCH);
    ck_assert_int_eq(produce(1, 4, 2, 1, &dup), BRK_PSTATE_APPEND);
}
END_TEST

START_TEST(unknown_producer_any_sequence)
{
    struct brk_pstate_meta dup;
    /* KIP-360 / Kafka 3.x: no state (expired, or removed with the log head) */
    ck_assert_int_eq(produce(9, 0, 42, 3, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(9, 0, 45, 1, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(9, 0, 47, 1, &dup), ERR_OUT_OF_SEQUENCE);
}
END_TEST

START_TEST(sequence_wraps)
{
    struct brk_pstate_meta dup;
    ck_assert_int_eq(brk_pstate_seq_add(INT32_MAX, 1), 0);
    ck_assert_int_eq(brk_pstate_seq_add(INT32_MAX - 1, 3), 1);
    ck_assert_int_eq(produce(1, 0, INT32_MAX - 1, 2, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(1, 0, 0, 4, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(1, 0, INT32_MAX - 1, 2, &dup), BRK_PSTATE_DUPLICATE);
    ck_assert_int_eq(produce(1, 0, 4, 1, &dup), BRK_PSTATE_APPEND);
}
END_TEST

START_TEST(forget_failed_append)
{
    struct brk_pstate_meta dup;
    ck_assert_int_eq(produce(1, 0, 0, 1, &dup), BRK_PSTATE_APPEND);  /* offset 0 */
    ck_assert_int_eq(produce(1, 0, 1, 1, &dup), BRK_PSTATE_APPEND);  /* offset 1: fails */
    ck_assert_int_eq(produce(1, 0, 2, 1, &dup), BRK_PSTATE_APPEND);  /* offset 2: fails too */
    brk_pstate_forget(ps, 1, 1);
    /* the retry of seq 1 is not a duplicate: it is appended again */
    next_offset = 1;
    ck_assert_int_eq(produce(1, 0, 1, 1, &dup), BRK_PSTATE_APPEND);
    ck_assert_int_eq(produce(1, 0, 0, 1, &dup), BRK_PSTATE_DUPLICATE);
    ck_assert_int_eq(dup.first_offset, 0);
}
END_TEST

START_TEST(observe_ignores_plain_and_control_batches)
{
    struct brk_pstate_batch b = { .producer_id = -1, .producer_epoch = -1, .first_seq = -1, .last_seq = -1 };
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    b = batch(5, 0, 0, 1);
    b.control = true;
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    ck_assert_int_eq(brk_pstate_count(ps), 0);
    /* an older epoch found later in the log changes nothing */
    b = batch(5, 2, 0, 1);
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    b = batch(5, 1, 7, 1);
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    ck_assert_int_eq(brk_pstate_find(ps, 5)->producer_epoch, 2);
    ck_assert_int_eq(brk_pstate_find(ps, 5)->batch_count, 1);
}
END_TEST

START_TEST(expiry)
{
    struct brk_pstate_batch b = batch(1, 0, 0, 1);
    b.max_timestamp_ms = 1000;
    ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    for (int64_t pid = 2; pid < 100; pid++) {
        b = batch(pid, 0, 0, 1);
        b.max_timestamp_ms = 5000;
        ck_assert_int_eq(brk_pstate_observe(ps, &b), 0);
    }
    ck_assert_int_eq(brk_pstate_expire(ps, 1999, 1000), 0);
    ck_assert_int_eq(brk_pstate_expire(ps, 2000, 1000), 1);
    ck_assert_ptr_null(brk_pstate_find(ps, 1));
    for (int64_t pid = 2; pid < 100; pid++)
        ck_assert_ptr_nonnull(brk_pstate_find(ps, pid));
    ck_assert_int_eq(brk_pstate_expire(ps, 6000, 1000), 98);
    ck_assert_int_eq(brk_pstate_count(ps), 0);
}
END_TEST

START_TEST(snapshot_round_trip_and_damage)
{
    struct brk_pstate_meta dup;
    for (int64_t pid = 0; pid < 50; pid++)
        for (int32_t s = 0; s < (int32_t)(pid % 8); s++)
            ck_assert_int_eq(produce(pid, (int16_t)(pid % 3), s * 2, 2, &dup), BRK_PSTATE_APPEND);
    struct buf b;
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(brk_pstate_encode(ps, &b), 0);
    struct brk_pstate *back;
    ck_assert_int_eq(brk_pstate_create(&back), 0);
    ck_assert_int_eq(brk_pstate_decode(back, buf_bytes(&b)), 0);
    ck_assert_int_eq(brk_pstate_count(back), brk_pstate_count(ps));
    for (int64_t pid = 1; pid < 50; pid++) {
        if (pid % 8 == 0)
            continue; /* no batch, no entry */
        const struct brk_pstate_entry *x = brk_pstate_find(ps, pid), *y = brk_pstate_find(back, pid);
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(memcmp(x, y, sizeof *x), 0);
    }
    /* a retried batch is still a duplicate in the reloaded state */
    struct brk_pstate_batch r = batch(49, 1, 0, 2);
    ck_assert_int_eq(brk_pstate_check(back, &r, &dup), BRK_PSTATE_DUPLICATE);
    /* every flipped byte is refused (CRC or version), leaving it empty */
    for (size_t i = 0; i < b.len; i += 7) {
        b.ptr[i] ^= 0x10;
        ck_assert_int_lt(brk_pstate_decode(back, buf_bytes(&b)), 0);
        ck_assert_int_eq(brk_pstate_count(back), 0);
        b.ptr[i] ^= 0x10;
    }
    /* truncated */
    ck_assert_int_eq(brk_pstate_decode(back, bytes_make(b.ptr, b.len - 1)), ERR_CORRUPT);
    ck_assert_int_eq(brk_pstate_decode(back, bytes_make(b.ptr, 3)), ERR_CORRUPT);
    brk_pstate_destroy(back);
    buf_deinit(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_pstate");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, in_sequence_then_duplicates_get_original_offsets);
    tcase_add_test(t, gap_is_out_of_order);
    tcase_add_test(t, epochs);
    tcase_add_test(t, unknown_producer_any_sequence);
    tcase_add_test(t, sequence_wraps);
    tcase_add_test(t, forget_failed_append);
    tcase_add_test(t, observe_ignores_plain_and_control_batches);
    tcase_add_test(t, expiry);
    tcase_add_test(t, snapshot_round_trip_and_damage);
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
