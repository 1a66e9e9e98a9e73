/*
 * sim.c - the deterministic Raft simulator (see sim.h, test/sim/README.md).
 *
 * One seed fixes everything: the cluster shape, the fault rates, every fault,
 * every delay and each node's election jitter.  Time is a tick counter; the
 * network is a list of in-flight deep-copied messages with a delivery tick;
 * each disk is an in-memory log that is only ever changed by processing a
 * ready (a crash in the middle of one keeps a random prefix of the writes,
 * like losing an unsynced tail) or by taking a snapshot.  The REAL raft/
 * code runs unmodified; the only test hooks are the cfg.bug_* switches.
 *
 * Properties checked after every step (delivery or tick of one node):
 *   P1 at most one leader per epoch
 *   P2 log matching: same (index, epoch) on any two disks => same prefix
 *      (every entry carries a chain hash of its whole prefix)
 *   P3 leader completeness: a new leader's log holds every committed entry
 *   P4 committed entries never lost or changed (global record of committed
 *      (index, chain)); applied state and installed snapshots must match it
 *   P5 high watermark monotonic per process, epoch monotonic per node
 *      (except a wiped node: a new incarnation)
 *   P6 a fully isolated leader resigns within its check-quorum window
 *   P7 after healing, a leader is elected and commits again within a bound
 *   P8 no disruption: isolating then healing one follower of a healthy
 *      leader on a calm network never bumps the epoch or unseats the leader
 *
 * Test code: it allocates freely and exits the seed at the first violation.
 */
#include "test/sim/sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/prng.h"
#include "raft/raft.h"

#define SIM_NODES_MAX 7
#define SIM_ELECTION_TICKS 10
#define SIM_CHAOS_TICKS 2500
#define SIM_LIVENESS_TICKS 400
#define SIM_DISRUPT_ISOLATE_TICKS 80
#define SIM_DISRUPT_AFTER_TICKS 80
#define SIM_ISOLATED_LEADER_TICKS (2 * SIM_ELECTION_TICKS + 8) /* + in-flight delay */
/* P8's "healthy leader": every voter followed it this long (two check-quorum
 * windows + a round trip at the calm delay of 2); give up waiting after */
#define SIM_HEALTHY_TICKS (2 * SIM_ELECTION_TICKS + 4)
#define SIM_HEALTHY_WAIT_TICKS 400

struct sim_entry {
    uint64_t index;
    uint64_t epoch;
    uint32_t type;
    uint8_t *data;
    uint32_t len;
    uint64_t chain; /* hash of the whole prefix up to this entry */
};

struct sim_disk {
    struct raft_hard_state hs;
    struct raft_snapshot_id snap;
    uint64_t snap_chain;
    bool lost_marker; /* wiped, and catching_up not yet in a durable hard state */
    struct sim_entry *ents; /* indices snap.index+1 .. */
    uint32_t count;
    uint32_t cap;
};

struct sim_node {
    uint32_t id;
    bool voter;
    bool up;
    uint64_t restart_at;
    bool wiped;              /* this incarnation started on a wiped disk */
    struct raft *r;
    struct sim_disk disk;
    uint64_t hw_seen;        /* P5, per process */
    uint64_t epoch_seen;     /* P5, per disk incarnation */
    enum raft_role role_seen;
    uint64_t applied;
    uint64_t applied_chain;
    uint64_t isolated_since; /* fully isolated while up, or UINT64_MAX */
};

struct sim_packet {
    uint64_t deliver_at;
    uint64_t seq;
    struct raft_msg msg;
    struct raft_entry *ents;
    uint8_t *blob;
};

struct sim_kv {
    uint64_t index, epoch, chain;
    bool used;
};

struct sim {
    uint64_t seed;
    struct prng prng;
    bool verbose;
    FILE *out;
    bool violated;
    uint64_t now;
    const char *bug;

    uint32_t node_count, voter_count;
    struct sim_node nodes[SIM_NODES_MAX];
    uint32_t voter_ids[RAFT_VOTERS_MAX];
    bool link[SIM_NODES_MAX][SIM_NODES_MAX]; /* link[a][b]: a can send to b */

    /* fault rates (per million) */
    uint32_t drop_ppm, dup_ppm, delay_max, crash_ppm, partition_ppm, heal_ppm, propose_ppm,
        snapshot_ppm;
    uint32_t entries_per_msg_max;
    bool wipe_done;
    bool calm;

    struct sim_packet *pkts;
    uint32_t pkt_count, pkt_cap;
    uint64_t pkt_seq;

    /* P1 */
    uint32_t *leader_of_epoch;
    uint64_t leader_of_epoch_cap;
    /* P2 */
    struct sim_kv *kv;
    uint64_t kv_cap, kv_used;
    /* P4 */
    uint64_t *committed_chain; /* [index] -> chain, 0 = unknown */
    uint64_t committed_cap, committed_max;
    uint64_t proposals;
};

/* ---- small helpers ------------------------------------------------------- */

