/*
 * raft.c - roles and step functions of the pure Raft core.  See raft.h and
 * raft/README.md for the contract; this file's local invariants:
 *
 *  - hs is the hard state as the core wants it; hs_persisted is what the
 *    driver last made durable.  A message that depends on hs is only ever
 *    queued in the outbox, and the outbox is only released in a ready that
 *    also carries hs: persist before send.
 *  - Between raft_ready and raft_advance nothing else may be called
 *    (ready_pending, asserted): the outbox, the tail and the committed array
 *    handed out must not change under the driver.
 *  - The leader counts itself only up to `persisted`; the high watermark only
 *    moves forward, and on a leader only onto an entry of its own epoch.
 *  - Observers never vote, never campaign, never count.
 */
#include "raft/raft.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/prng.h"
#include "raft/raft_log.h"

struct raft_peer {
    uint32_t id;
    uint64_t match_index;      /* highest index known to match (and be durable) there */
    uint32_t fetch_idle_ticks; /* ticks since its last fetch */
    bool recent_active;        /* fetched in this check-quorum window */
    bool woken;                /* sent a BeginQuorumEpoch to end its idle back-off; cleared by its fetch */
    bool answered_empty;       /* its last fetch got no entries: it may be backing off now */
    bool vote_granted;
    bool vote_rejected;
};

struct raft {
    struct raft_config cfg;
    struct prng prng;
    struct raft_log log;
    enum raft_role role;
    bool is_voter;
    uint32_t majority;
    struct raft_hard_state hs;
    struct raft_hard_state hs_persisted;
    uint32_t leader_id;
    uint64_t hw;
    uint64_t applied;
    uint64_t persisted;
    uint32_t election_elapsed;
    uint32_t election_timeout; /* randomized in [election_ticks, 2*election_ticks) */
    uint32_t heartbeat_elapsed;
    uint32_t fetch_elapsed;
    uint32_t fetch_interval;   /* ticks between fetches now: fetch_ticks, doubled while idle */
    bool holds_leader_hw;      /* follower: a fetch answer of this leader found the log holding its HW */
    uint32_t quorum_elapsed;
    uint32_t probe_index;      /* leaderless fetcher: next voter to ask */
    uint32_t gave_up_leader;   /* the leader this node timed out on, in gave_up_epoch */
    uint64_t gave_up_epoch;
    struct raft_peer peers[RAFT_VOTERS_MAX];

    struct raft_msg *msgs;
    uint32_t msg_count;
    struct raft_entry *msg_entries; /* msgs_max * entries_per_msg_max */
    struct raft_entry *committed;
    bool ready_pending;

    bool snap_pending;
    struct raft_snapshot_id snap_id;
    uint8_t *snap_buf;
    uint32_t snap_len;

    char line[256];
};

static void raft_logf(struct raft *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void raft_logf(struct raft *r, const char *fmt, ...)
{
    if (!r->cfg.log_cb)
        return;
    int n = snprintf(r->line, sizeof r->line, "node=%u epoch=%llu role=%s ", r->cfg.id,
                     (unsigned long long)r->hs.epoch, raft_role_name(r->role));
    if (n < 0 || (size_t)n >= sizeof r->line)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->line + n, sizeof r->line - (size_t)n, fmt, ap);
    va_end(ap);
    r->cfg.log_cb(r->cfg.log_ctx, r->line);
}

const char *raft_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER: return "follower";
    case RAFT_PROSPECTIVE: return "prospective";
    case RAFT_CANDIDATE: return "candidate";
    case RAFT_LEADER: return "leader";
    }
    return "unknown";
}

void raft_config_defaults(struct raft_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->election_ticks = 10;
    cfg->heartbeat_ticks = 2;
    cfg->fetch_ticks = 2;
    cfg->check_quorum = true;
    cfg->pre_vote = true;
    cfg->msgs_max = 64;
    cfg->entries_per_msg_max = 64;
    cfg->unstable_entries_max = 1024;
    cfg->entry_bytes_max = 1024 * 1024;
    cfg->unstable_bytes_max = 4 * 1024 * 1024;
    cfg->committed_per_ready_max = 256;
    cfg->snapshot_bytes_max = 0;
}

static int raft_voter_index(const struct raft *r, uint32_t id)
{
    for (uint32_t i = 0; i < r->cfg.voter_count; i++)
        if (r->cfg.voters[i] == id)
            return (int)i;
    return -1;
}

static bool raft_pre_vote_on(const struct raft *r)
{
    return r->cfg.pre_vote && !r->cfg.bug_no_pre_vote;
}

static bool raft_check_quorum_on(const struct raft *r)
{
    return r->cfg.check_quorum && !r->cfg.bug_no_check_quorum;
}

static void raft_election_reset(struct raft *r)
{
    r->election_elapsed = 0;
    r->election_timeout =
        r->cfg.election_ticks + (uint32_t)prng_range(&r->prng, r->cfg.election_ticks);
}

/* raft_msg_new - an outbox slot, or NULL when full (the message is dropped,
 * which Raft tolerates like any loss). */
