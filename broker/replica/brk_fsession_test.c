/*
 * brk_fsession_test.c - the leader's fetch session cache (KIP-227): a full
 * request creates a session, incremental requests add, update and forget
 * partitions, a wrong epoch is INVALID_FETCH_SESSION_EPOCH, an unknown id
 * FETCH_SESSION_ID_NOT_FOUND, epoch -1 closes, the epoch wraps to 1, an
 * answer carries only partitions with news, and eviction when the slots
 * are full (idle sessions first, consumers for a follower, else none).
 */
#include <check.h>
#include <limits.h>
#include <string.h>

#include "broker/replica/brk_fsession.h"

#define SEC 1000000000LL

static const uint8_t T1[16] = { 1 };
static const uint8_t T2[16] = { 2 };

static struct brk_fsession_part part(const uint8_t *tid, int32_t partition, int64_t offset)
{
    struct brk_fsession_part p;
    memset(&p, 0, sizeof p);
    memcpy(p.topic_id, tid, 16);
    p.partition = partition;
    p.fetch_offset = offset;
    p.current_leader_epoch = 3;
    p.last_fetched_epoch = -1;
    p.log_start_offset = 0;
    p.partition_max_bytes = 1 << 20;
    return p;
}

START_TEST(create_then_incremental_add_update_forget)
{
    struct brk_fsession_cache c;
    ck_assert_int_eq(brk_fsession_cache_init(&c, 4, 7), 0);
    struct brk_fsession *s = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, true, 0, &s), 0);
    ck_assert_ptr_nonnull(s);
    int32_t id = s->id;
    ck_assert_int_ne(id, 0);
    ck_assert_int_eq(s->epoch, 1);
    struct brk_fsession_part a = part(T1, 0, 10), b = part(T2, 1, 20);
    ck_assert_int_eq(brk_fsession_part_set(s, &a), 0);
    ck_assert_int_eq(brk_fsession_part_set(s, &b), 0);
    /* the first answer carries both */
    ck_assert(brk_fsession_part_news(brk_fsession_part_find(s, T1, 0), 10, 0, false));
    ck_assert(brk_fsession_part_news(brk_fsession_part_find(s, T2, 1), 20, 0, false));

    /* epoch 1: T1/0 moved on; T2/1 not named keeps its offset */
    struct brk_fsession *s1 = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, id, 1, true, SEC, &s1), 0);
    ck_assert_ptr_eq(s1, s);
    ck_assert_int_eq(s->epoch, 2);
    a.fetch_offset = 15;
    ck_assert_int_eq(brk_fsession_part_set(s, &a), 0);
    ck_assert_int_eq(s->part_count, 2);
    ck_assert_int_eq(brk_fsession_part_find(s, T1, 0)->fetch_offset, 15);
    ck_assert_int_eq(brk_fsession_part_find(s, T2, 1)->fetch_offset, 20);
    /* an update keeps what the last answer carried: nothing new, left out */
    ck_assert(!brk_fsession_part_news(brk_fsession_part_find(s, T1, 0), 10, 0, false));
    ck_assert(brk_fsession_part_news(brk_fsession_part_find(s, T1, 0), 10, 0, true));  /* records */
    ck_assert(brk_fsession_part_news(brk_fsession_part_find(s, T2, 1), 21, 0, false)); /* HW moved */
    ck_assert(brk_fsession_part_news(brk_fsession_part_find(s, T2, 1), 21, 5, false)); /* log start */
    ck_assert(!brk_fsession_part_news(brk_fsession_part_find(s, T2, 1), 21, 5, false));

    /* forgotten */
    brk_fsession_part_forget(s, T1, 0);
    ck_assert_ptr_null(brk_fsession_part_find(s, T1, 0));
    ck_assert_int_eq(s->part_count, 1);
    brk_fsession_part_forget(s, T1, 0); /* twice: nothing */
    ck_assert_int_eq(s->part_count, 1);
    brk_fsession_cache_deinit(&c);
}
END_TEST

