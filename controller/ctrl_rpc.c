/*
 * ctrl_rpc.c - typed controller RPCs, broker leases and Kafka request
 * forwarding.
 *
 * Brokers send requests, never records (controller/README.md, "Controller
 * RPCs"): BrokerRegistration, BrokerHeartbeat, CreateTopic (a broker's
 * auto-creation), AlterPartition (a leader's ISR change) and
 * AllocateProducerIds (InitProducerId's id blocks).  The active controller checks each against its own image
 * (caller identity, message version, broker epoch, existence, limits),
 * plans the records itself (ctrl_plan.c) and answers once they are
 * committed.  A raw record proposal from another node is refused and
 * logged.  On the active controller the same calls run locally, through the
 * same checks, with callbacks instead of response frames.
 *
 *   caller (any node)                      active controller
 *   ctrl_register_broker ── frame ──────►  register_serve: check, plan, propose
 *                                           └─ waits[] until committed
 *   reg_cb(0, epoch)  ◄── response ──────  ctrl_rpc_complete (after apply)
 *
 * Leases: every heartbeat renews the broker's lease; ctrl_leases_check (on
 * the leader, every 10 ticks) fences a broker whose lease expired, that
 * asked to be fenced or that is in controlled shutdown, and unfences one
 * whose heartbeats resumed.
 */
#include <string.h>

#include "common/log.h"
#include "controller/ctrl_int.h"
#include "controller/ctrl_topic_config.h"

/* The controller's election policy (static configs; topic and dynamic
 * configs override them in ctrl_plan). */
static struct ctrl_plan_policy rpc_policy(const struct ctrl *c)
{
    return (struct ctrl_plan_policy){ .unclean_default = c->cfg.unclean_leader_election,
                                      .elr_enabled = c->cfg.elr_enable,
                                      .min_isr_default = c->cfg.min_insync_replicas };
}

/* ---- leases ---- */

struct ctrl_lease *ctrl_lease_get(struct ctrl *c, int32_t broker_id)
{
    for (int32_t i = 0; i < c->lease_count; i++)
        if (c->leases[i].broker_id == broker_id)
            return &c->leases[i];
    if (c->lease_count >= CTRL_BROKERS_MAX)
        return NULL;
    struct ctrl_lease *l = &c->leases[c->lease_count++];
    *l = (struct ctrl_lease){ .broker_id = broker_id, .last_ticks = c->ticks };
    return l;
}

void ctrl_leases_reset(struct ctrl *c)
{
    c->lease_drain = false;
    c->elect_index = 0;
    for (int32_t i = 0; i < c->lease_count; i++)
        c->leases[i] = (struct ctrl_lease){ .broker_id = c->leases[i].broker_id, .last_ticks = c->ticks,
                                            .shutting_down = c->leases[i].shutting_down,
                                            .shutdown_epoch = c->leases[i].shutdown_epoch };
}

static void lease_change_done(void *arg, int rc)
{
    struct ctrl_lease *l = arg;
    l->change_in_flight = false;
    (void)rc; /* a failed change is retried by the next check */
}

/* Leader only: fence brokers whose lease expired (or that asked for it:
 * want_fence, controlled shutdown), unfence renewed ones (and give
 * leaderless partitions back to a live ISR member). */
bool ctrl_lease_change_in_flight(const struct ctrl *c)
{
    if (c->env.bug_plan_on_proposals_in_flight)   /* test-only re-injected bug */
        return false;
    if (c->lease_drain)
        return true;
    for (int32_t i = 0; i < c->lease_count; i++)
        if (c->leases[i].change_in_flight)
            return true;
    return false;
}

void ctrl_leases_check(struct ctrl *c)
{
    /* A fence moves leadership away from the broker's partitions as the
     * image shows them, so it is planned only on an image that holds every
     * proposal of this leader (a topic placed on the broker but not applied
     * yet would keep a fenced leader), and one change at a time (a second
     * fence could pick the first one's new leader).  A change that must
     * wait for proposals in flight sets lease_drain, which holds new
     * placements back (ctrl_lease_change_in_flight) so a steady stream of
     * them cannot postpone a fence forever. */
    bool bug = c->env.bug_plan_on_proposals_in_flight;
    c->lease_drain = false;
    if (raft_role_get(c->raft) != RAFT_LEADER || !c->caught_up || ctrl_lease_change_in_flight(c))
        return;
    bool drained = c->applied_index >= raft_last_index_get(c->raft) || bug;
    for (int32_t i = 0; i < ctrl_image_broker_count(c->img); i++) {
        const struct ctrl_broker *b = ctrl_image_broker_at(c->img, i);
        struct ctrl_lease *l = ctrl_lease_get(c, b->broker_id);
        if (!l || l->change_in_flight)
            continue;
        bool expired = c->ticks - l->last_ticks > c->session_ticks;
        /* a controlled shutdown belongs to the incarnation that asked */
        bool shutting = l->shutting_down && l->shutdown_epoch == b->broker_epoch;
        bool fence = expired || l->want_fence || shutting;
        struct ctrl_plan_policy pol = rpc_policy(c);
        if (fence == b->fenced && (fence || !ctrl_plan_unfence_elects(c->img, b->broker_id, &pol)))
            continue;
        /* a fenced broker comes back only by heartbeating to this leader: the
         * full session a new leader grants (ctrl_leases_reset) is no sign of
         * life, and would unfence a broker that stopped or shut down */
        if (!fence && b->fenced && !l->heard)
            continue;
        if (!drained) {
            c->lease_drain = true;
            return;
        }
        arena_reset(&c->plan_arena);
        struct ctrl_records recs = { 0 };
        if (ctrl_plan_fence(c->img, b->broker_id, fence, &pol, &c->plan_arena, &recs) < 0)
            continue;
        const char *reason = expired          ? "no heartbeat within broker.session.timeout.ms"
                             : shutting         ? "controlled shutdown"
                             : l->want_fence    ? "the broker asked to be fenced"
                                                : "heartbeats resumed";
        log_info("ctrl", "%s broker=%d broker_epoch=%lld reason=\"%s\"", fence ? "fencing" : "unfencing",
                 b->broker_id, (long long)b->broker_epoch, reason);
        l->change_in_flight = true;
        if (ctrl_propose_cb(c, recs.recs, recs.count, lease_change_done, l) < 0)
            l->change_in_flight = false;
        if (!bug)
            return;
    }
}

/* An ISR change (AlterPartition) proposed and not applied yet. */
static bool alter_in_flight(const struct ctrl *c)
{
    for (uint32_t i = 0; i < c->wait_count; i++)
        if (c->waits[i].kind == CTRL_RPC_ALTER_PARTITION && c->waits[i].index > 0)
            return true;
    return false;
}

int ctrl_propose_election(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb, void *arg)
{
    if (!ctrl_is_active(c) || ctrl_lease_change_in_flight(c) || alter_in_flight(c))
        return ERR_NOT_CONTROLLER;
    int rc = ctrl_propose_cb(c, recs, n, cb, arg);
    if (rc == 0)
        c->elect_index = raft_last_index_get(c->raft);
    return rc;
}

/* Leader only, every leader.imbalance.check.interval.seconds: move
 * leadership back to preferred replicas (auto.leader.rebalance.enable). */
void ctrl_rebalance_check(struct ctrl *c)
{
    if (!c->cfg.auto_leader_rebalance || raft_role_get(c->raft) != RAFT_LEADER || !c->caught_up)
        return;
    int64_t interval_ms = c->cfg.leader_imbalance_check_interval_ms > 0 ? c->cfg.leader_imbalance_check_interval_ms
                                                                        : 300000;
    if (c->rebalance_ticks == 0)
        c->rebalance_ticks = c->ticks + interval_ms / c->cfg.tick_ms;
    if (c->ticks < c->rebalance_ticks)
        return;
    c->rebalance_ticks = c->ticks + interval_ms / c->cfg.tick_ms;
    arena_reset(&c->plan_arena);
    struct ctrl_records recs = { 0 };
    int32_t count = 0;
    if (ctrl_plan_rebalance(c->img, c->cfg.leader_imbalance_per_broker_percentage, &c->plan_arena, &recs, &count) < 0 ||
        count == 0)
        return;
    int rc = ctrl_propose_election(c, recs.recs, recs.count, NULL, NULL);
    if (rc < 0) {
        c->rebalance_ticks = c->ticks + 100; /* busy: soon again */
        return;
    }
    log_info("ctrl", "auto leader rebalance: moving leadership of %d partitions back to their preferred replicas "
             "(leader.imbalance.per.broker.percentage=%d)", count, c->cfg.leader_imbalance_per_broker_percentage);
}

