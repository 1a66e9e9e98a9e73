/*
 * dirlock_test.c - the `.lock` of a log dir: a second process is refused
 * with the holder's pid, a killed holder's lock is free at once (kill -9),
 * take_all is all-or-nothing and names the dir, a missing dir is an error.
 * The other process is a forked child: POSIX locks never conflict within
 * one process.  Synchronised through pipes, no sleeps.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dirlock.h"

static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/samsa-dirlock-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

static void subdir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root, name);
    ck_assert_int_eq(mkdir(out, 0755), 0);
}

/* In a child: try to lock dir; exit 0 taken, 1 held by parent_pid, 2 other. */
static int child_try(const char *dir, pid_t parent_pid)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd;
        pid_t holder;
        int rc = dirlock_take(dir, &fd, &holder);
        _exit(rc == 0 ? 0 : rc == ERR_EXISTS && holder == parent_pid ? 1 : 2);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_second_process_refused)
{
    char dir[128];
    subdir(dir, sizeof dir, "logs");
    struct dirlock_set set = { 0 };
    char msg[512] = "";
    const char *dirs[] = { dir };
    ck_assert_int_eq(dirlock_take_all(dirs, 1, &set, msg, sizeof msg), 0);
    ck_assert_uint_eq(set.count, 1);
    char path[160];
    snprintf(path, sizeof path, "%s/.lock", dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(child_try(dir, getpid()), 1); /* held by us, and named */
    /* the same process again: no conflict (a dir listed twice) */
    int fd;
    pid_t holder;
    ck_assert_int_eq(dirlock_take(dir, &fd, &holder), 0);
    ck_assert_int_eq(child_try(dir, getpid()), 1);
    dirlock_release_all(&set); /* closing one fd drops the process's lock */
    close(fd);
    ck_assert_int_eq(child_try(dir, getpid()), 0);
}
END_TEST

/* A holder killed with SIGKILL leaves the lock free at once. */
START_TEST(test_killed_holder_frees_lock)
{
    char dir[128];
    subdir(dir, sizeof dir, "logs");
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd;
        pid_t holder;
        char c = dirlock_take(dir, &fd, &holder) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    struct dirlock_set set = { 0 };
    char msg[512] = "";
    const char *dirs[] = { dir };
    ck_assert_int_eq(dirlock_take_all(dirs, 1, &set, msg, sizeof msg), ERR_EXISTS);
    ck_assert_uint_eq(set.count, 0);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)pid);
    ck_assert_msg(strstr(msg, want) && strstr(msg, dir) && strstr(msg, "stop that process"), "message: %s", msg);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(dirlock_take_all(dirs, 1, &set, msg, sizeof msg), 0);
    dirlock_release_all(&set);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

/* All or nothing: the second dir is held, so the first is released again;
 * a missing dir is named with its error. */
START_TEST(test_take_all_all_or_nothing)
{
    char a[128], b[128], missing[160];
    subdir(a, sizeof a, "a");
    subdir(b, sizeof b, "b");
    snprintf(missing, sizeof missing, "%s/nope", root);
    int ready[2], done[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(done), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* holds b until told */
        int fd;
        pid_t holder;
        char c = dirlock_take(b, &fd, &holder) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
            _exit(3);
        _exit(0);
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    struct dirlock_set set = { 0 };
    char msg[512] = "";
    const char *dirs[] = { a, b };
    ck_assert_int_eq(dirlock_take_all(dirs, 2, &set, msg, sizeof msg), ERR_EXISTS);
    ck_assert_uint_eq(set.count, 0);
    ck_assert_msg(strstr(msg, b) != NULL, "message: %s", msg);
    ck_assert_int_eq(child_try(a, getpid()), 0); /* a was let go */
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(dirlock_take_all(dirs, 2, &set, msg, sizeof msg), 0);
    ck_assert_uint_eq(set.count, 2);
    dirlock_release_all(&set);

    const char *bad[] = { a, missing };
    ck_assert_int_eq(dirlock_take_all(bad, 2, &set, msg, sizeof msg), -ENOENT);
    ck_assert_uint_eq(set.count, 0);
    ck_assert_msg(strstr(msg, missing) != NULL, "message: %s", msg);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(done[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dirlock");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_second_process_refused);
    tcase_add_test(tc, test_killed_holder_frees_lock);
    tcase_add_test(tc, test_take_all_all_or_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