void sim_violation_vprint(FILE *out, uint64_t seed, const char *bug, uint64_t tick, const char *property,
                          const char *fmt, va_list ap)
{
    char detail[256];
    vsnprintf(detail, sizeof detail, fmt, ap);
    fprintf(out, "VIOLATION seed=%llu bug=%s tick=%llu property=%s %s\n", (unsigned long long)seed,
            bug ? bug : "none", (unsigned long long)tick, property, detail);
}

void sim_trace_vprint(FILE *out, uint64_t tick, const char *fmt, va_list ap)
{
    fprintf(out, "t=%llu ", (unsigned long long)tick);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
}

static uint64_t sim_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t sim_chain(uint64_t prev, uint64_t index, uint64_t epoch, uint32_t type,
                          const uint8_t *p, uint32_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return sim_mix(prev ^ sim_mix(index * 0x9e3779b97f4a7c15ULL + epoch * 31 + type) ^ h) | 1;
}

static void sim_violation(struct sim *s, const char *property, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sim_violation(struct sim *s, const char *property, const char *fmt, ...)
{
    if (s->violated)
        return;
    s->violated = true;
    va_list ap;
    va_start(ap, fmt);
    sim_violation_vprint(s->out, s->seed, s->bug, s->now, property, fmt, ap);
    va_end(ap);
}

static void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_trace(struct sim *s, const char *fmt, ...)
{
    if (!s->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    sim_trace_vprint(s->out, s->now, fmt, ap);
    va_end(ap);
}

static void sim_raft_log_cb(void *ctx, const char *line)
{
    struct sim *s = ctx;
    sim_trace(s, "raft %s", line);
}

/* ---- disk (the raft_storage vtable) -------------------------------------- */

static uint64_t sim_disk_last_index(void *ctx)
{
    struct sim_disk *d = ctx;
    return d->snap.index + d->count;
}

static int sim_disk_entries(void *ctx, uint64_t lo, uint64_t hi, struct raft_entry *out,
                            uint32_t count_max, uint32_t *count)
{
    struct sim_disk *d = ctx;
    *count = 0;
    if (lo <= d->snap.index || lo > d->snap.index + d->count)
        return ERR_NOT_FOUND;
    uint32_t n = 0;
    for (uint64_t i = lo; i <= hi && i <= d->snap.index + d->count && n < count_max; i++) {
        const struct sim_entry *e = &d->ents[i - d->snap.index - 1];
        out[n].index = e->index;
        out[n].epoch = e->epoch;
        out[n].type = e->type;
        out[n].data = bytes_make(e->data, e->len);
        n++;
    }
    *count = n;
    return 0;
}

static void sim_disk_snapshot(void *ctx, struct raft_snapshot_id *out)
{
    struct sim_disk *d = ctx;
    *out = d->snap;
}

static void sim_disk_hard_state(void *ctx, struct raft_hard_state *out)
{
    struct sim_disk *d = ctx;
    *out = d->hs;
}

static uint64_t sim_disk_chain_at(const struct sim_disk *d, uint64_t index)
{
    if (index == 0)
        return 0;
    if (index == d->snap.index)
        return d->snap_chain;
    if (index < d->snap.index || index > d->snap.index + d->count)
        return 0;
    return d->ents[index - d->snap.index - 1].chain;
}

static void sim_disk_truncate(struct sim_disk *d, uint64_t after)
{
    while (d->count > 0 && d->snap.index + d->count > after) {
        d->count--;
        free(d->ents[d->count].data);
    }
}

static void sim_disk_clear(struct sim_disk *d)
{
    sim_disk_truncate(d, 0);
    free(d->ents);
    memset(d, 0, sizeof *d);
    d->hs.voted_for = RAFT_ID_NONE;
}

/* P2 - log matching via a global (index, epoch) -> chain map */
static void sim_kv_check(struct sim *s, uint32_t node, uint64_t index, uint64_t epoch,
                         uint64_t chain)
{
    if ((s->kv_used + 1) * 2 > s->kv_cap) {
        uint64_t ncap = s->kv_cap ? s->kv_cap * 2 : 4096;
        struct sim_kv *nkv = calloc(ncap, sizeof *nkv);
        ASSERT(nkv);
        for (uint64_t i = 0; i < s->kv_cap; i++) {
            if (!s->kv[i].used)
                continue;
            uint64_t h = sim_mix(s->kv[i].index * 131 + s->kv[i].epoch) & (ncap - 1);
            while (nkv[h].used)
                h = (h + 1) & (ncap - 1);
            nkv[h] = s->kv[i];
        }
        free(s->kv);
        s->kv = nkv;
        s->kv_cap = ncap;
    }
    uint64_t h = sim_mix(index * 131 + epoch) & (s->kv_cap - 1);
    while (s->kv[h].used) {
        if (s->kv[h].index == index && s->kv[h].epoch == epoch) {
            if (s->kv[h].chain != chain)
                sim_violation(s, "log_matching",
                              "node=%u index=%llu epoch=%llu has a different prefix", node,
                              (unsigned long long)index, (unsigned long long)epoch);
            return;
        }
        h = (h + 1) & (s->kv_cap - 1);
    }
    s->kv[h].used = true;
    s->kv[h].index = index;
    s->kv[h].epoch = epoch;
    s->kv[h].chain = chain;
    s->kv_used++;
}

static void sim_disk_append(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
    struct sim_disk *d = &n->disk;
    ASSERT(e->index == d->snap.index + d->count + 1);
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = realloc(d->ents, d->cap * sizeof *d->ents);
        ASSERT(d->ents);
    }
    struct sim_entry *se = &d->ents[d->count];
    se->index = e->index;
    se->epoch = e->epoch;
    se->type = e->type;
    se->len = (uint32_t)e->data.len;
    se->data = malloc(se->len ? se->len : 1);
    ASSERT(se->data);
    if (se->len)
        memcpy(se->data, e->data.ptr, se->len);
    se->chain = sim_chain(sim_disk_chain_at(d, e->index - 1), e->index, e->epoch, e->type, se->data,
                          se->len);
    d->count++;
    sim_kv_check(s, n->id, se->index, se->epoch, se->chain);
}

/* ---- committed record (P4) ----------------------------------------------- */

static void sim_committed_check(struct sim *s, uint32_t node, uint64_t index, uint64_t chain,
                                const char *how)
{
    if (index == 0)
        return;
    if (index >= s->committed_cap) {
        uint64_t ncap = s->committed_cap ? s->committed_cap : 1024;
        while (ncap <= index)
            ncap *= 2;
        s->committed_chain = realloc(s->committed_chain, ncap * sizeof(uint64_t));
        ASSERT(s->committed_chain);
        memset(s->committed_chain + s->committed_cap, 0,
               (ncap - s->committed_cap) * sizeof(uint64_t));
        s->committed_cap = ncap;
    }
    if (s->committed_chain[index] == 0) {
        s->committed_chain[index] = chain;
        if (index > s->committed_max)
            s->committed_max = index;
    } else if (s->committed_chain[index] != chain) {
        sim_violation(s, "committed_entry_changed", "node=%u index=%llu via=%s", node,
                      (unsigned long long)index, how);
    }
}

/* ---- nodes --------------------------------------------------------------- */

static void sim_node_start(struct sim *s, struct sim_node *n, bool disk_lost)
{
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    cfg.id = n->id;
    memcpy(cfg.voters, s->voter_ids, sizeof cfg.voters);
    cfg.voter_count = s->voter_count;
    cfg.election_ticks = SIM_ELECTION_TICKS;
    cfg.heartbeat_ticks = 2;
    cfg.fetch_ticks = 2;
    cfg.fetch_idle_ticks_max = 3; /* idle voters back off and are woken, as the controller's do */
    cfg.disk_lost = disk_lost;
    cfg.prng_seed = prng_next(&s->prng);
    cfg.entries_per_msg_max = s->entries_per_msg_max;
    cfg.unstable_entries_max = 256;
    cfg.unstable_bytes_max = 64 * 1024;
    cfg.entry_bytes_max = 256;
    cfg.msgs_max = 32;
    cfg.committed_per_ready_max = 64;
    cfg.snapshot_bytes_max = 16;
    cfg.storage = (struct raft_storage){ &n->disk, sim_disk_last_index, sim_disk_entries,
                                         sim_disk_snapshot, sim_disk_hard_state };
    cfg.log_cb = s->verbose ? sim_raft_log_cb : NULL;
    cfg.log_ctx = s;
    if (s->bug) {
        cfg.bug_vote_without_log_check = strcmp(s->bug, "vote_without_log_check") == 0;
        cfg.bug_hw_from_old_epoch = strcmp(s->bug, "hw_from_old_epoch") == 0;
        cfg.bug_no_check_quorum = strcmp(s->bug, "no_check_quorum") == 0;
        cfg.bug_no_pre_vote = strcmp(s->bug, "no_pre_vote") == 0;
    }
    int rc = raft_create(&cfg, &n->r);
    ASSERT(rc == 0);
    n->up = true;
    n->hw_seen = raft_high_watermark_get(n->r);
    n->role_seen = RAFT_FOLLOWER;
    n->applied = n->disk.snap.index;
    n->applied_chain = n->disk.snap_chain;
    n->isolated_since = UINT64_MAX;
}

static void sim_node_crash(struct sim *s, struct sim_node *n, uint64_t down_ticks)
{
    sim_trace(s, "crash node=%u for=%llu", n->id, (unsigned long long)down_ticks);
    raft_destroy(n->r);
    n->r = NULL;
    n->up = false;
    n->restart_at = s->now + down_ticks;
}

/* ---- network --------------------------------------------------------------- */

static void sim_pkt_push(struct sim *s, const struct raft_msg *m, uint64_t delay)
{
    if (s->pkt_count == s->pkt_cap) {
        s->pkt_cap = s->pkt_cap ? s->pkt_cap * 2 : 256;
        s->pkts = realloc(s->pkts, s->pkt_cap * sizeof *s->pkts);
        ASSERT(s->pkts);
    }
    struct sim_packet *p = &s->pkts[s->pkt_count++];
    p->deliver_at = s->now + delay;
    p->seq = s->pkt_seq++;
    p->msg = *m;
    size_t bytes = m->snapshot_data.len;
    for (uint32_t i = 0; i < m->entry_count; i++)
        bytes += m->entries[i].data.len;
    p->ents = m->entry_count ? malloc(m->entry_count * sizeof *p->ents) : NULL;
    p->blob = malloc(bytes ? bytes : 1);
    ASSERT(p->blob && (p->ents || !m->entry_count));
    size_t off = 0;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        p->ents[i] = m->entries[i];
        if (m->entries[i].data.len)
            memcpy(p->blob + off, m->entries[i].data.ptr, m->entries[i].data.len);
        p->ents[i].data = bytes_make(p->blob + off, m->entries[i].data.len);
        off += m->entries[i].data.len;
    }
    p->msg.entries = p->ents;
    if (m->snapshot_data.len) {
        memcpy(p->blob + off, m->snapshot_data.ptr, m->snapshot_data.len);
        p->msg.snapshot_data = bytes_make(p->blob + off, m->snapshot_data.len);
    }
}

