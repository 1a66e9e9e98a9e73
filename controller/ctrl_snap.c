/*
 * ctrl_snap.c - image -> records -> file, and back.
 *
 * The records are the ones a fresh image needs to become equal to this one:
 * every broker registration (with its fenced flag), every topic with its
 * configs and partitions (leader, ISR, epochs exactly as they are now),
 * broker-level configs, client quotas and the next producer-id block start.  Loading is plain ctrl_image_apply, so snapshots
 * and log replay share one code path.
 */
#include "controller/ctrl_snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/be.h"
#include "common/crc32c.h"
#include "common/fileio.h"
#include "common/log.h"

#define SNAP_MAGIC 0x53534e50u /* "SSNP" */
#define SNAP_VERSION 1
#define SNAP_HDR_BYTES 16

struct snap_recs {
    Samsa__MetadataRecord **recs;
    size_t count, cap;
};

static Samsa__MetadataRecord *push(struct snap_recs *r, struct arena *a)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        Samsa__MetadataRecord **n = arena_alloc_array(a, cap, sizeof *n);
        if (!n)
            return NULL;
        if (r->count)
            memcpy(n, r->recs, r->count * sizeof *n);
        r->recs = n;
        r->cap = cap;
    }
    Samsa__MetadataRecord *m = arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    samsa__metadata_record__init(m);
    r->recs[r->count++] = m;
    return m;
}

static int configs_push(struct snap_recs *r, struct arena *a, const struct ctrl_configs *c, int type,
                        const char *resource)
{
    for (int32_t i = 0; c && i < c->count; i++) {
        Samsa__MetadataRecord *m = push(r, a);
        Samsa__ConfigRecord *cr = arena_alloc(a, sizeof *cr);
        if (!m || !cr)
            return ERR_LIMIT;
        samsa__config_record__init(cr);
        cr->resource_type = (Samsa__ConfigResourceType)type;
        cr->resource_name = (char *)resource;
        cr->name = c->entries[i].name;
        cr->value = c->entries[i].value;
        m->record_case = SAMSA__METADATA_RECORD__RECORD_CONFIG;
        m->config = cr;
    }
    return 0;
}

