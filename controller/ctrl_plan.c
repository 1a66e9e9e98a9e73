/*
 * ctrl_plan.c - planning: admin operations and cluster events turned into
 * metadata records against an image.  Pure and read-only on the image: the
 * active controller runs these on its own image (typed RPCs from brokers,
 * forwarded Kafka admin requests, lease changes) and proposes the result;
 * nothing here proposes, sends or stores anything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/log.h"
#include "controller/ctrl.h"

static int recs_push(struct ctrl_records *out, struct arena *a, Samsa__MetadataRecord *r)
{
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        if (cap > CTRL_BATCH_RECORDS_MAX)
            return ERR_LIMIT;
        Samsa__MetadataRecord **n = arena_alloc_array(a, cap, sizeof *n);
        if (!n)
            return ERR_LIMIT;
        if (out->count)
            memcpy(n, out->recs, out->count * sizeof *n);
        out->recs = n;
        out->cap = cap;
    }
    out->recs[out->count++] = r;
    return 0;
}

static Samsa__MetadataRecord *rec_new(struct arena *a)
{
    Samsa__MetadataRecord *r = arena_alloc(a, sizeof *r);
    if (r)
        samsa__metadata_record__init(r);
    return r;
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

const char *ctrl_plan_error_text(int rc)
{
    switch (rc) {
    case ERR_EXISTS: return "Topic already exists.";
    case ERR_INVALID_TOPIC: return "Topic name is illegal: it must be 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'.";
    case ERR_INVALID_PARTITIONS: return "Number of partitions must be larger than 0 (and larger than the current count when adding).";
    case ERR_INVALID_REPLICATION_FACTOR: return "Replication factor must be larger than 0 and not larger than the number of available brokers.";
    case ERR_INVALID_REPLICA_ASSIGNMENT: return "Replica assignment is invalid: every partition needs the same number of distinct, registered brokers.";
    case ERR_NOT_FOUND: return "This server does not host this topic-partition.";
    default: return err_str(rc);
    }
}

int ctrl_topic_name_check(const char *name, size_t len)
{
    if (len == 0 || len > CTRL_TOPIC_NAME_BYTES_MAX)
        return ERR_INVALID_TOPIC;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return ERR_INVALID_TOPIC;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return ERR_INVALID_TOPIC;
    }
    return 0;
}

/* The unfenced brokers, sorted by id: the placement candidates. */
static int32_t live_brokers(const struct ctrl_image *img, int32_t *ids)
{
    int32_t n = 0;
    for (int32_t i = 0; i < ctrl_image_broker_count(img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(img, i);
        if (b->fenced)
            continue;
        int32_t j = n++;
        while (j > 0 && ids[j - 1] > b->broker_id) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = b->broker_id;
    }
    return n;
}

ctrl_plan_random_fn ctrl_plan_random_hook;

/* plan_random - len random bytes (topic ids, placement): getrandom, or the
 * simulator's seeded source. */
static int plan_random(void *out, size_t len)
{
    if (ctrl_plan_random_hook) {
        ctrl_plan_random_hook(out, len);
        return 0;
    }
    return getrandom(out, len, 0) == (ssize_t)len ? 0 : -EIO;
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (plan_random(&v, sizeof v) < 0)
        v = 0;
    return v;
}

static Samsa__MetadataRecord *partition_rec(struct arena *a, const uint8_t *topic_id, int32_t pid,
                                            const int32_t *replicas, int32_t rf)
{
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__PartitionRecord *p = arena_alloc(a, sizeof *p);
    int32_t *reps = arena_alloc_array(a, (size_t)rf, sizeof *reps);
    if (!r || !p || !reps)
        return NULL;
    samsa__partition_record__init(p);
    memcpy(reps, replicas, (size_t)rf * sizeof *reps);
    p->topic_id.data = (uint8_t *)topic_id;
    p->topic_id.len = 16;
    p->partition_id = pid;
    p->n_replicas = (size_t)rf;
    p->replicas = reps;
    /* Kafka's: every replica starts in the ISR (all are empty), so acks=all
     * waits for all of them from the first record; the leader shrinks the ISR
     * through AlterPartition if one does not fetch within
     * replica.lag.time.max.ms. */
    p->n_isr = (size_t)rf;
    p->isr = reps;
    p->leader = reps[0];
    p->leader_epoch = 0;
    p->partition_epoch = 0;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION;
    r->partition = p;
    return r;
}

/* Kafka-style placement: partition p's first replica is broker
 * (start + p) % n, followers follow it in id order, so leaders spread evenly. */
static void place_replicas(const int32_t *ids, int32_t n, uint32_t start, int32_t pid, int32_t rf, int32_t *out)
{
    for (int32_t j = 0; j < rf; j++)
        out[j] = ids[(start + (uint32_t)pid + (uint32_t)j) % (uint32_t)n];
}

static int assignment_error(char *msg, size_t msg_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int assignment_error(char *msg, size_t msg_size, const char *fmt, ...)
{
    if (msg && msg_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msg_size, fmt, ap);
        va_end(ap);
    }
    return ERR_INVALID_REPLICA_ASSIGNMENT;
}

int ctrl_plan_assignment_check(const struct ctrl_image *img, const int32_t *const *assignments, const int32_t *lens,
                               int32_t count, int32_t rf, int32_t first_partition, char *msg, size_t msg_size)
{
    ASSERT(count >= 0);
    for (int32_t p = 0; p < count; p++) {
        int32_t n = lens[p];
        if (n <= 0)
            return assignment_error(msg, msg_size, "The manual partition assignment includes an empty replica list.");
        if (n > CTRL_REPLICAS_MAX)
            return assignment_error(msg, msg_size, "The manual partition assignment for partition %d has %d "
                                    "replicas; at most %d are supported.", first_partition + p, n, CTRL_REPLICAS_MAX);
        /* Kafka checks the ids in ascending order: the smallest offender is named */
        int32_t sorted[CTRL_REPLICAS_MAX];
        for (int32_t j = 0; j < n; j++) {
            int32_t k = j;
            for (; k > 0 && sorted[k - 1] > assignments[p][j]; k--)
                sorted[k] = sorted[k - 1];
            sorted[k] = assignments[p][j];
        }
        int32_t active = 0;
        for (int32_t j = 0; j < n; j++) {
            const struct ctrl_broker *b = ctrl_image_broker_find(img, sorted[j]);
            if (!b)
                return assignment_error(msg, msg_size, "The manual partition assignment includes broker %d, but "
                                        "no such broker is registered.", sorted[j]);
            if (j > 0 && sorted[j] == sorted[j - 1])
                return assignment_error(msg, msg_size, "The manual partition assignment includes the broker %d "
                                        "more than once.", sorted[j]);
            active += !b->fenced;
        }
        if (rf >= 0 && n != rf)
            return assignment_error(msg, msg_size, "The manual partition assignment includes a partition with %d "
                                    "replica(s), but this is not consistent with previous partitions, which have %d "
                                    "replica(s).", n, rf);
        rf = n;
        if (active == 0)
            return assignment_error(msg, msg_size, "All brokers specified in the manual partition assignment for "
                                    "partition %d are fenced or in controlled shutdown.", first_partition + p);
    }
    return 0;
}

/* manual_partition_rec - a manually assigned partition's record, as KRaft's
 * ReplicationControlManager builds it: the ISR is the replicas that are
 * unfenced now (in list order), the leader the first of them. */
static Samsa__MetadataRecord *manual_partition_rec(const struct ctrl_image *img, struct arena *a,
                                                   const uint8_t *topic_id, int32_t pid, const int32_t *replicas,
                                                   int32_t rf)
{
    Samsa__MetadataRecord *r = partition_rec(a, topic_id, pid, replicas, rf);
    int32_t *isr = arena_alloc_array(a, (size_t)rf, sizeof *isr);
    if (!r || !isr)
        return NULL;
    Samsa__PartitionRecord *p = r->partition;
    size_t n = 0;
    for (size_t j = 0; j < p->n_replicas; j++) {
        const struct ctrl_broker *b = ctrl_image_broker_find(img, p->replicas[j]);
        if (b && !b->fenced)
            isr[n++] = p->replicas[j];
    }
    ASSERT(n > 0); /* ctrl_plan_assignment_check refused an all-fenced list */
    p->isr = isr;
    p->n_isr = n;
    p->leader = isr[0];
    return r;
}

int ctrl_plan_create_topic(const struct ctrl_image *img, const struct ctrl_topic_spec *spec,
                           int32_t default_partitions, int16_t default_replication_factor, struct arena *a,
                           struct ctrl_records *out, int32_t *effective_partitions,
                           int16_t *effective_replication_factor)
{
    int rc = ctrl_topic_name_check(spec->name, spec->name_len);
    if (rc < 0)
        return rc;
    if (ctrl_image_topic_find(img, spec->name, spec->name_len))
        return ERR_EXISTS;
    int32_t ids[CTRL_BROKERS_MAX];
    int32_t n = live_brokers(img, ids);
    int32_t parts = spec->partition_count;
    int32_t rf = spec->replication_factor;
    if (spec->assignment_count > 0) {
        if ((parts != -1 && parts != spec->assignment_count) || (rf != -1))
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        rc = ctrl_plan_assignment_check(img, spec->assignments, spec->assignment_lens, spec->assignment_count, -1,
                                        0, NULL, 0);
        if (rc < 0)
            return rc;
        parts = spec->assignment_count;
        rf = (int16_t)spec->assignment_lens[0];
    }
    if (parts == -1)
        parts = default_partitions;
    if (rf == -1)
        rf = default_replication_factor;
    if (parts <= 0 || parts > CTRL_PARTITIONS_PER_TOPIC_MAX)
        return ERR_INVALID_PARTITIONS;
    /* a manual assignment may name fenced brokers (one unfenced per partition
     * suffices, checked above), so only placement is bound by the live count */
    if (rf <= 0 || rf > CTRL_REPLICAS_MAX || (spec->assignment_count == 0 && rf > n))
        return ERR_INVALID_REPLICATION_FACTOR;
    if (spec->config_count > CTRL_TOPIC_CONFIGS_MAX)
        return ERR_LIMIT;
    uint8_t *topic_id = arena_alloc(a, 16);
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__TopicRecord *t = arena_alloc(a, sizeof *t);
    char *name = arena_strndup(a, spec->name, spec->name_len);
    if (!topic_id || !r || !t || !name)
        return ERR_LIMIT;
    do {
        if (plan_random(topic_id, 16) < 0)
            return -EIO;
        topic_id[6] = (uint8_t)((topic_id[6] & 0x0f) | 0x40); /* version-4 uuid like Kafka's Uuid.randomUuid */
        topic_id[8] = (uint8_t)((topic_id[8] & 0x3f) | 0x80);
    } while (ctrl_image_topic_find_id(img, topic_id));
    samsa__topic_record__init(t);
    t->name = name;
    t->topic_id.data = topic_id;
    t->topic_id.len = 16;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_TOPIC;
    r->topic = t;
    if ((rc = recs_push(out, a, r)) < 0)
        return rc;
    for (int32_t i = 0; i < spec->config_count; i++) {
        rc = ctrl_plan_config(NULL, SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC, name, spec->configs[i].name,
                              spec->configs[i].value, a, out);
        if (rc < 0)
            return rc;
    }
    uint32_t start = n ? random_u32() % (uint32_t)n : 0;
    int32_t replicas[CTRL_REPLICAS_MAX];
    for (int32_t p = 0; p < parts; p++) {
        Samsa__MetadataRecord *pr;
        if (spec->assignment_count > 0) {
            pr = manual_partition_rec(img, a, topic_id, p, spec->assignments[p], rf);
        } else {
            place_replicas(ids, n, start, p, rf, replicas);
            pr = partition_rec(a, topic_id, p, replicas, rf);
        }
        if (!pr)
            return ERR_LIMIT;
        if ((rc = recs_push(out, a, pr)) < 0)
            return rc;
    }
    *effective_partitions = parts;
    *effective_replication_factor = (int16_t)rf;
    return 0;
}

int ctrl_plan_delete_topic(const struct ctrl_image *img, const char *name, size_t len, struct arena *a,
                           struct ctrl_records *out)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, len);
    if (!t)
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__RemoveTopicRecord *rt = arena_alloc(a, sizeof *rt);
    uint8_t *id = arena_alloc(a, 16);
    if (!r || !rt || !id)
        return ERR_LIMIT;
    samsa__remove_topic_record__init(rt);
    memcpy(id, t->topic_id, 16);
    rt->topic_id.data = id;
    rt->topic_id.len = 16;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_REMOVE_TOPIC;
    r->remove_topic = rt;
    return recs_push(out, a, r);
}