static void sim_send(struct sim *s, struct sim_node *from, const struct raft_msg *m)
{
    ASSERT(m->from == from->id);
    uint32_t a = m->from - 1, b = m->to - 1;
    ASSERT(b < s->node_count);
    if (!s->link[a][b] || prng_chance(&s->prng, s->drop_ppm))
        return;
    struct raft_msg copy = *m;
    uint64_t snap_chain_le = 0;
    if (m->type == RAFT_MSG_FETCH_SNAPSHOT_RESP) {
        /* the driver attaches the snapshot bytes: here the state hash */
        if (from->disk.snap.index != m->snapshot_id.index)
            return;
        snap_chain_le = from->disk.snap_chain;
        copy.snapshot_data = bytes_make(&snap_chain_le, sizeof snap_chain_le);
    }
    int copies = prng_chance(&s->prng, s->dup_ppm) ? 2 : 1;
    for (int i = 0; i < copies; i++)
        sim_pkt_push(s, &copy, 1 + prng_range(&s->prng, s->delay_max));
}

/* ---- processing a ready -------------------------------------------------- */

static void sim_check_node(struct sim *s, struct sim_node *n);

static void sim_node_ready(struct sim *s, struct sim_node *n)
{
    for (int guard = 0; guard < 64 && n->up && raft_has_ready(n->r); guard++) {
        struct raft_ready rd;
        raft_ready(n->r, &rd);
        bool crash = prng_chance(&s->prng, s->crash_ppm / 4);
        /* 1-3: persist (a crash keeps a random prefix of the writes) */
        if (rd.snapshot_install) {
            if (crash) {
                sim_node_crash(s, n, 1 + prng_range(&s->prng, 30));
                return;
            }
            ASSERT(rd.snapshot_data.len == sizeof(uint64_t));
            uint64_t chain;
            memcpy(&chain, rd.snapshot_data.ptr, sizeof chain);
            sim_disk_truncate(&n->disk, 0);
            n->disk.count = 0;
            n->disk.snap = rd.snapshot;
            n->disk.snap_chain = chain;
            sim_committed_check(s, n->id, rd.snapshot.index, chain, "snapshot_install");
            n->applied = rd.snapshot.index;
            n->applied_chain = chain;
            sim_trace(s, "node=%u install_snapshot index=%llu", n->id,
                      (unsigned long long)rd.snapshot.index);
        }
        if (rd.truncate)
            sim_disk_truncate(&n->disk, rd.truncate_after);
        uint32_t write = rd.entry_count;
        if (crash)
            write = (uint32_t)prng_range(&s->prng, (uint64_t)rd.entry_count + 1);
        for (uint32_t i = 0; i < write; i++)
            sim_disk_append(s, n, &rd.entries[i]);
        if (rd.hard_state_changed && (!crash || prng_chance(&s->prng, 500000))) {
            n->disk.hs = rd.hard_state;
            if (rd.hard_state.catching_up)
                n->disk.lost_marker = false; /* the hard state carries it from now on */
        }
        if (crash) {
            sim_node_crash(s, n, 1 + prng_range(&s->prng, 30));
            return;
        }
        /* 4: fsync happened; 5: send */
        for (uint32_t i = 0; i < rd.msg_count; i++)
            sim_send(s, n, &rd.msgs[i]);
        /* 6: apply */
        for (uint32_t i = 0; i < rd.committed_count; i++) {
            const struct raft_entry *e = &rd.committed[i];
            ASSERT(e->index == n->applied + 1);
            uint64_t chain = sim_disk_chain_at(&n->disk, e->index);
            if (chain == 0) {
                sim_violation(s, "applied_not_durable", "node=%u index=%llu", n->id,
                              (unsigned long long)e->index);
                return;
            }
            sim_committed_check(s, n->id, e->index, chain, "apply");
            n->applied = e->index;
            n->applied_chain = chain;
        }
        raft_advance(n->r, &rd);
        sim_check_node(s, n);
    }
}

