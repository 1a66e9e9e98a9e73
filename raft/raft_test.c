/*
 * raft_test.c - scripted scenarios for the Raft core (check(3)).
 *
 * Each test builds nodes over an in-memory store, drives them by hand with
 * ticks and hand-delivered messages, and asserts on the readies.  No clock,
 * no sleeps: time is raft_tick.  The randomized whole-cluster testing is the
 * simulator's job (test/sim); these pin down named behaviours.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

#define T_ENTRIES_MAX 256
#define T_DATA_MAX 32
#define T_OUT_MAX 64
#define T_BATCH_MAX 16

struct tstore {
    struct raft_hard_state hs;
    struct raft_snapshot_id snap;
    struct raft_entry ents[T_ENTRIES_MAX]; /* index snap.index+1 .. */
    uint8_t data[T_ENTRIES_MAX][T_DATA_MAX];
    uint32_t count;
};

struct tnode {
    struct tstore st;
    struct raft *r;
    struct raft_msg out[T_OUT_MAX];
    struct raft_entry out_ents[T_OUT_MAX][T_BATCH_MAX];
    uint8_t out_data[T_OUT_MAX][T_BATCH_MAX][T_DATA_MAX];
    uint32_t nout;
    uint64_t applied;
    bool installed;
    bool truncated;
    uint64_t truncated_after;
};

static uint64_t ts_last(void *ctx)
{
    struct tstore *st = ctx;
    return st->snap.index + st->count;
}

static int ts_entries(void *ctx, uint64_t lo, uint64_t hi, struct raft_entry *out,
                      uint32_t count_max, uint32_t *count)
{
    struct tstore *st = ctx;
    *count = 0;
    if (lo <= st->snap.index || lo > st->snap.index + st->count)
        return ERR_NOT_FOUND;
    for (uint64_t i = lo; i <= hi && i <= st->snap.index + st->count && *count < count_max; i++)
        out[(*count)++] = st->ents[i - st->snap.index - 1];
    return 0;
}

static void ts_snapshot(void *ctx, struct raft_snapshot_id *out)
{
    *out = ((struct tstore *)ctx)->snap;
}

static void ts_hard_state(void *ctx, struct raft_hard_state *out)
{
    *out = ((struct tstore *)ctx)->hs;
}

static void ts_append(struct tstore *st, uint64_t epoch, uint32_t type, const void *p, size_t len)
{
    ck_assert_uint_lt(st->count, T_ENTRIES_MAX);
    ck_assert_uint_le(len, T_DATA_MAX);
    uint32_t i = st->count++;
    memcpy(st->data[i], p, len);
    st->ents[i] = (struct raft_entry){ st->snap.index + i + 1, epoch, type,
                                       bytes_make(st->data[i], len) };
}

static const uint32_t t_voters3[] = { 1, 2, 3 };

static void tnode_create(struct tnode *n, uint32_t id, const uint32_t *voters, uint32_t voter_count,
                         struct raft_config *override)
{
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    if (override)
        cfg = *override;
    cfg.id = id;
    if (n->st.hs.voted_for == 0)
        n->st.hs.voted_for = RAFT_ID_NONE; /* a zeroed test store is a fresh disk: no vote (0 is an id) */
    memcpy(cfg.voters, voters, voter_count * sizeof *voters);
    cfg.voter_count = voter_count; /* ticks: the override's, else the defaults (10, 2, 2) */
    cfg.entries_per_msg_max = override ? override->entries_per_msg_max : T_BATCH_MAX;
    if (cfg.entries_per_msg_max == 0 || cfg.entries_per_msg_max > T_BATCH_MAX)
        cfg.entries_per_msg_max = T_BATCH_MAX;
    cfg.msgs_max = T_OUT_MAX;
    cfg.snapshot_bytes_max = T_DATA_MAX;
    cfg.prng_seed = id;
    cfg.storage = (struct raft_storage){ &n->st, ts_last, ts_entries, ts_snapshot, ts_hard_state };
    ck_assert_int_eq(raft_create(&cfg, &n->r), 0);
}

static void tnode_destroy(struct tnode *n)
{
    raft_destroy(n->r);
    n->r = NULL;
}

/* process every ready: persist, keep deep copies of the messages, apply */
static void tnode_ready(struct tnode *n)
{
    while (raft_has_ready(n->r)) {
        struct raft_ready rd;
        raft_ready(n->r, &rd);
        if (rd.snapshot_install) {
            n->st.count = 0;
            n->st.snap = rd.snapshot;
            n->applied = rd.snapshot.index;
            n->installed = true;
        }
        if (rd.truncate) {
            n->truncated = true;
            n->truncated_after = rd.truncate_after;
            n->st.count = (uint32_t)(rd.truncate_after - n->st.snap.index);
        }
        for (uint32_t i = 0; i < rd.entry_count; i++) {
            ck_assert_uint_eq(rd.entries[i].index, n->st.snap.index + n->st.count + 1);
            ts_append(&n->st, rd.entries[i].epoch, rd.entries[i].type, rd.entries[i].data.ptr,
                      rd.entries[i].data.len);
        }
        if (rd.hard_state_changed)
            n->st.hs = rd.hard_state;
        for (uint32_t i = 0; i < rd.msg_count && n->nout < T_OUT_MAX; i++) {
            uint32_t k = n->nout++;
            n->out[k] = rd.msgs[i];
            ck_assert_uint_le(rd.msgs[i].entry_count, T_BATCH_MAX);
            for (uint32_t j = 0; j < rd.msgs[i].entry_count; j++) {
                n->out_ents[k][j] = rd.msgs[i].entries[j];
                memcpy(n->out_data[k][j], rd.msgs[i].entries[j].data.ptr,
                       rd.msgs[i].entries[j].data.len);
                n->out_ents[k][j].data =
                    bytes_make(n->out_data[k][j], rd.msgs[i].entries[j].data.len);
            }
            n->out[k].entries = n->out_ents[k];
        }
        for (uint32_t i = 0; i < rd.committed_count; i++) {
            ck_assert_uint_eq(rd.committed[i].index, n->applied + 1);
            n->applied = rd.committed[i].index;
        }
        raft_advance(n->r, &rd);
    }
}

