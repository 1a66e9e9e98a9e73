/*
 * brk_pstore_test.c - producer-state snapshots and replay on a real
 * partition log in a temp dir: snapshots written at segment rolls (the
 * newest two kept) plus the log after them rebuild exactly the state the
 * appends built; a snapshot beyond the log end (batches recovery cut) is
 * deleted, a damaged one falls back to an older one, no snapshot replays
 * the whole log.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog.h"
#include "broker/log/brk_pstore.h"
#include "common/be.h"
#include "common/crc32c.h"

static char dir[64];
static struct uring *u;
static struct brk_pstate *live;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/samsa_pstore_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(uring_create(64, true, &u), 0);
    ck_assert_int_eq(brk_pstate_create(&live), 0);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    brk_pstate_destroy(live);
    uring_destroy(u);
}

/* One idempotent batch of count records with 200 payload bytes. */
static size_t build(uint8_t *out, int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t ts)
{
    size_t size = BRK_BATCH_HDR_BYTES + 200;
    memset(out, 0, size);
    be_put32(out + 8, (uint32_t)(size - 12));
    be_put32(out + 12, (uint32_t)-1);
    out[16] = 2;
    be_put32(out + 23, (uint32_t)(count - 1));
    be_put64(out + 27, (uint64_t)ts);
    be_put64(out + 35, (uint64_t)ts);
    be_put64(out + 43, (uint64_t)pid);
    be_put16(out + 51, (uint16_t)epoch);
    be_put32(out + 53, (uint32_t)seq);
    be_put32(out + 57, (uint32_t)count);
    be_put32(out + 17, crc32c(0, out + 21, size - 21));
    return size;
}

static void rolled(void *arg, int64_t base)
{
    ck_assert_int_eq(brk_pstore_write(arg, dir, base), 0);
}

static void done_cb(void *arg, int rc)
{
    *(int *)arg = rc;
}

static struct brk_plog *open_log(void)
{
    struct brk_plog_config c;
    brk_plog_config_default(&c);
    c.segment_bytes = 1024; /* a roll every few batches */
    struct brk_plog *pl;
    ck_assert_int_eq(brk_plog_open(u, NULL, dir, &c, 0, &pl), 0);
    return pl;
}

/* 40 batches from three producers (one bumps its epoch), observed as the
 * leader does, with a snapshot at every roll. */
static void fill(struct brk_plog *pl)
{
    brk_plog_on_roll(pl, rolled, live);
    int32_t seq[3] = { 0 };
    int16_t epoch[3] = { 0 };
    for (int i = 0; i < 40; i++) {
        int k = i % 3;
        if (k == 2 && i == 20) {
            epoch[k]++;
            seq[k] = 0;
        }
        uint8_t b[512];
        size_t n = build(b, 100 + k, epoch[k], seq[k], 2, 1000 + i);
        seq[k] += 2;
        int rc = 1;
        int64_t base;
        ck_assert_int_eq(brk_plog_append_borrowed(pl, b, n, 0, 1000 + i, &base, done_cb, &rc), 0);
        ck_assert_int_eq(brk_pstore_observe_batches(live, b, n), 0);
        ck_assert_int_ge(uring_submit(u), 0);
        ck_assert_int_eq(uring_drain(u), 0);
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_int_eq(brk_pstate_count(live), 3);
}

static int snapshot_count(int64_t *newest)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    *newest = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 9 && strcmp(de->d_name + len - 9, ".snapshot") == 0) {
            n++;
            long long v = atoll(de->d_name);
            if (v > *newest)
                *newest = v;
        }
    }
    closedir(d);
    return n;
}

static void expect_equal(const struct brk_pstate *a, const struct brk_pstate *b)
{
    ck_assert_int_eq(brk_pstate_count(a), brk_pstate_count(b));
    for (int64_t pid = 100; pid < 103; pid++) {
        const struct brk_pstate_entry *x = brk_pstate_find(a, pid), *y = brk_pstate_find(b, pid);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(memcmp(x, y, sizeof *x), 0);
    }
}

static struct brk_pstate *reload(void)
{
    struct brk_plog *pl = open_log();
    struct brk_pstate *ps;
    ck_assert_int_eq(brk_pstate_create(&ps), 0);
    ck_assert_int_eq(brk_pstore_load(ps, pl, dir), 0);
    brk_plog_destroy(pl);
    return ps;
}

START_TEST(snapshots_plus_log_rebuild_the_state)
{
    struct brk_plog *pl = open_log();
    fill(pl);
    int64_t end = brk_plog_end_offset(pl);
    brk_plog_destroy(pl);
    int64_t newest;
    ck_assert_int_eq(snapshot_count(&newest), BRK_PSTORE_SNAPSHOTS_KEPT);
    ck_assert_int_gt(newest, 0);
    ck_assert_int_lt(newest, end); /* the log after it is replayed */
    struct brk_pstate *ps = reload();
    expect_equal(ps, live);
    brk_pstate_destroy(ps);
}
END_TEST

START_TEST(snapshot_beyond_the_end_is_deleted)
{
    struct brk_plog *pl = open_log();
    fill(pl);
    int64_t end = brk_plog_end_offset(pl);
    brk_plog_destroy(pl);
    /* a state with a batch the log does not hold, at an offset past the end */
    struct brk_pstate *bogus;
    ck_assert_int_eq(brk_pstate_create(&bogus), 0);
    struct brk_pstate_batch b = { .producer_id = 100, .producer_epoch = 0, .first_seq = 500, .last_seq = 501,
                                  .first_offset = end, .last_offset = end + 1, .max_timestamp_ms = 1 };
    ck_assert_int_eq(brk_pstate_observe(bogus, &b), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/%020lld.snapshot", dir, (long long)end + 2);
    struct buf enc;
    buf_init(&enc, 1 << 20);
    ck_assert_int_eq(brk_pstate_encode(bogus, &enc), 0);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(enc.ptr, 1, enc.len, f), enc.len);
    fclose(f);
    buf_deinit(&enc);
    brk_pstate_destroy(bogus);
    struct brk_pstate *ps = reload();
    expect_equal(ps, live);
    ck_assert_ptr_null(fopen(path, "rb")); /* deleted */
    brk_pstate_destroy(ps);
}
END_TEST

START_TEST(damaged_or_missing_snapshots_fall_back)
{
    struct brk_plog *pl = open_log();
    fill(pl);
    brk_plog_destroy(pl);
    int64_t newest;
    ck_assert_int_eq(snapshot_count(&newest), 2);
    char path[128];
    snprintf(path, sizeof path, "%s/%020lld.snapshot", dir, (long long)newest);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 12, SEEK_SET), 0);
    ck_assert_int_eq(fputc(0x5a, f), 0x5a);
    fclose(f);
    struct brk_pstate *ps = reload(); /* the older snapshot and more of the log */
    expect_equal(ps, live);
    brk_pstate_destroy(ps);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.snapshot", dir);
    ck_assert_int_eq(system(cmd), 0);
    ps = reload(); /* the whole log */
    expect_equal(ps, live);
    brk_pstate_destroy(ps);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_pstore");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, snapshots_plus_log_rebuild_the_state);
    tcase_add_test(t, snapshot_beyond_the_end_is_deleted);
    tcase_add_test(t, damaged_or_missing_snapshots_fall_back);
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