static struct raft_msg *raft_msg_new(struct raft *r, enum raft_msg_type type, uint32_t to)
{
    ASSERT(to != r->cfg.id);
    if (r->msg_count >= r->cfg.msgs_max)
        return NULL;
    struct raft_msg *m = &r->msgs[r->msg_count++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->from = r->cfg.id;
    m->to = to;
    m->epoch = r->hs.epoch;
    m->leader_id = r->leader_id;
    return m;
}

static void raft_fetch_send(struct raft *r)
{
    uint32_t to = r->leader_id;
    if (r->snap_pending)
        return;
    if (to == RAFT_ID_NONE) {
        /* leaderless fetcher (observer, catching-up voter): probe voters */
        to = r->cfg.voters[r->probe_index % r->cfg.voter_count];
        r->probe_index++;
        if (to == r->cfg.id)
            return;
    }
    struct raft_msg *m = raft_msg_new(r, RAFT_MSG_FETCH_REQ, to);
    r->fetch_elapsed = 0;
    if (!m)
        return;
    uint64_t last = raft_log_last_index(&r->log);
    m->fetch_offset = last + 1;
    m->last_fetched_epoch = raft_log_last_epoch(&r->log);
}

/* A fetch answered with no entries.  A voter that learned nothing either
 * (not even a new HW) doubles its fetch interval up to fetch_idle_ticks_max:
 * an idle quorum then costs a few fetches a second instead of one per tick.
 * The leader's BeginQuorumEpoch brings it back at once when there is news
 * (raft_propose), so latency only grows for what no leader announces. */
static void raft_fetch_idle(struct raft *r, bool hw_moved)
{
    r->fetch_elapsed = 0;
    if (hw_moved || !r->is_voter || r->hs.catching_up) {
        r->fetch_interval = r->cfg.fetch_ticks;
        return;
    }
    uint32_t next = r->fetch_interval * 2;
    r->fetch_interval = next < r->cfg.fetch_idle_ticks_max ? next : r->cfg.fetch_idle_ticks_max;
    if (r->fetch_interval < r->cfg.fetch_ticks)
        r->fetch_interval = r->cfg.fetch_ticks;
}

static void raft_become_follower(struct raft *r, uint64_t epoch, uint32_t leader_id)
{
    ASSERT(epoch >= r->hs.epoch);
    enum raft_role old = r->role;
    if (epoch > r->hs.epoch) {
        r->hs.epoch = epoch;
        r->hs.voted_for = RAFT_ID_NONE;
    }
    r->role = RAFT_FOLLOWER;
    r->leader_id = leader_id == r->cfg.id ? RAFT_ID_NONE : leader_id;
    r->fetch_interval = r->cfg.fetch_ticks;
    r->holds_leader_hw = false;
    raft_election_reset(r);
    if (old != RAFT_FOLLOWER)
        raft_logf(r, "event=become_follower leader=%d", r->leader_id == RAFT_ID_NONE ? -1 : (int)r->leader_id);
    if (r->leader_id != RAFT_ID_NONE)
        raft_fetch_send(r);
}

static uint32_t raft_votes_count(const struct raft *r, bool granted)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->cfg.voter_count; i++)
        n += granted ? r->peers[i].vote_granted : r->peers[i].vote_rejected;
    return n;
}

static void raft_hw_maybe_advance(struct raft *r);

static void raft_become_leader(struct raft *r)
{
    r->role = RAFT_LEADER;
    r->leader_id = r->cfg.id;
    r->heartbeat_elapsed = 0;
    r->quorum_elapsed = 0;
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        struct raft_peer *p = &r->peers[i];
        p->match_index = 0;
        p->fetch_idle_ticks = UINT32_MAX / 2;
        p->recent_active = false;
    }
    /* the LeaderChange control entry: lets the HW move in this epoch at once */
    int rc = raft_log_append(&r->log, r->hs.epoch, RAFT_ENTRY_LEADER_CHANGE, bytes_make("", 0), NULL);
    if (rc < 0)
        raft_logf(r, "event=leader_change_append_failed err=%d", rc);
    raft_logf(r, "event=become_leader last_index=%llu",
              (unsigned long long)raft_log_last_index(&r->log));
    for (uint32_t i = 0; i < r->cfg.voter_count; i++)
        if (r->cfg.voters[i] != r->cfg.id)
            (void)raft_msg_new(r, RAFT_MSG_BEGIN_EPOCH, r->cfg.voters[i]);
    raft_hw_maybe_advance(r);
}

static void raft_become_candidate(struct raft *r)
{
    r->role = RAFT_CANDIDATE;
    r->hs.epoch++;
    r->hs.voted_for = r->cfg.id;
    r->leader_id = RAFT_ID_NONE;
    raft_election_reset(r);
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        r->peers[i].vote_granted = r->cfg.voters[i] == r->cfg.id;
        r->peers[i].vote_rejected = false;
    }
    raft_logf(r, "event=become_candidate");
    if (raft_votes_count(r, true) >= r->majority) {
        raft_become_leader(r);
        return;
    }
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        if (r->cfg.voters[i] == r->cfg.id)
            continue;
        struct raft_msg *m = raft_msg_new(r, RAFT_MSG_VOTE_REQ, r->cfg.voters[i]);
        if (!m)
            continue;
        m->last_index = raft_log_last_index(&r->log);
        m->last_epoch = raft_log_last_epoch(&r->log);
    }
}

static void raft_become_prospective(struct raft *r)
{
    r->role = RAFT_PROSPECTIVE;
    r->leader_id = RAFT_ID_NONE;
    raft_election_reset(r);
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        r->peers[i].vote_granted = r->cfg.voters[i] == r->cfg.id;
        r->peers[i].vote_rejected = false;
    }
    if (raft_votes_count(r, true) >= r->majority) {
        raft_become_candidate(r);
        return;
    }
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        if (r->cfg.voters[i] == r->cfg.id)
            continue;
        struct raft_msg *m = raft_msg_new(r, RAFT_MSG_VOTE_REQ, r->cfg.voters[i]);
        if (!m)
            continue;
        m->epoch = r->hs.epoch + 1;
        m->pre_vote = true;
        m->last_index = raft_log_last_index(&r->log);
        m->last_epoch = raft_log_last_epoch(&r->log);
    }
}

