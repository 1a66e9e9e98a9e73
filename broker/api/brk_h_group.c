/*
 * brk_h_group.c - the group APIs (FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups,
 * ListGroups, DeleteGroups, OffsetDelete) and the glue between the coordinator state
 * machine (brk_group) and the __consumer_offsets partitions.
 *
 * __consumer_offsets is created on first use through the controller
 * (ctrl_create_topic, asynchronous; COORDINATOR_NOT_AVAILABLE meanwhile) with
 * offsets.topic.num.partitions partitions and offsets.topic.replication.factor
 * replicas (more replicas than live brokers: COORDINATOR_NOT_AVAILABLE and
 * one log line naming the key).  A group lives on partition
 * Utils.abs(hashCode(group)) % partitions; this node coordinates the groups
 * whose partition it leads.  FindCoordinator on any broker names that
 * partition's leader from the metadata image (its endpoint for the
 * listener the client came in on); the other group APIs on a node that is
 * not the coordinator get NOT_COORDINATOR, as in Kafka.
 *
 * Writes: OffsetCommit, the leader's SyncGroup, an emptied group and
 * DeleteGroups build one uncompressed v2 batch (brk_offsets_topic) and
 * brk_plog_append it; the request is answered from the append callback,
 * i.e. with produce's flush policy.
 *
 * Groups follow their partition (brk_h_group_follow, after every metadata
 * record that touches __consumer_offsets): a partition this node comes to
 * lead is replayed from its log, one partition per loop pass, and its group
 * requests get COORDINATOR_LOAD_IN_PROGRESS until then; a partition it
 * stops leading has its groups dropped (parked joins and syncs answered
 * NOT_COORDINATOR; members find the new coordinator).  Start-up
 * (brk_h_group_start) loads the partitions led here before the listeners
 * open; a broker that was fenced loads them when the controller gives the
 * leadership back.  An offset commit made durable after the partition left
 * is answered but not cached (the next load reads it from the log).
 *
 * Not here: offset expiry (offsets.retention.minutes), transactional
 * offsets, compaction of __consumer_offsets (created with retention.ms=-1
 * so committed offsets are never deleted by time), the client's real host
 * in DescribeGroups (the connection's peer is not exposed to handlers yet).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/group/brk_group.h"
#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/group/brk_offsets_topic.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_replica.h"
#include "common/clock.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define GROUP_TICK_MS 100
#define GROUP_LOAD_READ_BYTES (8u << 20)
#define KERR_INVALID_COMMIT_OFFSET_SIZE 28
/* Kafka's ACL operation bits for a group: READ(3), DELETE(6), DESCRIBE(8) */
#define GROUP_AUTHORIZED_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

/* ---- the __consumer_offsets topic ---- */

static const struct ctrl_topic *offsets_topic(const struct brk_ctx *srv)
{
    return ctrl_image_topic_find(ctrl_metadata(srv->ctrl), BRK_OFFSETS_TOPIC_NAME, strlen(BRK_OFFSETS_TOPIC_NAME));
}

static void topic_created_cb(void *arg, int rc)
{
    struct brk_ctx *srv = arg;
    srv->groups_topic_creating = false;
    if (rc < 0 && rc != ERR_EXISTS)
        log_warn("group", "%s not created error=\"%s\"; the next group request retries", BRK_OFFSETS_TOPIC_NAME,
                 err_str(rc));
}

int16_t brk_h_group_offsets_topic_ensure(struct brk_ctx *srv)
{
    if (offsets_topic(srv))
        return KERR_NONE;
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    int32_t live = ctrl_image_unfenced_count(img);
    int64_t rf = srv->node->offsets_topic_replication_factor;
    if (rf > live) {
        log_error("group", "cannot create %s: offsets.topic.replication.factor=%lld but only %d broker(s) are "
                  "alive; set offsets.topic.replication.factor=%d (or start more brokers)", BRK_OFFSETS_TOPIC_NAME,
                  (long long)rf, live, live > 0 ? live : 1);
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    }
    if (srv->groups_topic_creating)
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE; /* clients retry, as with Kafka */
    /* Kafka: compact, 100 MiB segments.  Samsa does not compact yet, so
     * time retention is switched off to keep every committed offset. */
    static const struct ctrl_config_kv kv[] = {
        { "cleanup.policy", "compact" },
        { "segment.bytes", "104857600" },
        { "retention.ms", "-1" },
    };
    struct ctrl_topic_spec spec = {
        .name = BRK_OFFSETS_TOPIC_NAME, .name_len = strlen(BRK_OFFSETS_TOPIC_NAME),
        .partition_count = (int32_t)srv->node->offsets_topic_num_partitions, .replication_factor = (int16_t)rf,
        .config_count = (int32_t)(sizeof kv / sizeof kv[0]), .configs = kv,
    };
    int rc = ctrl_create_topic(srv->ctrl, &spec, topic_created_cb, srv);
    if (rc == 0) {
        srv->groups_topic_creating = true;
        log_info("group", "creating %s partitions=%d replication_factor=%d", BRK_OFFSETS_TOPIC_NAME,
                 spec.partition_count, spec.replication_factor);
    } else if (rc != ERR_EXISTS) {
        log_warn("group", "cannot create %s error=\"%s\"", BRK_OFFSETS_TOPIC_NAME, err_str(rc));
    }
    return BRK_GROUP_COORDINATOR_NOT_AVAILABLE; /* the partitions open once the record is applied */
}

static struct brk_part *group_part(struct brk_ctx *srv, struct bytes group_id)
{
    const struct ctrl_topic *t = offsets_topic(srv);
    if (!t || t->partition_count <= 0)
        return NULL;
    int32_t p = brk_offsets_topic_partition_for(group_id, t->partition_count);
    return brk_parts_find(srv->parts, t->topic_id, p);
}

/* part_loaded - are the groups of this __consumer_offsets partition loaded
 * for its current leadership here? */
static bool part_loaded(const struct brk_ctx *srv, const struct brk_part *part)
{
    return part->is_leader && part->partition < srv->groups_partition_count &&
           srv->groups_loaded_epochs[part->partition] == part->leader_epoch;
}

/* coord_loading_find - a __consumer_offsets partition led here whose groups
 * are not loaded for its leader epoch, or NULL. */
static struct brk_part *coord_loading_find(const struct brk_ctx *srv)
{
    const struct ctrl_topic *t = offsets_topic(srv);
    for (int32_t p = 0; t && p < srv->groups_partition_count; p++) {
        struct brk_part *part = brk_parts_find(srv->parts, t->topic_id, p);
        if (part && part->is_leader && !part_loaded(srv, part))
            return part;
    }
    return NULL;
}