/* ---- per-step property checks -------------------------------------------- */

static void sim_check_node(struct sim *s, struct sim_node *n)
{
    if (!n->up)
        return;
    struct raft *r = n->r;
    uint64_t epoch = raft_epoch_get(r);
    enum raft_role role = raft_role_get(r);
    /* P5 */
    if (epoch < n->epoch_seen)
        sim_violation(s, "epoch_monotonic", "node=%u epoch=%llu < %llu", n->id,
                      (unsigned long long)epoch, (unsigned long long)n->epoch_seen);
    n->epoch_seen = epoch;
    uint64_t hw = raft_high_watermark_get(r);
    if (hw < n->hw_seen)
        sim_violation(s, "hw_monotonic", "node=%u hw=%llu < %llu", n->id, (unsigned long long)hw,
                      (unsigned long long)n->hw_seen);
    n->hw_seen = hw;
    if (role == RAFT_LEADER) {
        /* P1 */
        if (epoch >= s->leader_of_epoch_cap) {
            uint64_t ncap = s->leader_of_epoch_cap ? s->leader_of_epoch_cap : 64;
            while (ncap <= epoch)
                ncap *= 2;
            s->leader_of_epoch = realloc(s->leader_of_epoch, ncap * sizeof(uint32_t));
            ASSERT(s->leader_of_epoch);
            memset(s->leader_of_epoch + s->leader_of_epoch_cap, 0,
                   (ncap - s->leader_of_epoch_cap) * sizeof(uint32_t));
            s->leader_of_epoch_cap = ncap;
        }
        if (s->leader_of_epoch[epoch] != 0 && s->leader_of_epoch[epoch] != n->id)
            sim_violation(s, "one_leader_per_epoch", "epoch=%llu leaders=%u,%u",
                          (unsigned long long)epoch, s->leader_of_epoch[epoch], n->id);
        s->leader_of_epoch[epoch] = n->id;
        if (n->role_seen != RAFT_LEADER) {
            sim_trace(s, "node=%u leader epoch=%llu", n->id, (unsigned long long)epoch);
            /* P3: the committed prefix must be in the new leader's durable log */
            uint64_t c = s->committed_max;
            const struct sim_disk *d = &n->disk;
            if (c > 0 && c >= d->snap.index) {
                uint64_t chain = sim_disk_chain_at(d, c);
                if (chain != s->committed_chain[c])
                    sim_violation(s, "leader_completeness",
                                  "node=%u epoch=%llu lacks committed index=%llu",
                                  n->id, (unsigned long long)epoch, (unsigned long long)c);
            }
        }
        /* leader HW entries are committed: record them (durable on the leader) */
        uint64_t lo = hw > 64 ? hw - 64 : 1;
        for (uint64_t i = lo; i <= hw; i++) {
            if (i <= n->disk.snap.index)
                continue;
            uint64_t chain = sim_disk_chain_at(&n->disk, i);
            if (chain)
                sim_committed_check(s, n->id, i, chain, "leader_hw");
        }
    }
    n->role_seen = role;
}

