/*
 * ctrl_image.c - applying metadata records to the image.
 *
 * Topics live in an array (creation order) with two open-addressing hash
 * tables over it, by name and by id.  Removing a topic compacts the array
 * and rebuilds both tables: deletes are rare, lookups are per request.
 * Broker configs are kept per broker id, with id -1 for the cluster default
 * (resource name "").  Client quotas are an array of entities (user and/or
 * client id), each with its keys as a config set.
 */
#include "controller/ctrl_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct ctrl_broker_configs {
    int32_t broker_id;
    struct ctrl_configs configs;
};

struct ctrl_image {
    struct ctrl_topic **topics;
    int32_t topic_count;
    int32_t topic_cap;
    int32_t *by_name;   /* slot -> topic index, -1 empty; size hash_cap */
    int32_t *by_id;
    int32_t hash_cap;   /* power of two, > 2 * topic_count */
    struct ctrl_broker brokers[CTRL_BROKERS_MAX];
    int32_t broker_count;
    struct ctrl_broker_configs broker_configs[CTRL_BROKERS_MAX + 1];
    int32_t broker_config_count;
    int64_t applied_offset;
    int64_t next_producer_id;   /* ProducerIdsRecord: ids below were handed out */
    int32_t reassigning_count;   /* partitions with adding or removing replicas */
    struct ctrl_quota *quotas;   /* ClientQuotaRecord entities; removed when their last key goes */
    int32_t quota_count;
    int32_t quota_cap;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int image_rehash(struct ctrl_image *img, int32_t cap)
{
    int32_t *n = malloc((size_t)cap * sizeof *n);
    int32_t *d = malloc((size_t)cap * sizeof *d);
    if (!n || !d) {
        free(n);
        free(d);
        return -ENOMEM;
    }
    memset(n, 0xff, (size_t)cap * sizeof *n);
    memset(d, 0xff, (size_t)cap * sizeof *d);
    for (int32_t i = 0; i < img->topic_count; i++) {
        const struct ctrl_topic *t = img->topics[i];
        uint64_t h = hash_bytes(t->name, strlen(t->name));
        for (uint64_t s = h & (uint64_t)(cap - 1);; s = (s + 1) & (uint64_t)(cap - 1))
            if (n[s] < 0) { n[s] = i; break; }
        h = hash_bytes(t->topic_id, 16);
        for (uint64_t s = h & (uint64_t)(cap - 1);; s = (s + 1) & (uint64_t)(cap - 1))
            if (d[s] < 0) { d[s] = i; break; }
    }
    free(img->by_name);
    free(img->by_id);
    img->by_name = n;
    img->by_id = d;
    img->hash_cap = cap;
    return 0;
}

int ctrl_image_create(struct ctrl_image **out)
{
    struct ctrl_image *img = calloc(1, sizeof *img);
    if (!img)
        return -ENOMEM;
    img->applied_offset = -1;
    int rc = image_rehash(img, 64);
    if (rc < 0) {
        free(img);
        return rc;
    }
    *out = img;
    return 0;
}

static void configs_deinit(struct ctrl_configs *c)
{
    for (int32_t i = 0; i < c->count; i++) {
        free(c->entries[i].name);
        free(c->entries[i].value);
    }
    free(c->entries);
    memset(c, 0, sizeof *c);
}

static void topic_free(struct ctrl_topic *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->partitions);
    configs_deinit(&t->configs);
    free(t);
}

void ctrl_image_destroy(struct ctrl_image *img)
{
    if (!img)
        return;
    for (int32_t i = 0; i < img->topic_count; i++)
        topic_free(img->topics[i]);
    for (int32_t i = 0; i < img->broker_config_count; i++)
        configs_deinit(&img->broker_configs[i].configs);
    for (int32_t i = 0; i < img->quota_count; i++)
        configs_deinit(&img->quotas[i].values);
    free(img->quotas);
    free(img->topics);
    free(img->by_name);
    free(img->by_id);
    free(img);
}