/* ---- serving typed requests (active controller) ---- */

/* The leader plans only against an image that holds everything committed
 * before its term: once an entry of its own epoch has been applied. */
bool ctrl_rpc_ready_to_plan(const struct ctrl *c)
{
    if (c->env.bug_plan_before_caught_up)   /* test-only re-injected bug */
        return raft_role_get(c->raft) == RAFT_LEADER;
    return raft_role_get(c->raft) == RAFT_LEADER && c->caught_up && c->applied_epoch == raft_epoch_get(c->raft);
}

static struct ctrl_rpc_wait *wait_new(struct ctrl *c)
{
    if (c->wait_count >= CTRL_REMOTE_MAX)
        return NULL;
    struct ctrl_rpc_wait *w = &c->waits[c->wait_count];
    memset(w, 0, sizeof *w);
    return w;
}

static void refused(const struct ctrl *c, const char *what, uint32_t caller, const char *why)
{
    log_warn("ctrl", "refused %s from node=%u reason=\"%s\" (node %d is the active controller; nothing was proposed)",
             what, caller, why, c->cfg.node_id);
}

static void hex16(const uint8_t *id, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[32] = '\0';
}

/* A new incarnation of a registered broker may take the registration when
 * its predecessor on the same disks is the registered incarnation (the
 * log-dir lock proves that one dead), or when the registered one is fenced or
 * its lease expired.  Otherwise another live process has this node id:
 * refused (controller/README.md, "Duplicate node ids"). */
static bool register_duplicate(struct ctrl *c, const struct ctrl_broker *prev, const uint8_t *incarnation,
                               const uint8_t *previous_incarnation, size_t previous_incarnation_len,
                               struct ctrl_lease *l)
{
    ASSERT(previous_incarnation_len == 0 || previous_incarnation_len == 16);
    if (previous_incarnation_len == 16 && memcmp(previous_incarnation, prev->incarnation_id, 16) == 0)
        return false;
    bool live = !prev->fenced && c->ticks - l->last_ticks <= c->session_ticks;
    if (!live)
        return false;
    char reg_hex[33], new_hex[33], pred_hex[33] = "none";
    hex16(prev->incarnation_id, reg_hex);
    hex16(incarnation, new_hex);
    if (previous_incarnation_len == 16)
        hex16(previous_incarnation, pred_hex);
    int64_t left_ms = (c->session_ticks - (c->ticks - l->last_ticks)) * c->cfg.tick_ms;
    if (c->ticks - l->dup_log_ticks >= CTRL_DUP_LOG_MS / c->cfg.tick_ms || l->dup_log_ticks == 0) {
        l->dup_log_ticks = c->ticks;
        log_warn("ctrl", "refused a broker registration: DUPLICATE_BROKER_REGISTRATION broker=%d "
                 "registered_incarnation=%s broker_epoch=%lld new_incarnation=%s its_predecessor=%s: another "
                 "process with node.id %d is registered with a live session (or, with its_predecessor=none, this "
                 "node's predecessor on its disks is unknown: a first start there or after an upgrade, or a copied "
                 "log dir); if two processes run with that node.id, stop one or give it another node.id (refused "
                 "until that session ends, at most %lld ms from now; logged at most every %d s)",
                 prev->broker_id, reg_hex, (long long)prev->broker_epoch, new_hex, pred_hex, prev->broker_id,
                 (long long)left_ms, CTRL_DUP_LOG_MS / 1000);
    }
    return true;
}

/* register_serve - check a registration, plan its record with the next
 * broker epoch, propose it.  On 0, *w (not yet counted) holds the wait. */
static int register_serve(struct ctrl *c, uint32_t caller, uint32_t version, int32_t broker_id,
                          const uint8_t *incarnation, size_t incarnation_len, const uint8_t *previous_incarnation,
                          size_t previous_incarnation_len, const struct ctrl_endpoint *eps, int32_t ep_count,
                          int64_t previous_broker_epoch, struct ctrl_rpc_wait *w)
{
    char why[160];
    if (!ctrl_rpc_ready_to_plan(c))
        return ERR_NOT_CONTROLLER;
    if (version > CTRL_RPC_VERSION_MAX) {
        snprintf(why, sizeof why, "message version %u is newer than this controller's %d", version,
                 CTRL_RPC_VERSION_MAX);
        refused(c, "a broker registration", caller, why);
        return ERR_UNSUPPORTED;
    }
    if (broker_id < 0 || (uint32_t)broker_id != caller) {
        snprintf(why, sizeof why, "broker_id=%d is not the caller's node id", broker_id);
        refused(c, "a broker registration", caller, why);
        return ERR_INVALID;
    }
    if (incarnation_len != 16 || ep_count < 0 || ep_count > CTRL_ENDPOINTS_MAX) {
        snprintf(why, sizeof why, "incarnation id of %zu bytes (16 expected) or %d endpoints (0..%d)",
                 incarnation_len, ep_count, CTRL_ENDPOINTS_MAX);
        refused(c, "a broker registration", caller, why);
        return ERR_INVALID;
    }
    if (previous_incarnation_len != 0 && previous_incarnation_len != 16) {
        snprintf(why, sizeof why, "malformed: previous incarnation id of %zu bytes (16, or 0 when unknown)",
                 previous_incarnation_len);
        refused(c, "a broker registration", caller, why);
        return ERR_INVALID;
    }
    struct ctrl_lease *l = ctrl_lease_get(c, broker_id);
    if (!l)
        return ERR_LIMIT;
    if (l->registering)
        return ERR_LIMIT; /* the caller retries once the one in flight is answered */
    const struct ctrl_broker *prev = ctrl_image_broker_find(c->img, broker_id);
    int64_t epoch = prev ? prev->broker_epoch + 1 : 1;
    arena_reset(&c->plan_arena);
    struct ctrl_records recs = { 0 };
    /* A new incarnation (Kafka's handleBrokerShutdown at registration): the
     * previous one's leaderships and ISR places end in the same batch,
     * before the registration record, so the broker - which takes its
     * partition roles only once its image shows this registration
     * (broker/brk_lifecycle) - never acts on them.  KIP-966: a broker that
     * did not stop cleanly in its registered epoch may have lost an
     * unflushed tail: with ELR it leaves every ISR and ELR. */
    /* Only a new incarnation (Kafka's registerBroker): the same process
     * registering again - a retry whose answer was lost, with the epoch
     * before the one that committed as its previous_broker_epoch - lost
     * nothing and keeps its roles. */
    int32_t changes = 0;
    bool incarnation_new = prev && memcmp(prev->incarnation_id, incarnation, 16) != 0;
    if (incarnation_new &&
        register_duplicate(c, prev, incarnation, previous_incarnation, previous_incarnation_len, l))
        return ERR_DUPLICATE_BROKER;
    bool unclean = incarnation_new && previous_broker_epoch != prev->broker_epoch &&
                   !c->env.bug_ignore_unclean_shutdown; /* test-only re-injected bug */
    struct ctrl_plan_policy pol = rpc_policy(c);
    int rc = 0;
    if (incarnation_new)
        rc = ctrl_plan_new_incarnation(c->img, broker_id, !unclean, &pol, &c->plan_arena, &recs, &changes);
    if (rc == 0)
        rc = ctrl_plan_register_broker(broker_id, epoch, incarnation, eps, ep_count, &c->plan_arena, &recs);
    /* planned on a drained image: an ISR change in flight (validated with
     * the broker's old epoch) must not put it back after its removal; the
     * broker retries */
    bool drain = (unclean && pol.elr_enabled) || changes > 0;
    if (rc == 0 && drain &&
        (ctrl_lease_change_in_flight(c) || alter_in_flight(c) || c->elect_index > c->applied_index ||
         c->applied_index < raft_last_index_get(c->raft)))
        return ERR_NOT_CONTROLLER;
    uint64_t index = 0;
    if (rc == 0)
        rc = ctrl_propose_batch(c, recs.recs, recs.count, &index);
    if (rc < 0)
        return rc;
    if (drain)
        c->elect_index = index; /* AlterPartition and elections wait for it */
    if (unclean && pol.elr_enabled)
        log_info("ctrl", "broker=%d registers after an unclean shutdown (previous_broker_epoch=%lld, registered "
                 "epoch %lld): it leaves the ISR and ELR of %d partitions", broker_id,
                 (long long)previous_broker_epoch, (long long)prev->broker_epoch, changes);
    else if (changes > 0)
        log_info("ctrl", "broker=%d registers as a new incarnation (%s shutdown, previous_broker_epoch=%lld, "
                 "registered epoch %lld): its previous incarnation's leadership and ISR places move in %d "
                 "partitions", broker_id, unclean ? "unclean" : "clean", (long long)previous_broker_epoch,
                 (long long)prev->broker_epoch, changes);
    l->registering = true;
    w->index = index;
    w->kind = CTRL_RPC_REGISTER;
    w->broker_id = broker_id;
    w->broker_epoch = epoch;
    return 0;
}

