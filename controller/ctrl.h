/*
 * ctrl.h - the controller: admin operations in, committed metadata out.
 *
 * The controller plans each admin operation against the current image into
 * a batch of metadata records (ctrl_plan_*: pure, read-only), proposes the
 * batch to the quorum (ctrl_propose), and once it is committed applies the
 * records to the image and hands each one to the apply listener (the
 * broker opens or deletes partition logs there).
 *
 * Quorum: with a single voter (this version) an entry is committed when the
 * metadata log's fdatasync returns, so ctrl_propose completes before it
 * returns and calls its callback synchronously.  Callers must not assume
 * either way: with the Raft quorum the callback runs later, from the loop.
 *
 * Not thread-safe: owned by the loop thread.
 */
#ifndef SAMSA_CTRL_H
#define SAMSA_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"
#include "controller/ctrl_image.h"
#include "metadata.pb-c.h"

#define CTRL_BATCH_RECORDS_MAX 200000
#define CTRL_TOPIC_CONFIGS_MAX 64

struct ctrl;

struct ctrl_config {
    int32_t node_id;
    const char *metadata_dir;     /* metadata.log.dir, else the first log dir */
};

/* Called once per committed record, after the image applied it. */
typedef void (*ctrl_apply_cb)(void *arg, const struct ctrl_image *img, const Samsa__MetadataRecord *rec,
                              int64_t offset);
/* Called once a proposal is committed (rc 0) or has failed (rc < 0). */
typedef void (*ctrl_commit_cb)(void *arg, int rc);

/* ctrl_create - open the metadata log under cfg->metadata_dir and replay it
 * into a fresh image, calling listener for every record.  Blocks. */
MUST_CHECK int ctrl_create(const struct ctrl_config *cfg, ctrl_apply_cb listener, void *listener_arg,
                           struct ctrl **out);
void ctrl_destroy(struct ctrl *c);

const struct ctrl_image *ctrl_metadata(const struct ctrl *c);
/* ctrl_active_id - node id of the active controller, -1 when unknown. */
int32_t ctrl_active_id(const struct ctrl *c);
bool ctrl_is_active(const struct ctrl *c);
int32_t ctrl_epoch(const struct ctrl *c);
int64_t ctrl_committed_offset(const struct ctrl *c);

/* ctrl_propose - commit records as one entry.  The records are packed before
 * it returns; the caller keeps ownership.  ERR_NOT_CONTROLLER on a
 * non-active node. */
MUST_CHECK int ctrl_propose(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb,
                            void *arg);

/* A planned batch: records allocated in the caller's arena. */
struct ctrl_records {
    Samsa__MetadataRecord **recs;
    size_t count;
    size_t cap;
};

struct ctrl_config_kv {
    const char *name;
    const char *value;
};

struct ctrl_topic_spec {
    const char *name;
    size_t name_len;
    int32_t partition_count;      /* -1: use default_partitions */
    int16_t replication_factor;   /* -1: use default_replication_factor */
    int32_t assignment_count;     /* manual replica assignment, 0 if none */
    const int32_t *const *assignments;   /* assignment_count arrays of ... */
    const int32_t *assignment_lens;      /* ... these lengths */
    int32_t config_count;
    const struct ctrl_config_kv *configs; /* validated by the caller */
};

/* ctrl_topic_name_check - Kafka's topic name rules (1..249 of [a-zA-Z0-9._-],
 * not "." or ".."). */
MUST_CHECK int ctrl_topic_name_check(const char *name, size_t len);

/* ctrl_plan_create_topic - records for a new topic with partitions placed on
 * the unfenced brokers of the image.  Errors: ERR_EXISTS, ERR_INVALID_TOPIC,
 * ERR_INVALID_PARTITIONS, ERR_INVALID_REPLICATION_FACTOR,
 * ERR_INVALID_REPLICA_ASSIGNMENT, ERR_LIMIT.  *effective_* report what the
 * topic gets after defaults. */
MUST_CHECK int ctrl_plan_create_topic(const struct ctrl_image *img, const struct ctrl_topic_spec *spec,
                                      int32_t default_partitions, int16_t default_replication_factor,
                                      struct arena *a, struct ctrl_records *out, int32_t *effective_partitions,
                                      int16_t *effective_replication_factor);
MUST_CHECK int ctrl_plan_delete_topic(const struct ctrl_image *img, const char *name, size_t len,
                                      struct arena *a, struct ctrl_records *out);
MUST_CHECK int ctrl_plan_create_partitions(const struct ctrl_image *img, const char *name, size_t len,
                                           int32_t new_count, struct arena *a, struct ctrl_records *out);
/* ctrl_plan_config - one config change (value NULL = delete the override).
 * resource_type is Kafka's (2 topic, 4 broker). */
MUST_CHECK int ctrl_plan_config(const struct ctrl_image *img, int resource_type, const char *resource_name,
                                const char *name, const char *value, struct arena *a, struct ctrl_records *out);
/* ctrl_plan_register_broker - registration record for this node's broker
 * with its advertised endpoints. */
MUST_CHECK int ctrl_plan_register_broker(int32_t broker_id, int64_t broker_epoch, const struct ctrl_endpoint *eps,
                                         int32_t ep_count, struct arena *a, struct ctrl_records *out);

#endif