/* coord_ready - groups started, group_id valid, __consumer_offsets exists
 * (created on first use).  Kafka error code. */
static int16_t coord_ready(struct brk_req *req, struct bytes group_id)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    if (!srv->groups)
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    if (!group_id.ptr || group_id.len == 0)
        return BRK_GROUP_INVALID_GROUP_ID;
    return brk_h_group_offsets_topic_ensure(srv);
}

/* coord_check - is this node the coordinator of group_id?  Kafka error code. */
static int16_t coord_check(struct brk_req *req, struct bytes group_id)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    int16_t err = coord_ready(req, group_id);
    if (err != KERR_NONE)
        return err;
    struct brk_part *part = group_part(srv, group_id);
    if (!part || !part->is_leader)
        return BRK_GROUP_NOT_COORDINATOR;
    if (!part_loaded(srv, part))
        return BRK_GROUP_COORDINATOR_LOAD_IN_PROGRESS;
    return KERR_NONE;
}

/* ---- writes to __consumer_offsets ---- */

/* A group write is answered once committed - the HW passed it, so every ISR
 * member has it (Kafka appends to __consumer_offsets with acks=all): a
 * commit acknowledged before a coordinator failover is there after it.  The
 * wait is bounded by the ISR rules (a lagging follower leaves the ISR after
 * replica.lag.time.max.ms; below min.insync.replicas the answer is an
 * error). */
struct store_op {
    struct brk_ctx *srv;
    struct brk_part *part;
    void *arg;
    brk_groups_store_done_cb done;
    int32_t records;
    int32_t leader_epoch;
    int64_t base;                   /* the batch's first offset, once appended */
    struct brk_part_waiter waiter;  /* linked while waiting for the HW */
    struct store_op *prev, *next;   /* on store_parked while linked */
};

static struct store_op *store_parked; /* writes waiting for the HW (state thread) */

static void store_finish(struct store_op *op, int rc)
{
    if (op->waiter.part) {
        brk_part_unwait(&op->waiter);
        if (op->prev)
            op->prev->next = op->next;
        else
            store_parked = op->next;
        if (op->next)
            op->next->prev = op->prev;
    }
    op->done(op->arg, rc);
    free(op);
}

/* Committed yet?  True with *rc set when the write is settled. */
static bool store_settled(struct store_op *op, int *rc)
{
    int16_t ec = 0;
    if (!brk_replica_acked(op->part, op->leader_epoch, op->base + op->records, &ec))
        return false;
    *rc = ec == 0 ? 0 : ec == KERR_NOT_LEADER_OR_FOLLOWER ? ERR_NOT_LEADER : ERR_TIMEOUT;
    return true;
}

static void store_wake(struct brk_part_waiter *w, enum brk_part_event ev, uint64_t round)
{
    (void)round;
    struct store_op *op = w->owner;
    int rc = ERR_NOT_LEADER;
    if (ev == BRK_PART_GONE || store_settled(op, &rc))
        store_finish(op, rc);
}

static void store_append_cb(void *arg, int rc)
{
    struct store_op *op = arg;
    if (rc == 0 && !op->part->closing_in && !store_settled(op, &rc)) {
        brk_part_wait(op->part, &op->waiter, op, store_wake);
        op->prev = NULL;
        op->next = store_parked;
        if (store_parked)
            store_parked->prev = op;
        store_parked = op;
        return;
    }
    store_finish(op, rc);
}

static int offsets_store(void *ctx, struct bytes group_id, const struct brk_offsets_topic_record *recs, int32_t n,
                         void *arg, brk_groups_store_done_cb done)
{
    struct brk_ctx *srv = ctx;
    struct brk_part *part = group_part(srv, group_id);
    if (!part)
        return ERR_NOT_FOUND;
    if (!part->is_leader)
        return ERR_NOT_LEADER;
    struct buf b;
    buf_init(&b, BRK_PLOG_BATCH_BYTES_MAX);
    int64_t now_ms = clock_wall_ms();
    int rc = brk_offsets_topic_batch_encode(&b, recs, n, now_ms);
    struct store_op *op = NULL;
    if (rc == 0) {
        op = malloc(sizeof *op);
        rc = op ? 0 : ERR_LIMIT;
    }
    if (rc == 0) {
        *op = (struct store_op){ .srv = srv, .part = part, .arg = arg, .done = done, .records = n,
                                 .leader_epoch = part->leader_epoch };
        /* the log copies the batch: b can go once this returns */
        rc = brk_plog_append(part->plog, buf_bytes(&b), part->leader_epoch, now_ms, &op->base, store_append_cb, op);
        if (rc < 0)
            free(op);
    }
    buf_deinit(&b);
    return rc;
}

/* store_kerr - Kafka's mapping of a failed __consumer_offsets append. */
static int16_t store_kerr(int rc)
{
    switch (rc) {
    case 0: return KERR_NONE;
    case ERR_NOT_LEADER: return BRK_GROUP_NOT_COORDINATOR;
    case ERR_TOO_LARGE: return KERR_INVALID_COMMIT_OFFSET_SIZE;
    default: return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    }
}

/* ---- answers from the state machine ---- */

static struct bytes copy_bytes(struct arena *a, struct bytes b)
{
    if (!b.ptr)
        return b;
    uint8_t *p = arena_alloc(a, b.len ? b.len : 1);
    if (!p)
        return (struct bytes){ NULL, 0 }; /* the encoder then writes "" / null; logged below */
    memcpy(p, b.ptr, b.len);
    return bytes_make(p, b.len);
}

static void join_done(void *ctx, void *waiter, const struct brk_group_join_result *r)
{
    (void)ctx;
    struct brk_req *req = waiter;
    struct kmsg_join_group_resp resp;
    kmsg_join_group_resp_init(&resp);
    resp.error_code = r->error_code;
    resp.generation_id = r->generation_id;
    /* null (written as "" before v7) when there is none */
    resp.protocol_type = copy_bytes(&req->arena, r->protocol_type);
    resp.protocol_name = copy_bytes(&req->arena, r->protocol_name);
    resp.skip_assignment = r->skip_assignment;
    resp.leader = copy_bytes(&req->arena, r->leader);
    resp.member_id = copy_bytes(&req->arena, r->member_id);
    if (r->member_count > 0) {
        resp.members = arena_alloc_array(&req->arena, (size_t)r->member_count, sizeof *resp.members);
        if (!resp.members) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        resp.members_count = r->member_count;
        for (int32_t i = 0; i < r->member_count; i++) {
            kmsg_join_group_resp_member_init(&resp.members[i]);
            resp.members[i].member_id = copy_bytes(&req->arena, r->members[i].member_id);
            resp.members[i].group_instance_id = copy_bytes(&req->arena, r->members[i].group_instance_id);
            resp.members[i].metadata = copy_bytes(&req->arena, r->members[i].metadata);
        }
    }
    BRK_RESPOND(req, join_group, &resp);
}

