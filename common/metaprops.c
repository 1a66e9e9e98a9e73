/*
 * metaprops.c - read, write and check meta.properties.
 *
 * The file is parsed with the same Java-properties parser as server
 * configs (config_properties_parse), so escapes and comments behave as in
 * Kafka.  Writing goes through fileio_write_atomic (tmp -> fsync -> rename
 * -> fsync(dir)); a reader sees either the complete old file or the new one.
 */
#include "metaprops.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "log.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void uuid_encode(const uint8_t in[16], char out[METAPROPS_UUID_BYTES])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < 16)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = b64url[v & 63];
    }
    ASSERT(o == METAPROPS_UUID_BYTES - 1);
    out[o] = '\0';
}

int metaprops_random_uuid(char out[METAPROPS_UUID_BYTES])
{
    for (;;) {
        uint8_t raw[16];
        size_t got = 0;
        while (got < sizeof raw) {
            ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            got += (size_t)n;
        }
        int zero = 1;
        for (size_t i = 0; i < sizeof raw; i++)
            zero &= raw[i] == 0;
        uuid_encode(raw, out);
        if (!zero && out[0] != '-')
            return 0;
    }
}

int metaprops_uuid_valid(const char *id)
{
    if (strlen(id) != METAPROPS_UUID_BYTES - 1)
        return 0;
    for (const char *p = id; *p; p++)
        if (!strchr(b64url, *p))
            return 0;
    return 1;
}

struct read_ctx {
    struct metaprops *mp;
    int have_version, have_cluster, have_node, have_broker;
    int32_t broker_id;
    int bad;
    char bad_key[64];
};

static int parse_i32(const char *s, int32_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
        return ERR_DECODE;
    *out = (int32_t)v;
    return 0;
}

static int copy_id(char *out, const char *s)
{
    size_t n = strlen(s);
    if (n >= METAPROPS_ID_BYTES_MAX)
        return ERR_DECODE;
    memcpy(out, s, n + 1);
    return 0;
}

static int read_kv_cb(void *arg, const char *key, const char *value)
{
    struct read_ctx *rc = arg;
    int r = 0;
    if (strcmp(key, "version") == 0) {
        r = parse_i32(value, &rc->mp->version);
        rc->have_version = 1;
    } else if (strcmp(key, "cluster.id") == 0) {
        r = copy_id(rc->mp->cluster_id, value);
        rc->have_cluster = 1;
    } else if (strcmp(key, "node.id") == 0) {
        r = parse_i32(value, &rc->mp->node_id);
        rc->have_node = 1;
    } else if (strcmp(key, "broker.id") == 0) {
        r = parse_i32(value, &rc->broker_id);
        rc->have_broker = 1;
    } else if (strcmp(key, "directory.id") == 0) {
        r = copy_id(rc->mp->directory_id, value);
    }
    if (r < 0 && !rc->bad) {
        rc->bad = 1;
        snprintf(rc->bad_key, sizeof rc->bad_key, "%s", key);
    }
    return 0; /* keep going: unknown keys are allowed, as in Kafka */
}