int ctrl_plan_create_partitions(const struct ctrl_image *img, const char *name, size_t len, int32_t new_count,
                                const int32_t *const *assignments, const int32_t *assignment_lens,
                                int32_t assignment_count, struct arena *a, struct ctrl_records *out)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, len);
    if (!t)
        return ERR_NOT_FOUND;
    if (new_count <= t->partition_count || new_count > CTRL_PARTITIONS_PER_TOPIC_MAX)
        return ERR_INVALID_PARTITIONS;
    int32_t ids[CTRL_BROKERS_MAX];
    int32_t n = live_brokers(img, ids);
    /* the replication factor of partition 0: its target's while it is being reassigned */
    int32_t rf = t->partition_count > 0 ? t->partitions[0].replica_count - t->partitions[0].removing_count : 1;
    if (assignment_count > 0) {
        if (assignment_count != new_count - t->partition_count)
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        int rc = ctrl_plan_assignment_check(img, assignments, assignment_lens, assignment_count, rf,
                                            t->partition_count, NULL, 0);
        if (rc < 0)
            return rc;
    } else if (rf > n) {
        return ERR_INVALID_REPLICATION_FACTOR;
    }
    uint8_t *id = arena_alloc(a, 16);
    if (!id)
        return ERR_LIMIT;
    memcpy(id, t->topic_id, 16);
    uint32_t start = n ? random_u32() % (uint32_t)n : 0;
    int32_t replicas[CTRL_REPLICAS_MAX];
    for (int32_t p = t->partition_count; p < new_count; p++) {
        Samsa__MetadataRecord *pr;
        if (assignment_count > 0) {
            pr = manual_partition_rec(img, a, id, p, assignments[p - t->partition_count], rf);
        } else {
            place_replicas(ids, n, start, p, rf, replicas);
            pr = partition_rec(a, id, p, replicas, rf);
        }
        if (!pr)
            return ERR_LIMIT;
        int rc = recs_push(out, a, pr);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int ctrl_plan_config(const struct ctrl_image *img, int resource_type, const char *resource_name, const char *name,
                     const char *value, struct arena *a, struct ctrl_records *out)
{
    if (img && resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC &&
        !ctrl_image_topic_find(img, resource_name, strlen(resource_name)))
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__ConfigRecord *cr = arena_alloc(a, sizeof *cr);
    char *rn = arena_strndup(a, resource_name, strlen(resource_name));
    char *n = arena_strndup(a, name, strlen(name));
    char *v = arena_strndup(a, value ? value : "", value ? strlen(value) : 0);
    if (!r || !cr || !rn || !n || !v)
        return ERR_LIMIT;
    samsa__config_record__init(cr);
    cr->resource_type = (Samsa__ConfigResourceType)resource_type;
    cr->resource_name = rn;
    cr->name = n;
    cr->value = v;
    cr->deleted = value == NULL;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_CONFIG;
    r->config = cr;
    return recs_push(out, a, r);
}

int ctrl_plan_client_quota(const struct ctrl_quota_part *user, const struct ctrl_quota_part *client_id,
                           const char *key, double value, bool remove, struct arena *a, struct ctrl_records *out)
{
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__ClientQuotaRecord *q = arena_alloc(a, sizeof *q);
    Samsa__ClientQuotaEntityPart *parts = arena_alloc_array(a, 2, sizeof *parts);
    Samsa__ClientQuotaEntityPart **part_ptrs = arena_alloc_array(a, 2, sizeof *part_ptrs);
    struct ctrl_quota_part *own = arena_alloc_array(a, 2, sizeof *own); /* the record outlives the caller's */
    char *k = arena_strndup(a, key, strlen(key));
    if (!r || !q || !parts || !part_ptrs || !own || !k)
        return ERR_LIMIT;
    own[0] = *user;
    own[1] = *client_id;
    ctrl_quota_record_fill(q, parts, part_ptrs, &own[0], &own[1], k, value, remove);
    r->record_case = SAMSA__METADATA_RECORD__RECORD_CLIENT_QUOTA;
    r->client_quota = q;
    return recs_push(out, a, r);
}

static bool id_in(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

#define PLAN_LEADER_KEEP INT32_MIN

/* partition_change_push - a PartitionChangeRecord for (topic, pid): leader
 * unless PLAN_LEADER_KEEP, isr unless NULL (empty only with ELR: KIP-966
 * lets the last member leave). */
static int partition_change_push(struct arena *a, struct ctrl_records *out, const uint8_t *topic_id, int32_t pid,
                                 int32_t leader, const int32_t *isr, int32_t isr_count)
{
    Samsa__MetadataRecord *pr = rec_new(a);
    Samsa__PartitionChangeRecord *pc = arena_alloc(a, sizeof *pc);
    uint8_t *id = arena_alloc(a, 16);
    int32_t *ids = isr ? arena_alloc_array(a, (size_t)(isr_count > 0 ? isr_count : 1), sizeof *ids) : NULL;
    if (!pr || !pc || !id || (isr && !ids))
        return ERR_LIMIT;
    samsa__partition_change_record__init(pc);
    memcpy(id, topic_id, 16);
    pc->topic_id.data = id;
    pc->topic_id.len = 16;
    pc->partition_id = pid;
    if (leader != PLAN_LEADER_KEEP) {
        pc->has_leader = true;
        pc->leader = leader;
    }
    if (isr) {
        ASSERT(isr_count >= 0 && isr_count <= CTRL_REPLICAS_MAX);
        ASSERT(isr_count >= 1 || leader == -1); /* a leader is in its ISR */
        if (isr_count > 0)
            memcpy(ids, isr, (size_t)isr_count * sizeof *ids);
        pc->has_isr = true;
        pc->n_isr = (size_t)isr_count;
        pc->isr = ids;
    }
    pr->record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE;
    pr->partition_change = pc;
    return recs_push(out, a, pr);
}

static bool same_members(const int32_t *a, int32_t an, const int32_t *b, int32_t bn)
{
    if (an != bn)
        return false;
    for (int32_t i = 0; i < an; i++)
        if (!id_in(b, bn, a[i]))
            return false;
    return true;
}

/* ---- partition changes: ISR, ELR (KIP-966) and elections ----
 *
 * A change is planned as a target state (leader, ISR, ELR, last known ELR)
 * and emitted as one PartitionChangeRecord carrying what differs.  With
 * eligible.leader.replicas.enable:
 *
 *   ISR shrinks below min ISR ──► the members that left join the ELR
 *   ISR back at min ISR ────────► ELR and last known ELR cleared
 *   unclean registration ───────► the broker leaves ISR and ELR
 *   ISR and ELR both empty ─────► last known ELR = the last eligible ones
 *   election: live ISR member, else live ELR member (ISR [it]), else a live
 *   last known ELR member (Kafka's last known leader), else unclean (if
 *   allowed), else none.
 *
 * The ELR is sound because the leader's HW does not move while the ISR is
 * below min ISR (strict min ISR, broker/replica/brk_isr), so a member that
 * left such an ISR holds every committed record until it is fenced after an
 * unclean shutdown. */

enum plan_elected { PLAN_ELECTED_NONE, PLAN_ELECTED_ELR, PLAN_ELECTED_LAST_KNOWN, PLAN_ELECTED_UNCLEAN };

struct plan_target {
    int32_t leader;
    enum plan_elected elected;   /* how a leader from outside the ISR was found (logged when emitted) */
    int32_t isr_count, elr_count, lke_count;
    int32_t isr[CTRL_REPLICAS_MAX], elr[CTRL_REPLICAS_MAX], lke[CTRL_REPLICAS_MAX];
};

/* What an election sees for one topic. */
struct plan_rules {
    bool unclean;      /* unclean.leader.election.enable in effect */
    bool elr;          /* eligible.leader.replicas.enable */
    int32_t min_isr;   /* effective min.insync.replicas */
};

static struct plan_rules plan_rules_get(const struct ctrl_image *img, const struct ctrl_topic *t,
                                        const struct ctrl_partition *cp, const struct ctrl_plan_policy *pol)
{
    return (struct plan_rules){ .unclean = ctrl_plan_unclean_enabled(img, t, pol->unclean_default),
                                .elr = pol->elr_enabled,
                                .min_isr = ctrl_plan_min_isr(img, t, cp, pol->min_isr_default) };
}

static void target_get(const struct ctrl_partition *cp, struct plan_target *tg)
{
    tg->leader = cp->leader;
    tg->elected = PLAN_ELECTED_NONE;
    tg->isr_count = cp->isr_count;
    tg->elr_count = cp->elr_count;
    tg->lke_count = cp->last_known_elr_count;
    memcpy(tg->isr, cp->isr, sizeof tg->isr);
    memcpy(tg->elr, cp->elr, sizeof tg->elr);
    memcpy(tg->lke, cp->last_known_elr, sizeof tg->lke);
}

/* target_elr - the ELR and last known ELR once tg->isr is decided (Kafka's
 * PartitionChangeBuilder.maybePopulateTargetElr): off, or an ISR at min ISR,
 * clears both; else the ELR is every replica that was in the ISR or the ELR
 * and is not in the new ISR, except unclean_id (back from an unclean
 * shutdown).  When ISR and ELR end both empty the last known ELR keeps the
 * last eligible replicas (or what it held). */
static void target_elr(const struct ctrl_partition *cp, struct plan_rules rules, int32_t unclean_id,
                       struct plan_target *tg)
{
    tg->elr_count = 0;
    if (!rules.elr || tg->isr_count >= rules.min_isr) {
        tg->lke_count = 0;
        return;
    }
    int32_t eligible[CTRL_REPLICAS_MAX], eligible_count = 0;
    for (int32_t k = 0; k < cp->replica_count; k++) {
        int32_t id = cp->replicas[k];
        if (!id_in(cp->isr, cp->isr_count, id) && !id_in(cp->elr, cp->elr_count, id))
            continue;
        eligible[eligible_count++] = id;
        if (!id_in(tg->isr, tg->isr_count, id) && id != unclean_id)
            tg->elr[tg->elr_count++] = id;
    }
    if (tg->isr_count > 0 || tg->elr_count > 0) {
        tg->lke_count = 0;
    } else if (eligible_count > 0) {
        memcpy(tg->lke, eligible, (size_t)eligible_count * sizeof *eligible);
        tg->lke_count = eligible_count;
    }
    ASSERT(tg->elr_count <= CTRL_REPLICAS_MAX);
}

/* A broker as an election sees it: `gone` counts as fenced (it is being
 * fenced), `back` as unfenced (it is being unfenced, or registers). */
struct plan_liveness {
    int32_t gone;
    int32_t back;
};

static bool broker_live(const struct ctrl_image *img, int32_t id, struct plan_liveness lv)
{
    if (id == lv.gone)
        return false;
    if (id == lv.back)
        return true;
    const struct ctrl_broker *b = ctrl_image_broker_find(img, id);
    return b && !b->fenced;
}

/* elect - the first replica in replicas order (the preferred one first)
 * that is in ids (any replica when ids is NULL) and live; -1 if none. */
static int32_t elect(const struct ctrl_image *img, const struct ctrl_partition *cp, const int32_t *ids,
                     int32_t count, struct plan_liveness lv)
{
    for (int32_t k = 0; k < cp->replica_count; k++) {
        int32_t id = cp->replicas[k];
        if ((!ids || id_in(ids, count, id)) && broker_live(img, id, lv))
            return id;
    }
    return -1;
}

/* target_elect - a leader for tg, whose leader is gone, by the order above.
 * A leader from outside the ISR gets the ISR [it]; from the ELR the rest of
 * the ELR stays eligible (below min ISR the HW has not moved), otherwise
 * the ELR is cleared (an unclean leader defines a new history). */
static void target_elect(const struct ctrl_image *img, const struct ctrl_partition *cp, struct plan_rules rules,
                         struct plan_liveness lv, struct plan_target *tg)
{
    tg->leader = elect(img, cp, tg->isr, tg->isr_count, lv);
    if (tg->leader >= 0)
        return;
    int32_t id = elect(img, cp, tg->elr, tg->elr_count, lv);
    bool from_elr = id >= 0;
    tg->elected = PLAN_ELECTED_ELR;
    if (id < 0 && (id = elect(img, cp, tg->lke, tg->lke_count, lv)) >= 0)
        tg->elected = PLAN_ELECTED_LAST_KNOWN;
    if (id < 0 && rules.unclean && (id = elect(img, cp, NULL, 0, lv)) >= 0)
        tg->elected = PLAN_ELECTED_UNCLEAN;
    if (id < 0) {
        tg->elected = PLAN_ELECTED_NONE;
        return;
    }
    tg->leader = id;
    tg->isr[0] = id;
    tg->isr_count = 1;
    int32_t k = 0;
    for (int32_t i = 0; from_elr && rules.min_isr > 1 && i < tg->elr_count; i++)
        if (tg->elr[i] != id)
            tg->elr[k++] = tg->elr[i];
    tg->elr_count = k;
    tg->lke_count = 0;
}

static bool target_changed(const struct ctrl_partition *cp, const struct plan_target *tg)
{
    return tg->leader != cp->leader || !same_members(tg->isr, tg->isr_count, cp->isr, cp->isr_count) ||
           !same_members(tg->elr, tg->elr_count, cp->elr, cp->elr_count) ||
           !same_members(tg->lke, tg->lke_count, cp->last_known_elr, cp->last_known_elr_count);
}

static int32_t *ids_dup(struct arena *a, const int32_t *ids, int32_t n)
{
    int32_t *p = arena_alloc_array(a, (size_t)(n ? n : 1), sizeof *p);
    if (p && n)
        memcpy(p, ids, (size_t)n * sizeof *p);
    return p;
}

/* target_emit - one PartitionChangeRecord taking cp to tg (call only when
 * target_changed). */
static int target_emit(struct arena *a, struct ctrl_records *out, const struct ctrl_topic *t,
                       const struct ctrl_partition *cp, const struct plan_target *tg)
{
    const uint8_t *topic_id = t->topic_id;
    if (tg->elected == PLAN_ELECTED_ELR)
        log_info("plan", "electing broker=%d from the eligible leader replicas (KIP-966): no ISR member is live; "
                 "it holds every committed record topic=%s partition=%d", tg->leader, t->name, cp->partition_id);
    else if (tg->elected == PLAN_ELECTED_LAST_KNOWN)
        log_warn("plan", "electing broker=%d, a last known eligible leader replica: no ISR or ELR member is left; "
                 "records it lost in an unclean shutdown are lost topic=%s partition=%d", tg->leader, t->name,
                 cp->partition_id);
    else if (tg->elected == PLAN_ELECTED_UNCLEAN)
        log_warn("plan", "unclean leader election of broker=%d (unclean.leader.election.enable): records it lacks "
                 "are lost topic=%s partition=%d", tg->leader, t->name, cp->partition_id);
    bool isr_changed = !same_members(tg->isr, tg->isr_count, cp->isr, cp->isr_count);
    int rc = partition_change_push(a, out, topic_id, cp->partition_id,
                                   tg->leader != cp->leader ? tg->leader : PLAN_LEADER_KEEP,
                                   isr_changed ? tg->isr : NULL, tg->isr_count);
    if (rc < 0)
        return rc;
    Samsa__PartitionChangeRecord *pc = out->recs[out->count - 1]->partition_change;
    if (!same_members(tg->elr, tg->elr_count, cp->elr, cp->elr_count)) {
        pc->has_elr = true;
        pc->n_eligible_leader_replicas = (size_t)tg->elr_count;
        if (!(pc->eligible_leader_replicas = ids_dup(a, tg->elr, tg->elr_count)))
            return ERR_LIMIT;
    }
    if (!same_members(tg->lke, tg->lke_count, cp->last_known_elr, cp->last_known_elr_count)) {
        pc->has_last_known_elr = true;
        pc->n_last_known_elr = (size_t)tg->lke_count;
        if (!(pc->last_known_elr = ids_dup(a, tg->lke, tg->lke_count)))
            return ERR_LIMIT;
    }
    return 0;
}

static void reply_state(struct ctrl_alter_partition_reply *r, const struct ctrl_partition *cp)
{
    r->leader = cp->leader;
    r->leader_epoch = cp->leader_epoch;
    r->partition_epoch = cp->partition_epoch;
    r->isr_count = cp->isr_count;
    memcpy(r->isr, cp->isr, (size_t)cp->isr_count * sizeof r->isr[0]);
}

int ctrl_plan_alter_partition(const struct ctrl_image *img, const struct ctrl_alter_partition *req,
                              const int32_t *shutting_down, int32_t shutting_down_count,
                              const struct ctrl_plan_policy *pol, struct arena *a, struct ctrl_records *out,
                              struct ctrl_alter_partition_reply *r)
{
    memset(r, 0, sizeof *r);
    r->leader = -1;
    const struct ctrl_broker *b = ctrl_image_broker_find(img, req->broker_id);
    if (!b || b->fenced || b->broker_epoch != req->broker_epoch) {
        r->error_code = CTRL_KERR_STALE_BROKER_EPOCH;
        return 0;
    }
    const struct ctrl_topic *t = ctrl_image_topic_find_id(img, req->topic_id);
    if (!t) {
        r->error_code = CTRL_KERR_UNKNOWN_TOPIC_ID;
        return 0;
    }
    if (req->partition_id < 0 || req->partition_id >= t->partition_count) {
        r->error_code = CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    const struct ctrl_partition *cp = &t->partitions[req->partition_id];
    if (req->leader_epoch < cp->leader_epoch) {
        r->error_code = CTRL_KERR_FENCED_LEADER_EPOCH;
        return 0;
    }
    if (req->broker_id != cp->leader || req->leader_epoch != cp->leader_epoch) {
        r->error_code = CTRL_KERR_NOT_LEADER_OR_FOLLOWER;
        return 0;
    }
    if (req->partition_epoch != cp->partition_epoch) {
        r->error_code = CTRL_KERR_INVALID_UPDATE_VERSION;
        return 0;
    }
    if (req->isr_count < 1 || req->isr_count > cp->replica_count || !id_in(req->isr, req->isr_count, cp->leader)) {
        r->error_code = CTRL_KERR_INVALID_REQUEST;
        return 0;
    }
    for (int32_t i = 0; i < req->isr_count; i++) {
        if (!id_in(cp->replicas, cp->replica_count, req->isr[i]) || id_in(req->isr, i, req->isr[i])) {
            r->error_code = CTRL_KERR_INVALID_REQUEST;
            return 0;
        }
    }
    for (int32_t i = 0; i < req->isr_count; i++) {
        int32_t id = req->isr[i];
        if (id == req->broker_id)
            continue;
        const struct ctrl_broker *m = ctrl_image_broker_find(img, id);
        int64_t want = req->isr_broker_epochs[i];
        if (!m || m->fenced || id_in(shutting_down, shutting_down_count, id) || (want != -1 && want != m->broker_epoch)) {
            r->error_code = CTRL_KERR_INELIGIBLE_REPLICA;
            return 0;
        }
    }
    reply_state(r, cp);
    if (same_members(req->isr, req->isr_count, cp->isr, cp->isr_count))
        return 0; /* nothing to change: the current state */
    struct plan_target tg;
    target_get(cp, &tg);
    tg.isr_count = req->isr_count;
    memcpy(tg.isr, req->isr, (size_t)req->isr_count * sizeof tg.isr[0]);
    target_elr(cp, plan_rules_get(img, t, cp, pol), -1, &tg);
    int rc = target_emit(a, out, t, cp, &tg);
    if (rc < 0)
        return rc;
    ASSERT(id_in(req->isr, req->isr_count, cp->leader)); /* checked above: the leader stays in */
    r->partition_epoch = cp->partition_epoch + 1;
    r->isr_count = req->isr_count;
    memcpy(r->isr, req->isr, (size_t)req->isr_count * sizeof r->isr[0]);
    return 0;
}

bool ctrl_plan_unclean_enabled(const struct ctrl_image *img, const struct ctrl_topic *t, bool unclean_default)
{
    const char *v = ctrl_configs_find(&t->configs, "unclean.leader.election.enable");
    if (!v)
        v = ctrl_configs_find(ctrl_image_broker_configs(img, -1), "unclean.leader.election.enable");
    return v ? strcasecmp(v, "true") == 0 : unclean_default;
}

int32_t ctrl_plan_min_isr(const struct ctrl_image *img, const struct ctrl_topic *t, const struct ctrl_partition *cp,
                          int32_t min_isr_default)
{
    const char *v = ctrl_configs_find(&t->configs, "min.insync.replicas");
    if (!v)
        v = ctrl_configs_find(ctrl_image_broker_configs(img, -1), "min.insync.replicas");
    long n = v ? strtol(v, NULL, 10) : min_isr_default;
    if (n > cp->replica_count)
        n = cp->replica_count;
    return n < 1 ? 1 : (int32_t)n;
}

/* partition_after - a partition's target once broker lv.gone is fenced, or
 * lv.back unfenced (or registered), or unclean_id back from an unclean
 * shutdown (ELR only; -1 none): lv.gone leaves the ISR unless it is the
 * last member and ELR is off; unclean_id leaves ISR and ELR; the ELR
 * follows (target_elr); a lost leader (or none) is elected by target_elect.
 * True when anything changes. */
static bool partition_after(const struct ctrl_image *img, const struct ctrl_partition *cp, struct plan_rules rules,
                            struct plan_liveness lv, int32_t unclean_id, struct plan_target *tg)
{
    ASSERT(unclean_id < 0 || rules.elr);
    target_get(cp, tg);
    tg->isr_count = 0;
    for (int32_t k = 0; k < cp->isr_count; k++) {
        int32_t id = cp->isr[k];
        if (id == unclean_id || (id == lv.gone && (rules.elr || cp->isr_count > 1)))
            continue;
        tg->isr[tg->isr_count++] = id;
    }
    target_elr(cp, rules, unclean_id, tg);
    if (tg->leader < 0 || !broker_live(img, tg->leader, lv) || !id_in(tg->isr, tg->isr_count, tg->leader))
        target_elect(img, cp, rules, lv, tg);
    /* a leader comes from the ISR (or becomes it) */
    ASSERT(tg->leader < 0 || id_in(tg->isr, tg->isr_count, tg->leader));
    ASSERT(tg->lke_count == 0 || (tg->isr_count == 0 && tg->elr_count == 0));
    return target_changed(cp, tg);
}

bool ctrl_plan_unfence_elects(const struct ctrl_image *img, int32_t broker_id, const struct ctrl_plan_policy *pol)
{
    struct plan_liveness lv = { .gone = -1, .back = broker_id };
    struct plan_target tg;
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            if (cp->leader < 0 && id_in(cp->replicas, cp->replica_count, broker_id) &&
                partition_after(img, cp, plan_rules_get(img, t, cp, pol), lv, -1, &tg) && tg.leader >= 0)
                return true;
        }
    }
    return false;
}

int ctrl_plan_fence(const struct ctrl_image *img, int32_t broker_id, bool fenced, const struct ctrl_plan_policy *pol,
                    struct arena *a, struct ctrl_records *out)
{
    const struct ctrl_broker *b = ctrl_image_broker_find(img, broker_id);
    if (!b)
        return ERR_NOT_FOUND;
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__BrokerRegistrationChangeRecord *bc = arena_alloc(a, sizeof *bc);
    if (!r || !bc)
        return ERR_LIMIT;
    samsa__broker_registration_change_record__init(bc);
    bc->broker_id = broker_id;
    bc->broker_epoch = b->broker_epoch;
    bc->has_fenced = true;
    bc->fenced = fenced;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_BROKER_CHANGE;
    r->broker_change = bc;
    int rc = recs_push(out, a, r);
    if (rc < 0)
        return rc;
    struct plan_liveness lv = { .gone = fenced ? broker_id : -1, .back = fenced ? -1 : broker_id };
    struct plan_target tg;
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            /* unfencing touches only partitions without a leader */
            if (!fenced && cp->leader >= 0)
                continue;
            if (!partition_after(img, cp, plan_rules_get(img, t, cp, pol), lv, -1, &tg))
                continue;
            if ((rc = target_emit(a, out, t, cp, &tg)) < 0)
                return rc;
        }
    }
    return 0;
}

