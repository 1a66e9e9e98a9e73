/*
 * uring_test.c - writes and syncs land, callbacks keep queue order, the
 * fallback behaves identically, and injected faults (ENOSPC, EIO, short
 * writes) surface correctly.  Every test runs twice: _i == 0 with io_uring
 * (if the kernel allows it), _i == 1 forced fallback.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/uring.h"

struct rec {
    int order[URING_OPS_MAX + 8];
    int res[URING_OPS_MAX + 8];
    int count;
};

struct ctx {
    struct rec *rec;
    int id;
};

static void rec_cb(void *arg, int res)
{
    struct ctx *c = arg;
    c->rec->order[c->rec->count] = c->id;
    c->rec->res[c->rec->count] = res;
    c->rec->count++;
}

static int tmp_file(char *path, size_t n)
{
    snprintf(path, n, "/tmp/samsa_uring_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

static struct uring *mk(int mode)
{
    struct uring *u;
    ck_assert_int_eq(uring_create(64, mode == 0, &u), 0);
    if (mode == 1)
        ck_assert(uring_is_fallback(u));
    if (uring_is_fallback(u))
        ck_assert_int_eq(uring_event_fd(u), -1);
    else
        ck_assert_int_ge(uring_event_fd(u), 0);
    return u;
}

START_TEST(test_writes_and_sync_land)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c[4] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 }, { &rec, 3 } };
    ck_assert_int_eq(uring_write(u, fd, "hello ", 6, 0, rec_cb, &c[0]), 0);
    ck_assert_int_eq(uring_write(u, fd, "world", 5, 6, rec_cb, &c[1]), 0);
    ck_assert_int_eq(uring_write(u, fd, "!!", 2, 11, rec_cb, &c[2]), 0);
    ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c[3]), 0);
    ck_assert_uint_eq(uring_pending_count(u), 4);
    ck_assert_int_eq(rec.count, 0);
    ck_assert_int_eq(uring_submit(u), 4);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_uint_eq(uring_pending_count(u), 0);
    ck_assert_int_eq(rec.count, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(rec.order[k], k);
    ck_assert_int_eq(rec.res[0], 6);
    ck_assert_int_eq(rec.res[1], 5);
    ck_assert_int_eq(rec.res[2], 2);
    ck_assert_int_eq(rec.res[3], 0);
    char got[16] = { 0 };
    ck_assert_int_eq(pread(fd, got, sizeof got, 0), 13);
    ck_assert_str_eq(got, "hello world!!");
    ck_assert_int_eq(uring_fsync(u, fd, rec_cb, &c[3]), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.res[4], 0);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_nothing_before_submit_and_reap)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c = { &rec, 7 };
    ck_assert_int_eq(uring_write(u, fd, "abc", 3, 0, rec_cb, &c), 0);
    ck_assert_int_eq(uring_reap(u), 0); /* not submitted: nothing runs */
    ck_assert_int_eq(rec.count, 0);
    ck_assert_int_eq(uring_submit(u), 1);
    if (!uring_is_fallback(u)) {
        struct pollfd p = { .fd = uring_event_fd(u), .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 10000), 1); /* eventfd signals the completion */
    }
    int ran = 0;
    while (ran == 0) {
        int rc = uring_reap(u);
        ck_assert_int_ge(rc, 0);
        ran += rc;
    }
    ck_assert_int_eq(rec.count, 1);
    ck_assert_int_eq(rec.res[0], 3);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_callback_order_many)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    enum { N = 200 };
    static struct ctx c[N];
    static uint8_t data[N][512];
    for (int k = 0; k < N; k++) {
        c[k].rec = &rec;
        c[k].id = k;
        memset(data[k], k & 0xff, sizeof data[k]);
        /* interleave syncs so both kinds are ordered together */
        if (k % 50 == 49)
            ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c[k]), 0);
        else
            ck_assert_int_eq(uring_write(u, fd, data[k], 512, (int64_t)k * 512, rec_cb, &c[k]), 0);
    }
    /* More than the SQ size (64) in one submit: the SQ-full path. */
    ck_assert_int_eq(uring_submit(u), N);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.count, N);
    for (int k = 0; k < N; k++) {
        ck_assert_int_eq(rec.order[k], k);
        ck_assert_int_eq(rec.res[k], k % 50 == 49 ? 0 : 512);
    }
    uint8_t got[512];
    ck_assert_int_eq(pread(fd, got, 512, 10 * 512), 512);
    ck_assert_int_eq(memcmp(got, data[10], 512), 0);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_inflight_limit)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c = { &rec, 0 };
    for (unsigned k = 0; k < URING_OPS_MAX; k++)
        ck_assert_int_eq(uring_write(u, fd, "x", 1, k, rec_cb, &c), 0);
    ck_assert_int_eq(uring_write(u, fd, "x", 1, 0, rec_cb, &c), ERR_LIMIT);
    ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c), ERR_LIMIT);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.count, (int)URING_OPS_MAX);
    ck_assert_int_eq(uring_write(u, fd, "x", 1, 0, rec_cb, &c), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_injected_enospc)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c[4] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 }, { &rec, 3 } };
    struct uring_fault f = { .nth = 2, .count = 1, .err = -ENOSPC };
    uring_fault_set(u, &f);
    ck_assert_int_eq(uring_write(u, fd, "aaa", 3, 0, rec_cb, &c[0]), 0);
    ck_assert_int_eq(uring_write(u, fd, "bbb", 3, 3, rec_cb, &c[1]), 0);
    ck_assert_int_eq(uring_write(u, fd, "ccc", 3, 6, rec_cb, &c[2]), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.count, 3);
    ck_assert_int_eq(rec.res[0], 3);
    ck_assert_int_eq(rec.res[1], -ENOSPC);
    ck_assert_int_eq(rec.res[2], 3);
    char got[9];
    ck_assert_int_eq(pread(fd, got, 9, 0), 9);
    ck_assert_int_eq(memcmp(got, "aaa\0\0\0ccc", 9), 0); /* the failed write did nothing */
    /* A failing sync. */
    f = (struct uring_fault){ .nth = 1, .count = 1, .err = -EIO };
    uring_fault_set(u, &f);
    ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c[3]), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.res[3], -EIO);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_short_write_resubmitted)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c[3] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 } };
    struct uring_fault f = { .nth = 1, .count = 1, .short_bytes = 3 };
    uring_fault_set(u, &f);
    ck_assert_int_eq(uring_write(u, fd, "0123456789", 10, 0, rec_cb, &c[0]), 0);
    ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c[1]), 0);
    ck_assert_int_eq(uring_write(u, fd, "XY", 2, 10, rec_cb, &c[2]), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.count, 3);
    ck_assert_int_eq(rec.res[0], 10);
    ck_assert_int_eq(rec.res[1], 0);
    ck_assert_int_eq(rec.res[2], 2);
    char got[13] = { 0 };
    ck_assert_int_eq(pread(fd, got, 12, 0), 12);
    ck_assert_str_eq(got, "0123456789XY");
    close(fd);
    uring_destroy(u);
}
END_TEST