/* create_topic_serve - check a topic auto-creation, plan and propose it. */
static int create_topic_serve(struct ctrl *c, uint32_t caller, uint32_t version, const struct ctrl_topic_spec *spec,
                              struct ctrl_rpc_wait *w, char *msg, size_t msg_size)
{
    /* placement uses the unfenced brokers of the image: not while a fence
     * that is not in it yet is in flight (the caller retries) */
    if (!ctrl_rpc_ready_to_plan(c) || ctrl_lease_change_in_flight(c))
        return ERR_NOT_CONTROLLER;
    int rc = 0;
    if (version > CTRL_RPC_VERSION_MAX) {
        snprintf(msg, msg_size, "message version %u is newer than this controller's %d", version,
                 CTRL_RPC_VERSION_MAX);
        rc = ERR_UNSUPPORTED;
    } else if ((rc = ctrl_topic_name_check(spec->name, spec->name_len)) < 0) {
        snprintf(msg, msg_size, "%s", ctrl_plan_error_text(rc));
    } else if (spec->partition_count <= 0 || spec->partition_count > CTRL_PARTITIONS_PER_TOPIC_MAX ||
               spec->replication_factor <= 0 || spec->assignment_count != 0) {
        snprintf(msg, msg_size, "partitions=%d (1..%d) and replication_factor=%d (> 0) must be resolved",
                 spec->partition_count, CTRL_PARTITIONS_PER_TOPIC_MAX, spec->replication_factor);
        rc = ERR_INVALID;
    } else if (spec->config_count < 0 || spec->config_count > CTRL_TOPIC_CONFIGS_MAX) {
        snprintf(msg, msg_size, "%d topic configs (at most %d)", spec->config_count, CTRL_TOPIC_CONFIGS_MAX);
        rc = ERR_LIMIT;
    }
    for (int32_t i = 0; rc == 0 && i < spec->config_count; i++)
        if (ctrl_topic_config_validate(spec->configs[i].name, spec->configs[i].value, msg, msg_size) < 0)
            rc = ERR_INVALID_CONFIG;
    if (rc < 0) {
        refused(c, "a topic creation", caller, msg);
        return rc;
    }
    for (uint32_t i = 0; i < c->wait_count; i++)
        if (c->waits[i].kind == CTRL_RPC_CREATE_TOPIC && strlen(c->waits[i].topic) == spec->name_len &&
            memcmp(c->waits[i].topic, spec->name, spec->name_len) == 0) {
            snprintf(msg, msg_size, "Topic is being created.");
            return ERR_EXISTS;
        }
    arena_reset(&c->plan_arena);
    struct ctrl_records recs = { 0 };
    int32_t parts = 0;
    int16_t rf = 0;
    rc = ctrl_plan_create_topic(c->img, spec, spec->partition_count, spec->replication_factor, &c->plan_arena, &recs,
                                &parts, &rf);
    if (rc == ERR_INVALID_REPLICATION_FACTOR) {
        int32_t live = ctrl_image_unfenced_count(c->img);
        snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.", spec->replication_factor,
                 live);
        return rc;
    }
    uint64_t index = 0;
    if (rc == 0)
        rc = ctrl_propose_batch(c, recs.recs, recs.count, &index);
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", ctrl_plan_error_text(rc));
        return rc;
    }
    ASSERT(recs.count > 0 && recs.recs[0]->record_case == SAMSA__METADATA_RECORD__RECORD_TOPIC);
    w->index = index;
    w->kind = CTRL_RPC_CREATE_TOPIC;
    memcpy(w->topic_id, recs.recs[0]->topic->topic_id.data, 16);
    snprintf(w->topic, sizeof w->topic, "%.*s", (int)spec->name_len, spec->name);
    log_info("ctrl", "creating topic=%s partitions=%d replication_factor=%d for node=%u", w->topic, parts, rf, caller);
    return 0;
}

static void heartbeat_serve(struct ctrl *c, uint32_t caller, uint32_t version, const struct ctrl_heartbeat *hb,
                            struct ctrl_heartbeat_reply *r)
{
    memset(r, 0, sizeof *r);
    r->broker_epoch = hb->broker_epoch;
    if (version > CTRL_RPC_VERSION_MAX) {
        r->rc = ERR_UNSUPPORTED;
        return;
    }
    if (hb->broker_id < 0 || (uint32_t)hb->broker_id != caller) {
        char why[96];
        snprintf(why, sizeof why, "broker_id=%d is not the caller's node id", hb->broker_id);
        refused(c, "a broker heartbeat", caller, why);
        r->rc = ERR_INVALID;
        return;
    }
    const struct ctrl_broker *b = ctrl_image_broker_find(c->img, hb->broker_id);
    if (!b) {
        r->rc = ERR_NOT_FOUND;
        return;
    }
    if (b->broker_epoch != hb->broker_epoch) {
        r->rc = ERR_STALE; /* a stale incarnation: it must register again */
        return;
    }
    struct ctrl_lease *l = ctrl_lease_get(c, hb->broker_id);
    if (!l) {
        r->rc = ERR_LIMIT;
        return;
    }
    l->last_ticks = c->ticks;
    l->heard = true;
    l->want_fence = hb->want_fence;
    if (l->shutting_down && l->shutdown_epoch != hb->broker_epoch)
        l->shutting_down = false; /* an earlier incarnation's */
    if (hb->want_shut_down && !l->shutting_down) {
        log_info("ctrl", "controlled shutdown of broker=%d broker_epoch=%lld: moving its leadership, then fencing it",
                 hb->broker_id, (long long)hb->broker_epoch);
        l->shutting_down = true;
        l->shutdown_epoch = hb->broker_epoch;
    }
    r->fenced = b->fenced;
    r->should_shut_down = l->shutting_down && b->fenced && !l->change_in_flight;
}

static const char *kerr_name(int16_t code)
{
    switch (code) {
    case CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION: return "UNKNOWN_TOPIC_OR_PARTITION";
    case CTRL_KERR_NOT_LEADER_OR_FOLLOWER: return "NOT_LEADER_OR_FOLLOWER";
    case CTRL_KERR_INVALID_REQUEST: return "INVALID_REQUEST";
    case CTRL_KERR_FENCED_LEADER_EPOCH: return "FENCED_LEADER_EPOCH";
    case CTRL_KERR_STALE_BROKER_EPOCH: return "STALE_BROKER_EPOCH";
    case CTRL_KERR_UNKNOWN_TOPIC_ID: return "UNKNOWN_TOPIC_ID";
    case CTRL_KERR_INELIGIBLE_REPLICA: return "INELIGIBLE_REPLICA";
    case CTRL_KERR_INVALID_UPDATE_VERSION: return "INVALID_UPDATE_VERSION";
    default: return "NONE";
    }
}

