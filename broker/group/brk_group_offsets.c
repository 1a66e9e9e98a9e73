/*
 * brk_group_offsets.c - the committed offsets of the group coordinator
 * (brk_group.h): the per-group cache filled by commits and the reload,
 * offset expiry (offsets.retention.minutes), OffsetDelete (KIP-496) and
 * DeleteGroups.  Each removal writes its tombstones through ops->store
 * before the cache changes.  Membership lives in brk_group.c.
 */
#include <stdio.h>

#include "broker/group/brk_group_int.h"
#include "common/kwire.h"
#include "common/log.h"

void brk_group_offsets_clear(struct group *g)
{
    for (int32_t i = 0; i < g->offset_count; i++) {
        own_free(&g->offsets[i].topic);
        own_free(&g->offsets[i].metadata);
    }
    g->offset_count = 0;
}

static struct offset_entry *offset_entry_find(const struct group *g, struct bytes topic, int32_t partition)
{
    for (int32_t i = 0; i < g->offset_count; i++)
        if (g->offsets[i].o.partition == partition && own_eq(&g->offsets[i].topic, topic))
            return &g->offsets[i];
    return NULL;
}

int brk_groups_offset_put(struct brk_groups *gs, struct bytes group_id, const struct brk_group_offset *o)
{
    struct group *g = brk_group_find(gs, group_id);
    if (!g || g->state == BRK_GROUP_DEAD) {
        int rc = brk_group_get_or_create(gs, group_id, &g);
        if (rc < 0)
            return rc;
    }
    struct offset_entry *e = offset_entry_find(g, o->topic, o->partition);
    if (!e) {
        int rc = grow((void **)&g->offsets, &g->offset_cap, g->offset_count + 1, sizeof *g->offsets,
                      BRK_GROUP_OFFSETS_MAX);
        if (rc < 0)
            return rc;
        e = &g->offsets[g->offset_count];
        memset(e, 0, sizeof *e);
        if (own_set(&e->topic, o->topic) < 0)
            return -ENOMEM;
        g->offset_count++;
    }
    if (own_set(&e->metadata, o->metadata.ptr ? o->metadata : bytes_make("", 0)) < 0)
        return -ENOMEM;
    e->o = *o;
    e->o.topic = own_bytes(&e->topic);
    e->o.metadata = own_bytes(&e->metadata);
    return 0;
}

/* Remove entry i; the last entry moves into its place. */
static void offset_delete_at(struct group *g, int32_t i)
{
    struct offset_entry *e = &g->offsets[i];
    own_free(&e->topic);
    own_free(&e->metadata);
    *e = g->offsets[--g->offset_count];
    /* the moved entry's views point into its own owns: still valid */
}

void brk_group_offset_remove(struct group *g, struct bytes topic, int32_t partition)
{
    struct offset_entry *e = offset_entry_find(g, topic, partition);
    if (e)
        offset_delete_at(g, (int32_t)(e - g->offsets));
}

const struct brk_group_offset *brk_groups_offset_find(const struct brk_groups *gs, struct bytes group_id,
                                                       struct bytes topic, int32_t partition)
{
    struct group *g = brk_group_live(gs, group_id);
    struct offset_entry *e = g ? offset_entry_find(g, topic, partition) : NULL;
    return e ? &e->o : NULL;
}

const struct brk_group_offset *brk_groups_offsets(const struct brk_groups *gs, struct bytes group_id, int32_t *count)
{
    struct group *g = brk_group_live(gs, group_id);
    *count = 0;
    if (!g || g->offset_count == 0)
        return NULL;
    if (grow((void **)&g->offset_view, &g->offset_view_cap, g->offset_count, sizeof *g->offset_view,
             BRK_GROUP_OFFSETS_MAX) < 0)
        return NULL;
    for (int32_t i = 0; i < g->offset_count; i++)
        g->offset_view[i] = g->offsets[i].o;
    *count = g->offset_count;
    return g->offset_view;
}

static void expire_store_done(void *arg, int rc)
{
    (void)arg;
    if (rc < 0)
        log_warn("group", "expired offsets not tombstoned in __consumer_offsets error=\"%s\"; they come back "
                 "at the next start and expire again", err_str(rc));
}

/* When offset e of g expires (Kafka's GroupMetadata.removeExpiredOffsets). */
static bool offset_expired(const struct brk_groups *gs, const struct group *g, const struct offset_entry *e,
                           int64_t now_ms)
{
    if (e->o.expire_timestamp_ms > 0)
        return now_ms >= e->o.expire_timestamp_ms;
    int64_t base = e->o.commit_timestamp_ms;
    if (!g->protocol_type.null) { /* it had members: only once Empty, from the time it became Empty */
        if (g->state != BRK_GROUP_EMPTY)
            return false;
        if (g->empty_since_ms > 0)
            base = g->empty_since_ms;
    }
    return base + gs->cfg.offsets_retention_ms <= now_ms;
}