/* ---- faults ---------------------------------------------------------------- */

static void sim_links_heal(struct sim *s)
{
    for (uint32_t a = 0; a < s->node_count; a++)
        for (uint32_t b = 0; b < s->node_count; b++)
            s->link[a][b] = true;
}

static void sim_isolate(struct sim *s, uint32_t x)
{
    for (uint32_t b = 0; b < s->node_count; b++) {
        if (b == x)
            continue;
        s->link[x][b] = false;
        s->link[b][x] = false;
    }
}

static void sim_partition_random(struct sim *s)
{
    uint32_t kind = (uint32_t)prng_range(&s->prng, 4);
    uint32_t x = (uint32_t)prng_range(&s->prng, s->node_count);
    uint32_t y = (uint32_t)prng_range(&s->prng, s->node_count);
    switch (kind) {
    case 0: /* symmetric: isolate one node */
        sim_isolate(s, x);
        sim_trace(s, "partition isolate node=%u", x + 1);
        break;
    case 1: /* one-way */
        if (x != y)
            s->link[x][y] = false;
        sim_trace(s, "partition oneway %u->%u", x + 1, y + 1);
        break;
    case 2: { /* split in two groups by a random mask */
        uint64_t mask = prng_next(&s->prng);
        for (uint32_t a = 0; a < s->node_count; a++)
            for (uint32_t b = 0; b < s->node_count; b++)
                if (((mask >> a) & 1) != ((mask >> b) & 1))
                    s->link[a][b] = false;
        sim_trace(s, "partition split mask=%llx", (unsigned long long)(mask & 0x7f));
        break;
    }
    default: { /* bridge: split, but x talks to both sides */
        uint64_t mask = prng_next(&s->prng);
        for (uint32_t a = 0; a < s->node_count; a++)
            for (uint32_t b = 0; b < s->node_count; b++)
                if (((mask >> a) & 1) != ((mask >> b) & 1) && a != x && b != x)
                    s->link[a][b] = false;
        sim_trace(s, "partition bridge node=%u", x + 1);
        break;
    }
    }
}

static bool sim_fully_isolated(const struct sim *s, uint32_t x)
{
    for (uint32_t b = 0; b < s->node_count; b++)
        if (b != x && s->nodes[b].up && (s->link[x][b] || s->link[b][x]))
            return false;
    return true;
}