/* A change to a partition's leader or ISR must be planned on an image that
 * holds every other such change in flight (compare-and-set on the partition
 * epoch; README "Planning and proposals in flight"): not while a fence or
 * an election is in flight, nor a second AlterPartition of one partition. */
static bool partition_change_busy(const struct ctrl *c, const uint8_t *topic_id, int32_t partition_id)
{
    if (ctrl_lease_change_in_flight(c) || c->elect_index > c->applied_index)
        return true;
    for (uint32_t i = 0; i < c->wait_count; i++) {
        const struct ctrl_rpc_wait *w = &c->waits[i];
        if (w->kind == CTRL_RPC_ALTER_PARTITION && w->index > 0 && w->partition_id == partition_id &&
            memcmp(w->topic_id, topic_id, 16) == 0)
            return true;
    }
    return false;
}

/* The brokers in controlled shutdown (this incarnation's). */
int32_t ctrl_shutting_down_list(const struct ctrl *c, int32_t *ids)
{
    int32_t n = 0;
    for (int32_t i = 0; i < c->lease_count; i++) {
        const struct ctrl_lease *l = &c->leases[i];
        const struct ctrl_broker *b = ctrl_image_broker_find(c->img, l->broker_id);
        if (l->shutting_down && b && l->shutdown_epoch == b->broker_epoch)
            ids[n++] = l->broker_id;
    }
    return n;
}

/* alter_partition_serve - check an AlterPartition, plan and propose its
 * record.  < 0: not answered (ERR_NOT_CONTROLLER: retry; ERR_UNSUPPORTED,
 * ERR_INVALID: refused).  0: *r holds the answer; w->index is the proposal
 * to wait for, 0 when nothing was proposed (a refusal, or no change). */
static int alter_partition_serve(struct ctrl *c, uint32_t caller, uint32_t version,
                                 const struct ctrl_alter_partition *req, struct ctrl_rpc_wait *w,
                                 struct ctrl_alter_partition_reply *r)
{
    char why[200];
    if (!ctrl_rpc_ready_to_plan(c))
        return ERR_NOT_CONTROLLER;
    if (version > CTRL_RPC_VERSION_MAX) {
        snprintf(why, sizeof why, "message version %u is newer than this controller's %d", version,
                 CTRL_RPC_VERSION_MAX);
        refused(c, "an AlterPartition", caller, why);
        return ERR_UNSUPPORTED;
    }
    if (req->broker_id < 0 || (uint32_t)req->broker_id != caller) {
        snprintf(why, sizeof why, "broker_id=%d is not the caller's node id", req->broker_id);
        refused(c, "an AlterPartition", caller, why);
        return ERR_INVALID;
    }
    if (partition_change_busy(c, req->topic_id, req->partition_id))
        return ERR_NOT_CONTROLLER; /* the caller re-sends */
    int32_t shutting[CTRL_BROKERS_MAX];
    int32_t shutting_count = ctrl_shutting_down_list(c, shutting);
    arena_reset(&c->plan_arena);
    struct ctrl_records recs = { 0 };
    struct ctrl_plan_policy pol = rpc_policy(c);
    int rc = ctrl_plan_alter_partition(c->img, req, shutting, shutting_count, &pol, &c->plan_arena, &recs, r);
    if (rc < 0)
        return rc;
    w->kind = CTRL_RPC_ALTER_PARTITION;
    memcpy(w->topic_id, req->topic_id, 16);
    w->partition_id = req->partition_id;
    w->ap_reply = *r;
    if (r->error_code != 0) {
        snprintf(why, sizeof why,
                 "%s: partition=%d broker_epoch=%lld leader_epoch=%d partition_epoch=%d isr_count=%d",
                 kerr_name(r->error_code), req->partition_id, (long long)req->broker_epoch, req->leader_epoch,
                 req->partition_epoch, req->isr_count);
        refused(c, "an AlterPartition", caller, why);
        return 0;
    }
    if (recs.count == 0)
        return 0;
    uint64_t index = 0;
    if ((rc = ctrl_propose_batch(c, recs.recs, recs.count, &index)) < 0)
        return rc;
    w->index = index;
    log_info("ctrl", "ISR change of partition=%d by leader=%d isr_count=%d partition_epoch=%d", req->partition_id,
             req->broker_id, r->isr_count, r->partition_epoch);
    return 0;
}

/* ---- answering ---- */

static void send_register_response(struct ctrl *c, uint32_t to, uint64_t request_id, int err, int64_t epoch)
{
    Samsa__BrokerRegistrationResponse r = SAMSA__BROKER_REGISTRATION_RESPONSE__INIT;
    r.request_id = request_id;
    r.error = err;
    r.broker_epoch = epoch;
    r.leader_id = raft_leader_get(c->raft);
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_REGISTER_BROKER_RESPONSE;
    f.register_broker_response = &r;
    ctrl_send_frame(c, to, &f);
}

static void send_create_topic_response(struct ctrl *c, uint32_t to, uint64_t request_id, int err, const char *msg)
{
    Samsa__CreateTopicResponse r = SAMSA__CREATE_TOPIC_RESPONSE__INIT;
    r.request_id = request_id;
    r.error = err;
    r.message = (char *)(msg ? msg : "");
    r.leader_id = raft_leader_get(c->raft);
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_CREATE_TOPIC_RESPONSE;
    f.create_topic_response = &r;
    ctrl_send_frame(c, to, &f);
}

static void send_heartbeat_response(struct ctrl *c, uint32_t to, const struct ctrl_heartbeat *hb,
                                    const struct ctrl_heartbeat_reply *rep)
{
    Samsa__BrokerHeartbeatResponse r = SAMSA__BROKER_HEARTBEAT_RESPONSE__INIT;
    r.broker_id = hb->broker_id;
    r.broker_epoch = hb->broker_epoch;
    r.error = rep->rc;
    r.is_fenced = rep->fenced;
    r.should_shut_down = rep->should_shut_down;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT_RESPONSE;
    f.heartbeat_response = &r;
    ctrl_send_frame(c, to, &f);
}

static void send_alter_partition_response(struct ctrl *c, uint32_t to, uint64_t request_id, int err,
                                          const struct ctrl_alter_partition_reply *rep)
{
    Samsa__AlterPartitionResponse r = SAMSA__ALTER_PARTITION_RESPONSE__INIT;
    r.request_id = request_id;
    r.error = err;
    r.leader_id = raft_leader_get(c->raft);
    if (err == 0) {
        r.error_code = rep->error_code;
        r.leader = rep->leader;
        r.leader_epoch = rep->leader_epoch;
        r.partition_epoch = rep->partition_epoch;
        r.n_isr = (size_t)rep->isr_count;
        r.isr = (int32_t *)rep->isr;
    }
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_ALTER_PARTITION_RESPONSE;
    f.alter_partition_response = &r;
    ctrl_send_frame(c, to, &f);
}

static void alter_partition_answer(struct ctrl *c, const struct ctrl_rpc_wait *w, int rc)
{
    struct ctrl_alter_partition_reply r = w->ap_reply;
    r.rc = rc;
    if (rc == 0 && w->index > 0 && !ctrl_image_topic_find_id(c->img, w->topic_id)) {
        memset(&r, 0, sizeof r); /* the topic was deleted before the change committed */
        r.leader = -1;
        r.error_code = CTRL_KERR_UNKNOWN_TOPIC_ID;
    }
    if (w->local)
        w->ap_cb(w->arg, &r);
    else
        send_alter_partition_response(c, w->from, w->request_id, rc, &r);
}

