/*
 * storage.c - `samsa storage`: make cluster ids, format log directories
 * like kafka-storage.sh, and show what a node's dirs hold.
 *
 * format is all-or-nothing about already formatted dirs: if any dir has a
 * meta.properties and --ignore-formatted was not given, nothing is written.
 * Every dir gets its own directory.id.  Dirs are created with their
 * parents (mode 0755).
 *
 * Locking (common/dirlock): format takes the `.lock` of every dir it writes
 * into, holds it until it ends, and checks again under the lock that the dir
 * is still unformatted; a dir whose lock is held is refused (the message
 * names the holder).  Kafka's format takes no lock.  It never refuses a dir
 * it skips: a running server holds only formatted dirs, which format never
 * writes, so a new dir can still be formatted (--ignore-formatted) beside a
 * running node before its restart; the lock closes the one race left, two
 * formats (or a format and a starting server) on one new dir, where the
 * second would replace the first's meta.properties (another cluster id or
 * directory.id) under whoever already started on it.
 *
 * Not here: the bootstrap metadata snapshot (bootstrap.checkpoint) that
 * Kafka also writes, SCRAM credentials (--add-scram), metadata.version
 * selection (--release-version): Samsa has one metadata version.
 */
#include "storage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dirlock.h"
#include "common/log.h"
#include "common/metaprops.h"

extern char **environ;

#define STORAGE_OVERRIDES_MAX 64
#define STORAGE_DIRS_MAX (CONFIG_LOG_DIRS_MAX + 1) /* log dirs + metadata log dir */

static void storage_usage(FILE *out)
{
    fprintf(out,
            "usage: samsa storage <command> [options]\n"
            "\n"
            "Commands:\n"
            "  random-uuid                     print a new cluster id\n"
            "  format -t ID -c CONFIG          write meta.properties into every log dir\n"
            "         [--ignore-formatted|-g]  skip dirs that are already formatted\n"
            "         [--override key=value]   override a config value (repeatable)\n"
            "  info -c CONFIG                  show the meta.properties of every log dir\n"
            "\n"
            "CONFIG is a .properties or .yaml file; KAFKA_* environment variables and\n"
            "CLUSTER_ID apply as for samsa-server.  Exit status: 0 ok, 1 error.\n");
}

struct storage_args {
    const char *config_path;
    const char *cluster_id;
    int ignore_formatted;
    size_t override_count;
    char *overrides[STORAGE_OVERRIDES_MAX];
};

/* Parse options after the command word.  Returns 0, or 1 after printing why. */
static int storage_args_parse(int argc, char **argv, struct storage_args *a, int allow_format_opts)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
            if (!val)
                goto missing;
            a->config_path = val;
            i++;
        } else if (strncmp(arg, "--config=", 9) == 0) {
            a->config_path = arg + 9;
        } else if (allow_format_opts && (strcmp(arg, "-t") == 0 || strcmp(arg, "--cluster-id") == 0)) {
            if (!val)
                goto missing;
            a->cluster_id = val;
            i++;
        } else if (allow_format_opts && strncmp(arg, "--cluster-id=", 13) == 0) {
            a->cluster_id = arg + 13;
        } else if (allow_format_opts &&
                   (strcmp(arg, "-g") == 0 || strcmp(arg, "--ignore-formatted") == 0)) {
            a->ignore_formatted = 1;
        } else if (strcmp(arg, "--override") == 0 || strncmp(arg, "--override=", 11) == 0) {
            const char *kv = arg[10] == '=' ? arg + 11 : val;
            if (!kv)
                goto missing;
            if (arg[10] != '=')
                i++;
            if (a->override_count == STORAGE_OVERRIDES_MAX) {
                fprintf(stderr, "error: more than %d --override options\n", STORAGE_OVERRIDES_MAX);
                return 1;
            }
            a->overrides[a->override_count++] = (char *)kv;
        } else {
            fprintf(stderr, "error: unrecognized argument '%s'\n", arg);
            storage_usage(stderr);
            return 1;
        }
        continue;
    missing:
        fprintf(stderr, "error: %s needs a value\n", arg);
        return 1;
    }
    if (!a->config_path) {
        fprintf(stderr, "error: -c/--config CONFIG is required\n");
        return 1;
    }
    return 0;
}