static void sim_take_snapshot(struct sim *s, struct sim_node *n)
{
    if (n->applied <= n->disk.snap.index + 8)
        return;
    uint64_t index = n->applied - prng_range(&s->prng, 6);
    if (raft_snapshot_taken(n->r, index) != 0)
        return;
    struct sim_disk *d = &n->disk;
    uint64_t keep_from = index + 1;
    uint32_t drop = (uint32_t)(keep_from - d->snap.index - 1);
    ASSERT(drop <= d->count);
    struct raft_snapshot_id snap = { index, d->ents[drop - 1].epoch };
    uint64_t chain = d->ents[drop - 1].chain;
    for (uint32_t i = 0; i < drop; i++)
        free(d->ents[i].data);
    memmove(d->ents, d->ents + drop, (d->count - drop) * sizeof *d->ents);
    d->count -= drop;
    d->snap = snap;
    d->snap_chain = chain;
    sim_trace(s, "node=%u snapshot index=%llu", n->id, (unsigned long long)index);
}

/* ---- the main loop --------------------------------------------------------- */

static void sim_deliver_due(struct sim *s)
{
    for (;;) {
        /* the earliest due packet (deliver_at, seq): deterministic order */
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < s->pkt_count; i++) {
            const struct sim_packet *p = &s->pkts[i];
            if (p->deliver_at > s->now)
                continue;
            if (best == UINT32_MAX || p->deliver_at < s->pkts[best].deliver_at ||
                (p->deliver_at == s->pkts[best].deliver_at && p->seq < s->pkts[best].seq))
                best = i;
        }
        if (best == UINT32_MAX || s->violated)
            return;
        struct sim_packet p = s->pkts[best];
        s->pkts[best] = s->pkts[--s->pkt_count];
        struct sim_node *dst = &s->nodes[p.msg.to - 1];
        if (dst->up && s->link[p.msg.from - 1][p.msg.to - 1]) {
            sim_trace(s, "deliver %s %u->%u epoch=%llu leader=%u pre=%d granted=%d status=%d "
                         "off=%llu lfe=%llu n=%u hw=%llu",
                      raft_msg_type_name(p.msg.type), p.msg.from, p.msg.to,
                      (unsigned long long)p.msg.epoch, p.msg.leader_id, p.msg.pre_vote,
                      p.msg.granted, (int)p.msg.status, (unsigned long long)p.msg.fetch_offset,
                      (unsigned long long)p.msg.last_fetched_epoch, p.msg.entry_count,
                      (unsigned long long)p.msg.high_watermark);
            int rc = raft_step(dst->r, &p.msg);
            ASSERT(rc == 0);
            sim_node_ready(s, dst);
            sim_check_node(s, dst);
        }
        free(p.ents);
        free(p.blob);
    }
}

static void sim_propose(struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->up || raft_role_get(n->r) != RAFT_LEADER)
            continue;
        /* clients bound their in-flight proposals (flow control) */
        if (raft_last_index_get(n->r) > raft_high_watermark_get(n->r) + 24)
            continue;
        char payload[48];
        int len = snprintf(payload, sizeof payload, "seed=%llu n=%llu",
                           (unsigned long long)s->seed, (unsigned long long)s->proposals++);
        uint64_t index = 0;
        int rc = raft_propose(n->r, payload, (uint32_t)len, &index);
        if (rc == 0)
            sim_node_ready(s, n);
    }
}

static void sim_tick_all(struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count && !s->violated; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->up) {
            if (s->now >= n->restart_at) {
                sim_trace(s, "restart node=%u", n->id);
                sim_node_start(s, n, n->disk.lost_marker);
            }
            continue;
        }
        raft_tick(n->r);
        sim_node_ready(s, n);
        sim_check_node(s, n);
    }
}

/* P6: a fully isolated leader must resign within its check-quorum window */
static void sim_check_isolated_leaders(struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->up || s->voter_count < 2 || !sim_fully_isolated(s, i) ||
            raft_role_get(n->r) != RAFT_LEADER) {
            n->isolated_since = UINT64_MAX;
            continue;
        }
        if (n->isolated_since == UINT64_MAX)
            n->isolated_since = s->now;
        if (s->now - n->isolated_since > SIM_ISOLATED_LEADER_TICKS)
            sim_violation(s, "isolated_leader_resigns",
                          "node=%u isolated leader still leader after %d ticks", n->id,
                          SIM_ISOLATED_LEADER_TICKS);
    }
}

static void sim_step(struct sim *s)
{
    s->now++;
    sim_deliver_due(s);
    sim_tick_all(s);
    if (prng_chance(&s->prng, s->propose_ppm))
        sim_propose(s);
    for (uint32_t i = 0; i < s->node_count; i++)
        if (s->nodes[i].up && prng_chance(&s->prng, s->snapshot_ppm))
            sim_take_snapshot(s, &s->nodes[i]);
    sim_check_isolated_leaders(s);
}

static struct sim_node *sim_leader_find(struct sim *s);