/* Answer one wait with rc (0: committed). */
static void wait_answer(struct ctrl *c, const struct ctrl_rpc_wait *w, int rc)
{
    if (w->kind == CTRL_RPC_ALTER_PARTITION) {
        alter_partition_answer(c, w, rc);
        return;
    }
    if (w->kind == CTRL_RPC_REGISTER) {
        struct ctrl_lease *l = ctrl_lease_get(c, w->broker_id);
        if (l) {
            l->registering = false;
            if (rc == 0) {
                l->shutting_down = false; /* a new incarnation */
                l->want_fence = false;
            }
        }
        if (w->local)
            w->reg_cb(w->arg, rc, w->broker_epoch);
        else
            send_register_response(c, w->from, w->request_id, rc, w->broker_epoch);
        return;
    }
    if (w->kind == CTRL_RPC_ALLOC_PIDS) {
        ctrl_pids_answer(c, w, rc);
        return;
    }
    ASSERT(w->kind == CTRL_RPC_CREATE_TOPIC);
    if (rc == 0) {
        const struct ctrl_topic *t = ctrl_image_topic_find(c->img, w->topic, strlen(w->topic));
        if (!t || memcmp(t->topic_id, w->topic_id, 16) != 0)
            rc = ERR_EXISTS; /* another creation of the name committed first */
    }
    if (w->local) {
        if (w->commit_cb)
            w->commit_cb(w->arg, rc);
    } else {
        send_create_topic_response(c, w->from, w->request_id, rc, rc == 0 ? "" : ctrl_plan_error_text(rc));
    }
}

void ctrl_rpc_complete(struct ctrl *c, uint64_t index)
{
    for (uint32_t i = 0; i < c->wait_count;) {
        if (c->waits[i].index > index) {
            i++;
            continue;
        }
        struct ctrl_rpc_wait w = c->waits[i];
        c->waits[i] = c->waits[--c->wait_count];
        wait_answer(c, &w, 0); /* may add waits: they are not committed yet */
    }
}

void ctrl_rpc_fail(struct ctrl *c)
{
    while (c->wait_count > 0) {
        struct ctrl_rpc_wait w = c->waits[--c->wait_count];
        wait_answer(c, &w, ERR_NOT_CONTROLLER);
    }
}

/* ---- calling (any node) ---- */

static int fwd_send(struct ctrl *c, Samsa__ControllerFrame *f, uint64_t request_id, struct ctrl_fwd *fw)
{
    uint32_t leader = raft_leader_get(c->raft);
    if (leader == RAFT_ID_NONE || leader == (uint32_t)c->cfg.node_id)
        return ERR_NOT_CONTROLLER;
    if (c->fwd_count >= CTRL_REMOTE_MAX)
        return ERR_LIMIT;
    int rc = c->env.transport->send(c->env.transport_ctx, leader, f);
    if (rc < 0)
        return rc == ERR_NOT_FOUND ? ERR_NOT_CONTROLLER : rc;
    fw->request_id = request_id;
    fw->to = leader;
    fw->deadline_ticks = c->ticks + CTRL_FWD_TIMEOUT_MS / c->cfg.tick_ms;
    c->fwd[c->fwd_count++] = *fw;
    return 0;
}

/* The request an answer from node `from` is for: same id (unique across this
 * node's processes, see ctrl_create_env), kind and node it went to. */
static struct ctrl_fwd *fwd_take(struct ctrl *c, uint32_t from, uint64_t request_id, enum ctrl_rpc_kind kind,
                                 struct ctrl_fwd *out)
{
    for (uint32_t i = 0; i < c->fwd_count; i++) {
        if (c->fwd[i].request_id != request_id || c->fwd[i].kind != kind || c->fwd[i].to != from)
            continue;
        *out = c->fwd[i];
        c->fwd[i] = c->fwd[--c->fwd_count];
        return out;
    }
    return NULL;
}

static void fwd_fail(struct ctrl_fwd *fw, int rc)
{
    switch (fw->kind) {
    case CTRL_RPC_REGISTER: fw->reg_cb(fw->arg, rc, -1); break;
    case CTRL_RPC_CREATE_TOPIC:
        if (fw->commit_cb)
            fw->commit_cb(fw->arg, rc);
        break;
    case CTRL_RPC_FORWARD: fw->fwd_cb(fw->arg, rc, (struct bytes){ NULL, 0 }); break;
    case CTRL_RPC_ALTER_PARTITION: {
        struct ctrl_alter_partition_reply r = { .rc = rc, .leader = -1 };
        fw->ap_cb(fw->arg, &r);
        break;
    }
    case CTRL_RPC_ALLOC_PIDS: fw->pids_cb(fw->arg, rc, -1, 0); break;
    }
}

void ctrl_rpc_tick(struct ctrl *c)
{
    /* local answers that needed no proposal (index 0) go out from here, not
     * from inside the call that asked */
    ctrl_rpc_complete(c, c->applied_index);
    uint32_t leader = raft_leader_get(c->raft);
    for (uint32_t i = 0; i < c->fwd_count;) {
        /* a timeout, or the leader it went to is no longer the leader (it may
         * have died with the request): fail it now so the caller retries */
        if (c->fwd[i].deadline_ticks <= c->ticks || c->fwd[i].to != leader) {
            struct ctrl_fwd f = c->fwd[i];
            c->fwd[i] = c->fwd[--c->fwd_count];
            fwd_fail(&f, ERR_TIMEOUT);
        } else {
            i++;
        }
    }
}

int ctrl_register_broker(struct ctrl *c, const struct ctrl_registration *reg, ctrl_register_cb cb, void *arg)
{
    ASSERT(cb != NULL);
    ASSERT(reg->previous_incarnation_len <= sizeof reg->previous_incarnation_id);
    if (ctrl_is_active(c)) {
        struct ctrl_rpc_wait *w = wait_new(c);
        if (!w)
            return ERR_LIMIT;
        int rc = register_serve(c, (uint32_t)c->cfg.node_id, CTRL_RPC_VERSION_MAX, reg->broker_id,
                                reg->incarnation_id, 16, reg->previous_incarnation_id,
                                reg->previous_incarnation_len, reg->endpoints, reg->endpoint_count,
                                reg->previous_broker_epoch, w);
        if (rc < 0)
            return rc;
        w->local = true;
        w->reg_cb = cb;
        w->arg = arg;
        c->wait_count++;
        ctrl_process_ready(c);
        return 0;
    }
    Samsa__BrokerEndpoint eps[CTRL_ENDPOINTS_MAX];
    Samsa__BrokerEndpoint *list[CTRL_ENDPOINTS_MAX];
    if (reg->endpoint_count < 0 || reg->endpoint_count > CTRL_ENDPOINTS_MAX)
        return ERR_LIMIT;
    for (int32_t i = 0; i < reg->endpoint_count; i++) {
        samsa__broker_endpoint__init(&eps[i]);
        eps[i].name = (char *)reg->endpoints[i].name;
        eps[i].host = (char *)reg->endpoints[i].host;
        eps[i].port = reg->endpoints[i].port;
        eps[i].security_protocol = reg->endpoints[i].security_protocol;
        list[i] = &eps[i];
    }
    Samsa__BrokerRegistrationRequest rq = SAMSA__BROKER_REGISTRATION_REQUEST__INIT;
    rq.version = CTRL_RPC_VERSION_MAX;
    rq.request_id = ++c->next_request_id;
    rq.broker_id = reg->broker_id;
    rq.incarnation_id.data = (uint8_t *)reg->incarnation_id;
    rq.incarnation_id.len = 16;
    rq.n_endpoints = (size_t)reg->endpoint_count;
    rq.endpoints = list;
    rq.rack = (char *)"";
    rq.previous_broker_epoch = reg->previous_broker_epoch;
    rq.previous_incarnation_id.data = (uint8_t *)reg->previous_incarnation_id;
    rq.previous_incarnation_id.len = reg->previous_incarnation_len; /* as given: the controller judges it */
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_REGISTER_BROKER;
    f.register_broker = &rq;
    struct ctrl_fwd fw = { .kind = CTRL_RPC_REGISTER, .reg_cb = cb, .arg = arg };
    return fwd_send(c, &f, rq.request_id, &fw);
}