/* point m's entries at deep copies in ents/data (at most T_BATCH_MAX) */
static void tmsg_keep(struct raft_msg *m, struct raft_entry *ents, uint8_t (*data)[T_DATA_MAX])
{
    ck_assert_uint_le(m->entry_count, T_BATCH_MAX);
    for (uint32_t j = 0; j < m->entry_count; j++) {
        ents[j] = m->entries[j];
        memcpy(data[j], m->entries[j].data.ptr, m->entries[j].data.len);
        ents[j].data = bytes_make(data[j], m->entries[j].data.len);
    }
    m->entries = ents;
}

/* take the first queued message of a type (to any / a given node) */
static bool tnode_take(struct tnode *n, enum raft_msg_type type, uint32_t to, struct raft_msg *out)
{
    for (uint32_t i = 0; i < n->nout; i++) {
        if (n->out[i].type != type || (to && n->out[i].to != to))
            continue;
        *out = n->out[i];
        /* entries stay in place: shift only the headers is wrong, so compact by copying */
        static struct raft_entry keep[T_BATCH_MAX];
        static uint8_t keep_data[T_BATCH_MAX][T_DATA_MAX];
        tmsg_keep(out, keep, keep_data);
        n->out[i].type = RAFT_MSG_NONE; /* consumed */
        return true;
    }
    return false;
}

static void tnode_clear(struct tnode *n) { n->nout = 0; }

static void tstep(struct tnode *n, const struct raft_msg *m)
{
    ck_assert_int_eq(raft_step(n->r, m), 0);
    tnode_ready(n);
}

static void ttick(struct tnode *n, int ticks)
{
    for (int i = 0; i < ticks; i++) {
        raft_tick(n->r);
        tnode_ready(n);
    }
}

/* elect node a of nodes[] (3 voters) by delivering its pre-votes and votes */
static void elect(struct tnode *nodes, uint32_t count, uint32_t a)
{
    struct tnode *c = &nodes[a - 1];
    for (int i = 0; i < 30 && raft_role_get(c->r) == RAFT_FOLLOWER; i++)
        ttick(c, 1);
    for (int round = 0; round < 2; round++) {
        struct raft_msg m, resp;
        for (uint32_t v = 1; v <= count; v++) {
            if (v == a)
                continue;
            if (!tnode_take(c, RAFT_MSG_VOTE_REQ, v, &m))
                continue;
            tstep(&nodes[v - 1], &m);
            if (tnode_take(&nodes[v - 1], RAFT_MSG_VOTE_RESP, a, &resp))
                tstep(c, &resp);
        }
    }
}

/* three fresh voters (default config), node 1 elected */
static void elect3(struct tnode *n)
{
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, NULL);
    elect(n, 3, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
}

/* one fetch round trip from follower f to leader l */
static void fetch_round(struct tnode *f, struct tnode *l)
{
    struct raft_msg m, resp;
    if (!tnode_take(f, RAFT_MSG_FETCH_REQ, 0, &m)) {
        ttick(f, 2);
        ck_assert(tnode_take(f, RAFT_MSG_FETCH_REQ, 0, &m));
    }
    tstep(l, &m);
    ck_assert(tnode_take(l, RAFT_MSG_FETCH_RESP, m.from, &resp));
    tstep(f, &resp);
}

/* An idle voter backs off to fetch_idle_ticks_max between fetches; the
 * leader's next entry wakes it with BeginQuorumEpoch (once), and it fetches
 * at once. */
START_TEST(test_idle_fetch_backoff_and_wake)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    struct raft_config o;
    raft_config_defaults(&o);
    o.fetch_idle_ticks_max = 3; /* fetch_ticks 2, heartbeat_ticks 2: must stay < 4 */
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, &o);
    elect(n, 3, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    for (int i = 0; i < 4; i++) { /* the epoch's first entry, its HW, then nothing new */
        bool got = false;
        for (int t = 0; t <= 3 && !(got = tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m)); t++)
            ttick(&n[1], 1);
        ck_assert(got);
        tstep(&n[0], &m);
        struct raft_msg r0;
        ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &r0));
        tstep(&n[1], &r0);
    }
    tnode_clear(&n[1]);
    ttick(&n[1], 2); /* fetch_ticks has passed, the backed-off interval not */
    ck_assert(!tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    ttick(&n[1], 1);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    tstep(&n[0], &m);
    tnode_clear(&n[0]);
    ttick(&n[0], 3); /* node 2 silent for more than fetch_ticks, not yet 2 * heartbeat_ticks */
    ck_assert(!tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    uint64_t index = 0;
    ck_assert_int_eq(raft_propose(n[0].r, "x", 1, &index), 0);
    tnode_ready(&n[0]);
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    ck_assert_int_eq(raft_propose(n[0].r, "y", 1, &index), 0);
    tnode_ready(&n[0]);
    ck_assert(!tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m)); /* woken once until it fetches */
    tnode_clear(&n[1]);
    tstep(&n[1], &m);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m)); /* at once, not after its interval */
    tstep(&n[0], &m);
    struct raft_msg resp;
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &resp));
    ck_assert_uint_eq(resp.entry_count, 2);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* Kafka node ids start at 0 (node.id=0): a voter with id 0 campaigns, is
 * voted for (voted_for == 0 is a vote, not "none") and leads. */