static void raft_campaign(struct raft *r)
{
    if (!r->is_voter || r->hs.catching_up)
        return;
    if (r->role == RAFT_FOLLOWER) {
        r->gave_up_leader = r->leader_id;
        r->gave_up_epoch = r->hs.epoch;
    }
    if (raft_pre_vote_on(r))
        raft_become_prospective(r);
    else
        raft_become_candidate(r);
}

/* ---- leader: high watermark ------------------------------------------- */

static void raft_hw_maybe_advance(struct raft *r)
{
    ASSERT(r->role == RAFT_LEADER);
    uint64_t match[RAFT_VOTERS_MAX];
    uint32_t n = r->cfg.voter_count;
    uint64_t last = raft_log_last_index(&r->log);
    for (uint32_t i = 0; i < n; i++) {
        if (r->cfg.voters[i] == r->cfg.id)
            match[i] = r->persisted < last ? r->persisted : last;
        else
            match[i] = r->peers[i].match_index;
    }
    /* sort descending (n <= 7) */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && match[j] > match[j - 1]; j--) {
            uint64_t t = match[j];
            match[j] = match[j - 1];
            match[j - 1] = t;
        }
    uint64_t cand = match[r->majority - 1];
    if (cand <= r->hw)
        return;
    uint64_t epoch = 0;
    if (raft_log_epoch_at(&r->log, cand, &epoch) < 0)
        return;
    if (epoch != r->hs.epoch && !r->cfg.bug_hw_from_old_epoch)
        return; /* Raft §5.4.2: only an entry of our own epoch commits by counting */
    r->hw = cand;
}

/* ---- leader: fetch handling ------------------------------------------- */

static void raft_fetch_answer(struct raft *r, const struct raft_msg *m)
{
    struct raft_msg *resp = raft_msg_new(r, RAFT_MSG_FETCH_RESP, m->from);
    if (!resp)
        return;
    resp->fetch_offset = m->fetch_offset;
    resp->last_fetched_epoch = m->last_fetched_epoch;
    resp->high_watermark = r->hw;
    if (r->role != RAFT_LEADER) {
        resp->status = RAFT_FETCH_NOT_LEADER; /* leader_id names whom we follow */
        return;
    }
    if (m->fetch_offset == 0) {
        resp->status = RAFT_FETCH_NOT_LEADER; /* malformed: offsets start at 1 */
        return;
    }
    int vi = raft_voter_index(r, m->from);
    if (vi >= 0) {
        /* any fetch at our epoch proves a live follower (check-quorum) */
        r->peers[vi].recent_active = true;
        r->peers[vi].fetch_idle_ticks = 0;
        r->peers[vi].woken = false;
        r->peers[vi].answered_empty = false;
    }
    uint64_t prev = m->fetch_offset - 1;
    uint64_t last = raft_log_last_index(&r->log);
    struct raft_snapshot_id snap;
    raft_log_snapshot_get(&r->log, &snap);
    if (prev < snap.index) {
        resp->status = RAFT_FETCH_SNAPSHOT;
        resp->snapshot_id = snap;
        return;
    }
    uint64_t epoch_prev = 0;
    bool match = prev <= last && raft_log_epoch_at(&r->log, prev, &epoch_prev) == 0 &&
                 epoch_prev == m->last_fetched_epoch;
    if (!match) {
        /* largest index <= prev whose epoch <= last_fetched_epoch */
        uint64_t i = prev < last ? prev : last;
        uint64_t e = 0;
        for (;;) {
            if (raft_log_epoch_at(&r->log, i, &e) < 0) {
                resp->status = RAFT_FETCH_SNAPSHOT;
                resp->snapshot_id = snap;
                return;
            }
            if (e <= m->last_fetched_epoch)
                break;
            if (i == snap.index) {
                resp->status = RAFT_FETCH_SNAPSHOT;
                resp->snapshot_id = snap;
                return;
            }
            i--;
        }
        resp->status = RAFT_FETCH_DIVERGING;
        resp->diverging_epoch = e;
        resp->diverging_end_offset = i;
        return;
    }
    resp->status = RAFT_FETCH_OK;
    struct raft_entry *slot = &r->msg_entries[(resp - r->msgs) * r->cfg.entries_per_msg_max];
    uint32_t count = 0;
    if (m->fetch_offset <= last) {
        int rc = raft_log_entries(&r->log, m->fetch_offset, last, slot,
                                  r->cfg.entries_per_msg_max, &count);
        if (rc < 0)
            count = 0;
    }
    resp->entries = slot;
    resp->entry_count = count;

    if (vi >= 0) {
        r->peers[vi].answered_empty = count == 0;
        r->peers[vi].match_index = prev; /* verified to match; a wiped voter may go down */
        raft_hw_maybe_advance(r);
        resp->high_watermark = r->hw;
    }
}

/* ---- votes -------------------------------------------------------------- */

static bool raft_log_up_to_date(struct raft *r, uint64_t last_index, uint64_t last_epoch)
{
    if (r->cfg.bug_vote_without_log_check)
        return true;
    uint64_t my_epoch = raft_log_last_epoch(&r->log);
    if (last_epoch != my_epoch)
        return last_epoch > my_epoch;
    return last_index >= raft_log_last_index(&r->log);
}