static void sync_done(void *ctx, void *waiter, const struct brk_group_sync_result *r)
{
    (void)ctx;
    struct brk_req *req = waiter;
    struct kmsg_sync_group_resp resp;
    kmsg_sync_group_resp_init(&resp);
    resp.error_code = r->error_code;
    resp.protocol_type = copy_bytes(&req->arena, r->protocol_type);
    resp.protocol_name = copy_bytes(&req->arena, r->protocol_name);
    resp.assignment = copy_bytes(&req->arena, r->assignment);
    BRK_RESPOND(req, sync_group, &resp);
}

/* ---- start, tick, stop ---- */

struct load_ctx {
    struct brk_groups *gs;
    int64_t now_ms;
    int64_t records;
};

static int load_record_cb(void *arg, int64_t offset, const struct brk_offsets_topic_record *rec)
{
    (void)offset;
    struct load_ctx *lc = arg;
    lc->records++;
    int rc = brk_groups_load_record(lc->gs, rec, lc->now_ms);
    if (rc == ERR_DECODE) {
        log_warn("group", "skipping undecodable %s record offset=%lld", BRK_OFFSETS_TOPIC_NAME, (long long)offset);
        return 0;
    }
    return rc;
}

static int load_partition(struct brk_ctx *srv, struct brk_part *part)
{
    struct load_ctx lc = { srv->groups, clock_wall_ms(), 0 };
    struct buf b;
    buf_init(&b, GROUP_LOAD_READ_BYTES * 2);
    int64_t offset = brk_plog_start_offset(part->plog);
    int64_t end = brk_plog_end_offset(part->plog);
    int rc = 0;
    while (offset < end) {
        buf_reset(&b);
        int64_t next = offset;
        rc = brk_plog_read(part->plog, offset, end, GROUP_LOAD_READ_BYTES, true, &b, &next);
        if (rc < 0 || next <= offset)
            break;
        rc = brk_offsets_topic_batches_decode(buf_bytes(&b), &lc, load_record_cb);
        if (rc == ERR_UNSUPPORTED) {
            log_error("group", "compressed batch in %s-%d near offset=%lld: not loaded (Samsa writes them "
                      "uncompressed; was something else producing to this topic?)", BRK_OFFSETS_TOPIC_NAME,
                      part->partition, (long long)offset);
            rc = 0;
        }
        if (rc < 0)
            break;
        offset = next;
    }
    buf_deinit(&b);
    if (rc < 0)
        log_error("group", "loading %s-%d failed offset=%lld error=\"%s\"", BRK_OFFSETS_TOPIC_NAME, part->partition,
                  (long long)offset, err_str(rc));
    else if (lc.records > 0)
        log_info("group", "loaded %s-%d records=%lld", BRK_OFFSETS_TOPIC_NAME, part->partition,
                 (long long)lc.records);
    return rc;
}

static void group_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    brk_groups_tick(srv->groups, clock_wall_ms());
}

static void groups_load_cb(evutil_socket_t fd, short what, void *arg);
static int load_next(struct brk_ctx *srv);

int brk_h_group_start(struct brk_ctx *srv)
{
    struct brk_groups_config cfg = { .initial_rebalance_delay_ms = srv->node->group_initial_rebalance_delay_ms,
                                     .offsets_retention_ms = srv->node->offsets_retention_ms,
                                     .retention_check_interval_ms = srv->node->offsets_retention_check_interval_ms,
                                     .seed = (uint64_t)clock_mono_ns() ^ ((uint64_t)srv->node->node_id << 48) };
    struct brk_groups_ops ops = { .ctx = srv, .join_done = join_done, .sync_done = sync_done,
                                  .store = offsets_store };
    int rc = brk_groups_create(&cfg, &ops, &srv->groups);
    if (rc < 0)
        return rc;
    srv->groups_load_ev = event_new(srv->base, -1, 0, groups_load_cb, srv);
    srv->groups_ev = event_new(srv->base, -1, EV_PERSIST, group_tick_cb, srv);
    struct timeval tv = { 0, GROUP_TICK_MS * 1000 };
    if (!srv->groups_load_ev || !srv->groups_ev || event_add(srv->groups_ev, &tv) < 0)
        return ERR_LIMIT;
    brk_h_group_follow(srv, NULL);
    /* started with the partition roles (brk_server's lifecycle_step): load
     * now, so no client waits on COORDINATOR_LOAD_IN_PROGRESS after a restart */
    while ((rc = load_next(srv)) > 0)
        ;
    return rc;
}

void brk_h_group_stop(struct brk_ctx *srv)
{
    while (store_parked) /* writes still waiting for the HW get their answer first */
        store_finish(store_parked, ERR_SHUTDOWN);
    if (srv->groups_ev)
        event_free(srv->groups_ev);
    srv->groups_ev = NULL;
    if (srv->groups_load_ev)
        event_free(srv->groups_load_ev);
    srv->groups_load_ev = NULL;
    free(srv->groups_loaded_epochs);
    srv->groups_loaded_epochs = NULL;
    srv->groups_partition_count = 0;
    brk_groups_destroy(srv->groups);
    srv->groups = NULL;
}

/* ---- groups follow their __consumer_offsets partition ----
 *
 * groups_loaded_epochs[p] is the leader epoch at which the groups of
 * partition p were loaded here, -1 when this node does not coordinate them.
 * A partition led here at another epoch (leadership came, or left and came
 * back) is loading: its group requests get COORDINATOR_LOAD_IN_PROGRESS
 * until load_next has replayed it, one partition per pass of the loop so
 * other requests are served in between.  Kafka's GroupMetadataManager does
 * the same on its scheduler thread (onElection / onResignation). */

static void coord_partition_drop(struct brk_ctx *srv, int32_t p)
{
    if (srv->groups_loaded_epochs[p] < 0)
        return;
    srv->groups_loaded_epochs[p] = -1;
    int32_t n = brk_groups_unload(srv->groups, p, srv->groups_partition_count);
    log_info("group", "no longer coordinator of %s-%d: dropped groups=%d (their members look the coordinator up "
             "again)", BRK_OFFSETS_TOPIC_NAME, p, n);
}