START_TEST(epoch_mismatch_unknown_id_and_close)
{
    struct brk_fsession_cache c;
    ck_assert_int_eq(brk_fsession_cache_init(&c, 2, 1), 0);
    struct brk_fsession *s = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, false, 0, &s), 0);
    int32_t id = s->id;
    struct brk_fsession *x = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, id, 2, false, 0, &x), BRK_FSESSION_KERR_INVALID_EPOCH);
    ck_assert_ptr_null(x);
    ck_assert_int_eq(s->epoch, 1); /* a refused request does not move the epoch */
    ck_assert_int_eq(brk_fsession_open(&c, id + 1, 1, false, 0, &x), BRK_FSESSION_KERR_ID_NOT_FOUND);
    ck_assert_int_eq(brk_fsession_open(&c, 0, 1, false, 0, &x), BRK_FSESSION_KERR_ID_NOT_FOUND);
    /* the epoch wraps to 1, never 0 or -1 */
    s->epoch = INT32_MAX;
    ck_assert_int_eq(brk_fsession_open(&c, id, INT32_MAX, false, 0, &x), 0);
    ck_assert_int_eq(s->epoch, 1);
    /* epoch -1 closes: sessionless, and the id is gone */
    ck_assert_int_eq(brk_fsession_open(&c, id, -1, false, 0, &x), 0);
    ck_assert_ptr_null(x);
    ck_assert_ptr_null(brk_fsession_find(&c, id));
    ck_assert_int_eq(brk_fsession_open(&c, id, 1, false, 0, &x), BRK_FSESSION_KERR_ID_NOT_FOUND);
    /* epoch 0 with an id: that one closed, a new one opened */
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, false, 0, &s), 0);
    id = s->id;
    ck_assert_int_eq(brk_fsession_open(&c, id, 0, false, 0, &x), 0);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_ne(x->id, id);
    ck_assert_ptr_null(brk_fsession_find(&c, id));
    ck_assert_int_eq(brk_fsession_count(&c), 1);
    brk_fsession_cache_deinit(&c);
}
END_TEST

START_TEST(eviction)
{
    struct brk_fsession_cache c;
    ck_assert_int_eq(brk_fsession_cache_init(&c, 2, 3), 0);
    struct brk_fsession *a = NULL, *b = NULL, *n = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, false, 0, &a), 0); /* a consumer's */
    int32_t ida = a->id;
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, true, 1, &b), 0); /* a follower's */
    int32_t idb = b->id;
    ck_assert_int_eq(brk_fsession_count(&c), 2);
    /* full, nothing idle: a consumer gets no session */
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, false, 2, &n), 0);
    ck_assert_ptr_null(n);
    /* a follower evicts the consumer's */
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, true, 3, &n), 0);
    ck_assert_ptr_nonnull(n);
    ck_assert_ptr_null(brk_fsession_find(&c, ida));
    ck_assert_ptr_nonnull(brk_fsession_find(&c, idb));
    struct brk_fsession *x = NULL;
    ck_assert_int_eq(brk_fsession_open(&c, ida, 1, false, 3, &x), BRK_FSESSION_KERR_ID_NOT_FOUND);
    /* two followers, none idle: a third follower gets none */
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, true, 4, &x), 0);
    ck_assert_ptr_null(x);
    /* idle past the eviction time: the least recently used goes */
    ck_assert_int_eq(brk_fsession_open(&c, idb, 1, true, 10 * SEC, &x), 0); /* b used at 10 s */
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, false, 3 + BRK_FSESSION_EVICT_IDLE_NS, &x), 0);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(brk_fsession_find(&c, idb));
    /* no slots at all: always sessionless */
    brk_fsession_cache_deinit(&c);
    ck_assert_int_eq(brk_fsession_cache_init(&c, 0, 3), 0);
    ck_assert_int_eq(brk_fsession_open(&c, 0, 0, true, 0, &x), 0);
    ck_assert_ptr_null(x);
    brk_fsession_cache_deinit(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_fsession");
    TCase *t = tcase_create("core");
    tcase_add_test(t, create_then_incremental_add_update_forget);
    tcase_add_test(t, epoch_mismatch_unknown_id_and_close);
    tcase_add_test(t, eviction);
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
