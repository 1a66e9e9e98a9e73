/*
 * isr_sim.c - the deterministic replication simulator (see isr_sim.h and
 * test/sim/README.md, "Replication model").
 *
 * One partition, N = 3..5 replicas (nodes 1..N), one controller (node 0:
 * the committed metadata, always available; the Raft quorum behind it has
 * its own simulator).  A record is one offset: (leader epoch, unique id).
 *
 *  - Leaders run the real brk_isr: every follower fetch, their own appends,
 *    AlterPartition proposals, acks=all decisions.
 *  - Everyone keeps a real brk_epoch_cache; leaders answer fetches with the
 *    diverging-epoch check and followers truncate with the real
 *    brk_epoch_cache_truncation (KIP-101/279/320).
 *  - The fake controller does what the real one must: broker registration
 *    (a restart is a new broker epoch and fences the broker), heartbeats and
 *    session expiry (fence: out of the ISR unless last, leader moved within
 *    the ISR), unfencing, elections from the unfenced ISR only, and
 *    AlterPartition validation (sender's broker epoch, leader epoch,
 *    partition-epoch compare-and-set, leader in ISR, ISR within replicas,
 *    every member unfenced, not shutting down, broker epoch current).
 *  - Metadata reaches brokers late (each pulls the latest committed state
 *    at random moments), so stale leaders ("zombies") keep running.
 *  - AlterPartition is re-sent every 6-20 ticks until answered (more than
 *    the longest delay, as the real shell re-sends only on a new connection
 *    after the old one failed), so copies race each other's answers: one
 *    applied, another refused as stale; only the latest copy's refusal
 *    counts.
 *  - Faults: drops, delays 1-5 ticks (reordering), crashes (the log, epoch
 *    cache and HW checkpoint survive, as after kill -9), pauses (SIGSTOP:
 *    messages wait), isolation of a node, one-way cuts, cuts from the
 *    controller only, controlled shutdowns.  Then a heal phase.
 *  - KIP-966 mode (strict min ISR 2, about a quarter of the seeds): crashes
 *    may be power losses that keep only what was fdatasync'd (flushes at
 *    random moments), on at most min ISR - 1 = 1 replica at a time (until
 *    it is back in the ISR); the controller keeps eligible leader replicas
 *    (members that left an ISR below min ISR), lets the ISR become empty,
 *    elects from the ELR when the ISR has nobody, and takes a broker back
 *    from an unclean shutdown out of both the ISR and the ELR.
 *  - fsync mode (samsa.acks.all.fsync, --fsync: a third of the seeds, drawn
 *    from a prng of its own so the rest keep their runs): every brk_isr
 *    runs with cfg.acks_fsync; followers report what is fdatasync'd with
 *    each fetch (brk_isr_durable), leaders their own after each flush
 *    (brk_isr_leader_durable), and acks=all is answered when brk_isr_acked
 *    says so.  Outside KIP-966 mode a new fault: the whole cluster loses
 *    power at once (every replica keeps only its flushed prefix), a few
 *    times per seed.  The committed log keeps what the largest durable HW
 *    any leader reported covered (HW checkpoints are clamped to it: records
 *    above it may be lost, as consumers of Kafka's page-cache HW may see).
 *    In KIP-966 mode, its single-replica power losses (at any time, on the
 *    leader too).
 *
 * Properties (after every tick):
 *   committed_changed        an offset below some leader's HW changed
 *   committed_missing        a member of the controller's ISR (or ELR)
 *                            lacks a committed record (so an election
 *                            would lose an acknowledged write); a replica
 *                            that lost power is exempt until its
 *                            registration took it out of both
 *   below_hw_diverges        a node's log below its own HW differs from
 *                            the committed records
 *   hw_regressed             a leader's HW went back within its epoch
 *   hw_above_isr_leo         the current leader's HW is above the log end
 *                            of a member of the controller's ISR
 *   isr_not_covered          the controller's ISR has a member outside the
 *                            current leader's maximal ISR (KIP-497)
 *   acked_lost               an acks=all acknowledged record is not at its
 *                            offset in the committed log
 *   acked_not_durable        fsync mode: a member of the controller's ISR
 *                            has not fdatasync'd every acknowledged record
 *                            (checked every tick), or lacks one right after
 *                            a whole-cluster power loss (electing it would
 *                            lose it)
 *   truncation_below_hw      a follower's divergence truncation went below
 *                            its HW (only legal after an unclean election)
 *   fenced_in_isr            a fenced broker is in an ISR of several
 *   leader_not_in_isr        the controller's leader is not in its ISR
 *   liveness                 after healing: full ISR, a leader, new acks
 *
 * Test code: it allocates freely and stops the seed at the first violation.
 */
#include "test/sim/isr_sim.h"

#include "test/sim/sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "broker/replica/brk_epoch_cache.h"
#include "broker/replica/brk_isr.h"
#include "common/log.h"
#include "common/prng.h"

#define ISIM_NODES_MAX 5
#define ISIM_CHAOS_TICKS 2500
#define ISIM_HEAL_TICKS 800
#define ISIM_LAG_TICKS 30       /* replica.lag.time.max.ms */
#define ISIM_SESSION_TICKS 25   /* broker.session.timeout.ms */
#define ISIM_HB_TICKS 3
#define ISIM_FETCH_TIMEOUT_TICKS 10
#define ISIM_ACKS_MAX 64
#define ISIM_NS_PER_TICK 1000000LL

struct isim_rec {
    int32_t epoch;
    uint32_t id;
};

struct isim_log {
    struct isim_rec *recs;
    int64_t len, cap;
};

struct isim_ack {
    int64_t offset;
    struct isim_rec rec;
};

struct isim_node {
    int32_t id;
    bool up, paused;
    uint64_t resume_at; /* restart or unpause */
    /* disk: survives a crash */
    struct isim_log log;
    struct brk_epoch_cache cache;
    int64_t hw;
    int64_t flushed;      /* what an fdatasync made durable: power loss keeps only this */
    bool unclean;         /* lost power: its next registration says so (KIP-966) */
    bool amnesiac;        /* lost its tail, not yet re-registered: exempt from the data checks */
    bool recovering;      /* lost power and not yet back in the ISR */
    uint32_t incarnation; /* process count: a crash starts the next one */
    /* process */
    int64_t broker_epoch; /* -1: not registered in this incarnation */
    int32_t leader, leader_epoch, partition_epoch; /* applied metadata */
    bool leading;
    struct brk_isr isr;
    int64_t hw_seen;      /* per leader incarnation */
    bool fetch_inflight;
    uint64_t fetch_sent_at;
    uint64_t fetch_seq;
    uint64_t alter_seq;
    uint64_t alter_sent_at;
    struct brk_isr_alter alter;
    struct isim_ack acks[ISIM_ACKS_MAX];
    int32_t ack_count;
    int64_t verified;     /* prefix known equal to the committed log */
    uint64_t last_hb_sent;
};

struct isim_broker_reg {
    int64_t epoch;
    bool fenced;
    bool shutting_down;
    uint64_t last_hb;
    bool registered;
};

enum isim_msg_type { M_FETCH, M_FETCH_RESP, M_ALTER, M_ALTER_RESP, M_HB, M_HB_RESP, M_SHUTDOWN };

enum isim_fetch_err { F_OK, F_NOT_LEADER, F_FENCED_EPOCH, F_UNKNOWN_EPOCH, F_DIVERGING, F_STALE };

