/*
 * raft_msg.c - names for the message types (logging only).  The structs in
 * raft_msg.h have no behaviour; encoding is the driver's job.
 */
#include "raft/raft_msg.h"

const char *raft_msg_type_name(enum raft_msg_type type)
{
    static const char *const names[RAFT_MSG_TYPE_COUNT] = {
        "NONE", "VOTE_REQ", "VOTE_RESP", "BEGIN_EPOCH", "END_EPOCH",
        "FETCH_REQ", "FETCH_RESP", "FETCH_SNAPSHOT_REQ", "FETCH_SNAPSHOT_RESP",
    };
    if ((int)type < 0 || type >= RAFT_MSG_TYPE_COUNT)
        return "UNKNOWN";
    return names[type];
}
