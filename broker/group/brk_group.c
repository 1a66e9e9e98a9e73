/*
 * brk_group.c - the classic group coordinator state machine (see
 * brk_group.h for the diagram and contract): membership, rebalances, static
 * members, describe/list and the reload; the offset cache, expiry and
 * deletions are in brk_group_offsets.c (shared structs: brk_group_int.h).
 *
 * Memory: groups, members and offsets are heap objects created through
 * brk_group_get_or_create / join_new_member / brk_groups_offset_put, each
 * bounded by a named maximum.  Strings are owned copies (struct own).
 * Lookups are linear: fine for the group and member counts of one
 * coordinator today; a hash is the next step if profiles say so.
 */
#include <stdio.h>

#include "broker/group/brk_group_int.h"
#include "common/log.h"

/* a leader SyncGroup's GroupMetadata write in flight */
struct sync_store {
    struct brk_groups *gs;
    struct group *g;
    int32_t generation;
    int64_t now_ms;
};

static const char *const state_names[] = { "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead" };

const char *brk_group_state_name(enum brk_group_state s)
{
    ASSERT((unsigned)s < sizeof state_names / sizeof state_names[0]);
    return state_names[s];
}

/* ---- small helpers ---- */
static void member_free(struct member *m)
{
    own_free(&m->id);
    own_free(&m->instance_id);
    own_free(&m->client_id);
    own_free(&m->client_host);
    own_free(&m->assignment);
    for (int32_t i = 0; i < m->protocol_count; i++) {
        own_free(&m->protocols[i].name);
        own_free(&m->protocols[i].metadata);
    }
    free(m->protocols);
    free(m);
}

static void group_free(struct group *g)
{
    for (int32_t i = 0; i < g->member_count; i++)
        member_free(g->members[i]);
    free(g->members);
    for (int32_t i = 0; i < g->pending_count; i++)
        own_free(&g->pendings[i].id);
    free(g->pendings);
    brk_group_offsets_clear(g);
    free(g->offsets);
    free(g->offset_view);
    own_free(&g->id);
    own_free(&g->protocol_type);
    own_free(&g->protocol);
    own_free(&g->leader);
    free(g);
}

struct group *brk_group_find(const struct brk_groups *gs, struct bytes id)
{
    for (int32_t i = 0; i < gs->group_count; i++)
        if (own_eq(&gs->groups[i]->id, id))
            return gs->groups[i];
    return NULL;
}

/* group_live - the group unless it is Dead (a Dead group is "not there"). */
struct group *brk_group_live(const struct brk_groups *gs, struct bytes id)
{
    struct group *g = brk_group_find(gs, id);
    return g && g->state != BRK_GROUP_DEAD ? g : NULL;
}

/* group_check - the coordinator's invariants, asserted whenever a call into
 * this module returns and at each state change:
 *   - counts within their arrays and named maxima;
 *   - Empty and Dead groups have no members; CompletingRebalance and Stable
 *     have at least one (a group that loses its last member rebalances to
 *     Empty);
 *   - the initial delayed join only happens while PreparingRebalance;
 *   - a JoinGroup is parked only while PreparingRebalance (completing the
 *     join answers them all), or in Stable while a static member's
 *     replacement is being stored (join_stored), and a SyncGroup only while
 *     CompletingRebalance (Stable or a new rebalance answers them all).
 *     O(members). */
static void group_check(const struct group *g)
{
    ASSERT(g->member_count >= 0);
    ASSERT(g->member_count <= g->member_cap);
    ASSERT(g->member_count <= BRK_GROUP_MEMBERS_MAX);
    ASSERT(g->pending_count >= 0);
    ASSERT(g->pending_count <= g->pending_cap);
    ASSERT(g->offset_count >= 0);
    ASSERT(g->offset_count <= g->offset_cap);
    ASSERT(g->state >= BRK_GROUP_EMPTY && g->state <= BRK_GROUP_DEAD);
    if (g->state == BRK_GROUP_EMPTY || g->state == BRK_GROUP_DEAD)
        ASSERT(g->member_count == 0);
    if (g->state == BRK_GROUP_COMPLETING_REBALANCE || g->state == BRK_GROUP_STABLE)
        ASSERT(g->member_count > 0);
    if (g->initial_delay)
        ASSERT(g->state == BRK_GROUP_PREPARING_REBALANCE);
    for (int32_t i = 0; i < g->member_count; i++) {
        const struct member *m = g->members[i];
        DEBUG_ASSERT(m != NULL);
        DEBUG_ASSERT(!m->join_stored || (m->join_waiter && g->state == BRK_GROUP_STABLE));
        DEBUG_ASSERT(!m->join_waiter || m->join_stored || g->state == BRK_GROUP_PREPARING_REBALANCE);
        DEBUG_ASSERT(!m->sync_waiter || g->state == BRK_GROUP_COMPLETING_REBALANCE);
    }
}

int brk_group_get_or_create(struct brk_groups *gs, struct bytes id, struct group **out)
{
    struct group *g = brk_group_find(gs, id);
    if (g) {
        if (g->state == BRK_GROUP_DEAD) { /* reuse the slot as a new group */
            g->state = BRK_GROUP_EMPTY;
            g->generation = 0;
            own_free(&g->protocol_type);
            own_free(&g->protocol);
            own_free(&g->leader);
        }
        *out = g;
        return 0;
    }
    int rc = grow((void **)&gs->groups, &gs->group_cap, gs->group_count + 1, sizeof *gs->groups, BRK_GROUPS_MAX);
    if (rc < 0)
        return rc;
    g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->protocol_type.null = g->protocol.null = g->leader.null = true;
    if (own_set(&g->id, id) < 0) {
        free(g);
        return -ENOMEM;
    }
    g->state = BRK_GROUP_EMPTY;
    gs->groups[gs->group_count++] = g;
    *out = g;
    return 0;
}

static int32_t member_index(const struct group *g, struct bytes id)
{
    for (int32_t i = 0; i < g->member_count; i++)
        if (own_eq(&g->members[i]->id, id))
            return i;
    return -1;
}

static struct member *member_find(const struct group *g, struct bytes id)
{
    int32_t i = member_index(g, id);
    return i < 0 ? NULL : g->members[i];
}

/* member_find_instance - the static member of group.instance.id iid, or NULL. */
static struct member *member_find_instance(const struct group *g, struct bytes iid)
{
    ASSERT(iid.ptr != NULL);
    for (int32_t i = 0; i < g->member_count; i++)
        if (own_eq(&g->members[i]->instance_id, iid))
            return g->members[i];
    return NULL;
}

/* member_validate - Kafka's validateCurrentMember: with an instance id it
 * must map to member_id (another id: FENCED_INSTANCE_ID; none:
 * UNKNOWN_MEMBER_ID); without, member_id must be a member. */
static int16_t member_validate(const struct group *g, struct bytes member_id, struct bytes instance_id,
                               const char *operation)
{
    if (instance_id.ptr) {
        const struct member *s = member_find_instance(g, instance_id);
        if (!s)
            return BRK_GROUP_UNKNOWN_MEMBER_ID;
        if (!own_eq(&s->id, member_id)) {
            log_info("group", "fenced group=%.*s instance=%.*s member=%.*s current_member=%.*s operation=%s",
                     (int)g->id.len, (const char *)g->id.p, (int)instance_id.len, (const char *)instance_id.ptr,
                     (int)member_id.len, member_id.ptr ? (const char *)member_id.ptr : "", (int)s->id.len,
                     (const char *)s->id.p, operation);
            return BRK_GROUP_FENCED_INSTANCE_ID;
        }
        return BRK_GROUP_OK;
    }
    return member_find(g, member_id) ? BRK_GROUP_OK : BRK_GROUP_UNKNOWN_MEMBER_ID;
}