/* coord_partition_count_set - size the table for a partition count, dropping
 * what a different count (a recreated topic) placed elsewhere. */
static int coord_partition_count_set(struct brk_ctx *srv, int32_t count)
{
    if (count == srv->groups_partition_count)
        return 0;
    for (int32_t p = 0; p < srv->groups_partition_count; p++)
        coord_partition_drop(srv, p);
    int32_t *e = count > 0 ? malloc((size_t)count * sizeof *e) : NULL;
    if (count > 0 && !e)
        return -ENOMEM;
    for (int32_t p = 0; p < count; p++)
        e[p] = -1;
    free(srv->groups_loaded_epochs);
    srv->groups_loaded_epochs = e;
    srv->groups_partition_count = count;
    return 0;
}

/* load_next - load one partition led here whose groups are not loaded for
 * its leader epoch.  1: loaded one (there may be more), 0: none left, < 0:
 * the load failed (retried by the next pass). */
static int load_next(struct brk_ctx *srv)
{
    struct brk_part *part = coord_loading_find(srv);
    if (!part)
        return 0;
    int32_t p = part->partition;
    coord_partition_drop(srv, p); /* a reload starts from a clean slate */
    int64_t start_ns = clock_mono_ns();
    int rc = load_partition(srv, part);
    if (rc < 0) {
        brk_groups_unload(srv->groups, p, srv->groups_partition_count);
        return rc;
    }
    srv->groups_loaded_epochs[p] = part->leader_epoch;
    log_info("group", "coordinator of %s-%d leader_epoch=%d: groups loaded in %lld ms", BRK_OFFSETS_TOPIC_NAME, p,
             part->leader_epoch, (long long)((clock_mono_ns() - start_ns) / 1000000));
    return 1;
}

static void groups_load_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    int rc = load_next(srv);
    if (rc == 0)
        return;
    struct timeval tv = { rc > 0 ? 0 : 1, 0 }; /* the next partition at once; a failed load after 1 s */
    if (event_add(srv->groups_load_ev, &tv) < 0)
        log_error("group", "group loading not rearmed: event_add failed; restart the node");
}

static bool rec_touches_offsets_topic(const struct brk_ctx *srv, const Samsa__MetadataRecord *rec)
{
    const ProtobufCBinaryData *id = NULL;
    switch (rec->record_case) {
    case SAMSA__METADATA_RECORD__RECORD_PARTITION: id = &rec->partition->topic_id; break;
    case SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE: id = &rec->partition_change->topic_id; break;
    case SAMSA__METADATA_RECORD__RECORD_REMOVE_TOPIC: return srv->groups_partition_count > 0;
    default: return false;
    }
    const struct ctrl_topic *t = offsets_topic(srv);
    return t && id->len == 16 && memcmp(id->data, t->topic_id, 16) == 0;
}

void brk_h_group_follow(struct brk_ctx *srv, const Samsa__MetadataRecord *rec)
{
    if (!srv->groups || (rec && !rec_touches_offsets_topic(srv, rec)))
        return;
    const struct ctrl_topic *t = offsets_topic(srv);
    if (coord_partition_count_set(srv, t ? t->partition_count : 0) < 0) {
        log_error("group", "out of memory following %s leadership; groups stay as they are",
                  BRK_OFFSETS_TOPIC_NAME);
        return;
    }
    bool load = false;
    for (int32_t p = 0; t && p < srv->groups_partition_count; p++) {
        const struct brk_part *part = brk_parts_find(srv->parts, t->topic_id, p);
        if (!part || !part->is_leader)
            coord_partition_drop(srv, p);
        else if (srv->groups_loaded_epochs[p] != part->leader_epoch)
            load = true;
    }
    if (load && !evtimer_pending(srv->groups_load_ev, NULL)) {
        struct timeval tv = { 0, 0 };
        if (event_add(srv->groups_load_ev, &tv) < 0)
            log_error("group", "group loading not armed: event_add failed; restart the node");
    }
}

/* ---- handlers ---- */

#define DECODE(api, m)                                                                                   \
    do {                                                                                                 \
        int rc_ = kmsg_##api##_req_decode(&req->body, req->hdr.api_version, &req->arena, (m));          \
        if (rc_ < 0) {                                                                                   \
            brk_req_malformed(req, rc_);                                                                 \
            return;                                                                                      \
        }                                                                                                \
    } while (0)

/* coord_locate - the coordinator of group_id as the metadata image sees it:
 * the leader of the group's __consumer_offsets partition, with its endpoint
 * for the listener this request came in on (like Metadata).  Kafka error
 * code; COORDINATOR_NOT_AVAILABLE while the topic is being created, the
 * partition has no leader, the leader is fenced or has no such listener, or
 * the leader is this node and its partition is not open (loading). */
static int16_t coord_locate(struct brk_req *req, struct bytes group_id, int32_t *node_id_out,
                            const struct ctrl_endpoint **ep_out)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    int16_t err = coord_ready(req, group_id);
    if (err != KERR_NONE)
        return err;
    const struct ctrl_topic *t = offsets_topic(srv);
    if (!t || t->partition_count <= 0)
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    int32_t p = brk_offsets_topic_partition_for(group_id, t->partition_count);
    const struct ctrl_partition *cp = &t->partitions[p];
    ASSERT(cp->partition_id == p);
    if (cp->leader < 0)
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    if (cp->leader == srv->node->node_id) {
        const struct brk_part *part = brk_parts_find(srv->parts, t->topic_id, p);
        if (!part || !part->is_leader)
            return BRK_GROUP_COORDINATOR_NOT_AVAILABLE; /* not opened / loaded yet */
    }
    const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(srv->ctrl), cp->leader);
    const char *lname = srv->node->listeners[brk_req_listener_index(req)].name;
    const struct ctrl_endpoint *ep = b && !b->fenced ? brk_endpoint_for(b, lname) : NULL;
    if (!ep)
        return BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    *node_id_out = cp->leader;
    *ep_out = ep;
    return KERR_NONE;
}

/* coord_answer - one key's answer: group keys through coord_locate; a
 * transaction key gets COORDINATOR_NOT_AVAILABLE, which is what Kafka answers
 * while __transaction_state does not exist yet (Samsa has no transaction
 * coordinator, so for now it never does); other key types INVALID_REQUEST. */
