/*
 * fileio_test.c - crash-safe file replacement (fileio) and the big-endian
 * helpers (be.h): golden bytes both ways, the replacement's visible results
 * (content, no PATH.tmp left, PATH untouched when the rename fails, the kept
 * fd naming the renamed file).  The crash half of the guarantee (fsync order)
 * is reviewed, not simulated; the kill -9 integration tests cover the callers.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/be.h"
#include "common/fileio.h"
#include "common/log.h"

static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/fileio-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

static void path_of(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", root, name);
    ck_assert(n > 0 && (size_t)n < size);
}

/* the whole file as a NUL-terminated string (small test files only) */
static void slurp(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

START_TEST(test_be_golden)
{
    static const uint8_t golden[14] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0xfe, 0xff };
    ck_assert_uint_eq(be_get16(golden), 0x0102);
    ck_assert_uint_eq(be_get32(golden), 0x01020304u);
    ck_assert_uint_eq(be_get64(golden), 0x0102030405060708ull);
    ck_assert_uint_eq(be_get16(golden + 12), 0xfeff); /* high bit: no sign spill */
    uint8_t out[14];
    memset(out, 0, sizeof out);
    be_put64(out, 0x0102030405060708ull);
    be_put32(out + 8, 0x090a0b0cu);
    be_put16(out + 12, 0xfeff);
    ck_assert_mem_eq(out, golden, sizeof golden);
    /* the values Kafka stores signed round-trip through the casts callers use */
    be_put32(out, (uint32_t)-2);
    ck_assert_int_eq((int32_t)be_get32(out), -2);
    be_put64(out, (uint64_t)INT64_MIN);
    ck_assert(out[0] == 0x80 && out[7] == 0x00);
    ck_assert_int_eq((int64_t)be_get64(out), INT64_MIN);
}
END_TEST

START_TEST(test_write_atomic_replaces)
{
    char path[128], tmp[160], got[64];
    path_of(path, sizeof path, "state");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    struct bytes parts[2] = { { (const uint8_t *)"hello ", 6 }, { (const uint8_t *)"world", 5 } };
    ck_assert_int_eq(fileio_write_atomic(path, parts, 2), 0);
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "hello world");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    /* a second write replaces the whole file, even a longer one */
    struct bytes one = { (const uint8_t *)"x", 1 };
    ck_assert_int_eq(fileio_write_atomic(path, &one, 1), 0);
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "x");
    ck_assert_int_eq(fileio_write_atomic(path, NULL, 0), 0); /* empty is a file too */
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "");
    /* a stale PATH.tmp from a crash is simply overwritten */
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs("stale stale stale", f);
    fclose(f);
    ck_assert_int_eq(fileio_write_atomic(path, parts, 1), 0);
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "hello ");
    ck_assert_int_eq(access(tmp, F_OK), -1);
}
END_TEST

START_TEST(test_write_atomic_failures_leave_path)
{
    char path[128], tmp[160], inner[160];
    struct bytes one = { (const uint8_t *)"new", 3 };
    /* no such directory: nothing is created */
    path_of(path, sizeof path, "missing/state");
    ck_assert_int_eq(fileio_write_atomic(path, &one, 1), -ENOENT);
    /* the rename fails (PATH is a non-empty directory): PATH.tmp is removed,
     * PATH is as it was */
    path_of(path, sizeof path, "busy");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    FILE *f = fopen(inner, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    int rc = fileio_write_atomic(path, &one, 1);
    ck_assert(rc == -EISDIR || rc == -ENOTEMPTY);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(access(inner, F_OK), 0);
    /* a name too long for PATH.tmp */
    char long_path[PATH_MAX + 8];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    ck_assert_int_eq(fileio_write_atomic(long_path, &one, 1), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_tmp_keep_open_and_abort)
{
    char path[128], got[64];
    path_of(path, sizeof path, "log");
    struct bytes old = { (const uint8_t *)"old", 3 };
    ck_assert_int_eq(fileio_write_atomic(path, &old, 1), 0);
    /* abort: PATH untouched, no PATH.tmp */
    struct fileio_tmp t;
    ck_assert_int_eq(fileio_tmp_open(&t, path), 0);
    ck_assert_int_eq(fileio_write_all(t.fd, "partial", 7), 0);
    fileio_tmp_abort(&t);
    ck_assert_int_eq(t.fd, -1);
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "old");
    ck_assert_int_eq(access(t.tmp_path, F_OK), -1);
    /* keep_open: the fd the caller keeps is the renamed file (reads and
     * further writes go to PATH) */
    ck_assert_int_eq(fileio_tmp_open(&t, path), 0);
    ck_assert_int_eq(fileio_write_all(t.fd, "new", 3), 0);
    ck_assert_int_eq(fileio_tmp_commit(&t, true), 0);
    ck_assert(t.renamed);
    ck_assert_int_ge(t.fd, 0);
    ck_assert_int_eq(fileio_write_all(t.fd, "er", 2), 0);
    ck_assert_int_eq(close(t.fd), 0);
    slurp(path, got, sizeof got);
    ck_assert_str_eq(got, "newer");
}
END_TEST

static Suite *fileio_suite(void)
{
    Suite *s = suite_create("fileio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_be_golden);
    tcase_add_test(tc, test_write_atomic_replaces);
    tcase_add_test(tc, test_write_atomic_failures_leave_path);
    tcase_add_test(tc, test_tmp_keep_open_and_abort);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF);
    SRunner *sr = srunner_create(fileio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