/* mkdir -p with mode 0755; returns 0 or -errno. */
static int storage_mkdirs(const char *dir)
{
    char path[CONFIG_PATH_BYTES_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -errno;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Load the config as the server does; prints errors.  Returns 0 or 1. */
static int storage_config_load(const struct storage_args *a, struct config **out)
{
    struct config *cfg = NULL;
    if (config_create(&cfg) < 0) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    if (config_load_all(cfg, a->config_path, environ, a->overrides, a->override_count) < 0) {
        fputs(config_errors(cfg), stderr);
        config_destroy(cfg);
        return 1;
    }
    *out = cfg;
    return 0;
}

/* The log dirs plus the metadata log dir, without duplicates. */
static size_t storage_dirs(const struct config_node *n, const char **dirs)
{
    size_t count = 0;
    for (size_t i = 0; i < n->log_dir_count; i++)
        dirs[count++] = n->log_dirs[i];
    int seen = 0;
    for (size_t i = 0; i < count; i++)
        seen |= strcmp(dirs[i], n->metadata_log_dir) == 0;
    if (!seen)
        dirs[count++] = n->metadata_log_dir;
    return count;
}

/* Lock dir (.lock, as the server does) for the rest of the format and check
 * that it is still unformatted: another format or a server may have got
 * there since the first check.  Returns 0, or 1 after printing why. */
static int storage_lock(const char *dir, struct dirlock_set *locks)
{
    char msg[1024];
    const char *dirs[] = { dir };
    struct dirlock_set one = { 0 };
    if (locks->count >= DIRLOCK_DIRS_MAX || dirlock_take_all(dirs, 1, &one, msg, sizeof msg) < 0) {
        fprintf(stderr, "error: not formatting: %s\n", locks->count >= DIRLOCK_DIRS_MAX ? "too many dirs" : msg);
        return 1;
    }
    locks->fds[locks->count++] = one.fds[0];
    char path[CONFIG_PATH_BYTES_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, METAPROPS_FILE_NAME);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "error: Log directory %s was formatted by another process while this one ran; nothing "
                "more was written. Check what else formats or runs on it.\n", dir);
        return 1;
    }
    return 0;
}