static int16_t coord_answer(struct brk_req *req, int8_t key_type, struct bytes key, int32_t *node_id,
                            struct bytes *host, int32_t *port, struct bytes *error_message)
{
    *node_id = -1;
    *host = bytes_make("", 0);
    *port = -1;
    *error_message = (struct bytes){ NULL, 0 };
    int16_t err;
    const struct ctrl_endpoint *ep = NULL;
    if (key_type == 0)
        err = coord_locate(req, key, node_id, &ep);
    else
        err = key_type == 1 ? BRK_GROUP_COORDINATOR_NOT_AVAILABLE : KERR_INVALID_REQUEST;
    if (err == KERR_NONE) {
        *host = bytes_cstr(ep->host);
        *port = ep->port;
    } else {
        *node_id = -1;
        *error_message = bytes_cstr(key_type == 1   ? "Transactions are not supported by this server yet."
                                    : key_type != 0 ? "Unknown coordinator key type."
                                    : err == BRK_GROUP_INVALID_GROUP_ID ? "The group id is empty."
                                                                        : "The coordinator is not available.");
    }
    return err;
}

void brk_h_find_coordinator(struct brk_req *req)
{
    struct kmsg_find_coordinator_req m;
    DECODE(find_coordinator, &m);
    struct kmsg_find_coordinator_resp resp;
    kmsg_find_coordinator_resp_init(&resp);
    if (req->hdr.api_version < 4) {
        resp.error_code = coord_answer(req, m.key_type, m.key, &resp.node_id, &resp.host, &resp.port,
                                       &resp.error_message);
        BRK_RESPOND(req, find_coordinator, &resp);
        return;
    }
    /* KIP-699: one answer per key, in the request's order */
    if (m.coordinator_keys_count > 0) {
        resp.coordinators = arena_alloc_array(&req->arena, (size_t)m.coordinator_keys_count,
                                              sizeof *resp.coordinators);
        if (!resp.coordinators) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
    }
    resp.coordinators_count = m.coordinator_keys_count > 0 ? m.coordinator_keys_count : 0;
    for (int32_t i = 0; i < resp.coordinators_count; i++) {
        struct kmsg_find_coordinator_resp_coordinator *c = &resp.coordinators[i];
        kmsg_find_coordinator_resp_coordinator_init(c);
        c->key = m.coordinator_keys[i];
        c->error_code = coord_answer(req, m.key_type, m.coordinator_keys[i], &c->node_id, &c->host, &c->port,
                                     &c->error_message);
    }
    BRK_RESPOND(req, find_coordinator, &resp);
}

void brk_h_join_group(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_join_group_req m;
    DECODE(join_group, &m);
    int16_t err = coord_check(req, m.group_id);
    if (err != KERR_NONE) {
        struct brk_group_join_result r = { .error_code = err, .generation_id = -1, .leader = bytes_make("", 0),
                                           .member_id = m.member_id };
        join_done(srv, req, &r);
        return;
    }
    struct brk_group_protocol_in *ps = arena_alloc_array(&req->arena, (size_t)(m.protocols_count > 0 ? m.protocols_count : 0),
                                                         sizeof *ps);
    if (!ps && m.protocols_count > 0) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < m.protocols_count; i++)
        ps[i] = (struct brk_group_protocol_in){ m.protocols[i].name, m.protocols[i].metadata };
    struct brk_group_join_req jr = {
        .group_id = m.group_id, .member_id = m.member_id, .group_instance_id = m.group_instance_id,
        .client_id = req->hdr.client_id.ptr ? req->hdr.client_id : bytes_make("", 0),
        .client_host = brk_req_client_host(req), .protocol_type = m.protocol_type,
        .session_timeout_ms = m.session_timeout_ms, .rebalance_timeout_ms = m.rebalance_timeout_ms,
        .require_known_member_id = req->hdr.api_version >= 4, .support_skip_assignment = req->hdr.api_version >= 9,
        .protocol_count = m.protocols_count, .protocols = ps,
    };
    brk_groups_join(srv->groups, &jr, clock_wall_ms(), req); /* answers through join_done */
}

void brk_h_sync_group(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_sync_group_req m;
    DECODE(sync_group, &m);
    int16_t err = coord_check(req, m.group_id);
    if (err != KERR_NONE) {
        struct brk_group_sync_result r = { .error_code = err, .protocol_type = { NULL, 0 },
                                           .protocol_name = { NULL, 0 }, .assignment = bytes_make("", 0) };
        sync_done(srv, req, &r);
        return;
    }
    struct brk_group_assignment_in *as = arena_alloc_array(
        &req->arena, (size_t)(m.assignments_count > 0 ? m.assignments_count : 0), sizeof *as);
    if (!as && m.assignments_count > 0) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < m.assignments_count; i++)
        as[i] = (struct brk_group_assignment_in){ m.assignments[i].member_id, m.assignments[i].assignment };
    struct brk_group_sync_req sr = { .group_id = m.group_id, .member_id = m.member_id,
                                     .group_instance_id = m.group_instance_id, .protocol_type = m.protocol_type,
                                     .protocol_name = m.protocol_name, .generation_id = m.generation_id,
                                     .assignment_count = m.assignments_count, .assignments = as };
    brk_groups_sync(srv->groups, &sr, clock_wall_ms(), req); /* answers through sync_done */
}

void brk_h_heartbeat(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_heartbeat_req m;
    DECODE(heartbeat, &m);
    struct kmsg_heartbeat_resp resp;
    kmsg_heartbeat_resp_init(&resp);
    resp.error_code = coord_check(req, m.group_id);
    if (resp.error_code == KERR_NONE)
        resp.error_code = brk_groups_heartbeat(srv->groups, m.group_id, m.member_id, m.group_instance_id,
                                               m.generation_id, clock_wall_ms());
    BRK_RESPOND(req, heartbeat, &resp);
}

void brk_h_leave_group(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_leave_group_req m;
    DECODE(leave_group, &m);
    struct kmsg_leave_group_resp resp;
    kmsg_leave_group_resp_init(&resp);
    resp.error_code = coord_check(req, m.group_id);
    if (resp.error_code == KERR_NONE) {
        bool found = false;
        if (req->hdr.api_version < 3) {
            resp.error_code = brk_groups_leave(srv->groups, m.group_id, m.member_id, (struct bytes){ NULL, 0 },
                                               clock_wall_ms(), &found);
        } else {
            int32_t n = m.members_count > 0 ? m.members_count : 0;
            resp.members = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.members);
            if (!resp.members && n > 0) {
                brk_req_finish(req, ERR_LIMIT);
                return;
            }
            resp.members_count = n;
            for (int32_t i = 0; i < n; i++) {
                kmsg_leave_group_resp_member_init(&resp.members[i]);
                resp.members[i].member_id = m.members[i].member_id;
                resp.members[i].group_instance_id = m.members[i].group_instance_id;
                resp.members[i].error_code = brk_groups_leave(srv->groups, m.group_id, m.members[i].member_id,
                                                              m.members[i].group_instance_id, clock_wall_ms(),
                                                              &found);
            }
        }
    }
    BRK_RESPOND(req, leave_group, &resp);
}