int ctrl_plan_unclean_shutdown(const struct ctrl_image *img, int32_t broker_id, const struct ctrl_plan_policy *pol,
                               struct arena *a, struct ctrl_records *out, int32_t *changed)
{
    *changed = 0;
    if (!pol->elr_enabled)
        return 0;
    struct plan_liveness lv = { .gone = -1, .back = broker_id };
    struct plan_target tg;
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            if (!id_in(cp->isr, cp->isr_count, broker_id) && !id_in(cp->elr, cp->elr_count, broker_id))
                continue;
            if (!partition_after(img, cp, plan_rules_get(img, t, cp, pol), lv, broker_id, &tg))
                continue;
            int rc = target_emit(a, out, t, cp, &tg);
            if (rc < 0)
                return rc;
            (*changed)++;
        }
    }
    return 0;
}

/* cp as the image shows it once tg's PartitionChangeRecord is applied. */
static void target_onto(struct ctrl_partition *cp, const struct plan_target *tg)
{
    if (tg->leader != cp->leader) {
        cp->leader = tg->leader;
        cp->leader_epoch++;
    }
    cp->partition_epoch++;
    cp->isr_count = tg->isr_count;
    memcpy(cp->isr, tg->isr, sizeof cp->isr);
    cp->elr_count = tg->elr_count;
    memcpy(cp->elr, tg->elr, sizeof cp->elr);
    cp->last_known_elr_count = tg->lke_count;
    memcpy(cp->last_known_elr, tg->lke, sizeof cp->last_known_elr);
}