int metaprops_read(const char *dir, struct metaprops *mp, char *msg, size_t msg_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, METAPROPS_FILE_NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        snprintf(msg, msg_size, "cannot open %s: %s", path, strerror(err));
        return -err;
    }
    char text[METAPROPS_FILE_BYTES_MAX];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, sizeof text - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            close(fd);
            snprintf(msg, msg_size, "cannot read %s: %s", path, strerror(err));
            return -err;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == sizeof text) {
            close(fd);
            snprintf(msg, msg_size, "%s is larger than %d bytes; it is not a meta.properties file",
                     path, METAPROPS_FILE_BYTES_MAX);
            return ERR_CORRUPT;
        }
    }
    close(fd);

    memset(mp, 0, sizeof *mp);
    mp->node_id = -1;
    struct read_ctx rc;
    memset(&rc, 0, sizeof rc);
    rc.mp = mp;
    if (config_properties_parse(text, len, &rc, read_kv_cb) < 0) {
        snprintf(msg, msg_size, "%s is not a properties file", path);
        return ERR_CORRUPT;
    }
    if (rc.bad) {
        snprintf(msg, msg_size, "%s has an invalid %s", path, rc.bad_key);
        return ERR_CORRUPT;
    }
    if (!rc.have_version) {
        snprintf(msg, msg_size, "%s has no version", path);
        return ERR_CORRUPT;
    }
    if (mp->version == 0 && !rc.have_node && rc.have_broker)
        mp->node_id = rc.broker_id; /* ZooKeeper-era v0 files name it broker.id */
    if (mp->version != 0 && mp->version != METAPROPS_VERSION) {
        snprintf(msg, msg_size, "%s has unsupported version %d (Samsa reads 0 and 1)", path,
                 mp->version);
        return ERR_CORRUPT;
    }
    if (!rc.have_cluster || mp->cluster_id[0] == '\0') {
        snprintf(msg, msg_size, "%s has no cluster.id", path);
        return ERR_CORRUPT;
    }
    if (mp->version == METAPROPS_VERSION && mp->node_id < 0) {
        snprintf(msg, msg_size, "%s has no node.id", path);
        return ERR_CORRUPT;
    }
    return 0;
}

int metaprops_write(const char *dir, const struct metaprops *mp)
{
    ASSERT(mp->cluster_id[0] != '\0');
    ASSERT(mp->node_id >= 0);
    char path[4096];
    int n1 = snprintf(path, sizeof path, "%s/%s", dir, METAPROPS_FILE_NAME);
    if (n1 < 0 || (size_t)n1 >= sizeof path)
        return -ENAMETOOLONG;

    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm) == 0)
        date[0] = '\0';
    char text[METAPROPS_FILE_BYTES_MAX];
    int len = snprintf(text, sizeof text, "#\n#%s\ncluster.id=%s\n", date, mp->cluster_id);
    if (mp->directory_id[0] && len > 0 && (size_t)len < sizeof text)
        len += snprintf(text + len, sizeof text - (size_t)len, "directory.id=%s\n", mp->directory_id);
    if (len > 0 && (size_t)len < sizeof text)
        len += snprintf(text + len, sizeof text - (size_t)len, "node.id=%" PRId32 "\nversion=%" PRId32 "\n",
                        mp->node_id, mp->version);
    ASSERT(len > 0 && (size_t)len < sizeof text); /* ids are bounded by METAPROPS_ID_BYTES_MAX */

    struct bytes data = { (const uint8_t *)text, (size_t)len };
    return fileio_write_atomic(path, &data, 1);
}

