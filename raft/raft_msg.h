/*
 * raft_msg.h - the Raft core's messages and log entries as plain C structs.
 *
 * These are the core's inputs (raft_step) and outputs (struct raft_ready).
 * The wire encoding (protobuf-c) is the driver's job, not the core's.  All
 * pointers inside are BORROWED: a message given to raft_step is only read
 * during the call (entry data is copied), a message handed out by raft_ready
 * lives until raft_advance.  Indices count from 1; index 0 / epoch 0 means
 * "empty log".  Node id 0 means "none".
 */
#ifndef SAMSA_RAFT_MSG_H
#define SAMSA_RAFT_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

/* "no node" (no leader, no vote).  Not 0: Kafka node ids start at 0
 * (node.id=0 is the tutorial's value), and raft ids are node ids. */
#define RAFT_ID_NONE UINT32_MAX

enum raft_entry_type {
    RAFT_ENTRY_DATA = 0,          /* a proposal for the state machine */
    RAFT_ENTRY_LEADER_CHANGE = 1  /* control entry a new leader appends (KRaft LeaderChangeMessage) */
};

struct raft_entry {
    uint64_t index;
    uint64_t epoch;
    uint32_t type;      /* enum raft_entry_type */
    struct bytes data;  /* borrowed */
};

struct raft_snapshot_id {
    uint64_t index;  /* last index the snapshot covers; 0 = no snapshot */
    uint64_t epoch;  /* epoch of the entry at index */
};

enum raft_msg_type {
    RAFT_MSG_NONE = 0,
    RAFT_MSG_VOTE_REQ,            /* (pre-)vote request */
    RAFT_MSG_VOTE_RESP,
    RAFT_MSG_BEGIN_EPOCH,         /* BeginQuorumEpoch: the leader announces itself */
    RAFT_MSG_END_EPOCH,           /* EndQuorumEpoch: the leader resigns */
    RAFT_MSG_FETCH_REQ,
    RAFT_MSG_FETCH_RESP,
    RAFT_MSG_FETCH_SNAPSHOT_REQ,
    RAFT_MSG_FETCH_SNAPSHOT_RESP,
    RAFT_MSG_TYPE_COUNT
};

enum raft_fetch_status {
    RAFT_FETCH_OK = 0,        /* entries (maybe none) + high watermark */
    RAFT_FETCH_DIVERGING,     /* truncate using diverging_epoch / diverging_end_offset */
    RAFT_FETCH_SNAPSHOT,      /* below the log start: fetch snapshot_id */
    RAFT_FETCH_NOT_LEADER     /* not the leader (or fenced epoch); see leader_id / epoch */
};

struct raft_msg {
    enum raft_msg_type type;
    uint32_t from;
    uint32_t to;
    uint64_t epoch;      /* sender's epoch; VOTE_REQ: the epoch asked for */
    uint32_t leader_id;  /* sender's known leader for `epoch`, RAFT_ID_NONE if none */

    /* VOTE_REQ / VOTE_RESP */
    bool pre_vote;
    bool granted;
    uint64_t last_index;  /* VOTE_REQ: candidate's last log index */
    uint64_t last_epoch;  /* VOTE_REQ: epoch of that entry */

    /* FETCH_REQ (also echoed in FETCH_RESP so stale answers can be spotted) */
    uint64_t fetch_offset;        /* next index wanted = fetcher's last index + 1 */
    uint64_t last_fetched_epoch;  /* epoch of the entry at fetch_offset - 1 */

    /* FETCH_RESP */
    enum raft_fetch_status status;
    uint64_t high_watermark;
    uint64_t diverging_epoch;
    uint64_t diverging_end_offset;
    uint32_t entry_count;
    const struct raft_entry *entries;  /* borrowed */

    /* FETCH_RESP (SNAPSHOT), FETCH_SNAPSHOT_REQ/RESP */
    struct raft_snapshot_id snapshot_id;
    struct bytes snapshot_data;  /* FETCH_SNAPSHOT_RESP: attached by the driver */
};

/* raft_msg_type_name - a static name for logs ("FETCH_REQ"). */
const char *raft_msg_type_name(enum raft_msg_type type);

#endif