int ctrl_create_topic(struct ctrl *c, const struct ctrl_topic_spec *spec, ctrl_commit_cb cb, void *arg)
{
    if (ctrl_is_active(c)) {
        struct ctrl_rpc_wait *w = wait_new(c);
        if (!w)
            return ERR_LIMIT;
        char msg[256];
        int rc = create_topic_serve(c, (uint32_t)c->cfg.node_id, CTRL_RPC_VERSION_MAX, spec, w, msg, sizeof msg);
        if (rc < 0)
            return rc;
        w->local = true;
        w->commit_cb = cb;
        w->arg = arg;
        c->wait_count++;
        ctrl_process_ready(c);
        return 0;
    }
    if (spec->config_count < 0 || spec->config_count > CTRL_TOPIC_CONFIGS_MAX ||
        spec->name_len > CTRL_TOPIC_NAME_BYTES_MAX)
        return ERR_LIMIT;
    char name[CTRL_TOPIC_NAME_BYTES_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)spec->name_len, spec->name);
    Samsa__TopicConfigEntry kv[CTRL_TOPIC_CONFIGS_MAX];
    Samsa__TopicConfigEntry *kvs[CTRL_TOPIC_CONFIGS_MAX];
    for (int32_t i = 0; i < spec->config_count; i++) {
        samsa__topic_config_entry__init(&kv[i]);
        kv[i].name = (char *)spec->configs[i].name;
        kv[i].value = (char *)spec->configs[i].value;
        kvs[i] = &kv[i];
    }
    Samsa__CreateTopicRequest rq = SAMSA__CREATE_TOPIC_REQUEST__INIT;
    rq.version = CTRL_RPC_VERSION_MAX;
    rq.request_id = ++c->next_request_id;
    rq.name = name;
    rq.partitions = spec->partition_count;
    rq.replication_factor = spec->replication_factor;
    rq.n_configs = (size_t)spec->config_count;
    rq.configs = kvs;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_CREATE_TOPIC;
    f.create_topic = &rq;
    struct ctrl_fwd fw = { .kind = CTRL_RPC_CREATE_TOPIC, .commit_cb = cb, .arg = arg };
    return fwd_send(c, &f, rq.request_id, &fw);
}

int ctrl_alter_partition(struct ctrl *c, const struct ctrl_alter_partition *req, ctrl_alter_partition_cb cb,
                         void *arg)
{
    ASSERT(cb != NULL);
    if (req->isr_count < 0 || req->isr_count > CTRL_REPLICAS_MAX)
        return ERR_INVALID;
    if (ctrl_is_active(c)) {
        struct ctrl_rpc_wait *w = wait_new(c);
        if (!w)
            return ERR_LIMIT;
        struct ctrl_alter_partition_reply r;
        int rc = alter_partition_serve(c, (uint32_t)c->cfg.node_id, CTRL_RPC_VERSION_MAX, req, w, &r);
        if (rc < 0)
            return rc;
        w->local = true;
        w->ap_cb = cb;
        w->arg = arg;
        c->wait_count++;
        if (w->index > 0)
            ctrl_process_ready(c);
        return 0;
    }
    Samsa__AlterPartitionRequest rq = SAMSA__ALTER_PARTITION_REQUEST__INIT;
    rq.version = CTRL_RPC_VERSION_MAX;
    rq.request_id = ++c->next_request_id;
    rq.broker_id = req->broker_id;
    rq.broker_epoch = req->broker_epoch;
    rq.topic_id.data = (uint8_t *)req->topic_id;
    rq.topic_id.len = 16;
    rq.partition_id = req->partition_id;
    rq.leader_epoch = req->leader_epoch;
    rq.partition_epoch = req->partition_epoch;
    rq.n_isr = (size_t)req->isr_count;
    rq.isr = (int32_t *)req->isr;
    rq.n_isr_broker_epochs = (size_t)req->isr_count;
    rq.isr_broker_epochs = (int64_t *)req->isr_broker_epochs;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_ALTER_PARTITION;
    f.alter_partition = &rq;
    struct ctrl_fwd fw = { .kind = CTRL_RPC_ALTER_PARTITION, .ap_cb = cb, .arg = arg };
    return fwd_send(c, &f, rq.request_id, &fw);
}

void ctrl_heartbeat_handler_set(struct ctrl *c, ctrl_heartbeat_cb cb, void *arg)
{
    c->hb_handler = cb;
    c->hb_handler_arg = arg;
}

void ctrl_broker_heartbeat(struct ctrl *c, const struct ctrl_heartbeat *hb)
{
    if (raft_role_get(c->raft) == RAFT_LEADER) {
        struct ctrl_heartbeat_reply r;
        heartbeat_serve(c, (uint32_t)c->cfg.node_id, CTRL_RPC_VERSION_MAX, hb, &r);
        if (c->hb_handler)
            c->hb_handler(c->hb_handler_arg, &r);
        return;
    }
    uint32_t leader = raft_leader_get(c->raft);
    if (leader == RAFT_ID_NONE)
        return;
    Samsa__BrokerHeartbeat m = SAMSA__BROKER_HEARTBEAT__INIT;
    m.version = CTRL_RPC_VERSION_MAX;
    m.broker_id = hb->broker_id;
    m.broker_epoch = hb->broker_epoch;
    m.current_metadata_offset = hb->metadata_offset;
    m.want_fence = hb->want_fence;
    m.want_shut_down = hb->want_shut_down;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT;
    f.heartbeat = &m;
    ctrl_send_frame(c, leader, &f);
}

/* ---- Kafka request forwarding (brokers -> active controller) ---- */

void ctrl_forward_handler_set(struct ctrl *c, ctrl_forward_handler_fn fn, void *arg)
{
    c->fwd_handler = fn;
    c->fwd_handler_arg = arg;
}

int ctrl_forward_request(struct ctrl *c, struct bytes kafka_request, ctrl_forward_done_cb cb, void *arg)
{
    Samsa__ForwardRequest fr = SAMSA__FORWARD_REQUEST__INIT;
    fr.request_id = ++c->next_request_id;
    fr.kafka_request.data = (uint8_t *)kafka_request.ptr;
    fr.kafka_request.len = kafka_request.len;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_FORWARD;
    f.forward = &fr;
    struct ctrl_fwd fw = { .kind = CTRL_RPC_FORWARD, .fwd_cb = cb, .arg = arg };
    return fwd_send(c, &f, fr.request_id, &fw);
}

void ctrl_forward_reply(struct ctrl *c, uint32_t to, uint64_t request_id, int err, struct bytes kafka_response)
{
    Samsa__ForwardResponse fr = SAMSA__FORWARD_RESPONSE__INIT;
    fr.request_id = request_id;
    fr.error = err;
    fr.kafka_response.data = (uint8_t *)kafka_response.ptr;
    fr.kafka_response.len = kafka_response.len;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_FORWARD_RESPONSE;
    f.forward_response = &fr;
    ctrl_send_frame(c, to, &f);
}

/* ---- frames ---- */

static void on_register(struct ctrl *c, uint32_t from, const Samsa__BrokerRegistrationRequest *rq)
{
    struct ctrl_endpoint eps[CTRL_ENDPOINTS_MAX];
    int32_t n = rq->n_endpoints <= CTRL_ENDPOINTS_MAX ? (int32_t)rq->n_endpoints : -1;
    for (int32_t i = 0; i < n; i++) {
        const Samsa__BrokerEndpoint *e = rq->endpoints[i];
        memset(&eps[i], 0, sizeof eps[i]);
        if (strlen(e->name) >= sizeof eps[i].name || strlen(e->host) >= sizeof eps[i].host || e->port <= 0 ||
            e->port > 65535) {
            n = -1; /* refused below as malformed */
            break;
        }
        snprintf(eps[i].name, sizeof eps[i].name, "%s", e->name);
        snprintf(eps[i].host, sizeof eps[i].host, "%s", e->host);
        eps[i].port = e->port;
        eps[i].security_protocol = e->security_protocol;
    }
    struct ctrl_rpc_wait *w = wait_new(c);
    int rc = !w ? ERR_LIMIT
                : register_serve(c, from, rq->version, rq->broker_id, rq->incarnation_id.data,
                                 rq->incarnation_id.len, rq->previous_incarnation_id.data,
                                 rq->previous_incarnation_id.len, eps, n, rq->previous_broker_epoch, w);
    if (rc < 0) {
        send_register_response(c, from, rq->request_id, rc, -1);
        return;
    }
    w->from = from;
    w->request_id = rq->request_id;
    c->wait_count++;
}

