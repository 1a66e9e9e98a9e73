/*
 * metaprops_test.c - meta.properties round trips, Kafka-format ids, and the
 * start-up checker's messages for unformatted and mismatched dirs.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/metaprops.h"

static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/samsa-metaprops-XXXXXX");
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

static void write_file(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/meta.properties", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void format_dir(const char *dir, const char *cluster, int32_t node)
{
    struct metaprops mp;
    memset(&mp, 0, sizeof mp);
    mp.version = METAPROPS_VERSION;
    snprintf(mp.cluster_id, sizeof mp.cluster_id, "%s", cluster);
    mp.node_id = node;
    ck_assert_int_eq(metaprops_random_uuid(mp.directory_id), 0);
    ck_assert_int_eq(metaprops_write(dir, &mp), 0);
}

START_TEST(test_random_uuid)
{
    char a[METAPROPS_UUID_BYTES], b[METAPROPS_UUID_BYTES];
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(metaprops_random_uuid(a), 0);
        ck_assert_uint_eq(strlen(a), 22);
        ck_assert_int_ne(a[0], '-');
        ck_assert_int_eq(metaprops_uuid_valid(a), 1);
        for (const char *p = a; *p; p++)
            ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                          "bad char in %s", a);
    }
    ck_assert_int_eq(metaprops_random_uuid(b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(metaprops_uuid_valid("MkU3OEVBNTcwNTJENDM2Qk"), 1); /* the tutorial's id */
    ck_assert_int_eq(metaprops_uuid_valid("MkU3OEVBNTcwNTJENDM2Q"), 0);
    ck_assert_int_eq(metaprops_uuid_valid("MkU3OEVBNTcwNTJENDM2Qk="), 0);
    ck_assert_int_eq(metaprops_uuid_valid("MkU3OEVBNTcwNTJENDM2Q+"), 0);
    ck_assert_int_eq(metaprops_uuid_valid(""), 0);
}
END_TEST