int ctrl_plan_new_incarnation(const struct ctrl_image *img, int32_t broker_id, bool clean,
                              const struct ctrl_plan_policy *pol, struct arena *a, struct ctrl_records *out,
                              int32_t *changed)
{
    if (pol->elr_enabled && !clean)
        return ctrl_plan_unclean_shutdown(img, broker_id, pol, a, out, changed);
    *changed = 0;
    struct plan_liveness gone = { .gone = broker_id, .back = -1 };
    struct plan_liveness back = { .gone = -1, .back = broker_id };
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const struct ctrl_partition *cp = &t->partitions[p];
            if (cp->leader != broker_id && !id_in(cp->isr, cp->isr_count, broker_id))
                continue;
            struct plan_rules rules = plan_rules_get(img, t, cp, pol);
            struct plan_target tg;
            if (!partition_after(img, cp, rules, gone, -1, &tg))
                continue;
            int rc = target_emit(a, out, t, cp, &tg);
            if (rc < 0)
                return rc;
            (*changed)++;
            if (tg.leader >= 0 || cp->leader != broker_id)
                continue;
            /* nobody else may lead: the new incarnation leads as unfencing
             * it would elect it, but in a leader epoch of its own (two
             * changes: no gap without a leader, no epoch shared with the
             * previous incarnation) */
            struct ctrl_partition mid = *cp;
            target_onto(&mid, &tg);
            struct plan_target again;
            if (partition_after(img, &mid, rules, back, -1, &again) && again.leader >= 0 &&
                (rc = target_emit(a, out, t, &mid, &again)) < 0)
                return rc;
        }
    }
    return 0;
}