static void on_create_topic(struct ctrl *c, uint32_t from, const Samsa__CreateTopicRequest *rq)
{
    struct ctrl_config_kv kv[CTRL_TOPIC_CONFIGS_MAX];
    char msg[256] = "";
    int32_t n = rq->n_configs <= CTRL_TOPIC_CONFIGS_MAX ? (int32_t)rq->n_configs : -1;
    for (int32_t i = 0; i < n; i++)
        kv[i] = (struct ctrl_config_kv){ rq->configs[i]->name, rq->configs[i]->value };
    struct ctrl_topic_spec spec = { .name = rq->name, .name_len = strlen(rq->name), .partition_count = rq->partitions,
                                    .replication_factor = (int16_t)(rq->replication_factor > 32767 ? -1
                                                                                                     : rq->replication_factor),
                                    .config_count = n, .configs = kv };
    struct ctrl_rpc_wait *w = wait_new(c);
    int rc = !w ? ERR_LIMIT : create_topic_serve(c, from, rq->version, &spec, w, msg, sizeof msg);
    if (rc < 0) {
        send_create_topic_response(c, from, rq->request_id, rc, msg);
        return;
    }
    w->from = from;
    w->request_id = rq->request_id;
    c->wait_count++;
}

static void on_alter_partition(struct ctrl *c, uint32_t from, const Samsa__AlterPartitionRequest *rq)
{
    struct ctrl_alter_partition req = { .broker_id = rq->broker_id, .broker_epoch = rq->broker_epoch,
                                        .partition_id = rq->partition_id, .leader_epoch = rq->leader_epoch,
                                        .partition_epoch = rq->partition_epoch };
    struct ctrl_alter_partition_reply r = { .leader = -1 };
    struct ctrl_rpc_wait *w = wait_new(c);
    int rc = 0;
    if (!w) {
        rc = ERR_LIMIT;
    } else if (rq->topic_id.len != 16 || rq->n_isr > CTRL_REPLICAS_MAX || rq->n_isr_broker_epochs != rq->n_isr) {
        char why[160];
        snprintf(why, sizeof why, "malformed: topic id of %zu bytes (16), %zu ISR members (at most %d) with %zu "
                 "broker epochs", rq->topic_id.len, rq->n_isr, CTRL_REPLICAS_MAX, rq->n_isr_broker_epochs);
        refused(c, "an AlterPartition", from, why);
        r.error_code = CTRL_KERR_INVALID_REQUEST;
        send_alter_partition_response(c, from, rq->request_id, 0, &r);
        return;
    } else {
        memcpy(req.topic_id, rq->topic_id.data, 16);
        req.isr_count = (int32_t)rq->n_isr;
        for (size_t i = 0; i < rq->n_isr; i++) {
            req.isr[i] = rq->isr[i];
            req.isr_broker_epochs[i] = rq->isr_broker_epochs[i];
        }
        rc = alter_partition_serve(c, from, rq->version, &req, w, &r);
    }
    if (rc < 0 || w->index == 0) {
        send_alter_partition_response(c, from, rq->request_id, rc, &r);
        return;
    }
    w->from = from;
    w->request_id = rq->request_id;
    c->wait_count++;
}