/* ---- OffsetCommit ---- */

struct commit_state {
    struct brk_req *req;
    struct kmsg_offset_commit_req m;
    struct kmsg_offset_commit_resp resp;
    struct brk_group_offset *offs;      /* the valid partitions, in record order */
    struct kmsg_offset_commit_resp_partition **rps;
    int32_t count;
};

static void commit_done(void *arg, int rc)
{
    struct commit_state *st = arg;
    struct brk_req *req = st->req;
    struct brk_ctx *srv = brk_req_ctx(req);
    int16_t err = store_kerr(rc);
    /* durable in the log either way; cached only while this node still
     * coordinates the group (a reload reads it from the log) */
    const struct brk_part *part = group_part(srv, st->m.group_id);
    bool cache = rc == 0 && srv->groups && part && part_loaded(srv, part);
    for (int32_t i = 0; i < st->count; i++) {
        if (cache && brk_groups_offset_put(srv->groups, st->m.group_id, &st->offs[i]) < 0)
            st->rps[i]->error_code = BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
        else
            st->rps[i]->error_code = err;
    }
    if (rc < 0)
        log_warn("group", "offset commit not stored group=%.*s error=\"%s\"", (int)st->m.group_id.len,
                 (const char *)st->m.group_id.ptr, err_str(rc));
    BRK_RESPOND(req, offset_commit, &st->resp);
}