static void sim_chaos_faults(struct sim *s)
{
    if (prng_chance(&s->prng, s->partition_ppm))
        sim_partition_random(s);
    if (prng_chance(&s->prng, s->heal_ppm)) {
        sim_links_heal(s);
        sim_trace(s, "heal");
    }
    if (prng_chance(&s->prng, s->crash_ppm)) {
        struct sim_node *n = &s->nodes[prng_range(&s->prng, s->node_count)];
        if (n->up)
            sim_node_crash(s, n, 1 + prng_range(&s->prng, 60));
    }
    /* scripted: isolate the current leader for a while */
    if (prng_chance(&s->prng, 3000)) {
        for (uint32_t i = 0; i < s->node_count; i++)
            if (s->nodes[i].up && raft_role_get(s->nodes[i].r) == RAFT_LEADER) {
                sim_isolate(s, i);
                sim_trace(s, "isolate leader node=%u", i + 1);
                break;
            }
    }
    /* a graceful stop (SIGTERM on the active controller): the leader
     * resigns (EndQuorumEpoch) and either stays up or goes down right after */
    if (prng_chance(&s->prng, 3000)) {
        struct sim_node *l = sim_leader_find(s);
        if (l && raft_resign(l->r) == 0) {
            sim_trace(s, "resign node=%u", l->id);
            sim_node_ready(s, l);
            if (l->up && prng_chance(&s->prng, 500000))
                sim_node_crash(s, l, 1 + prng_range(&s->prng, 60));
        }
    }
    /* one voter's disk wiped; it rejoins as a new incarnation */
    if (!s->wipe_done && s->voter_count >= 3 && prng_chance(&s->prng, 1500)) {
        s->wipe_done = true;
        struct sim_node *n = &s->nodes[prng_range(&s->prng, s->voter_count)];
        if (n->up)
            sim_node_crash(s, n, 0);
        sim_disk_clear(&n->disk);
        n->disk.lost_marker = true;
        n->epoch_seen = 0;
        sim_trace(s, "wipe node=%u", n->id);
        sim_node_start(s, n, true);
    }
}

static struct sim_node *sim_leader_find(struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count; i++)
        if (s->nodes[i].up && raft_role_get(s->nodes[i].r) == RAFT_LEADER)
            return &s->nodes[i];
    return NULL;
}

static void sim_calm(struct sim *s)
{
    sim_links_heal(s);
    s->drop_ppm = 0;
    s->dup_ppm = 0;
    s->delay_max = 2;
    s->calm = true;
    s->crash_ppm = 0;
    for (uint32_t i = 0; i < s->node_count; i++)
        if (!s->nodes[i].up)
            s->nodes[i].restart_at = s->now;
}

/* P7 after healing: a leader commits again within the bound */
static void sim_liveness(struct sim *s)
{
    uint64_t base = s->committed_max;
    uint64_t deadline = s->now + SIM_LIVENESS_TICKS;
    while (s->now < deadline && !s->violated) {
        sim_step(s);
        struct sim_node *l = sim_leader_find(s);
        if (l && s->committed_max > base && raft_high_watermark_get(l->r) > base)
            return;
    }
    for (uint32_t i = 0; i < s->node_count && !s->violated; i++)
        if (s->nodes[i].up)
            sim_trace(s, "node=%u role=%s epoch=%llu leader=%u hw=%llu last=%llu applied=%llu",
                      s->nodes[i].id, raft_role_name(raft_role_get(s->nodes[i].r)),
                      (unsigned long long)raft_epoch_get(s->nodes[i].r),
                      raft_leader_get(s->nodes[i].r),
                      (unsigned long long)raft_high_watermark_get(s->nodes[i].r),
                      (unsigned long long)raft_last_index_get(s->nodes[i].r),
                      (unsigned long long)s->nodes[i].applied);
    if (!s->violated)
        sim_violation(s, "liveness_after_heal", "no commit within %d ticks of healing (hw=%llu)",
                      SIM_LIVENESS_TICKS, (unsigned long long)base);
}

/* P8: isolate a follower of a healthy leader, heal: no epoch bump allowed.
 *
 * "Healthy" is the leader's own check-quorum verdict, not a snapshot of who
 * follows whom.  The leader judges fixed windows of election_ticks and counts
 * only fetches inside the window.  The first boundary after a heal may judge a
 * window that is mostly the partition, and resigning there is correct (seed
 * 74617: the leader was cut off for 14 ticks, every voter followed it again one
 * tick before its boundary, but only one of three followers had fetched; see
 * raft_test.c test_check_quorum_judges_whole_window).  So every voter must
 * follow the leader for SIM_HEALTHY_TICKS in a row: two windows (any phase),
 * plus a fetch round trip on the calm network.  The second boundary then
 * judges a window lying wholly inside the stable stretch, in which every voter
 * fetched, so the leader holds a fresh quorum of its own. */