int metaprops_check_dirs(const char *const *dirs, size_t dir_count, const char *cluster_id,
                         int32_t node_id, const char *config_path, char *cluster_id_out,
                         size_t cluster_id_out_size, char *msg, size_t msg_size)
{
    char expected[METAPROPS_ID_BYTES_MAX] = "";
    const char *expected_from = "CLUSTER_ID";
    char dir_ids[METAPROPS_DIRS_MAX][METAPROPS_ID_BYTES_MAX]; /* seen, for duplicates */
    size_t ids_seen = 0;
    if (dir_count > METAPROPS_DIRS_MAX) {
        snprintf(msg, msg_size, "%zu log dirs is more than %d; use fewer log dirs", dir_count,
                 METAPROPS_DIRS_MAX);
        return ERR_LIMIT;
    }
    if (cluster_id && cluster_id[0]) {
        if (strlen(cluster_id) >= sizeof expected) {
            snprintf(msg, msg_size, "CLUSTER_ID=%s is too long; use `samsa storage random-uuid`",
                     cluster_id);
            return ERR_CONFIG;
        }
        memcpy(expected, cluster_id, strlen(cluster_id) + 1);
    }
    const char *cfg_path = config_path ? config_path : "server.properties";
    for (size_t i = 0; i < dir_count; i++) {
        struct metaprops mp;
        char why[512];
        int rc = metaprops_read(dirs[i], &mp, why, sizeof why);
        if (rc == -ENOENT) {
            snprintf(msg, msg_size, "log dir %s is not formatted: run `samsa storage format -t %s -c %s`",
                     dirs[i], expected[0] ? expected : "$(samsa storage random-uuid)", cfg_path);
            return ERR_NOT_FOUND;
        }
        if (rc < 0) {
            snprintf(msg, msg_size, "log dir %s: %s; fix or remove the file and run `samsa storage "
                     "format -t <cluster-id> -c %s`", dirs[i], why, cfg_path);
            return rc;
        }
        if (expected[0] == '\0') {
            memcpy(expected, mp.cluster_id, sizeof expected);
            expected_from = dirs[i];
        } else if (strcmp(expected, mp.cluster_id) != 0) {
            snprintf(msg, msg_size, "log dir %s belongs to cluster %s (%s/%s) but this node expects "
                     "cluster %s (from %s); point log.dirs at this cluster's data, or reformat the "
                     "dir with `samsa storage format -t %s -c %s` (this erases its identity)",
                     dirs[i], mp.cluster_id, dirs[i], METAPROPS_FILE_NAME, expected, expected_from,
                     expected, cfg_path);
            return ERR_CONFIG;
        }
        if (mp.node_id != node_id) {
            snprintf(msg, msg_size, "log dir %s belongs to node.id=%" PRId32 " (%s/%s) but node.id=%" PRId32
                     " is configured; set node.id=%" PRId32 " in %s if you moved this node's data, or "
                     "point log.dirs at this node's own dirs", dirs[i], mp.node_id, dirs[i],
                     METAPROPS_FILE_NAME, node_id, mp.node_id, cfg_path);
            return ERR_CONFIG;
        }
        if (mp.directory_id[0]) {
            for (size_t j = 0; j < ids_seen; j++)
                if (strcmp(dir_ids[j], mp.directory_id) == 0) {
                    snprintf(msg, msg_size, "log dir %s has directory.id %s which another log dir "
                             "also has; a copied dir? reformat one of them with `samsa storage format`",
                             dirs[i], mp.directory_id);
                    return ERR_CONFIG;
                }
            memcpy(dir_ids[ids_seen++], mp.directory_id, sizeof dir_ids[0]);
        }
    }
    if (strlen(expected) >= cluster_id_out_size) {
        snprintf(msg, msg_size, "cluster id %s does not fit the caller's buffer", expected);
        return ERR_LIMIT;
    }
    memcpy(cluster_id_out, expected, strlen(expected) + 1);
    return 0;
}

int metaprops_check_node(const struct config_node *node, const char *config_path,
                         char *cluster_id_out, size_t cluster_id_out_size, char *msg,
                         size_t msg_size)
{
    STATIC_ASSERT(CONFIG_LOG_DIRS_MAX + 1 <= METAPROPS_DIRS_MAX, "every log dir fits one check");
    const char *dirs[CONFIG_LOG_DIRS_MAX + 1];
    size_t count = 0;
    int has_meta = 0;
    ASSERT(node->log_dir_count <= CONFIG_LOG_DIRS_MAX);
    for (size_t i = 0; i < node->log_dir_count; i++) {
        dirs[count++] = node->log_dirs[i];
        has_meta |= strcmp(node->log_dirs[i], node->metadata_log_dir) == 0;
    }
    if (!has_meta && node->metadata_log_dir[0])
        dirs[count++] = node->metadata_log_dir;
    return metaprops_check_dirs(dirs, count, node->cluster_id, node->node_id, config_path,
                                cluster_id_out, cluster_id_out_size, msg, msg_size);
}