START_TEST(test_node_id_zero)
{
    static const uint32_t voters[] = { 0, 1, 2 };
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i, voters, 3, NULL);
    ck_assert_uint_eq(raft_leader_get(n[1].r), RAFT_ID_NONE);
    ttick(&n[0], 25);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_PROSPECTIVE);
    struct raft_msg m, resp;
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 1, &m));
    tstep(&n[1], &m);
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 0, &resp));
    ck_assert(resp.granted);
    tstep(&n[0], &resp);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_CANDIDATE);
    ck_assert_uint_eq(n[0].st.hs.voted_for, 0); /* its own vote, for node 0 */
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 1, &m));
    ck_assert(!m.pre_vote);
    tstep(&n[1], &m);
    ck_assert_uint_eq(n[1].st.hs.voted_for, 0);
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 0, &resp));
    ck_assert(resp.granted);
    /* a second candidate in the same epoch is refused: the vote for 0 counts */
    struct raft_msg other = m;
    other.from = 2;
    tstep(&n[1], &other);
    struct raft_msg no;
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 2, &no));
    ck_assert(!no.granted);
    tstep(&n[0], &resp);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    ck_assert_uint_eq(raft_leader_get(n[0].r), 0);
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[2], &m);
    ck_assert_uint_eq(raft_leader_get(n[2].r), 0);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_election_prevote_then_vote)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, NULL);
    ttick(&n[0], 25); /* past the jittered timeout [10, 20) */
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_PROSPECTIVE);
    ck_assert_uint_eq(raft_epoch_get(n[0].r), 0); /* pre-vote does not bump */
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 2, &m));
    ck_assert(m.pre_vote);
    ck_assert_uint_eq(m.epoch, 1);
    tstep(&n[1], &m);
    ck_assert_uint_eq(raft_epoch_get(n[1].r), 0); /* receiving a pre-vote does not bump */
    struct raft_msg resp;
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 1, &resp));
    ck_assert(resp.granted);
    tstep(&n[0], &resp);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_CANDIDATE);
    ck_assert_uint_eq(n[0].st.hs.epoch, 1);   /* persisted before the vote requests */
    ck_assert_uint_eq(n[0].st.hs.voted_for, 1);
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 3, &m)); /* the pre-vote to 3: lost */
    ck_assert(m.pre_vote);
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 3, &m));
    ck_assert(!m.pre_vote);
    tstep(&n[2], &m);
    ck_assert_uint_eq(n[2].st.hs.voted_for, 1); /* vote durable before the reply */
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_RESP, 1, &resp));
    ck_assert(resp.granted);
    tstep(&n[0], &resp);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    /* LeaderChange control entry, BeginQuorumEpoch to the voters */
    ck_assert_uint_eq(n[0].st.count, 1);
    ck_assert_uint_eq(n[0].st.ents[0].type, RAFT_ENTRY_LEADER_CHANGE);
    ck_assert_uint_eq(n[0].st.ents[0].epoch, 1);
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    /* a second vote in the same epoch is refused */
    struct raft_msg other = m;
    other.type = RAFT_MSG_VOTE_REQ;
    other.from = 2;
    other.to = 3;
    other.epoch = 1;
    other.last_index = 5;
    other.last_epoch = 1;
    tstep(&n[2], &other);
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_RESP, 2, &resp));
    ck_assert(!resp.granted);
    uint64_t idx;
    ck_assert_int_eq(raft_propose(n[1].r, "x", 1, &idx), ERR_NOT_LEADER);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_prevote_refused_while_leader_healthy)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    elect3(n);
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_leader_get(n[1].r), 1);
    /* node 3 was partitioned: it pre-votes for epoch 2 with an up-to-date log */
    struct raft_msg pv = { .type = RAFT_MSG_VOTE_REQ, .from = 3, .to = 2, .epoch = 2,
                           .pre_vote = true, .last_index = 1, .last_epoch = 1 };
    tnode_clear(&n[1]);
    tstep(&n[1], &pv);
    struct raft_msg resp;
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 3, &resp));
    ck_assert(!resp.granted);
    ck_assert_uint_eq(raft_epoch_get(n[1].r), 1);
    ck_assert_uint_eq(raft_leader_get(n[1].r), 1);
    /* the leader refuses too */
    pv.to = 1;
    tstep(&n[0], &pv);
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_RESP, 3, &resp));
    ck_assert(!resp.granted);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* The leader dies; voter 2 is behind voter 3.  2 times out first, and 3
 * (which heard from the leader recently) rejects its pre-vote naming the
 * leader.  2 must not follow that leader again: it timed out on it, and
 * following restarts its lease, so it would reject 3's pre-vote in turn
 * and the two would keep each other from electing anyone (found by the
 * controller simulator, csim seed 792). */
