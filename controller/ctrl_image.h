/*
 * ctrl_image.h - the in-memory metadata image.
 *
 * The image is the fold of every committed metadata record, in log order.
 * It changes only in ctrl_image_apply(); everything else reads it.  Two
 * nodes that apply the same records hold equal images.  Brokers answer
 * Metadata, DescribeConfigs, etc. from it.
 *
 * Ownership: the image owns all strings and arrays it holds.  Pointers
 * returned by the _find functions stay valid until the next apply.
 * Not thread-safe: the loop thread owns it.
 */
#ifndef SAMSA_CTRL_IMAGE_H
#define SAMSA_CTRL_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "metadata.pb-c.h"

#define CTRL_REPLICAS_MAX 16
#define CTRL_TOPICS_MAX 100000
#define CTRL_PARTITIONS_PER_TOPIC_MAX 100000
#define CTRL_BROKERS_MAX 256
#define CTRL_ENDPOINTS_MAX 8
#define CTRL_TOPIC_NAME_BYTES_MAX 249
#define CTRL_HOST_BYTES_MAX 255
#define CTRL_LISTENER_NAME_BYTES_MAX 64

struct ctrl_partition {
    int32_t partition_id;
    int32_t leader;            /* -1: none */
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t replica_count;
    int32_t isr_count;
    int32_t replicas[CTRL_REPLICAS_MAX];
    int32_t isr[CTRL_REPLICAS_MAX];
    /* a reassignment in progress (KIP-455): replicas = target + removing;
     * both counts 0 when none */
    int32_t adding_count;
    int32_t removing_count;
    int32_t adding[CTRL_REPLICAS_MAX];
    int32_t removing[CTRL_REPLICAS_MAX];
    /* KIP-966: eligible leader replicas (not in the ISR, every committed
     * record on them: they left an ISR below min.insync.replicas, where the
     * HW stops), and the last eligible replicas once ISR and ELR are both
     * empty (for operators, and Kafka's last-known-leader election).  Both
     * empty when eligible.leader.replicas.enable is off. */
    int32_t elr_count;
    int32_t last_known_elr_count;
    int32_t elr[CTRL_REPLICAS_MAX];
    int32_t last_known_elr[CTRL_REPLICAS_MAX];
};

struct ctrl_config_entry {
    char *name;
    char *value;
};

struct ctrl_configs {
    int32_t count;
    int32_t cap;
    struct ctrl_config_entry *entries;
};

struct ctrl_topic {
    char *name;
    uint8_t topic_id[16];
    bool internal;             /* name starts with "__" like __consumer_offsets */
    int32_t partition_count;
    int32_t partition_cap;
    struct ctrl_partition *partitions; /* index == partition_id */
    struct ctrl_configs configs;
};

struct ctrl_endpoint {
    char name[CTRL_LISTENER_NAME_BYTES_MAX + 1];
    char host[CTRL_HOST_BYTES_MAX + 1];
    int32_t port;
    int32_t security_protocol;
};

struct ctrl_broker {
    int32_t broker_id;
    uint8_t incarnation_id[16];
    int64_t broker_epoch;
    bool fenced;
    int32_t endpoint_count;
    struct ctrl_endpoint endpoints[CTRL_ENDPOINTS_MAX];
    char rack[CTRL_HOST_BYTES_MAX + 1];
};

/* One client-quota entity (ClientQuotaRecord): a user and/or a client id,
 * each absent, named, or the default; its keys with their values as text
 * ("%.17g", which strtod reads back exactly). */
#define CTRL_QUOTA_ENTITIES_MAX 10000
#define CTRL_QUOTA_NAME_BYTES_MAX 255
struct ctrl_quota_part {
    bool present;
    bool is_default;
    char name[CTRL_QUOTA_NAME_BYTES_MAX + 1];
};

struct ctrl_quota {
    struct ctrl_quota_part user;
    struct ctrl_quota_part client_id;
    struct ctrl_configs values;
};

struct ctrl_image;

MUST_CHECK int ctrl_image_create(struct ctrl_image **out);
void ctrl_image_destroy(struct ctrl_image *img);

/* ctrl_image_apply - fold one committed record in.  Records that do not fit
 * the image (unknown topic id, ...) are logged and skipped: the log is the
 * truth and replay must never stop on them.  offset is the log offset. */
void ctrl_image_apply(struct ctrl_image *img, const Samsa__MetadataRecord *rec, int64_t offset);
int64_t ctrl_image_applied_offset(const struct ctrl_image *img); /* -1 when empty */

struct ctrl_topic *ctrl_image_topic_find(const struct ctrl_image *img, const char *name, size_t name_len);
struct ctrl_topic *ctrl_image_topic_find_id(const struct ctrl_image *img, const uint8_t id[16]);
int32_t ctrl_image_topic_count(const struct ctrl_image *img);
/* ctrl_image_topic_at - iteration in creation order, 0 <= index < count. */
struct ctrl_topic *ctrl_image_topic_at(const struct ctrl_image *img, int32_t index);

/* ctrl_image_reassigning_count - partitions with a reassignment in progress. */
int32_t ctrl_image_reassigning_count(const struct ctrl_image *img);

int32_t ctrl_image_broker_count(const struct ctrl_image *img);
/* ctrl_image_unfenced_count - the registered brokers that are not fenced (alive). */
int32_t ctrl_image_unfenced_count(const struct ctrl_image *img);
const struct ctrl_broker *ctrl_image_broker_at(const struct ctrl_image *img, int32_t index);
const struct ctrl_broker *ctrl_image_broker_find(const struct ctrl_image *img, int32_t broker_id);
/* broker-level dynamic configs; resource_name "" = cluster-wide default */
const struct ctrl_configs *ctrl_image_broker_configs(const struct ctrl_image *img, int32_t broker_id);

/* Client quotas: the entities with at least one key, in first-set order. */
int32_t ctrl_image_quota_count(const struct ctrl_image *img);
const struct ctrl_quota *ctrl_image_quota_at(const struct ctrl_image *img, int32_t index);
/* ctrl_quota_parts_from_record - the entity of a ClientQuotaRecord; false
 * when it is not a user and/or client-id entity (or a name is too long). */
bool ctrl_quota_parts_from_record(const Samsa__ClientQuotaRecord *r, struct ctrl_quota_part *user,
                                  struct ctrl_quota_part *client_id);

/* ctrl_quota_record_fill - r as the ClientQuotaRecord setting (or removing)
 * key of the entity (user and/or client_id, at least one present).  parts
 * and part_ptrs (2 each) are the caller's; every string is borrowed from
 * user, client_id and key, which must outlive r. */
void ctrl_quota_record_fill(Samsa__ClientQuotaRecord *r, Samsa__ClientQuotaEntityPart *parts,
                            Samsa__ClientQuotaEntityPart **part_ptrs, const struct ctrl_quota_part *user,
                            const struct ctrl_quota_part *client_id, const char *key, double value, bool remove);

/* ctrl_image_next_producer_id - the start of the next producer-id block
 * (ProducerIdsRecord): every id below it has been handed to a broker.  0
 * before the first block. */
int64_t ctrl_image_next_producer_id(const struct ctrl_image *img);

/* ctrl_configs_find - value of name, or NULL. */
const char *ctrl_configs_find(const struct ctrl_configs *c, const char *name);

#endif
