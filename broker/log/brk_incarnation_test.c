/*
 * brk_incarnation_test.c - the incarnation file: first start (no file),
 * each start reads its predecessor's id and leaves its own, a malformed or
 * truncated file reads as unknown and is replaced, and so does one copied
 * from another log dir (cp -a of a running broker's disks).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_incarnation.h"

static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/samsa-incarnation-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_text_in(const char *dir, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, BRK_INCARNATION_FILE);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void write_text(const char *text)
{
    write_text_in(root, text);
}

/* A good file for root, naming id 00..0f */
static void write_good(void)
{
    char disk[64], text[192];
    ck_assert_int_eq(brk_incarnation_disk_id(root, disk, sizeof disk), 0);
    snprintf(text, sizeof text, "version=2\nincarnation.id=000102030405060708090a0b0c0d0e0f\ndisk.id=%s\n", disk);
    write_text(text);
}

START_TEST(test_each_start_reads_its_predecessor)
{
    const uint8_t a[16] = { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff };
    const uint8_t b[16] = { 0xb0, 0 };
    uint8_t prev[16];
    uint32_t len = 99;
    ck_assert_int_eq(brk_incarnation_swap(root, a, prev, &len), 0);
    ck_assert_uint_eq(len, 0); /* first start */
    ck_assert_int_eq(brk_incarnation_swap(root, b, prev, &len), 0);
    ck_assert_uint_eq(len, 16);
    ck_assert_int_eq(memcmp(prev, a, 16), 0);
    ck_assert_int_eq(brk_incarnation_swap(root, a, prev, &len), 0);
    ck_assert_uint_eq(len, 16);
    ck_assert_int_eq(memcmp(prev, b, 16), 0);
}
END_TEST

START_TEST(test_malformed_is_unknown)
{
    static const char *const bad[] = {
        "",
        "version=1\nincarnation.id=000102030405060708090a0b0c0d0e0f\n", /* no disk.id */
        "version=2\nincarnation.id=000102030405060708090a0b0c0d0e0f\n", /* no disk.id */
        "version=2\nincarnation.id=000102030405060708090a0b0c0d0e0f\ndisk.id=0000000000000001:2\n", /* others */
        "version=1\nincarnation.id=000102030405060708090a0b0c0d0e\n",    /* 15 bytes */
        "version=1\nincarnation.id=000102030405060708090a0b0c0d0e0f0\n", /* an extra digit */
        "version=1\nincarnation.id=000102030405060708090A0B0C0D0E0F\n",  /* not ours */
        "version=1\nincarnation.id=0001020304050607",                    /* torn */
    };
    const uint8_t self[16] = { 7 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(bad[i]);
        uint8_t prev[16];
        uint32_t len = 99;
        ck_assert_int_eq(brk_incarnation_swap(root, self, prev, &len), 0);
        ck_assert_msg(len == 0, "case %zu read as an id", i);
        ck_assert_int_eq(brk_incarnation_swap(root, self, prev, &len), 0); /* replaced with a good one */
        ck_assert_uint_eq(len, 16);
        ck_assert_int_eq(memcmp(prev, self, 16), 0);
    }
    write_good();
    uint8_t prev[16];
    uint32_t len = 0;
    ck_assert_int_eq(brk_incarnation_swap(root, self, prev, &len), 0);
    ck_assert_uint_eq(len, 16);
    ck_assert_int_eq(prev[15], 0x0f);
}
END_TEST

START_TEST(test_copied_file_is_unknown)
{
    /* a running broker's dir copied with its incarnation file: the copy's
     * first start must not name the running process as its predecessor */
    const uint8_t a[16] = { 0xa0 }, b[16] = { 0xb0 };
    uint8_t prev[16];
    uint32_t len = 99;
    ck_assert_int_eq(brk_incarnation_swap(root, a, prev, &len), 0);
    char copy[128], cmd[512];
    snprintf(copy, sizeof copy, "%s/copy", root);
    snprintf(cmd, sizeof cmd, "mkdir %s && cp -a %s/%s %s/", copy, root, BRK_INCARNATION_FILE, copy);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(brk_incarnation_swap(copy, b, prev, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(brk_incarnation_swap(root, b, prev, &len), 0); /* the original dir still knows a */
    ck_assert_uint_eq(len, 16);
    ck_assert_int_eq(memcmp(prev, a, 16), 0);
}
END_TEST

START_TEST(test_missing_dir_is_an_error)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/nope", root);
    const uint8_t self[16] = { 1 };
    uint8_t prev[16];
    uint32_t len = 99;
    ck_assert_int_lt(brk_incarnation_swap(dir, self, prev, &len), 0);
    ck_assert_uint_eq(len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("brk_incarnation");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_each_start_reads_its_predecessor);
    tcase_add_test(tc, test_malformed_is_unknown);
    tcase_add_test(tc, test_copied_file_is_unknown);
    tcase_add_test(tc, test_missing_dir_is_an_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