struct chain {
    struct uring *u;
    int fd;
    int left;
    int done;
};

static void chain_cb(void *arg, int res)
{
    struct chain *ch = arg;
    ck_assert_int_eq(res, 1);
    ch->done++;
    if (ch->left-- > 0)
        ck_assert_int_eq(uring_write(ch->u, ch->fd, "z", 1, ch->done, chain_cb, ch), 0);
}

START_TEST(test_queue_from_callback)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    struct chain ch = { u, fd, 5, 0 };
    ck_assert_int_eq(uring_write(u, fd, "z", 1, 0, chain_cb, &ch), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(ch.done, 6);
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), 6);
    close(fd);
    uring_destroy(u);
}
END_TEST

START_TEST(test_bad_fd_error)
{
    struct uring *u = mk(_i);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c = { &rec, 0 };
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(uring_write(u, fd, "abc", 3, 0, rec_cb, &c), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(rec.res[0], -EBADF);
    close(fd);
    uring_destroy(u);
}
END_TEST

/* The slow-disk hook: a sync starts sync_delay_ns late (a kernel timeout
 * linked before it), so it has not completed right after submit, and it
 * completes, in order, once the delay passed.  In fallback the delay is a
 * sleep inside uring_reap (the loop thread blocks: what fallback means). */
START_TEST(test_sync_delay_fault)
{
    struct uring *u = mk(_i);
    char path[64];
    int fd = tmp_file(path, sizeof path);
    static struct rec rec;
    memset(&rec, 0, sizeof rec);
    struct ctx c[2] = { { &rec, 0 }, { &rec, 1 } };
    uring_fault_set(u, &(struct uring_fault){ .nth = 1, .count = 100, .sync_delay_ns = 300000000 });
    ck_assert_int_eq(uring_write(u, fd, "abc", 3, 0, rec_cb, &c[0]), 0);
    ck_assert_int_eq(uring_fdatasync(u, fd, rec_cb, &c[1]), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(uring_submit(u), 2);
    if (!uring_is_fallback(u)) {
        struct pollfd p = { .fd = uring_event_fd(u), .events = POLLIN };
        (void)poll(&p, 1, 100);
        ck_assert_int_ge(uring_reap(u), 0);
        ck_assert_int_le(rec.count, 1); /* the write, never the sync yet */
    }
    ck_assert_int_eq(uring_drain(u), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_eq(rec.count, 2);
    ck_assert_int_eq(rec.order[1], 1);
    ck_assert_int_eq(rec.res[1], 0);
    ck_assert_int_ge(ms, 290);
    close(fd);
    uring_destroy(u);
}
END_TEST

int main(void)
{
    log_set_level(LOG_ERROR);
    Suite *s = suite_create("uring");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_writes_and_sync_land, 0, 2);
    tcase_add_loop_test(tc, test_nothing_before_submit_and_reap, 0, 2);
    tcase_add_loop_test(tc, test_callback_order_many, 0, 2);
    tcase_add_loop_test(tc, test_inflight_limit, 0, 2);
    tcase_add_loop_test(tc, test_injected_enospc, 0, 2);
    tcase_add_loop_test(tc, test_short_write_resubmitted, 0, 2);
    tcase_add_loop_test(tc, test_queue_from_callback, 0, 2);
    tcase_add_loop_test(tc, test_bad_fd_error, 0, 2);
    tcase_add_loop_test(tc, test_sync_delay_fault, 0, 2);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
