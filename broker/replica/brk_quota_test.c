/*
 * brk_quota_test.c - the replication throttle's rate limiter on a fake
 * clock: unlimited never holds, a sender that sends whenever the quota
 * allows keeps to the rate on average and within about one sample of
 * rate x window over every window, idle time does not bank more than the
 * window holds (after a long idle the burst is one sample's worth), the
 * delay a held sender is given is neither too short (no busy loop) nor
 * too long (the same throughput as polling every millisecond), a rate
 * change applies at once, and the reassignment of the integration test
 * (6 MB at 1 MB/s in 1 MB fetches) takes as long as the rate implies.
 */
#include <check.h>

#include "broker/replica/brk_quota.h"

#define MS 1000000LL
#define S (1000 * MS)
#define MB 1000000LL

static struct brk_quota q;

/* A sender with unlimited demand that sends chunk bytes whenever the quota
 * allows, asking every step_ns (or, step_ns 0, after the delay it is
 * given), from t0 for dur_ns.  sent_at[i] gets the bytes sent in
 * millisecond i since t0 (when not NULL).  Returns the bytes sent. */
static int64_t run(int64_t t0, int64_t dur_ns, int64_t chunk, int64_t step_ns, int64_t *sent_at, int64_t *polls)
{
    /* (check(3) in fork mode reports every assertion to its parent: the
     * loops count violations and assert once) */
    int64_t total = 0, n = 0, bad = 0;
    for (int64_t t = t0; t < t0 + dur_ns;) {
        n++;
        int64_t delay = brk_quota_delay_ns(&q, t);
        bad += (delay == 0) != !brk_quota_exceeded(&q, t);
        if (delay == 0) {
            brk_quota_record(&q, chunk, t);
            total += chunk;
            if (sent_at)
                sent_at[(t - t0) / MS] += chunk;
            t += step_ns ? step_ns : MS;
            continue;
        }
        bad += delay < BRK_QUOTA_DELAY_NS_MIN;
        t += step_ns ? step_ns : delay;
    }
    ck_assert_msg(bad == 0, "%lld polls where the delay disagreed with exceeded or was below the minimum",
                  (long long)bad);
    if (polls)
        *polls = n;
    return total;
}

START_TEST(test_unlimited_never_holds)
{
    brk_quota_init(&q, 11, S, BRK_QUOTA_UNLIMITED);
    ck_assert(brk_quota_unlimited(&q));
    int exceeded = 0;
    for (int i = 0; i < 1000; i++) {
        brk_quota_record(&q, 100 * MB, i * MS);
        exceeded += brk_quota_exceeded(&q, i * MS);
    }
    ck_assert_int_eq(exceeded, 0);
    ck_assert_int_eq(brk_quota_delay_ns(&q, 0), 0);
}
END_TEST

START_TEST(test_rate_kept_on_average)
{
    brk_quota_init(&q, 11, S, 1 * MB);
    int64_t sent = run(0, 60 * S, 100000, MS, NULL, NULL);
    /* 60 s at 1 MB/s, within one sample and one chunk */
    ck_assert_int_ge(sent, 60 * MB - 1 * MB);
    ck_assert_int_le(sent, 60 * MB + 1 * MB + 100000);
}
END_TEST

/* Over every window of 11 s (sliding by 1 ms) the bytes stay within one
 * sample of the rate, and never exceed the rate x (window + one sample) +
 * one chunk; whatever the chunk size. */
START_TEST(test_rate_never_exceeded_over_a_window)
{
    static int64_t sent_at[40000];
    const int64_t chunks[] = { 1000, 250000, 1 * MB, 3 * MB };
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        for (size_t i = 0; i < 40000; i++)
            sent_at[i] = 0;
        brk_quota_init(&q, 11, S, 1 * MB);
        run(0, 40 * S, chunks[c], MS, sent_at, NULL);
        int64_t in_window = 0, window_max = 0, in_second = 0, second_max = 0;
        for (int64_t i = 0; i < 40000; i++) {
            in_window += sent_at[i] - (i >= 11000 ? sent_at[i - 11000] : 0);
            in_second += sent_at[i] - (i >= 1000 ? sent_at[i - 1000] : 0);
            window_max = in_window > window_max ? in_window : window_max;
            second_max = in_second > second_max ? in_second : second_max;
        }
        ck_assert_msg(window_max <= 11 * MB + 1 * MB + chunks[c], "chunk %lld: %lld bytes in one 11 s window",
                      (long long)chunks[c], (long long)window_max);
        /* and over any one second, never more than two samples' worth plus a chunk */
        ck_assert_msg(second_max <= 2 * MB + chunks[c], "chunk %lld: %lld bytes in one second", (long long)chunks[c],
                      (long long)second_max);
    }
}
END_TEST

