/*
 * ctrl_qstate.h - the Raft quorum state file, <metadata dir>/__cluster_metadata-0/quorum-state.
 *
 * Holds what Raft must never forget across a crash: the epoch and the vote
 * cast in it (and the lost-disk catching-up flag).  Written atomically (temp
 * file, fsync, rename, fsync dir) before any message that depends on it is
 * sent.  JSON like Kafka's quorum-state file, so an operator can read it:
 *   {"leaderEpoch":5,"votedId":2,"catchingUp":false,"data_version":0}
 */
#ifndef SAMSA_CTRL_QSTATE_H
#define SAMSA_CTRL_QSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "raft/raft_msg.h"

struct ctrl_qstate {
    uint64_t epoch;
    uint32_t voted_for;   /* RAFT_ID_NONE = none (the file says votedId -1, as Kafka's) */
    bool catching_up;
};

/* ctrl_qstate_read - -ENOENT when there is no file yet, ERR_CORRUPT when it
 * does not parse (logged with the path). */
MUST_CHECK int ctrl_qstate_read(const char *dir, struct ctrl_qstate *out);
MUST_CHECK int ctrl_qstate_write(const char *dir, const struct ctrl_qstate *qs);

#endif
