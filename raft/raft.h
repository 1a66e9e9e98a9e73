/*
 * raft.h - the pure Raft core (KIP-595 / KRaft semantics, etcd RawNode shape).
 *
 * Inputs: raft_tick (logical time), raft_step (a message), raft_propose (leader
 * only), raft_persisted (disk completion), raft_snapshot_taken.  Output:
 * raft_ready hands back the hard state and entries to persist, the messages
 * to send and the committed entries to apply; the driver persists BEFORE it
 * sends, applies, then calls raft_advance.  See raft/README.md for the role
 * diagram and the full contract.
 *
 * Invariants: at most one vote per epoch (persisted before any reply that
 * depends on it); the high watermark never decreases within a process and
 * only counts voters; nothing is allocated after raft_create; no clock, no
 * I/O: all non-determinism comes from the config (PRNG seed, storage, logger).
 *
 * Not here: wire encoding, disk, timers, the state machine, membership change.
 * A struct raft is single-threaded.
 */
#ifndef SAMSA_RAFT_H
#define SAMSA_RAFT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "raft/raft_msg.h"
#include "raft/raft_types.h"

#define RAFT_VOTERS_MAX 7
#define RAFT_OBSERVERS_MAX 16

enum raft_role {
    RAFT_FOLLOWER = 0,  /* also observers, and "unattached" (no leader) */
    RAFT_PROSPECTIVE,   /* collecting pre-votes; epoch not bumped */
    RAFT_CANDIDATE,
    RAFT_LEADER
};

struct raft_config {
    uint32_t id;                             /* this node, != RAFT_ID_NONE (0 is valid) */
    uint32_t voters[RAFT_VOTERS_MAX];        /* voter ids; id not in it = observer */
    uint32_t voter_count;                    /* 1..RAFT_VOTERS_MAX */
    uint32_t election_ticks;                 /* election/fetch timeout; jittered to [e, 2e) */
    uint32_t heartbeat_ticks;                /* leader re-sends BeginQuorumEpoch to silent voters */
    uint32_t fetch_ticks;                    /* idle follower fetch interval (< election_ticks) */
    uint32_t fetch_idle_ticks_max;           /* a voter whose fetches bring nothing doubles its
                                              * interval up to this (<= fetch_ticks: never); the
                                              * leader wakes it with BeginQuorumEpoch when it has
                                              * news.  Must stay below 2 * heartbeat_ticks */
    bool check_quorum;                       /* leader resigns without a majority of fetches */
    bool pre_vote;                           /* KIP-996 pre-vote */
    bool disk_lost;                          /* voter restarted on a wiped disk */
    bool persist_async;                      /* raft_advance does not imply raft_persisted:
                                              * the driver reports disk completions itself */
    uint64_t prng_seed;                      /* election jitter */
    struct raft_storage storage;
    /* limits (all preallocated at create) */
    uint32_t msgs_max;                       /* outbox slots per ready */
    uint32_t entries_per_msg_max;            /* fetch response batch */
    uint32_t unstable_entries_max;           /* un-persisted tail */
    uint32_t entry_bytes_max;                /* one entry's payload */
    uint32_t unstable_bytes_max;
    uint32_t committed_per_ready_max;
    uint32_t snapshot_bytes_max;             /* inline snapshot copy (sim); 0 = none */
    /* logger: may be NULL; line has no newline */
    void (*log_cb)(void *log_ctx, const char *line);
    void *log_ctx;
    /* test-only bug switches: re-inject known bugs for the simulator */
    bool bug_vote_without_log_check;
    bool bug_hw_from_old_epoch;
    bool bug_no_check_quorum;
    bool bug_no_pre_vote;
};

struct raft_ready {
    bool hard_state_changed;
    struct raft_hard_state hard_state;
    bool snapshot_install;              /* install snapshot, discard the whole log */
    struct raft_snapshot_id snapshot;
    struct bytes snapshot_data;         /* inline copy if the message carried one */
    bool truncate;                      /* drop stable entries with index > truncate_after */
    uint64_t truncate_after;
    uint32_t entry_count;               /* append these, in order */
    const struct raft_entry *entries;
    uint32_t msg_count;                 /* send after persisting */
    const struct raft_msg *msgs;
    uint32_t committed_count;           /* apply after persisting, in order */
    const struct raft_entry *committed;
    /* soft state, for the driver's information */
    enum raft_role role;
    uint64_t epoch;
    uint32_t leader_id;
    uint64_t high_watermark;
};

struct raft;

/* raft_config_defaults - fill sane limits and timings; caller sets id, voters, storage. */
void raft_config_defaults(struct raft_config *cfg);
/* raft_create - validate cfg (ERR_CONFIG), allocate everything, load the hard
 * state and log view from cfg->storage.  The only allocating call. */
MUST_CHECK int raft_create(const struct raft_config *cfg, struct raft **out);
void raft_destroy(struct raft *r);

/* raft_tick - one logical tick. */
void raft_tick(struct raft *r);
/* raft_step - feed one message (read during the call only).  Returns 0, or
 * ERR_INVALID for a malformed message (wrong recipient, unknown type), which
 * is dropped. */
MUST_CHECK int raft_step(struct raft *r, const struct raft_msg *m);
/* raft_propose - append a data entry (leader only).  ERR_NOT_LEADER if not
 * leader (raft_leader_get names the known leader, RAFT_ID_NONE if none), ERR_TOO_LARGE,
 * ERR_LIMIT when the unstable tail is full.  *index_out may be NULL. */
MUST_CHECK int raft_propose(struct raft *r, const void *data, uint32_t len, uint64_t *index_out);
/* raft_resign - a leader steps down gracefully (EndQuorumEpoch). */
MUST_CHECK int raft_resign(struct raft *r);
/* raft_persisted - disk completion: entries up to last_index are durable. */
void raft_persisted(struct raft *r, uint64_t last_index);
/* raft_snapshot_taken - the state machine stored a snapshot at applied index;
 * on 0 the driver may cut its log up to index. ERR_INVALID if index > applied. */
MUST_CHECK int raft_snapshot_taken(struct raft *r, uint64_t index);

bool raft_has_ready(const struct raft *r);
/* raft_ready - fill rd; everything it points to lives until raft_advance. */
void raft_ready(struct raft *r, struct raft_ready *rd);
/* raft_advance - rd was persisted, its messages sent, its commits applied.
 * With cfg.persist_async, rd's entries were only written (not yet durable):
 * the driver calls raft_persisted once its sync completes, and only then do
 * they count toward the commit (leader) or get handed out as committed. */
void raft_advance(struct raft *r, const struct raft_ready *rd);

enum raft_role raft_role_get(const struct raft *r);
uint64_t raft_epoch_get(const struct raft *r);
uint32_t raft_leader_get(const struct raft *r);
/* raft_holds_leader_hw - a follower whose last fetch answer from its leader
 * found the log holding the leader's HW (a restart on a snapshot that
 * already covers it has nothing to apply, and is caught up all the same). */
bool raft_holds_leader_hw(const struct raft *r);
uint64_t raft_high_watermark_get(const struct raft *r);
uint64_t raft_last_index_get(const struct raft *r);
const char *raft_role_name(enum raft_role role);
/* raft_voter_progress - the leader's view of voter i (0 <= i < voter_count):
 * its id, the highest index known durable there (the leader's own persisted
 * index for itself) and ticks since it last fetched.  Returns false past the
 * last voter.  Meaningful on the leader only. */
bool raft_voter_progress(const struct raft *r, uint32_t i, uint32_t *id, uint64_t *match_index,
                         uint32_t *idle_ticks);

#endif