START_TEST(test_prevote_rejection_naming_a_dead_leader)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    elect3(n);
    struct raft_msg m, resp;
    for (uint32_t v = 2; v <= 3; v++) {
        ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, v, &m));
        tstep(&n[v - 1], &m);
    }
    uint64_t idx;
    ck_assert_int_eq(raft_propose(n[0].r, "a", 1, &idx), 0);
    tnode_ready(&n[0]);
    for (int i = 0; i < 3; i++)
        fetch_round(&n[2], &n[0]); /* 3 has the entry, 2 does not */
    ck_assert_uint_gt(raft_last_index_get(n[2].r), raft_last_index_get(n[1].r));
    tnode_clear(&n[0]);
    tnode_clear(&n[1]);
    tnode_clear(&n[2]);
    /* leader 1 is gone from here on */
    for (int i = 0; i < 25 && raft_role_get(n[1].r) != RAFT_PROSPECTIVE; i++)
        ttick(&n[1], 1);
    ck_assert_int_eq(raft_role_get(n[1].r), RAFT_PROSPECTIVE);
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_REQ, 3, &m));
    tstep(&n[2], &m);
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_RESP, 2, &resp));
    ck_assert(!resp.granted);
    ck_assert_uint_eq(resp.leader_id, 1);
    tstep(&n[1], &resp);
    ck_assert_int_ne(raft_leader_get(n[1].r), 1); /* it does not go back to the leader it gave up on */
    tnode_clear(&n[1]);
    for (int i = 0; i < 25 && raft_role_get(n[2].r) != RAFT_PROSPECTIVE; i++)
        ttick(&n[2], 1);
    ck_assert_int_eq(raft_role_get(n[2].r), RAFT_PROSPECTIVE);
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_REQ, 2, &m));
    tstep(&n[1], &m);
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 3, &resp));
    ck_assert(resp.granted);
    tstep(&n[2], &resp);
    ck_assert_int_eq(raft_role_get(n[2].r), RAFT_CANDIDATE);
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_REQ, 2, &m));
    if (m.pre_vote) /* the pre-vote to 2 went first; the real one follows */
        ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_REQ, 2, &m));
    ck_assert(!m.pre_vote);
    tstep(&n[1], &m);
    ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 3, &resp));
    ck_assert(resp.granted);
    tstep(&n[2], &resp);
    ck_assert_int_eq(raft_role_get(n[2].r), RAFT_LEADER);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* A voter that stood as a candidate in a partition has a higher epoch than
 * the leader but a shorter log: it cannot win a pre-vote and ignores the
 * older epoch's leader, so it could never rejoin.  Its pre-vote request
 * makes the leader adopt its epoch (a new election follows that the others
 * can win; found by the controller simulator, csim seed 294). */
START_TEST(test_prevote_from_a_voter_ahead_in_epoch)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    elect3(n);
    ck_assert_uint_eq(raft_epoch_get(n[0].r), 1);
    /* voter 3 restarts with epoch 3 (two lost candidacies) and no log */
    tnode_destroy(&n[2]);
    memset(&n[2], 0, sizeof n[2]);
    n[2].st.hs.epoch = 3;
    n[2].st.hs.voted_for = 3;
    tnode_create(&n[2], 3, t_voters3, 3, NULL);
    for (int i = 0; i < 25 && raft_role_get(n[2].r) != RAFT_PROSPECTIVE; i++)
        ttick(&n[2], 1);
    ck_assert_int_eq(raft_role_get(n[2].r), RAFT_PROSPECTIVE);
    struct raft_msg m, resp;
    ck_assert(tnode_take(&n[2], RAFT_MSG_VOTE_REQ, 1, &m));
    ck_assert(m.pre_vote);
    ck_assert_uint_eq(m.epoch, 4);
    tstep(&n[0], &m);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_FOLLOWER);
    ck_assert_uint_eq(raft_epoch_get(n[0].r), 3);
    ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_RESP, 3, &resp));
    ck_assert(!resp.granted); /* 3's log is behind: it still cannot win */
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_vote_refused_for_stale_log)
{
    static struct tnode n;
    memset(&n, 0, sizeof n);
    n.st.hs.epoch = 2;
    ts_append(&n.st, 1, RAFT_ENTRY_DATA, "a", 1);
    ts_append(&n.st, 2, RAFT_ENTRY_DATA, "b", 1);
    tnode_create(&n, 2, t_voters3, 3, NULL);
    /* longer log but older last epoch: refused */
    struct raft_msg v = { .type = RAFT_MSG_VOTE_REQ, .from = 1, .to = 2, .epoch = 3,
                          .last_index = 9, .last_epoch = 1 };
    tstep(&n, &v);
    struct raft_msg resp;
    ck_assert(tnode_take(&n, RAFT_MSG_VOTE_RESP, 1, &resp));
    ck_assert(!resp.granted);
    ck_assert_uint_eq(n.st.hs.epoch, 3); /* the higher epoch is still adopted */
    ck_assert_uint_eq(n.st.hs.voted_for, RAFT_ID_NONE);
    /* same epoch, shorter log: refused */
    v.epoch = 4;
    v.last_epoch = 2;
    v.last_index = 1;
    tstep(&n, &v);
    ck_assert(tnode_take(&n, RAFT_MSG_VOTE_RESP, 1, &resp));
    ck_assert(!resp.granted);
    /* at least as up to date: granted, and persisted */
    v.epoch = 5;
    v.last_index = 2;
    tstep(&n, &v);
    ck_assert(tnode_take(&n, RAFT_MSG_VOTE_RESP, 1, &resp));
    ck_assert(resp.granted);
    ck_assert_uint_eq(n.st.hs.voted_for, 1);
    ck_assert_uint_eq(n.st.hs.epoch, 5);
    tnode_destroy(&n);
}
END_TEST

