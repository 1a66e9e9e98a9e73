/*
 * brk_follower_test.c - the follower half of brk_replica (brk_follower.c)
 * on a real partition log in a temp dir: byte-for-byte appends and the
 * epoch cache they build, the HW rule, divergence truncation (KIP-101 and
 * a KIP-279 round), a truncation below the HW, and the reset to a
 * leader's log start.  brk_replica.c's two hooks are replaced here by
 * recorders with the same contract (set_high_watermark: forward only,
 * never past the log end).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_plog.h"
#include "broker/replica/brk_replica.h"
#include "broker/replica/brk_replica_testutil.h"
#include "common/be.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/uring.h"

struct fx {
    char dir[64];
    struct uring *u;
    struct brk_part part;
    struct brk_replica rep;
};

static struct fx g;

static void setup(void)
{
    memset(&g, 0, sizeof g);
    snprintf(g.dir, sizeof g.dir, "/tmp/samsa_follower_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g.dir));
    ck_assert_int_eq(uring_create(64, true, &g.u), 0);
    struct brk_plog_config c;
    brk_plog_config_default(&c);
    c.segment_bytes = 2048;
    char d[128];
    snprintf(d, sizeof d, "%s/t-0", g.dir);
    ck_assert_int_eq(brk_plog_open(g.u, NULL, d, &c, 0, &g.part.plog), 0);
    snprintf(g.part.topic, sizeof g.part.topic, "t");
    g.part.replica = &g.rep;
    g.rep.part = &g.part;
    g.rep.role = BRK_REPLICA_FOLLOWER;
    g.rep.leader_id = 2;
    g.rep.leader_epoch = 1;
    brk_epoch_cache_init(&g.rep.epochs);
    g_epochs_changed = 0;
}

static void teardown(void)
{
    brk_plog_destroy(g.part.plog);
    brk_epoch_cache_deinit(&g.rep.epochs);
    uring_destroy(g.u);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g.dir);
    ck_assert_int_eq(system(cmd), 0);
}

static size_t lead_batch(uint8_t *out, int64_t base, int32_t epoch, int32_t count)
{
    return testutil_lead_batch(out, base, epoch, count, 40);
}

static void done_cb(void *arg, int rc)
{
    int *r = arg;
    *r = rc;
}

static int append(const uint8_t *b, size_t n)
{
    int cb_rc = 1;
    int rc = brk_replica_follower_append(&g.part, bytes_make(b, n), done_cb, &cb_rc);
    if (rc < 0)
        return rc;
    ck_assert_int_ge(uring_submit(g.u), 0);
    ck_assert_int_eq(uring_drain(g.u), 0);
    ck_assert_int_eq(cb_rc, 0);
    return 0;
}

/* Epochs 1 at [0,4) and 2 at [4,8), as two appends. */
static void two_epochs(uint8_t *lead, size_t *len)
{
    size_t n = lead_batch(lead, 0, 1, 2);
    n += lead_batch(lead + n, 2, 1, 2);
    size_t first = n;
    n += lead_batch(lead + n, 4, 2, 3);
    n += lead_batch(lead + n, 7, 2, 1);
    ck_assert_int_eq(append(lead, first), 0);
    ck_assert_int_eq(append(lead + first, n - first), 0);
    *len = n;
}

static int64_t entry_start(int32_t epoch)
{
    for (int32_t i = 0; i < g.rep.epochs.count; i++)
        if (g.rep.epochs.entries[i].epoch == epoch)
            return g.rep.epochs.entries[i].start_offset;
    return -1;
}