int ctrl_plan_elect_leader(const struct ctrl_image *img, enum ctrl_election_type type, const struct ctrl_topic *t,
                           int32_t partition_id, struct arena *a, struct ctrl_records *out, int16_t *error_code)
{
    if (!t || partition_id < 0 || partition_id >= t->partition_count) {
        *error_code = CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    const struct ctrl_partition *cp = &t->partitions[partition_id];
    struct plan_liveness lv = { .gone = -1, .back = -1 };
    struct plan_target tg;
    target_get(cp, &tg);
    if (type == CTRL_ELECTION_PREFERRED) {
        int32_t preferred = cp->replica_count > 0 ? cp->replicas[0] : -1;
        if (cp->leader == preferred) {
            *error_code = CTRL_KERR_ELECTION_NOT_NEEDED;
            return 0;
        }
        if (preferred < 0 || !id_in(cp->isr, cp->isr_count, preferred) || !broker_live(img, preferred, lv)) {
            *error_code = CTRL_KERR_PREFERRED_LEADER_NOT_AVAILABLE;
            return 0;
        }
        tg.leader = preferred;
    } else {
        if (cp->leader >= 0) {
            *error_code = CTRL_KERR_ELECTION_NOT_NEEDED;
            return 0;
        }
        /* the operator asked for it: unclean allowed.  An ELR in the image
         * means ELR is on; min ISR 1 is the careful reading here (the
         * static default is the controller's), so electing from the ELR
         * keeps no other member eligible. */
        struct plan_rules rules = { .unclean = true, .elr = cp->elr_count > 0 || cp->last_known_elr_count > 0,
                                    .min_isr = 1 };
        target_elect(img, cp, rules, lv, &tg);
        if (tg.leader < 0) {
            *error_code = CTRL_KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
            return 0;
        }
    }
    *error_code = CTRL_KERR_NONE;
    return target_emit(a, out, t, cp, &tg);
}

int ctrl_plan_rebalance(const struct ctrl_image *img, int32_t imbalance_pct, struct arena *a, struct ctrl_records *out,
                        int32_t *count)
{
    *count = 0;
    for (int32_t bi = 0; bi < ctrl_image_broker_count(img); bi++) {
        int32_t id = ctrl_image_broker_at(img, bi)->broker_id;
        int64_t preferred_total = 0, not_led = 0;
        for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
            const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
            for (int32_t p = 0; p < t->partition_count; p++) {
                const struct ctrl_partition *cp = &t->partitions[p];
                if (cp->replica_count == 0 || cp->replicas[0] != id)
                    continue;
                preferred_total++;
                not_led += cp->leader != id;
            }
        }
        /* Kafka: imbalance ratio = not led / preferred, triggered above the percentage */
        if (not_led == 0 || not_led * 100 <= (int64_t)imbalance_pct * preferred_total)
            continue;
        for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
            const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
            for (int32_t p = 0; p < t->partition_count; p++) {
                const struct ctrl_partition *cp = &t->partitions[p];
                if (cp->replica_count == 0 || cp->replicas[0] != id || cp->leader == id)
                    continue;
                int16_t ec = 0;
                int rc = ctrl_plan_elect_leader(img, CTRL_ELECTION_PREFERRED, t, p, a, out, &ec);
                if (rc < 0)
                    return rc;
                *count += ec == CTRL_KERR_NONE;
            }
        }
    }
    return 0;
}