START_TEST(test_divergence_truncation)
{
    static struct tnode n[2];
    memset(n, 0, sizeof n);
    /* leader 1: epochs 1 1 3 ; follower 2: epochs 1 1 2 2 (stale epoch-2 tail) */
    n[0].st.hs = (struct raft_hard_state){ 3, 1, false };
    ts_append(&n[0].st, 1, RAFT_ENTRY_DATA, "a", 1);
    ts_append(&n[0].st, 1, RAFT_ENTRY_DATA, "b", 1);
    ts_append(&n[0].st, 3, RAFT_ENTRY_DATA, "c", 1);
    n[1].st.hs = (struct raft_hard_state){ 2, 0, false };
    ts_append(&n[1].st, 1, RAFT_ENTRY_DATA, "a", 1);
    ts_append(&n[1].st, 1, RAFT_ENTRY_DATA, "b", 1);
    ts_append(&n[1].st, 2, RAFT_ENTRY_DATA, "x", 1);
    ts_append(&n[1].st, 2, RAFT_ENTRY_DATA, "y", 1);
    static const uint32_t voters[] = { 1, 2 };
    tnode_create(&n[0], 1, voters, 2, NULL);
    tnode_create(&n[1], 2, voters, 2, NULL);
    /* leader 1 is elected in epoch 4 with node 2's vote */
    ttick(&n[0], 25);
    struct raft_msg m, resp;
    for (int i = 0; i < 2; i++) {
        ck_assert(tnode_take(&n[0], RAFT_MSG_VOTE_REQ, 2, &m));
        tstep(&n[1], &m);
        ck_assert(tnode_take(&n[1], RAFT_MSG_VOTE_RESP, 1, &resp));
        tstep(&n[0], &resp);
    }
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    /* fetch offset 5, last fetched epoch 2 -> DIVERGING(epoch 1, end 2) */
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    ck_assert_uint_eq(m.fetch_offset, 5);
    ck_assert_uint_eq(m.last_fetched_epoch, 2);
    tstep(&n[0], &m);
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &resp));
    ck_assert_int_eq(resp.status, RAFT_FETCH_DIVERGING);
    ck_assert_uint_eq(resp.diverging_epoch, 1);
    ck_assert_uint_eq(resp.diverging_end_offset, 2);
    tstep(&n[1], &resp);
    ck_assert(n[1].truncated);
    ck_assert_uint_eq(n[1].truncated_after, 2);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 2);
    /* next fetch matches and copies the leader's tail */
    fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 4);
    ck_assert_uint_eq(n[1].st.ents[2].epoch, 3);
    ck_assert_uint_eq(n[1].st.ents[3].type, RAFT_ENTRY_LEADER_CHANGE);
    ck_assert_uint_eq(n[1].st.ents[3].epoch, 4);
    tnode_destroy(&n[0]);
    tnode_destroy(&n[1]);
}
END_TEST

START_TEST(test_check_quorum_resigns)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    elect3(n);
    tnode_clear(&n[0]);
    /* nobody fetches: within two check-quorum windows it steps down */
    int ticks = 0;
    while (raft_role_get(n[0].r) == RAFT_LEADER && ticks < 100) {
        ttick(&n[0], 1);
        ticks++;
    }
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_FOLLOWER);
    ck_assert_int_le(ticks, 20);
    ck_assert_uint_eq(raft_leader_get(n[0].r), RAFT_ID_NONE);
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_END_EPOCH, 2, &m));
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* Seed 74617 of the simulator, pinned down.  Check-quorum judges fixed
 * windows of election_ticks and counts only fetches that arrived inside the
 * window: it never counts stale contact, and it does not care who "follows"
 * the leader, only who fetched.  A leader cut off for longer than a window may
 * therefore resign at the first boundary after the heal although every voter
 * names it as leader again: that is check-quorum doing its job (its followers
 * had given up on it), so the simulator's no_disruption property may only call
 * a leader healthy once a whole window of fetches lies after the heal. */
static const uint32_t t_voters4[] = { 1, 2, 3, 4 };

static void cq_cluster_elect(struct tnode *n)
{
    for (uint32_t i = 0; i < 4; i++)
        tnode_create(&n[i], i + 1, t_voters4, 4, NULL);
    elect(n, 4, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    struct raft_msg m;
    for (uint32_t v = 2; v <= 4; v++) {
        ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, v, &m));
        tstep(&n[v - 1], &m);
    }
    /* leader tick 0 is its election; ticks 1..10 are its first window */
    ttick(&n[0], 2);
    for (uint32_t v = 2; v <= 4; v++)
        fetch_round(&n[v - 1], &n[0]);
    ttick(&n[0], 8);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER); /* boundary at 10: 4 active */
    tnode_clear(&n[0]);
    /* ticks 11..18: the leader is cut off (nothing reaches it, it reaches nobody) */
    ttick(&n[0], 8);
    tnode_clear(&n[0]);
    ttick(&n[0], 1); /* tick 19: healed */
}