void brk_h_offset_commit(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct commit_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    st->req = req;
    DECODE(offset_commit, &st->m);
    struct kmsg_offset_commit_req *m = &st->m;
    kmsg_offset_commit_resp_init(&st->resp);
    int32_t nt = m->topics_count > 0 ? m->topics_count : 0;
    int32_t total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += m->topics[i].partitions_count > 0 ? m->topics[i].partitions_count : 0;
    st->resp.topics = arena_alloc_array(&req->arena, (size_t)nt, sizeof *st->resp.topics);
    st->offs = arena_alloc_array(&req->arena, (size_t)total, sizeof *st->offs);
    st->rps = arena_alloc_array(&req->arena, (size_t)total, sizeof *st->rps);
    struct brk_offsets_topic_record *recs = arena_alloc_array(&req->arena, (size_t)total, sizeof *recs);
    if ((!st->resp.topics && nt) || ((!st->offs || !st->rps || !recs) && total)) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    st->resp.topics_count = nt;
    int16_t gerr = coord_check(req, m->group_id);
    if (gerr == KERR_NONE)
        gerr = brk_groups_commit_check(srv->groups, m->group_id, m->member_id, m->group_instance_id,
                                       m->generation_id_or_member_epoch, clock_wall_ms());
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    int64_t now_ms = clock_wall_ms();
    bool retention = req->hdr.api_version <= 4 && m->retention_time_ms != -1;
    for (int32_t i = 0; i < nt; i++) {
        struct kmsg_offset_commit_req_topic *t = &m->topics[i];
        struct kmsg_offset_commit_resp_topic *rt = &st->resp.topics[i];
        kmsg_offset_commit_resp_topic_init(rt);
        rt->name = t->name;
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
        if (!rt->partitions && np) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->partitions_count = np;
        const struct ctrl_topic *ct = t->name.ptr ? ctrl_image_topic_find(img, (const char *)t->name.ptr, t->name.len)
                                                  : NULL;
        for (int32_t j = 0; j < np; j++) {
            struct kmsg_offset_commit_req_partition *p = &t->partitions[j];
            struct kmsg_offset_commit_resp_partition *rp = &rt->partitions[j];
            kmsg_offset_commit_resp_partition_init(rp);
            rp->partition_index = p->partition_index;
            if (gerr != KERR_NONE) {
                rp->error_code = gerr;
                continue;
            }
            if (!ct || p->partition_index < 0 || p->partition_index >= ct->partition_count) {
                rp->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (p->committed_metadata.len > BRK_GROUP_METADATA_BYTES_MAX) {
                rp->error_code = BRK_GROUP_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            struct brk_group_offset *o = &st->offs[st->count];
            *o = (struct brk_group_offset){
                .topic = t->name, .partition = p->partition_index, .offset = p->committed_offset,
                .leader_epoch = p->committed_leader_epoch,
                .metadata = p->committed_metadata.ptr ? p->committed_metadata : bytes_make("", 0),
                .commit_timestamp_ms = now_ms,
                .expire_timestamp_ms = retention ? now_ms + m->retention_time_ms : -1,
            };
            struct buf kb, vb;
            buf_init(&kb, 0);
            buf_init(&vb, 0);
            struct brk_offsets_topic_offset v = { o->offset, o->leader_epoch, o->metadata, o->commit_timestamp_ms,
                                                  o->expire_timestamp_ms };
            int rc = brk_offsets_topic_offset_key_encode(&kb, m->group_id, t->name, p->partition_index);
            if (rc == 0)
                rc = brk_offsets_topic_offset_value_encode(&vb, &v);
            struct bytes kc = rc == 0 ? copy_bytes(&req->arena, buf_bytes(&kb)) : (struct bytes){ NULL, 0 };
            struct bytes vc = rc == 0 ? copy_bytes(&req->arena, buf_bytes(&vb)) : (struct bytes){ NULL, 0 };
            buf_deinit(&kb);
            buf_deinit(&vb);
            if (!kc.ptr || !vc.ptr) {
                rp->error_code = KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            recs[st->count] = (struct brk_offsets_topic_record){ kc, vc };
            st->rps[st->count++] = rp;
        }
    }
    if (st->count == 0) {
        BRK_RESPOND(req, offset_commit, &st->resp);
        return;
    }
    int rc = offsets_store(srv, m->group_id, recs, st->count, st, commit_done);
    if (rc < 0)
        commit_done(st, rc);
}

/* ---- OffsetFetch ---- */

static void fetch_fill(struct kmsg_offset_fetch_resp_partition *rp, const struct brk_group_offset *o)
{
    kmsg_offset_fetch_resp_partition_init(rp);
    rp->committed_offset = o ? o->offset : -1;
    rp->committed_leader_epoch = o ? o->leader_epoch : -1;
    rp->metadata = o ? o->metadata : bytes_make("", 0);
}

void brk_h_offset_fetch(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_offset_fetch_req m;
    DECODE(offset_fetch, &m);
    struct kmsg_offset_fetch_resp resp;
    kmsg_offset_fetch_resp_init(&resp);
    int16_t err = coord_check(req, m.group_id);
    if (m.topics_count < 0) { /* v2+: every committed offset of the group */
        int32_t n = 0;
        const struct brk_group_offset *os = err == KERR_NONE ? brk_groups_offsets(srv->groups, m.group_id, &n) : NULL;
        resp.topics = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.topics);
        struct kmsg_offset_fetch_resp_partition *parts = arena_alloc_array(&req->arena, (size_t)n, sizeof *parts);
        if ((!resp.topics || !parts) && n) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        /* group by topic: partitions of one topic are laid out contiguously */
        int32_t used = 0;
        bool *done = arena_alloc_array(&req->arena, (size_t)n, sizeof *done);
        if (!done && n) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        for (int32_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            struct kmsg_offset_fetch_resp_topic *rt = &resp.topics[resp.topics_count++];
            kmsg_offset_fetch_resp_topic_init(rt);
            rt->name = copy_bytes(&req->arena, os[i].topic);
            rt->partitions = &parts[used];
            for (int32_t j = i; j < n; j++) {
                if (done[j] || !bytes_eq(os[j].topic, os[i].topic))
                    continue;
                done[j] = true;
                struct kmsg_offset_fetch_resp_partition *rp = &parts[used++];
                fetch_fill(rp, &os[j]);
                rp->partition_index = os[j].partition;
                rp->metadata = copy_bytes(&req->arena, os[j].metadata);
                rt->partitions_count++;
            }
        }
    } else {
        resp.topics = arena_alloc_array(&req->arena, (size_t)m.topics_count, sizeof *resp.topics);
        if (!resp.topics && m.topics_count) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        resp.topics_count = m.topics_count;
        for (int32_t i = 0; i < m.topics_count; i++) {
            struct kmsg_offset_fetch_resp_topic *rt = &resp.topics[i];
            kmsg_offset_fetch_resp_topic_init(rt);
            rt->name = m.topics[i].name;
            int32_t np = m.topics[i].partition_indexes_count > 0 ? m.topics[i].partition_indexes_count : 0;
            rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
            if (!rt->partitions && np) {
                brk_req_finish(req, ERR_LIMIT);
                return;
            }
            rt->partitions_count = np;
            for (int32_t j = 0; j < np; j++) {
                struct kmsg_offset_fetch_resp_partition *rp = &rt->partitions[j];
                int32_t p = m.topics[i].partition_indexes[j];
                const struct brk_group_offset *o =
                    err == KERR_NONE ? brk_groups_offset_find(srv->groups, m.group_id, m.topics[i].name, p) : NULL;
                fetch_fill(rp, o);
                rp->partition_index = p;
                if (o)
                    rp->metadata = copy_bytes(&req->arena, o->metadata);
                if (req->hdr.api_version < 2) /* v0/v1 have no top-level error */
                    rp->error_code = err;
            }
        }
    }
    resp.error_code = err;
    BRK_RESPOND(req, offset_fetch, &resp);
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ---- */

void brk_h_describe_groups(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_groups_req m;
    DECODE(describe_groups, &m);
    struct kmsg_describe_groups_resp resp;
    kmsg_describe_groups_resp_init(&resp);
    int32_t n = m.groups_count > 0 ? m.groups_count : 0;
    resp.groups = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.groups);
    if (!resp.groups && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.groups_count = n;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_describe_groups_resp_group *rg = &resp.groups[i];
        kmsg_describe_groups_resp_group_init(rg);
        rg->group_id = m.groups[i];
        rg->group_state = bytes_cstr("Dead");
        rg->protocol_type = bytes_make("", 0);
        rg->protocol_data = bytes_make("", 0);
        if (m.include_authorized_operations)
            rg->authorized_operations = GROUP_AUTHORIZED_OPERATIONS;
        rg->error_code = coord_check(req, m.groups[i]);
        if (rg->error_code != KERR_NONE)
            continue;
        struct brk_group_desc d;
        if (brk_groups_describe(srv->groups, m.groups[i], &req->arena, &d) < 0) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rg->group_state = bytes_cstr(brk_group_state_name(d.state));
        rg->protocol_type = d.protocol_type;
        rg->protocol_data = d.protocol;
        rg->members = arena_alloc_array(&req->arena, (size_t)d.member_count, sizeof *rg->members);
        if (!rg->members && d.member_count) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rg->members_count = d.member_count;
        for (int32_t k = 0; k < d.member_count; k++) {
            struct kmsg_describe_groups_resp_member *rm = &rg->members[k];
            kmsg_describe_groups_resp_member_init(rm);
            rm->member_id = d.members[k].member_id;
            rm->group_instance_id = d.members[k].group_instance_id;
            rm->client_id = d.members[k].client_id;
            rm->client_host = d.members[k].client_host;
            rm->member_metadata = d.members[k].metadata;
            rm->member_assignment = d.members[k].assignment;
        }
    }
    BRK_RESPOND(req, describe_groups, &resp);
}

void brk_h_list_groups(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_list_groups_req m;
    DECODE(list_groups, &m);
    struct kmsg_list_groups_resp resp;
    kmsg_list_groups_resp_init(&resp);
    struct brk_group_listing *l = NULL;
    int32_t n = 0;
    if (!srv->groups) {
        resp.error_code = BRK_GROUP_COORDINATOR_NOT_AVAILABLE;
    } else if (coord_loading_find(srv)) {
        resp.error_code = BRK_GROUP_COORDINATOR_LOAD_IN_PROGRESS; /* Kafka: the list would be partial */
    } else if (brk_groups_list(srv->groups, &req->arena, &l, &n) < 0) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.groups = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.groups);
    if (!resp.groups && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const char *state = brk_group_state_name(l[i].state);
        bool keep = m.states_filter_count <= 0;
        for (int32_t k = 0; k < m.states_filter_count && !keep; k++)
            keep = m.states_filter[k].len == strlen(state) &&
                   strncasecmp((const char *)m.states_filter[k].ptr, state, m.states_filter[k].len) == 0;
        if (!keep)
            continue;
        struct kmsg_list_groups_resp_group *rg = &resp.groups[resp.groups_count++];
        kmsg_list_groups_resp_group_init(rg);
        rg->group_id = l[i].group_id;
        rg->protocol_type = l[i].protocol_type;
        rg->group_state = bytes_cstr(state);
    }
    BRK_RESPOND(req, list_groups, &resp);
}

struct delete_one {
    struct brk_req *req;
    struct kmsg_delete_groups_resp *resp;
    struct kmsg_delete_groups_resp_result *r;
};

static void delete_done(void *arg, int rc)
{
    struct delete_one *d = arg;
    struct brk_req *req = d->req;
    if (rc < 0) {
        d->r->error_code = store_kerr(rc);
        log_warn("group", "group tombstones not stored group=%.*s error=\"%s\"", (int)d->r->group_id.len,
                 (const char *)d->r->group_id.ptr, err_str(rc));
    }
    ASSERT(req->pending > 0);
    if (--req->pending == 0)
        BRK_RESPOND(req, delete_groups, d->resp);
}

void brk_h_delete_groups(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_delete_groups_req m;
    DECODE(delete_groups, &m);
    struct kmsg_delete_groups_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    int32_t n = m.groups_names_count > 0 ? m.groups_names_count : 0;
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_delete_groups_resp_init(resp);
    resp->results = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->results);
    if (!resp->results && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->results_count = n;
    req->pending++; /* hold the answer until every group was tried */
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_delete_groups_resp_result *r = &resp->results[i];
        kmsg_delete_groups_resp_result_init(r);
        r->group_id = m.groups_names[i];
        r->error_code = coord_check(req, r->group_id);
        if (r->error_code != KERR_NONE)
            continue;
        struct brk_group_offset *os = NULL;
        int32_t no = 0;
        r->error_code = brk_groups_delete(srv->groups, r->group_id, &req->arena, &os, &no);
        if (r->error_code != KERR_NONE)
            continue;
        /* tombstones: every offset, then the group itself */
        struct brk_offsets_topic_record *recs = arena_alloc_array(&req->arena, (size_t)no + 1, sizeof *recs);
        struct delete_one *d = arena_alloc(&req->arena, sizeof *d);
        int rc = recs && d ? 0 : ERR_LIMIT;
        struct buf kb;
        buf_init(&kb, 0);
        for (int32_t k = 0; rc == 0 && k <= no; k++) {
            buf_reset(&kb);
            rc = k < no ? brk_offsets_topic_offset_key_encode(&kb, r->group_id, os[k].topic, os[k].partition)
                        : brk_offsets_topic_group_key_encode(&kb, r->group_id);
            if (rc == 0) {
                recs[k].key = copy_bytes(&req->arena, buf_bytes(&kb));
                recs[k].value = (struct bytes){ NULL, 0 };
                rc = recs[k].key.ptr ? 0 : ERR_LIMIT;
            }
        }
        buf_deinit(&kb);
        if (rc == 0) {
            *d = (struct delete_one){ req, resp, r };
            req->pending++;
            rc = offsets_store(srv, r->group_id, recs, no + 1, d, delete_done);
            if (rc < 0)
                req->pending--;
        }
        if (rc < 0)
            r->error_code = store_kerr(rc);
    }
    if (--req->pending == 0)
        BRK_RESPOND(req, delete_groups, resp);
}

