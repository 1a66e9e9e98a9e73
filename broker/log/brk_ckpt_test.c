/*
 * brk_ckpt_test.c - checkpoint round trip, Kafka byte format, strictness
 * on malformed files, limits, and atomic replace.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/brk_ckpt.h"
#include "common/log.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/samsa_ckpt_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/%s", dir, BRK_CKPT_RECOVERY_POINT);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void put_file(const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_round_trip_format)
{
    struct brk_ckpt_entry in[3] = {
        { "orders", 0, 1234 }, { "orders", 1, 0 }, { "__consumer_offsets", 49, 9000000000LL }
    };
    ck_assert_int_eq(brk_ckpt_write(path, in, 3), 0);
    char got[256] = { 0 };
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    ck_assert_str_eq(got, "0\n3\norders 0 1234\norders 1 0\n__consumer_offsets 49 9000000000\n");
    struct brk_ckpt_entry out[4];
    size_t count = 99;
    ck_assert_int_eq(brk_ckpt_read(path, out, 4, &count), 0);
    ck_assert_uint_eq(count, 3);
    ck_assert_str_eq(out[2].topic, "__consumer_offsets");
    ck_assert_int_eq(out[2].partition, 49);
    ck_assert_int_eq(out[2].offset, 9000000000LL);
    ck_assert_int_eq(out[0].offset, 1234);
    /* no tmp file left behind */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    /* empty checkpoint */
    ck_assert_int_eq(brk_ckpt_write(path, in, 0), 0);
    ck_assert_int_eq(brk_ckpt_read(path, out, 4, &count), 0);
    ck_assert_uint_eq(count, 0);
}
END_TEST

START_TEST(test_missing_and_limits)
{
    struct brk_ckpt_entry out[2];
    size_t count;
    ck_assert_int_eq(brk_ckpt_read(path, out, 2, &count), -ENOENT);
    put_file("0\n3\na 0 1\nb 0 2\nc 0 3\n");
    ck_assert_int_eq(brk_ckpt_read(path, out, 2, &count), ERR_LIMIT);
    struct brk_ckpt_entry bad = { "bad topic", 0, 1 };
    ck_assert_int_eq(brk_ckpt_write(path, &bad, 1), ERR_INVALID);
    struct brk_ckpt_entry neg = { "t", -1, 1 };
    ck_assert_int_eq(brk_ckpt_write(path, &neg, 1), ERR_INVALID);
}
END_TEST

START_TEST(test_malformed)
{
    static const char *bad[] = {
        "",                          /* empty */
        "1\n0\n",                    /* unknown version */
        "0\n",                       /* no count */
        "0\n1\n",                    /* fewer lines than count */
        "0\n1\nt 0 5",               /* no final newline */
        "0\n1\nt 0 5\nx 0 1\n",      /* trailing line */
        "0\n1\nt 0\n",               /* missing offset */
        "0\n1\nt  0 5\n",            /* double space */
        "0\n1\nt 0 5 \n",            /* trailing space */
        "0\n1\nt x 5\n",             /* non-numeric partition */
        "0\n1\nt -1 5\n",            /* negative partition */
        "0\n1\nt 0 99999999999999999999\n", /* offset overflow */
        "0\n1\nt/x 0 5\n",           /* illegal topic char */
        "0\n-1\n",                   /* negative count */
        " 0\n0\n",                   /* leading space */
    };
    struct brk_ckpt_entry out[4];
    size_t count;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        put_file(bad[k]);
        ck_assert_msg(brk_ckpt_read(path, out, 4, &count) == ERR_CORRUPT, "case %zu", k);
    }
    put_file("0\n1\nt 0 -1\n"); /* -1 is a legal offset sentinel */
    ck_assert_int_eq(brk_ckpt_read(path, out, 4, &count), 0);
    ck_assert_int_eq(out[0].offset, -1);
}
END_TEST

START_TEST(test_atomic_replace)
{
    struct brk_ckpt_entry a = { "t", 0, 10 };
    struct brk_ckpt_entry b = { "t", 0, 20 };
    ck_assert_int_eq(brk_ckpt_write(path, &a, 1), 0);
    ck_assert_int_eq(brk_ckpt_write(path, &b, 1), 0);
    struct brk_ckpt_entry out[1];
    size_t count;
    ck_assert_int_eq(brk_ckpt_read(path, out, 1, &count), 0);
    ck_assert_int_eq(out[0].offset, 20);
    /* a failed write (directory missing) leaves the old file alone */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/nodir/x", dir);
    ck_assert_int_eq(brk_ckpt_write(p2, &a, 1), -ENOENT);
}
END_TEST

int main(void)
{
    log_set_level(LOG_OFF);
    Suite *s = suite_create("brk_ckpt");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip_format);
    tcase_add_test(tc, test_missing_and_limits);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_atomic_replace);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