START_TEST(test_check_quorum_judges_whole_window)
{
    static struct tnode n[4];
    memset(n, 0, sizeof n);
    cq_cluster_elect(n);
    /* at tick 19 one follower's fetch reaches it; every voter names leader 1
     * in its epoch (the old P8 start condition) */
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    fetch_round(&n[1], &n[0]);
    uint64_t epoch = raft_epoch_get(n[0].r);
    for (uint32_t v = 2; v <= 4; v++) {
        ck_assert_uint_eq(raft_epoch_get(n[v - 1].r), epoch);
        ck_assert_uint_eq(raft_leader_get(n[v - 1].r), 1);
    }
    /* tick 20 judges (10, 20]: itself + node 2 = 2 < 3, so it resigns */
    ttick(&n[0], 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_FOLLOWER);
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_END_EPOCH, 0, &m));
    for (uint32_t i = 0; i < 4; i++)
        tnode_destroy(&n[i]);

    /* the same outage, but every follower fetches from the heal on: the window
     * (10, 20] holds a majority, and (20, 30] lies wholly after the heal */
    memset(n, 0, sizeof n);
    cq_cluster_elect(n);
    for (int tick = 20; tick <= 40; tick++) {
        if (tick % 2 == 0) /* fetches arriving between tick-1 and tick */
            for (uint32_t v = 2; v <= 4; v++)
                fetch_round(&n[v - 1], &n[0]);
        ttick(&n[0], 1);
        ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
        tnode_clear(&n[0]);
    }
    for (uint32_t i = 0; i < 4; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_check_quorum_off_keeps_leader)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    cfg.bug_no_check_quorum = true;
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, &cfg);
    elect(n, 3, 1);
    ttick(&n[0], 100);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_hw_needs_current_epoch_entry_and_voters)
{
    /* leader 1 (epoch 2) holds epoch-1 entries 1..3; followers 2,3 have none;
     * observer 4 fetches everything but never counts */
    static struct tnode n[4];
    memset(n, 0, sizeof n);
    n[0].st.hs = (struct raft_hard_state){ 1, 1, false };
    for (int i = 0; i < 3; i++)
        ts_append(&n[0].st, 1, RAFT_ENTRY_DATA, "old", 3);
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    cfg.entries_per_msg_max = 1; /* one entry per fetch: replication in steps */
    for (uint32_t i = 0; i < 4; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, &cfg);
    elect(n, 3, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    ck_assert_uint_eq(raft_epoch_get(n[0].r), 2);
    ck_assert_uint_eq(raft_last_index_get(n[0].r), 4); /* 3 old + LeaderChange */
    /* observer 4 learns the leader and fetches the whole log: HW stays 0 */
    struct raft_msg m = { .type = RAFT_MSG_BEGIN_EPOCH, .from = 1, .to = 4, .epoch = 2 };
    tstep(&n[3], &m);
    for (int i = 0; i < 6; i++)
        fetch_round(&n[3], &n[0]);
    ck_assert_uint_eq(raft_last_index_get(n[3].r), 4);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 0);
    /* follower 2 fetches entries 1..3 (old epoch) and reports offset 4 */
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    for (int i = 0; i < 4; i++)
        fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 4);
    /* majority {1,2} has 1..3 durable, but they are epoch 1: HW must not move
     * until the epoch-2 LeaderChange entry at 4 is on a majority */
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 0);
    fetch_round(&n[1], &n[0]); /* fetch offset 5: index 4 is on node 2 */
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 4);
    ck_assert_uint_eq(n[0].applied, 4);
    /* the HW reaches the follower in the next fetch response */
    fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_high_watermark_get(n[1].r), 4);
    for (uint32_t i = 0; i < 4; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* cfg.persist_async: raft_advance no longer implies raft_persisted.  The
 * leader's own entry counts toward the majority only once the driver reports
 * its sync, and nothing is handed out as committed before that. */
START_TEST(test_leader_counts_itself_only_once_persisted)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    cfg.persist_async = true;
    tnode_create(&n[0], 1, t_voters3, 3, &cfg);
    tnode_create(&n[1], 2, t_voters3, 3, NULL);
    tnode_create(&n[2], 3, t_voters3, 3, NULL);
    elect(n, 3, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    ck_assert_uint_eq(raft_last_index_get(n[0].r), 1); /* LeaderChange, written, not synced */
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    fetch_round(&n[1], &n[0]); /* node 2 gets entry 1 */
    fetch_round(&n[1], &n[0]); /* and acknowledges it (fetch offset 2) */
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 1);
    /* majority {1, 2} holds entry 1, but node 1 has not synced it: no commit */
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 0);
    ck_assert_uint_eq(n[0].applied, 0);
    uint32_t id, idle;
    uint64_t match;
    ck_assert(raft_voter_progress(n[0].r, 0, &id, &match, &idle));
    ck_assert_uint_eq(match, 0);
    /* the sync completes: now the leader counts itself and applies */
    raft_persisted(n[0].r, 1);
    tnode_ready(&n[0]);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 1);
    ck_assert_uint_eq(n[0].applied, 1);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_hw_bug_counts_old_epoch)
{
    /* the same scenario with the re-injected bug commits the old entries early */
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    n[0].st.hs = (struct raft_hard_state){ 1, 1, false };
    for (int i = 0; i < 3; i++)
        ts_append(&n[0].st, 1, RAFT_ENTRY_DATA, "old", 3);
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    cfg.entries_per_msg_max = 1;
    cfg.bug_hw_from_old_epoch = true;
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, &cfg);
    elect(n, 3, 1);
    struct raft_msg m;
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    for (int i = 0; i < 4; i++)
        fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 3);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* solo_leader - n, the only voter of `voters`, leads with `entries` data
 * entries committed after its epoch's first. */
static void solo_leader(struct tnode *n, const uint32_t *voters, int entries)
{
    tnode_create(n, 1, voters, 1, NULL);
    ttick(n, 25);
    ck_assert_int_eq(raft_role_get(n->r), RAFT_LEADER);
    for (int i = 0; i < entries; i++) {
        uint64_t idx;
        ck_assert_int_eq(raft_propose(n->r, "data", 4, &idx), 0);
        tnode_ready(n);
    }
}

/* A node restarted on a snapshot that already covers the leader's HW has
 * nothing to apply; raft_holds_leader_hw tells its driver it is caught up
 * once the leader's answer shows that (the controller waited for an entry
 * an idle quorum never commits: ctrl sim seed 59017). */
START_TEST(test_restart_on_snapshot_holding_hw)
{
    static struct tnode n[2];
    memset(n, 0, sizeof n);
    static const uint32_t voters[] = { 1 };
    solo_leader(&n[0], voters, 3);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 4);
    /* node 2 restarts with a snapshot at 4 and an empty log after it */
    n[1].st.snap = (struct raft_snapshot_id){ 4, 1 };
    n[1].st.hs.epoch = 1;
    tnode_create(&n[1], 2, voters, 1, NULL);
    ck_assert(!raft_holds_leader_hw(n[1].r)); /* its HW (4) is its own, not heard from a leader */
    for (int i = 0; i < 2; i++)
        fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_leader_get(n[1].r), 1);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 4);
    ck_assert_uint_eq(n[1].applied, 0); /* nothing applied in this life */
    ck_assert(raft_holds_leader_hw(n[1].r));
    ck_assert(!raft_holds_leader_hw(n[0].r)); /* a leader is not a follower holding its HW */
    tnode_destroy(&n[0]);
    tnode_destroy(&n[1]);
}
END_TEST