/* A long idle does not bank credit: after it the burst is one sample's
 * worth (plus the chunk that found the quota just under). */
START_TEST(test_idle_does_not_bank)
{
    brk_quota_init(&q, 11, S, 1 * MB);
    int64_t t = 0;
    run(t, 20 * S, 100000, MS, NULL, NULL);
    t += 20 * S + 100 * S; /* idle for 100 s */
    int64_t burst = run(t, 500 * MS, 100000, MS, NULL, NULL);
    ck_assert_int_le(burst, 1 * MB + 100000);
    ck_assert_int_ge(burst, 1 * MB);
    /* idle within the window: the credit is bounded by the window (11 s x 1 MB/s) */
    brk_quota_init(&q, 11, S, 1 * MB);
    brk_quota_record(&q, 1, 0);
    burst = run(9 * S, 500 * MS, 100000, MS, NULL, NULL);
    ck_assert_int_le(burst, 11 * MB);
}
END_TEST

/* Polling at the delay it is given sends as much as polling every ms, in
 * far fewer polls, and the delay is never below the minimum. */
START_TEST(test_delay_neither_short_nor_long)
{
    brk_quota_init(&q, 11, S, 1 * MB);
    int64_t polls_fine = 0, polls_delay = 0;
    int64_t fine = run(0, 30 * S, 200000, MS, NULL, &polls_fine);
    brk_quota_init(&q, 11, S, 1 * MB);
    int64_t by_delay = run(0, 30 * S, 200000, 0, NULL, &polls_delay);
    ck_assert_int_ge(by_delay, fine - 200000);
    ck_assert_int_lt(polls_delay, polls_fine / 10);
    /* a zero rate holds everything until the window has passed */
    brk_quota_init(&q, 11, S, 0);
    brk_quota_record(&q, 10, 0);
    ck_assert(brk_quota_exceeded(&q, 5 * S));
    ck_assert_int_eq(brk_quota_delay_ns(&q, 5 * S), 6 * S);
    ck_assert(!brk_quota_exceeded(&q, 11 * S));
}
END_TEST

START_TEST(test_rate_change_applies_at_once)
{
    brk_quota_init(&q, 11, S, 10 * MB);
    int64_t fast = run(0, 5 * S, 100000, MS, NULL, NULL);
    ck_assert_int_ge(fast, 49 * MB);
    brk_quota_set_rate(&q, 1 * MB); /* 50 MB in the window: held for a while */
    ck_assert(brk_quota_exceeded(&q, 5 * S));
    int64_t slow = run(5 * S, 5 * S, 100000, MS, NULL, NULL);
    ck_assert_int_eq(slow, 0);
    brk_quota_set_rate(&q, BRK_QUOTA_UNLIMITED); /* removing the throttle lets everything through */
    ck_assert(!brk_quota_exceeded(&q, 10 * S));
    brk_quota_set_rate(&q, 1 * MB); /* and a new limit starts from an empty window */
    ck_assert(!brk_quota_exceeded(&q, 10 * S));
}
END_TEST

/* The integration test's catch-up: 6 MB in 1 MB fetches (replica.fetch.max.bytes)
 * at 1 MB/s with Kafka's default window takes 4-6 s, not the 0 s Kafka's
 * stretched young window would allow. */
START_TEST(test_reassignment_catch_up_time)
{
    brk_quota_init(&q, 11, S, 1 * MB);
    int64_t t = 0, left = 6 * MB;
    while (left > 0) {
        int64_t delay = brk_quota_delay_ns(&q, t);
        if (delay > 0) {
            t += delay;
            continue;
        }
        brk_quota_record(&q, 1 * MB, t);
        left -= 1 * MB;
        t += 2 * MS; /* the next fetch */
    }
    ck_assert_int_ge(t, 4 * S);
    ck_assert_int_le(t, 6 * S);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_quota");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_unlimited_never_holds);
    tcase_add_test(tc, test_rate_kept_on_average);
    tcase_add_test(tc, test_rate_never_exceeded_over_a_window);
    tcase_add_test(tc, test_idle_does_not_bank);
    tcase_add_test(tc, test_delay_neither_short_nor_long);
    tcase_add_test(tc, test_rate_change_applies_at_once);
    tcase_add_test(tc, test_reassignment_catch_up_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