static void raft_vote_answer(struct raft *r, const struct raft_msg *m)
{
    bool can_vote = r->is_voter && !r->hs.catching_up && raft_voter_index(r, m->from) >= 0;
    bool up = raft_log_up_to_date(r, m->last_index, m->last_epoch);
    bool grant;
    uint64_t epoch = r->hs.epoch;
    if (m->pre_vote) {
        bool in_lease = r->role == RAFT_LEADER ||
                        (r->role == RAFT_FOLLOWER && r->leader_id != RAFT_ID_NONE &&
                         r->election_elapsed < r->cfg.election_ticks);
        grant = can_vote && m->epoch > r->hs.epoch && up && !in_lease;
        if (grant)
            epoch = m->epoch;
    } else {
        grant = can_vote && m->epoch == r->hs.epoch && up && r->role == RAFT_FOLLOWER &&
                (r->hs.voted_for == m->from || (r->hs.voted_for == RAFT_ID_NONE && r->leader_id == RAFT_ID_NONE));
        if (grant) {
            r->hs.voted_for = m->from;
            raft_election_reset(r);
        }
    }
    struct raft_msg *resp = raft_msg_new(r, RAFT_MSG_VOTE_RESP, m->from);
    if (!resp)
        return;
    resp->epoch = epoch;
    resp->pre_vote = m->pre_vote;
    resp->granted = grant;
}

static void raft_vote_result(struct raft *r, const struct raft_msg *m)
{
    int vi = raft_voter_index(r, m->from);
    if (vi < 0)
        return;
    if (m->granted)
        r->peers[vi].vote_granted = true;
    else
        r->peers[vi].vote_rejected = true;
    /* A rejection naming a leader: follow it, unless it is the leader this
     * node itself timed out on in this epoch (the rejecter has simply not
     * timed out yet).  Following it again would restart both nodes' lease
     * in turn: two voters left by a dead leader, one behind the other,
     * would reject each other forever (csim seed 792). */
    bool gave_up = m->leader_id == r->gave_up_leader && r->gave_up_epoch == r->hs.epoch;
    if (!m->granted && m->leader_id != RAFT_ID_NONE && m->leader_id != r->cfg.id && m->epoch == r->hs.epoch && !gave_up) {
        raft_become_follower(r, r->hs.epoch, m->leader_id);
        return;
    }
    if (raft_votes_count(r, true) >= r->majority) {
        if (r->role == RAFT_PROSPECTIVE)
            raft_become_candidate(r);
        else
            raft_become_leader(r);
    } else if (raft_votes_count(r, false) >= r->majority) {
        raft_become_follower(r, r->hs.epoch, RAFT_ID_NONE);
    }
}

/* ---- follower: fetch responses ---------------------------------------- */

static void raft_follower_fetched(struct raft *r, const struct raft_msg *m)
{
    if (m->status == RAFT_FETCH_NOT_LEADER) {
        if (m->epoch != r->hs.epoch)
            return;
        uint32_t hint = m->leader_id == r->cfg.id ? RAFT_ID_NONE : m->leader_id;
        r->holds_leader_hw = false;
        if (r->leader_id == m->from) {
            r->leader_id = hint; /* it resigned (or never led): forget it */
            if (hint != RAFT_ID_NONE)
                raft_fetch_send(r);
        } else if (r->leader_id == RAFT_ID_NONE && hint != RAFT_ID_NONE) {
            r->leader_id = hint;
            raft_fetch_send(r);
        }
        return;
    }
    /* only this epoch's leader answers OK/DIVERGING/SNAPSHOT */
    if (r->leader_id == RAFT_ID_NONE)
        r->leader_id = m->from;
    if (m->from != r->leader_id)
        return;
    r->election_elapsed = 0;
    if (r->snap_pending)
        return;
    uint64_t last = raft_log_last_index(&r->log);
    if (m->fetch_offset != last + 1 || m->last_fetched_epoch != raft_log_last_epoch(&r->log))
        return; /* a stale or duplicated answer */
    switch (m->status) {
    case RAFT_FETCH_OK: {
        uint32_t appended = 0;
        for (uint32_t i = 0; i < m->entry_count; i++) {
            const struct raft_entry *e = &m->entries[i];
            if (e->index != last + 1 || e->data.len > r->cfg.entry_bytes_max)
                break;
            if (raft_log_append(&r->log, e->epoch, e->type, e->data, NULL) < 0)
                break;
            last++;
            appended++;
        }
        uint64_t hw = m->high_watermark < last ? m->high_watermark : last;
        r->holds_leader_hw = last >= m->high_watermark;
        bool hw_moved = hw > r->hw;
        if (hw_moved)
            r->hw = hw;
        /* a lost disk is caught up once it holds the leader's HW *and* that HW
         * covers an entry of the leader's epoch: only then does it cover
         * everything committed before (a new leader's HW can lag) */
        uint64_t hw_epoch = 0;
        if (r->hs.catching_up && last >= m->high_watermark && m->high_watermark > 0 &&
            raft_log_epoch_at(&r->log, m->high_watermark, &hw_epoch) == 0 && hw_epoch == m->epoch)
            r->hs.catching_up = false;
        if (appended > 0) {
            r->fetch_interval = r->cfg.fetch_ticks;
            raft_fetch_send(r);
        } else {
            raft_fetch_idle(r, hw_moved);
        }
        break;
    }
    case RAFT_FETCH_DIVERGING: {
        struct raft_snapshot_id snap;
        raft_log_snapshot_get(&r->log, &snap);
        uint64_t t = m->diverging_end_offset < last ? m->diverging_end_offset : last;
        uint64_t e = 0;
        while (t > snap.index && raft_log_epoch_at(&r->log, t, &e) == 0 && e > m->diverging_epoch)
            t--;
        if (t < r->hw) {
            raft_logf(r, "event=refuse_truncate_below_hw to=%llu hw=%llu",
                      (unsigned long long)t, (unsigned long long)r->hw);
            return;
        }
        raft_log_truncate(&r->log, t);
        if (r->persisted > t)
            r->persisted = t;
        raft_fetch_send(r);
        break;
    }
    case RAFT_FETCH_SNAPSHOT: {
        struct raft_msg *req = raft_msg_new(r, RAFT_MSG_FETCH_SNAPSHOT_REQ, m->from);
        if (req)
            req->snapshot_id = m->snapshot_id;
        r->fetch_elapsed = 0;
        break;
    }
    default:
        break;
    }
}

