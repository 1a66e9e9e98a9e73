/*
 * brk_lifecycle_test.c - the start-up gate for partition roles: none before
 * the registration is committed and the image has reached it, then once.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_lifecycle.h"

static const uint8_t ours[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t previous[16] = { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };

/* A restart: the replayed image shows the previous incarnation (its
 * leaderships); nothing starts on it, nor on the committed registration
 * alone; the image reaching our registration starts the roles, once. */
START_TEST(test_restart_waits_for_registration_in_image)
{
    struct brk_lifecycle lc;
    brk_lifecycle_init(&lc, ours);
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(brk_lifecycle_image(&lc, previous, 7), BRK_LIFECYCLE_NONE);
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(lc.state, BRK_LIFECYCLE_STARTING);
    ck_assert_int_eq(brk_lifecycle_registered(&lc, 8), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(lc.state, BRK_LIFECYCLE_RECOVERY);
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(brk_lifecycle_image(&lc, previous, 7), BRK_LIFECYCLE_NONE); /* still the old one */
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 8), BRK_LIFECYCLE_START);
    ck_assert(brk_lifecycle_roles(&lc));
    ck_assert_str_eq(brk_lifecycle_state_name(lc.state), "RUNNING");
    /* later changes never start them again */
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 8), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(brk_lifecycle_registered(&lc, 9), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 9), BRK_LIFECYCLE_NONE);
    ck_assert(brk_lifecycle_roles(&lc));
}
END_TEST

/* The local image may apply the registration before the controller's answer
 * arrives: the roles wait for the answer (its epoch goes in fetches). */
START_TEST(test_image_before_reply)
{
    struct brk_lifecycle lc;
    brk_lifecycle_init(&lc, ours);
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 3), BRK_LIFECYCLE_NONE);
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(brk_lifecycle_registered(&lc, 3), BRK_LIFECYCLE_START);
    ck_assert(brk_lifecycle_roles(&lc));
}
END_TEST

/* A registration answered with a newer epoch than the image shows (a retry
 * whose first copy committed too): wait for the image to reach that one. */
START_TEST(test_image_behind_registered_epoch)
{
    struct brk_lifecycle lc;
    brk_lifecycle_init(&lc, ours);
    ck_assert_int_eq(brk_lifecycle_registered(&lc, 5), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 4), BRK_LIFECYCLE_NONE);
    ck_assert(!brk_lifecycle_roles(&lc));
    ck_assert_int_eq(brk_lifecycle_image(&lc, NULL, -1), BRK_LIFECYCLE_NONE); /* a snapshot without us */
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 5), BRK_LIFECYCLE_START);
}
END_TEST

/* A first start (no previous registration in the image) is the same gate. */
START_TEST(test_first_start)
{
    struct brk_lifecycle lc;
    brk_lifecycle_init(&lc, ours);
    ck_assert_int_eq(brk_lifecycle_image(&lc, NULL, -1), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(brk_lifecycle_registered(&lc, 1), BRK_LIFECYCLE_NONE);
    ck_assert_int_eq(brk_lifecycle_image(&lc, ours, 1), BRK_LIFECYCLE_START);
}
END_TEST

static Suite *brk_lifecycle_suite(void)
{
    Suite *s = suite_create("brk_lifecycle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_restart_waits_for_registration_in_image);
    tcase_add_test(tc, test_image_before_reply);
    tcase_add_test(tc, test_image_behind_registered_epoch);
    tcase_add_test(tc, test_first_start);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(brk_lifecycle_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
