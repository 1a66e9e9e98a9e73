/*
 * brk_rthrottle_test.c - the throttled-replicas lists of
 * leader/follower.replication.throttled.replicas as Kafka writes and reads
 * them (ReplicationQuotaManager's parseThrottledPartitions): "*", comma
 * lists of partition:broker with spaces, and entries that name nothing.
 * The quotas themselves are brk_quota_test's; the fetch paths are shown by
 * test/integration/replication_throttle_test.py.
 */
#include <check.h>

#include "broker/replica/brk_rthrottle.h"

START_TEST(test_listed)
{
    ck_assert(!brk_rthrottle_listed(NULL, 0, 1));
    ck_assert(!brk_rthrottle_listed("", 0, 1));
    ck_assert(brk_rthrottle_listed("*", 7, 3));
    ck_assert(brk_rthrottle_listed(" * ", 7, 3));
    ck_assert(brk_rthrottle_listed("0:1,0:2", 0, 2));
    ck_assert(brk_rthrottle_listed("0:1,0:2", 0, 1));
    ck_assert(!brk_rthrottle_listed("0:1,0:2", 0, 3));
    ck_assert(!brk_rthrottle_listed("0:1,0:2", 1, 1));
    ck_assert(brk_rthrottle_listed("0:1, 12:3 ,4:5", 12, 3));
    ck_assert(brk_rthrottle_listed("0:1,12:3,4:5", 4, 5));
    ck_assert(!brk_rthrottle_listed("12:3", 1, 3));   /* no prefix matches */
    ck_assert(!brk_rthrottle_listed("1:32", 1, 3));
    ck_assert(!brk_rthrottle_listed("x:1,1", 1, 1));  /* malformed entries name nothing */
    ck_assert(brk_rthrottle_listed("x:1,,1:1", 1, 1)); /* ... and do not hide the others */
    ck_assert(!brk_rthrottle_listed("99999999999:1", -1, 1));
    ck_assert(!brk_rthrottle_listed("1:", 1, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("brk_rthrottle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_listed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