static void raft_follower_snapshot(struct raft *r, const struct raft_msg *m)
{
    if (m->from != r->leader_id || r->snap_pending)
        return;
    if (m->snapshot_id.index <= r->hw || m->snapshot_id.index == 0)
        return;
    if (m->snapshot_data.len > r->cfg.snapshot_bytes_max)
        return;
    /* Raft §7: a log that already holds the snapshot's last entry (same
     * index and epoch) holds its whole prefix; what follows stays.  The
     * fetcher keeps fetching while a snapshot is asked for, so a late answer
     * to an older fetch may have brought these entries, and a fetch since may
     * have acknowledged them: installing would drop entries the leader
     * counts (controller simulator seed 54852). */
    uint64_t have_epoch = 0;
    if (m->snapshot_id.index <= raft_log_last_index(&r->log) &&
        raft_log_epoch_at(&r->log, m->snapshot_id.index, &have_epoch) == 0 && have_epoch == m->snapshot_id.epoch) {
        raft_logf(r, "event=snapshot_already_in_log index=%llu last=%llu", (unsigned long long)m->snapshot_id.index,
                  (unsigned long long)raft_log_last_index(&r->log));
        return;
    }
    r->snap_pending = true;
    r->snap_id = m->snapshot_id;
    r->snap_len = (uint32_t)m->snapshot_data.len;
    if (r->snap_len > 0)
        memcpy(r->snap_buf, m->snapshot_data.ptr, r->snap_len);
    raft_log_reset(&r->log);
    r->election_elapsed = 0;
}

/* ---- step functions, one per role -------------------------------------- */

static void raft_step_follower(struct raft *r, const struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ: raft_vote_answer(r, m); break;
    case RAFT_MSG_BEGIN_EPOCH:
        if (r->leader_id != m->from) {
            raft_become_follower(r, m->epoch, m->from);
        } else if (r->fetch_interval > r->cfg.fetch_ticks) {
            r->fetch_interval = r->cfg.fetch_ticks; /* an idle voter woken: the leader has news */
            raft_fetch_send(r);
        }
        r->election_elapsed = 0;
        break;
    case RAFT_MSG_END_EPOCH:
        if (r->leader_id == m->from) {
            r->leader_id = RAFT_ID_NONE;
            /* start an election soon (within an eighth of the election
             * timeout), jittered so voters rarely collide; the resigned
             * leader still votes while it waits for a successor, so a
             * collision is settled by whoever reaches it first */
            r->election_elapsed = 0;
            r->election_timeout = 1 + (uint32_t)prng_range(&r->prng, r->cfg.election_ticks / 8 + 1);
        }
        break;
    case RAFT_MSG_FETCH_REQ: raft_fetch_answer(r, m); break;
    case RAFT_MSG_FETCH_RESP: raft_follower_fetched(r, m); break;
    case RAFT_MSG_FETCH_SNAPSHOT_RESP: raft_follower_snapshot(r, m); break;
    default: break;
    }
}

static void raft_step_prospective(struct raft *r, const struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ: raft_vote_answer(r, m); break;
    case RAFT_MSG_VOTE_RESP:
        if (m->pre_vote && (m->granted ? m->epoch == r->hs.epoch + 1 : m->epoch == r->hs.epoch))
            raft_vote_result(r, m);
        break;
    case RAFT_MSG_BEGIN_EPOCH:
    case RAFT_MSG_FETCH_RESP:
        if (m->type == RAFT_MSG_FETCH_RESP && m->status == RAFT_FETCH_NOT_LEADER)
            break;
        raft_become_follower(r, m->epoch, m->from);
        if (m->type == RAFT_MSG_FETCH_RESP)
            raft_follower_fetched(r, m);
        break;
    case RAFT_MSG_FETCH_REQ: raft_fetch_answer(r, m); break;
    default: break;
    }
}

static void raft_step_candidate(struct raft *r, const struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ: raft_vote_answer(r, m); break;
    case RAFT_MSG_VOTE_RESP:
        if (!m->pre_vote && m->epoch == r->hs.epoch)
            raft_vote_result(r, m);
        break;
    case RAFT_MSG_BEGIN_EPOCH:
    case RAFT_MSG_FETCH_RESP:
        if (m->type == RAFT_MSG_FETCH_RESP && m->status == RAFT_FETCH_NOT_LEADER)
            break;
        raft_become_follower(r, m->epoch, m->from);
        if (m->type == RAFT_MSG_FETCH_RESP)
            raft_follower_fetched(r, m);
        break;
    case RAFT_MSG_FETCH_REQ: raft_fetch_answer(r, m); break;
    default: break;
    }
}