/* ---- OffsetDelete (KIP-496) ---- */

struct offset_delete_ctx {
    struct brk_req *req;
    struct kmsg_offset_delete_resp *resp;
    struct brk_group_tp *tps;
    int32_t n;
};

/* offset_delete_respond - copy the per-partition errors into resp (its
 * topics/partitions mirror the request, in order) and answer. */
static void offset_delete_respond(struct offset_delete_ctx *oc)
{
    int32_t k = 0;
    for (int32_t t = 0; t < oc->resp->topics_count; t++)
        for (int32_t p = 0; p < oc->resp->topics[t].partitions_count; p++)
            oc->resp->topics[t].partitions[p].error_code = oc->tps[k++].error_code;
    ASSERT(k == oc->n);
    struct brk_req *req = oc->req;
    BRK_RESPOND(req, offset_delete, oc->resp);
}

static void offset_delete_done(void *arg, int rc)
{
    struct offset_delete_ctx *oc = arg;
    for (int32_t i = 0; rc < 0 && i < oc->n; i++)
        if (oc->tps[i].error_code == KERR_NONE)
            oc->tps[i].error_code = store_kerr(rc);
    offset_delete_respond(oc);
}

void brk_h_offset_delete(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_offset_delete_req m;
    DECODE(offset_delete, &m);
    struct offset_delete_ctx *oc = arena_alloc(&req->arena, sizeof *oc);
    struct kmsg_offset_delete_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!oc || !resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_offset_delete_resp_init(resp);
    *oc = (struct offset_delete_ctx){ req, resp, NULL, 0 };
    resp->error_code = coord_check(req, m.group_id);
    if (resp->error_code != KERR_NONE) {
        BRK_RESPOND(req, offset_delete, resp);
        return;
    }
    int32_t nt = m.topics_count > 0 ? m.topics_count : 0;
    int64_t n = 0;
    for (int32_t t = 0; t < nt; t++)
        n += m.topics[t].partitions_count > 0 ? m.topics[t].partitions_count : 0;
    resp->topics = arena_alloc_array(&req->arena, (size_t)nt, sizeof *resp->topics);
    oc->tps = arena_alloc_array(&req->arena, (size_t)n, sizeof *oc->tps);
    if ((!resp->topics && nt) || (!oc->tps && n)) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->topics_count = nt;
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    for (int32_t t = 0; t < nt; t++) {
        const struct kmsg_offset_delete_req_topic *rt = &m.topics[t];
        struct kmsg_offset_delete_resp_topic *st = &resp->topics[t];
        kmsg_offset_delete_resp_topic_init(st);
        st->name = rt->name;
        int32_t np = rt->partitions_count > 0 ? rt->partitions_count : 0;
        st->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *st->partitions);
        if (!st->partitions && np) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        st->partitions_count = np;
        bool known = ctrl_image_topic_find(img, (const char *)rt->name.ptr, rt->name.len) != NULL;
        for (int32_t p = 0; p < np; p++) {
            kmsg_offset_delete_resp_partition_init(&st->partitions[p]);
            st->partitions[p].partition_index = rt->partitions[p].partition_index;
            oc->tps[oc->n++] = (struct brk_group_tp){ rt->name, rt->partitions[p].partition_index,
                                                      known ? KERR_NONE : KERR_UNKNOWN_TOPIC_OR_PARTITION };
        }
    }
    bool stored = false;
    resp->error_code = brk_groups_offset_delete(srv->groups, m.group_id, oc->tps, oc->n, oc, offset_delete_done,
                                                &stored);
    if (!stored)
        offset_delete_respond(oc);
}
