/*
 * err.c - names for Samsa error codes; -errno values defer to strerror.
 */
#include "err.h"

#include <string.h>

const char *err_str(int err)
{
    switch (err) {
    case 0: return "ok";
    case ERR_DECODE: return "malformed input";
    case ERR_LIMIT: return "limit exceeded";
    case ERR_CORRUPT: return "corrupt data";
    case ERR_CONFIG: return "invalid configuration";
    case ERR_NOT_FOUND: return "not found";
    case ERR_EXISTS: return "already exists";
    case ERR_TOO_LARGE: return "too large";
    case ERR_INVALID: return "invalid request";
    case ERR_UNSUPPORTED: return "unsupported";
    case ERR_NOT_LEADER: return "not leader";
    case ERR_NOT_CONTROLLER: return "not controller";
    case ERR_TIMEOUT: return "timed out";
    case ERR_OFFSET_RANGE: return "offset out of range";
    case ERR_SHUTDOWN: return "shutting down";
    case ERR_STALE: return "stale epoch";
    case ERR_NO_SPACE: return "no space left on device";
    case ERR_INVALID_TOPIC: return "invalid topic name";
    case ERR_INVALID_PARTITIONS: return "invalid partition count";
    case ERR_INVALID_REPLICATION_FACTOR: return "invalid replication factor";
    case ERR_INVALID_REPLICA_ASSIGNMENT: return "invalid replica assignment";
    case ERR_INVALID_CONFIG: return "invalid config";
    case ERR_OUT_OF_SEQUENCE: return "out of order sequence number";
    case ERR_PRODUCER_EPOCH: return "stale producer epoch";
    case ERR_NO_REASSIGNMENT: return "no partition reassignment in progress";
    case ERR_DUPLICATE_BROKER: return "DUPLICATE_BROKER_REGISTRATION: another live process is registered with this node.id";
    default: break;
    }
    if (err < 0 && err > ERR_FIRST)
        return strerror(-err);
    return "unknown error";
}