static void raft_step_leader(struct raft *r, const struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ: raft_vote_answer(r, m); break;
    case RAFT_MSG_FETCH_REQ: raft_fetch_answer(r, m); break;
    case RAFT_MSG_FETCH_SNAPSHOT_REQ: {
        struct raft_snapshot_id snap;
        raft_log_snapshot_get(&r->log, &snap);
        int vi = raft_voter_index(r, m->from);
        if (vi >= 0)
            r->peers[vi].recent_active = true;
        if (snap.index == 0)
            break;
        struct raft_msg *resp = raft_msg_new(r, RAFT_MSG_FETCH_SNAPSHOT_RESP, m->from);
        if (resp)
            resp->snapshot_id = snap; /* the driver attaches the bytes */
        break;
    }
    case RAFT_MSG_BEGIN_EPOCH:
        raft_logf(r, "event=second_leader_in_epoch other=%u", m->from);
        break;
    default: break;
    }
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
    ASSERT(!r->ready_pending);
    if (m->to != r->cfg.id || m->from == r->cfg.id || m->from == RAFT_ID_NONE || m->type <= RAFT_MSG_NONE ||
        m->type >= RAFT_MSG_TYPE_COUNT)
        return ERR_INVALID;
    if (m->entry_count > 0 && !m->entries)
        return ERR_INVALID;
    if (m->epoch > r->hs.epoch) {
        bool pre_vote_msg = (m->type == RAFT_MSG_VOTE_REQ && m->pre_vote) ||
                            (m->type == RAFT_MSG_VOTE_RESP && m->pre_vote && m->granted);
        if (pre_vote_msg && m->type == RAFT_MSG_VOTE_REQ && m->epoch - 1 > r->hs.epoch) {
            /* The requester's own epoch is already past ours (it stood as a
             * candidate in a partition): it can never follow our epoch's
             * leader again, and with a shorter log it never wins a pre-vote
             * either.  Adopt its epoch (leaderless) so a new election takes
             * everybody past it; the pre-vote itself is answered below. */
            raft_become_follower(r, m->epoch - 1, RAFT_ID_NONE);
        } else if (!pre_vote_msg) {
            uint32_t leader = RAFT_ID_NONE;
            if (m->type == RAFT_MSG_BEGIN_EPOCH ||
                (m->type == RAFT_MSG_FETCH_RESP && m->status != RAFT_FETCH_NOT_LEADER) ||
                m->type == RAFT_MSG_FETCH_SNAPSHOT_RESP)
                leader = m->from;
            else if (m->type == RAFT_MSG_VOTE_RESP || m->type == RAFT_MSG_FETCH_RESP)
                leader = m->leader_id;
            raft_become_follower(r, m->epoch, leader);
        }
    } else if (m->epoch < r->hs.epoch) {
        if (m->type == RAFT_MSG_VOTE_REQ) {
            raft_vote_answer(r, m); /* rejects, names our epoch and leader */
        } else if (m->type == RAFT_MSG_FETCH_REQ) {
            struct raft_msg *resp = raft_msg_new(r, RAFT_MSG_FETCH_RESP, m->from);
            if (resp) {
                resp->status = RAFT_FETCH_NOT_LEADER;
                resp->fetch_offset = m->fetch_offset;
            }
        }
        return 0;
    }
    switch (r->role) {
    case RAFT_FOLLOWER: raft_step_follower(r, m); break;
    case RAFT_PROSPECTIVE: raft_step_prospective(r, m); break;
    case RAFT_CANDIDATE: raft_step_candidate(r, m); break;
    case RAFT_LEADER: raft_step_leader(r, m); break;
    }
    return 0;
}

/* ---- time --------------------------------------------------------------- */

static void raft_tick_leader(struct raft *r)
{
    for (uint32_t i = 0; i < r->cfg.voter_count; i++)
        if (r->peers[i].fetch_idle_ticks < UINT32_MAX / 2)
            r->peers[i].fetch_idle_ticks++;
    if (++r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        for (uint32_t i = 0; i < r->cfg.voter_count; i++)
            if (r->cfg.voters[i] != r->cfg.id &&
                r->peers[i].fetch_idle_ticks > 2 * r->cfg.heartbeat_ticks)
                (void)raft_msg_new(r, RAFT_MSG_BEGIN_EPOCH, r->cfg.voters[i]);
    }
    if (++r->quorum_elapsed >= r->cfg.election_ticks) {
        r->quorum_elapsed = 0;
        uint32_t active = 0;
        for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
            active += r->cfg.voters[i] == r->cfg.id || r->peers[i].recent_active;
            r->peers[i].recent_active = false;
        }
        if (active < r->majority && raft_check_quorum_on(r)) {
            raft_logf(r, "event=check_quorum_resign active=%u", active);
            int rc = raft_resign(r);
            ASSERT(rc == 0);
        }
    }
}

void raft_tick(struct raft *r)
{
    ASSERT(!r->ready_pending);
    if (r->role == RAFT_LEADER) {
        raft_tick_leader(r);
        return;
    }
    r->election_elapsed++;
    if (r->role == RAFT_FOLLOWER) {
        if (++r->fetch_elapsed >= r->fetch_interval &&
            (r->leader_id != RAFT_ID_NONE || !r->is_voter || r->hs.catching_up))
            raft_fetch_send(r);
        if (r->election_elapsed >= r->election_timeout) {
            if (!r->is_voter || r->hs.catching_up) {
                r->leader_id = RAFT_ID_NONE; /* fetch timeout: go find the leader again */
                raft_election_reset(r);
            } else {
                raft_campaign(r);
            }
        }
        return;
    }
    if (r->election_elapsed >= r->election_timeout)
        raft_campaign(r);
}