/* A tombstone record for the key encoded in kb (the key copied into a). */
static int tombstone(struct arena *a, const struct buf *kb, struct brk_offsets_topic_record *rec)
{
    int rc = 0;
    rec->key = brk_group_arena_copy(a, buf_bytes(kb), &rc);
    rec->value = (struct bytes){ NULL, 0 };
    return rc;
}

/* tombstone_offset / tombstone_group - the tombstone of one of g's offsets
 * (or of g itself) into *rec; kb is scratch, the key is copied into a. */
static int tombstone_offset(struct arena *a, struct buf *kb, const struct group *g, struct bytes topic,
                            int32_t partition, struct brk_offsets_topic_record *rec)
{
    buf_reset(kb);
    int rc = brk_offsets_topic_offset_key_encode(kb, own_bytes(&g->id), topic, partition);
    return rc == 0 ? tombstone(a, kb, rec) : rc;
}

static int tombstone_group(struct arena *a, struct buf *kb, const struct group *g, struct brk_offsets_topic_record *rec)
{
    buf_reset(kb);
    int rc = brk_offsets_topic_group_key_encode(kb, own_bytes(&g->id));
    return rc == 0 ? tombstone(a, kb, rec) : rc;
}

/* Drop g's expired offsets: tombstones first (one batch), then memory. */
void brk_group_offsets_expire(struct brk_groups *gs, struct group *g, int64_t now_ms)
{
    if (g->state != BRK_GROUP_EMPTY && !g->protocol_type.null)
        return;
    struct arena a;
    arena_init(&a, 4096, 64u << 20);
    bool *gone = arena_alloc_array(&a, (size_t)g->offset_count, sizeof *gone);
    int32_t n = 0;
    for (int32_t i = 0; gone && i < g->offset_count; i++)
        n += gone[i] = offset_expired(gs, g, &g->offsets[i], now_ms);
    bool group_gone = g->state == BRK_GROUP_EMPTY && n == g->offset_count;
    struct brk_offsets_topic_record *recs = n ? arena_alloc_array(&a, (size_t)n + 1, sizeof *recs) : NULL;
    if (!recs) {
        arena_deinit(&a); /* nothing expired (or no memory: retried at the next check) */
        return;
    }
    struct buf kb;
    buf_init(&kb, 0);
    int rc = 0;
    int32_t k = 0;
    for (int32_t i = 0; rc == 0 && i < g->offset_count; i++) {
        if (!gone[i])
            continue;
        rc = tombstone_offset(&a, &kb, g, g->offsets[i].o.topic, g->offsets[i].o.partition, &recs[k++]);
    }
    if (rc == 0 && group_gone)
        rc = tombstone_group(&a, &kb, g, &recs[k++]);
    buf_deinit(&kb);
    if (rc == 0)
        rc = gs->ops.store(gs->ops.ctx, own_bytes(&g->id), recs, k, NULL, expire_store_done);
    if (rc < 0) {
        arena_deinit(&a);
        log_warn("group", "offsets of group=%.*s not expired yet error=\"%s\"; retried at the next check",
                 (int)g->id.len, (const char *)g->id.p, err_str(rc));
        return;
    }
    /* backwards: offset_delete_at moves the last entry (already decided) into the hole */
    for (int32_t i = g->offset_count - 1; i >= 0; i--)
        if (gone[i])
            offset_delete_at(g, i);
    arena_deinit(&a);
    log_info("group", "offsets expired group=%.*s count=%d retention_ms=%lld%s", (int)g->id.len,
             (const char *)g->id.p, n, (long long)gs->cfg.offsets_retention_ms,
             group_gone ? "; the group is empty and has no offsets left: removed" : "");
    if (group_gone)
        g->state = BRK_GROUP_DEAD;
}

/* subscription_has - does a ConsumerProtocolSubscription (v0+: version,
 * [topics], ...) name topic?  Unparseable: true (Kafka treats an unknown
 * subscription as subscribed to everything). */
static bool subscription_has(struct bytes metadata, struct bytes topic)
{
    struct kwire_reader r;
    kwire_reader_init(&r, metadata);
    int16_t version = 0;
    int32_t count = 0;
    if (kwire_read_i16(&r, &version) < 0 || version < 0 || kwire_read_i32(&r, &count) < 0 || count < 0)
        return true;
    for (int32_t i = 0; i < count; i++) {
        struct bytes t;
        if (kwire_read_string(&r, &t) < 0 || !t.ptr)
            return true;
        if (bytes_eq(t, topic))
            return true;
    }
    return false;
}

/* group_subscribes - does a member of consumer group g subscribe to topic
 * (its metadata for the selected protocol, else its first one)? */