struct isim_msg {
    uint64_t deliver_at, seq;
    int32_t from, to;
    enum isim_msg_type type;
    uint64_t req_seq;
    int64_t broker_epoch;
    /* fetch */
    int32_t leader_epoch;
    int64_t fetch_offset;
    int32_t last_fetched_epoch;
    enum isim_fetch_err ferr;
    bool unclean;
    uint32_t incarnation; /* heartbeat: the sending process; its answer: the same */
    int32_t div_epoch;
    int64_t div_end;
    int64_t hw;
    int64_t durable_offset; /* fsync mode: what the follower has fdatasync'd (-1: off) */
    int32_t rec_count;
    struct isim_rec *recs;
    /* alter */
    struct brk_isr_alter alter;
    int alter_err;
    struct brk_isr_partition part;
};

struct isim {
    uint64_t seed;
    struct prng prng;
    const char *bug;
    bool verbose;
    FILE *out;
    bool violated;
    uint64_t now;
    bool calm;

    int32_t n;
    struct isim_node nodes[ISIM_NODES_MAX + 1];
    bool link[ISIM_NODES_MAX + 1][ISIM_NODES_MAX + 1]; /* [a][b]: a can send to b; 0 = controller */
    uint32_t drop_ppm, crash_ppm, pause_ppm, cut_ppm, heal_ppm, produce_ppm, shutdown_ppm, sync_ppm;
    int32_t fetch_max;
    bool elr_mode;       /* KIP-966: strict min ISR, eligible leader replicas, power loss */
    uint32_t flush_ppm, power_ppm;
    uint32_t alter_resend_ticks; /* a short one duplicates requests in flight */
    int32_t min_isr;
    bool strict_min_isr;
    /* fsync mode (samsa.acks.all.fsync): its own prng, so other seeds keep their runs */
    struct prng fprng;
    bool fsync_mode;
    uint32_t blackout_ppm;   /* whole-cluster power loss per chaos tick */
    int64_t durable_max;     /* the largest durable HW any leader reported */
    int64_t acked_end;       /* fsync mode: last acknowledged offset + 1 */
    uint32_t blackouts;

    /* controller */
    struct brk_isr_partition part;
    int32_t elr[ISIM_NODES_MAX];
    int32_t elr_count;
    struct isim_broker_reg reg[ISIM_NODES_MAX + 1];
    int64_t broker_epoch_next;

    struct isim_msg *msgs;
    uint32_t msg_count, msg_cap;
    uint64_t msg_seq;

    /* global truth */
    struct isim_log committed;
    uint32_t rec_id_next;
    uint64_t acked_count, acked_at_heal;
};

/* samsa-sim --fsync: fsync mode on its share of the seeds (a flag, so the
 * default seeds keep their runs; make sim and make test pass it: README,
 * "fsync mode") */
static bool isim_fsync_seeds;

void isim_set_fsync_seeds(bool on)
{
    isim_fsync_seeds = on;
}

/* ---- helpers -------------------------------------------------------------- */