START_TEST(test_observer_catches_up_via_snapshot)
{
    static struct tnode n[2];
    memset(n, 0, sizeof n);
    static const uint32_t voters[] = { 1 };
    solo_leader(&n[0], voters, 6);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 7);
    ck_assert_uint_eq(n[0].applied, 7);
    ck_assert_int_eq(raft_snapshot_taken(n[0].r, 8), ERR_INVALID); /* not applied yet */
    ck_assert_int_eq(raft_snapshot_taken(n[0].r, 5), 0);
    /* the driver cuts its log behind the snapshot */
    struct tstore *st = &n[0].st;
    memmove(st->ents, st->ents + 5, 2 * sizeof st->ents[0]);
    memmove(st->data, st->data + 5, 2 * sizeof st->data[0]);
    for (int i = 0; i < 2; i++)
        st->ents[i].data = bytes_make(st->data[i], st->ents[i].data.len);
    st->snap = (struct raft_snapshot_id){ 5, 1 };
    st->count = 2;
    /* observer 2 starts empty and probes the only voter */
    tnode_create(&n[1], 2, voters, 1, NULL);
    ttick(&n[1], 2);
    struct raft_msg m, resp;
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    ck_assert_uint_eq(m.fetch_offset, 1);
    tstep(&n[0], &m);
    /* its epoch 0 is fenced: the answer names the epoch and the leader */
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &resp));
    ck_assert_int_eq(resp.status, RAFT_FETCH_NOT_LEADER);
    ck_assert_uint_eq(resp.leader_id, 1);
    tstep(&n[1], &resp);
    ck_assert_uint_eq(raft_leader_get(n[1].r), 1);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    tstep(&n[0], &m);
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &resp));
    ck_assert_int_eq(resp.status, RAFT_FETCH_SNAPSHOT);
    ck_assert_uint_eq(resp.snapshot_id.index, 5);
    tstep(&n[1], &resp);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_SNAPSHOT_REQ, 1, &m));
    tstep(&n[0], &m);
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_SNAPSHOT_RESP, 2, &resp));
    ck_assert_uint_eq(resp.snapshot_id.index, 5);
    resp.snapshot_data = bytes_make("state", 5); /* the driver attaches the bytes */
    tstep(&n[1], &resp);
    ck_assert(n[1].installed);
    ck_assert_uint_eq(n[1].st.snap.index, 5);
    ck_assert_uint_eq(raft_high_watermark_get(n[1].r), 5);
    /* then ordinary fetches bring the tail after the snapshot */
    for (int i = 0; i < 3; i++)
        fetch_round(&n[1], &n[0]);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 7);
    ck_assert_uint_eq(raft_high_watermark_get(n[1].r), 7);
    ck_assert_uint_eq(n[1].applied, 7);
    ck_assert_int_eq(raft_role_get(n[1].r), RAFT_FOLLOWER); /* observers never campaign */
    ttick(&n[1], 100);
    ck_assert_int_eq(raft_role_get(n[1].r), RAFT_FOLLOWER);
    tnode_destroy(&n[0]);
    tnode_destroy(&n[1]);
}
END_TEST

/* A late FETCH_SNAPSHOT_RESP must not drop entries a fetch acknowledged
 * (controller simulator seed 54852).  The follower asks for the snapshot,
 * then a delayed answer to an older fetch brings the entries past it and
 * its next fetch acknowledges them; when the snapshot arrives its last
 * entry is already in the log (same index and epoch): Raft §7 keeps the log
 * and drops the snapshot.  Installing it cut the log below what the leader
 * counts for this voter. */
START_TEST(test_late_snapshot_keeps_acknowledged_log)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    elect3(n);
    struct raft_msg m, late, snap_resp;
    for (uint32_t f = 2; f <= 3; f++) {
        ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, f, &m));
        tstep(&n[f - 1], &m);
        fetch_round(&n[f - 1], &n[0]);
        fetch_round(&n[f - 1], &n[0]);
    }
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 1);
    uint64_t epoch = raft_epoch_get(n[0].r), idx;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(raft_propose(n[0].r, "data", 4, &idx), 0);
        tnode_ready(&n[0]);
    }
    ck_assert_uint_eq(idx, 5);
    /* node 2's fetch is answered with entries 2..5 and HW 1; the answer is delayed */
    tnode_clear(&n[1]);
    ttick(&n[1], 2);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    ck_assert_uint_eq(m.fetch_offset, 2);
    tstep(&n[0], &m);
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &late));
    ck_assert_int_eq(late.status, RAFT_FETCH_OK);
    ck_assert_uint_eq(late.entry_count, 4);
    ck_assert_uint_eq(late.high_watermark, 1);
    static struct raft_entry late_ents[T_BATCH_MAX];
    static uint8_t late_data[T_BATCH_MAX][T_DATA_MAX];
    tmsg_keep(&late, late_ents, late_data); /* the next take reuses tnode_take's copies */
    /* node 3 commits 2..5; the leader snapshots at 4 and cuts its log */
    fetch_round(&n[2], &n[0]);
    fetch_round(&n[2], &n[0]);
    ck_assert_uint_eq(raft_high_watermark_get(n[0].r), 5);
    ck_assert_uint_eq(n[0].applied, 5);
    ck_assert_int_eq(raft_snapshot_taken(n[0].r, 4), 0);
    struct tstore *st = &n[0].st;
    st->ents[0] = st->ents[4];
    memcpy(st->data[0], st->data[4], sizeof st->data[0]);
    st->ents[0].data = bytes_make(st->data[0], st->ents[0].data.len);
    st->snap = (struct raft_snapshot_id){ 4, epoch };
    st->count = 1;
    /* node 2 fetches again (offset 2): SNAPSHOT; it asks; the answer waits */
    tnode_clear(&n[1]);
    fetch_round(&n[1], &n[0]);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_SNAPSHOT_REQ, 1, &m));
    tstep(&n[0], &m);
    ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_SNAPSHOT_RESP, 2, &snap_resp));
    ck_assert_uint_eq(snap_resp.snapshot_id.index, 4);
    snap_resp.snapshot_data = bytes_make("state", 5);
    /* the late answer arrives: node 2 appends 2..5 and acknowledges them */
    tnode_clear(&n[1]);
    tstep(&n[1], &late);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 5);
    ck_assert_uint_lt(raft_high_watermark_get(n[1].r), 4);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m));
    ck_assert_uint_eq(m.fetch_offset, 6);
    tstep(&n[0], &m);
    uint32_t id, idle;
    uint64_t match;
    ck_assert(raft_voter_progress(n[0].r, 1, &id, &match, &idle));
    ck_assert_uint_eq(id, 2);
    ck_assert_uint_eq(match, 5);
    /* then the snapshot: its last entry (4, epoch) is in the log, kept whole */
    tstep(&n[1], &snap_resp);
    ck_assert(!n[1].installed);
    ck_assert_uint_eq(raft_last_index_get(n[1].r), 5);
    ck_assert_uint_eq(n[1].st.snap.index + n[1].st.count, 5);
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