static bool group_subscribes(const struct group *g, struct bytes topic)
{
    for (int32_t i = 0; i < g->member_count; i++) {
        const struct member *m = g->members[i];
        const struct member_protocol *mp = m->protocol_count > 0 ? &m->protocols[0] : NULL;
        for (int32_t k = 0; !g->protocol.null && k < m->protocol_count; k++)
            if (own_eq(&m->protocols[k].name, own_bytes(&g->protocol)))
                mp = &m->protocols[k];
        if (mp && subscription_has(own_bytes(&mp->metadata), topic))
            return true;
    }
    return false;
}

int16_t brk_groups_offset_delete(struct brk_groups *gs, struct bytes group_id, struct brk_group_tp *tps, int32_t n,
                                 void *arg, brk_groups_store_done_cb done, bool *stored)
{
    *stored = false;
    ASSERT(n >= 0);
    if (!group_id.ptr || group_id.len == 0)
        return BRK_GROUP_INVALID_GROUP_ID;
    struct group *g = brk_group_live(gs, group_id);
    if (!g)
        return BRK_GROUP_GROUP_ID_NOT_FOUND;
    bool consumer = own_eq(&g->protocol_type, bytes_make("consumer", 8));
    if (g->state != BRK_GROUP_EMPTY && !g->protocol_type.null && !consumer)
        return BRK_GROUP_NON_EMPTY_GROUP;
    struct arena a;
    arena_init(&a, 4096, 64u << 20);
    struct brk_offsets_topic_record *recs = arena_alloc_array(&a, (size_t)n + 1, sizeof *recs);
    struct buf kb;
    buf_init(&kb, 0);
    int rc = recs ? 0 : ERR_LIMIT;
    int32_t k = 0, gone = 0;
    for (int32_t i = 0; rc == 0 && i < n; i++) {
        if (tps[i].error_code != BRK_GROUP_OK)
            continue;
        if (g->state != BRK_GROUP_EMPTY && consumer && group_subscribes(g, tps[i].topic)) {
            tps[i].error_code = BRK_GROUP_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }
        gone += offset_entry_find(g, tps[i].topic, tps[i].partition) != NULL;
        rc = tombstone_offset(&a, &kb, g, tps[i].topic, tps[i].partition, &recs[k++]);
    }
    bool group_gone = rc == 0 && g->state == BRK_GROUP_EMPTY && gone == g->offset_count;
    if (rc == 0 && group_gone)
        rc = tombstone_group(&a, &kb, g, &recs[k++]);
    buf_deinit(&kb);
    if (rc == 0 && k > 0) {
        rc = gs->ops.store(gs->ops.ctx, own_bytes(&g->id), recs, k, arg, done);
        *stored = rc == 0;
    }
    arena_deinit(&a); /* the store copied the records into its batch */
    for (int32_t i = 0; i < n; i++) {
        if (tps[i].error_code != BRK_GROUP_OK)
            continue;
        if (rc < 0)
            tps[i].error_code = BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
        else
            brk_group_offset_remove(g, tps[i].topic, tps[i].partition);
    }
    if (rc < 0) {
        log_warn("group", "offsets of group=%.*s not deleted error=\"%s\"", (int)g->id.len, (const char *)g->id.p,
                 err_str(rc));
        return BRK_GROUP_OK;
    }
    log_info("group", "offsets deleted group=%.*s partitions=%d%s", (int)g->id.len, (const char *)g->id.p, gone,
             group_gone ? "; the group is empty and has no offsets left: removed" : "");
    if (group_gone)
        g->state = BRK_GROUP_DEAD;
    return BRK_GROUP_OK;
}

int16_t brk_groups_delete(struct brk_groups *gs, struct bytes group_id, struct arena *a,
                          struct brk_group_offset **offsets, int32_t *count)
{
    *offsets = NULL;
    *count = 0;
    if (!group_id.ptr || group_id.len == 0)
        return BRK_GROUP_INVALID_GROUP_ID;
    struct group *g = brk_group_live(gs, group_id);
    if (!g)
        return BRK_GROUP_GROUP_ID_NOT_FOUND;
    if (g->state != BRK_GROUP_EMPTY)
        return BRK_GROUP_NON_EMPTY_GROUP;
    struct brk_group_offset *os = arena_alloc_array(a, (size_t)g->offset_count, sizeof *os);
    if (!os && g->offset_count > 0)
        return BRK_GROUP_UNKNOWN;
    int rc = 0;
    for (int32_t i = 0; i < g->offset_count; i++) {
        os[i] = g->offsets[i].o;
        os[i].topic = brk_group_arena_copy(a, g->offsets[i].o.topic, &rc);
        os[i].metadata = bytes_make("", 0);
    }
    if (rc < 0)
        return BRK_GROUP_UNKNOWN;
    *offsets = os;
    *count = g->offset_count;
    brk_group_offsets_clear(g);
    for (int32_t i = 0; i < g->pending_count; i++)
        own_free(&g->pendings[i].id);
    g->pending_count = 0;
    g->state = BRK_GROUP_DEAD;
    log_info("group", "group deleted group=%.*s offsets=%d", (int)g->id.len, (const char *)g->id.p, *count);
    return BRK_GROUP_OK;
}