static void sim_disruption(struct sim *s)
{
    if (s->voter_count < 3)
        return;
    struct sim_node *l = NULL;
    uint32_t stable_ticks = 0;
    for (int i = 0; i < SIM_HEALTHY_WAIT_TICKS && !s->violated; i++) {
        struct sim_node *was = l;
        uint64_t was_epoch = l ? raft_epoch_get(l->r) : 0;
        sim_step(s);
        l = sim_leader_find(s);
        bool stable = l != NULL;
        for (uint32_t v = 0; v < s->voter_count && stable; v++) {
            struct sim_node *n = &s->nodes[v];
            if (!n->up || raft_epoch_get(n->r) != raft_epoch_get(l->r) ||
                (n != l && raft_leader_get(n->r) != l->id))
                stable = false;
        }
        if (!stable || l != was || raft_epoch_get(l->r) != was_epoch)
            stable_ticks = 0;
        if (stable && ++stable_ticks >= SIM_HEALTHY_TICKS)
            break;
        if (!stable)
            l = NULL;
    }
    if (!l || stable_ticks < SIM_HEALTHY_TICKS || s->violated)
        return;
    uint64_t epoch = raft_epoch_get(l->r);
    uint32_t x = (uint32_t)prng_range(&s->prng, s->voter_count);
    if (&s->nodes[x] == l)
        x = (x + 1) % s->voter_count;
    sim_trace(s, "disruption test: leader=%u epoch=%llu isolate=%u", l->id,
              (unsigned long long)epoch, x + 1);
    sim_isolate(s, x);
    for (int i = 0; i < SIM_DISRUPT_ISOLATE_TICKS + SIM_DISRUPT_AFTER_TICKS && !s->violated;
         i++) {
        if (i == SIM_DISRUPT_ISOLATE_TICKS)
            sim_links_heal(s);
        sim_step(s);
        for (uint32_t v = 0; v < s->node_count; v++) {
            struct sim_node *n = &s->nodes[v];
            if (v == x && i < SIM_DISRUPT_ISOLATE_TICKS)
                continue; /* the isolated node may do what it likes alone */
            if (n->up && raft_epoch_get(n->r) > epoch) {
                sim_violation(s, "no_disruption",
                              "node %u rejoining after a partition forced an epoch bump "
                              "(%llu -> %llu at node %u) while the leader was healthy",
                              x + 1, (unsigned long long)epoch,
                              (unsigned long long)raft_epoch_get(n->r), n->id);
                return;
            }
        }
        if (raft_role_get(l->r) != RAFT_LEADER)
            sim_violation(s, "no_disruption", "healthy leader %u lost leadership", l->id);
    }
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count; i++) {
        raft_destroy(s->nodes[i].r);
        sim_disk_clear(&s->nodes[i].disk);
    }
    for (uint32_t i = 0; i < s->pkt_count; i++) {
        free(s->pkts[i].ents);
        free(s->pkts[i].blob);
    }
    free(s->pkts);
    free(s->leader_of_epoch);
    free(s->kv);
    free(s->committed_chain);
}

bool sim_name_listed(const char *names, const char *name)
{
    if (!name || strcmp(name, "none") == 0)
        return true;
    size_t n = strlen(name);
    for (const char *p = names; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && strncmp(p, name, n) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

bool sim_bug_known(const char *name)
{
    return sim_name_listed(sim_bug_names(), name);
}

const char *sim_bug_names(void)
{
    return "vote_without_log_check hw_from_old_epoch no_check_quorum no_pre_vote";
}

int sim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out)
{
    struct sim *s = calloc(1, sizeof *s);
    ASSERT(s);
    s->seed = seed;
    s->out = out;
    s->verbose = verbose;
    s->bug = (bug && strcmp(bug, "none") != 0) ? bug : NULL;
    prng_init(&s->prng, seed);
    s->voter_count = 1 + (uint32_t)prng_range(&s->prng, 5);
    s->node_count = s->voter_count + (uint32_t)prng_range(&s->prng, 3);
    for (uint32_t i = 0; i < s->voter_count; i++)
        s->voter_ids[i] = i + 1;
    s->drop_ppm = (uint32_t)prng_range(&s->prng, 200000);
    s->dup_ppm = (uint32_t)prng_range(&s->prng, 50000);
    s->delay_max = 1 + (uint32_t)prng_range(&s->prng, 6);
    s->crash_ppm = (uint32_t)prng_range(&s->prng, 40000);
    s->partition_ppm = (uint32_t)prng_range(&s->prng, 40000);
    s->heal_ppm = 5000 + (uint32_t)prng_range(&s->prng, 30000);
    s->propose_ppm = 100000 + (uint32_t)prng_range(&s->prng, 600000);
    s->snapshot_ppm = (uint32_t)prng_range(&s->prng, 20000);
    s->entries_per_msg_max = 1 + (uint32_t)prng_range(&s->prng, 8);
    sim_links_heal(s);
    for (uint32_t i = 0; i < s->node_count; i++) {
        s->nodes[i].id = i + 1;
        s->nodes[i].voter = i < s->voter_count;
        s->nodes[i].disk.hs.voted_for = RAFT_ID_NONE; /* a fresh disk */
        sim_node_start(s, &s->nodes[i], false);
    }
    sim_trace(s, "seed=%llu voters=%u nodes=%u drop=%u dup=%u delay=%u crash=%u part=%u "
                 "batch=%u",
              (unsigned long long)seed, s->voter_count, s->node_count, s->drop_ppm, s->dup_ppm,
              s->delay_max, s->crash_ppm, s->partition_ppm, s->entries_per_msg_max);
    while (s->now < SIM_CHAOS_TICKS && !s->violated) {
        sim_chaos_faults(s);
        sim_step(s);
    }
    if (!s->violated) {
        sim_trace(s, "calm");
        sim_calm(s);
        sim_liveness(s);
    }
    if (!s->violated)
        sim_disruption(s);
    int violated = s->violated ? 1 : 0;
    sim_free(s);
    free(s);
    return violated;
}