int ctrl_plan_register_broker(int32_t broker_id, int64_t broker_epoch, const uint8_t *incarnation_id,
                              const struct ctrl_endpoint *eps, int32_t ep_count, struct arena *a,
                              struct ctrl_records *out)
{
    Samsa__MetadataRecord *r = rec_new(a);
    Samsa__RegisterBrokerRecord *rb = arena_alloc(a, sizeof *rb);
    Samsa__BrokerEndpoint **list = arena_alloc_array(a, (size_t)ep_count, sizeof *list);
    uint8_t *inc = arena_alloc(a, 16);
    if (!r || !rb || !list || !inc)
        return ERR_LIMIT;
    samsa__register_broker_record__init(rb);
    memcpy(inc, incarnation_id, 16);
    for (int32_t i = 0; i < ep_count; i++) {
        Samsa__BrokerEndpoint *e = arena_alloc(a, sizeof *e);
        if (!e)
            return ERR_LIMIT;
        samsa__broker_endpoint__init(e);
        e->name = (char *)eps[i].name;
        e->host = (char *)eps[i].host;
        e->port = eps[i].port;
        e->security_protocol = eps[i].security_protocol;
        list[i] = e;
    }
    rb->broker_id = broker_id;
    rb->incarnation_id.data = inc;
    rb->incarnation_id.len = 16;
    rb->broker_epoch = broker_epoch;
    rb->n_endpoints = (size_t)ep_count;
    rb->endpoints = list;
    rb->rack = (char *)"";
    rb->fenced = false;
    r->record_case = SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER;
    r->register_broker = rb;
    return recs_push(out, a, r);
}