START_TEST(test_append_builds_epochs_and_position)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 8);
    ck_assert_int_eq(g.rep.epochs.count, 2);
    ck_assert_int_eq(entry_start(1), 0);
    ck_assert_int_eq(entry_start(2), 4);
    ck_assert_int_eq(g_epochs_changed, 2);
    int64_t off;
    int32_t ep;
    brk_replica_fetch_position(&g.part, &off, &ep);
    ck_assert_int_eq(off, 8);
    ck_assert_int_eq(ep, 2);
    /* byte for byte */
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    ck_assert_int_eq(brk_plog_read(g.part.plog, 0, INT64_MAX, 1 << 20, true, &out, &next), 0);
    ck_assert_uint_eq(out.len, n);
    ck_assert(memcmp(out.ptr, lead, n) == 0);
    buf_deinit(&out);
    /* refused: a gap, a repeat, a flipped bit; nothing changes */
    uint8_t b[256];
    size_t k = lead_batch(b, 9, 2, 1);
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(b, k), done_cb, NULL), ERR_INVALID);
    k = lead_batch(b, 7, 2, 1);
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(b, k), done_cb, NULL), ERR_INVALID);
    k = lead_batch(b, 8, 3, 1);
    b[70] ^= 0x40;
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(b, k), done_cb, NULL), ERR_CORRUPT);
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(b, 30), done_cb, NULL), ERR_CORRUPT);
    ck_assert_int_eq(g.rep.epochs.count, 2);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 8);
}
END_TEST

START_TEST(test_hw_follows_leader_within_log)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    brk_replica_follower_hw(&g.part, 5);
    ck_assert_int_eq(g.part.high_watermark, 5);
    brk_replica_follower_hw(&g.part, 100); /* the leader has more than we do */
    ck_assert_int_eq(g.part.high_watermark, 8);
    brk_replica_follower_hw(&g.part, 3); /* never back */
    ck_assert_int_eq(g.part.high_watermark, 8);
    brk_replica_follower_hw(&g.part, -1);
    ck_assert_int_eq(g.part.high_watermark, 8);
}
END_TEST

/* KIP-101: the leader never had our epoch 2; it answers (1, 4): cut there. */
START_TEST(test_truncate_divergent_suffix)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    brk_replica_follower_hw(&g.part, 4);
    g_epochs_changed = 0;
    bool done = false;
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 1, 4, &done), 0);
    ck_assert(done);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 4);
    ck_assert_int_eq(g.rep.epochs.count, 1);
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&g.rep.epochs), 1);
    ck_assert_int_eq(g_epochs_changed, 1);
    ck_assert_int_eq(g.part.high_watermark, 4);
    /* the leader's epoch 3 continues at 4 */
    uint8_t b[256];
    size_t k = lead_batch(b, 4, 3, 2);
    ck_assert_int_eq(append(b, k), 0);
    ck_assert_int_eq(entry_start(3), 4);
    ck_assert_int_eq(entry_start(2), -1);
    /* nothing to cut when the leader agrees */
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 3, 6, &done), 0);
    ck_assert(done);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 6);
}
END_TEST

/* KIP-279: the leader answers with an epoch we never saw: cut to where our
 * older epoch ends and ask again. */
START_TEST(test_truncate_unknown_leader_epoch_round)
{
    uint8_t lead[2048];
    size_t n = lead_batch(lead, 0, 1, 4);
    n += lead_batch(lead + n, 4, 3, 4);
    ck_assert_int_eq(append(lead, n), 0);
    bool done = true;
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 2, 6, &done), 0);
    ck_assert(!done);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 4);
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&g.rep.epochs), 1);
}
END_TEST

/* An unclean election: the leader lacks what we saw committed.  Kafka
 * truncates (and warns); the HW comes down with the log. */
START_TEST(test_truncate_below_hw)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    brk_replica_follower_hw(&g.part, 8);
    bool done = false;
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 1, 4, &done), 0);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 4);
    ck_assert_int_eq(g.part.high_watermark, 4);
}
END_TEST

START_TEST(test_truncate_waits_for_appends)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    uint8_t b[256];
    size_t k = lead_batch(b, 8, 2, 1);
    int cb_rc = 1;
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(b, k), done_cb, &cb_rc), 0);
    bool done;
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 1, 4, &done), ERR_INVALID);
    ck_assert_int_ge(uring_submit(g.u), 0);
    ck_assert_int_eq(uring_drain(g.u), 0);
    ck_assert_int_eq(cb_rc, 0);
    ck_assert_int_eq(brk_replica_follower_truncate(&g.part, 1, 4, &done), 0);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 4);
}
END_TEST