/* ---- driver inputs ------------------------------------------------------ */

/* Leader with a new entry: a voter that has not fetched for longer than
 * fetch_ticks may be backing off (raft_fetch_idle); BeginQuorumEpoch makes
 * it fetch now.  One per voter until it fetches again. */
static void raft_wake_idle_voters(struct raft *r)
{
    if (r->cfg.fetch_idle_ticks_max <= r->cfg.fetch_ticks)
        return;
    for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
        struct raft_peer *p = &r->peers[i];
        /* a voter whose last answer was empty backs off from that answer
         * on, however recently it fetched */
        bool idle = p->answered_empty || p->fetch_idle_ticks > r->cfg.fetch_ticks;
        if (r->cfg.voters[i] == r->cfg.id || !idle || p->woken)
            continue;
        if (raft_msg_new(r, RAFT_MSG_BEGIN_EPOCH, r->cfg.voters[i]) != NULL)
            p->woken = true;
    }
}

int raft_propose(struct raft *r, const void *data, uint32_t len, uint64_t *index_out)
{
    ASSERT(!r->ready_pending);
    if (r->role != RAFT_LEADER)
        return ERR_NOT_LEADER;
    if (len > r->cfg.entry_bytes_max)
        return ERR_TOO_LARGE;
    int rc = raft_log_append(&r->log, r->hs.epoch, RAFT_ENTRY_DATA, bytes_make(data, len), index_out);
    if (rc == 0)
        raft_wake_idle_voters(r);
    return rc;
}

int raft_resign(struct raft *r)
{
    ASSERT(!r->ready_pending);
    if (r->role != RAFT_LEADER)
        return ERR_NOT_LEADER;
    for (uint32_t i = 0; i < r->cfg.voter_count; i++)
        if (r->cfg.voters[i] != r->cfg.id)
            (void)raft_msg_new(r, RAFT_MSG_END_EPOCH, r->cfg.voters[i]);
    r->role = RAFT_FOLLOWER;
    r->leader_id = RAFT_ID_NONE;
    raft_election_reset(r);
    return 0;
}

void raft_persisted(struct raft *r, uint64_t last_index)
{
    uint64_t last = raft_log_last_index(&r->log);
    if (last_index > last)
        last_index = last;
    if (last_index > r->persisted)
        r->persisted = last_index;
    if (r->role == RAFT_LEADER)
        raft_hw_maybe_advance(r);
}

int raft_snapshot_taken(struct raft *r, uint64_t index)
{
    if (index > r->applied || index == 0)
        return ERR_INVALID;
    return 0;
}

/* ---- ready / advance ---------------------------------------------------- */

static uint64_t raft_commit_limit(const struct raft *r)
{
    uint64_t lim = r->hw < r->persisted ? r->hw : r->persisted;
    uint64_t last = raft_log_last_index(&r->log);
    return lim < last ? lim : last;
}

bool raft_has_ready(const struct raft *r)
{
    uint64_t t;
    return r->msg_count > 0 || r->log.unstable_count > 0 || r->snap_pending ||
           raft_log_trunc_pending(&r->log, &t) ||
           memcmp(&r->hs, &r->hs_persisted, sizeof r->hs) != 0 ||
           (!r->snap_pending && r->applied < raft_commit_limit(r));
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
    ASSERT(!r->ready_pending);
    memset(rd, 0, sizeof *rd);
    rd->hard_state = r->hs;
    rd->hard_state_changed = memcmp(&r->hs, &r->hs_persisted, sizeof r->hs) != 0;
    if (r->snap_pending) {
        rd->snapshot_install = true;
        rd->snapshot = r->snap_id;
        rd->snapshot_data = bytes_make(r->snap_buf, r->snap_len);
    } else {
        rd->truncate = raft_log_trunc_pending(&r->log, &rd->truncate_after);
        rd->entries = r->log.unstable;
        rd->entry_count = r->log.unstable_count;
        uint64_t lim = raft_commit_limit(r);
        if (r->applied < lim) {
            uint32_t n = 0;
            int rc = raft_log_entries(&r->log, r->applied + 1, lim, r->committed,
                                      r->cfg.committed_per_ready_max, &n);
            if (rc == 0) {
                rd->committed = r->committed;
                rd->committed_count = n;
            }
        }
    }
    rd->msgs = r->msgs;
    rd->msg_count = r->msg_count;
    rd->role = r->role;
    rd->epoch = r->hs.epoch;
    rd->leader_id = r->leader_id;
    rd->high_watermark = r->hw;
    r->ready_pending = true;
}