int64_t ctrl_image_applied_offset(const struct ctrl_image *img) { return img->applied_offset; }

struct ctrl_topic *ctrl_image_topic_find(const struct ctrl_image *img, const char *name, size_t name_len)
{
    uint64_t mask = (uint64_t)(img->hash_cap - 1);
    for (uint64_t s = hash_bytes(name, name_len) & mask;; s = (s + 1) & mask) {
        int32_t i = img->by_name[s];
        if (i < 0)
            return NULL;
        struct ctrl_topic *t = img->topics[i];
        if (strlen(t->name) == name_len && memcmp(t->name, name, name_len) == 0)
            return t;
    }
}

struct ctrl_topic *ctrl_image_topic_find_id(const struct ctrl_image *img, const uint8_t id[16])
{
    uint64_t mask = (uint64_t)(img->hash_cap - 1);
    for (uint64_t s = hash_bytes(id, 16) & mask;; s = (s + 1) & mask) {
        int32_t i = img->by_id[s];
        if (i < 0)
            return NULL;
        if (memcmp(img->topics[i]->topic_id, id, 16) == 0)
            return img->topics[i];
    }
}

int32_t ctrl_image_topic_count(const struct ctrl_image *img) { return img->topic_count; }

struct ctrl_topic *ctrl_image_topic_at(const struct ctrl_image *img, int32_t index)
{
    ASSERT(index >= 0 && index < img->topic_count);
    return img->topics[index];
}

int32_t ctrl_image_broker_count(const struct ctrl_image *img) { return img->broker_count; }

int32_t ctrl_image_reassigning_count(const struct ctrl_image *img) { return img->reassigning_count; }

int32_t ctrl_image_unfenced_count(const struct ctrl_image *img)
{
    int32_t n = 0;
    for (int32_t i = 0; i < img->broker_count; i++)
        n += !ctrl_image_broker_at(img, i)->fenced;
    return n;
}

const struct ctrl_broker *ctrl_image_broker_at(const struct ctrl_image *img, int32_t index)
{
    ASSERT(index >= 0 && index < img->broker_count);
    return &img->brokers[index];
}

const struct ctrl_broker *ctrl_image_broker_find(const struct ctrl_image *img, int32_t broker_id)
{
    for (int32_t i = 0; i < img->broker_count; i++)
        if (img->brokers[i].broker_id == broker_id)
            return &img->brokers[i];
    return NULL;
}

static struct ctrl_configs *broker_configs_get(struct ctrl_image *img, int32_t broker_id, bool create)
{
    for (int32_t i = 0; i < img->broker_config_count; i++)
        if (img->broker_configs[i].broker_id == broker_id)
            return &img->broker_configs[i].configs;
    if (!create || img->broker_config_count >= CTRL_BROKERS_MAX + 1)
        return NULL;
    struct ctrl_broker_configs *bc = &img->broker_configs[img->broker_config_count++];
    memset(bc, 0, sizeof *bc);
    bc->broker_id = broker_id;
    return &bc->configs;
}

const struct ctrl_configs *ctrl_image_broker_configs(const struct ctrl_image *img, int32_t broker_id)
{
    return broker_configs_get((struct ctrl_image *)img, broker_id, false);
}

const char *ctrl_configs_find(const struct ctrl_configs *c, const char *name)
{
    if (!c)
        return NULL;
    for (int32_t i = 0; i < c->count; i++)
        if (strcmp(c->entries[i].name, name) == 0)
            return c->entries[i].value;
    return NULL;
}