static int storage_format(int argc, char **argv)
{
    struct storage_args a;
    if (storage_args_parse(argc, argv, &a, 1) != 0)
        return 1;
    struct config *cfg = NULL;
    if (storage_config_load(&a, &cfg) != 0)
        return 1;
    const struct config_node *n = config_node_get(cfg);
    int rc = 1;
    struct dirlock_set locks = { 0 };
    const char *cluster_id = a.cluster_id ? a.cluster_id : (n->cluster_id[0] ? n->cluster_id : NULL);
    if (!cluster_id) {
        fprintf(stderr, "error: -t/--cluster-id is required; make one with `samsa storage random-uuid`\n");
        goto out;
    }
    if (!metaprops_uuid_valid(cluster_id)) {
        fprintf(stderr, "error: cluster id %s is not a valid Kafka Uuid (22 base64url characters); "
                "make one with `samsa storage random-uuid`\n", cluster_id);
        goto out;
    }
    if (n->roles == 0) {
        fprintf(stderr, "error: %s has no process.roles: formatting is only for KRaft nodes; set "
                "process.roles=broker,controller and node.id\n", a.config_path);
        goto out;
    }

    const char *dirs[STORAGE_DIRS_MAX];
    size_t count = storage_dirs(n, dirs);
    int formatted[STORAGE_DIRS_MAX];
    size_t formatted_count = 0;
    for (size_t i = 0; i < count; i++) {
        char path[CONFIG_PATH_BYTES_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dirs[i], METAPROPS_FILE_NAME);
        formatted[i] = access(path, F_OK) == 0;
        if (formatted[i]) {
            formatted_count++;
            if (!a.ignore_formatted) {
                fprintf(stderr, "error: Log directory %s is already formatted. Use --ignore-formatted "
                        "to ignore this directory and format the others.\n", dirs[i]);
                goto out;
            }
        }
    }
    if (formatted_count == count) {
        printf("All of the log directories are already formatted.\n");
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        if (formatted[i])
            continue;
        struct metaprops mp;
        memset(&mp, 0, sizeof mp);
        mp.version = METAPROPS_VERSION;
        mp.node_id = n->node_id;
        memcpy(mp.cluster_id, cluster_id, strlen(cluster_id) + 1);
        int err = metaprops_random_uuid(mp.directory_id);
        if (err == 0)
            err = storage_mkdirs(dirs[i]);
        if (err == 0 && storage_lock(dirs[i], &locks) != 0)
            goto out;
        if (err == 0)
            err = metaprops_write(dirs[i], &mp);
        if (err < 0) {
            fprintf(stderr, "error: cannot format %s: %s\n", dirs[i], err_str(err));
            goto out;
        }
        printf("Formatting %s with cluster.id %s and node.id %d.\n", dirs[i], cluster_id, n->node_id);
    }
    rc = 0;
out:
    dirlock_release_all(&locks);
    config_destroy(cfg);
    return rc;
}

static int storage_info(int argc, char **argv)
{
    struct storage_args a;
    if (storage_args_parse(argc, argv, &a, 0) != 0)
        return 1;
    struct config *cfg = NULL;
    if (storage_config_load(&a, &cfg) != 0)
        return 1;
    const struct config_node *n = config_node_get(cfg);
    const char *dirs[STORAGE_DIRS_MAX];
    size_t count = storage_dirs(n, dirs);
    int problems = 0;
    for (size_t i = 0; i < count; i++) {
        struct metaprops mp;
        char msg[512];
        int err = metaprops_read(dirs[i], &mp, msg, sizeof msg);
        if (err == 0) {
            printf("%s: cluster.id=%s node.id=%d directory.id=%s version=%d\n", dirs[i],
                   mp.cluster_id, mp.node_id, mp.directory_id[0] ? mp.directory_id : "-", mp.version);
        } else if (err == -ENOENT) {
            printf("%s: not formatted\n", dirs[i]);
            problems++;
        } else {
            printf("%s: %s\n", dirs[i], msg);
            problems++;
        }
    }
    char cid[METAPROPS_ID_BYTES_MAX], msg[1024];
    if (metaprops_check_dirs(dirs, count, n->cluster_id, n->node_id, a.config_path, cid,
                             sizeof cid, msg, sizeof msg) < 0) {
        printf("problem: %s\n", msg);
        problems++;
    } else {
        printf("ok: all %zu dirs belong to cluster %s node %d\n", count, cid, n->node_id);
    }
    config_destroy(cfg);
    return problems ? 1 : 0;
}

int tool_storage_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        storage_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            storage_usage(stdout);
            return 0;
        }
    if (strcmp(cmd, "random-uuid") == 0) {
        char id[METAPROPS_UUID_BYTES];
        int err = metaprops_random_uuid(id);
        if (err < 0) {
            fprintf(stderr, "error: cannot read random bytes: %s\n", err_str(err));
            return 1;
        }
        printf("%s\n", id);
        return 0;
    }
    if (strcmp(cmd, "format") == 0)
        return storage_format(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0)
        return storage_info(argc - 2, argv + 2);
    fprintf(stderr, "error: unknown storage command '%s'\n", cmd);
    storage_usage(stderr);
    return 1;
}