void raft_advance(struct raft *r, const struct raft_ready *rd)
{
    ASSERT(r->ready_pending);
    r->ready_pending = false;
    r->hs_persisted = rd->hard_state;
    r->msg_count = 0;
    if (rd->snapshot_install) {
        r->snap_pending = false;
        raft_log_reset(&r->log);
        struct raft_snapshot_id snap;
        raft_log_snapshot_get(&r->log, &snap);
        ASSERT(snap.index == rd->snapshot.index);
        ASSERT(raft_log_last_index(&r->log) == snap.index);
        if (snap.index > r->hw)
            r->hw = snap.index;
        r->applied = snap.index;
        r->persisted = snap.index;
        if (r->role == RAFT_FOLLOWER && r->leader_id != RAFT_ID_NONE)
            raft_fetch_send(r);
        return;
    }
    uint64_t last = rd->entry_count > 0 ? rd->entries[rd->entry_count - 1].index : 0;
    raft_log_stable(&r->log);
    if (rd->committed_count > 0) {
        ASSERT(rd->committed[0].index == r->applied + 1);
        r->applied = rd->committed[rd->committed_count - 1].index;
    }
    if (last > 0 && !r->cfg.persist_async)
        raft_persisted(r, last);
}

/* ---- lifecycle and getters ---------------------------------------------- */

int raft_create(const struct raft_config *cfg, struct raft **out)
{
    *out = NULL;
    if (cfg->id == RAFT_ID_NONE || cfg->voter_count == 0 || cfg->voter_count > RAFT_VOTERS_MAX ||
        cfg->election_ticks < 2 || cfg->heartbeat_ticks == 0 || cfg->fetch_ticks == 0 ||
        cfg->fetch_ticks >= cfg->election_ticks ||
        (cfg->fetch_idle_ticks_max > cfg->fetch_ticks && (cfg->fetch_idle_ticks_max >= 2 * cfg->heartbeat_ticks ||
                                                           2 * cfg->fetch_idle_ticks_max >= cfg->election_ticks)) ||
        cfg->msgs_max == 0 ||
        cfg->entries_per_msg_max == 0 || cfg->unstable_entries_max == 0 ||
        cfg->committed_per_ready_max == 0 || !cfg->storage.last_index ||
        !cfg->storage.entries || !cfg->storage.snapshot || !cfg->storage.hard_state)
        return ERR_CONFIG;
    for (uint32_t i = 0; i < cfg->voter_count; i++) {
        if (cfg->voters[i] == RAFT_ID_NONE)
            return ERR_CONFIG;
        for (uint32_t j = 0; j < i; j++)
            if (cfg->voters[j] == cfg->voters[i])
                return ERR_CONFIG;
    }
    struct raft *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cfg = *cfg;
    r->gave_up_leader = RAFT_ID_NONE;
    prng_init(&r->prng, cfg->prng_seed);
    int rc = raft_log_init(&r->log, &cfg->storage, cfg->unstable_entries_max, cfg->unstable_bytes_max);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->msgs = calloc(cfg->msgs_max, sizeof *r->msgs);
    r->msg_entries = calloc((size_t)cfg->msgs_max * cfg->entries_per_msg_max, sizeof *r->msg_entries);
    r->committed = calloc(cfg->committed_per_ready_max, sizeof *r->committed);
    r->snap_buf = malloc(cfg->snapshot_bytes_max ? cfg->snapshot_bytes_max : 1);
    if (!r->msgs || !r->msg_entries || !r->committed || !r->snap_buf) {
        raft_destroy(r);
        return -ENOMEM;
    }
    r->is_voter = raft_voter_index(r, cfg->id) >= 0;
    r->majority = cfg->voter_count / 2 + 1;
    for (uint32_t i = 0; i < cfg->voter_count; i++)
        r->peers[i].id = cfg->voters[i];
    cfg->storage.hard_state(cfg->storage.ctx, &r->hs);
    if (cfg->disk_lost && r->is_voter)
        r->hs.catching_up = true;
    r->hs_persisted = r->hs;
    if (cfg->disk_lost)
        r->hs_persisted.catching_up = false; /* force it to be written */
    struct raft_snapshot_id snap;
    raft_log_snapshot_get(&r->log, &snap);
    r->hw = snap.index;
    r->applied = snap.index;
    r->persisted = raft_log_last_index(&r->log);
    r->role = RAFT_FOLLOWER;
    r->leader_id = RAFT_ID_NONE;
    r->fetch_interval = cfg->fetch_ticks;
    raft_election_reset(r);
    r->probe_index = (uint32_t)prng_range(&r->prng, cfg->voter_count);
    *out = r;
    return 0;
}

void raft_destroy(struct raft *r)
{
    if (!r)
        return;
    raft_log_deinit(&r->log);
    free(r->msgs);
    free(r->msg_entries);
    free(r->committed);
    free(r->snap_buf);
    free(r);
}

enum raft_role raft_role_get(const struct raft *r) { return r->role; }
uint64_t raft_epoch_get(const struct raft *r) { return r->hs.epoch; }
uint32_t raft_leader_get(const struct raft *r) { return r->leader_id; }
uint64_t raft_high_watermark_get(const struct raft *r) { return r->hw; }
bool raft_holds_leader_hw(const struct raft *r)
{
    return r->role == RAFT_FOLLOWER && r->leader_id != RAFT_ID_NONE && r->holds_leader_hw;
}
uint64_t raft_last_index_get(const struct raft *r) { return raft_log_last_index(&r->log); }

bool raft_voter_progress(const struct raft *r, uint32_t i, uint32_t *id, uint64_t *match_index,
                         uint32_t *idle_ticks)
{
    if (i >= r->cfg.voter_count)
        return false;
    const struct raft_peer *p = &r->peers[i];
    *id = p->id;
    if (p->id == r->cfg.id) {
        uint64_t last = raft_log_last_index(&r->log);
        *match_index = r->persisted < last ? r->persisted : last;
        *idle_ticks = 0;
    } else {
        *match_index = p->match_index;
        *idle_ticks = p->fetch_idle_ticks;
    }
    return true;
}