/* An idle voter whose last fetch, one tick before a propose, came back empty
 * has just doubled its interval: the leader wakes it although it fetched
 * recently (with the controller's settings: fetch 1, heartbeat 10, idle max
 * 10 ticks), so the entry does not wait a whole back-off for it. */
START_TEST(test_idle_wake_right_after_empty_fetch)
{
    static struct tnode n[3];
    memset(n, 0, sizeof n);
    struct raft_config o;
    raft_config_defaults(&o);
    o.election_ticks = 100;
    o.heartbeat_ticks = 10;
    o.fetch_ticks = 1;
    o.fetch_idle_ticks_max = 10;
    for (uint32_t i = 0; i < 3; i++)
        tnode_create(&n[i], i + 1, t_voters3, 3, &o);
    for (int i = 0; i < 300 && raft_role_get(n[0].r) == RAFT_FOLLOWER; i++)
        ttick(&n[0], 1);
    elect(n, 3, 1);
    ck_assert_int_eq(raft_role_get(n[0].r), RAFT_LEADER);
    struct raft_msg m, r0;
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m));
    tstep(&n[1], &m);
    for (int i = 0; i < 8; i++) { /* the epoch's entry, its HW, then empty answers: backed off */
        bool got = false;
        for (int t = 0; t <= 12 && !(got = tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m)); t++) {
            ttick(&n[1], 1);
            ttick(&n[0], 1);
        }
        ck_assert(got);
        tstep(&n[0], &m);
        ck_assert(tnode_take(&n[0], RAFT_MSG_FETCH_RESP, 2, &r0));
        tstep(&n[1], &r0);
    }
    tnode_clear(&n[0]);
    tnode_clear(&n[1]);
    ttick(&n[0], 1);
    ttick(&n[1], 1);
    uint64_t index = 0;
    ck_assert_int_eq(raft_propose(n[0].r, "x", 1, &index), 0);
    tnode_ready(&n[0]);
    ck_assert(tnode_take(&n[0], RAFT_MSG_BEGIN_EPOCH, 2, &m)); /* woken */
    tstep(&n[1], &m);
    ck_assert(tnode_take(&n[1], RAFT_MSG_FETCH_REQ, 1, &m)); /* at once, not after its back-off */
    for (uint32_t i = 0; i < 3; i++)
        tnode_destroy(&n[i]);
}
END_TEST

START_TEST(test_config_rejected)
{
    struct raft_config cfg;
    raft_config_defaults(&cfg);
    struct raft *r = NULL;
    ck_assert_int_eq(raft_create(&cfg, &r), ERR_CONFIG); /* no id, no voters */
    ck_assert_ptr_null(r);
    static struct tnode n;
    memset(&n, 0, sizeof n);
    raft_config_defaults(&cfg);
    cfg.id = 1;
    cfg.voters[0] = 1;
    cfg.voter_count = 1;
    cfg.storage = (struct raft_storage){ &n.st, ts_last, ts_entries, ts_snapshot, ts_hard_state };
    cfg.election_ticks = 100;
    cfg.heartbeat_ticks = 40;
    cfg.fetch_ticks = 1;
    cfg.fetch_idle_ticks_max = 60; /* the back-off must stay under half the election timeout */
    ck_assert_int_eq(raft_create(&cfg, &r), ERR_CONFIG);
    cfg.fetch_idle_ticks_max = 80; /* and under 2 x heartbeat_ticks */
    ck_assert_int_eq(raft_create(&cfg, &r), ERR_CONFIG);
    cfg.fetch_idle_ticks_max = 49;
    ck_assert_int_eq(raft_create(&cfg, &r), 0);
    raft_destroy(r);
}
END_TEST

static Suite *raft_suite(void)
{
    Suite *s = suite_create("raft");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_election_prevote_then_vote);
    tcase_add_test(tc, test_node_id_zero);
    tcase_add_test(tc, test_prevote_refused_while_leader_healthy);
    tcase_add_test(tc, test_prevote_rejection_naming_a_dead_leader);
    tcase_add_test(tc, test_prevote_from_a_voter_ahead_in_epoch);
    tcase_add_test(tc, test_vote_refused_for_stale_log);
    tcase_add_test(tc, test_divergence_truncation);
    tcase_add_test(tc, test_check_quorum_resigns);
    tcase_add_test(tc, test_check_quorum_judges_whole_window);
    tcase_add_test(tc, test_check_quorum_off_keeps_leader);
    tcase_add_test(tc, test_hw_needs_current_epoch_entry_and_voters);
    tcase_add_test(tc, test_hw_bug_counts_old_epoch);
    tcase_add_test(tc, test_leader_counts_itself_only_once_persisted);
    tcase_add_test(tc, test_observer_catches_up_via_snapshot);
    tcase_add_test(tc, test_late_snapshot_keeps_acknowledged_log);
    tcase_add_test(tc, test_config_rejected);
    tcase_add_test(tc, test_idle_fetch_backoff_and_wake);
    tcase_add_test(tc, test_idle_wake_right_after_empty_fetch);
    tcase_add_test(tc, test_restart_on_snapshot_holding_hw);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(raft_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