START_TEST(test_reset_to_leader_start)
{
    uint8_t lead[2048];
    size_t n;
    two_epochs(lead, &n);
    brk_replica_follower_hw(&g.part, 8);
    ck_assert_int_eq(brk_replica_follower_reset(&g.part, 100), 0);
    ck_assert_int_eq(brk_plog_start_offset(g.part.plog), 100);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 100);
    ck_assert_int_eq(g.rep.epochs.count, 0);
    ck_assert_int_eq(g.part.high_watermark, 100);
    int64_t off;
    int32_t ep;
    brk_replica_fetch_position(&g.part, &off, &ep);
    ck_assert_int_eq(off, 100);
    ck_assert_int_eq(ep, BRK_EPOCH_UNDEFINED);
    uint8_t b[256];
    size_t k = lead_batch(b, 100, 7, 3);
    ck_assert_int_eq(append(b, k), 0);
    ck_assert_int_eq(entry_start(7), 100);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 103);
}
END_TEST

/* The leader's log start sits inside a batch (DeleteRecords): the empty
 * follower log moves back to the batch's base, as Kafka's does. */
START_TEST(test_empty_log_takes_batch_before_start)
{
    ck_assert_int_eq(brk_replica_follower_reset(&g.part, 102), 0);
    uint8_t b[256];
    size_t k = lead_batch(b, 100, 4, 5);
    ck_assert_int_eq(append(b, k), 0);
    ck_assert_int_eq(brk_plog_start_offset(g.part.plog), 100);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 105);
    ck_assert_int_eq(entry_start(4), 100);
}
END_TEST

/* samsa.acks.all.fsync: a written append starts its group commit and is
 * reported at once (the next fetch carries the new log end and polls while
 * the sync is pending); once it completes, fetches report it durable.
 * Off: -1, no syncs. */
static int64_t g_durable_at_cb;
static bool g_pending_at_cb;

static void durable_cb(void *arg, int rc)
{
    *(int *)arg = rc;
    g_durable_at_cb = brk_plog_durable_offset(g.part.plog);
    g_pending_at_cb = brk_replica_durable_pending(&g.part);
}

START_TEST(acks_fsync_append_starts_the_sync)
{
    uint8_t lead[512];
    size_t n = lead_batch(lead, 0, 1, 3);
    ck_assert_int_eq(append(lead, n), 0);
    ck_assert_int_eq(brk_replica_durable_offset(&g.part), -1); /* off: nothing reported */
    ck_assert(!brk_replica_durable_pending(&g.part));
    ck_assert_uint_eq(brk_plog_sync_count(g.part.plog), 0);

    g.part.acks_all_fsync = true;
    ck_assert_int_eq(brk_replica_durable_offset(&g.part), 0);
    n = lead_batch(lead, 3, 1, 2);
    int cb_rc = 1;
    g_durable_at_cb = -1;
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(lead, n), durable_cb, &cb_rc), 0);
    ck_assert_int_ge(uring_submit(g.u), 0);
    ck_assert_int_eq(uring_drain(g.u), 0);
    ck_assert_int_eq(cb_rc, 0);
    ck_assert_int_eq(g_durable_at_cb, 0); /* reported written at once: the sync was queued, not done */
    ck_assert(g_pending_at_cb);           /* so the next fetch polls */
    ck_assert_uint_eq(brk_plog_sync_count(g.part.plog), 1);
    ck_assert_int_eq(brk_replica_durable_offset(&g.part), 5); /* this append and the earlier one */
    ck_assert(!brk_replica_durable_pending(&g.part));
}
END_TEST

int main(void)
{
    log_set_level(getenv("FOLLOWER_LOG") ? LOG_INFO : LOG_OFF);
    Suite *s = suite_create("brk_follower");
    TCase *tc = tcase_create("follower");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_append_builds_epochs_and_position);
    tcase_add_test(tc, test_hw_follows_leader_within_log);
    tcase_add_test(tc, test_truncate_divergent_suffix);
    tcase_add_test(tc, test_truncate_unknown_leader_epoch_round);
    tcase_add_test(tc, test_truncate_below_hw);
    tcase_add_test(tc, test_truncate_waits_for_appends);
    tcase_add_test(tc, test_reset_to_leader_start);
    tcase_add_test(tc, test_empty_log_takes_batch_before_start);
    tcase_add_test(tc, acks_fsync_append_starts_the_sync);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