/* ---- replica set changes (KIP-455) ----
 *
 * A reassignment is a partition state, not a job: replicas = target +
 * removing, with the adding and removing sets beside them in the image.
 * Starting one adds the target's new brokers to the replica set (they open
 * the partition and start fetching); once every adding replica is in the
 * ISR, one more change drops the removing ones from replicas and ISR and
 * moves leadership into the target if it has to.  Each step is one
 * PartitionChangeRecord.  Kafka's ReplicationControlManager works the same
 * way (PartitionReassignmentReplicas, PartitionReassignmentRevert). */

struct reassign_state {
    int32_t replica_count, isr_count, adding_count, removing_count;
    int32_t replicas[CTRL_REPLICAS_MAX], isr[CTRL_REPLICAS_MAX];
    int32_t adding[CTRL_REPLICAS_MAX], removing[CTRL_REPLICAS_MAX];
    int32_t leader;
};

/* ids_without - out = ids in order, minus those in drop; returns the count. */
static int32_t ids_without(const int32_t *ids, int32_t n, const int32_t *drop, int32_t n_drop, int32_t *out)
{
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++)
        if (!id_in(drop, n_drop, ids[i]))
            out[k++] = ids[i];
    return k;
}

static bool ids_equal(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
}

/* reassign_complete - finish the reassignment in s if it can: every adding
 * replica is in the ISR and the ISR keeps a member once the removing ones
 * leave it.  A change with nothing to add (a shrink, a reorder) completes at
 * once. */
static void reassign_complete(struct reassign_state *s)
{
    if (s->adding_count == 0 && s->removing_count == 0)
        return;
    for (int32_t i = 0; i < s->adding_count; i++)
        if (!id_in(s->isr, s->isr_count, s->adding[i]))
            return;
    int32_t isr[CTRL_REPLICAS_MAX];
    int32_t n_isr = ids_without(s->isr, s->isr_count, s->removing, s->removing_count, isr);
    if (n_isr == 0)
        return;
    s->replica_count = ids_without(s->replicas, s->replica_count, s->removing, s->removing_count, s->replicas);
    memcpy(s->isr, isr, (size_t)n_isr * sizeof *isr);
    s->isr_count = n_isr;
    s->adding_count = 0;
    s->removing_count = 0;
}