bool ctrl_rpc_on_frame(struct ctrl *c, uint32_t from, const Samsa__ControllerFrame *f)
{
    struct ctrl_fwd fw;
    switch (f->frame_case) {
    case SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE: {
        char why[128];
        snprintf(why, sizeof why, "a raw record proposal (%zu records): records are planned by the active "
                 "controller; upgrade node %u", f->propose->batch ? f->propose->batch->n_records : 0, from);
        refused(c, "a record proposal", from, why);
        Samsa__ProposeResponse pr = SAMSA__PROPOSE_RESPONSE__INIT;
        pr.request_id = f->propose->request_id;
        pr.error = ERR_UNSUPPORTED;
        pr.leader_id = raft_leader_get(c->raft);
        Samsa__ControllerFrame out = SAMSA__CONTROLLER_FRAME__INIT;
        out.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE_RESPONSE;
        out.propose_response = &pr;
        ctrl_send_frame(c, from, &out);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_PROPOSE_RESPONSE: return true; /* we never propose remotely */
    case SAMSA__CONTROLLER_FRAME__FRAME_REGISTER_BROKER: on_register(c, from, f->register_broker); return true;
    case SAMSA__CONTROLLER_FRAME__FRAME_CREATE_TOPIC: on_create_topic(c, from, f->create_topic); return true;
    case SAMSA__CONTROLLER_FRAME__FRAME_ALTER_PARTITION: on_alter_partition(c, from, f->alter_partition); return true;
    case SAMSA__CONTROLLER_FRAME__FRAME_ALTER_PARTITION_RESPONSE: {
        const Samsa__AlterPartitionResponse *m = f->alter_partition_response;
        if (!fwd_take(c, from, m->request_id, CTRL_RPC_ALTER_PARTITION, &fw))
            return true;
        struct ctrl_alter_partition_reply r = { .rc = m->error, .error_code = (int16_t)m->error_code,
                                                .leader = m->leader, .leader_epoch = m->leader_epoch,
                                                .partition_epoch = m->partition_epoch };
        r.isr_count = m->n_isr <= CTRL_REPLICAS_MAX ? (int32_t)m->n_isr : CTRL_REPLICAS_MAX;
        if (r.isr_count > 0) /* an empty repeated field decodes as NULL */
            memcpy(r.isr, m->isr, (size_t)r.isr_count * sizeof r.isr[0]);
        fw.ap_cb(fw.arg, &r);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT: {
        if (raft_role_get(c->raft) != RAFT_LEADER)
            return true; /* the broker sends the next one to the leader it learns of */
        const Samsa__BrokerHeartbeat *m = f->heartbeat;
        struct ctrl_heartbeat hb = { m->broker_id, m->broker_epoch, m->current_metadata_offset, m->want_fence,
                                     m->want_shut_down };
        struct ctrl_heartbeat_reply r;
        heartbeat_serve(c, from, m->version, &hb, &r);
        send_heartbeat_response(c, from, &hb, &r);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_REGISTER_BROKER_RESPONSE: {
        const Samsa__BrokerRegistrationResponse *r = f->register_broker_response;
        if (!fwd_take(c, from, r->request_id, CTRL_RPC_REGISTER, &fw))
            return true;
        int rc = r->error;
        if (rc > 0 || (rc == 0 && r->broker_epoch <= 0)) { /* not an answer a controller gives: retry */
            log_warn("ctrl", "registration answer from node=%u is malformed (error=%d broker_epoch=%lld); "
                     "registering again", from, (int)r->error, (long long)r->broker_epoch);
            rc = ERR_INVALID;
        }
        fw.reg_cb(fw.arg, rc, r->broker_epoch);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_CREATE_TOPIC_RESPONSE: {
        const Samsa__CreateTopicResponse *r = f->create_topic_response;
        if (r->error != 0 && r->error != ERR_EXISTS && r->message && r->message[0])
            log_warn("ctrl", "topic creation refused by node=%u error=\"%s\" reason=\"%s\"", from, err_str(r->error),
                     r->message);
        if (fwd_take(c, from, r->request_id, CTRL_RPC_CREATE_TOPIC, &fw) && fw.commit_cb)
            fw.commit_cb(fw.arg, r->error);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_HEARTBEAT_RESPONSE: {
        const Samsa__BrokerHeartbeatResponse *m = f->heartbeat_response;
        struct ctrl_heartbeat_reply r = { m->error, m->is_fenced, m->should_shut_down, m->broker_epoch };
        if (c->hb_handler && (uint32_t)raft_leader_get(c->raft) == from)
            c->hb_handler(c->hb_handler_arg, &r);
        return true;
    }
    case SAMSA__CONTROLLER_FRAME__FRAME_FORWARD:
        if (!ctrl_is_active(c) || !c->fwd_handler)
            ctrl_forward_reply(c, from, f->forward->request_id, ERR_NOT_CONTROLLER, (struct bytes){ NULL, 0 });
        else
            c->fwd_handler(c->fwd_handler_arg, from, f->forward->request_id,
                           bytes_make(f->forward->kafka_request.data, f->forward->kafka_request.len));
        return true;
    case SAMSA__CONTROLLER_FRAME__FRAME_FORWARD_RESPONSE: {
        const Samsa__ForwardResponse *fr = f->forward_response;
        if (fwd_take(c, from, fr->request_id, CTRL_RPC_FORWARD, &fw))
            fw.fwd_cb(fw.arg, fr->error, bytes_make(fr->kafka_response.data, fr->kafka_response.len));
        return true;
    }
    default: return ctrl_pids_on_frame(c, from, f);
    }
}

/* ---- AllocateProducerIds (KIP-730) ---- */

/* The next block start this leader may hand out: the image's, or past the
 * blocks it proposed that are not applied yet (two allocations in flight
 * must not get the same block).  A new leader plans only once its image
 * holds every earlier leader's committed blocks (ready_to_plan). */
static int64_t pids_next(const struct ctrl *c)
{
    int64_t next = ctrl_image_next_producer_id(c->img);
    for (uint32_t i = 0; i < c->wait_count; i++)
        if (c->waits[i].kind == CTRL_RPC_ALLOC_PIDS && c->waits[i].pid_start + CTRL_PRODUCER_ID_BLOCK_LEN > next)
            next = c->waits[i].pid_start + CTRL_PRODUCER_ID_BLOCK_LEN;
    return next;
}

/* pids_serve - check an allocation, propose the ProducerIdsRecord.  On 0,
 * *w (not yet counted) holds the wait. */
static int pids_serve(struct ctrl *c, uint32_t caller, uint32_t version, int32_t broker_id, int64_t broker_epoch,
                      struct ctrl_rpc_wait *w)
{
    char why[160];
    if (!ctrl_rpc_ready_to_plan(c))
        return ERR_NOT_CONTROLLER;
    if (version > CTRL_RPC_VERSION_MAX) {
        snprintf(why, sizeof why, "message version %u is newer than this controller's %d", version,
                 CTRL_RPC_VERSION_MAX);
        refused(c, "a producer id allocation", caller, why);
        return ERR_UNSUPPORTED;
    }
    if (broker_id < 0 || (uint32_t)broker_id != caller) {
        snprintf(why, sizeof why, "broker_id=%d is not the caller's node id", broker_id);
        refused(c, "a producer id allocation", caller, why);
        return ERR_INVALID;
    }
    const struct ctrl_broker *b = ctrl_image_broker_find(c->img, broker_id);
    if (!b || b->broker_epoch != broker_epoch)
        return ERR_STALE; /* Kafka's STALE_BROKER_EPOCH: register first */
    int64_t start = pids_next(c);
    if (start > INT64_MAX - 2 * CTRL_PRODUCER_ID_BLOCK_LEN) {
        refused(c, "a producer id allocation", caller, "the producer id space is exhausted");
        return ERR_LIMIT;
    }
    arena_reset(&c->plan_arena);
    Samsa__MetadataRecord *m = arena_alloc(&c->plan_arena, sizeof *m);
    Samsa__ProducerIdsRecord *pr = arena_alloc(&c->plan_arena, sizeof *pr);
    if (!m || !pr)
        return ERR_LIMIT;
    samsa__metadata_record__init(m);
    samsa__producer_ids_record__init(pr);
    pr->broker_id = broker_id;
    pr->broker_epoch = broker_epoch;
    pr->next_producer_id_block_start = start + CTRL_PRODUCER_ID_BLOCK_LEN;
    m->record_case = SAMSA__METADATA_RECORD__RECORD_PRODUCER_IDS;
    m->producer_ids = pr;
    uint64_t index = 0;
    int rc = ctrl_propose_batch(c, &m, 1, &index);
    if (rc < 0)
        return rc;
    w->index = index;
    w->kind = CTRL_RPC_ALLOC_PIDS;
    w->broker_id = broker_id;
    w->pid_start = start;
    return 0;
}

static void send_pids_response(struct ctrl *c, uint32_t to, uint64_t request_id, int err, int64_t start)
{
    Samsa__AllocateProducerIdsResponse r = SAMSA__ALLOCATE_PRODUCER_IDS_RESPONSE__INIT;
    r.request_id = request_id;
    r.error = err;
    r.producer_id_start = err == 0 ? start : -1;
    r.producer_id_len = err == 0 ? CTRL_PRODUCER_ID_BLOCK_LEN : 0;
    r.leader_id = raft_leader_get(c->raft);
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_ALLOCATE_PRODUCER_IDS_RESPONSE;
    f.allocate_producer_ids_response = &r;
    ctrl_send_frame(c, to, &f);
}

void ctrl_pids_answer(struct ctrl *c, const struct ctrl_rpc_wait *w, int rc)
{
    ASSERT(w->kind == CTRL_RPC_ALLOC_PIDS);
    /* committed means applied: the image is past the block */
    ASSERT(rc < 0 || ctrl_image_next_producer_id(c->img) >= w->pid_start + CTRL_PRODUCER_ID_BLOCK_LEN);
    if (rc == 0)
        log_info("ctrl", "producer id block start=%lld len=%d to broker=%d", (long long)w->pid_start,
                 CTRL_PRODUCER_ID_BLOCK_LEN, w->broker_id);
    if (w->local)
        w->pids_cb(w->arg, rc, rc == 0 ? w->pid_start : -1, rc == 0 ? CTRL_PRODUCER_ID_BLOCK_LEN : 0);
    else
        send_pids_response(c, w->from, w->request_id, rc, w->pid_start);
}

int ctrl_allocate_producer_ids(struct ctrl *c, int32_t broker_id, int64_t broker_epoch, ctrl_producer_ids_cb cb,
                               void *arg)
{
    ASSERT(cb != NULL);
    if (ctrl_is_active(c)) {
        struct ctrl_rpc_wait *w = wait_new(c);
        if (!w)
            return ERR_LIMIT;
        int rc = pids_serve(c, (uint32_t)c->cfg.node_id, CTRL_RPC_VERSION_MAX, broker_id, broker_epoch, w);
        if (rc < 0)
            return rc;
        w->local = true;
        w->pids_cb = cb;
        w->arg = arg;
        c->wait_count++;
        ctrl_process_ready(c);
        return 0;
    }
    Samsa__AllocateProducerIdsRequest rq = SAMSA__ALLOCATE_PRODUCER_IDS_REQUEST__INIT;
    rq.version = CTRL_RPC_VERSION_MAX;
    rq.request_id = ++c->next_request_id;
    rq.broker_id = broker_id;
    rq.broker_epoch = broker_epoch;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_ALLOCATE_PRODUCER_IDS;
    f.allocate_producer_ids = &rq;
    struct ctrl_fwd fw = { .kind = CTRL_RPC_ALLOC_PIDS, .pids_cb = cb, .arg = arg };
    return fwd_send(c, &f, rq.request_id, &fw);
}

bool ctrl_pids_on_frame(struct ctrl *c, uint32_t from, const Samsa__ControllerFrame *f)
{
    if (f->frame_case == SAMSA__CONTROLLER_FRAME__FRAME_ALLOCATE_PRODUCER_IDS) {
        const Samsa__AllocateProducerIdsRequest *rq = f->allocate_producer_ids;
        struct ctrl_rpc_wait *w = wait_new(c);
        int rc = !w ? ERR_LIMIT : pids_serve(c, from, rq->version, rq->broker_id, rq->broker_epoch, w);
        if (rc < 0) {
            send_pids_response(c, from, rq->request_id, rc, -1);
            return true;
        }
        w->from = from;
        w->request_id = rq->request_id;
        c->wait_count++;
        return true;
    }
    if (f->frame_case == SAMSA__CONTROLLER_FRAME__FRAME_ALLOCATE_PRODUCER_IDS_RESPONSE) {
        const Samsa__AllocateProducerIdsResponse *r = f->allocate_producer_ids_response;
        struct ctrl_fwd fw;
        if (!fwd_take(c, from, r->request_id, CTRL_RPC_ALLOC_PIDS, &fw))
            return true;
        bool sane = r->error != 0 || (r->producer_id_start >= 0 && r->producer_id_len > 0);
        fw.pids_cb(fw.arg, sane ? r->error : ERR_DECODE, r->producer_id_start, r->producer_id_len);
        return true;
    }
    return false;
}