START_TEST(test_round_trip)
{
    char d[128];
    subdir(d, sizeof d, "a");
    struct metaprops mp, got;
    memset(&mp, 0, sizeof mp);
    mp.version = 1;
    snprintf(mp.cluster_id, sizeof mp.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    mp.node_id = 3;
    snprintf(mp.directory_id, sizeof mp.directory_id, "J8aAPcfLQt2bqs1JT_rMgQ");
    ck_assert_int_eq(metaprops_write(d, &mp), 0);
    char msg[256];
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), 0);
    ck_assert_int_eq(got.version, 1);
    ck_assert_str_eq(got.cluster_id, mp.cluster_id);
    ck_assert_int_eq(got.node_id, 3);
    ck_assert_str_eq(got.directory_id, mp.directory_id);

    /* The file looks like Kafka's, and the temp file is gone. */
    char path[256], text[512];
    snprintf(path, sizeof path, "%s/meta.properties", d);
    FILE *f = fopen(path, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    ck_assert_int_eq(strncmp(text, "#\n#", 3), 0);
    ck_assert_ptr_nonnull(strstr(text, "\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\n"));
    ck_assert_ptr_nonnull(strstr(text, "\ndirectory.id=J8aAPcfLQt2bqs1JT_rMgQ\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nnode.id=3\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nversion=1\n"));
    snprintf(path, sizeof path, "%s/meta.properties.tmp", d);
    ck_assert_int_eq(access(path, F_OK), -1);

    /* Overwrite replaces it. */
    mp.node_id = 4;
    ck_assert_int_eq(metaprops_write(d, &mp), 0);
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), 0);
    ck_assert_int_eq(got.node_id, 4);

    /* A file written by Kafka (other key order, no directory.id) reads. */
    write_file(d, "#\n#Tue Jan 02 10:00:00 UTC 2024\nnode.id=1\nversion=1\n"
                  "cluster.id=abcdefghijklmnopqrstuv\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), 0);
    ck_assert_int_eq(got.node_id, 1);
    ck_assert_str_eq(got.directory_id, "");
    /* ZooKeeper-era v0: broker.id. */
    write_file(d, "version=0\nbroker.id=5\ncluster.id=abcdefghijklmnopqrstuv\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), 0);
    ck_assert_int_eq(got.node_id, 5);
}
END_TEST

START_TEST(test_read_errors)
{
    char d[128], msg[512];
    struct metaprops got;
    subdir(d, sizeof d, "b");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), -ENOENT);
    write_file(d, "cluster.id=x\nnode.id=1\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "has no version"));
    write_file(d, "version=1\nnode.id=1\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "has no cluster.id"));
    write_file(d, "version=1\ncluster.id=x\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "has no node.id"));
    write_file(d, "version=1\ncluster.id=x\nnode.id=one\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "has an invalid node.id"));
    write_file(d, "version=7\ncluster.id=x\nnode.id=1\n");
    ck_assert_int_eq(metaprops_read(d, &got, msg, sizeof msg), ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "unsupported version 7"));
    /* Writing into a missing dir fails with the OS error, leaving nothing. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none", root);
    struct metaprops mp = { .version = 1, .cluster_id = "c", .node_id = 1 };
    ck_assert_int_eq(metaprops_write(missing, &mp), -ENOENT);
}
END_TEST

START_TEST(test_check_dirs)
{
    char a[128], b[128], msg[1024], cid[64];
    subdir(a, sizeof a, "a");
    subdir(b, sizeof b, "b");
    const char *dirs[] = { a, b };

    /* Unformatted: names the dir and the exact command. */
    int rc = metaprops_check_dirs(dirs, 2, "MkU3OEVBNTcwNTJENDM2Qk", 1, "/etc/samsa/server.properties",
                                  cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_NOT_FOUND);
    char want[1024];
    snprintf(want, sizeof want, "log dir %s is not formatted: run `samsa storage format -t "
             "MkU3OEVBNTcwNTJENDM2Qk -c /etc/samsa/server.properties`", a);
    ck_assert_str_eq(msg, want);

    format_dir(a, "MkU3OEVBNTcwNTJENDM2Qk", 1);
    rc = metaprops_check_dirs(dirs, 2, NULL, 1, NULL, cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_NOT_FOUND);
    snprintf(want, sizeof want, "log dir %s is not formatted: run `samsa storage format -t "
             "MkU3OEVBNTcwNTJENDM2Qk -c server.properties`", b);
    ck_assert_str_eq(msg, want);

    /* All formatted and agreeing: the cluster id comes back. */
    format_dir(b, "MkU3OEVBNTcwNTJENDM2Qk", 1);
    ck_assert_int_eq(metaprops_check_dirs(dirs, 2, NULL, 1, NULL, cid, sizeof cid, msg, sizeof msg), 0);
    ck_assert_str_eq(cid, "MkU3OEVBNTcwNTJENDM2Qk");
    ck_assert_int_eq(metaprops_check_dirs(dirs, 2, "MkU3OEVBNTcwNTJENDM2Qk", 1, NULL, cid,
                                          sizeof cid, msg, sizeof msg), 0);

    /* Cluster id mismatch against CLUSTER_ID: both ids, the path, the fix. */
    rc = metaprops_check_dirs(dirs, 2, "AAAAAAAAAAAAAAAAAAAAAA", 1, "s.properties", cid, sizeof cid,
                              msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_CONFIG);
    snprintf(want, sizeof want, "log dir %s belongs to cluster MkU3OEVBNTcwNTJENDM2Qk "
             "(%s/meta.properties) but this node expects cluster AAAAAAAAAAAAAAAAAAAAAA (from "
             "CLUSTER_ID); point log.dirs at this cluster's data, or reformat the dir with `samsa "
             "storage format -t AAAAAAAAAAAAAAAAAAAAAA -c s.properties` (this erases its identity)", a, a);
    ck_assert_str_eq(msg, want);

    /* Mismatch between dirs. */
    format_dir(b, "BBBBBBBBBBBBBBBBBBBBBB", 1);
    rc = metaprops_check_dirs(dirs, 2, NULL, 1, NULL, cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(msg, "belongs to cluster BBBBBBBBBBBBBBBBBBBBBB"));
    ck_assert_ptr_nonnull(strstr(msg, "expects cluster MkU3OEVBNTcwNTJENDM2Qk (from "));

    /* Node id mismatch. */
    format_dir(b, "MkU3OEVBNTcwNTJENDM2Qk", 2);
    rc = metaprops_check_dirs(dirs, 2, NULL, 1, "s.properties", cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_CONFIG);
    snprintf(want, sizeof want, "log dir %s belongs to node.id=2 (%s/meta.properties) but node.id=1 "
             "is configured; set node.id=2 in s.properties if you moved this node's data, or point "
             "log.dirs at this node's own dirs", b, b);
    ck_assert_str_eq(msg, want);

    /* A copied dir: same directory.id twice. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s/meta.properties %s/meta.properties", a, b);
    ck_assert_int_eq(system(cmd), 0);
    rc = metaprops_check_dirs(dirs, 2, NULL, 1, NULL, cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(msg, "which another log dir also has"));

    /* Corrupt file. */
    write_file(b, "garbage\n");
    rc = metaprops_check_dirs(dirs, 2, NULL, 1, NULL, cid, sizeof cid, msg, sizeof msg);
    ck_assert_int_eq(rc, ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "has no version"));
}
END_TEST

START_TEST(test_check_node)
{
    char a[128], m[128], msg[1024], cid[64], text[512];
    subdir(a, sizeof a, "a");
    snprintf(m, sizeof m, "%s/meta", root);
    snprintf(text, sizeof text, "process.roles=broker,controller\nnode.id=2\n"
             "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n"
             "controller.quorum.voters=2@localhost:9093\nlog.dirs=%s\nmetadata.log.dir=%s\n", a, m);
    struct config *cfg = NULL;
    ck_assert_int_eq(config_create(&cfg), 0);
    ck_assert_int_eq(config_load_properties(cfg, text, strlen(text), "file:t"), 0);
    ck_assert_int_eq(config_finalize(cfg), 0);
    const struct config_node *n = config_node_get(cfg);
    format_dir(a, "MkU3OEVBNTcwNTJENDM2Qk", 2);
    /* The metadata dir is checked too. */
    ck_assert_int_eq(metaprops_check_node(n, "t.properties", cid, sizeof cid, msg, sizeof msg),
                     ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(msg, m));
    ck_assert_int_eq(mkdir(m, 0755), 0);
    format_dir(m, "MkU3OEVBNTcwNTJENDM2Qk", 2);
    ck_assert_int_eq(metaprops_check_node(n, "t.properties", cid, sizeof cid, msg, sizeof msg), 0);
    ck_assert_str_eq(cid, "MkU3OEVBNTcwNTJENDM2Qk");
    config_destroy(cfg);
}
END_TEST

static Suite *metaprops_suite(void)
{
    Suite *s = suite_create("metaprops");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_random_uuid);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_read_errors);
    tcase_add_test(tc, test_check_dirs);
    tcase_add_test(tc, test_check_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF);
    SRunner *sr = srunner_create(metaprops_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