static void isim_violation(struct isim *s, const char *property, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void isim_violation(struct isim *s, const char *property, const char *fmt, ...)
{
    if (s->violated)
        return;
    s->violated = true;
    va_list ap;
    va_start(ap, fmt);
    sim_violation_vprint(s->out, s->seed, s->bug, s->now, property, fmt, ap);
    va_end(ap);
}

static void isim_trace(struct isim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void isim_trace(struct isim *s, const char *fmt, ...)
{
    if (!s->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    sim_trace_vprint(s->out, s->now, fmt, ap);
    va_end(ap);
}

static bool isim_bug(const struct isim *s, const char *name)
{
    return s->bug && strcmp(s->bug, name) == 0;
}

static int64_t isim_now_ns(const struct isim *s)
{
    return (int64_t)s->now * ISIM_NS_PER_TICK;
}

static void isim_log_append(struct isim_log *l, struct isim_rec r)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->recs = realloc(l->recs, (size_t)l->cap * sizeof *l->recs);
        ASSERT(l->recs);
    }
    l->recs[l->len++] = r;
}

static bool isim_rec_eq(struct isim_rec a, struct isim_rec b)
{
    return a.epoch == b.epoch && a.id == b.id;
}

static bool isim_list_has(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static bool isim_alive(const struct isim_node *nd)
{
    return nd->up && !nd->paused;
}

/* ---- network -------------------------------------------------------------- */

static struct isim_msg isim_msg_make(int32_t from, int32_t to, enum isim_msg_type type)
{
    struct isim_msg m;
    memset(&m, 0, sizeof m);
    m.from = from;
    m.to = to;
    m.type = type;
    return m;
}

/* isim_post - send m (its recs are taken over): lost on a cut link or by
 * chance, else delivered 1-5 ticks later (1-2 when calm), so reordered. */
static void isim_post(struct isim *s, struct isim_msg *m)
{
    if (!s->link[m->from][m->to] || prng_chance(&s->prng, s->calm ? 0 : s->drop_ppm)) {
        free(m->recs);
        return;
    }
    if (s->msg_count == s->msg_cap) {
        s->msg_cap = s->msg_cap ? s->msg_cap * 2 : 64;
        s->msgs = realloc(s->msgs, s->msg_cap * sizeof *s->msgs);
        ASSERT(s->msgs);
    }
    m->deliver_at = s->now + 1 + prng_range(&s->prng, s->calm ? 2 : 5);
    m->seq = s->msg_seq++;
    s->msgs[s->msg_count++] = *m;
}

/* ---- controller ------------------------------------------------------------ */

static void isim_ctrl_changed(struct isim *s, const char *why, int32_t old_leader)
{
    if (s->part.leader != old_leader)
        s->part.leader_epoch++;
    s->part.partition_epoch++;
    char isr[64] = "", elr[64] = "";
    for (int32_t i = 0, k = 0; i < s->part.isr_count; i++)
        k += snprintf(isr + k, sizeof isr - (size_t)k, "%s%d", i ? "," : "", s->part.isr[i]);
    for (int32_t i = 0, k = 0; i < s->elr_count; i++)
        k += snprintf(elr + k, sizeof elr - (size_t)k, "%s%d", i ? "," : "", s->elr[i]);
    isim_trace(s, "ctrl %s leader=%d leader_epoch=%d partition_epoch=%d isr=[%s] elr=[%s]", why, s->part.leader,
               s->part.leader_epoch, s->part.partition_epoch, isr, elr);
}

static bool isim_ctrl_usable(const struct isim *s, int32_t id)
{
    return s->reg[id].registered && !s->reg[id].fenced && !s->reg[id].shutting_down;
}

static void isim_list_remove(int32_t *ids, int32_t *n, int32_t id)
{
    int32_t k = 0;
    for (int32_t i = 0; i < *n; i++)
        if (ids[i] != id)
            ids[k++] = ids[i];
    *n = k;
}

/* Set the ISR.  In ELR mode (KIP-966) members leaving an ISR that is now
 * below min ISR become eligible leader replicas (their logs cover the HW,
 * which strict min ISR froze); an ISR back at min ISR clears the ELR. */
static bool isim_elr_on(const struct isim *s)
{
    return s->elr_mode && !isim_bug(s, "no_elr");
}

static void isim_ctrl_set_isr(struct isim *s, const int32_t *isr, int32_t n)
{
    if (isim_elr_on(s)) {
        for (int32_t i = 0; i < s->part.isr_count; i++) {
            int32_t id = s->part.isr[i];
            if (!isim_list_has(isr, n, id) && n < s->min_isr && !isim_list_has(s->elr, s->elr_count, id))
                s->elr[s->elr_count++] = id;
        }
        for (int32_t i = 0; i < n; i++)
            isim_list_remove(s->elr, &s->elr_count, isr[i]);
        if (n >= s->min_isr)
            s->elr_count = 0;
    }
    int32_t tmp[BRK_ISR_REPLICAS_MAX];
    memcpy(tmp, isr, (size_t)n * sizeof *isr);
    memcpy(s->part.isr, tmp, (size_t)n * sizeof *isr);
    s->part.isr_count = n;
}

/* Elect from the ISR: the first replica (preferred order) in the ISR that is
 * unfenced and not shutting down; else, in KIP-966 mode, from the ELR.
 * Unclean only with the bug switch. */
static void isim_ctrl_elect(struct isim *s, int32_t exclude)
{
    s->part.leader = -1;
    for (int32_t i = 0; i < s->part.replica_count; i++) {
        int32_t id = s->part.replicas[i];
        if (id != exclude && isim_list_has(s->part.isr, s->part.isr_count, id) && isim_ctrl_usable(s, id)) {
            s->part.leader = id;
            return;
        }
    }
    for (int32_t i = 0; i < s->part.replica_count; i++) {
        int32_t id = s->part.replicas[i];
        bool elr = isim_list_has(s->elr, s->elr_count, id);
        if (id != exclude && (elr || isim_bug(s, "unclean_election")) && isim_ctrl_usable(s, id)) {
            s->part.leader = id; /* from the ELR (KIP-966), or unclean with the bug */
            isim_ctrl_set_isr(s, &id, 1);
            isim_list_remove(s->elr, &s->elr_count, id);
            return;
        }
    }
}

static void isim_ctrl_isr_remove(struct isim *s, int32_t id)
{
    if (!isim_list_has(s->part.isr, s->part.isr_count, id))
        return;
    if (s->part.isr_count <= 1 && !isim_elr_on(s))
        return; /* the last member stays (Kafka 3.x, no ELR) */
    int32_t isr[BRK_ISR_REPLICAS_MAX];
    int32_t n = s->part.isr_count;
    memcpy(isr, s->part.isr, sizeof isr);
    isim_list_remove(isr, &n, id);
    isim_ctrl_set_isr(s, isr, n);
}

/* Fence or controlled shutdown: move leadership away, leave the ISR. */
static void isim_ctrl_remove_broker(struct isim *s, int32_t id, bool unclean, const char *why)
{
    struct brk_isr_partition before = s->part;
    int32_t elr_before = s->elr_count;
    int32_t old_leader = s->part.leader;
    isim_ctrl_isr_remove(s, id);
    if (unclean && isim_elr_on(s) && !isim_bug(s, "ignore_unclean_shutdown")) {
        /* KIP-966: a broker back from an unclean shutdown may have lost its
         * tail: out of the ISR even as its last member, and out of the ELR */
        if (isim_list_has(s->part.isr, s->part.isr_count, id))
            s->part.isr_count = 0;
        isim_list_remove(s->elr, &s->elr_count, id);
    }
    if (s->part.leader == id || s->part.leader == -1)
        isim_ctrl_elect(s, id);
    if (memcmp(&before, &s->part, sizeof before) != 0 || elr_before != s->elr_count)
        isim_ctrl_changed(s, why, old_leader);
}

static void isim_ctrl_unfenced(struct isim *s)
{
    if (s->part.leader != -1)
        return;
    int32_t old = s->part.leader;
    isim_ctrl_elect(s, -1);
    if (s->part.leader != -1)
        isim_ctrl_changed(s, "elect_after_unfence", old);
}

static void isim_ctrl_tick(struct isim *s)
{
    for (int32_t id = 1; id <= s->n; id++) {
        struct isim_broker_reg *r = &s->reg[id];
        if (r->registered && !r->fenced && s->now - r->last_hb > ISIM_SESSION_TICKS) {
            r->fenced = true;
            isim_ctrl_remove_broker(s, id, false, "fence_session_expired");
        }
    }
}

static void isim_ctrl_heartbeat(struct isim *s, const struct isim_msg *m)
{
    struct isim_broker_reg *r = &s->reg[m->from];
    if (m->broker_epoch == -1 || m->broker_epoch != r->epoch) {
        if (m->broker_epoch != -1) { /* STALE_BROKER_EPOCH: the broker registers again */
            struct isim_msg resp = isim_msg_make(0, m->from, M_HB_RESP);
            resp.broker_epoch = -1;
            resp.incarnation = m->incarnation;
            isim_post(s, &resp);
            return;
        }
        /* registration of a new incarnation: new epoch, fenced until it heartbeats again */
        r->registered = true;
        r->epoch = s->broker_epoch_next++;
        r->fenced = true;
        r->shutting_down = false;
        r->last_hb = s->now;
        isim_ctrl_remove_broker(s, m->from, m->unclean, m->unclean ? "fence_reregistered_unclean"
                                                                    : "fence_reregistered");
        /* out of the ISR and the ELR now, if this registration came from the
         * process that knows what it lost: one a dead process sent (seeds
         * 13968, 15039: a restart, its registration in flight, then a power
         * loss) says nothing about the next one's log */
        if (m->incarnation == s->nodes[m->from].incarnation)
            s->nodes[m->from].amnesiac = false;
    } else {
        r->last_hb = s->now;
        if (r->fenced && !r->shutting_down) {
            r->fenced = false;
            isim_trace(s, "ctrl unfence %d", m->from);
            isim_ctrl_unfenced(s);
        }
    }
    struct isim_msg resp = isim_msg_make(0, m->from, M_HB_RESP);
    resp.broker_epoch = r->epoch;
    resp.incarnation = m->incarnation;
    isim_post(s, &resp);
}

enum { A_OK, A_STALE_BROKER_EPOCH, A_FENCED_LEADER_EPOCH, A_INVALID_UPDATE_VERSION, A_INVALID_REQUEST,
       A_INELIGIBLE_REPLICA };

/* The AlterPartition validation the real controller must do (KIP-497/841/903). */
static int isim_ctrl_alter_check(struct isim *s, const struct isim_msg *m)
{
    const struct brk_isr_alter *a = &m->alter;
    const struct isim_broker_reg *sender = &s->reg[m->from];
    if (!sender->registered || sender->epoch != m->broker_epoch || sender->fenced)
        return A_STALE_BROKER_EPOCH;
    if (a->leader != s->part.leader || a->leader_epoch != s->part.leader_epoch)
        return A_FENCED_LEADER_EPOCH;
    if (a->partition_epoch != s->part.partition_epoch && !isim_bug(s, "no_partition_epoch_check"))
        return A_INVALID_UPDATE_VERSION;
    if (a->isr_count < 1 || !isim_list_has(a->isr, a->isr_count, a->leader))
        return A_INVALID_REQUEST;
    for (int32_t i = 0; i < a->isr_count; i++) {
        int32_t id = a->isr[i];
        if (!isim_list_has(s->part.replicas, s->part.replica_count, id))
            return A_INVALID_REQUEST;
        if (id == a->leader)
            continue;
        const struct isim_broker_reg *r = &s->reg[id];
        if (!isim_ctrl_usable(s, id) || (a->isr_broker_epochs[i] != -1 && a->isr_broker_epochs[i] != r->epoch))
            return A_INELIGIBLE_REPLICA;
    }
    return A_OK;
}

static void isim_ctrl_alter(struct isim *s, const struct isim_msg *m)
{
    int err = isim_ctrl_alter_check(s, m);
    if (err == A_OK) {
        bool same = m->alter.isr_count == s->part.isr_count;
        for (int32_t i = 0; same && i < m->alter.isr_count; i++)
            same = isim_list_has(s->part.isr, s->part.isr_count, m->alter.isr[i]);
        if (!same) {
            isim_ctrl_set_isr(s, m->alter.isr, m->alter.isr_count);
            isim_ctrl_changed(s, "alter_partition", s->part.leader);
        }
    }
    isim_trace(s, "ctrl alter from=%d err=%d", m->from, err);
    struct isim_msg resp = isim_msg_make(0, m->from, M_ALTER_RESP);
    resp.req_seq = m->req_seq;
    resp.alter_err = err;
    resp.part = s->part;
    isim_post(s, &resp);
}

/* ---- brokers: metadata ------------------------------------------------------ */

static void isim_fail_acks(struct isim_node *nd)
{
    nd->ack_count = 0; /* the producers time out and retry elsewhere */
}

static void isim_broker_views(struct isim *s, struct isim_node *nd)
{
    for (int32_t id = 1; id <= s->n; id++) {
        struct brk_isr_broker b = { .broker_epoch = s->reg[id].registered ? s->reg[id].epoch : -1,
                                    .fenced = s->reg[id].fenced || !s->reg[id].registered,
                                    .shutting_down = s->reg[id].shutting_down };
        brk_isr_broker_set(&nd->isr, id, &b);
    }
}

static void isim_truncate(struct isim *s, struct isim_node *nd, int64_t offset)
{
    ASSERT(offset >= 0 && offset <= nd->log.len);
    if (offset < nd->log.len)
        isim_trace(s, "node %d truncate %lld -> %lld", nd->id, (long long)nd->log.len, (long long)offset);
    nd->log.len = offset;
    brk_epoch_cache_truncate_from_end(&nd->cache, offset, NULL);
    if (nd->verified > offset)
        nd->verified = offset;
    if (nd->hw > offset)
        nd->hw = offset;
    if (nd->flushed > offset)
        nd->flushed = offset;
}

static void isim_leader_hw_moved(struct isim *s, struct isim_node *nd);

static void isim_become_leader(struct isim *s, struct isim_node *nd)
{
    ASSERT(brk_epoch_cache_assign(&nd->cache, s->part.leader_epoch, nd->log.len, NULL) == 0);
    struct brk_isr_config cfg = { .local_id = nd->id,
                                  .lag_time_max_ns = ISIM_LAG_TICKS * ISIM_NS_PER_TICK,
                                  .min_insync_replicas = s->min_isr,
                                  .strict_min_isr = s->strict_min_isr,
                                  .bug_hw_from_fetchers = isim_bug(s, "hw_from_fetchers"),
                                  .acks_fsync = s->fsync_mode,
                                  .bug_durable_from_leo = s->fsync_mode && isim_bug(s, "durable_from_leo") };
    int64_t hw = nd->hw <= nd->log.len ? nd->hw : nd->log.len;
    ASSERT(brk_isr_init(&nd->isr, &cfg, &s->part, nd->log.len, hw, isim_now_ns(s)) == 0);
    if (s->fsync_mode) /* the log's durable offset, as the group commit knows it */
        (void)brk_isr_leader_durable(&nd->isr, nd->flushed, nd->log.len, isim_now_ns(s));
    nd->leading = true;
    nd->hw_seen = hw;
    nd->ack_count = 0;
    nd->alter_seq++;
    isim_broker_views(s, nd);
    nd->hw_seen = -1;
    isim_leader_hw_moved(s, nd);
    isim_trace(s, "node %d leads epoch %d at leo=%lld hw=%lld", nd->id, s->part.leader_epoch,
               (long long)nd->log.len, (long long)hw);
}

/* Pull the latest committed metadata (as a broker replaying the metadata log). */
static void isim_meta_sync(struct isim *s, struct isim_node *nd)
{
    if (s->part.leader_epoch != nd->leader_epoch || s->part.leader != nd->leader) {
        if (nd->leading) {
            nd->leading = false;
            isim_fail_acks(nd);
        }
        nd->leader = s->part.leader;
        nd->leader_epoch = s->part.leader_epoch;
        nd->partition_epoch = s->part.partition_epoch;
        nd->fetch_inflight = false;
        if (nd->leader == nd->id) {
            isim_become_leader(s, nd);
        } else if (isim_bug(s, "truncate_to_hw")) {
            isim_truncate(s, nd, nd->hw); /* pre-KIP-101 */
        }
        return;
    }
    nd->partition_epoch = s->part.partition_epoch;
    if (nd->leading) {
        isim_broker_views(s, nd);
        if (brk_isr_apply(&nd->isr, &s->part, nd->log.len, isim_now_ns(s)) == BRK_ISR_NOT_LEADER) {
            nd->leading = false;
            isim_fail_acks(nd);
        } else {
            isim_leader_hw_moved(s, nd);
        }
    }
}

/* ---- brokers: the data path ---------------------------------------------------- */

static void isim_register_committed(struct isim *s, struct isim_node *nd, int64_t hw)
{
    int64_t from = nd->verified < hw ? nd->verified : hw; /* [0, verified) is known equal */
    for (int64_t o = from; o < hw; o++) {
        if (o < s->committed.len) {
            if (!isim_rec_eq(s->committed.recs[o], nd->log.recs[o])) {
                isim_violation(s, "committed_changed",
                               "leader=%d offset=%lld committed=(%d,%u) leader_has=(%d,%u) hw=%lld", nd->id,
                               (long long)o, s->committed.recs[o].epoch, s->committed.recs[o].id,
                               nd->log.recs[o].epoch, nd->log.recs[o].id, (long long)hw);
                return;
            }
        } else {
            isim_log_append(&s->committed, nd->log.recs[o]);
        }
    }
}

/* After every brk_isr call on a leader: register what its HW now covers,
 * answer the acks it allows. */
static void isim_leader_hw_moved(struct isim *s, struct isim_node *nd)
{
    int64_t hw = brk_isr_high_watermark(&nd->isr);
    if (s->fsync_mode && brk_isr_durable_high_watermark(&nd->isr) > s->durable_max)
        s->durable_max = brk_isr_durable_high_watermark(&nd->isr);
    if (hw == nd->hw_seen && nd->ack_count == 0)
        return;
    if (hw < nd->hw_seen)
        isim_violation(s, "hw_regressed", "leader=%d hw=%lld before=%lld", nd->id, (long long)hw,
                       (long long)nd->hw_seen);
    nd->hw_seen = hw;
    if (hw > nd->hw)
        nd->hw = hw;
    isim_register_committed(s, nd, hw);
    /* answer parked acks=all produces */
    int32_t k = 0;
    for (int32_t i = 0; i < nd->ack_count; i++) {
        enum brk_isr_err err;
        if (!brk_isr_acked(&nd->isr, nd->acks[i].offset + 1, &err)) {
            nd->acks[k++] = nd->acks[i];
            continue;
        }
        if (err == BRK_ISR_OK) {
            s->acked_count++;
            struct isim_ack *a = &nd->acks[i];
            if (s->fsync_mode && a->offset + 1 > s->acked_end)
                s->acked_end = a->offset + 1;
            if (a->offset >= s->committed.len || !isim_rec_eq(s->committed.recs[a->offset], a->rec))
                isim_violation(s, "acked_lost", "leader=%d offset=%lld", nd->id, (long long)a->offset);
        }
    }
    nd->ack_count = k;
}

static void isim_leader_fetch_answer(struct isim *s, struct isim_node *nd, const struct isim_msg *m,
                                     struct isim_msg *r)
{
    r->req_seq = m->req_seq;
    r->leader_epoch = m->leader_epoch;
    r->fetch_offset = m->fetch_offset;
    if (m->leader_epoch > nd->leader_epoch) {
        r->ferr = F_UNKNOWN_EPOCH;
        return;
    }
    if (m->leader_epoch < nd->leader_epoch) {
        r->ferr = F_FENCED_EPOCH;
        return;
    }
    if (!nd->leading) {
        r->ferr = F_NOT_LEADER;
        return;
    }
    int64_t leo = nd->log.len;
    if (brk_epoch_cache_diverging(&nd->cache, leo, m->fetch_offset, m->last_fetched_epoch, &r->div_epoch,
                                  &r->div_end)) {
        r->ferr = F_DIVERGING;
        return;
    }
    if (m->fetch_offset > leo) { /* only with an empty cache: start over from our end */
        r->ferr = F_DIVERGING;
        r->div_epoch = BRK_EPOCH_UNDEFINED;
        r->div_end = leo;
        return;
    }
    bool moved;
    int rc = brk_isr_fetch(&nd->isr, m->from, m->broker_epoch, m->fetch_offset, leo, isim_now_ns(s), &moved);
    if (rc != 0) {
        isim_trace(s, "leader %d refuses fetch from %d rc=%d broker_epoch=%lld", nd->id, m->from, rc,
                   (long long)m->broker_epoch);
        r->ferr = F_STALE;
        return;
    }
    (void)moved;
    if (s->fsync_mode) /* samsa_durable_offset, in the fetch brk_isr_fetch just accepted */
        (void)brk_isr_durable(&nd->isr, m->from, m->durable_offset, leo, isim_now_ns(s));
    isim_leader_hw_moved(s, nd);
    int64_t end = m->fetch_offset + s->fetch_max < leo ? m->fetch_offset + s->fetch_max : leo;
    r->rec_count = (int32_t)(end - m->fetch_offset);
    if (r->rec_count > 0) {
        r->recs = malloc((size_t)r->rec_count * sizeof *r->recs);
        ASSERT(r->recs);
        memcpy(r->recs, &nd->log.recs[m->fetch_offset], (size_t)r->rec_count * sizeof *r->recs);
    }
    r->hw = brk_isr_high_watermark(&nd->isr);
}

static void isim_leader_fetch(struct isim *s, struct isim_node *nd, const struct isim_msg *m)
{
    struct isim_msg r = isim_msg_make(nd->id, m->from, M_FETCH_RESP);
    isim_leader_fetch_answer(s, nd, m, &r);
    isim_post(s, &r);
}

static void isim_follower_fetch_resp(struct isim *s, struct isim_node *nd, const struct isim_msg *m)
{
    if (nd->leading || !nd->fetch_inflight || m->req_seq != nd->fetch_seq || m->leader_epoch != nd->leader_epoch)
        return;
    nd->fetch_inflight = false;
    if (m->ferr == F_DIVERGING) {
        struct brk_epoch_truncation t;
        brk_epoch_cache_truncation(&nd->cache, nd->log.len, nd->hw, m->div_epoch, m->div_end, &t);
        if (t.below_hw)
            isim_violation(s, "truncation_below_hw", "node=%d to=%lld hw=%lld leo=%lld diverging=(%d,%lld)",
                           nd->id, (long long)t.offset, (long long)nd->hw, (long long)nd->log.len, m->div_epoch,
                           (long long)m->div_end);
        isim_truncate(s, nd, t.offset);
        return;
    }
    if (m->ferr != F_OK || m->fetch_offset != nd->log.len)
        return;
    for (int32_t i = 0; i < m->rec_count; i++) {
        struct isim_rec rec = m->recs[i];
        if (rec.epoch > brk_epoch_cache_latest_epoch(&nd->cache))
            ASSERT(brk_epoch_cache_assign(&nd->cache, rec.epoch, nd->log.len, NULL) == 0);
        isim_log_append(&nd->log, rec);
    }
    int64_t hw = m->hw < nd->log.len ? m->hw : nd->log.len;
    if (hw > nd->hw)
        nd->hw = hw;
}

static void isim_deliver(struct isim *s, struct isim_msg *m)
{
    if (m->to == 0) {
        if (m->type == M_HB)
            isim_ctrl_heartbeat(s, m);
        else if (m->type == M_ALTER)
            isim_ctrl_alter(s, m);
        else if (m->type == M_SHUTDOWN && s->reg[m->from].epoch == m->broker_epoch && s->reg[m->from].registered) {
            s->reg[m->from].shutting_down = true;
            isim_ctrl_remove_broker(s, m->from, false, "controlled_shutdown");
        }
        return;
    }
    struct isim_node *nd = &s->nodes[m->to];
    switch (m->type) {
    case M_FETCH:
        isim_leader_fetch(s, nd, m);
        break;
    case M_FETCH_RESP:
        isim_follower_fetch_resp(s, nd, m);
        break;
    case M_ALTER_RESP:
        if (!nd->leading || !brk_isr_pending(&nd->isr))
            break;
        /* A success from any copy is a committed state (apply orders by
         * partition epoch).  A refusal is decisive only from the latest copy:
         * copies are sent at least a maximum delay apart, so every earlier
         * copy was processed before it was sent (the shell's contract). */
        if (m->alter_err != A_OK && m->req_seq != nd->alter_seq)
            break;
        if (m->alter_err == A_INELIGIBLE_REPLICA || m->alter_err == A_INVALID_REQUEST)
            brk_isr_alter_done(&nd->isr, BRK_ISR_REFUSED_NOT_APPLIED);
        else if (m->alter_err != A_OK)
            brk_isr_alter_done(&nd->isr, BRK_ISR_REFUSED_STALE); /* maybe another copy was applied */
        else if (brk_isr_apply(&nd->isr, &m->part, nd->log.len, isim_now_ns(s)) == BRK_ISR_NOT_LEADER)
            break; /* a newer leader epoch: metadata will tell */
        isim_leader_hw_moved(s, nd);
        break;
    case M_HB_RESP:
        /* an answer to a dead process's heartbeat, sent after it died (seed
         * 15095 with --fsync: it gave the next process the old broker epoch
         * and the old leadership, without the tail the power loss took) */
        if (m->incarnation != nd->incarnation)
            break;
        nd->broker_epoch = m->broker_epoch;
        if (m->broker_epoch != -1)
            nd->unclean = false; /* registered as the incarnation after the unclean stop */
        break;
    default:
        ASSERT(0);
    }
}

/* ---- one broker's tick -------------------------------------------------------- */

static void isim_node_tick(struct isim *s, struct isim_node *nd)
{
    /* one registration in flight at a time, as the lifecycle manager does:
     * re-sent only after an answer could have come (seed 8620: a
     * registration every heartbeat interval made several broker epochs, the
     * node kept an older one, and its AlterPartition was refused as stale) */
    uint64_t hb_every = nd->broker_epoch == -1 ? ISIM_FETCH_TIMEOUT_TICKS : ISIM_HB_TICKS;
    if (s->now - nd->last_hb_sent >= hb_every) {
        nd->last_hb_sent = s->now;
        struct isim_msg hb = isim_msg_make(nd->id, 0, M_HB);
        hb.broker_epoch = nd->broker_epoch;
        hb.unclean = nd->unclean;
        hb.incarnation = nd->incarnation;
        isim_post(s, &hb);
    }
    if (prng_chance(&s->prng, s->flush_ppm)) {
        nd->flushed = nd->log.len; /* log.flush.interval / the OS writing back */
        if (nd->leading && s->fsync_mode) { /* the leader's group commit completed */
            (void)brk_isr_leader_durable(&nd->isr, nd->flushed, nd->log.len, isim_now_ns(s));
            isim_leader_hw_moved(s, nd);
        }
    }
    /* a broker applies metadata once registered (Kafka: fenced until caught up) */
    if (nd->broker_epoch != -1 && s->link[0][nd->id] && s->link[nd->id][0] && prng_chance(&s->prng, s->sync_ppm))
        isim_meta_sync(s, nd);
    if (nd->leading) {
        int64_t now_ns = isim_now_ns(s);
        if (nd->ack_count < ISIM_ACKS_MAX && prng_chance(&s->prng, s->produce_ppm) &&
            brk_isr_produce_check(&nd->isr, -1) == BRK_ISR_OK) {
            struct isim_rec rec = { nd->isr.part.leader_epoch, ++s->rec_id_next };
            nd->acks[nd->ack_count++] = (struct isim_ack){ nd->log.len, rec };
            isim_log_append(&nd->log, rec);
            (void)brk_isr_leader_advance(&nd->isr, nd->log.len, now_ns);
            isim_leader_hw_moved(s, nd);
        }
        struct brk_isr_alter a;
        bool resend = brk_isr_awaiting_response(&nd->isr) && s->now - nd->alter_sent_at >= s->alter_resend_ticks;
        if (brk_isr_alter_next(&nd->isr, nd->log.len, now_ns, &a)) {
            nd->alter = a;
            resend = true;
        }
        /* AlterPartition carries the sender's broker epoch: none while it re-registers */
        if (resend && nd->broker_epoch != -1) {
            nd->alter_seq++; /* one id per copy */
            isim_trace(s, "leader %d alter isr_count=%d partition_epoch=%d hw=%lld durable_hw=%lld", nd->id,
                       nd->alter.isr_count, nd->alter.partition_epoch, (long long)brk_isr_high_watermark(&nd->isr),
                       (long long)brk_isr_durable_high_watermark(&nd->isr));
            nd->alter_sent_at = s->now;
            struct isim_msg m = isim_msg_make(nd->id, 0, M_ALTER);
            m.alter = nd->alter;
            m.req_seq = nd->alter_seq;
            m.broker_epoch = nd->broker_epoch;
            isim_post(s, &m);
        }
        return;
    }
    if (nd->leader <= 0 || nd->leader == nd->id)
        return;
    if (nd->fetch_inflight && s->now - nd->fetch_sent_at < ISIM_FETCH_TIMEOUT_TICKS)
        return;
    nd->fetch_inflight = true;
    nd->fetch_sent_at = s->now;
    nd->fetch_seq++;
    struct isim_msg m = isim_msg_make(nd->id, nd->leader, M_FETCH);
    m.req_seq = nd->fetch_seq;
    m.broker_epoch = nd->broker_epoch;
    m.leader_epoch = nd->leader_epoch;
    m.fetch_offset = nd->log.len;
    m.last_fetched_epoch = brk_epoch_cache_latest_epoch(&nd->cache);
    m.durable_offset = s->fsync_mode ? nd->flushed : -1;
    isim_post(s, &m);
}

static void isim_crash(struct isim *s, struct isim_node *nd, bool power_loss)
{
    isim_trace(s, "node %d crash%s", nd->id, power_loss ? " (power loss)" : "");
    if (power_loss) {
        nd->unclean = true;
        nd->amnesiac = true;
        nd->recovering = true;
    }
    nd->up = false;
    nd->paused = false;
    nd->leading = false;
    nd->ack_count = 0;
    nd->incarnation++;
    nd->resume_at = s->now + 10 + prng_range(&s->prng, 80);
    /* its connections die with it: no answer in flight reaches the next
     * process (the heal phase restarts it at once, within a delay; seed
     * 15258 showed a dead incarnation's heartbeat answer giving the new one
     * its old broker epoch, so it led again, unregistered, after losing its
     * tail) */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->msg_count; i++) {
        if (s->msgs[i].to == nd->id)
            free(s->msgs[i].recs);
        else
            s->msgs[keep++] = s->msgs[i];
    }
    s->msg_count = keep;
}

static void isim_restart(struct isim *s, struct isim_node *nd)
{
    isim_trace(s, "node %d restart leo=%lld hw=%lld", nd->id, (long long)nd->log.len, (long long)nd->hw);
    nd->up = true;
    if (nd->unclean && nd->flushed < nd->log.len) {
        isim_trace(s, "node %d lost its unflushed tail %lld -> %lld", nd->id, (long long)nd->log.len,
                   (long long)nd->flushed);
        isim_truncate(s, nd, nd->flushed); /* the page cache is gone; log recovery keeps the durable part */
    }
    nd->broker_epoch = -1;
    nd->leader = -1;
    nd->leader_epoch = -1;
    nd->partition_epoch = -1;
    nd->fetch_inflight = false;
    nd->last_hb_sent = 0;
}

/* ---- properties ------------------------------------------------------------- */

/* Advance nd's verified prefix up to min(its log, the committed log). */
static bool isim_verify_prefix(struct isim *s, struct isim_node *nd, const char *property)
{
    int64_t lim = nd->log.len < s->committed.len ? nd->log.len : s->committed.len;
    for (int64_t o = nd->verified; o < lim; o++) {
        if (!isim_rec_eq(nd->log.recs[o], s->committed.recs[o])) {
            if (o < nd->hw || property != NULL) {
                isim_violation(s, property ? property : "below_hw_diverges",
                               "node=%d offset=%lld has=(%d,%u) committed=(%d,%u) hw=%lld", nd->id, (long long)o,
                               nd->log.recs[o].epoch, nd->log.recs[o].id, s->committed.recs[o].epoch,
                               s->committed.recs[o].id, (long long)nd->hw);
                return false;
            }
            return true; /* an uncommitted divergent tail above its HW: allowed */
        }
        nd->verified = o + 1;
    }
    return true;
}

/* The current leader (in the controller's leader epoch) must cover the
 * controller's ISR with its maximal ISR (KIP-497), and its HW must not be
 * above the log end of any member of it. */
static void isim_check_leader(struct isim *s)
{
    if (s->part.leader <= 0)
        return;
    struct isim_node *nd = &s->nodes[s->part.leader];
    if (!nd->leading || nd->isr.part.leader_epoch != s->part.leader_epoch)
        return;
    int64_t hw = brk_isr_high_watermark(&nd->isr);
    for (int32_t i = 0; i < s->part.isr_count; i++) {
        int32_t id = s->part.isr[i];
        if (!brk_isr_in_maximal_isr(&nd->isr, id))
            isim_violation(s, "isr_not_covered",
                           "leader=%d controller_isr_has=%d leader_partition_epoch=%d controller_partition_epoch=%d",
                           nd->id, id, nd->isr.part.partition_epoch, s->part.partition_epoch);
        else if (s->nodes[id].log.len < hw && !s->nodes[id].amnesiac)
            isim_violation(s, "hw_above_isr_leo", "leader=%d hw=%lld member=%d leo=%lld", nd->id, (long long)hw, id,
                           (long long)s->nodes[id].log.len);
    }
}

static void isim_check(struct isim *s)
{
    isim_check_leader(s);
    if (s->part.leader != -1 && !isim_list_has(s->part.isr, s->part.isr_count, s->part.leader))
        isim_violation(s, "leader_not_in_isr", "leader=%d", s->part.leader);
    for (int32_t i = 0; s->part.isr_count > 1 && i < s->part.isr_count; i++)
        if (s->reg[s->part.isr[i]].fenced)
            isim_violation(s, "fenced_in_isr", "broker=%d isr_count=%d", s->part.isr[i], s->part.isr_count);
    for (int32_t id = 1; id <= s->n && !s->violated; id++) {
        struct isim_node *nd = &s->nodes[id];
        if (nd->recovering && isim_list_has(s->part.isr, s->part.isr_count, id) && !nd->amnesiac)
            nd->recovering = false;
        /* an electable replica (ISR, or ELR in KIP-966 mode) must hold every
         * committed record; one that lost power is exempt until its
         * registration took it out of both */
        bool in_isr = !nd->amnesiac && (isim_list_has(s->part.isr, s->part.isr_count, id) ||
                                        isim_list_has(s->elr, s->elr_count, id));
        if (!isim_verify_prefix(s, nd, in_isr ? "committed_missing" : NULL))
            return;
        if (nd->hw > nd->verified)
            isim_violation(s, "below_hw_diverges", "node=%d hw=%lld matches_only=%lld committed=%lld", id,
                           (long long)nd->hw, (long long)nd->verified, (long long)s->committed.len);
        else if (in_isr && nd->verified < s->committed.len)
            isim_violation(s, "committed_missing", "node=%d in_isr leo=%lld committed=%lld leader=%d", id,
                           (long long)nd->log.len, (long long)s->committed.len, s->part.leader);
        /* fsync mode without KIP-966, at every tick (not only at a power
         * loss): every member of the controller's ISR has fdatasync'd every
         * acknowledged record, so a power loss of any set of replicas at any
         * moment keeps them on whichever one stays last and is elected.  In
         * KIP-966 mode a replica can hold acknowledged records it has not
         * synced and still be elected: an ELR member that left the ISR
         * before a pending expansion let the leader acknowledge more (seeds
         * 2134 and 23100 with the check on there).  It holds them in its
         * log, and a replica that lost power leaves the ISR and the ELR at
         * its unclean registration, before any election could pick it */
        else if (s->fsync_mode && !s->elr_mode && nd->flushed < s->acked_end &&
                 isim_list_has(s->part.isr, s->part.isr_count, id))
            isim_violation(s, "acked_not_durable", "isr member %d has fdatasync'd %lld records, acked_end=%lld leo=%lld "
                           "leader=%d", id, (long long)nd->flushed, (long long)s->acked_end, (long long)nd->log.len,
                           s->part.leader);
    }
}

/* ---- faults ----------------------------------------------------------------- */

static void isim_links_all(struct isim *s, bool up)
{
    for (int32_t a = 0; a <= s->n; a++)
        for (int32_t b = 0; b <= s->n; b++)
            s->link[a][b] = up;
}

/* fsync mode: the whole cluster loses power at once.  Every replica keeps
 * only what an fdatasync made durable, and every member of the controller's
 * ISR must still hold each acknowledged record (acked_not_durable): whichever
 * of them the controller keeps and elects, nothing acknowledged is lost.
 * What survives for sure is what the largest durable HW covered: the
 * committed log and every HW checkpoint are cut to it (above it, records the
 * page-cache HW let consumers read may be lost; the claim is about acks). */
static void isim_blackout(struct isim *s)
{
    int64_t keep = s->durable_max < s->committed.len ? s->durable_max : s->committed.len;
    s->blackouts++;
    isim_trace(s, "whole-cluster power loss #%u durable_max=%lld acked_end=%lld committed=%lld", s->blackouts,
               (long long)s->durable_max, (long long)s->acked_end, (long long)s->committed.len);
    if (s->acked_end > keep)
        isim_violation(s, "acked_not_durable", "acked_end=%lld above every durable HW (%lld)",
                       (long long)s->acked_end, (long long)keep);
    for (int32_t id = 1; id <= s->n; id++) {
        struct isim_node *nd = &s->nodes[id];
        isim_crash(s, nd, true);
        if (nd->flushed < nd->log.len)
            isim_trace(s, "node %d lost its unflushed tail %lld -> %lld", id, (long long)nd->log.len,
                       (long long)nd->flushed);
        isim_truncate(s, nd, nd->flushed);
    }
    for (int32_t i = 0; i < s->part.isr_count && !s->violated; i++) {
        const struct isim_node *nd = &s->nodes[s->part.isr[i]];
        for (int64_t o = 0; o < s->acked_end; o++) {
            if (o >= nd->log.len || !isim_rec_eq(nd->log.recs[o], s->committed.recs[o])) {
                isim_violation(s, "acked_not_durable",
                               "isr member %d kept %lld records after a whole-cluster power loss, first missing "
                               "acknowledged offset %lld (acked_end=%lld)",
                               nd->id, (long long)nd->log.len, (long long)o, (long long)s->acked_end);
                break;
            }
        }
    }
    s->committed.len = keep;
    for (int32_t id = 1; id <= s->n; id++) {
        struct isim_node *nd = &s->nodes[id];
        if (nd->verified > keep)
            nd->verified = keep;
        if (nd->hw > keep)
            nd->hw = keep;
    }
}

static void isim_faults(struct isim *s)
{
    if (s->fsync_mode && prng_chance(&s->fprng, s->blackout_ppm))
        isim_blackout(s);
    int32_t id = 1 + (int32_t)prng_range(&s->prng, (uint64_t)s->n);
    struct isim_node *nd = &s->nodes[id];
    if (prng_chance(&s->prng, s->crash_ppm) && nd->up) {
        /* power loss on at most min ISR - 1 = 1 replica at a time: one that
         * lost power counts until it is back in the ISR */
        bool any_recovering = false;
        for (int32_t k = 1; k <= s->n; k++)
            any_recovering |= s->nodes[k].recovering;
        isim_crash(s, nd, !any_recovering && prng_chance(&s->prng, s->power_ppm));
    }
    if (prng_chance(&s->prng, s->pause_ppm) && nd->up && !nd->paused) {
        nd->paused = true;
        nd->resume_at = s->now + 10 + prng_range(&s->prng, 120); /* often longer than the lag time */
        isim_trace(s, "node %d pause until %llu", id, (unsigned long long)nd->resume_at);
    }
    if (prng_chance(&s->prng, s->cut_ppm)) {
        int kind = (int)prng_range(&s->prng, 3);
        if (kind == 0) { /* isolate a node from everyone */
            for (int32_t b = 0; b <= s->n; b++)
                s->link[id][b] = s->link[b][id] = false;
        } else if (kind == 1) { /* one-way cut */
            int32_t b = (int32_t)prng_range(&s->prng, (uint64_t)s->n + 1);
            s->link[id][b] = false;
        } else { /* from the controller only: fenced while it still serves data */
            s->link[id][0] = s->link[0][id] = false;
        }
        isim_trace(s, "cut kind=%d node=%d", kind, id);
    }
    if (prng_chance(&s->prng, s->heal_ppm))
        isim_links_all(s, true);
    if (prng_chance(&s->prng, s->shutdown_ppm) && nd->up && !nd->paused && nd->broker_epoch != -1) {
        /* controlled shutdown: ask the controller to move leadership, then stop */
        struct isim_msg m = isim_msg_make(id, 0, M_SHUTDOWN);
        m.broker_epoch = nd->broker_epoch;
        isim_post(s, &m);
        isim_trace(s, "node %d controlled shutdown", id);
    }
}

/* Pauses ending and controlled shutdowns completing, in every phase. */
static void isim_lifecycle(struct isim *s)
{
    for (int32_t k = 1; k <= s->n; k++) {
        struct isim_node *x = &s->nodes[k];
        if (x->up && x->paused && (s->now >= x->resume_at || s->calm))
            x->paused = false;
        /* a node in controlled shutdown stops once it no longer leads, like SIGTERM's wait */
        if (x->up && s->reg[k].shutting_down && x->broker_epoch == s->reg[k].epoch && !x->leading &&
            s->part.leader != k)
            isim_crash(s, x, false);
    }
}

/* ---- the run ------------------------------------------------------------------ */

static int isim_msg_cmp(const void *a, const void *b)
{
    const struct isim_msg *x = a, *y = b;
    if (x->deliver_at != y->deliver_at)
        return x->deliver_at < y->deliver_at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void isim_network_step(struct isim *s)
{
    if (s->msg_count > 1)
        qsort(s->msgs, s->msg_count, sizeof *s->msgs, isim_msg_cmp);
    uint32_t due = 0;
    while (due < s->msg_count && s->msgs[due].deliver_at <= s->now)
        due++;
    /* take the due messages out first: delivering them sends new ones */
    struct isim_msg *batch = malloc((due ? due : 1) * sizeof *batch);
    ASSERT(batch);
    uint32_t keep = 0, take = 0;
    for (uint32_t i = 0; i < s->msg_count; i++) {
        struct isim_msg *m = &s->msgs[i];
        bool dest_paused = m->to != 0 && s->nodes[m->to].up && s->nodes[m->to].paused;
        if (i < due && !dest_paused)
            batch[take++] = *m;
        else
            s->msgs[keep++] = *m;
    }
    s->msg_count = keep;
    for (uint32_t i = 0; i < take && !s->violated; i++) {
        struct isim_msg *m = &batch[i];
        bool to_ok = m->to == 0 || s->nodes[m->to].up;
        if (to_ok && s->link[m->from][m->to])
            isim_deliver(s, m);
    }
    for (uint32_t i = 0; i < take; i++)
        free(batch[i].recs);
    free(batch);
}

static void isim_step(struct isim *s)
{
    s->now++;
    if (!s->calm)
        isim_faults(s);
    isim_lifecycle(s);
    for (int32_t id = 1; id <= s->n; id++) {
        struct isim_node *nd = &s->nodes[id];
        if (!nd->up && (s->now >= nd->resume_at || s->calm))
            isim_restart(s, nd);
    }
    isim_network_step(s);
    if (!s->violated)
        isim_ctrl_tick(s);
    for (int32_t id = 1; id <= s->n && !s->violated; id++)
        if (isim_alive(&s->nodes[id]))
            isim_node_tick(s, &s->nodes[id]);
    if (!s->violated)
        isim_check(s);
}

static void isim_setup(struct isim *s)
{
    s->n = 3 + (int32_t)prng_range(&s->prng, 3);
    s->min_isr = 1 + (int32_t)prng_range(&s->prng, 2);
    s->strict_min_isr = prng_range(&s->prng, 2) == 1;
    s->elr_mode = s->strict_min_isr && s->min_isr == 2; /* KIP-966 needs strict min ISR */
    s->flush_ppm = 20000 + (uint32_t)prng_range(&s->prng, 200000);
    s->power_ppm = s->elr_mode ? 300000 : 0;
    /* fsync mode on a third of the seeds, drawn from a prng of its own: the
     * other seeds run as before.  Whole-cluster power losses only outside
     * KIP-966 mode (there one takes every replica out of the ISR and the
     * ELR, and the model has no last-known-leader election); in KIP-966 mode
     * the single-replica power losses it already has test the rule */
    prng_init(&s->fprng, s->seed * 0xbf58476d1ce4e5b9ULL + 29);
    s->fsync_mode = (isim_fsync_seeds || isim_bug(s, "durable_from_leo")) && prng_range(&s->fprng, 3) == 0;
    uint32_t blackout_ppm = 800 + (uint32_t)prng_range(&s->fprng, 1600); /* 2-6 per chaos phase */
    s->blackout_ppm = s->elr_mode ? 0 : blackout_ppm;
    s->fetch_max = 8 + (int32_t)prng_range(&s->prng, 57);
    s->alter_resend_ticks = 6 + (uint32_t)prng_range(&s->prng, 15); /* > the longest delay (5) */
    s->drop_ppm = (uint32_t)prng_range(&s->prng, 100000);
    s->crash_ppm = 2000 + (uint32_t)prng_range(&s->prng, 8000);
    s->pause_ppm = 2000 + (uint32_t)prng_range(&s->prng, 10000);
    s->cut_ppm = 2000 + (uint32_t)prng_range(&s->prng, 10000);
    s->heal_ppm = 10000 + (uint32_t)prng_range(&s->prng, 30000);
    s->shutdown_ppm = (uint32_t)prng_range(&s->prng, 3000);
    s->produce_ppm = 100000 + (uint32_t)prng_range(&s->prng, 400000);
    s->sync_ppm = 200000 + (uint32_t)prng_range(&s->prng, 600000);
    s->broker_epoch_next = 100;
    isim_links_all(s, true);
    /* the topic was created with every replica in the ISR, the first one leading */
    s->part.leader = 1;
    s->part.leader_epoch = 0;
    s->part.partition_epoch = 0;
    s->part.replica_count = s->n;
    s->part.isr_count = s->n;
    for (int32_t i = 0; i < s->n; i++)
        s->part.replicas[i] = s->part.isr[i] = i + 1;
    for (int32_t id = 1; id <= s->n; id++) {
        struct isim_node *nd = &s->nodes[id];
        nd->id = id;
        brk_epoch_cache_init(&nd->cache);
        isim_restart(s, nd);
        s->reg[id] = (struct isim_broker_reg){ .epoch = s->broker_epoch_next++, .registered = true };
        nd->broker_epoch = s->reg[id].epoch;
    }
}

static void isim_free(struct isim *s)
{
    for (int32_t id = 1; id <= s->n; id++) {
        free(s->nodes[id].log.recs);
        brk_epoch_cache_deinit(&s->nodes[id].cache);
    }
    for (uint32_t i = 0; i < s->msg_count; i++)
        free(s->msgs[i].recs);
    free(s->msgs);
    free(s->committed.recs);
}

const char *isim_bug_names(void)
{
    return "hw_from_fetchers truncate_to_hw no_partition_epoch_check unclean_election ignore_unclean_shutdown no_elr "
           "durable_from_leo";
}

bool isim_bug_known(const char *name)
{
    return sim_name_listed(isim_bug_names(), name);
}

int isim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out)
{
    struct isim *s = calloc(1, sizeof *s);
    ASSERT(s);
    s->seed = seed;
    s->out = out;
    s->verbose = verbose;
    s->bug = (bug && strcmp(bug, "none") != 0) ? bug : NULL;
    prng_init(&s->prng, seed * 0x9e3779b97f4a7c15ULL + 17);
    isim_setup(s);
    while (s->now < ISIM_CHAOS_TICKS && !s->violated)
        isim_step(s);
    /* heal: everything up and connected, no loss */
    s->calm = true;
    isim_links_all(s, true);
    s->acked_at_heal = s->acked_count;
    uint64_t heal_end = s->now + ISIM_HEAL_TICKS;
    while (s->now < heal_end && !s->violated)
        isim_step(s);
    if (!s->violated) {
        if (s->part.leader == -1 || s->part.isr_count != s->n)
            isim_violation(s, "liveness", "after heal leader=%d isr_count=%d replicas=%d", s->part.leader,
                           s->part.isr_count, s->n);
        else if (s->acked_count == s->acked_at_heal)
            isim_violation(s, "liveness", "no acks=all produce acknowledged after heal (acked=%llu)",
                           (unsigned long long)s->acked_count);
    }
    isim_trace(s, "end committed=%lld acked=%llu leader=%d epoch=%d fsync=%d blackouts=%u",
               (long long)s->committed.len, (unsigned long long)s->acked_count, s->part.leader,
               s->part.leader_epoch, s->fsync_mode, s->blackouts);
    int v = s->violated ? 1 : 0;
    isim_free(s);
    free(s);
    return v;
}
