/*
 * metaprops.h - meta.properties, the identity file of a formatted log
 * directory, exactly as Kafka in KRaft mode writes it:
 *
 *     #
 *     #Wed Nov 25 00:00:00 UTC 2026
 *     cluster.id=MkU3OEVBNTcwNTJENDM2Qk
 *     directory.id=J8aAPcfLQt2bqs1JT_rMgQ
 *     node.id=1
 *     version=1
 *
 * `samsa storage format` writes one into every log dir and the metadata log
 * dir; the server refuses to start unless every dir has one that agrees with
 * its cluster id and node id (metaprops_check_dirs).  Writes are atomic:
 * temp file, fsync, rename, fsync of the directory, so a crash leaves either
 * the old file or the new one, never a torn one.
 *
 * Ids are Kafka Uuids: 16 random bytes as base64url without padding, 22
 * characters.
 *
 * Not here: creating directories (the storage tool does), the
 * bootstrap.checkpoint metadata snapshot, or locking a dir against a second
 * process.  Everything here blocks on file I/O: call it at start, not from
 * the event loop.
 */
#ifndef SAMSA_METAPROPS_H
#define SAMSA_METAPROPS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define METAPROPS_FILE_NAME "meta.properties"
#define METAPROPS_UUID_BYTES 23      /* 22 base64url characters + NUL */
#define METAPROPS_ID_BYTES_MAX 64    /* a stored id, including the NUL */
#define METAPROPS_FILE_BYTES_MAX 4096
#define METAPROPS_VERSION 1
#define METAPROPS_DIRS_MAX 64        /* dirs one check covers */

struct metaprops {
    int32_t version;                           /* 1 (KRaft); 0 read from ZooKeeper-era files */
    char cluster_id[METAPROPS_ID_BYTES_MAX];
    int32_t node_id;                           /* -1 if absent */
    char directory_id[METAPROPS_ID_BYTES_MAX]; /* "" if absent (written before Kafka 3.7) */
};

/* metaprops_random_uuid - a new Kafka Uuid from getrandom(): never all
 * zeros and never starting with '-' (so it is safe as a command argument),
 * as Kafka's Uuid.randomUuid.  Returns 0 or -errno. */
MUST_CHECK int metaprops_random_uuid(char out[METAPROPS_UUID_BYTES]);

/* metaprops_uuid_valid - 1 if id is 22 base64url characters (16 bytes). */
int metaprops_uuid_valid(const char *id);

/* metaprops_read - parse <dir>/meta.properties.  Returns 0, -ENOENT when the
 * file is missing, ERR_CORRUPT (reason in msg) when it is unreadable as one,
 * or another -errno. */
MUST_CHECK int metaprops_read(const char *dir, struct metaprops *mp, char *msg, size_t msg_size);

/* metaprops_write - atomically replace <dir>/meta.properties.  The dir must
 * exist.  Returns 0 or -errno (ENOSPC included). */
MUST_CHECK int metaprops_write(const char *dir, const struct metaprops *mp);

/*
 * metaprops_check_dirs - the start-up check over every log dir (and the
 * metadata log dir, which the caller includes in dirs).
 *   cluster_id   the expected id (CLUSTER_ID), or NULL/"" to take it from
 *                the dirs, which must then all agree;
 *   node_id      the configured node.id;
 *   config_path  shown in the "run samsa storage format" fix (may be NULL).
 * On success writes the cluster id into cluster_id_out.  On failure returns
 * ERR_LIMIT (more than METAPROPS_DIRS_MAX dirs),
 * ERR_NOT_FOUND (a dir is not formatted), ERR_CONFIG (cluster or node id
 * mismatch, duplicate directory.id), ERR_CORRUPT or -errno, with one line in
 * msg that names the dir, both ids where relevant, and the fix.
 */
MUST_CHECK int metaprops_check_dirs(const char *const *dirs, size_t dir_count,
                                    const char *cluster_id, int32_t node_id,
                                    const char *config_path, char *cluster_id_out,
                                    size_t cluster_id_out_size, char *msg, size_t msg_size);

struct config_node;
/* metaprops_check_node - metaprops_check_dirs over a finalized config's
 * log_dirs plus metadata_log_dir (once), with its cluster_id (CLUSTER_ID)
 * and node_id: the one call samsa-server makes before opening any log. */
MUST_CHECK int metaprops_check_node(const struct config_node *node, const char *config_path,
                                    char *cluster_id_out, size_t cluster_id_out_size, char *msg,
                                    size_t msg_size);

#endif