/* reassign_elect - keep the leader while it is a replica in the ISR; else
 * the first replica (target order) in the ISR that is live, else none. */
static void reassign_elect(const struct ctrl_image *img, struct reassign_state *s)
{
    if (s->leader >= 0 && id_in(s->replicas, s->replica_count, s->leader) && id_in(s->isr, s->isr_count, s->leader))
        return;
    s->leader = -1;
    for (int32_t i = 0; i < s->replica_count && s->leader < 0; i++)
        if (id_in(s->isr, s->isr_count, s->replicas[i]) && broker_live(img, s->replicas[i], (struct plan_liveness){ -1, -1 }))
            s->leader = s->replicas[i];
}

static void reassign_state_get(const struct ctrl_partition *cp, struct reassign_state *s)
{
    s->replica_count = cp->replica_count;
    s->isr_count = cp->isr_count;
    s->adding_count = cp->adding_count;
    s->removing_count = cp->removing_count;
    memcpy(s->replicas, cp->replicas, sizeof s->replicas);
    memcpy(s->isr, cp->isr, sizeof s->isr);
    memcpy(s->adding, cp->adding, sizeof s->adding);
    memcpy(s->removing, cp->removing, sizeof s->removing);
    s->leader = cp->leader;
}

/* reassign_emit - one PartitionChangeRecord taking cp to s (nothing when
 * they are equal). */
static int reassign_emit(const struct ctrl_topic *t, const struct ctrl_partition *cp, const struct reassign_state *s,
                         struct arena *a, struct ctrl_records *out)
{
    bool replicas = !ids_equal(cp->replicas, cp->replica_count, s->replicas, s->replica_count);
    bool isr = !ids_equal(cp->isr, cp->isr_count, s->isr, s->isr_count);
    bool leader = cp->leader != s->leader;
    bool reassign = !ids_equal(cp->adding, cp->adding_count, s->adding, s->adding_count) ||
                    !ids_equal(cp->removing, cp->removing_count, s->removing, s->removing_count);
    if (!replicas && !isr && !leader && !reassign)
        return 0;
    int rc = partition_change_push(a, out, t->topic_id, cp->partition_id, leader ? s->leader : PLAN_LEADER_KEEP,
                                   isr ? s->isr : NULL, s->isr_count);
    if (rc < 0)
        return rc;
    Samsa__PartitionChangeRecord *pc = out->recs[out->count - 1]->partition_change;
    if (replicas) {
        pc->has_replicas = true;
        pc->n_replicas = (size_t)s->replica_count;
        if (!(pc->replicas = ids_dup(a, s->replicas, s->replica_count)))
            return ERR_LIMIT;
    }
    if (reassign) {
        pc->has_reassignment = true;
        pc->n_adding_replicas = (size_t)s->adding_count;
        pc->n_removing_replicas = (size_t)s->removing_count;
        pc->adding_replicas = ids_dup(a, s->adding, s->adding_count);
        pc->removing_replicas = ids_dup(a, s->removing, s->removing_count);
        if (!pc->adding_replicas || !pc->removing_replicas)
            return ERR_LIMIT;
    }
    return 0;
}

int ctrl_plan_reassign(const struct ctrl_image *img, const char *topic, size_t topic_len, int32_t partition_id,
                       const int32_t *target, int32_t target_count, struct arena *a, struct ctrl_records *out)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, topic, topic_len);
    if (!t || partition_id < 0 || partition_id >= t->partition_count)
        return ERR_NOT_FOUND;
    const struct ctrl_partition *cp = &t->partitions[partition_id];
    struct reassign_state s;
    reassign_state_get(cp, &s);
    if (target_count < 0) { /* cancel: back to the original replicas */
        if (cp->adding_count == 0 && cp->removing_count == 0)
            return ERR_NO_REASSIGNMENT;
        s.replica_count = ids_without(cp->replicas, cp->replica_count, cp->adding, cp->adding_count, s.replicas);
        s.isr_count = ids_without(cp->isr, cp->isr_count, cp->adding, cp->adding_count, s.isr);
        if (s.isr_count == 0) { /* only adding replicas were in sync: keep the first original one */
            s.isr[0] = s.replicas[0];
            s.isr_count = 1;
        }
        s.adding_count = 0;
        s.removing_count = 0;
    } else {
        if (target_count == 0 || target_count > CTRL_REPLICAS_MAX)
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        for (int32_t i = 0; i < target_count; i++) {
            if (!ctrl_image_broker_find(img, target[i]) || id_in(target, i, target[i]))
                return ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        /* from the current replicas, which include an earlier reassignment's
         * adding ones: those not in the new target are removed like the rest,
         * and those in it stay adding (they may not have caught up; Kafka
         * counts them as settled, which can finish a move onto a replica
         * that holds no data) */
        int32_t removing[CTRL_REPLICAS_MAX], settled[CTRL_REPLICAS_MAX];
        int32_t n_removing = ids_without(cp->replicas, cp->replica_count, target, target_count, removing);
        int32_t n_settled = ids_without(cp->replicas, cp->replica_count, cp->adding, cp->adding_count, settled);
        if (target_count + n_removing > CTRL_REPLICAS_MAX)
            return ERR_INVALID_REPLICA_ASSIGNMENT;
        s.adding_count = ids_without(target, target_count, settled, n_settled, s.adding);
        s.removing_count = n_removing;
        memcpy(s.removing, removing, (size_t)n_removing * sizeof *removing);
        memcpy(s.replicas, target, (size_t)target_count * sizeof *target);
        memcpy(s.replicas + target_count, removing, (size_t)n_removing * sizeof *removing);
        s.replica_count = target_count + n_removing;
        reassign_complete(&s);
    }
    reassign_elect(img, &s);
    return reassign_emit(t, cp, &s, a, out);
}

int ctrl_plan_reassign_complete(const struct ctrl_image *img, const struct ctrl_topic *t,
                                const struct ctrl_partition *cp, struct arena *a, struct ctrl_records *out)
{
    if (cp->adding_count == 0 && cp->removing_count == 0)
        return 0;
    struct reassign_state s;
    reassign_state_get(cp, &s);
    reassign_complete(&s);
    if (s.adding_count > 0 || s.removing_count > 0)
        return 0; /* an adding replica is not in the ISR yet */
    reassign_elect(img, &s);
    size_t before = out->count;
    int rc = reassign_emit(t, cp, &s, a, out);
    return rc < 0 ? rc : out->count > before;
}