static int configs_set(struct ctrl_configs *c, const char *name, const char *value, bool deleted)
{
    for (int32_t i = 0; i < c->count; i++) {
        if (strcmp(c->entries[i].name, name) != 0)
            continue;
        if (deleted) {
            free(c->entries[i].name);
            free(c->entries[i].value);
            c->entries[i] = c->entries[--c->count];
            return 0;
        }
        char *v = strdup(value);
        if (!v)
            return -ENOMEM;
        free(c->entries[i].value);
        c->entries[i].value = v;
        return 0;
    }
    if (deleted)
        return 0;
    if (c->count == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 8;
        struct ctrl_config_entry *e = realloc(c->entries, (size_t)cap * sizeof *e);
        if (!e)
            return -ENOMEM;
        c->entries = e;
        c->cap = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    c->entries[c->count++] = (struct ctrl_config_entry){ n, v };
    return 0;
}

static void apply_topic(struct ctrl_image *img, const Samsa__TopicRecord *r)
{
    size_t len = strlen(r->name);
    if (r->topic_id.len != 16 || len == 0 || len > CTRL_TOPIC_NAME_BYTES_MAX) {
        log_error("image", "skipping malformed TopicRecord name=%s", r->name);
        return;
    }
    if (ctrl_image_topic_find(img, r->name, len) || ctrl_image_topic_find_id(img, r->topic_id.data)) {
        log_error("image", "skipping duplicate TopicRecord name=%s", r->name);
        return;
    }
    if (img->topic_count >= CTRL_TOPICS_MAX) {
        log_error("image", "topic limit reached max=%d; skipping TopicRecord name=%s", CTRL_TOPICS_MAX, r->name);
        return;
    }
    if (img->topic_count == img->topic_cap) {
        int32_t cap = img->topic_cap ? img->topic_cap * 2 : 64;
        struct ctrl_topic **nt = realloc(img->topics, (size_t)cap * sizeof *nt);
        ASSERT(nt != NULL);
        img->topics = nt;
        img->topic_cap = cap;
    }
    struct ctrl_topic *t = calloc(1, sizeof *t);
    ASSERT(t != NULL);
    t->name = strdup(r->name);
    ASSERT(t->name != NULL);
    memcpy(t->topic_id, r->topic_id.data, 16);
    t->internal = strncmp(r->name, "__", 2) == 0;
    int32_t index = img->topic_count++;
    img->topics[index] = t;
    if (img->topic_count * 2 >= img->hash_cap) {
        ASSERT(image_rehash(img, img->hash_cap * 2) == 0);
        return;
    }
    uint64_t mask = (uint64_t)(img->hash_cap - 1);
    for (uint64_t s = hash_bytes(t->name, len) & mask;; s = (s + 1) & mask)
        if (img->by_name[s] < 0) { img->by_name[s] = index; break; }
    for (uint64_t s = hash_bytes(t->topic_id, 16) & mask;; s = (s + 1) & mask)
        if (img->by_id[s] < 0) { img->by_id[s] = index; break; }
}

static void reassign_set(struct ctrl_image *img, struct ctrl_partition *p, const int32_t *adding, size_t n_adding,
                         const int32_t *removing, size_t n_removing);

static void apply_remove_topic(struct ctrl_image *img, const Samsa__RemoveTopicRecord *r)
{
    if (r->topic_id.len != 16)
        return;
    for (int32_t i = 0; i < img->topic_count; i++) {
        if (memcmp(img->topics[i]->topic_id, r->topic_id.data, 16) != 0)
            continue;
        for (int32_t p = 0; p < img->topics[i]->partition_count; p++)
            reassign_set(img, &img->topics[i]->partitions[p], NULL, 0, NULL, 0);
        topic_free(img->topics[i]);
        memmove(&img->topics[i], &img->topics[i + 1], (size_t)(img->topic_count - i - 1) * sizeof *img->topics);
        img->topic_count--;
        ASSERT(image_rehash(img, img->hash_cap) == 0);
        return;
    }
    log_warn("image", "RemoveTopicRecord for unknown topic id; skipped");
}

static void copy_ids(int32_t *dst, int32_t *count, const int32_t *src, size_t n)
{
    if (n > CTRL_REPLICAS_MAX)
        n = CTRL_REPLICAS_MAX;
    if (n > 0)
        memcpy(dst, src, n * sizeof *dst);
    *count = (int32_t)n;
}

/* reassign_set - a partition's adding/removing sets, keeping the image's
 * count of partitions in reassignment. */
static void reassign_set(struct ctrl_image *img, struct ctrl_partition *p, const int32_t *adding, size_t n_adding,
                         const int32_t *removing, size_t n_removing)
{
    bool was = p->adding_count > 0 || p->removing_count > 0;
    copy_ids(p->adding, &p->adding_count, adding, n_adding);
    copy_ids(p->removing, &p->removing_count, removing, n_removing);
    bool is = p->adding_count > 0 || p->removing_count > 0;
    img->reassigning_count += (int32_t)is - (int32_t)was;
    ASSERT(img->reassigning_count >= 0);
}

static void apply_partition(struct ctrl_image *img, const Samsa__PartitionRecord *r)
{
    struct ctrl_topic *t = r->topic_id.len == 16 ? ctrl_image_topic_find_id(img, r->topic_id.data) : NULL;
    if (!t || r->partition_id < 0 || r->partition_id >= CTRL_PARTITIONS_PER_TOPIC_MAX) {
        log_error("image", "skipping PartitionRecord for unknown topic or bad partition=%d", r->partition_id);
        return;
    }
    if (r->partition_id >= t->partition_cap) {
        int32_t cap = t->partition_cap ? t->partition_cap : 4;
        while (cap <= r->partition_id)
            cap *= 2;
        struct ctrl_partition *np = realloc(t->partitions, (size_t)cap * sizeof *np);
        ASSERT(np != NULL);
        memset(np + t->partition_cap, 0, (size_t)(cap - t->partition_cap) * sizeof *np);
        t->partitions = np;
        t->partition_cap = cap;
    }
    struct ctrl_partition *p = &t->partitions[r->partition_id];
    p->partition_id = r->partition_id;
    p->leader = r->leader;
    p->leader_epoch = r->leader_epoch;
    p->partition_epoch = r->partition_epoch;
    copy_ids(p->replicas, &p->replica_count, r->replicas, r->n_replicas);
    copy_ids(p->isr, &p->isr_count, r->isr, r->n_isr);
    reassign_set(img, p, r->adding_replicas, r->n_adding_replicas, r->removing_replicas, r->n_removing_replicas);
    copy_ids(p->elr, &p->elr_count, r->eligible_leader_replicas, r->n_eligible_leader_replicas);
    copy_ids(p->last_known_elr, &p->last_known_elr_count, r->last_known_elr, r->n_last_known_elr);
    if (r->partition_id >= t->partition_count)
        t->partition_count = r->partition_id + 1;
}

static void apply_partition_change(struct ctrl_image *img, const Samsa__PartitionChangeRecord *r)
{
    struct ctrl_topic *t = r->topic_id.len == 16 ? ctrl_image_topic_find_id(img, r->topic_id.data) : NULL;
    if (!t || r->partition_id < 0 || r->partition_id >= t->partition_count) {
        log_error("image", "skipping PartitionChangeRecord for unknown partition=%d", r->partition_id);
        return;
    }
    struct ctrl_partition *p = &t->partitions[r->partition_id];
    if (r->has_leader && r->leader != p->leader) {
        p->leader = r->leader;
        p->leader_epoch++;
    }
    if (r->has_isr)
        copy_ids(p->isr, &p->isr_count, r->isr, r->n_isr);
    if (r->has_replicas)
        copy_ids(p->replicas, &p->replica_count, r->replicas, r->n_replicas);
    if (r->has_reassignment)
        reassign_set(img, p, r->adding_replicas, r->n_adding_replicas, r->removing_replicas,
                     r->n_removing_replicas);
    if (r->has_elr)
        copy_ids(p->elr, &p->elr_count, r->eligible_leader_replicas, r->n_eligible_leader_replicas);
    if (r->has_last_known_elr)
        copy_ids(p->last_known_elr, &p->last_known_elr_count, r->last_known_elr, r->n_last_known_elr);
    p->partition_epoch++;
}

/* elr_clear - a changed min.insync.replicas forgets the ELR of the topic
 * (NULL: of every topic, for a broker-level change), as Kafka does (KIP-966):
 * the ELR was chosen under the old value, and a lower one lets the HW move
 * past what its members hold.  Every node applies the same record, so the
 * images stay equal without a PartitionChangeRecord.  A partition left with
 * neither ISR nor ELR keeps them as its last known ELR. */
static void elr_clear(struct ctrl_image *img, const char *topic)
{
    for (int32_t i = 0; i < img->topic_count; i++) {
        struct ctrl_topic *t = img->topics[i];
        if (topic && strcmp(t->name, topic) != 0)
            continue;
        for (int32_t p = 0; p < t->partition_count; p++) {
            struct ctrl_partition *cp = &t->partitions[p];
            if (cp->isr_count == 0 && cp->elr_count > 0) /* they stay known, for operators */
                copy_ids(cp->last_known_elr, &cp->last_known_elr_count, cp->elr, (size_t)cp->elr_count);
            cp->elr_count = 0;
        }
    }
}

static void apply_config(struct ctrl_image *img, const Samsa__ConfigRecord *r)
{
    struct ctrl_configs *c = NULL;
    if (r->resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC) {
        struct ctrl_topic *t = ctrl_image_topic_find(img, r->resource_name, strlen(r->resource_name));
        c = t ? &t->configs : NULL;
    } else if (r->resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_BROKER) {
        int32_t id = r->resource_name[0] ? (int32_t)strtol(r->resource_name, NULL, 10) : -1;
        c = broker_configs_get(img, id, true);
    }
    if (!c) {
        log_warn("image", "ConfigRecord for unknown resource type=%d name=%s; skipped", r->resource_type,
                 r->resource_name);
        return;
    }
    ASSERT(configs_set(c, r->name, r->value, r->deleted) == 0);
    if (strcmp(r->name, "min.insync.replicas") == 0)
        elr_clear(img, r->resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC ? r->resource_name
                                                                                               : NULL);
}

static void endpoints_copy(struct ctrl_broker *b, Samsa__BrokerEndpoint **eps, size_t n)
{
    b->endpoint_count = 0;
    for (size_t i = 0; i < n && i < CTRL_ENDPOINTS_MAX; i++) {
        struct ctrl_endpoint *e = &b->endpoints[b->endpoint_count++];
        snprintf(e->name, sizeof e->name, "%s", eps[i]->name);
        snprintf(e->host, sizeof e->host, "%s", eps[i]->host);
        e->port = eps[i]->port;
        e->security_protocol = eps[i]->security_protocol;
    }
}

static void apply_register_broker(struct ctrl_image *img, const Samsa__RegisterBrokerRecord *r)
{
    struct ctrl_broker *b = (struct ctrl_broker *)ctrl_image_broker_find(img, r->broker_id);
    if (!b) {
        if (img->broker_count >= CTRL_BROKERS_MAX) {
            log_error("image", "broker limit reached max=%d; skipping broker=%d", CTRL_BROKERS_MAX, r->broker_id);
            return;
        }
        b = &img->brokers[img->broker_count++];
    }
    memset(b, 0, sizeof *b);
    b->broker_id = r->broker_id;
    if (r->incarnation_id.len == 16)
        memcpy(b->incarnation_id, r->incarnation_id.data, 16);
    b->broker_epoch = r->broker_epoch;
    b->fenced = r->fenced;
    endpoints_copy(b, r->endpoints, r->n_endpoints);
    snprintf(b->rack, sizeof b->rack, "%s", r->rack);
}

static void apply_unregister_broker(struct ctrl_image *img, const Samsa__UnregisterBrokerRecord *r)
{
    for (int32_t i = 0; i < img->broker_count; i++) {
        if (img->brokers[i].broker_id != r->broker_id)
            continue;
        img->brokers[i] = img->brokers[--img->broker_count];
        return;
    }
}

static void apply_broker_change(struct ctrl_image *img, const Samsa__BrokerRegistrationChangeRecord *r)
{
    struct ctrl_broker *b = (struct ctrl_broker *)ctrl_image_broker_find(img, r->broker_id);
    if (!b || b->broker_epoch != r->broker_epoch)
        return;
    if (r->has_fenced)
        b->fenced = r->fenced;
}

/* Ids never go back: a record below the current start (it cannot come from
 * a correct controller) is logged and ignored. */
static void apply_producer_ids(struct ctrl_image *img, const Samsa__ProducerIdsRecord *r, int64_t offset)
{
    if (r->next_producer_id_block_start < img->next_producer_id) {
        log_warn("image", "producer id block start moves back from=%lld to=%lld offset=%lld; ignored",
                 (long long)img->next_producer_id, (long long)r->next_producer_id_block_start, (long long)offset);
        return;
    }
    img->next_producer_id = r->next_producer_id_block_start;
}

int64_t ctrl_image_next_producer_id(const struct ctrl_image *img)
{
    return img->next_producer_id;
}

int32_t ctrl_image_quota_count(const struct ctrl_image *img)
{
    return img->quota_count;
}

const struct ctrl_quota *ctrl_image_quota_at(const struct ctrl_image *img, int32_t index)
{
    ASSERT(index >= 0 && index < img->quota_count);
    return &img->quotas[index];
}

static bool quota_part_set(struct ctrl_quota_part *p, const Samsa__ClientQuotaEntityPart *e)
{
    size_t n = strlen(e->entity_name);
    if (p->present || n > CTRL_QUOTA_NAME_BYTES_MAX || (e->is_default && n > 0))
        return false;
    p->present = true;
    p->is_default = e->is_default;
    memcpy(p->name, e->entity_name, n + 1);
    return true;
}

bool ctrl_quota_parts_from_record(const Samsa__ClientQuotaRecord *r, struct ctrl_quota_part *user,
                                  struct ctrl_quota_part *client_id)
{
    memset(user, 0, sizeof *user);
    memset(client_id, 0, sizeof *client_id);
    if (r->n_entity == 0 || r->n_entity > 2)
        return false;
    for (size_t i = 0; i < r->n_entity; i++) {
        const Samsa__ClientQuotaEntityPart *e = r->entity[i];
        if (strcmp(e->entity_type, "user") == 0) {
            if (!quota_part_set(user, e))
                return false;
        } else if (strcmp(e->entity_type, "client-id") == 0) {
            if (!quota_part_set(client_id, e))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

void ctrl_quota_record_fill(Samsa__ClientQuotaRecord *r, Samsa__ClientQuotaEntityPart *parts,
                            Samsa__ClientQuotaEntityPart **part_ptrs, const struct ctrl_quota_part *user,
                            const struct ctrl_quota_part *client_id, const char *key, double value, bool remove)
{
    ASSERT(user->present || client_id->present);
    samsa__client_quota_record__init(r);
    const struct ctrl_quota_part *src[2] = { user, client_id };
    static const char *const types[2] = { "user", "client-id" };
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        if (!src[i]->present)
            continue;
        samsa__client_quota_entity_part__init(&parts[n]);
        parts[n].entity_type = (char *)types[i];
        parts[n].entity_name = (char *)src[i]->name;
        parts[n].is_default = src[i]->is_default;
        part_ptrs[n] = &parts[n];
        n++;
    }
    r->entity = part_ptrs;
    r->n_entity = n;
    r->key = (char *)key;
    r->value = remove ? 0 : value;
    r->remove = remove;
}

static bool quota_part_eq(const struct ctrl_quota_part *a, const struct ctrl_quota_part *b)
{
    return a->present == b->present && a->is_default == b->is_default && strcmp(a->name, b->name) == 0;
}

static void apply_client_quota(struct ctrl_image *img, const Samsa__ClientQuotaRecord *r)
{
    struct ctrl_quota_part user, client_id;
    if (!ctrl_quota_parts_from_record(r, &user, &client_id) || r->key[0] == '\0') {
        log_error("image", "skipping malformed ClientQuotaRecord key=%s entity_parts=%zu", r->key, r->n_entity);
        return;
    }
    int32_t i = 0;
    while (i < img->quota_count &&
           !(quota_part_eq(&img->quotas[i].user, &user) && quota_part_eq(&img->quotas[i].client_id, &client_id)))
        i++;
    if (i == img->quota_count) {
        if (r->remove)
            return;
        if (img->quota_count >= CTRL_QUOTA_ENTITIES_MAX) {
            log_error("image", "ClientQuotaRecord skipped: already %d quota entities (the limit)",
                      CTRL_QUOTA_ENTITIES_MAX);
            return;
        }
        if (img->quota_count == img->quota_cap) {
            int32_t cap = img->quota_cap ? img->quota_cap * 2 : 8;
            struct ctrl_quota *q = realloc(img->quotas, (size_t)cap * sizeof *q);
            ASSERT(q != NULL);
            img->quotas = q;
            img->quota_cap = cap;
        }
        img->quotas[img->quota_count++] = (struct ctrl_quota){ .user = user, .client_id = client_id };
    }
    char text[64];
    snprintf(text, sizeof text, "%.17g", r->value);
    struct ctrl_quota *q = &img->quotas[i];
    ASSERT(configs_set(&q->values, r->key, text, r->remove) == 0);
    if (q->values.count == 0) {
        configs_deinit(&q->values);
        memmove(q, q + 1, (size_t)(img->quota_count - i - 1) * sizeof *q);
        img->quota_count--;
    }
}

void ctrl_image_apply(struct ctrl_image *img, const Samsa__MetadataRecord *rec, int64_t offset)
{
    ASSERT(offset >= img->applied_offset); /* an entry's records share its offset */
    img->applied_offset = offset;
    switch (rec->record_case) {
    case SAMSA__METADATA_RECORD__RECORD_TOPIC: apply_topic(img, rec->topic); break;
    case SAMSA__METADATA_RECORD__RECORD_REMOVE_TOPIC: apply_remove_topic(img, rec->remove_topic); break;
    case SAMSA__METADATA_RECORD__RECORD_PARTITION: apply_partition(img, rec->partition); break;
    case SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE: apply_partition_change(img, rec->partition_change); break;
    case SAMSA__METADATA_RECORD__RECORD_CONFIG: apply_config(img, rec->config); break;
    case SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER: apply_register_broker(img, rec->register_broker); break;
    case SAMSA__METADATA_RECORD__RECORD_UNREGISTER_BROKER: apply_unregister_broker(img, rec->unregister_broker); break;
    case SAMSA__METADATA_RECORD__RECORD_BROKER_CHANGE: apply_broker_change(img, rec->broker_change); break;
    case SAMSA__METADATA_RECORD__RECORD_NOOP: break;
    case SAMSA__METADATA_RECORD__RECORD_PRODUCER_IDS: apply_producer_ids(img, rec->producer_ids, offset); break;
    case SAMSA__METADATA_RECORD__RECORD_CLIENT_QUOTA: apply_client_quota(img, rec->client_quota); break;
    default: log_warn("image", "unknown metadata record case=%d offset=%lld; skipped", rec->record_case, (long long)offset);
    }
}

