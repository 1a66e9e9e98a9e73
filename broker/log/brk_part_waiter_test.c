/*
 * brk_part_waiter_test.c - partition waiters: every waiter linked when a
 * notification starts hears it once, in order (newest first), whatever the
 * wake functions unlink or park meanwhile; an owner linked twice sees the
 * same round twice; unlinking is idempotent.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_part.h"
#include "common/log.h"

#define W_MAX 16

struct owner {
    int id;
    int calls;
    uint64_t last_round;
    enum brk_part_event last_ev;
    struct brk_part_waiter *unlink_on_wake[W_MAX]; /* waiters this owner unlinks when woken */
    int unlink_count;
    struct brk_part_waiter *park_on_wake;          /* a waiter this owner parks when woken */
};

static int order[64];
static int order_len;

static void wake(struct brk_part_waiter *w, enum brk_part_event ev, uint64_t round)
{
    struct owner *o = w->owner;
    o->calls++;
    o->last_round = round;
    o->last_ev = ev;
    order[order_len++] = o->id;
    for (int i = 0; i < o->unlink_count; i++)
        brk_part_unwait(o->unlink_on_wake[i]);
    if (o->park_on_wake) {
        brk_part_wait(w->part, o->park_on_wake, o, wake);
        o->park_on_wake = NULL;
    }
}

static struct brk_part *part_new(void)
{
    struct brk_part *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_each_once_newest_first)
{
    struct brk_part *p = part_new();
    struct owner o[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
    struct brk_part_waiter w[3];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 3; i++)
        brk_part_wait(p, &w[i], &o[i], wake);
    order_len = 0;
    brk_part_notify(p, BRK_PART_APPENDED);
    ck_assert_int_eq(order_len, 3);
    ck_assert_int_eq(order[0], 2);
    ck_assert_int_eq(order[1], 1);
    ck_assert_int_eq(order[2], 0);
    ck_assert_int_eq(o[0].last_ev, BRK_PART_APPENDED);
    ck_assert(o[0].last_round == o[2].last_round);
    /* still linked: the next notification reaches them again, new round */
    uint64_t r1 = o[0].last_round;
    brk_part_notify(p, BRK_PART_CHANGED);
    ck_assert_int_eq(o[1].calls, 2);
    ck_assert(o[1].last_round > r1);
    ck_assert_int_eq(o[1].last_ev, BRK_PART_CHANGED);
    for (int i = 0; i < 3; i++) {
        brk_part_unwait(&w[i]);
        brk_part_unwait(&w[i]); /* twice is harmless */
    }
    ck_assert_ptr_null(p->waiters);
    free(p);
}
END_TEST

/* A wake function that unlinks the next waiters (its own other waiter, and
 * another owner's) must not make the walk touch them. */
START_TEST(test_unlink_during_notify)
{
    struct brk_part *p = part_new();
    struct owner o[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 }, { .id = 3 } };
    struct brk_part_waiter w[4];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++)
        brk_part_wait(p, &w[i], &o[i], wake);
    /* newest first: 3, 2, 1, 0; owner 3 unlinks 2 and 0, owner 1 unlinks itself */
    o[3].unlink_on_wake[o[3].unlink_count++] = &w[2];
    o[3].unlink_on_wake[o[3].unlink_count++] = &w[0];
    o[1].unlink_on_wake[o[1].unlink_count++] = &w[1];
    order_len = 0;
    brk_part_notify(p, BRK_PART_APPENDED);
    ck_assert_int_eq(order_len, 2);
    ck_assert_int_eq(order[0], 3);
    ck_assert_int_eq(order[1], 1);
    ck_assert_int_eq(o[0].calls + o[2].calls, 0);
    ck_assert_ptr_eq(p->waiters, &w[3]);
    ck_assert_ptr_null(w[3].next);
    ck_assert_ptr_null(p->notify_next);
    ck_assert(!p->notifying);
    brk_part_unwait(&w[3]);
    free(p);
}
END_TEST

/* A waiter parked during a notification hears the next one, not this one. */
START_TEST(test_park_during_notify)
{
    struct brk_part *p = part_new();
    struct owner a = { .id = 0 };
    struct brk_part_waiter wa, wb;
    memset(&wa, 0, sizeof wa);
    memset(&wb, 0, sizeof wb);
    brk_part_wait(p, &wa, &a, wake);
    wb.part = NULL;
    a.park_on_wake = &wb;
    order_len = 0;
    brk_part_notify(p, BRK_PART_APPENDED);
    ck_assert_int_eq(order_len, 1);
    ck_assert_ptr_eq(wb.part, p);
    ck_assert_int_eq(a.calls, 1); /* wb belongs to a too, but was not visited */
    brk_part_notify(p, BRK_PART_APPENDED);
    ck_assert_int_eq(a.calls, 3); /* wa and wb: the same round twice */
    brk_part_unwait(&wa);
    brk_part_unwait(&wb);
    free(p);
}
END_TEST

int main(void)
{
    log_set_level(LOG_OFF);
    Suite *s = suite_create("brk_part_waiter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_each_once_newest_first);
    tcase_add_test(tc, test_unlink_during_notify);
    tcase_add_test(tc, test_park_during_notify);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