int ctrl_snap_encode(const struct ctrl_image *img, struct arena *a, struct buf *out)
{
    struct snap_recs r = { 0 };
    for (int32_t i = 0; i < ctrl_image_broker_count(img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        Samsa__MetadataRecord *m = push(&r, a);
        Samsa__RegisterBrokerRecord *rb = arena_alloc(a, sizeof *rb);
        Samsa__BrokerEndpoint **eps = arena_alloc_array(a, (size_t)b->endpoint_count + 1, sizeof *eps);
        if (!m || !rb || !eps)
            return ERR_LIMIT;
        samsa__register_broker_record__init(rb);
        rb->broker_id = b->broker_id;
        rb->incarnation_id.data = (uint8_t *)b->incarnation_id;
        rb->incarnation_id.len = 16;
        rb->broker_epoch = b->broker_epoch;
        rb->rack = (char *)b->rack;
        rb->fenced = b->fenced;
        for (int32_t e = 0; e < b->endpoint_count; e++) {
            Samsa__BrokerEndpoint *ep = arena_alloc(a, sizeof *ep);
            if (!ep)
                return ERR_LIMIT;
            samsa__broker_endpoint__init(ep);
            ep->name = (char *)b->endpoints[e].name;
            ep->host = (char *)b->endpoints[e].host;
            ep->port = b->endpoints[e].port;
            ep->security_protocol = b->endpoints[e].security_protocol;
            eps[e] = ep;
        }
        rb->endpoints = eps;
        rb->n_endpoints = (size_t)b->endpoint_count;
        m->record_case = SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER;
        m->register_broker = rb;
        char *id = arena_alloc(a, 16);
        if (!id)
            return ERR_LIMIT;
        snprintf(id, 16, "%d", b->broker_id);
        int rc = configs_push(&r, a, ctrl_image_broker_configs(img, b->broker_id), 4, id);
        if (rc < 0)
            return rc;
    }
    int rc = configs_push(&r, a, ctrl_image_broker_configs(img, -1), 4, "");
    if (rc < 0)
        return rc;
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        Samsa__MetadataRecord *m = push(&r, a);
        Samsa__TopicRecord *tr = arena_alloc(a, sizeof *tr);
        if (!m || !tr)
            return ERR_LIMIT;
        samsa__topic_record__init(tr);
        tr->name = t->name;
        tr->topic_id.data = (uint8_t *)t->topic_id;
        tr->topic_id.len = 16;
        m->record_case = SAMSA__METADATA_RECORD__RECORD_TOPIC;
        m->topic = tr;
        if ((rc = configs_push(&r, a, &t->configs, 2, t->name)) < 0)
            return rc;
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            Samsa__MetadataRecord *pm = push(&r, a);
            Samsa__PartitionRecord *pr = arena_alloc(a, sizeof *pr);
            if (!pm || !pr)
                return ERR_LIMIT;
            samsa__partition_record__init(pr);
            pr->topic_id.data = (uint8_t *)t->topic_id;
            pr->topic_id.len = 16;
            pr->partition_id = cp->partition_id;
            pr->replicas = (int32_t *)cp->replicas;
            pr->n_replicas = (size_t)cp->replica_count;
            pr->isr = (int32_t *)cp->isr;
            pr->n_isr = (size_t)cp->isr_count;
            pr->leader = cp->leader;
            pr->leader_epoch = cp->leader_epoch;
            pr->partition_epoch = cp->partition_epoch;
            pr->adding_replicas = (int32_t *)cp->adding;
            pr->n_adding_replicas = (size_t)cp->adding_count;
            pr->removing_replicas = (int32_t *)cp->removing;
            pr->n_removing_replicas = (size_t)cp->removing_count;
            pr->eligible_leader_replicas = (int32_t *)cp->elr;
            pr->n_eligible_leader_replicas = (size_t)cp->elr_count;
            pr->last_known_elr = (int32_t *)cp->last_known_elr;
            pr->n_last_known_elr = (size_t)cp->last_known_elr_count;
            pm->record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION;
            pm->partition = pr;
        }
    }
    for (int32_t i = 0; i < ctrl_image_quota_count(img); i++) {
        const struct ctrl_quota *q = ctrl_image_quota_at(img, i);
        for (int32_t k = 0; k < q->values.count; k++) {
            Samsa__MetadataRecord *m = push(&r, a);
            Samsa__ClientQuotaRecord *qr = arena_alloc(a, sizeof *qr);
            Samsa__ClientQuotaEntityPart *parts = arena_alloc_array(a, 2, sizeof *parts);
            Samsa__ClientQuotaEntityPart **part_ptrs = arena_alloc_array(a, 2, sizeof *part_ptrs);
            if (!m || !qr || !parts || !part_ptrs)
                return ERR_LIMIT;
            ctrl_quota_record_fill(qr, parts, part_ptrs, &q->user, &q->client_id, q->values.entries[k].name,
                                   strtod(q->values.entries[k].value, NULL), false);
            m->record_case = SAMSA__METADATA_RECORD__RECORD_CLIENT_QUOTA;
            m->client_quota = qr;
        }
    }
    if (ctrl_image_next_producer_id(img) > 0) {
        Samsa__MetadataRecord *m = push(&r, a);
        Samsa__ProducerIdsRecord *pr = arena_alloc(a, sizeof *pr);
        if (!m || !pr)
            return ERR_LIMIT;
        samsa__producer_ids_record__init(pr);
        pr->broker_id = -1;
        pr->broker_epoch = -1;
        pr->next_producer_id_block_start = ctrl_image_next_producer_id(img);
        m->record_case = SAMSA__METADATA_RECORD__RECORD_PRODUCER_IDS;
        m->producer_ids = pr;
    }
    Samsa__MetadataBatch batch = SAMSA__METADATA_BATCH__INIT;
    batch.records = r.recs;
    batch.n_records = r.count;
    size_t size = samsa__metadata_batch__get_packed_size(&batch);
    if (size > CTRL_SNAP_BYTES_MAX)
        return ERR_TOO_LARGE;
    buf_reset(out);
    if ((rc = buf_reserve(out, size ? size : 1)) < 0)
        return rc;
    out->len = samsa__metadata_batch__pack(&batch, out->ptr);
    return 0;
}