static int32_t pending_index(const struct group *g, struct bytes id)
{
    for (int32_t i = 0; i < g->pending_count; i++)
        if (own_eq(&g->pendings[i].id, id))
            return i;
    return -1;
}

static void pending_remove(struct group *g, int32_t i)
{
    own_free(&g->pendings[i].id);
    g->pendings[i] = g->pendings[--g->pending_count];
}

static int member_set_protocols(struct member *m, const struct brk_group_join_req *jr)
{
    struct member_protocol *ps = calloc((size_t)(jr->protocol_count > 0 ? jr->protocol_count : 1), sizeof *ps);
    if (!ps)
        return -ENOMEM;
    for (int32_t i = 0; i < jr->protocol_count; i++) {
        if (own_set(&ps[i].name, jr->protocols[i].name) < 0 ||
            own_set(&ps[i].metadata, jr->protocols[i].metadata) < 0) {
            for (int32_t j = 0; j <= i; j++) {
                own_free(&ps[j].name);
                own_free(&ps[j].metadata);
            }
            free(ps);
            return -ENOMEM;
        }
    }
    for (int32_t i = 0; i < m->protocol_count; i++) {
        own_free(&m->protocols[i].name);
        own_free(&m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols = ps;
    m->protocol_count = jr->protocol_count;
    return 0;
}

static const struct member_protocol *member_protocol(const struct member *m, struct bytes name)
{
    for (int32_t i = 0; i < m->protocol_count; i++)
        if (own_eq(&m->protocols[i].name, name))
            return &m->protocols[i];
    return NULL;
}

static bool member_protocols_equal(const struct member *m, const struct brk_group_join_req *jr)
{
    if (m->protocol_count != jr->protocol_count)
        return false;
    for (int32_t i = 0; i < m->protocol_count; i++)
        if (!own_eq(&m->protocols[i].name, jr->protocols[i].name) ||
            !bytes_eq(own_bytes(&m->protocols[i].metadata), jr->protocols[i].metadata))
            return false;
    return true;
}

static void member_touch(struct member *m, int64_t now_ms)
{
    m->deadline_ms = now_ms + m->session_timeout_ms;
}

/* ---- answering parked requests ---- */

static void join_answer_error(struct brk_groups *gs, void *waiter, int16_t err, struct bytes member_id)
{
    struct brk_group_join_result r = { .error_code = err, .generation_id = -1, .protocol_type = { NULL, 0 },
                                       .protocol_name = { NULL, 0 }, .leader = bytes_make("", 0),
                                       .member_id = member_id };
    gs->ops.join_done(gs->ops.ctx, waiter, &r);
}

/* sync_reply - a SyncGroup answer: on success m's assignment and the
 * group's protocol type and name (SyncGroup v5+). */
static void sync_reply(struct brk_groups *gs, const struct group *g, const struct member *m, void *waiter, int16_t err)
{
    struct brk_group_sync_result r = { .error_code = err, .protocol_type = { NULL, 0 }, .protocol_name = { NULL, 0 },
                                       .assignment = bytes_make("", 0) };
    if (err == BRK_GROUP_OK) {
        r.protocol_type = own_bytes(&g->protocol_type);
        r.protocol_name = own_bytes(&g->protocol);
        r.assignment = own_bytes(&m->assignment);
    }
    gs->ops.sync_done(gs->ops.ctx, waiter, &r);
}

/* sync_answer - answer m's parked SyncGroup, if any. */
static void sync_answer(struct brk_groups *gs, const struct group *g, struct member *m, int16_t err)
{
    void *w = m->sync_waiter;
    if (!w)
        return;
    m->sync_waiter = NULL;
    sync_reply(gs, g, m, w, err);
}

/* join_answer - the JoinGroup answer for m in the group's current
 * generation; the leader gets every member (skip_assignment: KIP-814's
 * static leader rejoin, where it must not assign again). */
static void join_answer(struct brk_groups *gs, struct group *g, struct member *m, void *waiter, bool skip_assignment)
{
    struct brk_group_join_result r = {
        .error_code = BRK_GROUP_OK, .generation_id = g->generation, .protocol_type = own_bytes(&g->protocol_type),
        .protocol_name = own_bytes(&g->protocol), .leader = own_bytes(&g->leader), .member_id = own_bytes(&m->id),
        .skip_assignment = skip_assignment,
    };
    if (own_eq(&g->leader, own_bytes(&m->id))) {
        if (grow((void **)&gs->scratch, &gs->scratch_cap, g->member_count, sizeof *gs->scratch,
                 BRK_GROUP_MEMBERS_MAX) < 0) {
            join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, own_bytes(&m->id));
            return;
        }
        for (int32_t i = 0; i < g->member_count; i++) {
            const struct member *x = g->members[i];
            const struct member_protocol *p = member_protocol(x, own_bytes(&g->protocol));
            gs->scratch[i] = (struct brk_group_join_member){ own_bytes(&x->id), own_bytes(&x->instance_id),
                                                             p ? own_bytes(&p->metadata) : bytes_make("", 0) };
        }
        r.member_count = g->member_count;
        r.members = gs->scratch;
    }
    gs->ops.join_done(gs->ops.ctx, waiter, &r);
}

/* ---- persistence of group metadata ---- */

static int group_store(struct brk_groups *gs, struct group *g, int64_t now_ms, void *arg, brk_groups_store_done_cb done)
{
    struct buf key, val;
    buf_init(&key, 0);
    buf_init(&val, 0);
    struct brk_offsets_topic_member *ms = calloc((size_t)(g->member_count > 0 ? g->member_count : 1), sizeof *ms);
    int rc = ms ? 0 : -ENOMEM;
    for (int32_t i = 0; rc == 0 && i < g->member_count; i++) {
        const struct member *m = g->members[i];
        const struct member_protocol *p = member_protocol(m, own_bytes(&g->protocol));
        ms[i] = (struct brk_offsets_topic_member){
            .member_id = own_bytes(&m->id), .group_instance_id = own_bytes(&m->instance_id),
            .client_id = own_bytes(&m->client_id), .client_host = own_bytes(&m->client_host),
            .rebalance_timeout_ms = m->rebalance_timeout_ms, .session_timeout_ms = m->session_timeout_ms,
            .subscription = p ? own_bytes(&p->metadata) : bytes_make("", 0), .assignment = own_bytes(&m->assignment),
        };
    }
    struct brk_offsets_topic_group v = {
        .protocol_type = own_bytes(&g->protocol_type), .generation = g->generation,
        .protocol = own_bytes(&g->protocol), .leader = own_bytes(&g->leader),
        .current_state_timestamp_ms = now_ms, .member_count = g->member_count, .members = ms,
    };
    if (rc == 0)
        rc = brk_offsets_topic_group_key_encode(&key, own_bytes(&g->id));
    if (rc == 0)
        rc = brk_offsets_topic_group_value_encode(&val, &v);
    if (rc == 0) {
        struct brk_offsets_topic_record rec = { buf_bytes(&key), buf_bytes(&val) };
        rc = gs->ops.store(gs->ops.ctx, own_bytes(&g->id), &rec, 1, arg, done);
    }
    free(ms);
    buf_deinit(&key);
    buf_deinit(&val);
    return rc;
}

static void empty_store_done(void *arg, int rc)
{
    struct sync_store *ss = arg;
    if (rc < 0)
        log_warn("group", "group metadata not stored group=%.*s generation=%d error=\"%s\"", (int)ss->g->id.len,
                 (const char *)ss->g->id.p, ss->generation, err_str(rc));
    free(ss);
}

static void store_fire_and_forget(struct brk_groups *gs, struct group *g, int64_t now_ms)
{
    struct sync_store *ss = malloc(sizeof *ss);
    if (!ss)
        return;
    *ss = (struct sync_store){ gs, g, g->generation, now_ms };
    int rc = group_store(gs, g, now_ms, ss, empty_store_done);
    if (rc < 0)
        empty_store_done(ss, rc);
}

/* ---- rebalancing ---- */

static int32_t max_rebalance_timeout_ms(const struct group *g)
{
    int32_t t = 0;
    for (int32_t i = 0; i < g->member_count; i++)
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    return t;
}

static void prepare_rebalance(struct brk_groups *gs, struct group *g, int64_t now_ms, const char *reason)
{
    if (g->state == BRK_GROUP_COMPLETING_REBALANCE) {
        for (int32_t i = 0; i < g->member_count; i++) {
            own_free(&g->members[i]->assignment);
            sync_answer(gs, g, g->members[i], BRK_GROUP_REBALANCE_IN_PROGRESS);
        }
    }
    /* a static replacement being stored now waits for this rebalance instead */
    for (int32_t i = 0; i < g->member_count; i++)
        g->members[i]->join_stored = false;
    int32_t timeout = max_rebalance_timeout_ms(g);
    if (g->state == BRK_GROUP_EMPTY && gs->cfg.initial_rebalance_delay_ms > 0) {
        int64_t delay = gs->cfg.initial_rebalance_delay_ms < timeout ? gs->cfg.initial_rebalance_delay_ms : timeout;
        g->initial_delay = true;
        g->new_member_added = false;
        g->initial_remaining_ms = timeout - delay > 0 ? timeout - delay : 0;
        g->join_deadline_ms = now_ms + delay;
    } else {
        g->initial_delay = false;
        g->join_deadline_ms = now_ms + timeout;
    }
    g->state = BRK_GROUP_PREPARING_REBALANCE;
    ASSERT(g->join_deadline_ms >= now_ms);
    log_info("group", "preparing to rebalance group=%.*s generation=%d reason=\"%s\" members=%d", (int)g->id.len,
             (const char *)g->id.p, g->generation, reason, g->member_count);
}

static void member_remove(struct group *g, int32_t i)
{
    member_free(g->members[i]);
    g->members[i] = g->members[--g->member_count];
}

/* select_protocol - Kafka's vote among the protocols every member supports. */
static const struct own *select_protocol(const struct group *g)
{
    const struct member *first = g->members[0];
    const struct own *best = NULL;
    int32_t best_votes = -1;
    for (int32_t c = 0; c < first->protocol_count; c++) {
        const struct own *cand = &first->protocols[c].name;
        bool everyone = true;
        for (int32_t i = 1; i < g->member_count && everyone; i++)
            everyone = member_protocol(g->members[i], own_bytes(cand)) != NULL;
        if (!everyone)
            continue;
        int32_t votes = 0;
        for (int32_t i = 0; i < g->member_count; i++) {
            /* each member votes for its most preferred candidate */
            const struct member *m = g->members[i];
            for (int32_t k = 0; k < m->protocol_count; k++) {
                bool candidate = true;
                for (int32_t j = 0; j < g->member_count && candidate; j++)
                    candidate = member_protocol(g->members[j], own_bytes(&m->protocols[k].name)) != NULL;
                if (candidate) {
                    votes += own_eq(&m->protocols[k].name, own_bytes(cand));
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best_votes = votes;
            best = cand;
        }
    }
    return best;
}

static void complete_join(struct brk_groups *gs, struct group *g, int64_t now_ms)
{
    ASSERT(g->state == BRK_GROUP_PREPARING_REBALANCE);
    /* dynamic members that did not rejoin in time are out; static ones stay
     * (their session timeout decides, KIP-345) */
    int32_t joined = 0;
    for (int32_t i = 0; i < g->member_count;) {
        struct member *m = g->members[i];
        if (!m->join_waiter && m->instance_id.null) {
            log_info("group", "member did not rejoin; removing group=%.*s member=%.*s", (int)g->id.len,
                     (const char *)g->id.p, (int)m->id.len, (const char *)m->id.p);
            member_remove(g, i);
        } else {
            joined += m->join_waiter != NULL;
            i++;
        }
    }
    if (g->member_count > 0 && joined == 0) {
        /* only absent static members: wait another rebalance timeout (their
         * sessions expire meanwhile), as Kafka's DelayedJoin does */
        g->initial_delay = false;
        g->join_deadline_ms = now_ms + max_rebalance_timeout_ms(g);
        log_warn("group", "group=%.*s could not complete rebalance: no member rejoined; static members=%d may "
                 "still come back within their session timeout", (int)g->id.len, (const char *)g->id.p,
                 g->member_count);
        return;
    }
    g->generation++;
    g->initial_delay = false;
    if (g->member_count == 0) {
        g->state = BRK_GROUP_EMPTY;
        g->empty_since_ms = now_ms;
        own_free(&g->protocol);
        own_free(&g->leader);
        log_info("group", "group is empty group=%.*s generation=%d", (int)g->id.len, (const char *)g->id.p,
                 g->generation);
        store_fire_and_forget(gs, g, now_ms);
        return;
    }
    const struct own *proto = select_protocol(g);
    struct own chosen = { NULL, 0, true };
    if (proto && own_set(&chosen, own_bytes(proto)) < 0)
        proto = NULL;
    own_free(&g->protocol);
    g->protocol = chosen;
    const struct member *leader = g->leader.null ? NULL : member_find(g, own_bytes(&g->leader));
    if (!leader || !leader->join_waiter) { /* Kafka's maybeElectNewJoinedLeader */
        int32_t k = 0;
        while (!g->members[k]->join_waiter)
            k++; /* joined > 0 */
        if (own_set(&g->leader, own_bytes(&g->members[k]->id)) < 0)
            log_error("group", "out of memory choosing a leader");
    }
    g->state = BRK_GROUP_COMPLETING_REBALANCE;
    log_info("group", "rebalance completed join group=%.*s generation=%d protocol=%.*s members=%d", (int)g->id.len,
             (const char *)g->id.p, g->generation, (int)g->protocol.len, g->protocol.p ? (const char *)g->protocol.p : "",
             g->member_count);
    /* answer every parked join; a callback may re-enter only through new
     * requests.  Every member's session restarts, as in Kafka. */
    for (int32_t i = 0; i < g->member_count; i++) {
        struct member *m = g->members[i];
        void *w = m->join_waiter;
        ASSERT(!m->join_stored);
        m->join_waiter = NULL;
        member_touch(m, now_ms);
        if (w)
            join_answer(gs, g, m, w, false);
    }
}

static bool all_joined(const struct group *g)
{
    if (g->pending_count > 0)
        return false;
    for (int32_t i = 0; i < g->member_count; i++)
        if (!g->members[i]->join_waiter)
            return false;
    return true;
}

static void maybe_complete_join(struct brk_groups *gs, struct group *g, int64_t now_ms)
{
    if (g->state == BRK_GROUP_PREPARING_REBALANCE && !g->initial_delay && all_joined(g))
        complete_join(gs, g, now_ms);
}

/* member_gone - m left or expired: remove it and move the group on. */
static void member_gone(struct brk_groups *gs, struct group *g, int32_t i, int64_t now_ms, const char *reason)
{
    struct member *m = g->members[i];
    if (m->join_waiter)
        join_answer_error(gs, m->join_waiter, BRK_GROUP_UNKNOWN_MEMBER_ID, own_bytes(&m->id));
    m->join_waiter = NULL;
    m->join_stored = false;
    if (m->sync_waiter)
        sync_answer(gs, g, m, BRK_GROUP_UNKNOWN_MEMBER_ID);
    log_info("group", "member removed group=%.*s member=%.*s reason=%s", (int)g->id.len, (const char *)g->id.p,
             (int)m->id.len, (const char *)m->id.p, reason);
    member_remove(g, i);
    switch (g->state) {
    case BRK_GROUP_STABLE:
    case BRK_GROUP_COMPLETING_REBALANCE: prepare_rebalance(gs, g, now_ms, reason); break;
    case BRK_GROUP_PREPARING_REBALANCE: break;
    default: return;
    }
    maybe_complete_join(gs, g, now_ms);
}

/* ---- public API ---- */

int brk_groups_create(const struct brk_groups_config *cfg, const struct brk_groups_ops *ops,
                      struct brk_groups **out)
{
    ASSERT(ops->join_done && ops->sync_done && ops->store);
    struct brk_groups *gs = calloc(1, sizeof *gs);
    if (!gs)
        return -ENOMEM;
    gs->cfg = *cfg;
    gs->ops = *ops;
    prng_init(&gs->prng, cfg->seed);
    *out = gs;
    return 0;
}

void brk_groups_destroy(struct brk_groups *gs)
{
    if (!gs)
        return;
    for (int32_t i = 0; i < gs->group_count; i++)
        group_free(gs->groups[i]);
    free(gs->groups);
    free(gs->scratch);
    free(gs);
}

static int new_member_id(struct brk_groups *gs, struct bytes client_id, struct own *out)
{
    /* Kafka: clientId + "-" + UUID, or groupInstanceId + "-" + UUID for a
     * static member (the caller passes whichever applies) */
    char id[512];
    uint64_t a = prng_next(&gs->prng), b = prng_next(&gs->prng);
    int n = snprintf(id, sizeof id, "%.*s-%08x-%04x-4%03x-%04x-%012llx", (int)(client_id.len > 255 ? 255 : client_id.len),
                     client_id.ptr ? (const char *)client_id.ptr : "", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
                     (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
                     (unsigned long long)(b & 0xffffffffffffULL));
    ASSERT(n > 0 && (size_t)n < sizeof id);
    return own_set(out, bytes_make(id, (size_t)n));
}

static int16_t join_check(const struct brk_group_join_req *jr, const struct group *g)
{
    if (!jr->group_id.ptr || jr->group_id.len == 0)
        return BRK_GROUP_INVALID_GROUP_ID;
    if (jr->session_timeout_ms < BRK_GROUP_SESSION_TIMEOUT_MS_MIN ||
        jr->session_timeout_ms > BRK_GROUP_SESSION_TIMEOUT_MS_MAX)
        return BRK_GROUP_INVALID_SESSION_TIMEOUT;
    if (jr->protocol_count <= 0 || jr->protocol_count > BRK_GROUP_PROTOCOLS_MAX || !jr->protocol_type.ptr ||
        jr->protocol_type.len == 0)
        return BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL;
    if (g && g->state != BRK_GROUP_EMPTY && g->state != BRK_GROUP_DEAD) {
        if (!own_eq(&g->protocol_type, jr->protocol_type))
            return BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL;
        /* at least one protocol every current member supports */
        bool any = false;
        for (int32_t p = 0; p < jr->protocol_count && !any; p++) {
            bool all = true;
            for (int32_t i = 0; i < g->member_count && all; i++)
                all = own_eq(&g->members[i]->id, jr->member_id) ||
                      member_protocol(g->members[i], jr->protocols[p].name) != NULL;
            any = all;
        }
        if (!any)
            return BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL;
    }
    return BRK_GROUP_OK;
}

static int member_fill(struct member *m, const struct brk_group_join_req *jr, int64_t now_ms)
{
    m->session_timeout_ms = jr->session_timeout_ms;
    m->rebalance_timeout_ms = jr->rebalance_timeout_ms > 0 ? jr->rebalance_timeout_ms : jr->session_timeout_ms;
    if (own_set(&m->instance_id, jr->group_instance_id) < 0 || own_set(&m->client_id, jr->client_id) < 0 ||
        own_set(&m->client_host, jr->client_host) < 0)
        return -ENOMEM;
    member_touch(m, now_ms);
    return member_set_protocols(m, jr);
}

static void join_new_member(struct brk_groups *gs, struct group *g, const struct brk_group_join_req *jr,
                            int64_t now_ms, void *waiter)
{
    struct own id = { NULL, 0, true };
    if (new_member_id(gs, jr->group_instance_id.ptr ? jr->group_instance_id : jr->client_id, &id) < 0) {
        join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
        return;
    }
    if (jr->require_known_member_id && !jr->group_instance_id.ptr) {
        /* KIP-394: hand out the id, expect the member back with it (a
         * static member is known by its instance id and skips this) */
        if (grow((void **)&g->pendings, &g->pending_cap, g->pending_count + 1, sizeof *g->pendings,
                 BRK_GROUP_MEMBERS_MAX) < 0) {
            own_free(&id);
            join_answer_error(gs, waiter, BRK_GROUP_GROUP_MAX_SIZE_REACHED, jr->member_id);
            return;
        }
        g->pendings[g->pending_count++] = (struct pending){ id, now_ms + jr->session_timeout_ms };
        join_answer_error(gs, waiter, BRK_GROUP_MEMBER_ID_REQUIRED, own_bytes(&id));
        return;
    }
    struct member *m = NULL;
    int rc = grow((void **)&g->members, &g->member_cap, g->member_count + 1, sizeof *g->members,
                  BRK_GROUP_MEMBERS_MAX);
    if (rc == 0) {
        m = calloc(1, sizeof *m);
        rc = m ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        m->id = id;
        id = (struct own){ NULL, 0, true };
        rc = member_fill(m, jr, now_ms);
    }
    if (rc < 0) {
        if (m)
            member_free(m);
        own_free(&id);
        join_answer_error(gs, waiter, rc == ERR_LIMIT ? BRK_GROUP_GROUP_MAX_SIZE_REACHED : BRK_GROUP_UNKNOWN,
                          jr->member_id);
        return;
    }
    if (g->state == BRK_GROUP_EMPTY && own_set(&g->protocol_type, jr->protocol_type) < 0)
        log_error("group", "out of memory recording the protocol type");
    g->members[g->member_count++] = m;
    m->join_waiter = waiter;
    g->new_member_added = true;
    log_info("group", "member joined group=%.*s member=%.*s client_id=%.*s", (int)g->id.len, (const char *)g->id.p,
             (int)m->id.len, (const char *)m->id.p, (int)m->client_id.len,
             m->client_id.p ? (const char *)m->client_id.p : "");
    if (g->state != BRK_GROUP_PREPARING_REBALANCE)
        prepare_rebalance(gs, g, now_ms, "new member joined");
    maybe_complete_join(gs, g, now_ms);
}

/* a static member's replacement being stored (Stable, no rebalance) */
struct static_store {
    struct brk_groups *gs;
    struct group *g;
    struct own new_id, old_id, prev_leader;
    void *waiter;
    bool support_skip_assignment; /* JoinGroup v9+ */
};

static void static_store_free(struct static_store *ss)
{
    own_free(&ss->new_id);
    own_free(&ss->old_id);
    own_free(&ss->prev_leader);
    free(ss);
}

/* static_store_done - Kafka's storeGroup callback in
 * updateStaticMemberAndRebalance: answer the join with the current
 * generation and the leader from before the replacement; on failure undo
 * the replacement (the old member id is current again; unlike Kafka, the
 * protocols the rejoin sent stay, which a later rejoin overwrites anyway)
 * and answer the error.  Nothing to do when the waiter was answered meanwhile (a rebalance
 * took it over, the member was fenced again or removed). */
static void static_store_done(void *arg, int rc)
{
    struct static_store *ss = arg;
    struct brk_groups *gs = ss->gs;
    struct group *g = ss->g;
    struct member *m = g->state == BRK_GROUP_STABLE ? member_find(g, own_bytes(&ss->new_id)) : NULL;
    if (!m || !m->join_stored || m->join_waiter != ss->waiter) {
        static_store_free(ss);
        return;
    }
    m->join_stored = false;
    m->join_waiter = NULL;
    if (rc < 0) {
        log_warn("group", "static member not stored group=%.*s member=%.*s error=\"%s\"; the previous member=%.*s "
                 "is current again", (int)g->id.len, (const char *)g->id.p, (int)ss->new_id.len,
                 (const char *)ss->new_id.p, err_str(rc), (int)ss->old_id.len, (const char *)ss->old_id.p);
        bool leader = own_eq(&g->leader, own_bytes(&ss->new_id));
        if (own_set(&m->id, own_bytes(&ss->old_id)) < 0 ||
            (leader && own_set(&g->leader, own_bytes(&ss->old_id)) < 0))
            log_error("group", "out of memory restoring a static member");
        join_answer_error(gs, ss->waiter, rc == ERR_NOT_LEADER ? BRK_GROUP_NOT_COORDINATOR
                                                               : BRK_GROUP_COORDINATOR_NOT_AVAILABLE,
                          bytes_make("", 0));
    } else if (ss->support_skip_assignment) {
        /* KIP-814: told the truth (a leader learns it leads and gets the
         * members), with skip_assignment so it does not assign again */
        join_answer(gs, g, m, ss->waiter, own_eq(&g->leader, own_bytes(&m->id)));
    } else {
        struct brk_group_join_result r = {
            .error_code = BRK_GROUP_OK, .generation_id = g->generation, .protocol_type = own_bytes(&g->protocol_type),
            .protocol_name = own_bytes(&g->protocol), .leader = own_bytes(&ss->prev_leader),
            .member_id = own_bytes(&m->id),
        };
        gs->ops.join_done(gs->ops.ctx, ss->waiter, &r);
    }
    static_store_free(ss);
    group_check(g);
}

/* join_static_replace - a known group.instance.id joined with no member id:
 * Kafka's replaceStaticMember + updateStaticMemberAndRebalance. */
static void join_static_replace(struct brk_groups *gs, struct group *g, struct member *m,
                                const struct brk_group_join_req *jr, int64_t now_ms, void *waiter)
{
    struct own new_id = { NULL, 0, true };
    struct static_store *ss = calloc(1, sizeof *ss);
    if (!ss || new_member_id(gs, jr->group_instance_id, &new_id) < 0) {
        free(ss);
        join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
        return;
    }
    *ss = (struct static_store){ gs, g, new_id, { NULL, 0, true }, { NULL, 0, true }, waiter,
                                 jr->support_skip_assignment };
    if (own_set(&ss->old_id, own_bytes(&m->id)) < 0 || own_set(&ss->prev_leader, own_bytes(&g->leader)) < 0 ||
        member_set_protocols(m, jr) < 0) {
        static_store_free(ss);
        join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
        return;
    }
    /* fence the previous incarnation's parked requests at once */
    if (m->join_waiter)
        join_answer_error(gs, m->join_waiter, BRK_GROUP_FENCED_INSTANCE_ID, own_bytes(&m->id));
    m->join_waiter = NULL;
    m->join_stored = false;
    if (m->sync_waiter)
        sync_answer(gs, g, m, BRK_GROUP_FENCED_INSTANCE_ID);
    bool leader = own_eq(&g->leader, own_bytes(&m->id));
    /* the member takes the new id; ss keeps its own copy */
    if (own_set(&m->id, own_bytes(&ss->new_id)) < 0 || (leader && own_set(&g->leader, own_bytes(&m->id)) < 0)) {
        log_error("group", "out of memory replacing a static member");
    }
    m->session_timeout_ms = jr->session_timeout_ms;
    m->rebalance_timeout_ms = jr->rebalance_timeout_ms > 0 ? jr->rebalance_timeout_ms : jr->session_timeout_ms;
    member_touch(m, now_ms);
    m->join_waiter = waiter;
    log_info("group", "static member rejoined group=%.*s instance=%.*s member=%.*s replaces=%.*s state=%s",
             (int)g->id.len, (const char *)g->id.p, (int)m->instance_id.len, (const char *)m->instance_id.p,
             (int)m->id.len, (const char *)m->id.p, (int)ss->old_id.len, (const char *)ss->old_id.p,
             brk_group_state_name(g->state));
    switch (g->state) {
    case BRK_GROUP_STABLE: {
        const struct own *next = select_protocol(g);
        if (!next || !own_eq(&g->protocol, own_bytes(next))) {
            static_store_free(ss);
            prepare_rebalance(gs, g, now_ms, "static member rejoined and the selected protocol changes");
            break;
        }
        m->join_stored = true; /* no rebalance: store, then answer */
        int rc = group_store(gs, g, now_ms, ss, static_store_done);
        if (rc < 0)
            static_store_done(ss, rc);
        return;
    }
    case BRK_GROUP_COMPLETING_REBALANCE:
        /* the leader may be assigning with the old id: rebalance */
        static_store_free(ss);
        prepare_rebalance(gs, g, now_ms, "static member rejoined during CompletingRebalance");
        break;
    case BRK_GROUP_PREPARING_REBALANCE: static_store_free(ss); break;
    case BRK_GROUP_EMPTY:
    case BRK_GROUP_DEAD: ASSERT(!"a group with members is never Empty or Dead");
    }
    maybe_complete_join(gs, g, now_ms);
}

static void groups_join(struct brk_groups *gs, const struct brk_group_join_req *jr, int64_t now_ms, void *waiter)
{
    bool new_member = !jr->member_id.ptr || jr->member_id.len == 0;
    struct group *g = brk_group_live(gs, jr->group_id);
    int16_t err = join_check(jr, g);
    if (err != BRK_GROUP_OK) {
        join_answer_error(gs, waiter, err, jr->member_id);
        return;
    }
    if (!g) {
        if (!new_member) {
            join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN_MEMBER_ID, jr->member_id);
            return;
        }
        if (brk_group_get_or_create(gs, jr->group_id, &g) < 0) {
            join_answer_error(gs, waiter, BRK_GROUP_COORDINATOR_NOT_AVAILABLE, jr->member_id);
            return;
        }
    }
    bool is_static = jr->group_instance_id.ptr != NULL;
    if (new_member) {
        struct member *old = is_static ? member_find_instance(g, jr->group_instance_id) : NULL;
        if (old)
            join_static_replace(gs, g, old, jr, now_ms, waiter);
        else
            join_new_member(gs, g, jr, now_ms, waiter);
        return;
    }
    if (is_static) {
        int16_t serr = member_validate(g, jr->member_id, jr->group_instance_id, "join-group");
        if (serr != BRK_GROUP_OK) {
            join_answer_error(gs, waiter, serr, jr->member_id);
            return;
        }
    }
    int32_t pi = pending_index(g, jr->member_id);
    if (pi >= 0) {
        /* the second join of KIP-394: now it is a member */
        struct member *m = NULL;
        int rc = grow((void **)&g->members, &g->member_cap, g->member_count + 1, sizeof *g->members,
                      BRK_GROUP_MEMBERS_MAX);
        if (rc == 0) {
            m = calloc(1, sizeof *m);
            rc = m ? 0 : -ENOMEM;
        }
        if (rc == 0) {
            m->id = g->pendings[pi].id;
            g->pendings[pi].id = (struct own){ NULL, 0, true };
            pending_remove(g, pi);
            rc = member_fill(m, jr, now_ms);
        }
        if (rc < 0) {
            if (m)
                member_free(m);
            join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
            return;
        }
        if (g->state == BRK_GROUP_EMPTY && own_set(&g->protocol_type, jr->protocol_type) < 0)
            log_error("group", "out of memory recording the protocol type");
        g->members[g->member_count++] = m;
        m->join_waiter = waiter;
        g->new_member_added = true;
        log_info("group", "member joined group=%.*s member=%.*s", (int)g->id.len, (const char *)g->id.p,
                 (int)m->id.len, (const char *)m->id.p);
        if (g->state != BRK_GROUP_PREPARING_REBALANCE)
            prepare_rebalance(gs, g, now_ms, "new member joined");
        maybe_complete_join(gs, g, now_ms);
        return;
    }
    struct member *m = member_find(g, jr->member_id);
    if (!m) {
        join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN_MEMBER_ID, jr->member_id);
        return;
    }
    switch (g->state) {
    case BRK_GROUP_PREPARING_REBALANCE:
        if (m->join_waiter) /* a retried join: the old one is superseded */
            join_answer_error(gs, m->join_waiter, BRK_GROUP_REBALANCE_IN_PROGRESS, own_bytes(&m->id));
        if (member_fill(m, jr, now_ms) < 0) {
            m->join_waiter = NULL;
            join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
            return;
        }
        m->join_waiter = waiter;
        maybe_complete_join(gs, g, now_ms);
        return;
    case BRK_GROUP_COMPLETING_REBALANCE:
    case BRK_GROUP_STABLE: {
        if (m->join_waiter) { /* a retried join while its static replacement is stored */
            ASSERT(m->join_stored);
            join_answer_error(gs, m->join_waiter, BRK_GROUP_REBALANCE_IN_PROGRESS, own_bytes(&m->id));
            m->join_waiter = NULL;
            m->join_stored = false;
        }
        bool is_leader = own_eq(&g->leader, jr->member_id);
        if (member_protocols_equal(m, jr) && (g->state == BRK_GROUP_COMPLETING_REBALANCE || !is_leader)) {
            /* nothing changed: the member missed our answer; repeat it */
            member_touch(m, now_ms);
            join_answer(gs, g, m, waiter, false);
            return;
        }
        if (member_fill(m, jr, now_ms) < 0) {
            join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN, jr->member_id);
            return;
        }
        m->join_waiter = waiter;
        prepare_rebalance(gs, g, now_ms, is_leader ? "leader rejoined" : "member changed its protocols");
        maybe_complete_join(gs, g, now_ms);
        return;
    }
    case BRK_GROUP_EMPTY:
    case BRK_GROUP_DEAD: break;
    }
    join_answer_error(gs, waiter, BRK_GROUP_UNKNOWN_MEMBER_ID, jr->member_id);
}

static void sync_store_done(void *arg, int rc)
{
    struct sync_store *ss = arg;
    struct brk_groups *gs = ss->gs;
    struct group *g = ss->g;
    bool current = g->state == BRK_GROUP_COMPLETING_REBALANCE && g->generation == ss->generation;
    int64_t now_ms = ss->now_ms;
    free(ss);
    if (!current)
        return; /* a newer rebalance already answered the waiters */
    if (rc < 0) {
        log_warn("group", "group assignment not stored group=%.*s generation=%d error=\"%s\"", (int)g->id.len,
                 (const char *)g->id.p, g->generation, err_str(rc));
        for (int32_t i = 0; i < g->member_count; i++) {
            own_free(&g->members[i]->assignment);
            sync_answer(gs, g, g->members[i], BRK_GROUP_COORDINATOR_NOT_AVAILABLE);
        }
        prepare_rebalance(gs, g, now_ms, "assignment not stored");
        return;
    }
    g->state = BRK_GROUP_STABLE;
    log_info("group", "group stable group=%.*s generation=%d members=%d", (int)g->id.len, (const char *)g->id.p,
             g->generation, g->member_count);
    for (int32_t i = 0; i < g->member_count; i++)
        sync_answer(gs, g, g->members[i], BRK_GROUP_OK);
    group_check(g);
}

static void groups_sync(struct brk_groups *gs, const struct brk_group_sync_req *sr, int64_t now_ms, void *waiter)
{
    struct group *g = brk_group_live(gs, sr->group_id);
    int16_t err = g ? member_validate(g, sr->member_id, sr->group_instance_id, "sync-group")
                    : BRK_GROUP_UNKNOWN_MEMBER_ID;
    struct member *m = err == BRK_GROUP_OK ? member_find(g, sr->member_id) : NULL;
    if (err == BRK_GROUP_OK && !m)
        err = BRK_GROUP_UNKNOWN_MEMBER_ID;
    if (err == BRK_GROUP_OK && sr->generation_id == g->generation &&
        ((sr->protocol_type.ptr && !own_eq(&g->protocol_type, sr->protocol_type)) ||
         (sr->protocol_name.ptr && !own_eq(&g->protocol, sr->protocol_name))))
        err = BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL; /* SyncGroup v5+ */
    if (err == BRK_GROUP_OK)
        err = sr->generation_id != g->generation                ? BRK_GROUP_ILLEGAL_GENERATION
              : g->state == BRK_GROUP_PREPARING_REBALANCE       ? BRK_GROUP_REBALANCE_IN_PROGRESS
              : g->state != BRK_GROUP_COMPLETING_REBALANCE &&
                        g->state != BRK_GROUP_STABLE            ? BRK_GROUP_UNKNOWN_MEMBER_ID
                                                                : BRK_GROUP_OK;
    if (err != BRK_GROUP_OK) {
        sync_reply(gs, g, m, waiter, err);
        return;
    }
    member_touch(m, now_ms);
    if (g->state == BRK_GROUP_STABLE) {
        sync_reply(gs, g, m, waiter, BRK_GROUP_OK);
        return;
    }
    if (m->sync_waiter)
        sync_answer(gs, g, m, BRK_GROUP_REBALANCE_IN_PROGRESS);
    m->sync_waiter = waiter;
    if (!own_eq(&g->leader, sr->member_id))
        return;
    /* the leader's assignment: members it left out get an empty one */
    for (int32_t i = 0; i < g->member_count; i++) {
        struct member *x = g->members[i];
        struct bytes a = bytes_make("", 0);
        for (int32_t k = 0; k < sr->assignment_count; k++)
            if (own_eq(&x->id, sr->assignments[k].member_id) && sr->assignments[k].assignment.ptr)
                a = sr->assignments[k].assignment;
        if (own_set(&x->assignment, a) < 0)
            log_error("group", "out of memory storing an assignment");
    }
    struct sync_store *ss = malloc(sizeof *ss);
    int rc = ss ? 0 : -ENOMEM;
    if (rc == 0) {
        *ss = (struct sync_store){ gs, g, g->generation, now_ms };
        rc = group_store(gs, g, now_ms, ss, sync_store_done);
        if (rc < 0)
            free(ss);
    }
    if (rc < 0) {
        log_warn("group", "cannot store group assignment group=%.*s error=\"%s\"", (int)g->id.len,
                 (const char *)g->id.p, err_str(rc));
        for (int32_t i = 0; i < g->member_count; i++) {
            own_free(&g->members[i]->assignment);
            sync_answer(gs, g, g->members[i], BRK_GROUP_COORDINATOR_NOT_AVAILABLE);
        }
        prepare_rebalance(gs, g, now_ms, "assignment not stored");
    }
}

/* The invariants of group_id's group after a join or sync.  The id is
 * copied first: the call may answer its waiter at once, and the request that
 * holds group_id's bytes can be freed by then. */
static void group_check_after(struct brk_groups *gs, struct bytes group_id,
                              void (*call)(struct brk_groups *, const void *, int64_t, void *), const void *req,
                              int64_t now_ms, void *waiter)
{
    struct own id = { NULL, 0, true };
    bool copied = own_set(&id, group_id) == 0;
    call(gs, req, now_ms, waiter);
    const struct group *g = copied ? brk_group_find(gs, own_bytes(&id)) : NULL;
    if (g)
        group_check(g);
    own_free(&id);
}

static void groups_join_call(struct brk_groups *gs, const void *req, int64_t now_ms, void *waiter)
{
    groups_join(gs, req, now_ms, waiter);
}

static void groups_sync_call(struct brk_groups *gs, const void *req, int64_t now_ms, void *waiter)
{
    groups_sync(gs, req, now_ms, waiter);
}

void brk_groups_join(struct brk_groups *gs, const struct brk_group_join_req *jr, int64_t now_ms, void *waiter)
{
    group_check_after(gs, jr->group_id, groups_join_call, jr, now_ms, waiter);
}

void brk_groups_sync(struct brk_groups *gs, const struct brk_group_sync_req *sr, int64_t now_ms, void *waiter)
{
    group_check_after(gs, sr->group_id, groups_sync_call, sr, now_ms, waiter);
}

int16_t brk_groups_heartbeat(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                             struct bytes instance_id, int32_t generation_id, int64_t now_ms)
{
    struct group *g = brk_group_live(gs, group_id);
    if (!g)
        return BRK_GROUP_UNKNOWN_MEMBER_ID;
    int16_t err = member_validate(g, member_id, instance_id, "heartbeat");
    if (err != BRK_GROUP_OK)
        return err;
    struct member *m = member_find(g, member_id);
    if (!m)
        return BRK_GROUP_UNKNOWN_MEMBER_ID;
    if (generation_id != g->generation)
        return BRK_GROUP_ILLEGAL_GENERATION;
    member_touch(m, now_ms);
    if (g->state == BRK_GROUP_PREPARING_REBALANCE)
        return BRK_GROUP_REBALANCE_IN_PROGRESS;
    return BRK_GROUP_OK;
}

int16_t brk_groups_leave(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                         struct bytes instance_id, int64_t now_ms, bool *group_found)
{
    struct group *g = brk_group_live(gs, group_id);
    *group_found = g != NULL;
    if (!g)
        return BRK_GROUP_UNKNOWN_MEMBER_ID;
    if (!member_id.ptr || member_id.len == 0) {
        /* removal by instance id alone (KIP-345's admin removal) */
        const struct member *s = instance_id.ptr ? member_find_instance(g, instance_id) : NULL;
        if (!s)
            return BRK_GROUP_UNKNOWN_MEMBER_ID;
        member_gone(gs, g, member_index(g, own_bytes(&s->id)), now_ms, "static member removed by instance id");
        group_check(g);
        return BRK_GROUP_OK;
    }
    int32_t pi = pending_index(g, member_id);
    if (pi >= 0) {
        pending_remove(g, pi);
        maybe_complete_join(gs, g, now_ms);
        group_check(g);
        return BRK_GROUP_OK;
    }
    int16_t err = member_validate(g, member_id, instance_id, "leave-group");
    if (err != BRK_GROUP_OK)
        return err;
    int32_t i = member_index(g, member_id);
    if (i < 0)
        return BRK_GROUP_UNKNOWN_MEMBER_ID;
    member_gone(gs, g, i, now_ms, "member left the group");
    group_check(g);
    return BRK_GROUP_OK;
}

static void group_tick(struct brk_groups *gs, struct group *g, int64_t now_ms)
{
    for (int32_t i = 0; i < g->pending_count;) {
        if (now_ms >= g->pendings[i].deadline_ms) {
            pending_remove(g, i);
            maybe_complete_join(gs, g, now_ms);
        } else {
            i++;
        }
    }
    for (int32_t i = 0; i < g->member_count;) {
        struct member *m = g->members[i];
        if (!m->join_waiter && !m->sync_waiter && now_ms >= m->deadline_ms) {
            member_gone(gs, g, i, now_ms, "session timeout expired");
            i = 0; /* the array was reshuffled */
        } else {
            i++;
        }
    }
    if (g->state == BRK_GROUP_PREPARING_REBALANCE && now_ms >= g->join_deadline_ms) {
        if (g->initial_delay && g->new_member_added && g->initial_remaining_ms > 0) {
            int64_t delay = gs->cfg.initial_rebalance_delay_ms < g->initial_remaining_ms
                                ? gs->cfg.initial_rebalance_delay_ms
                                : g->initial_remaining_ms;
            g->new_member_added = false;
            g->initial_remaining_ms -= delay;
            g->join_deadline_ms = now_ms + delay;
            return;
        }
        complete_join(gs, g, now_ms);
    }
}

void brk_groups_tick(struct brk_groups *gs, int64_t now_ms)
{
    for (int32_t i = 0; i < gs->group_count; i++) {
        if (gs->groups[i]->state != BRK_GROUP_DEAD)
            group_tick(gs, gs->groups[i], now_ms);
        group_check(gs->groups[i]);
    }
    if (gs->cfg.offsets_retention_ms <= 0 || now_ms < gs->next_expiry_check_ms)
        return;
    gs->next_expiry_check_ms = now_ms + (gs->cfg.retention_check_interval_ms > 0 ? gs->cfg.retention_check_interval_ms
                                                                                    : 600000);
    for (int32_t i = 0; i < gs->group_count; i++)
        if (gs->groups[i]->state != BRK_GROUP_DEAD)
            brk_group_offsets_expire(gs, gs->groups[i], now_ms);
}

int16_t brk_groups_commit_check(struct brk_groups *gs, struct bytes group_id, struct bytes member_id,
                                struct bytes instance_id, int32_t generation_id, int64_t now_ms)
{
    if (!group_id.ptr || group_id.len == 0)
        return BRK_GROUP_INVALID_GROUP_ID;
    struct group *g = brk_group_live(gs, group_id);
    if (!g) {
        if (generation_id >= 0)
            return BRK_GROUP_ILLEGAL_GENERATION;
        /* a commit without group management (assign() + commit) */
        return brk_group_get_or_create(gs, group_id, &g) < 0 ? BRK_GROUP_COORDINATOR_NOT_AVAILABLE : BRK_GROUP_OK;
    }
    if (generation_id < 0 && g->state == BRK_GROUP_EMPTY && !instance_id.ptr)
        return BRK_GROUP_OK;
    if (instance_id.ptr) { /* Kafka's validateOffsetCommit: a static member is checked first */
        int16_t err = member_validate(g, member_id, instance_id, "offset-commit");
        if (err != BRK_GROUP_OK)
            return err;
    }
    if (g->state == BRK_GROUP_COMPLETING_REBALANCE)
        return BRK_GROUP_REBALANCE_IN_PROGRESS;
    struct member *m = member_find(g, member_id);
    if (!m)
        return BRK_GROUP_UNKNOWN_MEMBER_ID;
    if (generation_id != g->generation)
        return BRK_GROUP_ILLEGAL_GENERATION;
    member_touch(m, now_ms);
    return BRK_GROUP_OK;
}

int brk_groups_describe(const struct brk_groups *gs, struct bytes group_id, struct arena *a,
                        struct brk_group_desc *out)
{
    struct group *g = brk_group_live(gs, group_id);
    *out = (struct brk_group_desc){ .found = false, .state = BRK_GROUP_DEAD, .protocol_type = bytes_make("", 0),
                                    .protocol = bytes_make("", 0) };
    if (!g)
        return 0;
    int rc = 0;
    out->found = true;
    out->state = g->state;
    out->protocol_type = brk_group_arena_copy(a, own_bytes_or_empty(&g->protocol_type), &rc);
    bool stable = g->state == BRK_GROUP_STABLE;
    if (stable && !g->protocol.null)
        out->protocol = brk_group_arena_copy(a, own_bytes(&g->protocol), &rc);
    out->members = arena_alloc_array(a, (size_t)g->member_count, sizeof *out->members);
    if (!out->members && g->member_count > 0)
        return ERR_LIMIT;
    out->member_count = g->member_count;
    for (int32_t i = 0; i < g->member_count; i++) {
        const struct member *m = g->members[i];
        struct brk_group_member_desc *d = &out->members[i];
        d->member_id = brk_group_arena_copy(a, own_bytes(&m->id), &rc);
        d->group_instance_id = brk_group_arena_copy(a, own_bytes(&m->instance_id), &rc);
        d->client_id = brk_group_arena_copy(a, own_bytes_or_empty(&m->client_id), &rc);
        d->client_host = brk_group_arena_copy(a, own_bytes_or_empty(&m->client_host), &rc);
        d->metadata = bytes_make("", 0);
        d->assignment = bytes_make("", 0);
        if (stable) {
            const struct member_protocol *p = member_protocol(m, own_bytes(&g->protocol));
            if (p)
                d->metadata = brk_group_arena_copy(a, own_bytes(&p->metadata), &rc);
            d->assignment = brk_group_arena_copy(a, own_bytes(&m->assignment), &rc);
        }
    }
    return rc;
}

int brk_groups_list(const struct brk_groups *gs, struct arena *a, struct brk_group_listing **out, int32_t *count)
{
    int32_t n = 0;
    for (int32_t i = 0; i < gs->group_count; i++)
        n += gs->groups[i]->state != BRK_GROUP_DEAD;
    struct brk_group_listing *l = arena_alloc_array(a, (size_t)n, sizeof *l);
    if (!l && n > 0)
        return ERR_LIMIT;
    int rc = 0;
    int32_t k = 0;
    for (int32_t i = 0; i < gs->group_count; i++) {
        const struct group *g = gs->groups[i];
        if (g->state == BRK_GROUP_DEAD)
            continue;
        l[k].group_id = brk_group_arena_copy(a, own_bytes(&g->id), &rc);
        l[k].protocol_type = brk_group_arena_copy(a, own_bytes_or_empty(&g->protocol_type), &rc);
        l[k].state = g->state;
        k++;
    }
    *out = l;
    *count = k;
    return rc;
}

static int load_group(struct brk_groups *gs, struct bytes group_id, struct bytes value, int64_t now_ms)
{
    struct group *g = brk_group_find(gs, group_id);
    if (!value.ptr) { /* tombstone: the group was deleted */
        if (g) {
            for (int32_t i = g->member_count - 1; i >= 0; i--)
                member_remove(g, i);
            g->state = BRK_GROUP_DEAD;
        }
        return 0;
    }
    struct arena a;
    arena_init(&a, 4096, 64u << 20);
    struct brk_offsets_topic_group v;
    int rc = brk_offsets_topic_group_value_decode(value, &a, &v);
    if (rc == 0 && !g)
        rc = brk_group_get_or_create(gs, group_id, &g);
    if (rc == 0) {
        for (int32_t i = g->member_count - 1; i >= 0; i--)
            member_remove(g, i);
        g->generation = v.generation;
        rc = own_set(&g->protocol_type, v.protocol_type);
        if (rc == 0)
            rc = own_set(&g->protocol, v.protocol);
        if (rc == 0)
            rc = own_set(&g->leader, v.leader);
        g->state = v.member_count > 0 ? BRK_GROUP_STABLE : BRK_GROUP_EMPTY;
        g->empty_since_ms = g->state == BRK_GROUP_EMPTY && v.current_state_timestamp_ms > 0
                                ? v.current_state_timestamp_ms : 0;
    }
    for (int32_t i = 0; rc == 0 && i < v.member_count; i++) {
        const struct brk_offsets_topic_member *vm = &v.members[i];
        rc = grow((void **)&g->members, &g->member_cap, g->member_count + 1, sizeof *g->members,
                  BRK_GROUP_MEMBERS_MAX);
        struct member *m = rc == 0 ? calloc(1, sizeof *m) : NULL;
        if (rc == 0 && !m)
            rc = -ENOMEM;
        if (rc < 0)
            break;
        struct brk_group_protocol_in p = { v.protocol, vm->subscription };
        struct brk_group_join_req jr = { .group_instance_id = vm->group_instance_id, .client_id = vm->client_id,
                                         .client_host = vm->client_host, .session_timeout_ms = vm->session_timeout_ms,
                                         .rebalance_timeout_ms = vm->rebalance_timeout_ms,
                                         .protocol_count = v.protocol.ptr ? 1 : 0, .protocols = &p };
        rc = own_set(&m->id, vm->member_id);
        if (rc == 0)
            rc = member_fill(m, &jr, now_ms);
        if (rc == 0)
            rc = own_set(&m->assignment, vm->assignment);
        if (rc < 0) {
            member_free(m);
            break;
        }
        g->members[g->member_count++] = m;
    }
    if (g && g->state == BRK_GROUP_STABLE && g->member_count == 0)
        g->state = BRK_GROUP_EMPTY; /* no member could be loaded: never a memberless Stable */
    if (g)
        group_check(g);
    arena_deinit(&a);
    return rc;
}

int brk_groups_load_record(struct brk_groups *gs, const struct brk_offsets_topic_record *rec, int64_t now_ms)
{
    struct brk_offsets_topic_key k;
    int rc = brk_offsets_topic_key_decode(rec->key, &k);
    if (rc == ERR_UNSUPPORTED)
        return 0; /* KIP-848 / share-group records: not ours */
    if (rc < 0)
        return rc;
    if (k.version == BRK_OFFSETS_TOPIC_KEY_GROUP)
        return load_group(gs, k.group, rec->value, now_ms);
    if (!rec->value.ptr) {
        struct group *g = brk_group_find(gs, k.group);
        if (g)
            brk_group_offset_remove(g, k.topic, k.partition);
        return 0;
    }
    struct brk_offsets_topic_offset v;
    rc = brk_offsets_topic_offset_value_decode(rec->value, &v);
    if (rc == ERR_UNSUPPORTED)
        return 0;
    if (rc < 0)
        return rc;
    struct brk_group_offset o = { .topic = k.topic, .partition = k.partition, .offset = v.offset,
                                  .leader_epoch = v.leader_epoch, .metadata = v.metadata,
                                  .commit_timestamp_ms = v.commit_timestamp_ms,
                                  .expire_timestamp_ms = v.expire_timestamp_ms };
    return brk_groups_offset_put(gs, k.group, &o);
}

int32_t brk_groups_unload(struct brk_groups *gs, int32_t partition, int32_t partition_count)
{
    ASSERT(partition_count > 0);
    ASSERT(partition >= 0 && partition < partition_count);
    int32_t dropped = 0;
    for (int32_t k = 0; k < gs->group_count; k++) {
        struct group *g = gs->groups[k];
        if (brk_offsets_topic_partition_for(own_bytes(&g->id), partition_count) != partition)
            continue;
        dropped += g->state != BRK_GROUP_DEAD;
        for (int32_t i = g->member_count - 1; i >= 0; i--) {
            struct member *m = g->members[i];
            if (m->join_waiter)
                join_answer_error(gs, m->join_waiter, BRK_GROUP_NOT_COORDINATOR, own_bytes(&m->id));
            m->join_waiter = NULL;
            sync_answer(gs, g, m, BRK_GROUP_NOT_COORDINATOR);
            member_remove(g, i);
        }
        for (int32_t i = g->pending_count - 1; i >= 0; i--)
            pending_remove(g, i);
        brk_group_offsets_clear(g);
        g->state = BRK_GROUP_DEAD;
        g->generation = 0;
        g->initial_delay = false;
        g->empty_since_ms = 0;
        own_free(&g->protocol_type);
        own_free(&g->protocol);
        own_free(&g->leader);
        group_check(g);
    }
    return dropped;
}

enum brk_group_state brk_groups_state(const struct brk_groups *gs, struct bytes group_id)
{
    struct group *g = brk_group_find(gs, group_id);
    return g ? g->state : BRK_GROUP_DEAD;
}

int32_t brk_groups_generation(const struct brk_groups *gs, struct bytes group_id)
{
    struct group *g = brk_group_find(gs, group_id);
    return g ? g->generation : -1;
}