static int snap_path(const char *dir, uint64_t index, uint64_t epoch, const char *suffix, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/__cluster_metadata-0/%020" PRIu64 "-%010" PRIu64 ".checkpoint%s", dir, index,
                     epoch, suffix);
    return n < 0 || (size_t)n >= size ? ERR_LIMIT : 0;
}

static int parse_name(const char *name, uint64_t *index, uint64_t *epoch)
{
    unsigned long long i, e;
    char tail[32];
    if (sscanf(name, "%20llu-%10llu.%31s", &i, &e, tail) != 3 || strcmp(tail, "checkpoint") != 0)
        return ERR_NOT_FOUND;
    *index = i;
    *epoch = e;
    return 0;
}

int ctrl_snap_latest(const char *dir, uint64_t *index, uint64_t *epoch)
{
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/__cluster_metadata-0", dir);
    DIR *d = opendir(sub);
    if (!d)
        return ERR_NOT_FOUND;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t i, ep;
        if (parse_name(e->d_name, &i, &ep) == 0 && (!found || i > *index)) {
            *index = i;
            *epoch = ep;
            found = true;
        }
    }
    closedir(d);
    return found ? 0 : ERR_NOT_FOUND;
}

int ctrl_snap_write(const char *dir, uint64_t index, uint64_t epoch, struct bytes payload)
{
    char path[PATH_MAX], sub[PATH_MAX];
    int rc = snap_path(dir, index, epoch, "", path, sizeof path);
    if (rc < 0)
        return rc;
    snprintf(sub, sizeof sub, "%s/__cluster_metadata-0", dir);
    uint8_t hdr[SNAP_HDR_BYTES];
    be_put32(hdr, SNAP_MAGIC);
    be_put32(hdr + 4, SNAP_VERSION);
    be_put32(hdr + 8, crc32c(0, payload.ptr, payload.len));
    be_put32(hdr + 12, (uint32_t)payload.len);
    const struct bytes parts[2] = { { hdr, sizeof hdr }, payload };
    rc = fileio_write_atomic(path, parts, 2);
    if (rc < 0)
        return rc;
    /* older snapshots are no longer needed */
    DIR *d = opendir(sub);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            uint64_t i, ep;
            if (parse_name(e->d_name, &i, &ep) == 0 && i < index) {
                char old[PATH_MAX + 256];
                int n = snprintf(old, sizeof old, "%s/%s", sub, e->d_name);
                if (n > 0 && (size_t)n < sizeof old)
                    unlink(old);
            }
        }
        closedir(d);
    }
    return rc;
}

int ctrl_snap_read(const char *dir, uint64_t index, uint64_t epoch, struct buf *out)
{
    char path[PATH_MAX];
    int rc = snap_path(dir, index, epoch, "", path, sizeof path);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t hdr[SNAP_HDR_BYTES];
    rc = 0;
    if (read(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr || be_get32(hdr) != SNAP_MAGIC || be_get32(hdr + 4) != SNAP_VERSION ||
        be_get32(hdr + 12) > CTRL_SNAP_BYTES_MAX)
        rc = ERR_CORRUPT;
    uint32_t len = rc == 0 ? be_get32(hdr + 12) : 0;
    buf_reset(out);
    if (rc == 0)
        rc = buf_reserve(out, len ? len : 1);
    if (rc == 0 && read(fd, out->ptr, len) != (ssize_t)len)
        rc = ERR_CORRUPT;
    close(fd);
    if (rc == 0 && crc32c(0, out->ptr, len) != be_get32(hdr + 8))
        rc = ERR_CORRUPT;
    if (rc < 0) {
        log_error("snap", "metadata snapshot unreadable path=%s error=\"%s\"", path, err_str(rc));
        return rc;
    }
    out->len = len;
    return 0;
}

int ctrl_snap_load(struct ctrl_image *img, struct bytes payload, int64_t offset)
{
    Samsa__MetadataBatch *batch = samsa__metadata_batch__unpack(NULL, payload.len, payload.ptr);
    if (!batch)
        return ERR_CORRUPT;
    for (size_t i = 0; i < batch->n_records; i++)
        ctrl_image_apply(img, batch->records[i], offset);
    samsa__metadata_batch__free_unpacked(batch, NULL);
    return 0;
}
